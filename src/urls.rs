//! URL handling: parsing with the `url` crate, `base_url` joining and query-param
//! merging as HTTPX does them.

use crate::error::{Error, Result};
use url::Url;

/// Longest URL accepted from a caller, in bytes (64 KiB; servers refuse far less).
pub const MAX_URL_LEN: usize = 64 * 1024;

/// A caller's URL, checked before parsing: at most [`MAX_URL_LEN`] bytes and no CR,
/// LF, NUL, TAB or other control byte (the URL parser would silently strip some of
/// them, sending something else than asked: `/a\r\nX: 1` became `/aX:%201`).
pub fn check_caller_url(s: &str) -> Result<()> {
    if s.len() > MAX_URL_LEN {
        return Err(Error::InvalidUrl(format!("URL is {} bytes long, more than the {MAX_URL_LEN} allowed", s.len())));
    }
    if let Some(b) = s.bytes().find(|b| b.is_ascii_control()) {
        let shown: String = s.chars().take(80).collect();
        return Err(Error::InvalidUrl(format!("{shown:?} contains the control character 0x{b:02x} (CR, LF, TAB...)")));
    }
    Ok(())
}

/// Parse an absolute http(s) URL. Other schemes are `UnsupportedProtocol`; a URL that
/// cannot be parsed, has no host, is too long or holds control characters is
/// `InvalidUrl`.
pub fn parse_absolute(s: &str) -> Result<Url> {
    check_caller_url(s)?;
    let s = &*escape_path_backslashes(s, true);
    let url = Url::parse(s).map_err(|e| match e {
        url::ParseError::RelativeUrlWithoutBase => {
            Error::UnsupportedProtocol(format!("request URL {s:?} is missing an 'http://' or 'https://' protocol"))
        }
        other => Error::InvalidUrl(format!("{s:?}: {other}")),
    })?;
    check_http(&url)?;
    Ok(url)
}

/// A `\` in the path is data (RFC 3986), not a separator: the WHATWG parser of the
/// `url` crate would turn `/a\b` into `/a/b`, another resource. Send it as `%5C`
/// (HTTPX 0.28.1 sends the raw byte, which RFC 3986 does not allow in a path; running
/// it: `GET /a\b`). Only the path is touched (after the authority when `absolute`,
/// before any `?` or `#`); a `\` in the query stays as it is, as HTTPX sends it.
fn escape_path_backslashes(s: &str, absolute: bool) -> std::borrow::Cow<'_, str> {
    let start = if absolute {
        match s.find("://") {
            Some(i) => match s[i + 3..].find(['/', '?', '#']) {
                Some(j) => i + 3 + j,
                None => return s.into(),
            },
            None => return s.into(),
        }
    } else {
        0
    };
    let end = s[start..].find(['?', '#']).map_or(s.len(), |j| start + j);
    if !s[start..end].contains('\\') {
        return s.into();
    }
    format!("{}{}{}", &s[..start], s[start..end].replace('\\', "%5C"), &s[end..]).into()
}

/// Only http and https with a host are sendable.
pub fn check_http(url: &Url) -> Result<()> {
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(Error::UnsupportedProtocol(format!("request URL has an unsupported protocol '{other}://'")))
        }
    }
    match url.host_str() {
        Some(h) if !h.is_empty() => Ok(()),
        _ => Err(Error::InvalidUrl(format!("{url}: URL has no host"))),
    }
}

/// Normalise a client `base_url`: it must be absolute, and its path gets a trailing
/// slash so relative URLs are appended to it (HTTPX's `_enforce_trailing_slash`).
pub fn parse_base(s: &str) -> Result<Url> {
    let mut url = parse_absolute(s)?;
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

/// Resolve a request URL against an optional base, as HTTPX's `Client._merge_url`:
/// an absolute URL is used as is; a relative one is appended to the base path, so
/// base `http://h/api` + `/users` is `http://h/api/users`.
pub fn resolve(base: Option<&Url>, s: &str) -> Result<Url> {
    check_caller_url(s)?;
    let is_absolute = s.contains("://") || Url::parse(s).is_ok();
    match (base, is_absolute) {
        (_, true) => parse_absolute(s),
        (None, false) => parse_absolute(s),
        (Some(base), false) => {
            if s.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
                return Err(Error::InvalidUrl(format!("{s:?} contains control characters")));
            }
            let rel = &*escape_path_backslashes(s, false);
            let rel = rel.trim_start_matches('/');
            let joined = format!("{}{}", base.as_str().split(['?', '#']).next().unwrap_or(""), rel);
            let url = Url::parse(&joined).map_err(|e| Error::InvalidUrl(format!("{joined:?}: {e}")))?;
            check_http(&url)?;
            Ok(url)
        }
    }
}

/// Python's `urllib.parse.quote_plus(s, safe="")`, which HTTPX uses for query params
/// and form bodies: ASCII letters, digits and `-._~` stay, a space becomes `+`, every
/// other byte of the UTF-8 encoding becomes `%XX` (so `*` is `%2A`, unlike the WHATWG
/// form encoder, which keeps `*` and encodes `~`).
pub fn quote_plus(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
}

/// `k=v&k2=v2` with [`quote_plus`] on every key and value (Python's `urlencode`), as
/// HTTPX writes a query string and an `application/x-www-form-urlencoded` body.
pub fn urlencode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        quote_plus(k, &mut out);
        out.push('=');
        quote_plus(v, &mut out);
    }
    out
}

/// Group a param list by key, keys in order of first appearance (HTTPX's
/// `QueryParams` is a dict of lists: `m=1&a=2&m=3` becomes `m=1&m=3&a=2` once it is
/// re-serialised).
fn grouped(pairs: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in pairs {
        match out.iter_mut().find(|(kk, _)| kk == k) {
            Some((_, vs)) => vs.push(v.clone()),
            None => out.push((k.clone(), vec![v.clone()])),
        }
    }
    out
}

fn flatten(groups: Vec<(String, Vec<String>)>) -> Vec<(String, String)> {
    groups.into_iter().flat_map(|(k, vs)| vs.into_iter().map(move |v| (k.clone(), v))).collect()
}

/// HTTPX's `QueryParams.merge` (`{**self._dict, **other._dict}`): each key of `other`
/// replaces every value of that key here **at the key's first position**; new keys go
/// to the end. Values are grouped by key, as HTTPX's dict of lists does.
/// (Established by running HTTPX 0.28.1: client `client_id=c1&shared=client` +
/// request `request_id=r1&shared=request` gives `client_id=c1&shared=request&request_id=r1`.)
pub fn merge_params(into: &mut Vec<(String, String)>, other: &[(String, String)]) {
    let mut groups = grouped(into);
    for (k, vs) in grouped(other) {
        match groups.iter_mut().find(|(kk, _)| *kk == k) {
            Some((_, old)) => *old = vs,
            None => groups.push((k, vs)),
        }
    }
    *into = flatten(groups);
}

/// Replace the URL's query with `pairs`, encoded as HTTPX does ([`urlencode`]).
fn set_query_pairs(url: &mut Url, pairs: &[(String, String)]) {
    if pairs.is_empty() {
        url.set_query(None);
    } else {
        url.set_query(Some(&urlencode(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))));
    }
}

/// Apply params to a URL: the URL's own query is merged with `params` ([`merge_params`]:
/// params win, by key, in the URL key's place). The URL is left byte-for-byte
/// untouched when `params` is empty.
pub fn apply_params(url: &mut Url, params: &[(String, String)]) {
    if params.is_empty() {
        return;
    }
    let mut merged: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    merge_params(&mut merged, params);
    set_query_pairs(url, &merged);
}

/// Add one more value to `key` right after its last value (or at the end), keeping
/// the other params where they are (a request param given several values, as
/// HTTPX's `params=[("m", "1"), ("m", "2")]`).
pub fn append_param(url: &mut Url, key: &str, value: &str) {
    let mut pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let at = pairs.iter().rposition(|(k, _)| k == key).map_or(pairs.len(), |i| i + 1);
    pairs.insert(at, (key.to_string(), value.to_string()));
    let mut groups = grouped(&pairs);
    groups.retain(|(_, vs)| !vs.is_empty());
    set_query_pairs(url, &flatten(groups));
}

/// The request-target for an origin-form request line: path plus query.
pub fn request_target(url: &Url) -> &str {
    let s = url.as_str();
    let start = url.path().as_ptr() as usize - s.as_ptr() as usize;
    let end = match url.fragment() {
        Some(f) => f.as_ptr() as usize - s.as_ptr() as usize - 1,
        None => s.len(),
    };
    &s[start..end]
}

/// `host[:port]` as it goes in the Host header: the port only when not the default.
pub fn host_header(url: &Url) -> String {
    // The serialization already holds "host[:port]" (IPv6 bracketed, default port
    // omitted): slice it rather than format it.
    url[url::Position::BeforeHost..url::Position::AfterPort].to_string()
}

/// (scheme, host, port) identity used to compare origins.
pub fn origin(url: &Url) -> (String, String, u16) {
    (
        url.scheme().to_string(),
        url.host_str().unwrap_or("").to_ascii_lowercase(),
        url.port_or_known_default().unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_keeps_path() {
        let b = parse_base("http://h/api").unwrap();
        assert_eq!(resolve(Some(&b), "/users").unwrap().as_str(), "http://h/api/users");
        assert_eq!(resolve(Some(&b), "users?x=1").unwrap().as_str(), "http://h/api/users?x=1");
        assert_eq!(resolve(Some(&b), "http://o/x").unwrap().as_str(), "http://o/x");
        let b = parse_base("http://httpbin.org").unwrap();
        assert_eq!(resolve(Some(&b), "/headers").unwrap().as_str(), "http://httpbin.org/headers");
    }

    #[test]
    fn bad_urls() {
        assert_eq!(parse_absolute("ftp://x/").unwrap_err().code(), crate::error::code::UNSUPPORTED_PROTOCOL);
        assert_eq!(parse_absolute("/relative").unwrap_err().code(), crate::error::code::UNSUPPORTED_PROTOCOL);
        assert_eq!(parse_absolute("http://exa mple.com/").unwrap_err().code(), crate::error::code::INVALID_URL);
        assert_eq!(parse_absolute("http://[::1/").unwrap_err().code(), crate::error::code::INVALID_URL);
        assert_eq!(parse_absolute("http://h:99999/").unwrap_err().code(), crate::error::code::INVALID_URL);
    }

    #[test]
    fn idna_ipv6_and_target() {
        let u = parse_absolute("http://Bücher.example/a b?q=1#frag").unwrap();
        assert_eq!(u.host_str(), Some("xn--bcher-kva.example"));
        assert_eq!(request_target(&u), "/a%20b?q=1");
        let u = parse_absolute("http://[::1]:8080/").unwrap();
        assert_eq!(host_header(&u), "[::1]:8080");
        let u = parse_absolute("https://h:443/").unwrap();
        assert_eq!(host_header(&u), "h");
        let u = parse_absolute("http://h/a\\b/c?x=\\").unwrap();
        assert_eq!(request_target(&u), "/a%5Cb/c?x=\\");
        let b = parse_base("http://h/api").unwrap();
        assert_eq!(request_target(&resolve(Some(&b), "x\\y?q=\\").unwrap()), "/api/x%5Cy?q=\\");
    }

    #[test]
    fn hosts_ending_in_a_number() {
        // As HTTPX 0.28.1 parses them (running httpx.URL(...).host): registered names,
        // except four IPv4 numbers that are out of range ("Invalid IPv4 address").
        for h in ["test.remote.example.com.1150", "1.2.3.4.5", "a.123", "a.b.0x10"] {
            let u = parse_absolute(&format!("http://{h}:150/")).unwrap();
            assert_eq!(u.host(), Some(url::Host::Domain(h)), "{h}");
            assert_eq!(host_header(&u), format!("{h}:150"));
        }
        assert_eq!(parse_absolute("http://999.1.1.1/").unwrap_err().code(), crate::error::code::INVALID_URL);
        // Still IPv4 (HTTPX keeps "127.1" as a name, which resolves to the same address).
        assert_eq!(parse_absolute("http://127.1/").unwrap().host_str(), Some("127.0.0.1"));
        assert_eq!(parse_absolute("http://10.0.0.1/").unwrap().host_str(), Some("10.0.0.1"));
    }

    #[test]
    fn params_merge_like_httpx() {
        let mut u = parse_absolute("https://example.com").unwrap();
        let mut p = vec![("client_id".to_string(), "client1".to_string())];
        merge_params(&mut p, &[("request_id".into(), "request1".into())]);
        apply_params(&mut u, &p);
        assert_eq!(u.as_str(), "https://example.com/?client_id=client1&request_id=request1");
        let mut u = parse_absolute("http://h/?a=1&a=2&b=3").unwrap();
        apply_params(&mut u, &[("a".into(), "9".into())]);
        assert_eq!(u.query(), Some("a=9&b=3"));
        let mut u = parse_absolute("http://h/").unwrap();
        apply_params(&mut u, &[("k".into(), "a~b*c d+é".into())]);
        assert_eq!(u.query(), Some("k=a~b%2Ac+d%2B%C3%A9"));
        append_param(&mut u, "k", "2");
        append_param(&mut u, "j", "3");
        assert_eq!(u.query(), Some("k=a~b%2Ac+d%2B%C3%A9&k=2&j=3"));
    }
}

//! URL handling: parsing with the `url` crate, `base_url` joining and query-param
//! merging as HTTPX does them.

use crate::error::{Error, Result};
use url::Url;

/// Parse an absolute http(s) URL. Other schemes are `UnsupportedProtocol`; a URL that
/// cannot be parsed, or has no host, is `InvalidUrl`.
pub fn parse_absolute(s: &str) -> Result<Url> {
    let url = Url::parse(s).map_err(|e| match e {
        url::ParseError::RelativeUrlWithoutBase => {
            Error::UnsupportedProtocol(format!("request URL {s:?} is missing an 'http://' or 'https://' protocol"))
        }
        other => Error::InvalidUrl(format!("{s:?}: {other}")),
    })?;
    check_http(&url)?;
    Ok(url)
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
    let is_absolute = s.contains("://") || Url::parse(s).is_ok();
    match (base, is_absolute) {
        (_, true) => parse_absolute(s),
        (None, false) => parse_absolute(s),
        (Some(base), false) => {
            if s.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
                return Err(Error::InvalidUrl(format!("{s:?} contains control characters")));
            }
            let rel = s.trim_start_matches('/');
            let joined = format!("{}{}", base.as_str().split(['?', '#']).next().unwrap_or(""), rel);
            let url = Url::parse(&joined).map_err(|e| Error::InvalidUrl(format!("{joined:?}: {e}")))?;
            check_http(&url)?;
            Ok(url)
        }
    }
}

/// An ordered query-param list with HTTPX's merge rule: each key of `other` replaces
/// every value of that key here, new values going to the end.
pub fn merge_params(into: &mut Vec<(String, String)>, other: &[(String, String)]) {
    for (k, _) in other {
        into.retain(|(kk, _)| kk != k);
    }
    into.extend(other.iter().cloned());
}

/// Apply params to a URL: the URL's own query is merged with `params` (params win,
/// by key). The URL is left byte-for-byte untouched when `params` is empty.
pub fn apply_params(url: &mut Url, params: &[(String, String)]) {
    if params.is_empty() {
        return;
    }
    let mut merged: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    merge_params(&mut merged, params);
    url.query_pairs_mut().clear().extend_pairs(merged.iter());
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
        assert_eq!(u.query(), Some("b=3&a=9"));
    }
}

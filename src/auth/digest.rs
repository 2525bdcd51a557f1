//! HTTP Digest access authentication (RFC 7616, with RFC 2617 / RFC 2069 fallbacks).
//!
//! This module only computes: it parses `WWW-Authenticate` challenges and builds the
//! matching `Authorization` header value. Sending requests, caching a [`DigestState`]
//! per origin and retrying on `401` are the client's business.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha512, Sha512_256};

use crate::error::{Error, Result};

/// Hash algorithm named by a Digest challenge's `algorithm` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// `MD5` (the default when the challenge names none).
    #[default]
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA` (SHA-1): not in RFC 7616, but HTTPX offers it (`_ALGORITHM_TO_HASH_FUNCTION`).
    Sha,
    /// `SHA-sess`.
    ShaSess,
    /// `SHA-256`.
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
    /// `SHA-512-256` (SHA-512/256, as RFC 7616 defines it).
    Sha512_256,
    /// `SHA-512-256-sess`.
    Sha512_256Sess,
    /// `SHA-512`: plain SHA-512, not part of RFC 7616 but offered by httpbin and others.
    Sha512,
    /// `SHA-512-sess`.
    Sha512Sess,
}

impl Algorithm {
    const ALL: [Algorithm; 10] = [
        Algorithm::Md5,
        Algorithm::Md5Sess,
        Algorithm::Sha,
        Algorithm::ShaSess,
        Algorithm::Sha256,
        Algorithm::Sha256Sess,
        Algorithm::Sha512_256,
        Algorithm::Sha512_256Sess,
        Algorithm::Sha512,
        Algorithm::Sha512Sess,
    ];

    /// The token as sent on the wire, e.g. `"SHA-256-sess"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha => "SHA",
            Algorithm::ShaSess => "SHA-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
            Algorithm::Sha512_256 => "SHA-512-256",
            Algorithm::Sha512_256Sess => "SHA-512-256-sess",
            Algorithm::Sha512 => "SHA-512",
            Algorithm::Sha512Sess => "SHA-512-sess",
        }
    }

    /// Parse an `algorithm` token, ignoring ASCII case. `None` if unknown.
    pub fn from_token(token: &str) -> Option<Algorithm> {
        Self::ALL.into_iter().find(|a| a.as_str().eq_ignore_ascii_case(token))
    }

    /// True for the `-sess` variants, whose HA1 also covers nonce and cnonce.
    pub fn is_sess(self) -> bool {
        matches!(
            self,
            Algorithm::Md5Sess
                | Algorithm::ShaSess
                | Algorithm::Sha256Sess
                | Algorithm::Sha512_256Sess
                | Algorithm::Sha512Sess
        )
    }

    /// Lowercase hex digest of `data` under this algorithm's hash function.
    pub fn hex_digest(self, data: &[u8]) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex(&Md5::digest(data)),
            Algorithm::Sha | Algorithm::ShaSess => hex(&Sha1::digest(data)),
            Algorithm::Sha256 | Algorithm::Sha256Sess => hex(&Sha256::digest(data)),
            Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => hex(&Sha512_256::digest(data)),
            Algorithm::Sha512 | Algorithm::Sha512Sess => hex(&Sha512::digest(data)),
        }
    }

    /// Hex digest of the parts joined with `:`.
    fn hash_joined(self, parts: &[&[u8]]) -> String {
        self.hex_digest(&parts.join(&b':'))
    }
}

/// Quality of protection offered by a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qop {
    /// `auth`: authentication only.
    Auth,
    /// `auth-int`: authentication with integrity protection of the request body.
    AuthInt,
}

impl Qop {
    /// The token as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }
}

/// A parsed `Digest` challenge from a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Protection space, shown to users and part of HA1.
    pub realm: String,
    /// Server nonce.
    pub nonce: String,
    /// Opaque value to echo back unchanged.
    pub opaque: Option<String>,
    /// Hash algorithm (`MD5` when the challenge names none).
    pub algorithm: Algorithm,
    /// Offered qop values we understand; empty means an RFC 2069 style challenge.
    pub qop: Vec<Qop>,
    /// True when the server rejected the previous nonce as stale (retry with this one).
    pub stale: bool,
    /// True when the server supports hashed usernames (RFC 7616 section 3.4.4).
    pub userhash: bool,
    /// The `domain` parameter, unparsed (space-separated URIs).
    pub domain: Option<String>,
}

/// Find the first usable `Digest` challenge among the `WWW-Authenticate` header values.
///
/// Each value may hold several comma-separated challenges of any scheme, e.g.
/// `Basic realm="x", Digest realm="y", nonce="z", qop="auth,auth-int"`. Scheme and
/// parameter names are matched case-insensitively; values may be tokens or quoted
/// strings with backslash escapes.
///
/// Returns `Ok(None)` when no Digest challenge is present. When several Digest
/// challenges are present, the first valid one wins (servers list them in order of
/// preference, RFC 7616 section 3.7). When none is valid, the error of the first one is
/// returned as [`Error::RemoteProtocol`]: missing `realm` or `nonce`, unknown
/// `algorithm`, no known `qop` value, or a malformed parameter.
pub fn parse_challenges(www_authenticate_values: &[&str]) -> Result<Option<Challenge>> {
    let mut first_err = None;
    for value in www_authenticate_values {
        for raw in split_challenges(value) {
            if !raw.scheme.eq_ignore_ascii_case("digest") {
                continue;
            }
            match raw.into_digest() {
                Ok(ch) => return Ok(Some(ch)),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(None),
    }
}

/// Per-request inputs for [`authorization`].
#[derive(Debug, Clone, Copy)]
pub struct DigestParams<'a> {
    /// User name (sent in clear unless the challenge asks for `userhash`).
    pub username: &'a str,
    /// Password.
    pub password: &'a str,
    /// Request method, e.g. `GET`.
    pub method: &'a str,
    /// Request target as sent on the request line: `path?query`.
    pub uri: &'a str,
    /// Request body for `auth-int`; `None` when unknown (streamed).
    pub body: Option<&'a [u8]>,
    /// Nonce count for this request (see [`DigestState::next_nc`]).
    pub nc: u32,
    /// Client nonce (see [`new_cnonce`]).
    pub cnonce: &'a str,
}

/// Build the full `Authorization` header value answering `ch`.
///
/// Picks qop `auth` when offered, `auth-int` when it is the only one offered (which
/// needs `p.body`; `None` gives [`Error::LocalProtocol`]), and the RFC 2069 form when the
/// challenge offers no qop. Values containing control characters (which cannot be sent
/// in a quoted string) give [`Error::InvalidArgument`].
pub fn authorization(ch: &Challenge, p: &DigestParams) -> Result<String> {
    let alg = ch.algorithm;
    let qop = if ch.qop.is_empty() {
        None
    } else if ch.qop.contains(&Qop::Auth) {
        Some(Qop::Auth)
    } else {
        Some(Qop::AuthInt)
    };

    let nc = format!("{:08x}", p.nc);
    let mut ha1 = alg.hash_joined(&[p.username.as_bytes(), ch.realm.as_bytes(), p.password.as_bytes()]);
    if alg.is_sess() {
        ha1 = alg.hash_joined(&[ha1.as_bytes(), ch.nonce.as_bytes(), p.cnonce.as_bytes()]);
    }
    let ha2 = match qop {
        Some(Qop::AuthInt) => {
            let body = p.body.ok_or_else(|| {
                Error::LocalProtocol("auth-int needs the request body, which is not available (streamed body)".into())
            })?;
            let body_hash = alg.hex_digest(body);
            alg.hash_joined(&[p.method.as_bytes(), p.uri.as_bytes(), body_hash.as_bytes()])
        }
        _ => alg.hash_joined(&[p.method.as_bytes(), p.uri.as_bytes()]),
    };
    let response = match qop {
        Some(q) => alg.hash_joined(&[
            ha1.as_bytes(),
            ch.nonce.as_bytes(),
            nc.as_bytes(),
            p.cnonce.as_bytes(),
            q.as_str().as_bytes(),
            ha2.as_bytes(),
        ]),
        None => alg.hash_joined(&[ha1.as_bytes(), ch.nonce.as_bytes(), ha2.as_bytes()]),
    };

    let username = if ch.userhash {
        alg.hash_joined(&[p.username.as_bytes(), ch.realm.as_bytes()])
    } else {
        p.username.to_owned()
    };

    let mut out = String::from("Digest ");
    let mut first = true;
    let mut field = |name: &str, value: &str, quoted: bool| -> Result<()> {
        if let Some(c) = value.chars().find(|&c| c.is_control() && c != '\t') {
            return Err(Error::InvalidArgument(format!("digest auth: {name} contains control character {c:?}")));
        }
        if !first {
            out.push_str(", ");
        }
        first = false;
        out.push_str(name);
        out.push('=');
        if quoted {
            out.push_str(&quote(value));
        } else {
            out.push_str(value);
        }
        Ok(())
    };
    field("username", &username, true)?;
    field("realm", &ch.realm, true)?;
    field("nonce", &ch.nonce, true)?;
    field("uri", p.uri, true)?;
    field("response", &response, true)?;
    field("algorithm", alg.as_str(), false)?;
    if let Some(opaque) = &ch.opaque {
        field("opaque", opaque, true)?;
    }
    if let Some(q) = qop {
        field("qop", q.as_str(), false)?;
        field("nc", &nc, false)?;
        field("cnonce", p.cnonce, true)?;
    }
    if ch.userhash {
        field("userhash", "true", false)?;
    }
    // The method is hashed, never sent here, but must still be a sane token.
    if p.method.chars().any(char::is_control) {
        return Err(Error::InvalidArgument("digest auth: method contains control characters".into()));
    }
    Ok(out)
}

/// A fresh client nonce: 16 random bytes as 32 lowercase hex digits.
pub fn new_cnonce() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::getrandom(&mut bytes).is_err() {
        // The OS RNG is essentially never unavailable; still, never repeat a cnonce.
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let seed = format!("{nanos}:{}:{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        bytes.copy_from_slice(&Sha256::digest(seed.as_bytes())[..16]);
    }
    hex(&bytes)
}

/// Per-origin Digest state: the last challenge and its nonce count, so later requests
/// can authenticate pre-emptively without a `401` round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestState {
    challenge: Challenge,
    nc: u32,
}

impl DigestState {
    /// Start with a fresh challenge; the first [`next_nc`](Self::next_nc) returns 1.
    pub fn new(ch: Challenge) -> Self {
        DigestState { challenge: ch, nc: 0 }
    }

    /// The nonce count for the next request: 1, 2, 3, ...
    pub fn next_nc(&mut self) -> u32 {
        // Wrapping past u32::MAX restarts at 1 (0 is not a valid count); the server
        // will then reject the replayed count and issue a new nonce.
        self.nc = self.nc.checked_add(1).unwrap_or(1);
        self.nc
    }

    /// The challenge currently answered.
    pub fn challenge(&self) -> &Challenge {
        &self.challenge
    }

    /// Replace the challenge (e.g. after a `stale=true` 401). The nonce count restarts
    /// only when the nonce changed, so a count is never reused with the same nonce.
    pub fn replace(&mut self, ch: Challenge) {
        if ch.nonce != self.challenge.nonce {
            self.nc = 0;
        }
        self.challenge = ch;
    }
}

// ---------------------------------------------------------------------------------
// Helpers

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// `value` as a quoted-string, escaping `"` and `\`.
fn quote(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    s.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

/// RFC 9110 `tchar`.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// One challenge as found in a header value, before Digest-specific validation.
#[derive(Debug, Default)]
struct RawChallenge {
    scheme: String,
    /// Parameters with lowercased names, in order of appearance.
    params: Vec<(String, String)>,
    /// First syntax problem met in this challenge's parameters.
    malformed: Option<String>,
}

impl RawChallenge {
    /// First value of parameter `name` (lowercase).
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn flag(&self, name: &str) -> bool {
        self.param(name).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    fn into_digest(self) -> Result<Challenge> {
        let bad = |msg: String| Error::RemoteProtocol(format!("Digest challenge {msg}"));
        if let Some(m) = &self.malformed {
            return Err(bad(format!("is malformed: {m}")));
        }
        let realm = self.param("realm").ok_or_else(|| bad("has no realm parameter".into()))?;
        let nonce = self.param("nonce").ok_or_else(|| bad("has no nonce parameter".into()))?;
        let algorithm = match self.param("algorithm") {
            None => Algorithm::Md5,
            Some(tok) => {
                Algorithm::from_token(tok.trim()).ok_or_else(|| bad(format!("has unsupported algorithm {tok:?}")))?
            }
        };
        let qop = match self.param("qop") {
            None => Vec::new(),
            Some(list) => {
                let mut qop = Vec::new();
                for item in list.split(',').map(str::trim) {
                    let q = if item.eq_ignore_ascii_case("auth") {
                        Qop::Auth
                    } else if item.eq_ignore_ascii_case("auth-int") {
                        Qop::AuthInt
                    } else {
                        continue;
                    };
                    if !qop.contains(&q) {
                        qop.push(q);
                    }
                }
                if qop.is_empty() {
                    return Err(bad(format!("offers no supported qop (got {list:?})")));
                }
                qop
            }
        };
        Ok(Challenge {
            realm: realm.to_owned(),
            nonce: nonce.to_owned(),
            opaque: self.param("opaque").map(str::to_owned),
            algorithm,
            qop,
            stale: self.flag("stale"),
            userhash: self.flag("userhash"),
            domain: self.param("domain").map(str::to_owned),
        })
    }
}

/// Split a header value into its comma-separated list elements, not splitting inside
/// quoted strings. An unterminated quoted string runs to the end of the value.
fn split_elements(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quotes = false;
            }
        } else if c == '"' {
            in_quotes = true;
        } else if c == ',' {
            out.push(&s[start..i]);
            start = i + 1;
        }
    }
    out.push(&s[start..]);
    out
}

/// Split at the end of the leading run of `tchar`s.
fn split_token(s: &str) -> (&str, &str) {
    let end = s.find(|c| !is_tchar(c)).unwrap_or(s.len());
    s.split_at(end)
}

/// Parse `name BWS "=" BWS ( token / quoted-string )` into (lowercase name, value).
fn parse_param(s: &str) -> std::result::Result<(String, String), String> {
    let (name, rest) = split_token(s.trim());
    if name.is_empty() {
        return Err(format!("expected a parameter name in {:?}", truncate(s)));
    }
    let Some(rest) = rest.trim_start().strip_prefix('=') else {
        return Err(format!("parameter {:?} has no '='", truncate(name)));
    };
    let rest = rest.trim_start();
    let value = match rest.strip_prefix('"') {
        Some(quoted) => {
            let (value, tail) =
                unquote(quoted).ok_or_else(|| format!("unterminated quoted string in {:?}", truncate(name)))?;
            if !tail.trim().is_empty() {
                return Err(format!("unexpected text after quoted value of {:?}", truncate(name)));
            }
            value
        }
        None => rest.trim_end().to_owned(),
    };
    Ok((name.to_ascii_lowercase(), value))
}

/// Read a quoted string body (after the opening `"`), resolving backslash escapes.
/// Returns the value and the text after the closing quote, or `None` if unterminated.
fn unquote(s: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &s[i + 1..])),
            '\\' => value.push(chars.next()?.1),
            _ => value.push(c),
        }
    }
    None
}

/// Shorten attacker-controlled text before putting it in an error message.
fn truncate(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Parse one header value into its challenges (any scheme).
fn split_challenges(value: &str) -> Vec<RawChallenge> {
    let mut out: Vec<RawChallenge> = Vec::new();
    for elem in split_elements(value) {
        let elem = elem.trim();
        if elem.is_empty() {
            continue;
        }
        let (tok, rest) = split_token(elem);
        let starts_challenge = !tok.is_empty() && !rest.trim_start().starts_with('=');
        if starts_challenge {
            let mut ch = RawChallenge { scheme: tok.to_owned(), ..RawChallenge::default() };
            // `scheme 1*SP ( token68 / auth-param )`: only auth-params matter to us;
            // a token68 (or anything odd) just marks the challenge as malformed,
            // which only matters if it is a Digest challenge.
            if !rest.is_empty() {
                if !rest.starts_with([' ', '\t']) {
                    ch.malformed = Some(format!("bad auth scheme {:?}", truncate(elem)));
                } else {
                    push_param(&mut ch, rest);
                }
            }
            out.push(ch);
        } else if let Some(ch) = out.last_mut() {
            push_param(ch, elem);
        }
        // Parameters before any scheme belong to nothing and are ignored.
    }
    out
}

fn push_param(ch: &mut RawChallenge, text: &str) {
    match parse_param(text) {
        Ok(p) => ch.params.push(p),
        Err(e) => {
            ch.malformed.get_or_insert(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC7616_CHALLENGES: [&str; 2] = [
        r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
        r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
    ];
    const RFC7616_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    fn parse_one(value: &str) -> Result<Option<Challenge>> {
        parse_challenges(&[value])
    }

    fn challenge(value: &str) -> Challenge {
        parse_one(value).unwrap().unwrap()
    }

    fn params<'a>(uri: &'a str, cnonce: &'a str) -> DigestParams<'a> {
        DigestParams { username: "Mufasa", password: "Circle of Life", method: "GET", uri, body: None, nc: 1, cnonce }
    }

    /// Value of `name` in an Authorization header we produced (simple, test-only).
    fn field(header: &str, name: &str) -> Option<String> {
        let rest = header.strip_prefix("Digest ").unwrap();
        split_elements(rest).into_iter().find_map(|e| {
            let (n, v) = parse_param(e).unwrap();
            (n == name).then_some(v)
        })
    }

    fn remote_err(r: Result<Option<Challenge>>) -> String {
        match r {
            Err(Error::RemoteProtocol(m)) => m,
            other => panic!("expected RemoteProtocol error, got {other:?}"),
        }
    }

    #[test]
    fn rfc7616_md5_example() {
        let ch = challenge(RFC7616_CHALLENGES[1]);
        assert_eq!(ch.algorithm, Algorithm::Md5);
        assert_eq!(ch.qop, vec![Qop::Auth, Qop::AuthInt]);
        let h = authorization(&ch, &params("/dir/index.html", RFC7616_CNONCE)).unwrap();
        assert_eq!(field(&h, "response").unwrap(), "8ca523f5e9506fed4657c9700eebdbec");
        assert_eq!(
            h,
            "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", \
             nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", uri=\"/dir/index.html\", \
             response=\"8ca523f5e9506fed4657c9700eebdbec\", algorithm=MD5, \
             opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\", qop=auth, nc=00000001, \
             cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\""
        );
    }

    #[test]
    fn rfc7616_sha256_example() {
        // Both challenges in separate header values: the first (SHA-256) wins.
        let ch = parse_challenges(&RFC7616_CHALLENGES).unwrap().unwrap();
        assert_eq!(ch.algorithm, Algorithm::Sha256);
        let h = authorization(&ch, &params("/dir/index.html", RFC7616_CNONCE)).unwrap();
        assert_eq!(field(&h, "response").unwrap(), "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
        assert_eq!(field(&h, "algorithm").unwrap(), "SHA-256");
    }

    #[test]
    fn sha1_as_httpx() {
        // HTTPX 0.28.1 maps algorithm=SHA to hashlib.sha1 (`_ALGORITHM_TO_HASH_FUNCTION`
        // in httpx/_auth.py); expected value computed with Python's hashlib.
        let ch = challenge(&RFC7616_CHALLENGES[1].replace("algorithm=MD5", "algorithm=SHA"));
        assert_eq!(ch.algorithm, Algorithm::Sha);
        let h = authorization(&ch, &params("/dir/index.html", RFC7616_CNONCE)).unwrap();
        assert_eq!(field(&h, "response").unwrap(), "e99f244f9069203415f7e8b7bd25b4b2ad3e2a7f");
        assert_eq!(field(&h, "algorithm").unwrap(), "SHA");
        let ch = challenge(&RFC7616_CHALLENGES[1].replace("algorithm=MD5", "algorithm=sha-SESS"));
        assert_eq!(ch.algorithm, Algorithm::ShaSess);
    }

    #[test]
    fn rfc2617_example() {
        let ch = challenge(
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        );
        let p = DigestParams { password: "Circle Of Life", ..params("/dir/index.html", "0a4f113b") };
        let h = authorization(&ch, &p).unwrap();
        assert_eq!(field(&h, "response").unwrap(), "6629fae49393a05397450978507c4ef1");
        assert_eq!(field(&h, "nc").unwrap(), "00000001");
        assert_eq!(field(&h, "qop").unwrap(), "auth");
        assert_eq!(field(&h, "opaque").unwrap(), "5ccc069c403ebaf9f0171e9517f40e41");
    }

    #[test]
    fn rfc2069_no_qop() {
        let ch = challenge(r#"Digest realm="r", nonce="n""#);
        assert!(ch.qop.is_empty());
        let h = authorization(&ch, &params("/x", "c")).unwrap();
        let ha1 = Algorithm::Md5.hex_digest(b"Mufasa:r:Circle of Life");
        let ha2 = Algorithm::Md5.hex_digest(b"GET:/x");
        let expected = Algorithm::Md5.hex_digest(format!("{ha1}:n:{ha2}").as_bytes());
        assert_eq!(field(&h, "response").unwrap(), expected);
        assert_eq!(field(&h, "qop"), None);
        assert_eq!(field(&h, "nc"), None);
        assert_eq!(field(&h, "cnonce"), None);
        assert_eq!(field(&h, "opaque"), None);
    }

    #[test]
    fn sess_variant_hashes_nonce_and_cnonce_into_ha1() {
        let ch = challenge(r#"Digest realm="r", nonce="n", qop="auth", algorithm=SHA-256-sess"#);
        let h = authorization(&ch, &params("/x", "c")).unwrap();
        let a = Algorithm::Sha256;
        let ha1 = a.hex_digest(b"Mufasa:r:Circle of Life");
        let ha1 = a.hex_digest(format!("{ha1}:n:c").as_bytes());
        let ha2 = a.hex_digest(b"GET:/x");
        let expected = a.hex_digest(format!("{ha1}:n:00000001:c:auth:{ha2}").as_bytes());
        assert_eq!(field(&h, "response").unwrap(), expected);
        assert_eq!(field(&h, "algorithm").unwrap(), "SHA-256-sess");
    }

    #[test]
    fn auth_int_with_body() {
        let ch = challenge(r#"Digest realm="r", nonce="n", qop="auth-int", algorithm=MD5"#);
        let body = b"hello=world";
        let p = DigestParams { method: "POST", body: Some(body), nc: 0x1a, ..params("/post?a=1", "c") };
        let h = authorization(&ch, &p).unwrap();
        let md5 = |s: &[u8]| Algorithm::Md5.hex_digest(s);
        let ha1 = md5(b"Mufasa:r:Circle of Life");
        let ha2 = md5(format!("POST:/post?a=1:{}", md5(body)).as_bytes());
        let expected = md5(format!("{ha1}:n:0000001a:c:auth-int:{ha2}").as_bytes());
        assert_eq!(field(&h, "response").unwrap(), expected);
        assert_eq!(field(&h, "qop").unwrap(), "auth-int");
        assert_eq!(field(&h, "nc").unwrap(), "0000001a");

        // Empty body hashes as empty.
        let p = DigestParams { body: Some(b""), ..p };
        let h = authorization(&ch, &p).unwrap();
        let ha2 = md5(format!("POST:/post?a=1:{}", md5(b"")).as_bytes());
        let expected = md5(format!("{ha1}:n:0000001a:c:auth-int:{ha2}").as_bytes());
        assert_eq!(field(&h, "response").unwrap(), expected);

        // Unknown body is an error.
        let p = DigestParams { body: None, ..p };
        assert!(matches!(authorization(&ch, &p), Err(Error::LocalProtocol(m)) if m.contains("auth-int")));
    }

    #[test]
    fn auth_preferred_over_auth_int() {
        let ch = challenge(r#"Digest realm="r", nonce="n", qop="auth-int,auth""#);
        assert_eq!(ch.qop, vec![Qop::AuthInt, Qop::Auth]);
        // No body needed since plain auth is chosen.
        let h = authorization(&ch, &params("/", "c")).unwrap();
        assert_eq!(field(&h, "qop").unwrap(), "auth");
    }

    #[test]
    fn userhash() {
        let ch = challenge(
            r#"Digest realm="api@example.org", qop=auth, algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true"#,
        );
        assert!(ch.userhash);
        assert_eq!(ch.algorithm, Algorithm::Sha512_256);
        let p = DigestParams {
            username: "J\u{e4}s\u{f8}n Doe",
            password: "Secret, or not?",
            method: "GET",
            uri: "/doe.json",
            body: None,
            nc: 1,
            cnonce: "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
        };
        let h = authorization(&ch, &p).unwrap();
        // Independently: the username field is H(username ":" realm) ...
        let a = Algorithm::Sha512_256;
        let user = a.hex_digest("J\u{e4}s\u{f8}n Doe:api@example.org".as_bytes());
        assert_eq!(field(&h, "username").unwrap(), user);
        // ... while HA1 still uses the clear username.
        let ha1 = a.hex_digest("J\u{e4}s\u{f8}n Doe:api@example.org:Secret, or not?".as_bytes());
        let ha2 = a.hex_digest(b"GET:/doe.json");
        let expected = a.hex_digest(
            format!("{ha1}:5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK:00000001:NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v:auth:{ha2}").as_bytes(),
        );
        assert_eq!(field(&h, "response").unwrap(), expected);
        assert!(h.ends_with(", userhash=true"));
    }

    #[test]
    fn sha512_256_is_the_truncated_variant() {
        // SHA-512/256("abc") from FIPS 180-4 examples.
        assert_eq!(
            Algorithm::Sha512_256.hex_digest(b"abc"),
            "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"
        );
        assert_eq!(Algorithm::Sha512.hex_digest(b"abc").len(), 128);
        assert_eq!(Algorithm::Md5.hex_digest(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn quoting_escapes_values() {
        let ch = Challenge {
            realm: r#"we "quote" \ here"#.into(),
            nonce: "n".into(),
            opaque: None,
            algorithm: Algorithm::Md5,
            qop: vec![Qop::Auth],
            stale: false,
            userhash: false,
            domain: None,
        };
        let p = DigestParams { username: r#"a"b\c"#, ..params("/", "c") };
        let h = authorization(&ch, &p).unwrap();
        assert!(h.starts_with(r#"Digest username="a\"b\\c", realm="we \"quote\" \\ here""#));
        // Round-trips through our own parser.
        assert_eq!(field(&h, "username").unwrap(), r#"a"b\c"#);
        assert_eq!(field(&h, "realm").unwrap(), ch.realm);
    }

    #[test]
    fn control_characters_rejected() {
        let ch = challenge(r#"Digest realm="r", nonce="n""#);
        let p = DigestParams { username: "evil\r\nX-Injected: 1", ..params("/", "c") };
        assert!(matches!(authorization(&ch, &p), Err(Error::InvalidArgument(_))));
        let p = DigestParams { uri: "/\n", ..params("/", "c") };
        assert!(matches!(authorization(&ch, &p), Err(Error::InvalidArgument(_))));
        let p = DigestParams { method: "GE\0T", ..params("/", "c") };
        assert!(matches!(authorization(&ch, &p), Err(Error::InvalidArgument(_))));
    }

    #[test]
    fn multiple_challenges_in_one_value() {
        let ch = challenge(
            r#"Basic realm="x", Digest realm="y", nonce="z", qop="auth,auth-int", Bearer realm="b", error="invalid_token""#,
        );
        assert_eq!(ch.realm, "y");
        assert_eq!(ch.nonce, "z");
        assert_eq!(ch.qop, vec![Qop::Auth, Qop::AuthInt]);
        assert_eq!(ch.opaque, None);
        assert!(!ch.stale);
    }

    #[test]
    fn challenge_in_later_header_value() {
        let r = parse_challenges(&[r#"Basic realm="x""#, "Negotiate", r#"digest nonce=abc, realm=host"#]);
        let ch = r.unwrap().unwrap();
        assert_eq!((ch.realm.as_str(), ch.nonce.as_str()), ("host", "abc"));
    }

    #[test]
    fn no_digest_challenge() {
        assert_eq!(parse_one(r#"Basic realm="Digest realm=\"x\", nonce=y""#), Ok(None));
        assert_eq!(parse_challenges(&[]), Ok(None));
        assert_eq!(parse_one(""), Ok(None));
        assert_eq!(parse_one("Negotiate abc123==, Bearer"), Ok(None));
        // "Digestive" is not "Digest".
        assert_eq!(parse_one(r#"Digestive realm="r", nonce="n""#), Ok(None));
    }

    #[test]
    fn quoted_commas_and_escapes() {
        let ch = challenge(r#"Digest realm="a, b \"c\" \\ d", nonce="n,o", opaque="x\yz", domain="/a /b""#);
        assert_eq!(ch.realm, r#"a, b "c" \ d"#);
        assert_eq!(ch.nonce, "n,o");
        assert_eq!(ch.opaque.as_deref(), Some("xyz"));
        assert_eq!(ch.domain.as_deref(), Some("/a /b"));
    }

    #[test]
    fn case_insensitive_names_and_whitespace() {
        let ch = challenge(
            "DIGEST   REALM = \"r\" ,\tNonce=\"n\" , Stale=TRUE, ALGORITHM=\"md5-SESS\", QOP=\"AUTH\", UserHash=True",
        );
        assert_eq!(ch.realm, "r");
        assert_eq!(ch.nonce, "n");
        assert!(ch.stale);
        assert!(ch.userhash);
        assert_eq!(ch.algorithm, Algorithm::Md5Sess);
        assert_eq!(ch.qop, vec![Qop::Auth]);
        assert!(!challenge(r#"Digest realm="r", nonce="n", stale=false"#).stale);
        assert!(!challenge(r#"Digest realm="r", nonce="n", stale=maybe"#).stale);
    }

    #[test]
    fn algorithm_tokens() {
        let cases = [
            ("MD5", Algorithm::Md5),
            ("MD5-sess", Algorithm::Md5Sess),
            ("SHA-256", Algorithm::Sha256),
            ("SHA-256-sess", Algorithm::Sha256Sess),
            ("SHA-512-256", Algorithm::Sha512_256),
            ("SHA-512-256-sess", Algorithm::Sha512_256Sess),
            ("SHA-512", Algorithm::Sha512),
            ("SHA-512-sess", Algorithm::Sha512Sess),
            ("sha-256", Algorithm::Sha256),
        ];
        for (tok, alg) in cases {
            let ch = challenge(&format!(r#"Digest realm="r", nonce="n", algorithm={tok}"#));
            assert_eq!(ch.algorithm, alg, "{tok}");
            assert!(alg.as_str().eq_ignore_ascii_case(tok));
            assert_eq!(alg.is_sess(), tok.to_ascii_lowercase().ends_with("-sess"));
        }
        assert_eq!(challenge(r#"Digest realm="r", nonce="n""#).algorithm, Algorithm::Md5);
    }

    #[test]
    fn unknown_algorithm_error() {
        let m = remote_err(parse_one(r#"Digest realm="r", nonce="n", algorithm=SHA-1"#));
        assert!(m.contains("algorithm") && m.contains("SHA-1"), "{m}");
        // ... unless a later Digest challenge is usable.
        let ch = challenge(
            r#"Digest realm="r", nonce="n", algorithm=UNKNOWN, Digest realm="r", nonce="n2", algorithm=SHA-512"#,
        );
        assert_eq!((ch.nonce.as_str(), ch.algorithm), ("n2", Algorithm::Sha512));
    }

    #[test]
    fn missing_realm_or_nonce() {
        let m = remote_err(parse_one(r#"Digest nonce="n""#));
        assert!(m.contains("realm"), "{m}");
        let m = remote_err(parse_one(r#"Digest realm="r", qop="auth""#));
        assert!(m.contains("nonce"), "{m}");
        let m = remote_err(parse_one("Digest"));
        assert!(m.contains("realm"), "{m}");
    }

    #[test]
    fn unknown_qop_error() {
        let m = remote_err(parse_one(r#"Digest realm="r", nonce="n", qop="auth-conf""#));
        assert!(m.contains("qop"), "{m}");
        // Unknown entries among known ones are ignored.
        let ch = challenge(r#"Digest realm="r", nonce="n", qop="auth-conf, auth""#);
        assert_eq!(ch.qop, vec![Qop::Auth]);
    }

    #[test]
    fn malformed_digest_params() {
        let m = remote_err(parse_one(r#"Digest realm="r", nonce="n"#));
        assert!(m.contains("unterminated"), "{m}");
        let m = remote_err(parse_one(r#"Digest realm="r"x, nonce="n""#));
        assert!(m.contains("malformed"), "{m}");
        // Malformed non-Digest challenges are ignored.
        let ch = challenge(r#"Basic realm="x"y, Digest realm="r", nonce="n""#);
        assert_eq!(ch.realm, "r");
    }

    #[test]
    fn hostile_input_never_panics() {
        let long = "a".repeat(1 << 20);
        let inputs = [
            format!("Digest realm=\"{long}"),
            format!("Digest realm=\"{long}\", nonce={long}"),
            format!("{long}, {long}=, ,,,=,\"\"\""),
            "Digest realm=\"\\".to_owned(),
            "Digest realm=\\\"".to_owned(),
            "\"\"\"\"\"\",,,,Digest,,,=,realm==\"".to_owned(),
            "Digest realm=\"\u{e9}\u{1F600}\", nonce=\u{1F600}, algorithm=\u{e9}".to_owned(),
            "\u{0}\u{7f}Digest\u{0} realm\u{0}=\u{0}".to_owned(),
        ];
        for s in &inputs {
            let _ = parse_one(s);
        }
        // A small deterministic fuzz over an alphabet of troublesome characters.
        let alphabet: Vec<char> = "Digest realm nonce qop=auth,\"\\ \t=é😀MD5-sess".chars().collect();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..3000 {
            let len = (x % 80) as usize;
            let s: String = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    alphabet[(x % alphabet.len() as u64) as usize]
                })
                .collect();
            if let Ok(Some(ch)) = parse_challenges(&[&s, "Digest"]) {
                let p = DigestParams { body: Some(b"x"), ..params("/", "c") };
                let _ = authorization(&ch, &p);
            }
        }
        // Error messages stay bounded even for huge input.
        let m = remote_err(parse_one(&format!("Digest {long}x=\"")));
        assert!(m.len() < 300, "{}", m.len());
    }

    #[test]
    fn cnonce_is_random_hex() {
        let a = new_cnonce();
        let b = new_cnonce();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }

    #[test]
    fn state_counts_and_replaces() {
        let ch = challenge(r#"Digest realm="r", nonce="n1", qop=auth"#);
        let mut st = DigestState::new(ch.clone());
        assert_eq!(st.challenge(), &ch);
        assert_eq!(st.next_nc(), 1);
        assert_eq!(st.next_nc(), 2);
        // Same nonce: count continues.
        let mut same = ch.clone();
        same.stale = true;
        st.replace(same);
        assert_eq!(st.next_nc(), 3);
        // New nonce: count restarts.
        let fresh = challenge(r#"Digest realm="r", nonce="n2", qop=auth, stale=true"#);
        st.replace(fresh.clone());
        assert_eq!(st.challenge(), &fresh);
        assert_eq!(st.next_nc(), 1);
        // Never yields 0.
        st.nc = u32::MAX;
        assert_eq!(st.next_nc(), 1);
    }
}

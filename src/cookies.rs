//! The client's cookie jar.
//!
//! Cookies received in `Set-Cookie` headers are stored following RFC 6265 (domain and
//! path defaults, host-only cookies, `Secure`, `Expires`/`Max-Age`) using the
//! [`cookie_store`] crate; a `Domain` attribute naming a public suffix is checked with
//! the [`psl`] crate. Cookies can also be set by hand, as with HTTPX's `Cookies.set`.
//!
//! Semantics that follow HTTPX (Python's `http.cookiejar`) rather than browsers:
//! - `Secure` cookies are only sent over `https` (not to `http://localhost`).
//! - A cookie set by hand with an empty domain is sent to every host (path rules
//!   still apply), like a `Cookie` with `domain=""` in Python's cookie jar.
//! - A cookie set by hand with a domain is a *domain* cookie: it is sent to that host
//!   and its subdomains (a leading `.` is ignored). An IP address domain is host-only.

use std::sync::{Mutex, MutexGuard};

use cookie_store::{CookieDomain, CookieExpiration, CookiePath, CookieStore, RawCookie};
use url::{Host, Url};

use crate::error::{Error, Result};

/// Most cookies kept for one domain (browsers keep about 180); storing one more
/// evicts that domain's oldest (expired ones first).
pub const MAX_COOKIES_PER_DOMAIN: usize = 180;
/// Most cookies kept in one jar (browsers keep about 3000); storing one more evicts
/// the oldest (expired ones first).
pub const MAX_COOKIES_TOTAL: usize = 3000;
/// Longest `Cookie` header sent, in bytes (curl stops below 8 KiB too): cookies that
/// would make it longer are left out of that request (longest paths go first).
pub const MAX_COOKIE_HEADER_LEN: usize = 8190;

/// A snapshot of one stored cookie, as returned by [`CookieJar::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieInfo {
    /// Cookie name.
    pub name: String,
    /// Cookie value, as received (quotes are kept).
    pub value: String,
    /// Domain without a leading dot; `""` for a cookie sent to every host.
    pub domain: String,
    /// Path the cookie applies to.
    pub path: String,
    /// Only sent over `https`.
    pub secure: bool,
    /// The `HttpOnly` attribute was present.
    pub http_only: bool,
    /// Only sent to `domain` itself, not its subdomains.
    pub host_only: bool,
    /// Expiry as Unix seconds; `None` for a session cookie.
    pub expires_unix: Option<i64>,
}

/// A cookie set by hand with an empty domain: sent to every host.
#[derive(Debug, Clone)]
struct AnyHostCookie {
    name: String,
    value: String,
    path: CookiePath,
}

#[derive(Debug, Clone, Default)]
struct Inner {
    store: CookieStore,
    any_host: Vec<AnyHostCookie>,
}

/// A thread-safe cookie jar (`Send + Sync`; every method takes `&self`).
#[derive(Debug, Default)]
pub struct CookieJar {
    inner: Mutex<Inner>,
}

impl Clone for CookieJar {
    fn clone(&self) -> Self {
        CookieJar { inner: Mutex::new(self.lock().clone()) }
    }
}

impl CookieJar {
    /// An empty jar.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way
        // that breaks later calls, so a poisoned lock is simply taken over.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Store the cookies of a response to a request for `url`, one `Set-Cookie` header
    /// value per item. Cookies that are malformed, whose `Domain` does not domain-match
    /// the request host, or whose `Domain` is a public suffix other than the request
    /// host itself are ignored. A cookie already expired (e.g. `Max-Age=0`) removes the
    /// stored cookie with the same name, domain and path.
    pub fn store_from_response(&self, url: &Url, set_cookie_values: &[&str]) {
        let Some(host) = url.host_str() else { return };
        let https = url.scheme() == "https";
        let mut inner = self.lock();
        for line in set_cookie_values {
            let Ok(mut raw) = RawCookie::parse(*line) else {
                continue;
            };
            if raw.secure() == Some(true) && !https {
                // RFC 6265bis 5.7: only a secure origin may set a Secure cookie.
                continue;
            }
            if let Some(domain) = raw.domain() {
                match check_domain_attribute(domain, host) {
                    DomainCheck::Keep => {}
                    DomainCheck::HostOnly => raw.unset_domain(),
                    DomainCheck::Reject => continue,
                }
            }
            let expired = is_expired_on_arrival(&raw);
            let raw = raw.into_owned();
            if inner.store.insert_raw(&raw, url).is_ok() {
                if let Ok(c) = cookie_store::Cookie::try_from_raw_cookie(&raw, url) {
                    if let Some(d) = c.domain.as_cow() {
                        if expired {
                            // cookie_store marks the old cookie expired; drop it for good.
                            inner.store.remove(&d, &c.path, c.name());
                        } else {
                            enforce_caps(&mut inner, &d);
                        }
                    }
                }
            }
        }
    }

    /// The `Cookie` header value for a request to `url` (`"a=1; b=2"`), or `None` when no
    /// stored cookie applies. Cookies with longer paths come first (RFC 6265 5.4).
    pub fn header_for(&self, url: &Url) -> Option<String> {
        url.host_str()?;
        let https = url.scheme() == "https";
        let inner = self.lock();
        let mut pairs: Vec<(usize, &str, &str)> = inner
            .store
            .matches(url)
            .into_iter()
            .filter(|c| https || !c.secure().unwrap_or(false))
            .map(|c| (c.path.len(), c.name(), c.value()))
            .collect();
        pairs.extend(
            inner
                .any_host
                .iter()
                .filter(|c| c.path.matches(url))
                .map(|c| (c.path.len(), c.name.as_str(), c.value.as_str())),
        );
        if pairs.is_empty() {
            return None;
        }
        pairs.sort_by_key(|p| std::cmp::Reverse(p.0));
        let mut header = String::new();
        for (_, n, v) in &pairs {
            let extra = n.len() + 1 + v.len() + if header.is_empty() { 0 } else { 2 };
            if header.len() + extra > MAX_COOKIE_HEADER_LEN {
                continue;
            }
            if !header.is_empty() {
                header.push_str("; ");
            }
            header.push_str(n);
            header.push('=');
            header.push_str(v);
        }
        if header.is_empty() {
            return None;
        }
        Some(header)
    }

    /// Set a cookie by hand, like HTTPX's `Cookies.set(name, value, domain, path)`.
    ///
    /// `domain` `""` makes a cookie sent to every host; otherwise it is a domain cookie
    /// for that host and its subdomains (an IP address is matched exactly). `path` `""`
    /// means `"/"`. The cookie is not `Secure`, not `HttpOnly`, and lasts for the
    /// session. An existing cookie with the same name, domain and path is replaced.
    ///
    /// Errors with [`Error::InvalidArgument`] for an empty name, a name containing CR,
    /// LF, NUL, `;` or `=`, a value containing CR, LF, NUL or `;`, a path not starting
    /// with `/`, or a domain that is not a valid host name.
    pub fn set(&self, name: &str, value: &str, domain: &str, path: &str) -> Result<()> {
        if name.is_empty() {
            return Err(Error::InvalidArgument("cookie name is empty".into()));
        }
        if name.contains(['\r', '\n', '\0', ';', '=']) {
            return Err(Error::InvalidArgument(format!("cookie name {name:?} contains a forbidden character")));
        }
        if value.contains(['\r', '\n', '\0', ';']) {
            return Err(Error::InvalidArgument(format!("value of cookie {name:?} contains a forbidden character")));
        }
        let path = if path.is_empty() { "/" } else { path };
        let cookie_path = CookiePath::parse(path)
            .ok_or_else(|| Error::InvalidArgument(format!("cookie path {path:?} must start with '/'")))?;
        if path.contains(['\r', '\n', '\0', ';']) {
            return Err(Error::InvalidArgument(format!("cookie path {path:?} contains a forbidden character")));
        }

        let domain = normalize_domain(domain);
        let mut inner = self.lock();
        if domain.is_empty() {
            inner.any_host.retain(|c| !(c.name == name && *c.path == *path));
            inner.any_host.push(AnyHostCookie { name: name.to_owned(), value: value.to_owned(), path: cookie_path });
            return Ok(());
        }

        let bracketed;
        let domain = if domain.parse::<std::net::Ipv6Addr>().is_ok() {
            bracketed = format!("[{domain}]");
            bracketed.as_str()
        } else {
            domain.as_str()
        };
        let host = Host::parse(domain).map_err(|e| Error::InvalidArgument(format!("cookie domain {domain:?}: {e}")))?;
        let url = Url::parse(&format!("http://{host}/"))
            .map_err(|e| Error::InvalidArgument(format!("cookie domain {domain:?}: {e}")))?;
        let mut raw = RawCookie::new(name.to_owned(), value.to_owned());
        raw.set_path(path.to_owned());
        if let Host::Domain(d) = &host {
            raw.set_domain(d.clone());
        }
        inner
            .store
            .insert_raw(&raw, &url)
            .map_err(|e| Error::InvalidArgument(format!("cookie {name:?} rejected: {e}")))?;
        let key = match &host {
            Host::Domain(d) => d.clone(),
            other => other.to_string(),
        };
        enforce_caps(&mut inner, &key);
        Ok(())
    }

    /// The value of the cookie called `name`, like HTTPX's `Cookies.get`: `domain` and
    /// `path`, when given, must equal the cookie's (domains compared without a leading
    /// dot, case-insensitively; `""` selects cookies sent to every host).
    ///
    /// Returns `None` when no cookie matches, and also when several match with
    /// different values (HTTPX raises `CookieConflict` there; see [`CookieJar::get_checked`]).
    pub fn get(&self, name: &str, domain: Option<&str>, path: Option<&str>) -> Option<String> {
        self.get_checked(name, domain, path).ok().flatten()
    }

    /// Like [`CookieJar::get`], but several matching cookies with different values are
    /// reported as [`Error::InvalidArgument`] (HTTPX's `CookieConflict`).
    pub fn get_checked(&self, name: &str, domain: Option<&str>, path: Option<&str>) -> Result<Option<String>> {
        let mut found: Option<String> = None;
        for c in self.list() {
            if !selects(&c, name, domain, path) {
                continue;
            }
            match &found {
                Some(v) if *v != c.value => {
                    return Err(Error::InvalidArgument(format!("multiple cookies exist with name={name}")))
                }
                _ => found = Some(c.value),
            }
        }
        Ok(found)
    }

    /// Remove every cookie called `name` (restricted to `domain`/`path` when given, with
    /// the same matching as [`CookieJar::get`]). Returns how many live cookies were removed.
    pub fn delete(&self, name: &str, domain: Option<&str>, path: Option<&str>) -> usize {
        let mut inner = self.lock();
        let doomed: Vec<(String, String)> = inner
            .store
            .iter_any()
            .map(info_of)
            .filter(|c| selects(c, name, domain, path))
            .map(|c| (c.domain, c.path))
            .collect();
        let mut removed = 0;
        for (d, p) in doomed {
            if let Some(c) = inner.store.remove(&d, &p, name) {
                if !c.is_expired() {
                    removed += 1;
                }
            }
        }
        let before = inner.any_host.len();
        inner.any_host.retain(|c| {
            let info = any_host_info(c);
            !selects(&info, name, domain, path)
        });
        removed + (before - inner.any_host.len())
    }

    /// Remove every cookie.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.store.clear();
        inner.any_host.clear();
    }

    /// Every unexpired cookie, sorted by domain, path, then name.
    pub fn list(&self) -> Vec<CookieInfo> {
        let inner = self.lock();
        let mut out: Vec<CookieInfo> = inner.store.iter_unexpired().map(info_of).collect();
        out.extend(inner.any_host.iter().map(any_host_info));
        out.sort_by(|a, b| (&a.domain, &a.path, &a.name).cmp(&(&b.domain, &b.path, &b.name)));
        out
    }

    /// A new jar holding this jar's cookies plus `extra` (name, value) pairs set for
    /// every host on path `/`, like HTTPX merging per-request cookies into the client's.
    /// Pairs that [`CookieJar::set`] would reject are skipped.
    pub fn merged_with(&self, extra: &[(String, String)]) -> CookieJar {
        let merged = self.clone();
        for (name, value) in extra {
            let _ = merged.set(name, value, "", "/");
        }
        merged
    }
}

/// Keep at most [`MAX_COOKIES_PER_DOMAIN`] cookies for `domain` and
/// [`MAX_COOKIES_TOTAL`] in all, evicting expired cookies first, then the oldest
/// (the store keeps insertion order).
fn enforce_caps(inner: &mut Inner, domain: &str) {
    let same = |c: &cookie_store::Cookie<'static>| c.domain.as_cow().is_some_and(|d| d.eq_ignore_ascii_case(domain));
    let in_domain = inner.store.iter_any().filter(|c| same(c)).count();
    if in_domain > MAX_COOKIES_PER_DOMAIN {
        let doomed = victims(inner.store.iter_any().filter(|c| same(c)).collect(), in_domain - MAX_COOKIES_PER_DOMAIN);
        for (d, p, n) in doomed {
            inner.store.remove(&d, &p, &n);
        }
    }
    let total = inner.store.iter_any().count() + inner.any_host.len();
    if total > MAX_COOKIES_TOTAL {
        let doomed = victims(inner.store.iter_any().collect(), total - MAX_COOKIES_TOTAL);
        for (d, p, n) in doomed {
            inner.store.remove(&d, &p, &n);
        }
    }
}

/// The first `n` cookies to evict among `cookies` (in insertion order): expired
/// ones, then the oldest.
fn victims(cookies: Vec<&cookie_store::Cookie<'static>>, n: usize) -> Vec<(String, String, String)> {
    let key = |c: &cookie_store::Cookie<'static>| {
        (c.domain.as_cow().map(|d| d.into_owned()).unwrap_or_default(), String::from(&c.path), c.name().to_owned())
    };
    let mut out: Vec<_> = cookies.iter().filter(|c| c.is_expired()).take(n).map(|c| key(c)).collect();
    if out.len() < n {
        let more = n - out.len();
        out.extend(cookies.iter().filter(|c| !c.is_expired()).take(more).map(|c| key(c)));
    }
    out
}

enum DomainCheck {
    Keep,
    HostOnly,
    Reject,
}

/// RFC 6265 5.3 step 5: a `Domain` attribute that is a public suffix is only allowed
/// when it is the request host itself, and then makes the cookie host-only.
fn check_domain_attribute(domain: &str, request_host: &str) -> DomainCheck {
    let domain = normalize_domain(domain);
    if domain.is_empty() {
        return DomainCheck::Keep; // empty attribute: cookie_store makes it host-only
    }
    let Ok(Host::Domain(ascii)) = Host::parse(&domain) else {
        return DomainCheck::Keep; // IP literal or invalid: cookie_store decides
    };
    let is_public_suffix =
        psl::suffix(ascii.as_bytes()).is_some_and(|s| s.is_known() && s.as_bytes() == ascii.as_bytes());
    match (is_public_suffix, ascii == request_host) {
        (false, _) => DomainCheck::Keep,
        (true, true) => DomainCheck::HostOnly,
        (true, false) => DomainCheck::Reject,
    }
}

/// Whether a parsed `Set-Cookie` asks for immediate deletion (Max-Age wins over Expires).
fn is_expired_on_arrival(raw: &RawCookie<'_>) -> bool {
    if let Some(max_age) = raw.max_age() {
        return max_age.whole_seconds() <= 0;
    }
    raw.expires_datetime().is_some_and(|t| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        t.unix_timestamp() <= now
    })
}

/// Trimmed, lowercased, without one leading dot.
fn normalize_domain(domain: &str) -> String {
    let d = domain.trim();
    d.strip_prefix('.').unwrap_or(d).to_ascii_lowercase()
}

fn selects(c: &CookieInfo, name: &str, domain: Option<&str>, path: Option<&str>) -> bool {
    c.name == name && domain.is_none_or(|d| normalize_domain(d) == c.domain) && path.is_none_or(|p| p == c.path)
}

fn info_of(c: &cookie_store::Cookie<'static>) -> CookieInfo {
    CookieInfo {
        name: c.name().to_owned(),
        value: c.value().to_owned(),
        domain: c.domain.as_cow().map(|d| d.into_owned()).unwrap_or_default(),
        path: String::from(&c.path),
        secure: c.secure().unwrap_or(false),
        http_only: c.http_only().unwrap_or(false),
        host_only: matches!(c.domain, CookieDomain::HostOnly(_)),
        expires_unix: match &c.expires {
            CookieExpiration::AtUtc(t) => Some(t.unix_timestamp()),
            CookieExpiration::SessionEnd => None,
        },
    }
}

fn any_host_info(c: &AnyHostCookie) -> CookieInfo {
    CookieInfo {
        name: c.name.clone(),
        value: c.value.clone(),
        domain: String::new(),
        path: String::from(&c.path),
        secure: false,
        http_only: false,
        host_only: false,
        expires_unix: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn jar_with(url: &str, lines: &[&str]) -> CookieJar {
        let jar = CookieJar::new();
        jar.store_from_response(&u(url), lines);
        jar
    }

    #[test]
    fn jar_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<CookieJar>();
    }

    #[test]
    fn host_only_cookie_stays_on_its_host() {
        let jar = jar_with("http://example.com/", &["a=1"]);
        assert_eq!(jar.header_for(&u("http://example.com/x")).as_deref(), Some("a=1"));
        assert_eq!(jar.header_for(&u("http://www.example.com/")), None);
        assert_eq!(jar.header_for(&u("http://other.com/")), None);
        let info = &jar.list()[0];
        assert!(info.host_only);
        assert_eq!(info.domain, "example.com");
    }

    #[test]
    fn domain_cookie_reaches_subdomains() {
        let jar = jar_with("http://www.example.com/", &["a=1; Domain=example.com"]);
        assert_eq!(jar.header_for(&u("http://example.com/")).as_deref(), Some("a=1"));
        assert_eq!(jar.header_for(&u("http://deep.www.example.com/")).as_deref(), Some("a=1"));
        assert_eq!(jar.header_for(&u("http://notexample.com/")), None);
        assert!(!jar.list()[0].host_only);
        // leading dot is ignored
        let jar = jar_with("http://www.example.com/", &["b=2; Domain=.EXAMPLE.com"]);
        assert_eq!(jar.header_for(&u("http://api.example.com/")).as_deref(), Some("b=2"));
    }

    #[test]
    fn domain_mismatch_is_rejected() {
        let jar = jar_with(
            "http://www.example.com/",
            &["a=1; Domain=other.com", "b=2; Domain=sub.www.example.com", "c=3; Domain=ample.com"],
        );
        assert!(jar.list().is_empty());
    }

    #[test]
    fn public_suffix_domains_are_rejected() {
        let jar = jar_with("http://www.example.com/", &["a=1; Domain=com"]);
        assert!(jar.list().is_empty());
        let jar = jar_with("http://www.example.co.uk/", &["a=1; Domain=co.uk", "b=2; Domain=.uk"]);
        assert!(jar.list().is_empty());
        let jar = jar_with("http://www.example.co.uk/", &["c=3; Domain=example.co.uk"]);
        assert_eq!(jar.header_for(&u("http://shop.example.co.uk/")).as_deref(), Some("c=3"));
    }

    #[test]
    fn public_suffix_equal_to_host_becomes_host_only() {
        let jar = jar_with("http://github.io/", &["a=1; Domain=github.io"]);
        let list = jar.list();
        assert_eq!(list.len(), 1);
        assert!(list[0].host_only);
        assert_eq!(jar.header_for(&u("http://github.io/")).as_deref(), Some("a=1"));
        assert_eq!(jar.header_for(&u("http://evil.github.io/")), None);
    }

    #[test]
    fn path_rules() {
        let jar = jar_with("http://example.com/", &["a=1; Path=/a"]);
        assert_eq!(jar.header_for(&u("http://example.com/a")).as_deref(), Some("a=1"));
        assert_eq!(jar.header_for(&u("http://example.com/a/b")).as_deref(), Some("a=1"));
        assert_eq!(jar.header_for(&u("http://example.com/ab")), None);
        assert_eq!(jar.header_for(&u("http://example.com/")), None);
    }

    #[test]
    fn default_path_is_directory_of_request() {
        let jar = jar_with("http://example.com/dir/page", &["a=1"]);
        assert_eq!(jar.list()[0].path, "/dir");
        assert_eq!(jar.header_for(&u("http://example.com/dir/other")).as_deref(), Some("a=1"));
        assert_eq!(jar.header_for(&u("http://example.com/")), None);
    }

    #[test]
    fn longer_paths_come_first() {
        let jar = jar_with("http://example.com/", &["short=1; Path=/", "long=2; Path=/a/b", "mid=3; Path=/a"]);
        assert_eq!(jar.header_for(&u("http://example.com/a/b/c")).as_deref(), Some("long=2; mid=3; short=1"));
    }

    #[test]
    fn secure_only_over_https() {
        let jar = jar_with("https://example.com/", &["s=1; Secure", "p=2"]);
        assert_eq!(jar.header_for(&u("https://example.com/")).as_deref(), Some("s=1; p=2"));
        assert_eq!(jar.header_for(&u("http://example.com/")).as_deref(), Some("p=2"));
        let jar = jar_with("https://localhost/", &["s=1; Secure"]);
        assert_eq!(jar.header_for(&u("http://localhost/")), None);
        assert!(jar.list()[0].secure);
    }

    #[test]
    fn secure_cookie_from_http_is_refused() {
        let jar = jar_with("http://example.com/", &["s=1; Secure", "p=2"]);
        assert_eq!(jar.list().len(), 1);
        assert_eq!(jar.header_for(&u("https://example.com/")).as_deref(), Some("p=2"));
        let jar = jar_with("https://example.com/", &["s=1; Secure"]);
        assert_eq!(jar.header_for(&u("https://example.com/")).as_deref(), Some("s=1"));
    }

    #[test]
    fn cookies_per_domain_and_in_total_are_capped() {
        let jar = CookieJar::new();
        let url = u("http://example.com/");
        let lines: Vec<String> = (0..MAX_COOKIES_PER_DOMAIN + 20).map(|i| format!("c{i}=v")).collect();
        let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
        jar.store_from_response(&url, &refs);
        let names: Vec<String> = jar.list().into_iter().map(|c| c.name).collect();
        assert_eq!(names.len(), MAX_COOKIES_PER_DOMAIN);
        assert!(!names.contains(&"c0".to_string()) && !names.contains(&"c19".to_string()), "oldest evicted");
        assert!(names.contains(&"c20".to_string()) && names.contains(&format!("c{}", MAX_COOKIES_PER_DOMAIN + 19)));
        // Total cap across many domains.
        let jar = CookieJar::new();
        for d in 0..40 {
            let url = u(&format!("http://d{d}.example/"));
            let lines: Vec<String> = (0..100).map(|i| format!("c{i}=v")).collect();
            let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
            jar.store_from_response(&url, &refs);
        }
        assert_eq!(jar.list().len(), MAX_COOKIES_TOTAL);
        assert!(jar.header_for(&u("http://d0.example/")).is_none(), "the oldest domain went first");
        assert!(jar.header_for(&u("http://d39.example/")).is_some());
        // By hand too.
        let jar = CookieJar::new();
        for i in 0..MAX_COOKIES_PER_DOMAIN + 5 {
            jar.set(&format!("h{i}"), "v", "example.org", "/").unwrap();
        }
        assert_eq!(jar.list().len(), MAX_COOKIES_PER_DOMAIN);
    }

    #[test]
    fn cookie_header_is_capped() {
        let jar = CookieJar::new();
        let url = u("http://example.com/");
        let value = "x".repeat(100);
        let lines: Vec<String> = (0..150).map(|i| format!("c{i:03}={value}")).collect();
        let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
        jar.store_from_response(&url, &refs);
        let h = jar.header_for(&url).unwrap();
        assert!(h.len() <= MAX_COOKIE_HEADER_LEN && h.len() > MAX_COOKIE_HEADER_LEN - 200, "{}", h.len());
        assert!(h.starts_with("c000="));
    }

    #[test]
    fn max_age_zero_deletes() {
        let url = u("http://example.com/");
        let jar = jar_with("http://example.com/", &["a=1", "b=2"]);
        jar.store_from_response(&url, &["a=gone; Max-Age=0"]);
        assert_eq!(jar.header_for(&url).as_deref(), Some("b=2"));
        jar.store_from_response(&url, &["b=gone; Max-Age=-5"]);
        assert_eq!(jar.header_for(&url), None);
        assert!(jar.list().is_empty());
    }

    #[test]
    fn max_age_wins_over_expires() {
        let url = u("http://example.com/");
        let jar = jar_with("http://example.com/", &["a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=3600"]);
        assert_eq!(jar.header_for(&url).as_deref(), Some("a=1"));
        let exp = jar.list()[0].expires_unix.unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        assert!((now + 3500..=now + 3700).contains(&exp), "{exp} vs {now}");
        jar.store_from_response(&url, &["a=1; Expires=Fri, 01 Jan 2100 00:00:00 GMT; Max-Age=0"]);
        assert_eq!(jar.header_for(&url), None);
    }

    #[test]
    fn expired_expires_is_not_sent_and_deletes() {
        let url = u("http://example.com/");
        let jar = jar_with("http://example.com/", &["old=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT"]);
        assert_eq!(jar.header_for(&url), None);
        jar.store_from_response(&url, &["keep=1; Expires=Fri, 01 Jan 2100 00:00:00 GMT"]);
        assert_eq!(jar.list()[0].expires_unix, Some(4_102_444_800));
        jar.store_from_response(&url, &["keep=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT"]);
        assert_eq!(jar.header_for(&url), None);
        assert!(jar.list().is_empty());
    }

    #[test]
    fn response_cookie_replaces_same_name_domain_path() {
        let url = u("http://example.com/");
        let jar = jar_with("http://example.com/", &["a=1", "a=2"]);
        assert_eq!(jar.header_for(&url).as_deref(), Some("a=2"));
        assert_eq!(jar.list().len(), 1);
    }

    #[test]
    fn malformed_lines_are_ignored() {
        let url = u("http://example.com/");
        let jar = jar_with(
            "http://example.com/",
            &["", "novalue", "=nameless", ";;;", "\u{0}", "a=1; Domain=exa mple.com", "ok=1; Path"],
        );
        assert_eq!(jar.header_for(&url).as_deref(), Some("ok=1"));
        // URL without a host: nothing stored, no panic
        jar.store_from_response(&u("data:text/plain,hi"), &["x=1"]);
        assert_eq!(jar.header_for(&u("data:text/plain,hi")), None);
        assert_eq!(jar.list().len(), 1);
    }

    #[test]
    fn ip_hosts_are_host_only() {
        let jar = jar_with("http://127.0.0.1:8080/", &["a=1"]);
        assert_eq!(jar.header_for(&u("http://127.0.0.1:9999/")).as_deref(), Some("a=1"));
        assert_eq!(jar.header_for(&u("http://127.0.0.2/")), None);
    }

    #[test]
    fn set_with_empty_domain_goes_everywhere() {
        let jar = CookieJar::new();
        jar.set("k", "v", "", "/").unwrap();
        assert_eq!(jar.header_for(&u("http://a.com/")).as_deref(), Some("k=v"));
        assert_eq!(jar.header_for(&u("https://b.org/x")).as_deref(), Some("k=v"));
        jar.set("k", "w", "", "").unwrap(); // "" path = "/", replaces
        assert_eq!(jar.list().len(), 1);
        assert_eq!(jar.get("k", None, None).as_deref(), Some("w"));
        jar.set("p", "1", "", "/only").unwrap();
        assert_eq!(jar.header_for(&u("http://a.com/")).as_deref(), Some("k=w"));
        assert_eq!(jar.header_for(&u("http://a.com/only/x")).as_deref(), Some("p=1; k=w"));
    }

    #[test]
    fn set_with_domain_is_a_domain_cookie() {
        let jar = CookieJar::new();
        jar.set("k", "v", ".Example.com", "/").unwrap();
        assert_eq!(jar.header_for(&u("http://example.com/")).as_deref(), Some("k=v"));
        assert_eq!(jar.header_for(&u("http://www.example.com/")).as_deref(), Some("k=v"));
        assert_eq!(jar.header_for(&u("http://example.org/")), None);
        let info = &jar.list()[0];
        assert_eq!((info.domain.as_str(), info.host_only), ("example.com", false));
        jar.set("ip", "1", "127.0.0.1", "/").unwrap();
        assert_eq!(jar.header_for(&u("http://127.0.0.1/")).as_deref(), Some("ip=1"));
    }

    #[test]
    fn set_rejects_bad_input() {
        let jar = CookieJar::new();
        for (n, v, d, p) in [
            ("", "v", "", "/"),
            ("a;b", "v", "", "/"),
            ("a\r", "v", "", "/"),
            ("a\n", "v", "", "/"),
            ("a\0", "v", "", "/"),
            ("a=b", "v", "", "/"),
            ("a", "x;y", "", "/"),
            ("a", "x\r\ny", "", "/"),
            ("a", "x\0", "", "/"),
            ("a", "v", "exa mple.com", "/"),
            ("a", "v", "", "relative"),
        ] {
            assert!(matches!(jar.set(n, v, d, p), Err(Error::InvalidArgument(_))), "{n:?} {v:?} {d:?} {p:?}");
        }
        assert!(jar.list().is_empty());
    }

    #[test]
    fn get_follows_httpx() {
        let jar = CookieJar::new();
        jar.set("a", "1", "one.com", "/").unwrap();
        jar.set("a", "2", "two.com", "/p").unwrap();
        jar.set("b", "3", "one.com", "/").unwrap();
        assert_eq!(jar.get("b", None, None).as_deref(), Some("3"));
        assert_eq!(jar.get("a", Some("one.com"), None).as_deref(), Some("1"));
        assert_eq!(jar.get("a", Some(".TWO.com"), None).as_deref(), Some("2"));
        assert_eq!(jar.get("a", None, Some("/p")).as_deref(), Some("2"));
        assert_eq!(jar.get("a", Some("one.com"), Some("/p")), None);
        assert_eq!(jar.get("zzz", None, None), None);
        // two different values: conflict
        assert_eq!(jar.get("a", None, None), None);
        assert!(matches!(jar.get_checked("a", None, None), Err(Error::InvalidArgument(_))));
        // same value twice is no conflict
        jar.set("c", "same", "one.com", "/").unwrap();
        jar.set("c", "same", "two.com", "/").unwrap();
        assert_eq!(jar.get_checked("c", None, None).unwrap().as_deref(), Some("same"));
        jar.set("e", "any", "", "/").unwrap();
        assert_eq!(jar.get("e", Some(""), None).as_deref(), Some("any"));
    }

    #[test]
    fn delete_and_clear() {
        let jar = jar_with("http://example.com/", &["a=1", "b=2", "a=3; Path=/x"]);
        jar.set("a", "4", "", "/").unwrap();
        jar.set("a", "5", "other.com", "/").unwrap();
        assert_eq!(jar.delete("a", Some("example.com"), Some("/")), 1);
        assert_eq!(jar.delete("nope", None, None), 0);
        assert_eq!(jar.delete("a", None, None), 3);
        let names: Vec<String> = jar.list().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["b"]);
        jar.clear();
        assert!(jar.list().is_empty());
        assert_eq!(jar.header_for(&u("http://example.com/")), None);
    }

    #[test]
    fn list_is_sorted_and_complete() {
        let jar = jar_with("https://b.com/", &["z=1; Secure; HttpOnly; Max-Age=100", "y=2; Path=/p"]);
        jar.set("x", "3", "a.com", "/").unwrap();
        jar.set("w", "4", "", "/").unwrap();
        let list = jar.list();
        let keys: Vec<(&str, &str, &str)> =
            list.iter().map(|c| (c.domain.as_str(), c.path.as_str(), c.name.as_str())).collect();
        assert_eq!(keys, [("", "/", "w"), ("a.com", "/", "x"), ("b.com", "/", "z"), ("b.com", "/p", "y")]);
        let z = &list[2];
        assert!(z.secure && z.http_only && z.host_only && z.expires_unix.is_some());
        assert_eq!(list[3].expires_unix, None);
    }

    #[test]
    fn merged_with_adds_without_touching_original() {
        let jar = jar_with("http://example.com/", &["a=1"]);
        let merged = jar.merged_with(&[("b".into(), "2".into()), ("bad;".into(), "x".into())]);
        assert_eq!(merged.header_for(&u("http://example.com/")).as_deref(), Some("a=1; b=2"));
        assert_eq!(merged.header_for(&u("http://other.com/")).as_deref(), Some("b=2"));
        assert_eq!(jar.list().len(), 1);
    }

    #[test]
    fn concurrent_use_from_eight_threads() {
        let jar = std::sync::Arc::new(CookieJar::new());
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let jar = jar.clone();
                std::thread::spawn(move || {
                    let url = Url::parse(&format!("http://h{t}.example.com/")).unwrap();
                    for i in 0..150 {
                        let line = format!("c{i}=v{t}");
                        jar.store_from_response(&url, &[line.as_str()]);
                        jar.set(&format!("s{t}"), &i.to_string(), "", "/").unwrap();
                        assert!(jar.header_for(&url).is_some());
                        let _ = jar.get(&format!("c{i}"), None, None);
                        if i % 50 == 0 {
                            let _ = jar.list();
                        }
                    }
                    jar.delete("c0", Some(url.host_str().unwrap()), None)
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), 1);
        }
        // 8 hosts x 149 remaining response cookies (under the per-domain cap) + 8
        // any-host cookies
        assert_eq!(jar.list().len(), 8 * 149 + 8);
        assert_eq!(jar.get("s3", None, None).as_deref(), Some("149"));
    }
}

//! Routing keys for proxies and mounts, as HTTPX's `URLPattern`.
//!
//! A key is `SCHEME://HOST[:PORT]` where every part may be a wildcard:
//!
//! | key                      | matches                                            |
//! |--------------------------|----------------------------------------------------|
//! | `all://`                 | every URL                                          |
//! | `http://`, `https://`    | every URL with that scheme                         |
//! | `all://example.com`      | host `example.com`, any scheme, any port           |
//! | `https://example.com`    | host `example.com` over https                      |
//! | `http://example.com:1234`| that host and port over http                       |
//! | `all://*example.com`     | `example.com` and its subdomains                   |
//! | `all://*.example.com`    | subdomains of `example.com` only                   |
//! | `http://*:1234`          | any host on port 1234 over http                    |
//! | `http://[::1]`           | the IPv6 loopback                                  |
//! | `all://10.0.0.0/8`       | every IPv4 address in 10.0.0.0/8 (beyond HTTPX)    |
//! | `all://[fd00::]/8`       | every IPv6 address in fd00::/8 (beyond HTTPX)      |
//!
//! The short forms `all`, `http` and `https` mean `all://`, `http://` and `https://`.
//! Hosts are compared case-insensitively (IDNA-normalised). A key without a port matches
//! any port; a key with a port matches the URL's effective port, so `http://h:80`
//! matches `http://h/` (HTTPX compares the explicit port only; this is the one deliberate
//! difference).
//!
//! [`Router`] picks the most specific matching key with HTTPX's ordering: a key with a
//! port beats one without, then a longer host beats a shorter one (`*` wildcards count
//! as characters, as in HTTPX), then a longer scheme beats a shorter one (`all` counts
//! as empty). Remaining ties are broken by the key text, so the result never depends on
//! insertion order.

use std::cmp::Ordering;

use url::{Host, Url};

use crate::error::{Error, Result};

/// How a key constrains the host.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostRule {
    /// No host, or `*`.
    Any,
    /// Exactly this host (lowercase ASCII; IPv6 in brackets as `url` prints it).
    Exact(String),
    /// `*.domain`: strict subdomains of `domain`.
    SubdomainsOf(String),
    /// `*domain`: `domain` itself and its subdomains.
    DomainAndSubdomains(String),
    /// `ip/prefix`: every IP address literal in the network (host names never match:
    /// nothing is resolved), as curl reads CIDR items of `NO_PROXY` since 7.86.
    Cidr(std::net::IpAddr, u8),
}

/// A parsed routing key. See the [module docs](self) for the syntax.
#[derive(Debug, Clone)]
pub struct Pattern {
    key: String,
    /// `None` for `all`.
    scheme: Option<String>,
    host: HostRule,
    port: Option<u16>,
}

fn invalid(key: &str, why: &str) -> Error {
    Error::InvalidArgument(format!("invalid routing key {key:?}: {why}"))
}

impl Pattern {
    /// Parse a routing key. Malformed keys (no `://`, a bad scheme, a host with invalid
    /// characters, a path, query, fragment or credentials, a bad port) are
    /// [`Error::InvalidArgument`].
    pub fn parse(key: &str) -> Result<Pattern> {
        let full = match key.to_ascii_lowercase().as_str() {
            "all" | "http" | "https" => format!("{key}://"),
            _ => key.to_owned(),
        };
        let (scheme, rest) = full.split_once("://").ok_or_else(|| invalid(key, "expected SCHEME://[HOST][:PORT]"))?;
        let scheme = parse_scheme(key, scheme)?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if let Some(net) = parse_cidr(authority) {
            return Ok(Pattern { key: key.to_owned(), scheme, host: net, port: None });
        }
        if authority.contains(['/', '?', '#', '@']) {
            return Err(invalid(key, "only SCHEME://HOST[:PORT] is allowed"));
        }
        let (host, port) = split_host_port(key, authority)?;
        if host.is_empty() && !authority.is_empty() {
            return Err(invalid(key, "empty host (use * for any host)"));
        }
        let host = parse_host_rule(key, host)?;
        Ok(Pattern { key: key.to_owned(), scheme, host, port })
    }

    /// Whether `url` falls under this key.
    pub fn matches(&self, url: &Url) -> bool {
        if self.scheme.as_deref().is_some_and(|s| s != url.scheme()) {
            return false;
        }
        if let Some(port) = self.port {
            if url.port_or_known_default() != Some(port) {
                return false;
            }
        }
        let host = url.host_str().unwrap_or("");
        match &self.host {
            HostRule::Any => true,
            HostRule::Exact(h) => host == h,
            HostRule::SubdomainsOf(d) => is_strict_subdomain(host, d),
            HostRule::DomainAndSubdomains(d) => host == d || is_strict_subdomain(host, d),
            HostRule::Cidr(net, bits) => match url.host() {
                Some(Host::Ipv4(a)) => in_network(std::net::IpAddr::V4(a), *net, *bits),
                Some(Host::Ipv6(a)) => in_network(std::net::IpAddr::V6(a), *net, *bits),
                _ => false,
            },
        }
    }

    /// The key exactly as given to [`Pattern::parse`].
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Same scheme, host rule and port (keys that differ only in spelling).
    fn same_target(&self, other: &Pattern) -> bool {
        self.scheme == other.scheme && self.host == other.host && self.port == other.port
    }

    /// HTTPX's host length: the host as written, `*` included, IPv6 without brackets.
    fn host_len(&self) -> usize {
        match &self.host {
            HostRule::Any => 0,
            HostRule::Exact(h) if h.starts_with('[') => h.len() - 2,
            HostRule::Exact(h) => h.len(),
            HostRule::SubdomainsOf(d) => d.len() + 2,
            HostRule::DomainAndSubdomains(d) => d.len() + 1,
            HostRule::Cidr(..) => self.key.split_once("://").map_or(0, |(_, h)| h.trim_end_matches('/').len()),
        }
    }

    /// Most specific first: port given, longer host, longer scheme, then key text.
    fn specificity_cmp(&self, other: &Pattern) -> Ordering {
        other
            .port
            .is_some()
            .cmp(&self.port.is_some())
            .then_with(|| other.host_len().cmp(&self.host_len()))
            .then_with(|| {
                let len = |p: &Pattern| p.scheme.as_deref().map_or(0, str::len);
                len(other).cmp(&len(self))
            })
            .then_with(|| self.key.cmp(&other.key))
    }
}

fn parse_scheme(key: &str, scheme: &str) -> Result<Option<String>> {
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid {
        return Err(invalid(key, "bad scheme"));
    }
    let scheme = scheme.to_ascii_lowercase();
    Ok((scheme != "all").then_some(scheme))
}

/// Split `host[:port]`, with `[v6]` hosts kept in brackets.
fn split_host_port<'a>(key: &str, authority: &'a str) -> Result<(&'a str, Option<u16>)> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']').ok_or_else(|| invalid(key, "unclosed '['"))?;
        let (host, after) = authority.split_at(end + 1);
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or_else(|| invalid(key, "junk after ']'"))?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None | Some("") => None,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().map_err(|_| invalid(key, "port out of range"))?)
        }
        Some(_) => return Err(invalid(key, "bad port")),
    };
    Ok((host, port))
}

fn parse_host_rule(key: &str, host: &str) -> Result<HostRule> {
    if host.is_empty() || host == "*" {
        return Ok(HostRule::Any);
    }
    if let Some(domain) = host.strip_prefix("*.") {
        return Ok(HostRule::SubdomainsOf(parse_domain(key, domain)?));
    }
    if let Some(domain) = host.strip_prefix('*') {
        return Ok(HostRule::DomainAndSubdomains(parse_domain(key, domain)?));
    }
    let parsed = Host::parse(host).map_err(|e| invalid(key, &format!("bad host: {e}")))?;
    Ok(HostRule::Exact(parsed.to_string()))
}

/// A wildcard's domain part must be a DNS name, not an IP address.
fn parse_domain(key: &str, domain: &str) -> Result<String> {
    match Host::parse(domain) {
        Ok(Host::Domain(d)) if !d.is_empty() => Ok(d),
        Ok(_) => Err(invalid(key, "a wildcard needs a domain name")),
        Err(e) => Err(invalid(key, &format!("bad host: {e}"))),
    }
}

/// `10.0.0.0/8` or `[fd00::]/8` (also `fd00::/8`): a network, or `None` when the
/// authority is not of that form.
fn parse_cidr(authority: &str) -> Option<HostRule> {
    let (addr, bits) = authority.split_once('/')?;
    if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) || bits.len() > 3 {
        return None;
    }
    let bits: u8 = bits.parse().ok()?;
    let addr = addr.strip_prefix('[').and_then(|a| a.strip_suffix(']')).unwrap_or(addr);
    let ip: std::net::IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some(HostRule::Cidr(ip, bits))
}

fn in_network(ip: std::net::IpAddr, net: std::net::IpAddr, bits: u8) -> bool {
    use std::net::IpAddr::{V4, V6};
    match (ip, net) {
        (V4(a), V4(n)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits as u32) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (V6(a), V6(n)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits as u32) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        // An IPv4-mapped IPv6 literal is compared as its IPv4 address.
        (V6(a), V4(_)) => a.to_ipv4_mapped().is_some_and(|v4| in_network(V4(v4), net, bits)),
        _ => false,
    }
}

fn is_strict_subdomain(host: &str, domain: &str) -> bool {
    host.len() > domain.len() + 1 && host.ends_with(domain) && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
}

/// Values keyed by routing keys; [`Router::lookup`] returns the most specific match.
#[derive(Debug, Clone)]
pub struct Router<T> {
    /// Kept sorted, most specific first.
    entries: Vec<(Pattern, T)>,
}

impl<T> Default for Router<T> {
    fn default() -> Self {
        Router { entries: Vec::new() }
    }
}

impl<T> Router<T> {
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add `value` under `key`. A key with the same scheme, host and port as an
    /// existing one (e.g. `http` and `http://`, or a different letter case) replaces it.
    pub fn insert(&mut self, key: &str, value: T) -> Result<()> {
        let pattern = Pattern::parse(key)?;
        self.entries.retain(|(p, _)| !p.same_target(&pattern));
        let at = self.entries.partition_point(|(p, _)| p.specificity_cmp(&pattern) == Ordering::Less);
        self.entries.insert(at, (pattern, value));
        Ok(())
    }

    /// The value of the most specific key matching `url`.
    pub fn lookup(&self, url: &Url) -> Option<&T> {
        self.entries.iter().find(|(p, _)| p.matches(url)).map(|(_, v)| v)
    }

    /// True when no key was inserted.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Keys (as given) and values, most specific first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &T)> {
        self.entries.iter().map(|(p, v)| (p.key(), v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn m(key: &str, url: &str) -> bool {
        Pattern::parse(key).unwrap().matches(&u(url))
    }

    #[test]
    fn scheme_only_keys() {
        assert!(m("all://", "http://example.com"));
        assert!(m("all://", "https://example.com:8443/x"));
        assert!(m("https://", "https://example.com"));
        assert!(!m("https://", "http://example.com"));
        assert!(m("http", "http://example.com"));
        assert!(m("all", "https://x.org"));
        assert!(m("HTTPS", "https://x.org"));
        assert!(m("HTTP://", "http://x.org"));
    }

    #[test]
    fn host_keys() {
        assert!(m("https://example.com", "https://example.com/path"));
        assert!(!m("https://example.com", "http://example.com"));
        assert!(!m("https://example.com", "https://other.com"));
        assert!(!m("https://example.com", "https://www.example.com"));
        assert!(m("all://example.com", "http://example.com"));
        assert!(m("all://Example.COM/", "https://EXAMPLE.com"));
        assert!(m("all://example.com", "http://example.com:9999"));
        assert!(m("all://bücher.de", "http://xn--bcher-kva.de/"));
    }

    #[test]
    fn wildcard_hosts() {
        assert!(m("all://*example.com", "http://example.com"));
        assert!(m("all://*example.com", "http://www.example.com"));
        assert!(m("all://*example.com", "http://a.b.example.com"));
        assert!(!m("all://*example.com", "http://wwwexample.com"));
        assert!(!m("all://*example.com", "http://example.com.evil"));
        assert!(!m("all://*.example.com", "http://example.com"));
        assert!(m("all://*.example.com", "http://www.example.com"));
        assert!(!m("all://*.example.com", "http://wwwexample.com"));
        assert!(m("all://*", "http://anything"));
    }

    #[test]
    fn port_keys() {
        assert!(m("http://example.com:1234", "http://example.com:1234"));
        assert!(!m("http://example.com:1234", "http://example.com"));
        assert!(!m("http://example.com:1234", "http://example.com:4321"));
        assert!(m("http://*:1234", "http://any.host:1234/"));
        assert!(!m("http://*:1234", "https://any.host:1234/"));
        assert!(m("all://*:1234", "https://any.host:1234/"));
        // effective port
        assert!(m("https://example.com:443", "https://example.com/"));
        assert!(!m("https://example.com:443", "https://example.com:8443/"));
    }

    #[test]
    fn ip_keys() {
        assert!(m("http://[::1]", "http://[::1]:8080/"));
        assert!(m("http://[0:0::1]:8080", "http://[::1]:8080/"));
        assert!(!m("http://[::1]", "http://127.0.0.1/"));
        assert!(m("all://127.0.0.1", "https://127.0.0.1:1/"));
        assert!(!m("all://127.0.0.1", "https://127.0.0.10/"));
    }

    #[test]
    fn cidr_keys() {
        assert!(m("all://10.0.0.0/8", "http://10.200.3.4:8080/"));
        assert!(!m("all://10.0.0.0/8", "http://11.0.0.1/"));
        assert!(!m("all://10.0.0.0/8", "http://10.example/"));
        assert!(m("all://192.168.1.0/24", "https://192.168.1.255/"));
        assert!(!m("all://192.168.1.0/24", "https://192.168.2.1/"));
        assert!(m("all://[fd00::]/8", "http://[fd12:3456::1]/"));
        assert!(m("all://fd00::/8", "http://[fdff::1]/"));
        assert!(!m("all://[fd00::]/8", "http://[fe80::1]/"));
        assert!(m("all://0.0.0.0/0", "http://1.2.3.4/"));
        assert!(m("http://127.0.0.1/32", "http://127.0.0.1/"));
        assert!(!m("https://127.0.0.0/8", "http://127.0.0.1/"));
        assert!(Pattern::parse("all://10.0.0.0/33").is_err());
        assert!(Pattern::parse("all://example.com/8").is_err());
    }

    #[test]
    fn bad_keys() {
        for key in [
            "ftp:/x",
            "://",
            "",
            "http://exa mple.com",
            "1http://",
            "ht tp://",
            "http:",
            "http://example.com/path",
            "http://user@example.com",
            "http://example.com?q",
            "http://example.com:99999",
            "http://example.com:12ab",
            "http://[::1",
            "http://[::1]x",
            "all://*.127.0.0.1",
            "all://*.",
            "http://:1234",
            "example.com",
        ] {
            assert!(matches!(Pattern::parse(key), Err(Error::InvalidArgument(_))), "{key:?} should be rejected");
        }
    }

    #[test]
    fn key_is_kept_verbatim() {
        assert_eq!(Pattern::parse("HTTP://Example.com").unwrap().key(), "HTTP://Example.com");
    }

    #[test]
    fn seed_example_priority() {
        let mut r = Router::new();
        r.insert("all", "all").unwrap();
        r.insert("http", "http").unwrap();
        r.insert("all://example.com", "all-example").unwrap();
        r.insert("http://example.com", "http-example").unwrap();
        assert_eq!(r.lookup(&u("http://example.com/")), Some(&"http-example"));
        assert_eq!(r.lookup(&u("https://example.com/")), Some(&"all-example"));
        assert_eq!(r.lookup(&u("http://other.com/")), Some(&"http"));
        assert_eq!(r.lookup(&u("https://other.com/")), Some(&"all"));
        let keys: Vec<&str> = r.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["http://example.com", "all://example.com", "http", "all"]);
    }

    #[test]
    fn ordering_is_independent_of_insertion_order() {
        let keys = [
            "all://",
            "http://",
            "https://",
            "all://example.com",
            "https://example.com",
            "http://example.com:1234",
            "all://*example.com",
            "all://*.example.com",
            "http://*:1234",
            "all://www.example.com",
        ];
        let urls = [
            "http://example.com/",
            "https://example.com/",
            "http://example.com:1234/",
            "http://other.com:1234/",
            "https://other.com:1234/",
            "http://www.example.com/",
            "https://api.example.com/",
            "http://nothing.org/",
            "ftp://nothing.org/",
        ];
        let build = |order: &[usize]| {
            let mut r = Router::new();
            for &i in order {
                r.insert(keys[i], keys[i]).unwrap();
            }
            r
        };
        let forward: Vec<usize> = (0..keys.len()).collect();
        let backward: Vec<usize> = (0..keys.len()).rev().collect();
        let shuffled = [3, 7, 0, 9, 5, 1, 8, 2, 6, 4];
        let a = build(&forward);
        let b = build(&backward);
        let c = build(&shuffled);
        for url in urls {
            let url = u(url);
            assert_eq!(a.lookup(&url), b.lookup(&url), "{url}");
            assert_eq!(a.lookup(&url), c.lookup(&url), "{url}");
        }
        let expect = |url: &str| *a.lookup(&u(url)).unwrap();
        assert_eq!(expect("http://example.com:1234/"), "http://example.com:1234");
        assert_eq!(expect("http://other.com:1234/"), "http://*:1234");
        assert_eq!(expect("https://other.com:1234/"), "https://");
        // As in HTTPX, "*example.com" is a longer host than "example.com" and wins.
        assert_eq!(expect("https://example.com/"), "all://*example.com");
        assert_eq!(expect("http://example.com/"), "all://*example.com");
        assert_eq!(expect("http://www.example.com/"), "all://www.example.com");
        assert_eq!(expect("https://api.example.com/"), "all://*.example.com");
        assert_eq!(expect("http://nothing.org/"), "http://");
        assert_eq!(expect("ftp://nothing.org/"), "all://");
        let ka: Vec<&str> = a.iter().map(|(k, _)| k).collect();
        let kc: Vec<&str> = c.iter().map(|(k, _)| k).collect();
        assert_eq!(ka, kc);
    }

    #[test]
    fn longer_host_beats_longer_scheme() {
        let mut r = Router::new();
        r.insert("https://example.com", "https-host").unwrap();
        r.insert("all://www.example.com", "all-www").unwrap();
        r.insert("https://", "https").unwrap();
        assert_eq!(r.lookup(&u("https://example.com/")), Some(&"https-host"));
        assert_eq!(r.lookup(&u("https://www.example.com/")), Some(&"all-www"));
        assert_eq!(r.lookup(&u("https://x.example.com/")), Some(&"https"));
    }

    #[test]
    fn same_key_replaces() {
        let mut r = Router::new();
        assert!(r.is_empty());
        r.insert("http://", 1).unwrap();
        r.insert("http", 2).unwrap();
        r.insert("HTTP://", 3).unwrap();
        r.insert("all://example.com", 4).unwrap();
        r.insert("all://EXAMPLE.com/", 5).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r.lookup(&u("http://x/")), Some(&3));
        assert_eq!(r.lookup(&u("http://example.com/")), Some(&5));
        assert!(r.insert("nope", 6).is_err());
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn no_match_is_none() {
        let mut r = Router::new();
        r.insert("https://example.com", ()).unwrap();
        assert_eq!(r.lookup(&u("http://example.com/")), None);
        assert_eq!(Router::<()>::new().lookup(&u("http://example.com/")), None);
    }
}

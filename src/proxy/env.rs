//! Proxy settings from the environment (used when `trust_env` is on), as HTTPX's
//! `get_environment_proxies` on top of `urllib.request.getproxies_environment`.
//!
//! Variables read: `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY` and their
//! lowercase forms (mixed-case spellings such as `Http_Proxy` are not looked up,
//! because the environment is read through a getter, not enumerated). As in urllib:
//! - a non-empty lowercase variable wins over the uppercase one, and an *empty*
//!   lowercase variable cancels the uppercase one;
//! - when `REQUEST_METHOD` is set (a CGI script), uppercase `HTTP_PROXY` is ignored
//!   (CVE-2016-1000110); lowercase `http_proxy` still counts.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;

use crate::routing::Pattern;

/// Routing keys and proxy URLs from the environment, in this order: `http://`,
/// `https://`, `all://` (each present only when its variable is set), then one entry
/// per `NO_PROXY` item with `None` ("connect directly"). Keys are unique; a repeated
/// key keeps its first position and its last value (Python dict semantics).
///
/// - A proxy URL without `://` gets `http://` prepended; others are kept verbatim.
/// - `NO_PROXY` items are trimmed; empty ones are ignored. If any item is `*`, the
///   result is **empty**: no proxy at all is taken from the environment (HTTPX returns
///   an empty mapping there too).
/// - `NO_PROXY` items map to routing keys ([`crate::routing`]) as in HTTPX:
///   `example.com` → `all://*example.com` (the domain and its subdomains),
///   `.example.com` → `all://*.example.com` (subdomains only; `*.example.com` is read
///   the same way), `localhost` → `all://localhost`, `1.2.3.4` → `all://1.2.3.4`,
///   `::1` or `[::1]` → `all://[::1]`, and an item containing `://` is used as the key
///   itself. `host:port` keeps the port (`all://*example.com:8080`, `all://1.2.3.4:80`).
/// - CIDR items (`10.0.0.0/8`, `fd00::/8`, `[fd00::]/8`) become network keys
///   (`all://10.0.0.0/8`, `all://[fd00::]/8`) that match every IP address literal in
///   the range, as curl does since 7.86 (beyond HTTPX 0.28.1, whose key is
///   `all://10.0.0.0/8` parsed as host `10.0.0.0` with path `/8`: it matches the network
///   address alone; established from HTTPX's `get_environment_proxies` source).
///   Host names are never resolved to test them.
/// - Items that still do not form a valid routing key are skipped.
pub fn proxies_from_env(get: &dyn Fn(&str) -> Option<String>) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let mut put = |key: String, value: Option<String>| match out.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 = value,
        None => out.push((key, value)),
    };

    let cgi = get("REQUEST_METHOD").is_some();
    for (i, key) in ["http://", "https://", "all://"].into_iter().enumerate() {
        let (upper, lower) = SCHEME_VARS[i];
        if let Some(url) = env_proxy_var(get, upper, lower, cgi && i == 0) {
            let url = if url.contains("://") { url } else { format!("http://{url}") };
            put(key.to_owned(), Some(url));
        }
    }

    let no_proxy = env_proxy_var(get, "NO_PROXY", "no_proxy", false).unwrap_or_default();
    for item in no_proxy.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if item == "*" {
            return Vec::new();
        }
        let key = no_proxy_key(item);
        if Pattern::parse(&key).is_ok() {
            put(key, None);
        }
    }
    out
}

/// `(<NAME>_PROXY, <name>_proxy)` of `http://`, `https://`, `all://`, in that order.
const SCHEME_VARS: [(&str, &str); 3] =
    [("HTTP_PROXY", "http_proxy"), ("HTTPS_PROXY", "https_proxy"), ("ALL_PROXY", "all_proxy")];

/// Every variable [`proxies_from_env`] may read.
const VARS: [&str; 9] = [
    "REQUEST_METHOD",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// The raw values of [`VARS`] at one moment.
type RawVars = [Option<std::ffi::OsString>; 9];

/// The last raw values read by [`proxies_from_process_env`] and what they gave.
type Cached = Option<(RawVars, Vec<(String, Option<String>)>)>;
static LAST: Mutex<Cached> = Mutex::new(None);

/// [`proxies_from_env`] over the process environment, read now (each client reads it
/// when it is created, so a changed variable is seen by the next client, as in HTTPX).
/// Cheap when nothing changed: eight `getenv` without allocation when no variable is
/// set (the usual case: the result is empty), and otherwise one comparison with the
/// raw values of the last call, whose result is cached per process.
pub fn proxies_from_process_env() -> Vec<(String, Option<String>)> {
    let mut raw: RawVars = Default::default();
    for (slot, name) in raw.iter_mut().zip(VARS).skip(1) {
        *slot = std::env::var_os(name);
    }
    // REQUEST_METHOD only changes what an uppercase HTTP_PROXY means: not read (one
    // `getenv`, a walk of the whole environment) without one.
    if raw[1].is_some() {
        raw[0] = std::env::var_os(VARS[0]);
    }
    if raw.iter().all(Option::is_none) {
        return Vec::new();
    }
    if let Ok(last) = LAST.lock() {
        if let Some((k, v)) = last.as_ref() {
            if *k == raw {
                return v.clone();
            }
        }
    }
    // `std::env::var(..).ok()`: a value that is not UTF-8 counts as unset.
    let get = |name: &str| {
        let i = VARS.iter().position(|v| *v == name)?;
        raw[i].as_ref()?.to_str().map(str::to_owned)
    };
    let out = proxies_from_env(&get);
    if let Ok(mut last) = LAST.lock() {
        *last = Some((raw, out.clone()));
    }
    out
}

/// urllib's two-pass rule for `<NAME>_PROXY` / `<name>_proxy`.
fn env_proxy_var(get: &dyn Fn(&str) -> Option<String>, upper: &str, lower: &str, ignore_upper: bool) -> Option<String> {
    match get(lower) {
        Some(lower) if lower.is_empty() => None,
        Some(lower) => Some(lower),
        None if ignore_upper => None,
        None => get(upper).filter(|v| !v.is_empty()),
    }
}

/// The routing key for one `NO_PROXY` item (not yet validated).
fn no_proxy_key(item: &str) -> String {
    if item.contains("://") {
        return item.to_owned();
    }
    // IP networks (CIDR), then IP addresses, optionally with a port.
    if let Some((addr, bits)) = item.split_once('/') {
        let unbracketed = addr.strip_prefix('[').and_then(|a| a.strip_suffix(']')).unwrap_or(addr);
        if let Ok(v4) = unbracketed.parse::<Ipv4Addr>() {
            return format!("all://{v4}/{bits}");
        }
        if let Ok(v6) = unbracketed.parse::<Ipv6Addr>() {
            return format!("all://[{v6}]/{bits}");
        }
    }
    let addr = item.split('/').next().unwrap_or(item);
    if let Ok(v4) = addr.parse::<Ipv4Addr>() {
        return format!("all://{v4}");
    }
    let unbracketed = addr.strip_prefix('[').and_then(|a| a.strip_suffix(']')).unwrap_or(addr);
    if let Ok(v6) = unbracketed.parse::<Ipv6Addr>() {
        return format!("all://[{v6}]");
    }
    if let Some((host, port)) = item.rsplit_once(':') {
        if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
            let host_v6 = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
            if let Ok(v4) = host.parse::<Ipv4Addr>() {
                return format!("all://{v4}:{port}");
            }
            if let Some(Ok(v6)) = host_v6.map(str::parse::<Ipv6Addr>) {
                return format!("all://[{v6}]:{port}");
            }
        }
    }
    if item.eq_ignore_ascii_case("localhost") {
        return format!("all://{item}");
    }
    // "*.example.com" reads as ".example.com"; then "*" + item as in HTTPX.
    let item = item.strip_prefix('*').filter(|rest| rest.starts_with('.')).unwrap_or(item);
    format!("all://*{item}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::Router;
    use std::collections::HashMap;

    fn run(vars: &[(&str, &str)]) -> Vec<(String, Option<String>)> {
        let env: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        proxies_from_env(&move |name: &str| env.get(name).cloned())
    }

    fn some(k: &str, v: &str) -> (String, Option<String>) {
        (k.to_owned(), Some(v.to_owned()))
    }

    fn none(k: &str) -> (String, Option<String>) {
        (k.to_owned(), None)
    }

    #[test]
    fn empty_environment() {
        assert!(run(&[]).is_empty());
        assert!(run(&[("HTTP_PROXY", ""), ("NO_PROXY", " , ,")]).is_empty());
    }

    #[test]
    fn scheme_variables() {
        assert_eq!(
            run(&[
                ("ALL_PROXY", "socks5://s:1080"),
                ("HTTPS_PROXY", "https://secure:443"),
                ("HTTP_PROXY", "proxy.local:3128"),
            ]),
            [
                some("http://", "http://proxy.local:3128"),
                some("https://", "https://secure:443"),
                some("all://", "socks5://s:1080"),
            ]
        );
    }

    #[test]
    fn lowercase_wins_and_empty_lowercase_cancels() {
        assert_eq!(
            run(&[("HTTP_PROXY", "http://upper:1"), ("http_proxy", "http://lower:2")]),
            [some("http://", "http://lower:2")]
        );
        assert!(run(&[("HTTP_PROXY", "http://upper:1"), ("http_proxy", "")]).is_empty());
        assert_eq!(
            run(&[("HTTPS_PROXY", "http://upper:1"), ("https_proxy", "")]),
            Vec::<(String, Option<String>)>::new()
        );
        assert_eq!(run(&[("all_proxy", "p:9")]), [some("all://", "http://p:9")]);
    }

    #[test]
    fn cgi_ignores_uppercase_http_proxy() {
        assert!(run(&[("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "http://evil:1")]).is_empty());
        assert_eq!(run(&[("REQUEST_METHOD", "GET"), ("http_proxy", "http://ok:1")]), [some("http://", "http://ok:1")]);
        assert_eq!(
            run(&[("REQUEST_METHOD", "GET"), ("HTTPS_PROXY", "http://ok:1")]),
            [some("https://", "http://ok:1")]
        );
    }

    #[test]
    fn no_proxy_star_disables_everything() {
        assert!(run(&[("HTTP_PROXY", "http://p:1"), ("NO_PROXY", "example.com, *")]).is_empty());
        assert!(run(&[("ALL_PROXY", "http://p:1"), ("no_proxy", "*")]).is_empty());
    }

    #[test]
    fn no_proxy_items() {
        let got = run(&[
            ("HTTP_PROXY", "http://p:1"),
            (
                "NO_PROXY",
                " example.com ,.sub.org,*.star.net,localhost,127.0.0.1,::1,[fe80::1],\
                 192.168.0.0/16,fd00::/8,http://exact.io,internal:8080,10.0.0.1:81,,bad host",
            ),
        ]);
        assert_eq!(
            got,
            [
                some("http://", "http://p:1"),
                none("all://*example.com"),
                none("all://*.sub.org"),
                none("all://*.star.net"),
                none("all://localhost"),
                none("all://127.0.0.1"),
                none("all://[::1]"),
                none("all://[fe80::1]"),
                none("all://192.168.0.0/16"),
                none("all://[fd00::]/8"),
                none("http://exact.io"),
                none("all://*internal:8080"),
                none("all://10.0.0.1:81"),
            ]
        );
    }

    #[test]
    fn lowercase_no_proxy_wins() {
        assert_eq!(run(&[("NO_PROXY", "a.com"), ("no_proxy", "b.com")]), [none("all://*b.com")]);
    }

    #[test]
    fn repeated_key_keeps_position_and_last_value() {
        assert_eq!(
            run(&[("HTTP_PROXY", "http://p:1"), ("HTTPS_PROXY", "http://q:2"), ("NO_PROXY", "http://,a.com,a.com")]),
            [none("http://"), some("https://", "http://q:2"), none("all://*a.com")]
        );
    }

    #[test]
    fn every_key_loads_into_a_router() {
        let got = run(&[
            ("HTTPS_PROXY", "http://p:1"),
            ("NO_PROXY", "example.com,.internal,localhost,::1,10.1.2.3,192.168.0.0/16,fd00::/8"),
        ]);
        let mut router = Router::new();
        for (k, v) in got {
            router.insert(&k, v).unwrap();
        }
        let direct = |u: &str| router.lookup(&url::Url::parse(u).unwrap()).cloned().flatten();
        assert_eq!(direct("https://far.away/"), Some("http://p:1".to_owned()));
        assert_eq!(direct("https://example.com/"), None);
        assert_eq!(direct("https://www.example.com/"), None);
        assert_eq!(direct("https://a.internal/"), None);
        assert_eq!(direct("https://localhost:8443/"), None);
        assert_eq!(direct("https://[::1]/"), None);
        assert_eq!(direct("https://10.1.2.3/"), None);
        assert_eq!(direct("https://notexample.com/"), Some("http://p:1".to_owned()));
        assert_eq!(direct("https://192.168.77.1/"), None);
        assert_eq!(direct("https://192.169.0.1/"), Some("http://p:1".to_owned()));
        assert_eq!(direct("https://[fd01::2]:8443/"), None);
        assert_eq!(direct("https://[fe80::2]/"), Some("http://p:1".to_owned()));
    }
}

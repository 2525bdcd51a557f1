//! Proxies against a second set of real servers: Dante's `danted` (SOCKS4 and SOCKS5)
//! and squid (HTTP forwarding and CONNECT), next to tinyproxy/microsocks in
//! tests/proxy.rs. Each test starts its own daemon (tests/common `ExtProxy`), so the
//! logs it reads are its own.
//!
//! Run: `RUST_TEST_THREADS=2 cargo test --test proxy_real`

mod common;

use std::time::Duration;

use common::*;
use httpx::config::{ProxyMode, ProxySpec};
use httpx::error::code;
use httpx::tls::Trust;
use httpx::{Client, ClientConfig};

fn via(specs: Vec<(String, Option<String>, ProxyMode)>) -> Client {
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    k.set_trust(Trust::CaFile(certs().ca_pem.clone()));
    k.set_proxies(specs.into_iter().map(|(key, url, mode)| ProxySpec { key, url, mode }).collect()).unwrap();
    Client::new(&k).unwrap()
}

fn all(url: String, mode: ProxyMode) -> Client {
    via(vec![("all://".into(), Some(url), mode)])
}

/// nginx's HTTPS URL by IP (SOCKS4 carries IPv4 addresses only; the certificate
/// names 127.0.0.1 too).
fn https_ip(n: &Nginx, path: &str) -> String {
    n.https_url(path).replace("localhost", "127.0.0.1")
}

fn get(c: &Client, url: &str) -> httpx::Result<(u16, Vec<u8>)> {
    let mut r = c.send(&c.build_request("GET", url)?)?;
    let b = r.body()?.to_vec();
    Ok((r.status, b))
}

/// SOCKS4 (IPv4 target) through Dante, for plain HTTP and for TLS inside the tunnel.
/// curl 7.88 `--socks4 127.0.0.1:PORT` against the same danted config gives 200 too.
#[test]
fn socks4_through_dante() {
    let (n, d) = (nginx(), ExtProxy::danted());
    let c = all(d.url("socks4"), ProxyMode::Default);
    let t = tag();
    let (s, b) = get(&c, &n.url(&format!("/?{t}=socks4"))).unwrap();
    assert_eq!((s, b.as_slice()), (200, HELLO.as_bytes()));
    let (s, b) = get(&c, &https_ip(n, &format!("/?{t}=socks4-tls"))).unwrap();
    assert_eq!((s, b.as_slice()), (200, HELLO.as_bytes()));
    // nginx saw both requests, and Dante logged the CONNECTs it passed.
    let seen = n.wait_for_log(Duration::from_secs(2), |l| l.iter().filter(|x| x.uri.contains(&t)).count() >= 2);
    assert_eq!(seen.iter().filter(|x| x.uri.contains(&t)).count(), 2);
    let log = d.log_text(Some("pass"), Duration::from_secs(2));
    assert!(log.contains("pass(1): tcp/connect"), "{log}");
    // socks4:// resolves a host name here and sends the address (as curl's socks4://):
    // https://localhost works through Dante.
    assert_eq!(get(&c, &n.https_url("/")).unwrap().0, 200);
    // socks4a:// with an IPv4 target sends plain SOCKS4 (no host name), which Dante takes.
    let c = all(d.url("socks4a"), ProxyMode::Default);
    assert_eq!(get(&c, &n.url("/")).unwrap().0, 200);
}

/// SOCKS4a with a host name: Dante does not implement the 4a extension and refuses
/// (reply 91); the error is a clean `PROXY`. curl 7.88 `--socks4a` fails against the
/// same Dante too (run by hand: no response, danted logs a connect to 0.0.0.1, i.e.
/// it read the 4a marker address literally). SOCKS4a name resolution is
/// covered against a recording fake server in tests/proxy.rs.
#[test]
fn socks4a_host_name_refused_by_dante() {
    let (n, d) = (nginx(), ExtProxy::danted());
    let c = all(d.url("socks4a"), ProxyMode::Default);
    let url = n.url("/").replace("127.0.0.1", "localhost");
    let e = get(&c, &url).unwrap_err();
    assert_eq!(e.code(), code::PROXY, "{e}");
    assert!(e.to_string().contains("rejected"), "{e}");
}

/// SOCKS5 against Dante as well (IP target: Dante's rules allow only 127.0.0.0/8).
#[test]
fn socks5_through_dante() {
    let (n, d) = (nginx(), ExtProxy::danted());
    let c = all(d.url("socks5"), ProxyMode::Default);
    assert_eq!(get(&c, &n.url("/")).unwrap(), (200, HELLO.as_bytes().to_vec()));
    assert_eq!(get(&c, &https_ip(n, "/")).unwrap(), (200, HELLO.as_bytes().to_vec()));
}

/// squid: http:// targets are forwarded (absolute-form request line), https:// ones
/// tunnelled with CONNECT (HTTPX's default proxy mode), as its access.log shows.
#[test]
fn squid_forwards_http_and_tunnels_https() {
    let (n, s) = (nginx(), ExtProxy::squid());
    let c = all(s.url("http"), ProxyMode::Default);
    let t = tag();
    let (st, b) = get(&c, &n.url(&format!("/?{t}=fwd"))).unwrap();
    assert_eq!((st, b.as_slice()), (200, HELLO.as_bytes()));
    let (st, b) = get(&c, &https_ip(n, &format!("/?{t}=tls"))).unwrap();
    assert_eq!((st, b.as_slice()), (200, HELLO.as_bytes()));
    // Connections through squid are pooled: a second request reuses the tunnel.
    assert_eq!(get(&c, &https_ip(n, "/")).unwrap().0, 200);
    assert_eq!(c.pool_stats().0, 2, "one forwarding and one tunnel connection");
    c.close(); // squid logs a CONNECT when the tunnel ends
    let log = s.log_text(Some("CONNECT"), Duration::from_secs(3));
    let fwd = format!("GET http://127.0.0.1:{}/?{t}=fwd", n.http_port);
    assert!(log.contains(&fwd), "no {fwd:?} in\n{log}");
    let connect = format!("CONNECT 127.0.0.1:{}", n.https_port);
    assert!(log.contains(&connect), "no {connect:?} in\n{log}");
    assert!(!log.contains(&format!("{t}=tls")), "the https URL must not be visible to the proxy:\n{log}");
}

/// Proxy mode TUNNEL_ONLY against squid: an http:// target goes through CONNECT too,
/// so the proxy never sees the request line.
#[test]
fn squid_proxy_modes() {
    let (n, s) = (nginx(), ExtProxy::squid());
    let t = tag();
    let c = all(s.url("http"), ProxyMode::TunnelOnly);
    assert_eq!(get(&c, &n.url(&format!("/?{t}=tun"))).unwrap().0, 200);
    c.close();
    let log = s.log_text(Some("CONNECT"), Duration::from_secs(3));
    assert!(log.contains(&format!("CONNECT 127.0.0.1:{}", n.http_port)), "{log}");
    assert!(!log.contains(&format!("{t}=tun")), "{log}");
}

/// Proxy credentials are sent to squid (Proxy-Authorization); squid without auth
/// configured ignores them and the request succeeds.
#[test]
fn squid_with_credentials_in_the_url() {
    let (n, s) = (nginx(), ExtProxy::squid());
    let c = all(format!("http://user:passwd@127.0.0.1:{}", s.port), ProxyMode::Default);
    assert_eq!(get(&c, &n.url("/")).unwrap().0, 200);
    assert_eq!(get(&c, &n.https_url("/")).unwrap().0, 200);
}

/// NO_PROXY CIDR items (read the way `trust_env` reads them) send matching addresses
/// directly and everything else through squid: 127.0.0.0/8 covers 127.0.0.1, while
/// 10.0.0.0/8 does not (curl >= 7.86 matches CIDR items the same way; HTTPX 0.28.1
/// turns `127.0.0.0/8` into the key `all://127.0.0.0/8`, which matches no request:
/// established from its `get_environment_proxies` source).
#[test]
fn no_proxy_cidr_with_squid() {
    let (n, s) = (nginx(), ExtProxy::squid());
    let env = |no_proxy: &'static str, proxy: String| {
        move |k: &str| match k {
            "HTTP_PROXY" => Some(proxy.clone()),
            "NO_PROXY" => Some(no_proxy.to_string()),
            _ => None,
        }
    };
    let specs = |no_proxy: &'static str| {
        httpx::proxy::env::proxies_from_env(&env(no_proxy, s.url("http")))
            .into_iter()
            .map(|(k, u)| (k, u, ProxyMode::Default))
            .collect::<Vec<_>>()
    };
    let t = tag();
    let direct = via(specs("127.0.0.0/8"));
    assert_eq!(get(&direct, &n.url(&format!("/?{t}=direct"))).unwrap().0, 200);
    let proxied = via(specs("10.0.0.0/8, fd00::/8"));
    assert_eq!(get(&proxied, &n.url(&format!("/?{t}=proxied"))).unwrap().0, 200);
    let log = s.log_text(Some(&format!("{t}=proxied")), Duration::from_secs(3));
    assert!(log.contains(&format!("{t}=proxied")), "{log}");
    assert!(!log.contains(&format!("{t}=direct")), "127.0.0.0/8 must bypass the proxy:\n{log}");
}

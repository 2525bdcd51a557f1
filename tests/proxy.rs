//! Proxies against real tinyproxy (HTTP forward + CONNECT) and microsocks (SOCKS5),
//! routing keys and modes, plus a recording fake proxy for what those can't show.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use httpx::config::{ProxyMode, ProxySpec};
use httpx::error::code;
use httpx::tls::Trust;
use httpx::{Client, ClientConfig};

fn via(proxies: &[(&str, Option<String>, ProxyMode)]) -> Client {
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    k.set_trust(Trust::CaFile(certs().ca_pem.clone()));
    k.set_proxies(
        proxies
            .iter()
            .map(|(key, url, mode)| ProxySpec { key: key.to_string(), url: url.clone(), mode: *mode })
            .collect(),
    )
    .unwrap();
    Client::new(&k).unwrap()
}

fn get(c: &Client, url: &str) -> httpx::Result<(u16, Vec<u8>)> {
    let mut r = c.send(&c.build_request("GET", url)?)?;
    let b = r.body()?.to_vec();
    Ok((r.status, b))
}

#[test]
fn http_forwarding_and_https_tunnel_through_tinyproxy() {
    let (n, p) = (nginx(), tinyproxy());
    let c = via(&[("all://", Some(p.url()), ProxyMode::Default)]);
    let (s, b) = get(&c, &n.url("/?via=forward")).unwrap();
    assert_eq!((s, b.as_slice()), (200, HELLO.as_bytes()));
    let (s, b) = get(&c, &n.https_url("/?via=tunnel")).unwrap();
    assert_eq!((s, b.as_slice()), (200, HELLO.as_bytes()));
    let log = p.logs();
    assert!(log.contains("via=forward"), "{log}");
    assert!(log.contains("CONNECT"), "{log}");
}

#[test]
fn proxy_credentials_and_407() {
    let (n, p) = (nginx(), tinyproxy_auth());
    let c = via(&[("all://", Some(p.url_with_auth()), ProxyMode::Default)]);
    assert_eq!(get(&c, &n.url("/")).unwrap().0, 200);
    assert_eq!(get(&c, &n.https_url("/")).unwrap().0, 200);
    let c = via(&[("all://", Some(p.url()), ProxyMode::Default)]);
    let (s, _) = get(&c, &n.url("/")).unwrap();
    assert!(s == 407 || s == 401, "forwarded request without credentials: {s}");
    let e = get(&c, &n.https_url("/")).unwrap_err();
    assert_eq!(e.code(), code::PROXY, "{e}");
}

#[test]
fn socks5_and_socks5h_through_microsocks() {
    let n = nginx();
    for p in [microsocks(), microsocks_auth()] {
        let base = if p.auth.is_some() { p.url_with_auth() } else { p.url() };
        for scheme in ["socks5", "socks5h"] {
            let url = base.replacen("socks5", scheme, 1);
            let c = via(&[("all://", Some(url), ProxyMode::Default)]);
            assert_eq!(get(&c, &n.url("/")).unwrap().1, HELLO.as_bytes());
            assert_eq!(get(&c, &n.https_url("/")).unwrap().1, HELLO.as_bytes());
        }
    }
    let bad = microsocks_auth().url().replacen("socks5://", "socks5://user:wrong@", 1);
    let c = via(&[("all://", Some(bad), ProxyMode::Default)]);
    assert_eq!(get(&c, &n.url("/")).unwrap_err().code(), code::PROXY);
}

/// A fake HTTP proxy that records request lines and answers itself.
fn recording_proxy() -> (FaultServer, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let srv = FaultServer::start(move |mut s| {
        if let Some(head) = read_request_head(&mut s) {
            let line = String::from_utf8_lossy(&head).lines().next().unwrap_or("").to_string();
            s2.lock().unwrap().push(line.clone());
            let body = if line.starts_with("CONNECT") { b"no tunnels here".to_vec() } else { b"from-proxy".to_vec() };
            let status = if line.starts_with("CONNECT") { 403 } else { 200 };
            let _ = s.write_all(&http_response(status, &[], &body));
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    });
    (srv, seen)
}

#[test]
fn modes_forward_only_and_tunnel_only() {
    let (fake, seen) = recording_proxy();
    let url = format!("http://127.0.0.1:{}", fake.port);
    // FORWARD_ONLY sends even https requests in absolute form to the proxy.
    let c = via(&[("all://", Some(url.clone()), ProxyMode::ForwardOnly)]);
    assert_eq!(get(&c, "https://example.test/x").unwrap().1, b"from-proxy");
    // TUNNEL_ONLY opens a CONNECT tunnel even for http.
    let c = via(&[("all://", Some(url.clone()), ProxyMode::TunnelOnly)]);
    assert_eq!(get(&c, "http://example.test/y").unwrap_err().code(), code::PROXY);
    let lines = seen.lock().unwrap().clone();
    assert_eq!(lines[0], "GET https://example.test/x HTTP/1.1");
    assert_eq!(lines[1], "CONNECT example.test:80 HTTP/1.1");
}

#[test]
fn routing_keys_pick_the_most_specific_proxy() {
    let n = nginx();
    let (a, seen_a) = recording_proxy();
    let (b, seen_b) = recording_proxy();
    let c = via(&[
        ("all://", Some(format!("http://127.0.0.1:{}", a.port)), ProxyMode::Default),
        ("http://example.test", Some(format!("http://127.0.0.1:{}", b.port)), ProxyMode::Default),
        (&format!("http://127.0.0.1:{}", n.http_port), None, ProxyMode::Default),
    ]);
    get(&c, "http://other.test/1").unwrap();
    get(&c, "http://example.test/2").unwrap();
    // No proxy for nginx's origin: goes direct.
    assert_eq!(get(&c, &n.url("/")).unwrap().1, HELLO.as_bytes());
    assert_eq!(seen_a.lock().unwrap().clone(), vec!["GET http://other.test/1 HTTP/1.1"]);
    assert_eq!(seen_b.lock().unwrap().clone(), vec!["GET http://example.test/2 HTTP/1.1"]);
}

#[test]
fn bad_proxy_settings_are_clear_errors() {
    let mut k = ClientConfig::default();
    let ftp = ProxySpec { key: "all://".into(), url: Some("ftp://127.0.0.1:1".into()), mode: ProxyMode::Default };
    assert_eq!(k.set_proxies(vec![ftp]).unwrap_err().code(), code::UNSUPPORTED_PROTOCOL);
    let bogus = ProxySpec { key: "bogus key".into(), url: Some("http://127.0.0.1:1".into()), mode: ProxyMode::Default };
    assert_eq!(k.set_proxies(vec![bogus]).unwrap_err().code(), code::INVALID_ARGUMENT);
    Client::new(&k).unwrap();
    let c = via(&[("all://", Some(format!("http://127.0.0.1:{}", free_port())), ProxyMode::Default)]);
    assert_eq!(get(&c, "http://example.test/").unwrap_err().code(), code::PROXY);
}

//! HTTP/2 (opt-in) against nginx's h2 listener: negotiation, multiplexing on one
//! connection, bodies both ways, decoding, and HTTP/1.1 fallback.

mod common;

use std::time::Duration;

use common::*;
use httpx::http1::Version;
use httpx::tls::Trust;
use httpx::{Client, ClientConfig};

fn h2_client() -> Client {
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    k.set_http2(true);
    k.set_trust(Trust::CaFile(certs().ca_pem.clone()));
    Client::new(&k).unwrap()
}

#[test]
fn negotiates_http2_and_reuses_one_connection() {
    let n = nginx();
    let c = h2_client();
    let t = tag();
    for i in 0..50 {
        let mut r =
            c.send(&c.build_request("GET", &n.https_url_on(n.https_h2_port, &format!("/?{t}={i}"))).unwrap()).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.version, Version::Http2);
        assert_eq!(r.body().unwrap(), HELLO.as_bytes());
        assert_eq!(r.headers.get("content-type"), Some("text/plain"));
    }
    n.wait_for_log(Duration::from_secs(5), |l| l.iter().filter(|x| x.uri.contains(&t)).count() >= 50);
    assert_eq!(n.connections_for(&t), 1);
}

#[test]
fn eight_threads_multiplex_on_one_connection() {
    let n = nginx();
    let c = h2_client();
    let t = tag();
    let hs: Vec<_> = (0..8)
        .map(|th| {
            let (c, url) = (c.clone(), n.https_url_on(n.https_h2_port, &format!("/files/64k.bin?{t}={th}")));
            std::thread::spawn(move || {
                for _ in 0..40 {
                    let mut r = c.send(&c.build_request("GET", &url).unwrap()).unwrap();
                    assert_eq!(r.version, Version::Http2);
                    assert_eq!(r.body().unwrap(), file_64k().as_slice());
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    n.wait_for_log(Duration::from_secs(5), |l| l.iter().filter(|x| x.uri.contains(&t)).count() >= 320);
    assert!(n.connections_for(&t) <= 2, "{} connections", n.connections_for(&t));
}

#[test]
fn bodies_both_ways_and_decoding() {
    let n = nginx();
    let c = h2_client();
    let base = |p: &str| n.https_url_on(n.https_h2_port, p);
    // Upload 3 MiB (more than the initial flow-control window) and a streamed body.
    let data = pseudo_random_bytes(3 << 20, 7);
    let mut req = c.build_request("POST", &base("/echo")).unwrap();
    req.set_body_bytes(data.clone(), Some("application/octet-stream"));
    let mut r = c.send(&req).unwrap();
    assert_eq!(r.version, Version::Http2);
    assert_eq!(r.body().unwrap().len(), data.len());
    assert!(r.body().unwrap() == data.as_slice());
    let mut req = c.build_request("PUT", &base("/upload")).unwrap();
    req.set_body_stream(Box::new(std::io::Cursor::new(vec![1u8; 200_000])), None);
    let mut r = c.send(&req).unwrap();
    assert_eq!(r.body().unwrap(), b"ok");
    // Streamed download and gzip.
    let mut r = c.send(&c.build_request("GET", &base("/files/1m.bin")).unwrap()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 5000];
    for _ in 0..10_000 {
        let k = r.read(&mut buf).unwrap();
        if k == 0 {
            break;
        }
        got.extend_from_slice(&buf[..k]);
    }
    assert_eq!(got, file_1m());
    let mut r = c.send(&c.build_request("GET", &base("/gzip/hello.txt")).unwrap()).unwrap();
    assert_eq!(r.text().unwrap(), hello_txt());
    let r = c.send(&c.build_request("GET", &base("/status/404")).unwrap()).unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(r.reason_phrase(), "Not Found");
}

#[test]
fn falls_back_to_http11_when_the_server_has_no_h2() {
    let n = nginx();
    let c = h2_client();
    let t = tag();
    for i in 0..3 {
        let mut r = c.send(&c.build_request("GET", &n.https_url(&format!("/?{t}={i}"))).unwrap()).unwrap();
        assert_eq!(r.version, Version::Http11);
        assert_eq!(r.body().unwrap(), HELLO.as_bytes());
    }
    n.wait_for_log(Duration::from_secs(5), |l| l.iter().filter(|x| x.uri.contains(&t)).count() >= 3);
    // One probe connection (ALPN said http/1.1), then one pooled HTTP/1.1 connection.
    assert!(n.connections_for(&t) <= 2);
    // Plain http never uses HTTP/2.
    let r = c.send(&c.build_request("GET", &n.url("/")).unwrap()).unwrap();
    assert_eq!(r.version, Version::Http11);
}

#[test]
fn http2_tls_errors_are_tls_errors() {
    let n = nginx();
    let c = h2_client();
    let e = c.send(&c.build_request("GET", &n.https_url_on(n.https_self_signed_port, "/")).unwrap()).unwrap_err();
    assert_eq!(e.code(), httpx::error::code::TLS, "{e}");
}

#[test]
fn http2_timeouts_hit_one_stream_not_the_connection() {
    let n = nginx();
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    k.set_http2(true);
    k.set_trust(Trust::CaFile(certs().ca_pem.clone()));
    k.set_timeouts(httpx::config::Timeouts { read: Some(Duration::from_millis(500)), ..k.timeouts() });
    let c = Client::new(&k).unwrap();
    let base = |p: &str| n.https_url_on(n.https_h2_port, p);
    assert_eq!(c.send(&c.build_request("GET", &base("/")).unwrap()).unwrap().version, Version::Http2);
    let t0 = std::time::Instant::now();
    let e = c.send(&c.build_request("GET", &base("/slow-head")).unwrap()).unwrap_err();
    assert_eq!(e.code(), httpx::error::code::READ_TIMEOUT, "{e}");
    assert!(t0.elapsed() < Duration::from_millis(1500));
    let mut r = c.send(&c.build_request("GET", &base("/slow-body")).unwrap()).unwrap();
    let mut buf = [0u8; 64];
    assert!(r.read(&mut buf).unwrap() > 0);
    let t0 = std::time::Instant::now();
    let e = r.read(&mut buf).unwrap_err();
    assert_eq!(e.code(), httpx::error::code::READ_TIMEOUT, "{e}");
    assert!(t0.elapsed() < Duration::from_millis(1500));
    drop(r);
    // The connection survives: the next request works at once.
    let mut r = c.send(&c.build_request("GET", &base("/")).unwrap()).unwrap();
    assert_eq!(r.body().unwrap(), HELLO.as_bytes());
}

/// A private nginx whose HTTP/2 connections idle out after 1 s (GOAWAY + close):
/// requests after the idle close must still succeed, over a new connection.
#[test]
fn idle_connection_closed_by_the_server_is_replaced() {
    let dir = unique_temp_dir("h2idle");
    let port = free_port();
    let conf = dir.join("nginx.conf");
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    std::fs::write(
        &conf,
        format!(
            "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\n\
             http {{\n  access_log off;\n  keepalive_timeout 1s;\n  client_body_temp_path {d}/tmp;\n  \
             proxy_temp_path {d}/tmp;\n  fastcgi_temp_path {d}/tmp;\n  uwsgi_temp_path {d}/tmp;\n  scgi_temp_path {d}/tmp;\n  \
             server {{\n    listen 127.0.0.1:{port} ssl http2;\n    ssl_certificate {cert};\n    ssl_certificate_key {key};\n    \
             location / {{ default_type text/plain; return 200 \"Hello, world!\"; }}\n  }}\n}}\n",
            d = dir.display(),
            cert = certs().server_cert.display(),
            key = certs().server_key.display(),
        ),
    )
    .unwrap();
    let nginx_bin = require_tool("nginx", "nginx-light");
    let mut cmd = std::process::Command::new(nginx_bin);
    cmd.args([
        "-p",
        &dir.display().to_string(),
        "-c",
        &conf.display().to_string(),
        "-e",
        &dir.join("error.log").display().to_string(),
        "-g",
        "daemon off;",
    ]);
    let mut server = spawn_guarded("nginx-h2-idle", cmd).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "private nginx did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let c = h2_client();
    let url = format!("https://localhost:{port}/");
    for round in 0..3 {
        let mut r = c.send(&c.build_request("GET", &url).unwrap()).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(r.version, Version::Http2);
        assert_eq!(r.body().unwrap(), HELLO.as_bytes());
        std::thread::sleep(Duration::from_millis(1600));
    }
    server.kill();
    let _ = std::fs::remove_dir_all(dir);
}

// ---- HTTP/2 through proxies, and HTTP/2 in the one pool (limits, expiry, stats) ----

fn h2_client_with(f: impl FnOnce(&mut ClientConfig)) -> Client {
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    k.set_http2(true);
    k.set_trust(Trust::CaFile(certs().ca_pem.clone()));
    f(&mut k);
    Client::new(&k).unwrap()
}

fn via_proxy(url: String) -> Client {
    h2_client_with(|k| {
        k.set_proxies(vec![httpx::config::ProxySpec {
            key: "all://".into(),
            url: Some(url),
            mode: httpx::config::ProxyMode::Default,
        }])
        .unwrap()
    })
}

/// nginx's h2 listener by IP (the proxies resolve nothing; the certificate names
/// 127.0.0.1 too).
fn h2_ip(n: &Nginx, path: &str) -> String {
    n.https_url_on(n.https_h2_port, path).replace("localhost", "127.0.0.1")
}

/// Requests through the proxy `c` reach nginx over HTTP/2 on one tunnel.
fn http2_through(c: &Client, n: &Nginx) {
    let t = tag();
    for i in 0..5 {
        let mut r = c.send(&c.build_request("GET", &h2_ip(n, &format!("/?{t}={i}"))).unwrap()).unwrap();
        assert_eq!(r.version, Version::Http2, "round {i}");
        assert_eq!(r.body().unwrap(), HELLO.as_bytes());
    }
    // A 3 MiB upload through the tunnel (flow control across the proxy).
    let data = pseudo_random_bytes(3 << 20, 11);
    let mut req = c.build_request("POST", &h2_ip(n, "/echo")).unwrap();
    req.set_body_bytes(data.clone(), Some("application/octet-stream"));
    let mut r = c.send(&req).unwrap();
    assert_eq!(r.version, Version::Http2);
    assert!(r.body().unwrap() == data.as_slice());
    assert_eq!(c.pool_stats(), (1, 1), "one HTTP/2 tunnel, idle");
    n.wait_for_log(Duration::from_secs(5), |l| l.iter().filter(|x| x.uri.contains(&t)).count() >= 5);
    assert_eq!(n.connections_for(&t), 1);
}

/// HTTP/2 inside a CONNECT tunnel of tinyproxy (ALPN h2 with the origin, end to end).
#[test]
fn http2_through_tinyproxy_connect() {
    let (n, p) = (nginx(), tinyproxy());
    http2_through(&via_proxy(p.url()), n);
    // With credentials too.
    http2_through(&via_proxy(tinyproxy_auth().url_with_auth()), n);
}

/// The same through squid (a second real CONNECT proxy).
#[test]
fn http2_through_squid_connect() {
    let (n, s) = (nginx(), ExtProxy::squid());
    let c = via_proxy(s.url("http"));
    http2_through(&c, n);
    c.close(); // squid logs the CONNECT when the tunnel ends
    let log = s.log_text(Some("CONNECT"), Duration::from_secs(3));
    assert!(log.contains(&format!("CONNECT 127.0.0.1:{}", n.https_h2_port)), "{log}");
}

/// And through SOCKS5 (microsocks): the chain ends in TCP either way.
#[test]
fn http2_over_socks5() {
    let (n, p) = (nginx(), microsocks());
    http2_through(&via_proxy(p.url()), n);
}

/// A forwarding-only proxy carries absolute-form HTTP/1.1 requests: no HTTP/2 there.
#[test]
fn forwarding_proxy_stays_http11() {
    let (n, p) = (nginx(), tinyproxy());
    let c = h2_client_with(|k| {
        k.set_proxies(vec![httpx::config::ProxySpec {
            key: "all://".into(),
            url: Some(p.url()),
            mode: httpx::config::ProxyMode::ForwardOnly,
        }])
        .unwrap()
    });
    let mut r = c.send(&c.build_request("GET", &n.url("/")).unwrap()).unwrap();
    assert_eq!(r.version, Version::Http11);
    assert_eq!(r.body().unwrap(), HELLO.as_bytes());
}

/// An HTTP/2 connection holds a slot of max_connections: with max_connections=1 and an
/// h2 stream open, an HTTP/1.1 request elsewhere waits and gets POOL_TIMEOUT; once the
/// h2 connection is idle it is evicted for the HTTP/1.1 one. Streams to the same
/// origin share the slot (no wait).
#[test]
fn http2_counts_against_max_connections() {
    let n = nginx();
    let c = h2_client_with(|k| {
        k.set_limits(httpx::config::Limits { max_connections: Some(1), ..k.limits() }).unwrap();
        k.set_timeouts(httpx::config::Timeouts { pool: Some(Duration::from_millis(300)), ..k.timeouts() });
    });
    let h2 = |p: &str| n.https_url_on(n.https_h2_port, p);
    // A response whose body is not read yet keeps its stream open. (A small one: an
    // unread large body would fill the connection's flow-control window, and then
    // no other stream's response could arrive, as HTTP/2 has it.)
    let mut held = c.send(&c.build_request("GET", &h2("/")).unwrap()).unwrap();
    assert_eq!(held.version, Version::Http2);
    assert_eq!(c.pool_stats(), (1, 0), "one HTTP/2 connection, a stream open");
    // A second stream to the same origin needs no slot.
    let mut r = c.send(&c.build_request("GET", &h2("/")).unwrap()).unwrap();
    assert_eq!(r.body().unwrap(), HELLO.as_bytes());
    let t0 = std::time::Instant::now();
    let e = c.send(&c.build_request("GET", &n.url("/")).unwrap()).unwrap_err();
    assert_eq!(e.code(), httpx::error::code::POOL_TIMEOUT, "{e}");
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_millis(250) && waited < Duration::from_millis(1500), "{waited:?}");
    assert_eq!(held.body().unwrap(), HELLO.as_bytes());
    assert_eq!(c.pool_stats(), (1, 1), "HTTP/2 connection idle");
    // Now the idle HTTP/2 connection makes room for the HTTP/1.1 request.
    let mut r = c.send(&c.build_request("GET", &n.url("/")).unwrap()).unwrap();
    assert_eq!(r.version, Version::Http11);
    assert_eq!(r.body().unwrap(), HELLO.as_bytes());
    assert_eq!(c.pool_stats(), (1, 1), "the HTTP/1.1 connection replaced the HTTP/2 one");
    // Four threads multiplex on one HTTP/2 connection within max_connections=1.
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let (c, url) = (c.clone(), h2("/files/64k.bin"));
            std::thread::spawn(move || {
                for _ in 0..10 {
                    let mut r = c.send(&c.build_request("GET", &url).unwrap()).unwrap();
                    assert_eq!(r.version, Version::Http2);
                    assert_eq!(r.body().unwrap().len(), 64 * 1024);
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(c.pool_stats(), (1, 1));
}

/// Keep-alive expiry and max_keepalive_connections apply to idle HTTP/2 connections
/// as to HTTP/1.1 ones.
#[test]
fn http2_obeys_keepalive_expiry() {
    let n = nginx();
    let c = h2_client_with(|k| {
        k.set_limits(httpx::config::Limits { keepalive_expiry: Some(Duration::from_millis(300)), ..k.limits() })
            .unwrap()
    });
    let t = tag();
    let get = |i: u32| {
        let mut r =
            c.send(&c.build_request("GET", &n.https_url_on(n.https_h2_port, &format!("/?{t}={i}"))).unwrap()).unwrap();
        assert_eq!(r.version, Version::Http2);
        assert_eq!(r.body().unwrap(), HELLO.as_bytes());
    };
    get(0);
    get(1); // within the expiry: reused
    std::thread::sleep(Duration::from_millis(700));
    get(2); // expired: a new connection
    assert_eq!(c.pool_stats(), (1, 1), "the expired connection left the pool");
    n.wait_for_log(Duration::from_secs(5), |l| l.iter().filter(|x| x.uri.contains(&t)).count() >= 3);
    assert_eq!(n.connections_for(&t), 2);

    // max_keepalive_connections = 0: an HTTP/2 connection closes when its last stream ends.
    let c = h2_client_with(|k| {
        k.set_limits(httpx::config::Limits { max_keepalive_connections: Some(0), ..k.limits() }).unwrap()
    });
    let t = tag();
    for i in 0..2 {
        let mut r =
            c.send(&c.build_request("GET", &n.https_url_on(n.https_h2_port, &format!("/?{t}={i}"))).unwrap()).unwrap();
        assert_eq!(r.version, Version::Http2);
        assert_eq!(r.body().unwrap(), HELLO.as_bytes());
        assert_eq!(c.pool_stats(), (0, 0));
    }
    n.wait_for_log(Duration::from_secs(5), |l| l.iter().filter(|x| x.uri.contains(&t)).count() >= 2);
    assert_eq!(n.connections_for(&t), 2);
}

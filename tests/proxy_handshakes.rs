//! The proxy handshakes alone (`httpx::proxy::tunnel::connect_tunnel`,
//! `httpx::proxy::socks::socks5_connect`, no client around them) against real tinyproxy and
//! microsocks on the shared harness, to an in-process echo server. Byte-level cases with
//! mock streams stay next to the code in src/proxy/{tunnel,socks}.rs; the client through
//! these proxies is tests/proxy.rs. A missing proxy panics with the package to install.
//!
//! Run: `RUST_TEST_THREADS=2 cargo test --test proxy_handshakes`

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use common::*;
use httpx::proxy::socks::socks5_connect;
use httpx::proxy::tunnel::{basic_proxy_authorization, connect_tunnel};
use httpx::Error;

/// Echoes every byte back until EOF (bounded by FaultServer's 10 s socket timeouts).
fn echo_server() -> FaultServer {
    FaultServer::start(|mut s| {
        let mut buf = [0u8; 1024];
        for _ in 0..10_000 {
            match s.read(&mut buf) {
                Ok(n @ 1..) if s.write_all(&buf[..n]).is_ok() => {}
                _ => return,
            }
        }
    })
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn assert_echo(s: &mut TcpStream, msg: &[u8]) {
    s.write_all(msg).unwrap();
    let mut buf = vec![0u8; msg.len()];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(buf, msg);
    s.shutdown(Shutdown::Both).unwrap();
}

// ------------------------------------------------------------------ CONNECT via tinyproxy

#[test]
fn tinyproxy_tunnel() {
    let echo = echo_server();
    let proxy = tinyproxy();
    let mut s = connect(proxy.port);
    connect_tunnel(&mut s, "127.0.0.1", echo.port, None, &[]).unwrap();
    assert_echo(&mut s, b"hello through the tunnel");
    assert_eq!(echo.accepts(), 1);
    let want = format!("CONNECT 127.0.0.1:{} HTTP/1.1", echo.port);
    assert!(proxy.requests_on_log().contains(&want), "{want} not in\n{}", proxy.logs());
}

#[test]
fn tinyproxy_refuses_port_not_allowed() {
    let allowed = free_port();
    let proxy = Proxy::start_tinyproxy_with(false, &format!("ConnectPort {allowed}\n"));
    let mut s = connect(proxy.port);
    let other = if allowed == 65535 { 1 } else { allowed + 1 };
    let err = connect_tunnel(&mut s, "127.0.0.1", other, None, &[]).unwrap_err();
    assert!(
        matches!(&err, Error::Proxy(m) if m.starts_with(&format!("proxy CONNECT to 127.0.0.1:{other} answered 403"))),
        "{err:?}"
    );
}

#[test]
fn tinyproxy_basic_auth() {
    let echo = echo_server();
    let proxy = tinyproxy_auth();

    let mut s = connect(proxy.port);
    let err = connect_tunnel(&mut s, "127.0.0.1", echo.port, None, &[]).unwrap_err();
    assert!(matches!(&err, Error::Proxy(m) if m.contains("answered 407")), "{err:?}");

    let mut s = connect(proxy.port);
    let bad = basic_proxy_authorization(PROXY_USER, "wrong");
    let err = connect_tunnel(&mut s, "127.0.0.1", echo.port, Some(&bad), &[]).unwrap_err();
    // tinyproxy 1.11 answers wrong credentials with 401 rather than 407.
    assert!(matches!(&err, Error::Proxy(m) if m.contains("answered 407") || m.contains("answered 401")), "{err:?}");
    assert_eq!(echo.accepts(), 0, "no tunnel without valid credentials");

    let mut s = connect(proxy.port);
    let good = basic_proxy_authorization(PROXY_USER, PROXY_PASS);
    connect_tunnel(&mut s, "127.0.0.1", echo.port, Some(&good), &[]).unwrap();
    assert_echo(&mut s, b"hello through the tunnel");
    assert_eq!(echo.accepts(), 1);
}

// ------------------------------------------------------------------ SOCKS5 via microsocks

#[test]
fn microsocks_without_auth() {
    let echo = echo_server();
    let proxy = microsocks();
    // (host, remote DNS): an address, a name resolved by the proxy, a name resolved here.
    for (host, remote_dns) in [("127.0.0.1", false), ("localhost", true), ("localhost", false)] {
        let mut s = connect(proxy.port);
        socks5_connect(&mut s, host, echo.port, None, remote_dns).unwrap();
        assert_echo(&mut s, b"ping over socks");
    }
    assert_eq!(echo.accepts(), 3);
}

#[test]
fn microsocks_refused_target() {
    let proxy = microsocks();
    let closed = free_port();
    let mut s = connect(proxy.port);
    let err = socks5_connect(&mut s, "127.0.0.1", closed, None, true).unwrap_err();
    assert_eq!(
        err,
        Error::Proxy(format!("SOCKS5: connection refused by destination host (target 127.0.0.1:{closed})"))
    );
}

#[test]
fn microsocks_with_auth() {
    let echo = echo_server();
    let proxy = microsocks_auth();

    let mut s = connect(proxy.port);
    let err = socks5_connect(&mut s, "127.0.0.1", echo.port, Some((PROXY_USER, "nope")), true).unwrap_err();
    assert_eq!(err, Error::Proxy("SOCKS5: username/password authentication failed".into()));

    let mut s = connect(proxy.port);
    let err = socks5_connect(&mut s, "127.0.0.1", echo.port, None, true).unwrap_err();
    assert!(matches!(&err, Error::Proxy(m) if m.contains("requires authentication")), "{err:?}");
    assert_eq!(echo.accepts(), 0, "no connection without valid credentials");

    let mut s = connect(proxy.port);
    socks5_connect(&mut s, "127.0.0.1", echo.port, Some((PROXY_USER, PROXY_PASS)), true).unwrap();
    assert_echo(&mut s, b"ping over socks");
    assert_eq!(echo.accepts(), 1);
}

//! No SIGPIPE in the host, on any write path (#20): plain TCP, TLS (rustls writes its
//! records with vectored writes), CONNECT tunnels, SOCKS5, HTTP/2 (tokio) and Unix
//! sockets, with SIGPIPE at its default action (terminate). Rust's runtime ignores
//! SIGPIPE in test binaries, so every test resets it to SIG_DFL first: a single raised
//! SIGPIPE kills this whole test binary.

mod common;
#[path = "common/tls_fault.rs"]
mod tls_fault;

use std::io::Write;
use std::net::TcpStream;
use std::sync::{Arc, Once};
use std::thread;
use std::time::Duration;

use common::*;
use httpx::config::{ProxyMode, ProxySpec};
use httpx::connection::Stream;
use httpx::tls::Trust;
use httpx::transport::http::{HttpOptions, HttpTransport};
use httpx::{Client, ClientConfig, Timeouts};
use tls_fault::{read_at_least, reset, TlsFault};

fn sigpipe_default() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    });
    assert_eq!(unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) }, libc::SIG_DFL);
}

const BODY: usize = 8 << 20;

fn client_with(f: impl FnOnce(&mut ClientConfig)) -> Client {
    let mut c = ClientConfig::default();
    c.set_trust_env(false);
    c.set_timeouts(Timeouts::all(Some(Duration::from_secs(5))));
    c.set_trust(Trust::CaFile(certs().ca_pem.clone()));
    f(&mut c);
    Client::new(&c).unwrap()
}

/// POST 8 MiB (in memory, then streamed) a few times; every send must fail cleanly.
fn upload_fails(c: &Client, url: &str, times: usize) {
    for i in 0..times {
        let mut req = c.build_request("POST", url).unwrap();
        if i % 2 == 0 {
            req.set_body_bytes(vec![b'x'; BODY], None);
        } else {
            req.set_body_stream(Box::new(std::io::Read::take(std::io::repeat(b'y'), BODY as u64)), None);
        }
        match c.send(&req) {
            Ok(mut r) => {
                // A server may answer early; reading on is fine too.
                let _ = r.body();
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}

/// Reads the head and 64 KiB of body, then resets the connection.
fn closing_handler(mut s: TcpStream) {
    let _ = read_at_least(&mut s, 64 << 10);
    reset(&s);
}

#[test]
fn stream_writes_after_the_peer_closed_raise_no_sigpipe() {
    sigpipe_default();
    // TCP: the peer resets; keep writing well past the first error.
    let server = tls_fault::plain_server(|s: TcpStream| reset(&s));
    let tcp = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let mut s = Stream::tcp(tcp).unwrap();
    thread::sleep(Duration::from_millis(100));
    let chunk = vec![0u8; 64 << 10];
    let mut errors = 0;
    for _ in 0..50 {
        if s.write_all(&chunk).is_err() {
            errors += 1;
        }
        let _ = s.write_vectored(&[std::io::IoSlice::new(&chunk), std::io::IoSlice::new(b"x")]);
    }
    assert!(errors > 0);
    // Unix: writing to a closed peer is EPIPE straight away.
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    drop(b);
    let mut s = Stream::unix(a).unwrap();
    for _ in 0..10 {
        assert!(s.write_all(b"hello").is_err());
        assert!(s.write_vectored(&[std::io::IoSlice::new(b"a"), std::io::IoSlice::new(b"b")]).is_err());
    }
}

#[test]
fn plain_http_upload_to_a_server_that_closes() {
    sigpipe_default();
    let server = tls_fault::plain_server(closing_handler);
    upload_fails(&client_with(|_| {}), &format!("http://127.0.0.1:{}/upload", server.port), 4);
}

#[test]
fn tls_upload_to_a_server_that_closes() {
    sigpipe_default();
    let c = certs();
    let server = TlsFault::start(&c.server_cert, &c.server_key, &[], |tls| {
        let _ = read_at_least(tls, 64 << 10);
        reset(&tls.sock);
    });
    upload_fails(&client_with(|_| {}), &format!("https://localhost:{}/upload", server.port), 6);
    // A server that closes right after the handshake (as on a refused client certificate).
    let server = TlsFault::start(&c.server_cert, &c.server_key, &[], |tls| reset(&tls.sock));
    upload_fails(&client_with(|_| {}), &format!("https://localhost:{}/upload", server.port), 4);
}

#[test]
fn http2_upload_to_a_server_that_closes() {
    sigpipe_default();
    let c = certs();
    let server = TlsFault::start(&c.server_cert, &c.server_key, &[b"h2"], |tls| {
        // Client preface, then our SETTINGS (huge initial window) and a connection
        // WINDOW_UPDATE so the client streams its body at full speed; then reset.
        let _ = read_at_least(tls, 24);
        let mut frames = vec![0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 4, 0x7f, 0xff, 0xff, 0xff];
        frames.extend_from_slice(&[0, 0, 4, 8, 0, 0, 0, 0, 0, 0x7f, 0xff, 0x00, 0x00]);
        let _ = tls.write_all(&frames);
        let _ = tls.flush();
        let _ = read_at_least(tls, 256 << 10);
        reset(&tls.sock);
    });
    let client = client_with(|k| k.set_http2(true));
    upload_fails(&client, &format!("https://localhost:{}/upload", server.port), 6);
}

#[test]
fn connect_tunnel_upload_to_a_proxy_that_closes() {
    sigpipe_default();
    let proxy = tls_fault::plain_server(|mut s: TcpStream| {
        if read_request_head(&mut s).is_none() {
            return;
        }
        let _ = s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
        closing_handler(s);
    });
    let c = client_with(|k| {
        k.set_proxies(vec![ProxySpec {
            key: "all://".into(),
            url: Some(format!("http://127.0.0.1:{}", proxy.port)),
            mode: ProxyMode::TunnelOnly,
        }])
        .unwrap()
    });
    upload_fails(&c, "http://127.0.0.1:9/upload", 4);
}

#[test]
fn socks5_upload_to_a_proxy_that_closes() {
    sigpipe_default();
    let proxy = tls_fault::plain_server(|mut s: TcpStream| {
        use std::io::Read;
        let mut greeting = [0u8; 3];
        if s.read_exact(&mut greeting).is_err() || s.write_all(&[5, 0]).is_err() {
            return;
        }
        // CONNECT request for a domain name: 5 1 0 3 len name port.
        let mut head = [0u8; 5];
        if s.read_exact(&mut head).is_err() {
            return;
        }
        let mut rest = vec![0u8; head[4] as usize + 2];
        if s.read_exact(&mut rest).is_err() {
            return;
        }
        let _ = s.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 80]);
        closing_handler(s);
    });
    let c = client_with(|k| {
        k.set_proxies(vec![ProxySpec {
            key: "all://".into(),
            url: Some(format!("socks5h://127.0.0.1:{}", proxy.port)),
            mode: ProxyMode::Default,
        }])
        .unwrap()
    });
    upload_fails(&c, "http://upload.invalid/upload", 4);
}

#[test]
fn unix_socket_upload_to_a_server_that_closes() {
    sigpipe_default();
    let dir = unique_temp_dir("sigpipe-uds");
    let path = dir.join("s.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let t = thread::spawn(move || {
        for _ in 0..4 {
            let Ok((mut s, _)) = listener.accept() else { return };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = read_at_least(&mut s, 64 << 10);
            drop(s);
        }
    });
    let transport = HttpTransport::new(HttpOptions { uds: Some(path), ..HttpOptions::default() }).unwrap();
    let c = client_with(|k| k.set_transport(Some(Arc::new(transport))));
    upload_fails(&c, "http://localhost/upload", 4);
    t.join().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

//! Deadlines "as a whole" (#20): the response head (status line, headers, interim 1xx
//! responses) must arrive within the read timeout in total, and proxy CONNECT and
//! SOCKS4/5 handshakes must complete within the connect timeout in total, however
//! slowly a peer drips its bytes. Per-read timeouts still apply to body reads.
//! Prints the measured times to error (`--nocapture`).

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use httpx::config::{ProxyMode, ProxySpec};
use httpx::error::code;
use httpx::{Client, ClientConfig, Timeouts};

fn client_with(f: impl FnOnce(&mut ClientConfig)) -> Client {
    let mut c = ClientConfig::default();
    c.set_trust_env(false);
    f(&mut c);
    Client::new(&c).unwrap()
}

/// Write `bytes` one chunk of `step` bytes every `every`, until done or the peer goes.
fn drip(s: &mut TcpStream, bytes: &[u8], step: usize, every: Duration) {
    for chunk in bytes.chunks(step) {
        if s.write_all(chunk).is_err() {
            return;
        }
        thread::sleep(every);
    }
}

fn endless_head() -> Vec<u8> {
    let mut v = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..10_000 {
        v.extend_from_slice(format!("X-Drip-{i}: {i}\r\n").as_bytes());
    }
    v
}

#[test]
fn head_dripping_two_bytes_per_second_fails_within_the_read_timeout() {
    let server = FaultServer::start(|mut s: TcpStream| {
        if read_request(&mut s).is_none() {
            return;
        }
        drip(&mut s, &endless_head(), 1, Duration::from_millis(500));
    });
    let c = client_with(|k| k.set_timeouts(Timeouts::all(Some(Duration::from_secs(2)))));
    let t0 = Instant::now();
    let e = c.send(&c.build_request("GET", &server.url("/")).unwrap()).unwrap_err();
    let took = t0.elapsed();
    println!("MEASURE head dripping at 2 bytes/s, 2 s timeouts: {e} after {:.3} s", took.as_secs_f64());
    assert_eq!(e.code(), code::READ_TIMEOUT, "{e}");
    assert!(took >= Duration::from_millis(1900) && took < Duration::from_millis(3000), "{took:?}");
}

#[test]
fn endless_interim_responses_fail_within_the_read_timeout() {
    let server = FaultServer::start(|mut s: TcpStream| {
        if read_request(&mut s).is_none() {
            return;
        }
        for _ in 0..600 {
            if s.write_all(b"HTTP/1.1 102 Processing\r\n\r\n").is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
    });
    let c = client_with(|k| k.set_timeouts(Timeouts::all(Some(Duration::from_secs(1)))));
    let t0 = Instant::now();
    let e = c.send(&c.build_request("GET", &server.url("/")).unwrap()).unwrap_err();
    let took = t0.elapsed();
    println!("MEASURE endless 102 Processing, 1 s read timeout: {e} after {:.3} s", took.as_secs_f64());
    // READ_TIMEOUT from the head deadline (or REMOTE_PROTOCOL if a cap on the number
    // of interim responses hits first): never longer than the read timeout.
    assert!(matches!(e.code(), code::READ_TIMEOUT | code::REMOTE_PROTOCOL), "{e}");
    assert!(took < Duration::from_millis(1900), "{took:?}");
}

#[test]
fn a_slow_but_complete_head_and_a_slow_body_still_work() {
    // Head in two parts 300 ms apart (read timeout 1 s); body 1 byte every 300 ms for
    // ~2.4 s: a body read is limited per read, not as a whole.
    let server = FaultServer::start(|mut s: TcpStream| {
        if read_request(&mut s).is_none() {
            return;
        }
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n");
        thread::sleep(Duration::from_millis(300));
        let _ = s.write_all(b"Content-Length: 8\r\n\r\n");
        drip(&mut s, b"12345678", 1, Duration::from_millis(300));
    });
    let c = client_with(|k| k.set_timeouts(Timeouts::all(Some(Duration::from_secs(1)))));
    let mut r = c.send(&c.build_request("GET", &server.url("/")).unwrap()).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body().unwrap(), b"12345678");
}

fn proxied_client(proxy: String, connect: Duration) -> Client {
    client_with(|k| {
        k.set_timeouts(Timeouts::all(Some(Duration::from_secs(10))));
        k.set_timeouts(httpx::config::Timeouts { connect: Some(connect), ..k.timeouts() });
        k.set_proxies(vec![ProxySpec { key: "all://".into(), url: Some(proxy), mode: ProxyMode::Default }]).unwrap();
    })
}

#[test]
fn socks5_answering_one_byte_per_second_fails_within_the_connect_timeout() {
    let server = FaultServer::start(|mut s: TcpStream| {
        let mut greeting = [0u8; 3];
        if std::io::Read::read_exact(&mut s, &mut greeting).is_err() {
            return;
        }
        // Method choice, then a success reply, one byte per second.
        drip(&mut s, &[5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0, 80], 1, Duration::from_secs(1));
    });
    let c = proxied_client(format!("socks5://127.0.0.1:{}", server.port), Duration::from_secs(2));
    let t0 = Instant::now();
    let e = c.send(&c.build_request("GET", "http://127.0.0.1:9/").unwrap()).unwrap_err();
    let took = t0.elapsed();
    println!("MEASURE SOCKS5 answering 1 byte/s, 2 s connect timeout: {e} after {:.3} s", took.as_secs_f64());
    assert_eq!(e.code(), code::CONNECT_TIMEOUT, "{e}");
    assert!(took >= Duration::from_millis(1900) && took < Duration::from_millis(3000), "{took:?}");
}

#[test]
fn socks4_answering_slowly_fails_within_the_connect_timeout() {
    let server = FaultServer::start(|mut s: TcpStream| {
        let mut req = [0u8; 9];
        if std::io::Read::read_exact(&mut s, &mut req).is_err() {
            return;
        }
        drip(&mut s, &[0, 90, 0, 80, 127, 0, 0, 1], 1, Duration::from_millis(400));
    });
    let c = proxied_client(format!("socks4a://127.0.0.1:{}", server.port), Duration::from_secs(1));
    let t0 = Instant::now();
    let e = c.send(&c.build_request("GET", "http://127.0.0.1:9/").unwrap()).unwrap_err();
    assert_eq!(e.code(), code::CONNECT_TIMEOUT, "{e}");
    assert!(t0.elapsed() < Duration::from_millis(1900), "{:?}", t0.elapsed());
}

#[test]
fn connect_proxy_dripping_its_answer_fails_within_the_connect_timeout() {
    let server = FaultServer::start(|mut s: TcpStream| {
        if read_request_head(&mut s).is_none() {
            return;
        }
        let mut head = b"HTTP/1.1 200 Connection established\r\n".to_vec();
        head.extend_from_slice(&endless_head()[17..]);
        drip(&mut s, &head, 4, Duration::from_millis(100));
    });
    let c = proxied_client(format!("http://127.0.0.1:{}", server.port), Duration::from_secs(1));
    let t0 = Instant::now();
    // https target: the proxy is asked for a CONNECT tunnel.
    let e = c.send(&c.build_request("GET", "https://127.0.0.1:9/").unwrap()).unwrap_err();
    let took = t0.elapsed();
    println!("MEASURE CONNECT proxy dripping its head, 1 s connect timeout: {e} after {:.3} s", took.as_secs_f64());
    assert_eq!(e.code(), code::CONNECT_TIMEOUT, "{e}");
    assert!(took < Duration::from_millis(1900), "{took:?}");
}

#[test]
fn total_timeout_caps_a_slow_socks_handshake() {
    let server = FaultServer::start(|mut s: TcpStream| {
        let mut greeting = [0u8; 3];
        if std::io::Read::read_exact(&mut s, &mut greeting).is_err() {
            return;
        }
        drip(&mut s, &[5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0, 80], 1, Duration::from_secs(1));
    });
    let mut c = ClientConfig::default();
    c.set_trust_env(false);
    c.set_timeouts(Timeouts::all(None));
    c.set_total_timeout(Some(Duration::from_millis(700)));
    c.set_proxies(vec![ProxySpec {
        key: "all://".into(),
        url: Some(format!("socks5h://127.0.0.1:{}", server.port)),
        mode: ProxyMode::Default,
    }])
    .unwrap();
    let c = Client::new(&c).unwrap();
    let t0 = Instant::now();
    let e = c.send(&c.build_request("GET", "http://example.invalid/").unwrap()).unwrap_err();
    assert_eq!(e.code(), code::TOTAL_TIMEOUT, "{e}");
    assert!(t0.elapsed() < Duration::from_millis(1500));
}

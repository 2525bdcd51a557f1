//! Hardening (issue #20), HTTP/2: the response-head caps of HTTP/1.1 (64 KiB, 100
//! fields), SETTINGS_ENABLE_PUSH = 0 and the buffered-body cap, against an in-process
//! h2 server over TLS (the h2 crate's server side, test certificates, ALPN "h2"; the
//! client speaks HTTP/2 only over TLS); malformed responses (request pseudo-headers in a
//! response or its trailers), which h2's server cannot send, against a raw HTTP/2
//! responder on a TLS [`FaultServer`].
//!
//! Run: `RUST_TEST_THREADS=2 cargo test --test hardening_h2`.

mod common;

use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use httpx::error::code;
use httpx::http1::Version;
use httpx::tls::Trust;
use httpx::{Client, ClientConfig};

#[derive(Clone)]
enum Behaviour {
    /// 200 with this many extra header fields.
    ManyFields(usize),
    /// 200 with one header value of this many bytes.
    BigValue(usize),
    /// Try to push a promised request before answering; counts refusals in `.0`.
    TryPush(Arc<AtomicUsize>),
    /// 200 with an endless body (bounded: 4 GiB or until the client resets).
    Endless(Arc<AtomicU64>),
    /// 200 "ok".
    Ok,
}

/// An h2 server on 127.0.0.1 (thread with its own tokio runtime; stops when the
/// test process exits; every connection task is bounded by the behaviour).
fn h2_server(b: Behaviour) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let cfg = tls_server_config(&[b"h2"]);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let acceptor = tokio_rustls::TlsAcceptor::from(cfg);
            for _ in 0..1000 {
                let Ok((tcp, _)) = listener.accept().await else { return };
                let (acceptor, b) = (acceptor.clone(), b.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let Ok(mut conn) = h2::server::handshake(tls).await else { return };
                    while let Some(Ok((req, mut respond))) = conn.accept().await {
                        let b = b.clone();
                        tokio::spawn(async move {
                            let _ = req;
                            serve(b, &mut respond).await;
                        });
                    }
                });
            }
        });
    });
    port
}

async fn serve(b: Behaviour, respond: &mut h2::server::SendResponse<Bytes>) {
    let mut resp = http::Response::builder().status(200);
    match &b {
        Behaviour::ManyFields(n) => {
            for i in 0..*n {
                resp = resp.header(format!("x-f{i}"), "v");
            }
        }
        Behaviour::BigValue(n) => resp = resp.header("x-big", "v".repeat(*n)),
        Behaviour::TryPush(refused) => {
            let promise = http::Request::builder().uri("https://127.0.0.1/pushed").body(()).unwrap();
            if respond.push_request(promise).is_err() {
                refused.fetch_add(1, Ordering::SeqCst);
            }
        }
        _ => {}
    }
    let Ok(mut stream) = respond.send_response(resp.body(()).unwrap(), false) else { return };
    match b {
        Behaviour::Endless(sent) => {
            let chunk = Bytes::from(vec![b'x'; 16 * 1024]);
            while sent.load(Ordering::SeqCst) < 4 << 30 {
                stream.reserve_capacity(chunk.len());
                match std::future::poll_fn(|cx| stream.poll_capacity(cx)).await {
                    Some(Ok(n)) if n > 0 => {
                        if stream.send_data(chunk.slice(..n.min(chunk.len())), false).is_err() {
                            return;
                        }
                        sent.fetch_add(n as u64, Ordering::SeqCst);
                    }
                    Some(Ok(_)) => {}
                    _ => return,
                }
            }
        }
        _ => {
            let _ = stream.send_data(Bytes::from_static(b"ok"), true);
        }
    }
}

fn client_with(f: impl FnOnce(&mut ClientConfig)) -> Client {
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    k.set_http2(true);
    k.set_trust(Trust::CaFile(certs().ca_pem.clone()));
    f(&mut k);
    Client::new(&k).unwrap()
}

fn get(c: &Client, port: u16) -> Result<(Version, Vec<u8>), (u32, String)> {
    let req = c.build_request("GET", &format!("https://127.0.0.1:{port}/")).map_err(|e| (e.code(), e.to_string()))?;
    let mut r = c.send(&req).map_err(|e| (e.code(), e.to_string()))?;
    let b = r.body().map_err(|e| (e.code(), e.to_string()))?.to_vec();
    Ok((r.version, b))
}

#[test]
fn h2_server_works() {
    let port = h2_server(Behaviour::Ok);
    assert_eq!(get(&client_with(|_| {}), port).unwrap(), (Version::Http2, b"ok".to_vec()));
}

/// More than 100 header fields, or a head over 64 KiB, is REMOTE_PROTOCOL over
/// HTTP/2 as over HTTP/1.1; configured limits apply too.
#[test]
fn h2_response_head_caps() {
    let c = client_with(|_| {});
    let port = h2_server(Behaviour::ManyFields(98));
    assert!(get(&c, port).is_ok(), "98 fields + content-length-less head is within 100");
    let port = h2_server(Behaviour::ManyFields(2049));
    let r = get(&c, port);
    assert_eq!(r.as_ref().err().map(|e| e.0), Some(code::REMOTE_PROTOCOL), "{r:?}");
    let port = h2_server(Behaviour::ManyFields(150));
    let r = get(&c, port);
    assert_eq!(r.as_ref().err().map(|e| e.0), Some(code::REMOTE_PROTOCOL), "{r:?}");
    let port = h2_server(Behaviour::BigValue(100 * 1024));
    let r = get(&c, port);
    assert_eq!(r.as_ref().err().map(|e| e.0), Some(code::REMOTE_PROTOCOL), "{r:?}");
    let port = h2_server(Behaviour::BigValue(8 * 1024 * 1024));
    let t = Instant::now();
    let r = get(&c, port);
    assert_eq!(r.as_ref().err().map(|e| e.0), Some(code::REMOTE_PROTOCOL), "{:?}", r.map(|x| x.0));
    eprintln!("8 MB HTTP/2 header: REMOTE_PROTOCOL after {:?}", t.elapsed());
    // A client configured for bigger heads accepts 150 fields.
    let big = client_with(|k| {
        k.set_head_limits(httpx::config::HeadLimits { max_header_count: 200, ..k.head_limits() }).unwrap()
    });
    let port = h2_server(Behaviour::ManyFields(150));
    assert!(get(&big, port).is_ok());
}

/// The client sends SETTINGS_ENABLE_PUSH = 0: the server's push_request is refused.
#[test]
fn h2_push_is_disabled() {
    let refused = Arc::new(AtomicUsize::new(0));
    let port = h2_server(Behaviour::TryPush(refused.clone()));
    let c = client_with(|_| {});
    for _ in 0..3 {
        assert_eq!(get(&c, port).unwrap().1, b"ok");
    }
    assert_eq!(refused.load(Ordering::SeqCst), 3, "server could push: SETTINGS_ENABLE_PUSH was not 0");
}

/// An endless HTTP/2 body read whole stops at the body cap (BODY_TOO_LARGE).
#[test]
fn h2_endless_body_hits_the_body_cap() {
    let sent = Arc::new(AtomicU64::new(0));
    let port = h2_server(Behaviour::Endless(sent.clone()));
    let c = client_with(|k| k.set_max_body_bytes(Some(4 << 20)));
    let t = Instant::now();
    let r = get(&c, port);
    assert_eq!(r.as_ref().err().map(|e| e.0), Some(code::BODY_TOO_LARGE), "{:?}", r.map(|x| x.1.len()));
    eprintln!(
        "endless HTTP/2 body, cap 4 MiB: BODY_TOO_LARGE after {:?}, {} MiB sent",
        t.elapsed(),
        sent.load(Ordering::SeqCst) >> 20
    );
    assert!(t.elapsed() < Duration::from_secs(30));
}

fn get_url(c: &Client, url: &str) -> Result<(Version, Vec<u8>), (u32, String)> {
    let req = c.build_request("GET", url).map_err(|e| (e.code(), e.to_string()))?;
    let mut r = c.send(&req).map_err(|e| (e.code(), e.to_string()))?;
    let b = r.body().map_err(|e| (e.code(), e.to_string()))?.to_vec();
    Ok((r.version, b))
}

/// A response carrying a request pseudo-header (`:path`, `:method`, `:scheme`,
/// `:authority`, `:protocol`) is malformed (RFC 9113 section 8.3): the client resets the
/// stream (PROTOCOL_ERROR) and the request fails with REMOTE_PROTOCOL; so does one in an
/// interim (1xx) head or in the trailers. The raw responder's well-formed answers (plain,
/// with a 103 first, with a regular trailer field) still work.
#[test]
fn h2_request_pseudo_header_in_a_response_is_refused() {
    let c = client_with(|_| {});
    // Well-formed: the raw responder itself is right, twice on one connection.
    let ok = raw_h2_server(vec![vec![STATUS_200]], None);
    for _ in 0..2 {
        assert_eq!(get_url(&c, &ok.https_url("/")).unwrap(), (Version::Http2, b"ok".to_vec()));
    }
    let early_hints = raw_h2_server(vec![hpack_indexed_name(8, "103"), vec![STATUS_200]], None);
    assert_eq!(get_url(&c, &early_hints.https_url("/")).unwrap().1, b"ok");
    let trailer = raw_h2_server(vec![vec![STATUS_200]], Some(hpack_literal("x-t", "v")));
    assert_eq!(get_url(&c, &trailer.https_url("/")).unwrap().1, b"ok");

    let bad: Vec<(&str, Vec<Vec<u8>>, Option<Vec<u8>>)> = vec![
        (":path", vec![vec![STATUS_200, 0x84]], None), // :path /
        (":path first", vec![vec![0x84, STATUS_200]], None),
        (":method", vec![vec![STATUS_200, 0x82]], None), // :method GET
        (":scheme", vec![vec![STATUS_200, 0x87]], None), // :scheme https
        (":authority", vec![[vec![STATUS_200], hpack_indexed_name(1, "a")].concat()], None),
        (":protocol", vec![[vec![STATUS_200], hpack_literal(":protocol", "websocket")].concat()], None),
        (":path in a 103", vec![[hpack_indexed_name(8, "103"), vec![0x84]].concat(), vec![STATUS_200]], None),
        (":path in the trailers", vec![vec![STATUS_200]], Some(vec![0x84])),
        (":status in the trailers", vec![vec![STATUS_200]], Some(vec![STATUS_200])),
    ];
    for (what, heads, trailers) in bad {
        let srv = raw_h2_server(heads, trailers);
        let t = Instant::now();
        let r = get_url(&c, &srv.https_url("/"));
        let (code, msg) = r.as_ref().expect_err(what).clone();
        assert_eq!(code, code::REMOTE_PROTOCOL, "{what}: {msg}");
        assert!(msg.contains("malformed response") && msg.contains("PROTOCOL_ERROR"), "{what}: {msg}");
        assert!(t.elapsed() < Duration::from_secs(5), "{what}: {:?}", t.elapsed());
    }
}

//! HTTPS with rustls against nginx with generated certificates (issue 3).

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::*;
use httpx::error::code;
use httpx::tls::{PemSource, Trust};
use httpx::{Client, ClientConfig, Timeouts};

fn ca_client(f: impl FnOnce(&mut ClientConfig)) -> httpx::Result<Client> {
    let mut cfg = ClientConfig::default();
    cfg.set_trust(Trust::CaFile(certs().ca_pem.clone()));
    f(&mut cfg);
    Client::new(&cfg)
}

fn get(c: &Client, url: &str) -> httpx::Result<(u16, Vec<u8>)> {
    let mut r = c.send(&c.build_request("GET", url)?)?;
    let b = r.body()?.to_vec();
    Ok((r.status, b))
}

#[test]
fn https_with_custom_ca_by_name_and_ip() {
    let n = nginx();
    let c = ca_client(|_| {}).unwrap();
    let (s, b) = get(&c, &n.https_url("/")).unwrap();
    assert_eq!((s, b.as_slice()), (200, HELLO.as_bytes()));
    let (s, _) = get(&c, &format!("https://127.0.0.1:{}/", n.https_port)).unwrap();
    assert_eq!(s, 200);
    // keep-alive over TLS: 50 requests, one connection
    let t = tag();
    for i in 0..50 {
        get(&c, &n.https_url(&format!("/?{t}={i}"))).unwrap();
    }
    n.wait_for_log(Duration::from_secs(5), |l| l.iter().filter(|x| x.uri.contains(&t)).count() >= 50);
    assert_eq!(n.connections_for(&t), 1);
}

#[test]
fn ca_from_pem_bytes_and_system_roots_refuse_test_ca() {
    let n = nginx();
    let pem = std::fs::read(&certs().ca_pem).unwrap();
    let mut cfg = ClientConfig::default();
    cfg.set_trust(Trust::CaPem(pem));
    assert_eq!(get(&Client::new(&cfg).unwrap(), &n.https_url("/")).unwrap().0, 200);
    // Default trust (webpki-roots, no env) doesn't know the test CA.
    let mut cfg = ClientConfig::default();
    cfg.set_trust_env(false);
    let e = get(&Client::new(&cfg).unwrap(), &n.https_url("/")).unwrap_err();
    assert_eq!(e.code(), code::TLS, "{e}");
}

/// Bad certificates fail with TLS and the server never sees a request.
#[test]
fn bad_certificates_are_refused_before_any_request_byte() {
    let n = nginx();
    let c = ca_client(|_| {}).unwrap();
    for (port, what) in [
        (n.https_wrong_host_port, "wrong host"),
        (n.https_expired_port, "expired"),
        (n.https_self_signed_port, "self-signed"),
    ] {
        let t = tag();
        let e = get(&c, &n.https_url_on(port, &format!("/?{t}=1"))).unwrap_err();
        assert_eq!(e.code(), code::TLS, "{what}: {e}");
        std::thread::sleep(Duration::from_millis(100));
        assert!(n.log_lines_for(&t).is_empty(), "{what}: the server received a request");
    }
}

#[test]
fn verify_off_is_per_client_and_never_shares_connections() {
    let n = nginx();
    let url = n.https_url_on(n.https_self_signed_port, "/");
    let mut cfg = ClientConfig::default();
    cfg.set_verify(false);
    let lax = Client::new(&cfg).unwrap();
    assert_eq!(get(&lax, &url).unwrap().0, 200);
    let strict = ca_client(|_| {}).unwrap();
    assert_eq!(get(&strict, &url).unwrap_err().code(), code::TLS);
    // The lax client still works, strict still refuses (no shared pool).
    assert_eq!(get(&lax, &url).unwrap().0, 200);
    assert_eq!(get(&strict, &url).unwrap_err().code(), code::TLS);
}

#[test]
fn client_certificates_for_mtls() {
    let n = nginx();
    let url = n.https_url_on(n.https_mtls_port, "/");
    let with = ca_client(|c| {
        c.set_client_cert(Some((
            PemSource::File(certs().client_cert.clone()),
            PemSource::File(certs().client_key.clone()),
        )))
    })
    .unwrap();
    let (s, b) = get(&with, &url).unwrap();
    assert_eq!((s, b.as_slice()), (200, &b"mtls ok"[..]));
    // From PEM bytes too.
    let cert = std::fs::read(&certs().client_cert).unwrap();
    let key = std::fs::read(&certs().client_key).unwrap();
    let bytes = ca_client(|c| c.set_client_cert(Some((PemSource::Bytes(cert), PemSource::Bytes(key))))).unwrap();
    assert_eq!(get(&bytes, &url).unwrap().0, 200);
    // nginx answers 400 (not a handshake failure) without an acceptable certificate.
    let without = ca_client(|_| {}).unwrap();
    assert_eq!(get(&without, &url).unwrap().0, 400);
    let other = ca_client(|c| {
        c.set_client_cert(Some((
            PemSource::File(certs().other_client_cert.clone()),
            PemSource::File(certs().other_client_key.clone()),
        )))
    })
    .unwrap();
    assert_eq!(get(&other, &url).unwrap().0, 400);
}

#[test]
fn bad_tls_material_fails_at_client_creation() {
    let missing = ca_client(|c| c.set_trust(Trust::CaFile("/nonexistent/ca.pem".into()))).unwrap_err();
    assert_eq!(missing.code(), code::IO, "{missing}");
    let bad = ca_client(|c| {
        c.set_trust(Trust::CaPem(b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n".to_vec()))
    })
    .unwrap_err();
    assert_eq!(bad.code(), code::TLS, "{bad}");
    let empty = ca_client(|c| c.set_trust(Trust::CaPem(b"no pem here".to_vec()))).unwrap_err();
    assert_eq!(empty.code(), code::TLS);
    let nokey = ca_client(|c| {
        c.set_client_cert(Some((
            PemSource::File(certs().client_cert.clone()),
            PemSource::File("/nonexistent.key".into()),
        )))
    })
    .unwrap_err();
    assert_eq!(nokey.code(), code::IO);
    // Key that doesn't match the certificate.
    let mismatch = ca_client(|c| {
        c.set_client_cert(Some((
            PemSource::File(certs().client_cert.clone()),
            PemSource::File(certs().other_client_key.clone()),
        )))
    })
    .unwrap_err();
    assert_eq!(mismatch.code(), code::TLS, "{mismatch}");
}

#[test]
fn stalled_or_aborted_handshake_never_hangs() {
    // Accepts TCP, never answers the ClientHello.
    let silent = FaultServer::start(|s| {
        std::thread::sleep(Duration::from_secs(3));
        drop(s);
    });
    let c =
        ca_client(|c| c.set_timeouts(Timeouts { connect: Some(Duration::from_millis(400)), ..Timeouts::default() }))
            .unwrap();
    let t0 = Instant::now();
    let e = get(&c, &format!("https://localhost:{}/", silent.port)).unwrap_err();
    assert_eq!(e.code(), code::CONNECT_TIMEOUT, "{e}");
    assert!(t0.elapsed() < Duration::from_millis(1400));
    // Closes right away / sends garbage / sends a TLS alert (close_notify) mid-handshake.
    for reply in [&b""[..], b"HTTP/1.1 400 Bad Request\r\n\r\n", &[0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00]] {
        let srv = FaultServer::start(move |mut s| {
            let mut b = [0u8; 512];
            let _ = std::io::Read::read(&mut s, &mut b);
            let _ = s.write_all(reply);
            let _ = s.shutdown(std::net::Shutdown::Both);
        });
        let t0 = Instant::now();
        let e = get(&c, &format!("https://localhost:{}/", srv.port)).unwrap_err();
        assert_eq!(e.code(), code::TLS, "{e}");
        assert!(t0.elapsed() < Duration::from_secs(2));
    }
}

#[test]
fn tls13_minimum_and_alpn() {
    let n = nginx();
    let c = ca_client(|c| c.set_min_tls_version(httpx::tls::MinVersion::Tls13)).unwrap();
    assert_eq!(get(&c, &n.https_url("/")).unwrap().0, 200);
    // The h2-offering port still talks HTTP/1.1 to us: we advertise only http/1.1.
    let (s, b) = get(&c, &n.https_url_on(n.https_h2_port, "/")).unwrap();
    assert_eq!((s, b.as_slice()), (200, HELLO.as_bytes()));
}

#[test]
fn client_creation_is_cheap_after_the_first() {
    let _ = ca_client(|_| {}).unwrap();
    let t0 = Instant::now();
    for _ in 0..200 {
        let _ = ca_client(|_| {}).unwrap();
    }
    let per = t0.elapsed() / 200;
    eprintln!("client creation with a CA file: {per:?} each");
    assert!(per < Duration::from_millis(5), "client creation took {per:?}");
}

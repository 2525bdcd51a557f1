//! Issue 12: the debug hook (heads exactly as sent and received), connection info and
//! phase timings per response over plain HTTP, TLS 1.2, TLS 1.3 and HTTP/2,
//! HTTPX_E_RESOLVE, messages naming peer and limit, TLS failures in words, trace
//! FAILED events, and the HTTPX_DEBUG environment switch.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use httpx::debug::{DebugFn, DebugKind};
use httpx::error::code;
use httpx::info::Timing;
use httpx::observe::TraceEvent;
use httpx::tls::Trust;
use httpx::{Client, ClientConfig, Response, Timeouts};

type Events = Arc<Mutex<Vec<(DebugKind, Vec<u8>)>>>;

fn recorder() -> (DebugFn, Events) {
    let ev: Events = Arc::new(Mutex::new(Vec::new()));
    let e = ev.clone();
    (Arc::new(move |k, d: &[u8]| e.lock().unwrap().push((k, d.to_vec()))), ev)
}

fn of_kind(ev: &Events, k: DebugKind) -> Vec<Vec<u8>> {
    ev.lock().unwrap().iter().filter(|(x, _)| *x == k).map(|(_, d)| d.clone()).collect()
}

fn texts(ev: &Events) -> Vec<String> {
    of_kind(ev, DebugKind::Text).into_iter().map(|d| String::from_utf8(d).unwrap()).collect()
}

fn cfg() -> ClientConfig {
    let mut c = ClientConfig::default();
    c.set_trust_env(false);
    c.set_trust(Trust::CaFile(certs().ca_pem.clone()));
    c
}

fn get(c: &Client, url: &str) -> Response {
    let mut r = c.send(&c.build_request("GET", url).unwrap()).unwrap();
    r.body().unwrap();
    r
}

fn timings(r: &Response) -> Vec<Duration> {
    [Timing::Queue, Timing::Dns, Timing::Connect, Timing::Tls, Timing::RequestSent, Timing::FirstByte, Timing::Total]
        .iter()
        .map(|t| r.info.timings.get(*t).unwrap())
        .collect()
}

fn assert_ordered(r: &Response) -> Vec<Duration> {
    let t = timings(r);
    for w in t.windows(2) {
        assert!(w[0] <= w[1], "timings out of order: {t:?}");
    }
    t
}

/// A server that records the request it received and answers with fixed bytes: the
/// debug hook must show exactly those bytes.
#[test]
fn debug_heads_are_the_bytes_on_the_wire() {
    let received: Arc<Mutex<Vec<(Vec<u8>, Vec<u8>)>>> = Arc::new(Mutex::new(Vec::new()));
    let head_out = b"HTTP/1.1 200 OK\r\nServer: recorder\r\nX-Odd:  spaced\t\r\nTransfer-Encoding: chunked\r\n\r\n";
    let rec = received.clone();
    let srv = FaultServer::start(move |mut s: TcpStream| {
        for _ in 0..2 {
            let Some((head, body)) = read_request(&mut s) else { return };
            rec.lock().unwrap().push((head, body));
            let mut out = head_out.to_vec();
            out.extend_from_slice(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
            if s.write_all(&out).is_err() {
                return;
            }
        }
    });
    let (hook, ev) = recorder();
    let mut k = cfg();
    k.set_debug(hook);
    let c = Client::new(&k).unwrap();
    let mut req = c.build_request("POST", &srv.url("/rec?a=1")).unwrap();
    req.set_body_bytes(b"payload bytes".to_vec(), Some("text/plain"));
    let mut r = c.send(&req).unwrap();
    assert_eq!(r.body().unwrap(), b"hello world");
    // Second request: streamed body, reused connection.
    let mut req = c.build_request("PUT", &srv.url("/rec2")).unwrap();
    req.set_body_stream(Box::new(std::io::Cursor::new(vec![b'z'; 100_000])), None);
    let mut r2 = c.send(&req).unwrap();
    assert_eq!(r2.body().unwrap(), b"hello world");

    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    let outs = of_kind(&ev, DebugKind::HeaderOut);
    let ins = of_kind(&ev, DebugKind::HeaderIn);
    assert_eq!(outs.len(), 2);
    assert_eq!(outs[0], got[0].0, "HEADER_OUT differs from what the server received");
    assert_eq!(outs[1], got[1].0);
    assert_eq!(ins, vec![head_out.to_vec(), head_out.to_vec()], "HEADER_IN differs from what the server sent");
    let data_out: Vec<u8> = of_kind(&ev, DebugKind::DataOut).concat();
    let mut want = got[0].1.clone();
    want.extend_from_slice(&got[1].1);
    assert_eq!(data_out, want);
    assert_eq!(of_kind(&ev, DebugKind::DataIn).concat(), b"hello worldhello world");
    let t = texts(&ev);
    let port = srv.port;
    assert!(t.iter().any(|l| l == &format!("Connecting to 127.0.0.1:{port}...")), "{t:?}");
    assert!(t.iter().any(|l| l == &format!("Connected to 127.0.0.1 (127.0.0.1) port {port}")), "{t:?}");
    assert!(t.iter().any(|l| l == &format!("Re-using existing connection with host 127.0.0.1:{port}")), "{t:?}");
    assert!(!r.info.reused && r2.info.reused);
}

#[test]
fn info_over_plain_http() {
    let n = nginx();
    let c = Client::new(&cfg()).unwrap();
    let r = get(&c, &n.url("/files/small.txt"));
    let ci = r.info.conn.clone().expect("conn info");
    assert_eq!(ci.remote.unwrap().to_string(), format!("127.0.0.1:{}", n.http_port));
    assert_eq!(ci.local.unwrap().ip().to_string(), "127.0.0.1");
    assert_eq!((ci.tls_version, ci.tls_cipher.as_deref(), ci.alpn.as_deref()), (None, None, None));
    assert!(!r.info.reused);
    let t = assert_ordered(&r);
    // Plain http: TLS reports the connect time.
    assert_eq!(t[3], t[2]);
    let r2 = get(&c, &n.url("/files/small.txt"));
    assert!(r2.info.reused);
    assert_eq!(r2.info.conn.as_ref().unwrap().local, ci.local);
    let t2 = assert_ordered(&r2);
    // Reused: DNS, connect and TLS report the queue time.
    assert_eq!((t2[1], t2[2], t2[3]), (t2[0], t2[0], t2[0]));
    eprintln!("plain http: {ci:?} timings(new) {t:?} timings(reused) {t2:?}");
}

#[test]
fn info_over_tls13_and_min_version() {
    let n = nginx();
    for min13 in [false, true] {
        let mut k = cfg();
        if min13 {
            k.set_min_tls_version(httpx::tls::MinVersion::Tls13);
        }
        let c = Client::new(&k).unwrap();
        let r = get(&c, &n.https_url("/"));
        let ci = r.info.conn.clone().unwrap();
        assert_eq!(ci.tls_version, Some("TLSv1.3"));
        assert!(ci.tls_cipher.as_deref().unwrap().starts_with("TLS13_"), "{ci:?}");
        assert_eq!(ci.alpn.as_deref(), Some("http/1.1"));
        assert_eq!(ci.remote.unwrap().port(), n.https_port);
        let t = assert_ordered(&r);
        assert!(t[3] > t[2], "TLS must take time after connect: {t:?}");
        eprintln!("TLS 1.3 (min13={min13}): {ci:?} timings {t:?}");
    }
}

/// An in-process rustls server that speaks only TLS 1.2 (nginx's versions are fixed
/// by the shared harness), answering each request with "tls12".
fn tls12_server(cert: &std::path::Path, key: &std::path::Path) -> FaultServer {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(cert).unwrap().collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let mut sc = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    sc.alpn_protocols = vec![b"http/1.1".to_vec()];
    let sc = Arc::new(sc);
    FaultServer::start(move |s: TcpStream| {
        let Ok(conn) = rustls::ServerConnection::new(sc.clone()) else { return };
        let mut tls = rustls::StreamOwned::new(conn, s);
        for _ in 0..4 {
            let mut head = Vec::new();
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
                match tls.read(&mut b) {
                    Ok(1) => head.push(b[0]),
                    _ => return,
                }
            }
            if tls.write_all(&http_response(200, &[], b"tls12")).is_err() || tls.flush().is_err() {
                return;
            }
        }
    })
}

#[test]
fn info_over_tls12() {
    let srv = tls12_server(&certs().server_cert, &certs().server_key);
    let c = Client::new(&cfg()).unwrap();
    let url = format!("https://localhost:{}/", srv.port);
    let mut r = get(&c, &url);
    assert_eq!(r.body().unwrap(), b"tls12");
    let ci = r.info.conn.clone().unwrap();
    assert_eq!(ci.tls_version, Some("TLSv1.2"));
    assert!(ci.tls_cipher.as_deref().unwrap().starts_with("TLS_ECDHE_ECDSA_WITH_"), "{ci:?}");
    assert_eq!(ci.alpn.as_deref(), Some("http/1.1"));
    assert_eq!(ci.remote.unwrap().to_string(), format!("127.0.0.1:{}", srv.port));
    assert_ordered(&r);
    let r2 = get(&c, &url);
    assert!(r2.info.reused);
    assert_eq!(r2.info.conn.as_ref().unwrap().tls_version, Some("TLSv1.2"));
    eprintln!("TLS 1.2: {ci:?} timings {:?}", timings(&r));
    // A client that requires TLS 1.3 is refused, in words.
    let mut k = cfg();
    k.set_min_tls_version(httpx::tls::MinVersion::Tls13);
    let e = Client::new(&k).unwrap().send(&Client::new(&k).unwrap().build_request("GET", &url).unwrap()).unwrap_err();
    assert_eq!(e.code(), code::TLS, "{e}");
    assert!(!e.to_string().contains("AlertReceived"), "{e}");
    eprintln!("TLS 1.3 client vs TLS 1.2 server: {e}");
}

#[test]
fn info_and_debug_over_http2() {
    let n = nginx();
    let (hook, ev) = recorder();
    let mut k = cfg();
    k.set_http2(true);
    k.set_debug(hook);
    let c = Client::new(&k).unwrap();
    let t = tag();
    let url = n.https_url_on(n.https_h2_port, &format!("/files/small.txt?{t}=1"));
    let r = get(&c, &url);
    assert_eq!(r.version, httpx::http1::Version::Http2);
    let ci = r.info.conn.clone().unwrap();
    assert_eq!(ci.alpn.as_deref(), Some("h2"));
    assert_eq!(ci.tls_version, Some("TLSv1.3"));
    assert!(ci.tls_cipher.is_some());
    assert_eq!(ci.remote.unwrap().port(), n.https_h2_port);
    assert!(!r.info.reused);
    let tm = assert_ordered(&r);
    let r2 = get(&c, &url);
    assert!(r2.info.reused);
    assert_ordered(&r2);
    let outs = of_kind(&ev, DebugKind::HeaderOut);
    let out = String::from_utf8(outs[0].clone()).unwrap();
    assert!(
        out.starts_with(&format!("GET /files/small.txt?{t}=1 HTTP/2\r\nHost: localhost:{}\r\n", n.https_h2_port)),
        "{out}"
    );
    assert!(out.ends_with("\r\n\r\n") && !out.to_ascii_lowercase().contains("connection: keep-alive"), "{out}");
    let inn = String::from_utf8(of_kind(&ev, DebugKind::HeaderIn)[0].clone()).unwrap();
    assert!(inn.starts_with("HTTP/2 200\r\n") && inn.contains("content-length: 13\r\n"), "{inn}");
    assert_eq!(of_kind(&ev, DebugKind::DataIn).concat(), HELLO.as_bytes().repeat(2));
    let txt = texts(&ev);
    assert!(txt.iter().any(|l| l == "ALPN: server accepted h2"), "{txt:?}");
    assert!(txt.iter().any(|l| l.starts_with("SSL connection using TLSv1.3 / TLS13_")), "{txt:?}");
    eprintln!("HTTP/2: {ci:?} timings {tm:?}\nheads:\n{out}{inn}");
}

/// The server waits 400 ms before its head and 300 ms before the rest of the body.
#[test]
fn timings_follow_a_server_that_delays_its_head() {
    let srv = FaultServer::start(|mut s: TcpStream| {
        if read_request(&mut s).is_none() {
            return;
        }
        std::thread::sleep(Duration::from_millis(400));
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab");
        std::thread::sleep(Duration::from_millis(300));
        let _ = s.write_all(b"cd");
    });
    let c = Client::new(&cfg()).unwrap();
    let mut r = c.send(&c.build_request("GET", &srv.url("/slow")).unwrap()).unwrap();
    assert_eq!(r.info.timings.get(Timing::Total), None, "TOTAL before the body is read");
    assert_eq!(r.body().unwrap(), b"abcd");
    let t = assert_ordered(&r);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let head_wait = ms(t[5] - t[4]);
    let body_wait = ms(t[6] - t[5]);
    eprintln!("delayed head: sent {:.1} ms, first byte {:.1} ms, total {:.1} ms", ms(t[4]), ms(t[5]), ms(t[6]));
    assert!(head_wait >= 380.0 && head_wait < 3000.0, "head wait {head_wait} ms");
    assert!(body_wait >= 280.0 && body_wait < 3000.0, "body wait {body_wait} ms");
    assert!(ms(t[4]) < 380.0, "request sent before the server's delay: {t:?}");
}

#[test]
fn unresolvable_name_is_resolve() {
    let c = Client::new(&cfg()).unwrap();
    let e = c.send(&c.build_request("GET", &format!("http://{}/", common::UNRESOLVABLE_HOST)).unwrap()).unwrap_err();
    assert_eq!(e.code(), code::RESOLVE, "{e}");
    assert_eq!(code::name(code::RESOLVE), "RESOLVE");
    let m = e.to_string();
    assert!(m.starts_with(&format!("could not resolve host: {} (", common::UNRESOLVABLE_HOST)), "{m}");
    assert!(!e.is_timeout());
    eprintln!("{m}");
    // A refused connection stays CONNECT.
    let port = free_port();
    let e = c.send(&c.build_request("GET", &format!("http://127.0.0.1:{port}/")).unwrap()).unwrap_err();
    assert_eq!(e.code(), code::CONNECT, "{e}");
}

#[test]
fn timeouts_name_the_peer_and_the_limit() {
    // Never answers.
    let silent = FaultServer::start(|mut s: TcpStream| {
        let _ = read_request(&mut s);
        std::thread::sleep(Duration::from_secs(5));
    });
    let mut k = cfg();
    k.set_timeouts(Timeouts { read: Some(Duration::from_millis(500)), ..Timeouts::default() });
    let c = Client::new(&k).unwrap();
    let e = c.send(&c.build_request("GET", &silent.url("/")).unwrap()).unwrap_err();
    assert_eq!(e.code(), code::READ_TIMEOUT);
    // The head has a deadline of its own (the read timeout for the whole head); when
    // it coincides with the read timeout the socket's own timeout fires first.
    let m = e.to_string();
    assert!(
        m == format!("read timed out after 0.5 s waiting for 127.0.0.1:{}", silent.port)
            || m == format!("read timed out after 0.5 s waiting for the response head from 127.0.0.1:{}", silent.port),
        "{m}"
    );
    // Stalls in the middle of the body.
    let stall = FaultServer::start(|mut s: TcpStream| {
        let _ = read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab");
        std::thread::sleep(Duration::from_secs(5));
    });
    let mut r = c.send(&c.build_request("GET", &stall.url("/")).unwrap()).unwrap();
    let e = r.body().unwrap_err();
    assert_eq!(e.code(), code::READ_TIMEOUT);
    assert_eq!(e.to_string(), format!("read timed out after 0.5 s waiting for 127.0.0.1:{}", stall.port));
}

#[test]
fn tls_failures_in_words() {
    let n = nginx();
    let c = Client::new(&cfg()).unwrap();
    let fail = |url: String| {
        let e = c.send(&c.build_request("GET", &url).unwrap()).unwrap_err();
        assert_eq!(e.code(), code::TLS, "{e}");
        let m = e.to_string();
        assert!(!m.contains("Other(") && !m.contains("Context {"), "a Debug dump: {m}");
        eprintln!("{m}");
        m
    };
    assert!(fail(n.https_url_on(n.https_expired_port, "/")).contains("the server's certificate has expired"));
    let m = fail(n.https_url_on(n.https_wrong_host_port, "/"));
    assert!(m.contains("the server's certificate is not valid for \"localhost\"; it names wrong.example"), "{m}");
    let m = fail(n.https_url_on(n.https_self_signed_port, "/"));
    assert!(m.contains("was not issued by a trusted certificate authority"), "{m}");
    // A server presenting the CA certificate itself.
    // (Another CA than the trusted one: a trusted self-signed CA:TRUE certificate is
    // accepted for its own server, as curl --cacert does.)
    let srv = tls12_server(&certs().client_ca_pem, &certs().dir.join("client_ca.key"));
    let m = fail(format!("https://localhost:{}/", srv.port));
    assert!(m.contains("the server's certificate is a CA certificate, not a server certificate"), "{m}");
}

#[test]
fn trace_reports_failures() {
    let seen: Arc<Mutex<Vec<(TraceEvent, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let mut k = cfg();
    k.set_trace(Some(Arc::new(move |ev, _d, detail: &str| s2.lock().unwrap().push((ev, detail.to_string())))));
    let c = Client::new(&k).unwrap();
    let port = free_port();
    let e = c.send(&c.build_request("GET", &format!("http://127.0.0.1:{port}/")).unwrap()).unwrap_err();
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.first().map(|x| x.0), Some(TraceEvent::ConnectStart));
    assert_eq!(got.last(), Some(&(TraceEvent::Failed, e.to_string())), "{got:?}");
    assert_eq!(TraceEvent::Failed.code(), 8);
    // A body read failure too.
    let cut = FaultServer::start(|mut s: TcpStream| {
        let _ = read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab");
    });
    seen.lock().unwrap().clear();
    let mut r = c.send(&c.build_request("GET", &cut.url("/")).unwrap()).unwrap();
    let e = r.body().unwrap_err();
    assert_eq!(seen.lock().unwrap().last(), Some(&(TraceEvent::Failed, e.to_string())));
}

#[test]
fn callback_transport_info_is_empty_but_timings_work() {
    struct Fixed;
    impl httpx::transport::Transport for Fixed {
        fn handle(&self, req: httpx::Request, ctx: &httpx::transport::SendContext) -> httpx::Result<Response> {
            let body = Box::new(httpx::response::BytesBody::new(b"x".to_vec()));
            Ok(Response::new(
                200,
                "OK".into(),
                httpx::http1::Version::Http11,
                Default::default(),
                body,
                req,
                ctx.started,
            ))
        }
    }
    let mut k = cfg();
    k.set_transport(Some(Arc::new(Fixed)));
    let c = Client::new(&k).unwrap();
    let r = get(&c, "http://example.invalid/");
    assert!(r.info.conn.is_none() && !r.info.reused);
    assert_ordered(&r);
}

/// Child half of `env_switch_prints_curl_style`: only does something when the parent
/// runs it with the marker variable.
#[test]
fn env_switch_child() {
    let Ok(url) = std::env::var("HTTPX_OBSERVE_CHILD_URL") else { return };
    let mut k = ClientConfig::default();
    k.set_trust_env(std::env::var("HTTPX_OBSERVE_CHILD_TRUST").as_deref() == Ok("1"));
    let c = Client::new(&k).unwrap();
    get(&c, &url);
}

#[test]
fn env_switch_prints_curl_style() {
    let n = nginx();
    let exe = std::env::current_exe().unwrap();
    let run = |trust: &str, var: (&str, &str)| {
        let mut cmd = std::process::Command::new(&exe);
        cmd.args(["--exact", "env_switch_child", "--nocapture", "--test-threads=1"])
            .env("HTTPX_OBSERVE_CHILD_URL", n.url("/files/small.txt"))
            .env("HTTPX_OBSERVE_CHILD_TRUST", trust)
            .env_remove("HTTPX_DEBUG")
            .env_remove("HTTPX_LOG_LEVEL")
            .env(var.0, var.1);
        let (st, out) = run_bounded(&mut cmd, Duration::from_secs(60));
        assert!(st.map(|s| s.success()).unwrap_or(false), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let err = run("1", ("HTTPX_DEBUG", "1"));
    assert!(err.contains(&format!("* Connected to 127.0.0.1 (127.0.0.1) port {}\n", n.http_port)), "{err}");
    assert!(err.contains("> GET /files/small.txt HTTP/1.1\n> Host: 127.0.0.1:"), "{err}");
    assert!(err.contains("< HTTP/1.1 200 OK\n") && err.contains("\n< \n"), "{err}");
    assert!(!err.contains(HELLO), "body bytes are not printed: {err}");
    eprintln!("HTTPX_DEBUG=1 output:\n{err}");
    assert!(run("1", ("HTTPX_LOG_LEVEL", "trace")).contains("> GET /files/small.txt HTTP/1.1"));
    // trust_env off: the variable is ignored.
    assert!(!run("0", ("HTTPX_DEBUG", "1")).contains("> GET"));
    assert!(!run("1", ("HTTPX_DEBUG", "0")).contains("> GET"));
}

#[test]
fn debug_text_for_redirect_closing_and_proxy() {
    let srv = FaultServer::start(|mut s: TcpStream| {
        for _ in 0..4 {
            let Some((head, _)) = read_request(&mut s) else { return };
            let out = if head.starts_with(b"GET /a ") {
                http_response(302, &[("Location", "/b")], b"")
            } else {
                http_response(200, &[("Connection", "close")], b"done")
            };
            if s.write_all(&out).is_err() {
                return;
            }
        }
    });
    let (hook, ev) = recorder();
    let mut k = cfg();
    k.set_follow_redirects(true);
    k.set_debug(hook);
    let c = Client::new(&k).unwrap();
    let mut r = get(&c, &srv.url("/a"));
    assert_eq!(r.body().unwrap(), b"done");
    let t = texts(&ev);
    let port = srv.port;
    assert!(t.iter().any(|l| l == &format!("Following 302 redirect to http://127.0.0.1:{port}/b")), "{t:?}");
    assert!(t.iter().any(|l| l == &format!("Closing connection to 127.0.0.1:{port}")), "{t:?}");
    assert_eq!(of_kind(&ev, DebugKind::HeaderOut).len(), 2);

    // Through an HTTP proxy (forwarding): the proxy is named, and the remote address
    // is the proxy's.
    let p = tinyproxy();
    let (hook, ev) = recorder();
    let mut k = cfg();
    k.set_proxies(vec![httpx::config::ProxySpec {
        key: "all://".into(),
        url: Some(p.url()),
        mode: httpx::config::ProxyMode::Default,
    }])
    .unwrap();
    k.set_debug(hook);
    let c = Client::new(&k).unwrap();
    let n = nginx();
    let r = get(&c, &n.url("/files/small.txt"));
    let t = texts(&ev);
    assert!(t.iter().any(|l| l.starts_with("Uses proxy http://127.0.0.1:")), "{t:?}");
    let proxy_port: u16 = p.url().rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap();
    assert_eq!(r.info.conn.as_ref().unwrap().remote.unwrap().port(), proxy_port);
    let out = String::from_utf8(of_kind(&ev, DebugKind::HeaderOut)[0].clone()).unwrap();
    assert!(out.starts_with(&format!("GET http://127.0.0.1:{}/files/small.txt HTTP/1.1\r\n", n.http_port)), "{out}");
}

//! The multi interface (issue #18): many transfers of one client driven from one
//! thread, against the same real peers as the blocking tests.
mod common;
use common::*;

use std::time::{Duration, Instant};

use httpx::multi::{Completion, Multi};
use httpx::{Client, ClientConfig, Error};

/// Drive `m` until every transfer completed (bounded: `limit`), the way a caller's
/// loop does: wait for the fd / the timeout, perform, collect.
fn drive(m: &mut Multi, limit: Duration) -> Vec<Completion> {
    let until = Instant::now() + limit;
    let mut out = Vec::new();
    loop {
        let running = m.perform(Some(Duration::from_millis(200))).unwrap();
        while let Some(c) = m.next() {
            out.push(c);
        }
        if running == 0 {
            break;
        }
        assert!(Instant::now() < until, "transfers still running after {limit:?}");
    }
    while let Some(c) = m.next() {
        out.push(c);
    }
    out
}

fn client(cfg: ClientConfig) -> Client {
    Client::new(&cfg).unwrap()
}

fn ok_body(c: &mut Completion) -> String {
    let r = c.result.as_mut().unwrap_or_else(|e| panic!("transfer {} failed: {e}", c.tag));
    String::from_utf8(r.body().unwrap().to_vec()).unwrap()
}

#[test]
fn get_many_from_one_thread() {
    let n = nginx();
    let c = client(ClientConfig::default());
    let mut m = Multi::new(&c).unwrap();
    for i in 0..20u64 {
        let req = c.build_request("GET", &n.url("/status/200")).unwrap();
        m.add(&req, i).unwrap();
    }
    assert_eq!(m.running(), 20);
    let mut done = drive(&mut m, Duration::from_secs(20));
    assert_eq!(done.len(), 20);
    let mut tags: Vec<u64> = done.iter().map(|c| c.tag).collect();
    tags.sort();
    assert_eq!(tags, (0..20).collect::<Vec<_>>());
    for c in &mut done {
        assert_eq!(ok_body(c), "status 200");
    }
    // Connections went back to the client's pool.
    let (total, idle) = c.pool_stats();
    assert!(total > 0 && total == idle, "pool {total}/{idle}");
    let _ = Error::Internal(String::new());
}

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use httpx::auth::{Auth, AuthFlow, FlowAction, FlowStep};
use httpx::config::{ProxyMode, ProxySpec};
use httpx::error::code;
use httpx::tls::{PemSource, Trust};
use httpx::transport::callback::{BuiltBody, CallbackTransport, Handler, ResponseBuilder};
use httpx::transport::http::{HttpOptions, HttpTransport};
use httpx::transport::Transport;
use httpx::{Limits, Request, Timeouts};

fn base() -> ClientConfig {
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    k.set_trust(Trust::CaFile(certs().ca_pem.clone()));
    k
}

/// One transfer through a multi; its completion.
fn one(c: &Client, req: &Request) -> Completion {
    let mut m = Multi::new(c).unwrap();
    m.add(req, 7).unwrap();
    let mut done = drive(&mut m, Duration::from_secs(30));
    assert_eq!(done.len(), 1);
    done.pop().unwrap()
}

fn get(c: &Client, url: &str) -> Completion {
    one(c, &c.build_request("GET", url).unwrap())
}

fn code_of(c: &Completion) -> u32 {
    match &c.result {
        Ok(_) => 0,
        Err(e) => e.code(),
    }
}

#[test]
fn merging_headers_params_and_cookies() {
    let n = nginx();
    let mut k = base();
    k.add_header("X-Client", "c1").unwrap();
    k.add_param("from", "client");
    k.add_cookie("jar", "v", "", "/").unwrap();
    let c = client(k);
    let mut req = c.build_request("GET", &n.url("/request-headers?own=1")).unwrap();
    req.headers.set("X-Request", "r1").unwrap();
    let mut done = one(&c, &req);
    let head = ok_body(&mut done);
    assert!(head.starts_with("GET /request-headers?"), "{head}");
    assert!(head.contains("own=1") && head.contains("from=client"), "{head}");
    assert!(head.contains("X-Client: c1") && head.contains("X-Request: r1"), "{head}");
    assert!(head.contains("Cookie: jar=v"), "{head}");
    let r = done.result.as_ref().unwrap();
    assert_eq!(r.version, httpx::http1::Version::Http11);
}

#[test]
fn cookies_are_stored_and_sent() {
    let n = nginx();
    let c = client(base());
    let mut first = get(&c, &n.url("/set-cookie"));
    assert_eq!(ok_body(&mut first), "cookies set");
    let mut second = get(&c, &n.url("/cookies"));
    assert_eq!(ok_body(&mut second), "a=1; b=2");
}

#[test]
fn redirects_followed_and_not() {
    let n = nginx();
    let mut k = base();
    k.set_follow_redirects(true);
    let c = client(k);
    let mut m = Multi::new(&c).unwrap();
    for (i, p) in ["/redirect/301", "/redirect/302", "/redirect/303", "/redirect/307", "/redirect/308"].iter().enumerate() {
        let mut req = c.build_request("POST", &n.url(p)).unwrap();
        req.set_body_bytes(b"data".to_vec(), None);
        m.add(&req, i as u64).unwrap();
    }
    let mut loopy = c.build_request("GET", &n.url("/redirect-loop")).unwrap();
    loopy.headers.set("X-Loop", "1").unwrap();
    m.add(&loopy, 99).unwrap();
    let mut done = drive(&mut m, Duration::from_secs(30));
    done.sort_by_key(|c| c.tag);
    let want = ["GET", "GET", "GET", "POST", "POST"];
    for (c, w) in done.iter_mut().zip(want) {
        assert_eq!(ok_body(c), w, "tag {}", c.tag);
        assert_eq!(c.result.as_ref().unwrap().history.len(), 1);
    }
    assert_eq!(code_of(&done[5]), code::TOO_MANY_REDIRECTS);
    // Not followed: the redirect itself, with its next request.
    let c2 = client(base());
    let d = get(&c2, &n.url("/redirect/302"));
    let r = d.result.unwrap();
    assert_eq!(r.status, 302);
    assert!(r.next_request.is_some());
}

#[test]
fn basic_digest_and_custom_auth() {
    let (n, hb) = (nginx(), httpbin());
    let mut k = base();
    k.set_auth(Some(Arc::new(Auth::basic("user", "passwd").unwrap())));
    let c = client(k);
    let mut d = get(&c, &n.url("/basic-auth"));
    assert_eq!(ok_body(&mut d), "authenticated user");

    let mut k = base();
    k.set_auth(Some(Arc::new(Auth::digest("user", "pass").unwrap())));
    let c = client(k);
    let mut m = Multi::new(&c).unwrap();
    for (i, alg) in ["MD5", "SHA-256", "SHA-512"].iter().enumerate() {
        m.add(&c.build_request("GET", &hb.url(&format!("/digest-auth/auth/user/pass/{alg}"))).unwrap(), i as u64)
            .unwrap();
    }
    for c in drive(&mut m, Duration::from_secs(30)) {
        let r = c.result.unwrap();
        assert_eq!(r.status, 200, "tag {}", c.tag);
        assert_eq!(r.history.len(), 1);
        assert_eq!(r.history[0].status, 401);
    }

    // A custom flow: resend with a token after a 401 (nginx's basic-auth location).
    struct OnChallenge(AtomicUsize);
    impl AuthFlow for OnChallenge {
        fn step(&self, s: &mut FlowStep<'_>) -> httpx::Result<FlowAction> {
            self.0.fetch_add(1, Ordering::SeqCst);
            match s.response.as_deref() {
                None => Ok(FlowAction::Send),
                Some(r) if r.status == 401 => {
                    s.request.headers.set("Authorization", &httpx::auth::basic_header("user", "passwd"))?;
                    Ok(FlowAction::Send)
                }
                Some(_) => Ok(FlowAction::Done),
            }
        }
    }
    let flow = Arc::new(Auth::Custom(Box::new(OnChallenge(AtomicUsize::new(0)))));
    let mut k = base();
    k.set_auth(Some(flow.clone()));
    let c = client(k);
    let mut d = get(&c, &n.url("/basic-auth"));
    assert_eq!(ok_body(&mut d), "authenticated user");
    assert_eq!(d.result.as_ref().unwrap().history.len(), 1);
}

#[test]
fn hooks_run_inside_perform_on_the_calling_thread() {
    let n = nginx();
    let me = std::thread::current().id();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut k = base();
    let s1 = seen.clone();
    k.add_request_hook(Arc::new(move |r: &mut Request| {
        assert_eq!(std::thread::current().id(), me);
        s1.lock().unwrap().push(format!("req {}", r.url.path()));
        r.headers.set("X-Hooked", "yes")
    }));
    let s2 = seen.clone();
    k.add_response_hook(Arc::new(move |r: &mut httpx::Response| {
        assert_eq!(std::thread::current().id(), me);
        s2.lock().unwrap().push(format!("resp {}", r.status));
        Ok(())
    }));
    let c = client(k);
    let mut d = get(&c, &n.url("/request-headers"));
    assert!(ok_body(&mut d).contains("X-Hooked: yes"));
    assert_eq!(*seen.lock().unwrap(), vec!["req /request-headers".to_string(), "resp 200".to_string()]);
}

fn via(url: String) -> Client {
    let mut k = base();
    k.set_proxies(vec![ProxySpec { key: "all://".into(), url: Some(url), mode: ProxyMode::Default }]).unwrap();
    client(k)
}

#[test]
fn proxies_forward_connect_and_socks() {
    let n = nginx();
    let tp = tinyproxy();
    // http:// through a forwarding proxy, https:// through a CONNECT tunnel.
    let c = via(tp.url());
    let mut m = Multi::new(&c).unwrap();
    m.add(&c.build_request("GET", &n.url("/status/200")).unwrap(), 1).unwrap();
    m.add(&c.build_request("GET", &n.https_url("/status/201")).unwrap(), 2).unwrap();
    let mut done = drive(&mut m, Duration::from_secs(30));
    done.sort_by_key(|c| c.tag);
    assert_eq!(ok_body(&mut done[0]), "status 200");
    assert_eq!(ok_body(&mut done[1]), "status 201");
    // With credentials.
    let tpa = tinyproxy_auth();
    let mut d = get(&via(tpa.url_with_auth()), &n.https_url("/status/202"));
    assert_eq!(ok_body(&mut d), "status 202");
    let d = get(&via(tpa.url()), &n.https_url("/status/202"));
    assert_eq!(code_of(&d), code::PROXY, "{:?}", d.result.err());

    // SOCKS5 and SOCKS5h (microsocks), with and without credentials.
    let ms = microsocks();
    for scheme in ["socks5", "socks5h"] {
        let url = ms.url().replacen("socks5", scheme, 1);
        let mut d = get(&via(url), &n.https_url("/status/200"));
        assert_eq!(ok_body(&mut d), "status 200", "{scheme}");
    }
    let msa = microsocks_auth();
    let mut d = get(&via(msa.url_with_auth()), &n.url("/status/200"));
    assert_eq!(ok_body(&mut d), "status 200");
}

#[test]
fn socks4_and_socks4a_through_dante() {
    let n = nginx();
    let d = ExtProxy::danted();
    for scheme in ["socks4", "socks4a", "socks5"] {
        let mut c = get(&via(d.url(scheme)), &format!("http://127.0.0.1:{}/status/200", n.http_port));
        assert_eq!(ok_body(&mut c), "status 200", "{scheme}");
    }
}

#[test]
fn tls_verification_client_certs_and_alpn() {
    let n = nginx();
    let c = client(base());
    let mut d = get(&c, &n.https_url("/status/200"));
    assert_eq!(ok_body(&mut d), "status 200");
    let r = d.result.as_ref().unwrap();
    assert_eq!(r.info.conn.as_ref().unwrap().alpn.as_deref(), Some("http/1.1"));
    assert!(r.info.conn.as_ref().unwrap().tls_version.is_some());
    // Wrong host, expired, self-signed: refused.
    for port in [n.https_wrong_host_port, n.https_expired_port, n.https_self_signed_port] {
        let d = get(&c, &n.https_url_on(port, "/status/200"));
        assert_eq!(code_of(&d), code::TLS, "port {port}: {:?}", d.result.err());
    }
    // mTLS: nginx answers 400 without a certificate, serves with one.
    let d = get(&c, &n.https_url_on(n.https_mtls_port, "/"));
    assert_eq!(d.result.as_ref().unwrap().status, 400);
    let mut k = base();
    k.set_client_cert(Some((PemSource::File(certs().client_cert.clone()), PemSource::File(certs().client_key.clone()))));
    let mut d = get(&client(k), &n.https_url_on(n.https_mtls_port, "/"));
    assert_eq!(ok_body(&mut d), "mtls ok");
}

fn h2_client() -> Client {
    let mut k = base();
    k.set_http2(true);
    client(k)
}

#[test]
fn http2_streams_multiplexed_on_one_connection() {
    let n = nginx();
    let c = h2_client();
    let mut m = Multi::new(&c).unwrap();
    for i in 0..30 {
        let path = if i % 3 == 0 { "/files/64k.bin" } else { "/status/200" };
        m.add(&c.build_request("GET", &n.https_url_on(n.https_h2_port, path)).unwrap(), i).unwrap();
    }
    let mut up = c.build_request("POST", &n.https_url_on(n.https_h2_port, "/echo")).unwrap();
    let big = pseudo_random_bytes(200_000, 9);
    up.set_body_bytes(big.clone(), None);
    m.add(&up, 100).unwrap();
    let mut st = c.build_request("POST", &n.https_url_on(n.https_h2_port, "/echo")).unwrap();
    st.set_body_stream(Box::new(std::io::Cursor::new(big.clone())), None);
    m.add(&st, 101).unwrap();
    let mut done = drive(&mut m, Duration::from_secs(30));
    assert_eq!(done.len(), 32);
    done.sort_by_key(|c| c.tag);
    for d in &mut done {
        let tag = d.tag;
        let r = d.result.as_mut().unwrap_or_else(|e| panic!("tag {tag}: {e}"));
        assert_eq!(r.version, httpx::http1::Version::Http2, "tag {tag}");
        let b = r.body().unwrap().to_vec();
        match tag {
            100 | 101 => assert_eq!(b, big, "tag {tag}"),
            t if t % 3 == 0 => assert_eq!(b.len(), 65536),
            _ => assert_eq!(b, b"status 200"),
        }
    }
    // One connection carried them all: one slot of the pool, one h2 connection.
    assert_eq!(m.http2_connections(), 1);
    assert_eq!(c.pool_stats().0, 1);
    let alpn = done[0].result.as_ref().unwrap().info.conn.as_ref().unwrap().alpn.clone();
    assert_eq!(alpn.as_deref(), Some("h2"));
    assert!(done.iter().filter(|d| d.result.as_ref().unwrap().info.reused).count() >= 30);
    // The next transfers reuse it.
    let d = get_on(&mut m, &c, &n.https_url_on(n.https_h2_port, "/status/201"));
    assert!(d.result.as_ref().unwrap().info.reused);
    drop(m);
    assert_eq!(c.pool_stats().0, 0, "freeing the multi closes its HTTP/2 connection");
}

fn get_on(m: &mut Multi, c: &Client, url: &str) -> Completion {
    m.add(&c.build_request("GET", url).unwrap(), 1).unwrap();
    let mut done = drive(m, Duration::from_secs(20));
    done.pop().unwrap()
}

#[test]
fn http2_fallback_proxy_and_cancel() {
    let n = nginx();
    let c = h2_client();
    // A server that picks http/1.1 in ALPN: HTTP/1.1, and from then on for that origin.
    let mut d = get(&c, &n.https_url("/status/200"));
    assert_eq!(ok_body(&mut d), "status 200");
    assert_eq!(d.result.as_ref().unwrap().version, httpx::http1::Version::Http11);
    // Through a CONNECT tunnel of an http:// proxy.
    let mut k = base();
    k.set_http2(true);
    k.set_proxies(vec![ProxySpec { key: "all://".into(), url: Some(tinyproxy().url()), mode: ProxyMode::Default }]).unwrap();
    let pc = client(k);
    let mut d = get(&pc, &n.https_url_on(n.https_h2_port, "/status/202"));
    assert_eq!(ok_body(&mut d), "status 202");
    assert_eq!(d.result.as_ref().unwrap().version, httpx::http1::Version::Http2);
    // One stream cancelled among several: the others and the connection go on.
    let mut m = Multi::new(&c).unwrap();
    for i in 0..4 {
        m.add(&c.build_request("GET", &n.https_url_on(n.https_h2_port, "/slow-body")).unwrap(), i).unwrap();
    }
    let t0 = Instant::now();
    while m.http2_connections() == 0 && t0.elapsed() < Duration::from_secs(5) {
        m.perform(Some(Duration::from_millis(20))).unwrap();
    }
    for _ in 0..10 {
        m.perform(Some(Duration::from_millis(10))).unwrap();
    }
    assert_eq!(m.cancel(1), 1);
    let mut done = drive(&mut m, Duration::from_secs(20));
    done.sort_by_key(|c| c.tag);
    assert_eq!(done.len(), 4);
    assert_eq!(code_of(&done[1]), code::CANCELLED);
    for i in [0, 2, 3] {
        assert!(ok_body(&mut done[i]).starts_with("start"), "tag {i}");
    }
    assert_eq!(m.http2_connections(), 1);
}

#[test]
fn unix_socket_and_callback_transports() {
    let n = nginx();
    let uds: Arc<dyn Transport> =
        Arc::new(HttpTransport::new(HttpOptions { uds: Some(n.uds_path.clone()), ..HttpOptions::default() }).unwrap());
    struct App(std::thread::ThreadId);
    impl Handler for App {
        fn handle(&self, req: &Request, out: &mut ResponseBuilder) -> httpx::Result<()> {
            assert_eq!(std::thread::current().id(), self.0);
            out.body = BuiltBody::Bytes(format!("app {}", req.url.path()).into_bytes());
            Ok(())
        }
    }
    let mut k = base();
    k.mount("http://uds.local", Some(uds)).unwrap();
    k.mount("http://app.local", Some(Arc::new(CallbackTransport::new(Box::new(App(std::thread::current().id())))))).unwrap();
    let c = client(k);
    let mut m = Multi::new(&c).unwrap();
    m.add(&c.build_request("GET", "http://uds.local/status/200").unwrap(), 1).unwrap();
    m.add(&c.build_request("GET", "http://app.local/hello").unwrap(), 2).unwrap();
    let mut done = drive(&mut m, Duration::from_secs(20));
    done.sort_by_key(|c| c.tag);
    assert_eq!(ok_body(&mut done[0]), "status 200");
    assert_eq!(ok_body(&mut done[1]), "app /hello");
}

#[test]
fn uploads_in_memory_and_streamed() {
    let n = nginx();
    let c = client(base());
    let mut m = Multi::new(&c).unwrap();
    let big = pseudo_random_bytes(300_000, 5);
    let mut a = c.build_request("POST", &n.url("/echo")).unwrap();
    a.set_body_bytes(big.clone(), None);
    m.add(&a, 1).unwrap();
    let mut b = c.build_request("POST", &n.url("/echo")).unwrap();
    b.set_body_stream(Box::new(std::io::Cursor::new(big.clone())), None);
    m.add(&b, 2).unwrap();
    let mut done = drive(&mut m, Duration::from_secs(30));
    done.sort_by_key(|c| c.tag);
    for d in &mut done {
        assert_eq!(d.result.as_mut().unwrap().body().unwrap(), &big[..], "tag {}", d.tag);
    }
}

#[test]
fn downloads_chunked_gzip_and_large() {
    let n = nginx();
    let c = client(base());
    let mut m = Multi::new(&c).unwrap();
    m.add(&c.build_request("GET", &n.url("/chunked")).unwrap(), 1).unwrap();
    m.add(&c.build_request("GET", &n.url("/gzip/hello.txt")).unwrap(), 2).unwrap();
    m.add(&c.build_request("GET", &n.url("/files/1m.bin")).unwrap(), 3).unwrap();
    m.add(&c.build_request("HEAD", &n.url("/files/1m.bin")).unwrap(), 4).unwrap();
    m.add(&c.build_request("GET", &n.url("/status/204")).unwrap(), 5).unwrap();
    let mut done = drive(&mut m, Duration::from_secs(30));
    done.sort_by_key(|c| c.tag);
    assert_eq!(ok_body(&mut done[0]), "chunk1,chunk2,chunk3");
    assert_eq!(ok_body(&mut done[1]), hello_txt());
    let want = std::fs::read(n.file("1m.bin")).unwrap();
    assert_eq!(done[2].result.as_mut().unwrap().body().unwrap(), &want[..]);
    assert_eq!(ok_body(&mut done[3]), "");
    assert_eq!(done[4].result.as_ref().unwrap().status, 204);
}

#[test]
fn pool_limits_queue_and_pool_timeout() {
    let n = Nginx::start();
    let mut k = base();
    k.set_limits(Limits { max_connections: Some(2), ..Limits::default() }).unwrap();
    let c = client(k);
    let mut m = Multi::new(&c).unwrap();
    for i in 0..12 {
        m.add(&c.build_request("GET", &n.url("/status/200")).unwrap(), i).unwrap();
    }
    let mut done = drive(&mut m, Duration::from_secs(30));
    assert_eq!(done.len(), 12);
    for d in &mut done {
        assert_eq!(ok_body(d), "status 200");
    }
    assert!(n.accepted_connections() <= 2, "{} connections", n.accepted_connections());
    // Pool of one held by a slow answer: the next transfer waits the pool timeout.
    let mut k = base();
    k.set_limits(Limits { max_connections: Some(1), ..Limits::default() }).unwrap();
    k.set_timeouts(Timeouts { pool: Some(Duration::from_millis(300)), ..Timeouts::default() });
    let c = client(k);
    let mut m = Multi::new(&c).unwrap();
    m.add(&c.build_request("GET", &n.url("/slow-head")).unwrap(), 1).unwrap();
    m.add(&c.build_request("GET", &n.url("/status/200")).unwrap(), 2).unwrap();
    let t0 = Instant::now();
    let mut first = None;
    while first.is_none() && t0.elapsed() < Duration::from_secs(10) {
        m.perform(Some(Duration::from_millis(50))).unwrap();
        first = m.next();
    }
    let first = first.unwrap();
    assert_eq!(first.tag, 2);
    assert_eq!(code_of(&first), code::POOL_TIMEOUT);
    let e = t0.elapsed();
    assert!(e >= Duration::from_millis(290) && e < Duration::from_secs(2), "{e:?}");
    let rest = drive(&mut m, Duration::from_secs(10));
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].result.as_ref().unwrap().status, 200);
}

#[test]
fn read_total_and_connect_failures() {
    let n = nginx();
    let mut k = base();
    k.set_timeouts(Timeouts { read: Some(Duration::from_millis(300)), ..Timeouts::default() });
    let c = client(k);
    let t0 = Instant::now();
    let d = get(&c, &n.url("/slow-head"));
    assert_eq!(code_of(&d), code::READ_TIMEOUT, "{:?}", d.result.err());
    assert!(t0.elapsed() < Duration::from_secs(2));
    // A body that stalls: the read timeout applies to body reads too.
    let d = get(&c, &n.url("/slow-body"));
    assert_eq!(code_of(&d), code::READ_TIMEOUT, "{:?}", d.result.err());

    let mut k = base();
    k.set_total_timeout(Some(Duration::from_millis(300)));
    let c = client(k);
    let t0 = Instant::now();
    let d = get(&c, &n.url("/slow-body"));
    assert_eq!(code_of(&d), code::TOTAL_TIMEOUT, "{:?}", d.result.err());
    let e = t0.elapsed();
    assert!(e >= Duration::from_millis(290) && e < Duration::from_secs(2), "{e:?}");
    // Per request total timeout.
    let c = client(base());
    let mut req = c.build_request("GET", &n.url("/slow-head")).unwrap();
    req.options.total_timeout = Some(Some(Duration::from_millis(200)));
    assert_eq!(code_of(&one(&c, &req)), code::TOTAL_TIMEOUT);

    // Nothing listens: connect error. An unknown name: resolve error.
    let port = free_port();
    let d = get(&c, &format!("http://127.0.0.1:{port}/"));
    assert_eq!(code_of(&d), code::CONNECT, "{:?}", d.result.err());
    let d = get(&c, &format!("http://{}/", common::UNRESOLVABLE_HOST));
    assert_eq!(code_of(&d), code::RESOLVE, "{:?}", d.result.err());
}

#[test]
fn body_cap_applies() {
    let n = nginx();
    let mut k = base();
    k.set_max_body_bytes(Some(1000));
    let c = client(k);
    let mut m = Multi::new(&c).unwrap();
    m.add(&c.build_request("GET", &n.url("/files/64k.bin")).unwrap(), 1).unwrap();
    m.add(&c.build_request("GET", &n.url("/gzip/1m.bin")).unwrap(), 2).unwrap();
    m.add(&c.build_request("GET", &n.url("/status/200")).unwrap(), 3).unwrap();
    let mut done = drive(&mut m, Duration::from_secs(30));
    done.sort_by_key(|c| c.tag);
    assert_eq!(code_of(&done[0]), code::BODY_TOO_LARGE);
    assert_eq!(code_of(&done[1]), code::BODY_TOO_LARGE);
    assert_eq!(ok_body(&mut done[2]), "status 200");
}

#[test]
fn cancel_one_transfer_among_many() {
    let n = Nginx::start();
    let c = client(base());
    let mut m = Multi::new(&c).unwrap();
    for i in 0..5 {
        m.add(&c.build_request("GET", &n.url("/slow-body")).unwrap(), i).unwrap();
    }
    m.add(&c.build_request("GET", &n.url("/status/200")).unwrap(), 10).unwrap();
    // Let them all connect and send.
    let t0 = Instant::now();
    while n.requests_on_log().is_empty() && t0.elapsed() < Duration::from_secs(5) {
        m.perform(Some(Duration::from_millis(20))).unwrap();
    }
    for _ in 0..10 {
        m.perform(Some(Duration::from_millis(10))).unwrap();
    }
    let t1 = Instant::now();
    assert_eq!(m.cancel(2), 1);
    assert_eq!(m.cancel(12345), 0);
    let mut got = Vec::new();
    while let Some(c) = m.next() {
        got.push(c);
    }
    let cancelled: Vec<_> = got.iter().filter(|c| c.tag == 2).collect();
    assert_eq!(cancelled.len(), 1);
    assert_eq!(code_of(cancelled[0]), code::CANCELLED);
    assert!(t1.elapsed() < Duration::from_millis(100));
    // A request's own token fired from another thread.
    let token = httpx::cancel::CancelToken::new().unwrap();
    let mut req = c.build_request("GET", &n.url("/slow-head")).unwrap();
    req.options.cancel = Some(token.clone());
    m.add(&req, 20).unwrap();
    for _ in 0..5 {
        m.perform(Some(Duration::from_millis(10))).unwrap();
    }
    let th = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        token.fire();
        Instant::now()
    });
    let mut rest = drive(&mut m, Duration::from_secs(20));
    let fired_at = th.join().unwrap();
    rest.extend(got.into_iter().filter(|c| c.tag != 2));
    rest.sort_by_key(|c| c.tag);
    let tags: Vec<u64> = rest.iter().map(|c| c.tag).collect();
    assert_eq!(tags, vec![0, 1, 3, 4, 10, 20]);
    for d in rest.iter_mut().filter(|c| c.tag < 10) {
        assert!(ok_body(d).starts_with("start"), "tag {}", d.tag);
    }
    assert_eq!(ok_body(&mut rest[4]), "status 200");
    assert_eq!(code_of(&rest[5]), code::CANCELLED);
    let _ = fired_at;
    // The cancelled connections were closed, not pooled: 5 good ones came back.
    let (total, idle) = c.pool_stats();
    assert_eq!(total, idle);
    assert!(total <= 5, "{total}");
}

#[test]
fn freeing_a_multi_with_transfers_in_flight_closes_their_connections() {
    let n = Nginx::start();
    let c = client(base());
    let mut m = Multi::new(&c).unwrap();
    for i in 0..4 {
        m.add(&c.build_request("GET", &n.url("/slow-head")).unwrap(), i).unwrap();
    }
    let t0 = Instant::now();
    while c.pool_stats().0 < 4 && t0.elapsed() < Duration::from_secs(5) {
        m.perform(Some(Duration::from_millis(20))).unwrap();
    }
    assert_eq!(c.pool_stats().0, 4);
    drop(m);
    assert_eq!(c.pool_stats(), (0, 0));
    // The client still works (blocking and a new multi).
    let mut r = c.send(&c.build_request("GET", &n.url("/status/200")).unwrap()).unwrap();
    assert_eq!(r.body().unwrap(), b"status 200");
    let mut d = get(&c, &n.url("/status/200"));
    assert_eq!(ok_body(&mut d), "status 200");
}

#[test]
fn fd_and_timeout_drive_a_poll_loop() {
    use std::os::fd::BorrowedFd;
    let n = nginx();
    let mut k = base();
    k.set_timeouts(Timeouts { read: Some(Duration::from_secs(5)), ..Timeouts::default() });
    let c = client(k);
    let mut m = Multi::new(&c).unwrap();
    for i in 0..30 {
        m.add(&c.build_request("GET", &n.url("/files/64k.bin")).unwrap(), i).unwrap();
    }
    // Work is pending: the fd is readable and the timeout is zero.
    assert_eq!(m.timeout(), Some(Duration::ZERO));
    let mut done = 0;
    let t0 = Instant::now();
    let mut performs = 0;
    while done < 30 {
        assert!(t0.elapsed() < Duration::from_secs(30));
        let wait = m.timeout().map(|d| d.as_millis() as i32 + 1).unwrap_or(1000);
        let fd = m.fd();
        #[allow(unsafe_code)]
        let bfd = unsafe { BorrowedFd::borrow_raw(fd) };
        let mut fds = [rustix::event::PollFd::new(&bfd, rustix::event::PollFlags::IN)];
        let ts = rustix::event::Timespec { tv_sec: (wait / 1000) as i64, tv_nsec: ((wait % 1000) * 1_000_000) as _ };
        let _ = rustix::event::poll(&mut fds, Some(&ts));
        m.perform(Some(Duration::ZERO)).unwrap();
        performs += 1;
        while let Some(mut d) = m.next() {
            assert_eq!(d.result.as_mut().unwrap().body().unwrap().len(), 65536);
            done += 1;
        }
    }
    assert!(performs < 5000, "{performs} performs");
    assert_eq!(m.running(), 0);
}

#[test]
fn perform_from_a_callback_is_refused_and_timings_are_filled() {
    let n = nginx();
    let c = client(base());
    let mut d = get(&c, &n.https_url("/status/200"));
    let r = d.result.as_mut().unwrap();
    r.body().unwrap();
    use httpx::info::Timing;
    let t = |w| r.info.timings.get(w).unwrap();
    assert!(t(Timing::Queue) <= t(Timing::Connect));
    assert!(t(Timing::Connect) <= t(Timing::Tls));
    assert!(t(Timing::Tls) <= t(Timing::RequestSent));
    assert!(t(Timing::RequestSent) <= t(Timing::FirstByte));
    assert!(r.info.conn.as_ref().unwrap().remote.is_some());
    assert!(!r.info.reused);
    // Second one reuses the connection.
    let d2 = get(&c, &n.https_url("/status/200"));
    assert!(d2.result.as_ref().unwrap().info.reused);
    // A send on the same client from inside a hook of a multi transfer is refused.
    let mut k = base();
    let inner: Arc<Mutex<Option<Client>>> = Arc::new(Mutex::new(None));
    let i2 = inner.clone();
    let url = n.url("/status/200");
    k.add_request_hook(Arc::new(move |_r: &mut Request| {
        let c = i2.lock().unwrap().clone().unwrap();
        let e = c.send(&c.build_request("GET", &url).unwrap()).unwrap_err();
        assert_eq!(e.code(), code::RECURSIVE_CALL);
        Ok(())
    }));
    let c = client(k);
    *inner.lock().unwrap() = Some(c.clone());
    let mut d = get(&c, &n.url("/status/200"));
    assert_eq!(ok_body(&mut d), "status 200");
    *inner.lock().unwrap() = None;
}

/// Progress and debug `DATA_IN` fire as body bytes arrive, not when the transfer
/// completes: a 1 MiB download in pieces some ms apart (HTTP/1.1 from a FaultServer
/// with a Content-Length; HTTP/2 from nginx's `/drip-1m`, no length) reports in many
/// perform rounds before the one that completes it, monotone, the last report equal
/// to the total, with the arguments the blocking client gives for the same download.
#[test]
fn progress_and_debug_data_in_fire_as_bytes_arrive() {
    use httpx::debug::DebugKind;
    use std::io::Write;
    use std::sync::atomic::AtomicU64;
    type Call = (u64, u64, Option<u64>, u64, Option<u64>);
    let n = nginx();
    let total = 1u64 << 20;
    let pattern: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
    let p2 = pattern.clone();
    // 16 pieces of 64 KiB, 15 ms apart (about 0.25 s).
    let fs = FaultServer::start(move |mut s| {
        while read_request_head(&mut s).is_some() {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", p2.len());
            if s.write_all(head.as_bytes()).is_err() {
                return;
            }
            for piece in p2.chunks(64 * 1024) {
                std::thread::sleep(Duration::from_millis(15));
                if s.write_all(piece).is_err() {
                    return;
                }
            }
        }
    });
    let drip = vec![b'x'; total as usize];
    for (h2, url, want, announced) in [
        (false, fs.url("/1m"), &pattern, Some(total)),
        (true, n.https_url_on(n.https_h2_port, "/drip-1m"), &drip, None),
    ] {
        let round = Arc::new(AtomicU64::new(0));
        let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
        let data_in: Arc<Mutex<Vec<(u64, usize)>>> = Arc::default();
        let mut k = base();
        k.set_http2(h2);
        let (r1, c1) = (round.clone(), calls.clone());
        k.set_progress(Some(Arc::new(move |s, st, r, rt| {
            c1.lock().unwrap().push((r1.load(Ordering::SeqCst), s, st, r, rt));
            true
        })));
        let (r2, d2) = (round.clone(), data_in.clone());
        k.set_debug(Arc::new(move |kind, b: &[u8]| {
            if kind == DebugKind::DataIn {
                d2.lock().unwrap().push((r2.load(Ordering::SeqCst), b.len()));
            }
        }));
        let c = client(k);
        let mut m = Multi::new(&c).unwrap();
        m.add(&c.build_request("GET", &url).unwrap(), 1).unwrap();
        let t0 = Instant::now();
        let mut done = None;
        while done.is_none() {
            assert!(t0.elapsed() < Duration::from_secs(30), "h2={h2}: not done after 30 s");
            round.fetch_add(1, Ordering::SeqCst);
            m.perform(Some(Duration::from_millis(200))).unwrap();
            done = m.next();
        }
        let wall = t0.elapsed();
        let last_round = round.load(Ordering::SeqCst);
        let mut d = done.unwrap();
        assert_eq!(d.result.as_mut().unwrap().body().unwrap(), &want[..], "h2={h2}");
        let got = calls.lock().unwrap().clone();
        let rounds_before = |v: &[u64]| {
            let mut r: Vec<u64> = v.iter().copied().filter(|&r| r < last_round).collect();
            r.dedup();
            r.len()
        };
        let progress_rounds = rounds_before(&got.iter().map(|c| c.0).collect::<Vec<_>>());
        let debug_rounds = rounds_before(&data_in.lock().unwrap().iter().map(|d| d.0).collect::<Vec<_>>());
        eprintln!(
            "h2={h2}: {} progress calls in {progress_rounds} perform rounds before the last of {last_round}, \
             {} DATA_IN pieces in {debug_rounds} rounds, {wall:?}",
            got.len(),
            data_in.lock().unwrap().len()
        );
        assert!(progress_rounds >= 3, "h2={h2}: progress came in {progress_rounds} rounds before completion: {got:?}");
        assert!(debug_rounds >= 3, "h2={h2}: DATA_IN came in {debug_rounds} rounds before completion");
        assert!(got.windows(2).all(|w| w[0].3 <= w[1].3), "h2={h2}: not monotone: {got:?}");
        assert!(got.iter().all(|c| c.1 == 0 && c.2 == Some(0) && c.4 == announced), "h2={h2}: {got:?}");
        assert_eq!(got.last().map(|c| c.3), Some(total), "h2={h2}");
        let shown: usize = data_in.lock().unwrap().iter().map(|d| d.1).sum();
        assert_eq!(shown as u64, total, "h2={h2}: DATA_IN showed each byte once");
        // The blocking client's reports for the same download: same arguments, same end.
        calls.lock().unwrap().clear();
        data_in.lock().unwrap().clear();
        let mut r = c.send(&c.build_request("GET", &url).unwrap()).unwrap();
        assert_eq!(r.body().unwrap(), &want[..]);
        let blocking = calls.lock().unwrap().clone();
        assert!(blocking.len() >= 2, "h2={h2}: {blocking:?}");
        assert!(blocking.iter().all(|c| c.1 == 0 && c.2 == Some(0) && c.4 == announced), "{blocking:?}");
        assert_eq!(blocking.last().map(|c| (c.1, c.2, c.3, c.4)), got.last().map(|c| (c.1, c.2, c.3, c.4)));
        let shown: usize = data_in.lock().unwrap().iter().map(|d| d.1).sum();
        assert_eq!(shown as u64, total, "h2={h2}: blocking DATA_IN");
        eprintln!("h2={h2}: blocking client: {} progress calls", blocking.len());
    }
}

/// A progress callback that returns false while a multi body arrives aborts that
/// transfer with CALLBACK, as in the blocking client (its connection is closed, the
/// rest of the body never read); another transfer on the same multi completes.
#[test]
fn progress_abort_stops_the_transfer_as_bytes_arrive() {
    let n = nginx();
    let big = std::fs::metadata(n.file("1m.bin")).unwrap().len();
    let seen = Arc::new(Mutex::new(0u64));
    let mut k = base();
    k.set_http2(true); // only the https origin speaks HTTP/2
    let s1 = seen.clone();
    k.set_progress(Some(Arc::new(move |_, _, recv, total| {
        if total == Some(big) {
            let mut m = s1.lock().unwrap();
            *m = (*m).max(recv);
            return recv < 256 << 10;
        }
        true
    })));
    let c = client(k);
    for h2 in [false, true] {
        let (url, small) = if h2 {
            (n.https_url_on(n.https_h2_port, "/files/1m.bin"), n.https_url_on(n.https_h2_port, "/status/200"))
        } else {
            (n.url("/files/1m.bin"), n.url("/status/200"))
        };
        let mut m = Multi::new(&c).unwrap();
        m.add(&c.build_request("GET", &url).unwrap(), 1).unwrap();
        m.add(&c.build_request("GET", &small).unwrap(), 2).unwrap();
        let mut done = drive(&mut m, Duration::from_secs(30));
        done.sort_by_key(|d| d.tag);
        assert_eq!(code_of(&done[0]), code::CALLBACK, "h2={h2}");
        assert_eq!(ok_body(&mut done[1]), "status 200");
        let multi_seen = std::mem::take(&mut *seen.lock().unwrap());
        let blocking = c.send(&c.build_request("GET", &url).unwrap()).and_then(|mut r| r.body().map(|_| ()));
        assert_eq!(blocking.map_err(|e| e.code()), Err(code::CALLBACK), "h2={h2}");
        let blocking_seen = std::mem::take(&mut *seen.lock().unwrap());
        eprintln!("h2={h2}: aborted at {multi_seen} bytes (multi), {blocking_seen} (blocking) of {big}");
        assert!(multi_seen >= 256 << 10 && multi_seen < big, "h2={h2}: {multi_seen}");
    }
}

/// A Unix listener whose backlog is full: `listen(0)` and connections queued (never
/// accepted) until a non-blocking connect gets EAGAIN. Returns the listener, the
/// queued clients and the socket path.
fn full_unix_listener(name: &str) -> (socket2::Socket, Vec<socket2::Socket>, std::path::PathBuf) {
    use socket2::{Domain, SockAddr, Socket, Type};
    let path = std::env::temp_dir().join(format!("httpx-multi-{}-{name}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let l = Socket::new(Domain::UNIX, Type::STREAM, None).unwrap();
    l.bind(&SockAddr::unix(&path).unwrap()).unwrap();
    l.listen(0).unwrap();
    let mut queued = Vec::new();
    for _ in 0..256 {
        let s = Socket::new(Domain::UNIX, Type::STREAM.nonblocking(), None).unwrap();
        match s.connect(&SockAddr::unix(&path).unwrap()) {
            Ok(()) => queued.push(s),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return (l, queued, path),
            Err(e) => panic!("filling the backlog: {e}"),
        }
    }
    panic!("the backlog of a listen(0) socket did not fill in 256 connects");
}

fn uds_client(path: &std::path::Path, connect: Duration) -> Client {
    let uds: Arc<dyn Transport> =
        Arc::new(HttpTransport::new(HttpOptions { uds: Some(path.to_path_buf()), ..HttpOptions::default() }).unwrap());
    let mut k = base();
    k.set_timeouts(Timeouts { connect: Some(connect), ..Timeouts::default() });
    k.mount("http://uds.local", Some(uds)).unwrap();
    client(k)
}

/// Issue 18: a Unix-socket connect is non-blocking. A listener with a full backlog does
/// not stall the loop (a TCP transfer beside it completes first); the connect goes
/// through once the listener accepts, and gives up at the connect timeout when it never
/// does.
#[test]
fn unix_socket_connect_to_a_full_backlog_does_not_block_the_loop() {
    let n = nginx();
    // 1. The server starts accepting after 300 ms: the transfer then succeeds.
    let (l, queued, path) = full_unix_listener("late");
    let server = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(queued);
        let until = Instant::now() + Duration::from_secs(10);
        // Accept (bounded) until the client's connection with a request arrives.
        while Instant::now() < until {
            let (mut s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = [0u8; 4096];
            let got = std::io::Read::read(&mut s, &mut buf).unwrap_or(0);
            if got > 0 {
                std::io::Write::write_all(
                    &mut s,
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                )
                .unwrap();
                return;
            }
        }
        panic!("the client never connected");
    });
    let c = uds_client(&path, Duration::from_secs(5));
    let mut m = Multi::new(&c).unwrap();
    let t0 = Instant::now();
    m.add(&c.build_request("GET", "http://uds.local/late").unwrap(), 1).unwrap();
    m.add(&c.build_request("GET", &n.url("/status/200")).unwrap(), 2).unwrap();
    let mut done = drive(&mut m, Duration::from_secs(20));
    let took = t0.elapsed();
    server.join().unwrap();
    assert_eq!(done.len(), 2);
    // The TCP transfer did not wait for the Unix one (completions come in order).
    assert_eq!(done[0].tag, 2, "the nginx transfer finished first");
    assert_eq!(ok_body(&mut done[0]), "status 200");
    assert_eq!(ok_body(&mut done[1]), "ok");
    assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(10), "{took:?}");
    let _ = std::fs::remove_file(&path);

    // 2. Nobody ever accepts: a connect timeout (0.3 s), the loop still free.
    let (_l, _queued, path) = full_unix_listener("never");
    let c = uds_client(&path, Duration::from_millis(300));
    let mut m = Multi::new(&c).unwrap();
    let t0 = Instant::now();
    m.add(&c.build_request("GET", "http://uds.local/never").unwrap(), 1).unwrap();
    let mut done = drive(&mut m, Duration::from_secs(20));
    let took = t0.elapsed();
    let d = done.pop().unwrap();
    assert_eq!(code_of(&d), code::CONNECT_TIMEOUT, "{:?}", d.result.err());
    // Measured ~0.30 s; the margin is for a loaded machine.
    assert!(took >= Duration::from_millis(280) && took < Duration::from_secs(3), "{took:?}");
    let _ = std::fs::remove_file(&path);
}

/// The `getaddrinfo` helper threads of `src/multi/net.rs` (named "httpx-resolve").
fn resolver_threads() -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else { return 0 };
    dir.filter_map(|e| e.ok())
        .filter(|e| std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "httpx-resolve"))
        .count()
}

/// Issue 18: names outside /etc/hosts resolve on helper threads, at most
/// `MAX_RESOLVER_THREADS` (4) at once however many transfers ask; identical names in
/// flight share one lookup. 48 transfers to 12 names that need `getaddrinfo`
/// (`common::unresolvable_host`: a first label over DNS's 63 bytes, so `getaddrinfo`
/// reads /etc/hosts and fails without sending a query: nothing leaves 127.0.0.0/8),
/// four transfers per name. The 30 s connect timeout is only a bound. The cap itself,
/// the queue and the dedupe are also tested with a slow fake lookup in
/// `src/multi/net.rs` (`cargo test --lib multi::net`).
#[test]
fn resolver_threads_are_capped() {
    let mut k = base();
    k.set_timeouts(Timeouts { connect: Some(Duration::from_secs(30)), ..Timeouts::default() });
    let c = client(k);
    let mut m = Multi::new(&c).unwrap();
    let mut tag = 0u64;
    for _ in 0..4 {
        for i in 0..12 {
            m.add(&c.build_request("GET", &format!("http://{}/", common::unresolvable_host(i))).unwrap(), tag).unwrap();
            tag += 1;
        }
    }
    let until = Instant::now() + Duration::from_secs(90);
    let mut peak = 0;
    let mut done = Vec::new();
    while m.running() > 0 {
        peak = peak.max(resolver_threads());
        m.perform(Some(Duration::from_millis(2))).unwrap();
        peak = peak.max(resolver_threads());
        while let Some(d) = m.next() {
            done.push(d);
        }
        assert!(Instant::now() < until, "lookups still running after 90 s");
    }
    while let Some(d) = m.next() {
        done.push(d);
    }
    assert_eq!(done.len(), 48);
    for d in &done {
        assert_eq!(code_of(d), code::RESOLVE, "tag {}: {:?}", d.tag, d.result.as_ref().err());
    }
    assert!(peak <= 4, "{peak} resolver threads at once (cap 4)");
}

//! Transports, mounts and hooks (issue 6): in-process answers with no socket,
//! WSGI-style options, routing by mount key, hooks in order.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use httpx::error::code;
use httpx::transport::callback::{BuiltBody, CallbackTransport, Handler, ResponseBuilder};
use httpx::transport::http::{HttpOptions, HttpTransport};
use httpx::transport::Transport;
use httpx::{Client, ClientConfig, Request};

struct JsonEcho;
impl Handler for JsonEcho {
    fn handle(&self, _req: &Request, out: &mut ResponseBuilder) -> httpx::Result<()> {
        let body = String::from_utf8_lossy(out.request_body()?).to_string();
        out.headers.append("Content-Type", "application/json")?;
        out.body = BuiltBody::Bytes(format!("{{\"body\": \"{body}\"}}").into_bytes());
        Ok(())
    }
}

struct Named(&'static str);
impl Handler for Named {
    fn handle(&self, req: &Request, out: &mut ResponseBuilder) -> httpx::Result<()> {
        out.body = BuiltBody::Bytes(
            format!("{} {} {} {}", self.0, req.url.path(), out.script_name, out.path_info).into_bytes(),
        );
        Ok(())
    }
}

struct Failing;
impl Handler for Failing {
    fn handle(&self, _req: &Request, _out: &mut ResponseBuilder) -> httpx::Result<()> {
        Err(httpx::Error::Callback("the app raised".into()))
    }
}

fn with_transport(t: Arc<dyn Transport>) -> Client {
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    k.set_transport(Some(t));
    Client::new(&k).unwrap()
}

#[test]
fn json_echo_transport_from_the_seed_opens_no_socket() {
    let c = with_transport(Arc::new(CallbackTransport::new(Box::new(JsonEcho))));
    let mut req = c.build_request("POST", "https://httpbin.org/post").unwrap();
    req.set_body_bytes(b"Hello, world!".to_vec(), None);
    let mut r = c.send(&req).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.text().unwrap(), r#"{"body": "Hello, world!"}"#);
    // Streamed request bodies reach the handler too.
    let mut req = c.build_request("POST", "http://testserver/").unwrap();
    req.set_body_stream(Box::new(std::io::Cursor::new(b"streamed".to_vec())), None);
    assert_eq!(c.send(&req).unwrap().text().unwrap(), r#"{"body": "streamed"}"#);
    assert_eq!(c.pool_stats(), (0, 0));
}

#[test]
fn raise_or_answer_500_script_name_remote_addr() {
    let c = with_transport(Arc::new(CallbackTransport::new(Box::new(Failing))));
    assert_eq!(c.send(&c.build_request("GET", "http://testserver/").unwrap()).unwrap_err().code(), code::CALLBACK);
    let mut t = CallbackTransport::new(Box::new(Failing));
    t.raise_errors = false;
    let c = with_transport(Arc::new(t));
    let mut r = c.send(&c.build_request("GET", "http://testserver/").unwrap()).unwrap();
    assert_eq!(r.status, 500);
    assert!(r.text().unwrap().contains("the app raised"));
    let mut t = CallbackTransport::new(Box::new(Named("app")));
    t.script_name = "/mount".into();
    let c = with_transport(Arc::new(t));
    let mut r = c.send(&c.build_request("GET", "http://testserver/mount/users").unwrap()).unwrap();
    assert_eq!(r.text().unwrap(), "app /mount/users /mount /users");
}

#[test]
fn mounts_route_by_most_specific_key() {
    let n = nginx();
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    k.set_mounts(vec![
        ("all://".into(), Some(Arc::new(CallbackTransport::new(Box::new(Named("all")))) as Arc<dyn Transport>)),
        ("https://".into(), Some(Arc::new(CallbackTransport::new(Box::new(Named("https")))) as Arc<dyn Transport>)),
        (
            "all://*example.com".into(),
            Some(Arc::new(CallbackTransport::new(Box::new(Named("example")))) as Arc<dyn Transport>),
        ),
        (format!("http://127.0.0.1:{}", n.http_port), None),
    ])
    .unwrap();
    let c = Client::new(&k).unwrap();
    let body = |u: &str| c.send(&c.build_request("GET", u).unwrap()).unwrap().text().unwrap().to_string();
    assert!(body("http://other.test/a").starts_with("all "));
    assert!(body("https://other.test/a").starts_with("https "));
    assert!(body("https://www.example.com/a").starts_with("example "));
    assert!(body("http://example.com/a").starts_with("example "));
    assert_eq!(body(&n.url("/")), HELLO, "a None mount uses the default network transport");
}

#[test]
fn one_network_transport_shared_by_two_clients() {
    let n = nginx();
    let t: Arc<dyn Transport> = Arc::new(HttpTransport::new(HttpOptions::default()).unwrap());
    let a = with_transport(t.clone());
    let b = with_transport(t);
    for c in [&a, &b] {
        assert_eq!(c.send(&c.build_request("GET", &n.url("/")).unwrap()).unwrap().text().unwrap(), HELLO);
    }
}

#[test]
fn hooks_run_in_order_edit_and_abort() {
    let n = nginx();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    k.set_follow_redirects(true);
    for i in 0..2 {
        let l = log.clone();
        k.add_request_hook(Arc::new(move |r: &mut Request| {
            l.lock().unwrap().push(format!("req{i} {}", r.url.path()));
            r.headers.set("X-Hooked", &i.to_string())
        }));
        let l = log.clone();
        k.add_response_hook(Arc::new(move |r: &mut httpx::Response| {
            l.lock().unwrap().push(format!("resp{i} {}", r.status));
            Ok(())
        }));
    }
    let c = Client::new(&k).unwrap();
    let mut r = c.send(&c.build_request("GET", &n.url("/redirect-to-root")).unwrap()).unwrap();
    assert_eq!(r.text().unwrap(), HELLO);
    assert_eq!(r.request.headers.get("X-Hooked"), Some("1"));
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            "req0 /redirect-to-root",
            "req1 /redirect-to-root",
            "resp0 302",
            "resp1 302",
            "req0 /",
            "req1 /",
            "resp0 200",
            "resp1 200"
        ]
    );
    // A response hook that reads the body and aborts.
    let mut k = ClientConfig::default();
    k.add_response_hook(Arc::new(|r: &mut httpx::Response| {
        if r.body()? == HELLO.as_bytes() {
            Err(httpx::Error::Callback("hook said no".into()))
        } else {
            Ok(())
        }
    }));
    let c = Client::new(&k).unwrap();
    let e = c.send(&c.build_request("GET", &n.url("/")).unwrap()).unwrap_err();
    assert_eq!(e.code(), code::CALLBACK);
    assert!(e.to_string().contains("hook said no"));
}

#[test]
fn sending_from_a_callback_on_the_same_client_is_refused() {
    // The handler holds its own client and sends on it.
    struct Wrap(Arc<Mutex<Option<Client>>>);
    impl Handler for Wrap {
        fn handle(&self, req: &Request, _out: &mut ResponseBuilder) -> httpx::Result<()> {
            let c = self.0.lock().unwrap().clone().unwrap();
            c.send(req).map(|_| ())
        }
    }
    let slot = Arc::new(Mutex::new(None));
    let c2 = with_transport(Arc::new(CallbackTransport::new(Box::new(Wrap(slot.clone())))));
    *slot.lock().unwrap() = Some(c2.clone());
    let e = c2.send(&c2.build_request("GET", "http://testserver/").unwrap()).unwrap_err();
    assert_eq!(e.code(), code::RECURSIVE_CALL, "{e}");
    *slot.lock().unwrap() = None; // break the cycle
}

#[test]
fn progress_can_cancel_a_download_and_trace_reports_milestones() {
    use httpx::observe::{Observers, TraceEvent};
    let n = nginx();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let mut k = ClientConfig::default();
    k.set_observers(Observers {
        trace: Some(Arc::new(move |ev, _t, _d| s2.lock().unwrap().push(ev))),
        progress: Some(Arc::new(|_s, _st, recv, total| {
            assert_eq!(total, Some(1 << 20));
            recv < 200_000
        })),
        ..Default::default()
    });
    let c = Client::new(&k).unwrap();
    let mut r = c.send(&c.build_request("GET", &n.url("/files/1m.bin")).unwrap()).unwrap();
    let e = r.body().unwrap_err();
    assert_eq!(e.code(), code::CALLBACK, "{e}");
    assert_eq!(c.pool_stats(), (0, 0), "the cancelled connection is closed");
    let ev = seen.lock().unwrap().clone();
    assert_eq!(
        ev,
        vec![TraceEvent::ConnectStart, TraceEvent::Connected, TraceEvent::RequestSent, TraceEvent::HeadersReceived]
    );
    // Upload progress sees the whole streamed body.
    let last = Arc::new(Mutex::new((0u64, None)));
    let l2 = last.clone();
    let mut k = ClientConfig::default();
    k.set_progress(Some(Arc::new(move |s, st, _r, _rt| {
        *l2.lock().unwrap() = (s, st);
        true
    })));
    let c = Client::new(&k).unwrap();
    let mut req = c.build_request("POST", &n.url("/upload")).unwrap();
    req.set_body_stream(Box::new(std::io::Cursor::new(vec![7u8; 300_000])), Some(300_000));
    let mut r = c.send(&req).unwrap();
    assert_eq!(r.body().unwrap(), b"ok");
    assert_eq!(*last.lock().unwrap(), (300_000, Some(300_000)));
}

struct Counter;
impl Handler for Counter {
    fn handle(&self, _req: &Request, out: &mut ResponseBuilder) -> httpx::Result<()> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        for _ in 0..100_000 {
            let n = out.read_request_body(&mut buf)?;
            if n == 0 {
                break;
            }
            total += n as u64;
        }
        assert_eq!(out.request_body().unwrap_err().code(), code::STREAM_CONSUMED);
        out.body = BuiltBody::Bytes(total.to_string().into_bytes());
        Ok(())
    }
}

#[test]
fn callback_transport_streams_large_uploads() {
    use std::io::Read;
    let c = with_transport(Arc::new(CallbackTransport::new(Box::new(Counter))));
    let mut req = c.build_request("PUT", "http://testserver/upload").unwrap();
    let size = 256u64 << 20;
    req.set_body_stream(Box::new(std::io::repeat(7).take(size)), Some(size));
    let mut r = c.send(&req).unwrap();
    assert_eq!(r.text().unwrap(), size.to_string());
}

#[test]
fn network_transport_retries_connects_and_binds_a_local_address() {
    use std::io::Write;
    // Nothing listens yet: the server appears ~400 ms later.
    let port = free_port();
    let server = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(400));
        let l = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let (mut s, peer) = l.accept().unwrap();
        let _ = read_request_head(&mut s);
        let _ = s.write_all(&http_response(200, &[], peer.ip().to_string().as_bytes()));
        std::thread::sleep(std::time::Duration::from_millis(50));
    });
    let url = format!("http://127.0.0.1:{port}/");
    let no_retry = with_transport(Arc::new(HttpTransport::new(HttpOptions::default()).unwrap()));
    assert_eq!(no_retry.send(&no_retry.build_request("GET", &url).unwrap()).unwrap_err().code(), code::CONNECT);
    let t = HttpTransport::new(HttpOptions {
        retries: 3,
        local_address: Some("127.0.0.2:0".parse().unwrap()),
        ..HttpOptions::default()
    })
    .unwrap();
    let c = with_transport(Arc::new(t));
    let t0 = std::time::Instant::now();
    let mut r = c.send(&c.build_request("GET", &url).unwrap()).unwrap();
    assert_eq!(r.text().unwrap(), "127.0.0.2", "the connection came from the bound local address");
    assert!(t0.elapsed() < std::time::Duration::from_secs(4));
    server.join().unwrap();
}

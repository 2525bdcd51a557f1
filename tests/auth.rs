//! Authentication (issue 5): Basic, Digest (httpbin + an in-process server for
//! -sess, stale and auth-int with a body), .netrc, custom multi-step flows.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use httpx::auth::{Auth, AuthFlow, FlowAction, FlowStep};
use httpx::client::{AuthChoice, SendOptions};
use httpx::error::code;
use httpx::transport::callback::{BuiltBody, CallbackTransport, Handler, ResponseBuilder};
use httpx::{Client, ClientConfig, Request};
use md5::{Digest, Md5};

fn client(auth: Option<Auth>, f: impl FnOnce(&mut ClientConfig)) -> (Client, Arc<AtomicUsize>) {
    let sent = Arc::new(AtomicUsize::new(0));
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    k.set_auth(auth.map(Arc::new));
    let s = sent.clone();
    k.add_request_hook(Arc::new(move |_r: &mut Request| {
        s.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }));
    f(&mut k);
    (Client::new(&k).unwrap(), sent)
}

fn get(c: &Client, url: &str) -> httpx::Response {
    let mut r = c.send(&c.build_request("GET", url).unwrap()).unwrap();
    r.body().unwrap();
    r
}

#[test]
fn basic_auth_and_url_credentials() {
    let hb = httpbin();
    let (c, _) = client(Some(Auth::basic("user", "pass").unwrap()), |_| {});
    assert_eq!(get(&c, &hb.url("/basic-auth/user/pass")).status, 200);
    assert_eq!(get(&c, &hb.url("/hidden-basic-auth/user/pass")).status, 200);
    assert_eq!(get(&c, &hb.url("/basic-auth/user/other")).status, 401);
    // Credentials in the URL: used as Basic and stripped from the URL sent.
    let (c, _) = client(None, |_| {});
    let url = format!("http://us%40er:p%3Ass@127.0.0.1:{}/basic-auth/us@er/p:ss", hb.port);
    let r = get(&c, &url);
    assert_eq!(r.status, 200);
    assert_eq!(r.request.url.username(), "");
    assert!(r.request.url.password().is_none());
    assert_eq!(Auth::basic("a\r\nb", "x").err().unwrap().code(), code::INVALID_ARGUMENT);
}

#[test]
fn digest_against_httpbin_all_algorithms_and_qops() {
    let hb = httpbin();
    for qop in ["auth", "auth-int"] {
        for alg in ["MD5", "SHA-256", "SHA-512"] {
            let (c, sent) = client(Some(Auth::digest("user", "pass").unwrap()), |_| {});
            let url = hb.url(&format!("/digest-auth/{qop}/user/pass/{alg}"));
            let r = get(&c, &url);
            assert_eq!(r.status, 200, "{qop} {alg}");
            assert_eq!(r.history.len(), 1);
            assert_eq!(sent.load(Ordering::SeqCst), 2);
            // The challenge is reused: the next call is one request, no 401.
            let r = get(&c, &url);
            assert_eq!(r.status, 200, "{qop} {alg} (reused)");
            assert_eq!(r.history.len(), 0);
            assert_eq!(sent.load(Ordering::SeqCst), 3, "{qop} {alg}: one request per call after the first");
        }
    }
    let (c, _) = client(Some(Auth::digest("user", "wrong").unwrap()), |_| {});
    assert_eq!(get(&c, &hb.url("/digest-auth/auth/user/pass/MD5")).status, 401);
}

#[test]
fn digest_stale_nonce_is_retried_once() {
    let hb = httpbin();
    let (c, sent) = client(Some(Auth::digest("user", "pass").unwrap()), |_| {});
    // httpbin marks the nonce stale after N uses.
    let url = hb.url("/digest-auth/auth/user/pass/MD5/2");
    for i in 0..4 {
        let r = get(&c, &url);
        if r.status != 200 {
            for h in r.history.iter().chain(std::iter::once(&r)) {
                eprintln!("round {i}: {} {:?} -> {} {:?}", h.request.method, h.request.headers, h.status, h.headers);
            }
        }
        assert_eq!(r.status, 200, "round {i}");
    }
    assert!(sent.load(Ordering::SeqCst) <= 8);
}

/// An independent RFC 7616 checker: MD5 and MD5-sess with qop auth / auth-int.
fn digest_server(alg: &'static str, qop: &'static str, stale_every: usize) -> FaultServer {
    let count = Arc::new(AtomicUsize::new(0));
    FaultServer::start(move |mut s| {
        for _ in 0..20 {
            let Some((head, body)) = read_request(&mut s) else { return };
            let head = String::from_utf8_lossy(&head).to_string();
            let n = count.fetch_add(1, Ordering::SeqCst);
            let nonce = format!("nonce{}", n / stale_every.max(1));
            let auth = head
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                .map(|l| l[14..].trim().to_string());
            let ok = auth.as_deref().map(|a| check(a, &head, &body, alg, &nonce)).unwrap_or(Err(false));
            let resp = match ok {
                Ok(()) => http_response(200, &[], b"digest ok"),
                Err(stale) => {
                    let ch = format!(
                        "Digest realm=\"r@x\", nonce=\"{nonce}\", qop=\"{qop}\", algorithm={alg}, opaque=\"op\"{}",
                        if stale { ", stale=true" } else { "" }
                    );
                    http_response(401, &[("WWW-Authenticate", &ch)], b"")
                }
            };
            if s.write_all(&resp).is_err() {
                return;
            }
        }
    })
}

fn h(s: &[u8]) -> String {
    Md5::digest(s).iter().map(|b| format!("{b:02x}")).collect()
}

fn check(auth: &str, head: &str, body: &[u8], alg: &str, nonce: &str) -> Result<(), bool> {
    let p: HashMap<String, String> = auth
        .trim_start_matches("Digest ")
        .split(", ")
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim_matches('"').to_string()))
        .collect();
    if p.get("nonce").map(String::as_str) != Some(nonce) {
        return Err(true); // stale
    }
    let method = head.split(' ').next().unwrap();
    let mut ha1 = h(format!("{}:r@x:pass", p["username"]).as_bytes());
    if alg.ends_with("-sess") {
        ha1 = h(format!("{ha1}:{nonce}:{}", p["cnonce"]).as_bytes());
    }
    let ha2 = if p["qop"] == "auth-int" {
        h(format!("{method}:{}:{}", p["uri"], h(body)).as_bytes())
    } else {
        h(format!("{method}:{}", p["uri"]).as_bytes())
    };
    let expect = h(format!("{ha1}:{nonce}:{}:{}:{}:{ha2}", p["nc"], p["cnonce"], p["qop"]).as_bytes());
    if p["response"] == expect && p.get("opaque").map(String::as_str) == Some("op") {
        Ok(())
    } else {
        Err(false)
    }
}

#[test]
fn digest_sess_auth_int_with_body_and_stale() {
    for (alg, qop) in [("MD5-sess", "auth"), ("MD5", "auth-int"), ("MD5-sess", "auth-int")] {
        let srv = digest_server(alg, qop, 1000);
        let (c, sent) = client(Some(Auth::digest("user", "pass").unwrap()), |_| {});
        let mut req = c.build_request("POST", &srv.url("/submit?x=1")).unwrap();
        req.set_body_bytes(b"the body that auth-int hashes".to_vec(), Some("text/plain"));
        let mut r = c.send(&req).unwrap();
        assert_eq!((r.status, r.body().unwrap()), (200, &b"digest ok"[..]), "{alg} {qop}");
        let mut r = c.send(&req).unwrap();
        assert_eq!(r.body().unwrap(), b"digest ok");
        assert_eq!(sent.load(Ordering::SeqCst), 3, "{alg} {qop}");
    }
    // The nonce changes every second request: each cached attempt is stale and
    // retried once with the new nonce.
    let srv = digest_server("MD5", "auth", 2);
    let (c, sent) = client(Some(Auth::digest("user", "pass").unwrap()), |_| {});
    for i in 1..=3 {
        let r = get(&c, &srv.url("/"));
        assert_eq!(r.status, 200, "round {i}");
    }
    assert_eq!(sent.load(Ordering::SeqCst), 6);
}

#[test]
fn digest_challenge_without_nonce_is_remote_protocol() {
    let srv = FaultServer::start(|mut s| {
        let _ = read_request_head(&mut s);
        let _ = s.write_all(&http_response(401, &[("WWW-Authenticate", "Digest realm=\"x\"")], b""));
        let _ = s.shutdown(std::net::Shutdown::Both);
    });
    let (c, _) = client(Some(Auth::digest("u", "p").unwrap()), |_| {});
    let e = c.send(&c.build_request("GET", &srv.url("/")).unwrap()).unwrap_err();
    assert_eq!(e.code(), code::REMOTE_PROTOCOL, "{e}");
}

#[test]
fn netrc_file_gives_basic_auth() {
    let hb = httpbin();
    let dir = unique_temp_dir("netrc");
    let path = dir.join("netrc");
    std::fs::write(&path, "machine 127.0.0.1\n  login user\n  password pass\n\ndefault login x password y\n").unwrap();
    let (c, _) = client(Some(Auth::netrc(Some(&path)).unwrap()), |_| {});
    assert_eq!(get(&c, &hb.url("/basic-auth/user/pass")).status, 200);
    std::fs::write(&path, "machine 127.0.0.1 login user\npassword").unwrap();
    let e = Auth::netrc(Some(&path)).err().unwrap();
    assert_eq!(e.code(), code::IO);
    assert!(e.to_string().contains("line"), "{e}");
    let _ = std::fs::remove_dir_all(dir);
}

// --- custom flows: the seed's three examples -------------------------------------------

struct TokenApp;
impl Handler for TokenApp {
    fn handle(&self, req: &Request, out: &mut ResponseBuilder) -> httpx::Result<()> {
        let tok = req.headers.get("X-Authentication").unwrap_or("");
        match req.url.path() {
            "/refresh" => out.body = BuiltBody::Bytes(b"fresh-token".to_vec()),
            _ if tok == "fresh-token" || tok == "static-token" => out.body = BuiltBody::Bytes(b"welcome".to_vec()),
            _ => out.status = 401,
        }
        Ok(())
    }
}

fn app_client(flow: impl AuthFlow + 'static) -> Client {
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    k.set_transport(Some(Arc::new(CallbackTransport::new(Box::new(TokenApp)))));
    k.set_auth(Some(Arc::new(Auth::Custom(Box::new(flow)))));
    Client::new(&k).unwrap()
}

struct HeaderToken;
impl AuthFlow for HeaderToken {
    fn step(&self, s: &mut FlowStep<'_>) -> httpx::Result<FlowAction> {
        if s.response.is_some() {
            return Ok(FlowAction::Done);
        }
        s.request.headers.set("X-Authentication", "static-token")?;
        Ok(FlowAction::Send)
    }
}

struct ResendOn401;
impl AuthFlow for ResendOn401 {
    fn step(&self, s: &mut FlowStep<'_>) -> httpx::Result<FlowAction> {
        match s.response.as_deref() {
            None => Ok(FlowAction::Send),
            Some(r) if r.status == 401 && s.step == 1 => {
                s.request.headers.set("X-Authentication", "static-token")?;
                Ok(FlowAction::Send)
            }
            Some(_) => Ok(FlowAction::Done),
        }
    }
}

struct Refresh {
    token: Mutex<String>,
}
impl AuthFlow for Refresh {
    fn requires_response_body(&self) -> bool {
        true
    }
    fn step(&self, s: &mut FlowStep<'_>) -> httpx::Result<FlowAction> {
        match (s.step, s.response.as_deref_mut()) {
            (0, _) => {
                s.request.headers.set("X-Authentication", &self.token.lock().unwrap())?;
                Ok(FlowAction::Send)
            }
            (1, Some(r)) if r.status == 401 => {
                let mut refresh = Request::new("POST", "http://app.test/refresh")?;
                refresh.set_body_bytes(b"refresh-token".to_vec(), None);
                s.queued = Some(refresh);
                Ok(FlowAction::Send)
            }
            (2, Some(r)) => {
                *self.token.lock().unwrap() = String::from_utf8_lossy(r.body()?).to_string();
                s.request.headers.set("X-Authentication", &self.token.lock().unwrap())?;
                Ok(FlowAction::Send)
            }
            _ => Ok(FlowAction::Done),
        }
    }
}

#[test]
fn custom_flows_from_the_seed() {
    let c = app_client(HeaderToken);
    let mut r = c.send(&c.build_request("GET", "http://app.test/").unwrap()).unwrap();
    assert_eq!((r.status, r.body().unwrap()), (200, &b"welcome"[..]));

    let c = app_client(ResendOn401);
    let mut r = c.send(&c.build_request("GET", "http://app.test/").unwrap()).unwrap();
    assert_eq!((r.status, r.body().unwrap()), (200, &b"welcome"[..]));
    assert_eq!(r.history.len(), 1);
    assert_eq!(r.history[0].status, 401);

    let c = app_client(Refresh { token: Mutex::new("expired".into()) });
    let mut r = c.send(&c.build_request("GET", "http://app.test/data").unwrap()).unwrap();
    assert_eq!((r.status, r.body().unwrap()), (200, &b"welcome"[..]));
    assert_eq!(r.history.iter().map(|h| h.status).collect::<Vec<_>>(), vec![401, 200]);
    assert_eq!(r.history[1].url.path(), "/refresh");
}

struct Forever;
impl AuthFlow for Forever {
    fn step(&self, _s: &mut FlowStep<'_>) -> httpx::Result<FlowAction> {
        Ok(FlowAction::Send)
    }
}

struct Fails;
impl AuthFlow for Fails {
    fn step(&self, _s: &mut FlowStep<'_>) -> httpx::Result<FlowAction> {
        Err(httpx::Error::Callback("no token".into()))
    }
}

#[test]
fn custom_flow_steps_are_capped_and_errors_abort() {
    let c = app_client(Forever);
    assert_eq!(c.send(&c.build_request("GET", "http://app.test/").unwrap()).unwrap_err().code(), code::CALLBACK);
    let c = app_client(Fails);
    assert_eq!(c.send(&c.build_request("GET", "http://app.test/").unwrap()).unwrap_err().code(), code::CALLBACK);
    // Request-level "no auth" skips the flow.
    let req = c.build_request("GET", "http://app.test/").unwrap();
    let no_auth = SendOptions { auth: AuthChoice::Disabled, ..SendOptions::default() };
    assert_eq!(c.send_with(&req, &no_auth).unwrap().status, 401);
}

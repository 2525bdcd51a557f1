//! HTTPX Client semantics against httpbin and nginx (issue 4): merging, base_url,
//! explicit requests, cookies, redirects, bodies, decoding.

mod common;

use std::sync::Arc;

use common::*;
use httpx::auth::Auth;
use httpx::client::{AuthChoice, SendOptions};
use httpx::error::code;
use httpx::{Client, ClientConfig, Request};

fn json(r: &mut httpx::Response) -> String {
    r.text().unwrap().to_string()
}

fn cfg() -> ClientConfig {
    let mut c = ClientConfig::default();
    c.set_trust_env(false);
    c
}

fn send(c: &Client, req: &Request) -> httpx::Response {
    send_with(c, req, SendOptions::default())
}

/// HTTPX's `client.send(request, auth=..., follow_redirects=...)`.
fn send_with(c: &Client, req: &Request, opts: SendOptions) -> httpx::Response {
    let mut r = c.send_with(req, &opts).unwrap();
    r.body().unwrap();
    r
}

fn following() -> SendOptions {
    SendOptions { follow_redirects: Some(true), ..SendOptions::default() }
}

#[test]
fn headers_and_params_merge_like_the_seed() {
    let hb = httpbin();
    let mut k = cfg();
    k.add_header("X-Auth", "from-client").unwrap();
    k.add_param("client_id", "client1");
    let c = Client::new(&k).unwrap();
    let mut req = c.build_request("GET", &hb.url("/get")).unwrap();
    req.headers.set("X-Custom", "from-request").unwrap();
    req.add_params(&[("request_id".into(), "request1".into())]);
    let mut r = send(&c, &req);
    assert_eq!(r.request.url.query(), Some("client_id=client1&request_id=request1"));
    assert_eq!(r.request.headers.get("X-Auth"), Some("from-client"));
    assert_eq!(r.request.headers.get("X-Custom"), Some("from-request"));
    let body = json(&mut r);
    assert!(body.contains(r#""X-Auth": "from-client""#), "{body}");
    assert!(body.contains(r#""request_id": "request1""#), "{body}");
    // Request header of the same name wins; request param replaces all client values.
    let mut k = cfg();
    k.add_header("User-Agent", "my-app/0.0.1").unwrap();
    k.add_param("a", "1");
    k.add_param("a", "2");
    let c = Client::new(&k).unwrap();
    let mut req = c.build_request("GET", &hb.url("/headers")).unwrap();
    assert_eq!(req.headers.get("user-agent"), Some("my-app/0.0.1"));
    req.headers.set("User-Agent", "override").unwrap();
    req.add_params(&[("a".into(), "9".into())]);
    assert_eq!(req.url.query(), Some("a=9"));
    let mut r = send(&c, &req);
    assert!(json(&mut r).contains(r#""User-Agent": "override""#));
}

#[test]
fn base_url_keeps_its_path() {
    let hb = httpbin();
    let mut k = cfg();
    k.set_base_url(Some(hb.url("/anything/api")).as_deref()).unwrap();
    let c = Client::new(&k).unwrap();
    let mut r = send(&c, &c.build_request("GET", "/users?x=1").unwrap());
    assert_eq!(r.url.path(), "/anything/api/users");
    assert!(json(&mut r).contains("/anything/api/users?x=1"));
    let mut k = cfg();
    k.set_base_url(Some(hb.url("")).as_deref()).unwrap();
    let c = Client::new(&k).unwrap();
    assert_eq!(send(&c, &c.build_request("GET", "/headers").unwrap()).request.url.as_str(), hb.url("/headers"));
}

#[test]
fn explicit_request_flow_from_the_seed() {
    let hb = httpbin();
    let mut k = cfg();
    k.add_header("X-Api-Key", "secret").unwrap();
    k.add_header("X-Client-ID", "ABC123").unwrap();
    let c = Client::new(&k).unwrap();
    let mut req = c.build_request("GET", &hb.url("/headers")).unwrap();
    assert_eq!(req.headers.get("X-Client-ID"), Some("ABC123"));
    req.headers.remove("X-Api-Key");
    let mut r = send(&c, &req);
    let b = json(&mut r);
    assert!(b.contains("ABC123") && !b.contains("secret"), "{b}");
    // A standalone Request sent by a client keeps exactly its own headers.
    let req = Request::new("GET", &hb.url("/headers")).unwrap();
    let mut r = send(&c, &req);
    assert!(!json(&mut r).contains("ABC123"));
}

#[test]
fn request_auth_overrides_and_can_disable_client_auth() {
    let hb = httpbin();
    let mut k = cfg();
    k.set_auth(Some(Arc::new(Auth::basic("tom", "mot123").unwrap())));
    let c = Client::new(&k).unwrap();
    let req = c.build_request("GET", &hb.url("/basic-auth/alice/ecila123")).unwrap();
    let auth = AuthChoice::Use(Arc::new(Auth::basic("alice", "ecila123").unwrap()));
    let r = send_with(&c, &req, SendOptions { auth, ..SendOptions::default() });
    assert_eq!(r.status, 200);
    let v = r.request.headers.get("Authorization").unwrap();
    assert_eq!(v, "Basic YWxpY2U6ZWNpbGExMjM=");
    let req = c.build_request("GET", &hb.url("/headers")).unwrap();
    let r = send_with(&c, &req, SendOptions { auth: AuthChoice::Disabled, ..SendOptions::default() });
    assert!(r.request.headers.get("Authorization").is_none());
}

#[test]
fn cookies_persist_across_requests_and_redirects() {
    let hb = httpbin();
    let c = Client::new(&cfg()).unwrap();
    let req = c.build_request("GET", &hb.url("/cookies/set?flavor=oat&n=1")).unwrap();
    let mut r = send_with(&c, &req, following());
    assert_eq!(r.status, 200);
    assert_eq!(r.history.len(), 1);
    let b = json(&mut r);
    assert!(b.contains(r#""flavor": "oat""#), "{b}");
    assert_eq!(c.cookies().get("flavor", None, None).as_deref(), Some("oat"));
    let mut r = send(&c, &c.build_request("GET", &hb.url("/cookies")).unwrap());
    assert!(json(&mut r).contains("oat"));
    // Deleted by the server.
    let req = c.build_request("GET", &hb.url("/cookies/delete?flavor")).unwrap();
    let mut r = send_with(&c, &req, following());
    assert!(!json(&mut r).contains("oat"));
    // Client-level cookies from config; cookies never go to other hosts.
    let mut k = cfg();
    k.add_cookie("sid", "42", "127.0.0.1", "/").unwrap();
    let c = Client::new(&k).unwrap();
    let r = send(&c, &c.build_request("GET", &hb.url("/cookies")).unwrap());
    assert_eq!(r.request.headers.get("cookie"), Some("sid=42"));
    let r = send(&c, &c.build_request("GET", &format!("http://localhost:{}/cookies", hb.port)).unwrap());
    assert_eq!(r.request.headers.get("cookie"), None);
}

#[test]
fn redirects_follow_rewrite_and_limit() {
    let hb = httpbin();
    let c = Client::new(&cfg()).unwrap();
    // Not followed by default.
    let r = send(&c, &c.build_request("GET", &hb.url("/redirect/3")).unwrap());
    assert_eq!(r.status, 302);
    let mut k = cfg();
    k.set_follow_redirects(true);
    let c = Client::new(&k).unwrap();
    for path in ["/redirect/3", "/absolute-redirect/3", "/relative-redirect/3"] {
        let r = send(&c, &c.build_request("GET", &hb.url(path)).unwrap());
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.history.len(), 3, "{path}");
        assert_eq!(r.url.path(), "/get");
        assert!(r.history.iter().all(|h| h.status == 302));
    }
    let mut k = cfg();
    k.set_follow_redirects(true);
    k.set_max_redirects(2);
    let c2 = Client::new(&k).unwrap();
    let e = c2.send(&c2.build_request("GET", &hb.url("/redirect/3")).unwrap()).unwrap_err();
    assert_eq!(e.code(), code::TOO_MANY_REDIRECTS);
    // 303 turns POST into GET without body; 307 and 308 resend the body.
    for (status, method, body_kept) in
        [(303, "GET", false), (302, "GET", false), (301, "GET", false), (307, "POST", true), (308, "POST", true)]
    {
        let url = hb.url(&format!("/redirect-to?url=/anything&status_code={status}"));
        let mut req = c.build_request("POST", &url).unwrap();
        req.set_body_bytes(b"payload".to_vec(), Some("text/plain"));
        let mut r = send(&c, &req);
        assert_eq!(r.request.method, method, "{status}");
        let b = json(&mut r);
        assert_eq!(b.contains("payload"), body_kept, "{status}: {b}");
    }
    // A one-shot streamed body cannot be replayed on 307.
    let mut req = c.build_request("POST", &hb.url("/redirect-to?url=/anything&status_code=307")).unwrap();
    req.set_body_stream(Box::new(std::io::Cursor::new(b"once".to_vec())), Some(4));
    assert_eq!(c.send(&req).unwrap_err().code(), code::STREAM_CONSUMED);
    // Non-http targets are not followed.
    let req = c.build_request("GET", &hb.url("/redirect-to?url=ftp://example.com/")).unwrap();
    assert_eq!(c.send(&req).unwrap_err().code(), code::UNSUPPORTED_PROTOCOL);
}

#[test]
fn cross_origin_redirect_drops_credentials() {
    let hb = httpbin();
    let n = nginx();
    let mut k = cfg();
    k.set_follow_redirects(true);
    k.set_auth(Some(Arc::new(Auth::basic("user", "passwd").unwrap())));
    let c = Client::new(&k).unwrap();
    let target = n.url("/request-headers");
    let mut req = c.build_request("GET", &hb.url(&format!("/redirect-to?url={}", urlencode(&target)))).unwrap();
    req.headers.set("Cookie", "secret=1").unwrap();
    req.headers.set("Proxy-Authorization", "Basic eDp5").unwrap();
    let mut r = send(&c, &req);
    assert_eq!(r.status, 200);
    let head = json(&mut r).to_ascii_lowercase();
    assert!(head.contains("host: 127.0.0.1:"), "{head}");
    assert!(!head.contains("authorization"), "credentials leaked: {head}");
    assert!(!head.contains("cookie"), "cookie leaked: {head}");
    // The first hop did carry them.
    assert!(r.history[0].request.headers.get("Authorization").is_some());
    // Same origin keeps Authorization.
    let mut r = send(&c, &c.build_request("GET", &hb.url("/redirect-to?url=/headers")).unwrap());
    assert!(json(&mut r).contains("Authorization"));
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn request_bodies_form_json_multipart() {
    let hb = httpbin();
    let c = Client::new(&cfg()).unwrap();
    let mut req = c.build_request("POST", &hb.url("/post")).unwrap();
    req.add_form_field(&[("a".into(), "1 2".into()), ("b".into(), "é&=".into())]);
    let mut r = send(&c, &req);
    let b = json(&mut r);
    assert!(b.contains(r#""a": "1 2""#) && b.contains(r#""b": "\u00e9&=""#), "{b}");
    assert!(b.contains("application/x-www-form-urlencoded"));
    let mut req = c.build_request("POST", &hb.url("/post")).unwrap();
    req.set_body_bytes(br#"{"k": [1, 2]}"#.to_vec(), Some("application/json"));
    let mut r = send(&c, &req);
    assert!(json(&mut r).contains(r#""json": {"#));
    // Multipart with a field, bytes and a file streamed from disk.
    let dir = unique_temp_dir("mp");
    let path = dir.join("report.txt");
    std::fs::write(&path, b"file content here").unwrap();
    let mut m = httpx::multipart::Multipart::new();
    m.add_field("name", b"value");
    m.add_bytes("upload-file", None, b"text content".to_vec(), Some("text/plain")).unwrap();
    m.add_file("doc", None, &path, None).unwrap();
    let mut req = c.build_request("POST", &hb.url("/post")).unwrap();
    req.set_multipart(m);
    let mut r = send(&c, &req);
    let b = json(&mut r);
    assert!(b.contains(r#""doc": "file content here""#), "{b}");
    assert!(b.contains(r#""upload-file": "text content""#), "{b}");
    assert!(b.contains(r#""name": "value""#), "{b}");
    // A multipart body is replayable (307).
    let mut m = httpx::multipart::Multipart::new();
    m.add_file("doc", Some("r.txt"), &path, Some("text/plain")).unwrap();
    let mut req = c.build_request("POST", &hb.url("/redirect-to?url=/post&status_code=307")).unwrap();
    req.set_multipart(m);
    let mut r = send_with(&c, &req, following());
    assert!(json(&mut r).contains("file content here"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn content_decoding_and_text() {
    let hb = httpbin();
    let c = Client::new(&cfg()).unwrap();
    for (path, needle) in
        [("/gzip", r#""gzipped": true"#), ("/deflate", r#""deflated": true"#), ("/brotli", r#""brotli": true"#)]
    {
        let mut r = send(&c, &c.build_request("GET", &hb.url(path)).unwrap());
        assert!(json(&mut r).contains(needle), "{path}");
    }
    let mut r = send(&c, &c.build_request("GET", &hb.url("/encoding/utf8")).unwrap());
    assert!(r.text().unwrap().contains("∮ E⋅da = Q"));
    let n = nginx();
    let mut r = send(&c, &c.build_request("GET", &n.url("/gzip/hello.txt")).unwrap());
    assert_eq!(r.text().unwrap(), hello_txt());
    assert_eq!(r.headers.get("content-encoding"), Some("gzip"));
    // Streaming reads return decoded bytes.
    let mut r = c.send(&c.build_request("GET", &n.url("/gzip-static-always/hello.txt")).unwrap()).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 100];
    for _ in 0..100_000 {
        let k = r.read(&mut buf).unwrap();
        if k == 0 {
            break;
        }
        out.extend_from_slice(&buf[..k]);
    }
    assert_eq!(String::from_utf8(out).unwrap(), hello_txt());
}

#[test]
fn decompression_bomb_is_a_decoding_error() {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        enc.write_all(&zeros).unwrap();
    }
    let bomb: &'static [u8] = Box::leak(enc.finish().unwrap().into_boxed_slice());
    let srv = FaultServer::start(move |mut s| {
        let _ = read_request_head(&mut s);
        let _ = s.write_all(&http_response(200, &[("Content-Encoding", "gzip")], bomb));
        let _ = s.shutdown(std::net::Shutdown::Both);
    });
    let mut k = cfg();
    k.set_max_decoded_bytes(Some(8 << 20));
    let c = Client::new(&k).unwrap();
    let mut r = c.send(&c.build_request("GET", &srv.url("/")).unwrap()).unwrap();
    assert_eq!(r.body().unwrap_err().code(), code::DECODING);
    // Corrupt gzip.
    let bad = FaultServer::start(|mut s| {
        let _ = read_request_head(&mut s);
        let _ = s.write_all(&http_response(200, &[("Content-Encoding", "gzip")], b"\x1f\x8b\x08\x00garbage-garbage"));
        let _ = s.shutdown(std::net::Shutdown::Both);
    });
    let mut r = c.send(&c.build_request("GET", &bad.url("/")).unwrap()).unwrap();
    assert_eq!(r.body().unwrap_err().code(), code::DECODING);
}

#[test]
fn streaming_lines_status_and_repeated_headers() {
    let hb = httpbin();
    let c = Client::new(&cfg()).unwrap();
    let mut r = send(&c, &c.build_request("GET", &hb.url("/stream/20")).unwrap());
    assert_eq!(r.text().unwrap().lines().count(), 20);
    let r = send(&c, &c.build_request("GET", &hb.url("/status/404")).unwrap());
    let e = r.raise_for_status().unwrap_err();
    assert_eq!(e.code(), code::HTTP_STATUS);
    assert!(e.to_string().contains("404 NOT FOUND") || e.to_string().contains("404"), "{e}");
    let r = send(&c, &c.build_request("GET", &hb.url("/status/201")).unwrap());
    assert!(r.raise_for_status().is_ok());
    let r = send(&c, &c.build_request("GET", &hb.url("/response-headers?X-Rep=a&X-Rep=b")).unwrap());
    assert_eq!(r.headers.get_all("x-rep").collect::<Vec<_>>(), vec!["a", "b"]);
    assert!(r.elapsed.as_nanos() > 0);
}

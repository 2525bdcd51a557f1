//! The core owns every rule (issue #10 item 2): each check the C API makes is made by
//! the core's validating setters / builder. `ClientConfig`'s fields are private, so
//! those setters are a Rust caller's only way in; `Client::new` checks the whole again
//! (`ClientConfig::check`, tested on fields written inside the crate by
//! `config::tests` in src/config.rs). No network: every client here has an in-process
//! transport or is never sent with.

use std::sync::Arc;
use std::time::Duration;

use httpx::config::{ClientConfig, HeadLimits, Limits, ProxyMode, ProxySpec};
use httpx::error::code;
use httpx::tls::MinVersion;
use httpx::transport::callback::{BuiltBody, CallbackTransport, Handler, ResponseBuilder};
use httpx::{Client, Request};

fn cfg() -> ClientConfig {
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    k
}

/// `Client::new(&k)` fails with `want`.
#[cfg_attr(feature = "http2", allow(dead_code))]
fn refused(k: &ClientConfig, want: u32) {
    match Client::new(k) {
        Ok(_) => panic!("Client::new accepted a configuration that breaks a rule"),
        Err(e) => assert_eq!(e.code(), want, "{e}"),
    }
}

#[test]
fn max_connections_zero_fails_at_build_not_at_the_first_send() {
    assert_eq!(Limits::new(Some(0), None, None).unwrap_err().code(), code::INVALID_ARGUMENT);
    let mut k = cfg();
    let bad = Limits { max_connections: Some(0), ..Limits::default() };
    assert_eq!(k.set_limits(bad).unwrap_err().code(), code::INVALID_ARGUMENT);
    assert_eq!(k.limits(), Limits::default(), "unchanged on error");
    let err = ClientConfig::builder().limits(bad).build().err().unwrap();
    assert_eq!(err.code(), code::INVALID_ARGUMENT);
    // One connection, or no limit, is fine.
    k.set_limits(Limits::new(Some(1), Some(0), Some(Duration::from_secs(1))).unwrap()).unwrap();
    k.set_limits(Limits::new(None, None, None).unwrap()).unwrap();
    Client::new(&k).unwrap();
}

#[test]
fn base_url_is_checked() {
    let mut k = cfg();
    assert_eq!(k.set_base_url(Some("http://exa mple.com/")).unwrap_err().code(), code::INVALID_URL);
    assert_eq!(k.set_base_url(Some("ftp://example.com/")).unwrap_err().code(), code::UNSUPPORTED_PROTOCOL);
    assert!(k.base_url().is_none());
    k.set_base_url(Some("http://127.0.0.1:1/api")).unwrap();
    assert_eq!(k.base_url(), Some("http://127.0.0.1:1/api"));
    k.set_base_url(None).unwrap();
    assert!(k.base_url().is_none());
}

#[test]
fn header_names_and_values_are_checked() {
    let mut k = cfg();
    assert_eq!(k.add_header("Bad Name", "v").unwrap_err().code(), code::INVALID_ARGUMENT);
    assert_eq!(k.add_header("X-Ok", "a\r\nb").unwrap_err().code(), code::INVALID_ARGUMENT);
    assert!(k.headers().is_empty());
    k.add_header("X-Ok", "fine").unwrap();
    let bad = vec![("X-Ok".to_string(), "fine".to_string()), ("Bad:Name".to_string(), "v".to_string())];
    assert_eq!(k.set_headers(bad).unwrap_err().code(), code::INVALID_ARGUMENT);
    assert_eq!(k.headers().len(), 1, "unchanged on error");
    Client::new(&k).unwrap();
}

#[test]
fn client_cookies_are_checked() {
    let mut k = cfg();
    assert!(k.add_cookie("bad;name", "v", "", "/").is_err());
    assert!(k.cookies().is_empty());
    k.add_cookie("ok", "v", "", "/").unwrap();
    assert!(k.set_cookies(vec![("bad=name".into(), "v".into(), "".into(), "/".into())]).is_err());
    assert_eq!(k.cookies().len(), 1, "unchanged on error");
}

#[test]
fn head_limits_have_a_floor() {
    let mut k = cfg();
    assert_eq!(HeadLimits::new(63, 10).unwrap_err().code(), code::INVALID_ARGUMENT);
    assert_eq!(
        k.set_head_limits(HeadLimits { max_header_bytes: 1024, max_header_count: 0 }).unwrap_err().code(),
        code::INVALID_ARGUMENT
    );
    assert_eq!(k.head_limits(), HeadLimits::default());
    k.set_head_limits(HeadLimits::new(64, 1).unwrap()).unwrap();
    let tiny = HeadLimits { max_header_bytes: 10, ..k.head_limits() };
    assert_eq!(k.set_head_limits(tiny).unwrap_err().code(), code::INVALID_ARGUMENT);
    assert_eq!(k.head_limits(), HeadLimits::new(64, 1).unwrap());
}

#[test]
fn proxy_keys_urls_and_modes_are_checked() {
    let mut k = cfg();
    assert!(k.add_proxy("bogus key", Some("http://127.0.0.1:1"), ProxyMode::Default).is_err());
    assert!(k.add_proxy("all://", Some("ftp://127.0.0.1:1"), ProxyMode::Default).is_err());
    assert!(k.proxies().is_empty());
    k.add_proxy("all://", Some("http://127.0.0.1:1"), ProxyMode::TunnelOnly).unwrap();
    k.add_proxy("https://example.com", None, ProxyMode::Default).unwrap();
    assert_eq!(ProxyMode::from_code(3).unwrap_err().code(), code::INVALID_ARGUMENT);
    assert_eq!(ProxyMode::from_code(1).unwrap(), ProxyMode::ForwardOnly);
    // Set as a list, with a transport of its own (the proxies are not used then):
    // still refused.
    let mut k = cfg();
    k.set_transport(Some(Arc::new(CallbackTransport::new(Box::new(Ok200)))));
    assert!(k.set_proxies(vec![ProxySpec { key: "bogus key".into(), url: None, mode: ProxyMode::Default }]).is_err());
    assert!(k.proxies().is_empty());
}

#[test]
fn mount_keys_are_checked() {
    let mut k = cfg();
    assert!(k.mount("not a key", None).is_err());
    assert!(k.mounts().is_empty());
    k.mount("http://example.com", None).unwrap();
    k.mount("http://example.com", None).unwrap();
    assert_eq!(k.mounts().len(), 1, "mounting a key again replaces it");
    assert!(k.set_mounts(vec![("not a key".into(), None)]).is_err());
    assert_eq!(k.mounts().len(), 1, "unchanged on error");
}

#[test]
fn default_encoding_labels_are_python_codecs() {
    let mut k = cfg();
    assert_eq!(k.set_default_encoding(Some("no-such-codec")).unwrap_err().code(), code::INVALID_ARGUMENT);
    assert_eq!(k.set_default_encoding(Some("base64")).unwrap_err().code(), code::INVALID_ARGUMENT);
    assert!(k.default_encoding().is_none());
    k.set_default_encoding(Some("latin-1")).unwrap();
    assert_eq!(k.default_encoding(), Some("latin-1"));
}

#[test]
fn tls_versions_by_number() {
    assert_eq!(MinVersion::from_code(12).unwrap(), MinVersion::Tls12);
    assert_eq!(MinVersion::from_code(13).unwrap(), MinVersion::Tls13);
    assert_eq!(MinVersion::from_code(11).unwrap_err().code(), code::INVALID_ARGUMENT);
}

#[test]
fn request_cookies_and_body_content_type_are_checked() {
    let mut r = Request::new("POST", "http://127.0.0.1:1/").unwrap();
    assert_eq!(r.set_cookie("", "v").unwrap_err().code(), code::INVALID_ARGUMENT);
    assert_eq!(r.set_cookie("a=b", "v").unwrap_err().code(), code::INVALID_ARGUMENT);
    assert_eq!(r.set_cookie("a", "x;y").unwrap_err().code(), code::INVALID_ARGUMENT);
    assert!(r.headers.get("Cookie").is_none());
    r.set_cookie("a", "1").unwrap();
    r.set_cookie("a", "2").unwrap();
    assert_eq!(r.headers.get("Cookie"), Some("a=2"));
    assert_eq!(r.set_body(b"x".to_vec(), Some("text/plain\r\nX: y")).unwrap_err().code(), code::INVALID_ARGUMENT);
    assert!(r.body.is_empty_body(), "unchanged on error");
    r.set_body(b"xyz".to_vec(), Some("text/plain")).unwrap();
    assert_eq!(r.headers.get("Content-Length"), Some("3"));
    assert_eq!(r.headers.get("Content-Type"), Some("text/plain"));
}

struct Ok200;
impl Handler for Ok200 {
    fn handle(&self, _req: &Request, _out: &mut ResponseBuilder) -> httpx::Result<()> {
        Ok(())
    }
}

/// Checks the builder rules from inside a handler (the only place a builder exists).
struct Rules;
impl Handler for Rules {
    fn handle(&self, _req: &Request, out: &mut ResponseBuilder) -> httpx::Result<()> {
        assert_eq!(out.set_status(99).unwrap_err().code(), code::INVALID_ARGUMENT);
        assert_eq!(out.set_status(1000).unwrap_err().code(), code::INVALID_ARGUMENT);
        assert_eq!(out.status, 200, "unchanged on error");
        out.set_status(418)?;
        out.set_body_bytes(b"short".to_vec()); // automatic Content-Length
        Ok(())
    }
}

struct OwnLength;
impl Handler for OwnLength {
    fn handle(&self, _req: &Request, out: &mut ResponseBuilder) -> httpx::Result<()> {
        out.headers.append("Transfer-Encoding", "chunked")?;
        out.set_body_bytes(b"abc".to_vec());
        Ok(())
    }
}

#[test]
fn response_builder_status_range_and_automatic_content_length() {
    let mut k = cfg();
    k.set_transport(Some(Arc::new(CallbackTransport::new(Box::new(Rules)))));
    let c = Client::new(&k).unwrap();
    let mut r = c.send(&c.build_request("GET", "http://app.test/").unwrap()).unwrap();
    assert_eq!(r.status, 418);
    assert_eq!(r.headers.get("Content-Length"), Some("5"));
    assert_eq!(r.body().unwrap(), b"short");
    let mut k = cfg();
    k.set_transport(Some(Arc::new(CallbackTransport::new(Box::new(OwnLength)))));
    let c = Client::new(&k).unwrap();
    let r = c.send(&c.build_request("GET", "http://app.test/").unwrap()).unwrap();
    assert!(r.headers.get("Content-Length").is_none(), "the handler's own framing wins");
    let _ = BuiltBody::Bytes(Vec::new());
}

#[test]
fn the_builder_keeps_the_first_error_and_checks_the_whole() {
    let err = ClientConfig::builder()
        .header("Bad Name", "v")
        .base_url("ftp://x/") // skipped: the first error is kept
        .build()
        .err()
        .unwrap();
    assert_eq!(err.code(), code::INVALID_ARGUMENT);
    let k = ClientConfig::builder()
        .base_url("http://127.0.0.1:1/api")
        .header("X-Api-Key", "secret")
        .limits(Limits::new(Some(4), Some(2), None).unwrap())
        .timeouts(httpx::Timeouts::all(Some(Duration::from_secs(2))))
        .follow_redirects(true)
        .trust_env(false)
        .default_encoding("cp1252")
        .build()
        .unwrap();
    assert_eq!(k.limits().max_connections, Some(4));
    assert!(k.follow_redirects());
    Client::new(&k).unwrap();
}

/// Built without the `http2` feature, asking for HTTP/2 is refused at build (HTTPX
/// raises ImportError for `http2=True` without the h2 package).
#[cfg(not(feature = "http2"))]
#[test]
fn http2_without_the_feature_is_refused_at_build() {
    let mut k = cfg();
    k.set_http2(true);
    refused(&k, code::UNSUPPORTED_PROTOCOL);
}

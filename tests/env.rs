//! Settings from the environment (trust_env): NETRC, HTTP(S)_PROXY / NO_PROXY,
//! SSL_CERT_FILE. The environment is process-wide, so this binary runs them in one
//! test, in sequence.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use httpx::{Client, ClientConfig};

fn get_status(c: &Client, url: &str) -> httpx::Result<u16> {
    let mut r = c.send(&c.build_request("GET", url)?)?;
    r.body()?;
    Ok(r.status)
}

#[test]
fn environment_is_honoured_only_with_trust_env() {
    let (hb, n) = (httpbin(), nginx());
    let dir = unique_temp_dir("env");
    for k in [
        "NETRC",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    ] {
        std::env::remove_var(k);
    }

    // .netrc through $NETRC, read once per client.
    let netrc = dir.join("netrc");
    std::fs::write(&netrc, "machine 127.0.0.1\nlogin user\npassword pass\n").unwrap();
    std::env::set_var("NETRC", &netrc);
    let c = Client::new(&ClientConfig::default()).unwrap();
    assert_eq!(get_status(&c, &hb.url("/basic-auth/user/pass")).unwrap(), 200);
    std::fs::write(&netrc, "machine 127.0.0.1\nlogin user\npassword changed\n").unwrap();
    assert_eq!(get_status(&c, &hb.url("/basic-auth/user/pass")).unwrap(), 200, "cached per client");
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    let off = Client::new(&k).unwrap();
    assert_eq!(get_status(&off, &hb.url("/basic-auth/user/pass")).unwrap(), 401);
    std::fs::write(&netrc, "machine 127.0.0.1 login user password\n").unwrap();
    let broken = Client::new(&ClientConfig::default()).unwrap();
    assert_eq!(get_status(&broken, &hb.url("/get")).unwrap_err().code(), httpx::error::code::IO);
    std::env::remove_var("NETRC");

    // HTTP_PROXY and NO_PROXY.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let proxy = FaultServer::start(move |mut s| {
        if let Some(h) = read_request_head(&mut s) {
            s2.lock().unwrap().push(String::from_utf8_lossy(&h).lines().next().unwrap_or("").to_string());
            let _ = s.write_all(&http_response(200, &[], b"proxied"));
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    });
    std::env::set_var("HTTP_PROXY", format!("127.0.0.1:{}", proxy.port));
    std::env::set_var("NO_PROXY", "127.0.0.1,localhost");
    let c = Client::new(&ClientConfig::default()).unwrap();
    assert_eq!(get_status(&c, "http://example.test/p").unwrap(), 200);
    assert_eq!(get_status(&c, &n.url("/")).unwrap(), 200);
    assert_eq!(seen.lock().unwrap().clone(), vec!["GET http://example.test/p HTTP/1.1"]);
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    assert_eq!(
        get_status(&Client::new(&k).unwrap(), "http://example.test/p").unwrap_err().code(),
        httpx::error::code::RESOLVE
    );
    // The proxy environment is read per client (cached per process by its raw
    // values): a changed variable is seen by the next client, the old client keeps
    // what it read.
    let seen2 = Arc::new(Mutex::new(Vec::new()));
    let s3 = seen2.clone();
    let proxy2 = FaultServer::start(move |mut s| {
        if let Some(h) = read_request_head(&mut s) {
            s3.lock().unwrap().push(String::from_utf8_lossy(&h).lines().next().unwrap_or("").to_string());
            let _ = s.write_all(&http_response(200, &[], b"proxied"));
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    });
    std::env::set_var("HTTP_PROXY", format!("127.0.0.1:{}", proxy2.port));
    let c2 = Client::new(&ClientConfig::default()).unwrap();
    assert_eq!(get_status(&c2, "http://example.test/q").unwrap(), 200);
    assert_eq!(seen2.lock().unwrap().clone(), vec!["GET http://example.test/q HTTP/1.1"]);
    assert_eq!(get_status(&c, "http://example.test/p").unwrap(), 200);
    assert_eq!(seen.lock().unwrap().len(), 2, "the first client keeps its proxy");
    std::env::set_var("NO_PROXY", "*");
    let c3 = Client::new(&ClientConfig::default()).unwrap();
    assert_eq!(get_status(&c3, "http://example.test/q").unwrap_err().code(), httpx::error::code::RESOLVE);
    std::env::remove_var("NO_PROXY");
    std::env::set_var("HTTP_PROXY", format!("127.0.0.1:{}", proxy.port));
    let c4 = Client::new(&ClientConfig::default()).unwrap();
    assert_eq!(get_status(&c4, "http://example.test/r").unwrap(), 200);
    assert_eq!(seen.lock().unwrap().last().unwrap(), "GET http://example.test/r HTTP/1.1");
    std::env::remove_var("HTTP_PROXY");
    let c5 = Client::new(&ClientConfig::default()).unwrap();
    assert_eq!(get_status(&c5, "http://example.test/s").unwrap_err().code(), httpx::error::code::RESOLVE);

    // SSL_CERT_FILE replaces the default roots when trust_env.
    std::env::set_var("SSL_CERT_FILE", &certs().ca_pem);
    let c = Client::new(&ClientConfig::default()).unwrap();
    assert_eq!(get_status(&c, &n.https_url("/")).unwrap(), 200);
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    assert_eq!(get_status(&Client::new(&k).unwrap(), &n.https_url("/")).unwrap_err().code(), httpx::error::code::TLS);
    std::env::remove_var("SSL_CERT_FILE");

    // SSLKEYLOGFILE gets TLS secrets (for Wireshark) when trust_env.
    let keylog = dir.join("keys.log");
    std::env::set_var("SSLKEYLOGFILE", &keylog);
    let mut k = ClientConfig::default();
    k.set_trust(httpx::tls::Trust::CaFile(certs().ca_pem.clone()));
    let c = Client::new(&k).unwrap();
    assert_eq!(get_status(&c, &n.https_url("/")).unwrap(), 200);
    std::env::remove_var("SSLKEYLOGFILE");
    let logged = std::fs::read_to_string(&keylog).unwrap_or_default();
    assert!(logged.contains("CLIENT_") || logged.contains("SERVER_"), "key log: {logged:?}");
    let _ = std::fs::remove_dir_all(dir);
}

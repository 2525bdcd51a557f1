//! Self-tests of the integration-test harness (tests/common/mod.rs): every peer serves what
//! the harness promises, checked with raw HTTP/1.1 over std sockets, `openssl s_client` and
//! `curl` (libhttpx itself is not used here).
mod common;

use common::*;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::{Duration, Instant};

fn unique_tag(name: &str) -> String {
    format!("{name}-{}-{}", std::process::id(), Instant::now().elapsed().as_nanos())
}

// ------------------------------------------------------------------ nginx locations (HTTP)

#[test]
fn nginx_serves_every_location_over_http() {
    let n = nginx();
    let mut c = RawConn::connect(n.http_port).expect("connect");

    let r = c.get("/").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, HELLO.as_bytes());
    assert_eq!(r.header("content-length"), Some("13"));
    assert_eq!(r.header("content-type"), Some("text/plain"));

    let r = c.request("HEAD", "/", &[], b"").unwrap();
    assert_eq!((r.status, r.body.len()), (200, 0));
    assert_eq!(r.header("content-length"), Some("13"));

    let r = c.get("/files/small.txt").unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, HELLO));
    let r = c.get("/files/64k.bin").unwrap();
    assert_eq!(r.status, 200);
    assert!(r.body == file_64k(), "64k.bin content");
    let r = c.get("/files/1m.bin").unwrap();
    assert_eq!(r.body.len(), 1 << 20);
    assert!(r.body == file_1m(), "1m.bin content");

    // gzip_static: negotiated on /files/, forced on /gzip-static-always/.
    let gz = fs::read(n.file("hello.txt.gz")).unwrap();
    assert_eq!(&gz[..2], &[0x1f, 0x8b]);
    let r = c.request("GET", "/files/hello.txt", &[("Accept-Encoding", "gzip")], b"").unwrap();
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.body, gz);
    let r = c.get("/files/hello.txt").unwrap();
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.text(), hello_txt());
    let r = c.get("/gzip-static-always/hello.txt").unwrap();
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.body, gz);
    // On-the-fly gzip: chunked + gzip.
    let r = c.request("GET", "/gzip/hello.txt", &[("Accept-Encoding", "gzip")], b"").unwrap();
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert!(r.chunked);
    assert_eq!(&r.body[..2], &[0x1f, 0x8b]);

    // /upload reads any body and answers "ok" with Content-Length; keep-alive continues.
    let body = file_64k();
    for method in ["POST", "PUT", "POST"] {
        let r = c.request(method, "/upload", &[], &body).unwrap();
        assert_eq!((r.status, r.text().as_str()), (200, "ok"));
        assert_eq!(r.header("content-length"), Some("2"));
    }
    let r = c.request("POST", "/upload-discard", &[], &body).unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "ok"));
    let r = c.request("POST", "/upload", &[], b"").unwrap();
    assert_eq!(r.text(), "ok");

    // /echo returns the body (chunked).
    let big = file_1m();
    let r = c.request("POST", "/echo", &[], &big).unwrap();
    assert_eq!(r.status, 200);
    assert!(r.body == big, "echo of 1 MiB");
    let r = c.request("PUT", "/echo", &[], b"hello echo").unwrap();
    assert_eq!(r.text(), "hello echo");

    let r = c.request("PATCH", "/method", &[], b"x").unwrap();
    assert_eq!(r.text(), "PATCH");
    let r = c.request("GET", "/request-headers", &[("X-Test", "1")], b"").unwrap();
    assert!(r.text().starts_with("GET /request-headers HTTP/1.1\r\n"), "{}", r.text());
    assert!(r.text().contains("\r\nX-Test: 1\r\n"), "{}", r.text());

    let r = c.get("/chunked").unwrap();
    assert!(r.chunked, "{}", r.head);
    assert_eq!(r.text(), "chunk1,chunk2,chunk3");

    for code in [200u16, 201, 202, 400, 401, 403, 404, 418, 429, 500, 502, 503] {
        let r = c.get(&format!("/status/{code}")).unwrap();
        assert_eq!(r.status, code);
        assert_eq!(r.text(), format!("status {code}"));
    }
    for code in [204u16, 304] {
        let r = c.get(&format!("/status/{code}")).unwrap();
        assert_eq!((r.status, r.body.len()), (code, 0));
    }

    let r = c.get("/redirect-to-root").unwrap();
    assert_eq!((r.status, r.header("location")), (302, Some("/")));
    let r = c.get("/redirect-loop").unwrap();
    assert_eq!((r.status, r.header("location")), (302, Some("/redirect-loop")));
    for code in [301u16, 302, 303, 307, 308] {
        let r = c.get(&format!("/redirect/{code}")).unwrap();
        assert_eq!((r.status, r.header("location")), (code, Some("/method")));
    }
    let r = c.request("GET", "/redirect-absolute", &[("Host", "127.0.0.1:1234")], b"").unwrap();
    assert_eq!(r.header("location"), Some("http://127.0.0.1:1234/"));

    let r = c.get("/set-cookie").unwrap();
    let cookies: Vec<_> = r.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie")).collect();
    assert_eq!(cookies.len(), 2, "{}", r.head);
    let r = c.request("GET", "/cookies", &[("Cookie", "a=1; b=2")], b"").unwrap();
    assert_eq!(r.text(), "a=1; b=2");

    let r = c.get("/basic-auth").unwrap();
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
    let r = c.request("GET", "/basic-auth", &[("Authorization", "Basic dXNlcjpwYXNzd2Q=")], b"").unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "authenticated user"));

    let r = c.get("/no-such-thing").unwrap();
    assert_eq!(r.status, 404);
    let r = c.get("/nginx_status").unwrap();
    assert!(r.text().contains("server accepts handled requests"), "{}", r.text());

    // Everything above ran on one keep-alive connection.
    assert_eq!(c.get("/").unwrap().text(), HELLO);
}

#[test]
fn upload_body_is_counted_in_access_log() {
    let n = nginx();
    let tag = unique_tag("upload");
    let mut c = RawConn::connect(n.http_port).unwrap();
    let body = file_64k();
    for _ in 0..2 {
        assert_eq!(c.request("POST", &format!("/upload?{tag}"), &[], &body).unwrap().text(), "ok");
    }
    let lines = n.wait_for_log(Duration::from_secs(5), |l| l.iter().filter(|x| x.uri.contains(&tag)).count() == 2);
    let mine: Vec<_> = lines.iter().filter(|x| x.uri.contains(&tag)).collect();
    assert_eq!(mine.len(), 2, "{lines:?}");
    for l in &mine {
        assert_eq!((l.method.as_str(), l.status), ("POST", 200));
        assert!(l.request_length >= 65536, "{l:?}");
        assert_eq!(l.body_bytes_sent, 2);
    }
    assert_eq!(mine[0].connection, mine[1].connection);
    assert_eq!(n.connections_for(&tag), 1);
}

// ------------------------------------------------------------------ connection counting

#[test]
fn accepted_connections_counts_one_keepalive_connection_once() {
    let n = Nginx::start(); // private: nothing else connects to it
    assert_eq!(n.accepted_connections(), 0, "probes must not count");
    let before = n.accepted_connections();
    let tag = unique_tag("ka");
    {
        let mut c = RawConn::connect(n.http_port).unwrap();
        for i in 0..3 {
            let r = c.get(&format!("/?{tag}-{i}")).unwrap();
            assert_eq!(r.text(), HELLO);
        }
    }
    let after = n.accepted_connections();
    assert_eq!(after - before, 1, "3 keep-alive requests on one connection");

    let lines = n.wait_for_log(Duration::from_secs(5), |l| l.iter().filter(|x| x.uri.contains(&tag)).count() == 3);
    let mine: Vec<_> = lines.iter().filter(|x| x.uri.contains(&tag)).collect();
    assert_eq!(mine.len(), 3, "{lines:?}");
    assert!(mine.iter().all(|l| l.connection == mine[0].connection));
    assert_eq!(mine.iter().map(|l| l.connection_requests).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert!(mine.iter().all(|l| l.status == 200 && l.body_bytes_sent == 13 && l.method == "GET"));
    assert_eq!(mine[0].server_port, n.http_port.to_string());

    // Two more connections (one TCP, one unix socket) -> +2; a TLS connection -> +1.
    RawConn::connect(n.http_port).unwrap().get("/").unwrap();
    RawConn::connect_unix(&n.uds_path).unwrap().get("/").unwrap();
    assert_eq!(n.accepted_connections(), after + 2);
    let (st, out) = run_bounded(
        Command::new("curl").args(["-sS", "--cacert"]).arg(&certs().ca_pem).arg(n.https_url("/")),
        Duration::from_secs(20),
    );
    assert!(st.unwrap().success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(n.accepted_connections(), after + 3);
}

// ------------------------------------------------------------------ TLS

/// (verify code, verify text, full stdout) from `openssl s_client`.
fn s_client(port: u16, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect", &format!("127.0.0.1:{port}"), "-servername", "localhost"])
        .args(["-verify_hostname", "localhost", "-CAfile"])
        .arg(&certs().ca_pem)
        .args(extra);
    let (st, out) = run_bounded(&mut cmd, Duration::from_secs(20));
    assert!(st.is_some(), "s_client timed out");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Verify return code:"))
        .unwrap_or_else(|| panic!("no verify code:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr)))
        .trim()
        .to_string();
    let rest = line.trim_start_matches("Verify return code:").trim();
    let code: i32 = rest.split_whitespace().next().unwrap().parse().unwrap();
    (code, rest.to_string(), stdout)
}

#[test]
fn https_ports_present_expected_certificates() {
    require_tool("openssl", "apt-get install openssl");
    let n = nginx();
    let (code, text, out) = s_client(n.https_port, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(out.contains("CN = localhost") || out.contains("CN=localhost"), "{out}");
    let (code, text, _) = s_client(n.https_wrong_host_port, &[]);
    assert_eq!(code, 62, "hostname mismatch expected: {text}");
    let (code, text, _) = s_client(n.https_expired_port, &[]);
    assert_eq!(code, 10, "expired expected: {text}");
    let (code, text, _) = s_client(n.https_self_signed_port, &[]);
    assert_eq!(code, 18, "self-signed expected: {text}");

    // ALPN: h2 only on the h2 port.
    let (_, _, out) = s_client(n.https_h2_port, &["-alpn", "h2,http/1.1"]);
    assert!(out.contains("ALPN protocol: h2"), "{out}");
    let (_, _, out) = s_client(n.https_port, &["-alpn", "h2,http/1.1"]);
    assert!(!out.contains("ALPN protocol: h2"), "{out}");

    // And the HTTPS servers serve the same locations.
    let (st, out) = run_bounded(
        Command::new("curl").args(["-sS", "--cacert"]).arg(&certs().ca_pem).arg(n.https_url("/files/64k.bin")),
        Duration::from_secs(20),
    );
    assert!(st.unwrap().success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout == file_64k());
    let (st, out) = run_bounded(
        Command::new("curl")
            .args(["-sS", "--http2", "-o", "/dev/null", "-w", "%{http_version}", "--cacert"])
            .arg(&certs().ca_pem)
            .arg(n.https_url_on(n.https_h2_port, "/")),
        Duration::from_secs(20),
    );
    assert!(st.unwrap().success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2");
}

fn curl_mtls(n: &Nginx, cert: Option<(&std::path::Path, &std::path::Path)>, path: &str) -> (u16, String) {
    require_tool("curl", "apt-get install curl");
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-w", "\n%{http_code}", "--cacert"]).arg(&certs().ca_pem);
    if let Some((c, k)) = cert {
        cmd.arg("--cert").arg(c).arg("--key").arg(k);
    }
    cmd.arg(n.https_url_on(n.https_mtls_port, path));
    let (st, out) = run_bounded(&mut cmd, Duration::from_secs(20));
    assert!(st.unwrap().success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = s.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), body.to_string())
}

#[test]
fn mtls_requires_client_certificate_from_client_ca() {
    let n = nginx();
    let c = certs();
    let (code, body) = curl_mtls(n, None, "/");
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("No required SSL certificate"), "{body}");
    let (code, body) = curl_mtls(n, Some((&c.other_client_cert, &c.other_client_key)), "/");
    assert_eq!(code, 400, "{body}");
    let (code, body) = curl_mtls(n, Some((&c.client_cert, &c.client_key)), "/");
    assert_eq!((code, body.as_str()), (200, "mtls ok"));
    let (code, body) = curl_mtls(n, Some((&c.client_cert, &c.client_key)), "/files/small.txt");
    assert_eq!((code, body.as_str()), (200, HELLO));
}

#[test]
fn certs_have_expected_properties() {
    let c = certs();
    let text = |p: &std::path::Path| {
        let (_, out) = run_bounded(
            Command::new("openssl").args(["x509", "-noout", "-text", "-in"]).arg(p),
            Duration::from_secs(10),
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let s = text(&c.server_cert);
    assert!(s.contains("DNS:localhost") && s.contains("IP Address:127.0.0.1"), "{s}");
    assert!(text(&c.wrong_host_cert).contains("DNS:wrong.example"));
    assert!(text(&c.expired_cert).contains("Not After : Feb  1 00:00:00 2020 GMT"));
    assert!(text(&c.client_cert).contains("TLS Web Client Authentication"));
    assert!(text(&c.ca_pem).contains("CA:TRUE"));
    for k in [&c.server_key, &c.client_key, &c.other_client_key] {
        assert!(fs::read_to_string(k).unwrap().contains("BEGIN PRIVATE KEY"));
    }
}

// ------------------------------------------------------------------ unix socket

#[test]
fn unix_socket_serves_same_locations() {
    let n = nginx();
    let (st, out) = run_bounded(
        Command::new("curl").args(["-sS", "--unix-socket"]).arg(&n.uds_path).arg("http://localhost/files/small.txt"),
        Duration::from_secs(20),
    );
    assert!(st.unwrap().success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), HELLO);
    let mut c = RawConn::connect_unix(&n.uds_path).unwrap();
    assert_eq!(c.get("/").unwrap().text(), HELLO);
    assert_eq!(c.request("POST", "/echo", &[], b"via uds").unwrap().text(), "via uds");
}

// ------------------------------------------------------------------ httpbin

#[test]
fn httpbin_answers_get() {
    let h = httpbin();
    assert_eq!(h.url("/get"), format!("http://127.0.0.1:{}/get", h.port));
    let mut c = RawConn::connect(h.port).unwrap();
    let r = c.get("/get?x=1").unwrap();
    assert_eq!(r.status, 200, "{}", r.head);
    assert!(r.text().contains("\"x\": \"1\""), "{}", r.text());
    // gthread workers keep the connection alive.
    let r = c.request("POST", "/post", &[("Content-Type", "text/plain")], b"abc").unwrap();
    assert_eq!(r.status, 200);
    assert!(r.text().contains("\"data\": \"abc\""), "{}", r.text());
}

// ------------------------------------------------------------------ FaultServer

#[test]
fn fault_server_counts_accepts_and_stops_on_drop() {
    let srv = FaultServer::start(|mut s| {
        if let Some((head, body)) = read_request(&mut s) {
            let mut resp = http_response(200, &[("X-Head-Len", &head.len().to_string())], &body);
            if body.is_empty() {
                resp = http_response(200, &[], b"fault");
            }
            use std::io::Write;
            let _ = s.write_all(&resp);
        }
    });
    assert!(srv.url("/x").ends_with(&format!(":{}/x", srv.port)));
    for _ in 0..3 {
        let mut c = RawConn::connect(srv.port).unwrap();
        assert_eq!(c.get("/").unwrap().text(), "fault");
    }
    let mut c = RawConn::connect(srv.port).unwrap();
    assert_eq!(c.request("POST", "/", &[], b"payload").unwrap().text(), "payload");
    let deadline = Instant::now() + Duration::from_secs(5);
    while srv.accepts() < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(srv.accepts(), 4);
    assert_eq!(srv.accepts.load(std::sync::atomic::Ordering::SeqCst), 4);
    let (port, accepts) = (srv.port, srv.accepts.clone());
    drop(srv);
    // The listener is closed: a connect fails (or, if a parallel test already reused the
    // port, reaches someone else) and is never counted by the dropped server.
    let _ = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    );
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(accepts.load(std::sync::atomic::Ordering::SeqCst), 4);
}

#[test]
fn read_request_head_is_bounded() {
    use std::io::Write;
    let (tx, rx) = std::sync::mpsc::channel();
    let srv = FaultServer::start(move |mut s| {
        let _ = tx.send(read_request_head(&mut s).map(|h| h.len()));
    });
    // A proper head (body bytes after it are not consumed).
    let mut c = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY").unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), Some(27));
    // 70 KiB without a blank line -> None.
    let mut c2 = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    let _ = c2.write_all(&vec![b'a'; 70 * 1024]);
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), None);
    // Stall -> None after ~5 s.
    let t = Instant::now();
    let _c3 = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), None);
    assert!(t.elapsed() >= Duration::from_secs(4) && t.elapsed() < Duration::from_secs(9));
}

// ------------------------------------------------------------------ utilities

#[test]
fn utilities() {
    let d = lib_dir();
    let last = d.file_name().unwrap().to_str().unwrap();
    assert!(last == "debug" || last == "release" || d.parent().is_some(), "{}", d.display());
    assert!(!d.ends_with("deps"), "{}", d.display());
    assert!(tool_available("sh"));
    assert!(!tool_available("definitely-not-a-real-tool-xyz"));
    assert_eq!(pseudo_random_bytes(1000, 7), pseudo_random_bytes(1000, 7));
    assert_ne!(pseudo_random_bytes(1000, 7), pseudo_random_bytes(1000, 8));
    let (a, b) = (free_port(), free_port());
    assert_ne!(a, b);
    let t = Instant::now();
    let (st, _) = run_bounded(Command::new("sleep").arg("30"), Duration::from_millis(300));
    assert!(st.is_none(), "killed on timeout");
    assert!(t.elapsed() < Duration::from_secs(5));
}

// ------------------------------------------------------------------ reaping

#[test]
fn private_nginx_is_killed_and_removed_on_drop() {
    let n = Nginx::start();
    let pgid = n.pgid();
    let dir = n.dir.clone();
    let members = processes_in_group(pgid);
    assert!(members.len() >= 3, "watchdog + master + worker: {members:?}");
    drop(n);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_in_group(pgid).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(processes_in_group(pgid).is_empty());
    assert!(!dir.exists());
}

const CHILD_ENV: &str = "HTTPX_HARNESS_CHILD_PIDFILE";

/// Runs only inside the child process started by `children_die_with_test_binary`: starts
/// nginx, httpbin and guarded `sleep 100`s, records their pids / process groups, then aborts.
#[test]
#[ignore = "helper: run by children_die_with_test_binary in a child process"]
fn zz_child_process_helper() {
    let Ok(pidfile) = std::env::var(CHILD_ENV) else {
        return;
    };
    let n = nginx();
    let h = httpbin();
    let mut sh = Command::new("sh");
    sh.args(["-c", "sleep 100 & wait"]); // guarded child with its own child (grandchild)
    let g_sh = spawn_guarded("sh", sh).unwrap();
    let mut sl = Command::new("sleep");
    sl.arg("100");
    let g_sleep = spawn_guarded("sleep", sl).unwrap();
    let mut plain = Command::new("sleep");
    plain.arg("100");
    let pd_only = spawn_with_pdeathsig(&mut plain).unwrap(); // PDEATHSIG alone, no watchdog
    std::thread::sleep(Duration::from_millis(300)); // let sh fork its sleep
    let mut out = String::new();
    for (name, pgid) in [("nginx", n.pgid()), ("httpbin", h.pgid()), ("sh", g_sh.pgid()), ("sleep", g_sleep.pgid())] {
        let members = processes_in_group(pgid);
        out.push_str(&format!("group {name} {pgid}\n"));
        for p in members {
            out.push_str(&format!("pid {name} {p}\n"));
        }
    }
    out.push_str(&format!("pid pdeathsig-sleep {}\n", pd_only.id()));
    fs::write(&pidfile, out).unwrap();
    // No core file in the working directory.
    let no_core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) };
    std::process::abort(); // no Drop, no atexit: only the kernel-side mechanisms remain
}

#[test]
fn children_die_with_test_binary() {
    let dir = TempDir(unique_temp_dir("child"));
    let pidfile = dir.0.join("pids");
    let exe = std::env::current_exe().unwrap();
    let (st, out) = run_bounded(
        Command::new(exe)
            .args(["--exact", "zz_child_process_helper", "--ignored", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &pidfile),
        Duration::from_secs(120),
    );
    let st = st.expect("child test binary finished in time");
    assert_eq!(
        st.signal(),
        Some(libc::SIGABRT),
        "child should abort: {st:?}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = fs::read_to_string(&pidfile).expect("pidfile written by child");
    let mut pids = Vec::new();
    let mut groups = Vec::new();
    for l in text.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        match f[0] {
            "pid" => pids.push((f[1].to_string(), f[2].parse::<u32>().unwrap())),
            "group" => groups.push((f[1].to_string(), f[2].parse::<i32>().unwrap())),
            _ => {}
        }
    }
    let count = |name: &str| pids.iter().filter(|(n, _)| n == name).count();
    assert!(count("nginx") >= 3, "watchdog+master+worker: {text}");
    assert!(count("httpbin") >= 4, "watchdog+arbiter+2 workers: {text}");
    assert!(count("sh") >= 3, "watchdog+sh+sleep grandchild: {text}");
    assert!(count("sleep") >= 2, "{text}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let alive: Vec<_> = pids.iter().filter(|(_, p)| process_alive(*p)).collect();
        let groups_alive: Vec<_> = groups.iter().filter(|(_, g)| !processes_in_group(*g).is_empty()).collect();
        if alive.is_empty() && groups_alive.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "outlived the test binary: {alive:?} {groups_alive:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ------------------------------------------------------------------ proxies

#[test]
fn tinyproxy_forwards_and_counts_connections() {
    let n = nginx();
    let p = Proxy::start(ProxyKind::Http, false);
    assert_eq!(p.accepted_connections(), 0);
    let target = format!("http://127.0.0.1:{}/files/small.txt", n.http_port);
    // tinyproxy answers with "Connection: close": one client connection per request.
    for _ in 0..2 {
        let mut c = RawConn::connect(p.port).unwrap();
        let r = c.get(&target).unwrap();
        assert_eq!((r.status, r.text().as_str()), (200, HELLO), "{}", r.head);
    }
    assert_eq!(p.accepted_connections(), 2);
    let reqs = p.requests_on_log();
    assert_eq!(reqs, vec![format!("GET {target} HTTP/1.1"); 2]);

    // CONNECT tunnel to the HTTPS port (curl -p).
    let (st, out) = run_bounded(
        Command::new("curl").args(["-sS", "-p", "-x", &p.url(), "--cacert"]).arg(&certs().ca_pem).arg(n.https_url("/")),
        Duration::from_secs(20),
    );
    assert!(st.unwrap().success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), HELLO);
    assert!(p.requests_on_log().contains(&format!("CONNECT localhost:{} HTTP/1.1", n.https_port)));
}

#[test]
fn tinyproxy_auth_requires_credentials() {
    let n = nginx();
    let p = tinyproxy_auth();
    let target = n.url("/");
    let mut c = RawConn::connect(p.port).unwrap();
    let r = c.get(&target).unwrap();
    assert_eq!(r.status, 407, "{}", r.head);
    let mut c = RawConn::connect(p.port).unwrap();
    let r = c.request("GET", &target, &[("Proxy-Authorization", "Basic dXNlcjpwYXNzd2Q=")], b"").unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, HELLO));
    assert_eq!(p.url_with_auth(), format!("http://user:passwd@127.0.0.1:{}", p.port));
}

#[test]
fn microsocks_tunnels_with_and_without_auth() {
    let n = nginx();
    for (p, creds) in [(microsocks(), None), (microsocks_auth(), Some("user:passwd"))] {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--socks5", &format!("127.0.0.1:{}", p.port)]);
        if let Some(cr) = creds {
            cmd.args(["--proxy-user", cr]);
        }
        cmd.arg(n.url("/files/small.txt"));
        let (st, out) = run_bounded(&mut cmd, Duration::from_secs(20));
        assert!(st.unwrap().success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), HELLO);
    }
    // Wrong credentials are refused.
    let (st, _) = run_bounded(
        Command::new("curl")
            .args(["-sS", "--socks5", &format!("127.0.0.1:{}", microsocks_auth().port)])
            .args(["--proxy-user", "user:wrong"])
            .arg(n.url("/")),
        Duration::from_secs(20),
    );
    assert!(!st.unwrap().success());
}

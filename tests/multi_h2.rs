//! The multi's HTTP/2 connections keep to the client's pool limits (issue #18): an idle
//! connection (no stream open) closes after `keepalive_expiry` (a timer of the multi,
//! reflected by `Multi::timeout`) and frees its pool slot, never while a stream is
//! open; idle ones count against `max_keepalive_connections` with the client pool's
//! idle connections; after a GOAWAY (nginx `keepalive_requests`) new transfers open a
//! new connection and streams the server did not process are retried once there.
//! Against a private nginx (exact connection counts from its access log).
mod common;
use common::*;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use httpx::multi::{Completion, Multi};
use httpx::tls::Trust;
use httpx::{Client, ClientConfig, Limits, Timeouts};

/// `keepalive_requests` of the GOAWAY listener.
const N: usize = 4;

struct Server {
    _server: ManagedServer,
    dir: PathBuf,
    /// HTTPS + HTTP/2: `/` "ok", `/slow` "slow" after 1.5 s (echo module).
    h2: u16,
    /// HTTPS + HTTP/2 with `keepalive_requests N`: GOAWAY after N requests.
    goaway: u16,
    /// Plain HTTP/1.1: another origin.
    plain: u16,
    /// HTTPS + HTTP/2 closing idle connections after 1 s (`keepalive_timeout 1s`).
    short: u16,
}

/// One access-log line: ($connection, $connection_requests, $request_uri).
type Line = (u64, u64, String);

impl Server {
    fn start() -> Server {
        let bin = require_tool_sbin("nginx", "apt-get install nginx-light");
        let module =
            ["/usr/lib/nginx/modules/ngx_http_echo_module.so", "/usr/share/nginx/modules/ngx_http_echo_module.so"]
                .iter()
                .find(|p| std::path::Path::new(p).exists())
                .map(|p| format!("load_module {p};"))
                .expect("nginx echo module: apt-get install libnginx-mod-http-echo");
        let dir = unique_temp_dir("nginx-multi-h2");
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        let (h2, goaway, plain, short) = (free_port(), free_port(), free_port(), free_port());
        let user = if unsafe { libc::geteuid() } == 0 { "user root;" } else { "" };
        let c = certs();
        let conf = format!(
            "{user}\n{module}\ndaemon off;\nmaster_process on;\nworker_processes 1;\n\
             pid {d}/nginx.pid;\nerror_log {d}/error.log warn;\nevents {{ worker_connections 1024; }}\n\
             http {{\n log_format h2 \"$connection\\t$connection_requests\\t$request_uri\";\n\
             access_log {d}/access.log h2;\n client_body_temp_path {d}/tmp/body;\n proxy_temp_path {d}/tmp/proxy;\n\
             fastcgi_temp_path {d}/tmp/fastcgi;\n uwsgi_temp_path {d}/tmp/uwsgi;\n scgi_temp_path {d}/tmp/scgi;\n\
             keepalive_timeout 75s;\n ssl_certificate {cert};\n ssl_certificate_key {key};\n\
             server {{\n  listen 127.0.0.1:{h2} ssl http2;\n\
               location = /slow {{ default_type text/plain; echo_sleep 1.5; echo -n slow; }}\n\
               location / {{ default_type text/plain; return 200 ok; }}\n }}\n\
             server {{\n  listen 127.0.0.1:{goaway} ssl http2;\n  keepalive_requests {N};\n\
               location / {{ default_type text/plain; return 200 ok; }}\n }}\n\
             server {{\n  listen 127.0.0.1:{short} ssl http2;\n  keepalive_timeout 1s;\n\
               location / {{ default_type text/plain; return 200 ok; }}\n }}\n\
             server {{\n  listen 127.0.0.1:{plain};\n  location / {{ default_type text/plain; return 200 plain; }}\n }}\n}}\n",
            d = dir.display(),
            cert = c.server_cert.display(),
            key = c.server_key.display(),
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg("-p").arg(&dir).arg("-c").arg(dir.join("nginx.conf"));
        let s = ManagedServer::spawn("nginx-multi-h2", dir.clone(), cmd, &["error.log"]).unwrap();
        s.wait_ready(Duration::from_secs(10), Duration::from_millis(20), || {
            port_accepts(h2) && port_accepts(goaway) && port_accepts(plain) && port_accepts(short)
        })
        .unwrap_or_else(|e| panic!("nginx did not start: {}", e.logs));
        Server { _server: s, dir, h2, goaway, plain, short }
    }

    fn url(&self, port: u16, path: &str) -> String {
        if port == self.plain {
            format!("http://127.0.0.1:{port}{path}")
        } else {
            format!("https://localhost:{port}{path}")
        }
    }

    /// Access-log lines whose URI contains `tag`, once `want` of them are there
    /// (nginx logs a request when it is done; bounded wait).
    fn log_for(&self, tag: &str, want: usize) -> Vec<Line> {
        let t0 = Instant::now();
        loop {
            let text = std::fs::read_to_string(self.dir.join("access.log")).unwrap_or_default();
            let lines: Vec<Line> = text
                .lines()
                .filter_map(|l| {
                    let f: Vec<&str> = l.split('\t').collect();
                    Some((f.first()?.parse().ok()?, f.get(1)?.parse().ok()?, f.get(2)?.to_string()))
                })
                .filter(|l| l.2.contains(tag))
                .collect();
            if lines.len() >= want || t0.elapsed() > Duration::from_secs(5) {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// nginx connections that served requests tagged `tag`.
    fn connections_for(&self, tag: &str, want: usize) -> BTreeSet<u64> {
        self.log_for(tag, want).into_iter().map(|l| l.0).collect()
    }
}

fn client(limits: Limits, f: impl FnOnce(&mut ClientConfig)) -> Client {
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    k.set_trust(Trust::CaFile(certs().ca_pem.clone()));
    k.set_http2(true);
    k.set_limits(limits).unwrap();
    f(&mut k);
    Client::new(&k).unwrap()
}

fn limits(expiry: Option<Duration>, max_keepalive: Option<usize>, max_connections: Option<usize>) -> Limits {
    Limits { max_connections, max_keepalive_connections: max_keepalive, keepalive_expiry: expiry }
}

/// Drive `m` until every transfer completed (bounded).
fn drive(m: &mut Multi, limit: Duration) -> Vec<Completion> {
    let until = Instant::now() + limit;
    let mut out = Vec::new();
    loop {
        let running = m.perform(Some(Duration::from_millis(100))).unwrap();
        while let Some(c) = m.next() {
            out.push(c);
        }
        if running == 0 {
            return out;
        }
        assert!(Instant::now() < until, "transfers still running after {limit:?}");
    }
}

/// One GET through `m`; its completion (the response, body read).
fn get(m: &mut Multi, c: &Client, url: &str) -> Completion {
    m.add(&c.build_request("GET", url).unwrap(), 1).unwrap();
    let mut done = drive(m, Duration::from_secs(20));
    assert_eq!(done.len(), 1);
    let mut d = done.pop().unwrap();
    let r = d.result.as_mut().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert!(r.body().is_ok());
    d
}

fn local_port(c: &Completion) -> u16 {
    c.result.as_ref().unwrap().info.conn.as_ref().unwrap().local.unwrap().port()
}

fn reused(c: &Completion) -> bool {
    c.result.as_ref().unwrap().info.reused
}

fn body(c: &mut Completion) -> String {
    let r = c.result.as_mut().unwrap_or_else(|e| panic!("transfer {} failed: {e}", c.tag));
    String::from_utf8(r.body().unwrap().to_vec()).unwrap()
}

/// The caller's loop: poll(2) on the multi's fd with `Multi::timeout` as the limit,
/// then perform without waiting, until `done` (bounded by `limit`). Returns the time
/// taken and the number of wake-ups.
fn poll_until(m: &mut Multi, limit: Duration, mut done: impl FnMut(&Multi) -> bool) -> (Duration, usize) {
    use std::os::fd::BorrowedFd;
    let t0 = Instant::now();
    let mut wakes = 0;
    while !done(m) {
        assert!(t0.elapsed() < limit, "not done after {limit:?} ({wakes} wake-ups)");
        // No timer: wait for the fd at most 1 s (the loop is bounded anyway).
        let wait = m.timeout().map(|d| d.as_millis() as i64 + 1).unwrap_or(1000);
        let fd = m.fd();
        #[allow(unsafe_code)]
        let bfd = unsafe { BorrowedFd::borrow_raw(fd) };
        let mut fds = [rustix::event::PollFd::new(&bfd, rustix::event::PollFlags::IN)];
        let ts = rustix::event::Timespec { tv_sec: wait / 1000, tv_nsec: ((wait % 1000) * 1_000_000) as _ };
        let _ = rustix::event::poll(&mut fds, Some(&ts));
        m.perform(Some(Duration::ZERO)).unwrap();
        wakes += 1;
    }
    (t0.elapsed(), wakes)
}

/// An idle connection closes after keepalive_expiry: `Multi::timeout` reports the
/// timer, a poll loop sleeping on it wakes and the connection is gone (its pool slot
/// freed: a `max_connections = 1` client reaches another origin), and the next
/// HTTP/2 transfer opens a new connection (nginx sees another connection).
#[test]
fn idle_connection_closes_after_keepalive_expiry_and_frees_its_slot() {
    let s = Server::start();
    let expiry = Duration::from_millis(400);
    let c = client(limits(Some(expiry), Some(20), Some(1)), |k| {
        k.set_timeouts(Timeouts { pool: Some(Duration::from_millis(300)), ..Timeouts::default() })
    });
    let mut m = Multi::new(&c).unwrap();
    let first = get(&mut m, &c, &s.url(s.h2, "/?idle-1"));
    let done_at = Instant::now();
    assert_eq!(m.http2_connections(), 1);
    assert_eq!(c.pool_stats().0, 1, "the HTTP/2 connection holds the one slot");
    // No transfer is running; the expiry timer is the multi's next wake-up.
    let t = m.timeout().expect("a timer for the keep-alive expiry");
    assert!(t <= expiry && t > Duration::ZERO, "{t:?}");
    let (_, wakes) = poll_until(&mut m, Duration::from_secs(5), |m| m.http2_connections() == 0);
    let closed_after = done_at.elapsed();
    eprintln!(
        "idle HTTP/2 connection closed {closed_after:?} after its transfer ({wakes} wake-ups), expiry {expiry:?}"
    );
    assert!(closed_after >= expiry - Duration::from_millis(100), "{closed_after:?}");
    assert!(closed_after < Duration::from_secs(3), "{closed_after:?}");
    assert!(wakes < 20, "the loop slept on the timer ({wakes} wake-ups)");
    assert_eq!(c.pool_stats().0, 0, "its pool slot is free");
    assert_eq!(m.timeout(), None, "no timer left");
    // The freed slot serves another origin (pool timeout 300 ms: it would fail if
    // the HTTP/2 connection still held it).
    let mut p = get(&mut m, &c, &s.url(s.plain, "/?idle-plain"));
    assert_eq!(body(&mut p), "plain");
    // A new HTTP/2 connection (the idle HTTP/1.1 one is evicted for it).
    let second = get(&mut m, &c, &s.url(s.h2, "/?idle-2"));
    assert!(!reused(&second));
    assert_ne!(local_port(&first), local_port(&second));
    let a = s.connections_for("idle-1", 1);
    let b = s.connections_for("idle-2", 1);
    assert_eq!((a.len(), b.len()), (1, 1));
    assert_ne!(a, b, "nginx saw two connections");
}

/// keepalive_expiry 0: the connection closes as soon as its stream ends (the
/// blocking pool keeps none either); None: it never expires (and no timer is set).
#[test]
fn expiry_zero_closes_at_once_and_none_never_expires() {
    let s = Server::start();
    let c = client(limits(Some(Duration::ZERO), Some(20), Some(10)), |_| {});
    let mut m = Multi::new(&c).unwrap();
    let a = get(&mut m, &c, &s.url(s.h2, "/?zero-1"));
    let (took, _) = poll_until(&mut m, Duration::from_secs(2), |m| m.http2_connections() == 0);
    eprintln!("expiry 0: closed {took:?} after the transfer completed");
    assert_eq!(c.pool_stats().0, 0);
    let b = get(&mut m, &c, &s.url(s.h2, "/?zero-2"));
    assert!(!reused(&b));
    assert_ne!(local_port(&a), local_port(&b));
    assert_ne!(s.connections_for("zero-1", 1), s.connections_for("zero-2", 1));

    let c = client(limits(None, None, Some(10)), |_| {});
    let mut m = Multi::new(&c).unwrap();
    let a = get(&mut m, &c, &s.url(s.h2, "/?none-1"));
    assert_eq!(m.timeout(), None, "no expiry: no timer");
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_millis(700) {
        m.perform(Some(Duration::from_millis(50))).unwrap();
    }
    assert_eq!(m.http2_connections(), 1);
    let b = get(&mut m, &c, &s.url(s.h2, "/?none-2"));
    assert!(reused(&b));
    assert_eq!(local_port(&a), local_port(&b));
}

/// A connection with a stream open does not expire, however long the stream takes:
/// transfers added past the expiry reuse it; it expires only once idle.
#[test]
fn no_expiry_while_a_stream_is_open() {
    let s = Server::start();
    let expiry = Duration::from_millis(300);
    let c = client(limits(Some(expiry), Some(20), Some(10)), |_| {});
    let mut m = Multi::new(&c).unwrap();
    m.add(&c.build_request("GET", &s.url(s.h2, "/slow?open-slow")).unwrap(), 1).unwrap();
    let t0 = Instant::now();
    while m.http2_connections() == 0 {
        assert!(t0.elapsed() < Duration::from_secs(5));
        m.perform(Some(Duration::from_millis(20))).unwrap();
    }
    // A short transfer on the same connection; then wait well past the expiry
    // (measured from its end) with the slow stream still open.
    m.add(&c.build_request("GET", &s.url(s.h2, "/?open-quick")).unwrap(), 2).unwrap();
    let mut done = Vec::new();
    let t1 = Instant::now();
    while done.is_empty() {
        assert!(t1.elapsed() < Duration::from_secs(5));
        m.perform(Some(Duration::from_millis(20))).unwrap();
        done.extend(std::iter::from_fn(|| m.next()));
    }
    let quick_done = Instant::now();
    while quick_done.elapsed() < expiry * 2 {
        m.perform(Some(Duration::from_millis(20))).unwrap();
        done.extend(std::iter::from_fn(|| m.next()));
    }
    assert_eq!(done.len(), 1, "the slow transfer is still running");
    assert_eq!(m.http2_connections(), 1, "not expired while a stream is open");
    m.add(&c.build_request("GET", &s.url(s.h2, "/?open-late")).unwrap(), 3).unwrap();
    done.extend(drive(&mut m, Duration::from_secs(10)));
    done.sort_by_key(|d| d.tag);
    assert_eq!(done.len(), 3);
    assert_eq!(body(&mut done[0]), "slow");
    assert!(reused(&done[1]) && reused(&done[2]));
    let ports: BTreeSet<u16> = done.iter().map(local_port).collect();
    assert_eq!(ports.len(), 1, "one connection: {ports:?}");
    let conns: BTreeSet<u64> =
        ["open-slow", "open-quick", "open-late"].iter().flat_map(|t| s.connections_for(t, 1)).collect();
    assert_eq!(conns.len(), 1, "nginx saw one connection: {conns:?}");
    // Idle now: it expires.
    let idle_from = Instant::now();
    assert_eq!(m.http2_connections(), 1);
    poll_until(&mut m, Duration::from_secs(5), |m| m.http2_connections() == 0);
    eprintln!("closed {:?} after its last stream ended (expiry {expiry:?})", idle_from.elapsed());
}

/// Idle multi HTTP/2 connections count against max_keepalive_connections together
/// with the client pool's idle connections; over the limit the least recently used
/// idle one of the multi closes.
#[test]
fn idle_connections_count_against_max_keepalive() {
    let s = Server::start();
    let c = client(limits(Some(Duration::from_secs(30)), Some(1), Some(10)), |_| {});
    let mut m = Multi::new(&c).unwrap();
    // Two origins by name (localhost, 127.0.0.1): two connections.
    let by_name = s.url(s.h2, "/?ka-a");
    let by_ip = by_name.replace("localhost", "127.0.0.1").replace("ka-a", "ka-b");
    let a1 = get(&mut m, &c, &by_name);
    assert_eq!(m.http2_connections(), 1);
    let b1 = get(&mut m, &c, &by_ip);
    // Two idle, one allowed: the older (a) closed.
    assert_eq!(m.http2_connections(), 1);
    let b2 = get(&mut m, &c, &by_ip);
    assert!(reused(&b2));
    assert_eq!(local_port(&b1), local_port(&b2));
    let a2 = get(&mut m, &c, &by_name);
    assert!(!reused(&a2), "a's connection was closed");
    assert_ne!(local_port(&a1), local_port(&a2));
    // Now b is the older idle one: closed.
    assert_eq!(m.http2_connections(), 1);
    let b3 = get(&mut m, &c, &by_ip);
    assert!(!reused(&b3));
    // An idle HTTP/1.1 connection of the client's pool (a blocking send) counts too:
    // the multi's connection closes when its stream ends.
    let mut r = c.send(&c.build_request("GET", &s.url(s.plain, "/?ka-plain")).unwrap()).unwrap();
    assert_eq!(r.body().unwrap(), b"plain");
    assert_eq!(c.pool_stats().1, 1, "the blocking pool keeps its idle connection");
    let b4 = get(&mut m, &c, &by_ip);
    assert!(reused(&b4));
    assert_eq!(m.http2_connections(), 0, "1 idle in the pool + 1 of the multi > 1");
    let t0 = Instant::now();
    while c.pool_stats().0 > 1 {
        assert!(t0.elapsed() < Duration::from_secs(5));
        m.perform(Some(Duration::from_millis(20))).unwrap();
    }
    // max_keepalive_connections 0: none is kept.
    let c = client(limits(Some(Duration::from_secs(30)), Some(0), Some(10)), |_| {});
    let mut m = Multi::new(&c).unwrap();
    let x = get(&mut m, &c, &by_name);
    assert_eq!(m.http2_connections(), 0);
    let y = get(&mut m, &c, &by_name);
    assert!(!reused(&y));
    assert_ne!(local_port(&x), local_port(&y));
}

/// nginx sends GOAWAY after `keepalive_requests` (N) requests on a connection. 2N
/// transfers at once: N are served on the first connection, the N above its
/// last-stream-id are retried once on a second one (as the blocking transport
/// does: a GET on a reused connection, not processed by the server); N more later
/// see the GOAWAY'd connection and open a third. All 3N succeed on 3 connections.
#[test]
fn goaway_opens_a_new_connection_and_retries_unprocessed_streams() {
    let s = Server::start();
    let retries = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let r2 = retries.clone();
    let c = client(limits(Some(Duration::from_secs(30)), Some(20), Some(10)), |k| {
        k.set_debug(std::sync::Arc::new(move |kind, b: &[u8]| {
            if kind == httpx::debug::DebugKind::Text
                && String::from_utf8_lossy(b).contains("retrying on a new connection")
            {
                r2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }))
    });
    let mut m = Multi::new(&c).unwrap();
    for i in 0..2 * N {
        m.add(&c.build_request("GET", &s.url(s.goaway, &format!("/?ga1-{i}"))).unwrap(), i as u64).unwrap();
    }
    let mut first = drive(&mut m, Duration::from_secs(20));
    assert_eq!(first.len(), 2 * N);
    for d in &mut first {
        assert_eq!(body(d), "ok");
    }
    let ports1: BTreeSet<u16> = first.iter().map(local_port).collect();
    assert_eq!(ports1.len(), 2, "2N transfers, N per connection: {ports1:?}");
    assert_eq!(s.connections_for("ga1-", 2 * N).len(), 2);
    let retried = retries.load(std::sync::atomic::Ordering::SeqCst);
    eprintln!("2N = {} transfers at once: {retried} retried after the GOAWAY", 2 * N);
    assert_eq!(retried, N, "the N streams above the last-stream-id were retried");
    for i in 0..N {
        m.add(&c.build_request("GET", &s.url(s.goaway, &format!("/?ga2-{i}"))).unwrap(), i as u64).unwrap();
    }
    let mut second = drive(&mut m, Duration::from_secs(20));
    assert_eq!(second.len(), N);
    for d in &mut second {
        assert_eq!(body(d), "ok");
    }
    let ports2: BTreeSet<u16> = second.iter().map(local_port).collect();
    assert_eq!(ports2.len(), 1);
    assert!(ports1.is_disjoint(&ports2), "a new connection after the GOAWAY");
    assert_eq!(retries.load(std::sync::atomic::Ordering::SeqCst), N, "no retry: the GOAWAY was seen first");
    let lines = s.log_for("ga", 3 * N);
    let conns: BTreeSet<u64> = lines.iter().map(|l| l.0).collect();
    assert_eq!(lines.len(), 3 * N, "each request served once");
    assert_eq!(conns.len(), (3 * N).div_ceil(N), "connections used: {conns:?}");
    assert!(lines.iter().all(|l| l.1 as usize <= N));
    // The GOAWAY'd connections close once their streams are done.
    let t0 = Instant::now();
    while m.http2_connections() > 1 || c.pool_stats().0 > 1 {
        assert!(t0.elapsed() < Duration::from_secs(5), "{} {:?}", m.http2_connections(), c.pool_stats());
        m.perform(Some(Duration::from_millis(20))).unwrap();
    }
}

/// An idle connection the server closes (nginx's keepalive_timeout 1 s, before the
/// client's 30 s expiry) leaves the multi and frees its pool slot; the next transfer
/// opens a new connection.
#[test]
fn idle_connection_closed_by_the_server_leaves_the_pool() {
    let s = Server::start();
    let c = client(limits(Some(Duration::from_secs(30)), Some(20), Some(10)), |_| {});
    let mut m = Multi::new(&c).unwrap();
    let a = get(&mut m, &c, &s.url(s.short, "/?srv-1"));
    assert_eq!(m.http2_connections(), 1);
    let (took, wakes) = poll_until(&mut m, Duration::from_secs(5), |m| m.http2_connections() == 0);
    eprintln!("server-closed idle connection gone after {took:?} ({wakes} wake-ups)");
    assert!(took >= Duration::from_millis(700), "{took:?}");
    assert_eq!(c.pool_stats().0, 0, "its slot is free");
    let b = get(&mut m, &c, &s.url(s.short, "/?srv-2"));
    assert!(!reused(&b));
    assert_ne!(local_port(&a), local_port(&b));
}

/// max_connections 1, the slot held by the multi's idle HTTP/2 connection: a multi
/// HTTP/2 transfer to another origin closes it to make room (as the pool evicts an
/// idle connection for another origin) instead of waiting for the expiry.
#[test]
fn a_new_http2_connection_evicts_an_idle_one_when_the_pool_is_full() {
    let s = Server::start();
    let c = client(limits(Some(Duration::from_secs(30)), Some(20), Some(1)), |k| {
        k.set_timeouts(Timeouts { pool: Some(Duration::from_secs(3)), ..Timeouts::default() })
    });
    let mut m = Multi::new(&c).unwrap();
    let by_name = s.url(s.h2, "/?evict-a");
    let by_ip = by_name.replace("localhost", "127.0.0.1").replace("evict-a", "evict-b");
    let _a = get(&mut m, &c, &by_name);
    assert_eq!(c.pool_stats().0, 1);
    let t0 = Instant::now();
    let b = get(&mut m, &c, &by_ip);
    let took = t0.elapsed();
    eprintln!("other origin through the full pool in {took:?}");
    assert!(!reused(&b));
    assert!(took < Duration::from_secs(2), "{took:?}: it waited instead of evicting");
    assert_eq!(m.http2_connections(), 1);
    assert_eq!(c.pool_stats().0, 1);
}

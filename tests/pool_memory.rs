//! Heap per idle pooled connection (issue 16: at most 16 KiB).
//!
//! A counting global allocator (this test binary only) measures the live heap of a client
//! before and after N connections went idle into its pool. The server is a tiny
//! keep-alive responder on 127.0.0.1 in this process: it allocates too, so the server
//! threads do their allocating before the measurement starts and are quiet while it runs
//! (each connection's server thread has already answered and waits in `read`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use httpx::{Client, ClientConfig, Limits};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);
thread_local! {
    /// Set on the server's threads: their allocations are not the client's.
    static SERVER: Cell<bool> = const { Cell::new(false) };
}
fn count(d: isize) {
    if !SERVER.try_with(|s| s.get()).unwrap_or(true) {
        LIVE.fetch_add(d, Ordering::Relaxed);
    }
}

// Counts only (a server thread's memory is freed by a server thread, so the
// per-thread filter is symmetric).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count(l.size() as isize);
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        count(l.size() as isize);
        System.alloc_zeroed(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        count(-(l.size() as isize));
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        count(new as isize - l.size() as isize);
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static A: Counting = Counting;

const N: usize = 32;
const MAX_PER_CONN: isize = 16 * 1024;

/// Answers every request with a 2-byte body, keep-alive. A request for `/hold` is
/// answered only once `N` of them have arrived, so N client threads really hold N
/// connections at once.
fn server(release: Arc<Barrier>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    // The server threads are created by a server thread: the client's count never sees
    // their allocations (thread handles, buffers).
    std::thread::spawn(move || {
        SERVER.with(|s| s.set(true));
        for s in l.incoming().take(N + 4) {
            let Ok(mut s) = s else { return };
            let release = release.clone();
            std::thread::spawn(move || {
                SERVER.with(|s| s.set(true));
                let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
                let mut buf = vec![0u8; 4096];
                let mut have = Vec::new();
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => have.extend_from_slice(&buf[..n]),
                    }
                    while let Some(p) = have.windows(4).position(|w| w == b"\r\n\r\n") {
                        if have.starts_with(b"GET /hold ") {
                            release.wait();
                        }
                        have.drain(..p + 4);
                        if s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    port
}

#[test]
fn idle_pooled_connection_heap_is_at_most_16_kib() {
    let release = Arc::new(Barrier::new(N));
    let port = server(release);
    let mut cfg = ClientConfig::default();
    cfg.set_trust_env(false);
    cfg.set_limits(Limits { max_connections: Some(N + 4), max_keepalive_connections: Some(N + 4), ..cfg.limits() })
        .unwrap();
    let client = Client::new(&cfg).unwrap();
    let url = format!("http://127.0.0.1:{port}/hold");
    // Warm-up: one request leaves one idle connection and initialises whatever is lazy
    // and per client or per process (not per connection).
    let req = client.build_request("GET", &format!("http://127.0.0.1:{port}/")).unwrap();
    assert_eq!(client.send(&req).unwrap().body().unwrap(), b"ok");
    drop(req);
    std::thread::sleep(Duration::from_millis(20));
    let before = LIVE.load(Ordering::SeqCst);
    // N threads, each one GET: the server answers none until all N are connected.
    let start = Arc::new(Barrier::new(N));
    let hs: Vec<_> = (0..N)
        .map(|_| {
            let (c, u, s) = (client.clone(), url.clone(), start.clone());
            std::thread::spawn(move || {
                s.wait();
                let req = c.build_request("GET", &u).unwrap();
                let mut r = c.send(&req).unwrap();
                assert_eq!(r.body().unwrap(), b"ok");
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    std::thread::sleep(Duration::from_millis(50));
    let after = LIVE.load(Ordering::SeqCst);
    let (total, idle) = client.pool_stats();
    assert_eq!(idle, N, "all {N} connections idle in the pool (total {total})");
    // N - 1 of them are new (one thread reused the warm-up's connection).
    let per = (after - before) / (N as isize - 1);
    eprintln!(
        "heap per idle pooled connection: {per} bytes ({} bytes for {} new connections, limit {MAX_PER_CONN})",
        after - before,
        N - 1
    );
    assert!(per <= MAX_PER_CONN, "{per} bytes of heap per idle pooled connection (limit {MAX_PER_CONN})");
    drop(client);
}

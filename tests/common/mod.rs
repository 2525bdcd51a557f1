//! Shared test harness for libhttpx integration tests (`mod common;` in each test file,
//! then `use common::*;`). One file per peer, all on 127.0.0.1 or unix sockets:
//! * [`process`]  – [`ManagedServer`], the one type every long-running peer is built on
//!   (spawn, readiness, logs, kill-on-drop), [`spawn_guarded`], [`run_bounded`], temp dirs.
//! * [`certs`]    – [`certs()`]: a test PKI generated once per test binary.
//! * [`nginx`]    – [`nginx()`] (shared) / [`Nginx::start()`] (private, for connection counts).
//! * [`httpbin`]  – [`httpbin()`] / [`Httpbin::start()`]: gunicorn + httpbin.
//! * [`proxies`]  – tinyproxy and microsocks ([`Proxy`], shared or private), danted and
//!   squid ([`ExtProxy`], private).
//! * [`faults`]   – [`FaultServer`]: in-process TCP server for faults real servers cannot
//!   produce ([`tls_fault_server`]: the same over TLS, rustls), plus request readers /
//!   response writers for its handlers.
//! * [`h2raw`]    – [`raw_h2_server`]: a raw HTTP/2 responder over TLS for malformed heads.
//! * [`rawconn`]  – [`RawConn`]: a tiny raw HTTP/1.1 client (std only) to check servers.
//! * `tls_fault.rs` (included separately with `#[path]`, it needs rustls): a TLS fault server.
//!
//! Process reaping (every process a test starts dies with the test process, even on panic,
//! `abort()` or SIGKILL of the test binary): see [`spawn_guarded`]. In short, each guarded
//! process gets `prctl(PR_SET_PDEATHSIG, SIGKILL)` (set in `pre_exec`, from a dedicated
//! never-exiting "spawner" thread because PDEATHSIG fires when the *thread* that forked
//! exits), and runs in its own process group together with a tiny `sh` watchdog whose stdin
//! is a pipe only the test process holds; when the test process dies the pipe reaches EOF
//! and the watchdog does `kill -9 0`, killing the whole group (nginx workers, gunicorn
//! workers, grandchildren). Private instances are also killed (whole group) on Drop.
//!
//! Missing tools panic with the package to install; tests never silently pass.
#![allow(dead_code)]

pub mod certs;
pub mod faults;
pub mod h2raw;
pub mod httpbin;
pub mod nginx;
pub mod process;
pub mod proxies;
pub mod rawconn;

// Every test file sees the whole harness as `common::*` (a file may use only part of it).
#[allow(unused_imports)]
pub use certs::*;
#[allow(unused_imports)]
pub use faults::*;
#[allow(unused_imports)]
pub use h2raw::*;
#[allow(unused_imports)]
pub use httpbin::*;
#[allow(unused_imports)]
pub use nginx::*;
#[allow(unused_imports)]
pub use process::*;
#[allow(unused_imports)]
pub use proxies::*;
#[allow(unused_imports)]
pub use rawconn::*;

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

// ---------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------

/// Directory holding the harness support files (`gen_certs.sh`, nginx templates).
pub fn support_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("support")
}

/// A tag unique to this test process and call, to find a test's own requests in the
/// shared nginx's access log (`/?{tag}=...`, then `connections_for(&tag)`).
pub fn tag() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!("tag{}x{}x", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// A free TCP port on 127.0.0.1 (bound then released). Never returns the same port twice
/// within one test process. Servers started by this harness retry with fresh ports if a
/// port was taken in the meantime.
pub fn free_port() -> u16 {
    static GIVEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let given = GIVEN.get_or_init(|| Mutex::new(HashSet::new()));
    for _ in 0..200 {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = l.local_addr().expect("local_addr").port();
        drop(l);
        if lock(given).insert(port) {
            return port;
        }
    }
    panic!("free_port: could not find an unused port in 200 tries");
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// True if `name` is an executable file on PATH (or an executable path if it has a '/').
pub fn tool_available(name: &str) -> bool {
    find_tool(name).is_some()
}

/// Full path of `name` on PATH, if present and executable.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let is_exec =
        |p: &Path| fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false);
    if name.contains('/') {
        let p = PathBuf::from(name);
        return if is_exec(&p) { Some(p) } else { None };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| is_exec(p))
}

/// Panics with an install hint if `tool` is missing.
pub fn require_tool(tool: &str, install_hint: &str) -> PathBuf {
    find_tool(tool).unwrap_or_else(|| panic!("required tool `{tool}` not found on PATH: install it ({install_hint})"))
}

/// Directory of the built cdylib/staticlib for the current profile:
/// `target/{debug|release}/deps/<test-exe>` -> `target/{debug|release}`.
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe.parent().expect("exe has a parent").to_path_buf();
    if dir.file_name() == Some(OsStr::new("deps")) {
        dir.parent().expect("deps has a parent").to_path_buf()
    } else {
        dir
    }
}

/// Deterministic pseudo-random bytes (xorshift64*). `files/64k.bin` is
/// `pseudo_random_bytes(65536, 64)` and `files/1m.bin` is `pseudo_random_bytes(1 << 20, 1024)`.
pub fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Body of `/` and of `files/small.txt`.
pub const HELLO: &str = "Hello, world!";

/// Contents of `files/hello.txt` (`files/hello.txt.gz` is its `gzip -9 -n`).
pub fn hello_txt() -> String {
    (1..=64).map(|i| format!("Hello, gzip world! line {i}\n")).collect()
}

pub fn file_64k() -> Vec<u8> {
    pseudo_random_bytes(65536, 64)
}

pub fn file_1m() -> Vec<u8> {
    pseudo_random_bytes(1 << 20, 1024)
}

/// Like [`require_tool`], also looking in /usr/sbin, /sbin and /usr/local/sbin.
pub fn require_tool_sbin(tool: &str, hint: &str) -> PathBuf {
    find_tool(tool)
        .or_else(|| {
            ["/usr/sbin", "/sbin", "/usr/local/sbin"].iter().map(|d| Path::new(d).join(tool)).find(|p| p.exists())
        })
        .unwrap_or_else(|| panic!("required tool `{tool}` not found: install it ({hint})"))
}

/// A host name that fails to resolve without any packet leaving the machine: its first
/// label is longer than DNS allows (63 bytes), so glibc's `getaddrinfo` looks in
/// /etc/hosts and then refuses to build a query. Tests that need a real resolve failure
/// (or a real `getaddrinfo` call) use it instead of a `*.invalid` name, which would be
/// sent to the machine's name server (an address outside 127.0.0.0/8).
#[allow(dead_code)]
pub const UNRESOLVABLE_HOST: &str = "no-such-host-whose-first-label-is-longer-than-the-63-bytes-dns-allows.invalid";

/// The same, one per `i` (distinct names, for tests that need several lookups).
#[allow(dead_code)]
pub fn unresolvable_host(i: usize) -> String {
    format!("{i}-no-such-host-whose-first-label-is-longer-than-the-63-bytes-dns-allows.invalid")
}

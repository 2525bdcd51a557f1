//! The C ABI, tested from C: compiles every program in `tests/c/` against the committed
//! `include/httpx.h` and the cdylib built for this test run, starts the servers they need
//! (nginx, httpbin, fault servers: see `tests/common/`), and runs each one (under valgrind
//! when installed, required when `CI` is set) with a time bound. One `#[test]` per program;
//! on failure the program's output is printed. Also: the header compiles as C++, the
//! committed header equals the generated one, and `examples_c/` builds with CMake and runs.
//!
//! Which library: `cargo test` builds the crate with all its crate types (cdylib, staticlib,
//! rlib) in one rustc invocation, but only *uplifts* artifacts to `target/<profile>/` for
//! `cargo build`. So after a plain `cargo test`, `target/<profile>/libhttpx.so` may be
//! missing or stale, while `target/<profile>/deps/libhttpx.so` is the one built next to the
//! rlib this test binary links. We copy that one into a private temp dir (so a concurrent
//! rebuild cannot change it under a running test) and link against the copy. No nested
//! `cargo build` (it would wait forever on the cargo lock `cargo test` holds).
//!
//! Knobs: `HTTPX_C_VALGRIND=0` runs without valgrind (not allowed with `CI` set);
//! `HTTPX_C_TEST_JOBS` (default 2) bounds how many C programs run at once.

mod common;
#[path = "common/tls_fault.rs"]
mod tls_fault;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::*;

// ---------------------------------------------------------------------------------------
// Setup: library copy, work dir, cleanup
// ---------------------------------------------------------------------------------------

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn include_dir() -> PathBuf {
    manifest_dir().join("include")
}

fn c_src_dir() -> PathBuf {
    manifest_dir().join("tests").join("c")
}

/// Directories removed when the test process exits normally (statics never Drop; stale
/// `httpx-test-<pid>-*` dirs of dead processes are also swept by `unique_temp_dir`).
fn remove_at_exit(dir: PathBuf) {
    static DIRS: OnceLock<Mutex<Vec<PathBuf>>> = OnceLock::new();
    extern "C" fn cleanup() {
        if let Some(m) = DIRS.get() {
            if let Ok(mut v) = m.try_lock() {
                for d in v.drain(..) {
                    let _ = fs::remove_dir_all(d);
                }
            }
        }
    }
    let first = DIRS.get().is_none();
    DIRS.get_or_init(|| Mutex::new(Vec::new())).lock().unwrap_or_else(|e| e.into_inner()).push(dir);
    if first {
        unsafe { libc::atexit(cleanup) };
    }
}

struct Setup {
    /// Private copy of the cdylib (`libhttpx.so`) and the C build outputs.
    lib: PathBuf,
    /// Scratch dir for compiled programs and their working dirs.
    work: PathBuf,
}

fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        let profile_dir = lib_dir();
        let candidates = [profile_dir.join("deps").join("libhttpx.so"), profile_dir.join("libhttpx.so")];
        let so = candidates.iter().find(|p| p.exists()).unwrap_or_else(|| {
            panic!(
                "libhttpx.so not found in {candidates:?}: the crate's cdylib should be built by \
                 `cargo test` (crate-type includes \"cdylib\"); try `cargo build`"
            )
        });
        let root = unique_temp_dir("capi");
        remove_at_exit(root.clone());
        let lib = root.join("lib");
        let work = root.join("work");
        fs::create_dir_all(&lib).unwrap();
        fs::create_dir_all(&work).unwrap();
        fs::copy(so, lib.join("libhttpx.so"))
            .unwrap_or_else(|e| panic!("copy {} -> {}: {e}", so.display(), lib.display()));
        eprintln!("[c_api] using {} (copied to {})", so.display(), lib.display());
        Setup { lib, work }
    })
}

// ---------------------------------------------------------------------------------------
// Valgrind and concurrency
// ---------------------------------------------------------------------------------------

fn valgrind() -> Option<PathBuf> {
    static V: OnceLock<Option<PathBuf>> = OnceLock::new();
    V.get_or_init(|| {
        let in_ci = std::env::var_os("CI").is_some();
        let disabled = std::env::var("HTTPX_C_VALGRIND").map(|v| v == "0").unwrap_or(false);
        let found = find_tool("valgrind");
        if in_ci && found.is_none() {
            panic!("CI is set but valgrind is not installed: apt-get install valgrind");
        }
        if disabled {
            assert!(!in_ci, "HTTPX_C_VALGRIND=0 is not allowed in CI");
            eprintln!("[c_api] HTTPX_C_VALGRIND=0: running C tests without valgrind");
            return None;
        }
        if found.is_none() {
            eprintln!("[c_api] WARNING: valgrind not installed: C tests run without leak checks");
        }
        found
    })
    .clone()
}

/// A counting semaphore bounding how many C programs run at once (valgrind is CPU-hungry
/// and some checks measure time).
struct Slots {
    free: Mutex<usize>,
    cv: Condvar,
}

struct SlotGuard(&'static Slots);

impl Drop for SlotGuard {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.cv.notify_one();
    }
}

/// How many C programs may run at once (`HTTPX_C_TEST_JOBS`, default 2).
fn jobs() -> usize {
    std::env::var("HTTPX_C_TEST_JOBS").ok().and_then(|v| v.parse().ok()).filter(|&n: &usize| n > 0).unwrap_or(2)
}

fn slot() -> SlotGuard {
    static SLOTS: OnceLock<Slots> = OnceLock::new();
    let s = SLOTS.get_or_init(|| Slots { free: Mutex::new(jobs()), cv: Condvar::new() });
    let mut free = s.free.lock().unwrap_or_else(|e| e.into_inner());
    // Bounded wait: every run is itself time-bounded, so slots come back.
    let deadline = Instant::now() + Duration::from_secs(1800);
    while *free == 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no C test slot became free in 30 minutes");
        free = s.cv.wait_timeout(free, left).unwrap_or_else(|e| e.into_inner()).0;
    }
    *free -= 1;
    SlotGuard(s)
}

// ---------------------------------------------------------------------------------------
// Compile and run
// ---------------------------------------------------------------------------------------

const CFLAGS: &[&str] = &["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-g", "-O1"];
const CXXFLAGS: &[&str] = &["-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic", "-g", "-O1"];

fn show(out: &Output) -> String {
    format!("--- stdout\n{}--- stderr\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Compiles `tests/c/<file>` (C, or C++ for `.cpp`) into `<work>/<out_name>`, linked
/// against the private copy of libhttpx.so (with an rpath to it).
fn compile(file: &str, out_name: &str) -> PathBuf {
    compile_with(file, out_name, &[])
}

/// AddressSanitizer (+ UBSan) flags for the C side: the library itself is not
/// instrumented (that needs nightly Rust), but ASan's malloc/free interposition covers
/// every allocation the library makes, so out-of-bounds reads of library-owned
/// buffers by C code, use after free, double or mismatched frees across the boundary
/// and leaks (LeakSanitizer) are caught.
const ASAN_FLAGS: &[&str] = &["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"];

fn compile_with(file: &str, out_name: &str, extra: &[&str]) -> PathBuf {
    let s = setup();
    let src = c_src_dir().join(file);
    assert!(src.exists(), "{} missing", src.display());
    let cxx = file.ends_with(".cpp");
    let (tool, flags) = if cxx { ("c++", CXXFLAGS) } else { ("cc", CFLAGS) };
    let compiler = require_tool(tool, "apt-get install gcc g++");
    let out = s.work.join(out_name);
    let mut cmd = Command::new(compiler);
    cmd.args(flags)
        .args(extra)
        .arg("-I")
        .arg(include_dir())
        .arg("-I")
        .arg(c_src_dir())
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .arg("-L")
        .arg(&s.lib)
        .arg(format!("-Wl,-rpath,{}", s.lib.display()))
        .arg("-lhttpx")
        .arg("-lpthread");
    let (st, o) = run_bounded(&mut cmd, Duration::from_secs(180));
    assert!(
        st.map(|s| s.success()).unwrap_or(false),
        "compiling {} failed ({st:?}): {cmd:?}\n{}",
        src.display(),
        show(&o)
    );
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Valgrind {
    /// Under valgrind when available (the default for every C test).
    IfAvailable,
    /// Never (full-size load tests).
    Off,
    /// Compiled with AddressSanitizer + UBSan instead (no valgrind: they exclude each
    /// other).
    Asan,
}

/// Environment every C program gets: no proxies, no TLS/netrc environment, a private HOME
/// (no ~/.netrc), its own working dir.
fn base_command(program: &Path, use_valgrind: bool, cwd: &Path) -> Command {
    let mut cmd = match (use_valgrind, valgrind()) {
        (true, Some(vg)) => {
            let mut c = Command::new(vg);
            c.args([
                "--quiet",
                "--error-exitcode=99",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite,indirect",
                "--show-leak-kinds=definite,indirect",
                "--num-callers=40",
                "--fair-sched=yes",
            ]);
            let supp = c_src_dir().join("valgrind.supp");
            if supp.exists() {
                c.arg(format!("--suppressions={}", supp.display()));
            }
            c.arg(program);
            c.env("HTTPX_TEST_VALGRIND", "1");
            c
        }
        _ => {
            let mut c = Command::new(program);
            c.env("HTTPX_TEST_VALGRIND", "0");
            c
        }
    };
    for v in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "SSLKEYLOGFILE",
        "NETRC",
    ] {
        cmd.env_remove(v);
    }
    // cargo test puts target/<profile>{,/deps} on LD_LIBRARY_PATH, which beats the
    // program's RUNPATH: without this a stale target/<profile>/libhttpx.so is loaded
    // instead of the private copy.
    cmd.env_remove("LD_LIBRARY_PATH");
    cmd.env("HOME", cwd).current_dir(cwd);
    cmd
}

/// Compiles and runs `tests/c/<file>` with `env`; panics with its output unless it exits 0.
fn run_c(file: &str, env: &[(&str, String)], vg: Valgrind, timeout: Duration) -> Output {
    run_c_with(file, env, vg, timeout, 1).unwrap_or_else(|report| panic!("{report}"))
}

/// Like [`run_c`], returning the failure report instead of panicking. `slots`: how many of
/// the concurrent-run slots to hold (timing-sensitive programs take them all).
fn run_c_with(
    file: &str,
    env: &[(&str, String)],
    vg: Valgrind,
    timeout: Duration,
    slots: usize,
) -> Result<Output, String> {
    let suffix = match vg {
        Valgrind::Off => "_novg",
        Valgrind::Asan => "_asan",
        Valgrind::IfAvailable => "",
    };
    let tag = format!("{}{suffix}", file.replace('.', "_"));
    let bin = if vg == Valgrind::Asan { compile_with(file, &tag, ASAN_FLAGS) } else { compile(file, &tag) };
    let cwd = setup().work.join(format!("{tag}.d"));
    fs::create_dir_all(&cwd).unwrap();
    let use_vg = vg == Valgrind::IfAvailable && valgrind().is_some();
    let mut cmd = base_command(&bin, use_vg, &cwd);
    if vg == Valgrind::Asan {
        // Errors exit 98 with a report on stderr; leaks are errors too.
        cmd.env("ASAN_OPTIONS", "detect_leaks=1:exitcode=98:abort_on_error=0:strict_string_checks=1");
        cmd.env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:exitcode=98");
        cmd.env("LSAN_OPTIONS", "exitcode=98");
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let _slots: Vec<SlotGuard> = {
        // Multi-slot runs take their slots under one lock so two of them cannot deadlock.
        static MULTI: Mutex<()> = Mutex::new(());
        let _g = if slots > 1 { Some(MULTI.lock().unwrap_or_else(|e| e.into_inner())) } else { None };
        (0..slots.clamp(1, jobs())).map(|_| slot()).collect()
    };
    let t0 = Instant::now();
    let (status, out) = run_bounded(&mut cmd, timeout);
    let took = t0.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let failed_checks: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    let report = format!(
        "{file}{}: {} after {:.1}s\n{}{}",
        if use_vg { " (under valgrind)" } else { "" },
        match status {
            Some(s) => format!("exit {s}"),
            None => format!("KILLED after the {}s time limit", timeout.as_secs()),
        },
        took.as_secs_f64(),
        if failed_checks.is_empty() {
            String::new()
        } else {
            format!("failed checks:\n  {}\nfull output:\n", failed_checks.join("\n  "))
        },
        show(&out)
    );
    println!("{report}");
    match status {
        Some(s) if s.success() => {
            let _ = fs::remove_dir_all(&cwd);
            Ok(out)
        }
        Some(s) if s.code() == Some(99) && use_vg => {
            Err(format!("valgrind found errors or definite/indirect leaks in {file}:\n{report}"))
        }
        Some(s) if s.code() == Some(98) && vg == Valgrind::Asan => {
            Err(format!("AddressSanitizer/UBSan found errors or leaks in {file}:\n{report}"))
        }
        _ => Err(format!("C test {file} failed:\n{report}")),
    }
}

/// Time limit for one C program (valgrind makes Rust code ~20-50x slower).
fn limit(secs_plain: u64) -> Duration {
    if valgrind().is_some() {
        Duration::from_secs(secs_plain * 6)
    } else {
        Duration::from_secs(secs_plain)
    }
}

// ---------------------------------------------------------------------------------------
// Server environment for the C programs
// ---------------------------------------------------------------------------------------

fn nginx_env(n: &Nginx) -> Vec<(&'static str, String)> {
    vec![
        ("HTTPX_TEST_HTTP", n.url("")),
        ("HTTPX_TEST_ACCESS_LOG", n.access_log.display().to_string()),
        ("HTTPX_TEST_FILES_DIR", n.root.join("files").display().to_string()),
    ]
}

fn https_env(n: &Nginx) -> Vec<(&'static str, String)> {
    vec![
        ("HTTPX_TEST_HTTPS", n.https_url("")),
        ("HTTPX_TEST_HTTPS_WRONG_HOST", n.https_url_on(n.https_wrong_host_port, "")),
        ("HTTPX_TEST_HTTPS_EXPIRED", n.https_url_on(n.https_expired_port, "")),
        ("HTTPX_TEST_HTTPS_SELF_SIGNED", n.https_url_on(n.https_self_signed_port, "")),
        ("HTTPX_TEST_CA", certs().ca_pem.display().to_string()),
    ]
}

fn httpbin_env() -> Vec<(&'static str, String)> {
    vec![("HTTPX_TEST_HTTPBIN", httpbin().url(""))]
}

/// A FaultServer that accepts, reads whatever comes, and never answers (bounded: the
/// handler returns on EOF/error or after 60 s; the server shuts sockets down on Drop).
fn silent_server() -> FaultServer {
    FaultServer::start(|mut s: TcpStream| {
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            match s.read(&mut buf) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return,
            }
        }
    })
}

/// A FaultServer that answers every request with a head promising 100 bytes, sends 3 of
/// them ("abc") and then stalls until the client goes away (bounded: 60 s).
fn stall_body_server() -> FaultServer {
    FaultServer::start(|mut s: TcpStream| {
        if read_request(&mut s).is_none() {
            return;
        }
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc");
        let _ = s.flush();
        // Wait for EOF (the client closing after its read timeout), at most 60 s.
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut buf = [0u8; 1024];
        while Instant::now() < deadline {
            match s.read(&mut buf) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return,
            }
        }
    })
}

/// A FaultServer that answers one request per connection with a keep-alive response
/// ("fresh") and then closes the connection 50 ms later without saying so: the client's
/// pooled connection goes stale while idle.
fn close_after_response_server() -> FaultServer {
    FaultServer::start(|mut s: TcpStream| {
        if read_request(&mut s).is_none() {
            return;
        }
        let _ = s.write_all(&http_response(200, &[("Connection", "keep-alive")], b"fresh"));
        let _ = s.flush();
        std::thread::sleep(Duration::from_millis(50));
        let _ = s.shutdown(std::net::Shutdown::Both);
    })
}

// ---------------------------------------------------------------------------------------
// The C tests
// ---------------------------------------------------------------------------------------

/// Version vs macros, httpx_code_str for every code, timeout grouping, detailed errors.
#[test]
fn c_basics() {
    run_c("basics.c", &[], Valgrind::IfAvailable, limit(60));
}

/// NULL for every pointer parameter of every export; *_free(NULL); out-pointers untouched
/// on error; free_fn not called when a registration fails.
#[test]
fn c_null_safety() {
    run_c("null_safety.c", &[], Valgrind::IfAvailable, limit(60));
}

/// Setters keep their error message: the first failed setter of a config, request or
/// transport is reported with its message by httpx_client_config_error /
/// httpx_request_error / httpx_transport_error; code names from the one table. No server.
#[test]
fn c_setter_errors() {
    run_c("setter_errors.c", &[], Valgrind::IfAvailable, limit(60));
}

/// GET against nginx (status, reason, version, headers, body), case-insensitive header
/// lookup, CR/LF header injection refused with nothing sent (access log), bad URLs.
#[test]
fn c_get_nginx() {
    run_c("get_nginx.c", &nginx_env(nginx()), Valgrind::IfAvailable, limit(60));
}

/// 1,000 sequential GETs through one client use exactly one TCP connection: checked by
/// the C program (pool stats, access log) and here (nginx's accepted-connections counter
/// of a private nginx, before/after).
#[test]
fn c_pool_sequential() {
    let n = Nginx::start();
    let before = n.accepted_connections();
    run_c("pool_sequential.c", &nginx_env(&n), Valgrind::IfAvailable, limit(120));
    let after = n.accepted_connections();
    assert_eq!(
        after - before,
        1,
        "1,000 sequential GETs on one client should open exactly 1 connection (nginx accepted {})",
        after - before
    );
}

/// 8 threads sharing one client (max_connections 4): all succeed, the pool never holds
/// more than 4 connections. Under valgrind with fewer iterations per thread.
#[test]
fn c_pool_threads() {
    let n = Nginx::start();
    let mut env = nginx_env(&n);
    let iterations = if valgrind().is_some() { 100 } else { 500 };
    env.push(("HTTPX_TEST_ITERATIONS", iterations.to_string()));
    run_c("pool_threads.c", &env, Valgrind::IfAvailable, limit(120));
    let accepted = n.accepted_connections();
    assert!(
        (1..=4).contains(&accepted),
        "8 threads with max_connections 4 opened {accepted} connections (expected 1..=4)"
    );
}

/// The same at full size (8 x 500 requests), without valgrind.
#[test]
fn c_pool_threads_full_size() {
    let n = Nginx::start();
    let mut env = nginx_env(&n);
    env.push(("HTTPX_TEST_ITERATIONS", "500".to_string()));
    run_c("pool_threads.c", &env, Valgrind::Off, Duration::from_secs(180));
    let accepted = n.accepted_connections();
    assert!(
        (1..=4).contains(&accepted),
        "8 threads with max_connections 4 opened {accepted} connections (expected 1..=4)"
    );
}

/// Read timeout against a server that never answers; pool timeout with a full pool.
#[test]
fn c_timeouts() {
    let silent = silent_server();
    let stall = stall_body_server();
    let mut env = nginx_env(nginx());
    env.push(("HTTPX_TEST_FAULT_SILENT", silent.url("/")));
    env.push(("HTTPX_TEST_FAULT_STALL_BODY", stall.url("/")));
    // Timing checks: run alone (all slots), so other valgrind runs do not slow it down.
    run_c_with("timeouts.c", &env, Valgrind::IfAvailable, limit(60), usize::MAX).unwrap_or_else(|r| panic!("{r}"));
}

/// A FaultServer answering every request with the number of connections it accepted
/// so far (keep-alive), so a C test can tell whether a send opened a connection.
fn counting_server() -> FaultServer {
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    FaultServer::start(move |mut s: TcpStream| {
        let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        for _ in 0..100 {
            if read_request(&mut s).is_none() {
                return;
            }
            if s.write_all(&http_response(200, &[], n.to_string().as_bytes())).is_err() {
                return;
            }
        }
    })
}

/// Cancel tokens and total timeouts over HTTP/1.1: NULLs, fired before the send (nothing
/// sent), fired during a read, 4 threads sharing a token, a token freed while a request
/// holds it (valgrind), total timeout on head and streamed body, cancel of a body read
/// and of a pool wait.
#[test]
fn c_cancel() {
    let silent = silent_server();
    let stall = stall_body_server();
    let count = counting_server();
    let env = vec![
        ("HTTPX_TEST_FAULT_SILENT", silent.url("/")),
        ("HTTPX_TEST_FAULT_STALL_BODY", stall.url("/")),
        ("HTTPX_TEST_FAULT_COUNT", count.url("/count")),
    ];
    run_c_with("cancel.c", &env, Valgrind::IfAvailable, limit(90), usize::MAX).unwrap_or_else(|r| panic!("{r}"));
}

/// The multi interface (issue #18): NULLs; 40 GETs (HTTP and HTTPS) driven by poll() on
/// httpx_multi_fd; a failing transfer's code and error; httpx_multi_cancel of one among
/// several; a multi freed with transfers in flight (valgrind: nothing leaked).
#[test]
fn c_multi() {
    let n = nginx();
    let mut env = nginx_env(n);
    env.extend(https_env(n));
    run_c("multi.c", &env, Valgrind::IfAvailable, limit(180));
}

/// SIGPIPE stays at SIG_DFL in a C host while 8 MiB uploads hit servers that reset the
/// connection mid-body (plain HTTP, HTTPS, HTTP/2): the program must survive.
#[test]
fn c_sigpipe() {
    let closing = |mut s: TcpStream| {
        let _ = tls_fault::read_at_least(&mut s, 64 << 10);
        tls_fault::reset(&s);
    };
    let plain = tls_fault::plain_server(closing);
    let c = certs();
    let tls = tls_fault::TlsFault::start(&c.server_cert, &c.server_key, &[], |t| {
        let _ = tls_fault::read_at_least(t, 64 << 10);
        tls_fault::reset(&t.sock);
    });
    let h2 = tls_fault::TlsFault::start(&c.server_cert, &c.server_key, &[b"h2"], |t| {
        let _ = tls_fault::read_at_least(t, 24);
        let mut frames = vec![0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 4, 0x7f, 0xff, 0xff, 0xff];
        frames.extend_from_slice(&[0, 0, 4, 8, 0, 0, 0, 0, 0, 0x7f, 0xff, 0x00, 0x00]);
        let _ = t.write_all(&frames);
        let _ = t.flush();
        let _ = tls_fault::read_at_least(t, 256 << 10);
        tls_fault::reset(&t.sock);
    });
    let env = vec![
        ("HTTPX_TEST_FAULT_CLOSING", format!("http://127.0.0.1:{}/upload", plain.port)),
        ("HTTPX_TEST_TLS_CLOSING", format!("https://localhost:{}/upload", tls.port)),
        ("HTTPX_TEST_H2_CLOSING", format!("https://localhost:{}/upload", h2.port)),
        ("HTTPX_TEST_CA", c.ca_pem.display().to_string()),
    ];
    run_c("sigpipe.c", &env, Valgrind::IfAvailable, limit(120));
}

/// Streamed download of 1m.bin; request bodies from a read callback (known length and
/// chunked) echoed by httpbin.
#[test]
fn c_streaming() {
    let mut env = nginx_env(nginx());
    env.extend(httpbin_env());
    run_c("streaming.c", &env, Valgrind::IfAvailable, limit(90));
}

/// HTTPX's explicit request flow (build, edit, send) and client/request merging, against
/// httpbin.
#[test]
fn c_requests() {
    run_c("requests.c", &httpbin_env(), Valgrind::IfAvailable, limit(60));
}

/// Callback transport (the seed's JSON echo), hooks order, the seed's three custom auth
/// flows, recursion refused, free_fn exactly once per userdata. No server.
#[test]
fn c_callbacks() {
    run_c("callbacks.c", &[], Valgrind::IfAvailable, limit(60));
}

/// Edge cases: zero-capacity reads, closing with a response in flight, cookie jar, clones,
/// recursion from hooks/flows, threads on a callback transport, progress cancel, builder
/// validation, form/JSON/multipart bodies, redirect loops, decompression limits.
#[test]
fn c_edge_cases() {
    let stale = close_after_response_server();
    let mut env = nginx_env(nginx());
    env.extend(httpbin_env());
    env.push(("HTTPX_TEST_FAULT_CLOSE_AFTER_RESPONSE", stale.url("/")));
    run_c("edge_cases.c", &env, Valgrind::IfAvailable, limit(90));
}

/// Regressions of fixed library bugs (see the comment at the top of
/// tests/c/regressions.c). Each failing line names its bug (BUG-1a, BUG-2, ...).
#[test]
fn c_regressions() {
    if let Err(report) = run_c_with("regressions.c", &httpbin_env(), Valgrind::IfAvailable, limit(60), 1) {
        panic!(
            "a fixed library bug is back (a library problem, not a test problem: see the \
             list at the top of tests/c/regressions.c):\n{report}"
        );
    }
}

/// The C tests that need no timing, under AddressSanitizer + UBSan (compiled with
/// `-fsanitize=address,undefined`; valgrind runs them separately above). Needs gcc's
/// libasan/libubsan (Debian: part of gcc). Skip with HTTPX_C_ASAN=0 (not in CI).
#[test]
fn c_asan() {
    if std::env::var("HTTPX_C_ASAN").map(|v| v == "0").unwrap_or(false) {
        assert!(std::env::var_os("CI").is_none(), "HTTPX_C_ASAN=0 is not allowed in CI");
        eprintln!("[c_api] HTTPX_C_ASAN=0: skipping the AddressSanitizer runs");
        return;
    }
    let stale = close_after_response_server();
    let mut env = nginx_env(nginx());
    env.extend(httpbin_env());
    env.push(("HTTPX_TEST_FAULT_CLOSE_AFTER_RESPONSE", stale.url("/")));
    let mut failures = Vec::new();
    for file in ["basics.c", "null_safety.c", "setter_errors.c", "callbacks.c", "requests.c", "edge_cases.c", "regressions.c"]
    {
        if let Err(report) = run_c_with(file, &env, Valgrind::Asan, Duration::from_secs(120), 1) {
            failures.push(report);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// HTTPS with the generated CA; verification failures are HTTPX_E_TLS.
#[test]
fn c_https() {
    run_c("https.c", &https_env(nginx()), Valgrind::IfAvailable, limit(90));
}

/// The header compiles as C++17 (-Wall -Wextra -Werror -pedantic) and works from C++.
#[test]
fn cxx_header() {
    run_c("cxx_header.cpp", &[], Valgrind::IfAvailable, limit(60));
}

// ---------------------------------------------------------------------------------------
// The header itself
// ---------------------------------------------------------------------------------------

/// The committed include/httpx.h is what cbindgen generates from src/ffi/ for this build.
#[test]
fn committed_header_matches_generated() {
    let path = include_dir().join("httpx.h");
    let committed = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    if committed != httpx::GENERATED_HEADER {
        let first_diff = committed
            .lines()
            .zip(httpx::GENERATED_HEADER.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| format!("first difference at line {}:\n  committed: {a}\n  generated: {b}", i + 1))
            .unwrap_or_else(|| {
                format!(
                    "one is a prefix of the other ({} vs {} lines)",
                    committed.lines().count(),
                    httpx::GENERATED_HEADER.lines().count()
                )
            });
        panic!(
            "include/httpx.h is stale: it differs from the header cbindgen generates from src/ffi/.\n\
             Run `bash scripts/regen-header.sh` (it rewrites include/httpx.h and abi/libhttpx.sym) \
             and commit both.\n{first_diff}"
        );
    }
}

/// httpx.h is self-contained, include-guarded and warning-free under strict flags in
/// C99/C11/C17/C2x and C++11/17/20 (compile only: tests/c/header_strict.c).
#[test]
fn header_compiles_strictly() {
    let src = c_src_dir().join("header_strict.c");
    let c_strict = [
        "-pedantic",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-Wredundant-decls",
        "-Wstrict-prototypes",
        "-Wmissing-prototypes",
        "-Wundef",
        "-Wshadow",
        "-Wconversion",
        "-Wsign-conversion",
        "-Wcast-qual",
    ];
    let cxx_strict = [
        "-pedantic",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-Wold-style-cast",
        "-Wzero-as-null-pointer-constant",
        "-Wredundant-decls",
        "-Wundef",
        "-Wshadow",
        "-Wconversion",
    ];
    let mut failures = Vec::new();
    let runs: Vec<(&str, &str, &[&str])> = vec![
        ("cc", "-std=c99", &c_strict),
        ("cc", "-std=c11", &c_strict),
        ("cc", "-std=c17", &c_strict),
        ("cc", "-std=c2x", &c_strict),
        ("c++", "-std=c++11", &cxx_strict),
        ("c++", "-std=c++17", &cxx_strict),
        ("c++", "-std=c++20", &cxx_strict),
    ];
    for (tool, std, flags) in runs {
        let compiler = require_tool(tool, "apt-get install gcc g++");
        let mut cmd = Command::new(compiler);
        if tool == "c++" {
            cmd.args(["-x", "c++"]);
        }
        cmd.arg(std).args(flags).arg("-I").arg(include_dir()).arg("-c").arg(&src).arg("-o").arg("/dev/null");
        let (st, o) = run_bounded(&mut cmd, Duration::from_secs(120));
        if !st.map(|s| s.success()).unwrap_or(false) {
            failures.push(format!("{tool} {std} {}:\n{}", flags.join(" "), show(&o)));
        }
    }
    assert!(failures.is_empty(), "include/httpx.h does not compile cleanly:\n{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------
// examples_c/ (CMake)
// ---------------------------------------------------------------------------------------

/// Builds examples_c/ with CMake (against the library of this test run) and runs the
/// examples: the no-server ones (under valgrind when installed), plus quickstart, pooled,
/// download and https_custom_ca against nginx.
#[test]
fn examples_c_build_and_run() {
    let s = setup();
    let cmake = require_tool("cmake", "apt-get install cmake");
    let build = s.work.join("examples_build");
    let _ = fs::remove_dir_all(&build);
    fs::create_dir_all(&build).unwrap();
    let src = manifest_dir().join("examples_c");
    let mut configure = Command::new(&cmake);
    configure
        .arg("-S")
        .arg(&src)
        .arg("-B")
        .arg(&build)
        .arg(format!("-DHTTPX_LIB_DIR={}", s.lib.display()))
        .arg(format!("-DHTTPX_INCLUDE_DIR={}", include_dir().display()))
        .arg("-DCMAKE_BUILD_TYPE=Debug")
        .arg("-DCMAKE_C_FLAGS=-Werror");
    let (st, o) = run_bounded(&mut configure, Duration::from_secs(120));
    assert!(st.map(|s| s.success()).unwrap_or(false), "cmake configure failed ({st:?}):\n{}", show(&o));
    let mut make = Command::new(&cmake);
    make.arg("--build").arg(&build).arg("-j2");
    let (st, o) = run_bounded(&mut make, Duration::from_secs(300));
    assert!(st.map(|s| s.success()).unwrap_or(false), "cmake --build failed ({st:?}):\n{}", show(&o));

    let n = nginx();
    let download_to = build.join("downloaded.bin");
    let runs: Vec<(&str, Vec<String>, Option<&str>)> = vec![
        ("mock_transport_test", vec![], None),
        ("auth_token", vec![], None),
        ("auth_retry_401", vec![], None),
        ("auth_refresh", vec![], None),
        ("quickstart", vec![n.url("/")], Some("Hello, world!")),
        ("pooled", vec![n.url("/"), "50".into()], None),
        ("download", vec![n.url("/files/1m.bin"), download_to.display().to_string()], None),
        ("https_custom_ca", vec![n.https_url("/"), certs().ca_pem.display().to_string()], Some("Hello, world!")),
        ("multi_poll", vec![n.url("/"), "1000".into()], Some("1000 of 1000 GETs OK")),
    ];
    let mut failures = Vec::new();
    for (name, args, expect) in &runs {
        let exe = build.join(name);
        if !exe.exists() {
            failures.push(format!("{name}: not built ({})", exe.display()));
            continue;
        }
        // The no-server examples also run under valgrind (leak-free examples).
        let mut cmd = base_command(&exe, args.is_empty(), &build);
        cmd.args(args);
        let (st, out) = run_bounded(&mut cmd, limit(60));
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        println!("=== {name} {args:?}: {st:?}\n{}", show(&out));
        if !st.map(|s| s.success()).unwrap_or(false) {
            failures.push(format!("{name}: exit {st:?}\n{}", show(&out)));
        } else if let Some(e) = expect {
            if !text.contains(e) {
                failures.push(format!("{name}: output lacks {e:?}\n{}", show(&out)));
            }
        }
    }
    // The libuv example, when libuv1-dev is installed (.ci/run installs it).
    let uv = build.join("multi_libuv");
    if std::path::Path::new("/usr/include/uv.h").exists() && !uv.exists() {
        failures.push("multi_libuv: libuv's header is installed but the example was not built".into());
    }
    if uv.exists() {
        let mut cmd = base_command(&uv, false, &build);
        cmd.args([n.url("/"), "200".into()]);
        let (st, out) = run_bounded(&mut cmd, limit(60));
        println!("=== multi_libuv: {st:?}\n{}", show(&out));
        if !st.map(|s| s.success()).unwrap_or(false)
            || !String::from_utf8_lossy(&out.stdout).contains("200 of 200 GETs OK")
        {
            failures.push(format!("multi_libuv: exit {st:?}\n{}", show(&out)));
        }
    }
    match fs::read(&download_to) {
        Ok(b) if b == file_1m() => {}
        Ok(b) => failures.push(format!("download: file has {} bytes and differs from 1m.bin", b.len())),
        Err(e) => failures.push(format!("download: {}: {e}", download_to.display())),
    }
    // Every example must fail (non-zero) when its server is unreachable.
    let mut cmd = base_command(&build.join("quickstart"), false, &build);
    cmd.arg(format!("http://127.0.0.1:{}/", free_port()));
    let (st, out) = run_bounded(&mut cmd, Duration::from_secs(60));
    if st.map(|s| s.success()).unwrap_or(true) {
        failures.push(format!("quickstart against a closed port should exit non-zero: {st:?}\n{}", show(&out)));
    }
    assert!(failures.is_empty(), "examples_c failures:\n{}", failures.join("\n"));
}

/// A Unix-socket network transport mounted beside a callback transport, with tracing.
#[test]
fn c_uds_mounts() {
    let n = nginx();
    let mut env = nginx_env(n);
    env.push(("HTTPX_TEST_UDS", n.uds_path.display().to_string()));
    run_c("uds_mounts.c", &env, Valgrind::IfAvailable, limit(60));
}

/// HTTP/2 negotiated with nginx's h2 listener, HTTP/1.1 elsewhere.
#[test]
fn c_http2() {
    let n = nginx();
    let mut env = https_env(n);
    env.push(("HTTPX_TEST_HTTPS_H2", n.https_url_on(n.https_h2_port, "/")));
    run_c("http2.c", &env, Valgrind::IfAvailable, limit(90));
}

/// A keep-alive recording server for fidelity.c: /hdr repeats X-A, /redir answers 303
/// to /target?x=1, /latin1 and /nocs send "caf\xe9" (charset=latin-1 / none), anything
/// else answers with the request head it received as the body.
fn fidelity_server() -> FaultServer {
    FaultServer::start(|mut s: TcpStream| {
        for _ in 0..100 {
            let Some((head, _)) = read_request(&mut s) else { return };
            let text = String::from_utf8_lossy(&head).into_owned();
            let path = text.split(' ').nth(1).unwrap_or("").to_string();
            let resp = match path.as_str() {
                "/hdr" => b"HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2, 3\r\nX-A: 4\r\nContent-Length: 0\r\n\r\n".to_vec(),
                "/redir" => http_response(303, &[("Location", "/target?x=1")], b""),
                "/latin1" => http_response(200, &[("Content-Type", "text/plain; charset=latin-1")], b"caf\xe9"),
                "/nocs" => http_response(200, &[("Content-Type", "text/plain")], b"caf\xe9"),
                _ => http_response(200, &[("Content-Type", "text/plain")], &head),
            };
            if s.write_all(&resp).is_err() {
                return;
            }
        }
    })
}

/// Issue 19 from C: joined header getter, next_request, one-shot httpx_send (with and
/// without a config), Python codec names for the default encoding and text.
#[test]
fn c_fidelity() {
    let srv = fidelity_server();
    run_c("fidelity.c", &[("HTTPX_TEST_FIDELITY", srv.url(""))], Valgrind::IfAvailable, limit(60));
}

/// Issue 12: debug hook, info getters over http / TLS 1.3 / HTTP/2, timings, RESOLVE,
/// messages naming peer and limit, trace FAILED.
#[test]
fn c_observe() {
    let n = nginx();
    let silent = silent_server();
    let mut env = https_env(n);
    env.extend(nginx_env(n));
    env.push(("HTTPX_TEST_HTTPS_H2", n.https_url_on(n.https_h2_port, "/")));
    env.push(("HTTPX_TEST_SILENT", format!("http://127.0.0.1:{}", silent.port)));
    env.push(("HTTPX_TEST_REFUSED", format!("http://127.0.0.1:{}", free_port())));
    run_c("observe.c", &env, Valgrind::IfAvailable, limit(90));
}

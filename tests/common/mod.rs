//! Shared test harness for libhttpx integration tests (`mod common;` in each test file).
//!
//! Real peers only, all on 127.0.0.1 or unix sockets:
//! * [`certs()`]   – a test PKI generated once per test binary by `tests/support/gen_certs.sh`
//!   (openssl CLI, EC P-256, v3 extensions, SANs, an expired cert via `openssl ca -enddate`).
//! * [`nginx()`]   – one nginx per test binary (plain HTTP, unix socket, HTTPS with good /
//!   wrong-host / expired / self-signed certificates, HTTP/2, mTLS), see
//!   `tests/support/nginx.conf.template` and `tests/support/locations.conf.template`.
//!   [`Nginx::start()`] gives a private instance (killed and removed on Drop) for tests that
//!   count connections.
//! * [`httpbin()`] – gunicorn + httpbin, one per test binary ([`Httpbin::start()`]: private).
//! * [`FaultServer`] – in-process TCP server for faults real servers cannot produce.
//! * [`RawConn`]   – a tiny raw HTTP/1.1 client (std only) to check servers without libhttpx.
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

use std::collections::{BTreeSet, HashSet};
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------

/// Directory holding the harness support files (`gen_certs.sh`, nginx templates).
pub fn support_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("support")
}

/// A free TCP port on 127.0.0.1 (bound then released). Never returns the same port twice
/// within one test process. Servers started by this harness retry with fresh ports if a
/// port was taken in the meantime.
/// A tag unique to this test process and call, to find a test's own requests in the
/// shared nginx's access log (`/?{tag}=...`, then `connections_for(&tag)`).
pub fn tag() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!("tag{}x{}x", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

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

/// Runs `cmd` (stdin closed, output captured) and kills it after `timeout`.
/// Returns the output; `status` is None if it had to be killed.
pub fn run_bounded(cmd: &mut Command, timeout: Duration) -> (Option<ExitStatus>, Output) {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = spawn_with_pdeathsig(cmd).unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let t_out = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let t_err = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let mut status = None;
    while Instant::now() < deadline {
        if let Some(s) = child.try_wait().expect("try_wait") {
            status = Some(s);
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let final_status = match status {
        Some(s) => s,
        None => {
            let _ = child.kill();
            child.wait().expect("wait")
        }
    };
    let out = Output {
        status: final_status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    };
    (status, out)
}

// ---------------------------------------------------------------------------------------
// Temp dirs
// ---------------------------------------------------------------------------------------

const TMP_PREFIX: &str = "httpx-test-";

/// Creates a unique directory `$TMPDIR/httpx-test-<pid>-<tag>-<nanos>-<n>`. The first call in
/// a process also removes stale `httpx-test-<pid>-*` dirs of processes that no longer exist
/// (per-binary statics such as `nginx()` never run Drop, so their dirs are swept next time).
pub fn unique_temp_dir(tag: &str) -> PathBuf {
    static SWEPT: OnceLock<()> = OnceLock::new();
    static N: AtomicU64 = AtomicU64::new(0);
    SWEPT.get_or_init(sweep_stale_temp_dirs);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("{TMP_PREFIX}{}-{tag}-{nanos}-{n}", std::process::id()));
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

fn sweep_stale_temp_dirs() {
    let Ok(rd) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in rd.flatten().take(10_000) {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name.strip_prefix(TMP_PREFIX) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// At normal process exit (libtest returning or calling `exit`), kill the process groups
/// of the per-binary statics (`nginx()`, `httpbin()`) and remove their temp dirs. Statics
/// never run Drop; this `atexit` hook is the normal-exit path, the PDEATHSIG + watchdog
/// mechanism of [`spawn_guarded`] covers abort/SIGKILL, and stale dirs are swept by the
/// next run (see [`unique_temp_dir`]).
fn cleanup_at_exit(pgid: i32, dir: PathBuf) {
    static REGISTERED: OnceLock<()> = OnceLock::new();
    lock(exit_cleanups()).push((pgid, dir));
    REGISTERED.get_or_init(|| unsafe {
        libc::atexit(run_exit_cleanups);
    });
}

fn exit_cleanups() -> &'static Mutex<Vec<(i32, PathBuf)>> {
    static C: OnceLock<Mutex<Vec<(i32, PathBuf)>>> = OnceLock::new();
    C.get_or_init(|| Mutex::new(Vec::new()))
}

extern "C" fn run_exit_cleanups() {
    // try_lock: never block in an exit handler.
    let Ok(mut list) = exit_cleanups().try_lock() else {
        return;
    };
    for (pgid, dir) in list.drain(..) {
        if pgid > 0 {
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
        }
        let _ = fs::remove_dir_all(&dir);
    }
}

/// Removes its directory on Drop.
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------------------
// Process reaping
// ---------------------------------------------------------------------------------------

type Job = Box<dyn FnOnce() + Send>;

/// Runs `f` on the harness's spawner thread, which lives as long as the process.
/// PR_SET_PDEATHSIG is delivered when the *thread* that forked the child exits, so children
/// must not be forked from libtest's per-test threads.
fn on_spawner_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    static TX: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let tx = TX.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("httpx-test-spawner".into())
            // Lives until process exit: the Sender is in a static and is never dropped.
            .spawn(move || {
                for job in rx {
                    job();
                }
            })
            .expect("spawn spawner thread");
        Mutex::new(tx)
    });
    let (rtx, rrx) = mpsc::sync_channel(1);
    lock(tx)
        .send(Box::new(move || {
            let _ = rtx.send(f());
        }))
        .expect("spawner thread alive");
    rrx.recv_timeout(Duration::from_secs(60)).expect("spawner thread answered within 60 s")
}

/// Spawns `cmd` with PR_SET_PDEATHSIG=SIGKILL (no process group, no watchdog): enough for a
/// single process that does not fork. Forked from the spawner thread.
pub fn spawn_with_pdeathsig(cmd: &mut Command) -> io::Result<Child> {
    let parent = std::process::id() as libc::pid_t;
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl: then die now.
            if libc::getppid() != parent {
                libc::_exit(137);
            }
            Ok(())
        });
    }
    let cmd = std::mem::replace(cmd, Command::new("true"));
    let (res, cmd_back) = on_spawner_thread(move || {
        let mut cmd = cmd;
        let r = cmd.spawn();
        (r, cmd)
    });
    drop(cmd_back);
    res
}

/// A child process that can never outlive the test process. See [`spawn_guarded`].
pub struct Guarded {
    pub name: String,
    child: Option<Child>,
    watchdog: Option<Child>,
    pipe_w: Option<OwnedFd>,
    pgid: libc::pid_t,
}

/// Spawns `cmd` so that it and all its descendants die with the test process:
/// 1. a watchdog `sh -c 'read x; kill -9 0'` is started as leader of a new process group; its
///    stdin is the read end of a pipe whose write end (O_CLOEXEC) only the test process holds;
/// 2. `cmd` joins that process group (`setpgid` in `pre_exec`) and gets
///    `prctl(PR_SET_PDEATHSIG, SIGKILL)` (plus a getppid() check against the race);
/// 3. both are forked from the long-lived spawner thread.
///
/// When the test process exits for any reason (return, panic, abort, SIGKILL), the kernel
/// SIGKILLs `cmd`, and the pipe's EOF makes the watchdog SIGKILL the whole group (e.g. nginx
/// or gunicorn workers, or a child's children). Drop kills the group and reaps both.
/// The process group is separate, so a terminal ^C reaches only the test binary; the
/// mechanisms above then clean up.
pub fn spawn_guarded(name: &str, cmd: Command) -> io::Result<Guarded> {
    let mut fds = [0 as libc::c_int; 2];
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let pipe_r = unsafe { OwnedFd::from_raw_fd(fds[0]) };
    let pipe_w = unsafe { OwnedFd::from_raw_fd(fds[1]) };
    let parent = std::process::id() as libc::pid_t;

    let mut wd = Command::new("sh");
    wd.arg("-c").arg("read x; kill -9 0").stdin(Stdio::from(pipe_r)).stdout(Stdio::null()).stderr(Stdio::null());
    unsafe {
        wd.pre_exec(|| {
            if libc::setpgid(0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut cmd = cmd;
    let res = on_spawner_thread(move || -> io::Result<(Child, Child)> {
        let mut wd_child = wd.spawn()?;
        let pgid = wd_child.id() as libc::pid_t;
        unsafe {
            cmd.pre_exec(move || {
                if libc::setpgid(0, pgid) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    libc::_exit(137);
                }
                Ok(())
            });
        }
        match cmd.spawn() {
            Ok(c) => Ok((c, wd_child)),
            Err(e) => {
                unsafe { libc::kill(-pgid, libc::SIGKILL) };
                let _ = wd_child.wait();
                Err(e)
            }
        }
    });
    let (child, watchdog) = res?;
    let pgid = watchdog.id() as libc::pid_t;
    Ok(Guarded { name: name.to_string(), child: Some(child), watchdog: Some(watchdog), pipe_w: Some(pipe_w), pgid })
}

impl Guarded {
    /// Pid of the guarded process itself.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }
    /// Process group shared by the process, its descendants and the watchdog.
    pub fn pgid(&self) -> i32 {
        self.pgid
    }
    /// Pid of the watchdog.
    pub fn watchdog_pid(&self) -> u32 {
        self.watchdog.as_ref().map(|c| c.id()).unwrap_or(0)
    }
    /// Some(status) if the guarded process has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }
    /// Kills the whole process group (SIGKILL) and reaps the process and the watchdog.
    pub fn kill(&mut self) {
        if self.pgid > 0 {
            unsafe { libc::kill(-self.pgid, libc::SIGKILL) };
        }
        self.pipe_w.take();
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Pids of live (non-zombie) processes whose process group is `pgid` (scans /proc).
pub fn processes_in_group(pgid: i32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if let Some((state, pg)) = proc_state_pgid(pid) {
            if pg == pgid && state != 'Z' && state != 'X' {
                out.push(pid);
            }
        }
    }
    out
}

/// True if `pid` exists and is not a zombie.
pub fn process_alive(pid: u32) -> bool {
    matches!(proc_state_pgid(pid), Some((s, _)) if s != 'Z' && s != 'X')
}

fn proc_state_pgid(pid: u32) -> Option<(char, i32)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ppid pgrp ..." — comm may contain spaces/parens: split after last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut it = rest.split_whitespace();
    let state = it.next()?.chars().next()?;
    let _ppid = it.next()?;
    let pgrp = it.next()?.parse().ok()?;
    Some((state, pgrp))
}

// ---------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Certs {
    pub dir: PathBuf,
    /// Test CA (signs server, wrong_host and expired certificates).
    pub ca_pem: PathBuf,
    /// SAN DNS:localhost, IP:127.0.0.1, signed by `ca_pem`.
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// server_cert followed by ca_pem.
    pub server_chain: PathBuf,
    /// SAN DNS:wrong.example, signed by `ca_pem`.
    pub wrong_host_cert: PathBuf,
    pub wrong_host_key: PathBuf,
    /// localhost + 127.0.0.1, signed by `ca_pem`, valid 2020-01-01 .. 2020-02-01.
    pub expired_cert: PathBuf,
    pub expired_key: PathBuf,
    /// localhost + 127.0.0.1, self-signed (not from `ca_pem`).
    pub self_signed_cert: PathBuf,
    pub self_signed_key: PathBuf,
    /// Separate CA for client certificates (trusted by the mTLS server).
    pub client_ca_pem: PathBuf,
    /// Signed by `client_ca_pem`, EKU clientAuth.
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// client_cert + client_key in one PEM file.
    pub client_bundle: PathBuf,
    /// Self-signed client certificate: refused by the mTLS server.
    pub other_client_cert: PathBuf,
    pub other_client_key: PathBuf,
}

/// Test PKI, generated once per test binary (EC P-256 keys, PKCS#8 PEM).
pub fn certs() -> &'static Certs {
    static CERTS: OnceLock<Certs> = OnceLock::new();
    CERTS.get_or_init(|| {
        let dir = unique_temp_dir("certs");
        let c = generate_certs(&dir);
        cleanup_at_exit(0, dir);
        c
    })
}

/// Generates a fresh PKI into `dir` with `tests/support/gen_certs.sh`.
pub fn generate_certs(dir: &Path) -> Certs {
    require_tool("openssl", "apt-get install openssl");
    require_tool("bash", "apt-get install bash");
    let script = support_dir().join("gen_certs.sh");
    let (status, out) = run_bounded(Command::new("bash").arg(&script).arg(dir), Duration::from_secs(60));
    if !status.map(|s| s.success()).unwrap_or(false) {
        panic!(
            "{} failed ({status:?}):\n{}\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let p = |n: &str| dir.join(n);
    let c = Certs {
        dir: dir.to_path_buf(),
        ca_pem: p("ca.pem"),
        server_cert: p("server.pem"),
        server_key: p("server.key"),
        server_chain: p("server_chain.pem"),
        wrong_host_cert: p("wrong_host.pem"),
        wrong_host_key: p("wrong_host.key"),
        expired_cert: p("expired.pem"),
        expired_key: p("expired.key"),
        self_signed_cert: p("self_signed.pem"),
        self_signed_key: p("self_signed.key"),
        client_ca_pem: p("client_ca.pem"),
        client_cert: p("client.pem"),
        client_key: p("client.key"),
        client_bundle: p("client_bundle.pem"),
        other_client_cert: p("other_client.pem"),
        other_client_key: p("other_client.key"),
    };
    for f in [&c.ca_pem, &c.server_cert, &c.expired_cert, &c.other_client_key] {
        assert!(f.exists(), "gen_certs.sh did not produce {}", f.display());
    }
    c
}

// ---------------------------------------------------------------------------------------
// nginx
// ---------------------------------------------------------------------------------------

/// One access-log line (see `log_format httpx` in nginx.conf.template). Absent header
/// values are "-"; `server_port` is empty for the unix socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// nginx connection serial number ($connection): same value = same connection.
    pub connection: u64,
    /// Requests made on this connection so far, this one included ($connection_requests).
    pub connection_requests: u64,
    pub method: String,
    pub uri: String,
    pub status: u16,
    /// Request line + headers + body bytes as read by nginx ($request_length). Bodies that
    /// nginx discards unread (e.g. /upload-discard) are not included.
    pub request_length: u64,
    /// Response body bytes sent ($body_bytes_sent): includes chunked framing and any
    /// "100 Continue" interim response.
    pub body_bytes_sent: u64,
    pub server_port: String,
    pub scheme: String,
    pub host: String,
    pub user_agent: String,
    pub accept_encoding: String,
}

impl LogLine {
    fn parse(line: &str) -> Option<LogLine> {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 12 {
            return None;
        }
        Some(LogLine {
            connection: f[0].parse().ok()?,
            connection_requests: f[1].parse().ok()?,
            method: f[2].to_string(),
            uri: f[3].to_string(),
            status: f[4].parse().ok()?,
            request_length: f[5].parse().ok()?,
            body_bytes_sent: f[6].parse().ok()?,
            server_port: f[7].to_string(),
            scheme: f[8].to_string(),
            host: f[9].to_string(),
            user_agent: f[10].to_string(),
            accept_encoding: f[11].to_string(),
        })
    }
}

pub struct Nginx {
    /// Plain HTTP.
    pub http_port: u16,
    /// HTTPS, `server_cert` (localhost, 127.0.0.1), HTTP/1.1 only (no h2 in ALPN).
    pub https_port: u16,
    /// HTTPS with `http2` (ALPN h2 + http/1.1), same certificate.
    pub https_h2_port: u16,
    /// HTTPS presenting `wrong_host_cert` (SAN wrong.example).
    pub https_wrong_host_port: u16,
    /// HTTPS presenting `expired_cert`.
    pub https_expired_port: u16,
    /// HTTPS presenting `self_signed_cert`.
    pub https_self_signed_port: u16,
    /// HTTPS requiring a client certificate signed by `client_ca_pem`; "/" -> 200 "mtls ok".
    /// Without / with a wrong client cert the handshake completes and nginx answers 400.
    pub https_mtls_port: u16,
    /// `listen unix:` — same server (and locations) as `http_port`.
    pub uds_path: PathBuf,
    /// Document root; static files are in `root/files/`.
    pub root: PathBuf,
    pub access_log: PathBuf,
    pub error_log: PathBuf,
    pub dir: PathBuf,
    /// Connections the harness itself made to this nginx (readiness probes, stub_status).
    harness_conns: AtomicU64,
    process: Mutex<Guarded>,
    remove_dir_on_drop: bool,
}

/// The nginx shared by all tests of this test binary (started on first use).
/// Other tests run in parallel against it: for exact connection counts use a private
/// [`Nginx::start()`] or filter the access log by a unique URI (see [`Nginx::connections_for`]).
pub fn nginx() -> &'static Nginx {
    static NGINX: OnceLock<Nginx> = OnceLock::new();
    NGINX.get_or_init(|| {
        let mut n = Nginx::start_inner();
        n.remove_dir_on_drop = false;
        cleanup_at_exit(n.pgid(), n.dir.clone());
        n
    })
}

const ECHO_MODULE_PATHS: &[&str] = &[
    "/usr/lib/nginx/modules/ngx_http_echo_module.so",
    "/usr/share/nginx/modules/ngx_http_echo_module.so",
    "/usr/lib64/nginx/modules/ngx_http_echo_module.so",
];

fn render(template: &str, vars: &[(&str, String)]) -> String {
    let mut s = template.to_string();
    for (k, v) in vars {
        s = s.replace(&format!("{{{{{k}}}}}"), v);
    }
    if let Some(i) = s.find("{{") {
        panic!("unrendered placeholder in nginx template: {}", &s[i..(i + 40).min(s.len())]);
    }
    s
}

impl Nginx {
    /// A private nginx instance (own ports, dirs, logs); killed and its dir removed on Drop.
    pub fn start() -> Nginx {
        Nginx::start_inner()
    }

    fn start_inner() -> Nginx {
        let nginx_bin = require_tool_sbin("nginx", "apt-get install nginx-light");
        let echo_module = ECHO_MODULE_PATHS.iter().find(|p| Path::new(p).exists());
        let load_modules = match echo_module {
            Some(p) => format!("load_module {p};"),
            None => {
                let (_, out) = run_bounded(Command::new(&nginx_bin).arg("-V"), Duration::from_secs(10));
                let v = String::from_utf8_lossy(&out.stderr).to_string();
                if !v.contains("echo") {
                    panic!(
                        "nginx echo module not found (looked in {ECHO_MODULE_PATHS:?}): \
                         apt-get install libnginx-mod-http-echo"
                    );
                }
                String::new()
            }
        };
        let certs = certs();
        let mut last_err = String::new();
        for _attempt in 0..5 {
            match Nginx::try_start(&nginx_bin, &load_modules, certs) {
                Ok(n) => return n,
                Err((err, retry)) => {
                    last_err = err;
                    if !retry {
                        break;
                    }
                }
            }
        }
        panic!("nginx failed to start:\n{last_err}");
    }

    fn try_start(nginx_bin: &Path, load_modules: &str, certs: &Certs) -> Result<Nginx, (String, bool)> {
        let dir = unique_temp_dir("nginx");
        let root = dir.join("root");
        let files = root.join("files");
        for d in [files.clone(), dir.join("tmp")] {
            fs::create_dir_all(&d).expect("create nginx dirs");
        }
        fs::write(files.join("small.txt"), HELLO).unwrap();
        fs::write(files.join("64k.bin"), file_64k()).unwrap();
        fs::write(files.join("1m.bin"), file_1m()).unwrap();
        fs::write(files.join("hello.txt"), hello_txt()).unwrap();
        require_tool("gzip", "apt-get install gzip");
        let (st, out) = run_bounded(
            Command::new("gzip").args(["-9", "-n", "-c"]).arg(files.join("hello.txt")),
            Duration::from_secs(10),
        );
        assert!(st.map(|s| s.success()).unwrap_or(false), "gzip failed");
        fs::write(files.join("hello.txt.gz"), &out.stdout).unwrap();
        // htpasswd for /basic-auth: user / passwd.
        let (st, out) =
            run_bounded(Command::new("openssl").args(["passwd", "-apr1", "passwd"]), Duration::from_secs(10));
        assert!(st.map(|s| s.success()).unwrap_or(false), "openssl passwd failed");
        fs::write(dir.join("htpasswd"), format!("user:{}\n", String::from_utf8_lossy(&out.stdout).trim())).unwrap();

        let ports: Vec<u16> = (0..7).map(|_| free_port()).collect();
        let uds_path = dir.join("http.sock");
        let is_root = unsafe { libc::geteuid() } == 0;
        let vars: Vec<(&str, String)> = vec![
            ("DIR", dir.display().to_string()),
            ("ROOT", root.display().to_string()),
            ("CERTS", certs.dir.display().to_string()),
            ("USER_LINE", if is_root { "user root;".into() } else { String::new() }),
            ("LOAD_MODULES", load_modules.to_string()),
            ("HTTP_PORT", ports[0].to_string()),
            ("HTTPS_PORT", ports[1].to_string()),
            ("HTTPS_H2_PORT", ports[2].to_string()),
            ("HTTPS_WRONG_HOST_PORT", ports[3].to_string()),
            ("HTTPS_EXPIRED_PORT", ports[4].to_string()),
            ("HTTPS_SELF_SIGNED_PORT", ports[5].to_string()),
            ("HTTPS_MTLS_PORT", ports[6].to_string()),
            ("UDS_PATH", uds_path.display().to_string()),
        ];
        let sup = support_dir();
        let read =
            |n: &str| fs::read_to_string(sup.join(n)).unwrap_or_else(|e| panic!("read {}: {e}", sup.join(n).display()));
        fs::write(dir.join("nginx.conf"), render(&read("nginx.conf.template"), &vars)).unwrap();
        fs::write(dir.join("locations.conf"), render(&read("locations.conf.template"), &vars)).unwrap();
        fs::write(dir.join("root_hello.conf"), read("root_hello.conf")).unwrap();

        let error_log = dir.join("error.log");
        let mut cmd = Command::new(nginx_bin);
        cmd.arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-e")
            .arg(&error_log)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.join("stdout.log")).unwrap())
            .stderr(fs::File::create(dir.join("stderr.log")).unwrap());
        let guard = spawn_guarded("nginx", cmd).map_err(|e| (format!("spawn nginx: {e}"), false))?;
        let n = Nginx {
            http_port: ports[0],
            https_port: ports[1],
            https_h2_port: ports[2],
            https_wrong_host_port: ports[3],
            https_expired_port: ports[4],
            https_self_signed_port: ports[5],
            https_mtls_port: ports[6],
            uds_path,
            root,
            access_log: dir.join("access.log"),
            error_log,
            dir: dir.clone(),
            harness_conns: AtomicU64::new(0),
            process: Mutex::new(guard),
            remove_dir_on_drop: true,
        };
        // Wait (<= 10 s) until every port and the unix socket accept.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut pending: Vec<u16> = ports.clone();
        let mut uds_pending = true;
        loop {
            if let Some(st) = lock(&n.process).try_wait() {
                let log = n.logs();
                let retry = log.contains("Address already in use");
                return Err((format!("nginx exited early ({st}):\n{log}"), retry));
            }
            pending.retain(|&p| {
                match TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], p)), Duration::from_millis(200)) {
                    Ok(_) => {
                        n.harness_conns.fetch_add(1, Ordering::SeqCst);
                        false
                    }
                    Err(_) => true,
                }
            });
            if uds_pending && UnixStream::connect(&n.uds_path).is_ok() {
                n.harness_conns.fetch_add(1, Ordering::SeqCst);
                uds_pending = false;
            }
            if pending.is_empty() && !uds_pending {
                break;
            }
            if Instant::now() > deadline {
                return Err((
                    format!("nginx ports {pending:?} (uds pending: {uds_pending}) not ready in 10 s:\n{}", n.logs()),
                    false,
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
        // Let nginx accept every probe so accepted_connections() starts at exactly 0.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let (accepts, _) = n.stub_status_raw();
            if accepts == n.harness_conns.load(Ordering::SeqCst) || Instant::now() > deadline {
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
        Ok(n)
    }

    /// `http://127.0.0.1:{http_port}{path}`
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.http_port, path)
    }

    /// `https://localhost:{https_port}{path}`
    pub fn https_url(&self, path: &str) -> String {
        format!("https://localhost:{}{}", self.https_port, path)
    }

    /// `https://localhost:{port}{path}` for any of the HTTPS ports.
    pub fn https_url_on(&self, port: u16, path: &str) -> String {
        format!("https://localhost:{port}{path}")
    }

    /// Path of a static file under `root/files/`.
    pub fn file(&self, name: &str) -> PathBuf {
        self.root.join("files").join(name)
    }

    /// Number of connections (TCP on all ports, TLS or not, and unix-socket ones) nginx has
    /// accepted, excluding the harness's own probes. Source: stub_status "accepts"
    /// (`/nginx_status`, fetched over a fresh TCP connection) minus every connection the
    /// harness opened (readiness probes + each stub_status fetch, this one included).
    /// The counter is updated at accept() time, so it is exact once the client's connect()
    /// has returned and nginx has had a moment to accept (we wait until it is stable).
    /// Global for this nginx: tests sharing [`nginx()`] run in parallel, so use a private
    /// [`Nginx::start()`] for exact deltas.
    pub fn accepted_connections(&self) -> u64 {
        // Give the single worker a moment to accept connections already in the backlog:
        // read until two consecutive samples agree (bounded).
        let mut prev = self.stub_status_raw().0.saturating_sub(self.harness_conns.load(Ordering::SeqCst));
        for _ in 0..50 {
            thread::sleep(Duration::from_millis(10));
            let cur = self.stub_status_raw().0.saturating_sub(self.harness_conns.load(Ordering::SeqCst));
            if cur == prev {
                return cur;
            }
            prev = cur;
        }
        prev
    }

    /// (accepts, requests) from stub_status, raw (including harness probes).
    fn stub_status_raw(&self) -> (u64, u64) {
        let mut conn = RawConn::connect(self.http_port).expect("connect for /nginx_status");
        self.harness_conns.fetch_add(1, Ordering::SeqCst);
        let r = conn.get("/nginx_status").expect("GET /nginx_status");
        assert_eq!(r.status, 200, "stub_status: {r:?}");
        // "Active connections: 1 \nserver accepts handled requests\n 33 33 31 \n..."
        let text = String::from_utf8_lossy(&r.body);
        let nums: Vec<u64> =
            text.lines().nth(2).unwrap_or("").split_whitespace().filter_map(|x| x.parse().ok()).collect();
        assert!(nums.len() == 3, "unexpected stub_status output: {text}");
        (nums[0], nums[2])
    }

    /// The access log, parsed (one entry per finished request; `/nginx_status` not logged).
    /// nginx writes a line when a request finishes, which can be a moment after the client
    /// got the response: use [`Nginx::wait_for_log`] when asserting on recent requests.
    pub fn requests_on_log(&self) -> Vec<LogLine> {
        fs::read_to_string(&self.access_log).unwrap_or_default().lines().filter_map(LogLine::parse).collect()
    }

    /// Polls the access log (<= `timeout`) until `pred` holds; returns the last parse.
    pub fn wait_for_log(&self, timeout: Duration, pred: impl Fn(&[LogLine]) -> bool) -> Vec<LogLine> {
        let deadline = Instant::now() + timeout;
        loop {
            let lines = self.requests_on_log();
            if pred(&lines) || Instant::now() >= deadline {
                return lines;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Log lines whose URI contains `needle` (e.g. a unique query tag such as `?t=abc123`).
    pub fn log_lines_for(&self, needle: &str) -> Vec<LogLine> {
        self.requests_on_log().into_iter().filter(|l| l.uri.contains(needle)).collect()
    }

    /// Distinct connections that carried requests whose URI contains `needle`. Safe with
    /// parallel tests on the shared nginx when `needle` is unique to the test.
    pub fn connections_for(&self, needle: &str) -> usize {
        self.log_lines_for(needle).iter().map(|l| l.connection).collect::<BTreeSet<_>>().len()
    }

    /// error.log + stderr of nginx (for failure messages).
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for f in ["error.log", "stderr.log", "stdout.log"] {
            if let Ok(t) = fs::read_to_string(self.dir.join(f)) {
                s.push_str(&format!("--- {f}\n{t}"));
            }
        }
        s
    }

    /// Pid of the nginx master process.
    pub fn master_pid(&self) -> u32 {
        lock(&self.process).pid()
    }

    /// Process group of nginx (master, workers, watchdog).
    pub fn pgid(&self) -> i32 {
        lock(&self.process).pgid()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        lock(&self.process).kill();
        if self.remove_dir_on_drop {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn require_tool_sbin(tool: &str, hint: &str) -> PathBuf {
    find_tool(tool)
        .or_else(|| {
            ["/usr/sbin", "/sbin", "/usr/local/sbin"].iter().map(|d| Path::new(d).join(tool)).find(|p| p.exists())
        })
        .unwrap_or_else(|| panic!("required tool `{tool}` not found: install it ({hint})"))
}

// ---------------------------------------------------------------------------------------
// httpbin (gunicorn)
// ---------------------------------------------------------------------------------------

pub struct Httpbin {
    pub port: u16,
    pub dir: PathBuf,
    process: Mutex<Guarded>,
    remove_dir_on_drop: bool,
}

/// httpbin shared by all tests of this test binary (started on first use):
/// `python3 -m gunicorn -w 2 -k gthread --threads 8 -b 127.0.0.1:PORT httpbin:app`
/// (gthread workers: keep-alive and concurrent slow endpoints such as /delay/N work).
pub fn httpbin() -> &'static Httpbin {
    static HB: OnceLock<Httpbin> = OnceLock::new();
    HB.get_or_init(|| {
        let mut h = Httpbin::start();
        h.remove_dir_on_drop = false;
        cleanup_at_exit(h.pgid(), h.dir.clone());
        h
    })
}

impl Httpbin {
    /// A private httpbin (killed on Drop). Takes ~1-2 s to start.
    pub fn start() -> Httpbin {
        let python = std::env::var("HTTPX_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        require_tool(&python, "apt-get install python3");
        let (st, out) =
            run_bounded(Command::new(&python).args(["-c", "import httpbin, gunicorn"]), Duration::from_secs(60));
        if !st.map(|s| s.success()).unwrap_or(false) {
            panic!(
                "`{python} -c 'import httpbin, gunicorn'` failed: pip install httpbin gunicorn\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let mut last = String::new();
        for _attempt in 0..3 {
            let dir = unique_temp_dir("httpbin");
            let port = free_port();
            let mut cmd = Command::new(&python);
            cmd.args(["-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "8"])
                .args(["--timeout", "120", "--graceful-timeout", "1", "--keep-alive", "75"])
                .args(["--log-level", "warning", "-b"])
                .arg(format!("127.0.0.1:{port}"))
                .arg("httpbin:app")
                .current_dir(&dir)
                .stdin(Stdio::null())
                .stdout(fs::File::create(dir.join("stdout.log")).unwrap())
                .stderr(fs::File::create(dir.join("stderr.log")).unwrap());
            let guard = spawn_guarded("httpbin", cmd).expect("spawn gunicorn");
            let h = Httpbin { port, dir, process: Mutex::new(guard), remove_dir_on_drop: true };
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Some(st) = lock(&h.process).try_wait() {
                    last = format!("gunicorn exited ({st}):\n{}", h.logs());
                    break;
                }
                if let Ok(mut c) = RawConn::connect(port) {
                    if let Ok(r) = c.get("/get") {
                        if r.status == 200 {
                            return h;
                        }
                    }
                }
                if Instant::now() > deadline {
                    panic!("httpbin not ready on port {port} within 30 s:\n{}", h.logs());
                }
                thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("httpbin failed to start:\n{last}");
    }

    /// `http://127.0.0.1:{port}{path}`
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub fn logs(&self) -> String {
        let mut s = String::new();
        for f in ["stderr.log", "stdout.log"] {
            if let Ok(t) = fs::read_to_string(self.dir.join(f)) {
                s.push_str(&format!("--- {f}\n{t}"));
            }
        }
        s
    }

    /// Pid of the gunicorn arbiter.
    pub fn pid(&self) -> u32 {
        lock(&self.process).pid()
    }

    pub fn pgid(&self) -> i32 {
        lock(&self.process).pgid()
    }
}

impl Drop for Httpbin {
    fn drop(&mut self) {
        lock(&self.process).kill();
        if self.remove_dir_on_drop {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Proxies: tinyproxy (HTTP forward + CONNECT) and microsocks (SOCKS5)
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// tinyproxy: HTTP forward proxy (absolute-form requests) and CONNECT to any port.
    Http,
    /// microsocks: SOCKS5 (no SOCKS4), optional username/password auth.
    Socks5,
}

/// A proxy on 127.0.0.1 started by the harness. With auth, the credentials are
/// user "user" / password "passwd" (HTTP: Proxy-Authorization Basic; SOCKS5: RFC 1929).
pub struct Proxy {
    pub kind: ProxyKind,
    pub port: u16,
    pub auth: Option<(String, String)>,
    pub dir: PathBuf,
    /// tinyproxy's log (absent for microsocks, which does not log).
    pub log: PathBuf,
    harness_conns: AtomicU64,
    process: Mutex<Guarded>,
    remove_dir_on_drop: bool,
}

/// Credentials of the authenticating proxies.
pub const PROXY_USER: &str = "user";
pub const PROXY_PASS: &str = "passwd";

fn shared_proxy(cell: &'static OnceLock<Proxy>, kind: ProxyKind, auth: bool) -> &'static Proxy {
    cell.get_or_init(|| {
        let mut p = Proxy::start(kind, auth);
        p.remove_dir_on_drop = false;
        cleanup_at_exit(p.pgid(), p.dir.clone());
        p
    })
}

/// Shared tinyproxy without authentication.
pub fn tinyproxy() -> &'static Proxy {
    static P: OnceLock<Proxy> = OnceLock::new();
    shared_proxy(&P, ProxyKind::Http, false)
}

/// Shared tinyproxy requiring Basic proxy auth user/passwd (407 otherwise).
pub fn tinyproxy_auth() -> &'static Proxy {
    static P: OnceLock<Proxy> = OnceLock::new();
    shared_proxy(&P, ProxyKind::Http, true)
}

/// Shared microsocks (SOCKS5) without authentication.
pub fn microsocks() -> &'static Proxy {
    static P: OnceLock<Proxy> = OnceLock::new();
    shared_proxy(&P, ProxyKind::Socks5, false)
}

/// Shared microsocks requiring SOCKS5 username/password user/passwd.
pub fn microsocks_auth() -> &'static Proxy {
    static P: OnceLock<Proxy> = OnceLock::new();
    shared_proxy(&P, ProxyKind::Socks5, true)
}

impl Proxy {
    /// A private proxy (killed and removed on Drop).
    pub fn start(kind: ProxyKind, auth: bool) -> Proxy {
        let mut last = String::new();
        for _attempt in 0..3 {
            let dir = unique_temp_dir(match kind {
                ProxyKind::Http => "tinyproxy",
                ProxyKind::Socks5 => "microsocks",
            });
            let port = free_port();
            let log = dir.join("proxy.log");
            let cmd = match kind {
                ProxyKind::Http => {
                    let bin = require_tool_sbin("tinyproxy", "apt-get install tinyproxy");
                    let mut conf = format!(
                        "Port {port}\nListen 127.0.0.1\nTimeout 600\nMaxClients 200\n\
                         Allow 127.0.0.1\nLogFile \"{}\"\nLogLevel Connect\n\
                         PidFile \"{}\"\nDisableViaHeader No\n",
                        log.display(),
                        dir.join("tinyproxy.pid").display()
                    );
                    if unsafe { libc::geteuid() } == 0 {
                        conf.push_str("User root\nGroup root\n");
                    }
                    if auth {
                        conf.push_str(&format!("BasicAuth {PROXY_USER} {PROXY_PASS}\n"));
                    }
                    fs::write(dir.join("tinyproxy.conf"), conf).unwrap();
                    let mut c = Command::new(bin);
                    c.arg("-d").arg("-c").arg(dir.join("tinyproxy.conf"));
                    c
                }
                ProxyKind::Socks5 => {
                    let bin = require_tool_sbin("microsocks", "apt-get install microsocks");
                    let mut c = Command::new(bin);
                    c.args(["-i", "127.0.0.1", "-p", &port.to_string()]);
                    if auth {
                        c.args(["-u", PROXY_USER, "-P", PROXY_PASS]);
                    }
                    c
                }
            };
            let mut cmd = cmd;
            cmd.current_dir(&dir)
                .stdin(Stdio::null())
                .stdout(fs::File::create(dir.join("stdout.log")).unwrap())
                .stderr(fs::File::create(dir.join("stderr.log")).unwrap());
            let guard = spawn_guarded("proxy", cmd).expect("spawn proxy");
            let p = Proxy {
                kind,
                port,
                auth: auth.then(|| (PROXY_USER.to_string(), PROXY_PASS.to_string())),
                dir,
                log,
                harness_conns: AtomicU64::new(0),
                process: Mutex::new(guard),
                remove_dir_on_drop: true,
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            let ready = loop {
                if let Some(st) = lock(&p.process).try_wait() {
                    last = format!("proxy exited ({st}):\n{}", p.logs());
                    break false;
                }
                if TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_millis(200))
                    .is_ok()
                {
                    p.harness_conns.fetch_add(1, Ordering::SeqCst);
                    break true;
                }
                if Instant::now() > deadline {
                    panic!("proxy not ready on port {port} within 10 s:\n{}", p.logs());
                }
                thread::sleep(Duration::from_millis(20));
            };
            if ready {
                if kind == ProxyKind::Http {
                    // Wait until tinyproxy has logged the probe so counts start at 0.
                    let deadline = Instant::now() + Duration::from_secs(2);
                    while p.raw_connects() < p.harness_conns.load(Ordering::SeqCst) && Instant::now() < deadline {
                        thread::sleep(Duration::from_millis(10));
                    }
                }
                return p;
            }
        }
        panic!("proxy failed to start:\n{last}");
    }

    /// `http://127.0.0.1:PORT` or `socks5://127.0.0.1:PORT` (credentials not included).
    pub fn url(&self) -> String {
        match self.kind {
            ProxyKind::Http => format!("http://127.0.0.1:{}", self.port),
            ProxyKind::Socks5 => format!("socks5://127.0.0.1:{}", self.port),
        }
    }

    /// Like [`Proxy::url`] with `user:passwd@` when the proxy requires auth.
    pub fn url_with_auth(&self) -> String {
        let scheme = match self.kind {
            ProxyKind::Http => "http",
            ProxyKind::Socks5 => "socks5",
        };
        match &self.auth {
            Some((u, p)) => format!("{scheme}://{u}:{p}@127.0.0.1:{}", self.port),
            None => self.url(),
        }
    }

    fn raw_connects(&self) -> u64 {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("]: Connect (file descriptor"))
            .count() as u64
    }

    /// tinyproxy only: client connections accepted so far, excluding the harness's
    /// readiness probe (counts "Connect (file descriptor N)" log lines; waits briefly until
    /// the count is stable). Panics for microsocks (it has no log).
    pub fn accepted_connections(&self) -> u64 {
        assert_eq!(self.kind, ProxyKind::Http, "only tinyproxy logs connections");
        let probes = self.harness_conns.load(Ordering::SeqCst);
        let mut prev = self.raw_connects();
        for _ in 0..20 {
            thread::sleep(Duration::from_millis(10));
            let cur = self.raw_connects();
            if cur == prev {
                break;
            }
            prev = cur;
        }
        prev.saturating_sub(probes)
    }

    /// tinyproxy only: request lines it received, e.g. "GET http://127.0.0.1:1234/ HTTP/1.1"
    /// or "CONNECT localhost:443 HTTP/1.1".
    pub fn requests_on_log(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once("]: Request (file descriptor "))
            .filter_map(|(_, rest)| rest.split_once("): ").map(|(_, r)| r.to_string()))
            .collect()
    }

    pub fn logs(&self) -> String {
        let mut s = String::new();
        for f in ["proxy.log", "stderr.log", "stdout.log"] {
            if let Ok(t) = fs::read_to_string(self.dir.join(f)) {
                s.push_str(&format!("--- {f}\n{t}"));
            }
        }
        s
    }

    pub fn pid(&self) -> u32 {
        lock(&self.process).pid()
    }

    pub fn pgid(&self) -> i32 {
        lock(&self.process).pgid()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        lock(&self.process).kill();
        if self.remove_dir_on_drop {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

// ---------------------------------------------------------------------------------------
// FaultServer
// ---------------------------------------------------------------------------------------

/// Tiny in-process TCP server on 127.0.0.1 for faults real servers can't produce.
/// Each accepted connection is handed to `handler` on its own thread with TCP_NODELAY and
/// 10 s read/write timeouts (the handler may change them). Dropping the server stops the
/// accept loop (flag + self-connect), closes the listener and shuts down every accepted
/// connection still open (handlers blocked in I/O get an error).
pub struct FaultServer {
    pub port: u16,
    /// Connections accepted so far (the internal wake-up connection is not counted).
    pub accepts: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
    thread: Option<thread::JoinHandle<()>>,
}

const FAULT_MAX_ACCEPTS: u64 = 1_000_000;

impl FaultServer {
    pub fn start<F: Fn(TcpStream) + Send + Sync + 'static>(handler: F) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("FaultServer bind");
        let port = listener.local_addr().unwrap().port();
        let accepts = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<TcpStream>>> = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(handler);
        let (a, s, c) = (accepts.clone(), stop.clone(), conns.clone());
        let thread = thread::Builder::new()
            .name(format!("fault-server-{port}"))
            .spawn(move || {
                let mut errors = 0u32;
                // Bounded: stops on the flag, after FAULT_MAX_ACCEPTS or 1000 accept errors.
                while a.load(Ordering::SeqCst) < FAULT_MAX_ACCEPTS && errors < 1000 {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            if s.load(Ordering::SeqCst) {
                                break;
                            }
                            a.fetch_add(1, Ordering::SeqCst);
                            let _ = stream.set_nodelay(true);
                            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                            let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
                            if let Ok(clone) = stream.try_clone() {
                                lock(&c).push(clone);
                            }
                            let h = handler.clone();
                            let _ = thread::Builder::new().name(format!("fault-conn-{port}")).spawn(move || h(stream));
                        }
                        Err(_) => {
                            if s.load(Ordering::SeqCst) {
                                break;
                            }
                            errors += 1;
                            thread::sleep(Duration::from_millis(5));
                        }
                    }
                }
            })
            .expect("spawn FaultServer thread");
        FaultServer { port, accepts, stop, conns, thread: Some(thread) }
    }

    /// `http://127.0.0.1:{port}{path}`
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// `https://127.0.0.1:{port}{path}` (for [`tls_fault_server`]s).
    pub fn https_url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{}", self.port, path)
    }

    pub fn accepts(&self) -> u64 {
        self.accepts.load(Ordering::SeqCst)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], self.port)), Duration::from_secs(2));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        for c in lock(&self.conns).drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }
}

/// rustls server configuration for in-process TLS fault servers: the test PKI's
/// localhost/127.0.0.1 certificate (clients trust `certs().ca_pem`), offering `alpn`.
pub fn tls_server_config(alpn: &[&[u8]]) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let c = certs();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&c.server_chain)
        .expect("server chain")
        .collect::<Result<_, _>>()
        .expect("server chain PEM");
    let key = PrivateKeyDer::from_pem_file(&c.server_key).expect("server key PEM");
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server certificate");
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(cfg)
}

/// A blocking TLS stream handed to a [`tls_fault_server`] handler.
pub type TlsServerStream = rustls::StreamOwned<rustls::ServerConnection, TcpStream>;

/// A [`FaultServer`] speaking TLS (see [`tls_server_config`]): each connection's
/// handshake is completed (10 s timeouts), then the stream goes to `handler`.
/// `https_url` of the result: `https://127.0.0.1:{port}{path}`.
pub fn tls_fault_server<F: Fn(TlsServerStream) + Send + Sync + 'static>(alpn: &[&[u8]], handler: F) -> FaultServer {
    let cfg = tls_server_config(alpn);
    FaultServer::start(move |tcp| {
        let Ok(conn) = rustls::ServerConnection::new(cfg.clone()) else { return };
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        // Bounded by the socket timeouts FaultServer sets.
        while tls.conn.is_handshaking() {
            if tls.conn.complete_io(&mut tls.sock).is_err() {
                return;
            }
        }
        handler(tls)
    })
}

/// Reads a request head up to and including "\r\n\r\n" (byte by byte, so nothing after the
/// head is consumed). None on EOF, error, > 64 KiB or > 5 s. Restores the read timeout.
pub fn read_request_head(s: &mut TcpStream) -> Option<Vec<u8>> {
    let old = s.read_timeout().ok().flatten();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut head = Vec::with_capacity(1024);
    let mut byte = [0u8; 1];
    let result = loop {
        if head.len() >= 64 * 1024 {
            break None;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break None;
        }
        let _ = s.set_read_timeout(Some(left));
        match s.read(&mut byte) {
            Ok(0) => break None,
            Ok(_) => {
                head.push(byte[0]);
                if head.ends_with(b"\r\n\r\n") {
                    break Some(head);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break None,
        }
    };
    let _ = s.set_read_timeout(old);
    result
}

/// Value of header `name` (case-insensitive) in a raw request/response head.
pub fn header_value(head: &[u8], name: &str) -> Option<String> {
    String::from_utf8_lossy(head).split("\r\n").skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

/// Reads a whole request (head + Content-Length or chunked body, <= 64 MiB) for fault
/// handlers. Returns (head, body).
pub fn read_request(s: &mut TcpStream) -> Option<(Vec<u8>, Vec<u8>)> {
    let head = read_request_head(s)?;
    let mut conn = RawConn::new(s.try_clone().ok()?);
    let body = if header_value(&head, "transfer-encoding")
        .map(|v| v.to_ascii_lowercase().contains("chunked"))
        .unwrap_or(false)
    {
        conn.read_chunked().ok()?
    } else {
        let n: usize = header_value(&head, "content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        conn.read_exact_n(n).ok()?
    };
    Some((head, body))
}

/// Serializes a simple HTTP/1.1 response with Content-Length.
pub fn http_response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut v = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len()).into_bytes();
    for (k, val) in headers {
        v.extend_from_slice(format!("{k}: {val}\r\n").as_bytes());
    }
    v.extend_from_slice(b"\r\n");
    v.extend_from_slice(body);
    v
}

// ---------------------------------------------------------------------------------------
// RawConn: minimal raw HTTP/1.1 client (no libhttpx) for checking servers
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub chunked: bool,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A buffered connection speaking raw HTTP/1.1 (keep-alive aware).
pub struct RawConn<S: Read + Write> {
    pub stream: S,
    buf: Vec<u8>,
}

impl RawConn<TcpStream> {
    /// Connects to 127.0.0.1:port with 10 s timeouts.
    pub fn connect(port: u16) -> io::Result<RawConn<TcpStream>> {
        let s = TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_secs(5))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        s.set_write_timeout(Some(Duration::from_secs(10)))?;
        s.set_nodelay(true)?;
        Ok(RawConn::new(s))
    }
}

impl RawConn<UnixStream> {
    pub fn connect_unix(path: &Path) -> io::Result<RawConn<UnixStream>> {
        let s = UnixStream::connect(path)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        s.set_write_timeout(Some(Duration::from_secs(10)))?;
        Ok(RawConn::new(s))
    }
}

const RAW_MAX_BODY: usize = 64 << 20;

impl<S: Read + Write> RawConn<S> {
    pub fn new(stream: S) -> Self {
        RawConn { stream, buf: Vec::new() }
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut tmp = [0u8; 16384];
        let n = self.stream.read(&mut tmp)?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    fn read_until(&mut self, delim: &[u8], max: usize) -> io::Result<Vec<u8>> {
        let mut scanned = 0;
        loop {
            if let Some(i) = self.buf[scanned..].windows(delim.len()).position(|w| w == delim) {
                let end = scanned + i + delim.len();
                return Ok(self.buf.drain(..end).collect());
            }
            scanned = self.buf.len().saturating_sub(delim.len());
            if self.buf.len() > max {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "line/head too long"));
            }
            if self.fill()? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "eof before delimiter"));
            }
        }
    }

    pub fn read_exact_n(&mut self, n: usize) -> io::Result<Vec<u8>> {
        if n > RAW_MAX_BODY {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
        }
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "eof in body"));
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn read_to_eof(&mut self) -> io::Result<Vec<u8>> {
        while self.buf.len() <= RAW_MAX_BODY {
            if self.fill()? == 0 {
                return Ok(std::mem::take(&mut self.buf));
            }
        }
        Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"))
    }

    /// Reads a chunked body (after the head), trailers discarded.
    pub fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        for _ in 0..1_000_000 {
            let line = self.read_until(b"\r\n", 4096)?;
            let line = String::from_utf8_lossy(&line[..line.len() - 2]).to_string();
            let size_str = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_str, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, format!("bad chunk size {line:?}")))?;
            if size == 0 {
                // trailers until empty line
                for _ in 0..1000 {
                    if self.read_until(b"\r\n", 65536)?.len() == 2 {
                        return Ok(body);
                    }
                }
                return Err(io::Error::new(io::ErrorKind::InvalidData, "too many trailers"));
            }
            if body.len() + size > RAW_MAX_BODY {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
            }
            body.extend(self.read_exact_n(size)?);
            if self.read_exact_n(2)? != b"\r\n" {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "missing CRLF after chunk"));
            }
        }
        Err(io::Error::new(io::ErrorKind::InvalidData, "too many chunks"))
    }

    /// Reads one final response (1xx interim responses skipped). `head_only`: the request
    /// was HEAD (no body follows).
    pub fn read_response(&mut self, head_only: bool) -> io::Result<RawResponse> {
        for _ in 0..16 {
            let head = self.read_until(b"\r\n\r\n", 256 * 1024)?;
            let head = String::from_utf8_lossy(&head).to_string();
            let mut lines = head.split("\r\n");
            let status_line = lines.next().unwrap_or("");
            let status: u16 = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, format!("bad status line {status_line:?}"))
            })?;
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect();
            if (100..200).contains(&status) && status != 101 {
                continue;
            }
            let mut resp = RawResponse { status, head, headers, body: Vec::new(), chunked: false };
            let no_body = head_only || status == 204 || status == 304 || (100..200).contains(&status);
            if !no_body {
                if resp.header("transfer-encoding").map(|v| v.to_ascii_lowercase().contains("chunked")).unwrap_or(false)
                {
                    resp.chunked = true;
                    resp.body = self.read_chunked()?;
                } else if let Some(cl) = resp.header("content-length") {
                    let n: usize =
                        cl.parse().map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad content-length"))?;
                    resp.body = self.read_exact_n(n)?;
                } else {
                    resp.body = self.read_to_eof()?;
                }
            }
            return Ok(resp);
        }
        Err(io::Error::new(io::ErrorKind::InvalidData, "too many 1xx responses"))
    }

    /// Sends `method path HTTP/1.1` with `Host: localhost`, the extra headers, and the body
    /// (Content-Length added when a body is given or the method is POST/PUT/PATCH).
    pub fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> io::Result<()> {
        let mut req = format!("{method} {path} HTTP/1.1\r\n");
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            req.push_str("Host: localhost\r\n");
        }
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.stream.write_all(&bytes)?;
        self.stream.flush()
    }

    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<RawResponse> {
        self.send(method, path, headers, body)?;
        self.read_response(method == "HEAD")
    }

    pub fn get(&mut self, path: &str) -> io::Result<RawResponse> {
        self.request("GET", path, &[], b"")
    }
}

// ---------------------------------------------------------------------------------------
// Second real proxies: Dante (SOCKS4/SOCKS5 server) and squid (HTTP forward + CONNECT)
// ---------------------------------------------------------------------------------------

/// A private proxy daemon (danted or squid) on 127.0.0.1, killed and removed on Drop.
/// Both only allow clients from 127.0.0.0/8; squid only forwards to 127.0.0.0/8.
pub struct ExtProxy {
    pub name: &'static str,
    pub port: u16,
    pub dir: PathBuf,
    /// danted's log or squid's access.log.
    pub log: PathBuf,
    process: Mutex<Guarded>,
}

impl ExtProxy {
    fn spawn(name: &'static str, dir: PathBuf, port: u16, log: PathBuf, mut cmd: Command) -> ExtProxy {
        cmd.current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.join("stdout.log")).unwrap())
            .stderr(fs::File::create(dir.join("stderr.log")).unwrap());
        let guard = spawn_guarded(name, cmd).expect("spawn proxy daemon");
        let p = ExtProxy { name, port, dir, log, process: Mutex::new(guard) };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(st) = lock(&p.process).try_wait() {
                panic!("{name} exited ({st}):\n{}", p.logs());
            }
            if TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_millis(200)).is_ok()
            {
                return p;
            }
            if Instant::now() > deadline {
                panic!("{name} not ready on port {port} within 15 s:\n{}", p.logs());
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Dante's `danted` as a SOCKS4 + SOCKS5 server without authentication (Dante does
    /// not implement the SOCKS4a host-name extension: such requests fail).
    pub fn danted() -> ExtProxy {
        let bin = require_tool_sbin("danted", "apt-get install dante-server");
        let dir = unique_temp_dir("danted");
        let port = free_port();
        let log = dir.join("danted.log");
        let (privileged, unprivileged) = if unsafe { libc::geteuid() } == 0 {
            ("user.privileged: root\nuser.unprivileged: nobody\n", "")
        } else {
            ("", "")
        };
        let conf = format!(
            "logoutput: {}\ninternal: 127.0.0.1 port = {port}\nexternal: 127.0.0.1\n\
             socksmethod: none\nclientmethod: none\n{privileged}{unprivileged}\
             client pass {{\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n}}\n\
             socks pass {{\n  from: 127.0.0.0/8 to: 127.0.0.0/8\n  protocol: tcp\n  command: connect\n  log: connect error\n}}\n",
            log.display()
        );
        fs::write(dir.join("danted.conf"), conf).unwrap();
        let mut c = Command::new(bin);
        c.arg("-f").arg(dir.join("danted.conf")).arg("-p").arg(dir.join("danted.pid")).args(["-N", "1"]);
        ExtProxy::spawn("danted", dir, port, log, c)
    }

    /// squid as an HTTP forward proxy (absolute-form requests) and CONNECT tunnel to
    /// any port, no cache, no Via / X-Forwarded-For, destinations limited to loopback.
    /// Its access.log keeps query strings; a CONNECT is logged when the tunnel closes.
    pub fn squid() -> ExtProxy {
        let bin = require_tool_sbin("squid", "apt-get install squid");
        let dir = unique_temp_dir("squid");
        // squid drops root privileges to its own user, which must write the logs.
        let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o777));
        let port = free_port();
        let log = dir.join("access.log");
        let conf = format!(
            "http_port 127.0.0.1:{port}\npid_filename {d}/squid.pid\n\
             access_log stdio:{d}/access.log squid\ncache_log {d}/cache.log\ncache_store_log none\n\
             cache deny all\ncache_mem 8 MB\ncoredump_dir {d}\npinger_enable off\nnetdb_filename none\n\
             acl localnet src 127.0.0.0/8\nacl to_loopback dst 127.0.0.0/8\n\
             http_access deny !to_loopback\nhttp_access allow localnet\nhttp_access deny all\n\
             shutdown_lifetime 0 seconds\nforwarded_for delete\nvia off\nstrip_query_terms off\n",
            d = dir.display()
        );
        fs::write(dir.join("squid.conf"), conf).unwrap();
        let mut c = Command::new(bin);
        c.arg("-N").arg("-f").arg(dir.join("squid.conf"));
        ExtProxy::spawn("squid", dir, port, log, c)
    }

    /// `SCHEME://127.0.0.1:PORT`.
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The proxy's log so far (waits up to `wait` for `needle` to appear when given).
    pub fn log_text(&self, needle: Option<&str>, wait: Duration) -> String {
        let deadline = Instant::now() + wait;
        loop {
            let t = fs::read_to_string(&self.log).unwrap_or_default();
            if needle.is_none_or(|n| t.contains(n)) || Instant::now() > deadline {
                return t;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn logs(&self) -> String {
        let mut s = String::new();
        for f in ["danted.log", "access.log", "cache.log", "stderr.log", "stdout.log"] {
            if let Ok(t) = fs::read_to_string(self.dir.join(f)) {
                s.push_str(&format!("--- {f}\n{t}"));
            }
        }
        s
    }
}

impl Drop for ExtProxy {
    fn drop(&mut self) {
        lock(&self.process).kill();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

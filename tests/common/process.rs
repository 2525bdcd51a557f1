//! Processes the harness starts and how they die: the spawner thread, [`spawn_guarded`]
//! (PDEATHSIG + process-group watchdog), [`run_bounded`] for short commands, scratch
//! directories, clean-up at exit, and [`ManagedServer`], the one type every long-running
//! peer (nginx, httpbin, tinyproxy, microsocks, danted, squid) is built on.

use std::fs;
use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use super::lock;

// ---------------------------------------------------------------------------------------
// ManagedServer
// ---------------------------------------------------------------------------------------

/// A long-running peer in its own scratch directory `dir`:
/// * **spawn**: `cmd` runs guarded ([`spawn_guarded`]: it and its descendants die with the
///   test process) with `dir` as working directory, stdin closed, stdout and stderr in
///   `dir/stdout.log` and `dir/stderr.log`;
/// * **readiness**: [`ManagedServer::wait_ready`] polls a probe, bounded in time, and fails
///   early with the logs when the process exits;
/// * **logs**: [`ManagedServer::logs`] joins the server's own log files and its output;
/// * **kill-on-drop**: Drop kills the whole process group and removes `dir`; a server kept
///   for the whole test binary ([`ManagedServer::share`]) is killed and removed at exit.
pub struct ManagedServer {
    pub name: &'static str,
    pub dir: PathBuf,
    /// Files in `dir` shown by `logs()`, the server's own logs first.
    log_files: Vec<String>,
    process: Mutex<Guarded>,
    remove_dir_on_drop: bool,
}

/// Why [`ManagedServer::wait_ready`] gave up.
#[derive(Debug)]
pub struct NotReady {
    /// Some(status) if the process exited; None if the probe kept failing until the deadline.
    pub exited: Option<ExitStatus>,
    /// [`ManagedServer::logs`] at that moment.
    pub logs: String,
}

impl ManagedServer {
    /// Spawns `cmd` (see the type's docs). `log_files`: the server's own logs in `dir`
    /// (e.g. nginx's "error.log"), listed before stderr.log and stdout.log by `logs()`.
    pub fn spawn(name: &'static str, dir: PathBuf, mut cmd: Command, log_files: &[&str]) -> io::Result<ManagedServer> {
        cmd.current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.join("stdout.log"))?)
            .stderr(fs::File::create(dir.join("stderr.log"))?);
        let guard = spawn_guarded(name, cmd)?;
        let mut files: Vec<String> = log_files.iter().map(|f| f.to_string()).collect();
        files.extend(["stderr.log".to_string(), "stdout.log".to_string()]);
        Ok(ManagedServer { name, dir, log_files: files, process: Mutex::new(guard), remove_dir_on_drop: true })
    }

    /// Calls `probe` every `every` until it returns true (Ok), the process exits or
    /// `timeout` passes (Err, with the logs).
    pub fn wait_ready(
        &self,
        timeout: Duration,
        every: Duration,
        mut probe: impl FnMut() -> bool,
    ) -> Result<(), NotReady> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.try_wait() {
                return Err(NotReady { exited: Some(st), logs: self.logs() });
            }
            if probe() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(NotReady { exited: None, logs: self.logs() });
            }
            thread::sleep(every);
        }
    }

    /// The server's log files and output so far, each under a `--- name` line.
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for f in &self.log_files {
            if let Ok(t) = fs::read_to_string(self.dir.join(f)) {
                s.push_str(&format!("--- {f}\n{t}"));
            }
        }
        s
    }

    /// Keeps the server for the rest of the test process (for per-binary statics, which
    /// never run Drop): its process group is killed and `dir` removed at normal exit
    /// ([`cleanup_at_exit`]); abort and SIGKILL are covered by [`spawn_guarded`].
    pub fn share(&mut self) {
        self.remove_dir_on_drop = false;
        cleanup_at_exit(self.pgid(), self.dir.clone());
    }

    /// Pid of the server process itself (nginx master, gunicorn arbiter, ...).
    pub fn pid(&self) -> u32 {
        lock(&self.process).pid()
    }

    /// Process group of the server, its descendants and the watchdog.
    pub fn pgid(&self) -> i32 {
        lock(&self.process).pgid()
    }

    /// Some(status) if the server process has exited.
    pub fn try_wait(&self) -> Option<ExitStatus> {
        lock(&self.process).try_wait()
    }

    /// Kills the whole process group now (Drop does it too).
    pub fn kill(&self) {
        lock(&self.process).kill();
    }
}

impl Drop for ManagedServer {
    fn drop(&mut self) {
        self.kill();
        if self.remove_dir_on_drop {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// True if a TCP connection to 127.0.0.1:`port` succeeds within 200 ms (the connection is
/// closed at once): the usual readiness probe.
pub fn port_accepts(port: u16) -> bool {
    TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_millis(200)).is_ok()
}

// ---------------------------------------------------------------------------------------
// Short commands
// ---------------------------------------------------------------------------------------

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
// Temp dirs and clean-up at exit
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
pub(super) fn cleanup_at_exit(pgid: i32, dir: PathBuf) {
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

//! httpbin under gunicorn: one per test binary ([`httpbin()`]) or private
//! ([`Httpbin::start()`]).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use super::process::{run_bounded, unique_temp_dir, ManagedServer, NotReady};
use super::rawconn::RawConn;
use super::{free_port, require_tool};

pub struct Httpbin {
    pub port: u16,
    pub dir: PathBuf,
    server: ManagedServer,
}

/// httpbin shared by all tests of this test binary (started on first use):
/// `python3 -m gunicorn -w 2 -k gthread --threads 8 -b 127.0.0.1:PORT httpbin:app`
/// (gthread workers: keep-alive and concurrent slow endpoints such as /delay/N work).
pub fn httpbin() -> &'static Httpbin {
    static HB: OnceLock<Httpbin> = OnceLock::new();
    HB.get_or_init(|| {
        let mut h = Httpbin::start();
        h.server.share();
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
                .arg("httpbin:app");
            let server = ManagedServer::spawn("httpbin", dir.clone(), cmd, &[]).expect("spawn gunicorn");
            let ready = server.wait_ready(Duration::from_secs(30), Duration::from_millis(50), || {
                RawConn::connect(port).and_then(|mut c| c.get("/get")).map(|r| r.status == 200).unwrap_or(false)
            });
            match ready {
                Ok(()) => return Httpbin { port, dir, server },
                Err(NotReady { exited: Some(st), logs }) => last = format!("gunicorn exited ({st}):\n{logs}"),
                Err(NotReady { exited: None, logs }) => panic!("httpbin not ready on port {port} within 30 s:\n{logs}"),
            }
        }
        panic!("httpbin failed to start:\n{last}");
    }

    /// `http://127.0.0.1:{port}{path}`
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub fn logs(&self) -> String {
        self.server.logs()
    }

    /// Pid of the gunicorn arbiter.
    pub fn pid(&self) -> u32 {
        self.server.pid()
    }

    pub fn pgid(&self) -> i32 {
        self.server.pgid()
    }
}

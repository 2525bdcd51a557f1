//! nginx: one instance per test binary ([`nginx()`]) or a private one ([`Nginx::start()`]):
//! plain HTTP, a unix socket, HTTPS with good / wrong-host / expired / self-signed
//! certificates, HTTP/2 and mTLS (`tests/support/nginx.conf.template`,
//! `tests/support/locations.conf.template`), with an access log parsed into [`LogLine`]s
//! and stub_status connection counts.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use super::certs::{certs, Certs};
use super::process::{port_accepts, run_bounded, unique_temp_dir, ManagedServer, NotReady};
use super::rawconn::RawConn;
use super::{file_1m, file_64k, free_port, hello_txt, require_tool, require_tool_sbin, support_dir, HELLO};

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
    server: ManagedServer,
}

/// The nginx shared by all tests of this test binary (started on first use).
/// Other tests run in parallel against it: for exact connection counts use a private
/// [`Nginx::start()`] or filter the access log by a unique URI (see [`Nginx::connections_for`]).
pub fn nginx() -> &'static Nginx {
    static NGINX: OnceLock<Nginx> = OnceLock::new();
    NGINX.get_or_init(|| {
        let mut n = Nginx::start_inner();
        n.server.share();
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
        cmd.arg("-p").arg(&dir).arg("-c").arg(dir.join("nginx.conf")).arg("-e").arg(&error_log);
        let server = ManagedServer::spawn("nginx", dir.clone(), cmd, &["error.log"])
            .map_err(|e| (format!("spawn nginx: {e}"), false))?;
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
            server,
        };
        // Wait (<= 10 s) until every port and the unix socket accept.
        let mut pending: Vec<u16> = ports.clone();
        let mut uds_pending = true;
        let ready = n.server.wait_ready(Duration::from_secs(10), Duration::from_millis(20), || {
            pending.retain(|&p| {
                let up = port_accepts(p);
                if up {
                    n.harness_conns.fetch_add(1, Ordering::SeqCst);
                }
                !up
            });
            if uds_pending && UnixStream::connect(&n.uds_path).is_ok() {
                n.harness_conns.fetch_add(1, Ordering::SeqCst);
                uds_pending = false;
            }
            pending.is_empty() && !uds_pending
        });
        match ready {
            Ok(()) => {}
            Err(NotReady { exited: Some(st), logs }) => {
                let retry = logs.contains("Address already in use");
                return Err((format!("nginx exited early ({st}):\n{logs}"), retry));
            }
            Err(NotReady { exited: None, logs }) => {
                return Err((
                    format!("nginx ports {pending:?} (uds pending: {uds_pending}) not ready in 10 s:\n{logs}"),
                    false,
                ));
            }
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
        self.server.logs()
    }

    /// Pid of the nginx master process.
    pub fn master_pid(&self) -> u32 {
        self.server.pid()
    }

    /// Process group of nginx (master, workers, watchdog).
    pub fn pgid(&self) -> i32 {
        self.server.pgid()
    }
}

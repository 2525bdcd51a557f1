//! Real proxies: tinyproxy (HTTP forward + CONNECT) and microsocks (SOCKS5) as [`Proxy`]
//! (shared per test binary or private), Dante's danted (SOCKS4 + SOCKS5) and squid (HTTP
//! forward + CONNECT) as private [`ExtProxy`]s.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use super::process::{port_accepts, unique_temp_dir, ManagedServer, NotReady};
use super::{free_port, require_tool_sbin};

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
    server: ManagedServer,
}

/// Credentials of the authenticating proxies.
pub const PROXY_USER: &str = "user";
pub const PROXY_PASS: &str = "passwd";

fn shared_proxy(cell: &'static OnceLock<Proxy>, kind: ProxyKind, auth: bool) -> &'static Proxy {
    cell.get_or_init(|| {
        let mut p = Proxy::start(kind, auth);
        p.server.share();
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
        Proxy::start_with(kind, auth, "")
    }

    /// A private tinyproxy with `tinyproxy_conf` appended to its configuration (e.g.
    /// `"ConnectPort 8443\n"`: CONNECT only to that port, 403 otherwise).
    pub fn start_tinyproxy_with(auth: bool, tinyproxy_conf: &str) -> Proxy {
        Proxy::start_with(ProxyKind::Http, auth, tinyproxy_conf)
    }

    fn start_with(kind: ProxyKind, auth: bool, extra_conf: &str) -> Proxy {
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
                    conf.push_str(extra_conf);
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
            let server = ManagedServer::spawn("proxy", dir.clone(), cmd, &["proxy.log"]).expect("spawn proxy");
            let p = Proxy {
                kind,
                port,
                auth: auth.then(|| (PROXY_USER.to_string(), PROXY_PASS.to_string())),
                dir,
                log,
                harness_conns: AtomicU64::new(0),
                server,
            };
            let ready = p.server.wait_ready(Duration::from_secs(10), Duration::from_millis(20), || {
                let up = port_accepts(port);
                if up {
                    p.harness_conns.fetch_add(1, Ordering::SeqCst);
                }
                up
            });
            match &ready {
                Ok(()) => {}
                Err(NotReady { exited: Some(st), logs }) => last = format!("proxy exited ({st}):\n{logs}"),
                Err(NotReady { exited: None, logs }) => panic!("proxy not ready on port {port} within 10 s:\n{logs}"),
            }
            if ready.is_ok() {
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
        self.server.logs()
    }

    pub fn pid(&self) -> u32 {
        self.server.pid()
    }

    pub fn pgid(&self) -> i32 {
        self.server.pgid()
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
    server: ManagedServer,
}

impl ExtProxy {
    fn spawn(name: &'static str, dir: PathBuf, port: u16, log: PathBuf, cmd: Command) -> ExtProxy {
        let logs = ["danted.log", "access.log", "cache.log"];
        let server = ManagedServer::spawn(name, dir.clone(), cmd, &logs).expect("spawn proxy daemon");
        match server.wait_ready(Duration::from_secs(15), Duration::from_millis(20), || port_accepts(port)) {
            Ok(()) => ExtProxy { name, port, dir, log, server },
            Err(NotReady { exited: Some(st), logs }) => panic!("{name} exited ({st}):\n{logs}"),
            Err(NotReady { exited: None, logs }) => panic!("{name} not ready on port {port} within 15 s:\n{logs}"),
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
        self.server.logs()
    }
}

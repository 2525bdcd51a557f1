//! The test PKI: CA, server, wrong-host, expired, self-signed and client certificates,
//! generated once per test binary by `tests/support/gen_certs.sh` (openssl CLI, EC P-256,
//! v3 extensions, SANs, an expired certificate via `openssl ca -enddate`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use super::process::{cleanup_at_exit, run_bounded, unique_temp_dir};
use super::{require_tool, support_dir};

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

//! TLS with rustls: trust roots, verification, client certificates, handshakes.
//!
//! Trust stores are parsed once per process and shared (webpki-roots, and each CA
//! file by path and modification time: a client created later costs one `statx` of
//! the bundle), so creating a client stays cheap. Settings are per client, as in
//! HTTPX; every distinct `TlsSettings` gets its own `rustls::ClientConfig`, built on
//! the first TLS handshake that needs it (a plain-http client never builds one), while
//! everything that can fail (CA file, CA PEM, client certificate and key) is still
//! checked when the client is created.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use once_cell::sync::Lazy;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme, StreamOwned};

use crate::connection::{remaining, Stream};
use crate::error::{Error, Result};

/// Where trust comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Trust {
    /// webpki-roots, or SSL_CERT_FILE / SSL_CERT_DIR when trust_env is on.
    #[default]
    Default,
    /// A PEM bundle on disk.
    CaFile(PathBuf),
    /// PEM bytes.
    CaPem(Vec<u8>),
}

/// Source of a client certificate chain and key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PemSource {
    File(PathBuf),
    Bytes(Vec<u8>),
}

/// Minimum protocol version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MinVersion {
    #[default]
    Tls12,
    Tls13,
}

impl MinVersion {
    /// From the version number: 12 or 13, else `InvalidArgument`.
    pub fn from_code(v: u32) -> Result<MinVersion> {
        match v {
            12 => Ok(MinVersion::Tls12),
            13 => Ok(MinVersion::Tls13),
            v => Err(Error::InvalidArgument(format!("unknown TLS version {v}"))),
        }
    }
}

/// The TLS knobs of a client (HTTPX `verify=`, `cert=`, `trust_env`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TlsSettings {
    pub verify: bool,
    pub trust: Trust,
    pub client_cert: Option<(PemSource, PemSource)>,
    pub min_version: MinVersion,
    pub alpn_http2: bool,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            verify: true,
            trust: Trust::Default,
            client_cert: None,
            min_version: MinVersion::Tls12,
            alpn_http2: false,
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    static P: Lazy<Arc<CryptoProvider>> = Lazy::new(|| Arc::new(rustls::crypto::ring::default_provider()));
    P.clone()
}

static WEBPKI: Lazy<Arc<RootCertStore>> =
    Lazy::new(|| Arc::new(RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }));

/// Parsed CA bundles by path (and modification time), shared by every client.
type CaCache = HashMap<(PathBuf, Option<std::time::SystemTime>), Arc<RootCertStore>>;
static CA_FILES: Lazy<Mutex<CaCache>> = Lazy::new(|| Mutex::new(HashMap::new()));

fn roots_from_pem(pem: &[u8], what: &str) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    let mut n = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| Error::Tls(format!("{what}: bad PEM: {e}")))?;
        // Bundles in the wild hold the odd certificate webpki can't use; skip those.
        if store.add(cert).is_ok() {
            n += 1;
        }
    }
    if n == 0 {
        return Err(Error::Tls(format!("{what}: no usable CA certificate found")));
    }
    Ok(store)
}

fn roots_from_file(path: &Path) -> Result<Arc<RootCertStore>> {
    let mtime =
        std::fs::metadata(path).map_err(|e| Error::Io(format!("CA file {}: {e}", path.display())))?.modified().ok();
    roots_from_file_at(path, mtime)
}

/// `roots_from_file` when the caller has stat'ed the file already (one `statx`).
fn roots_from_file_at(path: &Path, mtime: Option<std::time::SystemTime>) -> Result<Arc<RootCertStore>> {
    let key = (path.to_path_buf(), mtime);
    if let Some(s) = CA_FILES.lock().map_err(|_| Error::Internal("CA cache poisoned".into()))?.get(&key) {
        return Ok(s.clone());
    }
    let pem = std::fs::read(path).map_err(|e| Error::Io(format!("CA file {}: {e}", path.display())))?;
    let store = Arc::new(roots_from_pem(&pem, &format!("CA file {}", path.display()))?);
    CA_FILES.lock().map_err(|_| Error::Internal("CA cache poisoned".into()))?.insert(key, store.clone());
    Ok(store)
}

fn roots_from_dir(dir: &Path) -> Result<Arc<RootCertStore>> {
    let mtime = std::fs::metadata(dir).ok().and_then(|m| m.modified().ok());
    let key = (dir.to_path_buf(), mtime);
    if let Some(s) = CA_FILES.lock().map_err(|_| Error::Internal("CA cache poisoned".into()))?.get(&key) {
        return Ok(s.clone());
    }
    let mut store = RootCertStore::empty();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::Io(format!("CA dir {}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        let p = entry.path();
        if !p.is_file() {
            continue;
        }
        if let Ok(pem) = std::fs::read(&p) {
            for cert in CertificateDer::pem_slice_iter(&pem).flatten() {
                let _ = store.add(cert);
            }
        }
    }
    if store.is_empty() {
        return Err(Error::Tls(format!("CA dir {}: no usable CA certificate found", dir.display())));
    }
    let store = Arc::new(store);
    CA_FILES.lock().map_err(|_| Error::Internal("CA cache poisoned".into()))?.insert(key, store.clone());
    Ok(store)
}

fn load_pem(src: &PemSource, what: &str) -> Result<Vec<u8>> {
    match src {
        PemSource::Bytes(b) => Ok(b.clone()),
        PemSource::File(p) => std::fs::read(p).map_err(|e| Error::Io(format!("{what} {}: {e}", p.display()))),
    }
}

/// Trust store for settings, honouring SSL_CERT_FILE / SSL_CERT_DIR when trust_env
/// (`cert_file`: SSL_CERT_FILE as the caller read it, non-empty).
fn root_store(trust: &Trust, trust_env: bool, cert_file: Option<std::ffi::OsString>) -> Result<Arc<RootCertStore>> {
    match trust {
        Trust::CaFile(p) => roots_from_file(p),
        Trust::CaPem(pem) => Ok(Arc::new(roots_from_pem(pem, "CA PEM")?)),
        Trust::Default => {
            if trust_env {
                if let Some(f) = cert_file {
                    let p = PathBuf::from(f);
                    // One stat for "is it a file" and the cache key.
                    if let Some(m) = std::fs::metadata(&p).ok().filter(|m| m.is_file()) {
                        return roots_from_file_at(&p, m.modified().ok());
                    }
                }
                if let Some(d) = std::env::var_os("SSL_CERT_DIR").filter(|v| !v.is_empty()) {
                    let p = PathBuf::from(d);
                    if p.is_dir() {
                        return roots_from_dir(&p);
                    }
                }
            }
            Ok(WEBPKI.clone())
        }
    }
}

/// Accepts any server certificate (verify=False). Signatures are still checked so
/// the handshake itself stays sound.
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The certificates of a CA file or PEM given by the caller (DER), if any.
fn pinned_certs(trust: &Trust) -> Vec<CertificateDer<'static>> {
    let pem = match trust {
        Trust::CaFile(p) => std::fs::read(p).unwrap_or_default(),
        Trust::CaPem(pem) => pem.clone(),
        Trust::Default => return Vec::new(),
    };
    CertificateDer::pem_slice_iter(&pem).flatten().collect()
}

/// webpki verification, plus what `curl --cacert` and Python's ssl accept: a
/// self-signed server certificate with `CA:TRUE` (what `openssl req -x509` makes)
/// that is itself in the CA file is trusted for that server. webpki refuses it as
/// `CaUsedAsEndEntity`, a check it makes after the validity period, so a certificate
/// that gets that far is within its dates; its name is then checked here. Only the
/// exact certificate bytes of the CA file count; every other error stands.
#[derive(Debug)]
struct SelfSignedAware {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

fn is_ca_used_as_end_entity(e: &rustls::Error) -> bool {
    match e {
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(o)) => {
            o.0.downcast_ref::<webpki::Error>() == Some(&webpki::Error::CaUsedAsEndEntity)
        }
        _ => false,
    }
}

impl ServerCertVerifier for SelfSignedAware {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(e) if is_ca_used_as_end_entity(&e) && self.pinned.iter().any(|c| c.as_ref() == end_entity.as_ref()) => {
                let cert = webpki::EndEntityCert::try_from(end_entity)
                    .map_err(|_| rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding))?;
                cert.verify_is_valid_for_subject_name(server_name)
                    .map_err(|_| rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))?;
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The trust roots of a set of `TlsSettings`, resolved once and shared by the
/// connectors of one transport (direct, HTTP/2, proxy): `None` = webpki-roots or no
/// verification, nothing read from disk.
#[derive(Clone, Default)]
pub struct Roots(Option<Arc<RootCertStore>>);

impl Roots {
    /// Resolve now, so a missing or bad CA file / PEM shows at client creation. The
    /// built-in webpki-roots are not touched here (a plain-http client never needs them).
    pub fn resolve(s: &TlsSettings, trust_env: bool) -> Result<Roots> {
        if !s.verify {
            return Ok(Roots(None));
        }
        // Each variable read once per client (a getenv walks the whole environment).
        let cert_file = if trust_env { std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty()) } else { None };
        let env_trust =
            trust_env && (cert_file.is_some() || std::env::var_os("SSL_CERT_DIR").is_some_and(|v| !v.is_empty()));
        match &s.trust {
            Trust::Default if !env_trust => Ok(Roots(None)),
            t => root_store(t, trust_env, cert_file).map(|r| Roots(Some(r))),
        }
    }
}

/// A TLS configuration, ready to open connections. The `rustls::ClientConfig` is built
/// on the first handshake; clones share it.
#[derive(Clone)]
pub struct TlsConnector {
    lazy: Arc<LazyConfig>,
    /// Distinguishes pooled connections made under different settings.
    pub id: u64,
}

struct LazyConfig {
    settings: TlsSettings,
    trust_env: bool,
    roots: Roots,
    config: OnceLock<Arc<ClientConfig>>,
}

impl std::fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TlsConnector#{}", self.id)
    }
}

static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl TlsConnector {
    /// Build from settings. Certificate, key and CA problems are reported here, at
    /// client creation, not at the first request.
    pub fn new(s: &TlsSettings, trust_env: bool) -> Result<TlsConnector> {
        TlsConnector::with_roots(s, trust_env, &Roots::resolve(s, trust_env)?)
    }

    /// Like `new`, with trust roots already resolved (shared by a transport's
    /// connectors). Only a client certificate is loaded now (to report its errors);
    /// everything else waits for the first handshake.
    pub fn with_roots(s: &TlsSettings, trust_env: bool, roots: &Roots) -> Result<TlsConnector> {
        let lazy = LazyConfig { settings: s.clone(), trust_env, roots: roots.clone(), config: OnceLock::new() };
        if s.client_cert.is_some() {
            let c = lazy.build()?;
            let _ = lazy.config.set(c);
        }
        Ok(TlsConnector {
            lazy: Arc::new(lazy),
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// The rustls configuration (for the async HTTP/2 connector), built on first use.
    pub(crate) fn config(&self) -> Result<Arc<ClientConfig>> {
        if let Some(c) = self.lazy.config.get() {
            return Ok(c.clone());
        }
        let c = self.lazy.build()?;
        Ok(self.lazy.config.get_or_init(|| c).clone())
    }
}

impl LazyConfig {
    fn build(&self) -> Result<Arc<ClientConfig>> {
        let (s, trust_env) = (&self.settings, self.trust_env);
        let versions: &[&rustls::SupportedProtocolVersion] = match s.min_version {
            MinVersion::Tls12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
            MinVersion::Tls13 => &[&rustls::version::TLS13],
        };
        let builder = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(versions)
            .map_err(|e| Error::Tls(e.to_string()))?;
        let builder = if s.verify {
            let roots = self.roots.0.clone().unwrap_or_else(|| WEBPKI.clone());
            let pinned = pinned_certs(&s.trust);
            if pinned.is_empty() {
                builder.with_root_certificates(roots)
            } else {
                let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider())
                    .build()
                    .map_err(|e| Error::Tls(format!("trust store: {e}")))?;
                builder.dangerous().with_custom_certificate_verifier(Arc::new(SelfSignedAware { inner, pinned }))
            }
        } else {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(NoVerify(provider())))
        };
        let mut config = match &s.client_cert {
            None => builder.with_no_client_auth(),
            Some((cert_src, key_src)) => {
                let cert_pem = load_pem(cert_src, "client certificate")?;
                let key_pem = load_pem(key_src, "client key")?;
                let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| Error::Tls(format!("client certificate: bad PEM: {e}")))?;
                if certs.is_empty() {
                    return Err(Error::Tls("client certificate: no certificate in PEM".into()));
                }
                let key = PrivateKeyDer::from_pem_slice(&key_pem)
                    .map_err(|e| Error::Tls(format!("client key: bad PEM: {e}")))?;
                let config = builder
                    .with_client_auth_cert(certs, key)
                    .map_err(|e| Error::Tls(format!("client certificate and key: {e}")))?;
                config
            }
        };
        config.alpn_protocols =
            if s.alpn_http2 { vec![b"h2".to_vec(), b"http/1.1".to_vec()] } else { vec![b"http/1.1".to_vec()] };
        if trust_env && std::env::var_os("SSLKEYLOGFILE").is_some() {
            config.key_log = Arc::new(rustls::KeyLogFile::new());
        }
        Ok(Arc::new(config))
    }
}

impl TlsConnector {

    /// Run the handshake over `inner` for `host`, within `deadline`.
    pub fn handshake(&self, host: &str, inner: Stream, deadline: Option<Instant>) -> Result<Stream> {
        let name_str = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(name_str.to_string())
            .map_err(|e| Error::InvalidUrl(format!("{host:?} is not a valid TLS server name: {e}")))?;
        let mut conn = ClientConnection::new(self.config()?, name).map_err(|e| Error::Tls(e.to_string()))?;
        let mut sock = inner;
        // The handshake as a whole is bounded by the connect deadline: a phase (no
        // per-operation timeout), so the socket's kernel timeouts are set once, not
        // again for every flight (the SO_SNDTIMEO the connect left is reused).
        sock.set_read_timeout(None).map_err(|e| Error::Connect(e.to_string()))?;
        sock.set_write_timeout(None).map_err(|e| Error::Connect(e.to_string()))?;
        sock.set_phase(deadline, "the TLS handshake did not complete within the connect timeout");
        let r = Self::drive_handshake(&mut conn, &mut sock, host, deadline);
        sock.set_phase(None, "");
        r?;
        Ok(Stream::Tls(Box::new(StreamOwned::new(conn, sock))))
    }

    fn drive_handshake(
        conn: &mut ClientConnection,
        sock: &mut Stream,
        host: &str,
        deadline: Option<Instant>,
    ) -> Result<()> {
        while conn.is_handshaking() {
            remaining(deadline, || Error::ConnectTimeout(format!("TLS handshake with {host}")))?;
            match conn.complete_io(sock) {
                Ok((0, 0)) if conn.is_handshaking() => {
                    return Err(Error::Tls(format!("connection closed during TLS handshake with {host}")))
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(match e.kind() {
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                            Error::ConnectTimeout(format!("TLS handshake with {host} timed out"))
                        }
                        _ => match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                            Some(t) => Error::Tls(format!("handshake with {host}: {}", crate::error::tls_words(t))),
                            None if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                                Error::Tls(format!("connection closed during TLS handshake with {host}"))
                            }
                            None => Error::Tls(format!("handshake with {host}: {e}")),
                        },
                    })
                }
            }
        }
        Ok(())
    }
}

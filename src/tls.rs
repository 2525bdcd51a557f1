//! TLS with rustls: trust roots, verification, client certificates, handshakes.
//!
//! Trust stores are parsed once per process and shared (webpki-roots, and each CA
//! file by path), so creating a client stays cheap. Settings are per client, as in
//! HTTPX; every distinct `TlsSettings` gets its own `rustls::ClientConfig`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
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

/// Trust store for settings, honouring SSL_CERT_FILE / SSL_CERT_DIR when trust_env.
fn root_store(trust: &Trust, trust_env: bool) -> Result<Arc<RootCertStore>> {
    match trust {
        Trust::CaFile(p) => roots_from_file(p),
        Trust::CaPem(pem) => Ok(Arc::new(roots_from_pem(pem, "CA PEM")?)),
        Trust::Default => {
            if trust_env {
                if let Some(f) = std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty()) {
                    let p = PathBuf::from(f);
                    if p.is_file() {
                        return roots_from_file(&p);
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

/// A built TLS configuration, ready to open connections.
#[derive(Clone)]
pub struct TlsConnector {
    config: Arc<ClientConfig>,
    /// Distinguishes pooled connections made under different settings.
    pub id: u64,
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
        let versions: &[&rustls::SupportedProtocolVersion] = match s.min_version {
            MinVersion::Tls12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
            MinVersion::Tls13 => &[&rustls::version::TLS13],
        };
        let builder = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(versions)
            .map_err(|e| Error::Tls(e.to_string()))?;
        let builder = if s.verify {
            let roots = root_store(&s.trust, trust_env)?;
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
        Ok(TlsConnector { config: Arc::new(config), id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed) })
    }

    /// The rustls configuration (for the async HTTP/2 connector).
    pub(crate) fn config(&self) -> Arc<ClientConfig> {
        self.config.clone()
    }

    /// Run the handshake over `inner` for `host`, within `deadline`.
    pub fn handshake(&self, host: &str, inner: Stream, deadline: Option<Instant>) -> Result<Stream> {
        let name_str = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(name_str.to_string())
            .map_err(|e| Error::InvalidUrl(format!("{host:?} is not a valid TLS server name: {e}")))?;
        let mut conn = ClientConnection::new(self.config.clone(), name).map_err(|e| Error::Tls(e.to_string()))?;
        let mut sock = inner;
        while conn.is_handshaking() {
            let left = remaining(deadline, || Error::ConnectTimeout(format!("TLS handshake with {host}")))?;
            sock.set_read_timeout(left).map_err(|e| Error::Connect(e.to_string()))?;
            sock.set_write_timeout(left).map_err(|e| Error::Connect(e.to_string()))?;
            match conn.complete_io(&mut sock) {
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
        Ok(Stream::Tls(Box::new(StreamOwned::new(conn, sock))))
    }
}

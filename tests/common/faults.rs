//! In-process fault servers for what real servers cannot produce ([`FaultServer`], over
//! TLS: [`tls_fault_server`]) and the small request readers / response writers their
//! handlers use.

use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::certs::certs;
use super::lock;
use super::rawconn::RawConn;

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

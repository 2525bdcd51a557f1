//! A TLS fault server (rustls, the test PKI's localhost certificate) for faults nginx
//! cannot produce, such as closing the TCP connection in the middle of a request body.
//! Include with `#[path = "common/tls_fault.rs"] mod tls_fault;` next to `mod common;`.
//! Bounded: at most 64 connections, each handler gets 10 s socket timeouts, the accept
//! loop ends after 120 s or when the server is dropped.

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub type TlsStream = rustls::StreamOwned<rustls::ServerConnection, TcpStream>;

#[allow(dead_code)]
pub struct TlsFault {
    pub port: u16,
    pub accepts: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl TlsFault {
    /// `alpn`: protocols offered (e.g. `[b"h2"]`); empty = no ALPN.
    pub fn start<F>(cert: &std::path::Path, key: &std::path::Path, alpn: &[&[u8]], handler: F) -> TlsFault
    where
        F: Fn(&mut TlsStream) + Send + Sync + 'static,
    {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(cert).unwrap().collect::<Result<_, _>>().unwrap();
        let key = PrivateKeyDer::from_pem_file(key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        let cfg = Arc::new(cfg);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepts = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handler = Arc::new(handler);
        let (a, s) = (accepts.clone(), stop.clone());
        thread::spawn(move || {
            let end = Instant::now() + Duration::from_secs(120);
            while !s.load(Ordering::SeqCst) && Instant::now() < end && a.load(Ordering::SeqCst) < 64 {
                match listener.accept() {
                    Ok((tcp, _)) => {
                        a.fetch_add(1, Ordering::SeqCst);
                        let _ = tcp.set_nonblocking(false);
                        let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                        let _ = tcp.set_write_timeout(Some(Duration::from_secs(10)));
                        let (cfg, h) = (cfg.clone(), handler.clone());
                        thread::spawn(move || {
                            let Ok(conn) = rustls::ServerConnection::new(cfg) else { return };
                            let mut tls = rustls::StreamOwned::new(conn, tcp);
                            while tls.conn.is_handshaking() {
                                if tls.conn.complete_io(&mut tls.sock).is_err() {
                                    return;
                                }
                            }
                            h(&mut tls);
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        TlsFault { port, accepts, stop }
    }
}

/// A plain TCP server whose handler owns the socket outright (unlike `FaultServer`,
/// which keeps a duplicate of every socket), so `reset` + drop really sends an RST.
/// Same bounds as [`TlsFault`].
pub fn plain_server<F>(handler: F) -> TlsFault
where
    F: Fn(TcpStream) + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepts = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let handler = Arc::new(handler);
    let (a, s) = (accepts.clone(), stop.clone());
    thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(120);
        while !s.load(Ordering::SeqCst) && Instant::now() < end && a.load(Ordering::SeqCst) < 64 {
            match listener.accept() {
                Ok((tcp, _)) => {
                    a.fetch_add(1, Ordering::SeqCst);
                    let _ = tcp.set_nonblocking(false);
                    let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                    let _ = tcp.set_write_timeout(Some(Duration::from_secs(10)));
                    let h = handler.clone();
                    thread::spawn(move || h(tcp));
                }
                Err(_) => thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    TlsFault { port, accepts, stop }
}

impl Drop for TlsFault {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Read from `s` until `n` bytes arrived (or EOF/error); returns the bytes read.
pub fn read_at_least<R: std::io::Read>(s: &mut R, n: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 16384];
    while got.len() < n {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => got.extend_from_slice(&buf[..k]),
        }
    }
    got
}

/// Make the coming close abrupt (RST, linger 0) and stop reading, as a server that
/// gives up would; the RST goes out when the socket is dropped (closed).
pub fn reset(tcp: &TcpStream) {
    let _ = socket2::SockRef::from(tcp).set_linger(Some(Duration::ZERO));
    let _ = tcp.shutdown(std::net::Shutdown::Read);
}

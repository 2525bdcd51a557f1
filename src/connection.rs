//! Byte streams to a server: TCP, Unix domain sockets, and TLS over either.
//!
//! `connect_tcp` tries every resolved address in turn within the connect timeout and
//! sets TCP_NODELAY. `Stream` knows how to set per-operation read/write timeouts on
//! its socket and how to tell, without blocking, whether an idle connection is still
//! usable (the peer may have closed it while it sat in the pool).

use std::io::{self, Read, Write};
use std::mem::MaybeUninit;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use rustls::{ClientConnection, StreamOwned};
use socket2::SockRef;

use crate::error::{Error, Result};

/// A connected byte stream.
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<StreamOwned<ClientConnection, Stream>>),
}

impl Stream {
    fn sock(&self) -> SockRef<'_> {
        match self {
            Stream::Tcp(s) => SockRef::from(s),
            Stream::Unix(s) => SockRef::from(s),
            Stream::Tls(t) => t.sock.sock(),
        }
    }

    pub fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        self.sock().set_read_timeout(d.map(nonzero))
    }

    pub fn set_write_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        self.sock().set_write_timeout(d.map(nonzero))
    }

    /// Is this idle connection still fit to carry a new request? False when the peer
    /// closed it, reset it, or sent unexpected bytes (nothing should arrive on an idle
    /// HTTP/1.1 connection). Costs one non-blocking `recv(MSG_PEEK)`.
    pub fn is_idle_usable(&self) -> bool {
        if let Stream::Tls(t) = self {
            if t.conn.wants_write() {
                return false;
            }
        }
        let mut b = [MaybeUninit::<u8>::uninit(); 1];
        match self.sock().recv_with_flags(&mut b, libc::MSG_PEEK | libc::MSG_DONTWAIT) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => true,
            _ => false,
        }
    }

    pub fn shutdown(&mut self) {
        if let Stream::Tls(t) = self {
            t.conn.send_close_notify();
            let _ = t.conn.complete_io(&mut t.sock);
        }
        let _ = self.sock().shutdown(std::net::Shutdown::Both);
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    /// ALPN protocol negotiated on a TLS stream.
    pub fn alpn(&self) -> Option<Vec<u8>> {
        match self {
            Stream::Tls(t) => t.conn.alpn_protocol().map(|p| p.to_vec()),
            _ => None,
        }
    }
}

fn nonzero(d: Duration) -> Duration {
    if d.is_zero() {
        Duration::from_micros(1)
    } else {
        d
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
            Stream::Tls(t) => match t.read(buf) {
                // A peer that closes without close_notify after a complete message is
                // common; report it as EOF and let HTTP framing decide if it was short.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                r => r,
            },
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
            Stream::Tls(t) => t.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write_vectored(bufs),
            Stream::Unix(s) => s.write_vectored(bufs),
            Stream::Tls(t) => t.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
            Stream::Tls(t) => t.flush(),
        }
    }
}

/// Time left before `deadline`, or a timeout error built by `err`.
pub fn remaining(deadline: Option<Instant>, err: impl FnOnce() -> Error) -> Result<Option<Duration>> {
    match deadline {
        None => Ok(None),
        Some(d) => {
            let now = Instant::now();
            if now >= d {
                Err(err())
            } else {
                Ok(Some(d - now))
            }
        }
    }
}

/// Resolve `host:port` and connect to each address in turn until one answers, all
/// within `timeout`. Sets TCP_NODELAY. Optionally binds a local address first.
pub fn connect_tcp(host: &str, port: u16, timeout: Option<Duration>, local: Option<SocketAddr>) -> Result<TcpStream> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let host_for_resolve = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = (host_for_resolve, port)
        .to_socket_addrs()
        .map_err(|e| Error::Connect(format!("cannot resolve {host}: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(Error::Connect(format!("{host} resolved to no address")));
    }
    let mut last_err = None;
    for addr in &addrs {
        let left = remaining(deadline, || Error::ConnectTimeout(format!("connecting to {host}:{port}")))?;
        match connect_one(*addr, left, local) {
            Ok(s) => {
                s.set_nodelay(true).map_err(|e| Error::Connect(e.to_string()))?;
                return Ok(s);
            }
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| Error::Connect(format!("no address of {host} answered"))))
}

fn connect_one(addr: SocketAddr, timeout: Option<Duration>, local: Option<SocketAddr>) -> Result<TcpStream> {
    let map = |e: io::Error| {
        if e.kind() == io::ErrorKind::TimedOut || e.kind() == io::ErrorKind::WouldBlock {
            Error::ConnectTimeout(format!("connecting to {addr}: {e}"))
        } else {
            Error::Connect(format!("connecting to {addr}: {e}"))
        }
    };
    if let Some(local) = local {
        let domain = socket2::Domain::for_address(addr);
        let sock = socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))
            .map_err(|e| Error::Connect(e.to_string()))?;
        sock.bind(&local.into()).map_err(|e| Error::Connect(format!("binding {local}: {e}")))?;
        match timeout {
            Some(t) => sock.connect_timeout(&addr.into(), nonzero(t)).map_err(map)?,
            None => sock.connect(&addr.into()).map_err(map)?,
        }
        return Ok(sock.into());
    }
    match timeout {
        Some(t) => TcpStream::connect_timeout(&addr, nonzero(t)).map_err(map),
        None => TcpStream::connect(addr).map_err(map),
    }
}

/// Connect to a Unix domain socket.
pub fn connect_unix(path: &Path) -> Result<UnixStream> {
    UnixStream::connect(path).map_err(|e| Error::Connect(format!("connecting to {}: {e}", path.display())))
}

//! Connecting from the event loop: name resolution, a non-blocking TCP connect over
//! each resolved address within the connect deadline, Unix sockets, the SOCKS and
//! CONNECT handshakes of `proxy/` and TLS with the transport's own `TlsConnector`
//! (same rustls configuration, trust, ALPN and client certificate as the blocking
//! path), as the chain of `connect/` does for the blocking transport.
//!
//! DNS: IP literals and names in /etc/hosts resolve in the loop; any other name is
//! looked up with `getaddrinfo` on a short helper thread (libcurl's default threaded
//! resolver does the same), whose answer wakes the transfer through the reactor. No
//! callback ever runs on that thread, and a lookup given up (timeout, cancel, multi
//! freed) finishes there and is dropped.
//!
//! The SOCKS and CONNECT handshakes are the blocking functions of `proxy::socks` /
//! `proxy::tunnel`, run over a *replay adapter*: they read from the bytes received so
//! far and write into a buffer; when they run out of input the adapter records it,
//! the loop sends their new output, waits for more bytes from the proxy and runs them
//! again from the start on everything received (they are deterministic, and replies
//! are a few bytes: one or two runs in practice). SOCKS and CONNECT are written once.

use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};

use crate::connection::Stream;
use crate::error::{Error, Result};
use crate::proxy::{socks, tunnel, ProxyConfig, ProxyKind};
use crate::tls::TlsConnector;

use super::io::{self as mio, WaitFd};
use super::reactor::{Interest, Reactor, Sleep};

/// /etc/hosts, read once per modification time.
fn etc_hosts(name: &str, port: u16) -> Option<Vec<SocketAddr>> {
    type Cache = Option<(Option<std::time::SystemTime>, Vec<(String, IpAddr)>)>;
    static CACHE: Mutex<Cache> = Mutex::new(None);
    let path = "/etc/hosts";
    let mtime = std::fs::metadata(path).ok().and_then(|m| m.modified().ok());
    let mut c = CACHE.lock().ok()?;
    if c.as_ref().is_none_or(|(m, _)| *m != mtime) {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut entries = Vec::new();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut parts = line.split_whitespace();
            let Some(ip) = parts.next().and_then(|i| i.parse::<IpAddr>().ok()) else { continue };
            for n in parts {
                entries.push((n.to_ascii_lowercase(), ip));
            }
        }
        *c = Some((mtime, entries));
    }
    let lower = name.to_ascii_lowercase();
    let found: Vec<SocketAddr> = c
        .as_ref()?
        .1
        .iter()
        .filter(|(n, _)| *n == lower)
        .map(|(_, ip)| SocketAddr::new(*ip, port))
        .collect();
    (!found.is_empty()).then_some(found)
}

type Lookup = Arc<Mutex<(Option<Result<Vec<SocketAddr>>>, Option<Waker>)>>;

/// Resolve `host:port` (see the module doc). `deadline` is the connect deadline.
pub async fn resolve(r: &Reactor, host: &str, port: u16, deadline: Option<Instant>) -> Result<Vec<SocketAddr>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if let Some(a) = etc_hosts(bare, port) {
        return Ok(a);
    }
    let slot: Lookup = Arc::new(Mutex::new((None, None)));
    let s2 = slot.clone();
    let owned = bare.to_string();
    std::thread::Builder::new()
        .name("httpx-resolve".into())
        .spawn(move || {
            let res = (owned.as_str(), port)
                .to_socket_addrs()
                .map(|a| a.collect())
                .map_err(|e| Error::Resolve(format!("{owned} ({})", crate::info::resolve_reason(&e))));
            if let Ok(mut g) = s2.lock() {
                g.0 = Some(res);
                if let Some(w) = g.1.take() {
                    w.wake();
                }
            }
        })
        .map_err(|e| Error::Connect(format!("cannot start a resolver thread: {e}")))?;
    let mut timer = deadline.map(|d| Box::pin(Sleep::until(r, d)));
    std::future::poll_fn(|cx| {
        if let Ok(mut g) = slot.lock() {
            if let Some(res) = g.0.take() {
                return Poll::Ready(res);
            }
            g.1 = Some(cx.waker().clone());
        }
        if let Some(t) = timer.as_mut() {
            if t.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(Error::ConnectTimeout(format!(
                    "resolving {host} took longer than the connect timeout"
                ))));
            }
        }
        Poll::Pending
    })
    .await
}

/// A TCP connection to `host:port`: every resolved address in turn, within
/// `deadline`; TCP_NODELAY; bound to `local` first when given.
pub async fn connect_tcp(
    r: &Reactor,
    host: &str,
    port: u16,
    deadline: Option<Instant>,
    local: Option<SocketAddr>,
) -> Result<TcpStream> {
    let timeout = || Error::ConnectTimeout(format!("connecting to {host}:{port}"));
    if deadline.is_some_and(|d| Instant::now() >= d) {
        return Err(timeout());
    }
    let addrs = resolve(r, host, port, deadline).await?;
    if addrs.is_empty() {
        return Err(Error::Resolve(format!("{host} resolved to no address")));
    }
    let mut last = None;
    for addr in addrs {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(timeout());
        }
        match connect_one(r, addr, deadline, local).await {
            Ok(s) => {
                s.set_nodelay(true).map_err(|e| Error::Connect(e.to_string()))?;
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::Connect(format!("no address of {host} answered"))))
}

async fn connect_one(
    r: &Reactor,
    addr: SocketAddr,
    deadline: Option<Instant>,
    local: Option<SocketAddr>,
) -> Result<TcpStream> {
    let domain = socket2::Domain::for_address(addr);
    let sock = socket2::Socket::new(domain, socket2::Type::STREAM.nonblocking(), Some(socket2::Protocol::TCP))
        .map_err(|e| Error::Connect(e.to_string()))?;
    r.fresh(sock.as_fd());
    if let Some(local) = local {
        sock.bind(&local.into()).map_err(|e| Error::Connect(format!("binding {local}: {e}")))?;
    }
    match sock.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) || e.kind() == io::ErrorKind::WouldBlock => {
            let ready = WaitFd::new(r, sock.as_fd(), Interest::Write, deadline).await;
            r.forget(sock.as_fd());
            if !ready? {
                return Err(Error::ConnectTimeout(format!("connecting to {addr}: no answer in time")));
            }
            if let Some(e) = sock.take_error().map_err(|e| Error::Connect(e.to_string()))? {
                return Err(Error::Connect(format!("connecting to {addr}: {e}")));
            }
        }
        Err(e) => return Err(Error::Connect(format!("connecting to {addr}: {e}"))),
    }
    Ok(sock.into())
}

/// TLS to `host` over `inner` (whatever the chain built), within `deadline`: the
/// transport's connector (its rustls configuration) driven without blocking.
pub async fn tls_handshake(
    r: &Reactor,
    tls: &TlsConnector,
    host: &str,
    inner: Stream,
    deadline: Option<Instant>,
) -> Result<Stream> {
    let name_str = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(name_str.to_string())
        .map_err(|e| Error::InvalidUrl(format!("{host:?} is not a valid TLS server name: {e}")))?;
    let conn = ClientConnection::new(tls.config()?, name).map_err(|e| Error::Tls(e.to_string()))?;
    let mut s = Stream::Tls(Box::new(StreamOwned::new(conn, inner)));
    let timeout = || Error::ConnectTimeout(format!("TLS handshake with {host} timed out"));
    let tls_err = |e: io::Error| -> Error {
        match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(t) => Error::Tls(format!("handshake with {host}: {}", crate::error::tls_words(t))),
            None if e.kind() == io::ErrorKind::UnexpectedEof => {
                Error::Tls(format!("connection closed during TLS handshake with {host}"))
            }
            None => Error::Tls(format!("handshake with {host}: {e}")),
        }
    };
    loop {
        let Stream::Tls(t) = &mut s else { unreachable!() };
        if !t.conn.is_handshaking() {
            break;
        }
        // Send what rustls has (ClientHello, Finished...), then read its answer.
        let want = if t.conn.wants_write() {
            match mio::try_flush(&mut s) {
                Ok(()) => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Interest::Write,
                Err(e) => return Err(tls_err(e)),
            }
        } else {
            match t.conn.read_tls(&mut mio::NbRead(&mut t.sock)) {
                Ok(0) => return Err(Error::Tls(format!("connection closed during TLS handshake with {host}"))),
                Ok(_) => {
                    if let Err(e) = t.conn.process_new_packets() {
                        let _ = mio::try_flush(&mut s);
                        return Err(Error::Tls(format!("handshake with {host}: {}", crate::error::tls_words(&e))));
                    }
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Interest::Read,
                Err(e) => return Err(tls_err(e)),
            }
        };
        if !WaitFd::new(r, s.fd(), want, deadline).await? {
            return Err(timeout());
        }
    }
    // Whatever is left of the handshake (the client Finished of TLS 1.3) goes out with
    // the first request.
    let _ = mio::try_flush(&mut s);
    Ok(s)
}

/// The replay adapter (see the module doc).
struct Replay<'a> {
    input: &'a [u8],
    pos: usize,
    eof: bool,
    out: Vec<u8>,
    starved: bool,
}

impl Read for Replay<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.input.len() {
            let n = buf.len().min(self.input.len() - self.pos);
            buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        if self.eof {
            return Ok(0);
        }
        self.starved = true;
        Err(io::ErrorKind::WouldBlock.into())
    }
}

impl Write for Replay<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Run a blocking handshake `step` over `s` by replay, within `deadline` (a limit for
/// the whole handshake, as the blocking path's phase deadline).
async fn replay<F>(r: &Reactor, s: &mut Stream, deadline: Option<Instant>, step: F) -> Result<()>
where
    F: Fn(&mut Replay<'_>) -> Result<()>,
{
    let timeout = || {
        Error::ConnectTimeout(
            "the proxy handshake did not complete within the connect timeout (a limit for the whole handshake)".into(),
        )
    };
    let mut input: Vec<u8> = Vec::new();
    let mut sent = 0usize;
    let mut eof = false;
    let mut buf = [0u8; 1024];
    for _ in 0..10_000 {
        let mut a = Replay { input: &input, pos: 0, eof, out: Vec::new(), starved: false };
        let res = step(&mut a);
        let (starved, pos, out) = (a.starved, a.pos, a.out);
        if out.len() > sent {
            mio::write_all(r, s, &out[sent..], deadline.map(|d| d.saturating_duration_since(Instant::now())), timeout)
                .await
                .map_err(|e| match e {
                    Error::Write(m) => Error::Proxy(format!("sending the proxy handshake: {m}")),
                    other => other,
                })?;
            sent = out.len();
        }
        if !starved {
            res?;
            if pos < input.len() {
                return Err(Error::Proxy("the proxy sent bytes past the end of its handshake reply".into()));
            }
            return Ok(());
        }
        match mio::read(r, s, &mut buf, deadline, timeout).await? {
            Ok(0) => eof = true,
            Ok(n) => input.extend_from_slice(&buf[..n]),
            Err(e) => return Err(Error::Proxy(format!("reading the proxy's reply: {e}"))),
        }
        if input.len() > 128 * 1024 {
            return Err(Error::Proxy("the proxy's handshake reply is too long".into()));
        }
    }
    Err(Error::Proxy("the proxy handshake did not finish".into()))
}

/// The first hop to proxy `p`: TCP (a failure is a `Proxy` error), TLS to an https://
/// proxy, then its SOCKS or CONNECT handshake for a tunnel to `host:port`, all within
/// `deadline`. Forwarding proxies get no handshake.
#[allow(clippy::too_many_arguments)]
pub async fn proxy_connect(
    r: &Reactor,
    p: &ProxyConfig,
    proxy_tls: &TlsConnector,
    host: &str,
    port: u16,
    https_target: bool,
    deadline: Option<Instant>,
    local: Option<SocketAddr>,
) -> Result<Stream> {
    let tcp = connect_tcp(r, &p.host, p.port, deadline, local).await.map_err(|e| match e {
        Error::Connect(m) => Error::Proxy(format!("cannot reach proxy: {m}")),
        other => other,
    })?;
    let mut s = Stream::tcp(tcp)?;
    if p.kind == ProxyKind::Https {
        s = tls_handshake(r, proxy_tls, &p.host, s, deadline).await?;
    }
    match p.kind {
        ProxyKind::Http | ProxyKind::Https if p.tunnels(https_target) => {
            let auth = p.authorization.clone();
            replay(r, &mut s, deadline, |a| tunnel::connect_tunnel(a, host, port, auth.as_deref(), &[])).await?;
        }
        ProxyKind::Http | ProxyKind::Https => {}
        ProxyKind::Socks5 { remote_dns } => {
            // socks5:// resolves the target here (in the loop), before the handshake.
            let ip = if remote_dns { None } else { Some(first_ip(r, host, port, deadline, false).await?) };
            let creds = p.credentials.as_ref().map(|(u, pw)| (u.as_str(), pw.as_str()));
            let resolved = move |h: &str, _: u16| -> Result<IpAddr> {
                ip.ok_or_else(|| Error::Connect(format!("could not resolve {h}: no addresses")))
            };
            replay(r, &mut s, deadline, |a| socks::socks5_connect_with(a, host, port, creds, remote_dns, &resolved))
                .await?;
        }
        ProxyKind::Socks4 => {
            let ip = first_ip(r, host, port, deadline, true).await?.to_string();
            let user = p.credentials.as_ref().map(|c| c.0.as_str()).unwrap_or("");
            replay(r, &mut s, deadline, |a| socks::socks4a_connect(a, &ip, port, user)).await?;
        }
        ProxyKind::Socks4a => {
            let user = p.credentials.as_ref().map(|c| c.0.as_str()).unwrap_or("");
            replay(r, &mut s, deadline, |a| socks::socks4a_connect(a, host, port, user)).await?;
        }
    }
    Ok(s)
}

/// The first address of `host` (IPv4 only for SOCKS4, which carries nothing else).
async fn first_ip(r: &Reactor, host: &str, port: u16, deadline: Option<Instant>, v4: bool) -> Result<IpAddr> {
    let addrs = resolve(r, host, port, deadline).await?;
    let found = if v4 { addrs.iter().find(|a| a.is_ipv4()) } else { addrs.first() };
    match found {
        Some(a) => Ok(a.ip()),
        None if v4 => Err(Error::Connect(format!("{host} has no IPv4 address (SOCKS4 needs one; use socks4a://)"))),
        None => Err(Error::Connect(format!("could not resolve {host}: no addresses"))),
    }
}

/// Sleep `d` on the reactor (a connect retry's backoff).
pub async fn sleep(r: &Reactor, d: Duration) {
    Sleep::until(r, Instant::now() + d).await
}

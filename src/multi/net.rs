//! Connecting from the event loop: name resolution, a non-blocking TCP connect over
//! each resolved address within the connect deadline, Unix sockets, the SOCKS and
//! CONNECT handshakes of `proxy/` and TLS with the transport's own `TlsConnector`
//! (same rustls configuration, trust, ALPN and client certificate as the blocking
//! path), as the chain of `connect/` does for the blocking transport.
//!
//! DNS: IP literals and names in /etc/hosts resolve in the loop; any other name is
//! looked up with `getaddrinfo` on a helper thread (libcurl's default threaded
//! resolver does the same), whose answer wakes the transfer through the reactor. The
//! helpers are capped: at most [`MAX_RESOLVER_THREADS`] (4) per process, shared by
//! every multi; further names wait in a FIFO queue, and transfers asking for a name
//! (and port) already queued or being looked up share that one lookup. A helper
//! takes queued names until the queue is empty, then exits (no idle threads). The
//! wait in the queue counts against the connect timeout, as the lookup itself does.
//! No callback ever runs on a helper, and a lookup given up (timeout, cancel, multi
//! freed) finishes there and is dropped; a queued name every asker gave up on is
//! skipped.
//!
//! The SOCKS and CONNECT handshakes are the blocking functions of `proxy::socks` /
//! `proxy::tunnel`, run over a *replay adapter*: they read from the bytes received so
//! far and write into a buffer; when they run out of input the adapter records it,
//! the loop sends their new output, waits for more bytes from the proxy and runs them
//! again from the start on everything received (they are deterministic, and replies
//! are a few bytes: one or two runs in practice). SOCKS and CONNECT are written once.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::AsFd;
use std::sync::{Arc, LazyLock, Mutex};
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
    let found: Vec<SocketAddr> =
        c.as_ref()?.1.iter().filter(|(n, _)| *n == lower).map(|(_, ip)| SocketAddr::new(*ip, port)).collect();
    (!found.is_empty()).then_some(found)
}

/// One asker's slot: the answer, and the waker of the transfer waiting for it.
type Lookup = Arc<Mutex<(Option<Result<Vec<SocketAddr>>>, Option<Waker>)>>;

/// At most this many `getaddrinfo` helper threads at once, per process (see the
/// module doc). Lookups of local names take microseconds and those of remote names
/// are mostly waiting on the network: 4 keep a queue of distinct names moving
/// without a thread per transfer (10,000 transfers to 10,000 names: 4 threads).
pub const MAX_RESOLVER_THREADS: usize = 4;

type LookupFn = fn(&str, u16) -> Result<Vec<SocketAddr>>;

fn getaddrinfo(name: &str, port: u16) -> Result<Vec<SocketAddr>> {
    (name, port)
        .to_socket_addrs()
        .map(|a| a.collect())
        .map_err(|e| Error::Resolve(format!("{name} ({})", crate::info::resolve_reason(&e))))
}

#[derive(Default)]
struct PoolState {
    /// Names waiting for a helper, oldest first.
    queue: VecDeque<(String, u16)>,
    /// Every name queued or being looked up, with the slots of all its askers.
    askers: HashMap<(String, u16), Vec<Lookup>>,
    /// Helper threads running.
    threads: usize,
}

/// The capped resolver: a queue of names and at most `cap` helper threads.
struct Resolver {
    state: Mutex<PoolState>,
    lookup: LookupFn,
    cap: usize,
}

static RESOLVER: LazyLock<Resolver> =
    LazyLock::new(|| Resolver { state: Mutex::default(), lookup: getaddrinfo, cap: MAX_RESOLVER_THREADS });

fn fill(slots: Vec<Lookup>, res: &Result<Vec<SocketAddr>>) {
    for s in slots {
        if let Ok(mut g) = s.lock() {
            g.0 = Some(res.clone());
            if let Some(w) = g.1.take() {
                w.wake();
            }
        }
    }
}

impl Resolver {
    /// Ask for `name:port`: a slot that gets the answer (and wakes its waker).
    fn submit(&'static self, name: &str, port: u16) -> Lookup {
        let slot: Lookup = Arc::new(Mutex::new((None, None)));
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let key = (name.to_string(), port);
        if let Some(v) = st.askers.get_mut(&key) {
            v.push(slot.clone());
            return slot;
        }
        st.askers.insert(key.clone(), vec![slot.clone()]);
        st.queue.push_back(key);
        if st.threads < self.cap {
            st.threads += 1;
            let spawned = std::thread::Builder::new().name("httpx-resolve".into()).spawn(move || self.work());
            if let Err(e) = spawned {
                st.threads -= 1;
                if st.threads == 0 {
                    // No helper to take the queue: every queued name fails now.
                    let err = Err(Error::Connect(format!("cannot start a resolver thread: {e}")));
                    let keys: Vec<_> = st.queue.drain(..).collect();
                    let slots: Vec<Lookup> = keys.iter().filter_map(|k| st.askers.remove(k)).flatten().collect();
                    drop(st);
                    fill(slots, &err);
                }
            }
        }
        slot
    }

    /// A helper: queued names until there are none.
    fn work(&'static self) {
        loop {
            let key = {
                let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
                loop {
                    let Some(key) = st.queue.pop_front() else {
                        st.threads -= 1;
                        return;
                    };
                    // Skip a name every asker has given up on (only our Arc is left).
                    let wanted = st.askers.get(&key).is_some_and(|v| v.iter().any(|s| Arc::strong_count(s) > 1));
                    if wanted {
                        break key;
                    }
                    st.askers.remove(&key);
                }
            };
            let res = (self.lookup)(&key.0, key.1);
            let slots = {
                let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
                st.askers.remove(&key).unwrap_or_default()
            };
            fill(slots, &res);
        }
    }
}

/// Resolve `host:port` (see the module doc). `deadline` is the connect deadline.
pub async fn resolve(r: &Reactor, host: &str, port: u16, deadline: Option<Instant>) -> Result<Vec<SocketAddr>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if let Some(a) = etc_hosts(bare, port) {
        return Ok(a);
    }
    wait_lookup(r, RESOLVER.submit(bare, port), host, deadline).await
}

/// Wait for `slot`'s answer within `deadline`.
async fn wait_lookup(r: &Reactor, slot: Lookup, host: &str, deadline: Option<Instant>) -> Result<Vec<SocketAddr>> {
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
        match connect_addr(r, addr, deadline, local).await {
            Ok(s) => return Ok(s),
            Err(e @ Error::ConnectTimeout(_)) if deadline.is_some_and(|d| Instant::now() >= d) => return Err(e),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::Connect(format!("no address of {host} answered"))))
}

/// A TCP connection to one resolved address within `deadline` (`ConnectTimeout`
/// once it has passed); TCP_NODELAY; bound to `local` first when given.
pub async fn connect_addr(
    r: &Reactor,
    addr: SocketAddr,
    deadline: Option<Instant>,
    local: Option<SocketAddr>,
) -> Result<TcpStream> {
    if deadline.is_some_and(|d| Instant::now() >= d) {
        return Err(Error::ConnectTimeout(format!("connecting to {addr}")));
    }
    let s = connect_one(r, addr, deadline, local).await?;
    s.set_nodelay(true).map_err(|e| Error::Connect(e.to_string()))?;
    Ok(s)
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
            // Not skipped even when the handshake is already done (loopback: a
            // getpeername would say so): the wait is what makes a burst of new
            // connections yield to the loop. Without it the whole exchange of each
            // runs in the first rounds of `perform` and 10,000 added at once hold one
            // call for seconds (tests/multi_scale.rs saw one 9 s perform).
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

/// A Unix-socket connection to `path` without blocking the loop, within `deadline`.
/// A listener whose backlog is full makes a non-blocking `connect` on Linux fail with
/// `EAGAIN` (not `EINPROGRESS`) and nothing wakes the socket when room frees up (an
/// unconnected AF_UNIX socket polls writable at once), so the connect is retried
/// after a short sleep on the reactor (1 ms, doubling up to 50 ms) until the
/// deadline: a `ConnectTimeout` then, as a TCP connect that gets no answer. Other
/// errors (no such file, refused: nobody listens) fail at once, as the blocking path.
pub async fn connect_unix(
    r: &Reactor,
    path: &std::path::Path,
    deadline: Option<Instant>,
) -> Result<std::os::unix::net::UnixStream> {
    let fail = |e: io::Error| Error::Connect(format!("connecting to {}: {e}", path.display()));
    let timeout =
        || Error::ConnectTimeout(format!("connecting to {}: the listener's backlog stayed full", path.display()));
    let addr = socket2::SockAddr::unix(path).map_err(fail)?;
    let sock = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM.nonblocking(), None).map_err(fail)?;
    r.fresh(sock.as_fd());
    let mut backoff = Duration::from_millis(1);
    loop {
        match sock.connect(&addr) {
            Ok(()) => break,
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
                let ready = WaitFd::new(r, sock.as_fd(), Interest::Write, deadline).await;
                r.forget(sock.as_fd());
                if !ready? {
                    return Err(timeout());
                }
                if let Some(e) = sock.take_error().map_err(fail)? {
                    return Err(fail(e));
                }
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let now = Instant::now();
                let mut until = now + backoff;
                if let Some(d) = deadline {
                    if now >= d {
                        return Err(timeout());
                    }
                    until = until.min(d);
                }
                Sleep::until(r, until).await;
                backoff = (backoff * 2).min(Duration::from_millis(50));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(fail(e)),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn leak(lookup: LookupFn, cap: usize) -> &'static Resolver {
        Box::leak(Box::new(Resolver { state: Mutex::default(), lookup, cap }))
    }

    /// Wait (bounded) until every slot has its answer.
    fn answers(slots: &[Lookup]) -> Vec<Result<Vec<SocketAddr>>> {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            if slots.iter().all(|s| s.lock().unwrap().0.is_some()) {
                return slots.iter().map(|s| s.lock().unwrap().0.take().unwrap()).collect();
            }
            assert!(Instant::now() < until, "lookups did not finish");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    static CUR: AtomicUsize = AtomicUsize::new(0);
    static PEAK: AtomicUsize = AtomicUsize::new(0);
    static CALLS: AtomicUsize = AtomicUsize::new(0);

    fn slow(name: &str, port: u16) -> Result<Vec<SocketAddr>> {
        let now = CUR.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(now, Ordering::SeqCst);
        CALLS.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(30));
        CUR.fetch_sub(1, Ordering::SeqCst);
        let last: u8 = name.trim_start_matches('n').parse().unwrap_or(0);
        Ok(vec![SocketAddr::new(IpAddr::from([127, 0, 0, last]), port)])
    }

    #[test]
    fn resolver_threads_capped_and_queue_drained() {
        let r = leak(slow, 3);
        let slots: Vec<Lookup> = (0..24).map(|i| r.submit(&format!("n{i}"), 80)).collect();
        assert!(r.state.lock().unwrap().threads <= 3);
        let got = answers(&slots);
        for (i, g) in got.into_iter().enumerate() {
            assert_eq!(g.unwrap(), vec![SocketAddr::new(IpAddr::from([127, 0, 0, i as u8]), 80)]);
        }
        assert_eq!(CALLS.load(Ordering::SeqCst), 24);
        assert!(PEAK.load(Ordering::SeqCst) <= 3, "peak {}", PEAK.load(Ordering::SeqCst));
        // The helpers exit once the queue is empty.
        let until = Instant::now() + Duration::from_secs(10);
        while r.state.lock().unwrap().threads > 0 {
            assert!(Instant::now() < until);
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(r.state.lock().unwrap().askers.is_empty());
    }

    static SAME_CALLS: AtomicUsize = AtomicUsize::new(0);

    fn counted(name: &str, port: u16) -> Result<Vec<SocketAddr>> {
        SAME_CALLS.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(50));
        if name == "bad" {
            return Err(Error::Resolve(format!("{name} (unknown)")));
        }
        Ok(vec![SocketAddr::new(IpAddr::from([127, 0, 0, 9]), port)])
    }

    #[test]
    fn identical_names_in_flight_share_one_lookup() {
        let r = leak(counted, 2);
        let mut slots: Vec<Lookup> = (0..10).map(|_| r.submit("same", 443)).collect();
        slots.extend((0..5).map(|_| r.submit("bad", 443)));
        let got = answers(&slots);
        assert_eq!(SAME_CALLS.load(Ordering::SeqCst), 2);
        for g in &got[..10] {
            assert_eq!(g.as_ref().unwrap()[0].port(), 443);
        }
        for g in &got[10..] {
            assert!(matches!(g, Err(Error::Resolve(_))));
        }
        // A queued name nobody waits for any more is skipped.
        let busy = r.submit("busy", 1); // takes one helper...
        let busy2 = r.submit("busy2", 1); // ...and the other
        drop(r.submit("abandoned", 1));
        answers(&[busy, busy2]);
        let until = Instant::now() + Duration::from_secs(10);
        while r.state.lock().unwrap().threads > 0 {
            assert!(Instant::now() < until);
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(SAME_CALLS.load(Ordering::SeqCst), 4, "the abandoned name was looked up");
    }
}

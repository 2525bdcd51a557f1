//! Byte streams to a server: TCP, Unix domain sockets, and TLS over either.
//!
//! `connect_tcp` tries every resolved address in turn within the connect timeout and
//! sets TCP_NODELAY. `Stream` knows how to set per-operation read/write timeouts on
//! its socket and how to tell, without blocking, whether an idle connection is still
//! usable (the peer may have closed it while it sat in the pool).

use std::io::{self, Read, Write};
use std::mem::MaybeUninit;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use rustls::{ClientConnection, StreamOwned};
use socket2::{SockRef, Socket};

use crate::deadline::{self, Guard, Waited, Want};
use crate::error::{Error, Result};

/// A socket driven by the one deadline-aware I/O primitive of the library.
///
/// Two ways to wait, chosen per send:
/// - with a cancel token or a total deadline (a [`Guard`]), every read and write is a
///   non-blocking syscall (`MSG_DONTWAIT`) and waits in [`deadline::wait_fd`]:
///   `poll()` on the socket and the token's eventfd, bounded by the operation's own
///   timeout, the current phase's deadline and the total deadline;
/// - without either (the common case), a blocking syscall bounded by
///   `SO_RCVTIMEO` / `SO_SNDTIMEO`, set to the operation's timeout or to what is left
///   of the phase (set only when it changes: one syscall per keep-alive request, as
///   before).
///
/// A phase is a span that must finish as a whole (the response head within the read
/// timeout, a proxy handshake within the connect timeout), however slowly the peer
/// drips its bytes. Writes always use `send(MSG_NOSIGNAL)` / `sendmsg(MSG_NOSIGNAL)`,
/// so a peer that closes never raises SIGPIPE in the host, whatever its signal
/// disposition (TLS records, which rustls writes with vectored writes, go through here
/// too).
pub struct Sock {
    s: Socket,
    read_to: Option<Duration>,
    write_to: Option<Duration>,
    /// Deadline of the current phase and its timeout message.
    phase: Option<(Instant, &'static str)>,
    guard: Guard,
    /// The kernel timeouts last set (None = not set yet).
    rcv_set: Option<Option<Duration>>,
    snd_set: Option<Option<Duration>>,
    /// The last operation was a write: the next guarded read (a response to what was
    /// just sent) almost surely has to wait, so it polls first and skips a read that
    /// would only return EAGAIN.
    after_write: bool,
    /// The peer address, when the socket was connected here (saves `getpeername`).
    peer: Option<SocketAddr>,
    /// Closing: writes (a TLS close_notify) are tried once without waiting.
    closing: bool,
    /// `is_idle_usable` peeks at the socket (the default; see `set_liveness_peek`).
    peek: bool,
}

/// A phase deadline this close to the operation's own timeout uses the latter (no
/// `setsockopt` per request); the phase may then overrun by at most this much.
const PHASE_SLOP: Duration = Duration::from_millis(5);

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, what.to_string())
}

const READ_TIMED_OUT: &str = "no data arrived within the read timeout";
const WRITE_TIMED_OUT: &str = "the peer did not accept data within the write timeout";

impl Sock {
    fn new(s: Socket) -> io::Result<Sock> {
        // One ioctl (socket2's set_nonblocking is fcntl F_GETFL + F_SETFL).
        rustix::io::ioctl_fionbio(&s, false)?;
        Ok(Sock::blocking(s, None, None))
    }

    /// A socket known to be blocking already (no `fcntl`), with the `SO_SNDTIMEO` it
    /// holds (`snd_set`, None = unknown) and its peer, when known.
    fn blocking(s: Socket, snd_set: Option<Option<Duration>>, peer: Option<SocketAddr>) -> Sock {
        Sock {
            s,
            read_to: None,
            write_to: None,
            phase: None,
            guard: Guard::default(),
            rcv_set: None,
            snd_set,
            after_write: false,
            peer,
            closing: false,
            peek: true,
        }
    }

    /// (peer, local) addresses of an IP socket (for `info::ConnInfo`).
    pub fn addrs(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        let peer = self.peer.or_else(|| self.s.peer_addr().ok().and_then(|a| a.as_socket()));
        (peer, self.s.local_addr().ok().and_then(|a| a.as_socket()))
    }

    pub fn from_tcp(t: TcpStream) -> io::Result<Sock> {
        Sock::new(Socket::from(t))
    }

    pub fn from_unix(u: UnixStream) -> io::Result<Sock> {
        Sock::new(Socket::from(std::os::fd::OwnedFd::from(u)))
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.s.as_fd()
    }

    /// Guarded wait for `want` within the operation's own deadline `op`.
    fn wait(&self, want: Want, op: Option<Instant>) -> io::Result<()> {
        let (limit, what) = match (op, self.phase) {
            (Some(o), Some((p, what))) if p < o => (Some(p), Some(what)),
            (None, Some((p, what))) => (Some(p), Some(what)),
            (o, _) => (o, None),
        };
        match deadline::wait_fd(self.fd(), want, &self.guard, limit)? {
            Waited::Ready => Ok(()),
            Waited::TimedOut => Err(timed_out(what.unwrap_or(match want {
                Want::Write => WRITE_TIMED_OUT,
                Want::Read => READ_TIMED_OUT,
            }))),
        }
    }

    fn op_deadline(t: Option<Duration>) -> Option<Instant> {
        t.map(|t| Instant::now() + t)
    }

    /// The kernel timeout for a blocking operation: its own, or what is left of the
    /// phase when that is shorter (then with the phase's message). `cur` is the
    /// timeout the kernel holds now: when it is at most [`PHASE_SLOP`] longer than
    /// what is left of the phase it is kept (no `setsockopt`; the phase may overrun
    /// by that much, as above): the connect leaves `SO_SNDTIMEO` at what was left of
    /// the connect deadline, which is also the TLS handshake's phase.
    fn blocking_timeout(
        &self,
        op: Option<Duration>,
        default_msg: &'static str,
        cur: Option<Option<Duration>>,
    ) -> io::Result<(Option<Duration>, &'static str)> {
        let Some((p, what)) = self.phase else { return Ok((op, default_msg)) };
        let left = p.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out(what));
        }
        match op {
            Some(o) if o <= left + PHASE_SLOP => Ok((Some(o), default_msg)),
            _ => match cur {
                Some(Some(c)) if c >= left && c <= left + PHASE_SLOP => Ok((Some(c), what)),
                _ => Ok((Some(left), what)),
            },
        }
    }

    fn read_blocking(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (to, msg) = self.blocking_timeout(self.read_to, READ_TIMED_OUT, self.rcv_set)?;
        if self.rcv_set != Some(to) {
            self.s.set_read_timeout(to.map(nonzero))?;
            self.rcv_set = Some(to);
        }
        loop {
            match (&self.s).read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    return Err(timed_out(msg))
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn send_timeout(&mut self) -> io::Result<&'static str> {
        let (to, msg) = self.blocking_timeout(self.write_to, WRITE_TIMED_OUT, self.snd_set)?;
        if self.snd_set != Some(to) {
            self.s.set_write_timeout(to.map(nonzero))?;
            self.snd_set = Some(to);
        }
        Ok(msg)
    }

    /// One send: `f(flags)` is the syscall. Blocking (kernel timeout) without a
    /// guard, non-blocking + poll with one.
    fn send_with(&mut self, f: impl Fn(&Socket, i32) -> io::Result<usize>) -> io::Result<usize> {
        self.guard.check_io()?;
        if self.closing {
            return f(&self.s, libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT);
        }
        if !self.guard.is_set() {
            let msg = self.send_timeout()?;
            loop {
                match f(&self.s, libc::MSG_NOSIGNAL) {
                    Ok(n) => return Ok(n),
                    Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                        return Err(timed_out(msg))
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let mut op = None;
        loop {
            match f(&self.s, libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT) {
                Ok(n) => {
                    self.after_write = true;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let o = *op.get_or_insert_with(|| Sock::op_deadline(self.write_to));
                    self.wait(Want::Write, o)?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.guard.check_io()?;
        if !self.guard.is_set() {
            return self.read_blocking(buf);
        }
        let mut op = None;
        if std::mem::take(&mut self.after_write) {
            let o = *op.get_or_insert_with(|| Sock::op_deadline(self.read_to));
            self.wait(Want::Read, o)?;
        }
        loop {
            match rustix::net::recv(&self.s, &mut *buf, rustix::net::RecvFlags::DONTWAIT) {
                Ok((n, _)) => return Ok(n),
                Err(rustix::io::Errno::AGAIN) => {
                    let o = *op.get_or_insert_with(|| Sock::op_deadline(self.read_to));
                    self.wait(Want::Read, o)?;
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.send_with(|s, flags| s.send_with_flags(buf, flags))
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.send_with(|s, flags| s.send_vectored_with_flags(bufs, flags))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn nonzero(d: Duration) -> Duration {
    if d.is_zero() {
        Duration::from_micros(1)
    } else {
        d
    }
}

/// A connected byte stream.
pub enum Stream {
    Tcp(Sock),
    Unix(Sock),
    Tls(Box<StreamOwned<ClientConnection, Stream>>),
}

impl Stream {
    /// Wrap a connected TCP socket (made non-blocking).
    pub fn tcp(t: TcpStream) -> Result<Stream> {
        Sock::from_tcp(t).map(Stream::Tcp).map_err(|e| Error::Connect(e.to_string()))
    }

    /// [`Stream::tcp`] of a fresh connection to `peer` (the multi's non-blocking
    /// connect): one ioctl to blocking, the peer known (no `getpeername` for the info),
    /// no `SO_SNDTIMEO` set yet.
    pub fn tcp_to(t: TcpStream, peer: SocketAddr) -> Result<Stream> {
        let s = Socket::from(t);
        rustix::io::ioctl_fionbio(&s, false).map_err(|e| Error::Connect(e.to_string()))?;
        Ok(Stream::Tcp(Sock::blocking(s, Some(None), Some(peer))))
    }

    /// Wrap a connected Unix socket (made non-blocking).
    pub fn unix(u: UnixStream) -> Result<Stream> {
        Sock::from_unix(u).map(Stream::Unix).map_err(|e| Error::Connect(e.to_string()))
    }

    fn base(&self) -> &Sock {
        match self {
            Stream::Tcp(s) | Stream::Unix(s) => s,
            Stream::Tls(t) => t.sock.base(),
        }
    }

    fn base_mut(&mut self) -> &mut Sock {
        match self {
            Stream::Tcp(s) | Stream::Unix(s) => s,
            Stream::Tls(t) => t.sock.base_mut(),
        }
    }

    fn sock(&self) -> SockRef<'_> {
        SockRef::from(&self.base().s)
    }

    /// Per-operation read timeout (each read waits at most this long).
    pub fn set_read_timeout(&mut self, d: Option<Duration>) -> io::Result<()> {
        self.base_mut().read_to = d;
        Ok(())
    }

    /// Per-operation write timeout.
    pub fn set_write_timeout(&mut self, d: Option<Duration>) -> io::Result<()> {
        self.base_mut().write_to = d;
        Ok(())
    }

    /// The total deadline and cancel token every later operation obeys.
    pub fn set_guard(&mut self, g: &Guard) {
        self.base_mut().guard = g.clone();
    }

    /// A deadline for a whole phase (`what` is the timeout message); None ends it.
    pub fn set_phase(&mut self, deadline: Option<Instant>, what: &'static str) {
        self.base_mut().phase = deadline.map(|d| (d, what));
    }

    /// Whether the next [`Stream::is_idle_usable`] peeks at the socket (the pool
    /// turns it off for a connection released an instant ago to a request it may
    /// retry: see `Pool::checkout_for`).
    pub fn set_liveness_peek(&mut self, on: bool) {
        self.base_mut().peek = on;
    }

    /// Is this idle connection still fit to carry a new request? False when the peer
    /// closed it, reset it, or sent unexpected bytes (nothing should arrive on an idle
    /// HTTP/1.1 connection). Costs one non-blocking `recv(MSG_PEEK)`, unless
    /// [`Stream::set_liveness_peek`] turned it off (then only a TLS record still
    /// waiting to be sent makes it unusable).
    pub fn is_idle_usable(&self) -> bool {
        if let Stream::Tls(t) = self {
            if t.conn.wants_write() {
                return false;
            }
        }
        if !self.base().peek {
            return true;
        }
        let mut b = [MaybeUninit::<u8>::uninit(); 1];
        match self.sock().recv_with_flags(&mut b, libc::MSG_PEEK | libc::MSG_DONTWAIT) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => true,
            _ => false,
        }
    }

    /// Close: a TLS stream sends close_notify first, without waiting for it (one
    /// non-blocking send: a peer that does not take 24 bytes gets none; never when
    /// the token fired: a cancelled connection just closes).
    pub fn shutdown(&mut self) {
        if let Stream::Tls(t) = self {
            let base = t.sock.base_mut();
            if !base.guard.is_fired() {
                base.closing = true;
                t.conn.send_close_notify();
                let _ = t.conn.complete_io(&mut t.sock);
            }
        }
        let _ = self.sock().shutdown(std::net::Shutdown::Both);
    }

    /// Like `read`, but a TLS peer that closes without close_notify is reported as an
    /// `UnexpectedEof` error (for close-delimited bodies, where it means truncation).
    pub fn read_strict_eof(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tls(t) => t.read(buf),
            s => s.read(buf),
        }
    }

    /// The socket under every layer (TLS, tunnels), for an event loop's own
    /// non-blocking I/O and readiness registration (`multi`).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.base().fd()
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    /// The plain TCP socket of this stream (for the HTTP/2 runtime, which does its
    /// own TLS); None for a Unix or TLS stream.
    pub fn into_tcp(self) -> Option<TcpStream> {
        match self {
            Stream::Tcp(s) => Some(TcpStream::from(s.s)),
            _ => None,
        }
    }

    /// ALPN protocol negotiated on a TLS stream.
    pub fn alpn(&self) -> Option<Vec<u8>> {
        match self {
            Stream::Tls(t) => t.conn.alpn_protocol().map(|p| p.to_vec()),
            _ => None,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) | Stream::Unix(s) => s.read(buf),
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
            Stream::Tcp(s) | Stream::Unix(s) => s.write(buf),
            Stream::Tls(t) => t.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) | Stream::Unix(s) => s.write_vectored(bufs),
            Stream::Tls(t) => t.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) | Stream::Unix(s) => s.flush(),
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
    connect_tcp_guarded(host, port, timeout, local, &Guard::default())
}

/// [`connect_tcp`] that also stops when `guard`'s token fires or its total deadline
/// passes, in DNS and in connect (see [`resolve`] for DNS). The socket is blocking.
pub fn connect_tcp_guarded(
    host: &str,
    port: u16,
    timeout: Option<Duration>,
    local: Option<SocketAddr>,
    guard: &Guard,
) -> Result<TcpStream> {
    connect_tcp_inner(host, port, timeout, local, guard).map(|c| c.sock.into())
}

/// [`connect_tcp_guarded`] as a [`Stream`] that knows its peer address and the
/// `SO_SNDTIMEO` the connect left on the socket (so the first write does not set it
/// again when the write timeout is the connect timeout).
pub fn connect_tcp_stream(
    host: &str,
    port: u16,
    timeout: Option<Duration>,
    local: Option<SocketAddr>,
    guard: &Guard,
) -> Result<Stream> {
    let c = connect_tcp_inner(host, port, timeout, local, guard)?;
    Ok(Stream::Tcp(Sock::blocking(c.sock, c.snd_set, Some(c.peer))))
}

/// A TCP connection [`connect_one`] made: a blocking socket, its peer, and the
/// `SO_SNDTIMEO` left on it (None = not known).
struct Connected {
    sock: Socket,
    peer: SocketAddr,
    snd_set: Option<Option<Duration>>,
}

fn connect_tcp_inner(
    host: &str,
    port: u16,
    timeout: Option<Duration>,
    local: Option<SocketAddr>,
    guard: &Guard,
) -> Result<Connected> {
    guard.check()?;
    let deadline = timeout.map(|t| Instant::now() + t);
    let host_for_resolve = host.trim_start_matches('[').trim_end_matches(']');
    let addrs = resolve(host_for_resolve, port, deadline, guard)?;
    crate::info::mark_dns();
    if addrs.is_empty() {
        return Err(Error::Resolve(format!("{host} resolved to no address")));
    }
    let mut last_err = None;
    for addr in &addrs {
        remaining(deadline, || Error::ConnectTimeout(format!("connecting to {host}:{port}")))?;
        match connect_one(*addr, deadline, local, guard) {
            Ok(c) => {
                crate::info::mark_tcp();
                c.sock.set_nodelay(true).map_err(|e| Error::Connect(e.to_string()))?;
                return Ok(c);
            }
            Err(e @ (Error::Cancelled(_) | Error::TotalTimeout(_))) => return Err(e),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| Error::Connect(format!("no address of {host} answered"))))
}

/// Resolve a host name. IP literals never reach the resolver. `getaddrinfo` cannot
/// be interrupted, so when a total deadline or a cancel token is in force the lookup
/// runs on a short-lived helper thread and the caller waits for it, the token, the
/// connect deadline or the total deadline, whichever comes first; a lookup given up
/// that way finishes in the background and its answer is dropped. Without either,
/// the lookup runs on the calling thread as before.
pub fn resolve(host: &str, port: u16, connect_deadline: Option<Instant>, guard: &Guard) -> Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let lookup = move |h: &str| -> Result<Vec<SocketAddr>> {
        (h, port)
            .to_socket_addrs()
            .map(|a| a.collect())
            .map_err(|e| Error::Resolve(format!("{h} ({})", crate::info::resolve_reason(&e))))
    };
    if !guard.is_set() {
        return lookup(host);
    }
    enum Msg {
        Done(Result<Vec<SocketAddr>>),
        Fired,
    }
    let (tx, rx) = std::sync::mpsc::channel::<Msg>();
    let owned = host.to_string();
    let tx2 = tx.clone();
    std::thread::Builder::new()
        .name("httpx-resolve".into())
        .spawn(move || {
            let _ = tx.send(Msg::Done(lookup(&owned)));
        })
        .map_err(|e| Error::Connect(format!("cannot start a resolver thread: {e}")))?;
    let _reg = guard.cancel.as_ref().map(|c| {
        let tx2 = std::sync::Mutex::new(tx2);
        c.on_fire(move || {
            if let Ok(t) = tx2.lock() {
                let _ = t.send(Msg::Fired);
            }
        })
    });
    let (until, total) = guard.bound(connect_deadline);
    guard.check()?;
    let msg = match until {
        None => rx.recv().map_err(|_| ()),
        Some(u) => match rx.recv_timeout(u.saturating_duration_since(Instant::now())) {
            Ok(m) => Ok(m),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                return Err(if total {
                    deadline::total_expired()
                } else {
                    Error::ConnectTimeout(format!("resolving {host} took longer than the connect timeout"))
                })
            }
            Err(_) => Err(()),
        },
    };
    match msg {
        Ok(Msg::Done(r)) => r,
        Ok(Msg::Fired) => Err(deadline::cancelled()),
        Err(()) => Err(Error::Connect(format!("resolver for {host} failed"))),
    }
}

/// Connect to one address within `deadline`. The socket returned is blocking.
///
/// Without a guard (no cancel token, no total deadline: the common case) a blocking
/// `connect` bounded by `SO_SNDTIMEO`: Linux honours it for connect and fails with
/// EINPROGRESS when it expires (4 syscalls fewer than the guarded way: no `poll`, no
/// `SO_ERROR` read, no non-blocking round trip). With a guard, a non-blocking connect
/// and [`deadline::wait_fd`], which also wakes on the token and the total deadline.
fn connect_one(
    addr: SocketAddr,
    deadline: Option<Instant>,
    local: Option<SocketAddr>,
    guard: &Guard,
) -> Result<Connected> {
    if !guard.is_set() {
        return connect_one_blocking(addr, deadline, local);
    }
    let fail = |e: io::Error| {
        let lib = Error::from_read(e);
        match lib {
            Error::Cancelled(_) | Error::TotalTimeout(_) => lib,
            Error::ReadTimeout(m) => Error::ConnectTimeout(format!("connecting to {addr}: {m}")),
            other => Error::Connect(format!("connecting to {addr}: {}", other_msg(&other))),
        }
    };
    let domain = socket2::Domain::for_address(addr);
    // Non-blocking from the start (SOCK_NONBLOCK): no fcntl round trip per connection.
    let sock = Socket::new(domain, socket2::Type::STREAM.nonblocking(), Some(socket2::Protocol::TCP))
        .map_err(|e| Error::Connect(e.to_string()))?;
    if let Some(local) = local {
        sock.bind(&local.into()).map_err(|e| Error::Connect(format!("binding {local}: {e}")))?;
    }
    match sock.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) || e.kind() == io::ErrorKind::WouldBlock => {
            match deadline::wait_fd(sock.as_fd(), Want::Write, guard, deadline).map_err(fail)? {
                Waited::TimedOut => {
                    return Err(Error::ConnectTimeout(format!("connecting to {addr}: no answer in time")))
                }
                Waited::Ready => {}
            }
            if let Some(e) = sock.take_error().map_err(|e| Error::Connect(e.to_string()))? {
                return Err(Error::Connect(format!("connecting to {addr}: {e}")));
            }
        }
        Err(e) => return Err(Error::Connect(format!("connecting to {addr}: {e}"))),
    }
    // Blocking at rest (an unguarded send on this pooled connection later relies on
    // SO_RCVTIMEO / SO_SNDTIMEO): one ioctl.
    rustix::io::ioctl_fionbio(&sock, false).map_err(|e| Error::Connect(e.to_string()))?;
    Ok(Connected { sock, peer: addr, snd_set: None })
}

/// What is left of the connect deadline, rounded up to whole milliseconds (the
/// kernel counts in jiffies of 1-4 ms anyway): a connect started within a millisecond
/// of the deadline's computation gets the whole connect timeout, so `SO_SNDTIMEO`
/// already holds the write timeout when the two are equal (HTTPX's default: 5 s
/// each) and the first write does not set it again.
fn ceil_ms(d: Duration) -> Duration {
    Duration::from_millis(u64::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX))
}

fn connect_one_blocking(addr: SocketAddr, deadline: Option<Instant>, local: Option<SocketAddr>) -> Result<Connected> {
    let timed_out = || Error::ConnectTimeout(format!("connecting to {addr}: no answer in time"));
    let domain = socket2::Domain::for_address(addr);
    let sock = Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))
        .map_err(|e| Error::Connect(e.to_string()))?;
    if let Some(local) = local {
        sock.bind(&local.into()).map_err(|e| Error::Connect(format!("binding {local}: {e}")))?;
    }
    let snd = match deadline {
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(timed_out());
            }
            let to = ceil_ms(left);
            sock.set_write_timeout(Some(to)).map_err(|e| Error::Connect(e.to_string()))?;
            Some(to)
        }
        None => None,
    };
    match sock.connect(&addr.into()) {
        Ok(()) => {}
        // SO_SNDTIMEO expired (the connect goes on in the kernel; closing drops it).
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) || e.kind() == io::ErrorKind::WouldBlock => {
            return Err(timed_out())
        }
        // A signal interrupted the wait; the connect goes on: wait for it like the
        // non-blocking path does.
        Err(e) if e.kind() == io::ErrorKind::Interrupted => {
            match deadline::wait_fd(sock.as_fd(), Want::Write, &Guard::default(), deadline)
                .map_err(|e| Error::Connect(format!("connecting to {addr}: {e}")))?
            {
                Waited::TimedOut => return Err(timed_out()),
                Waited::Ready => {}
            }
            if let Some(e) = sock.take_error().map_err(|e| Error::Connect(e.to_string()))? {
                return Err(Error::Connect(format!("connecting to {addr}: {e}")));
            }
        }
        Err(e) => return Err(Error::Connect(format!("connecting to {addr}: {e}"))),
    }
    Ok(Connected { sock, peer: addr, snd_set: Some(snd) })
}

fn other_msg(e: &Error) -> String {
    match e {
        Error::Read(m) | Error::Tls(m) => m.clone(),
        other => other.to_string(),
    }
}

/// Connect to a Unix domain socket.
pub fn connect_unix(path: &Path) -> Result<UnixStream> {
    UnixStream::connect(path).map_err(|e| Error::Connect(format!("connecting to {}: {e}", path.display())))
}

/// Connection facts of an open stream (`info` names no stream type, so that
/// `connection` may report to it without an import cycle).
fn addrs(s: &Stream) -> (Option<std::net::SocketAddr>, Option<std::net::SocketAddr>) {
    match s {
        Stream::Tcp(t) => t.addrs(),
        Stream::Unix(_) => (None, None),
        Stream::Tls(t) => addrs(&t.sock),
    }
}

impl crate::info::ConnInfo {
    /// Addresses and TLS parameters of an open stream (two syscalls).
    pub fn of_stream(s: &Stream) -> crate::info::ConnInfo {
        let (remote, local) = addrs(s);
        let mut info = crate::info::ConnInfo { remote, local, ..crate::info::ConnInfo::default() };
        if let Stream::Tls(t) = s {
            crate::info::tls_parts(&t.conn, &mut info);
        }
        info
    }
}

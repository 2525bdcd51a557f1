//! HTTP/1.1 through the client's network transport, from the event loop: the same
//! pool (checkout queued when full, within the pool timeout), the same connector
//! chain and proxy choice as `transport/http.rs`, the sans-IO codec of `http1::codec`
//! driven with non-blocking I/O, the same retry of an idempotent request whose reused
//! connection turned out dead, and the same info, timings, trace and debug events.
//! The response comes back with its raw body in memory (capped by the client's body
//! size); its connection is back in the pool (or closed) before the transfer goes on.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::{Duration, Instant};

use crate::cancel::Registration;
use crate::connect::{Dialer, Target};
use crate::connection::Stream;
use crate::deadline::Guard;
use crate::debug::DebugKind;
use crate::error::{Error, Result};
use crate::headers::Headers;
use crate::http1::codec::{self, BodyEncoder, BodyEvent, BodyWrite, HeadEvent, HeadParser};
use crate::http1::{Conn, Framing, Head};
use crate::info::{Capture, ConnInfo, Timing};
use crate::observe::TraceEvent;
use crate::pool::{Checkout, Pool, PoolKey};
use crate::proxy::ProxyConfig;
use crate::request::{BodySource, Request};
use crate::response::{BytesBody, RawBody, Response};
use crate::transport::http::{self as th, HttpTransport};
use crate::transport::SendContext;
use crate::urls;

use super::io as mio;
use super::net;
use super::reactor::{Reactor, TimerId};

const READ_TIMED_OUT: &str = "no data arrived within the read timeout";
const HEAD_TIMED_OUT: &str = "the response head did not arrive within the read timeout (a limit for the whole head)";
const WRITE_TIMED_OUT: &str = "the peer did not accept data within the write timeout";

/// Run `fut` bounded by `guard`: it stops with `Cancelled` as soon as the token fires
/// (from any thread: the fire wakes the task) and with `TotalTimeout` when the total
/// deadline passes (a timer). Dropping `fut` closes whatever connection it held.
///
/// `fut` comes pinned by the caller (`pin!`): a future moved in here would be held
/// twice in this one's state (the argument and its pinned copy).
pub async fn guarded<T, F: Future<Output = Result<T>>>(r: &Reactor, guard: &Guard, mut fut: Pin<&mut F>) -> Result<T> {
    let mut timer: Option<TimerId> = None;
    let mut reg: Option<Registration> = None;
    let out = std::future::poll_fn(|cx| {
        if let Err(e) = guard.check() {
            return Poll::Ready(Err(e));
        }
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(v);
        }
        if let Some(d) = guard.deadline {
            match &timer {
                Some(t) => r.update_timer(t, cx.waker()),
                None => timer = Some(r.add_timer(d, cx.waker())),
            }
        }
        if let (Some(c), None) = (&guard.cancel, &reg) {
            let w = cx.waker().clone();
            reg = Some(c.on_fire(move || w.wake_by_ref()));
        }
        Poll::Pending
    })
    .await;
    if let Some(t) = timer {
        r.cancel_timer(t);
    }
    drop(reg);
    out
}

/// A connection checked out to this transfer: its socket leaves the reactor when it
/// goes back to the pool or is dropped (a cancelled transfer closes it).
struct Lease<'r> {
    r: &'r Reactor,
    conn: Option<Conn>,
}

impl Lease<'_> {
    fn take(&mut self) -> Option<Conn> {
        let c = self.conn.take();
        if let Some(c) = &c {
            self.r.forget(c.stream.fd());
        }
        c
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

/// A checkout from the pool without blocking: queued (first come, first served) when
/// the pool is full, up to the pool timeout.
pub(super) async fn checkout(
    pool: &Pool,
    key: PoolKey,
    timeout: Option<Duration>,
    r: &Reactor,
    retryable: bool,
) -> Result<Checkout> {
    /// Leaves the queue and drops the timer however the wait ends (a cancelled
    /// transfer's future is dropped while it waits).
    struct Waiting<'a> {
        pool: &'a Pool,
        r: &'a Reactor,
        ticket: Option<u64>,
        timer: Option<TimerId>,
    }
    impl Drop for Waiting<'_> {
        fn drop(&mut self) {
            if let Some(t) = self.timer.take() {
                self.r.cancel_timer(t);
            }
            self.pool.cancel_wait(&mut self.ticket);
        }
    }
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut w = Waiting { pool, r, ticket: None, timer: None };
    let max = pool.max_connections();
    std::future::poll_fn(move |cx| {
        match w.pool.try_checkout(&key, &mut w.ticket, cx.waker(), retryable) {
            Err(e) => return Poll::Ready(Err(e)),
            Ok(Some(c)) => return Poll::Ready(Ok(c)),
            Ok(None) => {}
        }
        if let Some(d) = deadline {
            if Instant::now() >= d {
                return Poll::Ready(Err(Error::PoolTimeout(format!("all {max} connections are in use"))));
            }
            match &w.timer {
                Some(t) => w.r.update_timer(t, cx.waker()),
                None => w.timer = Some(w.r.add_timer(d, cx.waker())),
            }
        }
        Poll::Pending
    })
    .await
}

/// Send `req` through `h` over HTTP/1.1 (see the module doc).
pub async fn send(
    r: &Reactor,
    h: &HttpTransport,
    req: Request,
    ctx: &SendContext,
    body_cap: Option<u64>,
) -> Result<Response> {
    let inner = pin!(send_inner(r, h, req, ctx, body_cap));
    guarded(r, &ctx.guard, inner).await.map_err(|e| ctx.guard.classify(e))
}

async fn send_inner(
    r: &Reactor,
    h: &HttpTransport,
    req: Request,
    ctx: &SendContext,
    body_cap: Option<u64>,
) -> Result<Response> {
    urls::check_http(&req.url)?;
    ctx.guard.check()?;
    let (pool, dialer) = h.parts();
    let url = req.url.clone();
    let proxy = h.proxy_for(&url);
    let retry_ok = th::is_idempotent(&req.method) && !matches!(req.body, crate::request::Body::Stream { .. });
    let peer = || crate::info::peer_of(&url);
    let obs = &ctx.observers;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let key = h.key_for(&url, proxy, dialer.tls.id);
        let mut co = checkout(pool, key, ctx.timeouts.pool, r, retry_ok && attempts == 1)
            .await
            .map_err(|e| th::explain(e, &peer(), ctx))?;
        let mut cap = Capture::new(ctx.started);
        cap.queued();
        let (host, port) = (co.key.host.clone(), co.key.port);
        let (conn, forward) = match co.conn.take() {
            Some(c) => {
                obs.trace(TraceEvent::ConnectionReused, ctx.started.elapsed(), &host);
                cap.reused(obs, &host, port, c.info.clone());
                let fwd = proxy.is_some_and(|p| !p.tunnels(url.scheme() == "https"));
                (c, fwd)
            }
            None => {
                let target = if obs.trace.is_some() { format!("{host}:{port}") } else { String::new() };
                obs.trace(TraceEvent::ConnectStart, ctx.started.elapsed(), &target);
                cap.connecting(obs, &host, port, proxy.map(|p| (th::proxy_scheme(p), p.host.as_str(), p.port)));
                // Boxed: the chain's futures (TLS, proxy handshakes) are large and only
                // needed for a new connection; a keep-alive request does not carry them.
                let (mut conn, forward, marks) =
                    Box::pin(dial(r, dialer, th::target(&url), proxy, ctx.timeouts.connect, obs))
                        .await
                        .map_err(|e| th::explain(e, &peer(), ctx))?;
                crate::info::reset_marks();
                conn.info = Some(cap.connected(obs, &host, port, ConnInfo::of_stream(&conn.stream)));
                if let Some(d) = marks.dns {
                    cap.info.timings.set_at(Timing::Dns, ctx.started, d);
                }
                if let Some(t) = marks.tcp {
                    cap.info.timings.set_at(Timing::Connect, ctx.started, t);
                }
                if conn.stream.is_tls() {
                    obs.trace(TraceEvent::TlsDone, ctx.started.elapsed(), &host);
                }
                obs.trace(TraceEvent::Connected, ctx.started.elapsed(), &target);
                (conn, forward)
            }
        };
        let reused = co.reused;
        let mut lease = Lease { r, conn: Some(conn) };
        let result = {
            let Some(conn) = lease.conn.as_mut() else { return Err(Error::Internal("lease".into())) };
            conn.debug.clone_from(&obs.debug);
            exchange(r, conn, &req, forward, proxy, ctx, &mut cap, body_cap).await
        };
        let conn = lease.take();
        match result {
            Ok((head, body, reusable)) => {
                match conn {
                    Some(mut c) => {
                        c.debug = None;
                        if reusable {
                            co.release(c);
                        } else {
                            obs.debug_text(|| format!("Closing connection to {host}:{port}"));
                            co.discard(Some(c));
                        }
                    }
                    None => co.discard(None),
                }
                let mut resp =
                    Response::new(head.status, head.reason, head.version, head.headers, body, req, ctx.started);
                resp.info = cap.finish(ctx.timeouts.read);
                return Ok(resp);
            }
            Err((e, nothing_received)) => {
                co.discard(conn);
                if th::retry_on_new_connection(&e, reused, nothing_received, retry_ok, attempts) {
                    obs.debug_text(|| format!("Connection died ({e}), retrying on a new connection"));
                    continue;
                }
                obs.debug_text(|| format!("Closing connection to {}", peer()));
                return Err(th::explain(e, &peer(), ctx));
            }
        }
    }
}

/// When name resolution and the TCP connect finished (timings).
#[derive(Default)]
pub(super) struct Marks {
    pub(super) dns: Option<Instant>,
    pub(super) tcp: Option<Instant>,
}

/// The connector chain of `connect::Dialer` for HTTP/1.1, from the event loop, with
/// the transport's connect retries (backoff 0.5 s, 1 s, ...) within the connect timeout.
async fn dial(
    r: &Reactor,
    d: &Dialer,
    t: Target<'_>,
    proxy: Option<&ProxyConfig>,
    connect_timeout: Option<Duration>,
    obs: &crate::observe::Observers,
) -> Result<(Conn, bool, Marks)> {
    let deadline = connect_timeout.map(|c| Instant::now() + c);
    let mut attempt = 0;
    loop {
        match dial_once(r, d, t, proxy, deadline).await {
            Err(Error::Connect(_) | Error::Resolve(_)) if attempt < d.retries => {
                let backoff = Duration::from_millis(500u64 << attempt.min(6));
                obs.debug_text(|| {
                    format!("Connect failed, retrying in {} (attempt {})", crate::info::secs_text(backoff), attempt + 2)
                });
                let left = crate::connection::remaining(deadline, || {
                    Error::ConnectTimeout(format!("connecting to {}:{}", t.host, t.port))
                })?;
                net::sleep(r, left.map_or(backoff, |l| l.min(backoff))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

async fn dial_once(
    r: &Reactor,
    d: &Dialer,
    t: Target<'_>,
    proxy: Option<&ProxyConfig>,
    deadline: Option<Instant>,
) -> Result<(Conn, bool, Marks)> {
    let (base, forward, marks) = dial_base(r, d, t, proxy, deadline).await?;
    if forward || !t.https {
        return Ok((Conn::new(base), forward, marks));
    }
    let s = net::tls_handshake(r, &d.tls, t.host, base, deadline).await?;
    Ok((Conn::new(s), false, marks))
}

/// The chain up to TLS to the origin: the proxy (with its handshake), a Unix socket,
/// or TCP. `.1`: a forwarding proxy (requests in absolute form, no TLS to the origin).
pub(super) async fn dial_base(
    r: &Reactor,
    d: &Dialer,
    t: Target<'_>,
    proxy: Option<&ProxyConfig>,
    deadline: Option<Instant>,
) -> Result<(Stream, bool, Marks)> {
    let mut marks = Marks::default();
    let base = if let Some(p) = proxy {
        let s = net::proxy_connect(r, p, &d.proxy_tls, t.host, t.port, t.https, deadline, d.local_address).await?;
        marks.tcp = Some(Instant::now());
        if !p.tunnels(t.https) {
            return Ok((s, true, marks));
        }
        s
    } else if let Some(path) = &d.uds {
        let s = Stream::unix(net::connect_unix(r, path, deadline).await?)?;
        marks.tcp = Some(Instant::now());
        s
    } else {
        let addrs = net::resolve(r, t.host, t.port, deadline).await?;
        marks.dns = Some(Instant::now());
        let s = connect_addrs(r, t.host, t.port, &addrs, deadline, d.local_address).await?;
        marks.tcp = Some(Instant::now());
        Stream::tcp_to(s.0, s.1)?
    };
    Ok((base, false, marks))
}

async fn connect_addrs(
    r: &Reactor,
    host: &str,
    port: u16,
    addrs: &[SocketAddr],
    deadline: Option<Instant>,
    local: Option<SocketAddr>,
) -> Result<(std::net::TcpStream, SocketAddr)> {
    if addrs.is_empty() {
        return Err(Error::Resolve(format!("{host} resolved to no address")));
    }
    let mut last = None;
    for a in addrs {
        let a = SocketAddr::new(a.ip(), port);
        match net::connect_addr(r, a, deadline, local).await {
            Ok(s) => return Ok((s, a)),
            Err(e @ Error::ConnectTimeout(_)) => return Err(e),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::Connect(format!("no address of {host} answered"))))
}

/// A body the multi read into memory, its bytes already shown and reported as they
/// arrived ([`Arrivals`]); a failure while reading it comes out of the read after
/// the bytes that did arrive, as it would from the blocking transport's body.
pub(super) struct MultiBody {
    data: Vec<u8>,
    pos: usize,
    failure: Option<Error>,
}

impl MultiBody {
    pub(super) fn boxed(data: Vec<u8>, failure: Option<Error>) -> Box<dyn RawBody> {
        Box::new(MultiBody { data, pos: 0, failure })
    }
}

impl RawBody for MultiBody {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        if self.pos < self.data.len() {
            let n = buf.len().min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        match self.failure.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }

    fn observed(&self) -> bool {
        true
    }
}

/// Response body bytes as they arrive: shown to the debug hook (`DataIn`) and
/// reported to the progress callback with the arguments the blocking client's body
/// reader gives (`response.rs` `RawReader` and `Response::report`: bytes sent, send
/// total, body bytes received so far, the announced Content-Length). The body built
/// from them is a [`MultiBody`], which the response does not report again.
pub(super) struct Arrivals<'a> {
    obs: &'a crate::observe::Observers,
    sent: Option<u64>,
    total: Option<u64>,
    recv: u64,
}

impl<'a> Arrivals<'a> {
    pub(super) fn new(obs: &'a crate::observe::Observers, sent: Option<u64>, headers: &Headers) -> Arrivals<'a> {
        let total = match obs.progress {
            Some(_) => headers.get("Content-Length").and_then(|v| v.trim().parse::<u64>().ok()),
            None => None,
        };
        Arrivals { obs, sent, total, recv: 0 }
    }

    /// `b` arrived (de-framed body bytes). Err when the progress callback aborts.
    pub(super) fn data(&mut self, b: &[u8]) -> Result<()> {
        if b.is_empty() {
            return Ok(());
        }
        if let Some(d) = &self.obs.debug {
            d(DebugKind::DataIn, b);
        }
        self.recv += b.len() as u64;
        if let Some(p) = &self.obs.progress {
            if !p(self.sent.unwrap_or(0), self.sent, self.recv, self.total) {
                return Err(Error::Callback("transfer aborted by the progress callback".into()));
            }
        }
        Ok(())
    }
}

type Exchanged = (Head, Box<dyn RawBody>, bool);

/// Write the request, read the head and the body. Err says also whether nothing of
/// the response had arrived (then an idempotent request may be retried).
#[allow(clippy::too_many_arguments)]
async fn exchange(
    r: &Reactor,
    conn: &mut Conn,
    req: &Request,
    forward: bool,
    proxy: Option<&ProxyConfig>,
    ctx: &SendContext,
    cap: &mut Capture,
    body_cap: Option<u64>,
) -> std::result::Result<Exchanged, (Error, bool)> {
    let body = req.body.open().map_err(|e| (e, false))?;
    let total = req.body.len();
    let (target, headers) = crate::proxy::forward::request_parts(&req.url, &req.headers, forward, proxy);
    // The connection's own buffers (as the blocking `Conn` reuses them): nothing
    // allocated per exchange. Dropped with the connection if this future is.
    let (buf, start, end, mut w) = conn.take_buffers();
    let mut rb = ReadBuf { buf, start, end };
    let out = exchange_bufs(r, conn, &mut rb, &mut w, req, &target, &headers, body, total, ctx, cap, body_cap).await;
    conn.put_buffers(rb.buf, rb.start, rb.end, w);
    out
}

#[allow(clippy::too_many_arguments)]
async fn exchange_bufs(
    r: &Reactor,
    conn: &mut Conn,
    rb: &mut ReadBuf,
    w: &mut Vec<u8>,
    req: &Request,
    target: &str,
    headers: &Headers,
    body: BodySource,
    total: Option<u64>,
    ctx: &SendContext,
    cap: &mut Capture,
    body_cap: Option<u64>,
) -> std::result::Result<Exchanged, (Error, bool)> {
    if let Err(e) = write_request(r, conn, w, &req.method, target, headers, body, ctx, total).await {
        if matches!(e, Error::Write(_)) {
            // A server may answer early (413, 401...) and close before reading the
            // whole body: report its response rather than the broken pipe.
            if let Ok(mut head) = read_head(r, conn, rb, &req.method, ctx).await {
                cap.first_byte();
                head.keep_alive = false;
                let (body, _) = read_body(r, conn, rb, &head, req.body.len(), ctx, body_cap).await;
                return Ok((head, body, false));
            }
        }
        return Err((e, conn.received == 0));
    }
    cap.sent();
    if let (Some(_), Some(b)) = (&ctx.observers.debug, req.body.as_bytes().filter(|b| !b.is_empty())) {
        ctx.observers.debug(DebugKind::DataOut, b);
    }
    th::report_sent(&ctx.observers, req, total).map_err(|e| (e, false))?;
    ctx.observers.trace(TraceEvent::RequestSent, ctx.started.elapsed(), &req.method);
    let head = read_head(r, conn, rb, &req.method, ctx).await.map_err(|e| (e, conn.received == 0))?;
    cap.first_byte();
    if ctx.observers.trace.is_some() {
        ctx.observers.trace(TraceEvent::HeadersReceived, ctx.started.elapsed(), &head.status.to_string());
    }
    let (body, complete) = read_body(r, conn, rb, &head, req.body.len(), ctx, body_cap).await;
    let reusable = complete && head.keep_alive && rb.start == rb.end;
    Ok((head, body, reusable))
}

#[allow(clippy::too_many_arguments)]
async fn write_request(
    r: &Reactor,
    conn: &mut Conn,
    w: &mut Vec<u8>,
    method: &str,
    target: &str,
    headers: &Headers,
    body: BodySource,
    ctx: &SendContext,
    total: Option<u64>,
) -> Result<()> {
    conn.received = 0;
    conn.requests += 1;
    let wt = ctx.timeouts.write;
    let to = || Error::WriteTimeout(WRITE_TIMED_OUT.into());
    w.clear();
    let framing = codec::encode_head(method, target, headers, w);
    if let Some(d) = &conn.debug {
        d(DebugKind::HeaderOut, w);
    }
    let s = &mut conn.stream;
    match body {
        BodySource::Bytes(b) => match codec::encode_bytes_body(framing, &b, w)? {
            BodyWrite::Included => mio::write_all(r, s, w, wt, to).await,
            BodyWrite::Separate => {
                mio::write_all(r, s, w, wt, to).await?;
                mio::write_all(r, s, &b, wt, to).await
            }
        },
        BodySource::Reader(mut rd) => {
            mio::write_all(r, s, w, wt, to).await?;
            let mut enc = BodyEncoder::new(framing);
            let mut buf = vec![0u8; 64 * 1024];
            let mut sent = 0u64;
            loop {
                // The caller's reader runs here, inside perform, on the calling thread.
                let n = match std::io::Read::read(&mut rd, &mut buf) {
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(crate::error::carried(&e)
                            .or_else(|| crate::request::unwrap_io(&e))
                            .unwrap_or_else(|| Error::from_local_io("reading the request body", e)))
                    }
                };
                if n == 0 {
                    break;
                }
                if let Some(d) = &ctx.observers.debug {
                    d(DebugKind::DataOut, &buf[..n]);
                }
                let head = enc.piece(n)?;
                mio::write_all(r, s, head.as_bytes(), wt, to).await?;
                mio::write_all(r, s, &buf[..n], wt, to).await?;
                mio::write_all(r, s, enc.piece_end(), wt, to).await?;
                sent += n as u64;
                if let Some(p) = &ctx.observers.progress {
                    if !p(sent, total, 0, None) {
                        return Err(Error::Callback("transfer aborted by the progress callback".into()));
                    }
                }
            }
            let tail = enc.finish()?;
            mio::write_all(r, s, tail, wt, to).await
        }
    }
}

/// A transfer's read buffer: `buf[start..end]` is unread.
struct ReadBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

/// First size of a read buffer (grown for long heads and busy bodies): small, so
/// that thousands of transfers waiting for their heads cost little memory.
const FIRST_BUF: usize = 4 * 1024;
const BODY_BUF: usize = 32 * 1024;

impl ReadBuf {
    #[cfg(test)]
    fn new() -> ReadBuf {
        ReadBuf { buf: Vec::new(), start: 0, end: 0 }
    }

    fn compact(&mut self) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.start > 0 && self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    fn room(&mut self, at_least: usize, cap: usize) {
        self.compact();
        if self.buf.is_empty() {
            self.buf.resize(FIRST_BUF.max(at_least).min(cap.max(1)), 0);
        } else if self.end == self.buf.len() {
            let n = (self.buf.len() * 2).max(at_least).min(cap.max(self.buf.len() + 1));
            self.buf.resize(n, 0);
        }
    }

    /// Read what is there (at most one read), waiting up to `deadline`.
    async fn fill(
        &mut self,
        r: &Reactor,
        conn: &mut Conn,
        deadline: Option<Instant>,
        msg: &'static str,
        cap: usize,
    ) -> Result<std::io::Result<usize>> {
        self.room(0, cap);
        let res =
            mio::read(r, &mut conn.stream, &mut self.buf[self.end..], deadline, || Error::ReadTimeout(msg.into()))
                .await?;
        if let Ok(n) = res {
            self.end += n;
            conn.received += n as u64;
        }
        Ok(res)
    }
}

fn map_read(e: std::io::Error) -> Error {
    Error::from_read(e)
}

/// Read and parse the response head (1xx skipped), the whole head within the read
/// timeout, as the blocking `Conn::read_head`.
async fn read_head(r: &Reactor, conn: &mut Conn, rb: &mut ReadBuf, method: &str, ctx: &SendContext) -> Result<Head> {
    let limits = &ctx.head_limits;
    let head_deadline = ctx.timeouts.read.map(|t| Instant::now() + t);
    let mut parser = HeadParser::new();
    let cap = codec::head_buffer_cap(limits);
    // The request was just written: let the other transfers run first (see YieldNow).
    if rb.end == rb.start {
        super::reactor::YieldNow::default().await;
    }
    loop {
        if rb.end > rb.start {
            let debug = &conn.debug;
            let ev = parser.parse(&rb.buf[rb.start..rb.end], method, limits, |raw| {
                if let Some(d) = debug {
                    d(DebugKind::HeaderIn, raw);
                }
            })?;
            match ev {
                HeadEvent::Final { used, head } => {
                    rb.start += used;
                    return Ok(head);
                }
                HeadEvent::Interim { used } => {
                    rb.start += used;
                    continue;
                }
                HeadEvent::Partial => {}
            }
        }
        let n = match rb.fill(r, conn, head_deadline, HEAD_TIMED_OUT, cap).await? {
            Ok(n) => n,
            // A TLS peer closing without close_notify before the head: the end.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(map_read(e)),
        };
        if n == 0 {
            return Err(HeadParser::eof_error(conn.received != 0));
        }
    }
}

/// Read the whole body (up to `body_cap` raw bytes; one more tells it is too large).
/// Returns the body for the response and whether it ended cleanly (the connection
/// may then be reused). A failure is kept in the body: the client sees it when it
/// reads the body, as with the blocking transport.
async fn read_body(
    r: &Reactor,
    conn: &mut Conn,
    rb: &mut ReadBuf,
    head: &Head,
    sent: Option<u64>,
    ctx: &SendContext,
    body_cap: Option<u64>,
) -> (Box<dyn RawBody>, bool) {
    let mut framing = head.framing;
    if matches!(framing, Framing::Empty) {
        return (Box::new(BytesBody::new(Vec::new())), true);
    }
    // Announced larger than the cap: the client refuses it without reading it.
    if let (Some(c), Framing::Length(n)) = (body_cap, framing) {
        if n > c {
            return (Box::new(BytesBody::new(Vec::new())), false);
        }
    }
    let limit = body_cap.map_or(u64::MAX, |c| c.saturating_add(1));
    let mut data: Vec<u8> = Vec::new();
    if let Framing::Length(n) = framing {
        data.reserve(n.min(limit).min(64 << 20) as usize);
    }
    let is_tls = conn.stream.is_tls();
    let read_to = ctx.timeouts.read;
    let mut seen = Arrivals::new(&ctx.observers, sent, &head.headers);
    let res: Result<bool> = async {
        loop {
            let (used, ev) = framing.step(&rb.buf[rb.start..rb.end])?;
            rb.start += used;
            match ev {
                BodyEvent::Done => return Ok(true),
                BodyEvent::Data { max } => {
                    if rb.start == rb.end {
                        let d = read_to.map(|t| Instant::now() + t);
                        match rb.fill(r, conn, d, READ_TIMED_OUT, BODY_BUF).await? {
                            Ok(0) => framing.eof()?,
                            Ok(_) => {}
                            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                                if framing.is_close_delimited() && is_tls {
                                    return Err(codec::tls_truncation_error());
                                }
                                framing.eof()?
                            }
                            Err(e) => return Err(map_read(e)),
                        }
                        continue;
                    }
                    let n = (max.min((rb.end - rb.start) as u64)) as usize;
                    let room = (limit - data.len() as u64).min(n as u64) as usize;
                    data.extend_from_slice(&rb.buf[rb.start..rb.start + room]);
                    let got = &rb.buf[rb.start..rb.start + room];
                    rb.start += n;
                    framing.consumed(n);
                    seen.data(got)?;
                    if data.len() as u64 >= limit {
                        // Over the cap: the client's body() reports it; stop reading.
                        return Ok(false);
                    }
                }
                BodyEvent::Need { buf_cap } => {
                    let d = read_to.map(|t| Instant::now() + t);
                    rb.room(buf_cap.min(1 << 20), buf_cap.max(BODY_BUF));
                    match rb.fill(r, conn, d, READ_TIMED_OUT, buf_cap.max(BODY_BUF)).await? {
                        Ok(0) => framing.eof()?,
                        Ok(_) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => framing.eof()?,
                        Err(e) => return Err(map_read(e)),
                    }
                }
            }
        }
    }
    .await;
    match res {
        Ok(complete) => (MultiBody::boxed(data, None), complete && framing.is_finished()),
        Err(e) => (MultiBody::boxed(data, Some(e)), false),
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    #[test]
    fn exchange_future_sizes() {
        let r = Reactor::new().unwrap();
        let c = crate::Client::new(&crate::ClientConfig::default()).unwrap();
        let req = c.build_request("GET", "http://127.0.0.1:1/").unwrap();
        let ctx = SendContext {
            timeouts: Default::default(),
            head_limits: Default::default(),
            started: Instant::now(),
            observers: Default::default(),
            guard: Default::default(),
        };
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let mut conn = Conn::new(Stream::unix(a).unwrap());
        let mut cap = Capture::new(Instant::now());
        eprintln!(
            "exchange: {}",
            std::mem::size_of_val(&exchange(&r, &mut conn, &req, false, None, &ctx, &mut cap, None))
        );
        let h = crate::transport::http::HttpTransport::new(Default::default()).unwrap();
        eprintln!("send_inner: {}", std::mem::size_of_val(&send_inner(&r, &h, req.clone(), &ctx, None)));
        let (pool, _) = h.parts();
        eprintln!(
            "checkout: {}",
            std::mem::size_of_val(&checkout(pool, h.key_for(&req.url, None, 0), None, &r, false))
        );
        let mut rb = ReadBuf::new();
        eprintln!("read_head: {}", std::mem::size_of_val(&read_head(&r, &mut conn, &mut rb, "GET", &ctx)));
        let hd =
            crate::http1::codec::finish_head("GET", 200, String::new(), crate::types::Version::Http11, Headers::new())
                .unwrap();
        eprintln!("read_body: {}", std::mem::size_of_val(&read_body(&r, &mut conn, &mut rb, &hd, None, &ctx, None)));
        let body = req.body.open().unwrap();
        eprintln!(
            "write_request: {}",
            std::mem::size_of_val(&write_request(
                &r,
                &mut conn,
                &mut Vec::new(),
                "GET",
                "/",
                &req.headers,
                body,
                &ctx,
                None
            ))
        );
    }
}

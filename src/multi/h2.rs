//! HTTP/2 in the multi: h2 over the multi's own non-blocking TLS socket. Each
//! connection's `h2::client::Connection` future is a task of the multi's executor (no
//! runtime, no thread); transfers to the same origin open streams on one connection
//! (h2 queues them past the server's MAX_CONCURRENT_STREAMS). A connection holds one
//! slot of the client's pool (it counts against `max_connections`) for as long as it
//! lives; these connections are the multi's own (blocking sends run HTTP/2 on another
//! runtime and cannot share them).
//!
//! They keep to the client pool's limits as its own HTTP/2 connections do: one with
//! no stream open is idle and closes after `keepalive_expiry` (a timer of the
//! multi's reactor, armed by the connection's task, so `Multi::timeout` wakes the
//! caller's loop for it; re-armed whenever its last stream ends, never running while
//! a stream is open; an expiry of zero closes it as its last stream ends, none never)
//! and then frees its pool slot; idle ones count against `max_keepalive_connections`
//! together with the pool's idle connections (over the limit the multi's least
//! recently used idle one closes; the blocking pool closes the one just released).
//! A connection the server closed or sent GOAWAY on takes no new streams: the next
//! transfer to the origin opens a new one. As the blocking transport (`send_h2`), a
//! failed request takes its connection out of the pool (other streams on it finish),
//! and one on a reused connection that the server did not process (nothing sent, or
//! GOAWAY above its last-stream-id / REFUSED_STREAM) is retried once on a new
//! connection when its body is replayable. When the pool is full with no idle
//! connection of its own, a new HTTP/2 connection of the multi closes the multi's
//! least recently used idle one to make room (as the pool evicts one). Not done: the
//! pool itself (blocking sends, the multi's HTTP/1.1 transfers) cannot evict a
//! multi's idle HTTP/2 connection (they wait for its expiry, within the pool
//! timeout), and the pool's own release does not count the multi's idle ones.
//!
//! Offered exactly when the blocking transport offers h2 (`Dialer::offers_h2`:
//! https, HTTP/2 enabled, directly or through a CONNECT tunnel / SOCKS). When the
//! server picks http/1.1 in ALPN, its origin goes to HTTP/1.1 from then on (that first
//! connection is closed, as the blocking path does).

use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::connection::Stream;
use crate::debug::DebugKind;
use crate::error::{Error, Result};
use crate::headers::Headers;
use crate::http2::{check_head, h2_err};
use crate::info::{Capture, ConnInfo, Timing};
use crate::observe::TraceEvent;
use crate::pool::{Pool, PoolKey};
use crate::request::{BodySource, Request};
use crate::response::{RawBody, Response};
use crate::transport::http::{self as th, HttpTransport};
use crate::transport::SendContext;
use crate::types::Limits;

use super::exec::BoxFuture;
use super::io as mio;
use super::reactor::{Interest, Reactor, Sleep};

/// A connected stream (TLS with ALPN h2) as tokio's AsyncRead/AsyncWrite, on the
/// multi's reactor.
pub struct AsyncStream {
    s: Stream,
    r: Arc<Reactor>,
}

impl Drop for AsyncStream {
    fn drop(&mut self) {
        self.r.forget(self.s.fd());
    }
}

impl AsyncStream {
    fn wait(&self, cx: &mut Context<'_>, i: Interest) -> Poll<io::Result<()>> {
        match self.r.register(self.s.fd(), i, cx.waker()) {
            Ok(()) => Poll::Pending,
            Err(e) => Poll::Ready(Err(io::Error::other(e.to_string()))),
        }
    }
}

impl tokio::io::AsyncRead for AsyncStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut tokio::io::ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match mio::try_read(&mut this.s, buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return this.wait(cx, Interest::Read),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A TLS peer closing without close_notify: the end (h2 frames say
                // whether it was complete).
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Poll::Ready(Ok(())),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl tokio::io::AsyncWrite for AsyncStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            match mio::try_write(&mut this.s, buf) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if let Poll::Ready(Err(e)) = this.wait(cx, Interest::Write) {
                        return Poll::Ready(Err(e));
                    }
                    return Poll::Pending;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match mio::try_flush(&mut this.s) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => match this.wait(cx, Interest::Write) {
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                _ => Poll::Pending,
            },
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Stream::Tls(t) = &mut self.as_mut().get_mut().s {
            t.conn.send_close_notify();
        }
        self.poll_flush(cx)
    }
}

enum Slot {
    Connecting(Vec<Waker>),
    Ready(Live),
}

/// An open connection of the multi.
struct Live {
    send: h2::client::SendRequest<Bytes>,
    info: Arc<ConnInfo>,
    /// Transfers with a stream on it (each holds a [`Busy`]).
    streams: usize,
    /// When the last stream ended (keep-alive expiry counts from here).
    idle_since: Instant,
    /// The connection task, woken when the connection goes idle or is closed.
    task: Option<Waker>,
    /// The client pool's limits (keep-alive expiry, max keep-alive connections).
    limits: Limits,
    /// The client's pool: its idle connections count against the same
    /// `max_keepalive_connections`.
    blocking: Pool,
}

impl Live {
    fn expired(&self, now: Instant) -> bool {
        self.streams == 0
            && self.limits.keepalive_expiry.is_some_and(|e| now.saturating_duration_since(self.idle_since) >= e)
    }
}

/// A connection out of the pool whose task has not ended: the streams still on it.
struct Draining {
    id: u64,
    streams: usize,
    task: Option<Waker>,
}

#[derive(Default)]
struct State {
    conns: Vec<(u64, PoolKey, Slot)>,
    draining: Vec<Draining>,
    h1_only: Vec<PoolKey>,
    next_id: u64,
}

impl State {
    /// Take connection `id` out of the pool (no new streams; its task lets h2 close
    /// it when its streams have ended).
    fn take(&mut self, id: u64) -> Option<Slot> {
        let pos = self.conns.iter().position(|(i, _, _)| *i == id)?;
        let slot = self.conns.swap_remove(pos).2;
        if let Slot::Ready(l) = &slot {
            self.draining.push(Draining { id, streams: l.streams, task: l.task.clone() });
        }
        Some(slot)
    }
}

/// Wake what waited on a slot taken out of the pool.
fn wake_slot(slot: Option<Slot>) {
    match slot {
        Some(Slot::Connecting(ws)) => ws.into_iter().for_each(Waker::wake),
        Some(Slot::Ready(l)) => {
            let Live { send, task, .. } = l;
            drop(send); // no handle left: h2 closes the connection when its streams end
            if let Some(t) = task {
                t.wake();
            }
        }
        None => {}
    }
}

/// The multi's HTTP/2 connections by pool key, and the origins that chose HTTP/1.1.
///
/// Keep-alive as the client's pool does for its HTTP/2 connections: a connection
/// with no stream open is idle; an idle one closes after `keepalive_expiry` (a timer
/// of the multi's reactor, armed by its task whenever it goes idle; at once with an
/// expiry of zero; never with none) and idle ones count against
/// `max_keepalive_connections` together with the client pool's idle connections (over
/// the limit, the least recently used idle connection of the multi closes). A
/// connection the server has closed or sent GOAWAY on takes no new streams: the next
/// transfer to its origin opens a new connection.
#[derive(Default)]
pub struct H2Pool {
    st: Mutex<State>,
}

enum Got {
    Use(h2::client::SendRequest<Bytes>, Arc<ConnInfo>, u64),
    Connect(u64),
    Http1,
}

/// What a connection task is to do (see [`H2Pool::watch`]).
enum Watch {
    /// Streams are open: no timer.
    Busy,
    /// Idle: close at this instant (`None`: never).
    Idle(Option<Instant>),
    /// Out of the pool (expired, evicted, failed): let h2 finish and close (`true`:
    /// streams of transfers are still open on it).
    Gone(bool),
}

/// Can `send` open another stream? False once h2 knows the connection is gone (a
/// GOAWAY received, the socket closed): as the blocking `H2Conn::is_open_now`.
fn usable(send: &h2::client::SendRequest<Bytes>) -> bool {
    let mut s = send.clone();
    let mut cx = Context::from_waker(Waker::noop());
    !matches!(s.poll_ready(&mut cx), Poll::Ready(Err(_)))
}

impl H2Pool {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        match self.st.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn acquire(&self, key: &PoolKey, cx: &mut Context<'_>) -> Poll<Got> {
        let mut st = self.lock();
        if st.h1_only.contains(key) {
            return Poll::Ready(Got::Http1);
        }
        let mut stale = None;
        if let Some((id, _, slot)) = st.conns.iter_mut().find(|(_, k, _)| k == key) {
            match slot {
                Slot::Ready(l) if !l.expired(Instant::now()) && usable(&l.send) => {
                    l.streams += 1;
                    return Poll::Ready(Got::Use(l.send.clone(), l.info.clone(), *id));
                }
                // Past its expiry (the timer not yet run) or closed by the server
                // (GOAWAY): out of the pool; this transfer opens a new one.
                Slot::Ready(_) => stale = Some(*id),
                Slot::Connecting(w) => {
                    w.push(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        }
        let old = stale.and_then(|id| st.take(id));
        st.next_id += 1;
        let id = st.next_id;
        st.conns.push((id, key.clone(), Slot::Connecting(Vec::new())));
        drop(st);
        wake_slot(old);
        Poll::Ready(Got::Connect(id))
    }

    /// The connection `id` failed a request, or its connect failed: others may
    /// connect anew.
    fn remove(&self, id: u64) {
        let slot = self.lock().take(id);
        wake_slot(slot);
    }

    /// Connection `id`'s task ended: forget it.
    fn ended(&self, id: u64) {
        let mut st = self.lock();
        let slot = st.take(id);
        st.draining.retain(|d| d.id != id);
        drop(st);
        wake_slot(slot);
    }

    /// Connection `id` is up; the transfer that opened it has its first stream.
    fn ready(&self, id: u64, send: h2::client::SendRequest<Bytes>, info: Arc<ConnInfo>, blocking: &Pool) {
        let mut st = self.lock();
        if let Some((_, _, slot)) = st.conns.iter_mut().find(|(i, _, _)| *i == id) {
            let live = Live {
                send,
                info,
                streams: 1,
                idle_since: Instant::now(),
                task: None,
                limits: blocking.limits(),
                blocking: blocking.clone(),
            };
            if let Slot::Connecting(ws) = std::mem::replace(slot, Slot::Ready(live)) {
                drop(st);
                ws.into_iter().for_each(Waker::wake);
            }
        }
    }

    fn http1_only(&self, id: u64, key: PoolKey) {
        self.lock().h1_only.push(key);
        self.remove(id);
    }

    /// For connection `id`'s task (woken by `waker`): whether it is busy, idle until
    /// when, or out of the pool. An idle one past its expiry is taken out here.
    fn watch(&self, id: u64, waker: &Waker, now: Instant) -> Watch {
        let mut st = self.lock();
        let Some((_, _, Slot::Ready(l))) = st.conns.iter_mut().find(|(i, _, _)| *i == id) else {
            let Some(d) = st.draining.iter_mut().find(|d| d.id == id) else { return Watch::Gone(false) };
            if !d.task.as_ref().is_some_and(|t| t.will_wake(waker)) {
                d.task = Some(waker.clone());
            }
            return Watch::Gone(d.streams > 0);
        };
        if !l.task.as_ref().is_some_and(|t| t.will_wake(waker)) {
            l.task = Some(waker.clone());
        }
        if l.streams > 0 {
            return Watch::Busy;
        }
        if l.expired(now) {
            let gone = st.take(id);
            drop(st);
            if let Some(Slot::Ready(l)) = gone {
                drop(l.send);
            }
            return Watch::Gone(false);
        }
        Watch::Idle(l.limits.keepalive_expiry.map(|e| l.idle_since + e))
    }

    /// A transfer's stream on `id` ended (see [`Busy`]).
    fn release(&self, id: u64) {
        let mut st = self.lock();
        let Some((_, _, Slot::Ready(l))) = st.conns.iter_mut().find(|(i, _, _)| *i == id) else {
            if let Some(d) = st.draining.iter_mut().find(|d| d.id == id) {
                d.streams = d.streams.saturating_sub(1);
                if d.streams == 0 {
                    if let Some(t) = d.task.take() {
                        drop(st);
                        t.wake(); // it arms the drain bound
                    }
                }
            }
            return;
        };
        l.streams = l.streams.saturating_sub(1);
        if l.streams > 0 {
            return;
        }
        l.idle_since = Instant::now();
        let task = l.task.clone();
        let (max, blocking) = (l.limits.max_keepalive_connections, l.blocking.clone());
        drop(st);
        // The task arms the expiry timer (or closes at once with an expiry of zero).
        if let Some(t) = task {
            t.wake();
        }
        let Some(max) = max else { return };
        // Idle connections over max_keepalive_connections (the client pool's idle
        // ones and the multi's): close the multi's least recently used ones.
        let pooled_idle = blocking.stats().1;
        let mut st = self.lock();
        let mut gone = Vec::new();
        loop {
            let idle = st.conns.iter().filter_map(|(i, _, s)| match s {
                Slot::Ready(l) if l.streams == 0 => Some((*i, l.idle_since)),
                _ => None,
            });
            let (count, lru) = idle.fold((0, None::<(u64, Instant)>), |(n, m), (i, t)| {
                (n + 1, if m.is_some_and(|(_, mt)| mt <= t) { m } else { Some((i, t)) })
            });
            match lru {
                Some((victim, _)) if pooled_idle + count > max => gone.push(st.take(victim)),
                _ => break,
            }
        }
        drop(st);
        gone.into_iter().for_each(wake_slot);
    }

    /// The pool is full and has no idle connection of its own to evict for a new
    /// one: close the multi's least recently used idle connection (not to `key`), as
    /// the pool evicts an idle connection for a request to another origin. Its slot
    /// frees when its task ends (a queued checkout is woken then).
    fn make_room(&self, blocking: &Pool, key: &PoolKey) {
        let max = blocking.max_connections();
        let (total, idle) = blocking.stats();
        if max == 0 || total < max || idle > 0 {
            return;
        }
        let mut st = self.lock();
        let lru = st
            .conns
            .iter()
            .filter_map(|(i, k, s)| match s {
                Slot::Ready(l) if l.streams == 0 && k != key => Some((*i, l.idle_since)),
                _ => None,
            })
            .min_by_key(|(_, t)| *t);
        let gone = lru.and_then(|(id, _)| st.take(id));
        drop(st);
        wake_slot(gone);
    }

    /// Open connections (tests).
    pub fn len(&self) -> usize {
        self.lock().conns.iter().filter(|(_, _, s)| matches!(s, Slot::Ready { .. })).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A transfer's stream on connection `id`: while one exists the connection is busy
/// (no keep-alive expiry); the last to go leaves it idle.
struct Busy<'a> {
    pool: &'a H2Pool,
    id: u64,
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.pool.release(self.id);
    }
}

/// Removes a `Connecting` slot whose transfer went away (cancelled mid-connect).
struct Connecting<'a> {
    pool: &'a H2Pool,
    id: u64,
    done: bool,
}

impl Drop for Connecting<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.pool.remove(self.id);
        }
    }
}

/// `fut` within `t` (a reactor timer), else `on_timeout()`.
async fn within<T>(
    r: &Reactor,
    t: Option<Duration>,
    fut: impl Future<Output = T>,
    on_timeout: impl FnOnce() -> Error,
) -> Result<T> {
    let Some(d) = t else { return Ok(fut.await) };
    let mut fut = pin!(fut);
    let mut sleep = pin!(Sleep::until(r, Instant::now() + d));
    let mut on_timeout = Some(on_timeout);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        if sleep.as_mut().poll(cx).is_ready() {
            let e = on_timeout.take().map(|f| f()).unwrap_or_else(|| Error::Internal("timeout".into()));
            return Poll::Ready(Err(e));
        }
        Poll::Pending
    })
    .await
}

/// Send `req` over HTTP/2 when the origin speaks it; `Err(req)` hands it back for
/// HTTP/1.1 (h2 not offered, or the server chose HTTP/1.1).
#[allow(clippy::too_many_arguments)]
pub async fn send(
    r: &Arc<Reactor>,
    pool: &Arc<H2Pool>,
    spawn: &(dyn Fn(BoxFuture<()>) + Send + Sync),
    h: &HttpTransport,
    req: Request,
    ctx: &SendContext,
    body_cap: Option<u64>,
) -> std::result::Result<Result<Response>, Request> {
    let (_, dialer) = h.parts();
    let proxy = h.proxy_for(&req.url);
    let Some(tls) = dialer.tls_h2.as_ref() else { return Err(req) };
    if !dialer.offers_h2(req.url.scheme() == "https", proxy) {
        return Err(req);
    }
    let key = h.key_for(&req.url, proxy, tls.id);
    let mut may_retry = true;
    loop {
        let got = std::future::poll_fn(|cx| pool.acquire(&key, cx)).await;
        let (out, id, reused) = match got {
            Got::Http1 => return Err(req),
            Got::Use(send, info, id) => {
                let _busy = Busy { pool, id };
                let mut cap = Capture::new(ctx.started);
                cap.queued();
                ctx.observers.trace(TraceEvent::ConnectionReused, ctx.started.elapsed(), &key.host);
                cap.reused(&ctx.observers, &key.host, key.port, Some(info));
                (exchange(r, send, &req, ctx, cap, body_cap).await, id, true)
            }
            Got::Connect(id) => {
                let mut guard = Connecting { pool, id, done: false };
                match connect(r, h, &req, ctx, &key, id, pool, spawn).await {
                    Ok(Some((send, cap))) => {
                        guard.done = true;
                        let _busy = Busy { pool, id };
                        (exchange(r, send, &req, ctx, cap, body_cap).await, id, false)
                    }
                    Ok(None) => {
                        guard.done = true;
                        pool.http1_only(id, key.clone());
                        return Err(req);
                    }
                    Err(e) => return Ok(Err(th::explain(e, &crate::info::peer_of(&req.url), ctx))),
                }
            }
        };
        match out {
            Ok(resp) => return Ok(Ok(resp)),
            Err((e, unsent)) => {
                // As the blocking transport (`send_h2`): the failed connection leaves
                // the pool (streams still open on it finish or fail on their own);
                // a request on a pooled connection that the server did not process
                // (nothing sent, or GOAWAY / REFUSED_STREAM for its stream) is
                // retried once on a new connection when its body can be replayed.
                pool.remove(id);
                if reused && unsent && may_retry && req.body.is_replayable() {
                    ctx.observers.debug_text(|| format!("HTTP/2 connection died ({e}), retrying on a new connection"));
                    may_retry = false;
                    continue;
                }
                ctx.observers.debug_text(|| format!("Closing HTTP/2 connection to {}:{}", key.host, key.port));
                return Ok(Err(th::explain(e, &crate::info::peer_of(&req.url), ctx)));
            }
        }
    }
}

/// How long a connection out of the pool (expired, evicted, failed) with no stream
/// left may take to close (h2 sends GOAWAY, TLS close_notify) before its socket is
/// just closed.
const DRAIN: Duration = Duration::from_secs(10);

/// Connection `id`'s task: h2's connection future and, while the connection is
/// idle, its keep-alive expiry timer (so `Multi::timeout` wakes the caller's loop
/// for it). Out of the pool, h2 closes the connection once no stream is left (no
/// handle remains), within [`DRAIN`].
async fn drive(r: &Reactor, pool: &H2Pool, id: u64, conn: h2::client::Connection<AsyncStream, Bytes>) {
    let mut conn = pin!(conn);
    let mut timer: Option<(Instant, Pin<Box<Sleep<'_>>>)> = None;
    let mut drain_until: Option<Instant> = None;
    std::future::poll_fn(|cx| loop {
        if conn.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        let now = Instant::now();
        let at = match pool.watch(id, cx.waker(), now) {
            Watch::Busy | Watch::Idle(None) | Watch::Gone(true) => None,
            Watch::Idle(Some(at)) => Some(at),
            Watch::Gone(false) => Some(*drain_until.get_or_insert(now + DRAIN)),
        };
        let Some(at) = at else {
            timer = None;
            return Poll::Pending;
        };
        if timer.as_ref().is_none_or(|(t, _)| *t != at) {
            timer = Some((at, Box::pin(Sleep::until(r, at))));
        }
        if let Some((_, s)) = timer.as_mut() {
            if s.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        timer = None;
        if drain_until == Some(at) {
            return Poll::Ready(()); // did not close in time: drop the socket
        }
        // The expiry passed: the next watch takes the connection out of the pool.
    })
    .await
}

/// Open a new HTTP/2 connection for `key` (a slot of the client's pool, the chain,
/// TLS offering h2, the h2 handshake) and start its connection task. Ok(None): the
/// server chose HTTP/1.1.
#[allow(clippy::too_many_arguments)]
async fn connect(
    r: &Arc<Reactor>,
    h: &HttpTransport,
    req: &Request,
    ctx: &SendContext,
    key: &PoolKey,
    id: u64,
    pool: &Arc<H2Pool>,
    spawn: &(dyn Fn(BoxFuture<()>) + Send + Sync),
) -> Result<Option<(h2::client::SendRequest<Bytes>, Capture)>> {
    let (hpool, dialer) = h.parts();
    let Some(tls) = dialer.tls_h2.as_ref() else { return Ok(None) };
    let proxy = h.proxy_for(&req.url);
    let obs = &ctx.observers;
    // A new HTTP/2 connection takes a slot of the pool like any other.
    pool.make_room(hpool, key);
    let slot = super::http::checkout(hpool, key.clone(), ctx.timeouts.pool, r, false).await?;
    let mut cap = Capture::new(ctx.started);
    cap.queued();
    let (host, port) = (key.host.clone(), key.port);
    obs.trace(TraceEvent::ConnectStart, ctx.started.elapsed(), &host);
    cap.connecting(obs, &host, port, proxy.map(|p| (th::proxy_scheme(p), p.host.as_str(), p.port)));
    let deadline = ctx.timeouts.connect.map(|t| Instant::now() + t);
    let t = th::target(&req.url);
    let (base, _, marks) = super::http::dial_base(r, dialer, t, proxy, deadline).await?;
    let s = super::net::tls_handshake(r, tls, t.host, base, deadline).await?;
    crate::info::reset_marks();
    let info = cap.connected(obs, &host, port, ConnInfo::of_stream(&s));
    if let Some(d) = marks.dns {
        cap.info.timings.set_at(Timing::Dns, ctx.started, d);
    }
    if let Some(t) = marks.tcp {
        cap.info.timings.set_at(Timing::Connect, ctx.started, t);
    }
    obs.trace(TraceEvent::TlsDone, ctx.started.elapsed(), &host);
    if s.alpn().as_deref() != Some(b"h2") {
        drop(slot);
        return Ok(None);
    }
    let io = AsyncStream { s, r: r.clone() };
    let mut builder = h2::client::Builder::new();
    builder
        .enable_push(false)
        .max_header_list_size(u32::try_from(ctx.head_limits.max_header_bytes).unwrap_or(u32::MAX));
    let timeout = || Error::ConnectTimeout(format!("connecting to {host}:{port}"));
    let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
    // The handshake needs the connection driven: run it as the task at once.
    let (send, conn) =
        within(r, left, builder.handshake::<_, Bytes>(io), timeout).await?.map_err(|e| h2_err(e, true))?;
    obs.trace(TraceEvent::Connected, ctx.started.elapsed(), &host);
    pool.ready(id, send.clone(), info, hpool);
    let (pool, r) = (pool.clone(), r.clone());
    spawn(Box::pin(async move {
        let _slot = slot; // the pool slot lives as long as the connection
        drive(&r, &pool, id, conn).await;
        pool.ended(id);
    }));
    Ok(Some((send, cap)))
}

/// One request on a stream of `send`'s connection, with its whole body read. Err
/// also says whether nothing was sent (then another connection may be tried).
async fn exchange(
    r: &Reactor,
    send: h2::client::SendRequest<Bytes>,
    req: &Request,
    ctx: &SendContext,
    mut cap: Capture,
    body_cap: Option<u64>,
) -> std::result::Result<Response, (Error, bool)> {
    let obs = &ctx.observers;
    let t = &ctx.timeouts;
    let mut builder = http::Request::builder().method(req.method.as_str()).uri(req.url.as_str());
    for (n, v) in req.headers.iter() {
        if th::H2_SKIPPED.iter().any(|h| n.eq_ignore_ascii_case(h)) {
            continue;
        }
        builder = builder.header(n, v);
    }
    let request = builder.body(()).map_err(|e| (Error::LocalProtocol(format!("HTTP/2 request: {e}")), true))?;
    let body = req.body.open().map_err(|e| (e, true))?;
    let empty = matches!(&body, BodySource::Bytes(b) if b.is_empty());
    if obs.debug.is_some() {
        obs.debug(
            DebugKind::HeaderOut,
            &crate::debug::render_h2_request(&req.method, &req.url, &req.headers, th::H2_SKIPPED),
        );
    }
    let mut send = within(r, t.pool, send.ready(), || Error::PoolTimeout("waiting for an HTTP/2 stream".into()))
        .await
        .map_err(|e| (e, true))?
        .map_err(|e| (h2_err(e, false), true))?;
    let (resp_fut, mut stream) = send.send_request(request, empty).map_err(|e| (h2_err(e, false), true))?;
    if !empty {
        send_body(r, &mut stream, body, t.write, ctx).await.map_err(|e| (e, false))?;
    }
    cap.sent();
    obs.trace(TraceEvent::RequestSent, ctx.started.elapsed(), &req.method);
    let resp = within(r, t.read, resp_fut, || Error::ReadTimeout("waiting for the HTTP/2 response".into()))
        .await
        .map_err(|e| (e, false))?
        .map_err(|e| {
            let unprocessed = e.is_go_away() || e.reason() == Some(h2::Reason::REFUSED_STREAM);
            (h2_err(e, true), unprocessed)
        })?;
    check_head(resp.headers(), &ctx.head_limits).map_err(|e| (e, false))?;
    cap.first_byte();
    let status = resp.status().as_u16();
    let mut headers = Headers::with_capacity(resp.headers().len());
    for (n, v) in resp.headers() {
        headers.push_unchecked(n.as_str(), &String::from_utf8_lossy(v.as_bytes()));
    }
    if obs.trace.is_some() {
        obs.trace(TraceEvent::HeadersReceived, ctx.started.elapsed(), &status.to_string());
    }
    if obs.debug.is_some() {
        obs.debug(DebugKind::HeaderIn, &crate::debug::render_h2_response(status, &headers));
    }
    let mut recv = resp.into_body();
    let announced = headers.get("Content-Length").and_then(|v| v.trim().parse::<u64>().ok());
    let bodiless = req.method.eq_ignore_ascii_case("HEAD") || matches!(status, 204 | 304);
    let mut data = Vec::new();
    let mut failure = None;
    let mut seen = super::http::Arrivals::new(obs, req.body.len(), &headers);
    let over = |n: u64| body_cap.is_some_and(|c| n > c);
    if !(bodiless || announced.is_some_and(over)) {
        let limit = body_cap.map_or(u64::MAX, |c| c.saturating_add(1));
        loop {
            match within(r, t.read, recv.data(), || Error::ReadTimeout("HTTP/2 body".into())).await {
                Err(e) => {
                    failure = Some(e);
                    break;
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    failure = Some(h2_err(e, true));
                    break;
                }
                Ok(Some(Ok(b))) => {
                    let _ = recv.flow_control().release_capacity(b.len());
                    let room = (limit - data.len() as u64).min(b.len() as u64) as usize;
                    data.extend_from_slice(&b[..room]);
                    if let Err(e) = seen.data(&b[..room]) {
                        failure = Some(e); // the stream is reset when `recv` drops
                        break;
                    }
                    if data.len() as u64 >= limit {
                        break; // over the cap: the client's body() says so; the stream is reset
                    }
                }
            }
        }
    }
    let body: Box<dyn RawBody> = super::http::MultiBody::boxed(data, failure);
    let mut out =
        Response::new(status, String::new(), crate::types::Version::Http2, headers, body, req.clone(), ctx.started);
    out.info = cap.finish(t.read);
    Ok(out)
}

async fn send_body(
    r: &Reactor,
    stream: &mut h2::SendStream<Bytes>,
    body: BodySource,
    write_timeout: Option<Duration>,
    ctx: &SendContext,
) -> Result<()> {
    let wt = || Error::WriteTimeout("HTTP/2 flow control window stayed closed".into());
    async fn put_all(
        r: &Reactor,
        stream: &mut h2::SendStream<Bytes>,
        mut rest: Bytes,
        end: bool,
        wt: &(dyn Fn() -> Error + Sync),
        write_timeout: Option<Duration>,
    ) -> Result<()> {
        if rest.is_empty() {
            return stream.send_data(rest, end).map_err(|e| h2_err(e, false));
        }
        while !rest.is_empty() {
            stream.reserve_capacity(rest.len());
            let cap = within(r, write_timeout, std::future::poll_fn(|cx| stream.poll_capacity(cx)), wt)
                .await?
                .ok_or_else(|| Error::RemoteProtocol("HTTP/2 stream closed while sending".into()))?
                .map_err(|e| h2_err(e, false))?;
            let chunk = rest.split_to(cap.min(rest.len()));
            stream.send_data(chunk, end && rest.is_empty()).map_err(|e| h2_err(e, false))?;
        }
        Ok(())
    }
    match body {
        BodySource::Bytes(b) => {
            if let Some(d) = &ctx.observers.debug {
                d(DebugKind::DataOut, &b);
            }
            put_all(r, stream, Bytes::copy_from_slice(&b), true, &wt, write_timeout).await
        }
        BodySource::Reader(mut rd) => {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match std::io::Read::read(&mut rd, &mut buf) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(crate::request::unwrap_io(&e)
                            .unwrap_or_else(|| Error::from_local_io("reading the request body", e)))
                    }
                };
                if n == 0 {
                    return put_all(r, stream, Bytes::new(), true, &wt, write_timeout).await;
                }
                if let Some(d) = &ctx.observers.debug {
                    d(DebugKind::DataOut, &buf[..n]);
                }
                put_all(r, stream, Bytes::copy_from_slice(&buf[..n]), false, &wt, write_timeout).await?;
            }
        }
    }
}

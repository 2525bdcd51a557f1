//! The connection pool.
//!
//! Connections are keyed by origin plus TLS and proxy identity. At most
//! `max_connections` exist at once (idle or busy); a request that finds the pool full
//! waits on a condition variable up to the pool timeout, then fails with
//! `PoolTimeout`. Idle connections are kept up to `max_keepalive_connections` and
//! `keepalive_expiry`; before reuse each is checked with a non-blocking peek so a
//! connection the server has closed is never handed out (except one released less
//! than [`FRESH_IDLE`] ago to a request that may be retried on a new connection: see
//! [`Pool::checkout_for`]).
//!
//! The pool holds both protocols. An HTTP/1.1 connection is checked out by one
//! request at a time; an HTTP/2 connection stays in the pool while in use and every
//! request to its key opens a stream on it ([`Pool::shared`], [`H2Lease`]). It holds
//! one slot of `max_connections`, is idle while no stream is open, and then obeys
//! `max_keepalive_connections` and `keepalive_expiry` like an idle HTTP/1.1 one (and
//! may be evicted for a request elsewhere when the pool is full).

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::deadline::{self, Guard};
use crate::error::{Error, Result};
use crate::http1::Conn;
use crate::http2::H2Conn;
use crate::types::Limits;

/// See [`Pool::checkout_for`]: far below any server's keep-alive timeout (seconds),
/// far above the gap between two requests of a loop (microseconds).
pub const FRESH_IDLE: Duration = Duration::from_millis(5);

/// What makes two connections interchangeable.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PoolKey {
    pub scheme: &'static str,
    pub host: String,
    pub port: u16,
    /// TLS configuration identity (0 = plain).
    pub tls_id: u64,
    /// Proxy identity (empty = direct).
    pub proxy: String,
}

impl PoolKey {
    fn empty() -> PoolKey {
        PoolKey { scheme: "", host: String::new(), port: 0, tls_id: 0, proxy: String::new() }
    }
}

/// An HTTP/2 connection in the pool (shared by the streams to its key).
struct Shared {
    id: u64,
    key: PoolKey,
    conn: H2Conn,
    /// Streams (requests with their bodies) in flight.
    streams: usize,
    /// When the last stream ended (keep-alive expiry counts from here).
    idle_since: Instant,
}

struct State {
    /// Connections in existence (idle + in use + being opened), both protocols.
    total: usize,
    /// Idle connections per key. A short list scanned linearly: a client talks to a
    /// handful of origins, and this avoids hashing on every request.
    idle: Vec<(PoolKey, Vec<Conn>)>,
    idle_count: usize,
    /// HTTP/2 connections, idle or carrying streams.
    shared: Vec<Shared>,
    next_shared: u64,
    closed: bool,
    /// Threads waiting for a slot: notify only when someone waits (a futex wake
    /// per request otherwise).
    waiters: usize,
    /// Event-loop transfers (the multi) waiting for a slot, first come first served:
    /// woken one per freed slot, as the condition variable's threads.
    async_waiters: std::collections::VecDeque<(u64, Waker)>,
    next_async: u64,
}

impl State {
    /// Wake one event-loop waiter (`all`: every one).
    fn wake_async(&mut self, all: bool) {
        if all {
            for (_, w) in self.async_waiters.drain(..) {
                w.wake();
            }
        } else if let Some((_, w)) = self.async_waiters.pop_front() {
            w.wake();
        }
    }
}

struct Inner {
    state: Mutex<State>,
    cond: Condvar,
    limits: Limits,
}

/// A thread-safe pool shared by every request of one transport.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

/// A permit for one connection: either an idle connection to reuse, or the right to
/// open a new one. Dropping a permit without returning a connection frees its slot.
pub struct Checkout {
    pool: Arc<Inner>,
    pub key: PoolKey,
    pub conn: Option<Conn>,
    /// True when `conn` came from the idle list.
    pub reused: bool,
    released: bool,
}

impl Pool {
    pub fn new(limits: Limits) -> Pool {
        Pool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    total: 0,
                    idle: Vec::new(),
                    idle_count: 0,
                    shared: Vec::new(),
                    next_shared: 1,
                    closed: false,
                    waiters: 0,
                    async_waiters: std::collections::VecDeque::new(),
                    next_async: 1,
                }),
                cond: Condvar::new(),
                limits,
            }),
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>> {
        self.inner.state.lock().map_err(|_| Error::Internal("pool lock poisoned".into()))
    }

    /// Get a connection slot for `key`, waiting up to `timeout` when the pool is full.
    pub fn checkout(&self, key: PoolKey, timeout: Option<Duration>) -> Result<Checkout> {
        self.checkout_guarded(key, timeout, &Guard::default())
    }

    /// [`Pool::checkout`] that also gives up when `guard`'s token fires (the wait on
    /// the condition variable is woken by the fire) or its total deadline passes.
    pub fn checkout_guarded(&self, key: PoolKey, timeout: Option<Duration>, guard: &Guard) -> Result<Checkout> {
        self.checkout_for(key, timeout, guard, false)
    }

    /// [`Pool::checkout_guarded`] for a request that `retryable` says the caller will
    /// retry once on a new connection when a reused one fails before any response
    /// byte (an idempotent method with a replayable body, first attempt). Then an
    /// idle connection released less than [`FRESH_IDLE`] ago skips the liveness peek
    /// (one `recv` syscall of the three of a keep-alive request): a server that closed
    /// it in that instant is found by the request itself, and the retry replaces it.
    /// Every other reuse (older idle connections, non-idempotent requests, a retry)
    /// is peeked as before. The checks that cost no syscall (bytes left in the read
    /// buffer, a TLS record not yet sent) are always made.
    pub fn checkout_for(
        &self,
        key: PoolKey,
        timeout: Option<Duration>,
        guard: &Guard,
        retryable: bool,
    ) -> Result<Checkout> {
        guard.check()?;
        let deadline = timeout.map(|t| Instant::now() + t);
        // A fire wakes every waiter; it takes the lock first so a waiter between
        // its check and its wait cannot miss the wake-up.
        let _reg = guard.cancel.as_ref().map(|c| {
            let inner = Arc::downgrade(&self.inner);
            c.on_fire(move || {
                if let Some(inner) = inner.upgrade() {
                    let _g = inner.state.lock();
                    inner.cond.notify_all();
                }
            })
        });
        let mut st = self.lock()?;
        loop {
            guard.check()?;
            if st.closed {
                return Err(Error::ClientClosed("the client has been closed".into()));
            }
            st = match self.take_idle(st, &key, retryable)? {
                Idle::Usable(conn) => return Ok(self.reused(key, conn)),
                Idle::None(st) => st,
            };
            let full = self.inner.limits.max_connections.is_some_and(|m| st.total >= m);
            if !full {
                st.total += 1;
                return Ok(Checkout { pool: self.inner.clone(), key, conn: None, reused: false, released: false });
            }
            // Full: close an idle connection to another origin to make room.
            if st.idle_count > 0 || st.shared.iter().any(|s| s.streams == 0) {
                if let Some(victim) = evict_one(&mut st) {
                    drop(st);
                    victim.close();
                    return Ok(Checkout { pool: self.inner.clone(), key, conn: None, reused: false, released: false });
                }
            }
            let (until, total) = guard.bound(deadline);
            let wait_for = match until {
                None => None,
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        if total {
                            return Err(deadline::total_expired());
                        }
                        return Err(Error::PoolTimeout(format!(
                            "all {} connections are in use",
                            self.inner.limits.max_connections.unwrap_or(0)
                        )));
                    }
                    Some(d - now)
                }
            };
            st.waiters += 1;
            let woke = match wait_for {
                None => self.inner.cond.wait(st).map_err(|_| Error::Internal("pool lock poisoned".into())),
                Some(t) => self
                    .inner
                    .cond
                    .wait_timeout(st, t)
                    .map(|r| r.0)
                    .map_err(|_| Error::Internal("pool lock poisoned".into())),
            };
            st = woke?;
            st.waiters -= 1;
        }
    }

    /// [`Pool::checkout`] that never waits, for an event loop (the multi): a
    /// connection slot for `key` now, or `None` when the pool is full, after queueing
    /// `waker` (under `*ticket`) to be woken when a slot may have freed. Call again
    /// when woken, with the same ticket; give a ticket up with [`Pool::cancel_wait`].
    /// `retryable` as for [`Pool::checkout_for`] (the liveness peek of a connection
    /// released an instant ago is skipped for a request that will be retried).
    pub fn try_checkout(
        &self,
        key: &PoolKey,
        ticket: &mut Option<u64>,
        waker: &Waker,
        retryable: bool,
    ) -> Result<Option<Checkout>> {
        let mut st = self.lock()?;
        {
            if st.closed {
                return Err(Error::ClientClosed("the client has been closed".into()));
            }
            st = match self.take_idle(st, key, retryable)? {
                Idle::Usable(conn) => {
                    self.cancel_wait(ticket);
                    return Ok(Some(self.reused(key.clone(), conn)));
                }
                Idle::None(st) => st,
            };
            let full = self.inner.limits.max_connections.is_some_and(|m| st.total >= m);
            let slot =
                || Checkout { pool: self.inner.clone(), key: key.clone(), conn: None, reused: false, released: false };
            if !full {
                st.total += 1;
                drop(st);
                self.cancel_wait(ticket);
                return Ok(Some(slot()));
            }
            if st.idle_count > 0 || st.shared.iter().any(|s| s.streams == 0) {
                if let Some(victim) = evict_one(&mut st) {
                    drop(st);
                    victim.close();
                    self.cancel_wait(ticket);
                    return Ok(Some(slot()));
                }
            }
            match ticket.and_then(|t| st.async_waiters.iter_mut().find(|(id, _)| *id == t)) {
                Some((_, w)) => {
                    if !w.will_wake(waker) {
                        *w = waker.clone();
                    }
                }
                None => {
                    let id = st.next_async;
                    st.next_async += 1;
                    st.async_waiters.push_back((id, waker.clone()));
                    *ticket = Some(id);
                }
            }
            Ok(None)
        }
    }

    /// The reuse step of both checkouts: pop `key`'s idle connections (most recently
    /// used first), dropping expired ones, until one passes the liveness check, which
    /// is one non-blocking syscall and runs without the lock (skipped for a connection
    /// released under `FRESH_IDLE` ago when the request is `retryable`). A dead one
    /// frees its slot and wakes one waiter of either kind.
    fn take_idle<'a>(&'a self, mut st: MutexGuard<'a, State>, key: &PoolKey, retryable: bool) -> Result<Idle<'a>> {
        while let Some(conn) = pop_idle(&mut st, key) {
            if self.expired(&conn) {
                st.total -= 1;
                drop_conn(conn);
                continue;
            }
            drop(st);
            let mut conn = conn;
            let peek = !(retryable && conn.idle_since.elapsed() < FRESH_IDLE);
            conn.stream.set_liveness_peek(peek);
            if conn.is_idle_usable() {
                return Ok(Idle::Usable(conn));
            }
            drop_conn(conn);
            st = self.lock()?;
            st.total -= 1;
            if st.waiters > 0 {
                self.inner.cond.notify_one();
            }
            st.wake_async(false);
        }
        Ok(Idle::None(st))
    }

    /// A checkout of a reused idle connection.
    fn reused(&self, key: PoolKey, conn: Conn) -> Checkout {
        Checkout { pool: self.inner.clone(), key, conn: Some(conn), reused: true, released: false }
    }

    /// Give up a place in the queue of [`Pool::try_checkout`]. A waiter that was
    /// woken (its place already gone) passes the wake-up on, so a freed slot is never
    /// left unclaimed.
    pub fn cancel_wait(&self, ticket: &mut Option<u64>) {
        let Some(t) = ticket.take() else { return };
        if let Ok(mut st) = self.lock() {
            match st.async_waiters.iter().position(|(id, _)| *id == t) {
                Some(pos) => {
                    st.async_waiters.remove(pos);
                }
                None => {
                    let full = self.inner.limits.max_connections.is_some_and(|m| st.total >= m);
                    if !full || st.idle_count > 0 {
                        st.wake_async(false);
                    }
                }
            }
        }
    }

    /// The pool's connection limit (0 = none), for messages.
    pub fn max_connections(&self) -> usize {
        self.inner.limits.max_connections.unwrap_or(0)
    }

    /// The pool's limits (the multi's HTTP/2 connections keep to them too).
    pub fn limits(&self) -> crate::types::Limits {
        self.inner.limits
    }

    fn expired(&self, conn: &Conn) -> bool {
        self.inner.limits.keepalive_expiry.is_some_and(|e| conn.idle_since.elapsed() >= e)
    }

    /// A stream on the pooled HTTP/2 connection for `key`, if there is one that can
    /// take more requests. Idle HTTP/2 connections past the keep-alive expiry and
    /// connections the server has closed (GOAWAY) are closed and leave the pool here.
    pub fn shared(&self, key: &PoolKey) -> Result<Option<H2Lease>> {
        let expiry = self.inner.limits.keepalive_expiry;
        loop {
            let mut st = self.lock()?;
            if st.closed {
                return Err(Error::ClientClosed("the client has been closed".into()));
            }
            let mut dead = Vec::new();
            st.shared.retain(|s| {
                let expired = s.streams == 0 && expiry.is_some_and(|e| s.idle_since.elapsed() >= e);
                if expired {
                    dead.push(s.conn.clone());
                }
                !expired
            });
            st.total -= dead.len();
            if !dead.is_empty() && st.waiters > 0 {
                self.inner.cond.notify_all();
            }
            if !dead.is_empty() {
                st.wake_async(true);
            }
            let found = st
                .shared
                .iter()
                .find(|s| s.key == *key)
                .map(|s| (s.id, s.conn.clone(), s.streams == 0 && s.idle_since.elapsed() < FRESH_IDLE));
            drop(st);
            for c in dead {
                c.close();
            }
            let Some((id, conn, fresh)) = found else { return Ok(None) };
            // is_open lets the runtime run: not under the lock. A connection whose last
            // stream ended an instant ago skips that turn (two runtime polls): if the
            // server closed it meanwhile, the request fails as unprocessed and the
            // transport retries it on a new connection.
            if if fresh { conn.is_open_now() } else { conn.is_open() } {
                let mut st = self.lock()?;
                if let Some(s) = st.shared.iter_mut().find(|s| s.id == id) {
                    s.streams += 1;
                    return Ok(Some(H2Lease { pool: self.inner.clone(), id, conn: Some(conn), reused: true }));
                }
                continue; // removed meanwhile
            }
            remove_shared(&self.inner, id);
            conn.close();
        }
    }

    /// Close every idle connection and refuse new checkouts.
    pub fn close(&self) {
        if let Ok(mut st) = self.lock() {
            st.closed = true;
            let idle: Vec<Conn> = st.idle.drain(..).flat_map(|(_, v)| v).collect();
            st.total -= idle.len();
            st.idle_count = 0;
            let shared: Vec<Shared> = st.shared.drain(..).collect();
            st.total -= shared.len();
            st.wake_async(true);
            // std's condvar makes a futex syscall even with no waiter: skip it then.
            let waiters = st.waiters;
            drop(st);
            for c in idle {
                drop_conn(c);
            }
            for s in shared {
                s.conn.close();
            }
            if waiters > 0 {
                self.inner.cond.notify_all();
            }
        }
    }

    /// (connections in existence, idle connections), both protocols: an HTTP/2
    /// connection is idle while no stream is open on it.
    pub fn stats(&self) -> (usize, usize) {
        self.lock().map(|st| (st.total, st.idle_count + idle_shared(&st))).unwrap_or((0, 0))
    }
}

fn pop_idle(st: &mut State, key: &PoolKey) -> Option<Conn> {
    let pos = st.idle.iter().position(|(k, _)| k == key)?;
    let c = st.idle[pos].1.pop();
    if c.is_some() {
        st.idle_count -= 1;
    }
    // Keep the (empty) entry for the next release of this origin, unless the list
    // of origins grows long.
    if st.idle[pos].1.is_empty() && st.idle.len() > 32 {
        st.idle.swap_remove(pos);
    }
    c
}

fn idle_shared(st: &State) -> usize {
    st.shared.iter().filter(|s| s.streams == 0).count()
}

/// A connection taken out of the pool to be closed.
#[allow(clippy::large_enum_variant)]
enum Victim {
    Http1(Conn),
    Http2(H2Conn),
}

impl Victim {
    fn close(self) {
        match self {
            Victim::Http1(c) => drop_conn(c),
            Victim::Http2(c) => c.close(),
        }
    }
}

/// Remove the idle connection that has waited longest (any origin, either protocol).
/// Its slot passes to the caller.
fn evict_one(st: &mut State) -> Option<Victim> {
    let h1 = st
        .idle
        .iter()
        .enumerate()
        .filter_map(|(i, (_, v))| v.first().map(|c| (i, c.idle_since)))
        .min_by_key(|(_, t)| *t);
    let h2 = st
        .shared
        .iter()
        .enumerate()
        .filter(|(_, s)| s.streams == 0)
        .map(|(i, s)| (i, s.idle_since))
        .min_by_key(|(_, t)| *t);
    match (h1, h2) {
        (Some((_, t1)), Some((j, t2))) if t2 < t1 => Some(Victim::Http2(st.shared.swap_remove(j).conn)),
        (None, Some((j, _))) => Some(Victim::Http2(st.shared.swap_remove(j).conn)),
        (Some((pos, _)), _) => {
            let c = st.idle[pos].1.remove(0);
            st.idle_count -= 1;
            if st.idle[pos].1.is_empty() {
                st.idle.swap_remove(pos);
            }
            Some(Victim::Http1(c))
        }
        (None, None) => None,
    }
}

/// Take an HTTP/2 connection out of the pool (gone, or being closed), freeing its slot.
fn remove_shared(inner: &Inner, id: u64) -> Option<H2Conn> {
    let mut st = inner.state.lock().ok()?;
    let pos = st.shared.iter().position(|s| s.id == id)?;
    let s = st.shared.swap_remove(pos);
    st.total -= 1;
    if st.waiters > 0 {
        inner.cond.notify_all();
    }
    st.wake_async(true);
    Some(s.conn)
}

fn drop_conn(mut c: Conn) {
    // TLS says goodbye (close_notify); a plain socket is just closed on drop.
    if c.stream.is_tls() {
        c.stream.shutdown();
    }
}

impl Checkout {
    /// Return a healthy connection for reuse (it has been read to the end and the
    /// server allowed keep-alive).
    pub fn release(mut self, mut conn: Conn) {
        self.released = true;
        // An idle connection belongs to no send: drop its deadline and token.
        conn.stream.set_guard(&Guard::default());
        let inner = self.pool.clone();
        let Ok(mut st) = inner.state.lock() else { return };
        let keep = !st.closed
            && inner.limits.max_keepalive_connections.is_none_or(|m| st.idle_count + idle_shared(&st) < m)
            && inner.limits.keepalive_expiry.is_none_or(|e| !e.is_zero());
        if keep {
            conn.idle_since = Instant::now();
            match st.idle.iter_mut().find(|(k, _)| *k == self.key) {
                Some((_, list)) => list.push(conn),
                None => {
                    let key = std::mem::replace(&mut self.key, PoolKey::empty());
                    st.idle.push((key, vec![conn]));
                }
            }
            st.idle_count += 1;
            if st.waiters > 0 {
                inner.cond.notify_one();
            }
            st.wake_async(false);
        } else {
            st.total -= 1;
            st.wake_async(false);
            let wake = st.waiters > 0;
            drop(st);
            drop_conn(conn);
            if wake {
                inner.cond.notify_one();
            }
        }
    }

    /// Put a new HTTP/2 connection into the pool under this permit's key: it keeps
    /// this slot, and the caller's request is its first stream.
    pub fn share(mut self, conn: H2Conn) -> H2Lease {
        self.released = true;
        let inner = self.pool.clone();
        let key = std::mem::replace(&mut self.key, PoolKey::empty());
        let Ok(mut st) = inner.state.lock() else {
            return H2Lease { pool: inner.clone(), id: 0, conn: Some(conn), reused: false };
        };
        if st.closed {
            st.total -= 1;
            return H2Lease { pool: inner.clone(), id: 0, conn: Some(conn), reused: false };
        }
        let id = st.next_shared;
        st.next_shared += 1;
        st.shared.push(Shared { id, key, conn: conn.clone(), streams: 1, idle_since: Instant::now() });
        drop(st);
        H2Lease { pool: inner, id, conn: Some(conn), reused: false }
    }

    /// Give up this slot, closing the connection if any.
    pub fn discard(mut self, conn: Option<Conn>) {
        self.released = true;
        if let Some(c) = conn {
            drop_conn(c);
        }
        self.free_slot();
    }

    fn free_slot(&self) {
        if let Ok(mut st) = self.pool.state.lock() {
            st.total -= 1;
            if st.waiters > 0 {
                self.pool.cond.notify_one();
            }
            st.wake_async(false);
        }
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if !self.released {
            if let Some(c) = self.conn.take() {
                drop_conn(c);
            }
            self.free_slot();
        }
    }
}

/// One request's stream on a pooled HTTP/2 connection. Dropping it ends the stream's
/// use of the connection; the last one to go leaves the connection idle in the pool
/// (or closes it when the pool keeps no more idle connections).
pub struct H2Lease {
    pool: Arc<Inner>,
    id: u64,
    conn: Option<H2Conn>,
    /// True when the connection was already in the pool.
    pub reused: bool,
}

impl H2Lease {
    /// The connection to send on.
    pub fn conn(&self) -> Option<&H2Conn> {
        self.conn.as_ref()
    }

    /// The connection failed (GOAWAY, I/O error): take it out of the pool and close it
    /// (streams still open on it finish or fail on their own).
    pub fn discard(mut self) {
        if let Some(c) = remove_shared(&self.pool, self.id) {
            self.id = 0;
            drop(self.conn.take());
            c.close();
        }
    }
}

impl Drop for H2Lease {
    fn drop(&mut self) {
        drop(self.conn.take());
        let inner = self.pool.clone();
        let Ok(mut st) = inner.state.lock() else { return };
        let Some(pos) = st.shared.iter().position(|s| s.id == self.id) else { return };
        let s = &mut st.shared[pos];
        s.streams = s.streams.saturating_sub(1);
        if s.streams > 0 {
            return;
        }
        s.idle_since = Instant::now();
        let idle = st.idle_count + idle_shared(&st);
        let keep = inner.limits.max_keepalive_connections.is_none_or(|m| idle <= m)
            && inner.limits.keepalive_expiry.is_none_or(|e| !e.is_zero());
        if !keep {
            let gone = st.shared.swap_remove(pos);
            st.total -= 1;
            if st.waiters > 0 {
                inner.cond.notify_all();
            }
            st.wake_async(true);
            drop(st);
            gone.conn.close();
        } else {
            if st.waiters > 0 {
                inner.cond.notify_one();
            }
            st.wake_async(false);
        }
    }
}

/// What [`Pool::take_idle`] found: a usable idle connection (the lock released), or
/// none (the lock still held).
enum Idle<'a> {
    Usable(Conn),
    None(MutexGuard<'a, State>),
}

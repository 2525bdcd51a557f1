//! The connection pool.
//!
//! Connections are keyed by origin plus TLS and proxy identity. At most
//! `max_connections` exist at once (idle or busy); a request that finds the pool full
//! waits on a condition variable up to the pool timeout, then fails with
//! `PoolTimeout`. Idle connections are kept up to `max_keepalive_connections` and
//! `keepalive_expiry`; before reuse each is checked with a non-blocking peek so a
//! connection the server has closed is never handed out.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::config::Limits;
use crate::deadline::{self, Guard};
use crate::error::{Error, Result};
use crate::http1::Conn;

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

struct State {
    /// Connections in existence (idle + in use + being opened).
    total: usize,
    /// Idle connections per key. A short list scanned linearly: a client talks to a
    /// handful of origins, and this avoids hashing on every request.
    idle: Vec<(PoolKey, Vec<Conn>)>,
    idle_count: usize,
    closed: bool,
    /// Threads waiting for a slot: notify only when someone waits (a futex wake
    /// per request otherwise).
    waiters: usize,
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
                state: Mutex::new(State { total: 0, idle: Vec::new(), idle_count: 0, closed: false, waiters: 0 }),
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
            // Reuse the most recently used idle connection that is still healthy.
            while let Some(conn) = pop_idle(&mut st, &key) {
                if self.expired(&conn) {
                    st.total -= 1;
                    drop_conn(conn);
                    continue;
                }
                // The liveness peek is one non-blocking syscall: do it without the lock.
                drop(st);
                let usable = conn.is_idle_usable();
                if usable {
                    return Ok(Checkout {
                        pool: self.inner.clone(),
                        key,
                        conn: Some(conn),
                        reused: true,
                        released: false,
                    });
                }
                drop_conn(conn);
                st = self.lock()?;
                st.total -= 1;
                if st.waiters > 0 {
                    self.inner.cond.notify_one();
                }
            }
            let full = self.inner.limits.max_connections.is_some_and(|m| st.total >= m);
            if !full {
                st.total += 1;
                return Ok(Checkout { pool: self.inner.clone(), key, conn: None, reused: false, released: false });
            }
            // Full: close an idle connection to another origin to make room.
            if st.idle_count > 0 {
                if let Some(victim) = evict_one(&mut st) {
                    drop_conn(victim);
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

    fn expired(&self, conn: &Conn) -> bool {
        self.inner.limits.keepalive_expiry.is_some_and(|e| conn.idle_since.elapsed() >= e)
    }

    /// Close every idle connection and refuse new checkouts.
    pub fn close(&self) {
        if let Ok(mut st) = self.lock() {
            st.closed = true;
            let idle: Vec<Conn> = st.idle.drain(..).flat_map(|(_, v)| v).collect();
            st.total -= idle.len();
            st.idle_count = 0;
            drop(st);
            for c in idle {
                drop_conn(c);
            }
            self.inner.cond.notify_all();
        }
    }

    /// (connections in existence, idle connections).
    pub fn stats(&self) -> (usize, usize) {
        self.lock().map(|st| (st.total, st.idle_count)).unwrap_or((0, 0))
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

/// Remove the idle connection that has waited longest (any origin).
fn evict_one(st: &mut State) -> Option<Conn> {
    let pos = st
        .idle
        .iter()
        .enumerate()
        .filter_map(|(i, (_, v))| v.first().map(|c| (i, c.idle_since)))
        .min_by_key(|(_, t)| *t)?
        .0;
    let c = st.idle[pos].1.remove(0);
    st.idle_count -= 1;
    if st.idle[pos].1.is_empty() {
        st.idle.swap_remove(pos);
    }
    Some(c)
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
            && inner.limits.max_keepalive_connections.is_none_or(|m| st.idle_count < m)
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
        } else {
            st.total -= 1;
            let wake = st.waiters > 0;
            drop(st);
            drop_conn(conn);
            if wake {
                inner.cond.notify_one();
            }
        }
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

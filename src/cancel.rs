//! Cancel tokens: fire from any thread, stop every send and body read that uses the
//! token, wherever it is blocked.
//!
//! A token is a shared flag plus an `eventfd` that becomes readable for good when the
//! token fires, so blocking I/O waits in `poll()` on the socket *and* the token (no
//! busy waiting, no thread per request). Waits that are not on a file descriptor (a
//! pool slot's condition variable, an async HTTP/2 stream, a DNS helper thread)
//! register a wake-up callback that `fire` runs once.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::error::{Error, Result};

type WakeFn = Box<dyn Fn() + Send + Sync>;

struct Inner {
    fired: AtomicBool,
    efd: OwnedFd,
    next_id: AtomicU64,
    wakers: Mutex<Vec<(u64, WakeFn)>>,
}

/// A cancel token (Go's `context.Context` cancel, a GUI's Cancel button). Cheap to
/// clone: clones share one state, so one token may guard many requests on many
/// threads. `fire` is thread-safe and idempotent.
#[derive(Clone)]
pub struct CancelToken {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelToken").field("fired", &self.is_fired()).finish()
    }
}

impl CancelToken {
    /// A new, unfired token. Fails only when no file descriptor is left.
    pub fn new() -> Result<CancelToken> {
        use rustix::event::{eventfd, EventfdFlags};
        let efd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)
            .map_err(|e| Error::Io(format!("cannot create a cancel token: {}", std::io::Error::from(e))))?;
        Ok(CancelToken {
            inner: Arc::new(Inner {
                fired: AtomicBool::new(false),
                efd,
                next_id: AtomicU64::new(1),
                wakers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Fire the token: every send and body read using it stops with `Cancelled`.
    /// Idempotent; any thread, any time.
    pub fn fire(&self) {
        if self.inner.fired.swap(true, Ordering::SeqCst) {
            return;
        }
        // The counter is never read, so the fd stays readable for good.
        let _ = rustix::io::write(&self.inner.efd, &1u64.to_ne_bytes());
        let wakers: Vec<(u64, WakeFn)> = match self.inner.wakers.lock() {
            Ok(mut w) => std::mem::take(&mut *w),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        };
        for (_, w) in wakers {
            w();
        }
    }

    pub fn is_fired(&self) -> bool {
        self.inner.fired.load(Ordering::SeqCst)
    }

    /// The eventfd that is readable once the token has fired (for `poll`).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.inner.efd.as_fd()
    }

    /// Do these two handles share one token?
    pub fn same_as(&self, other: &CancelToken) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Run `f` once when the token fires (right away, on this thread, if it already
    /// has). The callback runs on the firing thread: keep it short, never block.
    /// Dropping the registration removes the callback.
    pub fn on_fire(&self, f: impl Fn() + Send + Sync + 'static) -> Registration {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut w) = self.inner.wakers.lock() {
            w.push((id, Box::new(f)));
        }
        // Fired between the check and the push: `fire` may have taken the list
        // before our entry was in it; run it ourselves (callbacks tolerate a
        // second call).
        if self.is_fired() {
            let mine = self.inner.wakers.lock().ok().and_then(|mut w| {
                let pos = w.iter().position(|(i, _)| *i == id)?;
                Some(w.swap_remove(pos).1)
            });
            if let Some(f) = mine {
                f();
            }
        }
        Registration { token: Some(self.clone()), id }
    }

    /// A future that completes when the token fires (for async waits).
    pub fn fired(&self) -> Fired {
        Fired { token: self.clone(), slot: None, reg: None }
    }

    fn unregister(&self, id: u64) {
        if let Ok(mut w) = self.inner.wakers.lock() {
            if let Some(pos) = w.iter().position(|(i, _)| *i == id) {
                let _ = w.swap_remove(pos);
            }
        }
    }
}

/// Keeps an `on_fire` callback registered; dropping it unregisters.
pub struct Registration {
    token: Option<CancelToken>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(t) = self.token.take() {
            t.unregister(self.id);
        }
    }
}

/// Future returned by [`CancelToken::fired`].
pub struct Fired {
    token: CancelToken,
    slot: Option<Arc<Mutex<Option<Waker>>>>,
    reg: Option<Registration>,
}

impl std::future::Future for Fired {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.token.is_fired() {
            return Poll::Ready(());
        }
        let slot = self.slot.get_or_insert_with(|| Arc::new(Mutex::new(None))).clone();
        if let Ok(mut s) = slot.lock() {
            match &*s {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *s = Some(cx.waker().clone()),
            }
        }
        if self.reg.is_none() {
            let s2 = slot.clone();
            let reg = self.token.on_fire(move || {
                if let Ok(s) = s2.lock() {
                    if let Some(w) = &*s {
                        w.wake_by_ref();
                    }
                }
            });
            self.reg = Some(reg);
        }
        if self.token.is_fired() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn fire_is_idempotent_and_runs_callbacks_once() {
        let t = CancelToken::new().unwrap();
        let n = Arc::new(AtomicUsize::new(0));
        let n2 = n.clone();
        let _r = t.on_fire(move || {
            n2.fetch_add(1, Ordering::SeqCst);
        });
        assert!(!t.is_fired());
        t.fire();
        t.fire();
        assert!(t.is_fired());
        assert_eq!(n.load(Ordering::SeqCst), 1);
        // Registered after the fire: runs at once.
        let n3 = n.clone();
        let _r2 = t.on_fire(move || {
            n3.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(n.load(Ordering::SeqCst), 2);
        // The eventfd is readable.
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let mut p = [PollFd::from_borrowed_fd(t.fd(), PollFlags::IN)];
        assert_eq!(poll(&mut p, Some(&Timespec { tv_sec: 0, tv_nsec: 0 })).unwrap(), 1);
    }

    #[test]
    fn dropped_registration_does_not_run() {
        let t = CancelToken::new().unwrap();
        let n = Arc::new(AtomicUsize::new(0));
        let n2 = n.clone();
        let r = t.on_fire(move || {
            n2.fetch_add(1, Ordering::SeqCst);
        });
        drop(r);
        t.fire();
        assert_eq!(n.load(Ordering::SeqCst), 0);
    }
}

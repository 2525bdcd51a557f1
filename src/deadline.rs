//! What bounds one send as a whole: the total deadline and the cancel token.
//!
//! A [`Guard`] travels with a send (and with its response body): the connection
//! layer's one blocking primitive, [`wait_fd`], polls the socket together with the
//! token's eventfd and never sleeps past the earliest of the operation's own timeout,
//! the current phase's deadline and the total deadline.

use std::io;
use std::os::fd::BorrowedFd;

use rustix::event::{PollFd, PollFlags, Timespec};
use std::time::Instant;

use crate::cancel::CancelToken;
use crate::error::{Error, Result};

/// The total deadline and cancel token of one send. `Default` = neither.
#[derive(Clone, Debug, Default)]
pub struct Guard {
    pub deadline: Option<Instant>,
    pub cancel: Option<CancelToken>,
}

/// Outcome of a wait that did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waited {
    Ready,
    /// The caller's own limit passed (not the total deadline: that is an error).
    TimedOut,
}

pub(crate) fn cancelled() -> Error {
    Error::Cancelled("the request's cancel token was fired".into())
}

pub(crate) fn total_expired() -> Error {
    Error::TotalTimeout("the request's total timeout expired".into())
}

impl Guard {
    pub fn new(deadline: Option<Instant>, cancel: Option<CancelToken>) -> Guard {
        Guard { deadline, cancel }
    }

    /// A deadline or token is in force.
    pub fn is_set(&self) -> bool {
        self.deadline.is_some() || self.cancel.is_some()
    }

    pub fn is_fired(&self) -> bool {
        self.cancel.as_ref().is_some_and(|c| c.is_fired())
    }

    pub fn expired(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// `Cancelled` once the token fired, `TotalTimeout` once the deadline passed.
    pub fn check(&self) -> Result<()> {
        if self.is_fired() {
            return Err(cancelled());
        }
        if self.expired() {
            return Err(total_expired());
        }
        Ok(())
    }

    /// The same check as an `io::Error` carrying the library error.
    pub fn check_io(&self) -> io::Result<()> {
        self.check().map_err(carry)
    }

    /// The earlier of `limit` and the total deadline, and whether the total deadline
    /// is the binding one.
    pub fn bound(&self, limit: Option<Instant>) -> (Option<Instant>, bool) {
        match (limit, self.deadline) {
            (None, None) => (None, false),
            (Some(l), None) => (Some(l), false),
            (None, Some(d)) => (Some(d), true),
            (Some(l), Some(d)) => {
                if d <= l {
                    (Some(d), true)
                } else {
                    (Some(l), false)
                }
            }
        }
    }

    /// Sleep `d` (a retry backoff), waking early with an error on a fire or when the
    /// total deadline passes.
    pub fn sleep(&self, d: std::time::Duration) -> Result<()> {
        self.check()?;
        let until = Instant::now() + d;
        match &self.cancel {
            Some(c) => match wait_fd(c.fd(), Want::Read, self, Some(until)) {
                Ok(_) => self.check(),
                Err(e) => Err(Error::from_read(e)),
            },
            None => {
                let (u, _) = self.bound(Some(until));
                if let Some(u) = u {
                    std::thread::sleep(u.saturating_duration_since(Instant::now()));
                }
                self.check()
            }
        }
    }

    /// Replace an error by `Cancelled` / `TotalTimeout` when that is what really
    /// happened (a layer below may have reported the interruption as a TLS or
    /// timeout error of its own).
    pub fn classify(&self, e: Error) -> Error {
        match e {
            Error::Cancelled(_) | Error::TotalTimeout(_) => e,
            _ if self.is_fired() => cancelled(),
            _ if self.expired() && is_interruptible(&e) => total_expired(),
            _ => e,
        }
    }
}

/// Errors a deadline passing in the middle of an operation can turn into.
fn is_interruptible(e: &Error) -> bool {
    e.is_timeout()
        || matches!(
            e,
            Error::Connect(_) | Error::Read(_) | Error::Write(_) | Error::Tls(_) | Error::Proxy(_) | Error::Io(_)
        )
}

/// Wrap a library error in an `io::Error` (kind `TimedOut` for the total deadline,
/// so code that only looks at kinds still sees a timeout; `Other` for a cancel,
/// never `Interrupted`, which callers retry).
pub(crate) fn carry(e: Error) -> io::Error {
    let kind = if matches!(e, Error::TotalTimeout(_)) { io::ErrorKind::TimedOut } else { io::ErrorKind::Other };
    io::Error::new(kind, e)
}

/// Which readiness to wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    Read,
    Write,
}

/// Block until `fd` is ready for `want`, the token fires (`Cancelled`), the total
/// deadline passes (`TotalTimeout`, both carried in the `io::Error`) or `limit`
/// passes (`Ok(Waited::TimedOut)`). Errors and hang-ups count as ready: the next
/// syscall reports them.
pub fn wait_fd(fd: BorrowedFd<'_>, want: Want, guard: &Guard, limit: Option<Instant>) -> io::Result<Waited> {
    let (until, total) = guard.bound(limit);
    let flags = match want {
        Want::Read => PollFlags::IN,
        Want::Write => PollFlags::OUT,
    };
    loop {
        guard.check_io()?;
        let left = match until {
            None => None,
            Some(u) => {
                let now = Instant::now();
                if now >= u {
                    return if total { Err(carry(total_expired())) } else { Ok(Waited::TimedOut) };
                }
                let d = u - now;
                Some(Timespec { tv_sec: d.as_secs().min(i64::MAX as u64) as i64, tv_nsec: d.subsec_nanos() as _ })
            }
        };
        let mut fds = [PollFd::from_borrowed_fd(fd, flags)];
        let mut both;
        let set: &mut [PollFd<'_>] = match &guard.cancel {
            Some(c) => {
                both = [PollFd::from_borrowed_fd(fd, flags), PollFd::from_borrowed_fd(c.fd(), PollFlags::IN)];
                &mut both
            }
            None => &mut fds,
        };
        match rustix::event::poll(set, left.as_ref()) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
        if set.len() == 2 && !set[1].revents().is_empty() {
            return Err(carry(cancelled()));
        }
        if !set[0].revents().is_empty() {
            return Ok(Waited::Ready);
        }
        // Timed out (or a spurious wake-up): the loop re-checks the clock.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::time::Duration;

    #[test]
    fn bound_picks_the_earlier() {
        let now = Instant::now();
        let g = Guard::new(Some(now + Duration::from_secs(1)), None);
        assert_eq!(g.bound(None), (Some(now + Duration::from_secs(1)), true));
        assert_eq!(g.bound(Some(now + Duration::from_secs(2))), (Some(now + Duration::from_secs(1)), true));
        assert_eq!(g.bound(Some(now)), (Some(now), false));
        assert_eq!(Guard::default().bound(None), (None, false));
    }

    #[test]
    fn wait_fd_wakes_on_fire() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let t = CancelToken::new().unwrap();
        let g = Guard::new(None, Some(t.clone()));
        let t2 = t.clone();
        let th = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            t2.fire();
        });
        let start = Instant::now();
        let e = wait_fd(a.as_fd(), Want::Read, &g, None).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(Error::from_read(e).code(), crate::error::code::CANCELLED);
        th.join().unwrap();
    }

    #[test]
    fn wait_fd_total_deadline() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let g = Guard::new(Some(Instant::now() + Duration::from_millis(30)), None);
        let e = wait_fd(a.as_fd(), Want::Read, &g, Some(Instant::now() + Duration::from_secs(5))).unwrap_err();
        assert_eq!(Error::from_read(e).code(), crate::error::code::TOTAL_TIMEOUT);
        let g = Guard::default();
        let w = wait_fd(a.as_fd(), Want::Read, &g, Some(Instant::now() + Duration::from_millis(10))).unwrap();
        assert_eq!(w, Waited::TimedOut);
    }
}

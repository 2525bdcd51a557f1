//! The multi's reactor: one epoll file descriptor (this is `httpx_multi_fd`: an epoll
//! fd is readable whenever an fd in its set is ready, as libuv's `uv_backend_fd`), an
//! eventfd in that set for wake-ups (a task woken from any thread, e.g. by a cancel
//! token firing), a timer heap (`httpx_multi_timeout`), and the queue of woken tasks.
//!
//! Sockets are registered one-shot (`EPOLLONESHOT`) for the readiness a task waits
//! for; an event wakes the waiting task's waker and disarms the fd until the task
//! waits again. A socket leaving the multi (back to the pool, closed) is removed with
//! [`Reactor::forget`]. No threads: everything runs in `perform` on the caller's
//! thread, except [`TaskWaker::wake`], which any thread may call.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Wake, Waker};
use std::time::{Duration, Instant};

use rustix::event::epoll;

use crate::error::{Error, Result};

/// The readiness a task waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    Read,
    Write,
}

/// epoll data of the wake-up eventfd (sockets use their fd number).
const WAKE_TOKEN: u64 = u64::MAX;

/// The part of the reactor wakers reach from any thread: the queue of woken tasks
/// and the eventfd that makes the epoll fd readable when the queue fills.
pub(crate) struct Shared {
    efd: OwnedFd,
    ready: Mutex<Vec<usize>>,
    /// True while `perform` runs tasks on its thread: it looks at the queue again
    /// before it waits, so a wake then needs no eventfd write.
    running: AtomicBool,
}

impl Shared {
    fn push(&self, id: usize) {
        let was_empty = {
            let mut q = match self.ready.lock() {
                Ok(q) => q,
                Err(p) => p.into_inner(),
            };
            let e = q.is_empty();
            q.push(id);
            e
        };
        if was_empty && !self.running.load(Ordering::SeqCst) {
            self.signal();
        }
    }

    /// Make the epoll fd readable (the next `perform` has work).
    fn signal(&self) {
        let _ = rustix::io::write(&self.efd, &1u64.to_ne_bytes());
    }

    fn drain_efd(&self) {
        let mut b = [0u8; 8];
        let _ = rustix::io::read(&self.efd, &mut b);
    }

    pub(crate) fn take_ready(&self, into: &mut Vec<usize>) {
        let mut q = match self.ready.lock() {
            Ok(q) => q,
            Err(p) => p.into_inner(),
        };
        std::mem::swap(&mut *q, into);
    }

    pub(crate) fn has_ready(&self) -> bool {
        self.ready.lock().map(|q| !q.is_empty()).unwrap_or(true)
    }
}

/// The waker of one task (std `Wake`): marks it ready once, from any thread.
pub(crate) struct TaskWaker {
    pub(crate) id: usize,
    pub(crate) queued: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::SeqCst) {
            self.shared.push(self.id);
        }
    }
}

#[derive(Default)]
struct FdEntry {
    read: Option<Waker>,
    write: Option<Waker>,
    /// Flags armed in epoll now (empty = disarmed or not added).
    armed: Option<epoll::EventFlags>,
    added: bool,
}

#[derive(Default)]
struct State {
    fds: HashMap<RawFd, FdEntry>,
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    timer_wakers: HashMap<u64, Waker>,
    next_timer: u64,
}

/// One multi's epoll set, wake-up eventfd, timers and ready queue.
pub struct Reactor {
    epfd: OwnedFd,
    pub(crate) shared: Arc<Shared>,
    state: Mutex<State>,
    /// Background tasks (HTTP/2 connections) started by transfers, for the executor.
    spawned: Mutex<Vec<super::exec::BoxFuture<()>>>,
}

/// A timer registration; drop it (or [`Reactor::cancel_timer`]) to forget it.
#[derive(Debug, PartialEq, Eq)]
pub struct TimerId(u64);

fn io_err(what: &str, e: rustix::io::Errno) -> Error {
    Error::Io(format!("{what}: {}", std::io::Error::from(e)))
}

impl Reactor {
    /// A new reactor: an epoll fd and an eventfd (two file descriptors).
    pub fn new() -> Result<Reactor> {
        let epfd = epoll::create(epoll::CreateFlags::CLOEXEC).map_err(|e| io_err("epoll_create", e))?;
        use rustix::event::{eventfd, EventfdFlags};
        let efd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK).map_err(|e| io_err("eventfd", e))?;
        epoll::add(&epfd, &efd, epoll::EventData::new_u64(WAKE_TOKEN), epoll::EventFlags::IN)
            .map_err(|e| io_err("epoll_ctl", e))?;
        Ok(Reactor {
            epfd,
            shared: Arc::new(Shared { efd, ready: Mutex::new(Vec::new()), running: AtomicBool::new(false) }),
            state: Mutex::new(State::default()),
            spawned: Mutex::new(Vec::new()),
        })
    }

    /// Queue a background task (run by the multi's executor from its next round).
    /// Only HTTP/2 connections run as background tasks.
    #[cfg_attr(not(feature = "http2"), allow(dead_code))]
    pub(crate) fn spawn(&self, f: super::exec::BoxFuture<()>) {
        match self.spawned.lock() {
            Ok(mut v) => v.push(f),
            Err(p) => p.into_inner().push(f),
        }
    }

    pub(crate) fn take_spawned(&self) -> Vec<super::exec::BoxFuture<()>> {
        match self.spawned.lock() {
            Ok(mut v) => std::mem::take(&mut *v),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        }
    }

    /// The epoll fd (readable whenever `perform` has work).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.epfd.as_fd()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        }
    }

    /// A waker for task `id` of this reactor.
    pub(crate) fn task_waker(&self, id: usize) -> Arc<TaskWaker> {
        Arc::new(TaskWaker { id, queued: AtomicBool::new(false), shared: self.shared.clone() })
    }

    /// Wake `waker` when `fd` is ready for `interest` (once; wait again after).
    pub fn register(&self, fd: BorrowedFd<'_>, interest: Interest, waker: &Waker) -> Result<()> {
        let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
        let mut st = self.lock();
        let e = st.fds.entry(raw).or_default();
        let slot = match interest {
            Interest::Read => &mut e.read,
            Interest::Write => &mut e.write,
        };
        match slot {
            Some(w) if w.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
        self.arm(fd, e)
    }

    fn arm(&self, fd: BorrowedFd<'_>, e: &mut FdEntry) -> Result<()> {
        let mut want = epoll::EventFlags::ONESHOT;
        if e.read.is_some() {
            want |= epoll::EventFlags::IN | epoll::EventFlags::RDHUP;
        }
        if e.write.is_some() {
            want |= epoll::EventFlags::OUT;
        }
        if e.armed == Some(want) {
            return Ok(());
        }
        let data = epoll::EventData::new_u64(std::os::fd::AsRawFd::as_raw_fd(&fd) as u64);
        let r = if e.added {
            match epoll::modify(&self.epfd, fd, data, want) {
                Err(rustix::io::Errno::NOENT) => epoll::add(&self.epfd, fd, data, want),
                r => r,
            }
        } else {
            match epoll::add(&self.epfd, fd, data, want) {
                Err(rustix::io::Errno::EXIST) => epoll::modify(&self.epfd, fd, data, want),
                r => r,
            }
        };
        r.map_err(|e| io_err("epoll_ctl", e))?;
        e.added = true;
        e.armed = Some(want);
        Ok(())
    }

    /// `fd` leaves the multi (pooled or about to close): its wakers are dropped, so
    /// no task is woken for it any more. The kernel registration stays (disarmed or
    /// not): an event for an fd without wakers is ignored, a socket that is closed
    /// leaves the epoll set by itself, and the next [`Reactor::register`] of the
    /// same number re-arms it (MOD, or ADD when it is a new socket: ENOENT). This
    /// saves an `epoll_ctl(DEL)` per keep-alive request.
    pub fn forget(&self, fd: BorrowedFd<'_>) {
        let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
        let mut st = self.lock();
        if let Some(e) = st.fds.get_mut(&raw) {
            e.read = None;
            e.write = None;
            // Unknown from now on: the next register re-arms for sure.
            e.armed = None;
        }
    }

    /// `fd` is a socket just created: whatever the reactor knew of an earlier file
    /// with the same number is stale (that file was closed, so it left the epoll set
    /// by itself). The first [`Reactor::register`] then does `epoll_ctl(ADD)` at once,
    /// not a MOD that fails with ENOENT first: one syscall fewer per new connection.
    pub fn fresh(&self, fd: BorrowedFd<'_>) {
        let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
        let mut st = self.lock();
        if let Some(e) = st.fds.get_mut(&raw) {
            e.read = None;
            e.write = None;
            e.armed = None;
            e.added = false;
        }
    }

    /// Wake `waker` at `at`.
    pub fn add_timer(&self, at: Instant, waker: &Waker) -> TimerId {
        let mut st = self.lock();
        st.next_timer += 1;
        let id = st.next_timer;
        st.timers.push(Reverse((at, id)));
        st.timer_wakers.insert(id, waker.clone());
        TimerId(id)
    }

    /// Replace the waker of a timer still pending.
    pub fn update_timer(&self, id: &TimerId, waker: &Waker) {
        let mut st = self.lock();
        if let Some(w) = st.timer_wakers.get_mut(&id.0) {
            if !w.will_wake(waker) {
                *w = waker.clone();
            }
        }
    }

    pub fn cancel_timer(&self, id: TimerId) {
        let mut st = self.lock();
        st.timer_wakers.remove(&id.0);
        // Keep the heap small when many timers are cancelled early (a response that
        // arrives long before its read timeout).
        if st.timers.len() > 64 && st.timers.len() > 4 * st.timer_wakers.len() {
            let live: Vec<_> = std::mem::take(&mut st.timers)
                .into_iter()
                .filter(|Reverse((_, i))| st.timer_wakers.contains_key(i))
                .collect();
            st.timers = live.into();
        }
    }

    /// The earliest pending timer.
    pub fn next_timer(&self) -> Option<Instant> {
        let mut st = self.lock();
        while let Some(Reverse((at, id))) = st.timers.peek().copied() {
            if st.timer_wakers.contains_key(&id) {
                return Some(at);
            }
            st.timers.pop();
        }
        None
    }

    /// Wake the tasks whose timers are due; returns how many.
    pub fn fire_timers(&self, now: Instant) -> usize {
        let mut due = Vec::new();
        {
            let mut st = self.lock();
            while let Some(Reverse((at, id))) = st.timers.peek().copied() {
                if at > now {
                    break;
                }
                st.timers.pop();
                if let Some(w) = st.timer_wakers.remove(&id) {
                    due.push(w);
                }
            }
        }
        let n = due.len();
        for w in due {
            w.wake();
        }
        n
    }

    /// Wait up to `timeout` for events and wake their tasks. Returns the number of
    /// socket events (the wake-up eventfd is drained, not counted).
    pub fn poll_events(&self, timeout: Option<Duration>, events: &mut Vec<epoll::Event>) -> Result<usize> {
        events.clear();
        if events.capacity() < 256 {
            events.reserve(256);
        }
        let ts = timeout.map(|d| rustix::event::Timespec {
            tv_sec: d.as_secs().min(i64::MAX as u64) as i64,
            tv_nsec: d.subsec_nanos() as _,
        });
        match epoll::wait(&self.epfd, rustix::buffer::spare_capacity(&mut *events), ts.as_ref()) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => return Ok(0),
            Err(e) => return Err(io_err("epoll_wait", e)),
        }
        let mut wake = Vec::with_capacity(events.len());
        let mut n = 0;
        {
            let mut st = self.lock();
            for ev in events.iter() {
                let (data, flags) = (ev.data.u64(), ev.flags);
                if data == WAKE_TOKEN {
                    self.shared.drain_efd();
                    continue;
                }
                n += 1;
                let Some(e) = st.fds.get_mut(&(data as RawFd)) else { continue };
                e.armed = None; // one-shot: disarmed now
                let any = epoll::EventFlags::ERR | epoll::EventFlags::HUP;
                if flags.intersects(epoll::EventFlags::IN | epoll::EventFlags::RDHUP | any) {
                    if let Some(w) = e.read.take() {
                        wake.push(w);
                    }
                }
                if flags.intersects(epoll::EventFlags::OUT | any) {
                    if let Some(w) = e.write.take() {
                        wake.push(w);
                    }
                }
                // A waiter for the other direction re-arms when its task polls again:
                // wake it too (a spurious poll is cheap, a lost one hangs).
                if let Some(w) = e.read.take() {
                    wake.push(w);
                }
                if let Some(w) = e.write.take() {
                    wake.push(w);
                }
            }
        }
        // The caller (`Multi::perform`) runs the ready queue right after this: a task
        // woken now needs no eventfd write (and no read to drain it again), as in
        // `run`. (While blocked in epoll_wait above, `running` was false, so a wake
        // from another thread did write it.)
        if !wake.is_empty() {
            self.shared.running.store(true, Ordering::SeqCst);
        }
        for w in wake {
            w.wake();
        }
        Ok(n)
    }

    /// Forget every socket and timer (the multi is being freed).
    pub fn clear(&self) {
        drop(self.take_spawned());
        let mut st = self.lock();
        st.fds.clear();
        st.timers.clear();
        st.timer_wakers.clear();
    }

    /// Number of sockets registered (tests).
    pub fn registered(&self) -> usize {
        self.lock().fds.len()
    }

    pub(crate) fn set_running(&self, on: bool) {
        self.shared.running.store(on, Ordering::SeqCst);
    }

    /// Make the fd readable: there is work for `perform` (tasks woken meanwhile).
    pub(crate) fn signal(&self) {
        self.shared.signal();
    }
}

/// A future that completes at an instant (a timer of the reactor).
pub struct Sleep<'r> {
    reactor: &'r Reactor,
    at: Instant,
    id: Option<TimerId>,
}

impl<'r> Sleep<'r> {
    pub fn until(reactor: &'r Reactor, at: Instant) -> Sleep<'r> {
        Sleep { reactor, at, id: None }
    }
}

impl std::future::Future for Sleep<'_> {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if Instant::now() >= self.at {
            if let Some(id) = self.id.take() {
                self.reactor.cancel_timer(id);
            }
            return std::task::Poll::Ready(());
        }
        match &self.id {
            Some(id) => self.reactor.update_timer(id, cx.waker()),
            None => {
                let id = self.reactor.add_timer(self.at, cx.waker());
                self.id = Some(id);
            }
        }
        std::task::Poll::Pending
    }
}

impl Drop for Sleep<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            self.reactor.cancel_timer(id);
        }
    }
}

/// Let the other woken tasks run once before going on (the task is woken again at
/// once). After a request is written, its answer is often there by the time the
/// others have had their turn: the read then needs no epoll registration.
#[derive(Default)]
pub struct YieldNow(bool);

impl std::future::Future for YieldNow {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

//! A tiny single-threaded executor: each transfer is a pinned future, woken through
//! std [`Wake`](std::task::Wake) ([`TaskWaker`]: any thread may wake, only the thread
//! in `perform` polls). No runtime, no threads.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::reactor::{Reactor, TaskWaker};

/// A task's future. `Send` so that a multi may move to another thread between calls
/// ("a multi belongs to one thread at a time").
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

struct Task<T> {
    fut: BoxFuture<T>,
    waker: Arc<TaskWaker>,
}

/// The tasks of one multi; outputs of finished tasks go to the caller of
/// [`Executor::run_ready`].
pub struct Executor<T> {
    tasks: Vec<Option<Task<T>>>,
    free: Vec<usize>,
    live: usize,
    batch: Vec<usize>,
    /// Wakers of finished tasks that nothing else holds, by task id: the next task
    /// with that id takes it (no allocation per transfer).
    spare: Vec<Option<Arc<TaskWaker>>>,
}

/// Most rounds of "poll the woken tasks" in one `run_ready` (tasks that keep waking
/// each other cannot hold `perform` forever; the rest run on the next call).
const MAX_ROUNDS: usize = 32;

impl<T> Default for Executor<T> {
    fn default() -> Self {
        Executor { tasks: Vec::new(), free: Vec::new(), live: 0, batch: Vec::new(), spare: Vec::new() }
    }
}

impl<T> Executor<T> {
    /// Add a task; it is polled first by the next `run_ready`. Returns its id.
    pub fn spawn(&mut self, reactor: &Reactor, fut: BoxFuture<T>) -> usize {
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.tasks.push(None);
                self.tasks.len() - 1
            }
        };
        let waker = match self.spare.get_mut(id).and_then(Option::take) {
            Some(w) => {
                // It may still say "queued" (woken in its last poll): its id is then
                // in the ready list or was taken for a slot already empty.
                w.queued.store(false, Ordering::SeqCst);
                w
            }
            None => reactor.task_waker(id),
        };
        std::task::Wake::wake_by_ref(&waker);
        self.tasks[id] = Some(Task { fut, waker });
        self.live += 1;
        id
    }

    /// Drop a task without finishing it (its future is dropped: connections close).
    pub fn remove(&mut self, id: usize) -> bool {
        match self.tasks.get_mut(id).and_then(Option::take) {
            Some(t) => {
                drop(t);
                self.free.push(id);
                self.live -= 1;
                true
            }
            None => false,
        }
    }

    /// Tasks not finished.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Poll every woken task (and those they wake, up to [`MAX_ROUNDS`] rounds). A
    /// finished task's `(id, output)` is handed to `done`. Returns the number of polls.
    pub fn run_ready(&mut self, reactor: &Reactor, mut done: impl FnMut(usize, T)) -> usize {
        let mut polls = 0;
        for _ in 0..MAX_ROUNDS {
            let mut batch = std::mem::take(&mut self.batch);
            reactor.shared.take_ready(&mut batch);
            if batch.is_empty() {
                self.batch = batch;
                break;
            }
            for id in batch.drain(..) {
                let Some(Some(task)) = self.tasks.get_mut(id) else { continue };
                task.waker.queued.store(false, Ordering::SeqCst);
                let waker = Waker::from(task.waker.clone());
                let mut cx = Context::from_waker(&waker);
                polls += 1;
                if let Poll::Ready(out) = task.fut.as_mut().poll(&mut cx) {
                    drop(waker);
                    if let Some(t) = self.tasks[id].take() {
                        let w = t.waker;
                        drop(t.fut);
                        if Arc::strong_count(&w) == 1 {
                            if self.spare.len() <= id {
                                self.spare.resize(id + 1, None);
                            }
                            self.spare[id] = Some(w);
                        }
                    }
                    self.free.push(id);
                    self.live -= 1;
                    done(id, out);
                }
            }
            self.batch = batch;
        }
        polls
    }

    /// Drop every task (the multi is being freed).
    pub fn clear(&mut self) {
        for t in self.tasks.iter_mut() {
            drop(t.take());
        }
        self.tasks.clear();
        self.free.clear();
        self.spare.clear();
        self.live = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::super::reactor::{Interest, Sleep};
    use super::*;
    use std::io::Write;
    use std::os::fd::AsFd;
    use std::time::{Duration, Instant};

    /// Waits until the socket is readable, via the reactor.
    struct Readable {
        r: Arc<Reactor>,
        s: std::os::unix::net::UnixStream,
    }

    impl Future for Readable {
        type Output = usize;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
            let mut b = [0u8; 16];
            match rustix::net::recv(&self.s, &mut b[..], rustix::net::RecvFlags::DONTWAIT) {
                Ok((n, _)) => Poll::Ready(n),
                Err(_) => {
                    self.r.register(self.s.as_fd(), Interest::Read, cx.waker()).unwrap();
                    Poll::Pending
                }
            }
        }
    }

    #[test]
    fn socket_readiness_wakes_the_task() {
        let r = Arc::new(Reactor::new().unwrap());
        let mut ex: Executor<usize> = Executor::default();
        let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
        ex.spawn(&r, Box::pin(Readable { r: r.clone(), s: a }));
        let mut out = Vec::new();
        ex.run_ready(&r, |_, n| out.push(n));
        assert!(out.is_empty());
        assert_eq!(r.registered(), 1);
        let mut evs = Vec::new();
        // Nothing ready: the wait times out.
        assert_eq!(r.poll_events(Some(Duration::from_millis(10)), &mut evs).unwrap(), 0);
        b.write_all(b"hey").unwrap();
        assert_eq!(r.poll_events(Some(Duration::from_secs(5)), &mut evs).unwrap(), 1);
        ex.run_ready(&r, |_, n| out.push(n));
        assert_eq!(out, vec![3]);
        assert_eq!(ex.live(), 0);
    }

    #[test]
    fn timers_and_cross_thread_wakes() {
        let r = Arc::new(Reactor::new().unwrap());
        let mut ex: Executor<u32> = Executor::default();
        let r2 = r.clone();
        let at = Instant::now() + Duration::from_millis(30);
        ex.spawn(
            &r,
            Box::pin(async move {
                Sleep::until(&r2, at).await;
                7
            }),
        );
        let mut out = Vec::new();
        ex.run_ready(&r, |_, v| out.push(v));
        let next = r.next_timer().unwrap();
        assert_eq!(next, at);
        let mut evs = Vec::new();
        r.poll_events(Some(next.saturating_duration_since(Instant::now())), &mut evs).unwrap();
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        assert_eq!(r.fire_timers(Instant::now()), 1);
        ex.run_ready(&r, |_, v| out.push(v));
        assert_eq!(out, vec![7]);
        assert!(r.next_timer().is_none());

        // A wake from another thread makes the epoll fd readable.
        let token = crate::cancel::CancelToken::new().unwrap();
        let t2 = token.clone();
        ex.spawn(
            &r,
            Box::pin(async move {
                t2.fired().await;
                9
            }),
        );
        ex.run_ready(&r, |_, v| out.push(v));
        assert_eq!(out.len(), 1);
        let th = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            token.fire();
        });
        let started = Instant::now();
        // (The first wait may return at once: the spawn signalled the eventfd.)
        for _ in 0..10 {
            r.poll_events(Some(Duration::from_secs(5)), &mut evs).unwrap();
            ex.run_ready(&r, |_, v| out.push(v));
            if out.len() == 2 {
                break;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(4));
        assert_eq!(out, vec![7, 9]);
        th.join().unwrap();
    }

    #[test]
    fn removed_task_is_dropped() {
        let r = Arc::new(Reactor::new().unwrap());
        let mut ex: Executor<()> = Executor::default();
        let flag = Arc::new(());
        let f2 = flag.clone();
        let id = ex.spawn(
            &r,
            Box::pin(async move {
                let _keep = f2;
                std::future::pending::<()>().await
            }),
        );
        ex.run_ready(&r, |_, _| {});
        assert_eq!(Arc::strong_count(&flag), 2);
        assert!(ex.remove(id));
        assert_eq!(Arc::strong_count(&flag), 1);
        assert_eq!(ex.live(), 0);
    }
}

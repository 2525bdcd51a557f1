//! Non-blocking I/O on the library's [`Stream`] for the event loop.
//!
//! A multi drives the same connections the blocking transport pools (`http1::Conn`
//! over `connection::Stream`): plain TCP and Unix sockets, and TLS as rustls's
//! sans-IO `ClientConnection` (`read_tls` / `process_new_packets` / `write_tls`) over
//! whatever is below it, a tunnel or TLS to a proxy included. Every syscall here is
//! non-blocking (`MSG_DONTWAIT`, writes with `MSG_NOSIGNAL`: no SIGPIPE in the host);
//! `WouldBlock` makes the task wait on the reactor for the socket under every layer,
//! readable for reads, writable for writes, bounded by a deadline (a timer).

use std::future::Future;
use std::io::{self, Read, Write};
use std::os::fd::BorrowedFd;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use crate::connection::Stream;
use crate::error::{Error, Result};

use super::reactor::{Interest, Reactor, TimerId};

fn recv(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match rustix::net::recv(fd, &mut *buf, rustix::net::RecvFlags::DONTWAIT) {
            Ok((n, _)) => return Ok(n),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

fn send(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    loop {
        match rustix::net::send(fd, buf, rustix::net::SendFlags::DONTWAIT | rustix::net::SendFlags::NOSIGNAL) {
            Ok(n) => return Ok(n),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// One non-blocking read. TLS: plaintext if rustls has some, else one `read_tls`
/// from the layer below. `Ok(0)` is a clean end (close_notify on TLS); a TLS peer
/// that closes without close_notify gives `UnexpectedEof`.
pub fn try_read(s: &mut Stream, buf: &mut [u8]) -> io::Result<usize> {
    match s {
        Stream::Tcp(_) | Stream::Unix(_) => recv(s.fd(), buf),
        Stream::Tls(t) => loop {
            match t.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            // Records rustls wants to send (a key update, an alert) go first.
            let _ = flush_tls(&mut t.conn, &mut t.sock);
            t.conn.read_tls(&mut NbRead(&mut t.sock))?;
            if let Err(e) = t.conn.process_new_packets() {
                let _ = flush_tls(&mut t.conn, &mut t.sock); // the alert
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
        },
    }
}

/// One non-blocking write; on TLS the plaintext is taken whole by rustls (up to its
/// buffer) and as much as the socket takes is sent. Call [`try_flush`] until it
/// stops saying `WouldBlock` to send the rest.
pub fn try_write(s: &mut Stream, buf: &[u8]) -> io::Result<usize> {
    match s {
        Stream::Tcp(_) | Stream::Unix(_) => send(s.fd(), buf),
        Stream::Tls(t) => {
            flush_tls(&mut t.conn, &mut t.sock)?;
            let n = t.conn.writer().write(buf)?;
            match flush_tls(&mut t.conn, &mut t.sock) {
                Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Err(e),
                _ => {}
            }
            if n == 0 && !buf.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            Ok(n)
        }
    }
}

/// Send what a TLS layer still holds (no-op on a plain socket).
pub fn try_flush(s: &mut Stream) -> io::Result<()> {
    match s {
        Stream::Tcp(_) | Stream::Unix(_) => Ok(()),
        Stream::Tls(t) => flush_tls(&mut t.conn, &mut t.sock),
    }
}

fn flush_tls(conn: &mut rustls::ClientConnection, below: &mut Stream) -> io::Result<()> {
    while conn.wants_write() {
        conn.write_tls(&mut NbWrite(below))?;
    }
    try_flush(below)
}

/// The layer below a TLS connection, read without blocking.
pub struct NbRead<'a>(pub &'a mut Stream);

impl Read for NbRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        try_read(self.0, buf)
    }
}

/// The layer below a TLS connection, written without blocking.
pub struct NbWrite<'a>(pub &'a mut Stream);

impl Write for NbWrite<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        try_write(self.0, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        try_flush(self.0)
    }
}

/// Wait until `fd` is ready for `interest` (or spuriously woken: callers retry their
/// syscall), or `deadline` passes (`Ready(false)`).
pub struct WaitFd<'a> {
    reactor: &'a Reactor,
    fd: BorrowedFd<'a>,
    interest: Interest,
    deadline: Option<Instant>,
    timer: Option<TimerId>,
    armed: bool,
}

impl<'a> WaitFd<'a> {
    pub fn new(reactor: &'a Reactor, fd: BorrowedFd<'a>, interest: Interest, deadline: Option<Instant>) -> Self {
        WaitFd { reactor, fd, interest, deadline, timer: None, armed: false }
    }
}

impl Future for WaitFd<'_> {
    /// true = ready (or woken), false = the deadline passed.
    type Output = Result<bool>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<bool>> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Poll::Ready(Ok(false));
        }
        if self.armed {
            return Poll::Ready(Ok(true));
        }
        if let Err(e) = self.reactor.register(self.fd, self.interest, cx.waker()) {
            return Poll::Ready(Err(e));
        }
        if let Some(d) = self.deadline {
            let id = self.reactor.add_timer(d, cx.waker());
            self.timer = Some(id);
        }
        self.armed = true;
        Poll::Pending
    }
}

impl Drop for WaitFd<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.timer.take() {
            self.reactor.cancel_timer(id);
        }
    }
}

/// Read what is there, waiting up to `deadline`; `timeout()` builds the error when it
/// passes. I/O errors are returned as they are (the caller maps them).
pub async fn read<F: Fn() -> Error>(
    r: &Reactor,
    s: &mut Stream,
    buf: &mut [u8],
    deadline: Option<Instant>,
    timeout: F,
) -> Result<io::Result<usize>> {
    loop {
        match try_read(s, buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return Ok(other),
        }
        if !WaitFd::new(r, s.fd(), Interest::Read, deadline).await? {
            return Err(timeout());
        }
    }
}

/// Write all of `buf` (and flush TLS), each wait for the socket bounded by a fresh
/// write timeout (`per_op`, as the blocking path's SO_SNDTIMEO) and by `deadline`.
pub async fn write_all<F: Fn() -> Error>(
    r: &Reactor,
    s: &mut Stream,
    mut buf: &[u8],
    per_op: Option<std::time::Duration>,
    timeout: F,
) -> Result<()> {
    while !buf.is_empty() {
        match try_write(s, buf) {
            Ok(0) => return Err(Error::Write("the connection accepted no data".into())),
            Ok(n) => {
                buf = &buf[n..];
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::from_write(e)),
        }
        let d = per_op.map(|t| Instant::now() + t);
        if !WaitFd::new(r, s.fd(), Interest::Write, d).await? {
            return Err(timeout());
        }
    }
    flush(r, s, per_op, timeout).await
}

/// Send what TLS still holds.
pub async fn flush<F: Fn() -> Error>(
    r: &Reactor,
    s: &mut Stream,
    per_op: Option<std::time::Duration>,
    timeout: F,
) -> Result<()> {
    loop {
        match try_flush(s) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::from_write(e)),
        }
        let d = per_op.map(|t| Instant::now() + t);
        if !WaitFd::new(r, s.fd(), Interest::Write, d).await? {
            return Err(timeout());
        }
    }
}

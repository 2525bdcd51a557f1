//! HTTP/2 over TLS (negotiated with ALPN "h2"), opt-in with `http2`.
//!
//! The h2 crate is asynchronous; a process-wide current-thread tokio runtime runs it.
//! Every request is sent and its body read by the calling thread (`block_on`), and
//! the thread inside `block_on` also drives the connections' frame I/O, so the
//! library stays blocking and needs no thread of its own.
//! One connection per origin carries many concurrent requests (streams).
//! Servers that don't offer h2 get HTTP/1.1 from the regular pool.

use std::time::{Duration, Instant};

use bytes::Bytes;
use once_cell::sync::Lazy;
use tokio::runtime::Runtime;

use crate::deadline::{self, Guard};
use crate::types::HeadLimits;
use crate::error::{Error, Result};
use crate::headers::Headers;
use crate::request::{unwrap_io, BodySource, Request};
use crate::response::RawBody;
use crate::tls::TlsConnector;

/// A current-thread runtime: whichever calling thread is inside `block_on` holds its
/// core and drives every connection's I/O itself (no hand-off to a worker thread per
/// request); other callers wait for their own stream and take the core over when it
/// is released.
static RT: Lazy<std::result::Result<Runtime, String>> = Lazy::new(|| {
    tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build().map_err(|e| e.to_string())
});

fn rt() -> Result<&'static Runtime> {
    RT.as_ref().map_err(|e| Error::Internal(format!("cannot start the HTTP/2 runtime: {e}")))
}

/// Run `fut` with an optional timeout; `on_timeout` builds the error.
async fn within<T>(
    t: Option<Duration>,
    fut: impl std::future::Future<Output = T>,
    on_timeout: impl FnOnce() -> Error,
) -> Result<T> {
    match t {
        None => Ok(fut.await),
        Some(d) => tokio::time::timeout(d, fut).await.map_err(|_| on_timeout()),
    }
}

/// Run `fut` until it completes, the guard's token fires (`Cancelled`) or its total
/// deadline passes (`TotalTimeout`). Giving up drops `fut`: h2 then resets the stream
/// (RST_STREAM CANCEL); the shared connection stays up for the other streams.
async fn guarded<F: std::future::Future>(guard: &Guard, fut: F) -> Result<F::Output> {
    use std::future::Future;
    use std::task::Poll;
    let mut fut = std::pin::pin!(fut);
    let mut fired = guard.cancel.as_ref().map(|c| c.fired());
    let mut sleep = guard.deadline.map(|d| Box::pin(tokio::time::sleep_until(tokio::time::Instant::from_std(d))));
    std::future::poll_fn(|cx| {
        if let Some(f) = fired.as_mut() {
            if std::pin::Pin::new(f).poll(cx).is_ready() {
                return Poll::Ready(Err(deadline::cancelled()));
            }
        }
        if let Some(s) = sleep.as_mut() {
            if s.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(deadline::total_expired()));
            }
        }
        fut.as_mut().poll(cx).map(Ok)
    })
    .await
}

/// A tokio TCP stream that never raises SIGPIPE: rustls writes TLS records with
/// vectored writes, which tokio/std send with `writev` (no MSG_NOSIGNAL); here they
/// go out with `sendmsg(MSG_NOSIGNAL)`. Plain writes already use `send(MSG_NOSIGNAL)`.
struct NoSigPipe(tokio::net::TcpStream);

impl tokio::io::AsyncRead for NoSigPipe {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for NoSigPipe {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        use std::task::Poll;
        loop {
            match self.0.poll_write_ready(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {}
            }
            let tcp = &self.0;
            match tcp.try_io(tokio::io::Interest::WRITABLE, || {
                socket2::SockRef::from(tcp).send_vectored_with_flags(bufs, libc::MSG_NOSIGNAL)
            }) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                r => return Poll::Ready(r),
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

pub(crate) fn h2_err(e: h2::Error, reading: bool) -> Error {
    if let Some(io) = e.get_io() {
        let kind = io.kind();
        let msg = io.to_string();
        return if reading {
            Error::from_read(std::io::Error::new(kind, msg))
        } else {
            Error::from_write(std::io::Error::new(kind, msg))
        };
    }
    if e.is_reset() && e.is_library() && e.reason() == Some(h2::Reason::PROTOCOL_ERROR) {
        // h2 found the server's message on this stream malformed (RFC 9113 section
        // 8.1.1: a request pseudo-header or a missing :status in a response, a
        // pseudo-header in trailers, a content-length mismatch...) and reset the stream.
        return Error::RemoteProtocol(
            "HTTP/2: malformed response from the server (RFC 9113 section 8.1.1); the stream was reset with PROTOCOL_ERROR"
                .into(),
        );
    }
    Error::RemoteProtocol(format!("HTTP/2: {e}"))
}

/// Flow-control windows the client grants (hyper's defaults). RFC 9113's 65,535
/// bytes made a 64 KiB response stall for a WINDOW_UPDATE round trip before its last
/// byte, and h2 sent a WINDOW_UPDATE for every ~32 KiB read. The windows bound what
/// a server may send ahead of the reader: at most 2 MiB per stream, 5 MiB per
/// connection, buffered until read.
const STREAM_WINDOW: u32 = 2 * 1024 * 1024;
const CONNECTION_WINDOW: u32 = 5 * 1024 * 1024;

/// A connection's request handle (cheap to clone; shared by threads).
#[derive(Clone)]
pub struct H2Conn {
    send: h2::client::SendRequest<Bytes>,
    /// Addresses, TLS version, cipher, ALPN.
    pub info: std::sync::Arc<crate::info::ConnInfo>,
    /// Caps on every response head (the same as HTTP/1.1's).
    limits: HeadLimits,
}

/// Check a response head against the caps HTTP/1.1 applies too (h2's own
/// `max_header_list_size`, set from the same limits, stops the bytes earlier).
pub(crate) fn check_head(headers: &http::HeaderMap, limits: &HeadLimits) -> Result<()> {
    if headers.len() > limits.max_header_count {
        return Err(Error::RemoteProtocol(format!(
            "HTTP/2 response has more than {} header fields ({})",
            limits.max_header_count,
            headers.len()
        )));
    }
    let bytes: usize = headers.iter().map(|(n, v)| n.as_str().len() + v.len() + 4).sum();
    if bytes > limits.max_header_bytes {
        return Err(Error::RemoteProtocol(format!("HTTP/2 response head exceeds {} bytes", limits.max_header_bytes)));
    }
    Ok(())
}

impl H2Conn {
    /// Connect to `host:port`, handshake TLS offering h2, and start HTTP/2. Ok(None)
    /// when the server chose HTTP/1.1. Response heads are capped by `limits`; server
    /// push is disabled (SETTINGS_ENABLE_PUSH = 0: a PUSH_PROMISE is a protocol error).
    pub fn connect(
        host: &str,
        port: u16,
        tls: &TlsConnector,
        connect_timeout: Option<Duration>,
        guard: &Guard,
        limits: &HeadLimits,
    ) -> Result<Option<H2Conn>> {
        let name_str = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let deadline = connect_timeout.map(|t| Instant::now() + t);
        // Resolve and connect on this thread, like HTTP/1.1 (same timeout handling,
        // TCP_NODELAY), then hand the socket to the runtime.
        let std_tcp = crate::connection::connect_tcp_guarded(&name_str, port, connect_timeout, None, guard)?;
        H2Conn::handshake(std_tcp, host, port, tls, deadline, guard, limits)
    }

    /// TLS offering h2, then HTTP/2, over `std_tcp`: a socket connected to the
    /// origin, or a tunnel to it (CONNECT or SOCKS already done). Both within
    /// `deadline`. Ok(None) when the server chose HTTP/1.1. Response heads are capped
    /// by `limits`; server push is disabled.
    pub fn handshake(
        std_tcp: std::net::TcpStream,
        host: &str,
        port: u16,
        tls: &TlsConnector,
        deadline: Option<Instant>,
        guard: &Guard,
        limits: &HeadLimits,
    ) -> Result<Option<H2Conn>> {
        let limits = *limits;
        let rt = rt()?;
        let name_str = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let server_name = rustls::pki_types::ServerName::try_from(name_str.clone())
            .map_err(|e| Error::InvalidUrl(format!("{host:?} is not a valid TLS server name: {e}")))?;
        let connector = tokio_rustls::TlsConnector::from(tls.config()?);
        let left = move || deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let timeout_err = || Error::ConnectTimeout(format!("connecting to {name_str}:{port}"));
        let addrs = (std_tcp.peer_addr().ok(), std_tcp.local_addr().ok());
        std_tcp.set_nonblocking(true).map_err(|e| Error::Connect(e.to_string()))?;
        rt.block_on(guarded(guard, async {
            let tcp = tokio::net::TcpStream::from_std(std_tcp).map_err(|e| Error::Connect(e.to_string()))?;
            let tcp = NoSigPipe(tcp);
            let tls = within(left(), connector.connect(server_name, tcp), timeout_err).await?.map_err(|e| {
                match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                    Some(t) => Error::Tls(format!("handshake with {name_str}: {}", crate::error::tls_words(t))),
                    None => Error::Tls(format!("handshake with {name_str}: {e}")),
                }
            })?;
            let info = std::sync::Arc::new(crate::info::ConnInfo::of_tls(addrs.0, addrs.1, tls.get_ref().1));
            if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
                return Ok(None);
            }
            let mut builder = h2::client::Builder::new();
            builder
                .enable_push(false)
                .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
                .initial_window_size(STREAM_WINDOW)
                .initial_connection_window_size(CONNECTION_WINDOW);
            let (send, conn) =
                within(left(), builder.handshake(tls), timeout_err).await?.map_err(|e| h2_err(e, true))?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Ok(Some(H2Conn { send, info, limits }))
        }))?
    }

    /// Send one request and wait for the response head. Returns (status, headers,
    /// body). Errors before the request went out say so (`.1`): then it is safe to
    /// retry on a new connection.
    pub fn send(
        &self,
        req: &Request,
        body: BodySource,
        read_timeout: Option<Duration>,
        write_timeout: Option<Duration>,
        pool_timeout: Option<Duration>,
        guard: &Guard,
    ) -> std::result::Result<(u16, Headers, H2Body), (Error, bool)> {
        guard.check().map_err(|e| (e, true))?;
        let rt = rt().map_err(|e| (e, true))?;
        let mut builder = http::Request::builder().method(req.method.as_str()).uri(req.url.as_str());
        for (n, v) in req.headers.iter() {
            // Connection-specific headers don't exist in HTTP/2; Host becomes :authority.
            if ["host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"]
                .iter()
                .any(|h| n.eq_ignore_ascii_case(h))
            {
                continue;
            }
            builder = builder.header(n, v);
        }
        let request = builder.body(()).map_err(|e| (Error::LocalProtocol(format!("HTTP/2 request: {e}")), true))?;
        let empty = matches!(&body, BodySource::Bytes(b) if b.is_empty());
        let sent = std::cell::Cell::new(false);
        let r = rt.block_on(guarded(guard, async {
            let mut send = within(pool_timeout, self.send.clone().ready(), || {
                Error::PoolTimeout("waiting for an HTTP/2 stream".into())
            })
            .await
            .map_err(|e| (e, true))?
            .map_err(|e| (h2_err(e, false), true))?;
            let (resp_fut, mut stream) = send.send_request(request, empty).map_err(|e| (h2_err(e, false), true))?;
            sent.set(true);
            if !empty {
                send_body(&mut stream, body, write_timeout).await.map_err(|e| (e, false))?;
            }
            crate::info::mark_sent();
            let resp = within(read_timeout, resp_fut, || Error::ReadTimeout("waiting for the HTTP/2 response".into()))
                .await
                .map_err(|e| (e, false))?
                .map_err(|e| {
                    // GOAWAY for our stream or REFUSED_STREAM: the server did not
                    // process it, so it may be retried on a new connection.
                    let unprocessed = e.is_go_away() || e.reason() == Some(h2::Reason::REFUSED_STREAM);
                    (h2_err(e, true), unprocessed)
                })?;
            check_head(resp.headers(), &self.limits).map_err(|e| (e, false))?;
            let status = resp.status().as_u16();
            let mut headers = Headers::with_capacity(resp.headers().len());
            for (n, v) in resp.headers() {
                let v = String::from_utf8_lossy(v.as_bytes());
                headers.push_unchecked(n.as_str(), &v);
            }
            let recv = resp.into_body();
            Ok((
                status,
                headers,
                H2Body {
                    recv: Some(recv),
                    pending: std::collections::VecDeque::new(),
                    read_timeout,
                    guard: guard.clone(),
                },
            ))
        }));
        match r {
            Ok(inner) => inner,
            Err(e) => Err((e, !sent.get())),
        }
    }

    /// Close this handle; the connection ends (GOAWAY, then the socket closes) once
    /// no other handle or stream uses it. The runtime gets a turn so that happens now
    /// rather than at the next HTTP/2 request.
    pub fn close(self) {
        drop(self.send);
        if tokio::runtime::Handle::try_current().is_ok() {
            return; // inside the runtime already: it runs the connection task itself
        }
        if let Ok(rt) = rt() {
            rt.block_on(async {
                for _ in 0..2 {
                    tokio::task::yield_now().await;
                }
            });
        }
    }

    /// Can this connection take more requests? Lets the runtime process what the
    /// server sent while the connection sat idle (a GOAWAY, a close) first: with a
    /// current-thread runtime nothing reads an idle connection between requests.
    pub fn is_open(&self) -> bool {
        if let Ok(rt) = rt() {
            rt.block_on(async {
                for _ in 0..2 {
                    tokio::task::yield_now().await;
                }
            });
        }
        self.is_open_now()
    }

    /// [`H2Conn::is_open`] without the runtime's turn: false only when h2 already
    /// knows the connection is gone. For a connection whose last stream ended an
    /// instant ago (the pool's `FRESH_IDLE`): a GOAWAY not yet processed then fails
    /// the next request as unprocessed, and the transport retries it on a new
    /// connection.
    pub fn is_open_now(&self) -> bool {
        let mut s = self.send.clone();
        futures_ready(&mut s)
    }
}

/// Poll readiness once without waiting: an error means the connection is gone.
fn futures_ready(s: &mut h2::client::SendRequest<Bytes>) -> bool {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    !matches!(s.poll_ready(&mut cx), std::task::Poll::Ready(Err(_)))
}

async fn send_body(
    stream: &mut h2::SendStream<Bytes>,
    body: BodySource,
    write_timeout: Option<Duration>,
) -> Result<()> {
    let wt = || Error::WriteTimeout("HTTP/2 flow control window stayed closed".into());
    let put = |data: Bytes, end: bool, stream: &mut h2::SendStream<Bytes>| -> Result<()> {
        stream.send_data(data, end).map_err(|e| h2_err(e, false))
    };
    match body {
        BodySource::Bytes(b) => {
            let mut rest = Bytes::copy_from_slice(&b);
            while !rest.is_empty() {
                stream.reserve_capacity(rest.len());
                let cap = within(write_timeout, std::future::poll_fn(|cx| stream.poll_capacity(cx)), wt)
                    .await?
                    .ok_or_else(|| Error::RemoteProtocol("HTTP/2 stream closed while sending".into()))?
                    .map_err(|e| h2_err(e, false))?;
                let chunk = rest.split_to(cap.min(rest.len()));
                put(chunk, rest.is_empty(), stream)?;
            }
            Ok(())
        }
        BodySource::Reader(mut r) => {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = loop {
                    match r.read(&mut buf) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            return Err(
                                unwrap_io(&e).unwrap_or_else(|| Error::from_local_io("reading the request body", e))
                            )
                        }
                    }
                };
                if n == 0 {
                    return put(Bytes::new(), true, stream);
                }
                let mut rest = Bytes::copy_from_slice(&buf[..n]);
                while !rest.is_empty() {
                    stream.reserve_capacity(rest.len());
                    let cap = within(write_timeout, std::future::poll_fn(|cx| stream.poll_capacity(cx)), wt)
                        .await?
                        .ok_or_else(|| Error::RemoteProtocol("HTTP/2 stream closed while sending".into()))?
                        .map_err(|e| h2_err(e, false))?;
                    let chunk = rest.split_to(cap.min(rest.len()));
                    put(chunk, false, stream)?;
                }
            }
        }
    }
}

use std::io::Read;

/// A response body arriving on an HTTP/2 stream.
pub struct H2Body {
    recv: Option<h2::RecvStream>,
    /// DATA frames received and not yet handed out (several per wake-up).
    pending: std::collections::VecDeque<Bytes>,
    read_timeout: Option<Duration>,
    guard: Guard,
}

impl H2Body {
    /// Wait for the next DATA frame, then take every frame already received, in
    /// one trip into the runtime. Ok(false) at the end of the stream.
    fn fill(&mut self) -> Result<bool> {
        let Some(recv) = self.recv.as_mut() else { return Ok(false) };
        let rt = rt()?;
        let t = self.read_timeout;
        let pending = &mut self.pending;
        let guard = &self.guard;
        let done = rt.block_on(guarded(guard, async {
            let first = within(t, recv.data(), || Error::ReadTimeout("HTTP/2 body".into())).await?;
            if take(recv, pending, first)? {
                return Ok::<bool, Error>(true);
            }
            // Drain what is already here without waiting.
            loop {
                let next = std::future::poll_fn(|cx| match recv.poll_data(cx) {
                    std::task::Poll::Ready(v) => std::task::Poll::Ready(Some(v)),
                    std::task::Poll::Pending => std::task::Poll::Ready(None),
                })
                .await;
                match next {
                    None => return Ok(false),
                    Some(item) => {
                        if take(recv, pending, item)? {
                            return Ok(true);
                        }
                    }
                }
            }
        }));
        let done = done.and_then(|r| r);
        match done {
            Ok(true) => {
                self.recv = None;
                Ok(!self.pending.is_empty())
            }
            Ok(false) => Ok(true),
            Err(e) => {
                self.recv = None;
                Err(e)
            }
        }
    }
}

/// Keep one DATA frame (returning its flow-control credit); Ok(true) at the end.
fn take(
    recv: &mut h2::RecvStream,
    pending: &mut std::collections::VecDeque<Bytes>,
    item: Option<std::result::Result<Bytes, h2::Error>>,
) -> Result<bool> {
    match item {
        None => Ok(true),
        Some(Err(e)) => Err(h2_err(e, true)),
        Some(Ok(data)) => {
            let _ = recv.flow_control().release_capacity(data.len());
            pending.push_back(data);
            Ok(false)
        }
    }
}

impl RawBody for H2Body {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if let Err(e) = self.guard.check() {
            // Dropping the stream resets it (RST_STREAM): nothing more is read.
            self.recv = None;
            self.pending.clear();
            return Err(e);
        }
        while self.pending.front().is_none_or(|b| b.is_empty()) {
            self.pending.pop_front();
            if !self.pending.is_empty() {
                continue;
            }
            if !self.fill()? {
                return Ok(0);
            }
        }
        let front = self.pending.front_mut().ok_or_else(|| Error::Internal("h2 body".into()))?;
        let n = front.len().min(buf.len());
        buf[..n].copy_from_slice(&front[..n]);
        let _ = front.split_to(n);
        Ok(n)
    }
}

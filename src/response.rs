//! `Response`: status, headers, the request as sent, history, and a body that can be
//! streamed (decoded) or read whole.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use url::Url;

use crate::decoding::{self, DecodeLimits};
use crate::error::{Error, Result};
use crate::headers::Headers;
use crate::observe::{Observers, TraceEvent};
use crate::request::{unwrap_io, wrap_err, Request};
use crate::types::Version;

/// A body as produced by a transport, before content decoding.
pub trait RawBody: Send {
    /// Read body bytes; 0 at the end. After the end the transport has released its
    /// connection.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize>;

    /// True when the transport already showed these bytes to the debug hook
    /// (`DataIn`) and reported them to the progress callback as they arrived (the
    /// multi reads a body into memory as it comes, `multi/http.rs` `Arrivals`): the
    /// response then does not show or report them again, only the final progress
    /// report at the end of the body (as the blocking reader's last one).
    fn observed(&self) -> bool {
        false
    }
}

/// An in-memory body.
pub struct BytesBody {
    data: Vec<u8>,
    pos: usize,
}

impl BytesBody {
    pub fn new(data: Vec<u8>) -> BytesBody {
        BytesBody { data, pos: 0 }
    }
}

impl RawBody for BytesBody {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let n = (self.data.len() - self.pos).min(buf.len());
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Raw body bytes, counted (for progress reports), shown to the debug hook, and
/// optionally capped: more than `cap` raw bytes is [`Error::BodyTooLarge`]
/// (buffered bodies only).
struct RawReader {
    inner: Box<dyn RawBody>,
    /// Only with a progress callback (nothing else reads it).
    received: Option<Arc<AtomicU64>>,
    debug: Option<crate::debug::DebugFn>,
    cap: Option<u64>,
    seen: u64,
}

impl Read for RawReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf).map_err(wrap_err)?;
        if let Some(r) = &self.received {
            r.fetch_add(n as u64, Ordering::Relaxed);
        }
        if let (Some(d), true) = (&self.debug, n > 0) {
            d(crate::debug::DebugKind::DataIn, &buf[..n]);
        }
        self.seen += n as u64;
        if let Some(cap) = self.cap {
            if self.seen > cap {
                return Err(wrap_err(too_large("raw", cap)));
            }
        }
        Ok(n)
    }
}

fn too_large(what: &str, cap: u64) -> Error {
    Error::BodyTooLarge(format!(
        "the {what} response body is larger than the client's buffered-body cap of {cap} bytes \
         (httpx_client_config_set_max_body_size; stream it with httpx_response_read instead)"
    ))
}

enum BodyState {
    /// Not decoded yet; decoding is set up on first read.
    Raw(Box<dyn RawBody>),
    /// Decoding stream in progress; `started` once a streaming read took bytes.
    Stream(Box<dyn Read + Send>, bool),
    /// Whole body in memory; `pos` is the streaming read position.
    Buffered {
        data: Vec<u8>,
        pos: usize,
    },
    /// The stream was read to the end by streaming reads (nothing kept).
    Consumed,
    Failed(Error),
}

/// An HTTP response: a pointer to its [`ResponseData`] (fields and methods reached
/// through `Deref`). Boxed so that a response moves as 8 bytes from the transport
/// through the client's redirect loop to the caller instead of 880 (issue 16: ~6
/// such moves were ~700 of 24k instructions per keep-alive GET).
pub struct Response(Box<ResponseData>);

impl std::ops::Deref for Response {
    type Target = ResponseData;
    #[inline]
    fn deref(&self) -> &ResponseData {
        &self.0
    }
}

impl std::ops::DerefMut for Response {
    #[inline]
    fn deref_mut(&mut self) -> &mut ResponseData {
        &mut self.0
    }
}

/// The parts of a [`Response`].
pub struct ResponseData {
    pub status: u16,
    pub reason: String,
    pub version: Version,
    pub headers: Headers,
    /// Final URL (after redirects).
    pub url: Url,
    /// The request that produced this response, as sent.
    pub request: Request,
    /// Earlier responses of redirects and multi-step auth, oldest first.
    pub history: Vec<Response>,
    /// HTTPX `response.next_request`: the request a redirect would send, when this
    /// response is a redirect that was not followed.
    pub next_request: Option<Box<Request>>,
    pub elapsed: Duration,
    /// Addresses, TLS facts, reuse and phase timings (`crate::info`).
    pub info: crate::info::ResponseInfo,
    started: Instant,
    body: BodyState,
    limits: DecodeLimits,
    text: Option<String>,
    default_encoding: Option<String>,
    observers: Observers,
    /// Raw body bytes read so far, shared with the body's reader; only with a
    /// progress callback (one allocation per response less without).
    received: Option<Arc<AtomicU64>>,
    /// The raw body was `RawBody::observed`: no debug or progress per chunk here.
    observed: bool,
}

impl Response {
    pub fn new(
        status: u16,
        reason: String,
        version: Version,
        headers: Headers,
        body: Box<dyn RawBody>,
        request: Request,
        started: Instant,
    ) -> Response {
        Response(Box::new(ResponseData {
            status,
            reason,
            version,
            headers,
            url: request.url.clone(),
            request,
            history: Vec::new(),
            next_request: None,
            elapsed: started.elapsed(),
            info: crate::info::ResponseInfo::default(),
            started,
            body: BodyState::Raw(body),
            limits: DecodeLimits::default(),
            text: None,
            default_encoding: None,
            observers: Observers::default(),
            received: None,
            observed: false,
        }))
    }
}

impl ResponseData {
    pub(crate) fn set_observers(&mut self, o: Observers, started: Instant) {
        self.observers = o;
        self.started = started;
        // Transports that record no timings (callback, custom): the head is in now.
        self.info.head_in_if_unset(started);
    }

    /// Report progress after body bytes arrived; Err when the callback aborts.
    fn report(&mut self, done: bool) -> Result<()> {
        if self.observers.is_empty() {
            return Ok(());
        }
        if let Some(p) = self.observers.progress.as_ref().filter(|_| done || !self.observed) {
            let recv = self.received.as_ref().map_or(0, |r| r.load(Ordering::Relaxed));
            let total = self.headers.get("Content-Length").and_then(|v| v.trim().parse::<u64>().ok());
            let sent = self.request.body.len().unwrap_or(0);
            if !p(sent, self.request.body.len(), recv, total) {
                let e = Error::Callback("transfer aborted by the progress callback".into());
                self.body = BodyState::Failed(e.clone());
                return Err(e);
            }
        }
        if done {
            self.observers.trace(TraceEvent::BodyDone, self.started.elapsed(), "");
        }
        Ok(())
    }

    pub(crate) fn set_decode_limits(&mut self, l: DecodeLimits, default_encoding: Option<String>) {
        self.limits = l;
        self.default_encoding = default_encoding;
    }

    /// Standard reason phrase when the server sent none.
    pub fn reason_phrase(&self) -> &str {
        if self.reason.is_empty() {
            crate::status::reason(self.status)
        } else {
            &self.reason
        }
    }

    pub fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308) && self.headers.contains("Location")
    }

    /// Set up decoding; `buffered` caps the raw bytes at the body cap.
    fn start_stream(&mut self, buffered: bool) -> Result<()> {
        if let BodyState::Raw(_) = self.body {
            let BodyState::Raw(raw) = std::mem::replace(&mut self.body, BodyState::Consumed) else { unreachable!() };
            let encodings: Vec<&str> = self.headers.get_all("Content-Encoding").collect();
            let cap = if buffered { self.limits.max_body_bytes } else { None };
            self.observed = raw.observed();
            let reader = RawReader {
                received: if self.observers.progress.is_some() {
                    Some(self.received.get_or_insert_with(|| Arc::new(AtomicU64::new(0))).clone())
                } else {
                    None
                },
                debug: if self.observed { None } else { self.observers.debug.clone() },
                inner: raw,
                cap,
                seen: 0,
            };
            if encodings.is_empty() {
                self.body = BodyState::Stream(Box::new(reader), false);
            } else {
                match decoding::decoder(reader, &encodings, &self.limits) {
                    Ok(d) => self.body = BodyState::Stream(d, false),
                    Err(e) => {
                        self.body = BodyState::Failed(e.clone());
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }

    fn map_read_err(e: io::Error) -> Error {
        if let Some(inner) = unwrap_io(&e) {
            return inner;
        }
        if let Some(msg) = decoding::is_decode_error(&e) {
            return Error::Decoding(msg);
        }
        match e.kind() {
            io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof => {
                Error::Decoding(e.to_string())
            }
            _ => Error::from_read(e),
        }
    }

    /// A body read failed: name the peer and limit, tell trace and debug.
    fn failed(&self, e: Error) -> Error {
        let e = self.info.explain(e, &self.url);
        self.observers.failed(self.started.elapsed(), &e);
        e
    }

    /// Streaming read of the decoded body; 0 at the end.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        self.start_stream(false)?;
        match &mut self.body {
            BodyState::Stream(r, started) => loop {
                *started = true;
                match r.read(buf) {
                    Ok(0) if !buf.is_empty() => {
                        self.body = BodyState::Consumed;
                        self.elapsed = self.started.elapsed();
                        self.info.timings.set(crate::info::Timing::Total, self.elapsed);
                        self.report(true)?;
                        return Ok(0);
                    }
                    Ok(n) => {
                        self.report(false)?;
                        return Ok(n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let err = self.failed(Self::map_read_err(e));
                        self.body = BodyState::Failed(err.clone());
                        return Err(err);
                    }
                }
            },
            BodyState::Buffered { data, pos } => {
                let n = (data.len() - *pos).min(buf.len());
                buf[..n].copy_from_slice(&data[*pos..*pos + n]);
                *pos += n;
                Ok(n)
            }
            BodyState::Consumed => Ok(0),
            BodyState::Failed(e) => Err(e.clone()),
            BodyState::Raw(_) => Err(Error::Internal("body not started".into())),
        }
    }

    /// The whole decoded body, read on first call and kept.
    /// The body is capped at the client's body size (raw and decoded bytes alike,
    /// [`Error::BodyTooLarge`]); streaming reads with [`Response::read`] are not.
    /// After a streaming read took bytes: [`Error::StreamConsumed`].
    pub fn body(&mut self) -> Result<&[u8]> {
        if matches!(self.body, BodyState::Consumed | BodyState::Stream(_, true)) {
            return Err(Error::StreamConsumed("the body was already read by streaming reads".into()));
        }
        if !matches!(self.body, BodyState::Buffered { .. }) {
            let cap = self.limits.max_body_bytes;
            let hint = self.headers.get("Content-Length").and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0);
            if let Some(cap) = cap {
                let bodiless =
                    self.request.method.eq_ignore_ascii_case("HEAD") || matches!(self.status, 100..=199 | 204 | 304);
                if hint > cap && !bodiless && matches!(self.body, BodyState::Raw(_)) {
                    let e = self.failed(too_large("announced (Content-Length)", cap));
                    self.body = BodyState::Failed(e.clone());
                    return Err(e);
                }
            }
            self.start_stream(true)?;
            if let BodyState::Failed(e) = &self.body {
                return Err(e.clone());
            }
            let mut data = Vec::new();
            data.reserve(hint.min(cap.unwrap_or(u64::MAX)).min(64 << 20) as usize);
            // One byte over the cap is enough to know the body is too large.
            let limit = cap.map_or(u64::MAX, |c| c.saturating_add(1));
            if self.observers.progress.is_none() {
                // No per-chunk reports wanted: let std grow `data` without zeroing a
                // scratch buffer per response.
                if let BodyState::Stream(r, _) = &mut self.body {
                    if let Err(e) = r.by_ref().take(limit).read_to_end(&mut data) {
                        let err = self.failed(Self::map_read_err(e));
                        self.body = BodyState::Failed(err.clone());
                        return Err(err);
                    }
                }
            } else {
                let mut chunk = vec![0u8; 16 * 1024];
                while let BodyState::Stream(r, _) = &mut self.body {
                    if data.len() as u64 >= limit {
                        break;
                    }
                    let want = (limit - data.len() as u64).min(chunk.len() as u64) as usize;
                    match r.read(&mut chunk[..want]) {
                        Ok(0) => break,
                        Ok(n) => {
                            data.extend_from_slice(&chunk[..n]);
                            self.report(false)?;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            let err = self.failed(Self::map_read_err(e));
                            self.body = BodyState::Failed(err.clone());
                            return Err(err);
                        }
                    }
                }
            }
            if let Some(cap) = cap {
                if data.len() as u64 > cap {
                    drop(data);
                    let e = self.failed(too_large("decoded", cap));
                    self.body = BodyState::Failed(e.clone());
                    return Err(e);
                }
            }
            self.elapsed = self.started.elapsed();
            self.info.timings.set(crate::info::Timing::Total, self.elapsed);
            self.body = BodyState::Buffered { data, pos: 0 };
            self.report(true)?;
        }
        match &self.body {
            BodyState::Buffered { data, .. } => Ok(data),
            _ => Err(Error::Internal("body state".into())),
        }
    }

    /// Is the whole body already in memory?
    pub fn is_buffered(&self) -> bool {
        matches!(self.body, BodyState::Buffered { .. })
    }

    /// The body as text (HTTPX `Response.text`): charset from Content-Type when Python
    /// knows it (else the client's default encoding, else UTF-8), decoded with Python's
    /// codec rules ([`crate::charset`]), invalid sequences replaced.
    pub fn text(&mut self) -> Result<&str> {
        if self.text.is_none() {
            let ct = self.headers.get("Content-Type").map(|s| s.to_string());
            let default = self.default_encoding.clone();
            let body = self.body()?;
            let t = decoding::decode_text_with_default(body, ct.as_deref(), default.as_deref());
            self.text = Some(t);
        }
        Ok(self.text.as_deref().unwrap_or(""))
    }

    /// HTTPX's `raise_for_status`: Err(HttpStatus) for 4xx and 5xx (and 1xx/3xx
    /// when they are the final response).
    pub fn raise_for_status(&self) -> Result<()> {
        let kind = match self.status {
            200..=299 => return Ok(()),
            100..=199 => "Informational response",
            300..=399 => "Redirect response",
            400..=499 => "Client error",
            _ => "Server error",
        };
        Err(Error::HttpStatus(format!("{kind} '{} {}' for url '{}'", self.status, self.reason_phrase(), self.url)))
    }

    /// Drop the body (closing a half-read connection).
    pub fn close(&mut self) {
        if matches!(self.body, BodyState::Raw(_) | BodyState::Stream(..)) {
            self.body = BodyState::Consumed;
        }
        self.elapsed = self.started.elapsed();
    }

    /// Read and discard the rest of the body so the connection can be reused.
    pub(crate) fn drain(&mut self) -> Result<()> {
        let _ = self.body()?;
        Ok(())
    }
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("url", &self.url.as_str())
            .field("headers", &self.headers)
            .field("history", &self.history.len())
            .finish()
    }
}

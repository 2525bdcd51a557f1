//! HTTP/1.1 on one blocking connection: a thin driver of the sans-IO protocol core
//! in [`codec`] (request encoding, response heads, body framing), which owns every
//! protocol rule. This file only reads and writes: into its buffer, or straight into
//! the caller's buffer for large body pieces.
//!
//! A small keep-alive exchange costs one `write` (head and small body together) and
//! usually one `read` (head and body arrive together into the connection buffer).

pub mod codec;

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use crate::connection::Stream;
use crate::error::{Error, Result};
use crate::headers::Headers;
use crate::request::{unwrap_io, BodySource};
use crate::types::HeadLimits;
pub use crate::types::Version;
use codec::UPLOAD_CHUNK;
use codec::{BodyEncoder, BodyEvent, BodyWrite, HeadEvent, HeadParser};
pub use codec::{ChunkState, Framing, Head, MAX_INTERIM_RESPONSES};

/// The read buffer of a connection (it grows for a larger head or trailer line, up to
/// their limits). 8 KiB: an idle pooled connection holds ~9.5 KiB of heap (issue 16:
/// at most 16 KiB); bodies read into a caller's buffer of 4 KiB or more bypass it.
const BUF_SIZE: usize = 8 * 1024;

/// Read buffers of dropped connections, kept for the next [`Conn::new`] (at most
/// [`SPARE_BUFS`] per process, 2 MiB): a new connection then skips the `calloc` and
/// zeroing of 8 KiB (8.7k instructions of a new client + GET's 53k). 64, not 4: a
/// multi finishes and starts many connections per `perform` round (100 in flight
/// with a new connection each: 2,116 of 2,200 connections missed a list of 4, 8.2k
/// instructions each, 17% of the multi's 48.6k per request). 256, not 64: with 100
/// in flight one `perform` round can finish ~100 connections, and 36% of them still
/// missed a list of 64 (2.9k instructions per request of calloc zeroing). Safe Rust needs
/// initialised memory to read into; a reused buffer is initialised, and only the bytes
/// this connection reads (`start..end`) are ever looked at.
static SPARE: std::sync::Mutex<Vec<Box<[u8]>>> = std::sync::Mutex::new(Vec::new());
const SPARE_BUFS: usize = 256;

fn new_buf() -> Box<[u8]> {
    if let Ok(mut spare) = SPARE.try_lock() {
        if let Some(b) = spare.pop() {
            return b;
        }
    }
    vec![0u8; BUF_SIZE].into_boxed_slice()
}

impl Drop for ConnState {
    fn drop(&mut self) {
        // Grown buffers (a large head) go back to the allocator.
        if self.buf.len() == BUF_SIZE {
            if let Ok(mut spare) = SPARE.try_lock() {
                if spare.len() < SPARE_BUFS {
                    spare.reserve_exact(SPARE_BUFS);
                    spare.push(std::mem::take(&mut self.buf));
                }
            }
        }
    }
}

/// One HTTP/1.1 connection with its read buffer: a pointer to its [`ConnState`]
/// (fields and methods reached through `Deref`). Boxed so that a connection moves as
/// 8 bytes through the pool, the checkout and the response body instead of 328
/// (issue 16: those moves were ~550 of 24k instructions per keep-alive GET).
pub struct Conn(Box<ConnState>);

impl std::ops::Deref for Conn {
    type Target = ConnState;
    #[inline]
    fn deref(&self) -> &ConnState {
        &self.0
    }
}

impl std::ops::DerefMut for Conn {
    #[inline]
    fn deref_mut(&mut self) -> &mut ConnState {
        &mut self.0
    }
}

/// The state of one HTTP/1.1 connection (see [`Conn`]).
pub struct ConnState {
    pub stream: Stream,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    wbuf: Vec<u8>,
    read_to: Option<Option<Duration>>,
    write_to: Option<Option<Duration>>,
    /// Reading a close-delimited body: a TLS peer closing without close_notify is a
    /// truncation, not the end of the body.
    strict_eof: bool,
    /// Most bytes taken from the stream per read (tests and the fuzzer use 1 to
    /// check that the same bytes give the same result however they arrive).
    #[doc(hidden)]
    pub max_read: usize,
    /// Bytes received since the current response began (0 = nothing yet).
    pub received: u64,
    /// Requests carried so far.
    pub requests: u64,
    pub idle_since: Instant,
    /// Debug hook of the exchange in progress (heads as written and read).
    pub debug: Option<crate::debug::DebugFn>,
    /// Addresses and TLS facts, filled in by the transport when it opened this.
    pub info: Option<std::sync::Arc<crate::info::ConnInfo>>,
}

impl Conn {
    pub fn new(stream: Stream) -> Conn {
        Conn(Box::new(ConnState {
            stream,
            buf: new_buf(),
            start: 0,
            end: 0,
            wbuf: Vec::with_capacity(1024),
            read_to: None,
            write_to: None,
            strict_eof: false,
            max_read: usize::MAX,
            received: 0,
            requests: 0,
            idle_since: Instant::now(),
            debug: None,
            info: None,
        }))
    }
}

impl ConnState {
    /// Lend the read buffer (unread bytes at `.1...2`) and the write buffer to a driver
    /// that keeps its own positions (the multi, `multi/http.rs`: no buffer allocated per
    /// exchange); [`Conn::put_buffers`] gives them back. Until then the connection has
    /// no read buffer: only drop it (a lent-out buffer is lost with a cancelled exchange).
    pub fn take_buffers(&mut self) -> (Vec<u8>, usize, usize, Vec<u8>) {
        let (start, end) = (self.start, self.end);
        self.start = 0;
        self.end = 0;
        (std::mem::take(&mut self.buf).into_vec(), start, end, std::mem::take(&mut self.wbuf))
    }

    /// Give back what [`Conn::take_buffers`] lent (`start..end` unread).
    pub fn put_buffers(&mut self, buf: Vec<u8>, start: usize, end: usize, wbuf: Vec<u8>) {
        let buf = if buf.is_empty() { new_buf() } else { buf.into_boxed_slice() };
        let end = end.min(buf.len());
        self.start = start.min(end);
        self.end = end;
        self.buf = buf;
        self.wbuf = wbuf;
    }

    /// Set the per-operation timeouts, skipping the syscall when unchanged.
    pub fn set_timeouts(&mut self, read: Option<Duration>, write: Option<Duration>) -> Result<()> {
        if self.read_to != Some(read) {
            self.stream.set_read_timeout(read).map_err(|e| Error::Read(e.to_string()))?;
            self.read_to = Some(read);
        }
        if self.write_to != Some(write) {
            self.stream.set_write_timeout(write).map_err(|e| Error::Write(e.to_string()))?;
            self.write_to = Some(write);
        }
        Ok(())
    }

    /// Idle and clean: nothing buffered, and the peer has not closed.
    pub fn is_idle_usable(&self) -> bool {
        self.start == self.end && self.stream.is_idle_usable()
    }

    /// Write a request: head, then body with the framing its headers announce.
    pub fn write_request(&mut self, method: &str, target: &str, headers: &Headers, body: BodySource) -> Result<()> {
        self.received = 0;
        self.requests += 1;
        self.wbuf.clear();
        let framing = codec::encode_head(method, target, headers, &mut self.wbuf);
        if let Some(d) = &self.debug {
            d(crate::debug::DebugKind::HeaderOut, &self.wbuf);
        }
        match body {
            BodySource::Bytes(b) => match codec::encode_bytes_body(framing, &b, &mut self.wbuf)? {
                BodyWrite::Included => self.stream.write_all(&self.wbuf).map_err(Error::from_write),
                BodyWrite::Separate => {
                    self.stream.write_all(&self.wbuf).map_err(Error::from_write)?;
                    self.stream.write_all(&b).map_err(Error::from_write)
                }
            },
            BodySource::Reader(mut r) => {
                self.stream.write_all(&self.wbuf).map_err(Error::from_write)?;
                self.stream_body(&mut r, BodyEncoder::new(framing))
            }
        }
    }

    fn stream_body(&mut self, r: &mut dyn Read, mut enc: BodyEncoder) -> Result<()> {
        let mut buf = vec![0u8; UPLOAD_CHUNK];
        loop {
            let n = match r.read(&mut buf[..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(unwrap_io(&e).unwrap_or_else(|| Error::from_local_io("reading the request body", e)))
                }
            };
            if n == 0 {
                break;
            }
            let head = enc.piece(n)?;
            let end = enc.piece_end();
            if head.as_bytes().is_empty() && end.is_empty() {
                self.stream.write_all(&buf[..n]).map_err(Error::from_write)?;
            } else {
                self.write_all_vectored(&[head.as_bytes(), &buf[..n], end])?;
            }
        }
        let tail = enc.finish()?;
        if !tail.is_empty() {
            self.stream.write_all(tail).map_err(Error::from_write)?;
        }
        self.stream.flush().map_err(Error::from_write)
    }

    fn write_all_vectored(&mut self, parts: &[&[u8]]) -> Result<()> {
        let mut bufs: Vec<io::IoSlice> = parts.iter().map(|p| io::IoSlice::new(p)).collect();
        let mut slices = &mut bufs[..];
        while !slices.is_empty() {
            match self.stream.write_vectored(slices) {
                Ok(0) => return Err(Error::Write("connection closed while sending".into())),
                Ok(n) => io::IoSlice::advance_slices(&mut slices, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::from_write(e)),
            }
        }
        Ok(())
    }

    /// Read more bytes into the buffer; returns how many (0 = EOF).
    fn fill(&mut self) -> Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            if self.start == 0 {
                return Err(Error::Internal("read buffer full".into()));
            }
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let lim = self.buf.len().min(self.end.saturating_add(self.max_read));
        loop {
            match stream_read(&mut self.stream, self.strict_eof, &mut self.buf[self.end..lim]) {
                Ok(n) => {
                    self.end += n;
                    self.received += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(map_body_read_err(e, self.strict_eof)),
            }
        }
    }

    /// The total deadline and cancel token of the send now using this connection.
    pub fn set_guard(&mut self, g: &crate::deadline::Guard) {
        self.stream.set_guard(g);
    }

    /// Read and parse a response head. Informational (1xx) responses are skipped.
    /// At most [`MAX_INTERIM_RESPONSES`] interim responses are skipped.
    /// The whole head, interim responses included, must arrive within the read
    /// timeout (a deadline for the head, not a limit per read: a peer dripping bytes
    /// cannot hold the request open).
    pub fn read_head(&mut self, method: &str, limits: &HeadLimits) -> Result<Head> {
        let head_deadline = self.read_to.flatten().map(|t| Instant::now() + t);
        self.stream.set_phase(
            head_deadline,
            "the response head did not arrive within the read timeout (a limit for the whole head)",
        );
        let r = self.read_head_inner(method, limits);
        self.stream.set_phase(None, "");
        r
    }

    fn read_head_inner(&mut self, method: &str, limits: &HeadLimits) -> Result<Head> {
        self.strict_eof = false;
        let mut parser = HeadParser::new();
        let cap = codec::head_buffer_cap(limits);
        loop {
            if self.end > self.start {
                let debug = &self.debug;
                let ev = parser.parse(&self.buf[self.start..self.end], method, limits, |raw| {
                    if let Some(d) = debug {
                        d(crate::debug::DebugKind::HeaderIn, raw);
                    }
                })?;
                match ev {
                    HeadEvent::Final { used, head } => {
                        self.start += used;
                        return Ok(head);
                    }
                    HeadEvent::Interim { used } => {
                        self.start += used;
                        continue;
                    }
                    HeadEvent::Partial => {}
                }
            }
            if self.end == self.buf.len() && self.start == 0 {
                // Head larger than our buffer: grow up to the configured cap.
                let mut bigger = vec![0u8; (self.buf.len() * 2).min(cap.max(self.buf.len() + 1))].into_boxed_slice();
                bigger[..self.end].copy_from_slice(&self.buf[..self.end]);
                self.buf = bigger;
            }
            if self.fill()? == 0 {
                return Err(HeadParser::eof_error(self.received != 0));
            }
        }
    }

    /// Read body bytes into `out` following `framing`; 0 means the body is complete.
    pub fn read_body(&mut self, framing: &mut Framing, out: &mut [u8]) -> Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let (used, ev) = framing.step(&self.buf[self.start..self.end])?;
            self.start += used;
            match ev {
                BodyEvent::Done => return Ok(0),
                BodyEvent::Data { max } => {
                    if framing.is_close_delimited() {
                        self.strict_eof = self.stream.is_tls();
                    }
                    let want = max.min(out.len() as u64) as usize;
                    let n = self.read_some(&mut out[..want])?;
                    if n == 0 {
                        framing.eof()?;
                        return Ok(0);
                    }
                    framing.consumed(n);
                    return Ok(n);
                }
                BodyEvent::Need { buf_cap } => {
                    self.grow_if_full(buf_cap);
                    if self.fill()? == 0 {
                        framing.eof()?;
                    }
                }
            }
        }
    }

    /// Copy buffered bytes, or read straight into `out` when the buffer is empty and
    /// `out` is large (no double copy for big downloads).
    fn read_some(&mut self, out: &mut [u8]) -> Result<usize> {
        if self.start < self.end {
            let n = (self.end - self.start).min(out.len());
            out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
            self.start += n;
            return Ok(n);
        }
        if out.len() >= self.buf.len() / 2 {
            let lim = out.len().min(self.max_read);
            loop {
                match stream_read(&mut self.stream, self.strict_eof, &mut out[..lim]) {
                    Ok(n) => {
                        self.received += n as u64;
                        return Ok(n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(map_body_read_err(e, self.strict_eof)),
                }
            }
        }
        if self.fill()? == 0 {
            return Ok(0);
        }
        self.read_some(out)
    }

    /// A buffer filled from its start cannot take more: grow it (doubling, up to `cap`)
    /// so that a line up to its limit fits.
    fn grow_if_full(&mut self, cap: usize) {
        if self.start == 0 && self.end == self.buf.len() && self.buf.len() < cap {
            let mut bigger = vec![0u8; (self.buf.len() * 2).min(cap)].into_boxed_slice();
            bigger[..self.end].copy_from_slice(&self.buf[..self.end]);
            self.buf = bigger;
        }
    }
}

/// Read from the connection; with `strict_eof` a TLS close without close_notify is
/// an `UnexpectedEof` error instead of a quiet EOF.
fn stream_read(stream: &mut Stream, strict_eof: bool, buf: &mut [u8]) -> io::Result<usize> {
    if strict_eof {
        stream.read_strict_eof(buf)
    } else {
        stream.read(buf)
    }
}

fn map_body_read_err(e: io::Error, strict_eof: bool) -> Error {
    if strict_eof && e.kind() == io::ErrorKind::UnexpectedEof {
        return codec::tls_truncation_error();
    }
    Error::from_read(e)
}

//! HTTP/1.1 on one connection: writing requests, parsing response heads with
//! `httparse`, and framing bodies (Content-Length, strict chunked, close-delimited).
//!
//! A small keep-alive exchange costs one `write` (head and small body together) and
//! usually one `read` (head and body arrive together into the connection buffer).

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use crate::connection::Stream;
use crate::error::{Error, Result};
use crate::headers::Headers;
use crate::request::{unwrap_io, BodySource};
use crate::types::HeadLimits;
pub use crate::types::Version;

/// The read buffer of a connection (it grows for a larger head or trailer line, up to
/// their limits). 8 KiB: an idle pooled connection holds ~9.5 KiB of heap (issue 16:
/// at most 16 KiB); bodies read into a caller's buffer of 4 KiB or more bypass it.
const BUF_SIZE: usize = 8 * 1024;
/// Bodies up to this size go out in the same write as the head.
const COALESCE_LIMIT: usize = 16 * 1024;
/// Streamed request bodies are read and written in pieces of this size (as ureq does):
/// half the read-callback round trips and `sendto` calls of 64 KiB pieces.
const UPLOAD_CHUNK: usize = 128 * 1024;
const CHUNK_LINE_MAX: usize = 4096;
const TRAILER_MAX: usize = 64 * 1024;
/// Most interim (1xx) responses accepted before the final one (`100 Continue`,
/// `102 Processing`, `103 Early Hints`...); more is a `RemoteProtocol` error.
pub const MAX_INTERIM_RESPONSES: usize = 100;

/// How the response body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    Empty,
    Length(u64),
    Chunked(ChunkState),
    Close,
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkState {
    /// Expecting a chunk-size line.
    Size,
    /// Inside chunk data; bytes left.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// After the last chunk: trailer lines until an empty one.
    Trailers,
}

/// A parsed response head.
pub struct Head {
    pub status: u16,
    pub reason: String,
    pub version: Version,
    pub headers: Headers,
    pub framing: Framing,
    /// May the connection carry another request after this response?
    pub keep_alive: bool,
}

/// One HTTP/1.1 connection with its read buffer.
pub struct Conn {
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
        Conn {
            stream,
            buf: vec![0u8; BUF_SIZE].into_boxed_slice(),
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
        }
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
        let w = &mut self.wbuf;
        w.clear();
        w.extend_from_slice(method.as_bytes());
        w.push(b' ');
        w.extend_from_slice(target.as_bytes());
        w.extend_from_slice(b" HTTP/1.1\r\n");
        let chunked = headers.has_token("Transfer-Encoding", "chunked");
        for (n, v) in headers.iter() {
            if chunked && n.eq_ignore_ascii_case("Content-Length") {
                continue; // one framing only (RFC 9112 6.2)
            }
            w.extend_from_slice(n.as_bytes());
            w.extend_from_slice(b": ");
            w.extend_from_slice(v.as_bytes());
            w.extend_from_slice(b"\r\n");
        }
        w.extend_from_slice(b"\r\n");
        if let Some(d) = &self.debug {
            d(crate::debug::DebugKind::HeaderOut, w);
        }
        let chunked = headers.has_token("Transfer-Encoding", "chunked");
        let declared: Option<u64> =
            if chunked { None } else { headers.get("Content-Length").and_then(|v| v.trim().parse().ok()) };
        match body {
            BodySource::Bytes(b) => {
                if let Some(n) = declared {
                    if n != b.len() as u64 {
                        return Err(Error::LocalProtocol(format!(
                            "Content-Length is {n} but the body has {} bytes",
                            b.len()
                        )));
                    }
                }
                if chunked {
                    if !b.is_empty() {
                        w.extend_from_slice(format!("{:x}\r\n", b.len()).as_bytes());
                        w.extend_from_slice(&b);
                        w.extend_from_slice(b"\r\n");
                    }
                    w.extend_from_slice(b"0\r\n\r\n");
                    let (s, w) = (&mut self.stream, &self.wbuf);
                    s.write_all(w).map_err(Error::from_write)
                } else if b.len() <= COALESCE_LIMIT {
                    w.extend_from_slice(&b);
                    let (s, w) = (&mut self.stream, &self.wbuf);
                    s.write_all(w).map_err(Error::from_write)
                } else {
                    self.stream.write_all(&self.wbuf).map_err(Error::from_write)?;
                    self.stream.write_all(&b).map_err(Error::from_write)
                }
            }
            BodySource::Reader(mut r) => {
                self.stream.write_all(&self.wbuf).map_err(Error::from_write)?;
                self.stream_body(&mut r, declared, chunked)
            }
        }
    }

    fn stream_body(&mut self, r: &mut dyn Read, declared: Option<u64>, chunked: bool) -> Result<()> {
        let mut buf = vec![0u8; UPLOAD_CHUNK];
        let mut sent: u64 = 0;
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
            sent += n as u64;
            if let Some(d) = declared {
                if sent > d {
                    return Err(Error::LocalProtocol(format!("request body is longer than its Content-Length ({d})")));
                }
            }
            if chunked {
                let head = format!("{n:x}\r\n");
                self.write_all_vectored(&[head.as_bytes(), &buf[..n], b"\r\n"])?;
            } else {
                self.stream.write_all(&buf[..n]).map_err(Error::from_write)?;
            }
        }
        if let Some(d) = declared {
            if sent != d {
                return Err(Error::LocalProtocol(format!(
                    "request body ended after {sent} bytes but Content-Length is {d}"
                )));
            }
        }
        if chunked {
            self.stream.write_all(b"0\r\n\r\n").map_err(Error::from_write)?;
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
        let mut interim = 0usize;
        loop {
            let (status, reason, version, headers) = self.read_one_head(limits)?;
            if (100..200).contains(&status) && status != 101 {
                interim += 1;
                if interim > MAX_INTERIM_RESPONSES {
                    return Err(Error::RemoteProtocol(format!(
                        "server sent more than {MAX_INTERIM_RESPONSES} interim (1xx) responses"
                    )));
                }
                continue;
            }
            return finish_head(method, status, reason, version, headers);
        }
    }

    fn read_one_head(&mut self, limits: &HeadLimits) -> Result<(u16, String, Version, Headers)> {
        let cap = limits.max_header_bytes.max(256);
        loop {
            if self.end > self.start {
                if let Some(parsed) = parse_head(&self.buf[self.start..self.end], limits)? {
                    if let Some(d) = &self.debug {
                        d(crate::debug::DebugKind::HeaderIn, &self.buf[self.start..self.start + parsed.0]);
                    }
                    self.start += parsed.0;
                    return Ok(parsed.1);
                }
                if self.end - self.start >= cap {
                    return Err(Error::RemoteProtocol(format!(
                        "response head exceeds {} bytes",
                        limits.max_header_bytes
                    )));
                }
            }
            if self.end == self.buf.len() && self.start == 0 {
                // Head larger than our buffer: grow up to the configured cap.
                let mut bigger = vec![0u8; (self.buf.len() * 2).min(cap.max(self.buf.len() + 1))].into_boxed_slice();
                bigger[..self.end].copy_from_slice(&self.buf[..self.end]);
                self.buf = bigger;
            }
            if self.fill()? == 0 {
                return Err(if self.received == 0 {
                    Error::RemoteProtocol("server disconnected without sending a response".into())
                } else {
                    Error::RemoteProtocol("server closed the connection in the middle of the response head".into())
                });
            }
        }
    }

    /// Read body bytes into `out` following `framing`; 0 means the body is complete.
    pub fn read_body(&mut self, framing: &mut Framing, out: &mut [u8]) -> Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match *framing {
                Framing::Empty | Framing::Done => {
                    *framing = Framing::Done;
                    return Ok(0);
                }
                Framing::Length(0) => {
                    *framing = Framing::Done;
                    return Ok(0);
                }
                Framing::Length(left) => {
                    let want = (left.min(out.len() as u64)) as usize;
                    let n = self.read_some(&mut out[..want])?;
                    if n == 0 {
                        return Err(Error::RemoteProtocol(format!(
                            "server closed the connection with {left} body bytes still expected"
                        )));
                    }
                    *framing = Framing::Length(left - n as u64);
                    return Ok(n);
                }
                Framing::Close => {
                    self.strict_eof = self.stream.is_tls();
                    let n = self.read_some(out)?;
                    if n == 0 {
                        *framing = Framing::Done;
                    }
                    return Ok(n);
                }
                Framing::Chunked(state) => match state {
                    ChunkState::Size => {
                        let line = self.read_line(CHUNK_LINE_MAX, "chunk size line")?;
                        let size = parse_chunk_size(&line)?;
                        *framing =
                            Framing::Chunked(if size == 0 { ChunkState::Trailers } else { ChunkState::Data(size) });
                    }
                    ChunkState::Data(left) => {
                        let want = (left.min(out.len() as u64)) as usize;
                        let n = self.read_some(&mut out[..want])?;
                        if n == 0 {
                            return Err(Error::RemoteProtocol(
                                "server closed the connection in the middle of a chunk".into(),
                            ));
                        }
                        let left = left - n as u64;
                        *framing =
                            Framing::Chunked(if left == 0 { ChunkState::DataEnd } else { ChunkState::Data(left) });
                        return Ok(n);
                    }
                    ChunkState::DataEnd => {
                        let line = self.read_line(2, "chunk terminator")?;
                        if !line.is_empty() {
                            return Err(Error::RemoteProtocol("chunk data not followed by CRLF".into()));
                        }
                        *framing = Framing::Chunked(ChunkState::Size);
                    }
                    ChunkState::Trailers => {
                        let mut total = 0usize;
                        loop {
                            let line = self.read_line(CHUNK_LINE_MAX, "trailer line")?;
                            if line.is_empty() {
                                break;
                            }
                            total += line.len();
                            if total > TRAILER_MAX {
                                return Err(Error::RemoteProtocol("chunked trailers too large".into()));
                            }
                        }
                        *framing = Framing::Done;
                        return Ok(0);
                    }
                },
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

    /// A CRLF-terminated line (without the CRLF), at most `max` bytes.
    fn read_line(&mut self, max: usize, what: &str) -> Result<Vec<u8>> {
        loop {
            let data = &self.buf[self.start..self.end];
            if let Some(pos) = data.windows(2).position(|w| w == b"\r\n") {
                if pos > max {
                    return Err(Error::RemoteProtocol(format!("{what} too long")));
                }
                let line = data[..pos].to_vec();
                self.start += pos + 2;
                return Ok(line);
            }
            if data.len() > max + 1 {
                return Err(Error::RemoteProtocol(format!("{what} too long or not CRLF-terminated")));
            }
            self.grow_if_full(max + 2);
            if self.fill()? == 0 {
                return Err(Error::RemoteProtocol(format!("server closed the connection in a {what}")));
            }
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
        return Error::RemoteProtocol(
            "server closed the TLS connection without close_notify: the close-delimited body may be truncated".into(),
        );
    }
    Error::from_read(e)
}

type Parsed = (usize, (u16, String, Version, Headers));

/// Try to parse a complete head from `data`: Some((bytes used, head)) or None when
/// more bytes are needed.
fn parse_head(data: &[u8], limits: &HeadLimits) -> Result<Option<Parsed>> {
    // Most responses have few headers: try a small stack array first and only
    // allocate the full configured count when it overflows.
    let mut storage = [httparse::EMPTY_HEADER; 24];
    if limits.max_header_count > storage.len() {
        match parse_with(data, &mut storage, limits) {
            Err(Error::RemoteProtocol(m)) if m.starts_with(TOO_MANY) => {
                let mut heap = vec![httparse::EMPTY_HEADER; limits.max_header_count];
                parse_with(data, &mut heap, limits)
            }
            other => other,
        }
    } else {
        parse_with(data, &mut storage[..limits.max_header_count], limits)
    }
}

const TOO_MANY: &str = "response has more than";

fn parse_with<'h, 'b>(
    data: &'b [u8],
    slots: &'h mut [httparse::Header<'b>],
    limits: &HeadLimits,
) -> Result<Option<Parsed>> {
    let mut resp = httparse::Response::new(slots);
    match resp.parse(data) {
        Ok(httparse::Status::Complete(used)) => {
            let status = resp.code.unwrap_or(0);
            if !(100..=999).contains(&status) {
                return Err(Error::RemoteProtocol(format!("invalid status code {status}")));
            }
            let version = if resp.version == Some(0) { Version::Http10 } else { Version::Http11 };
            let reason = resp.reason.unwrap_or("").to_string();
            let mut headers = Headers::with_capacity(resp.headers.len());
            for h in resp.headers.iter() {
                match std::str::from_utf8(h.value) {
                    Ok(v) => headers.push_unchecked(h.name, v),
                    Err(_) => {
                        // obs-text: decode as latin-1, as HTTPX does.
                        let v: String = h.value.iter().map(|&b| b as char).collect();
                        headers.push_unchecked(h.name, &v);
                    }
                }
            }
            Ok(Some((used, (status, reason, version, headers))))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(Error::RemoteProtocol(format!(
            "{TOO_MANY} {} headers",
            limits.max_header_count.max(resp.headers.len())
        ))),
        Err(e) => Err(Error::RemoteProtocol(format!("malformed response head: {e}"))),
    }
}

/// Parse `1a3f[;ext]` strictly: 1..=16 hex digits, optional extensions (ignored, but
/// a control byte, NUL or bare CR/LF anywhere in the line is rejected).
fn parse_chunk_size(line: &[u8]) -> Result<u64> {
    if let Some(&b) = line.iter().find(|&&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(Error::RemoteProtocol(format!("chunk size line holds the control byte 0x{b:02x}")));
    }
    let digits_end = line.iter().position(|&b| b == b';').unwrap_or(line.len());
    let digits = trim_ows(&line[..digits_end]);
    if digits.is_empty() || digits.len() > 16 || !digits.iter().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::RemoteProtocol(format!(
            "invalid chunk size line {:?}",
            String::from_utf8_lossy(&line[..line.len().min(64)])
        )));
    }
    let s = std::str::from_utf8(digits).map_err(|_| Error::RemoteProtocol("invalid chunk size".into()))?;
    u64::from_str_radix(s, 16).map_err(|_| Error::RemoteProtocol("chunk size overflows".into()))
}

fn trim_ows(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|c| *c != b' ' && *c != b'\t').unwrap_or(b.len());
    let e = b.iter().rposition(|c| *c != b' ' && *c != b'\t').map(|i| i + 1).unwrap_or(s);
    &b[s..e.max(s)]
}

fn finish_head(method: &str, status: u16, reason: String, version: Version, headers: Headers) -> Result<Head> {
    let conn_close = headers.has_token("Connection", "close");
    let mut keep_alive = match version {
        Version::Http10 => headers.has_token("Connection", "keep-alive") && !conn_close,
        _ => !conn_close,
    };
    let framing = if method == "HEAD" || status == 204 || status == 304 || (100..200).contains(&status) {
        if status == 101 {
            keep_alive = false;
        }
        Framing::Empty
    } else if headers.contains("Transfer-Encoding") {
        let codings: Vec<String> = headers
            .get_all("Transfer-Encoding")
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        if headers.contains("Content-Length") {
            // RFC 9112 6.3: Transfer-Encoding wins, but don't trust the connection after.
            keep_alive = false;
        }
        // The only transfer coding we undo is one `chunked` (RFC 9112 6.1, 7): chunked
        // twice, anything applied with it (`identity, chunked`, `gzip, chunked`) or a
        // coding we do not decode (`chunked, gzip`) cannot be delimited or decoded
        // safely, and is the stuff of response smuggling.
        if codings.len() != 1 || codings[0] != "chunked" {
            return Err(Error::RemoteProtocol(format!(
                "unsupported Transfer-Encoding {:?} (only a single \"chunked\" is accepted)",
                codings.join(", ")
            )));
        }
        Framing::Chunked(ChunkState::Size)
    } else if headers.contains("Content-Length") {
        let mut value: Option<u64> = None;
        for v in headers.get_all("Content-Length").flat_map(|v| v.split(',')) {
            let v = v.trim();
            if v.is_empty() || v.len() > 19 || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::RemoteProtocol(format!("invalid Content-Length {v:?}")));
            }
            let n: u64 = v.parse().map_err(|_| Error::RemoteProtocol(format!("invalid Content-Length {v:?}")))?;
            if value.is_some_and(|p| p != n) {
                return Err(Error::RemoteProtocol("conflicting Content-Length values".into()));
            }
            value = Some(n);
        }
        Framing::Length(value.unwrap_or(0))
    } else {
        keep_alive = false;
        Framing::Close
    };
    Ok(Head { status, reason, version, headers, framing, keep_alive })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes() {
        assert_eq!(parse_chunk_size(b"1a").unwrap(), 26);
        assert_eq!(parse_chunk_size(b"0;ext=1").unwrap(), 0);
        assert!(parse_chunk_size(b"").is_err());
        assert!(parse_chunk_size(b"-1").is_err());
        assert!(parse_chunk_size(b"0x10").is_err());
        assert!(parse_chunk_size(b"fffffffffffffffff").is_err());
        assert_eq!(parse_chunk_size(b"ffffffffffffffff").unwrap(), u64::MAX);
    }

    #[test]
    fn framing_rules() {
        let mut h = Headers::new();
        h.push_unchecked("Content-Length", "5, 5");
        assert_eq!(
            finish_head("GET", 200, String::new(), Version::Http11, h.clone()).unwrap().framing,
            Framing::Length(5)
        );
        assert_eq!(
            finish_head("HEAD", 200, String::new(), Version::Http11, h.clone()).unwrap().framing,
            Framing::Empty
        );
        h.push_unchecked("Content-Length", "6");
        assert!(finish_head("GET", 200, String::new(), Version::Http11, h).is_err());
        let h = Headers::new();
        let head = finish_head("GET", 200, String::new(), Version::Http11, h).unwrap();
        assert_eq!(head.framing, Framing::Close);
        assert!(!head.keep_alive);
    }
}

//! Sans-IO HTTP/1.1: a state machine that turns a request into bytes and response
//! bytes into a head and body events. It does no I/O at all (no `Read`/`Write`, no
//! sockets, no clocks): a driver owns the socket and the buffer, hands the codec the
//! bytes it has, and moves its read position by what the codec says it used.
//! Two drivers use it: the blocking [`super::Conn`] and the multi's event loop.
//!
//! - Request: [`encode_head`] writes the head and decides the framing
//!   ([`RequestFraming`]); [`encode_bytes_body`] frames an in-memory body,
//!   [`BodyEncoder`] a streamed one (chunk heads, Content-Length accounting).
//! - Response head: [`HeadParser::parse`] over the buffered bytes; interim (1xx)
//!   heads are skipped (at most [`MAX_INTERIM_RESPONSES`]), the final one becomes a
//!   [`Head`] with its keep-alive decision and body [`Framing`].
//! - Body: [`Framing::step`] consumes control bytes (chunk size lines, CRLFs,
//!   trailers) from the buffer and says how many raw body bytes may come next
//!   ([`BodyEvent::Data`]); the driver copies them from its buffer or reads them
//!   straight into the caller's buffer, then reports them with [`Framing::consumed`].
//!   [`Framing::eof`] says what the peer closing the connection means now.

use crate::error::{Error, Result};
use crate::headers::Headers;
use crate::types::{HeadLimits, Version};

/// Bodies up to this size go out in the same write as the head.
pub const COALESCE_LIMIT: usize = 16 * 1024;
/// Streamed request bodies are best read and written in pieces of this size (as ureq
/// does): half the read-callback round trips and `sendto` calls of 64 KiB pieces.
pub const UPLOAD_CHUNK: usize = 128 * 1024;
/// Longest chunk-size line and trailer line (without the CRLF).
pub const CHUNK_LINE_MAX: usize = 4096;
/// Most bytes of trailer lines after the last chunk.
pub const TRAILER_MAX: usize = 64 * 1024;
/// Most interim (1xx) responses accepted before the final one (`100 Continue`,
/// `102 Processing`, `103 Early Hints`...); more is a `RemoteProtocol` error.
pub const MAX_INTERIM_RESPONSES: usize = 100;

// ---------------------------------------------------------------------------------
// Request

/// How a request body is delimited, decided from its headers by [`encode_head`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestFraming {
    /// `Transfer-Encoding: chunked` (any Content-Length was left out of the head).
    pub chunked: bool,
    /// The Content-Length the body must match (None when chunked or not given).
    pub declared: Option<u64>,
}

/// Append the request head (request line, headers, blank line) to `out` and return
/// the body framing its headers announce. With `Transfer-Encoding: chunked` any
/// Content-Length is left out (one framing only, RFC 9112 6.2).
pub fn encode_head(method: &str, target: &str, headers: &Headers, out: &mut Vec<u8>) -> RequestFraming {
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let chunked = headers.has_token("Transfer-Encoding", "chunked");
    for (n, v) in headers.iter() {
        if chunked && n.eq_ignore_ascii_case("Content-Length") {
            continue;
        }
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    let declared = if chunked { None } else { headers.get("Content-Length").and_then(|v| v.trim().parse().ok()) };
    RequestFraming { chunked, declared }
}

/// Where an in-memory body goes (see [`encode_bytes_body`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyWrite {
    /// The framed body was appended to the head: send the buffer in one write.
    Included,
    /// Send the buffer, then the body bytes as they are (a large unchunked body).
    Separate,
}

/// Frame an in-memory request body after the head in `out`: chunked bodies and bodies
/// up to [`COALESCE_LIMIT`] are appended (one write for the whole request); a larger
/// unchunked body is left for the driver to send after `out`. A body that does not
/// match its Content-Length is a `LocalProtocol` error (nothing should be sent).
pub fn encode_bytes_body(framing: RequestFraming, body: &[u8], out: &mut Vec<u8>) -> Result<BodyWrite> {
    if let Some(n) = framing.declared {
        if n != body.len() as u64 {
            return Err(Error::LocalProtocol(format!("Content-Length is {n} but the body has {} bytes", body.len())));
        }
    }
    if framing.chunked {
        if !body.is_empty() {
            out.extend_from_slice(ChunkHead::new(body.len() as u64).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(LAST_CHUNK);
        Ok(BodyWrite::Included)
    } else if body.len() <= COALESCE_LIMIT {
        out.extend_from_slice(body);
        Ok(BodyWrite::Included)
    } else {
        Ok(BodyWrite::Separate)
    }
}

const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// The size line before a chunk of a streamed body (`1a3f\r\n`), on the stack.
#[derive(Clone, Copy, Debug)]
pub struct ChunkHead {
    bytes: [u8; 18],
    len: u8,
}

impl ChunkHead {
    fn new(n: u64) -> ChunkHead {
        let mut bytes = [0u8; 18];
        let digits = if n == 0 { 1 } else { (64 - n.leading_zeros() as usize).div_ceil(4) };
        for i in 0..digits {
            let d = ((n >> (4 * (digits - 1 - i))) & 0xf) as usize;
            bytes[i] = b"0123456789abcdef"[d];
        }
        bytes[digits] = b'\r';
        bytes[digits + 1] = b'\n';
        ChunkHead { bytes, len: (digits + 2) as u8 }
    }

    fn empty() -> ChunkHead {
        ChunkHead { bytes: [0u8; 18], len: 0 }
    }

    /// The bytes to send before the piece (empty when the body is not chunked).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

/// Frames a streamed request body piece by piece: for each piece of `n` bytes read from
/// the body source, send `piece(n)?.as_bytes()`, the piece, then [`Self::piece_end`];
/// at the end of the source send `finish()?`.
#[derive(Clone, Copy, Debug)]
pub struct BodyEncoder {
    framing: RequestFraming,
    sent: u64,
}

impl BodyEncoder {
    pub fn new(framing: RequestFraming) -> BodyEncoder {
        BodyEncoder { framing, sent: 0 }
    }

    /// Account a piece of `n` (> 0) bytes. Errors when the body gets longer than its
    /// Content-Length.
    pub fn piece(&mut self, n: usize) -> Result<ChunkHead> {
        self.sent += n as u64;
        if let Some(d) = self.framing.declared {
            if self.sent > d {
                return Err(Error::LocalProtocol(format!("request body is longer than its Content-Length ({d})")));
            }
        }
        Ok(if self.framing.chunked { ChunkHead::new(n as u64) } else { ChunkHead::empty() })
    }

    /// The bytes to send after each piece (CRLF when chunked).
    pub fn piece_end(&self) -> &'static [u8] {
        if self.framing.chunked {
            b"\r\n"
        } else {
            b""
        }
    }

    /// The body source ended: the bytes that end the body (the last chunk when chunked,
    /// else nothing), or an error when it was shorter than its Content-Length.
    pub fn finish(&self) -> Result<&'static [u8]> {
        if let Some(d) = self.framing.declared {
            if self.sent != d {
                return Err(Error::LocalProtocol(format!(
                    "request body ended after {} bytes but Content-Length is {d}",
                    self.sent
                )));
            }
        }
        Ok(if self.framing.chunked { LAST_CHUNK } else { b"" })
    }

    /// Body bytes accounted so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }
}

// ---------------------------------------------------------------------------------
// Response head

/// How the response body is delimited, and where its reading stands.
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
    /// After the last chunk: trailer lines until an empty one; bytes of trailer lines
    /// so far.
    Trailers(usize),
}

/// A parsed response head.
#[derive(Debug)]
pub struct Head {
    pub status: u16,
    pub reason: String,
    pub version: Version,
    pub headers: Headers,
    pub framing: Framing,
    /// May the connection carry another request after this response?
    pub keep_alive: bool,
}

/// What [`HeadParser::parse`] found at the front of the buffered bytes.
#[derive(Debug)]
pub enum HeadEvent {
    /// No complete head yet: read more bytes (keeping these) and parse again. The
    /// buffer must be able to grow to [`head_buffer_cap`].
    Partial,
    /// An interim (1xx) head of `used` bytes was skipped: drop them and parse again
    /// (there may be more bytes behind them already).
    Interim { used: usize },
    /// The final head, `used` bytes long; the body starts right after them.
    Final { used: usize, head: Head },
}

/// Parses the response heads of one request (interim ones and the final one).
/// Make a new one for each request.
#[derive(Clone, Debug, Default)]
pub struct HeadParser {
    interim: usize,
}

/// The most buffered head bytes to hold while looking for the end of a head:
/// at least this many without a complete head is an error.
pub fn head_buffer_cap(limits: &HeadLimits) -> usize {
    limits.max_header_bytes.max(256)
}

impl HeadParser {
    pub fn new() -> HeadParser {
        HeadParser { interim: 0 }
    }

    /// Parse the head at the front of `data` (all bytes buffered since the previous
    /// head ended) for a request with `method`. `on_head` sees the raw bytes of every
    /// complete head, interim ones too, before they are interpreted (the debug hook).
    pub fn parse<F: FnMut(&[u8])>(
        &mut self,
        data: &[u8],
        method: &str,
        limits: &HeadLimits,
        mut on_head: F,
    ) -> Result<HeadEvent> {
        if data.is_empty() {
            return Ok(HeadEvent::Partial);
        }
        let Some((used, (status, reason, version, headers))) = parse_head(data, limits)? else {
            if data.len() >= head_buffer_cap(limits) {
                return Err(Error::RemoteProtocol(format!("response head exceeds {} bytes", limits.max_header_bytes)));
            }
            return Ok(HeadEvent::Partial);
        };
        if used > head_buffer_cap(limits) {
            // The same verdict however the bytes arrived: a head that came whole in one
            // read is held to the limit as one that trickled in (it would have failed
            // as Partial at `head_buffer_cap` bytes).
            return Err(Error::RemoteProtocol(format!("response head exceeds {} bytes", limits.max_header_bytes)));
        }
        on_head(&data[..used]);
        if (100..200).contains(&status) && status != 101 {
            self.interim += 1;
            if self.interim > MAX_INTERIM_RESPONSES {
                return Err(Error::RemoteProtocol(format!(
                    "server sent more than {MAX_INTERIM_RESPONSES} interim (1xx) responses"
                )));
            }
            return Ok(HeadEvent::Interim { used });
        }
        Ok(HeadEvent::Final { used, head: finish_head(method, status, reason, version, headers)? })
    }

    /// The peer closed the connection before a final head was complete. `received_any`:
    /// some byte of this response had arrived.
    pub fn eof_error(received_any: bool) -> Error {
        if received_any {
            Error::RemoteProtocol("server closed the connection in the middle of the response head".into())
        } else {
            Error::RemoteProtocol("server disconnected without sending a response".into())
        }
    }
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

/// The keep-alive decision and the body framing of a final head.
pub fn finish_head(method: &str, status: u16, reason: String, version: Version, headers: Headers) -> Result<Head> {
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

// ---------------------------------------------------------------------------------
// Response body

/// What [`Framing::step`] says comes next in the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyEvent {
    /// Up to `max` raw body bytes come next (u64::MAX for a close-delimited body): take
    /// them from the buffered bytes after the `used` ones, or, with nothing buffered,
    /// read them straight into the caller's buffer; then call [`Framing::consumed`].
    /// A read returning 0 (the peer closed): call [`Framing::eof`].
    Data { max: u64 },
    /// A control line (chunk size, chunk CRLF, trailer) is incomplete: read more bytes
    /// into the buffer, which must be able to hold `buf_cap` bytes from the line's
    /// start, and step again. The peer closing now: call [`Framing::eof`] (an error).
    Need { buf_cap: usize },
    /// The body is complete (the framing is now `Done`).
    Done,
}

impl Framing {
    /// Consume control bytes at the front of `buffered` (the driver's unread bytes):
    /// returns how many were used (drop them) and what comes next.
    pub fn step(&mut self, buffered: &[u8]) -> Result<(usize, BodyEvent)> {
        let mut used = 0usize;
        loop {
            let data = &buffered[used..];
            match *self {
                Framing::Empty | Framing::Done | Framing::Length(0) => {
                    *self = Framing::Done;
                    return Ok((used, BodyEvent::Done));
                }
                Framing::Length(left) => return Ok((used, BodyEvent::Data { max: left })),
                Framing::Close => return Ok((used, BodyEvent::Data { max: u64::MAX })),
                Framing::Chunked(ChunkState::Data(left)) => return Ok((used, BodyEvent::Data { max: left })),
                Framing::Chunked(ChunkState::Size) => {
                    let Some((line, n)) = take_line(data, CHUNK_LINE_MAX, "chunk size line")? else {
                        return Ok((used, BodyEvent::Need { buf_cap: CHUNK_LINE_MAX + 2 }));
                    };
                    let size = parse_chunk_size(line)?;
                    used += n;
                    *self = Framing::Chunked(if size == 0 { ChunkState::Trailers(0) } else { ChunkState::Data(size) });
                }
                Framing::Chunked(ChunkState::DataEnd) => {
                    let Some(n) = take_crlf(data)? else {
                        return Ok((used, BodyEvent::Need { buf_cap: 4 }));
                    };
                    used += n;
                    *self = Framing::Chunked(ChunkState::Size);
                }
                Framing::Chunked(ChunkState::Trailers(total)) => {
                    let Some((line, n)) = take_line(data, CHUNK_LINE_MAX, "trailer line")? else {
                        return Ok((used, BodyEvent::Need { buf_cap: CHUNK_LINE_MAX + 2 }));
                    };
                    used += n;
                    if line.is_empty() {
                        *self = Framing::Done;
                        return Ok((used, BodyEvent::Done));
                    }
                    let total = total + line.len();
                    if total > TRAILER_MAX {
                        return Err(Error::RemoteProtocol("chunked trailers too large".into()));
                    }
                    *self = Framing::Chunked(ChunkState::Trailers(total));
                }
            }
        }
    }

    /// `n` raw body bytes (at most the `max` of the last [`BodyEvent::Data`]) were
    /// handed to the caller.
    pub fn consumed(&mut self, n: usize) {
        let n = n as u64;
        match *self {
            Framing::Length(left) => *self = Framing::Length(left.saturating_sub(n)),
            Framing::Chunked(ChunkState::Data(left)) => {
                let left = left.saturating_sub(n);
                *self = Framing::Chunked(if left == 0 { ChunkState::DataEnd } else { ChunkState::Data(left) });
            }
            _ => {}
        }
    }

    /// The peer closed the connection (a read returned 0) with nothing left buffered:
    /// the end of a close-delimited body (now `Done`), or an error saying what was cut.
    pub fn eof(&mut self) -> Result<()> {
        match *self {
            Framing::Close | Framing::Empty | Framing::Done | Framing::Length(0) => {
                *self = Framing::Done;
                Ok(())
            }
            Framing::Length(left) => Err(Error::RemoteProtocol(format!(
                "server closed the connection with {left} body bytes still expected"
            ))),
            Framing::Chunked(ChunkState::Data(_)) => {
                Err(Error::RemoteProtocol("server closed the connection in the middle of a chunk".into()))
            }
            Framing::Chunked(ChunkState::Size) => Err(closed_in("chunk size line")),
            Framing::Chunked(ChunkState::DataEnd) => Err(closed_in("chunk terminator")),
            Framing::Chunked(ChunkState::Trailers(_)) => Err(closed_in("trailer line")),
        }
    }

    /// Only the peer's close ends this body: over TLS, a close without close_notify
    /// is then a truncation ([`tls_truncation_error`]), not the end.
    pub fn is_close_delimited(&self) -> bool {
        matches!(self, Framing::Close)
    }

    /// Nothing more to read (`Done`, or a body that was empty by its head).
    pub fn is_finished(&self) -> bool {
        matches!(self, Framing::Done | Framing::Empty)
    }
}

fn closed_in(what: &str) -> Error {
    Error::RemoteProtocol(format!("server closed the connection in a {what}"))
}

/// The error for a TLS peer that closed without close_notify while a close-delimited
/// body was being read.
pub fn tls_truncation_error() -> Error {
    Error::RemoteProtocol(
        "server closed the TLS connection without close_notify: the close-delimited body may be truncated".into(),
    )
}

/// A CRLF-terminated line at the front of `data` (without the CRLF), at most `max`
/// bytes: Some((line, bytes used with the CRLF)), or None when more bytes are needed.
/// Only the first `max + 2` bytes are looked at, so the verdict does not depend on how
/// many bytes after them happen to be buffered already.
fn take_line<'a>(data: &'a [u8], max: usize, what: &str) -> Result<Option<(&'a [u8], usize)>> {
    let window = &data[..data.len().min(max + 2)];
    if let Some(pos) = window.windows(2).position(|w| w == b"\r\n") {
        return Ok(Some((&data[..pos], pos + 2)));
    }
    if data.len() > max + 1 {
        return Err(Error::RemoteProtocol(format!("{what} too long or not CRLF-terminated")));
    }
    Ok(None)
}

/// The CRLF after chunk data: Some(2), None when more bytes are needed, or an error as
/// soon as a byte differs from it.
fn take_crlf(data: &[u8]) -> Result<Option<usize>> {
    for (i, &b) in data.iter().take(2).enumerate() {
        if b != b"\r\n"[i] {
            return Err(Error::RemoteProtocol("chunk data not followed by CRLF".into()));
        }
    }
    Ok(if data.len() >= 2 { Some(2) } else { None })
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

// ---------------------------------------------------------------------------------
// A reference driver over bytes in memory (tests, the fuzzer)

/// The response a [`decode`] run came to: status, reason, head, raw (de-framed, not
/// content-decoded) body, and the framing state at the end.
#[doc(hidden)]
#[derive(Debug, PartialEq, Eq)]
pub struct Decoded {
    pub status: u16,
    pub keep_alive: bool,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Bytes left after the response (the next response's, on a kept-alive connection).
    pub rest: Vec<u8>,
}

/// Drive the codec over `pieces` (what successive reads returned; the peer closes after
/// the last one) as an event-loop driver would: each piece is appended to one buffer,
/// the codec consumes from its front. The result must not depend on how the bytes are
/// split into pieces. `body_read` caps each body read (the caller's buffer size).
#[doc(hidden)]
pub fn decode(pieces: &[&[u8]], method: &str, limits: &HeadLimits, body_read: usize) -> Result<Decoded> {
    let mut buf: Vec<u8> = Vec::new();
    let mut next = pieces.iter();
    let mut received = false;
    // Appends the next piece; false at EOF.
    let mut more = |buf: &mut Vec<u8>| -> bool {
        for p in next.by_ref() {
            if !p.is_empty() {
                buf.extend_from_slice(p);
                return true;
            }
        }
        false
    };
    let mut parser = HeadParser::new();
    let head = loop {
        match parser.parse(&buf, method, limits, |_| {})? {
            HeadEvent::Final { used, head } => {
                buf.drain(..used);
                break head;
            }
            HeadEvent::Interim { used } => {
                buf.drain(..used);
            }
            HeadEvent::Partial => {
                if !more(&mut buf) {
                    return Err(HeadParser::eof_error(received));
                }
                received = true;
            }
        }
    };
    let mut framing = head.framing;
    let mut body = Vec::new();
    loop {
        let (used, ev) = framing.step(&buf)?;
        buf.drain(..used);
        match ev {
            BodyEvent::Done => break,
            BodyEvent::Data { max } => {
                if buf.is_empty() && !more(&mut buf) {
                    framing.eof()?;
                    continue;
                }
                let n = (buf.len() as u64).min(max).min(body_read.max(1) as u64) as usize;
                body.extend_from_slice(&buf[..n]);
                buf.drain(..n);
                framing.consumed(n);
                if body.len() > 64 << 20 {
                    return Err(Error::BodyTooLarge("decode cap".into()));
                }
            }
            BodyEvent::Need { .. } => {
                if !more(&mut buf) {
                    framing.eof()?;
                }
            }
        }
    }
    for p in next {
        buf.extend_from_slice(p);
    }
    Ok(Decoded {
        status: head.status,
        keep_alive: head.keep_alive,
        headers: head.headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        body,
        rest: buf,
    })
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

    fn limits() -> HeadLimits {
        HeadLimits::default()
    }

    /// (code, message) of a result, for comparing outcomes.
    fn outcome(r: Result<Decoded>) -> std::result::Result<Decoded, (u32, String)> {
        r.map_err(|e| (e.code(), e.to_string()))
    }

    /// Decode `input` whole, in every two-piece split, in one-byte pieces and with small
    /// reads of the body: every way must give the same result. Returns it.
    fn same_every_split(input: &[u8], method: &str) -> std::result::Result<Decoded, (u32, String)> {
        let l = limits();
        let whole = outcome(decode(&[input], method, &l, 64 * 1024));
        for i in 0..=input.len() {
            let (a, b) = input.split_at(i);
            let got = outcome(decode(&[a, b], method, &l, 64 * 1024));
            assert_eq!(got, whole, "split at {i} of {:?}", String::from_utf8_lossy(input));
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(outcome(decode(&bytes, method, &l, 64 * 1024)), whole, "one-byte pieces");
        assert_eq!(outcome(decode(&bytes, method, &l, 1)), whole, "one-byte pieces, one-byte reads");
        for n in [2, 3, 7] {
            let pieces: Vec<&[u8]> = input.chunks(n).collect();
            assert_eq!(outcome(decode(&pieces, method, &l, n + 1)), whole, "{n}-byte pieces");
        }
        whole
    }

    fn ok(r: std::result::Result<Decoded, (u32, String)>) -> Decoded {
        r.unwrap_or_else(|e| panic!("expected a response, got {e:?}"))
    }

    fn err_msg(r: std::result::Result<Decoded, (u32, String)>) -> String {
        match r {
            Ok(d) => panic!("expected an error, got {d:?}"),
            Err((_, m)) => m,
        }
    }

    #[test]
    fn request_head_and_framing() {
        let mut h = Headers::new();
        h.push_unchecked("Host", "a.test");
        h.push_unchecked("Content-Length", " 5 ");
        let mut out = Vec::new();
        let f = encode_head("POST", "/x?y", &h, &mut out);
        assert_eq!(out, b"POST /x?y HTTP/1.1\r\nHost: a.test\r\nContent-Length:  5 \r\n\r\n");
        assert_eq!(f, RequestFraming { chunked: false, declared: Some(5) });
        assert_eq!(encode_bytes_body(f, b"hello", &mut out).unwrap(), BodyWrite::Included);
        assert!(out.ends_with(b"\r\n\r\nhello"));
        let e = encode_bytes_body(f, b"hell", &mut Vec::new()).unwrap_err();
        assert_eq!(
            e.to_string(),
            Error::LocalProtocol("Content-Length is 5 but the body has 4 bytes".into()).to_string()
        );

        // chunked: Content-Length is left out, the body is framed in the same buffer
        h.push_unchecked("Transfer-Encoding", "gzip, chunked");
        let mut out = Vec::new();
        let f = encode_head("PUT", "/", &h, &mut out);
        assert_eq!(f, RequestFraming { chunked: true, declared: None });
        assert!(!String::from_utf8_lossy(&out).contains("Content-Length"));
        let head_len = out.len();
        assert_eq!(encode_bytes_body(f, &[b'x'; 26], &mut out).unwrap(), BodyWrite::Included);
        assert_eq!(&out[head_len..head_len + 4], b"1a\r\n");
        assert!(out.ends_with(b"x\r\n0\r\n\r\n"));
        let mut out = Vec::new();
        encode_bytes_body(f, b"", &mut out).unwrap();
        assert_eq!(out, b"0\r\n\r\n");

        // large unchunked bodies go in a write of their own
        let big = vec![0u8; COALESCE_LIMIT + 1];
        let f = RequestFraming { chunked: false, declared: None };
        let mut out = Vec::new();
        assert_eq!(encode_bytes_body(f, &big, &mut out).unwrap(), BodyWrite::Separate);
        assert!(out.is_empty());
        assert_eq!(encode_bytes_body(f, &big[..COALESCE_LIMIT], &mut out).unwrap(), BodyWrite::Included);
    }

    #[test]
    fn streamed_body_encoder() {
        for (n, hex) in [(1u64, "1"), (15, "f"), (16, "10"), (0x1a3f, "1a3f"), (u64::MAX, "ffffffffffffffff")] {
            assert_eq!(ChunkHead::new(n).as_bytes(), format!("{hex}\r\n").as_bytes());
        }
        let mut e = BodyEncoder::new(RequestFraming { chunked: true, declared: None });
        assert_eq!(e.piece(300).unwrap().as_bytes(), b"12c\r\n");
        assert_eq!(e.piece_end(), b"\r\n");
        assert_eq!(e.finish().unwrap(), b"0\r\n\r\n");
        assert_eq!(e.sent(), 300);

        let mut e = BodyEncoder::new(RequestFraming { chunked: false, declared: Some(4) });
        assert!(e.piece(3).unwrap().as_bytes().is_empty());
        assert_eq!(e.piece_end(), b"");
        assert_eq!(
            e.finish().unwrap_err().to_string(),
            Error::LocalProtocol("request body ended after 3 bytes but Content-Length is 4".into()).to_string()
        );
        assert_eq!(
            e.piece(2).unwrap_err().to_string(),
            Error::LocalProtocol("request body is longer than its Content-Length (4)".into()).to_string()
        );
        let mut e = BodyEncoder::new(RequestFraming { chunked: false, declared: None });
        e.piece(10).unwrap();
        assert_eq!(e.finish().unwrap(), b"");
    }

    #[test]
    fn head_events_one_by_one() {
        let l = limits();
        let mut p = HeadParser::new();
        let data = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
        let mut seen = Vec::new();
        assert!(matches!(p.parse(&data[..10], "GET", &l, |_| panic!()).unwrap(), HeadEvent::Partial));
        let HeadEvent::Interim { used } = p.parse(data, "GET", &l, |r| seen.push(r.to_vec())).unwrap() else {
            panic!()
        };
        assert_eq!(used, 25);
        let rest = &data[used..];
        let HeadEvent::Interim { used: u2 } = p.parse(rest, "GET", &l, |r| seen.push(r.to_vec())).unwrap() else {
            panic!()
        };
        let rest = &rest[u2..];
        let HeadEvent::Final { used, head } = p.parse(rest, "GET", &l, |r| seen.push(r.to_vec())).unwrap() else {
            panic!()
        };
        assert_eq!(&rest[used..], b"hi");
        assert_eq!((head.status, head.reason.as_str(), head.keep_alive), (200, "OK", true));
        assert_eq!(head.framing, Framing::Length(2));
        assert_eq!(seen.len(), 3);
        assert!(seen[1].starts_with(b"HTTP/1.1 103"));
        assert!(p.parse(b"", "GET", &l, |_| {}).is_ok());
        assert_eq!(
            HeadParser::eof_error(false).to_string(),
            Error::RemoteProtocol("server disconnected without sending a response".into()).to_string()
        );
    }

    #[test]
    fn interim_cap() {
        let mut input = Vec::new();
        for _ in 0..MAX_INTERIM_RESPONSES {
            input.extend_from_slice(b"HTTP/1.1 102 Processing\r\n\r\n");
        }
        let mut fine = input.clone();
        fine.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
        assert_eq!(ok(outcome(decode(&[&fine], "GET", &limits(), 1024))).status, 204);
        input.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
        let m = err_msg(outcome(decode(&[&input], "GET", &limits(), 1024)));
        assert!(m.contains("more than 100 interim (1xx) responses"), "{m}");
        // 101 is final (and never kept alive)
        let d = ok(same_every_split(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nraw", "GET"));
        assert_eq!((d.status, d.keep_alive, d.rest.as_slice()), (101, false, &b"raw"[..]));
    }

    #[test]
    fn head_size_cap() {
        let l = HeadLimits { max_header_bytes: 300, ..HeadLimits::default() };
        let mut input = b"HTTP/1.1 200 OK\r\n".to_vec();
        input.extend_from_slice(format!("X-Long: {}\r\n\r\n", "a".repeat(400)).as_bytes());
        // the same verdict whole (the head is complete) and trickled in (it never is)
        let m = err_msg(outcome(decode(&[&input], "GET", &l, 1024)));
        assert!(m.contains("response head exceeds 300 bytes"), "{m}");
        let pieces: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(err_msg(outcome(decode(&pieces, "GET", &l, 1024))), m);
        // exactly at the cap is fine, one byte over is not, however it arrives
        let head = |n: usize| format!("HTTP/1.1 204 No Content\r\nX: {}\r\n\r\n", "a".repeat(n - 32)).into_bytes();
        assert_eq!(head(300).len(), 300);
        for (n, good) in [(300, true), (301, false)] {
            let h = head(n);
            for pieces in [vec![&h[..]], h.chunks(1).collect::<Vec<_>>()] {
                assert_eq!(decode(&pieces, "GET", &l, 1024).is_ok(), good, "{n} bytes");
            }
        }
        let m = err_msg(outcome(decode(&[&input[..100]], "GET", &l, 1024)));
        assert!(m.contains("in the middle of the response head"), "{m}");
        let m = err_msg(outcome(decode(&[], "GET", &l, 1024)));
        assert!(m.contains("without sending a response"), "{m}");
    }

    #[test]
    fn chunked_with_extensions_and_trailers_any_split() {
        let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=\"v\"\r\nhello\r\n1 \r\n,\r\n000006\r\n world\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\nHTTP/1.1 200 OK\r\n";
        let d = ok(same_every_split(input, "GET"));
        assert_eq!(d.body, b"hello, world");
        assert!(d.keep_alive);
        assert_eq!(d.rest, b"HTTP/1.1 200 OK\r\n");
    }

    #[test]
    fn length_and_close_any_split() {
        let d = ok(same_every_split(b"HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\n\r\nhelloEXTRA", "GET"));
        assert_eq!((d.body.as_slice(), d.rest.as_slice(), d.keep_alive), (&b"hello"[..], &b"EXTRA"[..], true));
        let d = ok(same_every_split(b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nall of it\r\n0\r\n", "GET"));
        assert_eq!((d.body.as_slice(), d.keep_alive), (&b"all of it\r\n0\r\n"[..], false));
        let d = ok(same_every_split(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", "GET"));
        assert!(d.keep_alive && d.body.is_empty());
        // HEAD, 204 and 304 have no body whatever the headers say
        let d = ok(same_every_split(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nNEXT", "HEAD"));
        assert_eq!((d.body.len(), d.rest.as_slice()), (0, &b"NEXT"[..]));
        let d = ok(same_every_split(b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", "GET"));
        assert!(d.body.is_empty());
        // Transfer-Encoding wins over Content-Length, and the connection is not reused
        let d = ok(same_every_split(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
            "GET",
        ));
        assert_eq!((d.body.as_slice(), d.keep_alive), (&b"ab"[..], false));
    }

    #[test]
    fn errors_are_the_same_any_split() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
                "server closed the connection with 5 body bytes still expected",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
                "server closed the connection in the middle of a chunk",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXY0\r\n\r\n",
                "chunk data not followed by CRLF",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5",
                "server closed the connection in a chunk size line",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r",
                "server closed the connection in a chunk terminator",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n\r\n0\r\n\r\n",
                "chunk data not followed by CRLF",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\r\n0\r\n\r\n",
                "chunk data not followed by CRLF",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n",
                "server closed the connection in a trailer line",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\x00\r\nhello\r\n0\r\n\r\n",
                "chunk size line holds the control byte 0x00",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n",
                "chunk size line holds the control byte 0x0a",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
                "invalid chunk size line",
            ),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", "invalid chunk size line"),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                "unsupported Transfer-Encoding \"gzip, chunked\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                "only a single \"chunked\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                "conflicting Content-Length values",
            ),
            (b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello", "invalid Content-Length \"+5\""),
            (b"HTTP/1.1 099 Low\r\n\r\n", "invalid status code 99"),
            (b"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", "malformed response head"),
            (b"HTTP/1.1 200 OK\r\nContent-Le", "server closed the connection in the middle of the response head"),
        ];
        for (input, want) in cases {
            let m = err_msg(same_every_split(input, "GET"));
            assert!(m.contains(want), "{:?}: got {m:?}, want {want:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn chunk_line_and_trailer_limits() {
        let mut input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;".to_vec();
        input.extend_from_slice(&vec![b'e'; CHUNK_LINE_MAX]);
        input.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        let m = err_msg(outcome(decode(&[&input], "GET", &limits(), 1024)));
        assert!(m.contains("chunk size line too long or not CRLF-terminated"), "{m}");
        let pieces: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(err_msg(outcome(decode(&pieces, "GET", &limits(), 1024))), m);
        // a line at the limit is fine
        let mut input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;".to_vec();
        input.extend_from_slice(&vec![b'e'; CHUNK_LINE_MAX - 3]);
        input.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        assert_eq!(ok(outcome(decode(&[&input], "GET", &limits(), 1024))).body, b"x");
        // trailers: at most TRAILER_MAX bytes in lines of at most CHUNK_LINE_MAX
        let mut input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n".to_vec();
        let line = format!("X: {}\r\n", "t".repeat(4000));
        for _ in 0..TRAILER_MAX / 4003 {
            input.extend_from_slice(line.as_bytes());
        }
        let mut fits = input.clone();
        fits.extend_from_slice(b"\r\n");
        let pieces: Vec<&[u8]> = fits.chunks(1000).collect();
        assert!(ok(outcome(decode(&pieces, "GET", &limits(), 1024))).body.is_empty());
        input.extend_from_slice(line.as_bytes());
        input.extend_from_slice(b"\r\n");
        let pieces: Vec<&[u8]> = input.chunks(1000).collect();
        assert!(err_msg(outcome(decode(&pieces, "GET", &limits(), 1024))).contains("chunked trailers too large"));
    }

    #[test]
    fn body_steps_by_hand() {
        // What a driver sees: control bytes consumed, data announced, consumed, done.
        let mut f = Framing::Chunked(ChunkState::Size);
        assert_eq!(f.step(b"4\r").unwrap(), (0, BodyEvent::Need { buf_cap: CHUNK_LINE_MAX + 2 }));
        assert_eq!(f.step(b"4\r\nwiki\r\n").unwrap(), (3, BodyEvent::Data { max: 4 }));
        assert_eq!(f.step(b"wiki\r\n").unwrap(), (0, BodyEvent::Data { max: 4 }));
        f.consumed(3);
        assert_eq!(f, Framing::Chunked(ChunkState::Data(1)));
        f.consumed(1);
        assert_eq!(f.step(b"\r\n0\r\n\r\nNEXT").unwrap(), (7, BodyEvent::Done));
        assert!(f.is_finished());
        let mut f = Framing::Close;
        assert!(f.is_close_delimited());
        assert_eq!(f.step(b"").unwrap(), (0, BodyEvent::Data { max: u64::MAX }));
        f.eof().unwrap();
        assert_eq!(f, Framing::Done);
        let mut f = Framing::Length(3);
        f.consumed(3);
        assert_eq!(f.step(b"").unwrap(), (0, BodyEvent::Done));
    }
}

//! Response content decoding (`Content-Encoding`) and charset text decoding.
//!
//! [`decoder`] stacks streaming decoders over a body reader, undoing the encodings
//! listed in `Content-Encoding` from the last applied to the first. Every read is
//! bounded: memory stays flat however large the decoded body is, and
//! [`DecodeLimits::max_decoded_bytes`] stops decompression bombs early.
//!
//! [`decode_text`] turns a body into a `String` the way HTTPX's `Response.text` does:
//! the `charset` of the `Content-Type` read with Python's codec rules
//! ([`crate::charset`]), else UTF-8, with undecodable bytes replaced.

use std::fmt;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::sync::{Arc, Mutex};

use crate::charset::{self, Codec};
use flate2::bufread::MultiGzDecoder;
use flate2::{Decompress, FlushDecompress, Status};

use crate::error::{Error, Result};

/// Size of the read buffer placed in front of each decoding layer.
const BUF_SIZE: usize = 32 * 1024;

/// Bounds on how much work decoding a response may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest decoded body accepted when at least one encoding is undone; `None` for
    /// no limit. Bodies without a (supported) `Content-Encoding` are never limited.
    pub max_decoded_bytes: Option<u64>,
    /// Most encoding layers that will be undone; more is a [`Error::Decoding`].
    pub max_encodings: usize,
    /// Largest body read whole into memory (`Response::body`/`text`), counted on the
    /// raw bytes and on the decoded bytes alike; `None` for no limit. More is
    /// [`Error::BodyTooLarge`]. Streaming reads are not capped by it.
    pub max_body_bytes: Option<u64>,
}

/// Default cap on a buffered body: 1 GiB, raw or decoded.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 1 << 30;

impl Default for DecodeLimits {
    /// 1 GiB of decoded output, at most 5 stacked encodings, 1 GiB buffered bodies.
    fn default() -> Self {
        DecodeLimits {
            max_decoded_bytes: Some(1 << 30),
            max_encodings: 5,
            max_body_bytes: Some(DEFAULT_MAX_BODY_BYTES),
        }
    }
}

/// Corrupt, truncated or oversized encoded content, carried inside the `io::Error`
/// returned by a reader from [`decoder`]. Map it to [`Error::Decoding`] (see
/// [`is_decode_error`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Error {
        Error::Decoding(e.0)
    }
}

/// The `Accept-Encoding` value listing every encoding [`decoder`] can undo.
pub fn accept_encoding() -> &'static str {
    "gzip, deflate, br, zstd"
}

/// `Some(message)` when `e` carries a [`DecodeError`], i.e. the encoded content was
/// bad rather than the underlying transport failing.
pub fn is_decode_error(e: &io::Error) -> Option<String> {
    e.get_ref()?.downcast_ref::<DecodeError>().map(|d| d.0.clone())
}

/// One supported content coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Gzip,
    Deflate,
    Brotli,
    Zstd,
}

impl Coding {
    fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Brotli => "br",
            Coding::Zstd => "zstd",
        }
    }
}

/// What one `Content-Encoding` token asks for.
enum Token {
    Identity,
    Known(Coding),
    Unknown,
}

fn parse_token(token: &str) -> Token {
    match token.trim().to_ascii_lowercase().as_str() {
        "" | "identity" => Token::Identity,
        "gzip" | "x-gzip" => Token::Known(Coding::Gzip),
        "deflate" => Token::Known(Coding::Deflate),
        "br" => Token::Known(Coding::Brotli),
        "zstd" => Token::Known(Coding::Zstd),
        _ => Token::Unknown,
    }
}

/// Wrap `inner` (the body as received) in a reader yielding the decoded body.
///
/// `content_encoding` holds the `Content-Encoding` header values in the order
/// received; each may be a comma-separated list. Tokens are trimmed and
/// case-insensitive; `identity` and empty tokens are skipped and `x-gzip` means
/// `gzip`. Encodings are undone from the last applied to the first.
///
/// An unsupported token is not an error (HTTPX ignores unsupported encodings): the
/// layers applied after it are decoded and the rest of the body, still carrying that
/// encoding and any applied before it, is passed through as is.
///
/// `deflate` accepts both zlib-wrapped and raw deflate data, `gzip` decodes every
/// member of a multi-member stream and `zstd` every frame. An empty body decodes to
/// an empty body.
///
/// Fails with [`Error::Decoding`] when more than `limits.max_encodings` layers would
/// be undone. Errors from the returned reader: corrupt or truncated content, or more
/// than `limits.max_decoded_bytes` of output, give an `io::Error` carrying a
/// [`DecodeError`]; errors of `inner` are returned unchanged.
pub fn decoder<R: Read + Send + 'static>(
    inner: R,
    content_encoding: &[&str],
    limits: &DecodeLimits,
) -> Result<Box<dyn Read + Send>> {
    let mut layers = Vec::new();
    let tokens = content_encoding.iter().flat_map(|v| v.split(','));
    for token in tokens.collect::<Vec<_>>().into_iter().rev() {
        match parse_token(token) {
            Token::Identity => {}
            Token::Known(coding) => layers.push(coding),
            Token::Unknown => break,
        }
    }
    if layers.len() > limits.max_encodings {
        return Err(Error::Decoding(format!(
            "too many content encodings ({} > {})",
            layers.len(),
            limits.max_encodings
        )));
    }
    if layers.is_empty() {
        return Ok(Box::new(inner));
    }

    let shared = Arc::new(Mutex::new(inner));
    let mut reader: Box<dyn Read + Send> = Box::new(Source(shared.clone()));
    for coding in layers {
        reader = Box::new(Layer::new(reader, coding));
    }
    let drain_source: Box<dyn FnMut() -> Option<io::Error> + Send> = Box::new(move || {
        let mut src = shared.lock().unwrap_or_else(|e| e.into_inner());
        let mut scratch = [0u8; 8 * 1024];
        let mut left = DRAIN_ON_ERROR;
        while left > 0 {
            match src.read(&mut scratch) {
                Ok(0) => return None,
                Ok(n) => left = left.saturating_sub(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Some(e),
            }
        }
        None
    });
    Ok(Box::new(Output {
        inner: reader,
        drain_source: Some(drain_source),
        remaining: limits.max_decoded_bytes,
        limit: limits.max_decoded_bytes.unwrap_or(0),
    }))
}

fn decode_error(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, DecodeError(msg.into()))
}

/// An error of the caller's reader, tagged so the layers above pass it through
/// untouched and [`Output`] can hand back the original.
#[derive(Debug)]
struct SourceError(io::Error);

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SourceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

fn is_source_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<SourceError>())
}

/// The caller's reader, with its errors tagged as [`SourceError`].
struct Source<R>(Arc<Mutex<R>>);

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        inner.read(buf).map_err(|e| io::Error::new(e.kind(), SourceError(e)))
    }
}

/// After a decoding error, up to this many more raw bytes are read looking for an
/// error of the body itself (a truncated or malformed framing, a closed connection):
/// that error wins, so the outcome does not depend on how the bytes arrived (the
/// decoders read ahead up to ~64 KiB when bytes arrive at once).
const DRAIN_ON_ERROR: usize = 1 << 20;

/// One decoding layer. Created lazily on the first read so that an empty body
/// decodes to an empty body, and so `deflate` can sniff its first bytes.
/// A decoding failure is sticky: every later read fails the same way.
struct Layer {
    state: LayerState,
    coding: Coding,
}

enum LayerState {
    Pending(Box<dyn Read + Send>),
    Active(Box<dyn DecodeCodec>),
    Done,
    Failed(String),
}

/// The input of one codec: what it was fed plus the layer below.
type CodecInput = BufReader<io::Chain<Cursor<Vec<u8>>, Box<dyn Read + Send>>>;

/// A decoder whose input can be read to its end after the coded stream ended, so
/// that errors below it (the connection's, another layer's) are never lost: the same
/// bytes give the same result however they arrive.
trait DecodeCodec: Read + Send {
    fn input(&mut self) -> &mut CodecInput;
}

impl DecodeCodec for MultiGzDecoder<CodecInput> {
    fn input(&mut self) -> &mut CodecInput {
        self.get_mut()
    }
}

impl DecodeCodec for Inflate<CodecInput> {
    fn input(&mut self) -> &mut CodecInput {
        &mut self.input
    }
}

impl DecodeCodec for brotli_decompressor::Decompressor<CodecInput> {
    fn input(&mut self) -> &mut CodecInput {
        self.get_mut()
    }
}

impl DecodeCodec for zstd::stream::read::Decoder<'static, CodecInput> {
    fn input(&mut self) -> &mut CodecInput {
        self.get_mut()
    }
}

/// Read and discard the rest of `input` (data after the end of a coded stream is
/// ignored, as HTTPX does), returning any error on the way.
fn drain(input: &mut CodecInput) -> io::Result<()> {
    let mut scratch = [0u8; 8 * 1024];
    loop {
        match input.read(&mut scratch) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

impl Layer {
    fn new(inner: Box<dyn Read + Send>, coding: Coding) -> Self {
        Layer { state: LayerState::Pending(inner), coding }
    }

    /// Read the first (up to two) bytes and build the codec over them plus the rest.
    fn start(&mut self, mut inner: Box<dyn Read + Send>) -> io::Result<()> {
        let mut head = [0u8; 2];
        let mut len = 0;
        while len < head.len() {
            match inner.read(&mut head[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // Keep what was read so a retry after e.g. a timeout loses nothing.
                    let rest = Cursor::new(head[..len].to_vec()).chain(inner);
                    self.state = LayerState::Pending(Box::new(rest));
                    return Err(e);
                }
            }
        }
        if len == 0 {
            self.state = LayerState::Done;
            return Ok(());
        }
        let head = &head[..len];
        let input: CodecInput = BufReader::with_capacity(BUF_SIZE, Cursor::new(head.to_vec()).chain(inner));
        let codec: Box<dyn DecodeCodec> = match self.coding {
            Coding::Gzip => Box::new(MultiGzDecoder::new(input)),
            Coding::Deflate => Box::new(Inflate::new(input, looks_like_zlib(head))),
            Coding::Brotli => Box::new(brotli_decompressor::Decompressor::new(input, BUF_SIZE)),
            Coding::Zstd => Box::new(
                zstd::stream::read::Decoder::with_buffer(input).map_err(|e| decode_error(format!("zstd: {e}")))?,
            ),
        };
        self.state = LayerState::Active(codec);
        Ok(())
    }

    fn read_active(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let LayerState::Active(codec) = &mut self.state else {
            return Ok(0);
        };
        let n = codec.read(buf)?;
        if n == 0 {
            // The coded stream ended: read what is left below it to the end, so a
            // truncated lower layer or a broken connection is reported, not lost.
            drain(codec.input())?;
            self.state = LayerState::Done;
        }
        Ok(n)
    }
}

impl Read for Layer {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let result = match std::mem::replace(&mut self.state, LayerState::Done) {
            LayerState::Pending(inner) => self.start(inner).and_then(|()| self.read_active(buf)),
            LayerState::Active(codec) => {
                self.state = LayerState::Active(codec);
                self.read_active(buf)
            }
            LayerState::Done => Ok(0),
            LayerState::Failed(msg) => {
                self.state = LayerState::Failed(msg.clone());
                return Err(decode_error(msg));
            }
        };
        result.map_err(|e| {
            if is_source_error(&e) || e.kind() == io::ErrorKind::Interrupted {
                return e;
            }
            let msg = match is_decode_error(&e) {
                Some(msg) => msg,
                None => format!("{}: {e}", self.coding.name()),
            };
            self.state = LayerState::Failed(msg.clone());
            decode_error(msg)
        })
    }
}

/// True when `head` starts with a valid zlib header (RFC 1950: method 8, window
/// at most 32 KiB, header checksum). Anything else is taken as raw deflate.
fn looks_like_zlib(head: &[u8]) -> bool {
    match head {
        [cmf, flg, ..] => cmf & 0x0F == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

/// Streaming inflate (zlib-wrapped or raw) that, unlike flate2's readers, reports a
/// stream cut short as an error instead of ending quietly. Data after the end of the
/// deflate stream is ignored.
struct Inflate<R> {
    input: R,
    state: Decompress,
    finished: bool,
}

impl<R: BufRead> Inflate<R> {
    fn new(input: R, zlib_header: bool) -> Self {
        Inflate { input, state: Decompress::new(zlib_header), finished: false }
    }
}

impl<R: BufRead> Read for Inflate<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.finished {
            return Ok(0);
        }
        loop {
            let input = self.input.fill_buf()?;
            let eof = input.is_empty();
            let (in_before, out_before) = (self.state.total_in(), self.state.total_out());
            let flush = if eof { FlushDecompress::Finish } else { FlushDecompress::None };
            let status = self.state.decompress(input, buf, flush).map_err(|e| decode_error(format!("deflate: {e}")))?;
            let consumed = (self.state.total_in() - in_before) as usize;
            let written = (self.state.total_out() - out_before) as usize;
            self.input.consume(consumed);
            if status == Status::StreamEnd {
                self.finished = true;
                return Ok(written);
            }
            if written > 0 {
                return Ok(written);
            }
            if eof {
                return Err(decode_error("deflate: compressed stream is truncated"));
            }
            if consumed == 0 {
                return Err(decode_error("deflate: decoder made no progress"));
            }
        }
    }
}

/// The top of the stack: enforces the output limit and unwraps the caller's own
/// errors back to what their reader returned.
struct Output {
    inner: Box<dyn Read + Send>,
    /// Reads the raw body on after a decoding error; returns its error if any.
    drain_source: Option<Box<dyn FnMut() -> Option<io::Error> + Send>>,
    /// Bytes still allowed; `None` when unlimited.
    remaining: Option<u64>,
    limit: u64,
}

impl Output {
    fn read_inner(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            if !is_source_error(&e) {
                return e;
            }
            let tagged = e.into_inner().expect("checked by is_source_error");
            match tagged.downcast::<SourceError>() {
                Ok(original) => original.0,
                Err(other) => io::Error::other(other),
            }
        })
    }
}

impl Read for Output {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_limited(buf).map_err(|e| {
            if is_decode_error(&e).is_none() {
                return e;
            }
            // A decoding error: an error of the raw body itself wins (once).
            match self.drain_source.take().and_then(|mut drain| drain()) {
                Some(source_err) => source_err,
                None => e,
            }
        })
    }
}

impl Output {
    fn read_limited(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(remaining) = self.remaining else {
            return self.read_inner(buf);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        if remaining == 0 {
            // At the limit: any further byte means the body is too large.
            let mut probe = [0u8; 1];
            return match self.read_inner(&mut probe)? {
                0 => Ok(0),
                _ => Err(decode_error(format!("decoded body exceeds {} bytes (decompression bomb?)", self.limit))),
            };
        }
        let max = usize::try_from(remaining).unwrap_or(usize::MAX).min(buf.len());
        let n = self.read_inner(&mut buf[..max])?;
        self.remaining = Some(remaining - n as u64);
        Ok(n)
    }
}

/// The codec named by the `charset` parameter of a `Content-Type` value, if any and
/// if Python knows it (`codecs.lookup`, see [`crate::charset`]; case-insensitive,
/// quoted or not). A non-ASCII label is unknown (`email.message.get_content_charset`).
pub fn charset_of(content_type: Option<&str>) -> Option<Codec> {
    let label =
        content_type_params(content_type?).into_iter().find(|(name, _)| name.eq_ignore_ascii_case("charset"))?.1;
    if !label.is_ascii() {
        return None;
    }
    charset::lookup(label.trim())
}

/// The `name=value` parameters after the media type of a `Content-Type` value.
/// Quoted values are unquoted (with `\` escapes); malformed parameters are skipped.
fn content_type_params(value: &str) -> Vec<(&str, String)> {
    let mut params = Vec::new();
    let mut rest = match value.find(';') {
        Some(i) => &value[i + 1..],
        None => return params,
    };
    while !rest.is_empty() {
        let (name, after_name) = match rest.find(['=', ';']) {
            Some(i) if rest.as_bytes()[i] == b'=' => (rest[..i].trim(), &rest[i + 1..]),
            Some(i) => {
                rest = &rest[i + 1..];
                continue;
            }
            None => break,
        };
        let after_name = after_name.trim_start();
        let (val, next) = if let Some(quoted) = after_name.strip_prefix('"') {
            let mut val = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => val.extend(chars.next().map(|(_, c)| c)),
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => val.push(c),
                }
            }
            let tail = &quoted[end..];
            (val, tail.find(';').map_or("", |i| &tail[i + 1..]))
        } else {
            match after_name.find(';') {
                Some(i) => (after_name[..i].trim().to_string(), &after_name[i + 1..]),
                None => (after_name.trim().to_string(), ""),
            }
        };
        if !name.is_empty() {
            params.push((name, val));
        }
        rest = next;
    }
    params
}

/// Decode a body to text as HTTPX's `Response.text` does: the charset of
/// `content_type` if given and known, else `default` (a Python codec name), else
/// UTF-8. No BOM sniffing: a UTF-8 BOM stays as U+FEFF unless the charset is
/// `utf-8-sig` (Python's codecs). Undecodable bytes become U+FFFD; this never fails.
pub fn decode_text_with_default(body: &[u8], content_type: Option<&str>, default: Option<&str>) -> String {
    let codec = charset_of(content_type).or_else(|| default.and_then(charset::lookup)).unwrap_or(charset::UTF_8);
    codec.decode(body)
}

/// [`decode_text_with_default`] with no default (UTF-8).
pub fn decode_text(body: &[u8], content_type: Option<&str>) -> String {
    decode_text_with_default(body, content_type, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const SAMPLE: &[u8] = b"The quick brown fox jumps over the lazy dog. 0123456789\n";

    fn sample(len: usize) -> Vec<u8> {
        // Somewhat compressible but not trivial.
        (0..len).map(|i| SAMPLE[(i * 7 + i / 13) % SAMPLE.len()]).collect()
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn raw_deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn br(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 9, 22);
            w.write_all(data).unwrap();
        }
        out
    }

    fn zstd_enc(data: &[u8]) -> Vec<u8> {
        zstd::encode_all(data, 3).unwrap()
    }

    fn decode_with(body: Vec<u8>, enc: &[&str], limits: &DecodeLimits) -> io::Result<Vec<u8>> {
        let mut r = decoder(Cursor::new(body), enc, limits).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out)?;
        Ok(out)
    }

    fn decode(body: Vec<u8>, enc: &[&str]) -> io::Result<Vec<u8>> {
        decode_with(body, enc, &DecodeLimits::default())
    }

    fn decode_err_msg(body: Vec<u8>, enc: &[&str]) -> String {
        let e = decode(body, enc).expect_err("decoding should fail");
        is_decode_error(&e).unwrap_or_else(|| panic!("not a DecodeError: {e:?}"))
    }

    /// Read everything using a buffer of `size` bytes at a time.
    fn read_chunked(mut r: impl Read, size: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; size];
        loop {
            match r.read(&mut buf)? {
                0 => return Ok(out),
                n => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    #[test]
    fn accept_encoding_lists_supported() {
        assert_eq!(accept_encoding(), "gzip, deflate, br, zstd");
        for token in accept_encoding().split(", ") {
            assert!(matches!(parse_token(token), Token::Known(_)), "{token}");
        }
    }

    #[test]
    fn gzip_round_trip() {
        let data = sample(100_000);
        assert_eq!(decode(gzip(&data), &["gzip"]).unwrap(), data);
        assert_eq!(decode(gzip(&data), &["x-gzip"]).unwrap(), data);
        assert_eq!(decode(gzip(&data), &[" GZip "]).unwrap(), data);
    }

    #[test]
    fn gzip_multi_member() {
        let mut body = gzip(b"hello, ");
        body.extend(gzip(b"world"));
        assert_eq!(decode(body, &["gzip"]).unwrap(), b"hello, world");
    }

    #[test]
    fn deflate_zlib_and_raw() {
        let data = sample(50_000);
        assert!(looks_like_zlib(&zlib(&data)));
        assert!(!looks_like_zlib(&raw_deflate(&data)));
        assert_eq!(decode(zlib(&data), &["deflate"]).unwrap(), data);
        assert_eq!(decode(raw_deflate(&data), &["deflate"]).unwrap(), data);
        // Tiny payloads too.
        assert_eq!(decode(zlib(b"x"), &["deflate"]).unwrap(), b"x");
        assert_eq!(decode(raw_deflate(b"x"), &["deflate"]).unwrap(), b"x");
        assert_eq!(decode(raw_deflate(b""), &["deflate"]).unwrap(), b"");
    }

    #[test]
    fn brotli_round_trip() {
        let data = sample(100_000);
        assert_eq!(decode(br(&data), &["br"]).unwrap(), data);
        assert_eq!(decode(br(b""), &["br"]).unwrap(), b"");
    }

    #[test]
    fn zstd_round_trip_and_multi_frame() {
        let data = sample(100_000);
        assert_eq!(decode(zstd_enc(&data), &["zstd"]).unwrap(), data);
        let mut body = zstd_enc(b"one ");
        body.extend(zstd_enc(b"two"));
        assert_eq!(decode(body, &["zstd"]).unwrap(), b"one two");
    }

    #[test]
    fn stacked_encodings() {
        let data = sample(20_000);
        // Applied gzip first, then br: decode br, then gzip.
        let body = br(&gzip(&data));
        assert_eq!(decode(body.clone(), &["gzip, br"]).unwrap(), data);
        assert_eq!(decode(body, &["gzip", "br"]).unwrap(), data);
        let body = zstd_enc(&zlib(&br(&data)));
        assert_eq!(decode(body, &["br,deflate", "identity", "ZSTD"]).unwrap(), data);
    }

    #[test]
    fn identity_and_empty_are_passthrough() {
        let data = b"plain body".to_vec();
        assert_eq!(decode(data.clone(), &[]).unwrap(), data);
        assert_eq!(decode(data.clone(), &["identity"]).unwrap(), data);
        assert_eq!(decode(data.clone(), &["", " , IDENTITY"]).unwrap(), data);
    }

    #[test]
    fn unknown_token_passes_through_from_that_layer() {
        let data = b"opaque".to_vec();
        assert_eq!(decode(data.clone(), &["compress"]).unwrap(), data);
        // Outer gzip is undone, the unknown inner layer is left as is.
        let body = gzip(b"still-encoded");
        assert_eq!(decode(body, &["x-custom, gzip"]).unwrap(), b"still-encoded");
        // Nothing is decoded below an unknown outer layer.
        let body = gzip(b"abc");
        assert_eq!(decode(body.clone(), &["gzip", "x-custom"]).unwrap(), body);
    }

    #[test]
    fn too_many_layers() {
        let limits = DecodeLimits::default();
        let six = ["gzip, gzip, gzip", "gzip, gzip, gzip"];
        let err = decoder(io::empty(), &six, &limits).err().unwrap();
        assert!(matches!(err, Error::Decoding(_)), "{err:?}");
        // Exactly the maximum is fine.
        let mut body = b"deep".to_vec();
        for _ in 0..5 {
            body = gzip(&body);
        }
        assert_eq!(decode(body, &["gzip, gzip, gzip, gzip, gzip"]).unwrap(), b"deep");
        // identity tokens don't count.
        assert!(decoder(io::empty(), &["identity,identity,identity,identity,identity,identity,br"], &limits).is_ok());
    }

    #[test]
    fn empty_body_decodes_to_empty() {
        for enc in ["gzip", "deflate", "br", "zstd", "gzip, br"] {
            assert_eq!(decode(Vec::new(), &[enc]).unwrap(), b"", "{enc}");
        }
    }

    #[test]
    fn gzip_bomb_fails_fast_with_bounded_output() {
        // 50 MiB of zeros compresses to ~50 KiB.
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..50 {
            e.write_all(&zeros).unwrap();
        }
        let bomb = e.finish().unwrap();
        assert!(bomb.len() < 1 << 20);

        let limit = 10u64 << 20;
        let limits = DecodeLimits { max_decoded_bytes: Some(limit), ..DecodeLimits::default() };
        let mut r = decoder(Cursor::new(bomb), &["gzip"], &limits).unwrap();
        // Read in fixed chunks, keeping nothing: memory is flat, and the reader
        // never hands out more than the limit before failing.
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        let err = loop {
            match r.read(&mut buf) {
                Ok(0) => panic!("bomb decoded without error"),
                Ok(n) => total += n as u64,
                Err(e) => break e,
            }
        };
        assert_eq!(total, limit);
        let msg = is_decode_error(&err).unwrap();
        assert_eq!(msg, format!("decoded body exceeds {limit} bytes (decompression bomb?)"));
        // Exactly at the limit is accepted.
        let data = sample(1000);
        let exact = DecodeLimits { max_decoded_bytes: Some(1000), ..DecodeLimits::default() };
        assert_eq!(decode_with(gzip(&data), &["gzip"], &exact).unwrap(), data);
        let unlimited = DecodeLimits { max_decoded_bytes: None, ..DecodeLimits::default() };
        assert_eq!(decode_with(gzip(&data), &["gzip"], &unlimited).unwrap(), data);
    }

    #[test]
    fn limit_does_not_apply_without_encoding() {
        let limits = DecodeLimits { max_decoded_bytes: Some(3), ..DecodeLimits::default() };
        assert_eq!(decode_with(b"longer".to_vec(), &["identity"], &limits).unwrap(), b"longer");
    }

    #[test]
    fn truncated_streams_are_errors() {
        let data = sample(100_000);
        let cut = |mut v: Vec<u8>| {
            v.truncate(v.len() / 2);
            v
        };
        for (body, enc) in [
            (cut(gzip(&data)), "gzip"),
            (cut(zlib(&data)), "deflate"),
            (cut(raw_deflate(&data)), "deflate"),
            (cut(br(&data)), "br"),
            (cut(zstd_enc(&data)), "zstd"),
        ] {
            let msg = decode_err_msg(body, &[enc]);
            assert!(msg.starts_with(enc), "{enc}: {msg}");
        }
        // Cut inside the gzip trailer.
        let mut body = gzip(&data);
        body.truncate(body.len() - 3);
        decode_err_msg(body, &["gzip"]);
        // Cut inside the gzip header.
        decode_err_msg(gzip(&data)[..5].to_vec(), &["gzip"]);
    }

    #[test]
    fn corrupt_streams_are_errors() {
        let data = sample(10_000);
        let mut body = br(&data);
        let mid = body.len() / 2;
        for b in &mut body[mid..mid + 16] {
            *b ^= 0x5A;
        }
        decode_err_msg(body, &["br"]);
        decode_err_msg(b"this is not brotli at all".to_vec(), &["br"]);
        decode_err_msg(b"this is not gzip".to_vec(), &["gzip"]);
        decode_err_msg(b"not deflate \xff\xff\xff\xff".to_vec(), &["deflate"]);
        decode_err_msg(b"not zstd".to_vec(), &["zstd"]);
        // Bad gzip checksum.
        let mut body = gzip(&data);
        let n = body.len();
        body[n - 8] ^= 1;
        decode_err_msg(body, &["gzip"]);
    }

    #[test]
    fn decode_errors_are_sticky() {
        let mut r = decoder(Cursor::new(b"garbage!".to_vec()), &["br"], &DecodeLimits::default()).unwrap();
        let mut buf = [0u8; 64];
        for _ in 0..3 {
            let e = r.read(&mut buf).unwrap_err();
            assert!(is_decode_error(&e).is_some());
        }
    }

    #[test]
    fn small_read_buffers() {
        let data = sample(30_000);
        let cases = [
            (gzip(&data), "gzip"),
            (zlib(&data), "deflate"),
            (raw_deflate(&data), "deflate"),
            (br(&data), "br"),
            (zstd_enc(&data), "zstd"),
            (br(&gzip(&data)), "gzip, br"),
        ];
        for (body, enc) in cases {
            for size in [1, 3, 7, 4096] {
                let r = decoder(Cursor::new(body.clone()), &[enc], &DecodeLimits::default()).unwrap();
                assert_eq!(read_chunked(r, size).unwrap(), data, "{enc} / {size}");
            }
        }
    }

    /// Hands out its data one byte per read, failing once at a given offset.
    struct Trickle {
        data: Vec<u8>,
        pos: usize,
        fail_at: Option<usize>,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.fail_at == Some(self.pos) {
                self.fail_at = None;
                return Err(io::Error::new(io::ErrorKind::TimedOut, "slow peer"));
            }
            match self.data.get(self.pos) {
                Some(&b) if !buf.is_empty() => {
                    buf[0] = b;
                    self.pos += 1;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn one_byte_input_reads() {
        let data = sample(5000);
        for (body, enc) in [(zlib(&data), "deflate"), (raw_deflate(&data), "deflate"), (br(&gzip(&data)), "gzip,br")] {
            let src = Trickle { data: body, pos: 0, fail_at: None };
            let r = decoder(src, &[enc], &DecodeLimits::default()).unwrap();
            assert_eq!(read_chunked(r, 100).unwrap(), data, "{enc}");
        }
    }

    #[test]
    fn inner_errors_pass_through_unchanged_and_can_resume() {
        let data = sample(5000);
        let body = zlib(&data);
        for fail_at in [0, 1, 2, body.len() / 2, body.len() - 1] {
            let src = Trickle { data: body.clone(), pos: 0, fail_at: Some(fail_at) };
            let mut r = decoder(src, &["deflate"], &DecodeLimits::default()).unwrap();
            let mut out = Vec::new();
            let err = r.read_to_end(&mut out).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::TimedOut);
            assert_eq!(err.to_string(), "slow peer");
            assert!(is_decode_error(&err).is_none());
            assert!(err.get_ref().unwrap().downcast_ref::<SourceError>().is_none());
            // A retry after the timeout carries on where it stopped.
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out, data, "fail_at {fail_at}");
        }
        // Through stacked layers and with the limit in place too.
        let body = zstd_enc(&gzip(&data));
        let src = Trickle { data: body.clone(), pos: 0, fail_at: Some(body.len() / 2) };
        let mut r = decoder(src, &["gzip", "zstd"], &DecodeLimits::default()).unwrap();
        let err = read_chunked(&mut r, 64).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(is_decode_error(&err).is_none());
    }

    #[test]
    fn decode_error_maps_to_error() {
        let e: Error = DecodeError("bad".into()).into();
        assert_eq!(e, Error::Decoding("bad".into()));
        assert_eq!(is_decode_error(&io::Error::other("x")), None);
    }

    #[test]
    fn charset_parsing() {
        let name = |ct: &str| charset_of(Some(ct)).map(|e| e.name());
        // Python codec module names (HTTPX 0.28.1 `Response.encoding` + `codecs.lookup`).
        assert_eq!(name("text/html; charset=utf-8"), Some("utf_8"));
        assert_eq!(name("text/html;CHARSET=\"ISO-8859-1\""), Some("latin_1"));
        assert_eq!(name("text/html; foo=\"a;b\"; charset = shift_jis ; x=y"), Some("shift_jis"));
        assert_eq!(name("text/plain; format=flowed; charset=\"utf\\-16\""), Some("utf_16"));
        assert_eq!(name("text/plain; charset=no-such-charset"), None);
        assert_eq!(name("text/plain; charset=iso-2022-kr"), None); // not supported here
        assert_eq!(name("text/plain; charset=base64"), None); // not a text codec
        assert_eq!(name("text/plain"), None);
        assert_eq!(name("text/plain; charset"), None);
        assert_eq!(name("text/plain; charset="), None);
        assert_eq!(charset_of(None), None);
    }

    #[test]
    fn text_decoding() {
        assert_eq!(decode_text("héllo".as_bytes(), Some("text/plain; charset=utf-8")), "héllo");
        assert_eq!(decode_text("héllo".as_bytes(), None), "héllo");
        // Expected values from HTTPX 0.28.1 `httpx.Response(200, headers=..., content=...).text`.
        assert_eq!(decode_text(b"caf\xe9 \x93\x80", Some("text/plain; charset=iso-8859-1")), "café \u{93}\u{80}");
        assert_eq!(decode_text(b"caf\xe9", Some("text/plain; charset=latin1")), "café");
        assert_eq!(decode_text(b"caf\xe9", Some("text/plain; charset=latin-1")), "café");
        assert_eq!(
            decode_text(b"\x93hi\x94 \x80\x81\x8d", Some("text/plain; charset=cp1252")),
            "\u{201c}hi\u{201d} €\u{fffd}\u{fffd}"
        );
        assert_eq!(
            decode_text(b"\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd", Some("text/plain; charset=Shift_JIS")),
            "こんにちは"
        );
        assert_eq!(decode_text(b"\xff\xfeh\x00i\x00", None), "\u{fffd}\u{fffd}h\0i\0");
        assert_eq!(decode_text(b"\xfe\xff\x00h\x00i", Some("text/plain; charset=utf-8")), "\u{fffd}\u{fffd}\0h\0i");
        assert_eq!(decode_text(b"\xef\xbb\xbfhi", None), "\u{feff}hi");
        assert_eq!(decode_text(b"\xef\xbb\xbfhi", Some("text/plain; charset=utf-8-sig")), "hi");
        assert_eq!(decode_text_with_default(b"caf\xe9", None, Some("latin-1")), "café");
        assert_eq!(decode_text_with_default(b"caf\xe9", Some("text/plain; charset=bogus"), Some("l1")), "café");
        assert_eq!(decode_text(b"h\x00i\x00", Some("text/plain; charset=\"UTF-16\"")), "hi");
        assert_eq!(decode_text(b"ok \xff\xfe end", None), "ok \u{fffd}\u{fffd} end");
        assert_eq!(decode_text(b"caf\xe9", Some("text/plain; charset=bogus")), "caf\u{fffd}");
        assert_eq!(decode_text(b"", None), "");
    }
}

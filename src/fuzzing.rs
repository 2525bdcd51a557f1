//! Hidden helpers for the fuzzer (`fuzz/`) and the hardening tests: run the bytes of a
//! response through the HTTP/1.1 head parser, the body framing and the content
//! decoders exactly as the network transport does, over a real (Unix socket) stream,
//! either as they come or one byte per read. Not part of the supported API.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::time::Instant;

use crate::types::HeadLimits;
use crate::connection::Stream;
use crate::decoding::DecodeLimits;
use crate::error::{Error, Result};
use crate::http1::{Conn, Framing};
use crate::request::Request;
use crate::response::{RawBody, Response};

/// How to deliver and read the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    /// Each read from the stream takes at most one byte.
    pub one_byte: bool,
    /// Read the body whole (`Response::body`) rather than by streaming reads.
    pub buffered: bool,
}

/// What a response came to: (status, decoded body) or the error's code and message.
pub type Outcome = std::result::Result<(u16, Vec<u8>), (u32, String)>;

struct ConnBody {
    conn: Conn,
    framing: Framing,
}

impl RawBody for ConnBody {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        self.conn.read_body(&mut self.framing, buf)
    }
}

/// Parse `input` as the bytes a server sent in answer to `method`, with `limits` on
/// the head and a 16 MiB cap on the (decoded) body.
pub fn run(input: &[u8], method: &str, mode: Mode) -> Outcome {
    run_inner(input, method, mode).map_err(|e| (e.code(), e.to_string()))
}

fn run_inner(input: &[u8], method: &str, mode: Mode) -> Result<(u16, Vec<u8>)> {
    let (client, mut server) = UnixStream::pair().map_err(|e| Error::Io(e.to_string()))?;
    let writer = if input.len() <= 32 * 1024 {
        server.write_all(input).map_err(|e| Error::Io(e.to_string()))?;
        drop(server);
        None
    } else {
        let data = input.to_vec();
        Some(std::thread::spawn(move || {
            let _ = server.write_all(&data);
        }))
    };
    let result = (|| {
        let mut conn = Conn::new(Stream::unix(client)?);
        if mode.one_byte {
            conn.max_read = 1;
        }
        let head = conn.read_head(method, &HeadLimits::default())?;
        let body = ConnBody { conn, framing: head.framing };
        let req = Request::new(method, "http://fuzz.invalid/")?;
        let mut resp =
            Response::new(head.status, head.reason, head.version, head.headers, Box::new(body), req, Instant::now());
        let cap = Some(16u64 << 20);
        resp.set_decode_limits(
            DecodeLimits { max_decoded_bytes: cap, max_body_bytes: cap, ..DecodeLimits::default() },
            None,
        );
        if mode.buffered {
            let b = resp.body()?.to_vec();
            return Ok((resp.status, b));
        }
        let mut out = Vec::new();
        let mut buf = vec![0u8; if mode.one_byte { 1 } else { 16 * 1024 }];
        loop {
            let n = resp.read(&mut buf)?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
            if out.len() > 16 << 20 {
                return Err(Error::BodyTooLarge("fuzz cap".into()));
            }
        }
        Ok((resp.status, out))
    })();
    if let Some(w) = writer {
        let _ = w.join();
    }
    result
}

/// The property the fuzzer checks: the bytes give the same outcome (the same status
/// and body, or an error with the same code) whole or one byte per read, buffered or
/// streamed. Returns the outcomes when they differ.
pub fn check_same_outcome(input: &[u8], method: &str) -> std::result::Result<Outcome, Vec<(Mode, Outcome)>> {
    let modes = [
        Mode { one_byte: false, buffered: true },
        Mode { one_byte: true, buffered: true },
        Mode { one_byte: false, buffered: false },
        Mode { one_byte: true, buffered: false },
    ];
    let outcomes: Vec<(Mode, Outcome)> = modes.iter().map(|m| (*m, run(input, method, *m))).collect();
    let same = |a: &Outcome, b: &Outcome| match (a, b) {
        (Ok(x), Ok(y)) => x == y,
        (Err(x), Err(y)) => x.0 == y.0,
        _ => false,
    };
    if outcomes.iter().all(|(_, o)| same(o, &outcomes[0].1)) {
        Ok(outcomes.into_iter().next().map(|(_, o)| o).unwrap_or(Err((0, String::new()))))
    } else {
        Err(outcomes)
    }
}

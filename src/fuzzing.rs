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

/// The sans-IO codec's own property (`http1::codec`, driven in memory as the multi's event
/// loop drives it): the bytes give the same result (the same head, body, bytes left over,
/// or the same error code) whole, one byte per piece, and in pieces of sizes taken from
/// `splits` (cycled), read with small and large body reads. And without a content coding
/// the codec and the blocking connection (`run`) agree on the status and the body, or both
/// fail. Returns a description of the first difference.
pub fn check_codec_splits(input: &[u8], method: &str, splits: &[u8]) -> std::result::Result<(), String> {
    use crate::http1::codec::{decode, Decoded};
    let limits = HeadLimits::default();
    let show = |r: &Result<Decoded>| match r {
        Ok(d) => format!("OK {} keep_alive={} body={} rest={}", d.status, d.keep_alive, d.body.len(), d.rest.len()),
        Err(e) => format!("code {}: {e}", e.code()),
    };
    let same = |a: &Result<Decoded>, b: &Result<Decoded>| match (a, b) {
        (Ok(x), Ok(y)) => x == y,
        (Err(x), Err(y)) => x.code() == y.code(),
        _ => false,
    };
    let whole = decode(&[input], method, &limits, 64 * 1024);
    let ones: Vec<&[u8]> = input.chunks(1).collect();
    let mut sized: Vec<&[u8]> = Vec::new();
    let mut rest = input;
    let mut k = 0usize;
    while !rest.is_empty() {
        let n = if splits.is_empty() { rest.len() } else { (splits[k % splits.len()] as usize % 64) + 1 };
        let (a, b) = rest.split_at(n.min(rest.len()));
        sized.push(a);
        rest = b;
        k += 1;
    }
    let runs = [
        ("one-byte pieces", decode(&ones, method, &limits, 64 * 1024)),
        ("one-byte pieces and reads", decode(&ones, method, &limits, 1)),
        ("sized pieces", decode(&sized, method, &limits, 64 * 1024)),
        ("sized pieces, 5-byte reads", decode(&sized, method, &limits, 5)),
    ];
    for (what, r) in &runs {
        if !same(&whole, r) {
            return Err(format!("whole: {}; {what}: {}", show(&whole), show(r)));
        }
    }
    let coded = match &whole {
        Ok(d) => d.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("Content-Encoding")),
        Err(_) => input.windows(16).any(|w| w.eq_ignore_ascii_case(b"content-encoding")),
    };
    if !coded {
        let conn = run(input, method, Mode { one_byte: false, buffered: true });
        let agree = match (&whole, &conn) {
            (Ok(d), Ok((status, body))) => d.status == *status && d.body == *body,
            (Err(a), Err((code, _))) => a.code() == *code,
            _ => false,
        };
        if !agree {
            return Err(format!("codec: {}; blocking connection: {conn:?}", show(&whole)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The fuzzer's seeds and regressions keep the codec's property (the blocking one is
    /// replayed by tests/hardening.rs).
    #[test]
    fn codec_corpus_is_split_invariant() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
        let mut n = 0;
        for dir in ["corpus/response", "regressions"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                let data = std::fs::read(e.unwrap().path()).unwrap();
                if data.is_empty() {
                    continue;
                }
                let method = if data[0] & 1 == 1 { "HEAD" } else { "GET" };
                let splits: Vec<u8> = (0..=u8::MAX).collect();
                for s in [&data[..], &splits[..], &[0u8][..]] {
                    if let Err(diff) = super::check_codec_splits(&data[1..], method, s) {
                        panic!("{dir}: {diff}");
                    }
                }
                n += 1;
            }
        }
        assert!(n >= 10, "{n} inputs");
    }
}

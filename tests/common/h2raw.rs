//! A raw HTTP/2 responder over TLS ([`raw_h2_server`]) for malformed responses h2's
//! own server side cannot send, with the frame and HPACK helpers its callers build
//! heads with (tests/hardening_h2.rs, tests/multi_hostile.rs).

use std::io::{Read, Write};

use super::faults::{tls_fault_server, FaultServer};

/// One HTTP/2 frame: 9-byte header (length, type, flags, stream id), then `payload`.
pub fn frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, ty, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A raw HTTP/2 responder over TLS (ALPN "h2"): h2's server side cannot send a
/// malformed response, this one sends whatever HPACK blocks it is given. For every
/// request (HEADERS frame) on stream N: HEADERS(N) for each block of `heads` (the last
/// is the final head), DATA(N) "ok", then, if `trailers` is given, a trailer HEADERS
/// frame with END_STREAM. Bounded: 200 frames per connection, 10 s socket timeouts.
pub fn raw_h2_server(heads: Vec<Vec<u8>>, trailers: Option<Vec<u8>>) -> FaultServer {
    const END_STREAM: u8 = 0x1;
    const END_HEADERS: u8 = 0x4;
    tls_fault_server(&[b"h2"], move |mut tls| {
        let mut preface = [0u8; 24];
        if tls.read_exact(&mut preface).is_err() || &preface != b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" {
            return;
        }
        if tls.write_all(&frame(4, 0, 0, &[])).and_then(|_| tls.flush()).is_err() {
            return;
        }
        for _ in 0..200 {
            let mut h = [0u8; 9];
            if tls.read_exact(&mut h).is_err() {
                return;
            }
            let len = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
            let (ty, flags) = (h[3], h[4]);
            let sid = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
            let mut payload = vec![0u8; len.min(1 << 20)];
            if len > 1 << 20 || tls.read_exact(&mut payload).is_err() {
                return;
            }
            let out = match ty {
                4 if flags & 0x1 == 0 => frame(4, 0x1, 0, &[]), // SETTINGS -> ACK
                1 => {
                    let mut out = Vec::new();
                    for block in &heads {
                        out.extend(frame(1, END_HEADERS, sid, block));
                    }
                    match &trailers {
                        None => out.extend(frame(0, END_STREAM, sid, b"ok")),
                        Some(t) => {
                            out.extend(frame(0, 0, sid, b"ok"));
                            out.extend(frame(1, END_HEADERS | END_STREAM, sid, t));
                        }
                    }
                    out
                }
                7 => return, // GOAWAY
                _ => continue,
            };
            if tls.write_all(&out).and_then(|_| tls.flush()).is_err() {
                return;
            }
        }
    })
}

/// HPACK (RFC 7541, static table): `:status 200` (index 8).
pub const STATUS_200: u8 = 0x88;

/// A literal field without indexing, name from the static table (`index` < 15).
pub fn hpack_indexed_name(index: u8, value: &str) -> Vec<u8> {
    let mut b = vec![index, value.len() as u8];
    b.extend_from_slice(value.as_bytes());
    b
}

/// A literal field without indexing, new name.
pub fn hpack_literal(name: &str, value: &str) -> Vec<u8> {
    let mut b = vec![0x00, name.len() as u8];
    b.extend_from_slice(name.as_bytes());
    b.push(value.len() as u8);
    b.extend_from_slice(value.as_bytes());
    b
}

//! Fuzz target: bytes a server might send, run through libhttpx's HTTP/1.1 head parser,
//! body framing (Content-Length, chunked, close-delimited, trailers) and content
//! decoders (gzip, deflate, br, zstd, stacked), over a real socket.
//!
//! Properties checked on every input:
//! - nothing panics, hangs or grows without bound (16 MiB body cap in the harness);
//! - the same bytes give the same outcome (status and body, or the same error code)
//!   delivered whole or one byte per read, read whole or streamed;
//! - the sans-IO codec under it (`http1::codec`, driven in memory as the multi's event
//!   loop drives it) gives the same result whole, in one-byte pieces and in pieces of
//!   sizes taken from the input, and agrees with the blocking connection
//!   (`httpx::fuzzing::check_codec_splits`; the `codec` target checks only that, faster).
//!
//! The first input byte picks the request method (GET or HEAD) so HEAD framing is
//! covered too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.is_empty() || data.len() > 32 * 1024 {
        return;
    }
    let method = if data[0] & 1 == 1 { "HEAD" } else { "GET" };
    let input = &data[1..];
    if let Err(outcomes) = httpx::fuzzing::check_same_outcome(input, method) {
        let short: Vec<String> = outcomes
            .iter()
            .map(|(m, o)| match o {
                Ok((st, b)) => format!("{m:?}: OK {st}, {} body bytes", b.len()),
                Err((c, msg)) => format!("{m:?}: code {c}: {msg}"),
            })
            .collect();
        panic!("outcome depends on how the bytes arrive ({method}): {short:#?}");
    }
    if let Err(diff) = httpx::fuzzing::check_codec_splits(input, method, data) {
        panic!("codec outcome depends on how the bytes arrive ({method}): {diff}");
    }
});

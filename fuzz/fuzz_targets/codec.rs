//! Fuzz target: the sans-IO HTTP/1.1 codec alone (`httpx::http1::codec`), no sockets.
//!
//! Input: first byte picks the method (odd = HEAD, even = GET), the next byte how many of
//! the following bytes are piece sizes (the rest is the response). Property: the same
//! result (head, body, bytes left over, or the same error code) whole, in one-byte
//! pieces and in the given piece sizes, with small and large body reads; and the same
//! status and body as the blocking connection when there is no content coding
//! (`httpx::fuzzing::check_codec_splits`). Nothing panics or grows without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 || data.len() > 32 * 1024 {
        return;
    }
    let method = if data[0] & 1 == 1 { "HEAD" } else { "GET" };
    let n = (data[1] as usize % 16).min(data.len() - 2);
    let (splits, input) = data[2..].split_at(n);
    if let Err(diff) = httpx::fuzzing::check_codec_splits(input, method, splits) {
        panic!("codec outcome depends on how the bytes arrive ({method}): {diff}");
    }
});

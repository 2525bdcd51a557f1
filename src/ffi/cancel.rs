//! `httpx_cancel`: cancel tokens, and the total timeout's documentation.
//!
//! The rules are documented on `httpx_cancel` below (cbindgen copies them into
//! `include/httpx.h`).

use super::handle::{Castable, OwnedBox};
use super::*;
use crate::cancel::CancelToken;

/// A cancel token (opaque). Thread-safe: fire it from any thread while other
/// threads send with it.
///
/// DEADLINES AND CANCELLATION
///
/// **Total timeout** (`httpx_client_config_set_total_timeout`,
/// `httpx_request_set_total_timeout`, libcurl's CURLOPT_TIMEOUT): one deadline for
/// everything one send does: pool wait, DNS, connect, proxy and SOCKS handshakes,
/// TLS, writing the request, every redirect hop and auth round trip, and reading the
/// body, buffered (`httpx_client_send`) or streamed (`httpx_response_read` after
/// `httpx_client_send_stream`). Expiry is `HTTPX_E_TOTAL_TIMEOUT` (14, in the
/// timeout group: `httpx_code_is_timeout` is 1). The clock starts when the send
/// starts. Negative = none (the default, as in HTTPX).
///
/// **Cancel tokens** (`httpx_cancel_*`, `httpx_request_set_cancel`, Go's
/// context cancel): fire a token from any thread and every send and body read using
/// it returns `HTTPX_E_CANCELLED` (44) within 100 ms wherever it is blocked: waiting
/// for a pool slot, resolving or connecting, in a proxy or TLS handshake, writing to
/// a server that does not read, reading from a silent server, between redirects, on
/// an HTTP/2 stream. Its HTTP/1.1 connection is closed, never pooled (an HTTP/2
/// stream is reset with RST_STREAM; the shared connection stays up for the other
/// streams). A send started with an already fired token sends nothing at all.
/// Blocked I/O waits in `poll()` on the socket together with the token's eventfd: no
/// busy waiting and no thread per request.
///
/// **With the four timeouts**: connect, read, write and pool timeouts keep their
/// meaning and their codes; whichever limit comes first wins. The read timeout bounds
/// each body read, and the response head (status line, headers and any interim 1xx
/// responses) *as a whole*; the connect timeout bounds DNS (see below), the TCP
/// connect, the TLS handshake and any proxy CONNECT or SOCKS4/5 handshake *as a
/// whole*, so a peer dripping bytes cannot stretch them. The total timeout caps
/// them all; a cancel interrupts them all.
///
/// **DNS**: `getaddrinfo` cannot be interrupted. IP literals never reach it. When a
/// send has a total timeout or a cancel token, a host name is resolved on a
/// short-lived helper thread and the send waits for the answer, the token, the
/// connect timeout or the total deadline, whichever comes first; a lookup given up
/// that way finishes in the background and is discarded. Without either, names are
/// resolved on the calling thread (bounded only by the system resolver).
///
/// **Callback transports and callbacks**: the token and the deadline are checked
/// before every exchange (each redirect hop and auth step) and between body reads; C
/// code running inside a callback (a callback transport's handler, a body reader, a
/// hook) is not interrupted: it should check `httpx_cancel_is_fired` itself.
pub struct httpx_cancel {
    _private: [u8; 0],
}

impl Castable for httpx_cancel {
    type Ownership = OwnedBox;
    type RustType = CancelToken;
}

/// New, unfired cancel token; writes `*out` on success. Free with
/// `httpx_cancel_free`. Fails (`HTTPX_E_IO`) only when no file descriptor is left.
/// Any thread.
#[no_mangle]
pub unsafe extern "C" fn httpx_cancel_new(out: *mut *mut httpx_cancel) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(out, "out")?;
        *out = to_box(CancelToken::new()?);
        Ok(())
    })
}

/// Fire the token: every send and `httpx_response_read` using it stops with
/// `HTTPX_E_CANCELLED` within 100 ms. Idempotent; any thread, any time (also from
/// a callback, a signal-free watchdog thread, or while the token is being used).
/// NULL is `HTTPX_E_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn httpx_cancel_fire(tok: *const httpx_cancel) -> httpx_code {
    run(std::ptr::null_mut(), || {
        try_ref(tok, "tok")?.fire();
        Ok(())
    })
}

/// 1 once the token has fired, else 0 (also 0 for NULL). Any thread.
#[no_mangle]
pub unsafe extern "C" fn httpx_cancel_is_fired(tok: *const httpx_cancel) -> i32 {
    run_val(0, || opt_ref(tok).map_or(0, |t| t.is_fired() as i32))
}

/// Free the caller's handle. Requests that were given the token keep their own
/// reference, so this is safe at any time, even while a send using it runs on
/// another thread (that send can then no longer be cancelled through this handle).
/// NULL is allowed.
#[no_mangle]
pub unsafe extern "C" fn httpx_cancel_free(tok: *mut httpx_cancel) {
    free(tok)
}

//! The debug hook and what a response knows about its connection (libcurl's
//! CURLOPT_DEBUGFUNCTION and CURLINFO_*).

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use super::config::{cfg_mut, httpx_client_config};
use super::response::{httpx_response, ResponseHandle};
use super::*;
use crate::info::Timing;

/// Debug kinds passed to a debug callback (same values as libcurl's CURLINFO_TEXT...).
/// One human-readable line without line ending: connecting, connected, reusing, TLS
/// version and cipher, ALPN, proxy, redirect, retry, closing, failures.
pub const HTTPX_DEBUG_TEXT: u32 = 0;
/// A response head as received, every line with its CRLF, the blank line included
/// (HTTP/2 heads rendered as HTTP/1.1-style lines: "HTTP/2 200").
pub const HTTPX_DEBUG_HEADER_IN: u32 = 1;
/// A request head as sent (HTTP/2: "GET /path HTTP/2", "Host:" for :authority).
pub const HTTPX_DEBUG_HEADER_OUT: u32 = 2;
/// Response body bytes as they arrive: after de-chunking, before content decoding.
pub const HTTPX_DEBUG_DATA_IN: u32 = 3;
/// Request body bytes as they are sent (before chunked framing).
pub const HTTPX_DEBUG_DATA_OUT: u32 = 4;

/// Debug callback: one of `HTTPX_DEBUG_*` and `len` bytes at `data`, valid only
/// during the call (not NUL-terminated). Runs on the sending thread (or the thread
/// reading the body); must not send on the same client.
pub type httpx_debug_fn = Option<unsafe extern "C" fn(userdata: *mut c_void, kind: u32, data: *const u8, len: usize)>;

/// Show what passes on the wire to `debug_fn` (libcurl's CURLOPT_DEBUGFUNCTION):
/// TEXT lines, request and response heads exactly as sent and received, body bytes.
/// With no callback set nothing is formatted or copied. NULL removes it (and
/// `free_fn(userdata)`, if given, runs at once). On success takes `userdata`:
/// `free_fn` (may be NULL) runs once when the last config or client using it is
/// freed. Without a callback, `HTTPX_DEBUG=1` in the environment (read only when
/// trust_env is on, at `httpx_client_new`) prints TEXT and heads to stderr in
/// `curl -v`'s style.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_debug(
    cfg: *mut httpx_client_config,
    debug_fn: httpx_debug_fn,
    userdata: *mut c_void,
    free_fn: httpx_free_fn,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        let Some(f) = debug_fn else {
            c.clear_debug();
            release_userdata(userdata, free_fn);
            return Ok(());
        };
        let cb = CCallback::new(f, userdata, free_fn);
        c.set_debug(Arc::new(move |kind, data| {
            // SAFETY: a C function given by the caller; `data` outlives the call.
            cb.call(|f, ud| unsafe { f(ud, kind.code(), data.as_ptr(), data.len()) });
        }));
        Ok(())
    })
}

/// Phases for `httpx_response_timing`: seconds since the send began, cumulative.
/// The pool handed out a connection (or a slot to open one).
pub const HTTPX_TIMING_QUEUE: u32 = 1;
/// The host name was resolved.
pub const HTTPX_TIMING_DNS: u32 = 2;
/// The TCP connection (to the server or the proxy) was established.
pub const HTTPX_TIMING_CONNECT: u32 = 3;
/// The TLS handshake finished (and the proxy tunnel before it).
pub const HTTPX_TIMING_TLS: u32 = 4;
/// The request head and body were written.
pub const HTTPX_TIMING_REQUEST_SENT: u32 = 5;
/// The response head arrived.
pub const HTTPX_TIMING_FIRST_BYTE: u32 = 6;
/// The body was read to the end.
pub const HTTPX_TIMING_TOTAL: u32 = 7;

/// C strings of a response's connection facts, built on first use.
pub(crate) struct InfoStrings {
    remote: Option<CString>,
    local: Option<CString>,
    cipher: Option<CString>,
    alpn: Option<CString>,
}

fn strings(r: &ResponseHandle) -> &InfoStrings {
    r.info_strs.get_or_init(|| {
        let c = r.get().info.conn.as_deref();
        let addr = |a: Option<std::net::SocketAddr>| opt_cstring(a.map(|a| crate::info::addr_text(&a)).as_deref());
        InfoStrings {
            remote: addr(c.and_then(|c| c.remote)),
            local: addr(c.and_then(|c| c.local)),
            cipher: opt_cstring(c.and_then(|c| c.tls_cipher.as_deref())),
            alpn: opt_cstring(c.and_then(|c| c.alpn.as_deref())),
        }
    })
}

fn info_str(resp: *const httpx_response, pick: fn(&InfoStrings) -> &Option<CString>) -> *const c_char {
    // SAFETY: the caller passes a response handle or NULL.
    run_val(std::ptr::null(), || unsafe { opt_ref(resp) }.map_or(std::ptr::null(), |r| ptr_of(pick(strings(r)))))
}

/// Address of the server (or proxy) the response came from: "127.0.0.1:8080",
/// "[::1]:443". Owned by the response; NULL for callback transports, Unix sockets
/// and a NULL `resp`. Any thread that owns the response.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_remote_addr(resp: *const httpx_response) -> *const c_char {
    info_str(resp, |s| &s.remote)
}

/// Local address of the connection ("127.0.0.1:51234"). Owned by the response;
/// NULL as for `httpx_response_remote_addr`.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_local_addr(resp: *const httpx_response) -> *const c_char {
    info_str(resp, |s| &s.local)
}

/// "TLSv1.3" or "TLSv1.2"; NULL on plain http (and a proxy-forwarded http request).
/// Static string.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_tls_version(resp: *const httpx_response) -> *const c_char {
    run_val(std::ptr::null(), || {
        let v = opt_ref(resp).and_then(|r| r.get().info.conn.as_deref().and_then(|c| c.tls_version));
        match v {
            Some("TLSv1.3") => c"TLSv1.3".as_ptr(),
            Some("TLSv1.2") => c"TLSv1.2".as_ptr(),
            Some("TLSv1.1") => c"TLSv1.1".as_ptr(),
            Some("TLSv1.0") => c"TLSv1.0".as_ptr(),
            Some(_) => c"TLS".as_ptr(),
            None => std::ptr::null(),
        }
    })
}

/// The negotiated cipher suite, IANA name ("TLS13_AES_256_GCM_SHA384",
/// "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"). Owned by the response; NULL on plain http.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_tls_cipher(resp: *const httpx_response) -> *const c_char {
    info_str(resp, |s| &s.cipher)
}

/// The ALPN protocol the server chose ("h2", "http/1.1"); NULL when none was
/// negotiated (plain http). Owned by the response.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_alpn(resp: *const httpx_response) -> *const c_char {
    info_str(resp, |s| &s.alpn)
}

/// 1 when the response came over a connection that carried an earlier request
/// (pooled HTTP/1.1 connection, shared HTTP/2 connection), else 0 (also for NULL).
#[no_mangle]
pub unsafe extern "C" fn httpx_response_connection_reused(resp: *const httpx_response) -> i32 {
    run_val(0, || opt_ref(resp).map_or(0, |r| r.get().info.reused as i32))
}

/// Seconds from the start of the send to the end of phase `which` (`HTTPX_TIMING_*`),
/// cumulative as curl's are: QUEUE <= DNS <= CONNECT <= TLS <= REQUEST_SENT <=
/// FIRST_BYTE <= TOTAL. A phase that did not happen (a reused connection, plain
/// http, a callback transport) reports the previous phase's time (QUEUE: 0).
/// `HTTPX_TIMING_TOTAL` before the body was read to the end, an unknown `which`, or
/// NULL pointers: `HTTPX_E_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_timing(
    resp: *const httpx_response,
    which: u32,
    seconds_out: *mut f64,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(seconds_out, "seconds_out")?;
        let r = try_ref(resp, "resp")?;
        let t =
            Timing::from_code(which).ok_or_else(|| crate::Error::InvalidArgument(format!("unknown timing {which}")))?;
        let d = r.get().info.timings.get(t).ok_or_else(|| {
            crate::Error::InvalidArgument("HTTPX_TIMING_TOTAL: the body has not been read to the end".into())
        })?;
        *seconds_out = d.as_secs_f64();
        Ok(())
    })
}

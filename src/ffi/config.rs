//! `httpx_client_config`: everything `httpx.Client(...)` takes, set one option at a
//! time. A config has one owner at a time; it is copied by `httpx_client_new`, so
//! it may be changed or freed afterwards without affecting the client.

use std::ffi::{c_char, c_void};
use std::path::PathBuf;
use std::sync::Arc;

use super::auth::httpx_auth;
use super::handle::{Castable, OwnedBox};
use super::request::{httpx_request, RequestHandle};
use super::response::{httpx_response, ResponseHandle};
use super::transport::httpx_transport;
use super::*;
use crate::config::ClientConfig;
use crate::tls::{MinVersion, PemSource, Trust};
use crate::types::{HeadLimits, Limits, ProxyMode, Timeouts};

/// Client configuration (opaque).
pub struct httpx_client_config {
    _private: [u8; 0],
}

/// What an `httpx_client_config *` points at.
#[derive(Default)]
pub(crate) struct ConfigHandle {
    pub(crate) cfg: ClientConfig,
    errors: FirstError,
}

impl Castable for httpx_client_config {
    type Ownership = OwnedBox;
    type RustType = ConfigHandle;
}

impl RecordsErrors for ConfigHandle {
    fn first_error(&self) -> &FirstError {
        &self.errors
    }
}

/// Proxy modes for `httpx_client_config_add_proxy` (HTTPX `Proxy(mode=...)`).
pub const HTTPX_PROXY_DEFAULT: u32 = 0;
pub const HTTPX_PROXY_FORWARD_ONLY: u32 = 1;
pub const HTTPX_PROXY_TUNNEL_ONLY: u32 = 2;

/// TLS versions for `httpx_client_config_set_min_tls_version`.
pub const HTTPX_TLS_1_2: u32 = 12;
pub const HTTPX_TLS_1_3: u32 = 13;

/// Request hook: see and edit the request before it is sent. Return `HTTPX_OK` to
/// go on; anything else aborts the send with `HTTPX_E_CALLBACK`. `req` is valid only
/// during the call. Runs on the sending thread.
pub type httpx_request_hook_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, req: *mut httpx_request) -> httpx_code>;

/// Response hook: see the response (its head; `httpx_response_body` may be called to
/// read the body). Return `HTTPX_OK` to go on; anything else aborts the send with
/// `HTTPX_E_CALLBACK`. `resp` is valid only during the call.
pub type httpx_response_hook_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, resp: *mut httpx_response) -> httpx_code>;

pub(crate) unsafe fn cfg_mut<'a>(cfg: *mut httpx_client_config) -> crate::Result<&'a mut ClientConfig> {
    Ok(&mut try_mut(cfg, "cfg")?.cfg)
}

/// The configuration behind `cfg`, or the defaults for NULL.
pub(crate) unsafe fn cfg_or_default(cfg: *const httpx_client_config, default: &ClientConfig) -> &ClientConfig {
    opt_ref(cfg).map_or(default, |c| &c.cfg)
}

/// New configuration with HTTPX's defaults: 5 s timeouts, 100 connections, 20
/// keep-alive, 5 s keep-alive expiry, trust_env on, verify on, no redirects
/// followed (max 20 when enabled). Writes `*cfg_out` on success; free it with
/// `httpx_client_config_free`.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_new(cfg_out: *mut *mut httpx_client_config) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(cfg_out, "cfg_out")?;
        *cfg_out = to_box(ConfigHandle::default());
        Ok(())
    })
}

/// Free a configuration. NULL is allowed. Clients made from it are unaffected.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_free(cfg: *mut httpx_client_config) {
    free(cfg)
}

/// The first failure of a setter on `cfg` since `httpx_client_config_new`: its code
/// (`HTTPX_OK` when every setter succeeded) and, through `err` (may be NULL), its
/// message. A failed setter leaves the config unchanged and returns the same code;
/// this keeps the reason for a caller that checks once after configuring.
/// `httpx_client_new` does not look at it. NULL `cfg`: `HTTPX_E_INVALID_ARGUMENT`.
/// Call from the thread that owns `cfg`.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_error(
    cfg: *const httpx_client_config,
    err: *mut *mut httpx_error,
) -> httpx_code {
    report_first_error(cfg, "cfg", err)
}

/// Prefix for relative request URLs (HTTPX `base_url`); its path is kept:
/// base "http://h/api" + "/users" = "http://h/api/users". NULL clears it. The URL
/// is checked now: unparsable is `HTTPX_E_INVALID_URL`, a missing or non-http(s)
/// scheme `HTTPX_E_UNSUPPORTED_PROTOCOL`.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_base_url(
    cfg: *mut httpx_client_config,
    url: *const c_char,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        c.set_base_url(opt_cstr(url, "url")?)
    })
}

/// Add a header sent with every request (request headers of the same name replace
/// it). CR, LF or NUL in the value, or an invalid name: `HTTPX_E_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_add_header(
    cfg: *mut httpx_client_config,
    name: *const c_char,
    value: *const c_char,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        c.add_header(cstr(name, "name")?, cstr(value, "value")?)
    })
}

/// Add a query parameter sent with every request. A request param with the same
/// key replaces all client values of that key.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_add_param(
    cfg: *mut httpx_client_config,
    key: *const c_char,
    value: *const c_char,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        c.add_param(cstr(key, "key")?, cstr(value, "value")?);
        Ok(())
    })
}

/// Seed the client's cookie jar. `domain` NULL or "" = sent to every host; `path`
/// NULL = "/".
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_add_cookie(
    cfg: *mut httpx_client_config,
    name: *const c_char,
    value: *const c_char,
    domain: *const c_char,
    path: *const c_char,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        let n = cstr(name, "name")?;
        let v = cstr(value, "value")?;
        let d = opt_cstr(domain, "domain")?.unwrap_or("");
        let p = opt_cstr(path, "path")?.unwrap_or("/");
        c.add_cookie(n, v, d, p)
    })
}

/// Auth for every request (requests may override it). `auth` is not consumed (the
/// config keeps its own reference); NULL clears it.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_auth(
    cfg: *mut httpx_client_config,
    auth: *const httpx_auth,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        c.set_auth(opt_arc(auth));
        Ok(())
    })
}

/// One timeout for connect, read, write and pool, in seconds; negative = none,
/// NaN = `HTTPX_E_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_timeout(cfg: *mut httpx_client_config, seconds: f64) -> httpx_code {
    run_setter(cfg, || {
        cfg_mut(cfg)?.set_timeouts(Timeouts::all(secs_checked(seconds)?));
        Ok(())
    })
}

/// The four timeouts in seconds (HTTPX `Timeout(connect=, read=, write=, pool=)`);
/// negative = no timeout; NaN = `HTTPX_E_INVALID_ARGUMENT`. Read and write timeouts apply to each I/O operation, with
/// two deadlines "as a whole": the response head (status line, headers and any
/// interim 1xx responses) must arrive within the read timeout, and DNS, connect, TLS
/// and any proxy CONNECT / SOCKS4/5 handshake must complete within the connect
/// timeout, however slowly the peer drips its bytes. A total timeout
/// (`httpx_client_config_set_total_timeout`) caps everything; see `httpx_cancel_new`.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_timeouts(
    cfg: *mut httpx_client_config,
    connect: f64,
    read: f64,
    write: f64,
    pool: f64,
) -> httpx_code {
    run_setter(cfg, || {
        cfg_mut(cfg)?.set_timeouts(Timeouts {
            connect: secs_checked(connect)?,
            read: secs_checked(read)?,
            write: secs_checked(write)?,
            pool: secs_checked(pool)?,
        });
        Ok(())
    })
}

/// Total timeout of every send of the client, in seconds (libcurl's
/// CURLOPT_TIMEOUT): one deadline for pool wait, DNS, connect, proxy handshake, TLS,
/// writing, every redirect and auth step, and reading the body, streamed or
/// buffered. Expiry is `HTTPX_E_TOTAL_TIMEOUT` (a timeout code). Negative = none
/// (the default). A request may override it (`httpx_request_set_total_timeout`).
/// Whichever of the total and the four per-phase timeouts comes first wins.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_total_timeout(
    cfg: *mut httpx_client_config,
    seconds: f64,
) -> httpx_code {
    run_setter(cfg, || {
        cfg_mut(cfg)?.set_total_timeout(secs_checked(seconds)?);
        Ok(())
    })
}

/// Pool limits (HTTPX `Limits`): negative = no limit. Defaults 100, 20, 5.0 s.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_limits(
    cfg: *mut httpx_client_config,
    max_connections: i64,
    max_keepalive_connections: i64,
    keepalive_expiry: f64,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        c.set_limits(Limits::new(
            limit(max_connections),
            limit(max_keepalive_connections),
            secs_checked(keepalive_expiry)?,
        )?)
    })
}

/// Honour the environment (HTTP(S)_PROXY/ALL_PROXY/NO_PROXY, SSL_CERT_FILE,
/// SSL_CERT_DIR, SSLKEYLOGFILE, NETRC and ~/.netrc). Default on (non-zero).
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_trust_env(cfg: *mut httpx_client_config, on: i32) -> httpx_code {
    run_setter(cfg, || {
        cfg_mut(cfg)?.set_trust_env(on != 0);
        Ok(())
    })
}

/// Verify server certificates (default on). Off accepts any certificate for this
/// client only; pooled connections are never shared with verifying clients.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_verify(cfg: *mut httpx_client_config, on: i32) -> httpx_code {
    run_setter(cfg, || {
        cfg_mut(cfg)?.set_verify(on != 0);
        Ok(())
    })
}

/// Trust the CA certificates of a PEM file instead of the default roots. Read and
/// checked by `httpx_client_new` (`HTTPX_E_IO` / `HTTPX_E_TLS`).
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_ca_file(
    cfg: *mut httpx_client_config,
    path: *const c_char,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        c.set_trust(Trust::CaFile(PathBuf::from(cstr(path, "path")?)));
        Ok(())
    })
}

/// Trust the CA certificates in PEM bytes (copied) instead of the default roots.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_ca_pem(
    cfg: *mut httpx_client_config,
    pem: *const u8,
    len: usize,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        c.set_trust(Trust::CaPem(bytes(pem, len, "pem")?.to_vec()));
        Ok(())
    })
}

/// Client certificate chain and private key, as PEM file paths. Checked by
/// `httpx_client_new` (missing file: `HTTPX_E_IO`; bad PEM or mismatched key:
/// `HTTPX_E_TLS`).
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_client_cert(
    cfg: *mut httpx_client_config,
    cert_path: *const c_char,
    key_path: *const c_char,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        let cert = PemSource::File(PathBuf::from(cstr(cert_path, "cert_path")?));
        let key = PemSource::File(PathBuf::from(cstr(key_path, "key_path")?));
        c.set_client_cert(Some((cert, key)));
        Ok(())
    })
}

/// Client certificate chain and private key as PEM bytes (copied).
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_client_cert_pem(
    cfg: *mut httpx_client_config,
    cert: *const u8,
    cert_len: usize,
    key: *const u8,
    key_len: usize,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        let cert = PemSource::Bytes(bytes(cert, cert_len, "cert")?.to_vec());
        let key = PemSource::Bytes(bytes(key, key_len, "key")?.to_vec());
        c.set_client_cert(Some((cert, key)));
        Ok(())
    })
}

/// Minimum TLS version: `HTTPX_TLS_1_2` (default) or `HTTPX_TLS_1_3`.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_min_tls_version(
    cfg: *mut httpx_client_config,
    version: u32,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        c.set_min_tls_version(MinVersion::from_code(version)?);
        Ok(())
    })
}

/// Route requests matching `key` (HTTPX routing keys: "all://", "http://",
/// "https://example.com", wildcard hosts such as "*.example.com" or "*:8080" after
/// "all://" or "http://", or the short forms "all", "http", "https") through the proxy at `url` (http://, https://,
/// socks5://, socks5h://, socks4a://; credentials as user:pass@). `url` NULL = no
/// proxy for that key. `mode` is one of `HTTPX_PROXY_*`. The most specific key
/// wins. Setting any proxy turns off proxies from the environment.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_add_proxy(
    cfg: *mut httpx_client_config,
    key: *const c_char,
    url: *const c_char,
    mode: u32,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        let key = cstr(key, "key")?;
        let url = opt_cstr(url, "url")?;
        c.add_proxy(key, url, ProxyMode::from_code(mode)?)
    })
}

/// Follow redirects by default (off by default, as in current HTTPX).
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_follow_redirects(
    cfg: *mut httpx_client_config,
    on: i32,
) -> httpx_code {
    run_setter(cfg, || {
        cfg_mut(cfg)?.set_follow_redirects(on != 0);
        Ok(())
    })
}

/// Maximum redirects followed before `HTTPX_E_TOO_MANY_REDIRECTS` (default 20).
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_max_redirects(cfg: *mut httpx_client_config, n: u32) -> httpx_code {
    run_setter(cfg, || {
        cfg_mut(cfg)?.set_max_redirects(n);
        Ok(())
    })
}

/// Offer HTTP/2 on https connections (ALPN "h2"; off by default, as in HTTPX). An
/// origin that picks h2 gets one multiplexed connection that carries concurrent
/// requests from every thread; one that picks HTTP/1.1 is remembered and served over
/// HTTP/1.1. HTTP/2 is offered directly, inside a CONNECT tunnel of an http:// proxy
/// and over SOCKS; plain http, forwarding proxies, https:// proxies and Unix sockets
/// stay on HTTP/1.1. `httpx_response_http_version` tells which was used. HTTP/2
/// connections live in the same pool as HTTP/1.1 ones: each counts once against
/// `max_connections` (however many streams it carries), is idle while no stream is
/// open, then obeys `max_keepalive_connections` and `keepalive_expiry`, and shows in
/// `httpx_client_pool_stats`. The calling threads drive HTTP/2 I/O (no
/// background thread); don't call into libhttpx from inside a tokio runtime thread,
/// nor from a body read callback of an HTTP/2 request.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_http2(cfg: *mut httpx_client_config, on: i32) -> httpx_code {
    run_setter(cfg, || {
        cfg_mut(cfg)?.set_http2(on != 0);
        Ok(())
    })
}

/// Use `transport` for every request not matched by a mount (HTTPX `transport=`).
/// Not consumed: the config keeps its own reference. NULL restores the default
/// network transport.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_transport(
    cfg: *mut httpx_client_config,
    transport: *const httpx_transport,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        c.set_transport(opt_ref(transport).map(|t| t.shared()).transpose()?);
        Ok(())
    })
}

/// Mount `transport` for URLs matching routing key `key` (HTTPX `mounts=`). The
/// most specific key wins. `transport` NULL = the client's default transport for
/// that key. Not consumed.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_mount(
    cfg: *mut httpx_client_config,
    key: *const c_char,
    transport: *const httpx_transport,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        let key = cstr(key, "key")?;
        crate::routing::Pattern::parse(key)?; // before `shared()`, which may take the transport
        let t = opt_ref(transport).map(|t| t.shared()).transpose()?;
        c.mount(key, t)
    })
}

/// Add a request hook (runs before each request is sent, redirects included, in
/// registration order). `free_fn` (may be NULL) is called once with `userdata` when
/// the last config or client using the hook is freed. On error nothing is taken
/// and `free_fn` is not called.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_add_request_hook(
    cfg: *mut httpx_client_config,
    hook: httpx_request_hook_fn,
    userdata: *mut c_void,
    free_fn: httpx_free_fn,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        let hook = CCallback::new(need_fn(hook, "hook")?, userdata, free_fn);
        c.add_request_hook(Arc::new(move |req: &mut crate::Request| {
            let mut h = RequestHandle::borrowed(req);
            // SAFETY: a C function given by the caller; `h` outlives the call.
            callback_result(hook.call(|f, ud| unsafe { f(ud, to_c_mut(&mut h)) }), "request hook")
        }));
        Ok(())
    })
}

/// Add a response hook (runs after each response head arrives, redirects included,
/// in registration order). Ownership of `userdata` as for request hooks.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_add_response_hook(
    cfg: *mut httpx_client_config,
    hook: httpx_response_hook_fn,
    userdata: *mut c_void,
    free_fn: httpx_free_fn,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        let hook = CCallback::new(need_fn(hook, "hook")?, userdata, free_fn);
        c.add_response_hook(Arc::new(move |resp: &mut crate::Response| {
            let mut h = ResponseHandle::borrowed(resp);
            // SAFETY: a C function given by the caller; `h` outlives the call.
            callback_result(hook.call(|f, ud| unsafe { f(ud, to_c_mut(&mut h)) }), "response hook")
        }));
        Ok(())
    })
}

/// Limits on a response head: total bytes (default 65536) and header count
/// (default 100). Exceeding them is `HTTPX_E_REMOTE_PROTOCOL`. They apply to HTTP/1.1
/// and HTTP/2 alike (HTTP/2: also as SETTINGS_MAX_HEADER_LIST_SIZE). At most 100
/// interim (1xx) responses are skipped before the final one; more is
/// `HTTPX_E_REMOTE_PROTOCOL` too. HTTP/2 connections refuse server push
/// (SETTINGS_ENABLE_PUSH = 0).
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_max_header(
    cfg: *mut httpx_client_config,
    max_bytes: usize,
    max_count: usize,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        c.set_head_limits(HeadLimits::new(max_bytes, max_count)?)
    })
}

/// Cap on the decoded size of a compressed body (default 1 GiB; negative = none).
/// Exceeding it is `HTTPX_E_DECODING` (a decompression bomb stops early). It applies
/// to streaming reads (`httpx_response_read`) too; for bodies read whole the body cap
/// of `httpx_client_config_set_max_body_size` applies as well, and the smaller wins.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_max_decoded_size(
    cfg: *mut httpx_client_config,
    max_bytes: i64,
) -> httpx_code {
    run_setter(cfg, || {
        cfg_mut(cfg)?.set_max_decoded_bytes(limit(max_bytes));
        Ok(())
    })
}

/// Cap on a body read whole into memory: `httpx_client_send`, `httpx_response_body`,
/// `httpx_response_text` (and bodies drained for redirects). Counted on the raw bytes
/// received and on the decoded bytes alike; default 1 GiB (1073741824); negative = no
/// cap. Going over it is `HTTPX_E_BODY_TOO_LARGE`, reported as soon as the cap is
/// passed (at once when Content-Length announces more), so memory stays bounded
/// whatever the server sends. Streaming reads (`httpx_client_send_stream` +
/// `httpx_response_read`) are not capped by it. Call from any thread that owns `cfg`.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_max_body_size(
    cfg: *mut httpx_client_config,
    max_bytes: i64,
) -> httpx_code {
    run_setter(cfg, || {
        cfg_mut(cfg)?.set_max_body_bytes(limit(max_bytes));
        Ok(())
    })
}

/// Charset used by `httpx_response_text` when Content-Type names none or one Python
/// does not know (default UTF-8). Python's codec names and aliases, looked up as
/// `codecs.lookup` does: "latin-1", "iso-8859-1", "cp1252", "utf-8-sig", "shift_jis",
/// "mac-roman"... (see the README). An unknown or unsupported name (or a non-text codec
/// such as "base64"): `HTTPX_E_INVALID_ARGUMENT`, config unchanged. NULL restores
/// the default.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_default_encoding(
    cfg: *mut httpx_client_config,
    label: *const c_char,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        c.set_default_encoding(opt_cstr(label, "label")?)
    })
}

/// Trace events passed to a trace callback.
pub const HTTPX_TRACE_CONNECT_START: u32 = 1;
pub const HTTPX_TRACE_CONNECTED: u32 = 2;
pub const HTTPX_TRACE_CONNECTION_REUSED: u32 = 3;
pub const HTTPX_TRACE_TLS_DONE: u32 = 4;
pub const HTTPX_TRACE_REQUEST_SENT: u32 = 5;
pub const HTTPX_TRACE_HEADERS_RECEIVED: u32 = 6;
pub const HTTPX_TRACE_BODY_DONE: u32 = 7;
/// The send, or reading its body, failed; the detail is the error message.
pub const HTTPX_TRACE_FAILED: u32 = 8;

/// Progress callback: bytes sent so far and the upload total (-1 = unknown), bytes
/// received so far (raw, before decoding) and the download total (-1 = unknown).
/// Return 0 to go on; non-zero aborts the transfer with `HTTPX_E_CALLBACK`. Runs on
/// the thread that sends or reads the body.
pub type httpx_progress_fn = Option<
    unsafe extern "C" fn(userdata: *mut c_void, sent: u64, send_total: i64, received: u64, receive_total: i64) -> i32,
>;

/// Trace callback: one of `HTTPX_TRACE_*`, seconds since the send started, and a
/// short detail ("host:port", the method, the status), valid during the call.
pub type httpx_trace_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, event: u32, elapsed: f64, detail: *const c_char)>;

/// Report transfer progress to `progress_fn` (libcurl's XFERINFOFUNCTION); it can
/// cancel a transfer. NULL removes it (and `free_fn(userdata)`, if given, runs at
/// once). On success takes `userdata`: `free_fn` (may be NULL) runs once when the
/// last config or client using it is freed.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_progress(
    cfg: *mut httpx_client_config,
    progress_fn: httpx_progress_fn,
    userdata: *mut c_void,
    free_fn: httpx_free_fn,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        let Some(f) = progress_fn else {
            c.set_progress(None);
            release_userdata(userdata, free_fn);
            return Ok(());
        };
        let cb = CCallback::new(f, userdata, free_fn);
        let tot = |t: Option<u64>| t.map(|v| v as i64).unwrap_or(-1);
        c.set_progress(Some(Arc::new(move |sent, st, recv, rt| {
            // SAFETY: a C function given by the caller.
            cb.call(|f, ud| unsafe { f(ud, sent, tot(st), recv, tot(rt)) }) == 0
        })));
        Ok(())
    })
}

/// Report connection and exchange milestones to `trace_fn` (connection opened or
/// reused, TLS done, request sent, headers received, body done) with timings, and
/// `HTTPX_TRACE_FAILED` with the error message when a send or a body read fails.
/// NULL removes it. Ownership of `userdata` as for `httpx_client_config_set_progress`.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_config_set_trace(
    cfg: *mut httpx_client_config,
    trace_fn: httpx_trace_fn,
    userdata: *mut c_void,
    free_fn: httpx_free_fn,
) -> httpx_code {
    run_setter(cfg, || {
        let c = cfg_mut(cfg)?;
        let Some(f) = trace_fn else {
            c.set_trace(None);
            release_userdata(userdata, free_fn);
            return Ok(());
        };
        let cb = CCallback::new(f, userdata, free_fn);
        c.set_trace(Some(Arc::new(move |ev, since, detail| {
            let d = to_cstring(detail);
            // SAFETY: a C function given by the caller; `d` outlives the call.
            cb.call(|f, ud| unsafe { f(ud, ev.code(), since.as_secs_f64(), d.as_ptr()) });
        })));
        Ok(())
    })
}

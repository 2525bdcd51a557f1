//! `httpx_transport`: answer requests from C (mock / WSGI-style), or a configured
//! network transport to mount for some URLs.

use std::ffi::{c_char, c_void, CString};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use super::handle::{Borrowed, Castable, OwnedBox};
use super::request::{httpx_request, RequestHandle};
use super::*;
use crate::tls::{PemSource, Trust};
use crate::transport::callback::{BuiltBody, CallbackTransport, Handler, ResponseBuilder};
use crate::transport::http::{HttpOptions, HttpTransport};
use crate::transport::Transport;
use crate::types::{Limits, ProxyMode};

enum Kind {
    Callback(Option<CallbackTransport>),
    HttpPending(HttpOptions),
}

/// A transport (opaque). Once mounted or set on a config it is shared and its
/// options are frozen; it may serve several clients and threads.
pub struct httpx_transport {
    _private: [u8; 0],
}

/// What an `httpx_transport *` points at: the options until first use, then the
/// built transport.
pub(crate) struct TransportHandle {
    kind: std::sync::Mutex<Kind>,
    built: std::sync::OnceLock<Arc<dyn Transport>>,
    errors: FirstError,
}

impl Castable for httpx_transport {
    type Ownership = OwnedBox;
    type RustType = TransportHandle;
}

impl RecordsErrors for TransportHandle {
    fn first_error(&self) -> &FirstError {
        &self.errors
    }
}

impl TransportHandle {
    fn new(kind: Kind) -> TransportHandle {
        TransportHandle {
            kind: std::sync::Mutex::new(kind),
            built: std::sync::OnceLock::new(),
            errors: FirstError::default(),
        }
    }

    /// The shared transport, building it on first use.
    pub(crate) fn shared(&self) -> crate::Result<Arc<dyn Transport>> {
        if let Some(t) = self.built.get() {
            return Ok(t.clone());
        }
        let mut k = self.kind.lock().map_err(|_| crate::Error::Internal("transport lock".into()))?;
        if let Some(t) = self.built.get() {
            return Ok(t.clone());
        }
        let t: Arc<dyn Transport> = match &mut *k {
            Kind::Callback(c) => Arc::new(c.take().ok_or_else(|| crate::Error::Internal("transport taken".into()))?),
            Kind::HttpPending(o) => Arc::new(HttpTransport::new(o.clone())?),
        };
        let _ = self.built.set(t.clone());
        Ok(t)
    }

    fn edit<R>(&self, f: impl FnOnce(&mut Kind) -> crate::Result<R>) -> crate::Result<R> {
        if self.built.get().is_some() {
            return Err(crate::Error::InvalidArgument(
                "the transport is already in use; set options before mounting it".into(),
            ));
        }
        let mut k = self.kind.lock().map_err(|_| crate::Error::Internal("transport lock".into()))?;
        f(&mut k)
    }
}

/// What a transport callback fills in (opaque); valid during the call.
pub struct httpx_response_builder {
    _private: [u8; 0],
}

/// What an `httpx_response_builder *` points at (lent to the transport callback).
pub(crate) struct BuilderState {
    b: *mut ResponseBuilder,
    script_name: CString,
    path_info: CString,
    remote_addr: CString,
}

impl Castable for httpx_response_builder {
    type Ownership = Borrowed;
    type RustType = BuilderState;
}

/// Transport callback: answer `req` by filling `out` (status defaults to 200, no
/// headers, empty body). Return `HTTPX_OK`; anything else is an application error
/// (the send fails with `HTTPX_E_CALLBACK`, or a 500 response is produced when
/// raise-errors is off). Runs on the sending thread, possibly on several threads at
/// once. `req` is read-only and valid during the call.
pub type httpx_transport_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        req: *const httpx_request,
        out: *mut httpx_response_builder,
    ) -> httpx_code,
>;

type TransportFn = unsafe extern "C" fn(*mut c_void, *const httpx_request, *mut httpx_response_builder) -> httpx_code;

struct CHandler(CCallback<TransportFn>);

impl Handler for CHandler {
    fn handle(&self, req: &crate::Request, out: &mut ResponseBuilder) -> crate::Result<()> {
        let r = RequestHandle::read_only(req);
        let mut b = BuilderState {
            script_name: to_cstring(&out.script_name),
            path_info: to_cstring(&out.path_info),
            remote_addr: to_cstring(&out.remote_addr),
            b: out,
        };
        // SAFETY: a C function given by the caller; `r` and `b` outlive the call.
        let rc = self.0.call(|f, ud| unsafe { f(ud, to_c(&r), to_c_mut(&mut b)) });
        if rc == HTTPX_E_RECURSIVE_CALL {
            return Err(crate::Error::RecursiveCall("transport callback sent on its own client".into()));
        }
        callback_result(rc, "transport callback")
    }
}

/// A transport whose requests are answered by `fn` in-process: no socket is opened
/// (HTTPX `MockTransport` / `WSGITransport`). On success takes `userdata`:
/// `free_fn` (may be NULL) runs exactly once when the transport is freed and no
/// client uses it any more. Writes `*transport_out`; free with
/// `httpx_transport_free`.
#[no_mangle]
pub unsafe extern "C" fn httpx_transport_callback(
    f: httpx_transport_fn,
    userdata: *mut c_void,
    free_fn: httpx_free_fn,
    transport_out: *mut *mut httpx_transport,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(transport_out, "transport_out")?;
        let cb = need_fn(f, "fn")?;
        let t = CallbackTransport::new(Box::new(CHandler(CCallback::new(cb, userdata, free_fn))));
        *transport_out = to_box(TransportHandle::new(Kind::Callback(Some(t))));
        Ok(())
    })
}

/// WSGITransport `raise_app_exceptions`: on (default) a callback error ends the send
/// with `HTTPX_E_CALLBACK`; off answers 500 instead. Before first use only.
#[no_mangle]
pub unsafe extern "C" fn httpx_transport_callback_set_raise_errors(t: *const httpx_transport, on: i32) -> httpx_code {
    run_setter(t, || {
        try_ref(t, "transport")?.edit(|k| match k {
            Kind::Callback(Some(c)) => {
                c.raise_errors = on != 0;
                Ok(())
            }
            _ => Err(crate::Error::InvalidArgument("not a callback transport".into())),
        })
    })
}

/// WSGITransport `script_name`: the mount prefix; the callback reads it and the
/// remaining path with `httpx_response_builder_script_name` / `_path_info`.
#[no_mangle]
pub unsafe extern "C" fn httpx_transport_callback_set_script_name(
    t: *const httpx_transport,
    script_name: *const c_char,
) -> httpx_code {
    run_setter(t, || {
        let s = cstr(script_name, "script_name")?.trim_end_matches('/').to_string();
        try_ref(t, "transport")?.edit(|k| match k {
            Kind::Callback(Some(c)) => {
                c.script_name = s;
                Ok(())
            }
            _ => Err(crate::Error::InvalidArgument("not a callback transport".into())),
        })
    })
}

/// WSGITransport `remote_addr`: the client address the callback sees (default
/// "127.0.0.1").
#[no_mangle]
pub unsafe extern "C" fn httpx_transport_callback_set_remote_addr(
    t: *const httpx_transport,
    addr: *const c_char,
) -> httpx_code {
    run_setter(t, || {
        let s = cstr(addr, "addr")?.to_string();
        try_ref(t, "transport")?.edit(|k| match k {
            Kind::Callback(Some(c)) => {
                c.remote_addr = s;
                Ok(())
            }
            _ => Err(crate::Error::InvalidArgument("not a callback transport".into())),
        })
    })
}

/// A network transport with its own pool and options (HTTPX `HTTPTransport`), to
/// mount for some URLs. Set options with `httpx_transport_http_set_*` before
/// mounting. Writes `*transport_out`.
#[no_mangle]
pub unsafe extern "C" fn httpx_transport_http(transport_out: *mut *mut httpx_transport) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(transport_out, "transport_out")?;
        *transport_out = to_box(TransportHandle::new(Kind::HttpPending(HttpOptions::default())));
        Ok(())
    })
}

unsafe fn http_edit(
    t: *const httpx_transport,
    f: impl FnOnce(&mut HttpOptions) -> crate::Result<()>,
) -> crate::Result<()> {
    try_ref(t, "transport")?.edit(|k| match k {
        Kind::HttpPending(o) => f(o),
        _ => Err(crate::Error::InvalidArgument("not an http transport".into())),
    })
}

/// Pool limits of this transport (negative = no limit).
#[no_mangle]
pub unsafe extern "C" fn httpx_transport_http_set_limits(
    t: *const httpx_transport,
    max_connections: i64,
    max_keepalive_connections: i64,
    keepalive_expiry: f64,
) -> httpx_code {
    run_setter(t, || {
        http_edit(t, |o| {
            o.limits = Limits {
                max_connections: limit(max_connections),
                max_keepalive_connections: limit(max_keepalive_connections),
                keepalive_expiry: secs_checked(keepalive_expiry)?,
            };
            Ok(())
        })
    })
}

/// Connect retries after a failed connect, with exponential backoff from 0.5 s.
#[no_mangle]
pub unsafe extern "C" fn httpx_transport_http_set_retries(t: *const httpx_transport, retries: u32) -> httpx_code {
    run_setter(t, || {
        http_edit(t, |o| {
            o.retries = retries;
            Ok(())
        })
    })
}

/// Local address to bind before connecting, e.g. "127.0.0.1:0" or "::1" (port 0 if
/// omitted).
#[no_mangle]
pub unsafe extern "C" fn httpx_transport_http_set_local_address(
    t: *const httpx_transport,
    addr: *const c_char,
) -> httpx_code {
    run_setter(t, || {
        let a = cstr(addr, "addr")?;
        let sa: SocketAddr = a
            .parse()
            .or_else(|_| a.parse::<std::net::IpAddr>().map(|ip| SocketAddr::new(ip, 0)))
            .map_err(|_| crate::Error::InvalidArgument(format!("invalid local address {a:?}")))?;
        http_edit(t, |o| {
            o.local_address = Some(sa);
            Ok(())
        })
    })
}

/// Send every request over the Unix domain socket at `path` (the URL still gives
/// the Host header and TLS name).
#[no_mangle]
pub unsafe extern "C" fn httpx_transport_http_set_uds(t: *const httpx_transport, path: *const c_char) -> httpx_code {
    run_setter(t, || {
        let p = PathBuf::from(cstr(path, "path")?);
        http_edit(t, |o| {
            o.uds = Some(p);
            Ok(())
        })
    })
}

/// TLS verification for this transport (default on).
#[no_mangle]
pub unsafe extern "C" fn httpx_transport_http_set_verify(t: *const httpx_transport, on: i32) -> httpx_code {
    run_setter(t, || {
        http_edit(t, |o| {
            o.tls.verify = on != 0;
            Ok(())
        })
    })
}

/// CA bundle (PEM file) for this transport.
#[no_mangle]
pub unsafe extern "C" fn httpx_transport_http_set_ca_file(
    t: *const httpx_transport,
    path: *const c_char,
) -> httpx_code {
    run_setter(t, || {
        let p = PathBuf::from(cstr(path, "path")?);
        http_edit(t, |o| {
            o.tls.trust = Trust::CaFile(p);
            Ok(())
        })
    })
}

/// Client certificate and key (PEM files) for this transport.
#[no_mangle]
pub unsafe extern "C" fn httpx_transport_http_set_client_cert(
    t: *const httpx_transport,
    cert_path: *const c_char,
    key_path: *const c_char,
) -> httpx_code {
    run_setter(t, || {
        let c = PemSource::File(PathBuf::from(cstr(cert_path, "cert_path")?));
        let k = PemSource::File(PathBuf::from(cstr(key_path, "key_path")?));
        http_edit(t, |o| {
            o.tls.client_cert = Some((c, k));
            Ok(())
        })
    })
}

/// Proxy for this transport: all its requests go through `url` (see
/// `httpx_client_config_add_proxy` for schemes and modes).
#[no_mangle]
pub unsafe extern "C" fn httpx_transport_http_set_proxy(
    t: *const httpx_transport,
    url: *const c_char,
    mode: u32,
) -> httpx_code {
    run_setter(t, || {
        let u = cstr(url, "url")?.to_string();
        let m = ProxyMode::from_code(mode)?;
        crate::proxy::ProxyConfig::parse(&u, m)?;
        http_edit(t, |o| {
            o.proxies = vec![("all://".into(), Some(u), m)];
            Ok(())
        })
    })
}

/// Free a transport handle. NULL allowed. Clients it is mounted in keep it alive;
/// the callback's `free_fn` runs when the last of them is freed.
#[no_mangle]
pub unsafe extern "C" fn httpx_transport_free(t: *mut httpx_transport) {
    free(t)
}

/// The first failure of a setter on `t` (`httpx_transport_callback_set_*`,
/// `httpx_transport_http_set_*`): its code (`HTTPX_OK` when none failed) and,
/// through `err` (may be NULL), its message. NULL `t`: `HTTPX_E_INVALID_ARGUMENT`.
/// Any thread.
#[no_mangle]
pub unsafe extern "C" fn httpx_transport_error(t: *const httpx_transport, err: *mut *mut httpx_error) -> httpx_code {
    report_first_error(t, "transport", err)
}

unsafe fn builder<'a>(b: *mut httpx_response_builder) -> crate::Result<&'a mut ResponseBuilder> {
    let h = try_mut(b, "builder")?;
    // SAFETY: the builder points at the transport's ResponseBuilder during the call.
    Ok(&mut *h.b)
}

/// Status code of the answer (100..=999; default 200).
#[no_mangle]
pub unsafe extern "C" fn httpx_response_builder_set_status(b: *mut httpx_response_builder, status: u16) -> httpx_code {
    run(std::ptr::null_mut(), || builder(b)?.set_status(status))
}

/// Add a response header (validated like request headers).
#[no_mangle]
pub unsafe extern "C" fn httpx_response_builder_add_header(
    b: *mut httpx_response_builder,
    name: *const c_char,
    value: *const c_char,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        let (n, v) = (cstr(name, "name")?, cstr(value, "value")?);
        builder(b)?.headers.append(n, v)
    })
}

/// Body bytes of the answer (copied). Adds Content-Length unless set.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_builder_set_body(
    b: *mut httpx_response_builder,
    data: *const u8,
    len: usize,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        let d = bytes(data, len, "data")?.to_vec();
        builder(b)?.set_body_bytes(d);
        Ok(())
    })
}

/// Body of the answer streamed from a read callback (called while the client reads
/// the body, on the reading thread). Takes `userdata` on success; `free_fn` runs
/// once when the body is done with.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_builder_set_body_reader(
    b: *mut httpx_response_builder,
    read_fn: httpx_read_fn,
    userdata: *mut c_void,
    free_fn: httpx_free_fn,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        let bb = builder(b)?;
        let cb = need_fn(read_fn, "read_fn")?;
        bb.body = BuiltBody::Reader(Box::new(CallbackReader(CCallback::new(cb, userdata, free_fn))));
        Ok(())
    })
}

/// The whole request body. A streamed request body (read callback, multipart
/// file) is read into memory on the first call; to handle large uploads without
/// buffering use `httpx_response_builder_request_read` instead. Bytes owned by the
/// builder, valid during the call. After streaming reads: `HTTPX_E_STREAM_CONSUMED`.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_builder_request_body(
    b: *mut httpx_response_builder,
    data_out: *mut *const u8,
    len_out: *mut usize,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(data_out, "data_out")?;
        need_out(len_out, "len_out")?;
        let body = builder(b)?.request_body()?;
        *data_out = if body.is_empty() { c"".as_ptr() as *const u8 } else { body.as_ptr() };
        *len_out = body.len();
        Ok(())
    })
}

/// Stream the request body into `buf` (up to `cap` bytes); `*n_out` = 0 at the end.
/// Large uploads reach the callback chunk by chunk, never buffered whole.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_builder_request_read(
    b: *mut httpx_response_builder,
    buf: *mut u8,
    cap: usize,
    n_out: *mut usize,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(n_out, "n_out")?;
        let slice = bytes_mut(buf, cap, "buf")?;
        *n_out = builder(b)?.read_request_body(slice)?;
        Ok(())
    })
}

/// The transport's script name (mount prefix), "" when none. Valid during the call.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_builder_script_name(b: *const httpx_response_builder) -> *const c_char {
    run_val(c"".as_ptr(), || opt_ref(b).map_or(c"".as_ptr(), |b| b.script_name.as_ptr()))
}

/// The URL path after the script name (WSGI PATH_INFO). Valid during the call.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_builder_path_info(b: *const httpx_response_builder) -> *const c_char {
    run_val(c"".as_ptr(), || opt_ref(b).map_or(c"".as_ptr(), |b| b.path_info.as_ptr()))
}

/// The client address configured on the transport (WSGI REMOTE_ADDR).
#[no_mangle]
pub unsafe extern "C" fn httpx_response_builder_remote_addr(b: *const httpx_response_builder) -> *const c_char {
    run_val(c"".as_ptr(), || opt_ref(b).map_or(c"".as_ptr(), |b| b.remote_addr.as_ptr()))
}

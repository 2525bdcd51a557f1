//! `httpx_request`: build, edit and read requests.
//!
//! A request has one owner at a time. Strings returned by getters are owned by the
//! request and stay valid until the request is edited or freed.

use std::cell::OnceCell;
use std::ffi::{c_char, c_void, CString};
use std::path::Path;

use super::auth::httpx_auth;
use super::client::httpx_client;
use super::handle::{Castable, OwnedBox, View};
use super::*;
use crate::client::{AuthChoice, SendOptions};
use crate::multipart::Multipart;
use crate::request::{Body, Request};
use crate::types::Timeouts;

/// A request (opaque).
pub struct httpx_request {
    _private: [u8; 0],
}

/// What an `httpx_request *` points at: the request (its own, or a view of one a
/// hook, auth flow, transport callback or response lends) and what the C API keeps
/// beside it.
pub(crate) struct RequestHandle {
    view: View<Request>,
    /// The body reader's userdata, kept until the request is freed or its body
    /// replaced (the reader itself is dropped once a send has consumed it).
    body_ud: Option<std::sync::Arc<UserData>>,
    /// The send options set on this handle (`httpx_request_set_auth`,
    /// `_inherit_auth`, `_set_follow_redirects`): the core takes them at the send
    /// (`Client::send_with`), as HTTPX's `client.send(request, auth=...,
    /// follow_redirects=...)`; the C API keeps them beside the request.
    pub(crate) send: SendOptions,
    method: OnceCell<CString>,
    url: OnceCell<CString>,
    headers: OnceCell<Vec<(CString, CString)>>,
    errors: FirstError,
}

impl Castable for httpx_request {
    type Ownership = OwnedBox;
    type RustType = RequestHandle;

    /// Views (a hook's request, a response's request) are not the caller's to free.
    fn releasable(h: &RequestHandle) -> bool {
        h.view.is_owned()
    }
}

impl RecordsErrors for RequestHandle {
    fn first_error(&self) -> &FirstError {
        &self.errors
    }
}

impl RequestHandle {
    fn with(view: View<Request>) -> RequestHandle {
        RequestHandle {
            view,
            body_ud: None,
            send: SendOptions::default(),
            method: OnceCell::new(),
            url: OnceCell::new(),
            headers: OnceCell::new(),
            errors: FirstError::default(),
        }
    }

    pub(crate) fn owned(r: Request) -> RequestHandle {
        RequestHandle::with(View::Owned(Box::new(r)))
    }

    /// A view of a request owned elsewhere, valid for a callback's duration.
    pub(crate) fn borrowed(r: &mut Request) -> RequestHandle {
        RequestHandle::with(View::Borrowed(r))
    }

    pub(crate) fn read_only(r: &Request) -> RequestHandle {
        RequestHandle::with(View::ReadOnly(r))
    }

    pub(crate) fn get(&self) -> &Request {
        self.view.get()
    }

    /// The request for editing (the string caches are dropped: the edit may change
    /// them); a read-only view is `InvalidArgument`.
    pub(crate) fn get_mut(&mut self) -> crate::Result<&mut Request> {
        self.method.take();
        self.url.take();
        self.headers.take();
        self.view.get_mut("request")
    }

    fn header_cache(&self) -> &Vec<(CString, CString)> {
        self.headers.get_or_init(|| self.get().headers.iter().map(|(n, v)| (to_cstring(n), to_cstring(v))).collect())
    }
}

unsafe fn req_mut<'a>(req: *mut httpx_request) -> crate::Result<&'a mut Request> {
    try_mut(req, "req")?.get_mut()
}

/// The send options of an editable request handle (read-only views refuse, as for
/// any edit).
unsafe fn send_mut<'a>(req: *mut httpx_request) -> crate::Result<&'a mut SendOptions> {
    let h = try_mut(req, "req")?;
    h.get_mut()?;
    Ok(&mut h.send)
}

/// For body setters: the request, after releasing a previous body reader's userdata.
unsafe fn req_body<'a>(req: *mut httpx_request) -> crate::Result<&'a mut Request> {
    let h = try_mut(req, "req")?;
    if h.view.is_read_only() {
        return Err(crate::Error::InvalidArgument("this request is read-only".into()));
    }
    h.body_ud = None;
    h.get_mut()
}

/// The first failure of a setter on `req` (a request the caller owns, or a view it
/// was lent, for the duration of the call): its code (`HTTPX_OK` when none failed)
/// and, through `err` (may be NULL), its message. Copies made by
/// `httpx_request_clone` start without one. NULL `req`: `HTTPX_E_INVALID_ARGUMENT`.
/// Call from the thread that owns `req`.
#[no_mangle]
pub unsafe extern "C" fn httpx_request_error(req: *const httpx_request, err: *mut *mut httpx_error) -> httpx_code {
    report_first_error(req, "req", err)
}

/// A standalone request (HTTPX `Request(method, url)`); `url` must be absolute.
/// Writes `*req_out` on success; free with `httpx_request_free`. Bad URL:
/// `HTTPX_E_INVALID_URL` or `HTTPX_E_UNSUPPORTED_PROTOCOL`. A URL longer than 65536
/// bytes or holding CR, LF, TAB or another control character is `HTTPX_E_INVALID_URL`
/// (nothing is sent; it is not silently stripped).
#[no_mangle]
pub unsafe extern "C" fn httpx_request_new(
    method: *const c_char,
    url: *const c_char,
    req_out: *mut *mut httpx_request,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || {
        need_out(req_out, "req_out")?;
        let r = Request::new(cstr(method, "method")?, cstr(url, "url")?)?;
        *req_out = to_box(RequestHandle::owned(r));
        Ok(())
    })
}

/// HTTPX `client.build_request`: a request with the client's base_url, headers,
/// params and cookies merged in, ready to edit and pass to `httpx_client_send`.
/// Any thread.
#[no_mangle]
pub unsafe extern "C" fn httpx_request_build(
    client: *const httpx_client,
    method: *const c_char,
    url: *const c_char,
    req_out: *mut *mut httpx_request,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || {
        need_out(req_out, "req_out")?;
        let r = try_ref(client, "client")?.build_request(cstr(method, "method")?, cstr(url, "url")?)?;
        *req_out = to_box(RequestHandle::owned(r));
        Ok(())
    })
}

/// Free a request. NULL is allowed. A request body reader's `free_fn` runs now if
/// the body was never sent.
#[no_mangle]
pub unsafe extern "C" fn httpx_request_free(req: *mut httpx_request) {
    free(req)
}

/// Replace every value of header `name` with `value`. CR/LF/NUL in the value, a
/// value over 65536 bytes, or an invalid name: `HTTPX_E_INVALID_ARGUMENT`, request
/// unchanged. A `Transfer-Encoding: chunked` set here wins over a Content-Length:
/// exactly one framing is sent (RFC 9112 6.2).
#[no_mangle]
pub unsafe extern "C" fn httpx_request_set_header(
    req: *mut httpx_request,
    name: *const c_char,
    value: *const c_char,
) -> httpx_code {
    run_setter(req, || {
        let (n, v) = (cstr(name, "name")?, cstr(value, "value")?);
        req_mut(req)?.headers.set(n, v)
    })
}

/// Append a header line (repeated names are kept).
#[no_mangle]
pub unsafe extern "C" fn httpx_request_add_header(
    req: *mut httpx_request,
    name: *const c_char,
    value: *const c_char,
) -> httpx_code {
    run_setter(req, || {
        let (n, v) = (cstr(name, "name")?, cstr(value, "value")?);
        req_mut(req)?.headers.append(n, v)
    })
}

/// Remove every value of header `name` (e.g. drop the client's API key for one
/// request). Removing an absent header is not an error.
#[no_mangle]
pub unsafe extern "C" fn httpx_request_remove_header(req: *mut httpx_request, name: *const c_char) -> httpx_code {
    run_setter(req, || {
        let n = cstr(name, "name")?;
        req_mut(req)?.headers.remove(n);
        Ok(())
    })
}

/// Add a query param, as HTTPX's request-level `params=`: the first value added for a
/// key replaces every value of that key the URL (or the client's params) had, in the
/// place the key had there; adding the same key again on this request appends another
/// value after it (`?m=1&m=2`). Keys and values are encoded as Python's `quote_plus`
/// (`~` kept, `*` as `%2A`, space as `+`).
#[no_mangle]
pub unsafe extern "C" fn httpx_request_add_param(
    req: *mut httpx_request,
    key: *const c_char,
    value: *const c_char,
) -> httpx_code {
    run_setter(req, || {
        let (k, v) = (cstr(key, "key")?, cstr(value, "value")?);
        req_mut(req)?.add_params(&[(k.into(), v.into())]);
        Ok(())
    })
}

/// Set a cookie on this request only (added to its Cookie header).
#[no_mangle]
pub unsafe extern "C" fn httpx_request_set_cookie(
    req: *mut httpx_request,
    name: *const c_char,
    value: *const c_char,
) -> httpx_code {
    run_setter(req, || {
        let (n, v) = (cstr(name, "name")?, cstr(value, "value")?);
        req_mut(req)?.set_cookie(n, v)
    })
}

/// Body from bytes (copied), sent with Content-Length. `content_type` may be NULL
/// (none added; an explicit Content-Type header always wins).
#[no_mangle]
pub unsafe extern "C" fn httpx_request_set_body(
    req: *mut httpx_request,
    data: *const u8,
    len: usize,
    content_type: *const c_char,
) -> httpx_code {
    run_setter(req, || {
        let d = bytes(data, len, "data")?.to_vec();
        let ct = opt_cstr(content_type, "content_type")?;
        if let Some(ct) = ct {
            // Checked before `req_body` releases the old body's userdata.
            crate::headers::validate_value("Content-Type", ct)?;
        }
        req_body(req)?.set_body(d, ct)
    })
}

/// Body streamed from a read callback. `length` >= 0 is sent as Content-Length (the
/// callback must produce exactly that many bytes, else `HTTPX_E_LOCAL_PROTOCOL`);
/// negative = unknown, sent chunked. Takes `userdata` on success: `free_fn` (may
/// be NULL) runs once, when the request is freed or its body replaced (for a
/// request seen in a hook or auth flow: once the send is done with it). A streamed
/// body can be sent once; a redirect or auth retry that must resend it fails with
/// `HTTPX_E_STREAM_CONSUMED`. The callback runs on the sending thread.
#[no_mangle]
pub unsafe extern "C" fn httpx_request_set_body_reader(
    req: *mut httpx_request,
    read_fn: httpx_read_fn,
    userdata: *mut c_void,
    free_fn: httpx_free_fn,
    length: i64,
) -> httpx_code {
    run_setter(req, || {
        let cb = need_fn(read_fn, "read_fn")?;
        let h = try_mut(req, "req")?;
        let r = h.get_mut()?;
        let cb = CCallback::new(cb, userdata, free_fn);
        let ud = cb.userdata();
        r.set_body_stream(Box::new(CallbackReader(cb)), limit(length));
        h.body_ud = Some(ud);
        Ok(())
    })
}

/// Set the whole body to an urlencoded form of `n` fields (arrays of NUL-terminated
/// strings), Content-Type application/x-www-form-urlencoded.
#[no_mangle]
pub unsafe extern "C" fn httpx_request_set_form(
    req: *mut httpx_request,
    names: *const *const c_char,
    values: *const *const c_char,
    n: usize,
) -> httpx_code {
    run_setter(req, || {
        if n > 0 && (names.is_null() || values.is_null()) {
            return Err(crate::Error::InvalidArgument("names or values is NULL".into()));
        }
        let mut fields = Vec::with_capacity(n);
        for i in 0..n {
            fields.push((cstr(*names.add(i), "name")?.to_string(), cstr(*values.add(i), "value")?.to_string()));
        }
        req_body(req)?.add_form_field(&fields);
        Ok(())
    })
}

/// Body from a JSON text (copied; must be valid UTF-8), Content-Type
/// application/json unless set.
#[no_mangle]
pub unsafe extern "C" fn httpx_request_set_json(req: *mut httpx_request, json: *const c_char) -> httpx_code {
    run_setter(req, || {
        let j = cstr(json, "json")?;
        req_body(req)?.set_body_bytes(j.as_bytes().to_vec(), Some("application/json"));
        Ok(())
    })
}

fn multipart_of(r: &mut Request) -> Multipart {
    match &r.body {
        Body::Multipart(m) => (**m).clone(),
        _ => Multipart::new(),
    }
}

/// Add a plain field to a multipart/form-data body (created on first use; it
/// replaces any other body).
#[no_mangle]
pub unsafe extern "C" fn httpx_request_add_multipart_field(
    req: *mut httpx_request,
    name: *const c_char,
    value: *const c_char,
) -> httpx_code {
    run_setter(req, || {
        let (n, v) = (cstr(name, "name")?, cstr(value, "value")?);
        let r = req_body(req)?;
        let mut m = multipart_of(r);
        m.add_field(n, v.as_bytes());
        r.set_multipart(m);
        Ok(())
    })
}

/// Add a file streamed from disk at send time (never loaded whole). `filename` NULL
/// = the path's base name; `content_type` NULL = guessed from the file name
/// (unknown: application/octet-stream). Missing or unreadable file: `HTTPX_E_IO`.
/// A `content_type` with CR, LF or another control character:
/// `HTTPX_E_INVALID_ARGUMENT` (field names and filenames are escaped instead).
#[no_mangle]
pub unsafe extern "C" fn httpx_request_add_multipart_file(
    req: *mut httpx_request,
    field: *const c_char,
    filename: *const c_char,
    path: *const c_char,
    content_type: *const c_char,
) -> httpx_code {
    run_setter(req, || {
        let f = cstr(field, "field")?;
        let fname = opt_cstr(filename, "filename")?;
        let p = cstr(path, "path")?;
        let ct = opt_cstr(content_type, "content_type")?;
        let r = req_body(req)?;
        let mut m = multipart_of(r);
        m.add_file(f, fname, Path::new(p), ct)?;
        r.set_multipart(m);
        Ok(())
    })
}

/// Add in-memory file content (copied). `filename` NULL = no filename and, unless
/// `content_type` is given, no Content-Type (HTTPX's rule for `(None, data)`).
/// A `content_type` with CR, LF or another control character:
/// `HTTPX_E_INVALID_ARGUMENT` (field names and filenames are escaped instead).
#[no_mangle]
pub unsafe extern "C" fn httpx_request_add_multipart_bytes(
    req: *mut httpx_request,
    field: *const c_char,
    filename: *const c_char,
    data: *const u8,
    len: usize,
    content_type: *const c_char,
) -> httpx_code {
    run_setter(req, || {
        let f = cstr(field, "field")?;
        let fname = opt_cstr(filename, "filename")?;
        let d = bytes(data, len, "data")?.to_vec();
        let ct = opt_cstr(content_type, "content_type")?;
        let r = req_body(req)?;
        let mut m = multipart_of(r);
        m.add_bytes(f, fname, d, ct)?;
        r.set_multipart(m);
        Ok(())
    })
}

/// Auth for this request only, overriding the client's. `auth` NULL = send with no
/// auth at all (HTTPX `auth=None` at request level). Not consumed.
#[no_mangle]
pub unsafe extern "C" fn httpx_request_set_auth(req: *mut httpx_request, auth: *const httpx_auth) -> httpx_code {
    run_setter(req, || {
        send_mut(req)?.auth = match opt_arc(auth) {
            Some(a) => AuthChoice::Use(a),
            None => AuthChoice::Disabled,
        };
        Ok(())
    })
}

/// Go back to the client's auth for this request.
#[no_mangle]
pub unsafe extern "C" fn httpx_request_inherit_auth(req: *mut httpx_request) -> httpx_code {
    run_setter(req, || {
        send_mut(req)?.auth = AuthChoice::Inherit;
        Ok(())
    })
}

/// Timeouts for this request only (seconds; negative = none; NaN =
/// `HTTPX_E_INVALID_ARGUMENT`). Same rules as
/// `httpx_client_config_set_timeouts`: the response head must arrive within the read
/// timeout as a whole, proxy handshakes complete within the connect timeout as a
/// whole; `httpx_request_set_total_timeout` caps the whole send.
#[no_mangle]
pub unsafe extern "C" fn httpx_request_set_timeouts(
    req: *mut httpx_request,
    connect: f64,
    read: f64,
    write: f64,
    pool: f64,
) -> httpx_code {
    run_setter(req, || {
        req_mut(req)?.options.timeouts = Some(Timeouts {
            connect: secs_checked(connect)?,
            read: secs_checked(read)?,
            write: secs_checked(write)?,
            pool: secs_checked(pool)?,
        });
        Ok(())
    })
}

/// One timeout for all four phases of this request (negative = none; NaN =
/// `HTTPX_E_INVALID_ARGUMENT`).
#[no_mangle]
pub unsafe extern "C" fn httpx_request_set_timeout(req: *mut httpx_request, seconds: f64) -> httpx_code {
    run_setter(req, || {
        req_mut(req)?.options.timeouts = Some(Timeouts::all(secs_checked(seconds)?));
        Ok(())
    })
}

/// Total timeout of this request's sends, in seconds (overrides the client's
/// `httpx_client_config_set_total_timeout`); negative = none for this request.
/// Covers everything one send does, redirects, auth steps and the body included.
#[no_mangle]
pub unsafe extern "C" fn httpx_request_set_total_timeout(req: *mut httpx_request, seconds: f64) -> httpx_code {
    run_setter(req, || {
        req_mut(req)?.options.total_timeout = Some(secs_checked(seconds)?);
        Ok(())
    })
}

/// Guard this request's sends with a cancel token; NULL removes it. The request
/// keeps its own reference: the caller may free `tok` at any time. Many requests may
/// share one token. Once fired, a send or `httpx_response_read` of a response of this
/// request returns `HTTPX_E_CANCELLED` (see `httpx_cancel_new`); a send started with
/// a fired token sends nothing. Copied by `httpx_request_clone`.
#[no_mangle]
pub unsafe extern "C" fn httpx_request_set_cancel(
    req: *mut httpx_request,
    tok: *const super::cancel::httpx_cancel,
) -> httpx_code {
    run_setter(req, || {
        let r = req_mut(req)?;
        r.options.cancel = opt_ref(tok).cloned();
        Ok(())
    })
}

/// Follow redirects for this request (overrides the client).
#[no_mangle]
pub unsafe extern "C" fn httpx_request_set_follow_redirects(req: *mut httpx_request, on: i32) -> httpx_code {
    run_setter(req, || {
        send_mut(req)?.follow_redirects = Some(on != 0);
        Ok(())
    })
}

/// Method, e.g. "GET". Owned by the request; NULL only for a NULL `req`.
#[no_mangle]
pub unsafe extern "C" fn httpx_request_method(req: *const httpx_request) -> *const c_char {
    run_val(std::ptr::null(), || {
        opt_ref(req).map_or(std::ptr::null(), |r| r.method.get_or_init(|| to_cstring(&r.get().method)).as_ptr())
    })
}

/// Full URL with merged params. Owned by the request; NULL only for a NULL `req`.
#[no_mangle]
pub unsafe extern "C" fn httpx_request_url(req: *const httpx_request) -> *const c_char {
    run_val(std::ptr::null(), || {
        opt_ref(req).map_or(std::ptr::null(), |r| r.url.get_or_init(|| to_cstring(r.get().url.as_str())).as_ptr())
    })
}

/// Number of header lines (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn httpx_request_header_count(req: *const httpx_request) -> usize {
    run_val(0, || opt_ref(req).map_or(0, |r| r.get().headers.len()))
}

/// The `i`th header line. Writes `*name_out`/`*value_out` (owned by the request)
/// on success; `i` out of range: `HTTPX_E_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn httpx_request_header_at(
    req: *const httpx_request,
    i: usize,
    name_out: *mut *const c_char,
    value_out: *mut *const c_char,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(name_out, "name_out")?;
        need_out(value_out, "value_out")?;
        let r = try_ref(req, "req")?;
        let (n, v) = r
            .header_cache()
            .get(i)
            .ok_or_else(|| crate::Error::InvalidArgument(format!("header index {i} out of range")))?;
        *name_out = n.as_ptr();
        *value_out = v.as_ptr();
        Ok(())
    })
}

/// First value of header `name` (case-insensitive), or NULL when absent.
#[no_mangle]
pub unsafe extern "C" fn httpx_request_header_get(req: *const httpx_request, name: *const c_char) -> *const c_char {
    run_val(std::ptr::null(), || {
        let (Some(r), Ok(n)) = (opt_ref(req), cstr(name, "name")) else { return std::ptr::null() };
        let idx = r.get().headers.iter().position(|(k, _)| k.eq_ignore_ascii_case(n));
        idx.and_then(|i| r.header_cache().get(i)).map(|(_, v)| v.as_ptr()).unwrap_or(std::ptr::null())
    })
}

/// The body when it is held in memory (bytes, form, JSON): writes `*data_out` (owned
/// by the request) and `*len_out`. A streamed or multipart body:
/// `HTTPX_E_STREAM_CONSUMED` (its bytes are not available before sending).
#[no_mangle]
pub unsafe extern "C" fn httpx_request_body(
    req: *const httpx_request,
    data_out: *mut *const u8,
    len_out: *mut usize,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(data_out, "data_out")?;
        need_out(len_out, "len_out")?;
        let r = try_ref(req, "req")?;
        let b = r.get().body.as_bytes().ok_or_else(|| {
            crate::Error::StreamConsumed("the body is streamed; its bytes are not held in memory".into())
        })?;
        *data_out = b.as_ptr();
        *len_out = b.len();
        Ok(())
    })
}

/// A copy of a request (its own owner). A streamed body is shared: only one of the
/// two can send it.
#[no_mangle]
pub unsafe extern "C" fn httpx_request_clone(
    req: *const httpx_request,
    req_out: *mut *mut httpx_request,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(req_out, "req_out")?;
        let r = try_ref(req, "req")?;
        let mut copy = RequestHandle::owned(r.get().clone());
        copy.send = r.send.clone();
        *req_out = to_box(copy);
        Ok(())
    })
}

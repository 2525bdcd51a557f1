//! `httpx_response`: status, headers, body (whole or streamed), history.
//!
//! A response has one owner at a time. Strings and bytes returned by getters are
//! owned by the response and valid until `httpx_response_free`.

use std::cell::OnceCell;
use std::ffi::{c_char, CString};

use super::handle::{Castable, OwnedBox, View};
use super::request::{httpx_request, RequestHandle};
use super::*;
use crate::response::Response;

/// A response (opaque).
pub struct httpx_response {
    _private: [u8; 0],
}

/// What an `httpx_response *` points at: the response (its own, or a view of one a
/// hook, auth flow or history lends) and the C strings handed out from it.
pub(crate) struct ResponseHandle {
    view: View<Response>,
    reason: OnceCell<CString>,
    url: OnceCell<CString>,
    headers: OnceCell<Vec<(CString, CString)>>,
    request: OnceCell<Box<RequestHandle>>,
    /// Boxed so each view keeps its address for the life of the response.
    #[allow(clippy::vec_box)]
    history: OnceCell<Vec<Box<ResponseHandle>>>,
    text: OnceCell<Vec<u8>>,
    /// Joined header values by lowercase name; each CString's buffer stays put when
    /// the Vec grows, so returned pointers live as long as the response.
    joined: std::cell::RefCell<Vec<(String, CString)>>,
    next_request: OnceCell<Option<Box<RequestHandle>>>,
    /// Connection facts as C strings (see `ffi::observe`).
    pub(crate) info_strs: OnceCell<super::observe::InfoStrings>,
}

impl Castable for httpx_response {
    type Ownership = OwnedBox;
    type RustType = ResponseHandle;

    /// Views owned by another response or by a hook call are not the caller's to free.
    fn releasable(h: &ResponseHandle) -> bool {
        h.view.is_owned()
    }
}

impl ResponseHandle {
    fn with(view: View<Response>) -> ResponseHandle {
        ResponseHandle {
            view,
            reason: OnceCell::new(),
            url: OnceCell::new(),
            headers: OnceCell::new(),
            request: OnceCell::new(),
            history: OnceCell::new(),
            text: OnceCell::new(),
            joined: std::cell::RefCell::new(Vec::new()),
            next_request: OnceCell::new(),
            info_strs: OnceCell::new(),
        }
    }

    pub(crate) fn owned(r: Response) -> ResponseHandle {
        ResponseHandle::with(View::Owned(Box::new(r)))
    }

    /// A view of a response owned elsewhere, valid for a callback's duration.
    pub(crate) fn borrowed(r: &mut Response) -> ResponseHandle {
        ResponseHandle::with(View::Borrowed(r))
    }

    pub(crate) fn get(&self) -> &Response {
        self.view.get()
    }

    pub(crate) fn get_mut(&mut self) -> crate::Result<&mut Response> {
        self.view.get_mut("response")
    }

    fn header_cache(&self) -> &Vec<(CString, CString)> {
        self.headers.get_or_init(|| self.get().headers.iter().map(|(n, v)| (to_cstring(n), to_cstring(v))).collect())
    }
}

/// A getter's string: `f` of the response, or NULL for a NULL `resp`.
unsafe fn text_of(resp: *const httpx_response, f: impl FnOnce(&ResponseHandle) -> *const c_char) -> *const c_char {
    run_val(std::ptr::null(), || opt_ref(resp).map_or(std::ptr::null(), f))
}

/// Status code (e.g. 200); 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_status(resp: *const httpx_response) -> u16 {
    run_val(0, || opt_ref(resp).map_or(0, |r| r.get().status))
}

/// Reason phrase ("OK"; the standard phrase when the server sent none). Owned by
/// the response; NULL only for a NULL `resp`.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_reason(resp: *const httpx_response) -> *const c_char {
    text_of(resp, |r| r.reason.get_or_init(|| to_cstring(r.get().reason_phrase())).as_ptr())
}

/// "HTTP/1.1", "HTTP/1.0" or "HTTP/2". Static; NULL only for a NULL `resp`.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_http_version(resp: *const httpx_response) -> *const c_char {
    run_val(std::ptr::null(), || match opt_ref(resp).map(|r| r.get().version) {
        Some(crate::http1::Version::Http10) => c"HTTP/1.0".as_ptr(),
        Some(crate::http1::Version::Http11) => c"HTTP/1.1".as_ptr(),
        Some(crate::http1::Version::Http2) => c"HTTP/2".as_ptr(),
        None => std::ptr::null(),
    })
}

/// Final URL (after redirects). Owned by the response.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_url(resp: *const httpx_response) -> *const c_char {
    text_of(resp, |r| r.url.get_or_init(|| to_cstring(r.get().url.as_str())).as_ptr())
}

/// Number of header lines (repeated headers are separate lines).
#[no_mangle]
pub unsafe extern "C" fn httpx_response_header_count(resp: *const httpx_response) -> usize {
    run_val(0, || opt_ref(resp).map_or(0, |r| r.get().headers.len()))
}

/// The `i`th header line; strings owned by the response.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_header_at(
    resp: *const httpx_response,
    i: usize,
    name_out: *mut *const c_char,
    value_out: *mut *const c_char,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(name_out, "name_out")?;
        need_out(value_out, "value_out")?;
        let r = try_ref(resp, "resp")?;
        let (n, v) = r
            .header_cache()
            .get(i)
            .ok_or_else(|| crate::Error::InvalidArgument(format!("header index {i} out of range")))?;
        *name_out = n.as_ptr();
        *value_out = v.as_ptr();
        Ok(())
    })
}

/// The `nth` (0-based) value of header `name`, case-insensitive, or NULL. Use
/// n = 0 for the first; repeated headers (Set-Cookie) have n = 1, 2, ...
#[no_mangle]
pub unsafe extern "C" fn httpx_response_header_get_nth(
    resp: *const httpx_response,
    name: *const c_char,
    nth: usize,
) -> *const c_char {
    run_val(std::ptr::null(), || {
        let (Some(r), Ok(n)) = (opt_ref(resp), cstr(name, "name")) else { return std::ptr::null() };
        let idx =
            r.get().headers.iter().enumerate().filter(|(_, (k, _))| k.eq_ignore_ascii_case(n)).nth(nth).map(|(i, _)| i);
        idx.and_then(|i| r.header_cache().get(i)).map(|(_, v)| v.as_ptr()).unwrap_or(std::ptr::null())
    })
}

/// First value of header `name` (case-insensitive), or NULL when absent.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_header_get(resp: *const httpx_response, name: *const c_char) -> *const c_char {
    httpx_response_header_get_nth(resp, name, 0)
}

/// Every value of header `name` (case-insensitive) joined with ", ", as HTTPX's
/// `response.headers[name]` gives them, or NULL when absent. For one value this is
/// the value itself. Owned by the response (valid until `httpx_response_free`); the
/// first-value and nth getters are unchanged. Call from the owning thread.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_header_get_joined(
    resp: *const httpx_response,
    name: *const c_char,
) -> *const c_char {
    run_val(std::ptr::null(), || {
        let (Some(r), Ok(n)) = (opt_ref(resp), cstr(name, "name")) else { return std::ptr::null() };
        let key = n.to_ascii_lowercase();
        let mut cache = r.joined.borrow_mut();
        if let Some((_, v)) = cache.iter().find(|(k, _)| *k == key) {
            return v.as_ptr();
        }
        let Some(joined) = r.get().headers.get_joined(n) else { return std::ptr::null() };
        cache.push((key, to_cstring(&joined)));
        cache.last().map(|(_, v)| v.as_ptr()).unwrap_or(std::ptr::null())
    })
}

/// HTTPX `response.next_request`: for a redirect that was not followed (redirects
/// off), the request following it would send (method, URL, headers, body and
/// cookies after HTTPX's redirect rules), or NULL (not a redirect, redirects were
/// followed, or a Location that cannot be followed, e.g. another scheme). Owned by
/// the response and read-only: pass it to `httpx_client_send`, or copy it with
/// `httpx_request_clone` to edit it. Do not free it.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_next_request(resp: *const httpx_response) -> *const httpx_request {
    run_val(std::ptr::null(), || match opt_ref(resp) {
        Some(r) => r
            .next_request
            .get_or_init(|| r.get().next_request.as_deref().map(|q| Box::new(RequestHandle::read_only(q))))
            .as_deref()
            .map_or(std::ptr::null(), to_c),
        None => std::ptr::null(),
    })
}

/// The request that produced this response, as sent (merged URL and headers). Owned
/// by the response and read-only; NULL only for a NULL `resp`.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_request(resp: *const httpx_response) -> *const httpx_request {
    run_val(std::ptr::null(), || match opt_ref(resp) {
        Some(r) => to_c(&**r.request.get_or_init(|| Box::new(RequestHandle::read_only(&r.get().request)))),
        None => std::ptr::null(),
    })
}

/// Number of earlier responses (redirects, auth steps), oldest first.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_history_count(resp: *const httpx_response) -> usize {
    run_val(0, || opt_ref(resp).map_or(0, |r| r.get().history.len()))
}

/// The `i`th earlier response (body already read), owned by `resp`; NULL when out
/// of range.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_history_at(resp: *mut httpx_response, i: usize) -> *mut httpx_response {
    run_val(std::ptr::null_mut(), || {
        let Ok(r) = try_mut(resp, "resp") else { return std::ptr::null_mut() };
        if r.history.get().is_none() {
            let Ok(inner) = r.get_mut() else { return std::ptr::null_mut() };
            let v: Vec<Box<ResponseHandle>> =
                inner.history.iter_mut().map(|h| Box::new(ResponseHandle::borrowed(h))).collect();
            let _ = r.history.set(v);
        }
        match r.history.get_mut().and_then(|v| v.get_mut(i)) {
            Some(b) => to_c_mut(&mut **b),
            None => std::ptr::null_mut(),
        }
    })
}

/// Seconds from sending the request to the end of the body (or to now, while the
/// body is unread).
#[no_mangle]
pub unsafe extern "C" fn httpx_response_elapsed(resp: *const httpx_response) -> f64 {
    run_val(0.0, || opt_ref(resp).map_or(0.0, |r| r.get().elapsed.as_secs_f64()))
}

/// The whole decoded body (gzip, deflate, br, zstd undone), read on the first call
/// and kept: writes `*data_out` (owned by the response, valid until it is freed) and
/// `*len_out`. After streaming reads: `HTTPX_E_STREAM_CONSUMED`. Call from the
/// owning thread.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_body(
    resp: *mut httpx_response,
    data_out: *mut *const u8,
    len_out: *mut usize,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || {
        need_out(data_out, "data_out")?;
        need_out(len_out, "len_out")?;
        let b = try_mut(resp, "resp")?.get_mut()?.body()?;
        *data_out = if b.is_empty() { c"".as_ptr() as *const u8 } else { b.as_ptr() };
        *len_out = b.len();
        Ok(())
    })
}

/// The body as UTF-8 text, decoded by the charset of Content-Type (else the
/// client's default encoding, else UTF-8; invalid bytes become U+FFFD). `*text_out`
/// is NUL-terminated and owned by the response; `*len_out` excludes the NUL.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_text(
    resp: *mut httpx_response,
    text_out: *mut *const c_char,
    len_out: *mut usize,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || {
        need_out(text_out, "text_out")?;
        need_out(len_out, "len_out")?;
        let r = try_mut(resp, "resp")?;
        if r.text.get().is_none() {
            let t = r.get_mut()?.text()?;
            let mut v = Vec::with_capacity(t.len() + 1);
            v.extend_from_slice(t.as_bytes());
            v.push(0);
            let _ = r.text.set(v);
        }
        let v = r.text.get().ok_or_else(|| crate::Error::Internal("text".into()))?;
        *text_out = v.as_ptr() as *const c_char;
        *len_out = v.len() - 1;
        Ok(())
    })
}

/// Streaming read of the decoded body into `buf` (up to `cap` bytes); `*n_out` = 0
/// at the end, after which the connection is back in the pool. Read errors
/// (`HTTPX_E_READ_TIMEOUT`, `HTTPX_E_REMOTE_PROTOCOL`, `HTTPX_E_DECODING`...) close
/// the connection.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_read(
    resp: *mut httpx_response,
    buf: *mut u8,
    cap: usize,
    n_out: *mut usize,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || {
        need_out(n_out, "n_out")?;
        let slice = bytes_mut(buf, cap, "buf")?;
        *n_out = try_mut(resp, "resp")?.get_mut()?.read(slice)?;
        Ok(())
    })
}

/// HTTPX `raise_for_status`: `HTTPX_OK` for 2xx, else `HTTPX_E_HTTP_STATUS` with a
/// message naming the status and URL.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_raise_for_status(
    resp: *const httpx_response,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || try_ref(resp, "resp")?.get().raise_for_status())
}

/// Close the body: a half-read connection is closed (not reused). The head stays
/// readable. Idempotent.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_close(resp: *mut httpx_response) -> httpx_code {
    run(std::ptr::null_mut(), || {
        try_mut(resp, "resp")?.get_mut()?.close();
        Ok(())
    })
}

/// Free a response. NULL allowed. A fully read body's connection is already back in
/// the pool; a half-read one is closed. Responses from `httpx_response_history_at`
/// and hooks are owned by others: do not free them.
#[no_mangle]
pub unsafe extern "C" fn httpx_response_free(resp: *mut httpx_response) {
    free(resp)
}

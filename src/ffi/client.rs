//! `httpx_client`: the pooled, thread-safe client, sending, shortcuts, cookies.

use std::ffi::{c_char, CString};

use super::config::{cfg_or_default, httpx_client_config};
use super::handle::{Castable, OwnedBox};
use super::request::{httpx_request, RequestHandle};
use super::response::{httpx_response, ResponseHandle};
use super::*;
use crate::client::Client;
use crate::config::ClientConfig;

/// A client (opaque). Safe to share between threads and to send from many at once.
pub struct httpx_client {
    _private: [u8; 0],
}

impl Castable for httpx_client {
    type Ownership = OwnedBox;
    type RustType = Client;
}

/// A snapshot of a client's cookie jar (opaque).
pub struct httpx_cookie_list {
    _private: [u8; 0],
}

/// What an `httpx_cookie_list *` points at: (name, value, domain, path) and
/// (secure, http_only, expires) per cookie.
pub(crate) struct CookieList {
    items: Vec<[CString; 4]>,
    flags: Vec<(bool, bool, i64)>,
}

impl Castable for httpx_cookie_list {
    type Ownership = OwnedBox;
    type RustType = CookieList;
}

/// Create a client from `cfg` (NULL = defaults). The config is copied, not
/// consumed. TLS files, base_url, proxy URLs and mount keys are checked now.
/// Writes `*client_out` on success; free with `httpx_client_free`. Any thread.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_new(
    cfg: *const httpx_client_config,
    client_out: *mut *mut httpx_client,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || {
        need_out(client_out, "client_out")?;
        let client = Client::new(cfg_or_default(cfg, &ClientConfig::default()))?;
        *client_out = to_box(client);
        Ok(())
    })
}

/// Close the connection pool. Responses still being read keep working; new sends
/// fail with `HTTPX_E_CLIENT_CLOSED`. Idempotent; any thread.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_close(client: *const httpx_client) -> httpx_code {
    run(std::ptr::null_mut(), || {
        try_ref(client, "client")?.close();
        Ok(())
    })
}

/// Close and free a client. NULL allowed. No other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_free(client: *mut httpx_client) {
    if let Some(c) = opt_ref(client) {
        run_val((), || c.close());
    }
    free(client)
}

fn send(c: &Client, req: &RequestHandle, stream: bool) -> crate::Result<ResponseHandle> {
    let mut resp = c.send_with(req.get(), &req.send)?;
    if !stream {
        resp.body()?;
    }
    Ok(ResponseHandle::owned(resp))
}

/// Send `req` (not consumed; it may be sent again) and read the whole body before
/// returning, so the connection is back in the pool. Writes `*resp_out` on
/// success; free it with `httpx_response_free`. Any thread; the same client may be
/// used from many threads at once. From inside a callback of this client:
/// `HTTPX_E_RECURSIVE_CALL`.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_send(
    client: *const httpx_client,
    req: *const httpx_request,
    resp_out: *mut *mut httpx_response,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || {
        need_out(resp_out, "resp_out")?;
        *resp_out = to_box(send(try_ref(client, "client")?, try_ref(req, "req")?, false)?);
        Ok(())
    })
}

/// Like `httpx_client_send` but returns once the response head is in; read the
/// body with `httpx_response_read` (or `httpx_response_body`). The connection is
/// held until the body is read to the end or the response is freed.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_send_stream(
    client: *const httpx_client,
    req: *const httpx_request,
    resp_out: *mut *mut httpx_response,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || {
        need_out(resp_out, "resp_out")?;
        *resp_out = to_box(send(try_ref(client, "client")?, try_ref(req, "req")?, true)?);
        Ok(())
    })
}

unsafe fn quick(
    client: *const httpx_client,
    method: &str,
    url: *const c_char,
    body: Option<(&[u8], Option<&str>)>,
    resp_out: *mut *mut httpx_response,
) -> crate::Result<()> {
    need_out(resp_out, "resp_out")?;
    let c = try_ref(client, "client")?;
    let mut req = c.build_request(method, cstr(url, "url")?)?;
    if let Some((b, ct)) = body {
        req.set_body_bytes(b.to_vec(), ct);
    }
    // Built for this one send: handed over, not copied (Client::send_owned).
    let mut resp = c.send_owned(req, &crate::client::SendOptions::default())?;
    resp.body()?;
    *resp_out = to_box(ResponseHandle::owned(resp));
    Ok(())
}

unsafe fn quick_with_body(
    client: *const httpx_client,
    method: &str,
    url: *const c_char,
    data: *const u8,
    len: usize,
    content_type: *const c_char,
    resp_out: *mut *mut httpx_response,
) -> crate::Result<()> {
    let b = bytes(data, len, "data")?;
    let ct = opt_cstr(content_type, "content_type")?;
    quick(client, method, url, Some((b, ct)), resp_out)
}

/// GET `url` (relative to base_url if set) with the client's settings; body read.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_get(
    client: *const httpx_client,
    url: *const c_char,
    resp_out: *mut *mut httpx_response,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || quick(client, "GET", url, None, resp_out))
}

/// DELETE `url`; body read.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_delete(
    client: *const httpx_client,
    url: *const c_char,
    resp_out: *mut *mut httpx_response,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || quick(client, "DELETE", url, None, resp_out))
}

/// HEAD `url`.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_head(
    client: *const httpx_client,
    url: *const c_char,
    resp_out: *mut *mut httpx_response,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || quick(client, "HEAD", url, None, resp_out))
}

/// POST bytes (copied; `content_type` may be NULL) to `url`; body read.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_post(
    client: *const httpx_client,
    url: *const c_char,
    data: *const u8,
    len: usize,
    content_type: *const c_char,
    resp_out: *mut *mut httpx_response,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || quick_with_body(client, "POST", url, data, len, content_type, resp_out))
}

/// PUT bytes (copied) to `url`; body read.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_put(
    client: *const httpx_client,
    url: *const c_char,
    data: *const u8,
    len: usize,
    content_type: *const c_char,
    resp_out: *mut *mut httpx_response,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || quick_with_body(client, "PUT", url, data, len, content_type, resp_out))
}

/// Top-level GET (HTTPX `httpx.get`): a fresh client and connection for this one
/// request, closed afterwards. Body read. Any thread.
#[no_mangle]
pub unsafe extern "C" fn httpx_get(
    url: *const c_char,
    resp_out: *mut *mut httpx_response,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || {
        need_out(resp_out, "resp_out")?;
        let client = Client::new(&ClientConfig::default())?;
        let req = client.build_request("GET", cstr(url, "url")?)?;
        let mut resp = client.send(&req)?;
        resp.body()?;
        client.close();
        *resp_out = to_box(ResponseHandle::owned(resp));
        Ok(())
    })
}

/// HTTPX's top-level `httpx.request(method, url, params=..., headers=..., timeout=...)`
/// for a request built beforehand (`httpx_request_new`, then edited): one call that
/// creates a client from `cfg` (NULL = defaults), sends `req` on a fresh connection,
/// reads the whole body and closes the client. The config's timeouts, TLS settings,
/// proxies, auth, redirect options and cookies apply; its headers and params (and the
/// client defaults such as User-Agent) are merged under the request's own, as
/// `httpx_request_build` would have merged them (the request's values win).
/// `req` and `cfg` are not consumed and may be reused. Writes `*resp_out` on success;
/// free it with `httpx_response_free`. Any thread; `cfg` must not be edited by
/// another thread during the call.
#[no_mangle]
pub unsafe extern "C" fn httpx_send(
    req: *const httpx_request,
    cfg: *const httpx_client_config,
    resp_out: *mut *mut httpx_response,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || {
        need_out(resp_out, "resp_out")?;
        let r = try_ref(req, "req")?;
        let resp = Client::send_once_with(cfg_or_default(cfg, &ClientConfig::default()), r.get(), &r.send)?;
        *resp_out = to_box(ResponseHandle::owned(resp));
        Ok(())
    })
}

/// Number of connections the client's own pool holds (in use + idle) and how many
/// are idle. Either out pointer may be NULL. For tests and monitoring.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_pool_stats(
    client: *const httpx_client,
    total_out: *mut usize,
    idle_out: *mut usize,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        let (t, i) = try_ref(client, "client")?.pool_stats();
        put(total_out, t);
        put(idle_out, i);
        Ok(())
    })
}

/// Set a cookie in the client's jar. `domain` NULL or "" = every host; `path` NULL
/// = "/". Invalid name/value (CR, LF, ';'): `HTTPX_E_INVALID_ARGUMENT`. Any thread.
///
/// Jar limits (for cookies set here and by responses alike): at most 180 cookies per
/// domain and 3000 in all (storing one more evicts expired cookies first, then the
/// oldest); a `Secure` cookie set by an http:// response is refused (RFC 6265bis);
/// the `Cookie` header sent is at most 8190 bytes (cookies that would make it longer
/// are left out of that request, longest paths first, as curl does).
#[no_mangle]
pub unsafe extern "C" fn httpx_client_cookie_set(
    client: *const httpx_client,
    name: *const c_char,
    value: *const c_char,
    domain: *const c_char,
    path: *const c_char,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        try_ref(client, "client")?.cookies().set(
            cstr(name, "name")?,
            cstr(value, "value")?,
            opt_cstr(domain, "domain")?.unwrap_or(""),
            opt_cstr(path, "path")?.unwrap_or("/"),
        )
    })
}

/// Look a cookie up by name (and optionally domain and path), HTTPX `cookies.get`.
/// Found: copies the value, NUL-terminated, into `buf` (capacity `cap`), sets
/// `*len_out` to its length and `*found_out` to 1. Not found: `*found_out` = 0.
/// `buf` too small: `HTTPX_E_INVALID_ARGUMENT` with `*len_out` set to the length
/// needed (excluding the NUL). Several different values match:
/// `HTTPX_E_INVALID_ARGUMENT` (give a domain or path).
#[no_mangle]
pub unsafe extern "C" fn httpx_client_cookie_get(
    client: *const httpx_client,
    name: *const c_char,
    domain: *const c_char,
    path: *const c_char,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
    found_out: *mut i32,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(len_out, "len_out")?;
        need_out(found_out, "found_out")?;
        let v = try_ref(client, "client")?.cookies().get_checked(
            cstr(name, "name")?,
            opt_cstr(domain, "domain")?,
            opt_cstr(path, "path")?,
        )?;
        match v {
            None => {
                *found_out = 0;
                *len_out = 0;
                Ok(())
            }
            Some(v) => {
                *len_out = v.len();
                if buf.is_null() || cap < v.len() + 1 {
                    return Err(crate::Error::InvalidArgument(format!("buffer too small: need {} bytes", v.len() + 1)));
                }
                std::ptr::copy_nonoverlapping(v.as_ptr(), buf as *mut u8, v.len());
                *buf.add(v.len()) = 0;
                *found_out = 1;
                Ok(())
            }
        }
    })
}

/// Delete cookies by name (and optionally domain and path). `*n_out` (may be NULL)
/// receives how many were removed.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_cookie_delete(
    client: *const httpx_client,
    name: *const c_char,
    domain: *const c_char,
    path: *const c_char,
    n_out: *mut usize,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        let c = try_ref(client, "client")?;
        put(n_out, c.cookies().delete(cstr(name, "name")?, opt_cstr(domain, "domain")?, opt_cstr(path, "path")?));
        Ok(())
    })
}

/// Remove every cookie from the client's jar.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_cookie_clear(client: *const httpx_client) -> httpx_code {
    run(std::ptr::null_mut(), || {
        try_ref(client, "client")?.cookies().clear();
        Ok(())
    })
}

/// Snapshot of the jar for iteration. Writes `*list_out`; free with
/// `httpx_cookie_list_free`. Later jar changes do not affect the snapshot.
#[no_mangle]
pub unsafe extern "C" fn httpx_client_cookies(
    client: *const httpx_client,
    list_out: *mut *mut httpx_cookie_list,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(list_out, "list_out")?;
        let mut items = Vec::new();
        let mut flags = Vec::new();
        for ck in try_ref(client, "client")?.cookies().list() {
            items.push([&ck.name, &ck.value, &ck.domain, &ck.path].map(|s| to_cstring(s)));
            flags.push((ck.secure, ck.http_only, ck.expires_unix.unwrap_or(-1)));
        }
        *list_out = to_box(CookieList { items, flags });
        Ok(())
    })
}

/// Number of cookies in a snapshot.
#[no_mangle]
pub unsafe extern "C" fn httpx_cookie_list_count(list: *const httpx_cookie_list) -> usize {
    run_val(0, || opt_ref(list).map_or(0, |l| l.items.len()))
}

/// The `i`th cookie: strings owned by the list. Any out pointer may be NULL.
/// `*expires_out` is a Unix time, or -1 for a session cookie.
#[no_mangle]
pub unsafe extern "C" fn httpx_cookie_list_at(
    list: *const httpx_cookie_list,
    i: usize,
    name_out: *mut *const c_char,
    value_out: *mut *const c_char,
    domain_out: *mut *const c_char,
    path_out: *mut *const c_char,
    secure_out: *mut i32,
    expires_out: *mut i64,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        let l = try_ref(list, "list")?;
        let it =
            l.items.get(i).ok_or_else(|| crate::Error::InvalidArgument(format!("cookie index {i} out of range")))?;
        let f = l.flags[i];
        for (out, v) in [(name_out, &it[0]), (value_out, &it[1]), (domain_out, &it[2]), (path_out, &it[3])] {
            put(out, v.as_ptr());
        }
        put(secure_out, f.0 as i32);
        put(expires_out, f.2);
        Ok(())
    })
}

/// Free a cookie snapshot. NULL allowed.
#[no_mangle]
pub unsafe extern "C" fn httpx_cookie_list_free(list: *mut httpx_cookie_list) {
    free(list)
}

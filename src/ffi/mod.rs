//! The C ABI. This module is the only place with `unsafe` and `extern "C"`.
//!
//! Every export runs behind one panic boundary (`run`, `run_val`) that turns a
//! panic into `HTTPX_E_INTERNAL`; every pointer is checked; errors become a stable
//! code plus an optional `httpx_error` with a human message. Outputs are written
//! only on success.
#![allow(unsafe_code)]
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

pub mod auth;
pub mod cancel;
pub mod client;
pub mod config;
pub mod observe;
pub mod request;
pub mod response;
pub mod transport;

use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{code, Error, Result};

/// Result code of every fallible function. `HTTPX_OK` (0) is success.
///
/// Signals: libhttpx never raises SIGPIPE in the host and never changes its signal
/// dispositions. Every socket write (plain TCP, TLS, proxy CONNECT tunnels, SOCKS,
/// Unix sockets, HTTP/2) uses send/sendmsg with MSG_NOSIGNAL, so a peer that closes
/// mid-transfer is an error code (`HTTPX_E_WRITE`, ...), never a signal.
pub type httpx_code = u32;

pub const HTTPX_OK: httpx_code = 0;
pub const HTTPX_E_INVALID_ARGUMENT: httpx_code = 1;
pub const HTTPX_E_INVALID_URL: httpx_code = 2;
pub const HTTPX_E_UNSUPPORTED_PROTOCOL: httpx_code = 3;
/// Timeouts are 10..=19: test "any timeout" with `httpx_code_is_timeout`.
pub const HTTPX_E_CONNECT_TIMEOUT: httpx_code = 10;
pub const HTTPX_E_READ_TIMEOUT: httpx_code = 11;
pub const HTTPX_E_WRITE_TIMEOUT: httpx_code = 12;
pub const HTTPX_E_POOL_TIMEOUT: httpx_code = 13;
/// The send's total timeout expired (`httpx_client_config_set_total_timeout`).
pub const HTTPX_E_TOTAL_TIMEOUT: httpx_code = 14;
/// Network errors are 20..=29.
pub const HTTPX_E_CONNECT: httpx_code = 20;
pub const HTTPX_E_READ: httpx_code = 21;
pub const HTTPX_E_WRITE: httpx_code = 22;
pub const HTTPX_E_CLOSE: httpx_code = 23;
pub const HTTPX_E_PROXY: httpx_code = 24;
pub const HTTPX_E_TLS: httpx_code = 25;
/// The host name could not be resolved.
pub const HTTPX_E_RESOLVE: httpx_code = 26;
/// Protocol errors are 30..=39.
pub const HTTPX_E_REMOTE_PROTOCOL: httpx_code = 30;
pub const HTTPX_E_LOCAL_PROTOCOL: httpx_code = 31;
pub const HTTPX_E_DECODING: httpx_code = 32;
/// Client-level errors are 40..=49.
pub const HTTPX_E_TOO_MANY_REDIRECTS: httpx_code = 40;
pub const HTTPX_E_HTTP_STATUS: httpx_code = 41;
pub const HTTPX_E_STREAM_CONSUMED: httpx_code = 42;
pub const HTTPX_E_CLIENT_CLOSED: httpx_code = 43;
/// The request's cancel token was fired (`httpx_cancel_fire`).
pub const HTTPX_E_CANCELLED: httpx_code = 44;
/// A buffered body (`httpx_client_send`, `httpx_response_body`/`_text`) went over the
/// client's body size cap (`httpx_client_config_set_max_body_size`).
pub const HTTPX_E_BODY_TOO_LARGE: httpx_code = 45;
/// Callback errors are 50..=59.
pub const HTTPX_E_CALLBACK: httpx_code = 50;
pub const HTTPX_E_RECURSIVE_CALL: httpx_code = 51;
pub const HTTPX_E_IO: httpx_code = 60;
pub const HTTPX_E_INTERNAL: httpx_code = 99;

pub const HTTPX_VERSION_MAJOR: u32 = 0;
pub const HTTPX_VERSION_MINOR: u32 = 1;
pub const HTTPX_VERSION_PATCH: u32 = 0;

/// Callback that frees a `userdata` pointer. Called exactly once, on any thread,
/// when the library no longer needs the userdata.
pub type httpx_free_fn = Option<unsafe extern "C" fn(userdata: *mut c_void)>;

/// Callback that produces body bytes: write up to `cap` bytes to `buf`, store the
/// count in `*n_out` (0 = end of body) and return `HTTPX_OK`; any other return
/// aborts the transfer with `HTTPX_E_CALLBACK`.
pub type httpx_read_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, buf: *mut u8, cap: usize, n_out: *mut usize) -> httpx_code>;

/// A detailed error: a code and a message.
pub struct httpx_error {
    code: httpx_code,
    message: CString,
}

fn to_cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).unwrap_or_default()
}

pub(crate) fn set_error(err_out: *mut *mut httpx_error, e: &Error) {
    if err_out.is_null() {
        return;
    }
    let boxed = Box::new(httpx_error { code: e.code(), message: to_cstring(&e.to_string()) });
    // SAFETY: err_out was checked non-NULL; the caller passes a valid `httpx_error **`.
    unsafe { *err_out = Box::into_raw(boxed) };
}

/// Run `f` behind the panic boundary, reporting errors through `err_out`.
pub(crate) fn run(err_out: *mut *mut httpx_error, f: impl FnOnce() -> Result<()>) -> httpx_code {
    let r = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(Error::Internal("panic inside libhttpx".into())));
    match r {
        Ok(()) => HTTPX_OK,
        Err(e) => {
            set_error(err_out, &e);
            e.code()
        }
    }
}

/// Run a getter behind the panic boundary; `default` on panic.
pub(crate) fn run_val<T>(default: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(default)
}

/// Borrow a NUL-terminated UTF-8 string. NULL or invalid UTF-8 is InvalidArgument.
pub(crate) unsafe fn cstr<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::InvalidArgument(format!("{what} is NULL")));
    }
    CStr::from_ptr(p).to_str().map_err(|_| Error::InvalidArgument(format!("{what} is not valid UTF-8")))
}

/// Like `cstr`, NULL allowed.
pub(crate) unsafe fn opt_cstr<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        cstr(p, what).map(Some)
    }
}

/// Borrow `(data, len)`. NULL is allowed only with len 0.
pub(crate) unsafe fn bytes<'a>(p: *const u8, len: usize, what: &str) -> Result<&'a [u8]> {
    if p.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(Error::InvalidArgument(format!("{what} is NULL but its length is {len}")));
    }
    Ok(std::slice::from_raw_parts(p, len))
}

/// Check an output pointer before doing any work.
pub(crate) fn need_out<T>(p: *mut T, what: &str) -> Result<()> {
    if p.is_null() {
        Err(Error::InvalidArgument(format!("{what} is NULL")))
    } else {
        Ok(())
    }
}

/// Borrow a handle, NULL being InvalidArgument.
pub(crate) unsafe fn handle<'a, T>(p: *const T, what: &str) -> Result<&'a T> {
    p.as_ref().ok_or_else(|| Error::InvalidArgument(format!("{what} is NULL")))
}

pub(crate) unsafe fn handle_mut<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T> {
    p.as_mut().ok_or_else(|| Error::InvalidArgument(format!("{what} is NULL")))
}

/// C userdata plus its free function; freed exactly once when dropped.
pub(crate) struct UserData {
    pub ptr: *mut c_void,
    free: httpx_free_fn,
}

// SAFETY: the C API documents that callbacks may run on any thread that sends, so
// the caller promises the userdata may be used from those threads.
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

impl UserData {
    pub fn new(ptr: *mut c_void, free: httpx_free_fn) -> UserData {
        UserData { ptr, free }
    }
}

impl Drop for UserData {
    fn drop(&mut self) {
        if let Some(f) = self.free {
            // SAFETY: a C function supplied by the caller for exactly this pointer.
            unsafe { f(self.ptr) };
        }
    }
}

/// A C read callback as a `std::io::Read`.
pub(crate) struct CallbackReader {
    pub cb: unsafe extern "C" fn(*mut c_void, *mut u8, usize, *mut usize) -> httpx_code,
    pub ud: std::sync::Arc<UserData>,
}

impl std::io::Read for CallbackReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n: usize = 0;
        // SAFETY: buf is valid for buf.len() bytes; n is a valid out pointer.
        let rc =
            catch_unwind(AssertUnwindSafe(|| unsafe { (self.cb)(self.ud.ptr, buf.as_mut_ptr(), buf.len(), &mut n) }))
                .unwrap_or(HTTPX_E_INTERNAL);
        if rc != HTTPX_OK {
            return Err(std::io::Error::other(Error::Callback(format!("read callback returned {rc}"))));
        }
        if n > buf.len() {
            return Err(std::io::Error::other(Error::Callback(format!(
                "read callback reported {n} bytes for a {}-byte buffer",
                buf.len()
            ))));
        }
        Ok(n)
    }
}

/// Library version, e.g. "0.1.0". Static; never NULL. Any thread.
#[no_mangle]
pub extern "C" fn httpx_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

/// Static, never-NULL name of a code ("OK", "READ_TIMEOUT", ...; "UNKNOWN" for a
/// value the library does not define). Any thread.
#[no_mangle]
pub extern "C" fn httpx_code_str(code: httpx_code) -> *const c_char {
    run_val(c"INTERNAL".as_ptr(), || {
        let name = code::name(code);
        static NAMES: once_cell::sync::Lazy<std::collections::HashMap<&'static str, CString>> =
            once_cell::sync::Lazy::new(|| {
                (0..200u32).map(|c| (code::name(c), CString::new(code::name(c)).unwrap_or_default())).collect()
            });
        NAMES.get(name).map(|c| c.as_ptr()).unwrap_or(c"UNKNOWN".as_ptr())
    })
}

/// 1 when `code` is a timeout (connect, read, write, pool, total), else 0.
#[no_mangle]
pub extern "C" fn httpx_code_is_timeout(code: httpx_code) -> i32 {
    (10..=19).contains(&code) as i32
}

/// Code of a detailed error; `HTTPX_E_INVALID_ARGUMENT` for NULL.
#[no_mangle]
pub unsafe extern "C" fn httpx_error_code(err: *const httpx_error) -> httpx_code {
    run_val(HTTPX_E_INTERNAL, || err.as_ref().map(|e| e.code).unwrap_or(HTTPX_E_INVALID_ARGUMENT))
}

/// Human-readable message of a detailed error: NUL-terminated, owned by `err`,
/// valid until `httpx_error_free(err)`. Never NULL ("" for a NULL `err`).
#[no_mangle]
pub unsafe extern "C" fn httpx_error_message(err: *const httpx_error) -> *const c_char {
    run_val(c"".as_ptr(), || err.as_ref().map(|e| e.message.as_ptr()).unwrap_or(c"".as_ptr()))
}

/// Free a detailed error. NULL is allowed. Any thread.
#[no_mangle]
pub unsafe extern "C" fn httpx_error_free(err: *mut httpx_error) {
    if !err.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(err))));
    }
}

/// Parse seconds from C: negative (or NaN) = no timeout. Setters use
/// [`secs_checked`], which refuses NaN.
#[allow(dead_code)]
pub(crate) fn secs(s: f64) -> Option<std::time::Duration> {
    crate::types::Timeouts::secs(s)
}

/// Parse seconds from C: negative = no timeout, NaN = `InvalidArgument` (a NaN is a
/// caller's bug, not a request for "no timeout").
pub(crate) fn secs_checked(s: f64) -> crate::Result<Option<std::time::Duration>> {
    crate::types::Timeouts::secs_checked(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_codes_match_core() {
        let pairs = [
            (HTTPX_OK, code::OK),
            (HTTPX_E_INVALID_ARGUMENT, code::INVALID_ARGUMENT),
            (HTTPX_E_INVALID_URL, code::INVALID_URL),
            (HTTPX_E_UNSUPPORTED_PROTOCOL, code::UNSUPPORTED_PROTOCOL),
            (HTTPX_E_CONNECT_TIMEOUT, code::CONNECT_TIMEOUT),
            (HTTPX_E_READ_TIMEOUT, code::READ_TIMEOUT),
            (HTTPX_E_WRITE_TIMEOUT, code::WRITE_TIMEOUT),
            (HTTPX_E_POOL_TIMEOUT, code::POOL_TIMEOUT),
            (HTTPX_E_TOTAL_TIMEOUT, code::TOTAL_TIMEOUT),
            (HTTPX_E_CONNECT, code::CONNECT),
            (HTTPX_E_READ, code::READ),
            (HTTPX_E_WRITE, code::WRITE),
            (HTTPX_E_CLOSE, code::CLOSE),
            (HTTPX_E_PROXY, code::PROXY),
            (HTTPX_E_TLS, code::TLS),
            (HTTPX_E_RESOLVE, code::RESOLVE),
            (HTTPX_E_REMOTE_PROTOCOL, code::REMOTE_PROTOCOL),
            (HTTPX_E_LOCAL_PROTOCOL, code::LOCAL_PROTOCOL),
            (HTTPX_E_DECODING, code::DECODING),
            (HTTPX_E_TOO_MANY_REDIRECTS, code::TOO_MANY_REDIRECTS),
            (HTTPX_E_HTTP_STATUS, code::HTTP_STATUS),
            (HTTPX_E_STREAM_CONSUMED, code::STREAM_CONSUMED),
            (HTTPX_E_CLIENT_CLOSED, code::CLIENT_CLOSED),
            (HTTPX_E_CANCELLED, code::CANCELLED),
            (HTTPX_E_BODY_TOO_LARGE, code::BODY_TOO_LARGE),
            (HTTPX_E_CALLBACK, code::CALLBACK),
            (HTTPX_E_RECURSIVE_CALL, code::RECURSIVE_CALL),
            (HTTPX_E_IO, code::IO),
            (HTTPX_E_INTERNAL, code::INTERNAL),
        ];
        for (c, r) in pairs {
            assert_eq!(c, r);
            assert_ne!(code::name(c), "UNKNOWN");
        }
    }

    #[test]
    fn version_matches_cargo() {
        let v = format!("{HTTPX_VERSION_MAJOR}.{HTTPX_VERSION_MINOR}.{HTTPX_VERSION_PATCH}");
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
    }
}

//! The C ABI. This module is the only place with `unsafe` and `extern "C"`.
//!
//! Every export runs behind one panic boundary (`run`, `run_setter`, `run_val`,
//! `free`) that turns a panic into `HTTPX_E_INTERNAL`; every handle goes through one
//! typed-handle mechanism (`handle.rs`: `Castable`, `to_box`, `try_ref`, `free`...);
//! text comes in through `cstr`/`opt_cstr` and goes out through `to_cstring`; calls
//! into C go through `CCallback`. Errors become a stable code (the table in
//! `src/error.rs`) plus an optional `httpx_error` with a human message, or for
//! setters the first failure kept on the handle. Outputs are written only on
//! success. How to add an export: README.md, "Adding an export".
#![allow(unsafe_code)]
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

pub mod auth;
pub mod cancel;
pub mod client;
pub mod config;
pub(crate) mod handle;
pub mod multi;
pub mod observe;
pub mod request;
pub mod response;
pub mod transport;

use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, OnceLock};

pub(crate) use handle::{free, opt_arc, opt_ref, to_arc, to_box, to_c, to_c_mut, try_mut, try_ref};
use handle::{Castable, OwnedBox};

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

// The `HTTPX_E_*` literals (cbindgen copies literals only) are the table's values in
// `src/error.rs`, checked when the crate compiles; `tests::header_lists_every_code`
// checks that the header defines one for every kind of the table.
const _: () = {
    assert!(HTTPX_OK == code::OK);
    assert!(HTTPX_E_INVALID_ARGUMENT == code::INVALID_ARGUMENT);
    assert!(HTTPX_E_INVALID_URL == code::INVALID_URL);
    assert!(HTTPX_E_UNSUPPORTED_PROTOCOL == code::UNSUPPORTED_PROTOCOL);
    assert!(HTTPX_E_CONNECT_TIMEOUT == code::CONNECT_TIMEOUT);
    assert!(HTTPX_E_READ_TIMEOUT == code::READ_TIMEOUT);
    assert!(HTTPX_E_WRITE_TIMEOUT == code::WRITE_TIMEOUT);
    assert!(HTTPX_E_POOL_TIMEOUT == code::POOL_TIMEOUT);
    assert!(HTTPX_E_TOTAL_TIMEOUT == code::TOTAL_TIMEOUT);
    assert!(HTTPX_E_CONNECT == code::CONNECT);
    assert!(HTTPX_E_READ == code::READ);
    assert!(HTTPX_E_WRITE == code::WRITE);
    assert!(HTTPX_E_CLOSE == code::CLOSE);
    assert!(HTTPX_E_PROXY == code::PROXY);
    assert!(HTTPX_E_TLS == code::TLS);
    assert!(HTTPX_E_RESOLVE == code::RESOLVE);
    assert!(HTTPX_E_REMOTE_PROTOCOL == code::REMOTE_PROTOCOL);
    assert!(HTTPX_E_LOCAL_PROTOCOL == code::LOCAL_PROTOCOL);
    assert!(HTTPX_E_DECODING == code::DECODING);
    assert!(HTTPX_E_TOO_MANY_REDIRECTS == code::TOO_MANY_REDIRECTS);
    assert!(HTTPX_E_HTTP_STATUS == code::HTTP_STATUS);
    assert!(HTTPX_E_STREAM_CONSUMED == code::STREAM_CONSUMED);
    assert!(HTTPX_E_CLIENT_CLOSED == code::CLIENT_CLOSED);
    assert!(HTTPX_E_CANCELLED == code::CANCELLED);
    assert!(HTTPX_E_BODY_TOO_LARGE == code::BODY_TOO_LARGE);
    assert!(HTTPX_E_CALLBACK == code::CALLBACK);
    assert!(HTTPX_E_RECURSIVE_CALL == code::RECURSIVE_CALL);
    assert!(HTTPX_E_IO == code::IO);
    assert!(HTTPX_E_INTERNAL == code::INTERNAL);
};

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
    _private: [u8; 0],
}

/// What an `httpx_error *` points at.
pub(crate) struct ErrorValue {
    code: httpx_code,
    message: CString,
}

impl Castable for httpx_error {
    type Ownership = OwnedBox;
    type RustType = ErrorValue;
}

impl ErrorValue {
    /// The value an `httpx_error` for `e` holds (also kept inside other handles,
    /// such as a multi's completion, and lent out with `to_c`).
    pub(crate) fn of(e: &Error) -> ErrorValue {
        ErrorValue { code: e.code(), message: to_cstring(&e.to_string()) }
    }
}

/// Text going out to C, the one policy for every string the library returns: a
/// NUL-terminated copy in which an embedded NUL (validation keeps them out of
/// headers, URLs, cookies and names) is written as the two characters `\0`, so a
/// string is never cut short.
pub(crate) fn to_cstring(s: &str) -> CString {
    let owned;
    let s = if s.contains('\0') {
        owned = s.replace('\0', "\\0");
        &owned
    } else {
        s
    };
    CString::new(s).unwrap_or_default()
}

/// `to_cstring` for optional text (`None` stays NULL).
pub(crate) fn opt_cstring(s: Option<&str>) -> Option<CString> {
    s.map(to_cstring)
}

/// The pointer of an optional C string (NULL for `None`).
pub(crate) fn ptr_of(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
}

pub(crate) fn set_error(err_out: *mut *mut httpx_error, e: &Error) {
    if err_out.is_null() {
        return;
    }
    let value = ErrorValue::of(e);
    // SAFETY: err_out was checked non-NULL; the caller passes a valid `httpx_error **`.
    unsafe { *err_out = to_box(value) };
}

fn panicked() -> Error {
    Error::Internal("panic inside libhttpx".into())
}

/// Run `f` behind the panic boundary, reporting errors through `err_out`. Every
/// call from C into Rust that can fail goes through here (or `run_setter`).
pub(crate) fn run(err_out: *mut *mut httpx_error, f: impl FnOnce() -> Result<()>) -> httpx_code {
    let r = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(panicked()));
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

/// The first failure of a handle's setters, kept with its message (setters have no
/// `err` parameter): `httpx_client_config_error`, `httpx_request_error` and
/// `httpx_transport_error` hand it out.
#[derive(Default)]
pub(crate) struct FirstError(OnceLock<Error>);

impl FirstError {
    fn record(&self, e: &Error) {
        let _ = self.0.set(e.clone());
    }

    /// `HTTPX_OK`, or the recorded code with a detailed error through `err_out`.
    pub(crate) fn report(&self, err_out: *mut *mut httpx_error) -> httpx_code {
        match self.0.get() {
            None => HTTPX_OK,
            Some(e) => {
                set_error(err_out, e);
                e.code()
            }
        }
    }
}

/// Handles whose setters record their first failure.
pub(crate) trait RecordsErrors {
    fn first_error(&self) -> &FirstError;
}

/// `run` for a setter on handle `h` (which has no `err` parameter): a failure is
/// returned as its code and, when `h` is not NULL, recorded on `h` with its message.
///
/// # Safety
/// `h` is NULL or a live handle of type `C`; `f` has ended its borrows of it when it
/// returns.
pub(crate) unsafe fn run_setter<C>(h: *const C, f: impl FnOnce() -> Result<()>) -> httpx_code
where
    C: Castable,
    C::RustType: RecordsErrors,
{
    let r = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(panicked()));
    match r {
        Ok(()) => HTTPX_OK,
        Err(e) => {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: NULL or live (the caller's promise); `f` is done with it.
                if let Some(v) = unsafe { opt_ref(h) } {
                    v.first_error().record(&e);
                }
            }));
            e.code()
        }
    }
}

/// The `_error` exports: the first recorded setter failure of handle `h` (`HTTPX_OK`
/// when none), with its message through `err_out`; NULL `h` is `InvalidArgument`.
///
/// # Safety
/// `h` is NULL or a live handle of type `C`.
pub(crate) unsafe fn report_first_error<C>(h: *const C, what: &str, err_out: *mut *mut httpx_error) -> httpx_code
where
    C: Castable,
    C::RustType: RecordsErrors,
{
    let mut rc = HTTPX_OK;
    // SAFETY: NULL or live (the caller's promise).
    let outer = run(err_out, || {
        rc = unsafe { try_ref(h, what) }?.first_error().report(err_out);
        Ok(())
    });
    if outer != HTTPX_OK {
        outer
    } else {
        rc
    }
}

/// Text coming in from C, the one policy for every `const char *` parameter: NUL-
/// terminated UTF-8. NULL (where text is required) or invalid UTF-8 is
/// `InvalidArgument` naming the parameter.
pub(crate) unsafe fn cstr<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::InvalidArgument(format!("{what} is NULL")));
    }
    CStr::from_ptr(p).to_str().map_err(|_| Error::InvalidArgument(format!("{what} is not valid UTF-8")))
}

/// Like `cstr`, NULL allowed (it means what the export documents).
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

/// Borrow `(buf, cap)` to write into. NULL is allowed only with cap 0.
pub(crate) unsafe fn bytes_mut<'a>(p: *mut u8, cap: usize, what: &str) -> Result<&'a mut [u8]> {
    if cap == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(Error::InvalidArgument(format!("{what} is NULL")));
    }
    Ok(std::slice::from_raw_parts_mut(p, cap))
}

/// Check an output pointer before doing any work.
pub(crate) fn need_out<T>(p: *mut T, what: &str) -> Result<()> {
    if p.is_null() {
        Err(Error::InvalidArgument(format!("{what} is NULL")))
    } else {
        Ok(())
    }
}

/// Write an optional output (`*p = v` unless `p` is NULL).
pub(crate) unsafe fn put<T>(p: *mut T, v: T) {
    if !p.is_null() {
        *p = v;
    }
}

/// A required C callback: NULL is `InvalidArgument` naming it.
pub(crate) fn need_fn<F>(f: Option<F>, what: &str) -> Result<F> {
    f.ok_or_else(|| Error::InvalidArgument(format!("{what} is NULL")))
}

/// C userdata plus its free function; freed exactly once when dropped.
pub(crate) struct UserData {
    ptr: *mut c_void,
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

/// A C callback and its userdata: the one way libhttpx calls into C. `call` calls
/// straight in, with no `catch_unwind`: a C function cannot unwind into Rust (an
/// unwind out of an `extern "C"` function aborts), so there is nothing to catch.
/// The panic boundary sits on calls *from* C (`run`, `run_val`, `free`).
pub(crate) struct CCallback<F: Copy> {
    f: F,
    ud: Arc<UserData>,
}

impl<F: Copy> CCallback<F> {
    /// Takes `userdata`: `free_fn` runs once when the last clone is dropped.
    pub fn new(f: F, userdata: *mut c_void, free_fn: httpx_free_fn) -> CCallback<F> {
        CCallback { f, ud: Arc::new(UserData::new(userdata, free_fn)) }
    }

    /// Call into C: `g` receives the function and the userdata pointer.
    pub fn call<R>(&self, g: impl FnOnce(F, *mut c_void) -> R) -> R {
        g(self.f, self.ud.ptr)
    }

    /// The userdata, for a handle that must keep it alive beyond the callback.
    pub fn userdata(&self) -> Arc<UserData> {
        self.ud.clone()
    }
}

impl<F: Copy> Clone for CCallback<F> {
    fn clone(&self) -> Self {
        CCallback { f: self.f, ud: self.ud.clone() }
    }
}

/// A callback's return code as a result: `HTTPX_OK` goes on, anything else aborts
/// with `HTTPX_E_CALLBACK` ("`what` returned N").
pub(crate) fn callback_result(rc: httpx_code, what: &str) -> Result<()> {
    if rc == HTTPX_OK {
        Ok(())
    } else {
        Err(Error::Callback(format!("{what} returned {rc}")))
    }
}

/// Release a callback registration that was given NULL for the function: the
/// userdata is taken and `free_fn` runs at once (the documented "NULL removes it").
pub(crate) fn release_userdata(userdata: *mut c_void, free_fn: httpx_free_fn) {
    drop(UserData::new(userdata, free_fn));
}

type ReadFn = unsafe extern "C" fn(*mut c_void, *mut u8, usize, *mut usize) -> httpx_code;

/// A C read callback as a `std::io::Read`.
pub(crate) struct CallbackReader(pub CCallback<ReadFn>);

impl std::io::Read for CallbackReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n: usize = 0;
        // SAFETY: buf is valid for buf.len() bytes; n is a valid out pointer.
        let rc = self.0.call(|f, ud| unsafe { f(ud, buf.as_mut_ptr(), buf.len(), &mut n) });
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
    run_val(c"INTERNAL".as_ptr(), || code::c_name(code).as_ptr())
}

/// 1 when `code` is a timeout (connect, read, write, pool, total), else 0.
#[no_mangle]
pub extern "C" fn httpx_code_is_timeout(code: httpx_code) -> i32 {
    crate::error::Group::Timeout.contains(code) as i32
}

/// Code of a detailed error; `HTTPX_E_INVALID_ARGUMENT` for NULL.
#[no_mangle]
pub unsafe extern "C" fn httpx_error_code(err: *const httpx_error) -> httpx_code {
    run_val(HTTPX_E_INTERNAL, || opt_ref(err).map_or(HTTPX_E_INVALID_ARGUMENT, |e| e.code))
}

/// Human-readable message of a detailed error: NUL-terminated, owned by `err`,
/// valid until `httpx_error_free(err)`. Never NULL ("" for a NULL `err`).
#[no_mangle]
pub unsafe extern "C" fn httpx_error_message(err: *const httpx_error) -> *const c_char {
    run_val(c"".as_ptr(), || opt_ref(err).map_or(c"".as_ptr(), |e| e.message.as_ptr()))
}

/// Free a detailed error. NULL is allowed. Any thread.
#[no_mangle]
pub unsafe extern "C" fn httpx_error_free(err: *mut httpx_error) {
    free(err)
}

/// Parse seconds from C: negative = no timeout, NaN = `InvalidArgument` (a NaN is a
/// caller's bug, not a request for "no timeout").
pub(crate) fn secs_checked(s: f64) -> crate::Result<Option<std::time::Duration>> {
    crate::types::Timeouts::secs_checked(s)
}

/// A C count where negative means "no limit".
pub(crate) fn limit<T: TryFrom<i64>>(v: i64) -> Option<T> {
    if v < 0 {
        None
    } else {
        T::try_from(v).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed header defines `HTTPX_E_<NAME> <value>` for every kind of the
    /// table in `src/error.rs` and no other (values are checked at compile time).
    #[test]
    fn header_lists_every_code() {
        let h = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/httpx.h")).unwrap();
        let mut defined: Vec<(String, u32)> = h
            .lines()
            .filter_map(|l| l.strip_prefix("#define HTTPX_E_"))
            .map(|r| {
                let mut it = r.split_whitespace();
                (it.next().unwrap().to_string(), it.next().unwrap().parse().unwrap())
            })
            .collect();
        defined.sort();
        let mut table: Vec<(String, u32)> = code::ALL.iter().map(|(v, n, _)| (n.to_string(), *v)).collect();
        table.sort();
        assert_eq!(defined, table);
        for (v, n, g) in code::ALL {
            assert_eq!(code::name(*v), *n);
            assert_eq!(code::c_name(*v).to_str().unwrap(), *n);
            assert_eq!(code::group(*v), Some(*g));
        }
        assert_eq!(code::c_name(HTTPX_OK), c"OK");
        assert_eq!(code::c_name(7), c"UNKNOWN");
    }

    #[test]
    fn outgoing_text_never_cut_short() {
        assert_eq!(to_cstring("a\0b").as_bytes(), b"a\\0b");
        assert_eq!(to_cstring("a\u{0}b").as_bytes(), b"a\\0b");
        assert_eq!(to_cstring("plain").as_bytes(), b"plain");
    }

    #[test]
    fn version_matches_cargo() {
        let v = format!("{HTTPX_VERSION_MAJOR}.{HTTPX_VERSION_MINOR}.{HTTPX_VERSION_PATCH}");
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
    }
}

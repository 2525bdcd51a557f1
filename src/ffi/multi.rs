//! `httpx_multi`: many requests from one thread (libcurl's multi interface).

use super::client::httpx_client;
use super::request::httpx_request;
use super::response::{httpx_response, ResponseHandle};
use super::*;
use crate::multi::Multi;

/// Many transfers of one client driven from the caller's thread, with no thread of
/// the library's own (libcurl's multi interface, HTTPX's AsyncClient). Opaque.
///
/// MANY REQUESTS FROM ONE THREAD
///
/// `httpx_multi_add` queues a send and returns at once; no I/O happens outside
/// `httpx_multi_perform`, which does the I/O that is ready and runs every callback
/// of the multi's transfers (auth flows, hooks, progress, debug and trace, body
/// readers, callback transports) on the calling thread. Wait for
/// `httpx_multi_fd` to become readable (poll/epoll, libuv, libevent, Ruby's
/// `IO.select`), at most `httpx_multi_timeout` seconds, then call `perform` again;
/// `httpx_multi_next` pops finished transfers (`httpx_completion`).
///
/// A transfer behaves as `httpx_client_send` would: the client's configuration,
/// cookies and pool; merging, redirects, Basic/Digest/custom auth, hooks, proxies
/// (HTTP, CONNECT, SOCKS4/4a/5), TLS, Unix sockets, pool limits (a transfer that
/// finds the pool full waits in a queue, within the pool timeout), every timeout
/// including the total one, the body cap and cancel tokens. The response arrives with
/// its body read. HTTP/2 (`httpx_client_config_set_http2`): the multi's transfers to
/// one https origin are streams multiplexed on one HTTP/2 connection, driven inside
/// `perform` like everything else (no thread); that connection is the multi's own
/// (it holds one slot of the client's pool until the server closes it or the multi is
/// freed).
///
/// CALLS THAT BLOCK THE LOOP: every callback of a transfer runs synchronously inside
/// `perform`, so one that waits stalls every transfer of the multi until it returns.
/// That includes a request body reader (`httpx_request_set_body_reader`), which is
/// called inside `perform` whenever the connection can take more of the body: a reader
/// that blocks (on a pipe, a socket, a slow disk, a lock) blocks the loop. Give a
/// multi's transfers readers that answer at once (data in memory or a local file), or
/// send such a request with `httpx_client_send` on a thread of your own. The same
/// holds for auth flows, hooks, progress, debug and trace callbacks and callback
/// transports. A Unix-socket connect (`httpx_transport_http_set_uds`) does not block:
/// a listener whose backlog is full is retried on the multi's timer (1 to 50 ms apart)
/// within the connect timeout.
///
/// DNS: IP literals and names in /etc/hosts are resolved inside `perform`; other
/// names by `getaddrinfo` on a short helper thread whose answer wakes the multi's fd
/// (no callback ever runs there), as libcurl's threaded resolver. At most 4 such
/// threads run per process (more names wait in a queue, their time counted against the
/// connect timeout), and identical names in flight share one lookup.
///
/// Threads: a multi belongs to one thread at a time (it may move between threads
/// between calls; never call two of its functions at once). Its client stays
/// thread-safe: blocking sends on other threads share the pool. Free the multi
/// before its client; a multi whose client was closed fails its transfers with
/// `HTTPX_E_CLIENT_CLOSED`. From inside one of the multi's callbacks, calling any
/// `httpx_multi_*` function on that same multi, or sending on its client, is
/// `HTTPX_E_RECURSIVE_CALL` (the multi is in use; another multi or client is fine).
pub struct httpx_multi {
    _private: [u8; 0],
}

impl Castable for httpx_multi {
    type Ownership = OwnedBox;
    type RustType = Multi;
}

/// A finished transfer of a multi (opaque): its tag, its result code, the error
/// message and the response. Owned by the caller; free with `httpx_completion_free`.
pub struct httpx_completion {
    _private: [u8; 0],
}

/// What an `httpx_completion *` points at.
pub(crate) struct CompletionValue {
    tag: u64,
    code: httpx_code,
    error: Option<ErrorValue>,
    response: Option<crate::response::Response>,
}

impl Castable for httpx_completion {
    type Ownership = OwnedBox;
    type RustType = CompletionValue;
}

thread_local! {
    /// Multis whose `httpx_multi_perform` runs on this thread (their callbacks are
    /// running): any other call on one of them from inside a callback is refused
    /// before its handle is touched.
    static PERFORMING: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn performing(m: *const httpx_multi) -> bool {
    PERFORMING.with(|p| p.borrow().contains(&(m as usize)))
}

fn not_inside(m: *const httpx_multi) -> crate::Result<()> {
    if performing(m) {
        return Err(Error::RecursiveCall(
            "a callback of this multi's transfer called the multi itself (from inside httpx_multi_perform)".into(),
        ));
    }
    Ok(())
}

/// New multi for `client`'s transfers; writes `*out` on success (free with
/// `httpx_multi_free`). Costs two file descriptors (an epoll fd and an eventfd).
/// The client is not consumed and must outlive the multi. Any thread (the multi
/// then belongs to it until handed on).
#[no_mangle]
pub unsafe extern "C" fn httpx_multi_new(client: *const httpx_client, out: *mut *mut httpx_multi) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(out, "out")?;
        let c = try_ref(client, "client")?;
        *out = to_box(Multi::new(c)?);
        Ok(())
    })
}

/// Free a multi. Transfers still in flight are dropped: their connections are
/// closed (never pooled), their completions never appear, their request copies and
/// callbacks' userdata references are released. Completions already popped with
/// `httpx_multi_next` stay valid (they are the caller's). NULL allowed. The thread
/// the multi belongs to; from inside one of the multi's own callbacks it does
/// nothing (the multi is in use).
#[no_mangle]
pub unsafe extern "C" fn httpx_multi_free(m: *mut httpx_multi) {
    if performing(m) {
        return; // from inside its own callback: refused (see above)
    }
    free(m)
}

/// Queue a send of a copy of `req` (with its send options: `httpx_request_set_auth`,
/// `_set_follow_redirects`, its cancel token) under `tag` (any value; it comes back
/// in the completion; `httpx_multi_cancel` cancels by it). Returns at once: nothing
/// is sent before `httpx_multi_perform`. `req` stays the caller's (a streamed body's
/// reader is shared with the copy, as with `httpx_client_send`). A streamed body's
/// reader is called inside `httpx_multi_perform`, on that thread, synchronously: a
/// reader that blocks stalls every transfer of the multi until it returns (see "CALLS
/// THAT BLOCK THE LOOP" at `httpx_multi`). NULL `m` or `req`:
/// `HTTPX_E_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn httpx_multi_add(
    m: *mut httpx_multi,
    req: *const httpx_request,
    tag: u64,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || {
        not_inside(m)?;
        let m = try_mut(m, "m")?;
        let r = try_ref(req, "req")?;
        m.add_with(r.get(), r.send.clone(), tag)
    })
}

/// Do the I/O that is ready, waiting up to `timeout_seconds` for some (0 = do not
/// wait; negative = until something happens). Every callback of the multi's
/// transfers runs inside this call, on the calling thread. Writes the number of
/// transfers not yet complete to `*running_out` (may be NULL). An error here is the
/// multi's own (e.g. `HTTPX_E_RECURSIVE_CALL`); a transfer's failure comes in its
/// completion. NaN: `HTTPX_E_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn httpx_multi_perform(
    m: *mut httpx_multi,
    timeout_seconds: f64,
    running_out: *mut u32,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        not_inside(m)?;
        let key = m as usize;
        let m = try_mut(m, "m")?;
        if timeout_seconds.is_nan() {
            return Err(Error::InvalidArgument("timeout_seconds is NaN".into()));
        }
        let t = if timeout_seconds < 0.0 {
            None
        } else {
            Some(std::time::Duration::from_secs_f64(timeout_seconds.min(1e9)))
        };
        struct Mark(usize);
        impl Drop for Mark {
            fn drop(&mut self) {
                PERFORMING.with(|p| {
                    let mut p = p.borrow_mut();
                    if let Some(i) = p.iter().rposition(|x| *x == self.0) {
                        p.remove(i);
                    }
                });
            }
        }
        PERFORMING.with(|p| p.borrow_mut().push(key));
        let _mark = Mark(key);
        let n = m.perform(t)?;
        if !running_out.is_null() {
            *running_out = n;
        }
        Ok(())
    })
}

/// The multi's file descriptor: readable whenever `httpx_multi_perform` has work.
/// For poll/epoll (POLLIN), libuv (`uv_poll_t`), libevent or Ruby's `IO.select`.
/// Owned by the multi: never read, write or close it. -1 for NULL (and from inside
/// the multi's own callbacks).
#[no_mangle]
pub unsafe extern "C" fn httpx_multi_fd(m: *const httpx_multi) -> i32 {
    run_val(-1, || if performing(m) { -1 } else { opt_ref(m).map_or(-1, |m| m.fd()) })
}

/// The longest the caller may wait (for the fd) before the next
/// `httpx_multi_perform`, in seconds: 0 when work is pending, -1 when there is no
/// timer (wait for the fd alone). NULL `m` or `seconds_out`:
/// `HTTPX_E_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn httpx_multi_timeout(m: *const httpx_multi, seconds_out: *mut f64) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(seconds_out, "seconds_out")?;
        not_inside(m)?;
        let m = try_ref(m, "m")?;
        *seconds_out = match m.timeout() {
            None => -1.0,
            Some(d) => d.as_secs_f64(),
        };
        Ok(())
    })
}

/// Pop a finished transfer: `HTTPX_OK` with `*out` set to the completion (the
/// caller's; free with `httpx_completion_free`), or `HTTPX_OK` with `*out = NULL`
/// when none has finished. NULL `m` or `out`: `HTTPX_E_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn httpx_multi_next(m: *mut httpx_multi, out: *mut *mut httpx_completion) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(out, "out")?;
        not_inside(m)?;
        let m = try_mut(m, "m")?;
        *out = match m.next() {
            None => std::ptr::null_mut(),
            Some(c) => {
                let (code, error, response) = match c.result {
                    Ok(r) => (HTTPX_OK, None, Some(r)),
                    Err(e) => {
                        let code = e.code();
                        (code, Some(ErrorValue::of(&e)), None)
                    }
                };
                to_box(CompletionValue { tag: c.tag, code, error, response })
            }
        };
        Ok(())
    })
}

/// Cancel the transfers tagged `tag` (a request's own cancel token works too):
/// their connections are closed, never pooled, and each completes at once with
/// `HTTPX_E_CANCELLED`. No transfer with that tag (finished already, or never
/// added) is not an error. NULL `m`: `HTTPX_E_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn httpx_multi_cancel(m: *mut httpx_multi, tag: u64) -> httpx_code {
    run(std::ptr::null_mut(), || {
        not_inside(m)?;
        try_mut(m, "m")?.cancel(tag);
        Ok(())
    })
}

/// The tag given to `httpx_multi_add` (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn httpx_completion_tag(c: *const httpx_completion) -> u64 {
    run_val(0, || opt_ref(c).map_or(0, |c| c.tag))
}

/// The transfer's own result: `HTTPX_OK`, or what `httpx_client_send` would have
/// returned (`HTTPX_E_CANCELLED` after `httpx_multi_cancel`). NULL:
/// `HTTPX_E_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn httpx_completion_code(c: *const httpx_completion) -> httpx_code {
    run_val(HTTPX_E_INTERNAL, || opt_ref(c).map_or(HTTPX_E_INVALID_ARGUMENT, |c| c.code))
}

/// The transfer's error (borrowed: valid until `httpx_completion_free`; do not free
/// it), or NULL on success (and for NULL `c`).
#[no_mangle]
pub unsafe extern "C" fn httpx_completion_error(c: *const httpx_completion) -> *const httpx_error {
    run_val(std::ptr::null(), || {
        opt_ref(c).and_then(|c| c.error.as_ref()).map_or(std::ptr::null(), |e| to_c::<httpx_error>(e))
    })
}

/// Take the response (its body read) out of a successful completion: `*out` is now
/// the caller's (free with `httpx_response_free`). A second call, or a failed
/// transfer: `HTTPX_E_INVALID_ARGUMENT` (`*out` untouched). NULL `c` or `out`:
/// `HTTPX_E_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn httpx_completion_take_response(
    c: *mut httpx_completion,
    out: *mut *mut httpx_response,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(out, "out")?;
        let c = try_mut(c, "c")?;
        let r = c.response.take().ok_or_else(|| {
            Error::InvalidArgument(if c.code == HTTPX_OK {
                "the completion's response was already taken".into()
            } else {
                "the transfer failed: it has no response (see httpx_completion_error)".into()
            })
        })?;
        *out = to_box::<httpx_response>(ResponseHandle::owned(r));
        Ok(())
    })
}

/// Free a completion (and its response, if not taken). NULL allowed. Any thread.
#[no_mangle]
pub unsafe extern "C" fn httpx_completion_free(c: *mut httpx_completion) {
    free(c)
}

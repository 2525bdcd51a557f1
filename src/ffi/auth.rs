//! `httpx_auth`: Basic, Digest, .netrc and custom multi-step flows.
//!
//! An auth object is reference-counted: configs and requests keep their own
//! reference, so the caller may free its handle right after setting it.

use std::ffi::{c_char, c_void};
use std::path::Path;
use std::sync::Arc;

use super::handle::{Borrowed, Castable, OwnedArc};
use super::request::{httpx_request, RequestHandle};
use super::response::{httpx_response, ResponseHandle};
use super::*;
use crate::auth::{Auth, AuthFlow, FlowAction, FlowStep};

/// An authentication scheme (opaque). Thread-safe: one may serve many clients.
pub struct httpx_auth {
    _private: [u8; 0],
}

impl Castable for httpx_auth {
    type Ownership = OwnedArc;
    type RustType = Auth;
}

/// The state of one step of a custom auth flow (opaque); valid during the call.
pub struct httpx_auth_flow {
    _private: [u8; 0],
}

/// What an `httpx_auth_flow *` points at (lent to the flow callback).
pub(crate) struct FlowState {
    request: *mut httpx_request,
    response: *mut httpx_response,
    queued: Option<crate::Request>,
    step: u32,
}

impl Castable for httpx_auth_flow {
    type Ownership = Borrowed;
    type RustType = FlowState;
}

/// Custom flow flag: read a streamed request body into memory before the flow runs,
/// so `httpx_request_body` works in the callback.
pub const HTTPX_AUTH_REQUIRES_REQUEST_BODY: u32 = 1;
/// Custom flow flag: read each response body before calling the flow, so
/// `httpx_response_body` works in the callback.
pub const HTTPX_AUTH_REQUIRES_RESPONSE_BODY: u32 = 2;

/// Flow callback return: send (the queued request, else the request).
pub const HTTPX_AUTH_SEND: u32 = 0;
/// Flow callback return: stop; the last response is the result.
pub const HTTPX_AUTH_DONE: u32 = 1000;

/// A custom auth flow step (HTTPX `Auth.auth_flow`): called first with no response,
/// then once per response. Return `HTTPX_AUTH_SEND`, `HTTPX_AUTH_DONE`, or any other
/// value to abort the send with `HTTPX_E_CALLBACK`. Runs on the sending thread;
/// may run concurrently on several threads for one client.
pub type httpx_auth_fn = Option<unsafe extern "C" fn(userdata: *mut c_void, flow: *mut httpx_auth_flow) -> u32>;

fn emit(auth: Auth, out: *mut *mut httpx_auth) -> crate::Result<()> {
    need_out(out, "auth_out")?;
    // SAFETY: checked non-NULL above.
    unsafe { *out = to_arc::<httpx_auth>(Arc::new(auth)) as *mut httpx_auth };
    Ok(())
}

/// Basic auth (HTTPX `auth=(user, pass)`). CR/LF/NUL or ':' in the user name:
/// `HTTPX_E_INVALID_ARGUMENT`. Writes `*auth_out`; free with `httpx_auth_free`.
#[no_mangle]
pub unsafe extern "C" fn httpx_auth_basic(
    user: *const c_char,
    pass: *const c_char,
    auth_out: *mut *mut httpx_auth,
) -> httpx_code {
    run(std::ptr::null_mut(), || emit(Auth::basic(cstr(user, "user")?, cstr(pass, "pass")?)?, auth_out))
}

/// Digest auth (RFC 7616/2617: MD5, SHA-256, SHA-512-256 and -sess variants, qop
/// auth and auth-int). The challenge is remembered per origin, so after the first
/// 401 later requests are authenticated without a round trip.
#[no_mangle]
pub unsafe extern "C" fn httpx_auth_digest(
    user: *const c_char,
    pass: *const c_char,
    auth_out: *mut *mut httpx_auth,
) -> httpx_code {
    run(std::ptr::null_mut(), || emit(Auth::digest(cstr(user, "user")?, cstr(pass, "pass")?)?, auth_out))
}

/// Basic auth with credentials for the request's host from a .netrc file: `path`,
/// or NULL for $NETRC, then ~/.netrc, then ~/_netrc. The file is read now: missing
/// or malformed is `HTTPX_E_IO` with the line number.
#[no_mangle]
pub unsafe extern "C" fn httpx_auth_netrc(
    path: *const c_char,
    auth_out: *mut *mut httpx_auth,
    err: *mut *mut httpx_error,
) -> httpx_code {
    run(err, || {
        need_out(auth_out, "auth_out")?;
        let p = opt_cstr(path, "path")?;
        emit(Auth::netrc(p.map(Path::new))?, auth_out)
    })
}

type FlowFn = unsafe extern "C" fn(*mut c_void, *mut httpx_auth_flow) -> u32;

struct CFlow {
    cb: CCallback<FlowFn>,
    flags: u32,
}

impl AuthFlow for CFlow {
    fn requires_request_body(&self) -> bool {
        self.flags & HTTPX_AUTH_REQUIRES_REQUEST_BODY != 0
    }

    fn requires_response_body(&self) -> bool {
        self.flags & HTTPX_AUTH_REQUIRES_RESPONSE_BODY != 0
    }

    fn step(&self, s: &mut FlowStep<'_>) -> crate::Result<FlowAction> {
        let mut req = RequestHandle::borrowed(s.request);
        let mut resp = s.response.as_deref_mut().map(ResponseHandle::borrowed);
        let mut flow = FlowState {
            request: to_c_mut(&mut req),
            response: resp.as_mut().map_or(std::ptr::null_mut(), to_c_mut),
            queued: None,
            step: s.step,
        };
        // SAFETY: a C function given by the caller; `flow`, `req`, `resp` outlive the call.
        let rc = self.cb.call(|f, ud| unsafe { f(ud, to_c_mut(&mut flow)) });
        s.queued = flow.queued.take();
        match rc {
            HTTPX_AUTH_SEND => Ok(FlowAction::Send),
            HTTPX_AUTH_DONE => Ok(FlowAction::Done),
            other => Err(crate::Error::Callback(format!("auth flow callback returned {other}"))),
        }
    }
}

/// A custom multi-step auth flow from a C callback. `flags`: a mask of
/// `HTTPX_AUTH_REQUIRES_*`. On success takes `userdata`: `free_fn` (may be NULL)
/// runs exactly once, when the last reference to the auth is gone. On error nothing
/// is taken and `free_fn` is not called. Steps are capped at 16.
#[no_mangle]
pub unsafe extern "C" fn httpx_auth_custom(
    flow_fn: httpx_auth_fn,
    flags: u32,
    userdata: *mut c_void,
    free_fn: httpx_free_fn,
    auth_out: *mut *mut httpx_auth,
) -> httpx_code {
    run(std::ptr::null_mut(), || {
        need_out(auth_out, "auth_out")?;
        let cb = need_fn(flow_fn, "flow_fn")?;
        if flags & !(HTTPX_AUTH_REQUIRES_REQUEST_BODY | HTTPX_AUTH_REQUIRES_RESPONSE_BODY) != 0 {
            return Err(crate::Error::InvalidArgument(format!("unknown auth flags {flags:#x}")));
        }
        emit(Auth::Custom(Box::new(CFlow { cb: CCallback::new(cb, userdata, free_fn), flags })), auth_out)
    })
}

/// Free an auth handle. NULL allowed. Configs and requests that use it keep it.
#[no_mangle]
pub unsafe extern "C" fn httpx_auth_free(auth: *mut httpx_auth) {
    free(auth)
}

/// The request being authenticated; edits (headers...) stick for later steps.
/// Valid during the callback only.
#[no_mangle]
pub unsafe extern "C" fn httpx_auth_flow_request(flow: *mut httpx_auth_flow) -> *mut httpx_request {
    run_val(std::ptr::null_mut(), || opt_ref(flow).map_or(std::ptr::null_mut(), |f| f.request))
}

/// The response to the last request sent, or NULL on the first call. Valid during
/// the callback only.
#[no_mangle]
pub unsafe extern "C" fn httpx_auth_flow_response(flow: *mut httpx_auth_flow) -> *mut httpx_response {
    run_val(std::ptr::null_mut(), || opt_ref(flow).map_or(std::ptr::null_mut(), |f| f.response))
}

/// 0 on the first call, then 1, 2, ...
#[no_mangle]
pub unsafe extern "C" fn httpx_auth_flow_step(flow: *const httpx_auth_flow) -> u32 {
    run_val(0, || opt_ref(flow).map_or(0, |f| f.step))
}

/// Send `next` (copied; the caller keeps and frees it) at this step instead of the
/// request, e.g. a token refresh; return `HTTPX_AUTH_SEND` after calling this. Its
/// response is passed to the next call.
#[no_mangle]
pub unsafe extern "C" fn httpx_auth_flow_send(flow: *mut httpx_auth_flow, next: *const httpx_request) -> httpx_code {
    run(std::ptr::null_mut(), || {
        let f = try_mut(flow, "flow")?;
        let n = try_ref(next, "next")?;
        f.queued = Some(n.get().clone());
        Ok(())
    })
}

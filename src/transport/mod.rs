//! Transports: what actually answers a request. The pooled network transport
//! (`http::HttpTransport`) is the default; C code can answer requests itself with a
//! callback transport, and clients can mount different transports per URL pattern.

pub mod callback;
pub mod http;

use std::time::Instant;

use crate::deadline::Guard;
use crate::error::Result;
use crate::observe::Observers;
use crate::request::Request;
use crate::response::Response;
use crate::types::{HeadLimits, Timeouts};

/// Per-send settings handed to a transport.
#[derive(Clone)]
pub struct SendContext {
    pub timeouts: Timeouts,
    pub head_limits: HeadLimits,
    pub started: Instant,
    pub observers: Observers,
    /// Total deadline and cancel token of this send (every hop, every body read).
    pub guard: Guard,
}

/// Something that turns a request into a response (HTTPX `BaseTransport`).
/// Implementations must be thread-safe: one transport serves every thread of every
/// client it is mounted in.
pub trait Transport: Send + Sync {
    /// Send `req` (already prepared by the client) and return once the response head
    /// is in. The body is read through the returned response, which owns the
    /// request as sent.
    fn handle(&self, req: Request, ctx: &SendContext) -> Result<Response>;

    /// Close pooled resources. Further requests may fail with `ClientClosed`.
    fn close(&self) {}

    /// The network transport behind this one, if it is one: the multi drives
    /// `HttpTransport`'s connector chain and pool itself, and calls every other
    /// transport (callback, custom) synchronously through `handle`.
    fn as_http(&self) -> Option<&http::HttpTransport> {
        None
    }
}

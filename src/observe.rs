//! Progress and trace callbacks (what libcurl users expect beyond HTTPX):
//! progress reports bytes sent and received with totals when known, and can abort;
//! trace reports connection and exchange milestones with timings.

use std::sync::Arc;
use std::time::Duration;

/// Milestones of one exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceEvent {
    /// A new connection is being opened (TCP, proxy, Unix socket).
    ConnectStart,
    /// The new connection is established (TLS included).
    Connected,
    /// An idle pooled connection is reused.
    ConnectionReused,
    /// The TLS handshake finished.
    TlsDone,
    /// The request head and body were written.
    RequestSent,
    /// The response head arrived.
    HeadersReceived,
    /// The response body was read to the end.
    BodyDone,
    /// The send (or reading its body) failed; the detail is the error message.
    Failed,
}

impl TraceEvent {
    /// Stable numeric value (C `HTTPX_TRACE_*`).
    pub fn code(self) -> u32 {
        match self {
            TraceEvent::ConnectStart => 1,
            TraceEvent::Connected => 2,
            TraceEvent::ConnectionReused => 3,
            TraceEvent::TlsDone => 4,
            TraceEvent::RequestSent => 5,
            TraceEvent::HeadersReceived => 6,
            TraceEvent::BodyDone => 7,
            TraceEvent::Failed => 8,
        }
    }
}

/// Trace callback: event, time since the send started, a short detail (host:port,
/// status...).
pub type TraceFn = Arc<dyn Fn(TraceEvent, Duration, &str) + Send + Sync>;

/// Progress callback: (bytes sent, send total if known, bytes received, receive
/// total if known). Return false to abort the transfer (`Callback` error).
pub type ProgressFn = Arc<dyn Fn(u64, Option<u64>, u64, Option<u64>) -> bool + Send + Sync>;

/// Observers attached to a send.
#[derive(Clone, Default)]
pub struct Observers {
    pub trace: Option<TraceFn>,
    pub progress: Option<ProgressFn>,
    /// The debug hook (see `crate::debug`).
    pub debug: Option<crate::debug::DebugFn>,
}

impl Observers {
    pub fn trace(&self, ev: TraceEvent, since: Duration, detail: &str) {
        if let Some(t) = &self.trace {
            t(ev, since, detail);
        }
    }

    /// Pass bytes to the debug hook, if any.
    #[inline]
    pub fn debug(&self, kind: crate::debug::DebugKind, data: &[u8]) {
        if let Some(d) = &self.debug {
            d(kind, data);
        }
    }

    /// A TEXT line for the debug hook, formatted only when a hook is set.
    #[inline]
    pub fn debug_text(&self, line: impl FnOnce() -> String) {
        if let Some(d) = &self.debug {
            d(crate::debug::DebugKind::Text, line().as_bytes());
        }
    }

    /// Report a failed send to the trace callback and the debug hook.
    pub fn failed(&self, since: Duration, e: &crate::error::Error) {
        if self.trace.is_some() || self.debug.is_some() {
            let msg = e.to_string();
            self.trace(TraceEvent::Failed, since, &msg);
            self.debug_text(|| format!("failed: {msg}"));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.trace.is_none() && self.progress.is_none()
    }
}

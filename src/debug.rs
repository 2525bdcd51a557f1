//! The debug hook (libcurl's CURLOPT_DEBUGFUNCTION / CURLOPT_VERBOSE).
//!
//! A hook receives what passes on the wire, on the sending thread:
//! - `Text`: one human-readable line (connecting, connected, reusing, TLS version,
//!   cipher and ALPN, proxy, redirect, retry, closing, failures), no line ending;
//! - `HeaderOut` / `HeaderIn`: a request / response head exactly as written / read
//!   (every line with its CRLF, the blank line included); HTTP/2 heads are rendered as
//!   HTTP/1.1-style text (`GET /path HTTP/2`, `Host:` for `:authority`, `HTTP/2 200`);
//! - `DataOut` / `DataIn`: body bytes as they pass (request body before transfer
//!   framing; response body after de-chunking, before content decoding).
//!
//! With no hook set nothing is formatted or copied: every capture point is one
//! `Option` test.
//!
//! The environment switch (read only when `trust_env` is on, at client creation):
//! `HTTPX_DEBUG=1` (any value but empty, `0`, `false`, `no`, `off`) prints TEXT and head
//! events to stderr in `curl -v`'s style (`* ` text, `> ` sent head, `< ` received
//! head). `HTTPX_LOG_LEVEL=debug` or `trace`, the variable HTTPX itself read before it
//! moved to Python's `logging`, does the same. Body bytes are never printed.

use std::io::Write;
use std::sync::Arc;

use crate::headers::Headers;

/// What a debug event carries. Values follow libcurl's `curl_infotype`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DebugKind {
    Text,
    HeaderIn,
    HeaderOut,
    DataIn,
    DataOut,
}

impl DebugKind {
    /// Stable numeric value (C `HTTPX_DEBUG_*`, same as libcurl's CURLINFO_*).
    pub fn code(self) -> u32 {
        match self {
            DebugKind::Text => 0,
            DebugKind::HeaderIn => 1,
            DebugKind::HeaderOut => 2,
            DebugKind::DataIn => 3,
            DebugKind::DataOut => 4,
        }
    }
}

/// A debug hook: kind and bytes (valid only during the call).
pub type DebugFn = Arc<dyn Fn(DebugKind, &[u8]) + Send + Sync>;

/// Is the environment switch on? (`HTTPX_DEBUG`, or `HTTPX_LOG_LEVEL=debug|trace`.)
pub fn env_enabled(get: &dyn Fn(&str) -> Option<String>) -> bool {
    if let Some(v) = get("HTTPX_DEBUG") {
        let v = v.trim().to_ascii_lowercase();
        if !v.is_empty() && !matches!(v.as_str(), "0" | "false" | "no" | "off") {
            return true;
        }
    }
    matches!(get("HTTPX_LOG_LEVEL").map(|v| v.trim().to_ascii_lowercase()).as_deref(), Some("debug" | "trace"))
}

/// Format one event the way `curl -v` prints it; None for body bytes.
pub fn curl_style(kind: DebugKind, data: &[u8]) -> Option<Vec<u8>> {
    let prefix: &[u8] = match kind {
        DebugKind::Text => b"* ",
        DebugKind::HeaderOut => b"> ",
        DebugKind::HeaderIn => b"< ",
        DebugKind::DataIn | DebugKind::DataOut => return None,
    };
    let mut out = Vec::with_capacity(data.len() + 16);
    let text = data.strip_suffix(b"\n").unwrap_or(data);
    for line in text.split(|b| *b == b'\n') {
        out.extend_from_slice(prefix);
        out.extend_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
        out.push(b'\n');
    }
    Some(out)
}

/// A hook printing TEXT and heads to stderr in `curl -v`'s style.
pub fn stderr_printer() -> DebugFn {
    Arc::new(|kind, data| {
        if let Some(out) = curl_style(kind, data) {
            let _ = std::io::stderr().lock().write_all(&out);
        }
    })
}

/// The hook a client uses: the configured one, plus the stderr printer when the
/// environment switch is on and `trust_env` is set.
pub fn with_env(configured: Option<DebugFn>, trust_env: bool) -> Option<DebugFn> {
    if !trust_env || !env_enabled(&|k| std::env::var(k).ok()) {
        return configured;
    }
    let printer = stderr_printer();
    Some(match configured {
        None => printer,
        Some(user) => Arc::new(move |k, d| {
            printer(k, d);
            user(k, d);
        }),
    })
}

/// An HTTP/2 request head as HTTP/1.1-style text: `GET /path HTTP/2`, `Host:` from
/// `:authority`, then the header fields that went out.
pub fn render_h2_request(method: &str, url: &url::Url, headers: &Headers, skipped: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(crate::urls::request_target(url).as_bytes());
    out.extend_from_slice(b" HTTP/2\r\nHost: ");
    out.extend_from_slice(crate::urls::host_header(url).as_bytes());
    out.extend_from_slice(b"\r\n");
    for (n, v) in headers.iter() {
        if skipped.iter().any(|h| n.eq_ignore_ascii_case(h)) {
            continue;
        }
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// An HTTP/2 response head as HTTP/1.1-style text: `HTTP/2 200`, then the fields.
pub fn render_h2_response(status: u16, headers: &Headers) -> Vec<u8> {
    let mut out = format!("HTTP/2 {status}\r\n").into_bytes();
    for (n, v) in headers.iter() {
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// A request body reader that passes every chunk read to the debug hook.
pub struct DebugReader {
    pub inner: Box<dyn std::io::Read + Send>,
    pub hook: DebugFn,
}

impl std::io::Read for DebugReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            (self.hook)(DebugKind::DataOut, &buf[..n]);
        }
        Ok(n)
    }
}

/// Wrap a streamed request body so the hook sees it; in-memory bodies are reported
/// once they are written (`report_bytes_out`).
pub fn wrap_body(hook: &Option<DebugFn>, body: &mut crate::request::BodySource) {
    if let (Some(h), crate::request::BodySource::Reader(r)) = (hook, body) {
        let inner = std::mem::replace(r, Box::new(std::io::empty()));
        *r = Box::new(DebugReader { inner, hook: h.clone() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_switch_values() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        assert!(env_enabled(&env(&[("HTTPX_DEBUG", "1")])));
        assert!(env_enabled(&env(&[("HTTPX_DEBUG", "yes")])));
        assert!(!env_enabled(&env(&[("HTTPX_DEBUG", "0")])));
        assert!(!env_enabled(&env(&[("HTTPX_DEBUG", "")])));
        assert!(!env_enabled(&env(&[("HTTPX_DEBUG", "off")])));
        assert!(env_enabled(&env(&[("HTTPX_LOG_LEVEL", "TRACE")])));
        assert!(env_enabled(&env(&[("HTTPX_LOG_LEVEL", "debug")])));
        assert!(!env_enabled(&env(&[("HTTPX_LOG_LEVEL", "info")])));
        assert!(!env_enabled(&env(&[])));
    }

    #[test]
    fn curl_style_prefixes() {
        assert_eq!(curl_style(DebugKind::Text, b"Connected").unwrap(), b"* Connected\n");
        assert_eq!(
            curl_style(DebugKind::HeaderOut, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap(),
            b"> GET / HTTP/1.1\n> Host: a\n> \n"
        );
        assert_eq!(curl_style(DebugKind::HeaderIn, b"HTTP/1.1 200 OK\r\n\r\n").unwrap(), b"< HTTP/1.1 200 OK\n< \n");
        assert!(curl_style(DebugKind::DataIn, b"x").is_none());
    }
}

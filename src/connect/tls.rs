//! Chain step: TLS to the origin, over whatever the earlier steps left (TCP, a Unix
//! socket, a CONNECT or SOCKS tunnel, or a tunnel inside TLS to an https:// proxy).
//!
//! HTTP/1.1 runs over the library's blocking rustls stream. When HTTP/2 is offered
//! (ALPN "h2") the handshake runs in the HTTP/2 runtime instead (tokio-rustls), which
//! needs the plain TCP socket under the tunnel; over TLS to an https:// proxy or a
//! Unix socket HTTP/2 is not offered.

use std::time::Instant;

use crate::types::HeadLimits;
use crate::connection::Stream;
use crate::deadline::Guard;
use crate::error::{Error, Result};
use crate::http2::H2Conn;
use crate::tls::TlsConnector;

/// TLS for HTTP/1.1 over `stream`, within `deadline`. The handshake reads and writes
/// through the guarded socket: a fire or the total deadline interrupts it too.
pub fn handshake(
    tls: &TlsConnector,
    host: &str,
    mut stream: Stream,
    deadline: Option<Instant>,
    guard: &Guard,
) -> Result<Stream> {
    stream.set_guard(guard);
    tls.handshake(host, stream, deadline).map_err(|e| guard.classify(e))
}

/// TLS offering h2 and then the HTTP/2 handshake over the TCP socket of `stream`.
/// Ok(None) when the server chose HTTP/1.1 (the connection is closed then). Response
/// heads on the connection are capped by `limits`.
pub fn handshake_h2(
    tls: &TlsConnector,
    host: &str,
    port: u16,
    stream: Stream,
    deadline: Option<Instant>,
    guard: &Guard,
    limits: &HeadLimits,
) -> Result<Option<H2Conn>> {
    let tcp = stream.into_tcp().ok_or_else(|| Error::Internal("HTTP/2 needs a TCP socket".into()))?;
    H2Conn::handshake(tcp, host, port, tls, deadline, guard, limits).map_err(|e| guard.classify(e))
}

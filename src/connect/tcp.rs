//! Chain step: a TCP connection to a host (the origin, or the first proxy).
//!
//! Every resolved address is tried in turn within what is left of the connect
//! deadline; TCP_NODELAY is set; an optional local address is bound first. The send's
//! cancel token and total deadline stop the resolution and the connect.

use std::net::SocketAddr;
use std::time::Instant;

use crate::connection::{self, remaining, Stream};
use crate::deadline::Guard;
use crate::error::{Error, Result};

/// Connect to `host:port` by TCP, within `deadline`.
pub fn connect(
    host: &str,
    port: u16,
    deadline: Option<Instant>,
    local: Option<SocketAddr>,
    guard: &Guard,
) -> Result<Stream> {
    let left = remaining(deadline, || Error::ConnectTimeout(format!("connecting to {host}:{port}")))?;
    let mut s = connection::connect_tcp_stream(host, port, left, local, guard)?;
    s.set_guard(guard);
    Ok(s)
}

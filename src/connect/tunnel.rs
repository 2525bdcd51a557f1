//! Chain step: an HTTP CONNECT tunnel through an http:// or https:// proxy (the
//! request and reply are in `proxy::tunnel`). Forwarding proxies (absolute-form
//! requests, no tunnel) skip this step.

use crate::connection::Stream;
use crate::error::Result;
use crate::proxy::{tunnel, ProxyConfig};

/// `CONNECT host:port` over `stream` (the connection to the proxy), with the proxy's
/// credentials. On success the stream is a tunnel to the target.
pub fn handshake(p: &ProxyConfig, stream: &mut Stream, host: &str, port: u16) -> Result<()> {
    tunnel::connect_tunnel(stream, host, port, p.authorization.as_deref(), &[])
}

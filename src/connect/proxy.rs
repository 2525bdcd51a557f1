//! Chain step: the first hop to a proxy. TCP to the proxy (failures are `Proxy`
//! errors), TLS to an https:// proxy, then the proxy's own handshake (SOCKS or
//! CONNECT, see `socks.rs` and `tunnel.rs`) bounded as a whole by the connect deadline.

use std::net::SocketAddr;
use std::time::Instant;

use crate::connection::{remaining, Stream};
use crate::deadline::Guard;
use crate::error::{Error, Result};
use crate::proxy::{ProxyConfig, ProxyKind};
use crate::tls::TlsConnector;

use super::{socks, tcp, tunnel};

/// Connect to the proxy `p` and, for tunnels, open the tunnel to `host:port`. The
/// returned stream then carries the request (forwarding) or the TLS handshake and
/// request to the target (tunnel).
#[allow(clippy::too_many_arguments)]
pub fn connect(
    p: &ProxyConfig,
    proxy_tls: &TlsConnector,
    host: &str,
    port: u16,
    https_target: bool,
    deadline: Option<Instant>,
    local: Option<SocketAddr>,
    guard: &Guard,
) -> Result<Stream> {
    let to = || remaining(deadline, || Error::ConnectTimeout(format!("connecting to proxy {}:{}", p.host, p.port)));
    to()?;
    let mut stream = tcp::connect(&p.host, p.port, deadline, local, guard).map_err(|e| match e {
        Error::Connect(m) => Error::Proxy(format!("cannot reach proxy: {m}")),
        other => other,
    })?;
    if p.kind == ProxyKind::Https {
        stream = super::tls::handshake(proxy_tls, &p.host, stream, deadline, guard)?;
    }
    let left = to()?;
    stream.set_read_timeout(left).map_err(|e| Error::Proxy(e.to_string()))?;
    stream.set_write_timeout(left).map_err(|e| Error::Proxy(e.to_string()))?;
    // The SOCKS / CONNECT handshake must complete within the connect timeout as a
    // whole: a proxy answering one byte at a time cannot stretch it.
    stream.set_phase(
        deadline,
        "the proxy handshake did not complete within the connect timeout (a limit for the whole handshake)",
    );
    let r = match p.kind {
        ProxyKind::Http | ProxyKind::Https if p.tunnels(https_target) => tunnel::handshake(p, &mut stream, host, port),
        ProxyKind::Http | ProxyKind::Https => Ok(()), // forwarding: no handshake
        _ => socks::handshake(p, &mut stream, host, port, deadline, guard),
    };
    stream.set_phase(None, "");
    r.map(|()| stream)
}

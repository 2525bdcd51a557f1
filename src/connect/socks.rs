//! Chain step: a SOCKS5 / SOCKS5h / SOCKS4 / SOCKS4a handshake over the connection to
//! the proxy, leaving a tunnel to the target (the wire format is in `proxy::socks`).

use std::time::Instant;

use crate::connection::{self, Stream};
use crate::deadline::Guard;
use crate::error::{Error, Result};
use crate::proxy::{socks, ProxyConfig, ProxyKind};

/// Open the tunnel to `host:port` through the SOCKS proxy `p` over `stream`.
/// Names resolved here (socks5://, socks4://) obey the connect deadline.
pub fn handshake(
    p: &ProxyConfig,
    stream: &mut Stream,
    host: &str,
    port: u16,
    deadline: Option<Instant>,
    guard: &Guard,
) -> Result<()> {
    let user = || p.credentials.as_ref().map(|c| c.0.as_str()).unwrap_or("");
    match p.kind {
        ProxyKind::Socks5 { remote_dns } => {
            let creds = p.credentials.as_ref().map(|(u, pw)| (u.as_str(), pw.as_str()));
            let resolve = |h: &str, port: u16| -> Result<std::net::IpAddr> {
                let addrs = connection::resolve(h, port, deadline, guard)?;
                addrs
                    .first()
                    .map(|a| a.ip())
                    .ok_or_else(|| Error::Connect(format!("could not resolve {h}: no addresses")))
            };
            socks::socks5_connect_with(stream, host, port, creds, remote_dns, &resolve)
        }
        ProxyKind::Socks4 => {
            let ip = resolve_v4(host, port, deadline, guard)?;
            socks::socks4a_connect(stream, &ip, port, user())
        }
        ProxyKind::Socks4a => socks::socks4a_connect(stream, host, port, user()),
        ProxyKind::Http | ProxyKind::Https => Err(Error::Internal("not a SOCKS proxy".into())),
    }
}

/// The first IPv4 address of `host` (SOCKS4 carries nothing else).
fn resolve_v4(host: &str, port: u16, deadline: Option<Instant>, guard: &Guard) -> Result<String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return Ok(ip.to_string());
    }
    let addrs = connection::resolve(bare, port, deadline, guard)?;
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .map(|a| a.ip().to_string())
        .ok_or_else(|| Error::Connect(format!("{host} has no IPv4 address (SOCKS4 needs one; use socks4a://)")))
}

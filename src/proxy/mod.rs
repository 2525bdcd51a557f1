//! Proxies: HTTP forwarding, CONNECT tunnels (over http:// or https:// proxies),
//! SOCKS5 / SOCKS5h / SOCKS4 / SOCKS4a, chosen per request by HTTPX routing keys.

pub mod env;
pub mod socks;
pub mod tunnel;

use std::net::SocketAddr;
use std::time::Instant;

use url::Url;

use crate::config::ProxyMode;
use crate::connection::{self, remaining, Stream};
use crate::deadline::Guard;
use crate::error::{Error, Result};
use crate::tls::TlsConnector;

/// Kind of proxy, from its URL scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyKind {
    Http,
    Https,
    Socks5 {
        remote_dns: bool,
    },
    Socks4a,
    /// `socks4://`: the target name is resolved here and sent as an IPv4 address (as
    /// curl's `socks4://`); `socks4a://` lets the proxy resolve it.
    Socks4,
}

/// A parsed proxy.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    pub kind: ProxyKind,
    pub host: String,
    pub port: u16,
    pub mode: ProxyMode,
    /// `Proxy-Authorization` value for HTTP proxies (from URL credentials).
    pub authorization: Option<String>,
    /// (user, password) for SOCKS.
    pub credentials: Option<(String, String)>,
    url: String,
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

impl ProxyConfig {
    /// Parse `http://[user:pass@]host:port`, `https://...`, `socks5://`, `socks5h://`,
    /// `socks4a://`. Bad URLs are `InvalidUrl`, unknown schemes `UnsupportedProtocol`.
    pub fn parse(s: &str, mode: ProxyMode) -> Result<ProxyConfig> {
        let u = Url::parse(s).map_err(|e| Error::InvalidUrl(format!("proxy URL {s:?}: {e}")))?;
        let (kind, default_port) = match u.scheme() {
            "http" => (ProxyKind::Http, 80),
            "https" => (ProxyKind::Https, 443),
            "socks5" => (ProxyKind::Socks5 { remote_dns: false }, 1080),
            "socks5h" => (ProxyKind::Socks5 { remote_dns: true }, 1080),
            "socks4a" => (ProxyKind::Socks4a, 1080),
            "socks4" => (ProxyKind::Socks4, 1080),
            other => return Err(Error::UnsupportedProtocol(format!("unknown proxy scheme '{other}://'"))),
        };
        let host = u
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| Error::InvalidUrl(format!("proxy URL {s:?} has no host")))?
            .to_string();
        let port = u.port().unwrap_or(default_port);
        let user = decode(u.username());
        let pass = decode(u.password().unwrap_or(""));
        let has_creds = !u.username().is_empty() || u.password().is_some();
        let authorization = match kind {
            ProxyKind::Http | ProxyKind::Https if has_creds => Some(tunnel::basic_proxy_authorization(&user, &pass)),
            _ => None,
        };
        let credentials = has_creds.then_some((user, pass));
        let mut shown = u.clone();
        let _ = shown.set_password(None);
        Ok(ProxyConfig { kind, host, port, mode, authorization, credentials, url: shown.to_string() })
    }

    /// Does a request to a target of this scheme go through a tunnel (vs forwarding)?
    pub fn tunnels(&self, https_target: bool) -> bool {
        match self.kind {
            ProxyKind::Socks5 { .. } | ProxyKind::Socks4a | ProxyKind::Socks4 => true,
            _ => match self.mode {
                ProxyMode::Default => https_target,
                ProxyMode::TunnelOnly => true,
                ProxyMode::ForwardOnly => false,
            },
        }
    }

    /// Distinguishes pooled connections through different proxies.
    pub fn identity(&self) -> String {
        format!("{}|{:?}|{}", self.url, self.mode, self.credentials.as_ref().map(|c| c.0.as_str()).unwrap_or(""))
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

/// Connect to the proxy and, for tunnels, open the tunnel to `host:port`. The
/// returned stream then carries the request (forwarding) or the TLS handshake and
/// request to the target (tunnel).
#[allow(clippy::too_many_arguments)]
pub fn connect_via(
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
    let tcp = connection::connect_tcp_guarded(&p.host, p.port, to()?, local, guard).map_err(|e| match e {
        Error::Connect(m) => Error::Proxy(format!("cannot reach proxy: {m}")),
        other => other,
    })?;
    let mut stream = Stream::tcp(tcp)?;
    stream.set_guard(guard);
    if p.kind == ProxyKind::Https {
        stream = proxy_tls.handshake(&p.host, stream, deadline).map_err(|e| guard.classify(e))?;
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
    let r = handshake(p, &mut stream, host, port, https_target, deadline, guard);
    stream.set_phase(None, "");
    r.map(|()| stream)
}

fn handshake(
    p: &ProxyConfig,
    stream: &mut Stream,
    host: &str,
    port: u16,
    https_target: bool,
    deadline: Option<Instant>,
    guard: &Guard,
) -> Result<()> {
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
            socks::socks5_connect_with(stream, host, port, creds, remote_dns, &resolve)?;
        }
        ProxyKind::Socks4 => {
            let user = p.credentials.as_ref().map(|c| c.0.as_str()).unwrap_or("");
            let ip = resolve_v4(host, port, deadline, guard)?;
            socks::socks4a_connect(stream, &ip, port, user)?;
        }
        ProxyKind::Socks4a => {
            let user = p.credentials.as_ref().map(|c| c.0.as_str()).unwrap_or("");
            socks::socks4a_connect(stream, host, port, user)?;
        }
        ProxyKind::Http | ProxyKind::Https => {
            if p.tunnels(https_target) {
                tunnel::connect_tunnel(stream, host, port, p.authorization.as_deref(), &[])?;
            }
        }
    }
    Ok(())
}

//! Proxies: HTTP forwarding, CONNECT tunnels (over http:// or https:// proxies),
//! SOCKS5 / SOCKS5h / SOCKS4 / SOCKS4a, chosen per request by HTTPX routing keys.
//! The wire formats live here; dialing through a proxy is a step of the connector
//! chain in `connect/` (`connect/proxy.rs`, `socks.rs`, `tunnel.rs`).

pub mod env;
pub mod forward;
pub mod socks;
pub mod tunnel;

use url::Url;

use crate::types::ProxyMode;
use crate::error::{Error, Result};

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

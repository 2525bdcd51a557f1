//! Dialing: a connection is built by a chain of small connectors, each one step on
//! top of what the previous ones left (as ureq's `DefaultConnector` and curl's
//! connection filters):
//!
//! ```text
//! tcp (origin)  ─┐
//! unix (uds=)   ─┼─> tls (https: HTTP/1.1, or ALPN h2 -> HTTP/2) ─> pool
//! tcp (proxy) ─> [tls to an https:// proxy] ─> socks | tunnel (CONNECT) ─┘
//!                                          └─> forwarding (http:// targets) ─> pool
//! ```
//!
//! One file per step: `tcp.rs`, `unix.rs`, `proxy.rs` (first hop to a proxy),
//! `socks.rs`, `tunnel.rs`, `tls.rs`. [`Dialer`] strings them together for one
//! target within the connect timeout, with the transport's connect retries; the
//! result goes into the one pool (`pool.rs`), HTTP/1.1 and HTTP/2 alike.

pub mod proxy;
pub mod socks;
pub mod tcp;
pub mod tls;
pub mod tunnel;
pub mod unix;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::types::HeadLimits;
use crate::connection::remaining;
use crate::deadline::Guard;
use crate::error::{Error, Result};
use crate::http1::Conn;
use crate::http2::H2Conn;
use crate::observe::Observers;
use crate::proxy::{ProxyConfig, ProxyKind};
use crate::tls::TlsConnector;

/// Where a connection goes.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub host: &'a str,
    pub port: u16,
    pub https: bool,
}

/// What a dial produced (handed on at once: its size does not matter).
#[allow(clippy::large_enum_variant)]
pub enum Dialed {
    /// An HTTP/1.1 connection; `forward` when it goes to a forwarding proxy (requests
    /// in absolute form).
    Http1 { conn: Conn, forward: bool },
    /// An HTTP/2 connection (ALPN "h2").
    Http2(H2Conn),
    /// HTTP/2 was offered and the server chose HTTP/1.1 (that connection is closed).
    NoHttp2,
}

/// The connectors of one transport and their settings.
pub struct Dialer {
    /// TLS to origins for HTTP/1.1 (ALPN http/1.1 only).
    pub tls: TlsConnector,
    /// TLS to origins offering h2 (only when HTTP/2 is enabled).
    pub tls_h2: Option<TlsConnector>,
    /// TLS to https:// proxies (default trust, no client certificate).
    pub proxy_tls: TlsConnector,
    pub local_address: Option<SocketAddr>,
    pub uds: Option<PathBuf>,
    /// Connect attempts after the first, with exponential backoff (0.5 s, 1 s, ...).
    pub retries: u32,
}

impl Dialer {
    /// Can a connection to this target offer HTTP/2? https, HTTP/2 enabled, over TCP
    /// (directly, a CONNECT tunnel through an http:// proxy, or SOCKS); not over a Unix
    /// socket, TLS to an https:// proxy, or a forwarding proxy.
    pub fn offers_h2(&self, https: bool, proxy: Option<&ProxyConfig>) -> bool {
        self.tls_h2.is_some()
            && https
            && match proxy {
                None => self.uds.is_none(),
                Some(p) => p.kind != ProxyKind::Https && p.tunnels(true),
            }
    }

    /// Build a connection to `t` (through `proxy` when given) within `connect_timeout`,
    /// offering HTTP/2 when `h2` is given (its response heads capped by those limits;
    /// see [`Dialer::offers_h2`]). A refused or unreachable
    /// connect (or a failed name resolution) is retried `retries` times with backoff,
    /// within the same timeout; each retry is told to the debug callback.
    pub fn dial(
        &self,
        t: Target<'_>,
        proxy: Option<&ProxyConfig>,
        h2: Option<&HeadLimits>,
        connect_timeout: Option<Duration>,
        guard: &Guard,
        obs: &Observers,
    ) -> Result<Dialed> {
        let deadline = connect_timeout.map(|d| Instant::now() + d);
        let mut attempt = 0;
        loop {
            match self.dial_once(t, proxy, h2, deadline, guard) {
                Err(Error::Connect(_) | Error::Resolve(_)) if attempt < self.retries => {
                    let backoff = Duration::from_millis(500u64 << attempt.min(6));
                    obs.debug_text(|| {
                        format!(
                            "Connect failed, retrying in {} (attempt {})",
                            crate::info::secs_text(backoff),
                            attempt + 2
                        )
                    });
                    let left =
                        remaining(deadline, || Error::ConnectTimeout(format!("connecting to {}:{}", t.host, t.port)))?;
                    guard.sleep(left.map_or(backoff, |l| l.min(backoff)))?;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn dial_once(
        &self,
        t: Target<'_>,
        proxy: Option<&ProxyConfig>,
        h2: Option<&HeadLimits>,
        deadline: Option<Instant>,
        guard: &Guard,
    ) -> Result<Dialed> {
        // 1. The first hop: the proxy (with its handshake), a Unix socket, or TCP.
        let base = if let Some(p) = proxy {
            let s = proxy::connect(p, &self.proxy_tls, t.host, t.port, t.https, deadline, self.local_address, guard)?;
            if !p.tunnels(t.https) {
                return Ok(Dialed::Http1 { conn: Conn::new(s), forward: true });
            }
            s
        } else if let Some(path) = &self.uds {
            unix::connect(path, guard)?
        } else {
            tcp::connect(t.host, t.port, deadline, self.local_address, guard)?
        };
        // 2. TLS to the origin.
        if !t.https {
            return Ok(Dialed::Http1 { conn: Conn::new(base), forward: false });
        }
        if let (Some(limits), Some(tls_h2)) = (h2, &self.tls_h2) {
            return Ok(match tls::handshake_h2(tls_h2, t.host, t.port, base, deadline, guard, limits)? {
                Some(c) => Dialed::Http2(c),
                None => Dialed::NoHttp2,
            });
        }
        let s = tls::handshake(&self.tls, t.host, base, deadline, guard)?;
        Ok(Dialed::Http1 { conn: Conn::new(s), forward: false })
    }
}

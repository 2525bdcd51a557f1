//! Client configuration: timeouts, pool limits and everything `Client(...)` accepts.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::Auth;
use crate::hooks::EventHooks;
use crate::observe::Observers;
use crate::tls::TlsSettings;
use crate::transport::Transport;
pub use crate::types::{HeadLimits, Limits, ProxyMode, Timeouts};

/// One configured proxy: a routing key, the proxy URL (None = no proxy for that key).
#[derive(Clone, Debug)]
pub struct ProxySpec {
    pub key: String,
    pub url: Option<String>,
    pub mode: ProxyMode,
}

/// Everything `httpx.Client(...)` takes. Build one, then `Client::new(&cfg)`.
#[derive(Clone)]
pub struct ClientConfig {
    pub base_url: Option<String>,
    pub headers: Vec<(String, String)>,
    pub params: Vec<(String, String)>,
    /// (name, value, domain, path)
    pub cookies: Vec<(String, String, String, String)>,
    pub auth: Option<Arc<Auth>>,
    pub timeouts: Timeouts,
    /// One deadline for a whole send (pool wait, DNS, connect, proxy, TLS, writing,
    /// every redirect and auth step, reading the body). `None` = none (the default).
    pub total_timeout: Option<Duration>,
    pub limits: Limits,
    pub trust_env: bool,
    pub tls: TlsSettings,
    pub proxies: Vec<ProxySpec>,
    pub follow_redirects: bool,
    pub max_redirects: u32,
    pub http2: bool,
    pub transport: Option<Arc<dyn Transport>>,
    pub mounts: Vec<(String, Option<Arc<dyn Transport>>)>,
    pub hooks: EventHooks,
    pub head_limits: HeadLimits,
    /// Decompression-bomb guard for every read, streamed or buffered (`Decoding`).
    pub max_decoded_bytes: Option<u64>,
    /// Cap on a body read whole into memory, raw and decoded bytes (`BodyTooLarge`);
    /// `None` for none. Default 1 GiB.
    pub max_body_bytes: Option<u64>,
    pub default_encoding: Option<String>,
    /// Progress and trace callbacks.
    pub observers: Observers,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            base_url: None,
            headers: Vec::new(),
            params: Vec::new(),
            cookies: Vec::new(),
            auth: None,
            timeouts: Timeouts::default(),
            total_timeout: None,
            limits: Limits::default(),
            trust_env: true,
            tls: TlsSettings::default(),
            proxies: Vec::new(),
            follow_redirects: false,
            max_redirects: 20,
            http2: false,
            transport: None,
            mounts: Vec::new(),
            hooks: EventHooks::default(),
            head_limits: HeadLimits::default(),
            max_decoded_bytes: Some(1 << 30),
            max_body_bytes: Some(crate::decoding::DEFAULT_MAX_BODY_BYTES),
            default_encoding: None,
            observers: Observers::default(),
        }
    }
}

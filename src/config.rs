//! Client configuration: everything `Client(...)` accepts. The top of the core's
//! layers below the client: it assembles value types (`types`), auth, hooks, TLS
//! settings and transports, and owns the configuration's rules (validating setters,
//! [`ClientConfig::builder`], [`ClientConfig::check`]).

use std::sync::Arc;
use std::time::Duration;

use crate::auth::Auth;
use crate::error::{Error, Result};
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

/// Validating setters: each checks its rule and leaves the configuration unchanged
/// on error, so the C API (which only converts and calls these) and a Rust user get
/// the same answer at the same point. Fields written directly are checked by
/// [`ClientConfig::check`], which `Client::new` runs.
impl ClientConfig {
    /// A chainable builder (as ureq's `Config::builder()`): the first failing setter's
    /// error comes back from [`ClientConfigBuilder::build`].
    pub fn builder() -> ClientConfigBuilder {
        ClientConfigBuilder { cfg: ClientConfig::default(), err: None }
    }

    /// HTTPX `base_url`: unparsable is `InvalidUrl`, a missing or non-http(s) scheme
    /// `UnsupportedProtocol`. `None` clears it.
    pub fn set_base_url(&mut self, url: Option<&str>) -> Result<()> {
        if let Some(u) = url {
            crate::urls::parse_base(u)?;
        }
        self.base_url = url.map(str::to_string);
        Ok(())
    }

    /// A header for every request: a valid token name, no CR/LF/NUL in the value.
    pub fn add_header(&mut self, name: &str, value: &str) -> Result<()> {
        crate::headers::validate_name(name)?;
        crate::headers::validate_value(name, value)?;
        self.headers.push((name.into(), value.into()));
        Ok(())
    }

    /// Seed the cookie jar (`domain` "" = every host), checked as the jar checks it.
    pub fn add_cookie(&mut self, name: &str, value: &str, domain: &str, path: &str) -> Result<()> {
        crate::cookies::CookieJar::new().set(name, value, domain, path)?;
        self.cookies.push((name.into(), value.into(), domain.into(), path.into()));
        Ok(())
    }

    /// Pool limits: `max_connections` at least 1 (see [`Limits::check`]).
    pub fn set_limits(&mut self, limits: Limits) -> Result<()> {
        limits.check()?;
        self.limits = limits;
        Ok(())
    }

    /// Response-head limits: at least 64 bytes and one header.
    pub fn set_head_limits(&mut self, limits: HeadLimits) -> Result<()> {
        limits.check()?;
        self.head_limits = limits;
        Ok(())
    }

    /// A proxy for routing key `key` (`url` `None` = no proxy for that key): the key
    /// and the proxy URL (scheme, mode) are checked now.
    pub fn add_proxy(&mut self, key: &str, url: Option<&str>, mode: ProxyMode) -> Result<()> {
        let spec = ProxySpec { key: key.into(), url: url.map(str::to_string), mode };
        check_proxy(&spec)?;
        self.proxies.push(spec);
        Ok(())
    }

    /// Mount a transport for routing key `key` (`None` = the client's default
    /// transport for that key); mounting a key again replaces it.
    pub fn mount(&mut self, key: &str, transport: Option<Arc<dyn Transport>>) -> Result<()> {
        crate::routing::Pattern::parse(key)?;
        self.mounts.retain(|(k, _)| k != key);
        self.mounts.push((key.into(), transport));
        Ok(())
    }

    /// Charset for text when the response names none Python knows: a Python codec
    /// name or alias (`codecs.lookup`); unknown: `InvalidArgument`. `None` = UTF-8.
    pub fn set_default_encoding(&mut self, label: Option<&str>) -> Result<()> {
        if let Some(l) = label {
            check_encoding(l)?;
        }
        self.default_encoding = label.map(str::to_string);
        Ok(())
    }

    /// Every rule of the configuration, for fields set directly (`Client::new` runs
    /// it): base URL, header names and values, cookies, limits, head limits, proxy
    /// keys and URLs, mount keys, the default encoding.
    pub fn check(&self) -> Result<()> {
        if let Some(u) = &self.base_url {
            crate::urls::parse_base(u)?;
        }
        for (n, v) in &self.headers {
            crate::headers::validate_name(n)?;
            crate::headers::validate_value(n, v)?;
        }
        let jar = crate::cookies::CookieJar::new();
        for (n, v, d, p) in &self.cookies {
            jar.set(n, v, d, p)?;
        }
        self.limits.check()?;
        self.head_limits.check()?;
        for p in &self.proxies {
            check_proxy(p)?;
        }
        for (k, _) in &self.mounts {
            crate::routing::Pattern::parse(k)?;
        }
        if let Some(l) = &self.default_encoding {
            check_encoding(l)?;
        }
        Ok(())
    }
}

fn check_proxy(p: &ProxySpec) -> Result<()> {
    crate::routing::Pattern::parse(&p.key)?;
    if let Some(u) = &p.url {
        crate::proxy::ProxyConfig::parse(u, p.mode)?;
    }
    Ok(())
}

fn check_encoding(label: &str) -> Result<()> {
    if crate::charset::lookup(label).is_none() {
        return Err(Error::InvalidArgument(format!("unknown encoding {label:?}")));
    }
    Ok(())
}

/// `ClientConfig::builder()`: chainable setters; the first error is kept and
/// returned by [`ClientConfigBuilder::build`] (later setters are then skipped).
#[must_use]
pub struct ClientConfigBuilder {
    cfg: ClientConfig,
    err: Option<Error>,
}

impl ClientConfigBuilder {
    fn apply(mut self, f: impl FnOnce(&mut ClientConfig) -> Result<()>) -> Self {
        if self.err.is_none() {
            if let Err(e) = f(&mut self.cfg) {
                self.err = Some(e);
            }
        }
        self
    }

    pub fn base_url(self, url: &str) -> Self {
        self.apply(|c| c.set_base_url(Some(url)))
    }
    pub fn header(self, name: &str, value: &str) -> Self {
        self.apply(|c| c.add_header(name, value))
    }
    pub fn param(self, key: &str, value: &str) -> Self {
        self.apply(|c| {
            c.params.push((key.into(), value.into()));
            Ok(())
        })
    }
    pub fn cookie(self, name: &str, value: &str, domain: &str, path: &str) -> Self {
        self.apply(|c| c.add_cookie(name, value, domain, path))
    }
    pub fn auth(self, auth: Auth) -> Self {
        self.apply(|c| {
            c.auth = Some(Arc::new(auth));
            Ok(())
        })
    }
    pub fn timeouts(self, t: Timeouts) -> Self {
        self.apply(|c| {
            c.timeouts = t;
            Ok(())
        })
    }
    pub fn total_timeout(self, t: Option<Duration>) -> Self {
        self.apply(|c| {
            c.total_timeout = t;
            Ok(())
        })
    }
    pub fn limits(self, l: Limits) -> Self {
        self.apply(|c| c.set_limits(l))
    }
    pub fn head_limits(self, l: HeadLimits) -> Self {
        self.apply(|c| c.set_head_limits(l))
    }
    pub fn proxy(self, key: &str, url: Option<&str>, mode: ProxyMode) -> Self {
        self.apply(|c| c.add_proxy(key, url, mode))
    }
    pub fn mount(self, key: &str, t: Option<Arc<dyn Transport>>) -> Self {
        self.apply(|c| c.mount(key, t))
    }
    pub fn transport(self, t: Arc<dyn Transport>) -> Self {
        self.apply(|c| {
            c.transport = Some(t);
            Ok(())
        })
    }
    pub fn follow_redirects(self, on: bool) -> Self {
        self.apply(|c| {
            c.follow_redirects = on;
            Ok(())
        })
    }
    pub fn max_redirects(self, n: u32) -> Self {
        self.apply(|c| {
            c.max_redirects = n;
            Ok(())
        })
    }
    pub fn trust_env(self, on: bool) -> Self {
        self.apply(|c| {
            c.trust_env = on;
            Ok(())
        })
    }
    pub fn http2(self, on: bool) -> Self {
        self.apply(|c| {
            c.http2 = on;
            Ok(())
        })
    }
    pub fn tls(self, tls: TlsSettings) -> Self {
        self.apply(|c| {
            c.tls = tls;
            Ok(())
        })
    }
    pub fn max_decoded_bytes(self, n: Option<u64>) -> Self {
        self.apply(|c| {
            c.max_decoded_bytes = n;
            Ok(())
        })
    }
    pub fn default_encoding(self, label: &str) -> Self {
        self.apply(|c| c.set_default_encoding(Some(label)))
    }

    /// The configuration, or the first setter's error; the whole result passes
    /// [`ClientConfig::check`].
    pub fn build(self) -> Result<ClientConfig> {
        if let Some(e) = self.err {
            return Err(e);
        }
        self.cfg.check()?;
        Ok(self.cfg)
    }
}

/// The observers a client built from `cfg` uses (the `HTTPX_DEBUG`-style env switch of
/// `crate::debug` applied). Here rather than in `debug`, which sits below the
/// configuration.
pub fn observers_for(cfg: &ClientConfig) -> Observers {
    let mut o = cfg.observers.clone();
    o.debug = crate::debug::with_env(o.debug.take(), cfg.trust_env);
    o
}

impl ClientConfig {
    /// Set the debug hook: TEXT lines, heads and body bytes as they pass (see
    /// `crate::debug`). Runs on the sending thread.
    pub fn set_debug(&mut self, hook: crate::debug::DebugFn) {
        self.observers.debug = Some(hook);
    }

    /// Remove the debug hook.
    pub fn clear_debug(&mut self) {
        self.observers.debug = None;
    }
}

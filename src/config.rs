//! Client configuration: everything `Client(...)` accepts. The top of the core's
//! layers below the client: it assembles value types (`types`), auth, hooks, TLS
//! settings and transports, and owns the configuration's rules (validating setters,
//! [`ClientConfig::builder`], [`ClientConfig::check`]).

use std::sync::Arc;
use std::time::Duration;

use crate::auth::Auth;
use crate::error::{Error, Result};
use crate::hooks::{EventHooks, RequestHook, ResponseHook};
use crate::observe::{Observers, ProgressFn, TraceFn};
use crate::tls::{MinVersion, PemSource, TlsSettings, Trust};
use crate::transport::Transport;
pub use crate::types::{HeadLimits, Limits, ProxyMode, Timeouts};

/// One configured proxy: a routing key, the proxy URL (None = no proxy for that key).
#[derive(Clone, Debug)]
pub struct ProxySpec {
    pub key: String,
    pub url: Option<String>,
    pub mode: ProxyMode,
}

/// Everything `httpx.Client(...)` takes. Build one (`ClientConfig::default()` and
/// its setters, or `ClientConfig::builder()`), then `Client::new(&cfg)`. The fields
/// are private: the setters, which check their rules, are the only way in; getters
/// read them back.
#[derive(Clone)]
pub struct ClientConfig {
    pub(crate) base_url: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) params: Vec<(String, String)>,
    /// (name, value, domain, path)
    pub(crate) cookies: Vec<(String, String, String, String)>,
    pub(crate) auth: Option<Arc<Auth>>,
    pub(crate) timeouts: Timeouts,
    /// One deadline for a whole send (pool wait, DNS, connect, proxy, TLS, writing,
    /// every redirect and auth step, reading the body). `None` = none (the default).
    pub(crate) total_timeout: Option<Duration>,
    pub(crate) limits: Limits,
    pub(crate) trust_env: bool,
    pub(crate) tls: TlsSettings,
    pub(crate) proxies: Vec<ProxySpec>,
    pub(crate) follow_redirects: bool,
    pub(crate) max_redirects: u32,
    pub(crate) http2: bool,
    pub(crate) transport: Option<Arc<dyn Transport>>,
    pub(crate) mounts: Vec<(String, Option<Arc<dyn Transport>>)>,
    pub(crate) hooks: EventHooks,
    pub(crate) head_limits: HeadLimits,
    /// Decompression-bomb guard for every read, streamed or buffered (`Decoding`).
    pub(crate) max_decoded_bytes: Option<u64>,
    /// Cap on a body read whole into memory, raw and decoded bytes (`BodyTooLarge`);
    /// `None` for none. Default 1 GiB.
    pub(crate) max_body_bytes: Option<u64>,
    pub(crate) default_encoding: Option<String>,
    /// Progress and trace callbacks.
    pub(crate) observers: Observers,
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

    /// Extra query parameter for every request.
    pub fn add_param(&mut self, key: &str, value: &str) {
        self.params.push((key.into(), value.into()));
    }

    /// Auth for every request (`None`: none); requests may override it at the send.
    pub fn set_auth(&mut self, auth: Option<Arc<Auth>>) {
        self.auth = auth;
    }

    /// The four per-phase timeouts.
    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.timeouts = timeouts;
    }

    /// One deadline for a whole send (`None`: none, the default).
    pub fn set_total_timeout(&mut self, total: Option<Duration>) {
        self.total_timeout = total;
    }

    /// Honour the environment (proxies, CA files, SSLKEYLOGFILE, .netrc, HTTPX_DEBUG).
    pub fn set_trust_env(&mut self, on: bool) {
        self.trust_env = on;
    }

    /// All TLS settings at once.
    pub fn set_tls(&mut self, tls: TlsSettings) {
        self.tls = tls;
    }

    /// Verify server certificates (default on).
    pub fn set_verify(&mut self, on: bool) {
        self.tls.verify = on;
    }

    /// Which CA certificates to trust.
    pub fn set_trust(&mut self, trust: Trust) {
        self.tls.trust = trust;
    }

    /// Client certificate chain and key (`None`: none).
    pub fn set_client_cert(&mut self, cert_and_key: Option<(PemSource, PemSource)>) {
        self.tls.client_cert = cert_and_key;
    }

    /// Minimum TLS version (default TLS 1.2).
    pub fn set_min_tls_version(&mut self, v: MinVersion) {
        self.tls.min_version = v;
    }

    /// Follow redirects by default (off by default, as in HTTPX).
    pub fn set_follow_redirects(&mut self, on: bool) {
        self.follow_redirects = on;
    }

    /// Redirects followed before `TooManyRedirects` (default 20).
    pub fn set_max_redirects(&mut self, n: u32) {
        self.max_redirects = n;
    }

    /// Offer HTTP/2 on https connections (ALPN h2).
    pub fn set_http2(&mut self, on: bool) {
        self.http2 = on;
    }

    /// The transport for requests no mount matches (`None`: the network).
    pub fn set_transport(&mut self, transport: Option<Arc<dyn Transport>>) {
        self.transport = transport;
    }

    /// A request hook, run in registration order before each request is sent.
    pub fn add_request_hook(&mut self, hook: RequestHook) {
        self.hooks.request.push(hook);
    }

    /// A response hook, run in registration order when each response head arrives.
    pub fn add_response_hook(&mut self, hook: ResponseHook) {
        self.hooks.response.push(hook);
    }

    /// Decompression-bomb guard for every read (`None`: none; default 1 GiB).
    pub fn set_max_decoded_bytes(&mut self, n: Option<u64>) {
        self.max_decoded_bytes = n;
    }

    /// Cap on a body read whole into memory (`None`: none; default 1 GiB).
    pub fn set_max_body_bytes(&mut self, n: Option<u64>) {
        self.max_body_bytes = n;
    }

    /// The progress callback (`None` removes it).
    pub fn set_progress(&mut self, f: Option<ProgressFn>) {
        self.observers.progress = f;
    }

    /// The trace callback (`None` removes it).
    pub fn set_trace(&mut self, f: Option<TraceFn>) {
        self.observers.trace = f;
    }

    /// Progress, trace and debug callbacks at once.
    pub fn set_observers(&mut self, observers: Observers) {
        self.observers = observers;
    }

    /// Replace the headers sent with every request; each is checked as by
    /// [`ClientConfig::add_header`] (on error the configuration is unchanged).
    pub fn set_headers(&mut self, headers: Vec<(String, String)>) -> Result<()> {
        for (n, v) in &headers {
            crate::headers::validate_name(n)?;
            crate::headers::validate_value(n, v)?;
        }
        self.headers = headers;
        Ok(())
    }

    /// Replace the query parameters sent with every request.
    pub fn set_params(&mut self, params: Vec<(String, String)>) {
        self.params = params;
    }

    /// Replace the cookies the jar is seeded with, (name, value, domain, path); each
    /// is checked as by [`ClientConfig::add_cookie`].
    pub fn set_cookies(&mut self, cookies: Vec<(String, String, String, String)>) -> Result<()> {
        let jar = crate::cookies::CookieJar::new();
        for (n, v, d, p) in &cookies {
            jar.set(n, v, d, p)?;
        }
        self.cookies = cookies;
        Ok(())
    }

    /// Replace the proxies; each is checked as by [`ClientConfig::add_proxy`].
    pub fn set_proxies(&mut self, proxies: Vec<ProxySpec>) -> Result<()> {
        for p in &proxies {
            check_proxy(p)?;
        }
        self.proxies = proxies;
        Ok(())
    }

    /// Replace the mounts; each key is checked as by [`ClientConfig::mount`].
    pub fn set_mounts(&mut self, mounts: Vec<(String, Option<Arc<dyn Transport>>)>) -> Result<()> {
        for (k, _) in &mounts {
            crate::routing::Pattern::parse(k)?;
        }
        self.mounts = mounts;
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

/// Read the configuration back.
impl ClientConfig {
    pub fn base_url(&self) -> Option<&str> {
        self.base_url.as_deref()
    }
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }
    /// (name, value, domain, path)
    pub fn cookies(&self) -> &[(String, String, String, String)] {
        &self.cookies
    }
    pub fn auth(&self) -> Option<&Arc<Auth>> {
        self.auth.as_ref()
    }
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }
    pub fn total_timeout(&self) -> Option<Duration> {
        self.total_timeout
    }
    pub fn limits(&self) -> Limits {
        self.limits
    }
    pub fn trust_env(&self) -> bool {
        self.trust_env
    }
    pub fn tls(&self) -> &TlsSettings {
        &self.tls
    }
    pub fn proxies(&self) -> &[ProxySpec] {
        &self.proxies
    }
    pub fn follow_redirects(&self) -> bool {
        self.follow_redirects
    }
    pub fn max_redirects(&self) -> u32 {
        self.max_redirects
    }
    pub fn http2(&self) -> bool {
        self.http2
    }
    pub fn transport(&self) -> Option<&Arc<dyn Transport>> {
        self.transport.as_ref()
    }
    pub fn mounts(&self) -> &[(String, Option<Arc<dyn Transport>>)] {
        &self.mounts
    }
    pub fn hooks(&self) -> &EventHooks {
        &self.hooks
    }
    pub fn head_limits(&self) -> HeadLimits {
        self.head_limits
    }
    pub fn max_decoded_bytes(&self) -> Option<u64> {
        self.max_decoded_bytes
    }
    pub fn max_body_bytes(&self) -> Option<u64> {
        self.max_body_bytes
    }
    pub fn default_encoding(&self) -> Option<&str> {
        self.default_encoding.as_deref()
    }
    pub fn observers(&self) -> &Observers {
        &self.observers
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
            c.add_param(key, value);
            Ok(())
        })
    }
    pub fn cookie(self, name: &str, value: &str, domain: &str, path: &str) -> Self {
        self.apply(|c| c.add_cookie(name, value, domain, path))
    }
    pub fn auth(self, auth: Auth) -> Self {
        self.apply(|c| {
            c.set_auth(Some(Arc::new(auth)));
            Ok(())
        })
    }
    pub fn timeouts(self, t: Timeouts) -> Self {
        self.apply(|c| {
            c.set_timeouts(t);
            Ok(())
        })
    }
    pub fn total_timeout(self, t: Option<Duration>) -> Self {
        self.apply(|c| {
            c.set_total_timeout(t);
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
            c.set_transport(Some(t));
            Ok(())
        })
    }
    pub fn follow_redirects(self, on: bool) -> Self {
        self.apply(|c| {
            c.set_follow_redirects(on);
            Ok(())
        })
    }
    pub fn max_redirects(self, n: u32) -> Self {
        self.apply(|c| {
            c.set_max_redirects(n);
            Ok(())
        })
    }
    pub fn trust_env(self, on: bool) -> Self {
        self.apply(|c| {
            c.set_trust_env(on);
            Ok(())
        })
    }
    pub fn http2(self, on: bool) -> Self {
        self.apply(|c| {
            c.set_http2(on);
            Ok(())
        })
    }
    pub fn tls(self, tls: TlsSettings) -> Self {
        self.apply(|c| {
            c.set_tls(tls);
            Ok(())
        })
    }
    pub fn max_decoded_bytes(self, n: Option<u64>) -> Self {
        self.apply(|c| {
            c.set_max_decoded_bytes(n);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(k: &ClientConfig, want: u32) {
        assert_eq!(k.check().expect_err("check() accepted a broken rule").code(), want);
    }

    /// `Client::new` runs `check()`: it refuses fields written directly (inside the
    /// crate; outside it the fields are private and the setters refuse first).
    #[test]
    fn check_refuses_fields_written_directly() {
        use crate::error::code;
        let d = ClientConfig::default;
        refused(
            &ClientConfig { limits: Limits { max_connections: Some(0), ..Limits::default() }, ..d() },
            code::INVALID_ARGUMENT,
        );
        refused(&ClientConfig { base_url: Some("ftp://example.com/".into()), ..d() }, code::UNSUPPORTED_PROTOCOL);
        refused(&ClientConfig { headers: vec![("Bad:Name".into(), "v".into())], ..d() }, code::INVALID_ARGUMENT);
        let cookies = vec![("bad=name".into(), "v".into(), "".into(), "/".into())];
        assert!(ClientConfig { cookies, ..d() }.check().is_err());
        let head_limits = HeadLimits { max_header_bytes: 10, ..HeadLimits::default() };
        refused(&ClientConfig { head_limits, ..d() }, code::INVALID_ARGUMENT);
        let proxies = vec![ProxySpec { key: "bogus key".into(), url: None, mode: ProxyMode::Default }];
        assert!(ClientConfig { proxies, ..d() }.check().is_err());
        assert!(ClientConfig { mounts: vec![("not a key".into(), None)], ..d() }.check().is_err());
        refused(&ClientConfig { default_encoding: Some("no-such-codec".into()), ..d() }, code::INVALID_ARGUMENT);
        d().check().unwrap();
    }
}

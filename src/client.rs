//! `Client`: HTTPX's pooled client. Merges client- and request-level headers,
//! params and cookies, joins `base_url`, runs auth flows, follows redirects, keeps a
//! cookie jar, and routes each request to a transport by mount pattern.
//!
//! A `Client` is `Send + Sync`: share one between threads and send from all of them.

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use once_cell::sync::OnceCell;
use url::Url;

use crate::auth::{self, digest, Auth, FlowAction, FlowStep};
use crate::config::ClientConfig;
use crate::cookies::CookieJar;
use crate::deadline::Guard;
use crate::decoding::{self, DecodeLimits};
use crate::error::{Error, Result};
use crate::headers::Headers;
use crate::hooks::EventHooks;
use crate::netrc::Netrc;
use crate::request::{normalize_method, Body, Request};
use crate::response::Response;
use crate::routing::Router;
use crate::transport::http::{HttpOptions, HttpTransport};
use crate::transport::{SendContext, Transport};
use crate::types::{HeadLimits, ProxyMode, Timeouts};
use crate::urls;

/// Auth choice of one send: inherit the client's, none, or a specific one (HTTPX's
/// `client.send(request, auth=...)`: `USE_CLIENT_DEFAULT`, `None`, an auth).
#[derive(Clone, Default)]
pub enum AuthChoice {
    #[default]
    Inherit,
    Disabled,
    Use(Arc<Auth>),
}

/// Options of one send, as HTTPX's `client.send(request, auth=...,
/// follow_redirects=...)`: they belong to the send, not to the request.
#[derive(Clone, Default)]
pub struct SendOptions {
    pub auth: AuthChoice,
    /// `None` = the client's setting.
    pub follow_redirects: Option<bool>,
}

/// Flow steps a custom auth callback may take before we call it a loop.
pub const MAX_AUTH_STEPS: u32 = 16;

static NEXT_CLIENT_ID: AtomicUsize = AtomicUsize::new(1);

/// The last URL string a client without base_url resolved, and its result (see
/// `Client::resolve_url`).
static LAST_ABSOLUTE_URL: Mutex<Option<(String, Url)>> = Mutex::new(None);

thread_local! {
    /// Clients currently inside `send` on this thread: a callback that sends on the
    /// same client again would deadlock a full pool, so it is refused.
    static SENDING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// "This thread is inside a send on client N" (see `SENDING`). `send_with` holds one
/// for one send; the multi holds one around its whole `perform`.
pub(crate) struct SendingGuard(usize);

impl SendingGuard {
    fn enter(id: usize) -> Result<SendingGuard> {
        SENDING.with(|s| {
            let mut s = s.borrow_mut();
            if s.contains(&id) {
                return Err(Error::RecursiveCall("a callback tried to send on the client that is calling it".into()));
            }
            s.push(id);
            Ok(SendingGuard(id))
        })
    }
}

impl Drop for SendingGuard {
    fn drop(&mut self) {
        SENDING.with(|s| {
            let mut s = s.borrow_mut();
            if let Some(p) = s.iter().rposition(|x| *x == self.0) {
                s.remove(p);
            }
        });
    }
}

/// One request/response round trip of the send logic ([`Client::send_core`]): the
/// request goes to `transport` (the client picked it from its mounts). The blocking
/// client answers at once ([`Blocking`]: `transport.handle`); the multi suspends on
/// its event loop. The response may arrive with its body still on the wire (blocking)
/// or already in memory (the multi: `Response::new` over a `BytesBody`): the auth and
/// redirect logic calls `drain()` / `body()` on it, which then does no I/O.
pub(crate) trait Exchange {
    fn exchange<'a>(
        &'a self,
        transport: &'a Arc<dyn Transport>,
        req: Request,
        ctx: &'a SendContext,
    ) -> impl Future<Output = Result<Response>> + 'a;
}

/// The blocking exchange: `transport.handle` inside a future that is Ready at its
/// first poll.
pub(crate) struct Blocking;

impl Exchange for Blocking {
    #[inline]
    #[allow(clippy::manual_async_fn)]
    fn exchange<'a>(
        &'a self,
        transport: &'a Arc<dyn Transport>,
        req: Request,
        ctx: &'a SendContext,
    ) -> impl Future<Output = Result<Response>> + 'a {
        async move { transport.handle(req, ctx) }
    }
}

/// Run a future that never waits (the send logic over [`Blocking`]): one poll with a
/// no-op waker, no runtime, no allocation. Pending there is a bug: `Error::Internal`.
#[inline(always)]
pub(crate) fn block_now<T, F: Future<Output = Result<T>>>(f: F) -> Result<T> {
    let f = pin!(f);
    match f.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r,
        Poll::Pending => Err(Error::Internal("a blocking send returned Pending".into())),
    }
}

struct Inner {
    id: usize,
    base_url: Option<Url>,
    headers: Headers,
    params: Vec<(String, String)>,
    jar: CookieJar,
    auth: Option<Arc<Auth>>,
    timeouts: Timeouts,
    total_timeout: Option<std::time::Duration>,
    follow_redirects: bool,
    max_redirects: u32,
    trust_env: bool,
    transport: Arc<dyn Transport>,
    mounts: Router<Option<Arc<dyn Transport>>>,
    hooks: EventHooks,
    head_limits: HeadLimits,
    decode_limits: DecodeLimits,
    default_encoding: Option<String>,
    observers: crate::observe::Observers,
    netrc: OnceCell<Option<Arc<Netrc>>>,
    closed: AtomicBool,
    /// Transport owned by this client (closed with it); mounted ones are shared.
    own_transport: Option<Arc<HttpTransport>>,
    netrc_lock: Mutex<()>,
    /// The last URL string `build_request` resolved and its result (see `resolve_url`).
    last_url: Mutex<Option<(String, Url)>>,
}

/// A pooled, thread-safe HTTP client.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// The default headers of every client, as HTTPX sends them.
fn default_headers() -> Headers {
    let mut h = Headers::with_capacity(8);
    h.set_unchecked("Accept", "*/*");
    h.set_unchecked("Accept-Encoding", decoding::accept_encoding());
    h.set_unchecked("Connection", "keep-alive");
    h.set_unchecked("User-Agent", concat!("libhttpx/", env!("CARGO_PKG_VERSION")));
    h
}

impl Client {
    /// Build a client. TLS material, proxy URLs, mount keys and base_url are checked
    /// here, so mistakes show at creation rather than at the first request.
    pub fn new(cfg: &ClientConfig) -> Result<Client> {
        // Every rule of the configuration, also for fields a Rust caller set directly
        // (`Limits { max_connections: Some(0), .. }` fails here, not at the first send).
        cfg.check()?;
        let base_url = cfg.base_url.as_deref().map(urls::parse_base).transpose()?;
        let mut headers = default_headers();
        let mut user = Headers::new();
        for (n, v) in &cfg.headers {
            user.append(n, v)?;
        }
        headers.update(&user);
        let jar = CookieJar::new();
        for (name, value, domain, path) in &cfg.cookies {
            jar.set(name, value, domain, path)?;
        }
        let (transport, own): (Arc<dyn Transport>, Option<Arc<HttpTransport>>) = match &cfg.transport {
            Some(t) => (t.clone(), None),
            None => {
                let mut proxies: Vec<(String, Option<String>, ProxyMode)> =
                    cfg.proxies.iter().map(|p| (p.key.clone(), p.url.clone(), p.mode)).collect();
                if proxies.is_empty() && cfg.trust_env {
                    let env = crate::proxy::env::proxies_from_process_env();
                    proxies = env.into_iter().map(|(k, u)| (k, u, ProxyMode::Default)).collect();
                }
                let t = Arc::new(HttpTransport::new(HttpOptions {
                    limits: cfg.limits,
                    tls: cfg.tls.clone(),
                    trust_env: cfg.trust_env,
                    proxies,
                    http2: cfg.http2,
                    ..HttpOptions::default()
                })?);
                (t.clone() as Arc<dyn Transport>, Some(t))
            }
        };
        let mut mounts = Router::new();
        for (key, t) in &cfg.mounts {
            mounts.insert(key, t.clone())?;
        }
        Ok(Client {
            inner: Arc::new(Inner {
                id: NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed),
                base_url,
                headers,
                params: cfg.params.clone(),
                jar,
                auth: cfg.auth.clone(),
                timeouts: cfg.timeouts,
                total_timeout: cfg.total_timeout,
                follow_redirects: cfg.follow_redirects,
                max_redirects: cfg.max_redirects,
                trust_env: cfg.trust_env,
                transport,
                mounts,
                hooks: cfg.hooks.clone(),
                head_limits: cfg.head_limits,
                decode_limits: DecodeLimits {
                    max_decoded_bytes: cfg.max_decoded_bytes,
                    max_body_bytes: cfg.max_body_bytes,
                    ..DecodeLimits::default()
                },
                default_encoding: cfg.default_encoding.clone(),
                observers: crate::config::observers_for(cfg),
                netrc: OnceCell::new(),
                closed: AtomicBool::new(false),
                own_transport: own,
                netrc_lock: Mutex::new(()),
                last_url: Mutex::new(None),
            }),
        })
    }

    /// The client's cookie jar.
    pub fn cookies(&self) -> &CookieJar {
        &self.inner.jar
    }

    /// (connections in existence, idle) of the client's own network pool.
    pub fn pool_stats(&self) -> (usize, usize) {
        self.inner.own_transport.as_ref().map(|t| t.pool_stats()).unwrap_or((0, 0))
    }

    /// Close the pool. Later sends fail with `ClientClosed`.
    pub fn close(&self) {
        if !self.inner.closed.swap(true, Ordering::SeqCst) {
            if let Some(t) = &self.inner.own_transport {
                t.close();
            }
        }
    }

    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    /// HTTPX `client.build_request`: a request with base_url, headers, params and
    /// cookies of the client merged in, ready to edit.
    pub fn build_request(&self, method: &str, url: &str) -> Result<Request> {
        let method = normalize_method(method)?;
        let mut url = self.resolve_url(url)?;
        urls::apply_params(&mut url, &self.inner.params);
        let mut req = Request::from_parts(method, url);
        req.headers.update(&self.inner.headers);
        if let Some(c) = self.inner.jar.header_for(&req.url) {
            req.headers.set_unchecked("Cookie", &c);
        }
        Ok(req)
    }

    /// A request made without a client (`Request::new`), merged with this client's
    /// headers, params and cookies as if `build_request` had made it: the client's
    /// values first, the request's own win (by name/key, HTTPX's merge rules).
    pub fn merge_into(&self, req: &Request) -> Request {
        let mut out = req.clone();
        let mut headers = Headers::with_capacity(self.inner.headers.len() + req.headers.len());
        if let Some(h) = req.headers.get("Host") {
            headers.set_unchecked("Host", h);
        }
        headers.update(&self.inner.headers);
        let mut own = req.headers.clone();
        own.remove("Host");
        own.remove("Cookie");
        headers.update(&own);
        out.headers = headers;
        if !self.inner.params.is_empty() {
            let mut merged = self.inner.params.clone();
            let own: Vec<(String, String)> =
                req.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            urls::merge_params(&mut merged, &own);
            out.url.set_query(None);
            urls::apply_params(&mut out.url, &merged);
        }
        let jar = self.inner.jar.header_for(&out.url);
        let own_cookie = req.headers.get("Cookie").map(str::to_string);
        if let Some(c) = jar {
            out.headers.set_unchecked("Cookie", &c);
        }
        if let Some(c) = own_cookie {
            out.merge_cookies(c.split(';').filter_map(|p| p.trim().split_once('=')));
        }
        out
    }

    /// HTTPX's top-level `httpx.request(...)` for a request built beforehand: a fresh
    /// client from `cfg` (timeouts, TLS, proxies, auth, redirects, cookies, headers
    /// and params of the config apply, merged under the request's own by
    /// [`Client::merge_into`]), one send with the body read, then the client closed.
    pub fn send_once(cfg: &ClientConfig, req: &Request) -> Result<Response> {
        Client::send_once_with(cfg, req, &SendOptions::default())
    }

    /// [`Client::send_once`] with this send's auth / follow_redirects choice.
    pub fn send_once_with(cfg: &ClientConfig, req: &Request, opts: &SendOptions) -> Result<Response> {
        let client = Client::new(cfg)?;
        let merged = client.merge_into(req);
        let result = client.send_with(&merged, opts).and_then(|mut r| r.body().map(|_| ()).map(|_| r));
        client.close();
        result
    }

    /// `urls::resolve` against this client's base_url, with a one-entry cache: a loop
    /// over the same URL skips the parse (the url crate runs IDNA even for an IP
    /// literal: ~5% of the CPU of a keep-alive GET). Resolving is a pure function of
    /// (base_url, string), so the cached result is what parsing would give. Never
    /// waits: a lock held by another thread means parsing as usual.
    fn resolve_url(&self, s: &str) -> Result<Url> {
        // Without a base_url the result depends on the string alone: one entry shared
        // by every client of the process (a new client per request parses nothing).
        let last = match self.inner.base_url {
            None => &LAST_ABSOLUTE_URL,
            Some(_) => &self.inner.last_url,
        };
        if let Ok(g) = last.try_lock() {
            if let Some((k, u)) = g.as_ref() {
                if k == s {
                    return Ok(u.clone());
                }
            }
        }
        let url = urls::resolve(self.inner.base_url.as_ref(), s)?;
        if s.len() <= 2048 {
            if let Ok(mut g) = last.try_lock() {
                match g.as_mut() {
                    Some((k, u)) => {
                        k.clear();
                        k.push_str(s);
                        u.clone_from(&url);
                    }
                    None => *g = Some((s.to_string(), url.clone())),
                }
            }
        }
        Ok(url)
    }

    /// Send a request with the client's auth and redirect setting; returns once the
    /// response head is in (body still to read). The request is not consumed.
    pub fn send(&self, req: &Request) -> Result<Response> {
        self.send_with(req, &SendOptions::default())
    }

    /// Send a request with this send's own auth / follow_redirects choice (HTTPX
    /// `client.send(request, auth=..., follow_redirects=...)`).
    pub fn send_with(&self, req: &Request, opts: &SendOptions) -> Result<Response> {
        if self.is_closed() {
            return Err(Error::ClientClosed("cannot send a request: the client has been closed".into()));
        }
        let _guard = self.sending_guard()?;
        block_now(self.send_core(req, opts, &Blocking))
    }

    /// [`Client::send_with`] consuming the request: no copy of it is made (the
    /// response keeps it as sent). For a request built to be sent once
    /// (`httpx_client_get` and the other one-call sends).
    pub fn send_owned(&self, req: Request, opts: &SendOptions) -> Result<Response> {
        if self.is_closed() {
            return Err(Error::ClientClosed("cannot send a request: the client has been closed".into()));
        }
        let _guard = self.sending_guard()?;
        block_now(self.send_core_impl(req, opts, &Blocking))
    }

    /// Mark this thread as sending on this client until the guard drops: a callback
    /// that sends on the same client meanwhile gets `RecursiveCall`. `send_with` takes
    /// one per send; the multi one per `perform`.
    pub(crate) fn sending_guard(&self) -> Result<SendingGuard> {
        SendingGuard::enter(self.inner.id)
    }

    /// Everything `send_with` does (closed check, total deadline and cancel, auth
    /// choice and flows, redirects, hooks, cookies, observers, `elapsed`), as a future
    /// over the exchange step `x`; `send_with` = `block_now(send_core(.., &Blocking))`.
    /// Not the `SendingGuard`: the caller holds that. The clock (`started`, the total
    /// timeout) starts at the first poll. Holds no lock across an `.await`.
    pub(crate) fn send_core<'a, X: Exchange>(
        &'a self,
        req: &'a Request,
        opts: &'a SendOptions,
        x: &'a X,
    ) -> impl Future<Output = Result<Response>> + 'a {
        // The send works on its own copy (auth, framing and redirects change it).
        self.send_core_impl(req.clone(), opts, x)
    }

    /// [`Client::send_core`] owning its inputs: a `'static` future (for an executor
    /// that keeps transfers in a list), with the client, the request, the options
    /// and the exchange stored inside it.
    #[allow(dead_code)] // the multi's entry point (src/multi)
    pub(crate) async fn send_core_owned<X: Exchange + 'static>(
        self,
        req: Request,
        opts: SendOptions,
        x: X,
    ) -> Result<Response> {
        self.send_core_impl(req, &opts, &x).await
    }

    async fn send_core_impl<X: Exchange>(&self, mut req: Request, opts: &SendOptions, x: &X) -> Result<Response> {
        if self.is_closed() {
            return Err(Error::ClientClosed("cannot send a request: the client has been closed".into()));
        }
        let started = Instant::now();
        let total = req.options.total_timeout.unwrap_or(self.inner.total_timeout);
        let guard = Guard::new(total.map(|t| started + t), req.options.cancel.clone());
        // A token fired before the send: nothing is sent at all.
        guard.check()?;
        urls::check_http(&req.url)?;
        req.ensure_framing();
        let timeouts = req.options.timeouts.unwrap_or(self.inner.timeouts);
        let follow = opts.follow_redirects.unwrap_or(self.inner.follow_redirects);
        let ctx = SendContext {
            timeouts,
            head_limits: self.inner.head_limits,
            started,
            observers: self.inner.observers.clone(),
            guard,
        };
        let auth = self.auth_for(&mut req, &opts.auth)?;
        let result = match auth.as_deref() {
            None => self.redirect_loop(req, follow, &ctx, None, x).await,
            Some(Auth::Basic { user, pass }) => {
                req.headers.set_unchecked("Authorization", &auth::basic_header(user, pass));
                self.redirect_loop(req, follow, &ctx, None, x).await
            }
            Some(Auth::Netrc(n)) => {
                if let Some((u, p)) = req.url.host_str().and_then(|h| n.lookup(h)) {
                    req.headers.set_unchecked("Authorization", &auth::basic_header(&u, &p));
                }
                self.redirect_loop(req, follow, &ctx, None, x).await
            }
            Some(Auth::Digest(d)) => self.send_digest(req, d, follow, &ctx, x).await,
            Some(Auth::Custom(flow)) => self.send_custom(req, flow.as_ref(), follow, &ctx, x).await,
        };
        let mut resp =
            result.map_err(|e| ctx.guard.classify(e)).inspect_err(|e| ctx.observers.failed(started.elapsed(), e))?;
        resp.elapsed = started.elapsed();
        Ok(resp)
    }

    /// Which auth applies (HTTPX `_build_request_auth`): the request's, else the
    /// client's, else URL credentials, else .netrc when trust_env.
    fn auth_for(&self, req: &mut Request, choice: &AuthChoice) -> Result<Option<Arc<Auth>>> {
        let url_user = urls_userinfo(&mut req.url);
        match choice {
            AuthChoice::Disabled => return Ok(None),
            AuthChoice::Use(a) => return Ok(Some(a.clone())),
            AuthChoice::Inherit => {}
        }
        if let Some(a) = &self.inner.auth {
            return Ok(Some(a.clone()));
        }
        if let Some((u, p)) = url_user {
            return Ok(Some(Arc::new(Auth::Basic { user: u, pass: p })));
        }
        if self.inner.trust_env && !req.headers.contains("Authorization") {
            if let Some(n) = self.netrc()? {
                if let Some(host) = req.url.host_str() {
                    if let Some((u, p)) = n.lookup(host) {
                        return Ok(Some(Arc::new(Auth::Basic { user: u, pass: p })));
                    }
                }
            }
        }
        Ok(None)
    }

    /// The .netrc of this client, read once (HTTPX caches it per client).
    fn netrc(&self) -> Result<Option<Arc<Netrc>>> {
        if let Some(n) = self.inner.netrc.get() {
            return Ok(n.clone());
        }
        let _l = self.inner.netrc_lock.lock().map_err(|_| Error::Internal("netrc lock".into()))?;
        if let Some(n) = self.inner.netrc.get() {
            return Ok(n.clone());
        }
        let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
        // Shared per process, re-read only when the file changed (netrc::load_cached).
        let loaded = crate::netrc::load_cached(std::env::var_os("NETRC").as_deref(), home.as_deref())?;
        let _ = self.inner.netrc.set(loaded.clone());
        Ok(loaded)
    }

    async fn send_digest<X: Exchange>(
        &self,
        mut req: Request,
        d: &auth::DigestAuth,
        follow: bool,
        ctx: &SendContext,
        x: &X,
    ) -> Result<Response> {
        let lock = || d.cache.lock().map_err(|_| Error::Internal("digest cache".into()));
        {
            let mut cache = lock()?;
            if let Some(state) = cache.get_mut(&urls::origin(&req.url)) {
                let header = digest_header(&mut req, d, state)?;
                req.headers.set_unchecked("Authorization", &header);
            }
        }
        let replay = req.clone();
        let mut resp = self.redirect_loop(req, follow, ctx, Some(d), x).await?;
        if resp.status != 401 {
            return Ok(resp);
        }
        let ch = {
            let values: Vec<&str> = resp.headers.get_all("WWW-Authenticate").collect();
            digest::parse_challenges(&values)?
        };
        let Some(ch) = ch else { return Ok(resp) };
        // The origin that answered 401 (after redirects, maybe not the first one).
        let origin = urls::origin(&resp.request.url);
        let sent_digest = resp.request.headers.get("Authorization").is_some_and(|v| v.starts_with("Digest "));
        if sent_digest && !ch.stale {
            // Our credentials were refused outright: wrong user or password.
            lock()?.remove(&origin);
            return Ok(resp);
        }
        if !replay.body.is_replayable() {
            return Err(Error::StreamConsumed(
                "digest auth must resend the request, but its body is a one-shot stream".into(),
            ));
        }
        resp.drain()?;
        let mut req = replay;
        self.refresh_cookies(&mut req);
        {
            let mut cache = lock()?;
            match cache.get_mut(&origin) {
                Some(s) => s.replace(ch),
                None => {
                    cache.insert(origin.clone(), digest::DigestState::new(ch));
                }
            }
            // The first request gets a header when its own origin has a challenge
            // now; redirect hops get theirs in the redirect loop.
            if let Some(state) = cache.get_mut(&urls::origin(&req.url)) {
                let header = digest_header(&mut req, d, state)?;
                req.headers.set_unchecked("Authorization", &header);
            }
        }
        let mut second = self.redirect_loop(req, follow, ctx, Some(d), x).await?;
        let mut history = std::mem::take(&mut resp.history);
        history.push(resp);
        history.append(&mut second.history);
        second.history = history;
        Ok(second)
    }

    async fn send_custom<X: Exchange>(
        &self,
        mut req: Request,
        flow: &dyn auth::AuthFlow,
        follow: bool,
        ctx: &SendContext,
        x: &X,
    ) -> Result<Response> {
        if flow.requires_request_body() {
            req.body.buffer()?;
        }
        let mut last: Option<Response> = None;
        let mut history: Vec<Response> = Vec::new();
        let mut step = 0u32;
        loop {
            if step > MAX_AUTH_STEPS {
                return Err(Error::Callback(format!("auth flow took more than {MAX_AUTH_STEPS} steps")));
            }
            let mut s = FlowStep { request: &mut req, response: last.as_mut(), queued: None, step };
            let action = flow.step(&mut s)?;
            let queued = s.queued.take();
            step += 1;
            match action {
                FlowAction::Done if last.is_some() => {
                    let mut r = last.take().ok_or_else(|| Error::Internal("flow".into()))?;
                    let mut h = std::mem::take(&mut history);
                    h.append(&mut r.history);
                    r.history = h;
                    return Ok(r);
                }
                FlowAction::Done | FlowAction::Send => {
                    let to_send = match queued {
                        Some(mut q) => {
                            q.ensure_framing();
                            q
                        }
                        None => {
                            if step > 1 {
                                self.refresh_cookies(&mut req);
                            }
                            req.clone()
                        }
                    };
                    let mut resp = self.redirect_loop(to_send, follow, ctx, None, x).await?;
                    if flow.requires_response_body() {
                        resp.body()?;
                    }
                    if let Some(mut prev) = last.take() {
                        prev.drain()?;
                        history.append(&mut prev.history);
                        history.push(prev);
                    }
                    if action == FlowAction::Done {
                        resp.history = history;
                        return Ok(resp);
                    }
                    last = Some(resp);
                }
            }
        }
    }

    fn transport_for(&self, url: &Url) -> &Arc<dyn Transport> {
        match self.inner.mounts.lookup(url) {
            Some(Some(t)) => t,
            _ => &self.inner.transport,
        }
    }

    /// HTTPX `_send_handling_redirects`: hooks, one exchange, cookies, redirects.
    /// With `digest`, every redirected request that keeps its
    /// credentials gets a fresh Digest response from the cached challenge of its
    /// origin (its own `uri=`, method and nonce count, RFC 7616 section 3.4) instead
    /// of the previous request's header, which HTTPX 0.28.1 resends unchanged.
    async fn redirect_loop<X: Exchange>(
        &self,
        mut req: Request,
        follow: bool,
        ctx: &SendContext,
        digest: Option<&auth::DigestAuth>,
        x: &X,
    ) -> Result<Response> {
        let mut history: Vec<Response> = Vec::new();
        loop {
            // Between redirects and auth round trips: stop as soon as the token fires
            // or the total deadline passes.
            ctx.guard.check()?;
            for hook in &self.inner.hooks.request {
                hook(&mut req)?;
            }
            let transport = self.transport_for(&req.url);
            let mut resp = x.exchange(transport, req, ctx).await?;
            resp.set_decode_limits(self.inner.decode_limits, self.inner.default_encoding.clone());
            resp.set_observers(ctx.observers.clone(), ctx.started);
            self.store_cookies(&resp);
            for hook in &self.inner.hooks.response {
                hook(&mut resp)?;
            }
            if !follow || !resp.is_redirect() {
                if resp.is_redirect() {
                    // HTTPX sets `next_request` here and raises when it cannot be
                    // built (e.g. a Location with another scheme); a redirect that is
                    // not followed should not fail the send, so it is just left unset.
                    resp.next_request = self.redirect_request(&resp.request, &resp).ok().map(Box::new);
                }
                resp.history = history;
                return Ok(resp);
            }
            if history.len() as u32 >= self.inner.max_redirects {
                return Err(Error::TooManyRedirects(format!(
                    "exceeded the maximum of {} redirects",
                    self.inner.max_redirects
                )));
            }
            let mut next = self.redirect_request(&resp.request, &resp)?;
            if let Some(d) = digest {
                let kept = urls::origin(&next.url) == urls::origin(&resp.request.url)
                    || is_https_upgrade(&resp.request.url, &next.url);
                if kept {
                    let mut cache = d.cache.lock().map_err(|_| Error::Internal("digest cache".into()))?;
                    if let Some(state) = cache.get_mut(&urls::origin(&next.url)) {
                        let header = digest_header(&mut next, d, state)?;
                        next.headers.set_unchecked("Authorization", &header);
                    }
                }
            }
            ctx.observers.debug_text(|| format!("Following {} redirect to {}", resp.status, next.url));
            resp.drain()?;
            history.push(resp);
            req = next;
        }
    }

    /// Before an auth resend: cookies the server set meanwhile (e.g. on the 401) join
    /// the request's Cookie header, as HTTPX's DigestAuth does.
    fn refresh_cookies(&self, req: &mut Request) {
        let Some(jar) = self.inner.jar.header_for(&req.url) else { return };
        req.merge_cookies(jar.split(';').filter_map(|p| p.trim().split_once('=')));
    }

    fn store_cookies(&self, resp: &Response) {
        let values: Vec<&str> = resp.headers.get_all("Set-Cookie").collect();
        if !values.is_empty() {
            self.inner.jar.store_from_response(&resp.url, &values);
        }
    }

    /// HTTPX `_build_redirect_request`.
    fn redirect_request(&self, req: &Request, resp: &Response) -> Result<Request> {
        let location = resp.headers.get("Location").unwrap_or("");
        let mut url = req
            .url
            .join(location.trim())
            .map_err(|e| Error::RemoteProtocol(format!("invalid redirect Location {location:?}: {e}")))?;
        match url.scheme() {
            "http" | "https" => {}
            other => {
                return Err(Error::UnsupportedProtocol(format!("redirect to an unsupported protocol '{other}://'")))
            }
        }
        urls::check_http(&url)?;
        if url.fragment().is_none() {
            if let Some(f) = req.url.fragment() {
                url.set_fragment(Some(f));
            }
        }
        let mut method = req.method.clone();
        if resp.status == 303 && method != "HEAD" {
            method = "GET".into();
        }
        if resp.status == 302 && method != "HEAD" {
            method = "GET".into();
        }
        if resp.status == 301 && method == "POST" {
            method = "GET".into();
        }
        let mut headers = req.headers.clone();
        let same_origin = urls::origin(&url) == urls::origin(&req.url);
        if !same_origin {
            if !is_https_upgrade(&req.url, &url) {
                headers.remove("Authorization");
                headers.remove("Proxy-Authorization");
            }
            headers.set_unchecked("Host", &urls::host_header(&url));
        }
        let mut body = req.body.clone();
        if method != req.method && method == "GET" {
            headers.remove("Content-Length");
            headers.remove("Transfer-Encoding");
            headers.remove("Content-Type");
            body = Body::Empty;
        } else if !body.is_replayable() {
            return Err(Error::StreamConsumed(format!(
                "a {} redirect must resend the request body, but it is a one-shot stream",
                resp.status
            )));
        }
        headers.remove("Cookie");
        let mut next = req.clone();
        next.method = method;
        next.url = url;
        next.headers = headers;
        next.body = body;
        if let Some(c) = self.inner.jar.header_for(&next.url) {
            next.headers.set_unchecked("Cookie", &c);
        }
        Ok(next)
    }
}

/// http -> https on the same host and default ports keeps credentials (HTTPX).
fn is_https_upgrade(from: &Url, to: &Url) -> bool {
    from.scheme() == "http"
        && to.scheme() == "https"
        && from.host_str() == to.host_str()
        && from.port().is_none()
        && to.port().is_none()
}

/// Take user:password out of the URL (it is never sent in the URL).
fn urls_userinfo(url: &mut Url) -> Option<(String, String)> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let dec = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    let creds = (dec(url.username()), dec(url.password().unwrap_or("")));
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Some(creds)
}

fn digest_header(req: &mut Request, d: &auth::DigestAuth, state: &mut digest::DigestState) -> Result<String> {
    let needs_body =
        state.challenge().qop.iter().all(|q| *q == digest::Qop::AuthInt) && !state.challenge().qop.is_empty();
    if needs_body {
        req.body.buffer()?;
    }
    let nc = state.next_nc();
    let cnonce = digest::new_cnonce();
    let uri = urls::request_target(&req.url).to_string();
    digest::authorization(
        state.challenge(),
        &digest::DigestParams {
            username: &d.user,
            password: &d.pass,
            method: &req.method,
            uri: &uri,
            body: req.body.as_bytes(),
            nc,
            cnonce: &cnonce,
        },
    )
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.inner.id)
            .field("base_url", &self.inner.base_url.as_ref().map(|u| u.as_str()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    //! The send logic over a waker-driven exchange (Pending once per round trip, as
    //! the multi's) gives what the blocking exchange gives: same requests on the
    //! wire, same redirects, Digest and custom-flow results.

    use std::cell::Cell;
    use std::sync::atomic::AtomicBool;
    use std::task::Wake;

    use super::*;
    use crate::auth::AuthFlow;
    use crate::transport::callback::{CallbackTransport, Handler, ResponseBuilder};

    /// An in-process server: redirects (`/r/N`), Digest-protected paths (`/d/start`
    /// redirects to `/d/end`, both need their own Digest response), a custom
    /// challenge (`/c`). It logs what each request carried.
    struct Server {
        log: Arc<Mutex<Vec<String>>>,
    }

    fn field<'h>(h: &'h str, name: &str) -> &'h str {
        h.split(", ")
            .find_map(|kv| kv.trim_start_matches("Digest ").strip_prefix(name)?.strip_prefix('='))
            .unwrap_or("-")
    }

    impl Handler for Server {
        fn handle(&self, req: &Request, out: &mut ResponseBuilder) -> Result<()> {
            let path = req.url.path().to_string();
            let auth = req.headers.get("Authorization").unwrap_or("").to_string();
            let cookie = req.headers.get("Cookie").unwrap_or("-").to_string();
            let authz = if auth.starts_with("Digest ") {
                format!(
                    "digest uri={} nc={} user={}",
                    field(&auth, "uri"),
                    field(&auth, "nc"),
                    field(&auth, "username")
                )
            } else {
                "-".into()
            };
            let token = req.headers.get("X-Token").unwrap_or("-").to_string();
            self.log
                .lock()
                .unwrap()
                .push(format!("{} {path} auth[{authz}] cookie[{cookie}] token[{token}]", req.method));
            if let Some(n) = path.strip_prefix("/r/") {
                let n: u32 = n.parse().unwrap();
                if n > 0 {
                    out.set_status(302)?;
                    out.headers.set_unchecked("Location", &format!("/r/{}", n - 1));
                    out.set_body_bytes(b"moved".to_vec());
                } else {
                    out.set_body_bytes(b"done".to_vec());
                }
            } else if path.starts_with("/d/") {
                let ok = auth.starts_with("Digest ") && field(&auth, "uri") == format!("\"{path}\"");
                if !ok {
                    out.set_status(401)?;
                    out.headers.set_unchecked("WWW-Authenticate", "Digest realm=\"t\", nonce=\"abc\", qop=\"auth\"");
                    out.headers.set_unchecked("Set-Cookie", "s=1; Path=/");
                    out.set_body_bytes(b"who are you".to_vec());
                } else if path == "/d/start" {
                    out.set_status(302)?;
                    out.headers.set_unchecked("Location", "/d/end");
                } else {
                    out.set_body_bytes(b"secret".to_vec());
                }
            } else if path == "/c" {
                if token == "tok" {
                    out.set_body_bytes(b"ok".to_vec());
                } else {
                    out.set_status(401)?;
                    out.headers.set_unchecked("X-Challenge", "tok");
                    out.set_body_bytes(b"challenge".to_vec());
                }
            }
            Ok(())
        }
    }

    /// Custom flow: send; on a 401 answer the X-Challenge in X-Token and send again.
    struct TokenFlow;

    impl AuthFlow for TokenFlow {
        fn requires_response_body(&self) -> bool {
            true
        }
        fn step(&self, s: &mut FlowStep<'_>) -> Result<FlowAction> {
            match s.response.as_deref_mut() {
                None => Ok(FlowAction::Send),
                Some(r) if r.status == 401 => {
                    assert_eq!(r.body()?, b"challenge");
                    let tok = r.headers.get("X-Challenge").unwrap_or("").to_string();
                    s.request.headers.set_unchecked("X-Token", &tok);
                    Ok(FlowAction::Send)
                }
                Some(_) => Ok(FlowAction::Done),
            }
        }
    }

    /// The multi's shape: each round trip is Pending once (after waking its waker),
    /// then Ready with a response whose body is already in memory.
    struct Toy {
        pendings: Cell<u32>,
    }

    impl Exchange for Toy {
        fn exchange<'a>(
            &'a self,
            transport: &'a Arc<dyn Transport>,
            req: Request,
            ctx: &'a SendContext,
        ) -> impl Future<Output = Result<Response>> + 'a {
            let mut req = Some(req);
            std::future::poll_fn(move |cx| {
                if let Some(r) = req.take_if(|_| self.pendings.get() % 2 == 1) {
                    self.pendings.set(self.pendings.get() + 1);
                    return Poll::Ready(transport.handle(r, ctx));
                }
                self.pendings.set(self.pendings.get() + 1);
                cx.waker().wake_by_ref();
                Poll::Pending
            })
        }
    }

    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// A minimal executor: poll, and poll again only after a wake-up.
    fn run<F: Future>(f: F) -> F::Output {
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut f = pin!(f);
        for _ in 0..1000 {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            assert!(flag.0.swap(false, Ordering::SeqCst), "Pending without a wake-up");
        }
        panic!("the send did not finish in 1000 polls");
    }

    fn client(log: &Arc<Mutex<Vec<String>>>) -> Client {
        let t = CallbackTransport::new(Box::new(Server { log: log.clone() }));
        let cfg = ClientConfig { transport: Some(Arc::new(t)), follow_redirects: true, ..ClientConfig::default() };
        Client::new(&cfg).unwrap()
    }

    /// What a send observably did: result, history, body, the server's log.
    fn outcome(r: Result<Response>, log: &Mutex<Vec<String>>) -> String {
        let mut s = match r {
            Ok(mut r) => {
                let hist: Vec<String> = r.history.iter().map(|h| format!("{} {}", h.status, h.url)).collect();
                let body = String::from_utf8_lossy(r.body().unwrap()).into_owned();
                format!("{} {} body={body:?} history={hist:?}\n", r.status, r.url)
            }
            Err(e) => format!("error {e}\n"),
        };
        for l in log.lock().unwrap().iter() {
            s.push_str(l);
            s.push('\n');
        }
        s
    }

    /// One scenario through both exchanges on fresh clients (twice each, so the
    /// second send sees the Digest cache and cookies of the first).
    fn both(url: &str, opts: impl Fn() -> SendOptions) -> (String, String, u32) {
        let (lb, la) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
        let (cb, ca) = (client(&lb), client(&la));
        let (ob, oa) = (opts(), opts());
        let mut blocking = String::new();
        let mut driven = String::new();
        let toy = Toy { pendings: Cell::new(0) };
        for _ in 0..2 {
            let rb = cb.send_with(&cb.build_request("GET", url).unwrap(), &ob);
            blocking.push_str(&outcome(rb, &lb));
            lb.lock().unwrap().clear();
            let req = ca.build_request("GET", url).unwrap();
            let ra = run(ca.send_core(&req, &oa, &toy));
            driven.push_str(&outcome(ra, &la));
            la.lock().unwrap().clear();
        }
        // The owned form behaves the same (a third send on the async client).
        let req = ca.build_request("GET", url).unwrap();
        let owned = run(ca.clone().send_core_owned(req, opts(), Toy { pendings: Cell::new(0) }));
        let rb = cb.send_with(&cb.build_request("GET", url).unwrap(), &opts());
        assert_eq!(outcome(owned, &la), outcome(rb, &lb));
        (blocking, driven, toy.pendings.get())
    }

    #[test]
    fn waker_driven_exchange_follows_redirects_as_blocking() {
        let (b, a, pendings) = both("http://t.test/r/3", SendOptions::default);
        assert_eq!(a, b);
        assert!(b.contains("200 http://t.test/r/0 body=\"done\""), "{b}");
        assert!(b.contains("history=[\"302 http://t.test/r/3\", \"302 http://t.test/r/2\", \"302 http://t.test/r/1\"]"));
        // 4 round trips per send, 2 sends, each Pending once then Ready.
        assert_eq!(pendings, 16);
        // Not followed: the same next_request and no history on both sides.
        let opts = || SendOptions { follow_redirects: Some(false), ..SendOptions::default() };
        let (b, a, _) = both("http://t.test/r/1", opts);
        assert_eq!(a, b);
        assert!(b.starts_with("302 http://t.test/r/1 body=\"moved\" history=[]"), "{b}");
    }

    #[test]
    fn waker_driven_exchange_runs_digest_as_blocking() {
        let d1 = Arc::new(Auth::digest("u", "p").unwrap());
        let d2 = Arc::new(Auth::digest("u", "p").unwrap());
        // A fresh Digest auth per client, shared by that client's sends (the cache).
        let (lb, la) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
        let (cb, ca) = (client(&lb), client(&la));
        let (ob, oa) = (
            SendOptions { auth: AuthChoice::Use(d1), ..SendOptions::default() },
            SendOptions { auth: AuthChoice::Use(d2), ..SendOptions::default() },
        );
        let toy = Toy { pendings: Cell::new(0) };
        for round in 0..2 {
            let rb = cb.send_with(&cb.build_request("GET", "http://t.test/d/start").unwrap(), &ob);
            let b = outcome(rb, &lb);
            lb.lock().unwrap().clear();
            let req = ca.build_request("GET", "http://t.test/d/start").unwrap();
            let a = outcome(run(ca.send_core(&req, &oa, &toy)), &la);
            la.lock().unwrap().clear();
            assert_eq!(a, b, "round {round}");
            assert!(b.starts_with("200 http://t.test/d/end body=\"secret\""), "{b}");
            if round == 0 {
                // 401, then the challenge answered (cookie of the 401 refreshed in),
                // then the redirect hop with its own uri= and nc.
                assert!(b.contains("GET /d/start auth[-] cookie[-]"), "{b}");
                assert!(
                    b.contains("GET /d/start auth[digest uri=\"/d/start\" nc=00000001 user=\"u\"] cookie[s=1]"),
                    "{b}"
                );
                assert!(b.contains("GET /d/end auth[digest uri=\"/d/end\" nc=00000002 user=\"u\"] cookie[s=1]"), "{b}");
            } else {
                // The cached challenge: authenticated up front, no 401.
                assert!(!b.contains("auth[-]"), "{b}");
            }
        }
    }

    #[test]
    fn waker_driven_exchange_runs_custom_flow_as_blocking() {
        let opts = || SendOptions {
            auth: AuthChoice::Use(Arc::new(Auth::Custom(Box::new(TokenFlow)))),
            ..SendOptions::default()
        };
        let (b, a, _) = both("http://t.test/c", opts);
        assert_eq!(a, b);
        assert!(b.starts_with("200 http://t.test/c body=\"ok\" history=[\"401 http://t.test/c\"]"), "{b}");
        assert!(b.contains("GET /c auth[-] cookie[-] token[tok]"), "{b}");
    }

    #[test]
    fn block_now_refuses_a_pending_exchange() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let c = client(&log);
        let req = c.build_request("GET", "http://t.test/r/0").unwrap();
        let toy = Toy { pendings: Cell::new(0) };
        let e = block_now(c.send_core(&req, &SendOptions::default(), &toy)).unwrap_err();
        assert!(matches!(e, Error::Internal(_)), "{e}");
    }

    #[test]
    fn send_core_future_holds_no_lock_across_await() {
        // A MutexGuard is !Send: the future over a Send exchange being Send proves no
        // guard (digest cache, netrc) lives across an .await.
        fn assert_send<T: Send>(_: &T) {}
        let log = Arc::new(Mutex::new(Vec::new()));
        let c = client(&log);
        let req = c.build_request("GET", "http://t.test/r/0").unwrap();
        let opts = SendOptions::default();
        let f = c.send_core(&req, &opts, &Blocking);
        assert_send(&f);
        let owned = c.clone().send_core_owned(req.clone(), opts.clone(), Blocking);
        assert_send(&owned);
        fn assert_static<T: 'static>(_: &T) {}
        assert_static(&owned);
        assert!(block_now(f).is_ok() && block_now(owned).is_ok());
    }
}

impl Client {
    /// The client's cap on a buffered body (`ClientConfig::max_body_bytes`): the multi
    /// reads bodies itself and stops there.
    pub(crate) fn max_body_bytes(&self) -> Option<u64> {
        self.inner.decode_limits.max_body_bytes
    }
}

//! The default network transport: HTTP/1.1 and HTTP/2 over one connection pool,
//! directly, over a Unix socket, or through a proxy. Connections are built by the
//! connector chain in `connect/`; this file picks the protocol, checks connections in
//! and out of the pool, retries and traces.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use url::Url;

use crate::connect::{Dialed, Dialer, Target};
use crate::deadline::Guard;
use crate::debug::DebugKind;
use crate::error::{Error, Result};
use crate::http1::{Conn, Framing};
use crate::http2::H2Body;
use crate::info::{Capture, ConnInfo};
use crate::observe::{Observers, TraceEvent};
use crate::pool::{Checkout, H2Lease, Pool, PoolKey};
use crate::proxy::ProxyConfig;
use crate::request::{Body, BodySource, Request};
use crate::response::{RawBody, Response};
use crate::routing::Router;
use crate::tls::{Roots, TlsConnector, TlsSettings};
use crate::transport::{SendContext, Transport};
use crate::types::{Limits, ProxyMode};
use crate::urls;

/// Options of the network transport (HTTPX `HTTPTransport(...)`).
#[derive(Clone, Debug)]
pub struct HttpOptions {
    pub limits: Limits,
    pub tls: TlsSettings,
    pub trust_env: bool,
    /// Connect attempts after the first, with exponential backoff (0.5 s, 1 s, ...).
    pub retries: u32,
    pub local_address: Option<SocketAddr>,
    pub uds: Option<PathBuf>,
    /// (routing key, proxy URL or None for "no proxy", mode)
    pub proxies: Vec<(String, Option<String>, ProxyMode)>,
    /// Offer HTTP/2 (ALPN "h2") on https connections over TCP: direct, through a
    /// CONNECT tunnel of an http:// proxy, or through SOCKS.
    pub http2: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            limits: Limits::default(),
            tls: TlsSettings::default(),
            trust_env: true,
            retries: 0,
            local_address: None,
            uds: None,
            proxies: Vec::new(),
            http2: false,
        }
    }
}

/// Pooled HTTP/1.1 + HTTP/2 network transport.
pub struct HttpTransport {
    /// One pool for both protocols (limits, keep-alive expiry, stats).
    pool: Pool,
    dialer: Dialer,
    /// Origins that answered an h2 offer with HTTP/1.1.
    h1_only: std::sync::Mutex<Vec<PoolKey>>,
    /// Held while opening an HTTP/2 connection, so threads that arrive together
    /// share one connection instead of racing to open one each.
    h2_connecting: std::sync::Arc<ConnectGate>,
    proxies: Router<Option<ProxyConfig>>,
}

impl HttpTransport {
    /// Build the transport; TLS material and proxy URLs are checked here.
    pub fn new(opts: HttpOptions) -> Result<HttpTransport> {
        // Trust roots resolved once for the three connectors; each builds its rustls
        // configuration on its first handshake (a plain-http client builds none).
        let roots = Roots::resolve(&opts.tls, opts.trust_env)?;
        let tls =
            TlsConnector::with_roots(&TlsSettings { alpn_http2: false, ..opts.tls.clone() }, opts.trust_env, &roots)?;
        #[cfg(not(feature = "http2"))]
        if opts.http2 {
            return Err(crate::http2::not_built());
        }
        let tls_h2 = if opts.http2 {
            Some(TlsConnector::with_roots(
                &TlsSettings { alpn_http2: true, ..opts.tls.clone() },
                opts.trust_env,
                &roots,
            )?)
        } else {
            None
        };
        // Proxies reached over https are verified with default trust.
        let proxy_tls = TlsConnector::with_roots(
            &TlsSettings { client_cert: None, alpn_http2: false, ..opts.tls.clone() },
            opts.trust_env,
            &roots,
        )?;
        let mut proxies = Router::new();
        for (key, url, mode) in &opts.proxies {
            let cfg = match url {
                Some(u) => Some(ProxyConfig::parse(u, *mode)?),
                None => None,
            };
            proxies.insert(key, cfg)?;
        }
        Ok(HttpTransport {
            pool: Pool::new(opts.limits),
            dialer: Dialer {
                tls,
                tls_h2,
                proxy_tls,
                local_address: opts.local_address,
                uds: opts.uds,
                retries: opts.retries,
            },
            h1_only: std::sync::Mutex::new(Vec::new()),
            h2_connecting: std::sync::Arc::new(ConnectGate::default()),
            proxies,
        })
    }

    /// (connections in existence, idle connections), HTTP/1.1 and HTTP/2.
    pub fn pool_stats(&self) -> (usize, usize) {
        self.pool.stats()
    }

    /// The pool and the connectors (the multi drives them from its event loop).
    pub(crate) fn parts(&self) -> (&Pool, &Dialer) {
        (&self.pool, &self.dialer)
    }

    pub(crate) fn proxy_for(&self, url: &Url) -> Option<&ProxyConfig> {
        self.proxies.lookup(url).and_then(|p| p.as_ref())
    }

    /// The pool key of `url`; `tls_id` tells HTTP/1.1 connections from h2-offering ones.
    pub(crate) fn key_for(&self, url: &Url, proxy: Option<&ProxyConfig>, tls_id: u64) -> PoolKey {
        let https = url.scheme() == "https";
        PoolKey {
            scheme: if https { "https" } else { "http" },
            host: url.host_str().unwrap_or("").to_ascii_lowercase(),
            port: url.port_or_known_default().unwrap_or(80),
            tls_id: if https { tls_id } else { 0 },
            proxy: proxy.map(|p| p.identity()).unwrap_or_default(),
        }
    }

    /// Open a new HTTP/1.1 connection for `url`, within the connect timeout.
    fn open(
        &self,
        url: &Url,
        proxy: Option<&ProxyConfig>,
        connect_timeout: Option<Duration>,
        guard: &Guard,
        obs: &Observers,
    ) -> Result<(Conn, bool)> {
        match self.dialer.dial(target(url), proxy, None, connect_timeout, guard, obs)? {
            Dialed::Http1 { conn, forward } => Ok((conn, forward)),
            _ => Err(Error::Internal("HTTP/1.1 dial gave another protocol".into())),
        }
    }
}

pub(crate) fn target(url: &Url) -> Target<'_> {
    Target {
        host: url.host_str().unwrap_or(""),
        port: url.port_or_known_default().unwrap_or(80),
        https: url.scheme() == "https",
    }
}

/// Whether an HTTP/1.1 exchange that failed on a connection is tried once more on a
/// new one (both drivers: this transport and the multi): only a reused connection
/// that died before any response byte (`nothing_received`), a request that may be
/// replayed (`retry_ok`: idempotent method, replayable body), on the first attempt,
/// and only for an error of a connection the server closed under us.
pub fn retry_on_new_connection(e: &Error, reused: bool, nothing_received: bool, retry_ok: bool, attempts: u32) -> bool {
    reused
        && nothing_received
        && retry_ok
        && attempts == 1
        && matches!(e, Error::RemoteProtocol(_) | Error::Read(_) | Error::Write(_) | Error::Tls(_))
}

/// Name the peer and the limit in an error (see `info::explain`).
pub(crate) fn explain(e: Error, peer: &str, ctx: &SendContext) -> Error {
    crate::info::explain(e, peer, &ctx.timeouts)
}

pub(crate) fn proxy_scheme(p: &ProxyConfig) -> &'static str {
    match p.kind {
        crate::proxy::ProxyKind::Http => "http",
        crate::proxy::ProxyKind::Https => "https",
        crate::proxy::ProxyKind::Socks5 { remote_dns: false } => "socks5",
        crate::proxy::ProxyKind::Socks5 { remote_dns: true } => "socks5h",
        crate::proxy::ProxyKind::Socks4a => "socks4a",
        crate::proxy::ProxyKind::Socks4 => "socks4",
    }
}

/// Header fields HTTP/2 does not send (see `H2Conn::send`); Host becomes :authority.
pub(crate) const H2_SKIPPED: &[&str] =
    &["host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"];

pub(crate) fn is_idempotent(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PUT" | "DELETE")
}

impl Transport for HttpTransport {
    fn handle(&self, req: Request, ctx: &SendContext) -> Result<Response> {
        self.handle_inner(req, ctx).map_err(|e| ctx.guard.classify(e))
    }

    fn as_http(&self) -> Option<&HttpTransport> {
        Some(self)
    }

    fn close(&self) {
        self.pool.close();
    }
}

impl HttpTransport {
    fn handle_inner(&self, req: Request, ctx: &SendContext) -> Result<Response> {
        urls::check_http(&req.url)?;
        ctx.guard.check()?;
        let req = if self.dialer.offers_h2(req.url.scheme() == "https", self.proxy_for(&req.url)) {
            match self.send_h2(req, ctx, true) {
                Ok(result) => return result,
                Err(req) => req, // the server chose HTTP/1.1
            }
        } else {
            req
        };
        let url = &req.url;
        let proxy = self.proxy_for(url);
        let retry_ok = is_idempotent(&req.method) && !matches!(req.body, Body::Stream { .. });
        let mut attempts = 0;
        loop {
            attempts += 1;
            let peer = || crate::info::peer_of(url);
            let mut checkout: Checkout = self
                .pool
                .checkout_for(
                    self.key_for(url, proxy, self.dialer.tls.id),
                    ctx.timeouts.pool,
                    &ctx.guard,
                    retry_ok && attempts == 1,
                )
                .map_err(|e| explain(e, &peer(), ctx))?;
            let key = &checkout.key;
            let obs = &ctx.observers;
            let mut cap = Capture::new(ctx.started);
            cap.queued();
            let (mut conn, forward) = match checkout.conn.take() {
                Some(c) => {
                    obs.trace(TraceEvent::ConnectionReused, ctx.started.elapsed(), &key.host);
                    cap.reused(obs, &key.host, key.port, c.info.clone());
                    let fwd = proxy.is_some_and(|p| !p.tunnels(url.scheme() == "https"));
                    (c, fwd)
                }
                None => {
                    let target = if obs.trace.is_some() { format!("{}:{}", key.host, key.port) } else { String::new() };
                    obs.trace(TraceEvent::ConnectStart, ctx.started.elapsed(), &target);
                    cap.connecting(obs, &key.host, key.port, proxy.map(|p| (proxy_scheme(p), p.host.as_str(), p.port)));
                    let mut opened = self
                        .open(url, proxy, ctx.timeouts.connect, &ctx.guard, obs)
                        .map_err(|e| explain(e, &peer(), ctx))?;
                    opened.0.info =
                        Some(cap.connected(obs, &key.host, key.port, ConnInfo::of_stream(&opened.0.stream)));
                    if opened.0.stream.is_tls() {
                        obs.trace(TraceEvent::TlsDone, ctx.started.elapsed(), &key.host);
                    }
                    obs.trace(TraceEvent::Connected, ctx.started.elapsed(), &target);
                    opened
                }
            };
            conn.debug.clone_from(&obs.debug);
            let reused = checkout.reused;
            conn.set_guard(&ctx.guard);
            let result = exchange(&mut conn, &req, forward, proxy, ctx, &mut cap);
            match result {
                Ok(head) => {
                    let body = Http1Body {
                        conn: Some(conn),
                        checkout: Some(checkout),
                        framing: head.framing,
                        keep_alive: head.keep_alive,
                        guard: ctx.guard.clone(),
                        debug: obs.debug.clone(),
                    };
                    let mut body = Box::new(body);
                    if matches!(head.framing, Framing::Empty) {
                        body.finish();
                    }
                    let mut resp =
                        Response::new(head.status, head.reason, head.version, head.headers, body, req, ctx.started);
                    resp.info = cap.finish(ctx.timeouts.read);
                    return Ok(resp);
                }
                Err((e, nothing_received)) => {
                    checkout.discard(Some(conn));
                    if retry_on_new_connection(&e, reused, nothing_received, retry_ok, attempts) {
                        obs.debug_text(|| format!("Connection died ({e}), retrying on a new connection"));
                        continue;
                    }
                    obs.debug_text(|| format!("Closing connection to {}", peer()));
                    return Err(explain(e, &peer(), ctx));
                }
            }
        }
    }

    /// Send over HTTP/2 when the origin speaks it. Err(req) hands the request back
    /// for HTTP/1.1 (the server chose it in ALPN).
    fn send_h2(
        &self,
        req: Request,
        ctx: &SendContext,
        may_retry: bool,
    ) -> std::result::Result<Result<Response>, Request> {
        let Some(tls) = &self.dialer.tls_h2 else { return Err(req) };
        let url = &req.url;
        let proxy = self.proxy_for(url);
        let key = self.key_for(url, proxy, tls.id);
        let (host, port) = (key.host.clone(), key.port);
        let obs = &ctx.observers;
        let peer = || crate::info::peer_of(url);
        let mut existing = match self.pool.shared(&key) {
            Ok(l) => l,
            Err(e) => return Ok(Err(explain(e, &peer(), ctx))),
        };
        let _connecting = if existing.is_none() {
            let g = match ConnectGate::enter(&self.h2_connecting, &ctx.guard) {
                Ok(g) => g,
                Err(e) => return Ok(Err(e)),
            };
            // Someone may have connected while we waited.
            existing = match self.pool.shared(&key) {
                Ok(l) => l,
                Err(e) => return Ok(Err(explain(e, &peer(), ctx))),
            };
            Some(g)
        } else {
            None
        };
        let mut cap = Capture::new(ctx.started);
        cap.queued();
        let lease: H2Lease = match existing {
            Some(l) => {
                obs.trace(TraceEvent::ConnectionReused, ctx.started.elapsed(), &host);
                cap.reused(obs, &host, port, l.conn().map(|c| c.info.clone()));
                l
            }
            None => {
                if self.h1_only.lock().map(|l| l.contains(&key)).unwrap_or(false) {
                    return Err(req);
                }
                // A new HTTP/2 connection takes a slot of the pool like any other.
                let checkout = match self.pool.checkout_guarded(key.clone(), ctx.timeouts.pool, &ctx.guard) {
                    Ok(c) => c,
                    Err(e) => return Ok(Err(explain(e, &peer(), ctx))),
                };
                obs.trace(TraceEvent::ConnectStart, ctx.started.elapsed(), &host);
                cap.connecting(obs, &host, port, proxy.map(|p| (proxy_scheme(p), p.host.as_str(), p.port)));
                match self.dialer.dial(
                    target(url),
                    proxy,
                    Some(&ctx.head_limits),
                    ctx.timeouts.connect,
                    &ctx.guard,
                    obs,
                ) {
                    Ok(Dialed::Http2(c)) => {
                        cap.connected(obs, &host, port, (*c.info).clone());
                        obs.trace(TraceEvent::TlsDone, ctx.started.elapsed(), &host);
                        obs.trace(TraceEvent::Connected, ctx.started.elapsed(), &host);
                        checkout.share(c)
                    }
                    Ok(_) => {
                        drop(checkout);
                        if let Ok(mut l) = self.h1_only.lock() {
                            l.push(key);
                        }
                        return Err(req);
                    }
                    Err(e) => return Ok(Err(explain(e, &peer(), ctx))),
                }
            }
        };
        drop(_connecting);
        let reused = lease.reused;
        let Some(conn) = lease.conn().cloned() else {
            return Ok(Err(Error::Internal("HTTP/2 lease without a connection".into())));
        };
        let mut body = match req.body.open() {
            Ok(b) => b,
            Err(e) => return Ok(Err(e)),
        };
        if obs.debug.is_some() {
            obs.debug(
                DebugKind::HeaderOut,
                &crate::debug::render_h2_request(&req.method, url, &req.headers, H2_SKIPPED),
            );
            crate::debug::wrap_body(&obs.debug, &mut body);
            if let Some(b) = req.body.as_bytes().filter(|b| !b.is_empty()) {
                obs.debug(DebugKind::DataOut, b);
            }
        }
        let t = &ctx.timeouts;
        crate::info::take_sent();
        match conn.send(&req, body, t.read, t.write, t.pool, &ctx.guard) {
            Ok((status, headers, body)) => {
                cap.sent_at(crate::info::take_sent().unwrap_or_else(Instant::now));
                cap.first_byte();
                if obs.trace.is_some() {
                    obs.trace(TraceEvent::RequestSent, ctx.started.elapsed(), &req.method);
                    obs.trace(TraceEvent::HeadersReceived, ctx.started.elapsed(), &status.to_string());
                }
                if obs.debug.is_some() {
                    obs.debug(DebugKind::HeaderIn, &crate::debug::render_h2_response(status, &headers));
                }
                let mut resp = Response::new(
                    status,
                    String::new(),
                    crate::types::Version::Http2,
                    headers,
                    Box::new(PooledH2Body { body, lease: Some(lease) }),
                    req,
                    ctx.started,
                );
                resp.info = cap.finish(t.read);
                Ok(Ok(resp))
            }
            Err((e @ (Error::Cancelled(_) | Error::TotalTimeout(_)), _)) => {
                // Only this stream stops (h2 resets it); the shared connection stays.
                Ok(Err(e))
            }
            Err((e, before_send)) => {
                // A pooled connection the server has since closed (GOAWAY): drop it
                // and, if nothing was sent and the body can be replayed, try a new one.
                lease.discard();
                if reused && before_send && may_retry && req.body.is_replayable() {
                    obs.debug_text(|| format!("HTTP/2 connection died ({e}), retrying on a new connection"));
                    return self.send_h2(req, ctx, false);
                }
                obs.debug_text(|| format!("Closing HTTP/2 connection to {host}:{port}"));
                Ok(Err(explain(e, &crate::info::peer_of(url), ctx)))
            }
        }
    }
}

/// An HTTP/2 response body holding its stream's lease on the pooled connection: at
/// the end of the body (or when it is dropped) the stream no longer counts.
struct PooledH2Body {
    body: H2Body,
    lease: Option<H2Lease>,
}

impl RawBody for PooledH2Body {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let r = self.body.read(buf);
        match &r {
            Ok(0) if !buf.is_empty() => drop(self.lease.take()),
            Err(_) => drop(self.lease.take()),
            _ => {}
        }
        r
    }
}

/// One HTTP/2 connect at a time per transport, so threads that arrive together share
/// one connection. Waiting for the gate obeys the send's cancel token and total
/// deadline (a fire wakes the waiters).
#[derive(Default)]
struct ConnectGate {
    busy: std::sync::Mutex<bool>,
    cv: std::sync::Condvar,
}

struct GateGuard(std::sync::Arc<ConnectGate>);

impl ConnectGate {
    fn enter(gate: &std::sync::Arc<ConnectGate>, guard: &Guard) -> Result<GateGuard> {
        fn poisoned<T>(_: T) -> Error {
            Error::Internal("HTTP/2 connect gate poisoned".into())
        }
        let _reg = guard.cancel.as_ref().map(|c| {
            let g = std::sync::Arc::downgrade(gate);
            c.on_fire(move || {
                if let Some(g) = g.upgrade() {
                    let _l = g.busy.lock();
                    g.cv.notify_all();
                }
            })
        });
        let mut busy = gate.busy.lock().map_err(poisoned)?;
        while *busy {
            guard.check()?;
            busy = match guard.deadline {
                None => gate.cv.wait(busy).map_err(poisoned)?,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now()).max(Duration::from_micros(1));
                    gate.cv.wait_timeout(busy, left).map_err(poisoned)?.0
                }
            };
        }
        guard.check()?;
        *busy = true;
        Ok(GateGuard(gate.clone()))
    }
}

impl Drop for GateGuard {
    fn drop(&mut self) {
        if let Ok(mut b) = self.0.busy.lock() {
            *b = false;
        }
        self.0.cv.notify_all();
    }
}

/// Write the request and read the response head. On error, also says whether no
/// response byte had arrived (then an idempotent request may be retried).
fn exchange(
    conn: &mut Conn,
    req: &Request,
    forward: bool,
    proxy: Option<&ProxyConfig>,
    ctx: &SendContext,
    cap: &mut Capture,
) -> std::result::Result<crate::http1::Head, (Error, bool)> {
    let nothing = |conn: &Conn, e: Error| {
        let n = conn.received == 0;
        (e, n)
    };
    if let Err(e) = conn.set_timeouts(ctx.timeouts.read, ctx.timeouts.write) {
        return Err((e, true));
    }
    let mut body: BodySource = req.body.open().map_err(|e| (e, false))?;
    let total = req.body.len();
    if let (Some(p), BodySource::Reader(r)) = (&ctx.observers.progress, &mut body) {
        let inner = std::mem::replace(r, Box::new(std::io::empty()));
        *r = Box::new(ProgressReader { inner, progress: p.clone(), sent: 0, total });
    }
    crate::debug::wrap_body(&ctx.observers.debug, &mut body);
    let (target, headers) = crate::proxy::forward::request_parts(&req.url, &req.headers, forward, proxy);
    if let Err(e) = conn.write_request(&req.method, &target, &headers, body) {
        // A server may answer early (413, 401...) and close before reading the whole
        // body: report its response rather than the broken pipe, as httpcore does.
        if matches!(e, Error::Write(_)) {
            if let Ok(mut head) = conn.read_head(&req.method, &ctx.head_limits) {
                cap.first_byte();
                head.keep_alive = false;
                return Ok(head);
            }
        }
        let no_bytes = conn.received == 0;
        return Err((e, no_bytes));
    }
    cap.sent();
    if let (Some(_), Some(b)) = (&ctx.observers.debug, req.body.as_bytes().filter(|b| !b.is_empty())) {
        ctx.observers.debug(DebugKind::DataOut, b);
    }
    report_sent(&ctx.observers, req, total).map_err(|e| (e, false))?;
    ctx.observers.trace(TraceEvent::RequestSent, ctx.started.elapsed(), &req.method);
    let head = conn.read_head(&req.method, &ctx.head_limits).map_err(|e| nothing(conn, e))?;
    cap.first_byte();
    if ctx.observers.trace.is_some() {
        ctx.observers.trace(TraceEvent::HeadersReceived, ctx.started.elapsed(), &head.status.to_string());
    }
    Ok(head)
}

/// A response body being read from a pooled connection. At the end the connection
/// goes back to the pool when the server allows keep-alive; a body dropped half-read
/// closes its connection.
struct Http1Body {
    conn: Option<Conn>,
    checkout: Option<Checkout>,
    framing: Framing,
    keep_alive: bool,
    guard: Guard,
    debug: Option<crate::debug::DebugFn>,
}

impl Http1Body {
    fn finish(&mut self) {
        if let (Some(mut conn), Some(co)) = (self.conn.take(), self.checkout.take()) {
            conn.debug = None;
            if self.keep_alive {
                co.release(conn);
            } else {
                self.closing(&co);
                co.discard(Some(conn));
            }
        }
    }

    fn fail(&mut self) {
        if let Some(co) = self.checkout.take() {
            self.closing(&co);
            co.discard(self.conn.take());
        }
    }

    fn closing(&self, co: &Checkout) {
        if let Some(d) = &self.debug {
            d(DebugKind::Text, format!("Closing connection to {}:{}", co.key.host, co.key.port).as_bytes());
        }
    }
}

impl RawBody for Http1Body {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let Some(conn) = self.conn.as_mut() else { return Ok(0) };
        if let Err(e) = self.guard.check() {
            self.fail();
            return Err(e);
        }
        match conn.read_body(&mut self.framing, buf) {
            Ok(0) if !buf.is_empty() => {
                self.finish();
                Ok(0)
            }
            Ok(n) => Ok(n),
            Err(e) => {
                self.fail();
                Err(e)
            }
        }
    }
}

impl Drop for Http1Body {
    fn drop(&mut self) {
        if self.framing == Framing::Done || self.framing == Framing::Empty {
            self.finish();
        } else {
            self.fail();
        }
    }
}

/// Upload progress for in-memory bodies (reported once, after the write).
pub(crate) fn report_sent(obs: &Observers, req: &Request, total: Option<u64>) -> Result<()> {
    if let (Some(p), Some(b)) = (&obs.progress, req.body.as_bytes()) {
        if !b.is_empty() && !p(b.len() as u64, total, 0, None) {
            return Err(Error::Callback("transfer aborted by the progress callback".into()));
        }
    }
    Ok(())
}

/// A streamed request body that reports upload progress as it is read.
struct ProgressReader {
    inner: Box<dyn std::io::Read + Send>,
    progress: crate::observe::ProgressFn,
    sent: u64,
    total: Option<u64>,
}

impl std::io::Read for ProgressReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sent += n as u64;
        if n > 0 && !(self.progress)(self.sent, self.total, 0, None) {
            return Err(crate::request::wrap_err(Error::Callback("transfer aborted by the progress callback".into())));
        }
        Ok(n)
    }
}

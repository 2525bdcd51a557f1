//! Many requests from one thread (libcurl's multi interface, HTTPX's AsyncClient).
//!
//! A [`Multi`] runs any number of transfers of one [`Client`] on the caller's thread,
//! with no thread of its own: [`Multi::add`] queues a send (nothing happens yet),
//! [`Multi::perform`] does the I/O that is ready, [`Multi::fd`] (an epoll fd) is
//! readable whenever `perform` has work, [`Multi::timeout`] says how long the caller
//! may wait at most, [`Multi::next`] hands out finished transfers.
//!
//! Each transfer is the client's own send logic (`Client::send_core`: merging rules,
//! auth flows, redirects, cookies, hooks, total timeout and cancel), with this
//! module's exchange step: HTTP/1.1 through the client's network transport is driven
//! from the event loop (`http.rs`: the same pool, connector chain, proxies and codec
//! as the blocking transport); custom and callback transports (mounts) are called
//! synchronously inside `perform`. Every callback of a transfer (auth flows, hooks,
//! progress, debug, trace, body readers, callback transports) runs inside `perform`
//! on the calling thread. The response arrives with its body read (the client's body
//! cap applies) and decoded as usual.
//!
//! HTTP/2 (`h2.rs`, feature `http2`): when the client enables it, https origins are
//! offered h2 as by the blocking transport; the h2 connection runs as a task of this
//! multi's executor over its own non-blocking TLS socket, and the multi's transfers
//! to one origin are streams multiplexed on one connection (it holds one slot of the
//! client's pool; blocking sends of the same client use their own HTTP/2 connections).
//!
//! Modules: `reactor` (epoll, eventfd, timers), `exec` (the executor), `io`
//! (non-blocking stream I/O, TLS sans-IO), `net` (resolve, connect, TLS, proxy
//! handshakes), `http` (the HTTP/1.1 exchange), `h2` (HTTP/2 streams).

pub mod exec;
#[cfg(feature = "http2")]
pub mod h2;
pub mod http;
pub mod io;
pub mod net;
pub mod reactor;

use std::collections::VecDeque;
use std::future::Future;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::{Client, Exchange, SendOptions};
use crate::error::{Error, Result};
use crate::request::Request;
use crate::response::Response;
use crate::transport::{SendContext, Transport};

use exec::Executor;
use reactor::Reactor;

/// A finished transfer.
pub struct Completion {
    /// The tag given to [`Multi::add`].
    pub tag: u64,
    /// The response with its body read, or what went wrong.
    pub result: Result<Response>,
}

impl std::fmt::Debug for Completion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completion")
            .field("tag", &self.tag)
            .field("result", &self.result.as_ref().map(|r| r.status))
            .finish()
    }
}

/// The multi's exchange step for `Client::send_core`.
struct MultiExchange {
    reactor: Arc<Reactor>,
    body_cap: Option<u64>,
    #[cfg(feature = "http2")]
    h2: Arc<h2::H2Pool>,
}

impl Exchange for MultiExchange {
    #[allow(clippy::manual_async_fn)]
    fn exchange<'a>(
        &'a self,
        transport: &'a Arc<dyn Transport>,
        req: Request,
        ctx: &'a SendContext,
    ) -> impl Future<Output = Result<Response>> + 'a {
        async move {
            match transport.as_http() {
                Some(h) => {
                    #[cfg(feature = "http2")]
                    let req = if !h.parts().1.offers_h2(req.url.scheme() == "https", h.proxy_for(&req.url)) {
                        req
                    } else {
                        let r = &self.reactor;
                        let spawn = |f: exec::BoxFuture<()>| r.spawn(f);
                        let sent = Box::pin(async {
                            let inner = std::pin::pin!(async {
                                Ok(h2::send(r, &self.h2, &spawn, h, req, ctx, self.body_cap).await)
                            });
                            http::guarded(r, &ctx.guard, inner).await
                        })
                        .await;
                        match sent {
                            Ok(Ok(res)) => return res.map_err(|e| ctx.guard.classify(e)),
                            Ok(Err(req)) => req,
                            Err(e) => return Err(ctx.guard.classify(e)),
                        }
                    };
                    // Boxed: the network exchange is most of the state of a transfer;
                    // the client logic's future then stays small to move around.
                    Box::pin(http::send(&self.reactor, h, req, ctx, self.body_cap)).await
                }
                // Custom and callback transports answer synchronously, here, inside
                // perform on the caller's thread.
                None => transport.handle(req, ctx),
            }
        }
    }
}

/// Many transfers of one client, driven from the caller's thread (see the module
/// doc). A multi belongs to one thread at a time (it is `Send`, not `Sync`).
pub struct Multi {
    client: Client,
    reactor: Arc<Reactor>,
    /// Transfers (`Some` output: a completion) and HTTP/2 connection tasks (`None`).
    exec: Executor<Option<Result<Response>>>,
    /// Transfers not complete.
    transfers: usize,
    #[cfg(feature = "http2")]
    h2: Arc<h2::H2Pool>,
    /// Tag of each live task, by task id.
    tags: Vec<Option<u64>>,
    done: VecDeque<Completion>,
}

impl std::fmt::Debug for Multi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Multi").field("running", &self.exec.live()).field("done", &self.done.len()).finish()
    }
}

impl Multi {
    /// A multi for `client`'s transfers (its configuration, cookies and pool). Costs
    /// two file descriptors (an epoll fd and an eventfd).
    pub fn new(client: &Client) -> Result<Multi> {
        Ok(Multi {
            client: client.clone(),
            reactor: Arc::new(Reactor::new()?),
            exec: Executor::default(),
            transfers: 0,
            #[cfg(feature = "http2")]
            h2: Arc::new(h2::H2Pool::default()),
            tags: Vec::new(),
            done: VecDeque::new(),
        })
    }

    /// Queue a send of (a copy of) `req` with the client's auth and redirect
    /// settings. Returns at once; nothing is sent before [`Multi::perform`].
    pub fn add(&mut self, req: &Request, tag: u64) -> Result<()> {
        self.add_with(req, SendOptions::default(), tag)
    }

    /// [`Multi::add`] with this send's own auth / follow_redirects choice.
    pub fn add_with(&mut self, req: &Request, opts: SendOptions, tag: u64) -> Result<()> {
        let x = MultiExchange {
            reactor: self.reactor.clone(),
            body_cap: self.client.max_body_bytes(),
            #[cfg(feature = "http2")]
            h2: self.h2.clone(),
        };
        // Boxed here, once: moved as a pointer from then on (an async block that
        // awaits a captured future copies it into its await slot first).
        let send = Box::pin(self.client.clone().send_core_owned(req.clone(), opts, x));
        let fut = async move {
            let mut res = send.await;
            if let Ok(r) = &mut res {
                // The body is in memory: decoding (and its cap) happens here.
                if let Err(e) = r.body() {
                    return Some(Err(e));
                }
            }
            Some(res)
        };
        let id = self.exec.spawn(&self.reactor, Box::pin(fut));
        if self.tags.len() <= id {
            self.tags.resize(id + 1, None);
        }
        self.tags[id] = Some(tag);
        self.transfers += 1;
        Ok(())
    }

    /// Do the I/O that is ready, waiting up to `timeout` for some (zero: do not
    /// wait; `None`: until something happens). Every callback of the transfers runs
    /// in here, on this thread. Returns the number of transfers not yet complete.
    pub fn perform(&mut self, timeout: Option<Duration>) -> Result<u32> {
        let _sending = self.client.sending_guard()?;
        let until = timeout.map(|t| Instant::now() + t);
        self.run();
        // Wait for something to happen (not past a timer or the caller's limit).
        self.reactor.set_running(false);
        let ready = self.reactor.shared.has_ready();
        if self.transfers > 0 || ready {
            let now = Instant::now();
            let mut wait = until.map(|u| u.saturating_duration_since(now));
            if let Some(t) = self.reactor.next_timer() {
                let left = t.saturating_duration_since(now);
                wait = Some(wait.map_or(left, |w| w.min(left)));
            }
            if ready {
                wait = Some(Duration::ZERO);
            }
            // epoll rounds a sub-millisecond wait down to zero: round up.
            let wait = wait.map(|w| if w > Duration::ZERO && w < Duration::from_millis(1) { Duration::from_millis(1) } else { w });
            // (epoll events hold a pointer-sized union: not Send, so not kept.)
            let mut events = Vec::new();
            self.reactor.poll_events(wait, &mut events)?;
            self.run();
        } else {
            // No transfer, maybe connections (idle HTTP/2 ones, with their expiry
            // timers): take their events without waiting, so the fd stops being
            // readable for them and their tasks see a close or GOAWAY.
            let mut events = Vec::new();
            self.reactor.poll_events(Some(Duration::ZERO), &mut events)?;
            self.run();
        }
        self.reactor.set_running(false);
        if self.reactor.shared.has_ready() {
            // More work than one call does: keep the fd readable.
            self.reactor.signal();
        }
        Ok(self.transfers as u32)
    }

    /// Fire due timers and poll the woken tasks, a few rounds.
    fn run(&mut self) {
        self.reactor.set_running(true);
        for _ in 0..4 {
            self.reactor.fire_timers(Instant::now());
            let (tags, done, transfers) = (&mut self.tags, &mut self.done, &mut self.transfers);
            let polls = self.exec.run_ready(&self.reactor, |id, out| {
                if let Some(result) = out {
                    let tag = tags.get_mut(id).and_then(Option::take).unwrap_or(0);
                    *transfers -= 1;
                    done.push_back(Completion { tag, result });
                }
            });
            let spawned = self.reactor.take_spawned();
            let more = !spawned.is_empty();
            for f in spawned {
                let id = self.exec.spawn(
                    &self.reactor,
                    Box::pin(async move {
                        f.await;
                        None
                    }),
                );
                if self.tags.len() > id {
                    self.tags[id] = None;
                }
            }
            if polls == 0 && !more {
                break;
            }
        }
    }

    /// The epoll fd: readable whenever `perform` has work (sockets ready, a timer's
    /// wake-up aside, a transfer woken from another thread). For poll/epoll, libuv,
    /// libevent or Ruby's `IO.select`; never read from it or close it.
    pub fn fd(&self) -> RawFd {
        self.reactor.fd().as_raw_fd()
    }

    /// The longest the caller may wait before the next `perform` (`None`: no timer;
    /// wait for the fd). Zero when work is already pending.
    pub fn timeout(&self) -> Option<Duration> {
        if self.reactor.shared.has_ready() {
            return Some(Duration::ZERO);
        }
        self.reactor.next_timer().map(|t| t.saturating_duration_since(Instant::now()))
    }

    /// Pop a finished transfer.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Completion> {
        self.done.pop_front()
    }

    /// Transfers not yet complete.
    pub fn running(&self) -> u32 {
        self.transfers as u32
    }

    /// HTTP/2 connections this multi holds open.
    pub fn http2_connections(&self) -> usize {
        #[cfg(feature = "http2")]
        return self.h2.len();
        #[cfg(not(feature = "http2"))]
        0
    }

    /// Cancel the transfers tagged `tag`: their connections are closed (never
    /// pooled) and each completes with `Cancelled`. Returns how many there were.
    pub fn cancel(&mut self, tag: u64) -> usize {
        let ids: Vec<usize> =
            self.tags.iter().enumerate().filter(|(_, t)| **t == Some(tag)).map(|(i, _)| i).collect();
        let mut n = 0;
        for id in ids {
            self.tags[id] = None;
            if self.exec.remove(id) {
                n += 1;
                self.transfers -= 1;
                self.done.push_back(Completion { tag, result: Err(crate::deadline::cancelled()) });
            }
        }
        n
    }

    /// The client of this multi.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl Drop for Multi {
    fn drop(&mut self) {
        // Transfers in flight are dropped: their connections close, never pooled.
        self.exec.clear();
        self.reactor.clear();
    }
}

#[allow(dead_code)]
fn _assert_send() {
    fn is_send<T: Send>() {}
    is_send::<Multi>();
    let _ = Error::Internal(String::new());
}

#[cfg(test)]
mod size_tests {
    use super::*;

    #[test]
    fn future_sizes() {
        let c = Client::new(&crate::ClientConfig::default()).unwrap();
        let r = Arc::new(Reactor::new().unwrap());
        let req = c.build_request("GET", "http://127.0.0.1:1/").unwrap();
        let x = MultiExchange {
            reactor: r.clone(),
            body_cap: None,
            #[cfg(feature = "http2")]
            h2: Arc::new(h2::H2Pool::default()),
        };
        let f = c.clone().send_core_owned(req.clone(), SendOptions::default(), x);
        eprintln!("send_core_owned future: {} bytes", std::mem::size_of_val(&f));
        let t: Arc<dyn Transport> = Arc::new(crate::transport::http::HttpTransport::new(Default::default()).unwrap());
        let ctx = SendContext {
            timeouts: Default::default(),
            head_limits: Default::default(),
            started: Instant::now(),
            observers: Default::default(),
            guard: Default::default(),
        };
        let x2 = MultiExchange {
            reactor: r.clone(),
            body_cap: None,
            #[cfg(feature = "http2")]
            h2: Arc::new(h2::H2Pool::default()),
        };
        let e = x2.exchange(&t, req.clone(), &ctx);
        eprintln!("exchange future: {} bytes", std::mem::size_of_val(&e));
        let h = t.as_http().unwrap();
        let s = http::send(&r, h, req.clone(), &ctx, None);
        eprintln!("http::send future: {} bytes", std::mem::size_of_val(&s));
    }
}

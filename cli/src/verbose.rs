//! What HTTPX's CLI prints while the exchange runs (its `trace` extension):
//! every response head as it arrives (with or without `-v`: redirects and auth
//! challenges included), and with `-v` also `* Connecting to ...` / `* Connected to
//! ...` and each request head as sent.
//!
//! Everything that hooks into the library lives in [`install`], so it can move to the
//! core's debug hook (issue #12) in one place. Today it uses what the Rust API offers:
//! the trace callback (connection milestones), request hooks (the request as built,
//! after auth and framing) and response hooks (the response head as received).

use std::sync::{Arc, Mutex};

use httpx::http1::Version;
use httpx::observe::TraceEvent;
use httpx::{ClientConfig, Request, Response};

use crate::console::{Console, Style};
use crate::pyfmt::str_repr;

pub struct VerboseOptions {
    pub verbose: bool,
    /// Requests go through a forwarding HTTP proxy: the request line has the absolute URL.
    pub forward_proxy: bool,
    /// Connections are to a Unix socket: HTTPX prints no connect lines for those.
    pub unix_socket: bool,
}

#[derive(Default)]
struct State {
    /// The request about to go out, until its head is printed.
    pending: Option<Request>,
    /// The pending request was written on the current connection. A stale pooled
    /// connection makes the transport write it again on a new one, so the head is
    /// printed when the response comes (or the exchange fails), not at the write.
    sent: bool,
    tls: bool,
}

/// Handle for what is left to print when the exchange fails.
pub struct Verbose {
    state: Arc<Mutex<State>>,
    console: Arc<Console>,
    forward_proxy: bool,
}

impl Verbose {
    /// Before an error message: the head of a request that went out but got no
    /// response (HTTPX prints request heads as they are sent).
    pub fn flush_pending(&self) {
        let pending = self.state.lock().ok().and_then(|mut s| if s.sent { s.pending.take() } else { None });
        if let Some(req) = pending {
            print_block(&self.console, &format_request_head(&req, false, self.forward_proxy));
        }
    }
}

/// `GET /path HTTP/1.1` and the header lines (HTTP/2: lower-case names).
pub fn format_request_head(req: &Request, http2: bool, forward_proxy: bool) -> String {
    let target = if forward_proxy && req.url.scheme() == "http" {
        let mut u = req.url.clone();
        u.set_fragment(None);
        u.to_string()
    } else {
        httpx::urls::request_target(&req.url).to_string()
    };
    let version = if http2 { "HTTP/2" } else { "HTTP/1.1" };
    let mut s = format!("{} {} {}", req.method, target, version);
    for (n, v) in req.headers.iter() {
        if http2 {
            s.push_str(&format!("\n{}: {}", n.to_ascii_lowercase(), v));
        } else {
            s.push_str(&format!("\n{n}: {v}"));
        }
    }
    s
}

/// `HTTP/1.1 200 OK` and the header lines as received. HTTP/1 prints the reason the
/// server sent (even an empty one); HTTP/2 has none, so the standard phrase.
pub fn format_response_head(resp: &Response) -> String {
    let reason = match resp.version {
        Version::Http2 => resp.reason_phrase().to_string(),
        _ => resp.reason.clone(),
    };
    let mut s = format!("{} {} {}", resp.version.as_str(), resp.status, reason);
    for (n, v) in resp.headers.iter() {
        s.push_str(&format!("\n{n}: {v}"));
    }
    s
}

fn print_block(console: &Console, text: &str) {
    console.print(text, Style::Head);
    console.print("", Style::Plain);
}

/// Attach the printing to a client configuration.
pub fn install(cfg: &mut ClientConfig, console: Arc<Console>, opts: VerboseOptions) -> Verbose {
    let state = Arc::new(Mutex::new(State::default()));
    let handle = Verbose { state: state.clone(), console: console.clone(), forward_proxy: opts.forward_proxy };
    let opts = Arc::new(opts);
    if opts.verbose {
        let st = state.clone();
        cfg.hooks.request.push(Arc::new(move |req: &mut Request| {
            if let Ok(mut s) = st.lock() {
                s.pending = Some(req.clone());
                s.sent = false;
                s.tls = false;
            }
            Ok(())
        }));
        let st = state.clone();
        let c = console.clone();
        let o = opts.clone();
        // HTTP/2 is only known when the response comes (ALPN), so every request head
        // is printed from the response hook.
        cfg.observers.trace = Some(Arc::new(move |ev: TraceEvent, _t, detail: &str| {
            let Ok(mut s) = st.lock() else { return };
            match ev {
                TraceEvent::ConnectStart if !o.unix_socket => {
                    s.sent = false;
                    let (host, _) = split_host_port(detail, s.pending.as_ref());
                    c.print(&format!("* Connecting to {}", str_repr(&host)), Style::Info);
                }
                TraceEvent::TlsDone => s.tls = true,
                TraceEvent::Connected if !o.unix_socket => {
                    let (host, port) = split_host_port(detail, s.pending.as_ref());
                    c.print(&format!("* Connected to {} on port {}", str_repr(&host), port), Style::Info);
                    if s.tls {
                        c.print("* SSL established", Style::Info);
                    }
                }
                TraceEvent::ConnectStart => s.sent = false,
                TraceEvent::RequestSent => s.sent = true,
                _ => {}
            }
        }));
    }
    let st = state;
    let c = console;
    let o = opts;
    cfg.hooks.response.push(Arc::new(move |resp: &mut Response| {
        if o.verbose {
            let pending = st.lock().ok().and_then(|mut s| s.pending.take());
            if let Some(req) = pending {
                print_block(&c, &format_request_head(&req, resp.version == Version::Http2, o.forward_proxy));
            }
        }
        print_block(&c, &format_response_head(resp));
        Ok(())
    }));
    handle
}

/// The trace detail is `host:port` (HTTP/1) or `host` (HTTP/2).
fn split_host_port(detail: &str, req: Option<&Request>) -> (String, u16) {
    let default_port = req.and_then(|r| r.url.port_or_known_default()).unwrap_or(80);
    if let Some((h, p)) = detail.rsplit_once(':') {
        if let Ok(p) = p.parse::<u16>() {
            return (h.trim_start_matches('[').trim_end_matches(']').to_string(), p);
        }
    }
    (detail.to_string(), default_port)
}

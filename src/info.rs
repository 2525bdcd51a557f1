//! What happened on a response's connection (libcurl's CURLINFO_*): addresses, TLS
//! version, cipher and ALPN, reuse, and phase timings; plus error messages that name
//! the peer and the limit that was hit.
//!
//! Timings are measured from the moment the send began (`Client::send`), cumulative
//! like curl's: queue (pool wait done) <= DNS <= connect <= TLS <= request sent <=
//! first byte (the response head is in) <= total (the body was read to the end). A
//! phase that did not happen (a reused connection, plain http, a callback transport)
//! reports the previous phase's time.
//!
//! DNS and TCP-connect instants are captured where they happen (`connection`) in a
//! thread-local the transport collects right after connecting on the same thread.

use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::types::Timeouts;
use crate::error::Error;
use crate::observe::Observers;

/// Facts about one connection, computed once when it is opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnInfo {
    pub remote: Option<SocketAddr>,
    pub local: Option<SocketAddr>,
    /// "TLSv1.2", "TLSv1.3"; None on plain http.
    pub tls_version: Option<&'static str>,
    /// IANA name, e.g. "TLS13_AES_256_GCM_SHA384".
    pub tls_cipher: Option<String>,
    /// "h2", "http/1.1"; None when nothing was negotiated.
    pub alpn: Option<String>,
}

pub(crate) fn tls_parts(c: &rustls::CommonState, info: &mut ConnInfo) {
    info.tls_version = c.protocol_version().map(|v| match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2",
        rustls::ProtocolVersion::TLSv1_1 => "TLSv1.1",
        rustls::ProtocolVersion::TLSv1_0 => "TLSv1.0",
        _ => "TLS",
    });
    info.tls_cipher = c.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite()));
    info.alpn = c.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned());
}

impl ConnInfo {
    /// For a TLS connection driven elsewhere (HTTP/2).
    pub fn of_tls(remote: Option<SocketAddr>, local: Option<SocketAddr>, c: &rustls::CommonState) -> ConnInfo {
        let mut info = ConnInfo { remote, local, ..ConnInfo::default() };
        tls_parts(c, &mut info);
        info
    }
}

/// The resolver's reason without std's prefix: "Name or service not known".
pub fn resolve_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.strip_prefix("failed to lookup address information: ").unwrap_or(&s).to_string()
}

/// Format an address as the C API promises: "ip:port", "[v6]:port".
pub fn addr_text(a: &SocketAddr) -> String {
    a.to_string()
}

/// The phases of `httpx_response_timing`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    Queue = 0,
    Dns = 1,
    Connect = 2,
    Tls = 3,
    RequestSent = 4,
    FirstByte = 5,
    Total = 6,
}

impl Timing {
    /// From the C value (`HTTPX_TIMING_*`, 1..=7).
    pub fn from_code(c: u32) -> Option<Timing> {
        Some(match c {
            1 => Timing::Queue,
            2 => Timing::Dns,
            3 => Timing::Connect,
            4 => Timing::Tls,
            5 => Timing::RequestSent,
            6 => Timing::FirstByte,
            7 => Timing::Total,
            _ => return None,
        })
    }
}

/// Phase times since the send began.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timings {
    marks: [Option<Duration>; 7],
}

impl Timings {
    pub fn set(&mut self, t: Timing, d: Duration) {
        self.marks[t as usize] = Some(d);
    }

    pub fn set_at(&mut self, t: Timing, started: Instant, at: Instant) {
        self.set(t, at.saturating_duration_since(started));
    }

    /// The time of a phase; a phase that did not happen reports the previous one's
    /// (zero before the first). `Total` is None until the body is read to the end.
    pub fn get(&self, t: Timing) -> Option<Duration> {
        if t == Timing::Total && self.marks[Timing::Total as usize].is_none() {
            return None;
        }
        let mut i = t as usize;
        loop {
            if let Some(d) = self.marks[i] {
                return Some(d);
            }
            if i == 0 {
                return Some(Duration::ZERO);
            }
            i -= 1;
        }
    }
}

/// Connection facts and timings of one response.
#[derive(Clone, Debug, Default)]
pub struct ResponseInfo {
    /// None for callback transports.
    pub conn: Option<Arc<ConnInfo>>,
    pub reused: bool,
    pub timings: Timings,
    /// The read timeout in force (for error messages while reading the body); None
    /// when not from the network transport.
    pub read_timeout: Option<Option<Duration>>,
}

impl ResponseInfo {
    /// For a response whose transport recorded no timings (callback transports,
    /// custom Rust transports): request sent and first byte are now.
    pub fn head_in_if_unset(&mut self, started: Instant) {
        if self.timings.marks[Timing::FirstByte as usize].is_none() {
            let d = started.elapsed();
            self.timings.set(Timing::RequestSent, d);
            self.timings.set(Timing::FirstByte, d);
        }
    }

    /// Name the peer and the limit in a body read error.
    pub fn explain(&self, e: Error, url: &url::Url) -> Error {
        match self.read_timeout {
            Some(read) => explain(e, &peer_of(url), &Timeouts { read, ..Timeouts::none() }),
            None => e,
        }
    }
}

thread_local! {
    static DNS_DONE: Cell<Option<Instant>> = const { Cell::new(None) };
    static TCP_DONE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Capture point: name resolution finished (called by `connection::connect_tcp`).
pub fn mark_dns() {
    DNS_DONE.with(|c| c.set(Some(Instant::now())));
}

/// Capture point: the TCP connection is established.
pub fn mark_tcp() {
    TCP_DONE.with(|c| c.set(Some(Instant::now())));
}

thread_local! {
    static SENT: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Capture point: an HTTP/2 request (head and body) was handed to the connection.
pub fn mark_sent() {
    SENT.with(|c| c.set(Some(Instant::now())));
}

/// The last `mark_sent` on this thread, cleared.
pub fn take_sent() -> Option<Instant> {
    SENT.with(|c| c.take())
}

/// Forget earlier marks before connecting.
pub fn reset_marks() {
    DNS_DONE.with(|c| c.set(None));
    TCP_DONE.with(|c| c.set(None));
}

/// (DNS done, TCP connected) since the last `reset_marks` on this thread.
pub fn take_marks() -> (Option<Instant>, Option<Instant>) {
    (DNS_DONE.with(|c| c.take()), TCP_DONE.with(|c| c.take()))
}

/// Collects one exchange's info in a transport.
pub struct Capture {
    started: Instant,
    pub info: ResponseInfo,
}

impl Capture {
    pub fn new(started: Instant) -> Capture {
        Capture { started, info: ResponseInfo::default() }
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// The pool handed out a connection slot.
    pub fn queued(&mut self) {
        let d = self.now();
        self.info.timings.set(Timing::Queue, d);
    }

    /// About to open a new connection.
    pub fn connecting(&mut self, obs: &Observers, host: &str, port: u16, proxy: Option<(&str, &str, u16)>) {
        reset_marks();
        if let Some((scheme, ph, pp)) = proxy {
            obs.debug_text(|| format!("Uses proxy {scheme}://{ph}:{pp}"));
        }
        obs.debug_text(|| format!("Connecting to {host}:{port}..."));
    }

    /// A new connection is up (TCP, proxy, TLS): record DNS/connect/TLS times and
    /// the connection's facts.
    pub fn connected(&mut self, obs: &Observers, host: &str, port: u16, info: ConnInfo) -> Arc<ConnInfo> {
        let now = Instant::now();
        let (dns, tcp) = take_marks();
        let t = &mut self.info.timings;
        if let Some(d) = dns {
            t.set_at(Timing::Dns, self.started, d);
        }
        t.set_at(Timing::Connect, self.started, tcp.unwrap_or(now));
        if info.tls_version.is_some() {
            t.set_at(Timing::Tls, self.started, now);
        }
        self.info.reused = false;
        let info = Arc::new(info);
        text_connected(obs, host, port, &info);
        self.info.conn = Some(info.clone());
        info
    }

    /// An idle pooled connection is reused.
    pub fn reused(&mut self, obs: &Observers, host: &str, port: u16, info: Option<Arc<ConnInfo>>) {
        obs.debug_text(|| format!("Re-using existing connection with host {host}:{port}"));
        self.info.reused = true;
        self.info.conn = info;
    }

    pub fn sent(&mut self) {
        let d = self.now();
        self.info.timings.set(Timing::RequestSent, d);
    }

    pub fn sent_at(&mut self, at: Instant) {
        self.info.timings.set_at(Timing::RequestSent, self.started, at);
    }

    pub fn first_byte(&mut self) {
        let d = self.now();
        self.info.timings.set(Timing::FirstByte, d);
    }

    /// The finished info, with what body-read errors need to name the limit.
    pub fn finish(mut self, read_timeout: Option<Duration>) -> ResponseInfo {
        self.info.read_timeout = Some(read_timeout);
        self.info
    }
}

fn text_connected(obs: &Observers, host: &str, port: u16, info: &ConnInfo) {
    if obs.debug.is_none() {
        return;
    }
    match info.remote {
        Some(a) => obs.debug_text(|| format!("Connected to {host} ({}) port {port}", a.ip())),
        None => obs.debug_text(|| format!("Connected to {host} port {port}")),
    }
    if let Some(v) = info.tls_version {
        obs.debug_text(|| format!("SSL connection using {v} / {}", info.tls_cipher.as_deref().unwrap_or("?")));
        match &info.alpn {
            Some(p) => obs.debug_text(|| format!("ALPN: server accepted {p}")),
            None => obs.debug_text(|| "ALPN: server did not agree on a protocol".to_string()),
        }
    }
}

/// "host:port" of a URL, for messages.
pub fn peer_of(url: &url::Url) -> String {
    format!("{}:{}", url.host_str().unwrap_or(""), url.port_or_known_default().unwrap_or(0))
}

/// Seconds as people write them: "2 s", "0.5 s", "1.25 s".
pub fn secs_text(d: Duration) -> String {
    let s = format!("{:.3}", d.as_secs_f64());
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s} s")
}

/// Messages that only repeat what the OS (or the socket wait) said, which we replace
/// with ones naming the peer and the limit.
fn is_generic(msg: &str) -> bool {
    msg.contains("(os error")
        || msg == "HTTP/2 body"
        || msg == "waiting for the HTTP/2 response"
        || msg.starts_with("no data arrived within")
        || msg.starts_with("the peer did not accept data within")
        || msg.starts_with("connecting to ")
        || msg.contains("timed out")
}

/// Rewrite a timeout or I/O error so it names what failed, the peer (`target`,
/// "host:port") and the limit that was hit: "read timed out after 2 s waiting for
/// 127.0.0.1:8080". Messages already specific are kept.
pub fn explain(e: Error, target: &str, t: &Timeouts) -> Error {
    let limit = |d: Option<Duration>| d.map(|d| format!("after {} ", secs_text(d))).unwrap_or_default();
    let msg = |d: Option<Duration>, rest: String| format!("{}{rest}", limit(d));
    match e {
        Error::ReadTimeout(m) if m.starts_with("the response head") => {
            Error::ReadTimeout(msg(t.read, format!("waiting for the response head from {target}")))
        }
        Error::ReadTimeout(m) if is_generic(&m) => Error::ReadTimeout(msg(t.read, format!("waiting for {target}"))),
        Error::WriteTimeout(m) if is_generic(&m) => Error::WriteTimeout(msg(t.write, format!("sending to {target}"))),
        Error::ConnectTimeout(m) if m.contains("TLS handshake") => {
            Error::ConnectTimeout(msg(t.connect, format!("in the TLS handshake with {target}")))
        }
        Error::ConnectTimeout(m) if is_generic(&m) => {
            Error::ConnectTimeout(msg(t.connect, format!("connecting to {target}")))
        }
        Error::PoolTimeout(m) if !m.contains(target) => Error::PoolTimeout(msg(t.pool, format!("for {target}: {m}"))),
        Error::Read(m) if m.contains("(os error") && !m.contains(target) => Error::Read(format!("from {target}: {m}")),
        Error::Write(m) if m.contains("(os error") && !m.contains(target) => Error::Write(format!("to {target}: {m}")),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_fall_back_to_the_previous_phase() {
        let mut t = Timings::default();
        assert_eq!(t.get(Timing::Dns), Some(Duration::ZERO));
        t.set(Timing::Queue, Duration::from_millis(1));
        t.set(Timing::RequestSent, Duration::from_millis(5));
        assert_eq!(t.get(Timing::Tls), Some(Duration::from_millis(1)));
        assert_eq!(t.get(Timing::FirstByte), Some(Duration::from_millis(5)));
        assert_eq!(t.get(Timing::Total), None);
        t.set(Timing::Total, Duration::from_millis(9));
        assert_eq!(t.get(Timing::Total), Some(Duration::from_millis(9)));
    }

    #[test]
    fn messages_name_peer_and_limit() {
        let t = Timeouts::all(Some(Duration::from_secs(2)));
        let e =
            explain(Error::ReadTimeout("Resource temporarily unavailable (os error 11)".into()), "127.0.0.1:8080", &t);
        assert_eq!(e.to_string(), "read timed out after 2 s waiting for 127.0.0.1:8080");
        let e = explain(
            Error::ConnectTimeout("connecting to 10.0.0.1:80".into()),
            "h:80",
            &Timeouts { connect: Some(Duration::from_millis(500)), ..t },
        );
        assert_eq!(e.to_string(), "connect timed out after 0.5 s connecting to h:80");
        // Specific messages stay.
        let e = explain(Error::ReadTimeout("response head not complete within 1 s".into()), "h:80", &t);
        assert_eq!(e.to_string(), "read timed out: response head not complete within 1 s");
        assert_eq!(secs_text(Duration::from_millis(1250)), "1.25 s");
    }
}

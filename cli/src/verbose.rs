//! What HTTPX's CLI prints while the exchange runs (its `trace` extension): every
//! response head as it arrives (with or without `-v`: redirects and auth challenges
//! included), and with `-v` also the connection lines and each request head as sent:
//!
//! ```text
//! * Connecting to 'localhost'
//! * Connected to '127.0.0.1' on port 8443
//! * SSL established using 'TLSv1.3' / 'TLS_AES_256_GCM_SHA384'
//! * Selected ALPN protocol: 'http/1.1'
//! GET / HTTP/1.1
//! Host: localhost:8443
//! ...
//! ```
//!
//! Everything comes from the core's debug hook (`ClientConfig::set_debug`, issue #12):
//! its text lines give the real peer address and the TLS parameters, and its head
//! events are the heads exactly as written to and read from the connection. They are
//! printed in HTTPX's form: no CR, a blank line after each head, `Name: value` lines,
//! lower-case names in HTTP/2 request heads, the standard reason phrase for HTTP/2
//! responses (which have none), no interim 1xx responses (httpcore skips them).

use std::sync::{Arc, Mutex};

use httpx::debug::DebugKind;
use httpx::ClientConfig;

use crate::console::{Console, Style};
use crate::pyfmt::str_repr;

pub struct VerboseOptions {
    pub verbose: bool,
    /// Connections are to a Unix socket: HTTPX prints no connect lines for those.
    pub unix_socket: bool,
}

#[derive(Default)]
struct State {
    /// The proxy named by the last "Uses proxy" line, until the next "Connecting to".
    proxy: Option<(String, Option<u16>)>,
    /// The proxy of the connection being opened. HTTPX names the host and port its TCP
    /// connection goes to; the core's lines name the target's (and the peer's address).
    via: Option<(String, Option<u16>)>,
}

/// Attach the printing to a client configuration.
pub fn install(cfg: &mut ClientConfig, console: Arc<Console>, opts: VerboseOptions) {
    let state = Mutex::new(State::default());
    cfg.set_debug(Arc::new(move |kind: DebugKind, data: &[u8]| {
        let text = String::from_utf8_lossy(data);
        match kind {
            DebugKind::Text if opts.verbose && !opts.unix_socket => {
                let Ok(mut st) = state.lock() else { return };
                if let Some(line) = text_line(&text, &mut st) {
                    console.print(&line, Style::Info);
                }
            }
            DebugKind::HeaderOut if opts.verbose => print_block(&console, &request_head(&text)),
            DebugKind::HeaderIn => {
                if let Some(head) = response_head(&text) {
                    print_block(&console, &head);
                }
            }
            _ => {}
        }
    }));
}

/// HTTPX's line for one of the core's debug text lines (None: HTTPX prints nothing).
fn text_line(text: &str, st: &mut State) -> Option<String> {
    if let Some(rest) = text.strip_prefix("Uses proxy ") {
        // "scheme://host:port"
        let hostport = rest.split_once("://").map_or(rest, |(_, h)| h);
        st.proxy = Some(split_host_port(hostport));
        return None;
    }
    if let Some(rest) = text.strip_prefix("Connecting to ") {
        // "host:port..."
        let target = split_host_port(rest.trim_end_matches("...")).0;
        st.via = st.proxy.take();
        let host = st.via.as_ref().map_or(target, |(h, _)| h.clone());
        return Some(format!("* Connecting to {}", str_repr(&host)));
    }
    if let Some(rest) = text.strip_prefix("Connected to ") {
        // "host (ip) port N" or "host port N"
        let (who, port) = rest.rsplit_once(" port ")?;
        let port = match st.via.take() {
            Some((_, Some(p))) => p.to_string(),
            _ => port.to_string(),
        };
        let addr = match who.split_once(" (") {
            Some((_, ip)) => ip.trim_end_matches(')'),
            None => who,
        };
        return Some(format!("* Connected to {} on port {port}", str_repr(unbracket(addr))));
    }
    if let Some(rest) = text.strip_prefix("SSL connection using ") {
        // "TLSv1.3 / TLS13_AES_256_GCM_SHA384"
        let (version, cipher) = rest.split_once(" / ")?;
        return Some(format!(
            "* SSL established using {} / {}",
            str_repr(version),
            str_repr(&openssl_cipher_name(cipher))
        ));
    }
    if let Some(proto) = text.strip_prefix("ALPN: server accepted ") {
        return Some(format!("* Selected ALPN protocol: {}", str_repr(proto)));
    }
    if text.starts_with("ALPN: server did not agree") {
        return Some("* Selected ALPN protocol: None".to_string());
    }
    None
}

fn unbracket(h: &str) -> &str {
    h.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(h)
}

/// "host:port", "[v6]:port" -> (host without brackets, port).
fn split_host_port(s: &str) -> (String, Option<u16>) {
    match s.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() && (!h.contains(':') || h.starts_with('[')) => {
            (unbracket(h).to_string(), p.parse().ok())
        }
        _ => (unbracket(s).to_string(), None),
    }
}

/// The name Python's `ssl.SSLSocket.cipher()` (OpenSSL) gives a suite rustls names by
/// its IANA name: `TLS13_AES_256_GCM_SHA384` -> `TLS_AES_256_GCM_SHA384`,
/// `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256` -> `ECDHE-RSA-AES128-GCM-SHA256`.
pub fn openssl_cipher_name(iana: &str) -> String {
    if let Some(rest) = iana.strip_prefix("TLS13_") {
        return format!("TLS_{rest}");
    }
    let Some(rest) = iana.strip_prefix("TLS_ECDHE_") else {
        return iana.to_string();
    };
    let Some((auth, cipher)) = rest.split_once("_WITH_") else {
        return iana.to_string();
    };
    let cipher = match cipher {
        "AES_128_GCM_SHA256" => "AES128-GCM-SHA256",
        "AES_256_GCM_SHA384" => "AES256-GCM-SHA384",
        "CHACHA20_POLY1305_SHA256" => "CHACHA20-POLY1305",
        _ => return iana.to_string(),
    };
    format!("ECDHE-{auth}-{cipher}")
}

/// Lines of a head as the hook gives it (CRLF lines, blank line at the end).
fn head_lines(raw: &str) -> Vec<&str> {
    raw.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).filter(|l| !l.is_empty()).collect()
}

/// "Name: value" as h11 parses a field line (value without surrounding whitespace).
fn field_line(line: &str, lower: bool) -> String {
    match line.split_once(':') {
        Some((n, v)) if lower => format!("{}: {}", n.to_ascii_lowercase(), v.trim()),
        Some((n, v)) => format!("{n}: {}", v.trim()),
        None => line.to_string(),
    }
}

/// A request head as HTTPX prints it: the request line, then the fields (HTTP/2:
/// lower-case names).
pub fn request_head(raw: &str) -> String {
    let lines = head_lines(raw);
    let Some((first, fields)) = lines.split_first() else {
        return String::new();
    };
    let http2 = first.ends_with(" HTTP/2");
    let mut out = first.to_string();
    for l in fields {
        out.push('\n');
        out.push_str(&field_line(l, http2));
    }
    out
}

/// A response head as HTTPX prints it: `VERSION STATUS REASON` (HTTP/2: the standard
/// reason), then the fields. None for an interim 1xx response other than 101.
pub fn response_head(raw: &str) -> Option<String> {
    let lines = head_lines(raw);
    let (first, fields) = lines.split_first()?;
    let mut parts = first.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let status: u16 = parts.next().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    if (100..200).contains(&status) && status != 101 {
        return None;
    }
    let reason = match parts.next() {
        Some(r) if version != "HTTP/2" => r.to_string(),
        _ if version == "HTTP/2" => httpx::status::reason(status).to_string(),
        _ => String::new(),
    };
    let mut out = format!("{version} {status} {reason}");
    for l in fields {
        out.push('\n');
        out.push_str(&field_line(l, false));
    }
    Some(out)
}

fn print_block(console: &Console, text: &str) {
    console.print(text, Style::Head);
    console.print("", Style::Plain);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lines_in_httpx_form() {
        let mut st = State::default();
        let mut t = |s: &str| text_line(s, &mut st);
        assert_eq!(t("Connecting to localhost:8443...").as_deref(), Some("* Connecting to 'localhost'"));
        assert_eq!(
            t("Connected to localhost (127.0.0.1) port 8443").as_deref(),
            Some("* Connected to '127.0.0.1' on port 8443")
        );
        assert_eq!(t("Connected to ::1 (::1) port 80").as_deref(), Some("* Connected to '::1' on port 80"));
        assert_eq!(
            t("SSL connection using TLSv1.3 / TLS13_AES_256_GCM_SHA384").as_deref(),
            Some("* SSL established using 'TLSv1.3' / 'TLS_AES_256_GCM_SHA384'")
        );
        assert_eq!(t("ALPN: server accepted h2").as_deref(), Some("* Selected ALPN protocol: 'h2'"));
        assert_eq!(t("ALPN: server did not agree on a protocol").as_deref(), Some("* Selected ALPN protocol: None"));
        assert_eq!(t("Uses proxy http://127.0.0.2:3128"), None);
        assert_eq!(t("Connecting to example.com:443...").as_deref(), Some("* Connecting to '127.0.0.2'"));
        assert_eq!(
            t("Connected to example.com (127.0.0.2) port 443").as_deref(),
            Some("* Connected to '127.0.0.2' on port 3128")
        );
        assert_eq!(t("Connecting to [::1]:443...").as_deref(), Some("* Connecting to '::1'"));
        assert_eq!(t("Re-using existing connection with host h:1"), None);
        assert_eq!(t("Closing connection to h:1"), None);
    }

    #[test]
    fn cipher_names_as_openssl_gives_them() {
        assert_eq!(openssl_cipher_name("TLS13_CHACHA20_POLY1305_SHA256"), "TLS_CHACHA20_POLY1305_SHA256");
        assert_eq!(openssl_cipher_name("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"), "ECDHE-ECDSA-AES256-GCM-SHA384");
        assert_eq!(openssl_cipher_name("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"), "ECDHE-RSA-CHACHA20-POLY1305");
        assert_eq!(openssl_cipher_name("Unknown(0x1234)"), "Unknown(0x1234)");
    }

    #[test]
    fn heads_in_httpx_form() {
        assert_eq!(
            request_head("GET /a?b HTTP/1.1\r\nHost: h\r\nX-A:  1 \r\n\r\n"),
            "GET /a?b HTTP/1.1\nHost: h\nX-A: 1"
        );
        assert_eq!(
            request_head("GET / HTTP/2\r\nHost: h\r\nAccept: */*\r\n\r\n"),
            "GET / HTTP/2\nhost: h\naccept: */*"
        );
        assert_eq!(response_head("HTTP/1.1 200 OK\r\nA: b\r\n\r\n").as_deref(), Some("HTTP/1.1 200 OK\nA: b"));
        assert_eq!(response_head("HTTP/1.1 200\r\n\r\n").as_deref(), Some("HTTP/1.1 200 "));
        assert_eq!(response_head("HTTP/1.0 404 Not here\r\n\r\n").as_deref(), Some("HTTP/1.0 404 Not here"));
        assert_eq!(response_head("HTTP/2 200\r\nserver: x\r\n\r\n").as_deref(), Some("HTTP/2 200 OK\nserver: x"));
        assert_eq!(response_head("HTTP/1.1 100 Continue\r\n\r\n"), None);
        assert!(response_head("HTTP/1.1 101 Switching Protocols\r\n\r\n").is_some());
    }
}

//! HTTP `CONNECT` tunnelling through an HTTP(S) proxy, over any byte stream.
//!
//! The proxy's response head is read without reading past its blank line, so whatever
//! follows on the stream (typically the target's TLS handshake) stays unread for the
//! caller.

use std::io::{self, Read, Write};

use base64::Engine as _;

use crate::error::{Error, Result};

/// Largest proxy response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Most header lines accepted in the proxy's response.
const MAX_HEADERS: usize = 128;

/// Ask the proxy at the other end of `stream` to open a tunnel to
/// `target_host:target_port`, and wait for its answer.
///
/// Sends `CONNECT host:port HTTP/1.1` with a `Host` header, a `Proxy-Authorization`
/// header when given, then `extra_headers` in order. An IPv6 host is put in brackets.
/// On a 2xx answer the stream is left positioned right after the response head.
///
/// Errors:
/// - [`Error::InvalidArgument`]: empty host, or CR/LF/NUL (or whitespace in the host)
///   in any value to be sent;
/// - [`Error::ConnectTimeout`]: the stream timed out (`WouldBlock`/`TimedOut`);
/// - [`Error::Proxy`]: a non-2xx answer (`proxy CONNECT to host:port answered 407
///   Proxy Authentication Required`), a malformed or over-long (64 KiB) head, the
///   connection closing early, or any other I/O error.
pub fn connect_tunnel<S: Read + Write>(
    stream: &mut S,
    target_host: &str,
    target_port: u16,
    proxy_authorization: Option<&str>,
    extra_headers: &[(String, String)],
) -> Result<()> {
    let authority = authority(target_host, target_port)?;
    let mut headers = vec![("Host", authority.as_str())];
    if let Some(value) = proxy_authorization {
        headers.push(("Proxy-Authorization", value));
    }
    headers.extend(extra_headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\n");
    for (name, value) in headers {
        check_header(name, value)?;
        request.push_str(name);
        request.push_str(": ");
        request.push_str(value);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");

    stream
        .write_all(request.as_bytes())
        .and_then(|()| stream.flush())
        .map_err(|e| io_error(&authority, "sending CONNECT", e))?;

    let head = read_head(stream, &authority)?;
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(Error::Proxy(format!("incomplete CONNECT response from proxy for {authority}")))
        }
        Err(e) => return Err(Error::Proxy(format!("malformed CONNECT response from proxy for {authority}: {e}"))),
    }
    let status = response.code.unwrap_or(0);
    if (200..300).contains(&status) {
        Ok(())
    } else {
        let reason = response.reason.unwrap_or("");
        Err(Error::Proxy(format!("proxy CONNECT to {authority} answered {status} {reason}").trim_end().to_owned()))
    }
}

/// The `Proxy-Authorization` value for HTTP Basic credentials:
/// `"Basic " + base64(user ":" pass)`.
///
/// `user` and `pass` are encoded exactly as given (UTF-8): the caller passes values
/// already percent-decoded from the proxy URL, as HTTPX does with `url.username` and
/// `url.password`.
pub fn basic_proxy_authorization(user: &str, pass: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    format!("Basic {token}")
}

/// `host:port`, with an IPv6 host in brackets.
fn authority(host: &str, port: u16) -> Result<String> {
    let bad = || Error::InvalidArgument(format!("bad CONNECT target host {host:?}"));
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if bare.contains(':') {
        // Only an IPv6 literal may contain ':'.
        let ip: std::net::Ipv6Addr = bare.parse().map_err(|_| bad())?;
        return Ok(format!("[{ip}]:{port}"));
    }
    if host.is_empty()
        || host.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '@' | '[' | ']'))
    {
        return Err(bad());
    }
    Ok(format!("{host}:{port}"))
}

fn check_header(name: &str, value: &str) -> Result<()> {
    let bad_name = name.is_empty() || name.bytes().any(|b| b <= b' ' || b == b':' || b >= 0x7f);
    if bad_name || value.contains(['\r', '\n', '\0']) {
        return Err(Error::InvalidArgument(format!("bad CONNECT header {name:?}")));
    }
    Ok(())
}

/// Read up to and including the blank line ending the response head, one byte at a
/// time so nothing after it is consumed.
fn read_head<S: Read>(stream: &mut S, authority: &str) -> Result<Vec<u8>> {
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    loop {
        match stream.read(&mut byte) {
            Ok(0) => {
                return Err(Error::Proxy(format!(
                    "proxy closed the connection before answering CONNECT to {authority}"
                )))
            }
            Ok(_) => head.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_error(authority, "reading the CONNECT response", e)),
        }
        // A blank line is "\n" optionally preceded by "\r", right after a "\n".
        if head.ends_with(b"\n\n") || head.ends_with(b"\n\r\n") {
            return Ok(head);
        }
        if head.len() >= MAX_HEAD {
            return Err(Error::Proxy(format!(
                "CONNECT response head from proxy for {authority} exceeds {MAX_HEAD} bytes"
            )));
        }
    }
}

fn io_error(authority: &str, what: &str, e: io::Error) -> Error {
    // A cancel or the total deadline, raised by the connection layer, stays itself.
    if let Some(inner) = crate::error::carried(&e) {
        return inner;
    }
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            Error::ConnectTimeout(format!("proxy tunnel to {authority}: timed out {what}"))
        }
        _ => Error::Proxy(format!("proxy tunnel to {authority}: {what}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::net::{TcpListener, TcpStream};
    use std::thread;
    use std::time::{Duration, Instant};

    /// In-memory stream: reads from `input`, records writes.
    struct Mock {
        input: Cursor<Vec<u8>>,
        output: Vec<u8>,
    }

    impl Mock {
        fn new(input: &[u8]) -> Self {
            Mock { input: Cursor::new(input.to_vec()), output: Vec::new() }
        }
    }

    impl Read for Mock {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl Write for Mock {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.output.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A stream whose reads always fail with `kind`.
    struct Failing(io::ErrorKind);

    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::new(self.0, "boom"))
        }
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn writes_exact_request() {
        let mut s = Mock::new(b"HTTP/1.1 200 Connection established\r\n\r\n");
        let extra = [("User-Agent".to_owned(), "x/1".to_owned())];
        connect_tunnel(&mut s, "example.com", 443, Some("Basic abc"), &extra).unwrap();
        assert_eq!(
            String::from_utf8(s.output).unwrap(),
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\
             Proxy-Authorization: Basic abc\r\nUser-Agent: x/1\r\n\r\n"
        );
    }

    #[test]
    fn ipv6_host_is_bracketed() {
        let mut s = Mock::new(b"HTTP/1.0 200 OK\r\n\r\n");
        connect_tunnel(&mut s, "::1", 8443, None, &[]).unwrap();
        assert!(s.output.starts_with(b"CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n"));
        let mut s = Mock::new(b"HTTP/1.0 200 OK\r\n\r\n");
        connect_tunnel(&mut s, "[::1]", 1, None, &[]).unwrap();
        assert!(s.output.starts_with(b"CONNECT [::1]:1 "));
    }

    #[test]
    fn does_not_read_past_the_head() {
        let head: &[u8] = b"HTTP/1.1 200 OK\r\nVia: test\r\n\r\n";
        let mut input = head.to_vec();
        input.extend_from_slice(b"\x16\x03\x01TLS...");
        let mut s = Mock::new(&input);
        connect_tunnel(&mut s, "h", 1, None, &[]).unwrap();
        assert_eq!(s.input.position() as usize, head.len());
        let mut rest = Vec::new();
        s.input.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"\x16\x03\x01TLS...");
    }

    #[test]
    fn bare_lf_head_is_accepted() {
        let mut s = Mock::new(b"HTTP/1.1 200 OK\nX: y\n\nrest");
        connect_tunnel(&mut s, "h", 1, None, &[]).unwrap();
        assert_eq!(s.input.position(), 22);
    }

    #[test]
    fn non_2xx_is_a_proxy_error() {
        let mut s = Mock::new(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n");
        let err = connect_tunnel(&mut s, "example.com", 443, None, &[]).unwrap_err();
        assert_eq!(
            err,
            Error::Proxy("proxy CONNECT to example.com:443 answered 407 Proxy Authentication Required".into())
        );
        let mut s = Mock::new(b"HTTP/1.1 502 \r\n\r\n");
        let err = connect_tunnel(&mut s, "h", 2, None, &[]).unwrap_err();
        assert_eq!(err, Error::Proxy("proxy CONNECT to h:2 answered 502".into()));
    }

    #[test]
    fn garbage_truncated_and_oversized_heads() {
        for input in [&b"SSH-2.0-OpenSSH\r\n\r\n"[..], b"HTTP/1.1 abc OK\r\n\r\n", b"\r\n\r\n"] {
            let err = connect_tunnel(&mut Mock::new(input), "h", 1, None, &[]).unwrap_err();
            assert!(matches!(err, Error::Proxy(_)), "{input:?}: {err:?}");
        }
        let err = connect_tunnel(&mut Mock::new(b"HTTP/1.1 200 OK\r\nX: 1\r\n"), "h", 1, None, &[]).unwrap_err();
        assert!(matches!(&err, Error::Proxy(m) if m.contains("closed")), "{err:?}");
        let mut big = b"HTTP/1.1 200 OK\r\n".to_vec();
        while big.len() < MAX_HEAD + 100 {
            big.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        big.extend_from_slice(b"\r\n");
        let mut s = Mock::new(&big);
        let err = connect_tunnel(&mut s, "h", 1, None, &[]).unwrap_err();
        assert!(matches!(&err, Error::Proxy(m) if m.contains("exceeds")), "{err:?}");
        assert_eq!(s.input.position() as usize, MAX_HEAD);
    }

    #[test]
    fn io_errors_are_mapped() {
        for (kind, timeout) in [
            (io::ErrorKind::WouldBlock, true),
            (io::ErrorKind::TimedOut, true),
            (io::ErrorKind::ConnectionReset, false),
        ] {
            let err = connect_tunnel(&mut Failing(kind), "h", 1, None, &[]).unwrap_err();
            assert_eq!(matches!(err, Error::ConnectTimeout(_)), timeout, "{kind:?}");
            assert_eq!(matches!(err, Error::Proxy(_)), !timeout, "{kind:?}");
        }
    }

    #[test]
    fn rejects_injection() {
        let mut s = Mock::new(b"");
        for (host, auth, extra) in [
            ("", None, vec![]),
            ("a b", None, vec![]),
            ("a\r\nX: y", None, vec![]),
            ("h", Some("x\r\nEvil: 1"), vec![]),
            ("h", None, vec![("X-A".to_owned(), "1\n2".to_owned())]),
            ("h", None, vec![("X A".to_owned(), "1".to_owned())]),
            ("h", None, vec![(String::new(), "1".to_owned())]),
            ("host:80", None, vec![]),
            ("[h]", None, vec![]),
        ] {
            let err = connect_tunnel(&mut s, host, 1, auth, &extra).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{host:?} {err:?}");
        }
        assert!(s.output.is_empty());
    }

    #[test]
    fn basic_authorization_value() {
        assert_eq!(basic_proxy_authorization("user", "pass"), "Basic dXNlcjpwYXNz");
        assert_eq!(basic_proxy_authorization("", ""), "Basic Og==");
        assert_eq!(basic_proxy_authorization("ü@x", "p:w"), "Basic w7xAeDpwOnc=");
    }

    // ---- over real sockets (against tinyproxy: tests/proxy_handshakes.rs) ----

    fn connect(port: u16) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }

    /// One-shot fake proxy: reads the request head, answers `reply`, then closes.
    fn fake_proxy(reply: &'static [u8]) -> (u16, thread::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 512];
            while !req.ends_with(b"\r\n\r\n") && req.len() < 8192 {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            s.write_all(reply).unwrap();
            req
        });
        (port, handle)
    }

    #[test]
    fn fake_proxy_407() {
        let (port, proxy) = fake_proxy(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
        let mut s = connect(port);
        let err = connect_tunnel(&mut s, "example.org", 443, None, &[]).unwrap_err();
        assert_eq!(
            err,
            Error::Proxy("proxy CONNECT to example.org:443 answered 407 Proxy Authentication Required".into())
        );
        let req = proxy.join().unwrap();
        assert!(req.starts_with(b"CONNECT example.org:443 HTTP/1.1\r\n"));
    }

    #[test]
    fn fake_proxy_bytes_after_head_stay_unread() {
        // The head and the first "TLS" bytes arrive in one TCP segment.
        let (port, proxy) = fake_proxy(b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03server-hello");
        let mut s = connect(port);
        connect_tunnel(&mut s, "example.org", 443, None, &[]).unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"\x16\x03\x03server-hello");
        proxy.join().unwrap();
    }

    #[test]
    fn silent_proxy_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let holder = thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            thread::sleep(Duration::from_millis(600));
            drop(s);
        });
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(150))).unwrap();
        let started = Instant::now();
        let err = connect_tunnel(&mut s, "h", 1, None, &[]).unwrap_err();
        assert!(matches!(err, Error::ConnectTimeout(_)), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
        holder.join().unwrap();
    }
}

//! SOCKS client handshakes over any byte stream: SOCKS5 (RFC 1928) with
//! username/password authentication (RFC 1929), and SOCKS4a.
//!
//! Each function reads exactly the bytes of the proxy's reply, so the stream is left at
//! the first byte from the target.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv6Addr, ToSocketAddrs};

use crate::error::{Error, Result};

/// The SOCKS protocol a proxy speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocksVersion {
    /// SOCKS4 with the 4a extension (the proxy resolves host names).
    V4a,
    /// SOCKS5 (RFC 1928).
    V5,
}

const NO_AUTH: u8 = 0x00;
const USER_PASS: u8 = 0x02;
const NO_ACCEPTABLE: u8 = 0xff;

/// Open a SOCKS5 `CONNECT` to `target_host:target_port` through the proxy at the other
/// end of `stream`.
///
/// Offers "no authentication", plus username/password (RFC 1929) when `creds` is given.
/// With `remote_dns` (`socks5h://`) a host name is sent for the proxy to resolve;
/// without it (`socks5://`) the name is resolved here and the first address is sent.
/// IP literals (`1.2.3.4`, `::1`, `[::1]`) are always sent as addresses.
/// Pass host names in ASCII form (punycode, as `Url::host_str` gives them).
///
/// Errors:
/// - [`Error::InvalidArgument`]: username, password or host name longer than 255 bytes,
///   or an empty host;
/// - [`Error::Connect`]: local resolution failed;
/// - [`Error::ConnectTimeout`]: the stream timed out;
/// - [`Error::Proxy`]: every refusal (`SOCKS5: connection refused by destination
///   host`, ...), failed authentication, bad version bytes, truncated replies and other
///   I/O errors.
pub fn socks5_connect<S: Read + Write>(
    stream: &mut S,
    target_host: &str,
    target_port: u16,
    creds: Option<(&str, &str)>,
    remote_dns: bool,
) -> Result<()> {
    socks5_connect_with(stream, target_host, target_port, creds, remote_dns, &resolve)
}

/// [`socks5_connect`] with the local resolver given (`socks5://` resolves the target
/// here; the transport passes one that honours the send's deadline and cancel token).
pub fn socks5_connect_with<S: Read + Write>(
    stream: &mut S,
    target_host: &str,
    target_port: u16,
    creds: Option<(&str, &str)>,
    remote_dns: bool,
    resolve: &dyn Fn(&str, u16) -> Result<IpAddr>,
) -> Result<()> {
    let target = display_target(target_host, target_port);
    if let Some((user, pass)) = creds {
        if user.len() > 255 || pass.len() > 255 {
            return Err(Error::InvalidArgument("SOCKS5: username and password must be at most 255 bytes each".into()));
        }
    }
    let address = socks5_address(target_host, target_port, remote_dns, resolve)?;
    let io = |what: &'static str| move |e: io::Error| io_error("SOCKS5", &target_of(what, target_host, target_port), e);

    // Method selection.
    let greeting: &[u8] = if creds.is_some() { &[5, 2, NO_AUTH, USER_PASS] } else { &[5, 1, NO_AUTH] };
    send(stream, greeting).map_err(io("sending greeting"))?;
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice).map_err(io("reading method choice"))?;
    check_version("SOCKS5", 5, choice[0])?;
    match (choice[1], creds) {
        (NO_AUTH, _) => {}
        (USER_PASS, Some((user, pass))) => {
            let mut auth = vec![1, user.len() as u8];
            auth.extend_from_slice(user.as_bytes());
            auth.push(pass.len() as u8);
            auth.extend_from_slice(pass.as_bytes());
            send(stream, &auth).map_err(io("sending credentials"))?;
            let mut status = [0u8; 2];
            stream.read_exact(&mut status).map_err(io("reading authentication status"))?;
            // RFC 1929 says version 1; some servers answer 5. Either is accepted.
            if status[0] != 1 && status[0] != 5 {
                return Err(Error::Proxy(format!("SOCKS5: bad authentication reply version 0x{:02x}", status[0])));
            }
            if status[1] != 0 {
                return Err(Error::Proxy("SOCKS5: username/password authentication failed".into()));
            }
        }
        (NO_ACCEPTABLE, _) => {
            return Err(Error::Proxy(if creds.is_some() {
                "SOCKS5: proxy accepted none of the offered authentication methods".into()
            } else {
                "SOCKS5: proxy requires authentication but no credentials were given".into()
            }))
        }
        (other, _) => {
            return Err(Error::Proxy(format!(
                "SOCKS5: proxy chose authentication method 0x{other:02x}, which was not offered"
            )))
        }
    }

    // CONNECT request.
    let mut request = vec![5, 1, 0];
    request.extend_from_slice(&address);
    send(stream, &request).map_err(io("sending CONNECT"))?;
    let mut head = [0u8; 4];
    stream.read_exact(&mut head).map_err(io("reading CONNECT reply"))?;
    check_version("SOCKS5", 5, head[0])?;
    if head[1] != 0 {
        return Err(Error::Proxy(format!("{} (target {target})", socks5_reply_message(head[1]))));
    }
    // Skip the bound address and port, reading exactly their length.
    let addr_len = match head[3] {
        1 => 4,
        4 => 16,
        3 => {
            let mut len = [0u8; 1];
            stream.read_exact(&mut len).map_err(io("reading CONNECT reply"))?;
            usize::from(len[0])
        }
        other => return Err(Error::Proxy(format!("SOCKS5: unknown address type 0x{other:02x} in reply"))),
    };
    let mut rest = vec![0u8; addr_len + 2];
    stream.read_exact(&mut rest).map_err(io("reading CONNECT reply"))?;
    Ok(())
}

/// Open a SOCKS4a `CONNECT` to `target_host:target_port` through the proxy at the
/// other end of `stream`, identifying as `user_id` (often empty).
///
/// An IPv4 literal is sent as plain SOCKS4; any other host name is sent for the proxy
/// to resolve (the 4a extension). IPv6 targets cannot be expressed in SOCKS4.
///
/// Errors: [`Error::InvalidArgument`] for an IPv6 or empty host, NUL bytes, or a host
/// or user id over 255 bytes; [`Error::ConnectTimeout`] on timeouts;
/// [`Error::Proxy`] for a refusal, a bad reply or other I/O errors.
pub fn socks4a_connect<S: Read + Write>(
    stream: &mut S,
    target_host: &str,
    target_port: u16,
    user_id: &str,
) -> Result<()> {
    let target = display_target(target_host, target_port);
    if user_id.len() > 255 || user_id.contains('\0') {
        return Err(Error::InvalidArgument("SOCKS4: user id must be at most 255 bytes, without NUL".into()));
    }
    let host = unbracket(target_host);
    if host.is_empty() || host.len() > 255 || host.contains('\0') {
        return Err(Error::InvalidArgument(format!("SOCKS4: bad target host {target_host:?}")));
    }
    let mut request = vec![4, 1];
    request.extend_from_slice(&target_port.to_be_bytes());
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            request.extend_from_slice(&ip.octets());
            request.extend_from_slice(user_id.as_bytes());
            request.push(0);
        }
        Ok(IpAddr::V6(_)) => return Err(Error::InvalidArgument(format!("SOCKS4 cannot reach IPv6 target {target}"))),
        Err(_) => {
            request.extend_from_slice(&[0, 0, 0, 1]); // 0.0.0.x: "hostname follows"
            request.extend_from_slice(user_id.as_bytes());
            request.push(0);
            request.extend_from_slice(host.as_bytes());
            request.push(0);
        }
    }
    let io = |what: &'static str| move |e: io::Error| io_error("SOCKS4", &target_of(what, target_host, target_port), e);
    send(stream, &request).map_err(io("sending CONNECT"))?;
    let mut reply = [0u8; 8];
    stream.read_exact(&mut reply).map_err(io("reading CONNECT reply"))?;
    // The reply version is 0; some servers answer 4. Either is accepted.
    if reply[0] != 0 && reply[0] != 4 {
        return Err(Error::Proxy(format!("SOCKS4: bad version byte 0x{:02x} in reply", reply[0])));
    }
    let why = match reply[1] {
        90 => return Ok(()),
        91 => "request rejected or failed",
        92 => "request rejected: the proxy could not reach identd on the client",
        93 => "request rejected: identd reported a different user id",
        other => return Err(Error::Proxy(format!("SOCKS4: unknown reply code {other} (target {target})"))),
    };
    Err(Error::Proxy(format!("SOCKS4: {why} (target {target})")))
}

/// The human meaning of a SOCKS5 reply code (RFC 1928 section 6).
fn socks5_reply_message(code: u8) -> String {
    let text = match code {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused by destination host",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        other => return format!("SOCKS5: unknown reply code 0x{other:02x}"),
    };
    format!("SOCKS5: {text}")
}

/// ATYP, address and port for a SOCKS5 request.
fn socks5_address(
    host: &str,
    port: u16,
    remote_dns: bool,
    resolve: &dyn Fn(&str, u16) -> Result<IpAddr>,
) -> Result<Vec<u8>> {
    let bare = unbracket(host);
    if bare.is_empty() {
        return Err(Error::InvalidArgument("SOCKS5: empty target host".into()));
    }
    let ip = match bare.parse::<IpAddr>() {
        Ok(ip) => Some(ip),
        Err(_) if remote_dns => None,
        Err(_) => Some(resolve(bare, port)?),
    };
    let mut out = Vec::with_capacity(bare.len() + 4);
    match ip {
        Some(IpAddr::V4(v4)) => {
            out.push(1);
            out.extend_from_slice(&v4.octets());
        }
        Some(IpAddr::V6(v6)) => {
            out.push(4);
            out.extend_from_slice(&v6.octets());
        }
        None => {
            let len = u8::try_from(bare.len()).map_err(|_| {
                Error::InvalidArgument(format!("SOCKS5: host name longer than 255 bytes: {bare:.40}..."))
            })?;
            out.push(3);
            out.push(len);
            out.extend_from_slice(bare.as_bytes());
        }
    }
    out.extend_from_slice(&port.to_be_bytes());
    Ok(out)
}

fn resolve(host: &str, port: u16) -> Result<IpAddr> {
    let mut addrs =
        (host, port).to_socket_addrs().map_err(|e| Error::Connect(format!("could not resolve {host}: {e}")))?;
    addrs.next().map(|a| a.ip()).ok_or_else(|| Error::Connect(format!("could not resolve {host}: no addresses")))
}

fn unbracket(host: &str) -> &str {
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
}

fn display_target(host: &str, port: u16) -> String {
    let bare = unbracket(host);
    if bare.parse::<Ipv6Addr>().is_ok() {
        format!("[{bare}]:{port}")
    } else {
        format!("{bare}:{port}")
    }
}

fn target_of(what: &str, host: &str, port: u16) -> String {
    format!("{what} (target {})", display_target(host, port))
}

fn send<S: Write>(stream: &mut S, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes)?;
    stream.flush()
}

fn check_version(proto: &str, want: u8, got: u8) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(Error::Proxy(format!("{proto}: bad version byte 0x{got:02x} in reply (not a {proto} proxy?)")))
    }
}

fn io_error(proto: &str, what: &str, e: io::Error) -> Error {
    // A cancel or the total deadline, raised by the connection layer, stays itself.
    if let Some(inner) = crate::error::carried(&e) {
        return inner;
    }
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            Error::ConnectTimeout(format!("{proto}: timed out {what}"))
        }
        io::ErrorKind::UnexpectedEof => Error::Proxy(format!("{proto}: truncated reply while {what}")),
        _ => Error::Proxy(format!("{proto}: {what}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::net::{TcpListener, TcpStream};
    use std::thread;
    use std::time::Duration;

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

    const OK_V4_REPLY: [u8; 10] = [5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90];

    fn reply_with(code: u8) -> Vec<u8> {
        let mut v = vec![5, NO_AUTH];
        v.extend_from_slice(&[5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
        v
    }

    #[test]
    fn socks5_no_auth_domain_request_bytes() {
        let mut input = vec![5, NO_AUTH];
        input.extend_from_slice(&OK_V4_REPLY);
        input.extend_from_slice(b"payload");
        let mut s = Mock::new(&input);
        socks5_connect(&mut s, "example.com", 443, None, true).unwrap();
        let mut want = vec![5, 1, 0, 5, 1, 0, 3, 11];
        want.extend_from_slice(b"example.com");
        want.extend_from_slice(&[1, 187]);
        assert_eq!(s.output, want);
        let mut rest = Vec::new();
        s.input.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"payload");
    }

    #[test]
    fn socks5_ip_literals_are_sent_as_addresses() {
        let mut input = vec![5, NO_AUTH];
        input.extend_from_slice(&OK_V4_REPLY);
        let mut s = Mock::new(&input);
        socks5_connect(&mut s, "10.1.2.3", 80, None, true).unwrap();
        assert_eq!(&s.output[3..], &[5, 1, 0, 1, 10, 1, 2, 3, 0, 80]);

        let mut s = Mock::new(&input);
        socks5_connect(&mut s, "[::1]", 80, None, false).unwrap();
        let mut want = vec![5, 1, 0, 4];
        want.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        want.extend_from_slice(&[0, 80]);
        assert_eq!(&s.output[3..], &want[..]);
    }

    #[test]
    fn socks5_local_dns_sends_an_address() {
        let mut input = vec![5, NO_AUTH];
        input.extend_from_slice(&OK_V4_REPLY);
        let mut s = Mock::new(&input);
        socks5_connect(&mut s, "localhost", 8080, None, false).unwrap();
        let atyp = s.output[6];
        assert!(atyp == 1 || atyp == 4, "ATYP {atyp}");
        assert_eq!(&s.output[s.output.len() - 2..], &[0x1f, 0x90]);
        // A name the resolver rejects locally (no network traffic).
        let err = socks5_connect(&mut Mock::new(&input), "bad\0host", 1, None, false).unwrap_err();
        assert!(matches!(err, Error::Connect(_)), "{err:?}");
    }

    #[test]
    fn socks5_user_pass_bytes() {
        let mut input = vec![5, USER_PASS, 1, 0];
        input.extend_from_slice(&[5, 0, 0, 3, 4, b'h', b'o', b's', b't', 0, 1]);
        input.push(0xaa);
        let mut s = Mock::new(&input);
        socks5_connect(&mut s, "h", 1, Some(("bob", "pw")), true).unwrap();
        assert_eq!(&s.output[..4], &[5, 2, NO_AUTH, USER_PASS]);
        assert_eq!(&s.output[4..12], &[1, 3, b'b', b'o', b'b', 2, b'p', b'w']);
        assert_eq!(s.input.position() as usize, input.len() - 1, "reply read exactly");
    }

    #[test]
    fn socks5_server_may_skip_auth_even_with_creds() {
        let mut input = vec![5, NO_AUTH];
        input.extend_from_slice(&OK_V4_REPLY);
        let mut s = Mock::new(&input);
        socks5_connect(&mut s, "h", 1, Some(("u", "p")), true).unwrap();
        assert_eq!(s.output[4], 5, "no credentials sent");
    }

    #[test]
    fn socks5_every_reply_code() {
        let cases = [
            (1, "SOCKS5: general SOCKS server failure"),
            (2, "SOCKS5: connection not allowed by ruleset"),
            (3, "SOCKS5: network unreachable"),
            (4, "SOCKS5: host unreachable"),
            (5, "SOCKS5: connection refused by destination host"),
            (6, "SOCKS5: TTL expired"),
            (7, "SOCKS5: command not supported"),
            (8, "SOCKS5: address type not supported"),
            (0x42, "SOCKS5: unknown reply code 0x42"),
        ];
        for (code, msg) in cases {
            let err = socks5_connect(&mut Mock::new(&reply_with(code)), "t.example", 9, None, true).unwrap_err();
            assert_eq!(err, Error::Proxy(format!("{msg} (target t.example:9)")));
        }
    }

    #[test]
    fn socks5_bad_and_truncated_replies() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![], "truncated"),
            (vec![5], "truncated"),
            (vec![4, 0], "bad version"),
            (b"HTTP/1.1 400 Bad Request\r\n".to_vec(), "bad version"),
            (vec![5, NO_ACCEPTABLE], "requires authentication"),
            (vec![5, USER_PASS], "not offered"),
            (vec![5, 0x03], "not offered"),
            (vec![5, 0, 5, 0], "truncated"),
            (vec![5, 0, 4, 0, 0, 1, 0, 0, 0, 0, 0, 0], "bad version"),
            (vec![5, 0, 5, 0, 0, 9, 0, 0], "unknown address type"),
            (vec![5, 0, 5, 0, 0, 1, 127, 0, 0], "truncated"),
            (vec![5, 0, 5, 0, 0, 3, 10, b'a'], "truncated"),
            (vec![5, 0, 5, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0], "truncated"),
        ];
        for (input, want) in cases {
            let err = socks5_connect(&mut Mock::new(&input), "h", 1, None, true).unwrap_err();
            assert!(matches!(&err, Error::Proxy(m) if m.contains(want)), "{input:?}: {err:?}");
        }
        let err = socks5_connect(&mut Mock::new(&[5, NO_ACCEPTABLE]), "h", 1, Some(("u", "p")), true).unwrap_err();
        assert!(matches!(&err, Error::Proxy(m) if m.contains("none of the offered")), "{err:?}");
        let err = socks5_connect(&mut Mock::new(&[5, USER_PASS, 1, 1]), "h", 1, Some(("u", "p")), true).unwrap_err();
        assert_eq!(err, Error::Proxy("SOCKS5: username/password authentication failed".into()));
        let err = socks5_connect(&mut Mock::new(&[5, USER_PASS, 9, 0]), "h", 1, Some(("u", "p")), true).unwrap_err();
        assert!(matches!(&err, Error::Proxy(m) if m.contains("bad authentication reply version")), "{err:?}");
        let err = socks5_connect(&mut Mock::new(&[5, USER_PASS, 1]), "h", 1, Some(("u", "p")), true).unwrap_err();
        assert!(matches!(&err, Error::Proxy(m) if m.contains("truncated")), "{err:?}");
    }

    #[test]
    fn socks5_argument_limits() {
        let long = "x".repeat(256);
        let ok255 = "x".repeat(255);
        for creds in [(long.as_str(), "p"), ("u", long.as_str())] {
            let mut s = Mock::new(&[]);
            let err = socks5_connect(&mut s, "h", 1, Some(creds), true).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
            assert!(s.output.is_empty(), "nothing sent");
        }
        let err = socks5_connect(&mut Mock::new(&[]), &long, 1, None, true).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
        let err = socks5_connect(&mut Mock::new(&[]), "", 1, None, true).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
        // 255 bytes is fine
        let mut input = vec![5, USER_PASS, 1, 0];
        input.extend_from_slice(&OK_V4_REPLY);
        socks5_connect(&mut Mock::new(&input), &ok255, 1, Some((&ok255, &ok255)), true).unwrap();
    }

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
    fn io_errors_are_mapped() {
        for kind in [io::ErrorKind::WouldBlock, io::ErrorKind::TimedOut] {
            let err = socks5_connect(&mut Failing(kind), "h", 1, None, true).unwrap_err();
            assert!(matches!(err, Error::ConnectTimeout(_)), "{err:?}");
            let err = socks4a_connect(&mut Failing(kind), "h", 1, "").unwrap_err();
            assert!(matches!(err, Error::ConnectTimeout(_)), "{err:?}");
        }
        let err = socks5_connect(&mut Failing(io::ErrorKind::ConnectionReset), "h", 1, None, true).unwrap_err();
        assert!(matches!(err, Error::Proxy(_)), "{err:?}");
    }

    #[test]
    fn socks4a_request_bytes() {
        let mut s = Mock::new(&[0, 90, 0, 0, 0, 0, 0, 0, b'x']);
        socks4a_connect(&mut s, "example.com", 80, "me").unwrap();
        let mut want = vec![4, 1, 0, 80, 0, 0, 0, 1, b'm', b'e', 0];
        want.extend_from_slice(b"example.com\0");
        assert_eq!(s.output, want);
        assert_eq!(s.input.position(), 8);

        let mut s = Mock::new(&[4, 90, 0, 0, 0, 0, 0, 0]);
        socks4a_connect(&mut s, "192.168.1.2", 0x1234, "").unwrap();
        assert_eq!(s.output, [4, 1, 0x12, 0x34, 192, 168, 1, 2, 0]);
    }

    #[test]
    fn socks4a_refusals_and_bad_replies() {
        for (code, want) in [
            (91, "SOCKS4: request rejected or failed (target h:1)"),
            (92, "SOCKS4: request rejected: the proxy could not reach identd on the client (target h:1)"),
            (93, "SOCKS4: request rejected: identd reported a different user id (target h:1)"),
            (17, "SOCKS4: unknown reply code 17 (target h:1)"),
        ] {
            let err = socks4a_connect(&mut Mock::new(&[0, code, 0, 0, 0, 0, 0, 0]), "h", 1, "").unwrap_err();
            assert_eq!(err, Error::Proxy(want.into()));
        }
        let err = socks4a_connect(&mut Mock::new(&[5, 90, 0, 0, 0, 0, 0, 0]), "h", 1, "").unwrap_err();
        assert!(matches!(&err, Error::Proxy(m) if m.contains("bad version")), "{err:?}");
        let err = socks4a_connect(&mut Mock::new(&[0, 90, 0]), "h", 1, "").unwrap_err();
        assert!(matches!(&err, Error::Proxy(m) if m.contains("truncated")), "{err:?}");
        for (host, user) in [("::1", ""), ("[::1]", ""), ("", ""), ("h\0", ""), ("h", "a\0b")] {
            let err = socks4a_connect(&mut Mock::new(&[]), host, 1, user).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{host:?} {err:?}");
        }
        let long = "u".repeat(256);
        let err = socks4a_connect(&mut Mock::new(&[]), "h", 1, &long).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    }

    // ---- over real sockets (against microsocks: tests/proxy_handshakes.rs) ----

    fn connect(port: u16) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }

    /// One-shot fake SOCKS server replying with fixed bytes after reading the greeting.
    #[test]
    fn fake_server_over_tcp_leaves_payload_unread() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut greeting = [0u8; 3];
            s.read_exact(&mut greeting).unwrap();
            s.write_all(&[5, 0]).unwrap();
            let mut req = [0u8; 4 + 1 + 4 + 2];
            s.read_exact(&mut req).unwrap();
            // Reply and first payload bytes in one segment.
            let mut reply = vec![5, 0, 0, 3, 4];
            reply.extend_from_slice(b"bndh\x00\x50from-target");
            s.write_all(&reply).unwrap();
            req
        });
        let mut s = connect(port);
        socks5_connect(&mut s, "abcd", 80, None, true).unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"from-target");
        assert_eq!(server.join().unwrap(), [5, 1, 0, 3, 4, b'a', b'b', b'c', b'd', 0, 80]);
    }

    #[test]
    fn silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let holder = thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            thread::sleep(Duration::from_millis(600));
            drop(s);
        });
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(150))).unwrap();
        let err = socks5_connect(&mut s, "h", 1, None, true).unwrap_err();
        assert!(matches!(err, Error::ConnectTimeout(_)), "{err:?}");
        holder.join().unwrap();
    }
}

//! The one error type of the core.
//!
//! Every variant maps to a stable numeric code (see [`Error::code`]) which the C side
//! receives as `httpx_code`. Values are grouped so a caller can test a whole family
//! (e.g. "any timeout": `10..=19`). A value is never reused for another meaning.

use std::io;

/// Stable numeric codes, mirrored 1:1 by the `HTTPX_*` constants in the C header.
pub mod code {
    pub const OK: u32 = 0;
    // usage
    pub const INVALID_ARGUMENT: u32 = 1;
    pub const INVALID_URL: u32 = 2;
    pub const UNSUPPORTED_PROTOCOL: u32 = 3;
    // timeouts (10..=19)
    pub const CONNECT_TIMEOUT: u32 = 10;
    pub const READ_TIMEOUT: u32 = 11;
    pub const WRITE_TIMEOUT: u32 = 12;
    pub const POOL_TIMEOUT: u32 = 13;
    pub const TOTAL_TIMEOUT: u32 = 14;
    // network (20..=29)
    pub const CONNECT: u32 = 20;
    pub const READ: u32 = 21;
    pub const WRITE: u32 = 22;
    pub const CLOSE: u32 = 23;
    pub const PROXY: u32 = 24;
    pub const TLS: u32 = 25;
    pub const RESOLVE: u32 = 26;
    // protocol (30..=39)
    pub const REMOTE_PROTOCOL: u32 = 30;
    pub const LOCAL_PROTOCOL: u32 = 31;
    pub const DECODING: u32 = 32;
    // client-level (40..=49)
    pub const TOO_MANY_REDIRECTS: u32 = 40;
    pub const HTTP_STATUS: u32 = 41;
    pub const STREAM_CONSUMED: u32 = 42;
    pub const CLIENT_CLOSED: u32 = 43;
    pub const CANCELLED: u32 = 44;
    pub const BODY_TOO_LARGE: u32 = 45;
    // callbacks (50..=59)
    pub const CALLBACK: u32 = 50;
    pub const RECURSIVE_CALL: u32 = 51;
    // local resources (60..=69)
    pub const IO: u32 = 60;
    // bugs
    pub const INTERNAL: u32 = 99;

    /// Static name of a code, never empty.
    pub fn name(code: u32) -> &'static str {
        match code {
            OK => "OK",
            INVALID_ARGUMENT => "INVALID_ARGUMENT",
            INVALID_URL => "INVALID_URL",
            UNSUPPORTED_PROTOCOL => "UNSUPPORTED_PROTOCOL",
            CONNECT_TIMEOUT => "CONNECT_TIMEOUT",
            READ_TIMEOUT => "READ_TIMEOUT",
            WRITE_TIMEOUT => "WRITE_TIMEOUT",
            POOL_TIMEOUT => "POOL_TIMEOUT",
            TOTAL_TIMEOUT => "TOTAL_TIMEOUT",
            CONNECT => "CONNECT",
            READ => "READ",
            WRITE => "WRITE",
            CLOSE => "CLOSE",
            PROXY => "PROXY",
            TLS => "TLS",
            RESOLVE => "RESOLVE",
            REMOTE_PROTOCOL => "REMOTE_PROTOCOL",
            LOCAL_PROTOCOL => "LOCAL_PROTOCOL",
            DECODING => "DECODING",
            TOO_MANY_REDIRECTS => "TOO_MANY_REDIRECTS",
            HTTP_STATUS => "HTTP_STATUS",
            STREAM_CONSUMED => "STREAM_CONSUMED",
            CLIENT_CLOSED => "CLIENT_CLOSED",
            CANCELLED => "CANCELLED",
            BODY_TOO_LARGE => "BODY_TOO_LARGE",
            CALLBACK => "CALLBACK",
            RECURSIVE_CALL => "RECURSIVE_CALL",
            IO => "IO",
            INTERNAL => "INTERNAL",
            _ => "UNKNOWN",
        }
    }
}

/// Every failure the library can report. The payload is a human message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    #[error("unsupported protocol: {0}")]
    UnsupportedProtocol(String),
    #[error("connect timed out{}", tail(.0))]
    ConnectTimeout(String),
    #[error("read timed out{}", tail(.0))]
    ReadTimeout(String),
    #[error("write timed out{}", tail(.0))]
    WriteTimeout(String),
    #[error("timed out waiting for a pooled connection{}", tail(.0))]
    PoolTimeout(String),
    #[error("total timeout expired: {0}")]
    TotalTimeout(String),
    #[error("connect failed: {0}")]
    Connect(String),
    #[error("read failed: {0}")]
    Read(String),
    #[error("write failed: {0}")]
    Write(String),
    #[error("close failed: {0}")]
    Close(String),
    #[error("proxy error: {0}")]
    Proxy(String),
    #[error("TLS error: {0}")]
    Tls(String),
    /// The host name could not be resolved.
    #[error("could not resolve host: {0}")]
    Resolve(String),
    #[error("remote protocol error: {0}")]
    RemoteProtocol(String),
    #[error("local protocol error: {0}")]
    LocalProtocol(String),
    #[error("decoding error: {0}")]
    Decoding(String),
    #[error("too many redirects: {0}")]
    TooManyRedirects(String),
    #[error("{0}")]
    HttpStatus(String),
    #[error("stream consumed: {0}")]
    StreamConsumed(String),
    #[error("client closed: {0}")]
    ClientClosed(String),
    #[error("cancelled: {0}")]
    Cancelled(String),
    #[error("body too large: {0}")]
    BodyTooLarge(String),
    #[error("callback aborted: {0}")]
    Callback(String),
    #[error("recursive call: {0}")]
    RecursiveCall(String),
    #[error("I/O error: {0}")]
    Io(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The stable numeric code of this error.
    pub fn code(&self) -> u32 {
        use code::*;
        match self {
            Error::InvalidArgument(_) => INVALID_ARGUMENT,
            Error::InvalidUrl(_) => INVALID_URL,
            Error::UnsupportedProtocol(_) => UNSUPPORTED_PROTOCOL,
            Error::ConnectTimeout(_) => CONNECT_TIMEOUT,
            Error::ReadTimeout(_) => READ_TIMEOUT,
            Error::WriteTimeout(_) => WRITE_TIMEOUT,
            Error::PoolTimeout(_) => POOL_TIMEOUT,
            Error::TotalTimeout(_) => TOTAL_TIMEOUT,
            Error::Connect(_) => CONNECT,
            Error::Read(_) => READ,
            Error::Write(_) => WRITE,
            Error::Close(_) => CLOSE,
            Error::Proxy(_) => PROXY,
            Error::Tls(_) => TLS,
            Error::Resolve(_) => RESOLVE,
            Error::RemoteProtocol(_) => REMOTE_PROTOCOL,
            Error::LocalProtocol(_) => LOCAL_PROTOCOL,
            Error::Decoding(_) => DECODING,
            Error::TooManyRedirects(_) => TOO_MANY_REDIRECTS,
            Error::HttpStatus(_) => HTTP_STATUS,
            Error::StreamConsumed(_) => STREAM_CONSUMED,
            Error::ClientClosed(_) => CLIENT_CLOSED,
            Error::Cancelled(_) => CANCELLED,
            Error::BodyTooLarge(_) => BODY_TOO_LARGE,
            Error::Callback(_) => CALLBACK,
            Error::RecursiveCall(_) => RECURSIVE_CALL,
            Error::Io(_) => IO,
            Error::Internal(_) => INTERNAL,
        }
    }

    /// True for the timeout kinds (connect, read, write, pool, total).
    pub fn is_timeout(&self) -> bool {
        (10..=19).contains(&self.code())
    }

    /// Map an I/O error that happened while reading from a peer.
    pub fn from_read(e: io::Error) -> Error {
        if let Some(inner) = carried(&e) {
            return inner;
        }
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::ReadTimeout(e.to_string()),
            _ => match tls_error_in(&e) {
                Some(msg) => Error::Tls(msg),
                None => Error::Read(e.to_string()),
            },
        }
    }

    /// Map an I/O error that happened while writing to a peer.
    pub fn from_write(e: io::Error) -> Error {
        if let Some(inner) = carried(&e) {
            return inner;
        }
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::WriteTimeout(e.to_string()),
            _ => match tls_error_in(&e) {
                Some(msg) => Error::Tls(msg),
                None => Error::Write(e.to_string()),
            },
        }
    }

    /// Map an I/O error on a local file.
    pub fn from_local_io(what: &str, e: io::Error) -> Error {
        Error::Io(format!("{what}: {e}"))
    }
}

/// A library error carried inside an `io::Error` (a cancel or the total deadline
/// raised by the connection layer's I/O wait): it wins over the I/O error kind.
pub(crate) fn carried(e: &io::Error) -> Option<Error> {
    e.get_ref().and_then(|i| i.downcast_ref::<Error>()).cloned()
}

/// Join a timeout's kind and its detail: "read timed out after 2 s waiting for
/// 127.0.0.1:8080" (details built by `info::explain` start with "after"), else
/// "read timed out: <detail>".
fn tail(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else if detail.starts_with("after ") {
        format!(" {detail}")
    } else {
        format!(": {detail}")
    }
}

/// A rustls failure in words, for people rather than for a Debug dump:
/// "the server's certificate is a CA certificate, not a server certificate".
pub fn tls_words(e: &rustls::Error) -> String {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    let cert = |what: &str| format!("the server's certificate {what}");
    match e {
        E::InvalidCertificate(c) => match c {
            C::Expired | C::ExpiredContext { .. } => cert("has expired"),
            C::NotValidYet | C::NotValidYetContext { .. } => cert("is not valid yet"),
            C::UnknownIssuer => cert("was not issued by a trusted certificate authority (unknown issuer)"),
            C::NotValidForName => cert("is not valid for this host name"),
            C::NotValidForNameContext { expected, presented } => cert(&format!(
                "is not valid for {:?}; it names {}",
                expected.to_str(),
                if presented.is_empty() {
                    "no host".to_string()
                } else {
                    presented.iter().map(|p| unwrap_name(p)).collect::<Vec<_>>().join(", ")
                }
            )),
            C::BadSignature => cert("has an invalid signature"),
            C::Revoked => cert("has been revoked"),
            C::BadEncoding => cert("could not be parsed"),
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => cert("is not meant for a TLS server"),
            C::UnhandledCriticalExtension => cert("has a critical extension we do not understand"),
            C::ApplicationVerificationFailure => cert("was refused by the application's verifier"),
            C::Other(o) => {
                let d = format!("{o:?}");
                if d.contains("CaUsedAsEndEntity") {
                    cert("is a CA certificate, not a server certificate")
                } else if d.contains("EndEntityUsedAsCa") {
                    cert("chain uses a server certificate as a CA")
                } else if d.contains("RequiredEkuNotFound") {
                    cert("is not meant for a TLS server")
                } else if d.contains("UnsupportedCertVersion") {
                    cert("has an unsupported X.509 version")
                } else {
                    cert(&format!("was refused: {o}"))
                }
            }
            other => cert(&format!("was refused: {other}")),
        },
        E::NoCertificatesPresented => "the server presented no certificate".into(),
        E::AlertReceived(a) => match a {
            A::ProtocolVersion => "the server does not accept the TLS versions we offer".into(),
            A::HandshakeFailure => "the server refused the handshake (no common cipher or protocol version)".into(),
            A::CertificateRequired => "the server requires a client certificate".into(),
            A::BadCertificate | A::UnknownCA | A::CertificateUnknown => {
                "the server refused our client certificate".into()
            }
            A::NoApplicationProtocol => "the server does not speak any protocol we offered (ALPN)".into(),
            A::UnrecognisedName => "the server does not know this host name (SNI)".into(),
            other => format!("the server sent the TLS alert {other:?}"),
        },
        E::PeerIncompatible(p) => format!("the server's TLS is incompatible with ours ({p:?})"),
        E::PeerMisbehaved(p) => format!("the server broke the TLS protocol ({p:?})"),
        E::NoApplicationProtocol => "the server does not speak any protocol we offered (ALPN)".into(),
        E::DecryptError => "a TLS record could not be decrypted".into(),
        other => other.to_string(),
    }
}

/// rustls lists presented names as `DnsName("a.example")` / `IpAddress(1.2.3.4)`:
/// keep the name.
fn unwrap_name(p: &str) -> &str {
    match (p.find('('), p.strip_suffix(')')) {
        (Some(i), Some(inner)) => inner[i + 1..].trim_matches('"'),
        _ => p,
    }
}

/// rustls reports TLS failures inside `io::Error` of kind `InvalidData` wrapping a
/// `rustls::Error`; surface them as TLS errors rather than plain read errors.
fn tls_error_in(e: &io::Error) -> Option<String> {
    let inner = e.get_ref()?;
    inner.downcast_ref::<rustls::Error>().map(tls_words)
}

pub type Result<T> = std::result::Result<T, Error>;

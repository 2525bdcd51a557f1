//! The one error type of the core.
//!
//! Every variant maps to a stable numeric code (see [`Error::code`]) which the C side
//! receives as `httpx_code`. Values are grouped so a caller can test a whole family
//! (e.g. "any timeout": `10..=19`). A value is never reused for another meaning.

use std::io;

/// The one table of error kinds: variant, Display text, code name, value, group.
/// It generates the [`Error`] enum, [`Error::code`], the [`code`] constants,
/// [`code::name`], [`code::c_name`], [`code::group`] and [`code::ALL`]; the C header's
/// `HTTPX_E_*` constants (literals, for cbindgen) are checked against it at compile
/// time in `src/ffi/mod.rs`. Add a kind here, then its `HTTPX_E_*` there.
macro_rules! error_table {
    ($( $(#[$doc:meta])* $variant:ident = $name:ident = $value:literal, $group:ident, ($($display:tt)+); )*) => {
        /// Stable numeric codes, mirrored 1:1 by the `HTTPX_*` constants in the C header.
        /// Values are grouped ([`Group`]); a value is never reused for another meaning.
        pub mod code {
            pub const OK: u32 = 0;
            $( pub const $name: u32 = $value; )*

            /// Every code but `OK`: (value, name, group), in table order.
            pub const ALL: &[(u32, &str, super::Group)] = &[ $( ($value, stringify!($name), super::Group::$group), )* ];

            /// Static name of a code, never empty ("UNKNOWN" for an undefined value).
            pub fn name(code: u32) -> &'static str {
                match code {
                    OK => "OK",
                    $( $name => stringify!($name), )*
                    _ => "UNKNOWN",
                }
            }

            /// [`name`] as a NUL-terminated string, for the C side.
            pub fn c_name(code: u32) -> &'static std::ffi::CStr {
                match code {
                    OK => c"OK",
                    $( $name => {
                        const C: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
                            concat!(stringify!($name), "\0").as_bytes(),
                        ) {
                            Ok(c) => c,
                            Err(_) => panic!("a code name holds a NUL"),
                        };
                        C
                    } )*
                    _ => c"UNKNOWN",
                }
            }

            /// The group of a defined code (`None` for `OK` and undefined values).
            pub fn group(code: u32) -> Option<super::Group> {
                ALL.iter().find(|(v, _, _)| *v == code).map(|(_, _, g)| *g)
            }
        }

        /// Every failure the library can report. The payload is a human message.
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        pub enum Error {
            $( $(#[$doc])* #[error($($display)+)] $variant(String), )*
        }

        impl Error {
            /// The stable numeric code of this error.
            pub fn code(&self) -> u32 {
                match self {
                    $( Error::$variant(_) => code::$name, )*
                }
            }
        }

        // Checked when the crate compiles: every value inside its group's range, and
        // no value used twice.
        const _: () = {
            $( assert!(Group::$group.contains($value), "a code outside its group's range"); )*
            let all = code::ALL;
            let mut i = 0;
            while i < all.len() {
                let mut j = i + 1;
                while j < all.len() {
                    assert!(all[i].0 != all[j].0, "two error kinds share a code");
                    j += 1;
                }
                i += 1;
            }
        };
    };
}

/// The families of codes: each is a range of values so a caller can test a whole
/// family (`httpx_code_is_timeout` is `Group::Timeout.contains(code)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Usage,
    Timeout,
    Network,
    Protocol,
    Client,
    Callback,
    Local,
    Bug,
}

impl Group {
    /// The values reserved for this group.
    pub const fn range(self) -> (u32, u32) {
        match self {
            Group::Usage => (1, 9),
            Group::Timeout => (10, 19),
            Group::Network => (20, 29),
            Group::Protocol => (30, 39),
            Group::Client => (40, 49),
            Group::Callback => (50, 59),
            Group::Local => (60, 69),
            Group::Bug => (99, 99),
        }
    }

    pub const fn contains(self, code: u32) -> bool {
        let (lo, hi) = self.range();
        lo <= code && code <= hi
    }
}

error_table! {
    InvalidArgument = INVALID_ARGUMENT = 1, Usage, ("invalid argument: {0}");
    InvalidUrl = INVALID_URL = 2, Usage, ("invalid URL: {0}");
    UnsupportedProtocol = UNSUPPORTED_PROTOCOL = 3, Usage, ("unsupported protocol: {0}");
    ConnectTimeout = CONNECT_TIMEOUT = 10, Timeout, (fmt = timeout_fmt::connect);
    ReadTimeout = READ_TIMEOUT = 11, Timeout, (fmt = timeout_fmt::read);
    WriteTimeout = WRITE_TIMEOUT = 12, Timeout, (fmt = timeout_fmt::write);
    PoolTimeout = POOL_TIMEOUT = 13, Timeout, (fmt = timeout_fmt::pool);
    TotalTimeout = TOTAL_TIMEOUT = 14, Timeout, ("total timeout expired: {0}");
    Connect = CONNECT = 20, Network, ("connect failed: {0}");
    Read = READ = 21, Network, ("read failed: {0}");
    Write = WRITE = 22, Network, ("write failed: {0}");
    Close = CLOSE = 23, Network, ("close failed: {0}");
    Proxy = PROXY = 24, Network, ("proxy error: {0}");
    Tls = TLS = 25, Network, ("TLS error: {0}");
    /// The host name could not be resolved.
    Resolve = RESOLVE = 26, Network, ("could not resolve host: {0}");
    RemoteProtocol = REMOTE_PROTOCOL = 30, Protocol, ("remote protocol error: {0}");
    LocalProtocol = LOCAL_PROTOCOL = 31, Protocol, ("local protocol error: {0}");
    Decoding = DECODING = 32, Protocol, ("decoding error: {0}");
    TooManyRedirects = TOO_MANY_REDIRECTS = 40, Client, ("too many redirects: {0}");
    HttpStatus = HTTP_STATUS = 41, Client, ("{0}");
    StreamConsumed = STREAM_CONSUMED = 42, Client, ("stream consumed: {0}");
    ClientClosed = CLIENT_CLOSED = 43, Client, ("client closed: {0}");
    Cancelled = CANCELLED = 44, Client, ("cancelled: {0}");
    BodyTooLarge = BODY_TOO_LARGE = 45, Client, ("body too large: {0}");
    Callback = CALLBACK = 50, Callback, ("callback aborted: {0}");
    RecursiveCall = RECURSIVE_CALL = 51, Callback, ("recursive call: {0}");
    Io = IO = 60, Local, ("I/O error: {0}");
    Internal = INTERNAL = 99, Bug, ("internal error: {0}");
}

impl Error {
    /// True for the timeout kinds (connect, read, write, pool, total).
    pub fn is_timeout(&self) -> bool {
        Group::Timeout.contains(self.code())
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

/// Display of the timeout kinds: "read timed out" and the detail's [`tail`].
mod timeout_fmt {
    use std::fmt::{Formatter, Result};

    pub(super) fn connect(d: &str, f: &mut Formatter<'_>) -> Result {
        write!(f, "connect timed out{}", super::tail(d))
    }
    pub(super) fn read(d: &str, f: &mut Formatter<'_>) -> Result {
        write!(f, "read timed out{}", super::tail(d))
    }
    pub(super) fn write(d: &str, f: &mut Formatter<'_>) -> Result {
        write!(f, "write timed out{}", super::tail(d))
    }
    pub(super) fn pool(d: &str, f: &mut Formatter<'_>) -> Result {
        write!(f, "timed out waiting for a pooled connection{}", super::tail(d))
    }
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

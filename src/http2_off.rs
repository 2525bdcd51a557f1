//! HTTP/2 when the crate is built without the `http2` feature (no tokio, h2,
//! tokio-rustls, http, bytes): the same names as `http2.rs`, never used, because
//! `HttpTransport::new` refuses `http2: true` with `UnsupportedProtocol` and so no
//! transport ever offers h2.

use std::time::Duration;

use crate::deadline::Guard;
use crate::error::{Error, Result};
use crate::headers::Headers;
use crate::request::{BodySource, Request};
use crate::response::RawBody;
use crate::tls::TlsConnector;
use crate::types::HeadLimits;

/// The error for a configuration that asks for HTTP/2.
pub(crate) fn not_built() -> Error {
    Error::UnsupportedProtocol("HTTP/2 is not built into this libhttpx (cargo feature `http2`)".into())
}

/// Never made in this build (`connect` refuses).
#[derive(Clone)]
pub struct H2Conn {
    /// Addresses, TLS version, cipher, ALPN (as `http2::H2Conn`).
    pub info: std::sync::Arc<crate::info::ConnInfo>,
}

impl H2Conn {
    pub fn connect(
        _host: &str,
        _port: u16,
        _tls: &TlsConnector,
        _connect_timeout: Option<Duration>,
        _guard: &Guard,
        _limits: &HeadLimits,
    ) -> Result<Option<H2Conn>> {
        Err(not_built())
    }

    #[allow(clippy::too_many_arguments)]
    pub fn handshake(
        _std_tcp: std::net::TcpStream,
        _host: &str,
        _port: u16,
        _tls: &TlsConnector,
        _deadline: Option<std::time::Instant>,
        _guard: &Guard,
        _limits: &HeadLimits,
    ) -> Result<Option<H2Conn>> {
        Err(not_built())
    }

    pub fn close(self) {}

    pub fn send(
        &self,
        _req: &Request,
        _body: BodySource,
        _read_timeout: Option<Duration>,
        _write_timeout: Option<Duration>,
        _pool_timeout: Option<Duration>,
        _guard: &Guard,
    ) -> std::result::Result<(u16, Headers, H2Body), (Error, bool)> {
        Err((not_built(), true))
    }

    pub fn is_open(&self) -> bool {
        false
    }

    pub fn is_open_now(&self) -> bool {
        false
    }
}

/// Body type of the stub (never made).
pub struct H2Body {
    _none: (),
}

impl RawBody for H2Body {
    fn read(&mut self, _buf: &mut [u8]) -> Result<usize> {
        Err(not_built())
    }
}

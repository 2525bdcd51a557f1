//! Small value types shared by every layer: timeouts, pool limits, response-head
//! limits, proxy modes, HTTP versions. The bottom layer: it names no other module but
//! `error`, so the wire protocol, the pool and the transports can use these without
//! reaching up to the client configuration (`config`), which sits on top.
//!
//! Each type that has a rule checks it: `Limits::new` / `Limits::check` (at least one
//! connection), `HeadLimits::new` / `HeadLimits::check` (>= 64 bytes, >= 1 header),
//! `ProxyMode::from_code`. `Client::new` runs the checks again on whatever the
//! configuration holds, so a struct literal written by hand cannot bypass them.

use std::time::Duration;

use crate::error::{Error, Result};

/// The four timeouts of HTTPX. `None` means no timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Option<Duration>,
    pub read: Option<Duration>,
    pub write: Option<Duration>,
    pub pool: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts::all(Some(Duration::from_secs(5)))
    }
}

impl Timeouts {
    pub fn all(d: Option<Duration>) -> Self {
        Timeouts { connect: d, read: d, write: d, pool: d }
    }

    pub fn none() -> Self {
        Timeouts::all(None)
    }

    /// Seconds: negative means no timeout, NaN is `InvalidArgument` (a NaN is a
    /// caller's bug, not a request for "no timeout").
    pub fn secs_checked(s: f64) -> Result<Option<Duration>> {
        if s.is_nan() {
            return Err(Error::InvalidArgument("a timeout is NaN (use a negative value for no timeout)".into()));
        }
        Ok(Timeouts::secs(s))
    }

    /// Seconds as given by C: negative (or NaN) means no timeout.
    pub fn secs(s: f64) -> Option<Duration> {
        if s.is_nan() || s < 0.0 {
            None
        } else {
            Some(Duration::from_secs_f64(s.min(1e9)))
        }
    }
}

/// Connection pool limits. `None` means no limit. `max_connections` is at least 1
/// (`Some(0)` would make every send wait for the pool timeout): [`Limits::new`] and
/// `Client::new` refuse it with `InvalidArgument`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: Option<usize>,
    pub max_keepalive_connections: Option<usize>,
    pub keepalive_expiry: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: Some(100),
            max_keepalive_connections: Some(20),
            keepalive_expiry: Some(Duration::from_secs(5)),
        }
    }
}

impl Limits {
    /// Checked limits (HTTPX `Limits(max_connections=, max_keepalive_connections=,
    /// keepalive_expiry=)`).
    pub fn new(
        max_connections: Option<usize>,
        max_keepalive_connections: Option<usize>,
        keepalive_expiry: Option<Duration>,
    ) -> Result<Limits> {
        let l = Limits { max_connections, max_keepalive_connections, keepalive_expiry };
        l.check()?;
        Ok(l)
    }

    /// The rule: at least one connection (or no limit).
    pub fn check(&self) -> Result<()> {
        if self.max_connections == Some(0) {
            return Err(Error::InvalidArgument("max_connections must be at least 1 (or negative for no limit)".into()));
        }
        Ok(())
    }
}

/// Proxy behaviour, as `httpx.Proxy(mode=...)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyMode {
    /// Forward plain http requests, tunnel https ones.
    Default,
    /// Always forward (absolute-form request line), even for https targets.
    ForwardOnly,
    /// Always open a CONNECT tunnel, even for http targets.
    TunnelOnly,
}

impl ProxyMode {
    /// From the C API's numbers: 0 default, 1 forward only, 2 tunnel only.
    pub fn from_code(code: u32) -> Result<ProxyMode> {
        match code {
            0 => Ok(ProxyMode::Default),
            1 => Ok(ProxyMode::ForwardOnly),
            2 => Ok(ProxyMode::TunnelOnly),
            m => Err(Error::InvalidArgument(format!("unknown proxy mode {m}"))),
        }
    }
}

/// Limits on what a server may send in a response head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadLimits {
    pub max_header_bytes: usize,
    pub max_header_count: usize,
}

impl Default for HeadLimits {
    fn default() -> Self {
        HeadLimits { max_header_bytes: 64 * 1024, max_header_count: 100 }
    }
}

impl HeadLimits {
    /// Checked limits: at least 64 bytes and one header.
    pub fn new(max_header_bytes: usize, max_header_count: usize) -> Result<HeadLimits> {
        let h = HeadLimits { max_header_bytes, max_header_count };
        h.check()?;
        Ok(h)
    }

    pub fn check(&self) -> Result<()> {
        if self.max_header_bytes < 64 || self.max_header_count < 1 {
            return Err(Error::InvalidArgument("max header bytes must be >= 64 and count >= 1".into()));
        }
        Ok(())
    }
}

/// HTTP version of a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
    Http2,
}

impl Version {
    pub fn as_str(&self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
            Version::Http2 => "HTTP/2",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::code;

    #[test]
    fn limits_refuse_zero_connections() {
        assert_eq!(Limits::new(Some(0), None, None).unwrap_err().code(), code::INVALID_ARGUMENT);
        let by_hand = Limits { max_connections: Some(0), ..Limits::default() };
        assert_eq!(by_hand.check().unwrap_err().code(), code::INVALID_ARGUMENT);
        assert!(Limits::new(Some(1), Some(0), None).is_ok());
        assert!(Limits::new(None, None, None).is_ok());
    }

    #[test]
    fn head_limits_have_a_floor() {
        assert!(HeadLimits::new(63, 1).is_err());
        assert!(HeadLimits::new(64, 0).is_err());
        assert_eq!(HeadLimits::new(64, 1).unwrap(), HeadLimits { max_header_bytes: 64, max_header_count: 1 });
    }

    #[test]
    fn timeout_seconds() {
        assert_eq!(Timeouts::secs_checked(f64::NAN).unwrap_err().code(), code::INVALID_ARGUMENT);
        assert_eq!(Timeouts::secs_checked(-1.0).unwrap(), None);
        assert_eq!(Timeouts::secs_checked(1.5).unwrap(), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn proxy_modes_by_number() {
        assert_eq!(ProxyMode::from_code(0).unwrap(), ProxyMode::Default);
        assert_eq!(ProxyMode::from_code(1).unwrap(), ProxyMode::ForwardOnly);
        assert_eq!(ProxyMode::from_code(2).unwrap(), ProxyMode::TunnelOnly);
        assert_eq!(ProxyMode::from_code(3).unwrap_err().code(), code::INVALID_ARGUMENT);
    }
}

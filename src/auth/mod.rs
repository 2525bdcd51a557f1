//! Authentication: Basic, Digest, .netrc, and custom multi-step flows.
//!
//! A flow mirrors HTTPX's `Auth.auth_flow` generator: it is called first with no
//! response, then once per response, and each time says whether to send (the
//! request, or a different queued one such as a token refresh) or stop.

pub mod digest;

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;

use crate::error::{Error, Result};
use crate::request::Request;
use crate::response::Response;

/// What a flow step asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowAction {
    /// Send the queued request if one was queued, else the (possibly edited) request.
    Send,
    /// Stop: the last response is the result.
    Done,
}

/// The state a flow step sees and edits.
pub struct FlowStep<'a> {
    /// The original request; edits stick for later sends.
    pub request: &'a mut Request,
    /// The response to the last request sent (None on the first call).
    pub response: Option<&'a mut Response>,
    /// A different request to send next (then the original is not sent this step).
    pub queued: Option<Request>,
    /// 0 on the first call.
    pub step: u32,
}

/// A custom auth flow (C callbacks implement this in `ffi`).
pub trait AuthFlow: Send + Sync {
    fn requires_request_body(&self) -> bool {
        false
    }
    fn requires_response_body(&self) -> bool {
        false
    }
    fn step(&self, s: &mut FlowStep<'_>) -> Result<FlowAction>;
}

/// Digest credentials plus the per-origin challenge cache, so that after the first
/// 401 later requests to the same origin are authenticated up front.
pub struct DigestAuth {
    pub user: String,
    pub pass: String,
    pub(crate) cache: Mutex<HashMap<(String, String, u16), digest::DigestState>>,
}

/// An authentication scheme.
pub enum Auth {
    Basic {
        user: String,
        pass: String,
    },
    Digest(DigestAuth),
    /// Credentials from a .netrc file (None = $NETRC, ~/.netrc, ~/_netrc).
    Netrc(crate::netrc::Netrc),
    Custom(Box<dyn AuthFlow>),
}

fn check_cred(what: &str, s: &str) -> Result<()> {
    if s.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(Error::InvalidArgument(format!("{what} contains CR, LF or NUL")));
    }
    Ok(())
}

impl Auth {
    pub fn basic(user: &str, pass: &str) -> Result<Auth> {
        check_cred("user name", user)?;
        check_cred("password", pass)?;
        if user.contains(':') {
            return Err(Error::InvalidArgument("a Basic auth user name cannot contain ':'".into()));
        }
        Ok(Auth::Basic { user: user.into(), pass: pass.into() })
    }

    pub fn digest(user: &str, pass: &str) -> Result<Auth> {
        check_cred("user name", user)?;
        check_cred("password", pass)?;
        Ok(Auth::Digest(DigestAuth { user: user.into(), pass: pass.into(), cache: Mutex::new(HashMap::new()) }))
    }

    /// Read a .netrc file now (a malformed or missing file is an error here).
    pub fn netrc(path: Option<&std::path::Path>) -> Result<Auth> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => {
                let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
                crate::netrc::locate(std::env::var_os("NETRC").as_deref(), home.as_deref())
                    .ok_or_else(|| Error::Io("no .netrc file found ($NETRC, ~/.netrc, ~/_netrc)".into()))?
            }
        };
        Ok(Auth::Netrc(crate::netrc::Netrc::load(&path)?))
    }
}

/// `Basic base64(user:pass)`.
pub fn basic_header(user: &str, pass: &str) -> String {
    let mut s = String::from("Basic ");
    base64::engine::general_purpose::STANDARD.encode_string(format!("{user}:{pass}"), &mut s);
    s
}

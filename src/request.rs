//! `Request`: method, URL, headers, body, and per-request options (timeouts, cancel).

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use url::Url;

use crate::cancel::CancelToken;
use crate::error::{Error, Result};
use crate::headers::Headers;
use crate::multipart::Multipart;
use crate::types::Timeouts;
use crate::urls;

/// A streamed request body source (a C read callback, a file...).
pub type BodyReader = Box<dyn Read + Send>;

/// A request body.
#[derive(Clone, Default)]
pub enum Body {
    #[default]
    Empty,
    /// Bytes held in memory; cheap to clone and replayable.
    Bytes(Arc<Vec<u8>>),
    /// A one-shot stream. `len` is `Some` when known (sent with Content-Length),
    /// else the body is sent chunked. It can be read once: a second send (a redirect
    /// that must resend the body, an auth retry) fails with `StreamConsumed`.
    Stream { reader: Arc<Mutex<Option<BodyReader>>>, len: Option<u64> },
    /// multipart/form-data, streamed from memory and disk; replayable.
    Multipart(Arc<Multipart>),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Empty => write!(f, "Empty"),
            Body::Bytes(b) => write!(f, "Bytes({})", b.len()),
            Body::Stream { len, .. } => write!(f, "Stream({len:?})"),
            Body::Multipart(_) => write!(f, "Multipart"),
        }
    }
}

impl Body {
    pub fn from_bytes(b: Vec<u8>) -> Body {
        Body::Bytes(Arc::new(b))
    }

    pub fn stream(reader: BodyReader, len: Option<u64>) -> Body {
        Body::Stream { reader: Arc::new(Mutex::new(Some(reader))), len }
    }

    /// Length when known without reading.
    pub fn len(&self) -> Option<u64> {
        match self {
            Body::Empty => Some(0),
            Body::Bytes(b) => Some(b.len() as u64),
            Body::Stream { len, .. } => *len,
            Body::Multipart(m) => m.content_length(),
        }
    }

    /// True for a known-empty body.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    pub fn is_empty_body(&self) -> bool {
        matches!(self, Body::Empty)
    }

    /// The bytes, when the body is held in memory.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Body::Empty => Some(&[]),
            Body::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// Can this body be sent again (after a redirect or an auth challenge)?
    pub fn is_replayable(&self) -> bool {
        match self {
            Body::Stream { .. } => false,
            _ => true,
        }
    }

    /// A reader over the body for one send. One-shot streams are taken.
    pub fn open(&self) -> Result<BodySource> {
        match self {
            Body::Empty => Ok(BodySource::Bytes(EMPTY.clone())),
            Body::Bytes(b) => Ok(BodySource::Bytes(b.clone())),
            Body::Stream { reader, .. } => {
                let taken = reader.lock().map_err(|_| Error::Internal("body lock poisoned".into()))?.take();
                match taken {
                    Some(r) => Ok(BodySource::Reader(r)),
                    None => Err(Error::StreamConsumed(
                        "the request body is a stream that was already sent; it cannot be replayed".into(),
                    )),
                }
            }
            Body::Multipart(m) => Ok(BodySource::Reader(Box::new(m.reader()?))),
        }
    }

    /// Read a streamed body fully into memory (for auth flows that need the body).
    pub fn buffer(&mut self) -> Result<()> {
        if let Body::Stream { .. } | Body::Multipart(_) = self {
            let mut src = self.open()?;
            let mut v = Vec::new();
            if let BodySource::Reader(r) = &mut src {
                r.read_to_end(&mut v).map_err(|e| Error::from_local_io("reading request body", e))?;
            }
            *self = Body::Bytes(Arc::new(v));
        }
        Ok(())
    }
}

static EMPTY: once_cell::sync::Lazy<Arc<Vec<u8>>> = once_cell::sync::Lazy::new(|| Arc::new(Vec::new()));

/// A body opened for one send.
pub enum BodySource {
    Bytes(Arc<Vec<u8>>),
    Reader(BodyReader),
}

/// Per-request options that override the client's and travel with the request
/// (HTTPX keeps timeouts in `request.extensions`). The choices HTTPX takes at
/// `client.send(request, auth=..., follow_redirects=...)` are not here: they are the
/// send's, `client::SendOptions`.
#[derive(Clone, Default)]
pub struct RequestOptions {
    pub timeouts: Option<Timeouts>,
    /// Total timeout of this request: `None` = the client's, `Some(None)` = none.
    pub total_timeout: Option<Option<std::time::Duration>>,
    /// Cancel token: firing it stops this request's send and body reads.
    pub cancel: Option<CancelToken>,
}

/// An HTTP request, as built by `Request::new` or `Client::build_request`.
#[derive(Clone)]
pub struct Request {
    pub method: String,
    pub url: Url,
    pub headers: Headers,
    pub body: Body,
    pub options: RequestOptions,
    /// The Content-Type the library set for the current body, if any: a new body
    /// replaces it, while a Content-Type the caller set stays.
    auto_content_type: Option<String>,
    /// Param keys added on this request (`add_params`): a second value for one of
    /// them is appended instead of replacing the first.
    param_keys: Vec<String>,
}

/// Methods are tokens; upper-cased as HTTPX does.
pub fn normalize_method(m: &str) -> Result<String> {
    if m.is_empty() || !m.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)) {
        return Err(Error::InvalidArgument(format!("invalid HTTP method {m:?}")));
    }
    Ok(m.to_ascii_uppercase())
}

impl Request {
    /// A standalone request (HTTPX `Request(method, url)`): absolute URL required.
    pub fn new(method: &str, url: &str) -> Result<Request> {
        let method = normalize_method(method)?;
        let url = urls::parse_absolute(url)?;
        Ok(Request::from_parts(method, url))
    }

    pub(crate) fn from_parts(method: String, url: Url) -> Request {
        let mut headers = Headers::with_capacity(8);
        headers.insert_first("Host", urls::host_header(&url));
        Request {
            method,
            url,
            headers,
            body: Body::Empty,
            options: RequestOptions::default(),
            auto_content_type: None,
            param_keys: Vec::new(),
        }
    }

    /// Before a new body: drop the Content-Type set automatically for the old one
    /// (not one the caller set), then set `ct` unless the caller set one.
    fn replace_content_type(&mut self, ct: Option<&str>) {
        if let Some(auto) = self.auto_content_type.take() {
            if self.headers.get("Content-Type") == Some(auto.as_str()) {
                self.headers.remove("Content-Type");
            }
        }
        if let Some(ct) = ct {
            if !self.headers.contains("Content-Type") {
                self.headers.set_unchecked("Content-Type", ct);
                self.auto_content_type = Some(ct.to_string());
            }
        }
    }

    /// Replace the body with bytes, setting Content-Length (and dropping any
    /// Transfer-Encoding) as HTTPX does.
    pub fn set_body_bytes(&mut self, data: Vec<u8>, content_type: Option<&str>) {
        self.headers.remove("Transfer-Encoding");
        self.headers.set_unchecked("Content-Length", &data.len().to_string());
        self.replace_content_type(content_type);
        self.body = Body::from_bytes(data);
    }

    /// [`Request::set_body_bytes`] with the Content-Type checked first (no CR, LF or
    /// NUL): `InvalidArgument`, request unchanged.
    pub fn set_body(&mut self, data: Vec<u8>, content_type: Option<&str>) -> Result<()> {
        if let Some(ct) = content_type {
            crate::headers::validate_value("Content-Type", ct)?;
        }
        self.set_body_bytes(data, content_type);
        Ok(())
    }

    /// Stream the body from a reader; `len` known -> Content-Length, else chunked.
    pub fn set_body_stream(&mut self, reader: BodyReader, len: Option<u64>) {
        self.replace_content_type(None);
        self.headers.remove("Content-Length");
        self.headers.remove("Transfer-Encoding");
        match len {
            Some(n) => self.headers.set_unchecked("Content-Length", &n.to_string()),
            None => self.headers.set_unchecked("Transfer-Encoding", "chunked"),
        }
        self.body = Body::stream(reader, len);
    }

    /// multipart/form-data body.
    pub fn set_multipart(&mut self, m: Multipart) {
        self.headers.remove("Content-Length");
        self.headers.remove("Transfer-Encoding");
        match m.content_length() {
            Some(n) => self.headers.set_unchecked("Content-Length", &n.to_string()),
            None => self.headers.set_unchecked("Transfer-Encoding", "chunked"),
        }
        self.replace_content_type(Some(&m.content_type()));
        self.body = Body::Multipart(Arc::new(m));
    }

    /// Add an urlencoded form field; the body becomes the encoded form.
    pub fn add_form_field(&mut self, fields: &[(String, String)]) {
        // Python's urlencode (HTTPX): `~` stays, `*` is `%2A`.
        let encoded = urls::urlencode(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        self.set_body_bytes(encoded.into_bytes(), Some("application/x-www-form-urlencoded"));
    }

    /// A cookie for this request only (added to its Cookie header, replacing one of
    /// the same name). A name that is empty or has a space, control byte, `;` or `=`,
    /// or a value with a control byte or `;`: `InvalidArgument`, request unchanged.
    pub fn set_cookie(&mut self, name: &str, value: &str) -> Result<()> {
        if name.is_empty()
            || name.bytes().any(|b| b <= b' ' || b == b';' || b == b'=' || b == 0x7f)
            || value.bytes().any(|b| b < b' ' || b == b';' || b == 0x7f)
        {
            return Err(Error::InvalidArgument("invalid cookie name or value".into()));
        }
        self.merge_cookies([(name, value)]);
        Ok(())
    }

    /// Merge cookies into the Cookie header: each given name replaces the same name
    /// already there, in its place (HTTPX's `Cookies.update`); new ones go to the end.
    pub fn merge_cookies<'a>(&mut self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let mut all: Vec<(String, String)> = self
            .headers
            .get("Cookie")
            .unwrap_or("")
            .split(';')
            .filter_map(|p| p.trim().split_once('=').map(|(a, b)| (a.to_string(), b.to_string())))
            .collect();
        for (n, v) in pairs {
            match all.iter().position(|(a, _)| a == n) {
                Some(i) => {
                    all[i].1 = v.to_string();
                    let mut seen = 0;
                    all.retain(|(a, _)| {
                        a != n || {
                            seen += 1;
                            seen == 1
                        }
                    });
                }
                None => all.push((n.to_string(), v.to_string())),
            }
        }
        let joined = all.iter().map(|(a, b)| format!("{a}={b}")).collect::<Vec<_>>().join("; ");
        self.headers.set_unchecked("Cookie", &joined);
    }

    /// Add query params as HTTPX's request-level `params=`: the first value of a key
    /// replaces the URL's (and client's) values of that key in their place; further
    /// values of a key already added on this request are appended after it.
    pub fn add_params(&mut self, params: &[(String, String)]) {
        for (k, v) in params {
            if self.param_keys.iter().any(|x| x == k) {
                urls::append_param(&mut self.url, k, v);
            } else {
                urls::apply_params(&mut self.url, &[(k.clone(), v.clone())]);
                self.param_keys.push(k.clone());
            }
        }
    }

    /// Set a new URL, keeping the Host header in step.
    pub fn set_url(&mut self, url: Url) {
        self.headers.set_unchecked("Host", &urls::host_header(&url));
        self.url = url;
    }

    /// POST/PUT/PATCH with no framing header get `Content-Length: 0`, as HTTPX does, and
    /// where it does: HTTPX's `Request._prepare` puts its automatic headers first, `Host`
    /// then `Content-Length`, so the line goes right after a leading Host (else first).
    /// A caller's own `Transfer-Encoding: chunked` beside a `Content-Length` keeps the
    /// chunked framing and drops the length: exactly one framing goes out (RFC 9112
    /// 6.2; both at once is the pattern behind request smuggling).
    pub(crate) fn ensure_framing(&mut self) {
        if self.headers.has_token("Transfer-Encoding", "chunked") {
            self.headers.remove("Content-Length");
            return;
        }
        if self.headers.contains("Content-Length") || self.headers.contains("Transfer-Encoding") {
            return;
        }
        match self.body.len() {
            Some(0) | None if self.body.is_empty_body() => {
                if matches!(self.method.as_str(), "POST" | "PUT" | "PATCH") {
                    let after_host = self.headers.at(0).is_some_and(|(n, _)| n.eq_ignore_ascii_case("Host"));
                    self.headers.insert_unchecked(usize::from(after_host), "Content-Length", "0");
                }
            }
            Some(n) => self.headers.set_unchecked("Content-Length", &n.to_string()),
            None => self.headers.set_unchecked("Transfer-Encoding", "chunked"),
        }
    }
}

/// A `Read` that reports io errors with the library's own error inside, so the
/// original error can be recovered by `unwrap_io`.
pub(crate) fn wrap_err(e: Error) -> io::Error {
    io::Error::other(e)
}

/// Recover a library error carried inside an `io::Error`.
pub(crate) fn unwrap_io(e: &io::Error) -> Option<Error> {
    e.get_ref().and_then(|i| i.downcast_ref::<Error>()).cloned()
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &self.headers)
            .field("body", &self.body)
            .finish()
    }
}

//! A transport that answers requests in-process (HTTPX `MockTransport` and
//! `WSGITransport`): no socket is ever opened. The handler fills a
//! `ResponseBuilder`; options mirror WSGITransport (raise errors or answer 500, a
//! script name / mount prefix, a client address).

use std::io::Read;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::headers::Headers;
use crate::request::{BodySource, Request};
use crate::response::{BytesBody, RawBody, Response};
use crate::transport::{SendContext, Transport};
use crate::types::Version;

/// Body of a built response.
pub enum BuiltBody {
    Bytes(Vec<u8>),
    Reader(Box<dyn Read + Send>),
}

/// The request body as the handler sees it: in memory, or a stream it can read
/// chunk by chunk (large uploads are never buffered unless the handler asks).
enum RequestBody {
    Bytes(std::sync::Arc<Vec<u8>>),
    Stream(Box<dyn Read + Send>),
    /// Streaming reads have started: the whole body is no longer available.
    Streaming(Box<dyn Read + Send>),
    Done,
}

/// What a handler fills in.
pub struct ResponseBuilder {
    pub status: u16,
    pub reason: Option<String>,
    pub headers: Headers,
    pub body: BuiltBody,
    request_body: RequestBody,
    pub script_name: String,
    pub path_info: String,
    pub remote_addr: String,
}

impl ResponseBuilder {
    /// The answer's status: 100..=999, else `InvalidArgument` (builder unchanged).
    pub fn set_status(&mut self, status: u16) -> Result<()> {
        if !(100..=999).contains(&status) {
            return Err(Error::InvalidArgument(format!("invalid status {status}")));
        }
        self.status = status;
        Ok(())
    }

    /// The answer's body as bytes, with `Content-Length` added unless the handler set
    /// Content-Length or Transfer-Encoding itself.
    pub fn set_body_bytes(&mut self, data: Vec<u8>) {
        if !self.headers.contains("Content-Length") && !self.headers.contains("Transfer-Encoding") {
            self.headers.set_unchecked("Content-Length", &data.len().to_string());
        }
        self.body = BuiltBody::Bytes(data);
    }

    /// The whole request body (a streamed body is read into memory on first call).
    /// After `read_request_body` has been used: `StreamConsumed`.
    pub fn request_body(&mut self) -> Result<&[u8]> {
        if let RequestBody::Stream(_) = self.request_body {
            let RequestBody::Stream(mut r) = std::mem::replace(&mut self.request_body, RequestBody::Done) else {
                unreachable!()
            };
            let mut v = Vec::new();
            r.read_to_end(&mut v).map_err(|e| {
                crate::request::unwrap_io(&e).unwrap_or_else(|| Error::from_local_io("reading the request body", e))
            })?;
            self.request_body = RequestBody::Bytes(std::sync::Arc::new(v));
        }
        match &self.request_body {
            RequestBody::Bytes(b) => Ok(b),
            _ => Err(Error::StreamConsumed("the request body was already read as a stream".into())),
        }
    }

    /// Stream the request body: up to `buf.len()` bytes, 0 at the end.
    pub fn read_request_body(&mut self, buf: &mut [u8]) -> Result<usize> {
        let r = match std::mem::replace(&mut self.request_body, RequestBody::Done) {
            RequestBody::Stream(r) | RequestBody::Streaming(r) => r,
            RequestBody::Bytes(b) => Box::new(std::io::Cursor::new(b.to_vec())) as Box<dyn Read + Send>,
            RequestBody::Done => return Ok(0),
        };
        self.request_body = RequestBody::Streaming(r);
        let RequestBody::Streaming(r) = &mut self.request_body else { unreachable!() };
        loop {
            match r.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(crate::request::unwrap_io(&e)
                        .unwrap_or_else(|| Error::from_local_io("reading the request body", e)))
                }
            }
        }
    }
}

/// Answers requests in-process.
pub trait Handler: Send + Sync {
    fn handle(&self, req: &Request, out: &mut ResponseBuilder) -> Result<()>;
}

pub struct CallbackTransport {
    pub handler: Box<dyn Handler>,
    /// true: a handler error ends the send with it; false: answer 500 instead.
    pub raise_errors: bool,
    pub script_name: String,
    pub remote_addr: String,
}

impl CallbackTransport {
    pub fn new(handler: Box<dyn Handler>) -> CallbackTransport {
        CallbackTransport { handler, raise_errors: true, script_name: String::new(), remote_addr: "127.0.0.1".into() }
    }
}

struct ReaderBody(Box<dyn Read + Send>);

impl RawBody for ReaderBody {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            match self.0.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(crate::request::unwrap_io(&e)
                        .unwrap_or_else(|| Error::Callback(format!("response body reader failed: {e}"))))
                }
            }
        }
    }
}

impl Transport for CallbackTransport {
    fn handle(&self, req: Request, ctx: &SendContext) -> Result<Response> {
        let request_body = match req.body.open()? {
            BodySource::Bytes(b) => RequestBody::Bytes(b),
            BodySource::Reader(r) => RequestBody::Stream(r),
        };
        let path = req.url.path();
        let path_info = path.strip_prefix(self.script_name.as_str()).unwrap_or(path).to_string();
        let mut b = ResponseBuilder {
            status: 200,
            reason: None,
            headers: Headers::new(),
            body: BuiltBody::Bytes(Vec::new()),
            request_body,
            script_name: self.script_name.clone(),
            path_info,
            remote_addr: self.remote_addr.clone(),
        };
        let started = Instant::now();
        let result = self.handler.handle(&req, &mut b);
        if let Err(e) = result {
            if self.raise_errors || e.code() == crate::error::code::RECURSIVE_CALL {
                return Err(e);
            }
            b.status = 500;
            b.reason = None;
            b.headers = Headers::new();
            b.headers.set_unchecked("Content-Type", "text/plain; charset=utf-8");
            b.body = BuiltBody::Bytes(format!("Internal Server Error: {e}").into_bytes());
        }
        if !(100..=999).contains(&b.status) {
            return Err(Error::Callback(format!("callback set an invalid status {}", b.status)));
        }
        let mut sent = req;
        if let (crate::request::Body::Stream { .. }, RequestBody::Bytes(data)) = (&sent.body, &b.request_body) {
            // The handler read the whole stream: the request as sent shows it.
            sent.body = crate::request::Body::Bytes(data.clone());
        }
        let body: Box<dyn RawBody> = match b.body {
            BuiltBody::Bytes(v) => Box::new(BytesBody::new(v)),
            BuiltBody::Reader(r) => Box::new(ReaderBody(r)),
        };
        let _ = started;
        let resp =
            Response::new(b.status, b.reason.unwrap_or_default(), Version::Http11, b.headers, body, sent, ctx.started);
        Ok(resp)
    }
}

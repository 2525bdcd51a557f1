//! A transport that answers requests in-process (HTTPX `MockTransport` and
//! `WSGITransport`): no socket is ever opened. The handler fills a
//! `ResponseBuilder`; options mirror WSGITransport (raise errors or answer 500, a
//! script name / mount prefix, a client address).

use std::io::Read;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::headers::Headers;
use crate::http1::Version;
use crate::request::{BodySource, Request};
use crate::response::{BytesBody, RawBody, Response};
use crate::transport::{SendContext, Transport};

/// Body of a built response.
pub enum BuiltBody {
    Bytes(Vec<u8>),
    Reader(Box<dyn Read + Send>),
}

/// What a handler fills in.
pub struct ResponseBuilder {
    pub status: u16,
    pub reason: Option<String>,
    pub headers: Headers,
    pub body: BuiltBody,
    /// The request body, read in full before the handler runs.
    pub request_body: Vec<u8>,
    pub script_name: String,
    pub path_info: String,
    pub remote_addr: String,
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
        let mut request_body = Vec::new();
        match req.body.open()? {
            BodySource::Bytes(b) => request_body.extend_from_slice(&b),
            BodySource::Reader(mut r) => {
                r.read_to_end(&mut request_body)
                    .map_err(|e| crate::request::unwrap_io(&e).unwrap_or_else(|| Error::from_local_io("reading the request body", e)))?;
            }
        }
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
        if let crate::request::Body::Stream { .. } = sent.body {
            sent.body = crate::request::Body::from_bytes(std::mem::take(&mut b.request_body));
        }
        let body: Box<dyn RawBody> = match b.body {
            BuiltBody::Bytes(v) => Box::new(BytesBody::new(v)),
            BuiltBody::Reader(r) => Box::new(ReaderBody(r)),
        };
        let _ = started;
        let resp = Response::new(b.status, b.reason.unwrap_or_default(), Version::Http11, b.headers, body, sent, ctx.started);
        Ok(resp)
    }
}

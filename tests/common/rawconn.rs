//! [`RawConn`]: a tiny raw HTTP/1.1 client (std only, keep-alive aware) to check servers
//! without libhttpx.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub chunked: bool,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A buffered connection speaking raw HTTP/1.1 (keep-alive aware).
pub struct RawConn<S: Read + Write> {
    pub stream: S,
    buf: Vec<u8>,
}

impl RawConn<TcpStream> {
    /// Connects to 127.0.0.1:port with 10 s timeouts.
    pub fn connect(port: u16) -> io::Result<RawConn<TcpStream>> {
        let s = TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_secs(5))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        s.set_write_timeout(Some(Duration::from_secs(10)))?;
        s.set_nodelay(true)?;
        Ok(RawConn::new(s))
    }
}

impl RawConn<UnixStream> {
    pub fn connect_unix(path: &Path) -> io::Result<RawConn<UnixStream>> {
        let s = UnixStream::connect(path)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        s.set_write_timeout(Some(Duration::from_secs(10)))?;
        Ok(RawConn::new(s))
    }
}

const RAW_MAX_BODY: usize = 64 << 20;

impl<S: Read + Write> RawConn<S> {
    pub fn new(stream: S) -> Self {
        RawConn { stream, buf: Vec::new() }
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut tmp = [0u8; 16384];
        let n = self.stream.read(&mut tmp)?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    fn read_until(&mut self, delim: &[u8], max: usize) -> io::Result<Vec<u8>> {
        let mut scanned = 0;
        loop {
            if let Some(i) = self.buf[scanned..].windows(delim.len()).position(|w| w == delim) {
                let end = scanned + i + delim.len();
                return Ok(self.buf.drain(..end).collect());
            }
            scanned = self.buf.len().saturating_sub(delim.len());
            if self.buf.len() > max {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "line/head too long"));
            }
            if self.fill()? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "eof before delimiter"));
            }
        }
    }

    pub fn read_exact_n(&mut self, n: usize) -> io::Result<Vec<u8>> {
        if n > RAW_MAX_BODY {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
        }
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "eof in body"));
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn read_to_eof(&mut self) -> io::Result<Vec<u8>> {
        while self.buf.len() <= RAW_MAX_BODY {
            if self.fill()? == 0 {
                return Ok(std::mem::take(&mut self.buf));
            }
        }
        Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"))
    }

    /// Reads a chunked body (after the head), trailers discarded.
    pub fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        for _ in 0..1_000_000 {
            let line = self.read_until(b"\r\n", 4096)?;
            let line = String::from_utf8_lossy(&line[..line.len() - 2]).to_string();
            let size_str = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_str, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, format!("bad chunk size {line:?}")))?;
            if size == 0 {
                // trailers until empty line
                for _ in 0..1000 {
                    if self.read_until(b"\r\n", 65536)?.len() == 2 {
                        return Ok(body);
                    }
                }
                return Err(io::Error::new(io::ErrorKind::InvalidData, "too many trailers"));
            }
            if body.len() + size > RAW_MAX_BODY {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
            }
            body.extend(self.read_exact_n(size)?);
            if self.read_exact_n(2)? != b"\r\n" {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "missing CRLF after chunk"));
            }
        }
        Err(io::Error::new(io::ErrorKind::InvalidData, "too many chunks"))
    }

    /// Reads one final response (1xx interim responses skipped). `head_only`: the request
    /// was HEAD (no body follows).
    pub fn read_response(&mut self, head_only: bool) -> io::Result<RawResponse> {
        for _ in 0..16 {
            let head = self.read_until(b"\r\n\r\n", 256 * 1024)?;
            let head = String::from_utf8_lossy(&head).to_string();
            let mut lines = head.split("\r\n");
            let status_line = lines.next().unwrap_or("");
            let status: u16 = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, format!("bad status line {status_line:?}"))
            })?;
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect();
            if (100..200).contains(&status) && status != 101 {
                continue;
            }
            let mut resp = RawResponse { status, head, headers, body: Vec::new(), chunked: false };
            let no_body = head_only || status == 204 || status == 304 || (100..200).contains(&status);
            if !no_body {
                if resp.header("transfer-encoding").map(|v| v.to_ascii_lowercase().contains("chunked")).unwrap_or(false)
                {
                    resp.chunked = true;
                    resp.body = self.read_chunked()?;
                } else if let Some(cl) = resp.header("content-length") {
                    let n: usize =
                        cl.parse().map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad content-length"))?;
                    resp.body = self.read_exact_n(n)?;
                } else {
                    resp.body = self.read_to_eof()?;
                }
            }
            return Ok(resp);
        }
        Err(io::Error::new(io::ErrorKind::InvalidData, "too many 1xx responses"))
    }

    /// Sends `method path HTTP/1.1` with `Host: localhost`, the extra headers, and the body
    /// (Content-Length added when a body is given or the method is POST/PUT/PATCH).
    pub fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> io::Result<()> {
        let mut req = format!("{method} {path} HTTP/1.1\r\n");
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            req.push_str("Host: localhost\r\n");
        }
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.stream.write_all(&bytes)?;
        self.stream.flush()
    }

    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<RawResponse> {
        self.send(method, path, headers, body)?;
        self.read_response(method == "HEAD")
    }

    pub fn get(&mut self, path: &str) -> io::Result<RawResponse> {
        self.request("GET", path, &[], b"")
    }
}

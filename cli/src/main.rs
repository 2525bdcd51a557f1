//! `httpx`: HTTPX 0.28.1's command-line client, built on libhttpx's Rust API.
//!
//! `httpx URL [-m METHOD] [-p NAME VALUE]... [-c CONTENT] [-d NAME VALUE]...
//! [-f NAME FILENAME]... [-j JSON] [-h NAME VALUE]... [--cookies NAME VALUE]...
//! [--auth USER PASS] [--proxy URL] [--timeout S] [--follow-redirects] [--no-verify]
//! [--http2] [--download FILE] [-v]`, plus `--digest`, `--cacert FILE`,
//! `--cert FILE KEY`, `--total-timeout S` and `--unix-socket PATH`.
//!
//! Exit status: 0 for a 2xx response, 1 for any other status or a transport error,
//! 2 for bad arguments (nothing is sent then).

mod args;
mod console;
mod download;
mod pyfmt;
mod verbose;

use std::io::{self, BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use httpx::auth::Auth;
use httpx::client::{AuthChoice, SendOptions};
use httpx::config::{ProxyMode, ProxySpec};
use httpx::headers::Headers;
use httpx::multipart::Multipart;
use httpx::tls::{PemSource, Trust};
use httpx::transport::http::{HttpOptions, HttpTransport};
use httpx::{Client, ClientConfig, Error, Request, Response, Timeouts};

use args::{Opts, Parsed, UsageError};
use console::{Console, Style};

fn main() {
    let argv: Vec<String> = std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    let code = match args::parse(argv) {
        Err(UsageError(msg)) => {
            eprint!("{}\n\nError: {msg}\n", args::USAGE);
            2
        }
        Ok(Parsed::Help) => {
            print!("{}", args::HELP);
            let _ = io::stdout().flush();
            0
        }
        Ok(Parsed::Run(o)) => run(&o),
    };
    std::process::exit(code);
}

/// `--auth USER -`: ask for the password (click.prompt with hidden input).
pub fn prompt_password() -> String {
    if io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ").unwrap_or_default()
    } else {
        eprint!("Password: ");
        let mut s = String::new();
        let _ = io::stdin().lock().read_line(&mut s);
        s.trim_end_matches(['\r', '\n']).to_string()
    }
}

/// The HTTPX exception name for a library error (what HTTPX's CLI prints before
/// the message), chosen by the stable error code.
pub fn exception_name(e: &Error) -> &'static str {
    match e.code() {
        1 => "LocalProtocolError",
        2 => "InvalidURL",
        3 => "UnsupportedProtocol",
        10 => "ConnectTimeout",
        11 => "ReadTimeout",
        12 => "WriteTimeout",
        13 => "PoolTimeout",
        14..=19 => "TimeoutException",
        20 | 25 | 26 => "ConnectError",
        21 => "ReadError",
        22 => "WriteError",
        23 => "CloseError",
        24 => "ProxyError",
        30 => "RemoteProtocolError",
        31 => "LocalProtocolError",
        32 => "DecodingError",
        40 => "TooManyRedirects",
        41 => "HTTPStatusError",
        42 => "StreamConsumed",
        43 => "ClientClosed",
        44 => "Cancelled",
        50..=59 => "CallbackError",
        60..=69 => "OSError",
        _ => "HTTPError",
    }
}

/// The message of an error without the library's "connect failed: " style prefix.
#[allow(unreachable_patterns)]
fn error_message(e: &Error) -> String {
    use Error::*;
    match e {
        InvalidArgument(m)
        | InvalidUrl(m)
        | UnsupportedProtocol(m)
        | ConnectTimeout(m)
        | ReadTimeout(m)
        | WriteTimeout(m)
        | PoolTimeout(m)
        | Connect(m)
        | Read(m)
        | Write(m)
        | Close(m)
        | Proxy(m)
        | Tls(m)
        | RemoteProtocol(m)
        | LocalProtocol(m)
        | Decoding(m)
        | TooManyRedirects(m)
        | HttpStatus(m)
        | StreamConsumed(m)
        | ClientClosed(m)
        | Callback(m)
        | RecursiveCall(m)
        | Io(m)
        | Internal(m) => m.clone(),
        other => other.to_string(),
    }
}

fn report(console: &Console, e: &Error) -> i32 {
    console.print_error(exception_name(e), &error_message(e));
    1
}

/// HTTPX CLI: `method = "POST" if content or data or files or json else "GET"`.
fn default_method(o: &Opts) -> &'static str {
    let body = o.content.as_deref().is_some_and(|c| !c.is_empty())
        || !o.data.is_empty()
        || !o.files.is_empty()
        || o.json.as_ref().is_some_and(pyfmt::json_truthy);
    if body {
        "POST"
    } else {
        "GET"
    }
}

fn client_config(o: &Opts) -> Result<ClientConfig, Error> {
    let mut cfg = ClientConfig::default();
    cfg.set_timeouts(Timeouts::all(Timeouts::secs(o.timeout)));
    // One deadline for the whole send: connect, redirects, auth steps, the body.
    cfg.set_total_timeout(o.total_timeout.map(|t| Duration::from_secs_f64(t.min(1e9))));
    cfg.set_http2(o.http2);
    cfg.set_verify(o.verify);
    if let Some(ca) = &o.cacert {
        cfg.set_trust(Trust::CaFile(ca.clone()));
    }
    if let Some((cert, key)) = &o.cert {
        cfg.set_client_cert(Some((PemSource::File(cert.clone()), PemSource::File(key.clone()))));
    }
    if let Some(p) = &o.proxy {
        cfg.set_proxies(vec![ProxySpec { key: "all://".into(), url: Some(p.clone()), mode: ProxyMode::Default }])?;
    }
    Ok(cfg)
}

/// The request HTTPX's CLI builds for these options (`client.stream(...)` arguments).
/// The request and its send's options (HTTPX `client.send(request, auth=...,
/// follow_redirects=...)`).
fn build_request(client: &Client, o: &Opts, method: &str) -> Result<(Request, SendOptions), Error> {
    let mut req = client.build_request(method, &o.url)?;
    // `URL(url, params=...)` replaces the query when params are given.
    if !o.params.is_empty() {
        req.url.set_query(Some(&pyfmt::urlencode(&o.params)));
    }
    // Request headers merge into the client's as `Headers.update`: a given name
    // replaces the client's lines of that name, the new lines go to the end.
    if !o.headers.is_empty() {
        let mut h = Headers::new();
        for (n, v) in &o.headers {
            h.append(n, v)?;
        }
        req.headers.update(&h);
    }
    // `Cookies(dict(cookies)).set_cookie_header(request)`: only when the request has
    // no Cookie header of its own.
    if !o.cookies.is_empty() && !req.headers.contains("Cookie") {
        let joined = pyfmt::dict(&o.cookies).iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
        req.headers.append("Cookie", &joined)?;
    }
    // encode_request: content, else files (+ data), else data, else json.
    if let Some(c) = &o.content {
        if !c.is_empty() {
            req.set_body_bytes(c.as_bytes().to_vec(), None);
        }
    } else if !o.files.is_empty() {
        let mut m = Multipart::new();
        for (n, v) in pyfmt::dict(&o.data) {
            m.add_field(&n, v.as_bytes());
        }
        for (n, path) in &o.files {
            m.add_file(n, None, path, None)?;
        }
        req.set_multipart(m);
    } else if !o.data.is_empty() {
        let body = pyfmt::urlencode(&pyfmt::dict(&o.data));
        req.set_body_bytes(body.into_bytes(), Some("application/x-www-form-urlencoded"));
    } else if let Some(j) = &o.json {
        let body = pyfmt::dumps_compact(j).map_err(|e| Error::InvalidArgument(e.0))?;
        req.set_body_bytes(body.into_bytes(), Some("application/json"));
    }
    let mut send = SendOptions { follow_redirects: Some(o.follow_redirects), ..SendOptions::default() };
    if let Some((user, pass)) = &o.auth {
        let auth = if o.digest { Auth::digest(user, pass)? } else { Auth::basic(user, pass)? };
        send.auth = AuthChoice::Use(Arc::new(auth));
    }
    Ok((req, send))
}

static PYGMENTS_MIMETYPES: &str = include_str!("pygments_mimetypes.tsv");

/// `pygments.lexers.get_lexer_for_mimetype(mime).name` (Pygments 2.21), or None.
fn lexer_for(mime: &str) -> Option<&'static str> {
    PYGMENTS_MIMETYPES.lines().find_map(|l| l.split_once('\t').filter(|(m, _)| *m == mime).map(|(_, n)| n))
}

/// HTTPX CLI `print_response`: text for a type Pygments has a lexer for (JSON
/// re-indented by 4), else `<N bytes of binary data>`.
fn print_response(console: &Console, resp: &mut Response) -> Result<(), Error> {
    let len = resp.body()?.len();
    let mime = resp.headers.get("Content-Type").map(|ct| ct.split(';').next().unwrap_or("").trim().to_string());
    let lexer = mime.as_deref().and_then(lexer_for);
    let text = match lexer {
        Some(l) if l.eq_ignore_ascii_case("json") => match pyfmt::json_loads(resp.body()?) {
            Some(v) => pyfmt::dumps_pretty(&v),
            None => resp.text()?.to_string(),
        },
        Some(_) => resp.text()?.to_string(),
        None => format!("<{len} bytes of binary data>"),
    };
    console.print(&text, Style::Plain);
    Ok(())
}

fn run(o: &Opts) -> i32 {
    let console = Arc::new(Console::new());
    let method = o.method.clone().unwrap_or_else(|| default_method(o).to_string());
    let mut cfg = match client_config(o) {
        Ok(c) => c,
        Err(e) => return report(&console, &e),
    };
    if let Some(path) = &o.unix_socket {
        let t = HttpTransport::new(HttpOptions {
            tls: cfg.tls().clone(),
            http2: o.http2,
            uds: Some(path.clone()),
            ..HttpOptions::default()
        });
        match t {
            Ok(t) => cfg.set_transport(Some(Arc::new(t))),
            Err(e) => return report(&console, &e),
        }
    }
    verbose::install(
        &mut cfg,
        console.clone(),
        verbose::VerboseOptions { verbose: o.verbose, unix_socket: o.unix_socket.is_some() },
    );
    let received = Arc::new(AtomicU64::new(0));
    if o.download.is_some() {
        let r = received.clone();
        cfg.set_progress(Some(Arc::new(move |_sent, _st, recv, _rt| {
            r.store(recv, Ordering::Relaxed);
            true
        })));
    }
    let client = match Client::new(&cfg) {
        Ok(c) => c,
        Err(e) => return report(&console, &e),
    };
    let (req, send) = match build_request(&client, o, &method) {
        Ok(r) => r,
        Err(e) => return report(&console, &e),
    };
    let mut resp = match client.send_with(&req, &send) {
        Ok(r) => r,
        Err(e) => return report(&console, &e),
    };
    if let Some(path) = &o.download {
        let shown = path.to_string_lossy().into_owned();
        match download::run(&console, &mut resp, path, &shown, received) {
            Ok(()) => {}
            Err(download::DownloadError::Http(e)) => return report(&console, &e),
            Err(download::DownloadError::Open(m)) | Err(download::DownloadError::Write(m)) => {
                eprintln!("Error: {m}");
                return 1;
            }
        }
    } else {
        let empty = match resp.body() {
            Ok(b) => b.is_empty(),
            Err(e) => return report(&console, &e),
        };
        if !empty {
            if let Err(e) = print_response(&console, &mut resp) {
                return report(&console, &e);
            }
        }
    }
    client.close();
    if (200..300).contains(&resp.status) {
        0
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The table is `get_lexer_for_mimetype(m).name` for every mimetype Pygments 2.21
    // (installed with HTTPX in /work/venv-httpx) knows.
    #[test]
    fn lexers() {
        assert_eq!(lexer_for("application/json"), Some("JSON"));
        assert_eq!(lexer_for("text/plain"), Some("Text only"));
        assert_eq!(lexer_for("text/html"), Some("HTML"));
        assert_eq!(lexer_for("application/ld+json"), Some("JSON-LD"));
        assert_eq!(lexer_for("application/octet-stream"), None);
        assert_eq!(lexer_for("image/png"), None);
    }
}

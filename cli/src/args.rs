//! Command line of HTTPX 0.28.1's `httpx` (click), parsed with clap, plus the
//! libcurl-style extras. Bad arguments: `Usage: httpx [OPTIONS] URL`, a blank line,
//! `Error: ...` on stderr and exit status 2, as click does; nothing is sent.

use std::path::PathBuf;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command};

use crate::pyfmt;

pub const USAGE: &str = "Usage: httpx [OPTIONS] URL";

#[derive(Debug, Default)]
pub struct Opts {
    pub url: String,
    pub method: Option<String>,
    pub params: Vec<(String, String)>,
    pub content: Option<String>,
    pub data: Vec<(String, String)>,
    pub files: Vec<(String, PathBuf)>,
    /// Parsed `-j` (None also for JSON `null`, as in HTTPX).
    pub json: Option<serde_json::Value>,
    pub headers: Vec<(String, String)>,
    pub cookies: Vec<(String, String)>,
    pub auth: Option<(String, String)>,
    pub proxy: Option<String>,
    pub timeout: f64,
    pub follow_redirects: bool,
    pub verify: bool,
    pub http2: bool,
    pub download: Option<PathBuf>,
    pub verbose: bool,
    // Beyond HTTPX's CLI:
    pub digest: bool,
    pub cacert: Option<PathBuf>,
    pub cert: Option<(PathBuf, PathBuf)>,
    pub total_timeout: Option<f64>,
    pub unix_socket: Option<PathBuf>,
}

pub enum Parsed {
    Run(Box<Opts>),
    Help,
}

/// A usage error: message for `Error: ...`, exit status 2.
pub struct UsageError(pub String);

fn pair(id: &'static str, long: &'static str, short: Option<char>, a: &'static str, b: &'static str) -> Arg {
    let mut arg =
        Arg::new(id).long(long).num_args(2).value_names([a, b]).action(ArgAction::Append).allow_hyphen_values(true);
    if let Some(s) = short {
        arg = arg.short(s);
    }
    arg
}

fn single(id: &'static str, long: &'static str, short: Option<char>, name: &'static str) -> Arg {
    let mut arg = Arg::new(id).long(long).num_args(1).value_name(name).action(ArgAction::Set).allow_hyphen_values(true);
    if let Some(s) = short {
        arg = arg.short(s);
    }
    arg
}

fn flag(id: &'static str, long: &'static str, short: Option<char>) -> Arg {
    let mut arg = Arg::new(id).long(long).action(ArgAction::SetTrue);
    if let Some(s) = short {
        arg = arg.short(s);
    }
    arg
}

pub fn command() -> Command {
    Command::new("httpx")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .disable_help_subcommand(true)
        .arg(Arg::new("url").value_name("URL").num_args(1).action(ArgAction::Set))
        .arg(single("method", "method", Some('m'), "METHOD"))
        .arg(pair("params", "params", Some('p'), "NAME", "VALUE"))
        .arg(single("content", "content", Some('c'), "TEXT"))
        .arg(pair("data", "data", Some('d'), "NAME", "VALUE"))
        .arg(pair("files", "files", Some('f'), "NAME", "FILENAME"))
        .arg(single("json", "json", Some('j'), "TEXT"))
        .arg(pair("headers", "headers", Some('h'), "NAME", "VALUE"))
        .arg(pair("cookies", "cookies", None, "NAME", "VALUE"))
        .arg(pair("auth", "auth", None, "USER", "PASS").action(ArgAction::Set))
        .arg(single("proxy", "proxy", None, "URL"))
        .arg(single("timeout", "timeout", None, "FLOAT"))
        .arg(flag("follow_redirects", "follow-redirects", None))
        .arg(flag("no_verify", "no-verify", None))
        .arg(flag("http2", "http2", None))
        .arg(single("download", "download", None, "FILE"))
        .arg(flag("verbose", "verbose", Some('v')))
        .arg(flag("help", "help", None))
        .arg(flag("digest", "digest", None))
        .arg(single("cacert", "cacert", None, "FILE"))
        .arg(pair("cert", "cert", None, "FILE", "KEY").action(ArgAction::Set))
        .arg(single("total_timeout", "total-timeout", None, "FLOAT"))
        .arg(single("unix_socket", "unix-socket", None, "PATH"))
}

fn pairs(m: &clap::ArgMatches, id: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Ok(Some(occ)) = m.try_get_occurrences::<String>(id) {
        for o in occ {
            let v: Vec<&String> = o.collect();
            if v.len() == 2 {
                out.push((v[0].clone(), v[1].clone()));
            }
        }
    }
    out
}

fn float(m: &clap::ArgMatches, id: &str, shown: &str) -> Result<Option<f64>, UsageError> {
    match m.get_one::<String>(id) {
        None => Ok(None),
        Some(s) => match s.trim().parse::<f64>() {
            Ok(f) => Ok(Some(f)),
            Err(_) => Err(UsageError(format!("Invalid value for '{shown}': '{s}' is not a valid float."))),
        },
    }
}

/// Parse argv (without the program name).
pub fn parse(argv: Vec<String>) -> Result<Parsed, UsageError> {
    let m = command()
        .try_get_matches_from(std::iter::once("httpx".to_string()).chain(argv.iter().cloned()))
        .map_err(|e| clap_error(e, &argv))?;
    if m.get_flag("help") {
        return Ok(Parsed::Help);
    }
    let Some(url) = m.get_one::<String>("url").cloned() else {
        return Err(UsageError("Missing argument 'URL'.".into()));
    };
    let json = match m.get_one::<String>("json") {
        None => None,
        Some(t) => match pyfmt::json_loads(t.as_bytes()) {
            Some(serde_json::Value::Null) => None,
            Some(v) => Some(v),
            None => return Err(UsageError("Invalid value for '--json' / '-j': Not valid JSON".into())),
        },
    };
    let mut files = Vec::new();
    for (name, path) in pairs(&m, "files") {
        // click opens the files while parsing (`click.File("rb")`).
        if let Err(e) = std::fs::File::open(&path) {
            return Err(UsageError(format!("Invalid value for '--files' / '-f': '{path}': {}", io_reason(&e))));
        }
        files.push((name, PathBuf::from(path)));
    }
    let auth = pairs(&m, "auth").into_iter().next();
    let digest = m.get_flag("digest");
    if digest && auth.is_none() {
        return Err(UsageError("Option '--digest' needs '--auth USER PASS'.".into()));
    }
    let mut auth = auth;
    if let Some((user, pass)) = &auth {
        if pass == "-" {
            auth = Some((user.clone(), crate::prompt_password()));
        }
    }
    let cert = pairs(&m, "cert").into_iter().next().map(|(c, k)| (PathBuf::from(c), PathBuf::from(k)));
    let total_timeout = float(&m, "total_timeout", "--total-timeout")?;
    if let Some(t) = total_timeout {
        if t.is_nan() || t < 0.0 {
            return Err(UsageError(format!("Invalid value for '--total-timeout': {t} is not a duration.")));
        }
    }
    Ok(Parsed::Run(Box::new(Opts {
        url,
        method: m.get_one::<String>("method").cloned(),
        params: pairs(&m, "params"),
        content: m.get_one::<String>("content").cloned(),
        data: pairs(&m, "data"),
        files,
        json,
        headers: pairs(&m, "headers"),
        cookies: pairs(&m, "cookies"),
        auth,
        proxy: m.get_one::<String>("proxy").cloned(),
        timeout: float(&m, "timeout", "--timeout")?.unwrap_or(5.0),
        follow_redirects: m.get_flag("follow_redirects"),
        verify: !m.get_flag("no_verify"),
        http2: m.get_flag("http2"),
        download: m.get_one::<String>("download").map(PathBuf::from),
        verbose: m.get_flag("verbose"),
        digest,
        cacert: m.get_one::<String>("cacert").map(PathBuf::from),
        cert,
        total_timeout,
        unix_socket: m.get_one::<String>("unix_socket").map(PathBuf::from),
    })))
}

/// Python's `strerror` wording for the usual cases.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => {
            let s = e.to_string();
            s.split(" (os error").next().unwrap_or(&s).to_string()
        }
    }
}

fn ctx_str(e: &clap::Error, k: ContextKind) -> Option<String> {
    match e.get(k)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => v.first().cloned(),
        _ => None,
    }
}

/// The option as the user spelled it (`-p` or `--params`), as click reports it.
fn as_typed(long: &str, argv: &[String]) -> String {
    let cmd = command();
    let short = cmd
        .get_arguments()
        .find(|a| a.get_long().is_some_and(|l| format!("--{l}") == long))
        .and_then(|a| a.get_short())
        .map(|c| format!("-{c}"));
    for tok in argv.iter().rev() {
        if tok == long || tok.starts_with(&format!("{long}=")) {
            return long.to_string();
        }
        if let Some(s) = &short {
            if tok == s {
                return s.clone();
            }
        }
    }
    long.to_string()
}

/// clap's error in click's words where the cases match.
fn clap_error(e: clap::Error, argv: &[String]) -> UsageError {
    let arg = ctx_str(&e, ContextKind::InvalidArg).map(|a| a.split(' ').next().unwrap_or(&a).to_string());
    let arg = match (e.kind(), arg) {
        (ErrorKind::WrongNumberOfValues | ErrorKind::InvalidValue, Some(a)) if a.starts_with("--") => {
            Some(as_typed(&a, argv))
        }
        (_, a) => a,
    };
    let msg = match (e.kind(), arg) {
        (ErrorKind::UnknownArgument, Some(a)) if !a.starts_with('-') => format!("Got unexpected extra argument ({a})"),
        (ErrorKind::UnknownArgument, Some(a)) => {
            let mut m = format!("No such option '{a}'.");
            if let Some(s) = ctx_str(&e, ContextKind::SuggestedArg) {
                m.push_str(&format!(" Did you mean '{s}'?"));
            }
            m
        }
        (ErrorKind::WrongNumberOfValues | ErrorKind::InvalidValue, Some(a)) => {
            let two = ["params", "data", "files", "headers", "cookies", "auth", "cert"];
            let is_pair = command().get_arguments().any(|x| {
                two.contains(&x.get_id().as_str())
                    && (x.get_long().is_some_and(|l| format!("--{l}") == a)
                        || x.get_short().is_some_and(|c| format!("-{c}") == a))
            });
            let n = if is_pair { "2 arguments" } else { "an argument" };
            format!("Option '{a}' requires {n}.")
        }
        (ErrorKind::ArgumentConflict, Some(a)) => format!("Option '{a}' does not take multiple values."),
        _ => {
            if e.kind() == ErrorKind::UnknownArgument {
                if let Some(v) = ctx_str(&e, ContextKind::InvalidValue) {
                    return UsageError(format!("Got unexpected extra argument ({v})"));
                }
            }
            let s = e.to_string();
            let first = s.lines().next().unwrap_or("").trim_start_matches("error: ").to_string();
            let mut c = first.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => "invalid arguments".into(),
            }
        }
    };
    UsageError(msg)
}

pub const HELP: &str = "\
HTTPX 🦋

A next generation HTTP client.

Usage: httpx <URL> [OPTIONS]

 -m, --method METHOD             Request method, such as GET, POST, PUT, PATCH,
                                 DELETE, OPTIONS, HEAD.
                                 [Default: GET, or POST if a request body is
                                 included]

 -p, --params <NAME VALUE> ...   Query parameters to include in the request
                                 URL.

 -c, --content TEXT              Byte content to include in the request body.

 -d, --data <NAME VALUE> ...     Form data to include in the request body.

 -f, --files <NAME FILENAME> ... Form files to include in the request body.

 -j, --json TEXT                 JSON data to include in the request body.

 -h, --headers <NAME VALUE> ...  Include additional HTTP headers in the
                                 request.

 --cookies <NAME VALUE> ...      Cookies to include in the request.

 --auth <USER PASS>              Username and password to include in the
                                 request. Specify '-' for the password to use a
                                 password prompt. Note that using --verbose/-v
                                 will expose the Authorization header,
                                 including the password encoding in a trivially
                                 reversible format.

 --proxy URL                     Send the request via a proxy. Should be the
                                 URL giving the proxy address. http://,
                                 https://, socks5:// and socks5h:// proxies.

 --timeout FLOAT                 Timeout value to use for network operations,
                                 such as establishing the connection, reading
                                 some data, etc... [Default: 5.0]

 --follow-redirects              Automatically follow redirects.

 --no-verify                     Disable SSL verification.

 --http2                         Send the request using HTTP/2, if the remote
                                 server supports it.

 --download FILE                 Save the response content as a file, rather
                                 than displaying it.

 -v, --verbose                   Verbose output. Show request as well as
                                 response.

 --help                          Show this message and exit.

Beyond HTTPX's CLI (libhttpx):

 --digest                        Use HTTP Digest for --auth instead of Basic.

 --cacert FILE                   Verify the server with the CA bundle in FILE
                                 (PEM) instead of the default trust store.

 --cert FILE KEY                 Client certificate chain and private key
                                 (PEM files) for mutual TLS.

 --total-timeout FLOAT           Give up when the whole exchange (redirects and
                                 the body included) takes longer than this.

 --unix-socket PATH              Connect to this Unix domain socket instead of
                                 the URL's host and port.
";

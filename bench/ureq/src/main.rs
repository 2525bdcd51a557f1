//! bench/ureq: the ureq 3 runner of the benchmark (issue 16). Same command line, same
//! workloads and the same `RESULT` line as bench/runner.c (bench_httpx / bench_curl), so
//! bench/driver.c runs it as a third library. See bench/README.md.
//!
//! usage: bench_ureq --mode get|newconn|stream|upload --url URL --n N
//!                   [--warmup W] [--expect BYTES] [--ca FILE] [--file PATH]
//!                   [--threads T] [--bufsize BYTES] [--http2]
//!        bench_ureq --version
//!
//! ureq has no HTTP/2 and no debug hook: `--http2` and `--debug` exit with status 3
//! ("unsupported"), which the driver reports as n/a rather than a failure.
//! Set-up mirrors the C runners: one `Agent` (shared by the threads: it is one pool),
//! proxy environment ignored (`proxy(None)`, like trust_env 0 / CURLOPT_PROXY ""),
//! status codes are not errors, the bench CA as the only root, newconn = no idle
//! connections kept, streamed bodies read into a BUFSIZE buffer, uploads from a
//! `pread` reader with a known Content-Length.
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use ureq::tls::{PemItem, RootCerts, TlsConfig};
use ureq::Agent;

struct Opts {
    mode: String,
    url: String,
    ca: Option<String>,
    file: Option<String>,
    n: u64,
    warmup: i64,
    threads: u64,
    expect: i64,
    bufsize: usize,
}

fn die(msg: &str) -> ! {
    eprintln!("[ureq] {msg}");
    std::process::exit(1)
}

fn parse_args() -> Opts {
    let mut o = Opts {
        mode: "get".into(),
        url: String::new(),
        ca: None,
        file: None,
        n: 1000,
        warmup: -1,
        threads: 1,
        expect: -1,
        bufsize: 65536,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "--version" => {
                println!("ureq/{}", ureq_version());
                std::process::exit(0)
            }
            "--http2" => {
                eprintln!("[ureq] no HTTP/2 support");
                std::process::exit(3)
            }
            "--conc" => {
                // The multi rows (issue 18): ureq has no event-loop interface.
                eprintln!("[ureq] no multi interface");
                std::process::exit(3)
            }
            "--debug" => {
                // The debug-hook rows (issue 12): ureq has no per-request debug callback.
                eprintln!("[ureq] no debug hook");
                std::process::exit(3)
            }
            _ => {}
        }
        let v = args.get(i + 1).cloned().unwrap_or_else(|| die(&format!("missing value for {a}")));
        let num = |s: &str| s.parse::<i64>().unwrap_or_else(|_| die(&format!("bad number for {a}")));
        match a {
            "--mode" => o.mode = v,
            "--url" => o.url = v,
            "--ca" => o.ca = Some(v),
            "--file" => o.file = Some(v),
            "--n" => o.n = num(&v).max(1) as u64,
            "--warmup" => o.warmup = num(&v),
            "--threads" => o.threads = num(&v).clamp(1, 64) as u64,
            "--expect" => o.expect = num(&v),
            "--bufsize" => o.bufsize = num(&v).max(1) as usize,
            _ => die(&format!("unknown option {a}")),
        }
        i += 2;
    }
    if o.url.is_empty() {
        die("--url is required");
    }
    if o.warmup < 0 {
        o.warmup = (o.n as i64 / 50).clamp(1, 200);
    }
    o
}

/// The ureq version this runner was built against (from Cargo.lock via the build).
fn ureq_version() -> &'static str {
    env!("UREQ_VERSION")
}

fn agent(o: &Opts) -> Agent {
    let mut tls = TlsConfig::builder();
    if let Some(ca) = &o.ca {
        let pem = std::fs::read(ca).unwrap_or_else(|e| die(&format!("read {ca}: {e}")));
        let certs: Vec<_> = ureq::tls::parse_pem(&pem)
            .filter_map(|i| match i {
                Ok(PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            die("no certificate in --ca");
        }
        tls = tls.root_certs(RootCerts::new_with_certs(&certs));
    }
    let newconn = o.mode == "newconn" || o.mode == "newclient";
    Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .timeout_per_write(Some(Duration::from_secs(60)))
        .max_idle_connections(if newconn { 0 } else { 100 })
        .max_idle_connections_per_host(if newconn { 0 } else { 20 })
        .max_idle_age(Duration::from_secs(60))
        .tls_config(tls.build())
        .build()
        .into()
}

struct Ctx {
    o: Opts,
    agent: Agent,
    upfile: Option<std::fs::File>,
}

/// `pread` from one shared fd, like the C runners' upload source.
struct UpSrc<'a> {
    f: &'a std::fs::File,
    off: u64,
    size: u64,
}
impl Read for UpSrc<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.size - self.off;
        if left == 0 {
            return Ok(0);
        }
        let cap = buf.len().min(left as usize);
        let n = self.f.read_at(&mut buf[..cap], self.off)?;
        self.off += n as u64;
        Ok(n)
    }
}

fn one(c: &Ctx, buf: &mut [u8]) -> u64 {
    let o = &c.o;
    match o.mode.as_str() {
        "get" | "newconn" | "newclient" => {
            // newclient: a new Agent per request, default configuration.
            let fresh;
            let agent = if o.mode == "newclient" {
                fresh = Agent::new_with_defaults();
                &fresh
            } else {
                &c.agent
            };
            let mut r = agent.get(&o.url).call().unwrap_or_else(|e| die(&format!("get: {e}")));
            if r.status() != 200 {
                die("status != 200");
            }
            let body = r.body_mut().read_to_vec().unwrap_or_else(|e| die(&format!("body: {e}")));
            if o.expect >= 0 && body.len() as i64 != o.expect {
                die("body length mismatch");
            }
            body.len() as u64
        }
        "stream" => {
            let mut r = c.agent.get(&o.url).call().unwrap_or_else(|e| die(&format!("stream: {e}")));
            if r.status() != 200 {
                die("status != 200");
            }
            let mut rd = r.body_mut().as_reader();
            let mut got = 0u64;
            loop {
                match rd.read(buf) {
                    Ok(0) => break,
                    Ok(n) => got += n as u64,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => die(&format!("read: {e}")),
                }
            }
            if o.expect >= 0 && got as i64 != o.expect {
                die("body length mismatch");
            }
            got
        }
        "upload" => {
            let f = c.upfile.as_ref().unwrap();
            let size = f.metadata().unwrap_or_else(|e| die(&format!("stat: {e}"))).len();
            let mut src = UpSrc { f, off: 0, size };
            let mut r = c
                .agent
                .post(&o.url)
                .header("Content-Type", "application/octet-stream")
                .header("Content-Length", size.to_string())
                .send(ureq::SendBody::from_reader(&mut src))
                .unwrap_or_else(|e| die(&format!("upload: {e}")));
            if r.status() != 200 {
                die("upload status != 200");
            }
            let _ = r.body_mut().read_to_vec();
            if src.off != size {
                die("upload: body not fully sent");
            }
            size
        }
        m => die(&format!("unknown mode {m}")),
    }
}

fn tv_s(tv: libc::timeval) -> f64 {
    tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6
}
fn rusage() -> libc::rusage {
    // SAFETY: getrusage fills the struct; zeroed is a valid rusage.
    unsafe {
        let mut r: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut r);
        r
    }
}

fn main() {
    let o = parse_args();
    let upfile = if o.mode == "upload" {
        let p = o.file.as_deref().unwrap_or_else(|| die("--file is required for upload"));
        Some(std::fs::File::open(p).unwrap_or_else(|e| die(&format!("open {p}: {e}"))))
    } else {
        None
    };
    let agent = agent(&o);
    let threads = o.threads;
    let ops = o.n * threads;
    let ctx = Arc::new(Ctx { o, agent, upfile });
    let start = Arc::new(Barrier::new(threads as usize + 1));
    let done = Arc::new(Barrier::new(threads as usize + 1));
    let mut hs = Vec::new();
    for _ in 0..threads {
        let (c, s, d) = (ctx.clone(), start.clone(), done.clone());
        hs.push(std::thread::spawn(move || {
            let mut buf = vec![0u8; c.o.bufsize];
            for _ in 0..c.o.warmup {
                one(&c, &mut buf);
            }
            s.wait();
            let mut bytes = 0u64;
            for _ in 0..c.o.n {
                bytes += one(&c, &mut buf);
            }
            d.wait();
            bytes
        }));
    }
    start.wait();
    let r0 = rusage();
    let t0 = Instant::now();
    done.wait();
    let wall = t0.elapsed().as_secs_f64();
    let r1 = rusage();
    let bytes: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
    drop(ctx);
    let rf = rusage();
    println!(
        "RESULT ops={} bytes={} wall={:.6} utime={:.6} stime={:.6} maxrss_kb={}",
        ops,
        bytes,
        wall,
        tv_s(r1.ru_utime) - tv_s(r0.ru_utime),
        tv_s(r1.ru_stime) - tv_s(r0.ru_stime),
        rf.ru_maxrss
    );
}

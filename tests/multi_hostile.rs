//! Hostile peers through the multi (issue #18): the faults of the blocking hardening
//! tests (tests/hardening.rs, hardening_h2.rs, sigpipe.rs), each with many transfers in
//! flight on one multi: several copies of the bad transfer beside good ones to nginx
//! (HTTP and HTTPS, 64 KiB each). Every test checks that the good transfers complete
//! normally (one bad peer neither stalls nor poisons the loop) and that the bad ones
//! fail with the error code the blocking client gives for the same fault (compared in
//! the test). Every loop is bounded in count and time.
//!
//! Run: `RUST_TEST_THREADS=2 cargo test --test multi_hostile`.

mod common;
#[path = "common/tls_fault.rs"]
mod tls_fault;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use common::*;
use httpx::error::code;
use httpx::multi::Multi;
use httpx::tls::Trust;
use httpx::types::HeadLimits;
use httpx::{Client, ClientConfig, Request, Timeouts};
use tls_fault::{read_at_least, reset, TlsFault};

/// What a transfer came to: (status, body length) or (error code, message).
type Out = Result<(u16, usize), (u32, String)>;

fn code_of(o: &Out) -> u32 {
    match o {
        Ok(_) => code::OK,
        Err((c, _)) => *c,
    }
}

fn client_with(f: impl FnOnce(&mut ClientConfig)) -> Client {
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    k.set_trust(Trust::CaFile(certs().ca_pem.clone()));
    k.set_timeouts(Timeouts::all(Some(Duration::from_secs(10))));
    f(&mut k);
    Client::new(&k).unwrap()
}

/// A bad transfer: method, URL, upload size (0: none; odd copies stream it).
#[derive(Clone)]
struct Bad {
    method: &'static str,
    url: String,
    upload: usize,
}

fn get(url: String) -> Bad {
    Bad { method: "GET", url, upload: 0 }
}

fn request(c: &Client, b: &Bad, copy: usize) -> Request {
    let mut req = c.build_request(b.method, &b.url).unwrap();
    if b.upload > 0 {
        if copy % 2 == 0 {
            req.set_body_bytes(vec![b'x'; b.upload], None);
        } else {
            req.set_body_stream(Box::new(std::io::repeat(b'y').take(b.upload as u64)), None);
        }
    }
    req
}

fn blocking(c: &Client, b: &Bad) -> Out {
    let mut r = c.send(&request(c, b, 0)).map_err(|e| (e.code(), e.to_string()))?;
    let n = r.body().map_err(|e| (e.code(), e.to_string()))?.len();
    Ok((r.status, n))
}

/// Wall-time bound of one multi run (and the clients' timeouts are 10 s).
const LIMIT: Duration = Duration::from_secs(30);
/// Copies of the bad transfer in flight at once.
const COPIES: usize = 8;

/// Good transfers per run: half to nginx over HTTP, half over HTTPS (HTTP/2 when the
/// client has it on), each /files/64k.bin.
const GOOD: u64 = 24;
const GOOD_TAG: u64 = 1000;

struct Run {
    /// Outcome and completion time of each bad transfer (by copy).
    bad: Vec<(Out, Duration)>,
    /// When the last good transfer completed.
    good_done: Duration,
    all_done: Duration,
}

/// `copies` of each of `bad` and [`GOOD`] good transfers at once on one multi,
/// driven until all completed (bounded: `limit`). Asserts every good one is a 200
/// with the whole body.
fn run_multi(c: &Client, bad: &[Bad], copies: usize, limit: Duration) -> Run {
    let n = nginx();
    let want = std::fs::metadata(n.file("64k.bin")).unwrap().len() as usize;
    let mut m = Multi::new(c).unwrap();
    let mut tag = 0u64;
    for copy in 0..copies {
        for b in bad {
            m.add(&request(c, b, copy), tag).unwrap();
            tag += 1;
        }
    }
    let nbad = tag as usize;
    for j in 0..GOOD {
        let url = if j % 2 == 0 { n.url("/files/64k.bin") } else { n.https_url_on(n.https_h2_port, "/files/64k.bin") };
        m.add(&c.build_request("GET", &url).unwrap(), GOOD_TAG + j).unwrap();
    }
    let t0 = Instant::now();
    let mut bad_out: Vec<Option<(Out, Duration)>> = (0..nbad).map(|_| None).collect();
    let mut good_done = Duration::ZERO;
    let mut good = 0;
    // Bounded: `limit` of wall time (each perform waits at most 100 ms).
    loop {
        let running = m.perform(Some(Duration::from_millis(100))).unwrap();
        while let Some(mut d) = m.next() {
            let at = t0.elapsed();
            let out: Out = match &mut d.result {
                Ok(r) => {
                    let len = r.body().map(|b| b.len()).unwrap_or(usize::MAX);
                    Ok((r.status, len))
                }
                Err(e) => Err((e.code(), e.to_string())),
            };
            if d.tag >= GOOD_TAG {
                assert_eq!(out, Ok((200, want)), "good transfer {} beside a bad peer", d.tag - GOOD_TAG);
                good += 1;
                good_done = at;
            } else {
                bad_out[d.tag as usize] = Some((out, at));
            }
        }
        if running == 0 {
            break;
        }
        assert!(t0.elapsed() < limit, "transfers still running after {limit:?}");
    }
    assert_eq!(good, GOOD, "every good transfer completed");
    let bad = bad_out.into_iter().map(|o| o.expect("every bad transfer completed")).collect();
    Run { bad, good_done, all_done: t0.elapsed() }
}

/// A GET of `url` on [`COPIES`] transfers at once beside the good ones: the multi's
/// outcomes are all `want`, as is the blocking client's for the same fault. Returns
/// the run for timing checks.
fn same_as_blocking(c: &Client, what: &str, url: String, want: u32) -> Run {
    let (bad, copies, limit) = (&get(url), COPIES, LIMIT);
    let b = blocking(c, bad);
    assert_eq!(code_of(&b), want, "{what}: blocking: {b:?}");
    let run = run_multi(c, std::slice::from_ref(bad), copies, limit);
    for (o, _) in &run.bad {
        assert_eq!(code_of(o), want, "{what}: multi: {o:?} (blocking: {b:?})");
    }
    let first = run.bad.iter().map(|x| x.1).min().unwrap_or_default();
    eprintln!(
        "{what}: code {want} in both; {copies} bad + {GOOD} good on one multi: good done at {:?}, \
         first bad at {first:?}, all at {:?}; e.g. {:?}",
        run.good_done,
        run.all_done,
        run.bad[0].0.as_ref().err().map(|e| e.1.as_str()).unwrap_or("ok")
    );
    run
}

/// Answers every request with `resp` (whole), then shuts the connection down and
/// waits for the client to close it.
fn serve_bytes(resp: Vec<u8>) -> FaultServer {
    FaultServer::start(move |mut s| {
        if read_request_head(&mut s).is_none() {
            return;
        }
        let _ = s.write_all(&resp);
        let _ = s.shutdown(Shutdown::Write);
        let mut sink = [0u8; 64];
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = s.read(&mut sink);
    })
}

// ---------------------------------------------------------------------------------------
// SIGPIPE
// ---------------------------------------------------------------------------------------

const SIGPIPE_CHILD: &str = "HTTPX_MULTI_HOSTILE_SIGPIPE_CHILD";
const UPLOAD: usize = 8 << 20;

/// Reads the head and 64 KiB of body, then resets the connection.
fn closing_handler(mut s: TcpStream) {
    let _ = read_at_least(&mut s, 64 << 10);
    reset(&s);
}

/// A peer that closes while the multi writes a large request body (8 MiB, in memory
/// and streamed), over HTTP and HTTPS, with SIGPIPE at its default action
/// (terminate): the multi's writes use MSG_NOSIGNAL (TLS records too), so the process
/// lives and the transfers fail with the blocking client's codes. Run in a child
/// process (this test binary again, this test only): a SIGPIPE kills the child, not
/// the other tests, and the parent reports it.
#[test]
fn peer_closing_during_a_large_upload_raises_no_sigpipe() {
    if std::env::var_os(SIGPIPE_CHILD).is_some() {
        sigpipe_child();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let mut child = std::process::Command::new(exe)
        .args(["--exact", "peer_closing_during_a_large_upload_raises_no_sigpipe", "--nocapture", "--test-threads=1"])
        .env(SIGPIPE_CHILD, "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    // Bounded: 120 s, then the child is killed and the test fails.
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the SIGPIPE child did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    let mut out = String::new();
    let _ = child.stdout.take().unwrap().read_to_string(&mut out);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), None, "the child died of signal {:?} (13 = SIGPIPE)\n{out}\n{err}", status.signal());
    assert!(status.success(), "the child failed: {status}\n{out}\n{err}");
    assert!(out.contains("1 passed"), "the child ran no test:\n{out}");
    eprint!("{err}");
    eprintln!("SIGPIPE child: {:?}", t0.elapsed());
}

fn sigpipe_child() {
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    assert_eq!(unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) }, libc::SIG_DFL);
    let plain = tls_fault::plain_server(closing_handler);
    let c = certs();
    let tls = TlsFault::start(&c.server_cert, &c.server_key, &[], |tls| {
        let _ = read_at_least(tls, 64 << 10);
        reset(&tls.sock);
    });
    let client = client_with(|_| {});
    let bad = [
        Bad { method: "POST", url: format!("http://127.0.0.1:{}/upload", plain.port), upload: UPLOAD },
        Bad { method: "POST", url: format!("https://localhost:{}/upload", tls.port), upload: UPLOAD },
    ];
    // A peer closing mid-upload is a failed write (or, when the reset is seen first
    // on the read for an early answer, a failed read): the transport group.
    let allowed = [code::WRITE, code::READ];
    let blocking: Vec<u32> = bad.iter().map(|b| code_of(&blocking(&client, b))).collect();
    let run = run_multi(&client, &bad, 4, Duration::from_secs(60));
    let multi: Vec<u32> = run.bad.iter().map(|o| code_of(&o.0)).collect();
    eprintln!("SIGPIPE at SIG_DFL: blocking codes {blocking:?}, multi codes {multi:?} (8 uploads of 8 MiB beside {GOOD} good), all done at {:?}", run.all_done);
    for (i, c) in multi.iter().enumerate() {
        assert!(allowed.contains(c), "upload {i}: {:?}", run.bad[i].0);
    }
    for c in &blocking {
        assert!(allowed.contains(c), "blocking: {blocking:?}");
    }
    // Per scheme, the blocking client's code is among the multi's.
    for (k, b) in blocking.iter().enumerate() {
        assert!(multi.iter().skip(k).step_by(2).any(|m| m == b), "scheme {k}: blocking {b}, multi {multi:?}");
    }
    // HTTP/2 (the h2 crate's writes over the multi's socket): a peer that opens its
    // windows wide, takes 256 KiB of the streams' bodies and resets.
    let h2 = TlsFault::start(&c.server_cert, &c.server_key, &[b"h2"], |tls| {
        let _ = read_at_least(tls, 24);
        let mut frames = frame(4, 0, 0, &[0, 4, 0x7f, 0xff, 0xff, 0xff]); // SETTINGS_INITIAL_WINDOW_SIZE
        frames.extend(frame(8, 0, 0, &[0x7f, 0xff, 0, 0])); // connection WINDOW_UPDATE
        let _ = tls.write_all(&frames);
        let _ = tls.flush();
        let _ = read_at_least(tls, 256 << 10);
        reset(&tls.sock);
    });
    let client = client_with(|k| k.set_http2(true));
    let bad = [Bad { method: "POST", url: format!("https://localhost:{}/upload", h2.port), upload: UPLOAD }];
    let b = code_of(&self::blocking(&client, &bad[0]));
    let run = run_multi(&client, &bad, 4, Duration::from_secs(60));
    let multi: Vec<u32> = run.bad.iter().map(|o| code_of(&o.0)).collect();
    eprintln!("SIGPIPE at SIG_DFL, HTTP/2: blocking code {b}, multi codes {multi:?}: {:?}", run.bad[0].0);
    assert!(b != code::OK && multi.iter().all(|m| *m == b), "HTTP/2: blocking {b}, multi {multi:?}");
}

// ---------------------------------------------------------------------------------------
// Slow and endless heads
// ---------------------------------------------------------------------------------------

/// Reads the request head, writes `head`, then `piece` up to `times` times, `every`
/// apart (bounded; stops as soon as the client goes away).
fn endless(head: &'static [u8], piece: Vec<u8>, every: Duration, times: usize) -> FaultServer {
    FaultServer::start(move |mut s| {
        if read_request_head(&mut s).is_none() || s.write_all(head).is_err() {
            return;
        }
        for _ in 0..times {
            std::thread::sleep(every);
            if s.write_all(&piece).is_err() {
                return;
            }
        }
    })
}

/// A head dripping one byte per 50 ms: the read timeout (a limit for the whole head)
/// fires as READ_TIMEOUT; with only a total timeout, TOTAL_TIMEOUT; the good transfers
/// complete before either, so the loop never waited on the dripping peer.
#[test]
fn dripping_head_hits_the_read_and_the_total_timeout() {
    // One header byte every 50 ms after the status line (at most 600).
    let srv = endless(b"HTTP/1.1 200 OK\r\nX-Drip: ", b"a".to_vec(), Duration::from_millis(50), 600);
    let read = Duration::from_millis(1500);
    let by_read = client_with(|k| k.set_timeouts(Timeouts { read: Some(read), ..Timeouts::all(Some(LIMIT)) }));
    let by_total = client_with(|k| k.set_total_timeout(Some(read)));
    for (what, c, want) in [
        ("dripping head, read timeout", &by_read, code::READ_TIMEOUT),
        ("dripping head, total timeout", &by_total, code::TOTAL_TIMEOUT),
    ] {
        let run = same_as_blocking(c, what, srv.url("/"), want);
        let first = run.bad.iter().map(|x| x.1).min().unwrap();
        assert!(run.good_done < first, "{what}: good done at {:?}, first timeout at {first:?}", run.good_done);
        assert!(first >= read - Duration::from_millis(50), "{what}: {first:?}");
        assert!(run.all_done < read + Duration::from_secs(5), "{what}: {:?}", run.all_done);
    }
}

/// A head growing by a 64-byte line every 2 ms hits the head-size cap (4 KiB here)
/// long before any timeout: REMOTE_PROTOCOL, as in the blocking client.
#[test]
fn growing_head_hits_the_head_size_cap() {
    let line = format!("X-Grow: {}\r\n", "g".repeat(54)).into_bytes();
    let srv = endless(b"HTTP/1.1 200 OK\r\n", line, Duration::from_millis(2), 5000);
    let c = client_with(|k| k.set_head_limits(HeadLimits::new(4096, 1000).unwrap()).unwrap());
    let run = same_as_blocking(&c, "growing head", srv.url("/"), code::REMOTE_PROTOCOL);
    assert!(run.all_done < Duration::from_secs(8), "{:?}", run.all_done);
}

/// Endless `100 Continue` / `102 Processing` heads: REMOTE_PROTOCOL after the cap of
/// 100 interim responses, in the multi as in the blocking client.
#[test]
fn endless_interim_responses_are_capped() {
    // 100,000 interim heads at most.
    let pair = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n".to_vec();
    let srv = endless(b"", pair, Duration::ZERO, 50_000);
    let c = client_with(|_| {});
    let run = same_as_blocking(&c, "endless 1xx", srv.url("/"), code::REMOTE_PROTOCOL);
    for (o, _) in &run.bad {
        assert!(o.as_ref().unwrap_err().1.contains("interim"), "{o:?}");
    }
    assert!(run.all_done < Duration::from_secs(8), "{:?}", run.all_done);
}

/// A header line of 100 KiB, and a head of 150 fields: REMOTE_PROTOCOL (the 64 KiB
/// and 100-field caps) in both drivers.
#[test]
fn oversized_header_line_and_too_many_headers() {
    let big = serve_bytes(
        format!("HTTP/1.1 200 OK\r\nX-Big: {}\r\nContent-Length: 2\r\n\r\nok", "b".repeat(100 << 10)).into_bytes(),
    );
    let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..150 {
        many.extend_from_slice(format!("X-F{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"Content-Length: 2\r\n\r\nok");
    let many = serve_bytes(many);
    let c = client_with(|_| {});
    same_as_blocking(&c, "100 KiB header line", big.url("/"), code::REMOTE_PROTOCOL);
    same_as_blocking(&c, "150 header fields", many.url("/"), code::REMOTE_PROTOCOL);
}

// ---------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------

/// A chunk-size line that is not hex: REMOTE_PROTOCOL in both drivers.
#[test]
fn bad_chunk_size_line() {
    let srv = serve_bytes(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n".to_vec());
    let c = client_with(|_| {});
    same_as_blocking(&c, "bad chunk size", srv.url("/"), code::REMOTE_PROTOCOL);
}

/// A body over the client's body cap (1 MiB): an endless chunked body and an announced
/// Content-Length of 5 GB are BODY_TOO_LARGE in both drivers, with bounded reads.
#[test]
fn body_over_the_body_cap() {
    let mut chunk = b"10000\r\n".to_vec();
    chunk.extend(std::iter::repeat_n(b'x', 0x10000));
    chunk.extend_from_slice(b"\r\n");
    // 64 MiB at most.
    let endless = endless(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunk, Duration::ZERO, 1024);
    let announced = FaultServer::start(|mut s| {
        if read_request_head(&mut s).is_none() {
            return;
        }
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5000000000\r\n\r\nabc");
        std::thread::sleep(Duration::from_secs(3));
    });
    let c = client_with(|k| k.set_max_body_bytes(Some(1 << 20)));
    same_as_blocking(&c, "endless chunked body, 1 MiB cap", endless.url("/"), code::BODY_TOO_LARGE);
    let run = same_as_blocking(&c, "Content-Length 5 GB, 1 MiB cap", announced.url("/"), code::BODY_TOO_LARGE);
    // Refused at the head, not after the server's 3 s.
    assert!(
        run.bad.iter().all(|x| x.1 < Duration::from_secs(2)),
        "{:?}",
        run.bad.iter().map(|x| x.1).collect::<Vec<_>>()
    );
}

/// A reset (RST) after 100 KiB of a 1 MiB Content-Length body: the same code in both
/// drivers (a failed read).
#[test]
fn reset_mid_body() {
    let srv = tls_fault::plain_server(|mut s| {
        if read_request_head(&mut s).is_none() {
            return;
        }
        let mut resp = b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n".to_vec();
        resp.extend(std::iter::repeat_n(b'r', 100 << 10));
        let _ = s.write_all(&resp);
        std::thread::sleep(Duration::from_millis(100));
        reset(&s);
    });
    let c = client_with(|_| {});
    same_as_blocking(&c, "reset mid-body", format!("http://127.0.0.1:{}/", srv.port), code::READ);
}

/// A close-delimited body over TLS ending with a TCP FIN and no close_notify is a
/// truncation: REMOTE_PROTOCOL naming close_notify, in both drivers.
#[test]
fn tls_truncation_of_a_close_delimited_body() {
    let srv = tls_fault_server(&[], |mut tls| {
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        // Bounded: 64 KiB, socket timeouts.
        while head.len() < 64 << 10 && !head.ends_with(b"\r\n\r\n") {
            match tls.read(&mut b) {
                Ok(1) => head.push(b[0]),
                _ => return,
            }
        }
        let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npartial body");
        let _ = tls.flush();
        let _ = tls.sock.shutdown(Shutdown::Write);
        let mut sink = [0u8; 64];
        let _ = tls.sock.read(&mut sink);
    });
    let c = client_with(|_| {});
    let run = same_as_blocking(&c, "TLS truncation", srv.https_url("/"), code::REMOTE_PROTOCOL);
    for (o, _) in &run.bad {
        assert!(o.as_ref().unwrap_err().1.contains("close_notify"), "{o:?}");
    }
}

// ---------------------------------------------------------------------------------------
// HTTP/2
// ---------------------------------------------------------------------------------------

/// HTTP/2 peers that misbehave (the raw responder of tests/hardening_h2.rs): a request
/// pseudo-header (`:path`) in a response, and a head of 150 fields. Eight streams of
/// each on the bad peer's one connection, beside good HTTP/2 streams to nginx on
/// another connection of the same multi: REMOTE_PROTOCOL, as in the blocking client.
#[test]
fn http2_peer_that_misbehaves() {
    let c = client_with(|k| k.set_http2(true));
    let pseudo = raw_h2_server(vec![vec![STATUS_200, 0x84]], None); // :path /
    let run = same_as_blocking(&c, "HTTP/2 :path in a response", pseudo.https_url("/"), code::REMOTE_PROTOCOL);
    for (o, _) in &run.bad {
        assert!(o.as_ref().unwrap_err().1.contains("malformed response"), "{o:?}");
    }
    let mut head = vec![STATUS_200];
    for i in 0..150 {
        head.extend(hpack_literal(&format!("x-f{i}"), "v"));
    }
    let many = raw_h2_server(vec![head], None);
    same_as_blocking(&c, "HTTP/2 150 header fields", many.https_url("/"), code::REMOTE_PROTOCOL);
    // A peer that negotiated h2 and answers in HTTP/1.1 (no SETTINGS preface).
    let h1 = tls_fault_server(&[b"h2"], |mut tls| {
        let _ = read_at_least(&mut tls, 24);
        let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        let _ = tls.flush();
        std::thread::sleep(Duration::from_millis(200));
    });
    same_as_blocking(&c, "HTTP/2 peer answering HTTP/1.1", h1.https_url("/"), code::REMOTE_PROTOCOL);
    // The raw responder itself answers well-formed heads, through the multi too.
    let ok = raw_h2_server(vec![vec![STATUS_200]], None);
    same_as_blocking(&c, "HTTP/2 well-formed", ok.https_url("/"), code::OK);
}

//! The multi at scale (issue #18): 10,000 HTTP/1.1 transfers in flight on one multi,
//! one thread, against a local nginx that answers each after 0.5 s. Measures memory
//! per in-flight transfer (RSS delta / 10,000; must be <= 64 KiB) and client CPU per
//! request, printed for the benchmark notes.
mod common;
use common::*;

use std::process::Command;
use std::time::{Duration, Instant};

use httpx::multi::Multi;
use httpx::{Client, ClientConfig, Limits};

const N: usize = 10_000;

/// A private nginx for 10k connections (its own config: worker_connections and a
/// backlog large enough), with /sleep answering "ok" after 0.5 s (echo module).
fn start_nginx() -> (ManagedServer, u16) {
    let bin = require_tool_sbin("nginx", "apt-get install nginx-light");
    let module = ["/usr/lib/nginx/modules/ngx_http_echo_module.so", "/usr/share/nginx/modules/ngx_http_echo_module.so"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| format!("load_module {p};"))
        .expect("nginx echo module: apt-get install libnginx-mod-http-echo");
    let dir = unique_temp_dir("nginx-scale");
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    let port = free_port();
    let user = if unsafe { libc::geteuid() } == 0 { "user root;" } else { "" };
    let conf = format!(
        "{user}\n{module}\ndaemon off;\nmaster_process on;\nworker_processes 1;\nworker_rlimit_nofile 40000;\n\
         pid {d}/nginx.pid;\nerror_log {d}/error.log warn;\nevents {{ worker_connections 30000; multi_accept on; }}\n\
         http {{\n access_log off;\n client_body_temp_path {d}/tmp/body;\n proxy_temp_path {d}/tmp/proxy;\n\
         fastcgi_temp_path {d}/tmp/fastcgi;\n uwsgi_temp_path {d}/tmp/uwsgi;\n scgi_temp_path {d}/tmp/scgi;\n\
         keepalive_timeout 75s;\n server {{\n  listen 127.0.0.1:{port} backlog=16384;\n\
         location = /sleep {{ default_type text/plain; echo_sleep 0.5; echo -n ok; }}\n\
         location = / {{ default_type text/plain; return 200 ok; }}\n }}\n}}\n",
        d = dir.display()
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let mut cmd = Command::new(bin);
    cmd.arg("-p").arg(&dir).arg("-c").arg(dir.join("nginx.conf"));
    let s = ManagedServer::spawn("nginx-scale", dir, cmd, &["error.log"]).unwrap();
    s.wait_ready(Duration::from_secs(10), Duration::from_millis(20), || port_accepts(port))
        .unwrap_or_else(|e| panic!("nginx did not start: {}", e.logs));
    (s, port)
}

fn raise_nofile() -> u64 {
    let mut rl = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl);
        // As root (CI runs as root) the hard limit itself may be raised: try that first,
        // so a machine whose hard limit is 4096 or 8192 still runs the 10,000.
        let want = (N as u64 + 2000).max(rl.rlim_max);
        let raised = libc::rlimit { rlim_cur: want, rlim_max: want };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
            rl.rlim_cur = rl.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
        }
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl);
    }
    rl.rlim_cur
}

fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = s.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn cpu_secs() -> f64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(ru.ru_utime) + t(ru.ru_stime)
}

#[test]
fn ten_thousand_in_flight_on_one_thread() {
    let limit = raise_nofile();
    assert!(limit >= (N as u64) + 1000, "RLIMIT_NOFILE hard limit {limit} is below {}", N + 1000);
    let (_nginx, port) = start_nginx();
    let mut k = ClientConfig::default();
    k.set_trust_env(false);
    k.set_limits(Limits { max_connections: None, max_keepalive_connections: Some(0), ..Limits::default() }).unwrap();
    let c = Client::new(&k).unwrap();
    let url = format!("http://127.0.0.1:{port}/sleep");
    let req = c.build_request("GET", &url).unwrap();
    // Warm up (allocator, lazy statics) with a few transfers.
    {
        let mut m = Multi::new(&c).unwrap();
        for i in 0..50 {
            m.add(&req, i).unwrap();
        }
        let t0 = Instant::now();
        while m.perform(Some(Duration::from_millis(100))).unwrap() > 0 {
            assert!(t0.elapsed() < Duration::from_secs(10));
        }
        while m.next().is_some() {}
    }
    let rss0 = rss_bytes();
    let cpu0 = cpu_secs();
    let t0 = Instant::now();
    let mut m = Multi::new(&c).unwrap();
    for i in 0..N {
        m.add(&req, i as u64).unwrap();
    }
    let mut peak = rss0;
    let mut max_in_flight = 0usize;
    let mut done = 0usize;
    let mut failed = Vec::new();
    let mut peak_in_flight = 0u64;
    loop {
        assert!(t0.elapsed() < Duration::from_secs(60), "still running after 60 s: {done} done");
        let running = m.perform(Some(Duration::from_millis(50))).unwrap() as usize;
        let open = c.pool_stats().0;
        if open > max_in_flight {
            max_in_flight = open;
        }
        if done == 0 {
            let r = rss_bytes();
            if r > peak {
                peak = r;
                peak_in_flight = open as u64;
            }
        }
        while let Some(mut comp) = m.next() {
            done += 1;
            match comp.result.as_mut() {
                Ok(r) => assert_eq!(r.body().unwrap(), b"ok"),
                Err(e) => failed.push(format!("{}: {e}", comp.tag)),
            }
        }
        if running == 0 {
            break;
        }
    }
    let wall = t0.elapsed();
    let cpu = cpu_secs() - cpu0;
    assert!(failed.is_empty(), "{} failed, first: {:?}", failed.len(), &failed[..failed.len().min(3)]);
    assert_eq!(done, N);
    let per = (peak - rss0) as f64 / N as f64;
    println!(
        "multi scale: {N} transfers, at most {max_in_flight} connections open at once \
         ({peak_in_flight} when RSS peaked before the first completion), wall {:.2} s, \
         RSS delta {:.1} MiB = {:.1} KiB per in-flight transfer, client CPU {:.3} s = {:.1} us per request",
        wall.as_secs_f64(),
        (peak - rss0) as f64 / 1048576.0,
        per / 1024.0,
        cpu,
        cpu * 1e6 / N as f64
    );
    assert!(max_in_flight >= N * 9 / 10, "only {max_in_flight} in flight at once");
    assert!(per <= 64.0 * 1024.0, "{:.1} KiB per in-flight transfer", per / 1024.0);
}

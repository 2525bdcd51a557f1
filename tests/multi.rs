//! The multi interface (issue #18): many transfers of one client driven from one
//! thread, against the same real peers as the blocking tests.
mod common;
use common::*;

use std::time::{Duration, Instant};

use httpx::multi::{Completion, Multi};
use httpx::{Client, ClientConfig, Error};

/// Drive `m` until every transfer completed (bounded: `limit`), the way a caller's
/// loop does: wait for the fd / the timeout, perform, collect.
fn drive(m: &mut Multi, limit: Duration) -> Vec<Completion> {
    let until = Instant::now() + limit;
    let mut out = Vec::new();
    loop {
        let running = m.perform(Some(Duration::from_millis(200))).unwrap();
        while let Some(c) = m.next() {
            out.push(c);
        }
        if running == 0 {
            break;
        }
        assert!(Instant::now() < until, "transfers still running after {limit:?}");
    }
    while let Some(c) = m.next() {
        out.push(c);
    }
    out
}

fn client(cfg: ClientConfig) -> Client {
    Client::new(&cfg).unwrap()
}

fn ok_body(c: &mut Completion) -> String {
    let r = c.result.as_mut().unwrap_or_else(|e| panic!("transfer {} failed: {e}", c.tag));
    String::from_utf8(r.body().unwrap().to_vec()).unwrap()
}

#[test]
fn get_many_from_one_thread() {
    let n = nginx();
    let c = client(ClientConfig::default());
    let mut m = Multi::new(&c).unwrap();
    for i in 0..20u64 {
        let req = c.build_request("GET", &n.url("/status/200")).unwrap();
        m.add(&req, i).unwrap();
    }
    assert_eq!(m.running(), 20);
    let mut done = drive(&mut m, Duration::from_secs(20));
    assert_eq!(done.len(), 20);
    let mut tags: Vec<u64> = done.iter().map(|c| c.tag).collect();
    tags.sort();
    assert_eq!(tags, (0..20).collect::<Vec<_>>());
    for c in &mut done {
        assert_eq!(ok_body(c), "status 200");
    }
    // Connections went back to the client's pool.
    let (total, idle) = c.pool_stats();
    assert!(total > 0 && total == idle, "pool {total}/{idle}");
    let _ = Error::Internal(String::new());
}

//! Memory stays flat however large the answer: the harness reads at most its read limit.

mod common;

use common::{start, Behaviour};
use contract_tests::{run, Settings};
use std::time::Duration;

/// The process's peak resident memory, in KiB (Linux).
fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn huge_and_endless_answers_do_not_grow_memory() {
    let Some(before) = peak_kib() else {
        eprintln!("notice: no /proc/self/status here; memory test skipped");
        return;
    };
    for b in [Behaviour::Huge, Behaviour::EndlessChunks] {
        let t = start(b);
        let mut s = Settings::new(&t.url, Some("key".into()), "c1");
        s.cases = 8;
        s.timeout = Duration::from_secs(2);
        s.deadline = Duration::from_secs(6);
        // One answer in flight at a time: the bound below is for one read limit's worth.
        s.concurrency = 1;
        let r = run(&s);
        assert!(r.requests > 16, "{b:?}: {} requests", r.requests);
    }
    let after = peak_kib().unwrap();
    // 100 MB answers were sent dozens of times; reading them would add at least that much.
    assert!(
        after - before < 48 * 1024,
        "peak memory grew by {} KiB",
        after - before
    );
}

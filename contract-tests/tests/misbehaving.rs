//! The suite against targets that misbehave: every case ends within its bounds, with the verdict
//! that names what happened.

mod common;

use common::{start, Behaviour};
use contract_tests::{report, run, Report, Settings};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Runs a short suite: 300 ms per request, 4 s per run.
fn suite(url: &str) -> (Report, Duration) {
    let mut s = Settings::new(url, Some("key".into()), "c1");
    s.cases = 6;
    s.mutations_per_case = 1;
    s.timeout = Duration::from_millis(300);
    s.deadline = Duration::from_secs(4);
    s.readback_timeout = Duration::from_millis(100);
    s.read_limit = 256 * 1024;
    let started = Instant::now();
    let r = run(&s);
    (r, started.elapsed())
}

fn assert_bounded(elapsed: Duration) {
    assert!(
        elapsed < Duration::from_secs(8),
        "the run took {elapsed:?}, past its 4 s deadline"
    );
}

fn failed(r: &Report, check: &str) -> bool {
    r.violations.iter().any(|v| v.check.name == check)
}

#[test]
fn a_silent_target_times_out_within_the_deadline() {
    let t = start(Behaviour::Silent);
    let (r, elapsed) = suite(&t.url);
    assert_bounded(elapsed);
    assert_eq!(r.exit_code(), 1);
    let v = r
        .violations
        .iter()
        .find(|v| v.check.name == "target_answers")
        .expect("reported");
    assert!(v.message.contains("timeout"), "{}", v.message);
    assert!(r.stopped_early.is_some(), "the deadline cut the run short");
}

#[test]
fn a_stalled_body_times_out() {
    let t = start(Behaviour::Stall);
    let (r, elapsed) = suite(&t.url);
    assert_bounded(elapsed);
    assert!(failed(&r, "target_answers"), "{}", report::summary(&r, &[]));
}

#[test]
fn a_slow_target_within_the_timeout_passes_and_beyond_it_fails() {
    let t = start(Behaviour::Slow(Duration::from_millis(50)));
    let (r, elapsed) = suite(&t.url);
    assert_bounded(elapsed);
    assert!(
        !failed(&r, "target_answers"),
        "{}",
        report::summary(&r, &[])
    );
    let t = start(Behaviour::Slow(Duration::from_millis(600)));
    let (r, elapsed) = suite(&t.url);
    assert_bounded(elapsed);
    assert!(failed(&r, "target_answers"));
}

#[test]
fn refused_connections_mean_the_target_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (r, elapsed) = suite(&format!("http://127.0.0.1:{port}"));
    assert_bounded(elapsed);
    assert_eq!(r.exit_code(), 2);
    assert!(r.could_not_run.as_deref().unwrap().contains("unreachable"));
}

#[test]
fn resets_after_a_working_preflight_are_violations() {
    let t = start(Behaviour::Reset);
    let (r, elapsed) = suite(&t.url);
    assert_bounded(elapsed);
    assert_eq!(r.exit_code(), 1);
    let v = r
        .violations
        .iter()
        .find(|v| v.check.name == "target_answers")
        .expect("reported");
    assert!(
        matches!(&v.exchange.outcome, Err(f) if f.kind == "reset" || f.kind == "other"),
        "{:?}",
        v.exchange.outcome
    );
}

#[test]
fn an_html_500_is_a_server_error() {
    let t = start(Behaviour::Html500);
    let (r, elapsed) = suite(&t.url);
    assert_bounded(elapsed);
    assert!(failed(&r, "not_a_server_error"));
    let text = report::summary(&r, &[]);
    assert!(text.contains("500 <html>"), "{text}");
}

#[test]
fn invalid_json_and_lying_content_types_break_the_schema_check() {
    for b in [Behaviour::InvalidJson, Behaviour::LyingContentType] {
        let t = start(b);
        let (r, elapsed) = suite(&t.url);
        assert_bounded(elapsed);
        let v = r
            .violations
            .iter()
            .find(|v| v.check.name == "response_schema_conformance")
            .expect("reported");
        assert!(v.message.contains("not JSON"), "{b:?}: {}", v.message);
    }
}

#[test]
fn huge_and_endless_bodies_are_cut_at_the_read_limit() {
    for b in [Behaviour::Huge, Behaviour::EndlessChunks] {
        let t = start(b);
        let (r, elapsed) = suite(&t.url);
        assert_bounded(elapsed);
        let v = r
            .violations
            .iter()
            .find(|v| v.check.name == "response_schema_conformance")
            .expect("reported");
        let a = v.exchange.outcome.as_ref().expect("an answer");
        assert!(a.truncated, "{b:?}: the answer is marked as cut");
        assert!(
            v.message.contains("larger than the read limit"),
            "{b:?}: {}",
            v.message
        );
        assert!(report::summary(&r, &[]).contains("[cut]"));
    }
}

#[test]
fn retry_after_is_honoured_then_reported_when_too_long() {
    let t = start(Behaviour::RetryAfterThenFine);
    let (r, elapsed) = suite(&t.url);
    assert_bounded(elapsed);
    assert!(
        t.updates.load(Ordering::SeqCst) > 2,
        "the suite went on after waiting"
    );
    assert!(
        !r.violations
            .iter()
            .any(|v| v.exchange.status() == Some(429)),
        "{}",
        report::summary(&r, &[])
    );

    let t = start(Behaviour::RetryAfterTooLong);
    let (r, elapsed) = suite(&t.url);
    assert_bounded(elapsed);
    assert!(
        r.violations
            .iter()
            .any(|v| v.exchange.status() == Some(503)),
        "reported as it is"
    );
}

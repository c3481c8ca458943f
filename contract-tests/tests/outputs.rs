//! What the suite writes: reports in each format, and no secret in any of them.

use contract_tests::report;
use contract_tests::server::{self, Fault};
use contract_tests::{run, Settings};
use serde_json::Value;

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("contract-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The credential never appears in any output; the values the suite drew show as they were
/// sent, secret-marked ones included (test data: a reproducer that hid them would not reproduce).
#[test]
fn the_key_never_appears_and_drawn_values_show_as_sent() {
    let key = "super-secret-api-key-0123";
    let srv = server::spawn(key, &[Fault::EchoesSecret, Fault::BoundOffByOne]).unwrap();
    let dir = scratch("secrets");
    let mut s = Settings::new(&srv.url, Some(key.into()), server::CVM_ID);
    s.cases = 48;
    s.persist = Some(dir.join("failures.json"));
    let r = run(&s);
    assert!(
        r.failed("no_secret_echo"),
        "{}",
        report::summary(&r, &[key])
    );
    // The encrypted_env value the echo violation carried.
    let echo = r
        .violations
        .iter()
        .find(|v| v.check.name == "no_secret_echo")
        .unwrap();
    let drawn: Value = serde_json::from_str(echo.exchange.sent.body.as_deref().unwrap()).unwrap();
    let drawn = drawn["encrypted_env"].as_str().unwrap().to_string();

    let mut outputs = vec![("summary".to_string(), report::summary(&r, &[key]))];
    for fmt in ["json", "junit", "html"] {
        let path = dir.join(format!("report.{fmt}"));
        report::write(fmt, &path, &r, &[key]).unwrap();
        outputs.push((fmt.to_string(), std::fs::read_to_string(&path).unwrap()));
    }
    let persisted = std::fs::read_to_string(dir.join("failures.json")).unwrap();
    let entries: Value = serde_json::from_str(&persisted).unwrap();
    let bound = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["check"] == "negative_data_rejection" && e["field"] == "shutdown_timeout")
        .expect("the off-by-one bound is kept for replay");
    assert_eq!(
        bound["path"],
        serde_json::json!(["shutdown_timeout"]),
        "the broken field's path is kept"
    );
    // The file is the serde form of `Persisted`: read back, written again, the same entries.
    let loaded = contract_tests::runner::load_persisted(&dir.join("failures.json"));
    assert_eq!(loaded.len(), entries.as_array().unwrap().len());
    assert_eq!(serde_json::to_value(&loaded).unwrap(), entries);
    outputs.push(("persisted".into(), persisted));
    for (name, text) in &outputs {
        assert!(
            !text.contains(key),
            "{name} shows the API key in clear:\n{text}"
        );
        assert!(
            !text.contains("<redacted>"),
            "{name} hides a drawn value:\n{text}"
        );
    }
    // The summary's reproducer carries the key as a variable and the drawn value as sent.
    let summary = &outputs[0].1;
    assert!(summary.contains("$PHALA_API_KEY"), "{summary}");
    let as_json = serde_json::to_string(&drawn).unwrap();
    assert!(
        summary.contains(as_json.trim_matches('"')),
        "the drawn encrypted_env is shown:\n{summary}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reports_have_their_format() {
    let srv = server::spawn(server::DEFAULT_API_KEY, &[Fault::ServerErrorOnEdge]).unwrap();
    let mut s = Settings::new(
        &srv.url,
        Some(server::DEFAULT_API_KEY.into()),
        server::CVM_ID,
    );
    // Enough cases that the edge (1 in about 24 bodies) is drawn.
    s.cases = 96;
    let r = run(&s);
    let j = report::json(&r, &[]);
    assert_eq!(j["exit_code"], 1);
    assert_eq!(j["mode"], "full");
    assert_eq!(j["tls_verified"], true);
    let v = &j["violations"][0];
    assert_eq!(v["check"], "not_a_server_error");
    assert_eq!(v["answer"]["status"], 500);
    assert!(v["curl"].as_str().unwrap().starts_with("curl -sS -X PATCH"));
    assert!(j["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["field"] == "shutdown_timeout" && c["rule"] == "below_minimum"));

    let x = report::junit(&r, &[]);
    assert!(x.starts_with("<?xml"));
    // One failing case per cause, named by its check, with its least request.
    assert!(
        x.contains(
            "<testcase classname=\"not_a_server_error\" name=\"cause 1: not_a_server_error (5xx, 1 operation(s))\">"
        ),
        "{x}"
    );
    assert_eq!(
        x.matches("<failure ").count(),
        j["cause_count"].as_u64().unwrap() as usize
    );
    assert_eq!(j["failure_count"], 1, "one bug, one failure: {j}");
    assert_eq!(j["cause_count"], 1, "one bug, one cause: {j}");
    // Shrunk to the edge alone: the least request the server error needs.
    let least = &j["causes"][0]["reproducers"][0];
    assert_eq!(
        least["request"]["body"], r#"{"shutdown_timeout":1200}"#,
        "{least}"
    );
    assert_eq!(least["answer"]["status"], 500);
    assert!(
        x.contains(
            "<failure message=\"update_cvm answered 500 to requests with body shutdown_timeout\""
        ),
        "{x}"
    );
    assert!(x.contains("classname=\"negative_data_rejection\" name=\"negative_data_rejection[shutdown_timeout]\"/>"));

    let h = report::html(&r, &[]);
    assert!(h.starts_with("<!DOCTYPE html>") && h.contains("<table id=\"coverage\">"));
    assert!(h.contains("<td class=\"bad\">"), "the failing cell is red");
    assert!(h.contains("curl -sS -X PATCH"));
}

/// `cargo test -p contract-tests` runs the suite against the server named by the environment
/// (CONTRACT_TARGET, PHALA_API_KEY, CONTRACT_CVM_ID...), as `cargo xtask contract --target` does.
#[test]
fn the_target_from_the_environment_passes() {
    let Ok(target) = std::env::var("CONTRACT_TARGET") else {
        eprintln!("CONTRACT_TARGET not set: the suite runs against the embedded server in tests/reference.rs");
        return;
    };
    let cvm = std::env::var("CONTRACT_CVM_ID").expect("CONTRACT_CVM_ID with CONTRACT_TARGET");
    let mut s = Settings::new(&target, std::env::var("PHALA_API_KEY").ok(), &cvm);
    s.onchain_cvm_id = std::env::var("CONTRACT_ONCHAIN_CVM_ID").ok();
    if let Some(n) = std::env::var("CONTRACT_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
    {
        s.cases = n;
    }
    let key = s.api_key.clone().unwrap_or_default();
    let r = run(&s);
    assert_eq!(r.exit_code(), 0, "{}", report::summary(&r, &[&key]));
}

#[test]
fn request_budget_and_rate_limit_hold() {
    let srv = server::spawn(server::DEFAULT_API_KEY, &[]).unwrap();
    let mut s = Settings::new(
        &srv.url,
        Some(server::DEFAULT_API_KEY.into()),
        server::CVM_ID,
    );
    s.cases = 1000;
    s.max_requests = Some(40);
    let r = run(&s);
    assert!(r.requests <= 40, "{} requests", r.requests);
    assert!(
        r.stopped_early
            .as_deref()
            .unwrap()
            .contains("--max-requests"),
        "{:?}",
        r.stopped_early
    );
    assert_eq!(r.exit_code(), 0, "a budget cut is not a violation");

    s.max_requests = Some(21);
    s.rate = Some(50.0);
    let started = std::time::Instant::now();
    let r = run(&s);
    assert!(r.requests <= 21);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(380),
        "20 gaps of 20 ms: {:?}",
        started.elapsed()
    );
}

#[test]
fn an_unverified_tls_run_says_so() {
    let srv = server::spawn(server::DEFAULT_API_KEY, &[]).unwrap();
    let mut s = Settings::new(
        &srv.url,
        Some(server::DEFAULT_API_KEY.into()),
        server::CVM_ID,
    );
    s.cases = 2;
    s.insecure = true;
    let r = run(&s);
    assert!(report::summary(&r, &[]).contains("TLS certificates were NOT verified (--insecure)"));
    assert_eq!(report::json(&r, &[])["tls_verified"], false);
    assert!(report::html(&r, &[]).contains("not verified (--insecure)"));
}

/// Requests sent at once share the budget: none goes beyond it, however they interleave with
/// their pacing.
#[test]
fn requests_sent_at_once_stay_within_the_budget() {
    use contract_tests::http::{Auth, Target, TargetOptions};
    use std::time::{Duration, Instant};
    let srv = server::spawn(server::DEFAULT_API_KEY, &[]).unwrap();
    let target = Target::new(TargetOptions {
        base_url: srv.url.clone(),
        api_key: Some(server::DEFAULT_API_KEY.into()),
        shown: Default::default(),
        timeout: Duration::from_secs(5),
        rate: Some(200.0),
        max_requests: Some(5),
        deadline: Instant::now() + Duration::from_secs(30),
        read_limit: 1 << 20,
        insecure: false,
        other_api_key: None,
        basic: None,
        other_basic: None,
        headers: Vec::new(),
        other_headers: Vec::new(),
        max_retry_after: Duration::from_secs(1),
    })
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let path = format!("/api/v1/cvms/{}", server::CVM_ID);
    let sent = rt.block_on(futures_util::future::join_all(
        (0..12).map(|_| target.send("GET", &path, &[], None, Auth::Key)),
    ));
    assert_eq!(sent.iter().filter(|r| r.is_ok()).count(), 5);
    assert_eq!(target.requests(), 5);
}

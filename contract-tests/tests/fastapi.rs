//! The suite against a real FastAPI + Pydantic v2 server (targets/fastapi_app.py): no violation on
//! the correct implementation, the planted bug found on the broken one. Skipped, with a notice,
//! where Python lacks fastapi and uvicorn (`.ci/run` installs them).

use contract_tests::{report, run, Settings};

mod uvicorn;
use uvicorn::{python_has_fastapi, Server};

fn start(broken: bool) -> Server {
    start_with(&[("BROKEN", if broken { "1" } else { "0" })])
}

fn start_with(env: &[(&str, &str)]) -> Server {
    let mut all = vec![("API_KEY", "fastapi-key")];
    all.extend_from_slice(env);
    uvicorn::start("fastapi_app:app", &all)
}

fn settings(url: &str) -> Settings {
    let mut s = Settings::new(url, Some("fastapi-key".into()), "cvm-1");
    s.onchain_cvm_id = Some("cvm-onchain".into());
    s.cases = 96;
    s.seed = 3;
    s
}

#[test]
fn a_correct_fastapi_server_passes_and_a_broken_one_fails() {
    if !python_has_fastapi() {
        eprintln!("notice: python3 with fastapi and uvicorn not found; FastAPI target skipped (pip install fastapi uvicorn)");
        return;
    }
    let good = start(false);
    let r = run(&settings(&good.url));
    let text = report::summary(&r, &["fastapi-key"]);
    assert_eq!(
        r.exit_code(),
        0,
        "false positive on a correct FastAPI server:\n{text}"
    );
    assert!(r.per_check.get("patch_semantics").copied().unwrap_or(0) > 0);
    assert!(
        r.per_check.get("header_flows").copied().unwrap_or(0) >= 4,
        "{text}"
    );
    // Pydantic's lax mode reads "4" as 4: a warning, not a failure.
    assert!(
        r.warnings
            .iter()
            .all(|w| w.check.name == "negative_data_rejection"),
        "{text}"
    );

    let broken = start(true);
    let r = run(&settings(&broken.url));
    let text = report::summary(&r, &["fastapi-key"]);
    assert_eq!(r.exit_code(), 1, "{text}");
    let v = r
        .violations
        .iter()
        .find(|v| v.check.name == "negative_data_rejection")
        .expect("the off-by-one bound");
    assert_eq!(
        (v.field.as_str(), v.rule),
        ("shutdown_timeout", Some("below_minimum")),
        "{text}"
    );
    assert_eq!(
        v.exchange.sent.body.as_deref(),
        Some(r#"{"shutdown_timeout":9}"#)
    );
}

/// Two planted bugs, one of which makes uvicorn close the connection after its 500: exactly one
/// failure per bug, no lost answer blamed on the server, and every reproducer reproduces.
#[test]
fn a_crashing_fastapi_server_gets_one_failure_per_bug_that_reproduces() {
    if !python_has_fastapi() {
        eprintln!("notice: python3 with fastapi and uvicorn not found; FastAPI target skipped (pip install fastapi uvicorn)");
        return;
    }
    let server = start_with(&[("BROKEN", "1"), ("CRASH", "1")]);
    let r = run(&settings(&server.url));
    let text = report::summary(&r, &["fastapi-key"]);
    assert_eq!(r.exit_code(), 1, "{text}");
    let failures = r.failures();
    let causes = contract_tests::triage::causes(&r);
    assert_eq!(causes.len(), 2, "one cause per bug:\n{text}");
    assert!(r.flaky.is_empty(), "{text}");
    assert!(
        r.violations
            .iter()
            .all(|v| v.check.name != "target_answers"),
        "{text}"
    );
    // The crash: every failure of its cause sets `image`, and its least request is `image`
    // alone.
    let crash = causes
        .iter()
        .find(|c| c.check == "not_a_server_error")
        .expect("the crash");
    for (f, _) in &crash.failures {
        let body = f.first().exchange.sent.body.as_deref().unwrap_or("");
        assert!(body.contains("\"image\""), "{text}");
    }
    let least = crash.reproducers()[0].1.shrunk.minimal().expect("shrunk");
    assert_eq!(least.needed_names(), ["body image"], "{text}");
    let bound = causes
        .iter()
        .find(|c| c.check == "negative_data_rejection")
        .expect("the off-by-one bound");
    assert_eq!(bound.failures.len(), 1, "{text}");
    assert_eq!(
        bound.failures[0].0.first().exchange.sent.body.as_deref(),
        Some(r#"{"shutdown_timeout":9}"#)
    );
    // Each cause's least request, sent on its own fresh connection as curl would, gets the same
    // status; so does each failure's request as found.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut sent: Vec<(&contract_tests::http::Sent, u16)> = Vec::new();
    for c in &causes {
        for (_, v) in c.reproducers() {
            let least = v.shrunk.minimal().map_or(&v.exchange, |m| &m.exchange);
            sent.push((&least.sent, least.status().expect("an answer was reported")));
        }
    }
    for f in &failures {
        let v = f.first();
        sent.push((
            &v.exchange.sent,
            v.exchange.status().expect("an answer was reported"),
        ));
    }
    for (s, want) in sent {
        let got = rt.block_on(async {
            client
                .patch(format!("{}{}", server.url, s.path))
                .header("X-API-Key", "fastapi-key")
                .header("Content-Type", "application/json")
                .body(s.body.clone().unwrap_or_default())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
        assert_eq!(got, want, "{}: {text}", s.body.as_deref().unwrap_or(""));
    }
}

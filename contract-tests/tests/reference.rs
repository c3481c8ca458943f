//! The suite against the embedded reference server: it passes as built, and it fails, naming the
//! right check, against each deliberate fault.

use contract_tests::server::{self, Fault};
use contract_tests::{run, Mode, Settings};

fn settings(url: &str, cases: u32) -> Settings {
    let mut s = Settings::new(url, Some(server::DEFAULT_API_KEY.into()), server::CVM_ID);
    s.onchain_cvm_id = Some(server::ONCHAIN_CVM_ID.into());
    s.cases = cases;
    s.seed = 7;
    // Opt-in, and generous: on loopback every answer is well within it.
    s.max_response_time = Some(std::time::Duration::from_secs(10));
    s
}

#[test]
fn the_reference_server_honours_the_contract() {
    let srv = server::spawn(server::DEFAULT_API_KEY, &[]).unwrap();
    let report = run(&settings(&srv.url, 64));
    let text = contract_tests::report::summary(&report, &[]);
    assert_eq!(report.exit_code(), 0, "{text}");
    assert_eq!(report.mode, "full");
    assert_eq!(report.cases, 64);
    // A resource's lifecycle checks need a document that creates and deletes (spec/ does neither,
    // nor declares `If-Match`);
    // a key the target refuses stops spec/'s suite at its preflight (could not run) rather than
    // being `missing_auth`, which the suite on any document reports.
    let lifecycle = [
        "rejection_changes_nothing",
        "ensure_resource_availability",
        "use_after_free",
        "pagination_consistency",
        "object_level_authorization",
        "conditional_requests",
        "unique_values",
        "nested_resources",
        "missing_auth",
    ];
    for check in contract_tests::checks::ALL {
        if !lifecycle.contains(&check.name) {
            assert!(
                report.per_check.get(check.name).copied().unwrap_or(0) > 0,
                "{} never ran\n{text}",
                check.name
            );
        }
    }
    // Every kind of value sent to a field that reads back (null, left out, each edge, each
    // boolean) was shown applied by a read-back: a prompt target verifies each as it goes.
    assert!(!report.verified.is_empty(), "{text}");
    for (field, kinds) in &report.verified {
        for (kind, (sent, shown)) in kinds {
            assert!(
                *sent > 0 && *shown > 0,
                "{field} {kind}: {sent} sent, {shown} shown\n{text}"
            );
        }
        assert!(
            kinds.contains_key("absent"),
            "{field}: never left out\n{text}"
        );
        assert!(kinds.len() >= 3, "{field}: too few kinds sent\n{text}");
    }
    println!("{text}");
}

/// Against a target that applies updates late, a run verifies the kinds of value its last
/// read-backs show; `--verify-every-kind` sends the rest again, in rounds, until every kind sent
/// is shown applied.
#[test]
fn every_kind_of_value_is_verified_against_a_late_target_when_asked() {
    let timing = server::Timing {
        apply_delay: std::time::Duration::from_millis(300),
        ..Default::default()
    };
    let unverified = |r: &contract_tests::Report| -> Vec<String> {
        r.verified
            .iter()
            .flat_map(|(f, kinds)| {
                kinds
                    .iter()
                    .filter(|(_, (_, shown))| *shown == 0)
                    .map(move |(k, _)| format!("{f} {k}"))
            })
            .collect()
    };
    let srv = server::spawn_with(0, server::DEFAULT_API_KEY, &[], timing).unwrap();
    let mut s = settings(&srv.url, 64);
    s.readback_timeout = std::time::Duration::from_secs(3);
    let plain = run(&s);
    assert_eq!(plain.exit_code(), 0);
    assert!(
        !unverified(&plain).is_empty(),
        "a late target verifies only what its last read-backs show"
    );
    let srv = server::spawn_with(0, server::DEFAULT_API_KEY, &[], timing).unwrap();
    let mut s = settings(&srv.url, 64);
    s.readback_timeout = std::time::Duration::from_secs(3);
    s.verify_every_kind = true;
    let all = run(&s);
    let text = contract_tests::report::summary(&all, &[]);
    assert_eq!(all.exit_code(), 0, "{text}");
    assert!(
        unverified(&all).is_empty(),
        "{:?}\n{text}",
        unverified(&all)
    );
}

/// Runs the suite against a server with one fault.
fn against(fault: Fault) -> contract_tests::Report {
    let srv = server::spawn(server::DEFAULT_API_KEY, &[fault]).unwrap();
    let mut s = settings(&srv.url, 48);
    s.readback_timeout = std::time::Duration::from_millis(30);
    run(&s)
}

#[test]
fn every_fault_is_caught_by_the_right_check() {
    let expected = [
        (
            Fault::BoundOffByOne,
            "negative_data_rejection",
            Some("shutdown_timeout"),
        ),
        (
            Fault::NullRejected,
            "positive_data_acceptance",
            Some("shutdown_timeout"),
        ),
        (Fault::AbsentCleared, "patch_semantics", None),
        (Fault::PresentIgnored, "patch_semantics", Some("memory")),
        (
            Fault::OkInsteadOfAccepted,
            "status_code_conformance",
            Some("(status 200)"),
        ),
        (
            Fault::ValidationWithoutDetail,
            "validation_error_names_field",
            None,
        ),
        (Fault::ServerErrorOnEdge, "not_a_server_error", None),
        (Fault::AuthNotEnforced, "ignored_auth", None),
        (
            Fault::AcceptedWithoutCorrelationId,
            "response_schema_conformance",
            Some("(status 202)"),
        ),
        (Fault::EchoesSecret, "no_secret_echo", None),
        // Found first by the breadth phase's undeclared key at the top of a full body.
        (Fault::ExtraKeyServerError, "not_a_server_error", None),
        (
            Fault::UnknownIdAccepted,
            "unknown_id_not_found",
            Some("(unknown id)"),
        ),
    ];
    assert_eq!(
        expected.len(),
        Fault::ALL.len(),
        "every fault has an expectation"
    );
    for (fault, check, field) in expected {
        let report = against(fault);
        let text = contract_tests::report::summary(&report, &[]);
        assert_eq!(
            report.exit_code(),
            1,
            "{} went unnoticed:\n{text}",
            fault.name()
        );
        let hit = report.violations.iter().find(|v| v.check.name == check);
        let hit = hit.unwrap_or_else(|| panic!("{}: no {check} violation:\n{text}", fault.name()));
        if let Some(field) = field {
            assert_eq!(hit.field, field, "{}:\n{text}", fault.name());
        }
        // One bug, one failure: every unknown id gets the same 202.
        if fault == Fault::UnknownIdAccepted {
            assert_eq!(report.failures().len(), 1, "{text}");
        }
    }
}

#[test]
fn violations_are_shrunk_to_a_minimal_body() {
    let report = against(Fault::ServerErrorOnEdge);
    let v = report
        .violations
        .iter()
        .find(|v| v.check.name == "not_a_server_error")
        .expect("found");
    assert_eq!(
        v.exchange.sent.body.as_deref(),
        Some(r#"{"shutdown_timeout":1200}"#)
    );
    let report = against(Fault::PresentIgnored);
    let v = report
        .violations
        .iter()
        .find(|v| v.check.name == "patch_semantics")
        .expect("found");
    let body: serde_json::Value =
        serde_json::from_str(v.exchange.sent.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["memory"],
        "{body}"
    );
}

#[test]
fn a_negative_run_leaves_the_state_as_it_was() {
    let srv = server::spawn(server::DEFAULT_API_KEY, &[]).unwrap();
    let before = reqwest::blocking_get(&srv.url);
    let mut s = settings(&srv.url, 32);
    s.mode = Mode::Negative;
    let report = run(&s);
    assert_eq!(
        report.exit_code(),
        0,
        "{}",
        contract_tests::report::summary(&report, &[])
    );
    assert!(
        report
            .per_check
            .get("rejection_changes_nothing")
            .copied()
            .unwrap_or(0)
            > 0
    );
    assert_eq!(
        report.per_check.get("positive_data_acceptance"),
        None,
        "no valid body was sent"
    );
    assert_eq!(reqwest::blocking_get(&srv.url), before);
}

#[test]
fn an_unreachable_target_cannot_run() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let report = run(&settings(&format!("http://127.0.0.1:{port}"), 8));
    assert_eq!(report.exit_code(), 2);
    assert!(
        report
            .could_not_run
            .as_deref()
            .unwrap()
            .starts_with("target unreachable"),
        "{:?}",
        report.could_not_run
    );
}

mod reqwest {
    /// The CVM as the server holds it, read without the harness.
    pub fn blocking_get(url: &str) -> serde_json::Value {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let c = ::reqwest::Client::new();
            let mut all = serde_json::Map::new();
            for id in [super::server::CVM_ID, super::server::ONCHAIN_CVM_ID] {
                let r = c
                    .get(format!("{url}/api/v1/cvms/{id}"))
                    .header("x-api-key", super::server::DEFAULT_API_KEY)
                    .send()
                    .await
                    .unwrap();
                all.insert(id.into(), r.json().await.unwrap());
            }
            serde_json::Value::Object(all)
        })
    }
}

/// A passing glitch (one 500 to a valid update) is sent again before it is reported: it does not
/// happen again, so it is marked flaky, and, being a server error, it still fails the run.
#[test]
fn a_server_error_that_does_not_reproduce_is_flaky_and_still_fails_the_run() {
    let timing = server::Timing {
        blip_at: Some(12),
        ..Default::default()
    };
    let srv = server::spawn_with(0, server::DEFAULT_API_KEY, &[], timing).unwrap();
    let report = run(&settings(&srv.url, 32));
    let text = contract_tests::report::summary(&report, &[]);
    assert_eq!(report.exit_code(), 1, "{text}");
    assert!(report.violations.is_empty(), "{text}");
    assert!(
        report
            .flaky
            .iter()
            .any(|v| v.check.name == "not_a_server_error"),
        "{text}"
    );
    assert!(
        text.contains("flaky not_a_server_error")
            && text.contains("a server error fails the run all the same"),
        "{text}"
    );
    let junit = contract_tests::report::junit(&report, &[]);
    assert!(
        junit.contains("failures=\"1\"") && junit.contains("flaky (sent again"),
        "{junit}"
    );
}

/// A target that shows updates only after a delay (and, with `busy`, answers 409 meanwhile).
fn slow(faults: &[Fault], delay_ms: u64, busy: bool, cases: u32) -> contract_tests::Report {
    let timing = server::Timing {
        apply_delay: std::time::Duration::from_millis(delay_ms),
        busy_conflict: busy,
        ..Default::default()
    };
    let srv = server::spawn_with(0, server::DEFAULT_API_KEY, faults, timing).unwrap();
    let mut s = settings(&srv.url, cases);
    s.readback_timeout = std::time::Duration::from_secs(3);
    run(&s)
}

/// Updates shown a second late cost one wait per run, not one per case: the run passes, checks
/// read-back, and sends about as many requests as against a prompt server (wall time is measured
/// by `cargo xtask bench`, not here).
#[test]
fn a_slow_target_passes_without_a_wait_per_case() {
    let prompt = slow(&[], 0, false, 96);
    let late = slow(&[], 1000, false, 96);
    let text = contract_tests::report::summary(&late, &[]);
    assert_eq!(late.exit_code(), 0, "{text}");
    assert!(
        late.per_check.get("patch_semantics").copied().unwrap_or(0) > 0,
        "{text}"
    );
    assert!(
        late.requests <= prompt.requests + 64,
        "{} requests against the slow target, {} against the prompt one:\n{text}",
        late.requests,
        prompt.requests
    );
    // The random cases' mutations, held back until the valid updates are sent, are all sent.
    let negatives =
        |r: &contract_tests::Report| r.per_check.get("negative_data_rejection").copied();
    assert_eq!(negatives(&late), negatives(&prompt), "{text}");
    // Busy for every update but the first: clean, and one update is still read back.
    let busy = slow(&[], 1000, true, 96);
    let text = contract_tests::report::summary(&busy, &[]);
    assert_eq!(busy.exit_code(), 0, "{text}");
    assert!(
        busy.per_check.get("patch_semantics").copied().unwrap_or(0) > 0,
        "{text}"
    );
}

/// Under the same delay, a server that ignores a field is still caught, on that field, with a
/// small body.
#[test]
fn a_slow_target_that_ignores_a_field_is_caught() {
    let r = slow(&[Fault::PresentIgnored], 300, false, 48);
    let text = contract_tests::report::summary(&r, &[]);
    assert_eq!(r.exit_code(), 1, "{text}");
    let v = r
        .violations
        .iter()
        .find(|v| v.check.name == "patch_semantics")
        .unwrap_or_else(|| panic!("not caught:\n{text}"));
    assert_eq!(v.field, "memory", "{text}");
    let body: serde_json::Value =
        serde_json::from_str(v.exchange.sent.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["memory"],
        "{body}"
    );
}

/// Whether a fault is caught may not depend on the seed. Each seed here missed one of these
/// faults before: a bug on a range's edge was found only when a random body happened to carry
/// the edge (missed under 3 seeds of 31), and fields reset when left out only when the run's
/// last updates happened to leave them out (missed under 7 of 31; under a 0.2 s apply delay,
/// 17 of 41). The clean server must pass under every seed, prompt, late and busy.
#[test]
fn faults_are_caught_whatever_the_seed() {
    let caught = |r: &contract_tests::Report, what: &str| {
        let text = contract_tests::report::summary(r, &[]);
        assert_eq!(r.exit_code(), 1, "{what} went unnoticed:\n{text}");
    };
    for seed in [0, 2, 3, 4, 5, 9, 10, 13] {
        for fault in [Fault::ServerErrorOnEdge, Fault::AbsentCleared] {
            let srv = server::spawn(server::DEFAULT_API_KEY, &[fault]).unwrap();
            let mut s = settings(&srv.url, 48);
            s.seed = seed;
            s.readback_timeout = std::time::Duration::from_millis(300);
            caught(&run(&s), &format!("{} (seed {seed})", fault.name()));
        }
        for (fault, busy) in [
            (None, false),
            (None, true),
            (Some(Fault::AbsentCleared), false),
            (Some(Fault::PresentIgnored), false),
        ] {
            let timing = server::Timing {
                apply_delay: std::time::Duration::from_millis(100),
                busy_conflict: busy,
                ..Default::default()
            };
            let faults: Vec<Fault> = fault.into_iter().collect();
            let srv = server::spawn_with(0, server::DEFAULT_API_KEY, &faults, timing).unwrap();
            let mut s = settings(&srv.url, 48);
            s.seed = seed;
            s.readback_timeout = std::time::Duration::from_millis(800);
            let r = run(&s);
            match fault {
                Some(f) => caught(&r, &format!("{} late (seed {seed})", f.name())),
                None => {
                    let text = contract_tests::report::summary(&r, &[]);
                    assert_eq!(r.exit_code(), 0, "seed {seed}, busy {busy}:\n{text}");
                }
            }
        }
    }
}

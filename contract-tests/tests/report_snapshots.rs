//! The report writers, snapshot-tested on a fixed report: any change to what they write shows as a
//! diff here. `UPDATE_SNAPSHOTS=1 cargo test -p contract-tests --test report_snapshots` rewrites them.

use contract_tests::checks;
use contract_tests::http::{Answer, Auth, Credential, Exchange, Failure, Sent, Shown};
use contract_tests::report;
use contract_tests::runner::{Report, Violation};
use contract_tests::triage::{Minimal, Part, Shrunk};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn fixed_report() -> Report {
    let sent = |body: &str| Sent {
        method: "PATCH",
        path: "/api/v1/cvms/cvm-1".into(),
        headers: vec![],
        auth: Auth::Key,
        body: Some(body.into()),
        shown: Arc::new(Shown {
            credential: Credential::Header("X-API-Key".into()),
            secret_fields: vec!["encrypted_env".into()],
            ..Shown::default()
        }),
    };
    let answer = |status: u16, body: &str| Answer {
        status,
        content_type: Some("application/json".into()),
        retry_after: None,
        body: body.as_bytes().to_vec(),
        truncated: false,
        elapsed: Duration::from_millis(2),
        headers: Vec::new(),
    };
    let violation = Violation {
        check: checks::NEGATIVE_DATA_REJECTION,
        field: "shutdown_timeout".into(),
        rule: Some("below_minimum"),
        message: "a body breaking `below_minimum` on shutdown_timeout got 202, not 422".into(),
        exchange: Exchange {
            sent: sent(r#"{"shutdown_timeout":9,"encrypted_env":"c0ffee-secret"}"#),
            outcome: Ok(answer(
                202,
                r#"{"status":"accepted","correlation_id":"corr-1"}"#,
            )),
        },
        valid_body: false,
        path: vec![],
        seed: 7,
        preceding: Vec::new(),
        operation: "update_cvm".into(),
        shrunk: Shrunk::Kept("a test's own finding".into()),
    };
    let lost = Violation {
        check: checks::TARGET_ANSWERS,
        field: "(request)".into(),
        rule: None,
        message: "no answer (timeout): no complete answer within 1s".into(),
        exchange: Exchange {
            sent: sent("{}"),
            outcome: Err(Failure {
                kind: "timeout",
                message: "no complete answer within 1s".into(),
            }),
        },
        valid_body: true,
        path: vec![],
        seed: 7,
        preceding: Vec::new(),
        operation: "update_cvm".into(),
        shrunk: Shrunk::Kept("a test's own finding".into()),
    };
    let warning = Violation {
        check: checks::NEGATIVE_DATA_REJECTION,
        field: "vcpu".into(),
        rule: Some("wrong_type"),
        message: "a body breaking `wrong_type` on vcpu got 202, not 422 (coerced)".into(),
        exchange: Exchange {
            sent: sent(r#"{"vcpu":"4"}"#),
            outcome: Ok(answer(202, "{}")),
        },
        valid_body: false,
        path: vec![],
        seed: 7,
        preceding: Vec::new(),
        operation: "update_cvm".into(),
        shrunk: Shrunk::Kept("a test's own finding".into()),
    };
    // One bug, two checks: a 500 to a valid body is one failure; shrunk, it needs `vcpu` alone.
    let crash = Violation {
        check: checks::NOT_A_SERVER_ERROR,
        field: "(body)".into(),
        rule: None,
        message: "a valid body got 500".into(),
        exchange: Exchange {
            sent: sent(r#"{"vcpu":4,"name":"box"}"#),
            outcome: Ok(answer(500, "Internal Server Error")),
        },
        valid_body: true,
        path: vec![],
        seed: 7,
        preceding: Vec::new(),
        operation: "update_cvm".into(),
        shrunk: Shrunk::Done(Box::new(Minimal {
            exchange: Exchange {
                sent: sent(r#"{"vcpu":4}"#),
                outcome: Ok(answer(500, "Internal Server Error")),
            },
            needed: vec![Part::Key(vec!["vcpu".into()])],
            broken: Vec::new(),
            tries: 3,
            complete: true,
            passing: Vec::new(),
        })),
    };
    let undocumented = Violation {
        check: checks::STATUS_CODE_CONFORMANCE,
        field: "(status)".into(),
        message: "500 is not a documented status".into(),
        ..crash.clone()
    };
    let mut coverage: BTreeMap<(String, String), BTreeMap<String, u64>> = BTreeMap::new();
    let mut cover = |f: &str, r: &str, status: &str, n: u64| {
        coverage
            .entry((f.into(), r.into()))
            .or_default()
            .insert(status.into(), n);
    };
    cover("shutdown_timeout", "value", "202", 12);
    cover("shutdown_timeout", "null", "202", 5);
    cover("shutdown_timeout", "below_minimum", "202", 1);
    cover("shutdown_timeout", "below_minimum", "422", 3);
    cover("vcpu", "wrong_type", "202", 2);
    cover("vcpu", "wrong_type", "error", 1);
    Report {
        target: "http://127.0.0.1:8080".into(),
        mode: "full",
        seed: 7,
        insecure: false,
        cases: 10,
        cases_planned: 10,
        requests: 24,
        elapsed: Duration::from_millis(1500),
        violations: vec![violation, crash, lost.clone(), undocumented],
        flaky: vec![Violation {
            check: checks::NOT_A_SERVER_ERROR,
            field: "vcpu".into(),
            message: "a valid body got 500 once".into(),
            ..lost
        }],
        warnings: vec![warning],
        title: "update_cvm contract".into(),
        operations: 1,
        operation_names: vec!["update_cvm".into()],
        skipped: Vec::new(),
        per_check: [("negative_data_rejection", 6), ("target_answers", 24)]
            .into_iter()
            .collect(),
        judged: [
            ("negative_data_rejection", "shutdown_timeout", 4),
            ("negative_data_rejection", "vcpu", 2),
            ("target_answers", "(request)", 24),
        ]
        .into_iter()
        .fold(BTreeMap::new(), |mut m, (check, field, n)| {
            m.entry(check)
                .or_insert_with(BTreeMap::new)
                .insert(field.to_string(), n);
            m
        }),
        per_field: [
            ("shutdown_timeout".to_string(), 21),
            ("vcpu".to_string(), 3),
        ]
        .into_iter()
        .collect(),
        coverage,
        verified: [(
            "shutdown_timeout".to_string(),
            [
                ("minimum".to_string(), (2, 1)),
                ("null".to_string(), (1, 0)),
            ]
            .into_iter()
            .collect(),
        )]
        .into_iter()
        .collect(),
        stopped_early: None,
        could_not_run: None,
        held: Vec::new(),
        documented: [(
            "update_cvm".to_string(),
            contract_tests::statuses::Documented {
                statuses: vec![202, 404, 422],
                secured: true,
                names_an_item: true,
                takes_a_body: true,
                ..Default::default()
            },
        )]
        .into_iter()
        .collect(),
        credential: true,
        answers: [(
            "update_cvm".to_string(),
            [(202, 20), (500, 2)].into_iter().collect(),
        )]
        .into_iter()
        .collect(),
    }
}

#[test]
fn every_report_counts_failures_not_violations() {
    let r = fixed_report();
    assert_eq!(r.violations.len(), 4);
    let failures = r.failures();
    assert_eq!(failures.len(), 3);
    assert_eq!(
        failures[1].checks(),
        vec!["not_a_server_error", "status_code_conformance"]
    );
    // The timeout and the flaky one (no answer, once) are one server error of update_cvm.
    assert!(report::summary(&r, &[]).contains("3 cause(s), 3 failure(s) (4 violation(s))"));
    assert_eq!(report::json(&r, &[])["failure_count"], 3);
    assert_eq!(report::json(&r, &[])["cause_count"], 3);
    // One JUnit case per cause.
    let junit = report::junit(&r, &[]);
    assert!(junit.contains("failures=\"3\""), "{junit}");
    assert_eq!(junit.matches("<failure ").count(), 3);
    assert_eq!(junit.matches("<skipped ").count(), 0);
    assert!(report::html(&r, &[]).contains("3 failure(s) (4 violation(s))"));
}

fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing; run with UPDATE_SNAPSHOTS=1", path.display()));
    assert!(
        actual == expected,
        "{name} changed; diff it against {} (UPDATE_SNAPSHOTS=1 to accept)\n{actual}",
        path.display()
    );
}

#[test]
fn writers_match_their_snapshots() {
    let r = fixed_report();
    let key = ["test-api-key"];
    snapshot("summary.txt", &report::summary(&r, &key));
    snapshot(
        "report.json",
        &(serde_json::to_string_pretty(&report::json(&r, &key)).unwrap() + "\n"),
    );
    snapshot("junit.xml", &report::junit(&r, &key));
    snapshot("report.html", &report::html(&r, &key));
    for text in [
        report::summary(&r, &key),
        report::junit(&r, &key),
        report::html(&r, &key),
    ] {
        // The key is hidden; the drawn encrypted_env value is test data and shows as sent.
        assert!(!text.contains("test-api-key"), "the key is hidden");
        assert!(
            text.contains("c0ffee-secret"),
            "the drawn encrypted_env value shows"
        );
    }
}

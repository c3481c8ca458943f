//! Faults generated from spec/ (`contract_tests::faults`), the reference server as their mutants,
//! and the suite against the classes of fault it once lost, under several seeds.

use contract_tests::faults::{Generated, Kind};
use contract_tests::server;
use contract_tests::{breadth, run, Settings};
use serde_json::json;
use std::collections::BTreeSet;

#[test]
fn spec_has_faults_of_every_family_and_their_names_round_trip() {
    let schema = contract_tests::meta::schema();
    let all = contract_tests::spec::generated_faults();
    assert!(all.len() >= 60, "{} faults", all.len());
    let names: BTreeSet<String> = all.iter().map(Generated::name).collect();
    assert_eq!(names.len(), all.len(), "names are unique");
    for g in all {
        assert_eq!(Generated::find(all, &g.name()), Some(g));
    }
    // Every kind but those of a resource's lifecycle: spec/ creates, lists and deletes nothing
    // (tests/mock.rs holds those on a CRUD document); nor does it document an answer header or
    // a required header parameter (tests/crud.rs holds those), nor conditional requests
    // (tests/swagger2.rs holds those), nor has it a replace.
    let lifecycle = [
        Kind::CreateNotStored,
        Kind::DeleteKept,
        Kind::ListShowsDeleted,
        Kind::PageSkips,
        Kind::PageRepeats,
        Kind::StaleAnswer,
        Kind::OtherUserServed,
        Kind::ResponseHeaderDropped,
        Kind::RequiredHeaderIgnored,
        Kind::StaleIfMatchAccepted,
        Kind::EtagUnchanged,
        Kind::IfNoneMatchIgnored,
        Kind::ReplaceMerges,
        Kind::LocationElsewhere,
        Kind::DuplicateAccepted,
        Kind::ChildUnderAnyParent,
        Kind::ChildrenOutliveParent,
        Kind::RefusalApplied,
        Kind::EnumCaseFolded,
        Kind::NearMissApplied,
    ];
    let kinds: BTreeSet<Kind> = all.iter().map(|g| g.kind).collect();
    for (k, name) in Kind::ALL {
        assert_eq!(kinds.contains(&k), !lifecycle.contains(&k), "kind {name}");
    }
    for must in [
        "bound-below:update_cvm:shutdown_timeout",
        "null-ignored:update_cvm:public_logs",
        "optional-required:update_cvm:gpus.gpus[].product_id",
        "server-error-on-equal-items:update_cvm:gpus.gpus",
        "server-error-on-extra-key:update_cvm:gpus.gpus[]",
        "server-error-on-nul:update_cvm:encrypted_env",
        "auth-ignored:get_cvm",
        "wrong-content-type:update_cvm",
    ] {
        assert!(names.contains(must), "{must} missing from {names:#?}");
    }
    // A field that does not read back gets no state fault: nothing could show it.
    assert!(!names.contains("value-ignored:update_cvm:user_config"));
    let g = Generated::find(all, "bound-below:update_cvm:shutdown_timeout").unwrap();
    assert!(g.fires_on(schema, &json!({"shutdown_timeout": 9})));
    assert!(!g.fires_on(schema, &json!({"shutdown_timeout": 10})));
    let g = Generated::find(all, "server-error-on-extra-key:update_cvm:gpus.gpus[]").unwrap();
    assert!(g.fires_on(schema, &json!({"gpus": {"gpus": [{"slot": "a", "zz": 1}]}})));
    assert!(!g.fires_on(schema, &json!({"gpus": {"gpus": [{"slot": "a"}]}})));
}

#[test]
fn the_gpu_config_gets_a_variant_at_every_nested_position() {
    let schema = contract_tests::meta::shared_schema();
    let shape = contract_tests::spec::update_op().body.clone().unwrap();
    let gpus = &contract_tests::spec::update_body()
        .field("gpus")
        .unwrap()
        .shape;
    let base = json!({ "gpus": breadth::full(schema, gpus).expect("a full GpuConfig") });
    let variants = breadth::variants(schema, &shape, &base);
    let labels: Vec<String> = variants.iter().map(breadth::Variant::label).collect();
    for want in [
        "(body) (extra key)",
        "gpus (extra key)",
        "gpus.gpus (equal items)",
        "gpus.gpus (many items)",
        "gpus.gpus[] (extra key)",
        "gpus.gpus[].product_id (left out)",
        "gpus.gpus[].product_id (null)",
        "gpus.gpus[].slot (NUL)",
        "gpus.gpus[].slot (non-ASCII)",
        "gpus.attach_mode (left out)",
        "gpus.attach_mode (NUL)",
    ] {
        assert!(
            labels.iter().any(|l| l == want),
            "{want} not in {labels:#?}"
        );
    }
    // A required property is never left out, and every variant is valid.
    assert!(!labels.iter().any(|l| l == "gpus.gpus[].slot (left out)"));
    for v in &variants {
        assert!(
            contract_tests::judge::check(schema, &v.value, &shape).is_empty(),
            "{v:?}"
        );
    }
}

/// The reference server with one generated fault switched on.
fn mutant(name: &str) -> server::Running {
    let all = contract_tests::spec::generated_faults();
    let g = Generated::find(all, name).unwrap_or_else(|| panic!("no fault {name}"));
    server::spawn_mutant(
        0,
        server::DEFAULT_API_KEY,
        &[],
        std::slice::from_ref(g),
        server::Timing::default(),
    )
    .unwrap()
}

/// The suite against the reference server with one generated fault switched on.
fn against(name: &str, seed: u64) -> (contract_tests::Report, u64) {
    let srv = mutant(name);
    let mut s = Settings::new(
        &srv.url,
        Some(server::DEFAULT_API_KEY.into()),
        server::CVM_ID,
    );
    s.onchain_cvm_id = Some(server::ONCHAIN_CVM_ID.into());
    s.cases = 64;
    s.seed = seed;
    s.readback_timeout = std::time::Duration::from_millis(300);
    s.max_response_time = Some(contract_tests::faults::SLOW_LIMIT);
    let report = run(&s);
    let fired = srv.fired();
    (report, fired)
}

/// Each class of fault the suite once lost (issue 20) is caught, by the check that names it,
/// under every seed tried: by rule, not by a lucky draw.
#[test]
fn each_lost_class_is_caught_whatever_the_seed() {
    let cases = [
        // null sent to a field that reads back as nullable, ignored.
        ("null-ignored:update_cvm:public_sysinfo", "patch_semantics"),
        // a GPU's optional product_id wrongly required.
        (
            "optional-required:update_cvm:gpus.gpus[].product_id",
            "positive_data_acceptance",
        ),
        // two GPUs in the same slot.
        (
            "server-error-on-equal-items:update_cvm:gpus.gpus",
            "not_a_server_error",
        ),
        // an explicit null inside an array item.
        (
            "null-rejected:update_cvm:gpus.gpus[].product_id",
            "positive_data_acceptance",
        ),
        // a NUL in a secret-marked string.
        (
            "server-error-on-nul:update_cvm:encrypted_env",
            "not_a_server_error",
        ),
        // an undeclared key inside a nested open object.
        (
            "server-error-on-extra-key:update_cvm:gpus.gpus[]",
            "not_a_server_error",
        ),
        // many GPUs.
        (
            "server-error-on-long-array:update_cvm:gpus.gpus",
            "not_a_server_error",
        ),
        // the read-back serving requests with a near-miss key.
        ("near-miss-key-accepted:get_cvm", "ignored_auth"),
        // a success answer sent as text/plain.
        ("wrong-content-type:update_cvm", "content_type_conformance"),
        // phase two accepting a malformed transaction hash.
        ("malformed-transaction-accepted:update_cvm", "header_flows"),
        // the same valid update twice.
        ("server-error-on-repeat:update_cvm", "not_a_server_error"),
        // an undocumented method served (issue 19's schemathesis checks).
        ("method-served:get_cvm", "unsupported_method"),
        // a 405 without `Allow`.
        ("allow-missing:get_cvm", "allow_header_conformance"),
    ];
    for (fault, check) in cases {
        for seed in [0, 1, 2, 11] {
            let (r, fired) = against(fault, seed);
            let text = contract_tests::report::summary(&r, &[]);
            assert!(fired > 0, "{fault} never fired (seed {seed}):\n{text}");
            assert_eq!(r.exit_code(), 1, "{fault} survived seed {seed}:\n{text}");
            assert!(
                r.violations
                    .iter()
                    .chain(&r.flaky)
                    .any(|v| v.check.name == check),
                "{fault}, seed {seed}: no {check}:\n{text}"
            );
        }
    }
}

/// An answer held back past `--max-response-time` is the first failure, whatever the seed (the
/// run stops there: every answer of the operation is slow).
#[test]
fn a_slow_answer_breaks_the_time_limit() {
    for fault in ["slow-answer:update_cvm", "slow-answer:get_cvm"] {
        for seed in [0, 1] {
            let srv = mutant(fault);
            let mut s = Settings::new(
                &srv.url,
                Some(server::DEFAULT_API_KEY.into()),
                server::CVM_ID,
            );
            s.seed = seed;
            s.cases = 16;
            s.fail_fast = true;
            s.max_response_time = Some(contract_tests::faults::SLOW_LIMIT);
            let r = run(&s);
            let text = contract_tests::report::summary(&r, &[]);
            assert!(
                r.violations
                    .iter()
                    .any(|v| v.check.name == "max_response_time"),
                "{fault}, seed {seed}:\n{text}"
            );
        }
    }
}

/// A 500 that only an earlier update explains (the update after one that set a field to null):
/// a bare replay does not reproduce it, so it is replayed after the updates sent before it, and
/// reported with them in its reproducer, which reproduces it on a fresh server.
#[test]
fn a_state_dependent_server_error_reproduces_after_what_preceded_it() {
    let fault = "server-error-after-null:update_cvm:shutdown_timeout";
    for seed in [0, 1, 2] {
        let (r, _) = against(fault, seed);
        let text = contract_tests::report::summary(&r, &[]);
        assert_eq!(r.exit_code(), 1, "seed {seed}:\n{text}");
        let v = r
            .violations
            .iter()
            .find(|v| v.check.name == "not_a_server_error")
            .unwrap_or_else(|| panic!("seed {seed}: not reproduced:\n{text}"));
        assert!(!v.preceding.is_empty(), "seed {seed}:\n{text}");
        assert!(v.message.contains("sent before it"), "{}", v.message);
        // The reproducer: the updates before it, then the request, one `curl` a line.
        let lines = v.reproducer(&r.target).lines().count();
        assert_eq!(lines, v.preceding.len() + 1);
        // Sent in that order to a fresh mutant, the last one gets the 500.
        let srv = mutant(fault);
        let statuses = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let client = reqwest::Client::new();
                let mut out = Vec::new();
                for sent in v.preceding.iter().chain(std::iter::once(&v.exchange.sent)) {
                    let resp = client
                        .request(
                            reqwest::Method::from_bytes(sent.method.as_bytes()).unwrap(),
                            format!("{}{}", srv.url, sent.path),
                        )
                        .header("x-api-key", server::DEFAULT_API_KEY)
                        .header("content-type", "application/json")
                        .body(sent.body.clone().unwrap_or_default())
                        .send()
                        .await
                        .unwrap();
                    out.push(resp.status().as_u16());
                }
                out
            });
        assert_eq!(statuses.last(), Some(&500), "seed {seed}: {statuses:?}");
    }
}

/// A crash on a value the suite drew for a secret-marked field reproduces from the report: the
/// value is test data and is shown in full, only the key is hidden.
#[test]
fn a_reproducer_of_a_secret_marked_value_reproduces() {
    let name = "server-error-on-nul:update_cvm:encrypted_env";
    let (r, _) = against(name, 0);
    let text = contract_tests::report::summary(&r, &[server::DEFAULT_API_KEY]);
    let v = r
        .violations
        .iter()
        .find(|v| v.check.name == "not_a_server_error")
        .unwrap_or_else(|| panic!("{text}"));
    let sent = v.exchange.sent.body.clone().expect("a body");
    assert!(sent.contains("\\u0000"), "{sent}");
    assert!(
        text.contains(&sent),
        "the reproducer shows the body as sent:\n{text}"
    );
    assert!(!text.contains("<redacted>"), "{text}");
    assert!(!text.contains(server::DEFAULT_API_KEY), "{text}");
    // Sent again to a fresh mutant, the body gets the 500 again.
    let srv = mutant(name);
    let status = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            reqwest::Client::new()
                .patch(format!("{}{}", srv.url, v.exchange.sent.path))
                .header("x-api-key", server::DEFAULT_API_KEY)
                .header("content-type", "application/json")
                .body(sent)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    assert_eq!(status, 500);
}

/// The score counts, names each survivor with why, and writes the JSON users script against.
#[test]
fn the_score_counts_and_writes_its_json() {
    let opts = contract_tests::mutants::Options {
        subject: contract_tests::mutants::Subject::Spec,
        seeds: 2,
        cases: 32,
        jobs: 2,
        only: vec!["auth-ignored".into(), "bound-".into()],
    };
    let score = contract_tests::mutants::run(&opts);
    assert_eq!(score.outcomes.len(), 4, "{}", score.text());
    let j = score.json();
    assert_eq!(j["total"], 4);
    assert_eq!(j["killed"], score.killed());
    assert_eq!(j["survivors"].as_array().unwrap().len(), 4 - score.killed());
    for o in &score.outcomes {
        assert_eq!(o.killed_by_seeds.len() + o.survived_seeds.len(), 2);
    }
    assert!(score
        .text()
        .contains("mutation score on spec/phala-cloud.yaml"));
}

//! The suite on any document, against a CRUD service of our own with planted faults
//! (`targets/tasks_app.py`, FastAPI; its document is the one FastAPI makes of it). The clean
//! service gives no failure; each planted fault is caught, under every seed tried, by the check
//! that names it: the stateful scenarios (`ensure_resource_availability`, `patch_semantics`,
//! `object_level_authorization`, `use_after_free`) and the checks a schemathesis user knows.

mod uvicorn;

use contract_tests::meta::Schema;
use contract_tests::{probe, report, Mode, Report, Settings};
use std::sync::Arc;

const DOC: &str = include_str!("../targets/tasks.openapi.json");
const KEY: &str = "reference-key";
const OTHER: &str = "reference-key-2";
const SEEDS: [u64; 3] = [0, 1, 2];

/// Each planted fault and the check that must name it.
const FAULTS: [(&str, &str); 32] = [
    ("create-not-stored", "ensure_resource_availability"),
    ("delete-keeps", "use_after_free"),
    ("list-shows-deleted", "use_after_free"),
    ("page-skips", "pagination_consistency"),
    ("page-repeats", "pagination_consistency"),
    ("update-not-kept", "patch_semantics"),
    ("update-resets-absent", "patch_semantics"),
    ("stale-answer", "patch_semantics"),
    ("null-ignored", "patch_semantics"),
    ("other-user-reads", "object_level_authorization"),
    ("other-user-deletes", "object_level_authorization"),
    ("second-delete-500", "not_a_server_error"),
    ("read-after-delete-500", "not_a_server_error"),
    ("allow-missing", "allow_header_conformance"),
    ("method-served", "unsupported_method"),
    ("location-dropped", "response_headers_conformance"),
    ("idempotency-ignored", "missing_required_header"),
    ("text-plain", "content_type_conformance"),
    ("read-auth-ignored", "ignored_auth"),
    ("near-miss-key", "ignored_auth"),
    ("slow-read", "max_response_time"),
    ("repeat-500", "not_a_server_error"),
    ("put-merges", "patch_semantics"),
    ("stale-if-match-accepted", "conditional_requests"),
    ("etag-unchanged", "conditional_requests"),
    ("if-none-match-ignored", "conditional_requests"),
    ("location-elsewhere", "ensure_resource_availability"),
    ("duplicate-name-accepted", "unique_values"),
    ("milestone-under-any-project", "nested_resources"),
    ("milestones-outlive-project", "nested_resources"),
    ("cursor-ends-early", "pagination_consistency"),
    ("enum-case-folded", "negative_data_rejection"),
];

/// The service's lists, each paged its own way.
const PAGED: [&str; 3] = ["/tasks ", "/projects ", "/labels "];

fn suite(url: &str, seed: u64, fail_fast: bool) -> Report {
    let schema = Arc::new(Schema::from_document(DOC).unwrap());
    let mut s = Settings::new(url, Some(KEY.into()), "");
    s.other_api_key = Some(OTHER.into());
    s.cases = 10;
    s.seed = seed;
    s.mode = Mode::Full;
    s.concurrency = 1;
    s.fail_fast = fail_fast;
    s.max_response_time = Some(contract_tests::faults::SLOW_LIMIT);
    // The service applies at once: a read-back that does not show an update will not.
    s.readback_timeout = std::time::Duration::from_millis(300);
    probe::run(&s, schema, &[])
}

fn target(faults: &str) -> uvicorn::Server {
    uvicorn::start(
        "tasks_app:app",
        &[("API_KEYS", &format!("{KEY},{OTHER}")), ("FAULTS", faults)],
    )
}

#[test]
fn the_clean_service_gives_no_failure_whatever_the_seed() {
    if !uvicorn::python_has_fastapi() {
        eprintln!("notice: python3 lacks fastapi/uvicorn; the CRUD target test is skipped");
        return;
    }
    let srv = target("");
    for seed in SEEDS {
        let r = suite(&srv.url, seed, false);
        let text = report::summary(&r, &[KEY, OTHER]);
        assert!(r.could_not_run.is_none(), "{text}");
        assert_eq!(r.exit_code(), 0, "seed {seed}:\n{text}");
        // The scenarios ran: every one of them judged something.
        for check in [
            "ensure_resource_availability",
            "patch_semantics",
            "object_level_authorization",
            "use_after_free",
            "unsupported_method",
            "allow_header_conformance",
            "response_headers_conformance",
            "missing_required_header",
            "ignored_auth",
            "pagination_consistency",
            "conditional_requests",
            "unique_values",
            "nested_resources",
        ] {
            assert!(
                r.per_check.get(check).copied().unwrap_or(0) > 0,
                "seed {seed}: {check} judged nothing:\n{text}"
            );
        }
    }
}

#[test]
fn every_planted_fault_is_caught_by_its_check_whatever_the_seed() {
    if !uvicorn::python_has_fastapi() {
        eprintln!("notice: python3 lacks fastapi/uvicorn; the CRUD target test is skipped");
        return;
    }
    // Two at a time: each fault has a service of its own.
    let missed: Vec<String> = std::thread::scope(|scope| {
        let halves: Vec<_> = FAULTS
            .chunks(FAULTS.len().div_ceil(2))
            .map(|part| {
                scope.spawn(move || {
                    let mut missed = Vec::new();
                    for (fault, check) in part {
                        let srv = target(fault);
                        for seed in SEEDS {
                            // A slow service makes every read slow: the run stops at the first
                            // failure.
                            let r = suite(&srv.url, seed, *fault == "slow-read");
                            let caught = r
                                .violations
                                .iter()
                                .chain(&r.flaky)
                                .any(|v| v.check.name == *check);
                            if !caught {
                                missed.push(format!(
                                    "{fault}, seed {seed}: no {check}\n{}",
                                    report::summary(&r, &[KEY, OTHER])
                                ));
                            }
                            // A page fault is caught on each way of paging: limit and offset
                            // (tasks), page and size (projects), a cursor (labels).
                            if fault.starts_with("page-") {
                                for list in PAGED {
                                    let on_it = r.violations.iter().any(|v| {
                                        v.check.name == *check && v.field.starts_with(list)
                                    });
                                    if !on_it {
                                        missed.push(format!(
                                            "{fault}, seed {seed}: no {check} on {list}\n{}",
                                            report::summary(&r, &[KEY, OTHER])
                                        ));
                                    }
                                }
                            }
                        }
                    }
                    missed
                })
            })
            .collect();
        halves.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

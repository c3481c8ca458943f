//! The suite on servers nobody here wrote: Stoplight Prism (`@stoplight/prism-cli`) mocking
//! documents of the corpus, in its request-validating mode (`--errors`), every operation probed.
//!
//! Each run must end inside its deadline, and every failure it reports must be one this test
//! expects by name: a place where Prism itself breaks the document (it cannot serialise an
//! answer, serves an example the document's own schema refuses, lets a body it cannot compile
//! through, or cannot load the document at all), or what a stateless mock breaks whatever the
//! document (the lifecycle scenarios' `ensure_resource_availability`, `patch_semantics` and
//! `use_after_free`, and `unknown_id_not_found`: it stores nothing; `ignored_auth` with a wrong key or a near miss: it checks
//! that a credential is there, not what it is; `allow_header_conformance`: its 405 to a method a
//! path lacks carries no `Allow`). Anything else is a false positive of the suite, or a new Prism
//! behaviour, and fails the test.
//!
//! Prism is found through `PRISM` (a path), or `prism` on `PATH`; `.ci/run` installs it. Without
//! it, or without `../shared`, the test prints a notice and passes.

use contract_tests::meta::Schema;
use contract_tests::{probe, Settings};
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a document does under Prism.
enum Expect {
    /// The probe runs; exactly these (operation, check) failures, each naming `problem` in its
    /// message when one is given (Prism's own error type).
    Runs(&'static [(&'static str, &'static str, Option<&'static str>)]),
    /// Prism cannot serve the document; its output says this.
    PrismFails(&'static str),
}

const CASES: &[(&str, u32, Expect)] = &[
    (
        "specs-wide/oai-3.0-petstore-expanded.json",
        20,
        Expect::Runs(&[]),
    ),
    // Oxide and Phala: beyond what a stateless mock breaks, only Prism's own 500s, where its
    // made-up answer breaks the document (it writes "string" where a `pattern` is given, or
    // cannot write a JSON schema as `text/plain`) and, with --errors, says so (below: every
    // server error is reported on the operation it happened on).
    ("specs/oxide-nexus.openapi.json", 3, Expect::Runs(&[])),
    ("specs/phala-cloud.openapi.json", 3, Expect::Runs(&[])),
    (
        "specs-wide/sendgrid.openapi.json",
        3,
        Expect::Runs(&[
            // Prism serves the document's examples, which its own schemas refuse (issue 9 found
            // the same examples invalid).
            (
                "GET_marketing-segments-segment_id",
                "response_schema_conformance",
                None,
            ),
            (
                "PATCH_marketing-segments-segment_id",
                "response_schema_conformance",
                None,
            ),
            (
                "POST_marketing-segments",
                "response_schema_conformance",
                None,
            ),
            // The same example, answered to the lifecycle scenario's create, and to the
            // read-backs of the stateful suite run on the item it created.
            ("/marketing/segments", "response_schema_conformance", None),
            (
                "/marketing/segments/{segment_id}",
                "response_schema_conformance",
                None,
            ),
            // Prism does not validate this body (its schema has a type-less `nullable` branch)
            // and accepts every broken one.
            ("PUT_mc-contacts-imports", "negative_data_rejection", None),
        ]),
    ),
    (
        "specs/github.openapi.json",
        3,
        // The document links examples by URL; Prism fetches them at start and, offline, stops.
        Expect::PrismFails("Error downloading"),
    ),
];

fn prism_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PRISM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("prism"))
        .find(|p| p.is_file())
}

/// A Prism process, stopped when dropped.
struct Mock {
    child: Child,
    log: PathBuf,
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Mock {
    fn output(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts Prism on `doc`; `Ok(url)` once it listens, `Err(its output)` if it stops first or
/// does not listen within two minutes.
fn start(prism: &Path, doc: &Path) -> (Mock, Result<String, String>) {
    let port = free_port();
    let log = std::env::temp_dir().join(format!("prism-{}-{port}.log", std::process::id()));
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new(prism)
        .args([
            "mock",
            "--errors",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .arg(doc)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("prism starts");
    let mut mock = Mock { child, log };
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let text = mock.output();
        if text.contains("Prism is listening") {
            return (mock, Ok(format!("http://127.0.0.1:{port}")));
        }
        let exited = mock.child.try_wait().ok().flatten().is_some();
        if exited || Instant::now() > until {
            return (mock, Err(text));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_suite_reports_no_false_positive_against_prism() {
    let Some(prism) = prism_binary() else {
        println!("notice: Prism is not installed (set PRISM or put `prism` on PATH); the Prism runs are skipped");
        return;
    };
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if !shared.is_dir() {
        println!("notice: ../shared is absent; the Prism runs are skipped");
        return;
    }
    let mut problems = Vec::new();
    let mut stateless_found: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut ran_any = false;
    for (rel, cases, expect) in CASES {
        let doc = shared.join(rel);
        if !doc.is_file() {
            println!("notice: {rel} is absent; skipped");
            continue;
        }
        let started = Instant::now();
        let (mock, listening) = start(&prism, &doc);
        let url = match (listening, expect) {
            (Err(out), Expect::PrismFails(why)) => {
                if !out.contains(why) {
                    problems.push(format!(
                        "{rel}: Prism stopped, but not with `{why}`:\n{out}"
                    ));
                } else {
                    println!("{rel}: Prism cannot serve it, as expected ({why})");
                }
                continue;
            }
            (Ok(_), Expect::PrismFails(why)) => {
                problems.push(format!(
                    "{rel}: Prism was expected to stop with `{why}`, and it serves the document"
                ));
                continue;
            }
            (Err(out), Expect::Runs(_)) => {
                problems.push(format!("{rel}: Prism did not start:\n{out}"));
                continue;
            }
            (Ok(url), Expect::Runs(_)) => url,
        };
        let Expect::Runs(expected) = expect else {
            unreachable!()
        };
        let text = std::fs::read_to_string(&doc).unwrap();
        let schema = Arc::new(Schema::from_document(&text).unwrap());
        let mut s = Settings::new(&url, Some("contract-tests-key-9f3a1c".into()), "");
        s.cases = *cases;
        s.seed = 1;
        s.deadline = Duration::from_secs(300);
        // Prism answers at once: a read-back that does not show an update never will.
        s.readback_timeout = Duration::from_millis(500);
        let report = probe::run(&s, schema, &[]);
        ran_any = true;
        drop(mock);
        println!(
            "{rel}: {} operations, {} requests, {} violation(s) in {} failure(s), {} skipped, {:.1} s (Prism start included: {:.1} s)",
            report.operations,
            report.requests,
            report.violations.len(),
            report.failures().len(),
            report.skipped.len(),
            report.elapsed.as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
        if let Some(why) = &report.could_not_run {
            problems.push(format!("{rel}: could not run: {why}"));
            continue;
        }
        if let Some(why) = &report.stopped_early {
            problems.push(format!("{rel}: stopped early: {why}"));
        }
        // What Prism breaks whatever the document, by name: it keeps no state, so the
        // lifecycle scenarios find a created item unlike what was sent, an update not kept and
        // a deleted item still there; and it checks that a credential is present, not what it
        // is, so a wrong key and near misses of the real one are served (and the 401 it gives to
        // none is one the document may not list).
        let stateless = |v: &&contract_tests::Violation| {
            (v.field.starts_with('/')
                && [
                    "ensure_resource_availability",
                    "use_after_free",
                    "patch_semantics",
                    // Nor does it page: each page is the same made-up list.
                    "pagination_consistency",
                    // Nor keep a value unique, nor an item under its parent.
                    "unique_values",
                    "nested_resources",
                ]
                .contains(&v.check.name))
                // Nor does it know which ids exist: an unknown one is served.
                || (v.check.name == "unknown_id_not_found" && v.field.ends_with("(unknown id)"))
        };
        let any_key = |v: &&contract_tests::Violation| {
            (v.check.name == "ignored_auth" && !v.field.ends_with("(no key)"))
                || v.message.contains("prism/errors#UNAUTHORIZED")
        };
        // And its 405 to a method a path does not have names no allowed method.
        let no_allow = |v: &&contract_tests::Violation| {
            v.check.name == "allow_header_conformance"
                && v.message.contains("prism/errors#NO_METHOD_MATCHED_ERROR")
        };
        // Its own answer, made up from the document, may break it: with --errors it says so
        // with a 500, whose body is not the document's error either.
        let own_answer = |v: &&contract_tests::Violation| {
            [
                "not_a_server_error",
                "response_schema_conformance",
                "status_code_conformance",
            ]
            .contains(&v.check.name)
                && (v.message.contains("prism/errors#VIOLATIONS")
                    || v.message.contains("prism/errors#NO_COMPLEX_OBJECT_TEXT"))
        };
        // It refuses a body that breaks the schema with a 422 whether or not the document
        // lists one (status_code_conformance judges refusals too).
        let refusal = |v: &&contract_tests::Violation| {
            v.check.name == "status_code_conformance"
                && !v.valid_body
                && v.exchange.status() == Some(422)
        };
        for _ in report.violations.iter().filter(own_answer) {
            *stateless_found
                .entry("its own answer breaks the document")
                .or_insert(0) += 1;
        }
        for _ in report.violations.iter().filter(refusal) {
            *stateless_found
                .entry("an undocumented 422 refusal")
                .or_insert(0) += 1;
        }
        for v in report.violations.iter().filter(stateless) {
            *stateless_found.entry(v.check.name).or_insert(0) += 1;
        }
        for _ in report.violations.iter().filter(any_key) {
            *stateless_found.entry("ignored_auth (any key)").or_insert(0) += 1;
        }
        for _ in report.violations.iter().filter(no_allow) {
            *stateless_found
                .entry("allow_header_conformance (no Allow)")
                .or_insert(0) += 1;
        }
        let seen: BTreeSet<(String, &str)> = report
            .violations
            .iter()
            .filter(|v| {
                !stateless(v) && !any_key(v) && !no_allow(v) && !own_answer(v) && !refusal(v)
            })
            .map(|v| {
                (
                    v.field.split(' ').next().unwrap_or("").to_string(),
                    v.check.name,
                )
            })
            .collect();
        let want: BTreeSet<(String, &str)> = expected
            .iter()
            .map(|(op, check, _)| (op.to_string(), *check))
            .collect();
        for extra in seen.difference(&want) {
            let v = report
                .violations
                .iter()
                .find(|v| v.field.starts_with(&extra.0) && v.check.name == extra.1)
                .unwrap();
            problems.push(format!(
                "{rel}: unexpected {} on {}: {}",
                extra.1, v.field, v.message
            ));
        }
        for missing in want.difference(&seen) {
            problems.push(format!(
                "{rel}: expected {} on {} was not reported",
                missing.1, missing.0
            ));
        }
        for (op, check, problem) in expected.iter() {
            let Some(p) = problem else { continue };
            let named = report.violations.iter().any(|v| {
                v.field.starts_with(op) && v.check.name == *check && v.message.contains(p)
            });
            if !named && seen.contains(&(op.to_string(), *check)) {
                problems.push(format!("{rel}: {check} on {op} does not name `{p}`"));
            }
        }
        if !report.flaky.is_empty() {
            problems.push(format!(
                "{rel}: {} flaky finding(s) against a deterministic mock",
                report.flaky.len()
            ));
        }
    }
    println!("what a stateless mock breaks, over the documents: {stateless_found:?}");
    if ran_any {
        // The scenarios ran, and found Prism stateless: a deleted item is still served.
        if !stateless_found.contains_key("use_after_free") {
            problems
                .push("no document showed Prism serving a deleted item (use_after_free)".into());
        }
        // Every server error is named where it happened: Prism's own 500s on Oxide and Phala.
        if !stateless_found.contains_key("its own answer breaks the document") {
            problems.push("no document showed Prism's own 500s (prism/errors#VIOLATIONS)".into());
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

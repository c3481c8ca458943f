//! The stateful scenarios against a server nobody here wrote: json-server 0.17 (npm), described by
//! a document written from its README (`targets/json-server.openapi.yaml`). The lifecycle of its
//! posts (create, read, list, update, replace, delete, read and delete again) runs with no false
//! positive; what json-server really breaks is named, each with why. Skipped, with a notice, where
//! json-server is not installed (`.ci/run` installs it; `JSON_SERVER` names the command).

use contract_tests::meta::Schema;
use contract_tests::{probe, report, Mode, Settings};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DOC: &str = include_str!("../targets/json-server.openapi.yaml");

/// What json-server breaks of the document, whatever the seed, and why.
const BREAKS: [(&str, &str); 5] = [
    (
        "patch_semantics",
        "it keeps numbers as JavaScript doubles: an integer beyond 2^53, which the document allows, reads back rounded",
    ),
    (
        "negative_data_rejection",
        "it checks no body: one the document forbids is stored (201) or applied (200)",
    ),
    (
        "response_schema_conformance",
        "having stored such a body, it serves it back, in its answer and in the list",
    ),
    (
        "unsupported_method",
        "a method a path does not have is a 404, not a 405",
    ),
    (
        "status_code_conformance",
        "a body that is not JSON's object (a string) is refused with a 400 HTML page, a status the document does not give",
    ),
];

/// The checks of a resource's lifecycle: none of them may fail, but `patch_semantics` where a
/// number too large for a double was sent.
const SCENARIOS: [&str; 4] = [
    "ensure_resource_availability",
    "patch_semantics",
    "use_after_free",
    "pagination_consistency",
];

/// Whether a violation is about an integer beyond what a double holds exactly (2^53).
fn beyond_a_double(v: &contract_tests::Violation) -> bool {
    v.message
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u128>().ok())
        .any(|n| n > 1 << 53)
}

struct JsonServer {
    child: Child,
    url: String,
    _dir: PathBuf,
}

impl Drop for JsonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

fn command() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("JSON_SERVER") {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME")?;
    let p = PathBuf::from(home)
        .join(".cache/phala-openapi-rs/json-server/node_modules/.bin/json-server");
    p.exists().then_some(p)
}

fn start(cmd: &PathBuf, name: &str) -> JsonServer {
    start_with(cmd, name, "")
}

/// json-server with `faults` planted by a middleware (`targets/json_server_faults.js`).
fn start_with(cmd: &PathBuf, name: &str, faults: &str) -> JsonServer {
    let dir = std::env::temp_dir().join(format!("json-server-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("db.json"), r#"{"posts": []}"#).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let middleware =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("targets/json_server_faults.js");
    let child = Command::new(cmd)
        .env("FAULTS", faults)
        .args([
            "db.json",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--quiet",
        ])
        // Last: the option takes every word after it.
        .arg("--middlewares")
        .arg(&middleware)
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("json-server runs");
    let until = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < until,
            "json-server did not start within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    JsonServer {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    }
}

#[test]
fn the_scenarios_run_on_json_server_with_no_false_positive() {
    let Some(cmd) = command() else {
        eprintln!("notice: json-server is not installed (npm json-server@0.17.4); skipped");
        return;
    };
    let schema = Arc::new(Schema::from_document(DOC).unwrap());
    for seed in [0, 1, 2] {
        let srv = start(&cmd, &seed.to_string());
        let mut s = Settings::new(&srv.url, None, "");
        s.cases = 10;
        s.seed = seed;
        s.mode = Mode::Full;
        let r = probe::run(&s, schema.clone(), &[]);
        let text = report::summary(&r, &[]);
        assert!(r.could_not_run.is_none(), "{text}");
        // The lifecycle ran, and judged every step.
        for check in SCENARIOS {
            assert!(
                r.per_check.get(check).copied().unwrap_or(0) > 0,
                "seed {seed}: {check} judged nothing:\n{text}"
            );
        }
        let failed: BTreeSet<&str> = r
            .violations
            .iter()
            .chain(r.flaky.iter().filter(|v| v.fails_when_flaky()))
            .map(|v| v.check.name)
            .collect();
        let named: BTreeSet<&str> = BREAKS.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            failed, named,
            "seed {seed}: json-server breaks exactly what the test names:\n{text}"
        );
        for v in &r.violations {
            assert!(
                !SCENARIOS.contains(&v.check.name)
                    || (v.check.name == "patch_semantics" && beyond_a_double(v)),
                "seed {seed}: a false positive of the scenarios: {v:?}"
            );
        }
    }
}

#[test]
fn a_list_that_skips_repeats_or_keeps_a_deleted_post_is_caught() {
    let Some(cmd) = command() else {
        eprintln!("notice: json-server is not installed (npm json-server@0.17.4); skipped");
        return;
    };
    let schema = Arc::new(Schema::from_document(DOC).unwrap());
    let cases = [
        ("page-skips", "pagination_consistency"),
        ("page-repeats", "pagination_consistency"),
        ("list-shows-deleted", "use_after_free"),
    ];
    let mut missed = Vec::new();
    for (fault, check) in cases {
        for seed in [0, 1, 2] {
            let srv = start_with(&cmd, &format!("{fault}-{seed}"), fault);
            let mut s = Settings::new(&srv.url, None, "");
            s.cases = 10;
            s.seed = seed;
            s.mode = Mode::Full;
            let r = probe::run(&s, schema.clone(), &[]);
            let caught = r
                .violations
                .iter()
                .any(|v| v.check.name == check && v.field.starts_with("/posts"));
            if !caught {
                missed.push(format!(
                    "{fault}, seed {seed}: no {check}\n{}",
                    report::summary(&r, &[])
                ));
            }
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

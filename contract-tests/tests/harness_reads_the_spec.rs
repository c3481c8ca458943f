//! The harness knows nothing of Phala that `spec/` does not say: no path, no secret field, no
//! status of its own. Those live in the spec (`x-readback`, `x-two-phase`, `format: password`,
//! `writeOnly`), so a spec change moves the harness with it.
//!
//! The reference server (`src/server/`, `src/bin/serve.rs`) implements the Phala endpoint and
//! is not harness code: it is left out.

use std::path::{Path, PathBuf};

const FACTS: [&str; 3] = ["cvms", "encrypted_env", "465"];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_phala_fact_is_written_in_the_harness() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let reference_server = [src.join("server"), src.join("bin").join("serve.rs")];
    let mut found = Vec::new();
    let mut read = 0;
    for f in files
        .iter()
        .filter(|f| !reference_server.iter().any(|r| f.starts_with(r)))
    {
        read += 1;
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            for fact in FACTS {
                if line.to_ascii_lowercase().contains(fact) {
                    found.push(format!(
                        "{}:{}: `{fact}`: {}",
                        f.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        read >= 10,
        "the harness sources were not found ({read} files)"
    );
    assert!(
        found.is_empty(),
        "Phala facts in harness code:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_facts_are_in_the_spec() {
    // What the harness no longer writes, the spec must say, or the suite would lose checks.
    let spec = contract_tests::meta::DEFAULT_SPEC;
    for fact in [
        "x-readback",
        "x-two-phase",
        "format: password",
        "writeOnly: true",
        "465",
    ] {
        assert!(spec.contains(fact), "spec/ does not say `{fact}`");
    }
    let flow = contract_tests::spec::two_phase().expect("the update's x-two-phase reads");
    assert!(flow.finish_statuses.contains(&202));
    assert!(!contract_tests::spec::secret_fields().is_empty());
}

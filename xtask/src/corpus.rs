//! `cargo xtask corpus [--spec PATH]... [--json PATH]`: real-world documents, each generated into
//! a crate under target/corpus/ and checked with `cargo clippy --all-features -D warnings`
//! (rustc's warnings included). With no `--spec`, every document of ../shared/specs and
//! ../shared/specs-wide.

use crate::regenerate::{self, Job};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The documents the benchmark measures: (file name in ../shared/specs, crate name).
pub const DOCUMENTS: [(&str, &str); 3] = [
    ("phala-cloud.openapi.json", "corpus-phala-cloud"),
    ("oxide-nexus.openapi.json", "corpus-oxide-nexus"),
    ("github.openapi.json", "corpus-github"),
];

/// `../shared/specs` beside the repository, if it is there.
pub fn specs_dir() -> Option<PathBuf> {
    shared_dir("specs")
}

fn shared_dir(name: &str) -> Option<PathBuf> {
    let dir = regenerate::repo_root().parent()?.join("shared").join(name);
    dir.is_dir().then_some(dir)
}

/// Every document (`.json`, `.yaml`, `.yml`) of ../shared/specs and ../shared/specs-wide, sorted.
pub fn default_documents() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["specs", "specs-wide"].into_iter().filter_map(shared_dir) {
        out.extend(regenerate::spec_files(&dir).unwrap_or_default());
    }
    out
}

/// The crate name for a document: `corpus-` and its file stem, without `.openapi`, in kebab case.
pub fn crate_name_for(spec: &Path) -> String {
    let stem = spec
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem.strip_suffix(".openapi").unwrap_or(&stem);
    let kebab: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("corpus-{}", kebab.trim_matches('-'))
}

/// What happened to one document.
#[derive(Debug)]
pub struct Outcome {
    pub file: String,
    pub name: String,
    pub operations: usize,
    /// Operations the generator had to skip, with the reason.
    pub skipped: Vec<String>,
    pub warnings: usize,
    pub lines: usize,
    /// How long `cargo clippy` took, or why the crate did not build clippy-clean.
    pub build: Result<Duration, String>,
}

impl Outcome {
    pub fn clean(&self) -> bool {
        self.skipped.is_empty() && self.build.is_ok()
    }
}

/// Generates `spec` into target/corpus/NAME; returns the folder, the degraded constructs and the
/// lines of Rust emitted (without and with the `proptest` feature's module).
pub fn generate_into(
    spec: &Path,
    crate_name: &str,
) -> Result<(PathBuf, usize, usize, usize), String> {
    let (out, output, lines, all) = generate_full(spec, crate_name)?;
    Ok((out, output.diagnostics.len(), lines, all))
}

fn generate_full(
    spec: &Path,
    crate_name: &str,
) -> Result<(PathBuf, codegen::Output, usize, usize), String> {
    let root = regenerate::repo_root();
    let out = root.join("target/corpus").join(crate_name);
    let job = Job {
        spec: spec.to_path_buf(),
        out: out.clone(),
        crate_name: crate_name.into(),
        standalone: true,
        include_runtime: false,
        all_schemas: false,
    };
    let output = regenerate::generate(&job, false)?;
    let count = |f: &dyn Fn(&str) -> bool| -> usize {
        output
            .files
            .iter()
            .filter(|(p, _)| f(p))
            .map(|(_, t)| t.lines().count())
            .sum()
    };
    let lines = count(&|p| p.ends_with(".rs") && p != "src/strategies.rs");
    let all = count(&|p| p.ends_with(".rs"));
    regenerate::apply(&regenerate::plan(&out, &output.files))?;
    // The workspace's lock file pins the same dependency versions the workspace already built.
    std::fs::copy(root.join("Cargo.lock"), out.join("Cargo.lock"))
        .map_err(|e| format!("cannot copy Cargo.lock: {e}"))?;
    Ok((out, output, lines, all))
}

/// The check every generated crate must pass: clippy with every feature, warnings denied.
pub const CLIPPY: [&str; 6] = [
    "clippy",
    "--quiet",
    "--all-features",
    "--",
    "-D",
    "warnings",
];

/// Runs cargo with `args` in a generated crate (target/corpus-target); returns how long it took.
pub fn cargo_in(dir: &Path, args: &[&str]) -> Result<Duration, String> {
    cargo_with(
        dir,
        &regenerate::repo_root().join("target/corpus-target"),
        &[],
        args,
    )
}

/// Runs cargo with `args` in `dir`, building into `target_dir` with the variables `env` set;
/// returns how long it took.
pub fn cargo_with(
    dir: &Path,
    target_dir: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> Result<Duration, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = Instant::now();
    let status = Command::new(cargo)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir)
        .envs(env.iter().copied())
        // Its own jobs, not a share of a parent cargo's (when run from `cargo test`).
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .args(args)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "{}: `cargo {}` failed (see above)",
            dir.display(),
            args.join(" ")
        ));
    }
    Ok(started.elapsed())
}

/// Generates `spec` and checks the crate (all features, clippy, -D warnings). A document the
/// generator refuses is an error; a crate that does not build clippy-clean is an outcome.
pub fn build_one(spec: &Path, crate_name: &str) -> Result<Outcome, String> {
    let (out, output, lines, _) = generate_full(spec, crate_name)?;
    let skipped = output
        .diagnostics
        .iter()
        .map(|d| d.to_string())
        .filter(|d| d.contains("skipped"))
        .collect();
    let build = cargo_in(&out, &CLIPPY);
    Ok(Outcome {
        file: spec.display().to_string(),
        name: crate_name.into(),
        operations: output.operations,
        skipped,
        warnings: output.diagnostics.len(),
        lines,
        build,
    })
}

/// The report: one row per document.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut s = format!(
        "{:<36} {:>6} {:>8} {:>9} {:>8}  {}\n",
        "document", "ops", "skipped", "warnings", "lines", "clippy -D warnings"
    );
    for o in outcomes {
        let file = Path::new(&o.file)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let build = match &o.build {
            Ok(d) => format!("clean ({:.1} s)", d.as_secs_f64()),
            Err(_) => "FAILED".into(),
        };
        s.push_str(&format!(
            "{:<36} {:>6} {:>8} {:>9} {:>8}  {}\n",
            file,
            o.operations,
            o.skipped.len(),
            o.warnings,
            o.lines,
            build
        ));
        for why in &o.skipped {
            s.push_str(&format!("    {why}\n"));
        }
    }
    s
}

/// The report as JSON (`--json`).
pub fn to_json(outcomes: &[Outcome]) -> serde_json::Value {
    json!({
        "documents": outcomes.iter().map(|o| json!({
            "file": o.file,
            "crate": o.name,
            "operations": {"generated": o.operations, "skipped": o.skipped.len()},
            "skipped": o.skipped,
            "warnings": o.warnings,
            "lines": o.lines,
            "clippy_clean": o.build.is_ok(),
            "clippy_seconds": o.build.as_ref().ok().map(|d| d.as_secs_f64()),
            "error": o.build.as_ref().err(),
        })).collect::<Vec<_>>(),
    })
}

/// Builds the documents (the default corpus when `specs` is empty); a missing ../shared is a
/// printed notice, not a failure. Returns the outcomes; `Err` only when a document cannot be read
/// or generated, or the report cannot be written.
pub fn run(specs: &[PathBuf], json_out: Option<&Path>) -> Result<Vec<Outcome>, String> {
    let docs = if specs.is_empty() {
        let d = default_documents();
        if d.is_empty() {
            eprintln!(
                "notice: ../shared/specs and ../shared/specs-wide are not beside the repository; corpus skipped"
            );
            return Ok(Vec::new());
        }
        d
    } else {
        specs.to_vec()
    };
    let mut out = Vec::new();
    for spec in &docs {
        let o = build_one(spec, &crate_name_for(spec))?;
        eprintln!(
            "{}: {} operation(s), {} skipped, {} warning(s), {}",
            o.name,
            o.operations,
            o.skipped.len(),
            o.warnings,
            if o.build.is_ok() {
                "clippy clean"
            } else {
                "NOT clippy clean"
            }
        );
        out.push(o);
    }
    print!("{}", table(&out));
    if let Some(path) = json_out {
        let text = serde_json::to_string_pretty(&to_json(&out)).unwrap_or_default();
        std::fs::write(path, text + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every corpus document generates with no operation skipped and builds with no warning,
    /// clippy included.
    #[test]
    fn the_corpus_generates_and_builds_cleanly() {
        let outcomes = run(&[], None).unwrap();
        if !outcomes.is_empty() {
            assert_eq!(outcomes.len(), default_documents().len());
        }
        let bad: Vec<&Outcome> = outcomes.iter().filter(|o| !o.clean()).collect();
        assert!(bad.is_empty(), "{}", table(&outcomes));
    }

    #[test]
    fn crate_names_from_file_names() {
        assert_eq!(
            crate_name_for(Path::new("/x/github.openapi.json")),
            "corpus-github"
        );
        assert_eq!(
            crate_name_for(Path::new("oai-3.1-non-oauth-scopes.json")),
            "corpus-oai-3-1-non-oauth-scopes"
        );
    }

    #[test]
    fn the_json_report_counts_operations_and_failures() {
        let o = Outcome {
            file: "a.json".into(),
            name: "corpus-a".into(),
            operations: 3,
            skipped: vec!["x skipped".into()],
            warnings: 2,
            lines: 10,
            build: Err("boom".into()),
        };
        let v = to_json(std::slice::from_ref(&o));
        assert_eq!(v["documents"][0]["operations"]["generated"], 3);
        assert_eq!(v["documents"][0]["operations"]["skipped"], 1);
        assert_eq!(v["documents"][0]["clippy_clean"], false);
        assert!(table(&[o]).contains("FAILED"));
    }
}

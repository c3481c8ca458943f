//! `cargo xtask corpus`: the real-world documents in ../shared/specs, each generated into a crate
//! under target/corpus/ and built with `cargo clippy -D warnings` (rustc's warnings included).

use crate::regenerate::{self, Job};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The corpus: (file name in ../shared/specs, crate name).
pub const DOCUMENTS: [(&str, &str); 3] = [
    ("phala-cloud.openapi.json", "corpus-phala-cloud"),
    ("oxide-nexus.openapi.json", "corpus-oxide-nexus"),
    ("github.openapi.json", "corpus-github"),
];

/// `../shared/specs` beside the repository, if it is there.
pub fn specs_dir() -> Option<PathBuf> {
    let dir = regenerate::repo_root().parent()?.join("shared/specs");
    dir.is_dir().then_some(dir)
}

/// What happened to one document.
#[derive(Debug)]
pub struct Outcome {
    pub name: String,
    pub warnings: usize,
    pub lines: usize,
    pub build: Duration,
}

/// Generates `spec` into target/corpus/NAME; returns the folder, the degraded constructs and the
/// lines of Rust emitted (without and with the `proptest` feature's module).
pub fn generate_into(
    spec: &Path,
    crate_name: &str,
) -> Result<(PathBuf, usize, usize, usize), String> {
    let root = regenerate::repo_root();
    let out = root.join("target/corpus").join(crate_name);
    let job = Job {
        spec: spec.to_path_buf(),
        out: out.clone(),
        crate_name: crate_name.into(),
        standalone: true,
        include_runtime: false,
    };
    let codegen::Output { files, diagnostics } = regenerate::generate(&job, false)?;
    let warnings = diagnostics.len();
    let count = |f: &dyn Fn(&str) -> bool| -> usize {
        files
            .iter()
            .filter(|(p, _)| f(p))
            .map(|(_, t)| t.lines().count())
            .sum()
    };
    let lines = count(&|p| p.ends_with(".rs") && p != "src/strategies.rs");
    let all = count(&|p| p.ends_with(".rs"));
    regenerate::apply(&regenerate::plan(&out, &files))?;
    // The workspace's lock file pins the same dependency versions the workspace already built.
    std::fs::copy(root.join("Cargo.lock"), out.join("Cargo.lock"))
        .map_err(|e| format!("cannot copy Cargo.lock: {e}"))?;
    Ok((out, warnings, lines, all))
}

/// Runs cargo with `args` in a generated crate (target/corpus-target); returns how long it took.
pub fn cargo_in(dir: &Path, args: &[&str]) -> Result<Duration, String> {
    let root = regenerate::repo_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = Instant::now();
    let status = Command::new(cargo)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", root.join("target/corpus-target"))
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

/// Generates `spec` into target/corpus/NAME and builds it (all features, clippy, -D warnings).
pub fn build_one(spec: &Path, crate_name: &str) -> Result<Outcome, String> {
    let (out, warnings, _, lines) = generate_into(spec, crate_name)?;
    let build = cargo_in(
        &out,
        &[
            "clippy",
            "--quiet",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    Ok(Outcome {
        name: crate_name.into(),
        warnings,
        lines,
        build,
    })
}

/// Builds every corpus document; a missing ../shared is a printed notice, not a failure.
pub fn run(only: Option<&str>) -> Result<Vec<Outcome>, String> {
    let Some(dir) = specs_dir() else {
        eprintln!("notice: ../shared/specs is not beside the repository; corpus skipped");
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (file, name) in DOCUMENTS {
        if only.is_some_and(|o| !file.starts_with(o)) {
            continue;
        }
        let o = build_one(&dir.join(file), name)?;
        eprintln!(
            "{}: {} lines, {} degraded construct(s), clippy clean in {:.1} s",
            o.name,
            o.lines,
            o.warnings,
            o.build.as_secs_f64()
        );
        out.push(o);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    /// Every corpus document generates a crate that builds with no warning, clippy included.
    #[test]
    fn the_corpus_generates_and_builds_cleanly() {
        let outcomes = super::run(None).unwrap();
        if super::specs_dir().is_some() {
            assert_eq!(outcomes.len(), super::DOCUMENTS.len());
        }
    }
}

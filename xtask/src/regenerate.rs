//! `cargo xtask regenerate`: spec -> generated crate, or, with `--check`, a comparison that writes
//! nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use codegen::write::{apply, relative_path, Changes, Job};

/// The repository root (the folder above xtask/).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the repository")
        .to_path_buf()
}

/// The jobs `cargo xtask regenerate` runs with no `--spec`: spec/ into generated/, and each codegen
/// fixture into its snapshot crate.
pub fn default_jobs(root: &Path) -> Result<Vec<Job>, String> {
    let mut jobs = vec![Job {
        spec: root.join("spec/phala-cloud.yaml"),
        out: root.join("generated"),
        crate_name: "phala-cloud".into(),
        standalone: false,
        include_runtime: false,
        all_schemas: false,
        examples: true,
        ..Default::default()
    }];
    let fixtures = root.join("codegen/tests/fixtures");
    for spec in spec_files(&fixtures)? {
        let stem = spec
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("fixture")
            .to_string();
        jobs.push(Job {
            out: root.join("codegen/tests/snapshots").join(&stem),
            crate_name: format!("snapshot-{stem}"),
            spec,
            standalone: false,
            include_runtime: false,
            // The fixtures hold schemas for their constructs alone, reached by no operation.
            all_schemas: true,
            examples: true,
            // The tagged fixture is the one of `--features-by-tag`.
            features_by_tag: stem == "tagged",
            ..Default::default()
        });
    }
    Ok(jobs)
}

/// The documents (`.json`, `.yaml`, `.yml`) in `dir`, sorted.
pub fn spec_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            )
        })
        .collect();
    specs.sort();
    Ok(specs)
}

/// Runs the generator for a job as `cargo xtask regenerate` does: a crate inside this repository
/// depends on `runtime/` by path, one outside only by version unless the job names a path.
pub fn generate(job: &Job, deny_warnings: bool) -> Result<codegen::Output, String> {
    codegen::write::generate(&in_repository(job), "cargo xtask regenerate", deny_warnings)
}

/// The job with the repository's runtime as its path dependency when its crate is written inside
/// the repository (and no path was asked for).
pub fn in_repository(job: &Job) -> Job {
    let mut job = job.clone();
    let root = repo_root();
    let absolute = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        }
    };
    let rel = relative_path(&root, &absolute(&job.out));
    let inside = !rel.starts_with("..") && !Path::new(&rel).is_absolute();
    if inside && job.runtime_path.is_none() && !job.include_runtime {
        job.runtime_path = Some(root.join("runtime"));
    }
    job
}

/// Compares `files` with what `out` holds (see [`codegen::write::plan`]); paths in the diff are
/// shown from the repository root.
pub fn plan(out: &Path, files: &BTreeMap<String, String>) -> Changes {
    codegen::write::plan(out, files, &repo_root())
}

/// Regenerates (or, with `check`, compares) every job. Returns whether anything is or was stale.
pub fn run(jobs: &[Job], check: bool, deny_warnings: bool) -> Result<bool, String> {
    let jobs: Vec<Job> = jobs.iter().map(in_repository).collect();
    codegen::write::run(
        &jobs,
        check,
        deny_warnings,
        "cargo xtask regenerate",
        &repo_root(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use codegen::MARKER;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The snapshot test: generated/ and every fixture's snapshot crate are exactly what the
    /// generator produces now. On failure, the message carries the diff and the command to run.
    #[test]
    fn committed_generated_code_is_fresh() {
        let root = repo_root();
        let jobs = default_jobs(&root).unwrap();
        assert!(jobs.len() >= 3, "spec/ and at least two fixtures");
        for job in &jobs {
            let files = generate(job, false).unwrap().files;
            let changes = plan(&job.out, &files);
            assert!(
                changes.is_empty(),
                "{} is stale; run `cargo xtask regenerate`:\n{}",
                job.out.display(),
                changes.diff
            );
        }
    }

    #[test]
    fn a_spec_change_makes_the_check_fail_until_regenerated() {
        let dir = scratch("spec-change");
        let spec = dir.join("phala-cloud.yaml");
        let original = std::fs::read_to_string(repo_root().join("spec/phala-cloud.yaml")).unwrap();
        std::fs::write(&spec, &original).unwrap();
        let job = Job {
            spec: spec.clone(),
            out: dir.join("out"),
            crate_name: "t".into(),
            standalone: true,
            include_runtime: false,
            all_schemas: false,
            examples: false,
            ..Default::default()
        };

        assert!(
            run(std::slice::from_ref(&job), false, false).unwrap(),
            "first run writes"
        );
        assert!(
            !run(std::slice::from_ref(&job), true, false).unwrap(),
            "fresh after writing"
        );

        let changed = original.replace("maximum: 1200.0", "maximum: 1800.0");
        assert_ne!(
            changed, original,
            "the spec states the maximum as `maximum: 1200.0`"
        );
        std::fs::write(&spec, changed).unwrap();
        let changes = plan(&job.out, &generate(&job, false).unwrap().files);
        assert!(changes.write.contains_key(&job.out.join("src/types.rs")));
        assert!(
            changes
                .diff
                .contains("errors.maximum(&p, i128::from(*v), 1800, false);"),
            "{}",
            changes.diff
        );
        assert!(
            run(std::slice::from_ref(&job), true, false).unwrap(),
            "--check fails before regenerating"
        );
        assert!(
            changes
                .write
                .keys()
                .all(|p| std::fs::read_to_string(p).unwrap() != changes.write[p]),
            "check wrote nothing"
        );

        run(std::slice::from_ref(&job), false, false).unwrap();
        assert!(
            !run(std::slice::from_ref(&job), true, false).unwrap(),
            "--check passes after"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn stale_generated_files_are_deleted_and_hand_written_ones_kept() {
        let dir = scratch("delete");
        let mut files = BTreeMap::new();
        files.insert("src/lib.rs".to_string(), format!("// {MARKER} by `test`\n"));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(dir.join("src/old.rs"), format!("// {MARKER} by `test`\n")).unwrap();
        std::fs::write(dir.join("src/mine.rs"), "// written by hand\n").unwrap();
        std::fs::write(dir.join("README.md"), "hand-written readme\n").unwrap();
        files.insert(
            "README.md".to_string(),
            format!("<!-- {MARKER} by `test` -->\n"),
        );
        // Cargo's own lock file says "@generated" too, and is not ours to delete.
        let lock = "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n";
        std::fs::write(dir.join("Cargo.lock"), lock).unwrap();

        let changes = plan(&dir, &files);
        assert_eq!(changes.delete, vec![dir.join("src/old.rs")]);
        assert!(changes.diff.contains("deleted: "), "{}", changes.diff);
        assert_eq!(
            changes.write.keys().collect::<Vec<_>>(),
            vec![&dir.join("src/lib.rs")]
        );
        apply(&changes).unwrap();
        assert!(!dir.join("src/old.rs").exists());
        assert_eq!(
            std::fs::read_to_string(dir.join("src/mine.rs")).unwrap(),
            "// written by hand\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("README.md")).unwrap(),
            "hand-written readme\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("Cargo.lock")).unwrap(),
            lock
        );
        assert!(plan(&dir, &files).is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn include_runtime_copies_the_runtime_and_the_crate_builds_alone() {
        let root = repo_root();
        let out = root.join("target/corpus/include-runtime");
        let job = Job {
            spec: root.join("codegen/tests/fixtures/constructs.yaml"),
            out: out.clone(),
            crate_name: "include-runtime".into(),
            standalone: true,
            include_runtime: true,
            all_schemas: false,
            examples: false,
            ..Default::default()
        };
        let files = generate(&job, false).unwrap().files;
        let runtime = &files["src/runtime.rs"];
        assert!(
            runtime.ends_with(codegen::emit::RUNTIME),
            "a byte-for-byte copy"
        );
        assert!(!files["Cargo.toml"].contains("openapi-runtime"));
        assert!(files["src/lib.rs"].contains("mod runtime;"));

        let default = generate(
            &Job {
                include_runtime: false,
                all_schemas: false,
                examples: false,
                ..job.clone()
            },
            false,
        )
        .unwrap()
        .files;
        assert!(!default.contains_key("src/runtime.rs"));
        assert!(default["Cargo.toml"]
            .contains(r#"openapi-runtime = { version = "=0.1.0", path = "../../../runtime" }"#));

        apply(&plan(&out, &files)).unwrap();
        std::fs::copy(root.join("Cargo.lock"), out.join("Cargo.lock")).unwrap();
        crate::corpus::cargo_in(&out, &crate::corpus::CLIPPY).unwrap();
    }

    #[test]
    fn relative_paths_between_folders() {
        assert_eq!(
            relative_path(Path::new("/a/b/c"), Path::new("/a/runtime")),
            "../../runtime"
        );
        assert_eq!(
            relative_path(Path::new("/a/x/../b"), Path::new("/a/b/r")),
            "r"
        );
    }

    #[test]
    fn deny_warnings_turns_degraded_constructs_into_a_failure() {
        let root = repo_root();
        let spec = root.join("codegen/tests/fixtures/constructs.yaml");
        let job = Job {
            spec,
            out: scratch("deny").join("out"),
            crate_name: "t".into(),
            standalone: true,
            include_runtime: false,
            all_schemas: false,
            examples: false,
            ..Default::default()
        };
        assert!(generate(&job, false).is_ok(), "warnings alone do not fail");
        let err = generate(&job, true).unwrap_err();
        assert!(err.contains("1 warning(s) and --deny-warnings"), "{err}");
    }

    #[test]
    fn a_broken_spec_is_an_error_naming_the_node() {
        let dir = scratch("broken");
        let spec = dir.join("bad.yaml");
        std::fs::write(
            &spec,
            "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Missing'}\n",
        )
        .unwrap();
        let job = Job {
            spec,
            out: dir.join("out"),
            crate_name: "t".into(),
            standalone: true,
            include_runtime: false,
            all_schemas: false,
            examples: false,
            ..Default::default()
        };
        let err = run(&[job], false, false).unwrap_err();
        assert!(
            err.contains("/paths/~1a/get/responses/200/content/application~1json/schema"),
            "{err}"
        );
        assert!(!dir.join("out").exists(), "nothing written");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

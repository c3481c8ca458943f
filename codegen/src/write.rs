//! Writing a generated crate: what would change in its folder ([`plan`]), and the change made
//! ([`apply`]). `--check` modes print [`Changes::diff`] and write nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What regeneration would change in an output folder.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Files to create or update, with their new contents.
    pub write: BTreeMap<PathBuf, String>,
    /// Generated files that the new output no longer has.
    pub delete: Vec<PathBuf>,
    /// A unified diff of all of it, for people.
    pub diff: String,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.write.is_empty() && self.delete.is_empty()
    }
}

/// `to` as seen from the folder `from`, both made absolute and normalised lexically first (the
/// folders need not exist yet); `to` in full when they share no root.
pub fn relative_path(from: &Path, to: &Path) -> String {
    use std::path::Component;
    fn parts(p: &Path) -> Vec<String> {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        let mut out: Vec<String> = Vec::new();
        for c in p.components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir => {
                    out.pop();
                }
                other => out.push(other.as_os_str().to_string_lossy().into_owned()),
            }
        }
        out
    }
    let (f, t) = (parts(from), parts(to));
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return to.display().to_string();
    }
    let mut rel: Vec<String> = vec!["..".to_string(); f.len() - common];
    rel.extend(t[common..].iter().cloned());
    if rel.is_empty() {
        ".".into()
    } else {
        rel.join("/")
    }
}

/// Whether a file in an output folder was written by the generator.
fn is_generated(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .map(|t| crate::is_generated_text(&t))
        .unwrap_or(false)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Compares `files` with what `out` holds; the diff shows paths from `shown_from`. Hand-written files (without the marker) are never
/// touched: a hand-written README.md, examples and tests stay.
pub fn plan(out: &Path, files: &BTreeMap<String, String>, shown_from: &Path) -> Changes {
    let mut changes = Changes::default();
    let mut wanted = BTreeSet::new();
    for (rel, new) in files {
        let path = out.join(rel);
        wanted.insert(path.clone());
        let old = std::fs::read_to_string(&path).ok();
        if old.is_some() && !is_generated(&path) {
            continue; // hand-written: the user's version wins
        }
        if old.as_deref() == Some(new.as_str()) {
            continue;
        }
        let old_text = old.unwrap_or_default();
        let diff = similar::TextDiff::from_lines(&old_text, new);
        let shown = path
            .strip_prefix(shown_from)
            .unwrap_or(&path)
            .display()
            .to_string();
        let _ = write!(
            changes.diff,
            "{}",
            diff.unified_diff()
                .context_radius(3)
                .header(&format!("a/{shown}"), &format!("b/{shown}"))
        );
        changes.write.insert(path, new.clone());
    }
    let mut existing = Vec::new();
    walk(out, &mut existing);
    existing.sort();
    for path in existing {
        if !wanted.contains(&path) && is_generated(&path) {
            let shown = path
                .strip_prefix(shown_from)
                .unwrap_or(&path)
                .display()
                .to_string();
            let _ = writeln!(
                changes.diff,
                "deleted: {shown} (generated, no longer produced)"
            );
            changes.delete.push(path);
        }
    }
    changes
}

/// Writes the planned changes.
pub fn apply(changes: &Changes) -> Result<(), String> {
    for (path, text) in &changes.write {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    for path in &changes.delete {
        std::fs::remove_file(path).map_err(|e| format!("cannot delete {}: {e}", path.display()))?;
    }
    Ok(())
}

/// One generation: a document and the crate folder it becomes.
#[derive(Debug, Clone, Default)]
pub struct Job {
    /// The OpenAPI document (JSON or YAML).
    pub spec: PathBuf,
    /// The crate's folder.
    pub out: PathBuf,
    /// Its Cargo package name.
    pub crate_name: String,
    /// Give the crate an empty `[workspace]` table, so that it builds wherever it is.
    pub standalone: bool,
    /// Copy the runtime into the crate instead of depending on `openapi-runtime`.
    pub include_runtime: bool,
    /// The `openapi-runtime` folder to depend on by path (beside the version); none: by version
    /// alone, from the registry.
    pub runtime_path: Option<PathBuf>,
    /// Emit every component schema, reached by an operation or not.
    pub all_schemas: bool,
    /// Emit tests/examples.rs, the round-trips of the document's own examples.
    pub examples: bool,
    /// The operations to generate.
    pub selection: crate::ir::Selection,
    /// Each tag's operations behind a cargo feature (see [`crate::tags`]).
    pub features_by_tag: bool,
}

/// Generates the crate of `job`, naming `command` in the files' preamble; warnings are printed to
/// stderr, and fatal with `deny_warnings`.
pub fn generate(job: &Job, command: &str, deny_warnings: bool) -> Result<crate::Output, String> {
    let text = std::fs::read_to_string(&job.spec)
        .map_err(|e| format!("cannot read {}: {e}", job.spec.display()))?;
    let spec_name = job
        .spec
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let opts = crate::Options {
        crate_name: job.crate_name.clone(),
        crate_version: "0.1.0".into(),
        spec_name,
        command: command.into(),
        standalone: job.standalone,
        runtime: if job.include_runtime {
            crate::Runtime::Include
        } else {
            crate::Runtime::Crate {
                path: job
                    .runtime_path
                    .as_ref()
                    .map(|p| relative_path(&job.out, p)),
            }
        },
        all_schemas: job.all_schemas,
        examples: job.examples,
        selection: job.selection.clone(),
        features_by_tag: job.features_by_tag,
    };
    let out = crate::generate(&text, &opts).map_err(|e| format!("{}: {e}", job.spec.display()))?;
    if !out.diagnostics.is_empty() {
        eprintln!(
            "{}: {} construct(s) degraded or skipped:",
            job.spec.display(),
            out.diagnostics.len()
        );
        for d in &out.diagnostics {
            eprintln!("  {d}");
        }
        if deny_warnings {
            return Err(format!(
                "{}: {} warning(s) and --deny-warnings",
                job.spec.display(),
                out.diagnostics.len()
            ));
        }
    }
    Ok(out)
}

/// Generates (or, with `check`, compares) every job; diffs are printed to stdout with paths shown
/// from `shown_from`. Returns whether anything is (with `check`) or was stale.
pub fn run(
    jobs: &[Job],
    check: bool,
    deny_warnings: bool,
    command: &str,
    shown_from: &Path,
) -> Result<bool, String> {
    let mut stale = false;
    for job in jobs {
        let files = generate(job, command, deny_warnings)?.files;
        let changes = plan(&job.out, &files, shown_from);
        if changes.is_empty() {
            continue;
        }
        stale = true;
        if check {
            print!("{}", changes.diff);
        } else {
            apply(&changes)?;
            eprintln!(
                "{}: wrote {} file(s), deleted {}",
                job.out.display(),
                changes.write.len(),
                changes.delete.len()
            );
        }
    }
    Ok(stale)
}

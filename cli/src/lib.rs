//! The options of generation, shared by `openapi-rs generate` and `cargo xtask regenerate`, so
//! that both take the same flags and give the same exit statuses.

use codegen::ir::Selection;
use codegen::write::Job;
use std::path::PathBuf;
use std::process::ExitCode;

/// Generating a crate from a document.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct GenerateArgs {
    /// Write nothing; print a diff and exit 1 when the output is stale.
    #[arg(long)]
    pub check: bool,
    /// The OpenAPI 3.0/3.1 or Swagger 2.0 document (JSON or YAML) to generate from.
    #[arg(long, value_name = "PATH")]
    pub spec: Option<PathBuf>,
    /// The folder of the crate to write.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The Cargo package name of the crate (default: the --out folder's name).
    #[arg(long, value_name = "NAME")]
    pub crate_name: Option<String>,
    /// Fail when any construct had to be degraded or skipped.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Copy the runtime (Patch, Client, Error, ...) into the crate as `src/runtime.rs` instead of
    /// depending on the `openapi-runtime` crate: a crate that stands alone.
    #[arg(long)]
    pub include_runtime: bool,
    /// Depend on the `openapi-runtime` crate in this folder by path as well as by version
    /// (default: by version alone, except that `cargo xtask regenerate` of a crate inside this repository depends on its runtime/).
    #[arg(long, value_name = "DIR", conflicts_with = "include_runtime")]
    pub runtime_path: Option<PathBuf>,
    /// Emit a type for every component schema, not only for those the operations reach.
    #[arg(long)]
    pub all_schemas: bool,
    /// Also emit tests/examples.rs, which round-trips each of the document's own examples
    /// through the type of its place (`cargo test --features serialize --test examples`),
    /// and tests/agreement.rs, which reads bodies given in AGREEMENT_CASES with the body types.
    #[arg(long)]
    pub examples: bool,
    /// Generate this operation, by operationId or client method name (repeatable; with --tag,
    /// either admits). Only the schemas the selected operations reach are emitted.
    #[arg(long = "operation", value_name = "ID")]
    pub operations: Vec<String>,
    /// Generate the operations of this tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Leave this operation out, by operationId or client method name (repeatable).
    #[arg(long = "exclude-operation", value_name = "ID")]
    pub exclude_operations: Vec<String>,
    /// Put each tag's operations, and the types only they reach, behind a cargo feature named
    /// after the tag; all are on by default (feature `full`), and `default-features = false,
    /// features = ["<tag>"]` compiles one tag alone.
    #[arg(long)]
    pub features_by_tag: bool,
}

impl GenerateArgs {
    /// The job the options ask for: `Ok(None)` when neither `--spec` nor `--out` is given (the
    /// caller's default), an error when only one is, or when an option of a job comes without
    /// them.
    pub fn job(&self) -> Result<Option<Job>, String> {
        let (spec, out) = match (&self.spec, &self.out) {
            (Some(s), Some(o)) => (s.clone(), o.clone()),
            (None, None) => {
                let job_only = self.crate_name.is_some()
                    || self.include_runtime
                    || self.runtime_path.is_some()
                    || self.all_schemas
                    || self.examples
                    || !self.operations.is_empty()
                    || !self.tags.is_empty()
                    || !self.exclude_operations.is_empty()
                    || self.features_by_tag;
                return if job_only {
                    Err("--crate-name, --include-runtime, --runtime-path, --all-schemas, --examples, --operation, --tag, --exclude-operation and --features-by-tag need --spec and --out".into())
                } else {
                    Ok(None)
                };
            }
            (Some(_), None) => return Err("--spec needs --out".into()),
            (None, Some(_)) => return Err("--out needs --spec".into()),
        };
        let crate_name = self.crate_name.clone().unwrap_or_else(|| {
            out.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "api-client".into())
        });
        Ok(Some(Job {
            spec,
            out,
            crate_name,
            standalone: true,
            include_runtime: self.include_runtime,
            runtime_path: self.runtime_path.clone(),
            all_schemas: self.all_schemas,
            examples: self.examples,
            selection: Selection {
                operations: self.operations.clone(),
                tags: self.tags.clone(),
                exclude: self.exclude_operations.clone(),
            },
            features_by_tag: self.features_by_tag,
        }))
    }
}

/// The `openapi-runtime` crate beside the source this command was built from (a clone's
/// `runtime/`), when it is still there: a crate generated by a command installed with
/// `cargo install --path cli` depends on it by path, and compiles with no registry copy.
pub fn runtime_beside_source() -> Option<PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("runtime");
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    let named = manifest
        .lines()
        .any(|l| l.trim().replace(' ', "") == format!("name=\"{}\"", codegen::emit::RUNTIME_CRATE));
    if !named {
        return None;
    }
    dir.canonicalize().ok()
}

/// Decides where a job's crate takes its runtime from when the command line does not say, and
/// says so: the runtime beside this command's source (`runtime`, from
/// [`runtime_beside_source`]) by path, else the registry's by version.
pub fn settle_runtime(job: &mut Job, runtime: Option<PathBuf>) {
    if job.include_runtime || job.runtime_path.is_some() {
        return;
    }
    match runtime {
        Some(dir) => {
            eprintln!(
                "note: the crate depends on {} by path, {} (the runtime beside the source this command was built from); --runtime-path DIR names another, --include-runtime copies it in",
                codegen::emit::RUNTIME_CRATE,
                dir.display()
            );
            job.runtime_path = Some(dir);
        }
        None => eprintln!(
            "note: the crate depends on {} ={} from the registry (crates.io); where that copy is not to be had, generate with --runtime-path DIR (a clone's runtime/) or --include-runtime",
            codegen::emit::RUNTIME_CRATE,
            codegen::emit::RUNTIME_VERSION
        ),
    }
}

/// The exit status of a generation run: 0 done (or fresh with `--check`), 1 stale with
/// `--check`, 2 the document could not be generated. `command` is what to run when stale.
pub fn exit_status(result: Result<bool, String>, check: bool, command: &str) -> ExitCode {
    match result {
        Ok(true) if check => {
            eprintln!("\ngenerated code is stale: run `{command}` and commit the result");
            ExitCode::from(1)
        }
        Ok(_) => {
            if check {
                eprintln!("generated code is up to date");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

/// Exit status 2 with a message: the arguments cannot run.
pub fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job {
            spec: PathBuf::from("api.yaml"),
            out: PathBuf::from("out"),
            ..Job::default()
        }
    }

    #[test]
    fn the_runtime_beside_the_source_is_named_by_path() {
        let found = runtime_beside_source().expect("this clone has runtime/");
        assert!(found.join("Cargo.toml").is_file());
        let mut j = job();
        settle_runtime(&mut j, Some(found.clone()));
        assert_eq!(j.runtime_path, Some(found));
    }

    #[test]
    fn without_one_the_registry_version_stays_and_a_given_choice_is_kept() {
        let mut j = job();
        settle_runtime(&mut j, None);
        assert_eq!(j.runtime_path, None);
        let mut j = job();
        j.runtime_path = Some(PathBuf::from("/elsewhere/runtime"));
        settle_runtime(&mut j, Some(PathBuf::from("/clone/runtime")));
        assert_eq!(j.runtime_path, Some(PathBuf::from("/elsewhere/runtime")));
        let mut j = job();
        j.include_runtime = true;
        settle_runtime(&mut j, Some(PathBuf::from("/clone/runtime")));
        assert_eq!(j.runtime_path, None);
    }
}

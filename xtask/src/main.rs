//! Project tasks, run as `cargo xtask <command>`.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Generation allocates many small token trees; mimalloc does that about a third faster than
/// the system allocator (see `cargo bench -p openapi-rs-codegen`).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench;
mod corpus;
mod peers;
mod regenerate;

#[derive(Parser)]
#[command(
    name = "xtask",
    bin_name = "cargo xtask",
    about = "Project tasks: regenerate the client crate from spec/, check it is fresh, run the contract suite, build the corpus, measure",
    after_help = "Examples:\n  cargo xtask regenerate            # spec/ -> generated/\n  cargo xtask regenerate --check    # exit 1 and show a diff when generated/ is stale\n  cargo xtask contract              # the contract suite against the embedded reference server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the Rust client crate from an OpenAPI document.
    ///
    /// With no --spec: spec/phala-cloud.yaml into generated/, and each codegen test fixture into
    /// its snapshot crate. With --spec and --out: any OpenAPI 3.0/3.1 or Swagger 2.0 document (JSON or YAML)
    /// into a standalone crate.
    #[command(
        after_help = "Examples:\n  cargo xtask regenerate\n  cargo xtask regenerate --check\n  cargo xtask regenerate --spec my-api.json --out ../my-api-client --crate-name my-api-client\n  cargo xtask regenerate --spec my-api.json --out ../my-api-client --include-runtime\n  cargo xtask regenerate --spec phala.json --out target/cvm-client --operation update_cvm\n\nExit status: 0 done (or fresh with --check); 1 stale with --check; 2 the spec cannot be generated."
    )]
    Regenerate(openapi_rs_cli::GenerateArgs),
    /// Generate real-world documents, each into a crate under target/corpus/, and check it with
    /// clippy and -D warnings, and round-trip the document's own examples through its types;
    /// print a table (operations generated and skipped, warnings, clippy-clean, examples found,
    /// round-tripped, failed, invalid and not attempted, each one not round-tripped listed with
    /// its reason); and have the generated body types read the bodies the contract suite's model
    /// draws and breaks, listing every one they judge otherwise. With no --spec: every document
    /// of ../shared/specs and ../shared/specs-wide.
    #[command(
        after_help = "Examples:\n  cargo xtask corpus\n  cargo xtask corpus --spec my-api.json --spec other.yaml --json target/corpus.json\n\nExit status: 0 every document generated with no operation skipped and built clippy-clean (examples and body agreement are reported, not counted here); 1 otherwise; 2 a document could not be read or generated."
    )]
    Corpus {
        /// A document to run (repeatable); default: the shared corpus.
        #[arg(long)]
        spec: Vec<PathBuf>,
        /// Also write the report as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Measure: generation time per corpus document, `cargo check` time of the generated crates,
    /// and requests per second of the contract suite.
    #[command(
        after_help = "Examples:\n  cargo xtask bench\n  BENCH_RUNS=30 BENCH_CASES=5000 cargo xtask bench\n  BENCH_ONLY=selection cargo xtask bench   # the --operation figure alone"
    )]
    Bench,
    /// Run the embedded reference server until interrupted; print its URL, key and CVM ids (see
    /// `cargo xtask serve --help`).
    #[command(disable_help_flag = true)]
    Serve {
        /// Arguments of the server; `--help` lists them.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// The mutation score: the contract suite against every fault generated from the document,
    /// one reference server per fault and seed (see `cargo xtask mutants --help`).
    #[command(disable_help_flag = true)]
    Mutants {
        /// Arguments of the mutation run; `--help` lists them.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run the contract suite for PATCH /api/v1/cvms/{cvm_id} (see `cargo xtask contract --help`).
    ///
    /// With no --target it starts the embedded reference server, runs the suite and stops it.
    #[command(disable_help_flag = true)]
    Contract {
        /// Arguments of the suite; `--help` lists them.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// A cargo command without the variables cargo set for this binary (`CARGO_MANIFEST_DIR`,
/// `CARGO_PKG_*`, ...). Inherited, they reach the build scripts of the child's build: ring's
/// reads `CARGO_MANIFEST_DIR`, so every `cargo xtask contract` rebuilt the TLS stack and all
/// above it, and so did the next plain `cargo build` (about 20 s each time).
pub(crate) fn cargo() -> std::process::Command {
    let mut cmd =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("CARGO_PKG_")
            || k.starts_with("CARGO_MANIFEST_")
            || [
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
            ]
            .contains(&&*k)
        {
            cmd.env_remove(&*k);
        }
    }
    cmd
}

/// Runs a binary of the workspace through cargo, passing its exit status through. On Unix this
/// process becomes the command (`exec`, as `cargo run` itself does), so that a signal sent to
/// `cargo xtask serve` (SIGTERM, or Ctrl-C) reaches the server itself and frees its port, instead
/// of leaving it running without its parent.
fn cargo_run(package: &str, bin: &str, args: &[String]) -> ExitCode {
    let mut cmd = cargo();
    cmd.current_dir(regenerate::repo_root())
        .args(["run", "--quiet", "--package", package, "--bin", bin, "--"])
        .args(args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // `exec` returns only when it could not run the command.
        let e = cmd.exec();
        eprintln!("error: cannot run cargo: {e}");
        ExitCode::from(2)
    }
    #[cfg(not(unix))]
    {
        let status = cmd.status();
        match status {
            Ok(s) => ExitCode::from(s.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(2)),
            Err(e) => {
                eprintln!("error: cannot run cargo: {e}");
                ExitCode::from(2)
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Contract { args } => cargo_run("contract-tests", "contract", &args),
        Command::Serve { args } => cargo_run("contract-tests", "serve", &args),
        Command::Mutants { args } => cargo_run("contract-tests", "mutants", &args),
        Command::Bench => match bench::run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
        Command::Corpus { spec, json } => match corpus::run(&spec, json.as_deref()) {
            Ok(outcomes) if outcomes.iter().all(corpus::Outcome::clean) => ExitCode::SUCCESS,
            Ok(_) => ExitCode::from(1),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Command::Regenerate(args) => {
            let jobs = match args.job() {
                Ok(Some(job)) => vec![job],
                Ok(None) => match regenerate::default_jobs(&regenerate::repo_root()) {
                    Ok(j) => j,
                    Err(e) => return openapi_rs_cli::usage_error(&e),
                },
                Err(e) => return openapi_rs_cli::usage_error(&e),
            };
            let result = regenerate::run(&jobs, args.check, args.deny_warnings);
            openapi_rs_cli::exit_status(result, args.check, "cargo xtask regenerate")
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn child_cargo_does_not_inherit_this_binarys_variables() {
        // `cargo test` sets them for this test binary, as `cargo run` does for xtask.
        assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
        let cmd = super::cargo();
        let removed: Vec<String> = cmd
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        for k in ["CARGO_MANIFEST_DIR", "CARGO_PKG_NAME"] {
            assert!(
                removed.iter().any(|r| r == k),
                "{k} is passed on: {removed:?}"
            );
        }
    }
}

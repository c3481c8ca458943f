//! `mutants`: the mutation score of the contract suite (usually as `cargo xtask mutants`).

use clap::Parser;
use std::process::ExitCode;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "mutants",
    bin_name = "cargo xtask mutants",
    about = "Run the contract suite against every fault generated from the document, one reference server per fault and seed, and print the mutation score",
    after_help = "Examples:\n  cargo xtask mutants\n  cargo xtask mutants --seeds 3 --json target/mutants.json\n  cargo xtask mutants --fault null-ignored --fault auth-ignored\n  cargo xtask mutants --spec my-api.json --cases 20\n  cargo xtask serve --list-faults      # the faults, by name\n\n\
        A fault is killed when the suite fails under every seed; each survivor is listed with why.\n\
        Exit status: 0 every fault killed; 1 some survived; 2 could not run."
)]
struct Args {
    /// Any OpenAPI document instead of spec/: its faults switched on in its stateful mock, and
    /// the probe of every operation run against each.
    #[arg(long)]
    spec: Option<std::path::PathBuf>,
    /// Seeds per fault: 0, 1, ... N-1.
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Cases per run (per operation with --spec).
    #[arg(long, default_value_t = 256)]
    cases: u32,
    /// Runs at once (default: the machine's cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Only the faults whose name contains this (repeatable).
    #[arg(long = "fault", value_name = "PART")]
    only: Vec<String>,
    /// Also write the score as JSON (`total`, `killed`, `survivors`, `faults`) to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.seeds == 0 {
        eprintln!("error: --seeds must be 1 or more");
        return ExitCode::from(2);
    }
    let subject = match &args.spec {
        None => contract_tests::mutants::Subject::Spec,
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot read {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            };
            match contract_tests::meta::Schema::from_document(&text) {
                Ok(schema) => contract_tests::mutants::Subject::Document {
                    label: path.display().to_string(),
                    schema: std::sync::Arc::new(schema),
                },
                Err(e) => {
                    eprintln!("error: {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            }
        }
    };
    let opts = contract_tests::mutants::Options {
        subject,
        seeds: args.seeds,
        cases: args.cases,
        jobs: args.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        }),
        only: args.only.clone(),
    };
    if contract_tests::mutants::selected(&opts.subject, &opts.only).is_empty() {
        eprintln!("error: no generated fault matches; `cargo xtask serve [--spec PATH] --list-faults` lists them");
        return ExitCode::from(2);
    }
    let score = contract_tests::mutants::run(&opts);
    print!("{}", score.text());
    if let Some(path) = &args.json {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let text = serde_json::to_string_pretty(&score.json()).expect("JSON serialises");
        if let Err(e) = std::fs::write(path, text + "\n") {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if score.outcomes.iter().any(|o| o.error.is_some()) {
        ExitCode::from(2)
    } else if score.survivors().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

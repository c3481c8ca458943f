//! `openapi-rs`: a Rust client crate from an OpenAPI document (`generate`), and the contract suite
//! against a server (`contract`).

use clap::{Parser, Subcommand};
use openapi_rs_cli::{exit_status, usage_error, GenerateArgs};
use std::process::ExitCode;

/// Generation allocates many small token trees, the suite allocates per request: mimalloc does
/// both faster than the system allocator.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "openapi-rs",
    version,
    about = "Generate a typed async Rust client from an OpenAPI 3.0/3.1 or Swagger 2.0 document, and test a server against the document",
    after_help = "Examples:\n  openapi-rs generate --spec openapi.yaml --out my-api-client\n  openapi-rs generate --spec openapi.yaml --out my-api-client --check\n  openapi-rs generate --spec openapi.yaml --out cvm-client --operation update_cvm\n  openapi-rs contract --spec openapi.yaml --target http://127.0.0.1:8000 --cases 50"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a client crate generated from a document (with --check, compare and write nothing).
    #[command(
        after_help = "Exit status: 0 done (or fresh with --check); 1 stale with --check; 2 the document cannot be generated."
    )]
    Generate(GenerateArgs),
    /// Fuzz the operations of a document against a server and judge every answer against it.
    #[cfg(feature = "contract")]
    Contract(Box<contract_tests::cli::ContractArgs>),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Generate(args) => {
            let mut job = match args.job() {
                Ok(Some(job)) => job,
                Ok(None) => return usage_error("generate needs --spec PATH and --out DIR"),
                Err(e) => return usage_error(&e),
            };
            openapi_rs_cli::settle_runtime(&mut job, openapi_rs_cli::runtime_beside_source());
            let here = std::env::current_dir().unwrap_or_default();
            let result = codegen::write::run(
                &[job],
                args.check,
                args.deny_warnings,
                "openapi-rs generate",
                &here,
            );
            exit_status(result, args.check, "openapi-rs generate")
        }
        #[cfg(feature = "contract")]
        Command::Contract(args) => contract_tests::cli::run(*args),
    }
}

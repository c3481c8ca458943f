//! `contract`: runs the contract suite (usually as `cargo xtask contract`); the options are
//! [`contract_tests::cli::ContractArgs`].

use clap::Parser;
use std::process::ExitCode;

/// The allocator the suite and the server run faster with (both allocate per request).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    contract_tests::cli::run(contract_tests::cli::ContractArgs::parse())
}

//! `cargo xtask bench`: the figures of the project, on this machine.
//!
//! 1. `cargo bench -p codegen`: generation time of each corpus document by stage (release).
//! 2. `cargo check` time of each generated corpus crate (dependencies already built; the crate
//!    alone, touched and checked again), default features and with `proptest`.
//! 3. `cargo bench -p contract-tests`: requests and cases per second of the suite.

use crate::corpus;
use crate::regenerate;
use std::process::Command;

fn cargo_bench(package: &str, bench: &str) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(regenerate::repo_root())
        .args([
            "bench", "--quiet", "--locked", "-p", package, "--bench", bench,
        ])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo bench -p {package} failed"))
    }
}

pub fn run() -> Result<(), String> {
    cargo_bench("codegen", "generate")?;
    println!();
    match corpus::specs_dir() {
        None => println!("notice: ../shared/specs not found; cargo check timings skipped"),
        Some(dir) => {
            println!("cargo check of the generated crates (dependencies built; the crate alone)");
            println!(
                "{:<28} {:>8} {:>10} {:>12} {:>18}",
                "document", "lines", "check", "lines (pt)", "check --features pt"
            );
            for (file, name) in corpus::DOCUMENTS {
                let (out, _, lines, all) = corpus::generate_into(&dir.join(file), name)?;
                let touch = || {
                    let lib = out.join("src/lib.rs");
                    let text = std::fs::read_to_string(&lib).unwrap_or_default();
                    let _ = std::fs::write(&lib, text);
                };
                // Warm up both feature sets (dependencies), then the measured runs.
                corpus::cargo_in(&out, &["check", "--quiet"])?;
                corpus::cargo_in(&out, &["check", "--quiet", "--features", "proptest"])?;
                touch();
                let plain = corpus::cargo_in(&out, &["check", "--quiet"])?;
                touch();
                let pt = corpus::cargo_in(&out, &["check", "--quiet", "--features", "proptest"])?;
                println!(
                    "{:<28} {:>8} {:>9.1}s {:>12} {:>17.1}s",
                    file,
                    lines,
                    plain.as_secs_f64(),
                    all,
                    pt.as_secs_f64()
                );
            }
        }
    }
    println!();
    cargo_bench("contract-tests", "suite")
}

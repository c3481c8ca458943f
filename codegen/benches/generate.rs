//! `cargo bench -p openapi-rs-codegen`: generation time of each real-world document, by stage, and the lines
//! emitted. Reads ../shared/specs; prints a notice and exits when it is absent.

use openapi_rs_codegen::{generate_timed, Options, Timings};

/// The allocator `cargo xtask` uses too.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::Duration;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The most a generation may take (median, release build): issue 9's guard.
fn guard(file: &str) -> Option<Duration> {
    match file {
        "phala-cloud.openapi.json" => Some(Duration::from_millis(100)),
        "github.openapi.json" => Some(Duration::from_millis(300)),
        _ => None,
    }
}

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs");
    if !dir.is_dir() {
        println!("notice: {} not found; benchmark skipped", dir.display());
        return;
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(15);
    println!("generation, median of {runs} runs (release build)");
    println!(
        "{:<28} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>10} {:>10}",
        "document", "parse", "lower", "model", "ir", "emit", "total", "MB/s", "lines", "lines+pt"
    );
    let mut over = Vec::new();
    for file in [
        "phala-cloud.openapi.json",
        "oxide-nexus.openapi.json",
        "github.openapi.json",
    ] {
        let text = std::fs::read_to_string(dir.join(file)).expect("readable");
        let mut all: Vec<Timings> = Vec::new();
        let mut lines = (0, 0);
        for _ in 0..runs {
            let (out, t) = generate_timed(&text, &Options::default()).expect("generates");
            let count = |f: &dyn Fn(&str) -> bool| -> usize {
                out.files
                    .iter()
                    .filter(|(p, _)| f(p))
                    .map(|(_, t)| t.lines().count())
                    .sum()
            };
            lines = (
                count(&|p| p.ends_with(".rs") && p != "src/strategies.rs"),
                count(&|p| p.ends_with(".rs")),
            );
            all.push(t);
        }
        let m = |f: fn(&Timings) -> Duration| median(all.iter().map(f).collect());
        let ms = |d: Duration| format!("{:.1}ms", d.as_secs_f64() * 1000.0);
        let total = m(|t| t.total());
        if let Some(limit) = guard(file) {
            if total > limit {
                over.push(format!("{file}: {} > {}", ms(total), ms(limit)));
            }
        }
        println!(
            "{:<28} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9.1} {:>10} {:>10}",
            file,
            ms(m(|t| t.parse)),
            ms(m(|t| t.lower)),
            ms(m(|t| t.model)),
            ms(m(|t| t.ir)),
            ms(m(|t| t.emit)),
            ms(total),
            text.len() as f64 / 1e6 / total.as_secs_f64(),
            lines.0,
            lines.1
        );
    }
    if !over.is_empty() {
        println!("generation slower than its guard: {}", over.join("; "));
        std::process::exit(1);
    }
    println!("guards: phala-cloud <= 100 ms, github <= 300 ms: held");
}

//! `cargo bench -p openapi-rs-codegen --bench load`: loading a Swagger 2.0 document (read,
//! converted to the 3.0 shape, lowered, built into the IR) against loading its 3.0 form (the
//! same document as the converter writes it, in the same format), alternating runs, medians.
//! Reads ../shared/specs-v2; prints a notice and exits when it is absent.

use openapi_rs_codegen::{load_api, parse_document};
use std::time::{Duration, Instant};

/// The allocator `cargo xtask` uses too.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs-v2");
    if !dir.is_dir() {
        println!("notice: {} not found; benchmark skipped", dir.display());
        return;
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(21);
    println!("load_api, median of {runs} alternating runs (release build)");
    println!(
        "{:<34} {:>10} {:>10} {:>8}",
        "document", "2.0", "3.0 form", "ratio"
    );
    for file in [
        "harbor.swagger.yaml",
        "oai-2.0-petstore-expanded.json",
        "oai-2.0-uber.json",
    ] {
        let v2 = std::fs::read_to_string(dir.join(file)).expect("readable");
        let converted = parse_document(&v2).expect("converts");
        let v3 = if file.ends_with(".yaml") {
            serde_yaml::to_string(&converted).expect("writes")
        } else {
            serde_json::to_string_pretty(&converted).expect("writes")
        };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let t = Instant::now();
            std::hint::black_box(load_api(&v2).expect("loads"));
            a.push(t.elapsed());
            let t = Instant::now();
            std::hint::black_box(load_api(&v3).expect("loads"));
            b.push(t.elapsed());
        }
        let (a, b) = (median(a), median(b));
        println!(
            "{file:<34} {:>8.2}ms {:>8.2}ms {:>8.2}",
            a.as_secs_f64() * 1e3,
            b.as_secs_f64() * 1e3,
            a.as_secs_f64() / b.as_secs_f64()
        );
    }
}

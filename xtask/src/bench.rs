//! `cargo xtask bench`: the figures of the project, on this machine, in one run.
//!
//! 1. `cargo bench -p openapi-rs-codegen`: generation time of each corpus document by stage (release).
//!    Then the whole generation as a user runs it, ours (`openapi-rs generate`, release) against
//!    oas3-gen's binary, on the same input, alternating runs, medians.
//! 2. `cargo check` of the crate generated from Phala's and GitHub's documents, ours and
//!    oas3-gen 0.29's, side by side: dependencies built first, then paired runs in alternating
//!    order, each a `touch` and a non-incremental `cargo check` of the crate alone (what a clean
//!    build costs a user). The ratio is ours over the peer's, medians.
//! 3. `cargo check` of the other corpus crates, default features and with `proptest`.
//! 4. `--features-by-tag` on GitHub's document: `cargo check` with one tag's feature against all.
//! 5. `cargo bench -p contract-tests`: requests and cases per second of the suite, beside the
//!    reference server's single-connection ceiling measured in the same run, and the wall time a
//!    target that shows updates 1 s late adds.

use crate::corpus;
use crate::peers;
use crate::regenerate;
use std::path::Path;
use std::time::Duration;

fn cargo_bench(package: &str, bench: &str) -> Result<(), String> {
    let status = crate::cargo()
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

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Rewrites `src/lib.rs` unchanged, so that cargo checks the crate again.
fn touch(krate: &Path) {
    let lib = krate.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap_or_default();
    let _ = std::fs::write(&lib, text);
}

/// `cargo check` of one crate alone, not incremental, in `target_dir`.
fn check(krate: &Path, target_dir: &Path, features: &[&str]) -> Result<Duration, String> {
    let mut args = vec!["check", "--quiet"];
    args.extend_from_slice(features);
    corpus::cargo_with(krate, target_dir, &[("CARGO_INCREMENTAL", "0")], &args)
}

/// `cargo check` of two crates (each with its target folder), `pairs` times each, the order
/// alternating so that drift in the machine's speed hits both alike; dependencies are built first,
/// so the runs measure the crates alone. The times of `a`, then of `b`.
fn paired(
    a: (&Path, &Path),
    b: (&Path, &Path),
    pairs: usize,
) -> Result<(Vec<Duration>, Vec<Duration>), String> {
    paired_with((a.0, a.1, &[]), (b.0, b.1, &[]), pairs)
}

/// [`paired`], each side a crate, its target folder and the `cargo check` feature arguments.
fn paired_with(
    a: (&Path, &Path, &[&str]),
    b: (&Path, &Path, &[&str]),
    pairs: usize,
) -> Result<(Vec<Duration>, Vec<Duration>), String> {
    check(a.0, a.1, a.2)?;
    check(b.0, b.1, b.2)?;
    let (mut t_a, mut t_b) = (Vec::new(), Vec::new());
    for i in 0..pairs {
        for first in [i % 2 == 0, i % 2 == 1] {
            let ((krate, target, features), times) =
                if first { (a, &mut t_a) } else { (b, &mut t_b) };
            touch(krate);
            times.push(check(krate, target, features)?);
        }
    }
    Ok((t_a, t_b))
}

/// Generation as users run it, ours against oas3-gen's: each release binary, whole process (read,
/// generate, format, write), on the same input (the peer's, its OAuth2 URLs made absolute), `runs`
/// runs each in alternating order; medians.
fn generation_side_by_side(dir: &Path, runs: usize) -> Result<(), String> {
    let root = regenerate::repo_root();
    let built = crate::cargo()
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "--quiet",
            "--locked",
            "-p",
            "openapi-rs-cli",
        ])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !built.success() {
        return Err("cargo build --release -p openapi-rs-cli failed".into());
    }
    let ours = root.join("target/release/openapi-rs");
    let peer = peers::oas3_gen()?;
    println!(
        "generation as a user runs it, `openapi-rs generate` (release) against oas3-gen {} on \
         the same input, {runs} alternating runs each (medians)",
        peers::OAS3_GEN.1
    );
    for file in ["phala-cloud.openapi.json", "github.openapi.json"] {
        let at = root.join("target/bench/generation").join(file);
        let (input, _) = peers::peer_input(&dir.join(file), &at)?;
        let (out_ours, out_peer) = (at.with_extension("ours"), at.with_extension("peer"));
        let time = |cmd: &mut std::process::Command, out: &Path| {
            let _ = std::fs::remove_dir_all(out);
            let _ = std::fs::create_dir_all(out);
            let started = std::time::Instant::now();
            let ok = cmd
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            ok.then(|| started.elapsed())
                .ok_or_else(|| format!("{:?} failed on {file}", cmd.get_program()))
        };
        let (mut t_ours, mut t_peer) = (Vec::new(), Vec::new());
        for i in 0..runs {
            for first in [i % 2 == 0, i % 2 != 0] {
                if first {
                    let mut c = std::process::Command::new(&ours);
                    c.arg("generate")
                        .arg("--spec")
                        .arg(&input)
                        .arg("--out")
                        .arg(&out_ours);
                    t_ours.push(time(&mut c, &out_ours)?);
                } else {
                    let mut c = peers::oas3_command(&peer, &input, &out_peer);
                    t_peer.push(time(&mut c, &out_peer)?);
                }
            }
        }
        let (m_ours, m_peer) = (median(t_ours), median(t_peer));
        println!(
            "  {file:<26} ours {:>7.0} ms   oas3-gen {:>7.0} ms   ratio ours/peer {:.2}x",
            m_ours.as_secs_f64() * 1e3,
            m_peer.as_secs_f64() * 1e3,
            m_ours.as_secs_f64() / m_peer.as_secs_f64()
        );
    }
    Ok(())
}

/// Ours against oas3-gen's on one document; returns the ratio of the medians.
fn side_by_side(spec: &Path, ours_name: &str, pairs: usize) -> Result<f64, String> {
    let root = regenerate::repo_root();
    let (ours, _, _, _) = corpus::generate_into(spec, ours_name)?;
    let ours_target = root.join("target/corpus-target");
    let peer = root.join("target/bench/peer").join(ours_name);
    let peer_target = root.join("target/bench/peer-target");
    let notes = peers::generate_oas3(spec, &peer)?;
    let (t_ours, t_peer) = paired((&ours, &ours_target), (&peer, &peer_target), pairs)?;
    let (m_ours, m_peer) = (median(t_ours.clone()), median(t_peer.clone()));
    let secs = |v: &[Duration]| {
        v.iter()
            .map(|d| format!("{:.1}", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let file = spec.file_name().unwrap_or_default().to_string_lossy();
    println!(
        "{:<26} {:<18} {:>6} {:>7} {:>8.1}s   [{}]",
        file,
        "this project",
        peers::count_types(&ours.join("src")),
        peers::count_lines(&ours.join("src"), &["strategies.rs"]),
        m_ours.as_secs_f64(),
        secs(&t_ours)
    );
    println!(
        "{:<26} {:<18} {:>6} {:>7} {:>8.1}s   [{}]",
        "",
        format!("oas3-gen {}", peers::OAS3_GEN.1),
        peers::count_types(&peer.join("src")),
        peers::count_lines(&peer.join("src"), &[]),
        m_peer.as_secs_f64(),
        secs(&t_peer)
    );
    let ratio = m_ours.as_secs_f64() / m_peer.as_secs_f64();
    println!("{:<26} ratio ours/peer: {ratio:.2}x", "");
    for n in notes {
        println!("{:<26} peer input: {n}", "");
    }
    Ok(ratio)
}

/// `--operation update_cvm` of the whole Phala document against the whole, `cargo check` paired
/// in this run.
fn selection(spec: &Path, pairs: usize) -> Result<(), String> {
    let target = regenerate::repo_root().join("target/corpus-target");
    let one = codegen::ir::Selection {
        operations: vec!["update_cvm".into()],
        ..Default::default()
    };
    let (whole, w, _, _) =
        corpus::generate_selected(spec, "corpus-phala-cloud", &Default::default())?;
    let (part, p, _, _) = corpus::generate_selected(spec, "select-update-cvm", &one)?;
    let (t_whole, t_part) = paired((&whole, &target), (&part, &target), pairs)?;
    let (m_whole, m_part) = (median(t_whole), median(t_part));
    println!("selection: cargo check of the Phala document's crate, whole and `--operation update_cvm` ({pairs} paired runs, medians)");
    println!(
        "  whole:       {:>4} operation(s) {:>4} type(s) {:>6.2}s",
        w.operations,
        peers::count_types(&whole.join("src")),
        m_whole.as_secs_f64()
    );
    println!(
        "  update_cvm:  {:>4} operation(s) {:>4} type(s) {:>6.2}s   ratio {:.2} (goal: at most 0.25)",
        p.operations,
        peers::count_types(&part.join("src")),
        m_part.as_secs_f64(),
        m_part.as_secs_f64() / m_whole.as_secs_f64()
    );
    Ok(())
}

/// `--features-by-tag` on GitHub's document: `cargo check` of the crate with one tag's feature
/// alone against all of them (the default), paired in this run, for a small and the largest tag.
fn features_by_tag(spec: &Path, pairs: usize) -> Result<(), String> {
    let target = regenerate::repo_root().join("target/corpus-target");
    let (krate, out, _, _) =
        corpus::generate_with(spec, "tags-github", |job| job.features_by_tag = true)?;
    let toml = std::fs::read_to_string(krate.join("Cargo.toml")).unwrap_or_default();
    let count = |tag: &str| {
        toml.lines()
            .take_while(|l| !l.starts_with(&format!("{tag} = [")))
            .last()
            .and_then(|l| l.split_whitespace().nth(2).map(str::to_string))
            .unwrap_or_default()
    };
    println!(
        "features by tag: cargo check of GitHub's crate ({} operation(s)), one tag's feature \
         (--no-default-features --features TAG) against every tag (the default), {pairs} paired \
         runs, medians",
        out.operations
    );
    for tag in ["issues", "repos"] {
        let feature = format!("--features={tag}");
        let one: [&str; 2] = ["--no-default-features", &feature];
        let (t_one, t_all) = paired_with((&krate, &target, &one), (&krate, &target, &[]), pairs)?;
        let (m_one, m_all) = (median(t_one), median(t_all));
        println!(
            "  {tag:<8} {:>4} operation(s) {:>6.2}s   every tag {:>6.2}s   ratio {:.2}",
            count(tag),
            m_one.as_secs_f64(),
            m_all.as_secs_f64(),
            m_one.as_secs_f64() / m_all.as_secs_f64()
        );
    }
    Ok(())
}

pub fn run() -> Result<(), String> {
    // One part alone: `BENCH_ONLY=selection cargo xtask bench` (or `features`).
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if only == "generation" {
        let dir = corpus::specs_dir().ok_or("../shared/specs not found")?;
        return generation_side_by_side(&dir, env_usize("BENCH_RUNS", 5).max(1));
    }
    if only == "selection" || only == "features" {
        let dir = corpus::specs_dir().ok_or("../shared/specs not found")?;
        let pairs = env_usize("BENCH_PAIRS", 5).max(1);
        return if only == "selection" {
            selection(&dir.join("phala-cloud.openapi.json"), pairs)
        } else {
            features_by_tag(&dir.join("github.openapi.json"), pairs)
        };
    }
    // A generation over its guard is reported, and the other figures are measured all the same:
    // the guard is a time on the machine it was set on.
    let generation = cargo_bench("openapi-rs-codegen", "generate");
    if let Err(e) = &generation {
        println!("note: {e} (generation over its guard); the other figures follow");
    }
    println!();
    if let Some(dir) = corpus::specs_dir() {
        generation_side_by_side(&dir, env_usize("BENCH_RUNS", 5).max(1))?;
        println!();
    }
    let Some(dir) = corpus::specs_dir() else {
        println!("notice: ../shared/specs not found; cargo check timings skipped");
        println!();
        return cargo_bench("contract-tests", "suite");
    };
    let pairs = env_usize("BENCH_PAIRS", 5).max(1);
    println!(
        "cargo check of the generated crate alone, side by side in this run: {pairs} paired runs, \
         alternating order, CARGO_INCREMENTAL=0, dependencies built (medians, then every run)"
    );
    println!(
        "{:<26} {:<18} {:>6} {:>7} {:>9}",
        "document", "generator", "types", "lines", "check"
    );
    let mut worst: f64 = 0.0;
    for (file, name) in [
        ("phala-cloud.openapi.json", "corpus-phala-cloud"),
        ("github.openapi.json", "corpus-github"),
    ] {
        worst = worst.max(side_by_side(&dir.join(file), name, pairs)?);
    }
    println!("largest ratio: {worst:.2}x (goal: at most 1.00x)");

    println!();
    selection(&dir.join("phala-cloud.openapi.json"), pairs)?;
    println!();
    features_by_tag(&dir.join("github.openapi.json"), pairs)?;

    println!();
    println!("cargo check of every corpus crate, default features and with `proptest`");
    println!(
        "{:<28} {:>8} {:>10} {:>12} {:>18}",
        "document", "lines", "check", "lines (pt)", "check --features pt"
    );
    let target = regenerate::repo_root().join("target/corpus-target");
    for (file, name) in corpus::DOCUMENTS {
        let (out, _, lines, all) = corpus::generate_into(&dir.join(file), name)?;
        check(&out, &target, &[])?;
        check(&out, &target, &["--features", "proptest"])?;
        touch(&out);
        let plain = check(&out, &target, &[])?;
        touch(&out);
        let pt = check(&out, &target, &["--features", "proptest"])?;
        println!(
            "{:<28} {:>8} {:>9.1}s {:>12} {:>17.1}s",
            file,
            lines,
            plain.as_secs_f64(),
            all,
            pt.as_secs_f64()
        );
    }
    println!();
    cargo_bench("contract-tests", "suite")?;
    generation
}

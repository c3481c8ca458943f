//! `serve`: the embedded reference server on its own (usually as `cargo xtask serve`), to develop
//! a client against, or to point other tools (schemathesis, wrk) at.

use clap::Parser;
use contract_tests::faults::Generated;
use contract_tests::server::{self, Fault, Timing};
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

/// The allocator the suite and the server run faster with (both allocate per request).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "serve",
    bin_name = "cargo xtask serve",
    about = "Run the embedded reference server of PATCH/GET /api/v1/cvms/{cvm_id} until interrupted",
    after_help = "Examples:\n  cargo xtask serve\n  cargo xtask serve --port 8080 --fault bound-off-by-one --apply-delay 1 --busy-conflict\n  cargo xtask serve --list-faults\n  cargo xtask serve --fault null-ignored:update_cvm:public_logs\n  cargo xtask serve --spec my-api.json --port 4010        # a stateful mock of any document\n  cargo xtask serve --spec my-api.json --list-faults\n\n\
        It listens on 127.0.0.1 only and prints its URL, the API key it accepts and its CVM ids.\n\
        Exit status: 0 stopped after --duration; 2 could not start (bad arguments, port taken)."
)]
struct Args {
    /// Port on 127.0.0.1 (0: a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The API key the server accepts (default: `reference-key`, printed; yours is not printed).
    #[arg(long, env = "REFERENCE_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// A deliberate bug to switch on (repeatable), such as `bound-off-by-one`; an unknown name
    /// lists the known ones.
    #[arg(long = "fault", value_name = "NAME")]
    faults: Vec<String>,
    /// Seconds an accepted update takes to show in GET (the real API applies in the background).
    #[arg(long, default_value_t = 0.0)]
    apply_delay: f64,
    /// Answer 409 to a PATCH while an earlier update of the same CVM is still being applied.
    #[arg(long)]
    busy_conflict: bool,
    /// Seconds every answer is held back, as from a target across a network.
    #[arg(long, default_value_t = 0.0)]
    latency: f64,
    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long)]
    duration: Option<f64>,
    /// Print every fault `--fault` takes, the hand-written ones and those generated from the
    /// document, one a line with what it does, and exit.
    #[arg(long)]
    list_faults: bool,
    /// Serve a stateful mock of this OpenAPI document (JSON or YAML, 2.0, 3.0 or 3.1) instead of
    /// spec/'s reference server.
    #[arg(long, value_name = "PATH")]
    spec: Option<std::path::PathBuf>,
    /// With --spec: the key of a second user (default: `reference-key-2`, printed).
    #[arg(long, env = "REFERENCE_OTHER_API_KEY", hide_env_values = true)]
    other_api_key: Option<String>,
}

/// Runs until `duration` is over, or until interrupted.
fn wait(duration: Option<f64>) {
    match duration {
        Some(secs) => std::thread::sleep(Duration::from_secs_f64(secs.max(0.0))),
        // Until interrupted: Ctrl-C ends the process, and the listener with it.
        None => loop {
            std::thread::park();
        },
    }
}

/// `serve --spec`: the stateful mock of any document.
fn mock_main(args: &Args, path: &std::path::Path) -> ExitCode {
    if args.apply_delay != 0.0 || args.busy_conflict || args.latency != 0.0 {
        eprintln!("error: --apply-delay, --busy-conflict and --latency are spec/'s reference server's; the mock of --spec answers at once");
        return ExitCode::from(2);
    }
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let schema = match contract_tests::meta::Schema::from_document(&text) {
        Ok(s) => std::sync::Arc::new(s),
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let all = contract_tests::faults::of_document(&schema);
    if args.list_faults {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "# generated from {} ({})", path.display(), all.len());
        for g in &all {
            let _ = writeln!(out, "{}\t{}", g.name(), g.describe());
        }
        return ExitCode::SUCCESS;
    }
    let mut faults = Vec::new();
    for name in &args.faults {
        match Generated::find(&all, name) {
            Some(g) => faults.push(g.clone()),
            None => {
                eprintln!("error: unknown fault `{name}`; `--spec {} --list-faults` lists the {} of this document", path.display(), all.len());
                return ExitCode::from(2);
            }
        }
    }
    let key = args
        .api_key
        .clone()
        .unwrap_or_else(|| server::DEFAULT_API_KEY.to_string());
    let other = args
        .other_api_key
        .clone()
        .unwrap_or_else(|| contract_tests::mock::OTHER_API_KEY.to_string());
    let opts = contract_tests::mock::Options {
        api_keys: vec![key.clone(), other.clone()],
        faults: faults.clone(),
    };
    let running = match contract_tests::mock::spawn(schema.clone(), args.port, opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::from(2);
        }
    };
    let shown = |given: &Option<String>, k: &str| {
        if given.is_some() {
            "the one given (not printed)".to_string()
        } else {
            k.to_string()
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "mock of {} listening on {}",
        path.display(),
        running.url
    );
    let _ = writeln!(
        out,
        "  API keys: {} (first user), {} (second user)",
        shown(&args.api_key, &key),
        shown(&args.other_api_key, &other)
    );
    for r in contract_tests::resources::infer(&schema) {
        let roles: Vec<String> = r
            .ops
            .iter()
            .map(|(role, op)| format!("{role:?} {op}"))
            .collect();
        let _ = writeln!(
            out,
            "  resource {} -> {}: {}",
            r.collection,
            r.item,
            roles.join(", ")
        );
    }
    for (item, _) in running.seeded() {
        let _ = writeln!(out, "  item to start with: {item}");
    }
    let names: Vec<String> = faults.iter().map(Generated::name).collect();
    let _ = writeln!(
        out,
        "  faults: {}",
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    );
    let _ = out.flush();
    drop(out);
    wait(args.duration);
    drop(running);
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(path) = args.spec.clone() {
        return mock_main(&args, &path);
    }
    let all = contract_tests::spec::generated_faults();
    if args.list_faults {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "# written by hand ({})", Fault::ALL.len());
        for (_, name) in Fault::ALL {
            let _ = writeln!(out, "{name}");
        }
        let _ = writeln!(out, "# generated from the document ({})", all.len());
        for g in all {
            let _ = writeln!(out, "{}\t{}", g.name(), g.describe());
        }
        return ExitCode::SUCCESS;
    }
    let mut faults = Vec::new();
    let mut generated = Vec::new();
    for name in &args.faults {
        match (Fault::from_name(name), Generated::find(all, name)) {
            (Some(f), _) => faults.push(f),
            (None, Some(g)) => generated.push(g.clone()),
            (None, None) => {
                let known: Vec<&str> = Fault::ALL.iter().map(|(_, n)| *n).collect();
                eprintln!(
                    "error: unknown fault `{name}`; written by hand: {}; `--list-faults` lists the {} generated ones too",
                    known.join(", "),
                    all.len()
                );
                return ExitCode::from(2);
            }
        }
    }
    for (flag, secs) in [
        ("--apply-delay", args.apply_delay),
        ("--latency", args.latency),
    ] {
        if !(secs >= 0.0 && secs.is_finite()) {
            eprintln!("error: {flag} must be a number of seconds, 0 or more");
            return ExitCode::from(2);
        }
    }
    let key = args
        .api_key
        .clone()
        .unwrap_or_else(|| server::DEFAULT_API_KEY.to_string());
    let timing = Timing {
        apply_delay: Duration::from_secs_f64(args.apply_delay),
        busy_conflict: args.busy_conflict,
        latency: Duration::from_secs_f64(args.latency),
        blip_at: None,
    };
    let running = match server::spawn_mutant(args.port, &key, &faults, &generated, timing) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::from(2);
        }
    };
    let shown_key = if args.api_key.is_some() {
        "the one given (not printed)".to_string()
    } else {
        key.clone()
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "reference server listening on {}", running.url);
    let _ = writeln!(out, "  API key (X-API-Key): {shown_key}");
    let _ = writeln!(
        out,
        "  CVM ids: {} (ordinary), {} (on-chain KMS: compose changes take two phases)",
        server::CVM_ID,
        server::ONCHAIN_CVM_ID
    );
    let names: Vec<String> = faults
        .iter()
        .map(|f| f.name().to_string())
        .chain(generated.iter().map(Generated::name))
        .collect();
    let _ = writeln!(
        out,
        "  faults: {}; apply delay: {} s; busy 409: {}; latency: {} s",
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        },
        args.apply_delay,
        if args.busy_conflict { "on" } else { "off" },
        args.latency
    );
    let _ = writeln!(
        out,
        "  try: curl -X PATCH {}/api/v1/cvms/{} -H 'X-API-Key: ...' -H 'Content-Type: application/json' -d '{{\"vcpu\": 4}}'",
        running.url,
        server::CVM_ID
    );
    let _ = out.flush();
    drop(out);
    wait(args.duration);
    drop(running);
    ExitCode::SUCCESS
}

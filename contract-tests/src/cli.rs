//! The command line of the suite: `cargo xtask contract` and `openapi-rs contract` both parse
//! [`ContractArgs`] and hand them to [`run`].

use crate::server::{self, Fault};
use crate::{report, runner, Mode, Settings};
use clap::{Parser, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ModeArg {
    Full,
    Negative,
}

/// The options of the suite.
#[derive(Parser, Debug)]
#[command(
    name = "contract",
    bin_name = "cargo xtask contract",
    about = "Fuzz operations of an OpenAPI document and judge every answer against it",
    long_about = "Fuzz operations of an OpenAPI document and judge every answer against it.\n\n\
        With no --spec, runs the stateful suite on spec/ (the operation whose body carries \
        x-readback fields, and its read-back). With no --target, starts the embedded reference \
        server on a free port of 127.0.0.1, runs the suite against it and stops it. With --target, \
        runs against that server: in `negative` mode by default unless it is on 127.0.0.1, so \
        nothing changes on a live API unless you ask for --mode full.\n\n\
        With --spec PATH (and --target), probes every GET/POST/PUT/PATCH/DELETE operation of that \
        document, or those named by --operation: path, query and header parameters and JSON \
        bodies drawn from its schemas, valid and broken one rule at a time, every answer judged \
        by the generic checks. --cases then counts per operation.",
    after_help = "Examples:\n  cargo xtask contract\n  cargo xtask contract --spec openapi.json --target http://127.0.0.1:4010 --cases 20\n  cargo xtask contract --spec openapi.json --target http://127.0.0.1:4010 --operation addPet\n  cargo xtask contract --cases 2000 --seed 42 --report json=target/contract.json\n  PHALA_API_KEY=... cargo xtask contract --target https://staging.example --cvm-id app_123 --rate 5\n\n\
        Exit status: 0 no violation; 1 violations found; 2 could not run (bad arguments, target unreachable)."
)]
pub struct ContractArgs {
    /// An OpenAPI 3.0/3.1 or Swagger 2.0 document (JSON or YAML) to probe instead of spec/; needs --target.
    #[arg(long, env = "CONTRACT_SPEC", value_name = "PATH")]
    spec: Option<PathBuf>,
    /// With --spec: an operation to probe, by operationId or client method name (repeatable;
    /// default every operation).
    #[arg(long = "operation", value_name = "ID")]
    operations: Vec<String>,
    /// Base URL of the server to test (default: the embedded reference server).
    #[arg(long, env = "CONTRACT_TARGET")]
    target: Option<String>,
    /// API key, sent as X-API-Key; never printed.
    #[arg(long, env = "PHALA_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// A second user's key, with --spec: what the first key creates must be out of its reach
    /// (`object_level_authorization`); never printed.
    #[arg(long, env = "CONTRACT_OTHER_API_KEY", hide_env_values = true)]
    other_api_key: Option<String>,
    /// HTTP basic credentials, `USER:PASSWORD`: sent where the document's basic scheme says (its
    /// near misses probed as a key's), else with every request; never printed (reproducers say
    /// `-u "$CONTRACT_AUTH"`).
    #[arg(
        long,
        env = "CONTRACT_AUTH",
        hide_env_values = true,
        value_name = "USER:PASSWORD"
    )]
    auth: Option<String>,
    /// A header every request of the run's user carries, `NAME: VALUE` (repeatable; the
    /// variable holds one a line): a credential the document's security schemes do not describe,
    /// a session header; never printed (reproducers say `$CONTRACT_HEADER_NAME`).
    #[arg(
        short = 'H',
        long = "header",
        env = "CONTRACT_HEADERS",
        value_delimiter = '\n',
        hide_env_values = true,
        value_name = "NAME: VALUE"
    )]
    headers: Vec<String>,
    /// The second user's HTTP basic credentials, `USER:PASSWORD`; never printed.
    #[arg(
        long,
        env = "CONTRACT_OTHER_AUTH",
        hide_env_values = true,
        value_name = "USER:PASSWORD"
    )]
    other_auth: Option<String>,
    /// A header every request of the second user carries, `NAME: VALUE` (repeatable); never
    /// printed.
    #[arg(
        long = "other-header",
        env = "CONTRACT_OTHER_HEADERS",
        value_delimiter = '\n',
        hide_env_values = true,
        value_name = "NAME: VALUE"
    )]
    other_headers: Vec<String>,
    /// The resource id the stateful suite updates (required with --target and no --spec).
    #[arg(long, env = "CONTRACT_CVM_ID")]
    cvm_id: Option<String>,
    /// A CVM whose KMS is on chain, to test the two-phase compose-hash flow.
    #[arg(long, env = "CONTRACT_ONCHAIN_CVM_ID")]
    onchain_cvm_id: Option<String>,
    /// Random cases to run.
    #[arg(long, env = "CONTRACT_CASES", default_value_t = 256)]
    cases: u32,
    /// Seed of the random cases: the same seed sends the same requests.
    #[arg(long, env = "CONTRACT_SEED", default_value_t = 0)]
    seed: u64,
    /// Bound of each request, in seconds.
    #[arg(long, env = "CONTRACT_TIMEOUT", default_value_t = 10.0)]
    timeout: f64,
    /// Bound of the whole run, in seconds.
    #[arg(long, env = "CONTRACT_DEADLINE", default_value_t = 600.0)]
    deadline: f64,
    /// How long an accepted update may take to show when read back, in seconds.
    #[arg(long, env = "CONTRACT_READBACK_TIMEOUT", default_value_t = 5.0)]
    readback_timeout: f64,
    /// Opt in to `max_response_time`: every answer must come within this many seconds (the
    /// request itself is bounded by --timeout).
    #[arg(long, env = "CONTRACT_MAX_RESPONSE_TIME", value_name = "SECS")]
    max_response_time: Option<f64>,
    /// After the random cases, send again each kind of value (null, left out, each edge) that no
    /// read-back showed applied, and wait for it: one apply delay per round against a target
    /// that applies updates late (a prompt one verifies every kind as it goes).
    #[arg(long, env = "CONTRACT_VERIFY_EVERY_KIND")]
    verify_every_kind: bool,
    /// `full` also sends valid bodies (which really change the CVM); `negative` only bodies a
    /// correct server rejects. Default: full on 127.0.0.1, negative elsewhere.
    #[arg(long, env = "CONTRACT_MODE", value_enum)]
    mode: Option<ModeArg>,
    /// Requests per second at most.
    #[arg(long, env = "CONTRACT_RATE")]
    rate: Option<f64>,
    /// Requests at most.
    #[arg(long, env = "CONTRACT_MAX_REQUESTS")]
    max_requests: Option<u64>,
    /// Count a server that accepts coercible wrong types ("4" for an integer) as a violation.
    #[arg(long)]
    strict_types: bool,
    /// Negative probes (they change nothing) sent at once, each on its own connection. Default:
    /// 4 against 127.0.0.1 or localhost, 1 against anything else.
    #[arg(long, env = "CONTRACT_CONCURRENCY", value_name = "N")]
    concurrency: Option<usize>,
    /// Do not verify TLS certificates (said in the report).
    #[arg(long)]
    insecure: bool,
    /// Write a report: json=PATH, junit=PATH or html=PATH (repeatable).
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    reports: Vec<String>,
    /// Where failures are kept for the next run to replay first.
    #[arg(long, env = "CONTRACT_PERSIST")]
    persist: Option<PathBuf>,
    /// Embedded server only: switch on a deliberate bug (repeatable), to see the suite catch it.
    #[arg(long = "fault", value_name = "NAME")]
    faults: Vec<String>,
    /// Embedded server only: show an accepted update in GET only after this many seconds, as
    /// the real API applies updates in the background.
    #[arg(long, value_name = "SECS", default_value_t = 0.0)]
    apply_delay: f64,
    /// Embedded server only: answer 409 to a PATCH while an earlier update is being applied.
    #[arg(long)]
    busy_conflict: bool,
    /// With --spec: run only the K-th of N shares of the document's operations (1-based), as
    /// cargo-nextest's `--partition`; N jobs with K = 1..N cover each operation exactly once.
    #[arg(long, env = "CONTRACT_PARTITION", value_name = "K/N")]
    partition: Option<String>,
    /// Add statuses a check accepts, for every operation or one (an operationId, a method name,
    /// or "METHOD /template"): `positive_data_acceptance=404,409`,
    /// `status_code_conformance:create_flow=4XX` (repeatable). Checks that take them:
    /// positive_data_acceptance, negative_data_rejection, status_code_conformance,
    /// missing_required_header.
    #[arg(long = "expected-statuses", value_name = "CHECK[:OPERATION]=CODES")]
    expected_statuses: Vec<String>,
    /// A config file (TOML) with settings beside the command line's: `[checks.CHECK]
    /// expected-statuses`, and `[[operations]]` tables for one operation's.
    #[arg(long, env = "CONTRACT_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
}

/// The credentials the command line and the config file give (the command line's first).
#[derive(Default)]
struct Credentials {
    api_key: Option<String>,
    other_api_key: Option<String>,
    basic: Option<String>,
    other_basic: Option<String>,
    headers: Vec<(String, String)>,
    other_headers: Vec<(String, String)>,
}

/// `NAME: VALUE` read as a header.
fn header_arg(h: &str) -> Result<(String, String), String> {
    match h.split_once(':') {
        Some((n, v)) if !n.trim().is_empty() && !n.contains(char::is_whitespace) => {
            Ok((n.trim().to_string(), v.trim().to_string()))
        }
        _ => Err(
            "a header is `NAME: VALUE` (-H, --other-header, or the config file's `headers`)".into(),
        ),
    }
}

fn credentials(args: &ContractArgs) -> Result<Credentials, String> {
    let config = match &args.config {
        Some(path) => crate::config::Config::load(path)?,
        None => crate::config::Config::default(),
    };
    let own = config.auth.resolved()?;
    let other = config.other_auth.resolved()?;
    let pair = |p: Option<String>| -> Result<Option<String>, String> {
        match p {
            Some(p) if !p.contains(':') => {
                Err("HTTP basic credentials are `USER:PASSWORD` (--auth, --other-auth, or the config file's `basic`)".into())
            }
            p => Ok(p),
        }
    };
    let headers =
        |given: &[String], file: Vec<(String, String)>| -> Result<Vec<(String, String)>, String> {
            let mut out: Vec<(String, String)> = given
                .iter()
                .map(|h| header_arg(h))
                .collect::<Result<_, _>>()?;
            for (n, v) in file {
                if !out.iter().any(|(k, _)| k.eq_ignore_ascii_case(&n)) {
                    out.push((n, v));
                }
            }
            Ok(out)
        };
    Ok(Credentials {
        api_key: args.api_key.clone().or(own.api_key),
        other_api_key: args.other_api_key.clone().or(other.api_key),
        basic: pair(args.auth.clone().or(own.basic))?,
        other_basic: pair(args.other_auth.clone().or(other.basic))?,
        headers: headers(&args.headers, own.headers)?,
        other_headers: headers(&args.other_headers, other.headers)?,
    })
}

/// The statuses the config file and `--expected-statuses` add to the checks'.
fn expected(args: &ContractArgs) -> Result<crate::checks::Expected, String> {
    let mut e = crate::checks::Expected::default();
    if let Some(path) = &args.config {
        crate::config::Config::load(path)?.expected_into(&mut e)?;
    }
    for a in &args.expected_statuses {
        e.add_arg(a)?;
    }
    Ok(e)
}

/// `--partition K/N`, checked.
fn partition(args: &ContractArgs) -> Result<Option<crate::partition::Partition>, String> {
    args.partition
        .as_deref()
        .map(crate::partition::Partition::parse)
        .transpose()
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

/// Runs the suite as the command line asked; the exit status is 0 (no violation), 1 (violations)
/// or 2 (could not run).
pub fn run(args: ContractArgs) -> ExitCode {
    // spec/'s faults: the hand-written ones and those generated from it (`--spec` has its own).
    let mut faults = Vec::new();
    let mut generated = Vec::new();
    let spec_faults = crate::spec::generated_faults();
    for f in args.faults.iter().filter(|_| args.spec.is_none()) {
        match (
            Fault::from_name(f),
            crate::faults::Generated::find(spec_faults, f),
        ) {
            (Some(x), _) => faults.push(x),
            (None, Some(g)) => generated.push(g.clone()),
            (None, None) => {
                let names: Vec<&str> = Fault::ALL.iter().map(|(_, n)| *n).collect();
                return fail(&format!(
                    "unknown fault `{f}`; written by hand: {}; `cargo xtask serve --list-faults` lists the generated ones",
                    names.join(", ")
                ));
            }
        }
    }
    let mut reports = Vec::new();
    for r in &args.reports {
        match r.split_once('=') {
            Some((fmt @ ("json" | "junit" | "html"), path)) if !path.is_empty() => {
                reports.push((fmt.to_string(), PathBuf::from(path)))
            }
            _ => {
                return fail(&format!(
                    "--report takes json=PATH, junit=PATH or html=PATH, not `{r}`"
                ))
            }
        }
    }
    for (what, v) in [
        ("--timeout", args.timeout),
        ("--deadline", args.deadline),
        ("--readback-timeout", args.readback_timeout),
        ("--max-response-time", args.max_response_time.unwrap_or(1.0)),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return fail(&format!("{what} must be a positive number of seconds"));
        }
    }

    if let Err(e) = partition(&args) {
        return fail(&e);
    }
    if let Err(e) = expected(&args) {
        return fail(&e);
    }
    let creds = match credentials(&args) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    if let Some(path) = &args.spec {
        return probe(&args, path, &reports);
    }
    if args.partition.is_some() {
        return fail("--partition needs --spec: it shares a document's operations among CI jobs");
    }
    if !args.operations.is_empty() {
        return fail("--operation needs --spec");
    }

    // The embedded server lives until the end of main.
    let embedded;
    let (url, key, cvm, onchain) = match &args.target {
        Some(t) => {
            if !args.faults.is_empty() || args.apply_delay != 0.0 || args.busy_conflict {
                return fail("--fault, --apply-delay and --busy-conflict apply to the embedded server only (no --target)");
            }
            let Some(cvm) = args.cvm_id.clone() else {
                return fail("--target needs --cvm-id (or CONTRACT_CVM_ID)");
            };
            (
                t.clone(),
                creds.api_key.clone(),
                cvm,
                args.onchain_cvm_id.clone(),
            )
        }
        None => {
            if !(args.apply_delay.is_finite() && args.apply_delay >= 0.0) {
                return fail("--apply-delay must be a number of seconds, 0 or more");
            }
            let timing = server::Timing {
                apply_delay: Duration::from_secs_f64(args.apply_delay),
                busy_conflict: args.busy_conflict,
                ..server::Timing::default()
            };
            embedded =
                match server::spawn_mutant(0, server::DEFAULT_API_KEY, &faults, &generated, timing)
                {
                    Ok(s) => s,
                    Err(e) => return fail(&format!("cannot start the reference server: {e}")),
                };
            eprintln!(
                "reference server on {}{}{}",
                embedded.url,
                match (args.apply_delay > 0.0, args.busy_conflict) {
                    (false, false) => String::new(),
                    (d, b) => format!(
                        " (updates shown after {}s{})",
                        if d { args.apply_delay } else { 0.0 },
                        if b { ", 409 while one is applied" } else { "" }
                    ),
                },
                if args.faults.is_empty() {
                    String::new()
                } else {
                    format!(" with faults: {}", args.faults.join(", "))
                }
            );
            (
                embedded.url.clone(),
                Some(server::DEFAULT_API_KEY.to_string()),
                args.cvm_id.clone().unwrap_or_else(|| server::CVM_ID.into()),
                Some(
                    args.onchain_cvm_id
                        .clone()
                        .unwrap_or_else(|| server::ONCHAIN_CVM_ID.into()),
                ),
            )
        }
    };

    let mut s = settings(&args, &url, key.clone(), &cvm);
    s.onchain_cvm_id = onchain;
    s.readback_timeout = Duration::from_secs_f64(args.readback_timeout);
    if let Some(n) = args.concurrency {
        if n == 0 {
            return fail("--concurrency must be 1 or more");
        }
        s.concurrency = n;
    }
    s.persist = args
        .persist
        .clone()
        .or_else(|| Some(PathBuf::from("target/contract-tests/failures.json")));
    s.progress = runner::progress_for_stderr();

    let result = runner::run(&s);
    let secrets = s.secrets();
    let hidden: Vec<&str> = secrets.iter().map(String::as_str).collect();
    finish(&result, &hidden, &reports)
}

/// The settings both forms of the suite take from the command line.
fn settings(args: &ContractArgs, target: &str, key: Option<String>, id: &str) -> Settings {
    let mut s = Settings::new(target, key, id);
    // Checked before the run starts (`run`).
    let creds = credentials(args).unwrap_or_default();
    let secret = |v: Option<String>| v.map(crate::http::Secret::from);
    s.basic = secret(creds.basic);
    s.other_basic = secret(creds.other_basic);
    let headers = |hs: Vec<(String, String)>| {
        hs.into_iter()
            .map(|(n, v)| (n, crate::http::Secret::from(v)))
            .collect()
    };
    s.headers = headers(creds.headers);
    s.other_headers = headers(creds.other_headers);
    s.cases = args.cases;
    s.seed = args.seed;
    s.timeout = Duration::from_secs_f64(args.timeout);
    s.deadline = Duration::from_secs_f64(args.deadline);
    if let Some(m) = args.mode {
        s.mode = match m {
            ModeArg::Full => Mode::Full,
            ModeArg::Negative => Mode::Negative,
        };
    }
    s.rate = args.rate;
    s.max_requests = args.max_requests;
    s.strict_types = args.strict_types;
    s.insecure = args.insecure;
    s.max_response_time = args.max_response_time.map(Duration::from_secs_f64);
    s.verify_every_kind = args.verify_every_kind;
    // Checked before the run starts (`run`).
    s.expected = expected(args).unwrap_or_default();
    s
}

/// The summary on stdout, the report files, the exit status.
fn finish(result: &runner::Report, secrets: &[&str], reports: &[(String, PathBuf)]) -> ExitCode {
    print!("{}", report::summary(result, secrets));
    for (fmt, path) in reports {
        if let Err(e) = report::write(fmt, path, result, secrets) {
            eprintln!(
                "error: cannot write the {fmt} report to {}: {e}",
                path.display()
            );
            return ExitCode::from(2);
        }
        eprintln!("wrote {fmt} report to {}", path.display());
    }
    ExitCode::from(result.exit_code())
}

/// `--spec PATH`: every operation (or those named) of a document, against `--target`.
fn probe(args: &ContractArgs, path: &std::path::Path, reports: &[(String, PathBuf)]) -> ExitCode {
    if args.target.is_some()
        && (!args.faults.is_empty() || args.apply_delay != 0.0 || args.busy_conflict)
    {
        return fail("--fault, --apply-delay and --busy-conflict apply to the embedded server only (no --target)");
    }
    if args.apply_delay != 0.0 || args.busy_conflict {
        return fail("--apply-delay and --busy-conflict apply to spec/'s reference server; the mock of --spec answers at once");
    }
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return fail(&format!("cannot read {}: {e}", path.display())),
    };
    let schema = match crate::meta::Schema::from_document(&text) {
        Ok(s) => std::sync::Arc::new(s),
        Err(e) => return fail(&format!("{}: {e}", path.display())),
    };
    let unknown = expected(args)
        .map(|e| e.unknown_operations(&schema))
        .unwrap_or_default();
    if !unknown.is_empty() {
        return fail(&format!(
            "expected statuses name operations {} does not have: {}",
            path.display(),
            unknown.join(", ")
        ));
    }
    // Without --target, the stateful mock of the document itself, with any --fault switched on.
    let mock;
    let creds = credentials(args).unwrap_or_default();
    let (target, key, other) = match &args.target {
        Some(t) => (
            t.clone(),
            creds.api_key.clone(),
            creds.other_api_key.clone(),
        ),
        None => {
            let all = crate::faults::of_document(&schema);
            let mut faults = Vec::new();
            for name in &args.faults {
                match crate::faults::Generated::find(&all, name) {
                    Some(g) => faults.push(g.clone()),
                    None => return fail(&format!("unknown fault `{name}`; `cargo xtask serve --spec {} --list-faults` lists this document's", path.display())),
                }
            }
            let opts = crate::mock::Options {
                faults,
                ..Default::default()
            };
            mock = match crate::mock::spawn(schema.clone(), 0, opts) {
                Ok(m) => m,
                Err(e) => return fail(&format!("cannot start the mock: {e}")),
            };
            eprintln!("mock of {} on {}", path.display(), mock.url);
            (
                mock.url.clone(),
                Some(server::DEFAULT_API_KEY.to_string()),
                Some(crate::mock::OTHER_API_KEY.to_string()),
            )
        }
    };
    let mut s = settings(args, &target, key.clone(), "");
    s.other_api_key = other.map(crate::http::Secret::from);
    s.partition = partition(args).ok().flatten();
    let result = crate::probe::run(&s, schema, &args.operations);
    let secrets = s.secrets();
    let hidden: Vec<&str> = secrets.iter().map(String::as_str).collect();
    finish(&result, &hidden, reports)
}

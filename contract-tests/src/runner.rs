//! The suite: preflight, authentication, a sweep of every mutation, proptest-driven cases with
//! read-back, the header flows, and a verdict. Each violation is kept once per (check, field), with
//! the smallest body proptest could shrink it to.

use crate::checks::{self, Check};
use crate::http::{self, Auth, Exchange, Exhausted, Target, TargetOptions};
use crate::judge;
use crate::meta::{schema, Object, Operation};
use crate::mutate::{self, Mutation};
use crate::spec::{get_op, readback_object, update_body, update_op};
use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, RngAlgorithm, TestError, TestRng, TestRunner};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What the suite may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Valid bodies too: they really change what they update.
    Full,
    /// Only bodies a correct server must reject: nothing changes.
    Negative,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Negative => "negative",
        }
    }

    /// `full` against a loopback target (127.0.0.0/8, `localhost`, `[::1]`), `negative` anywhere else.
    pub fn default_for(url: &str) -> Mode {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = if authority.starts_with('[') {
            authority.split_inclusive(']').next().unwrap_or("")
        } else {
            authority.split(':').next().unwrap_or("")
        };
        let loopback_v4 = host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
        if loopback_v4 || host.eq_ignore_ascii_case("localhost") || host == "[::1]" {
            Mode::Full
        } else {
            Mode::Negative
        }
    }
}

/// How to show progress while running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Off,
    /// A line rewritten in place (terminals).
    Line,
    /// A plain line every few seconds (logs).
    Plain,
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub target: String,
    pub api_key: Option<String>,
    /// A second user's key: what the first user created must stay out of its reach.
    pub other_api_key: Option<String>,
    pub cvm_id: String,
    /// A CVM whose KMS is on chain, for the two-phase flow (skipped when absent).
    pub onchain_cvm_id: Option<String>,
    pub cases: u32,
    pub seed: u64,
    pub timeout: Duration,
    pub deadline: Duration,
    /// How long read-back may take to show an accepted update.
    pub readback_timeout: Duration,
    pub mode: Mode,
    pub rate: Option<f64>,
    pub max_requests: Option<u64>,
    /// Report servers that coerce wrongly typed values (`"4"` for an integer) as violations.
    pub strict_types: bool,
    pub insecure: bool,
    /// Where failures are kept so the next run replays them first.
    pub persist: Option<PathBuf>,
    /// Mutations sent per random case.
    pub mutations_per_case: usize,
    pub progress: Progress,
    /// Bytes of an answer read at most.
    pub read_limit: usize,
    /// Requests that change nothing (negative probes) sent at once, each on its own connection;
    /// 1 sends everything in turn on one. Default: 4 on loopback, 1 elsewhere.
    pub concurrency: usize,
    /// End the run at its first failure (a mutant is killed at once): no request goes out after
    /// it, the replay before the verdict included.
    pub fail_fast: bool,
    /// `--partition K/N`: only the K-th of N shares of the document's operations (1-based).
    pub partition: Option<crate::partition::Partition>,
}

impl Settings {
    /// Defaults for a target: 256 cases, seed 0, 10 s per request, 10 min per run.
    pub fn new(target: &str, api_key: Option<String>, cvm_id: &str) -> Self {
        Settings {
            target: target.trim_end_matches('/').to_string(),
            api_key,
            other_api_key: None,
            cvm_id: cvm_id.to_string(),
            onchain_cvm_id: None,
            cases: 256,
            seed: 0,
            timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(600),
            readback_timeout: Duration::from_secs(5),
            mode: Mode::default_for(target),
            rate: None,
            max_requests: None,
            strict_types: false,
            insecure: false,
            persist: None,
            mutations_per_case: 4,
            progress: Progress::Off,
            read_limit: 1 << 20,
            fail_fast: false,
            partition: None,
            concurrency: if Mode::default_for(target) == Mode::Full {
                4
            } else {
                1
            },
        }
    }
}

/// One broken check, kept once per (check, field).
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub check: Check,
    /// The field concerned (`shutdown_timeout`, `gpus.gpus[0].slot`), or `(body)`, `(status)`...
    pub field: String,
    /// The mutation rule, for negative checks.
    pub rule: Option<&'static str>,
    pub message: String,
    /// What was sent and what came back.
    pub exchange: Exchange,
    /// Whether the body was a valid one (`true`) or a mutation (`false`); for replay.
    pub valid_body: bool,
    /// For a mutation, the JSON path of the field it broke; for replay.
    pub path: Vec<Value>,
    /// The run's seed and the round of proptest that found it.
    pub seed: u64,
}

impl Violation {
    pub fn key(&self) -> (&'static str, String) {
        (self.check.name, self.field.clone())
    }

    /// The bug a server error stands for: its status and the start of its body. Two requests
    /// answered with the same 5xx are one bug, whatever else their bodies break.
    /// Whether the run fails on this finding even when a replay did not reproduce it: a server
    /// error is a bug whatever state it takes to show, so it is reported as flaky and still fails.
    pub fn fails_when_flaky(&self) -> bool {
        self.exchange
            .outcome
            .as_ref()
            .is_ok_and(|a| a.status >= 500)
    }

    pub fn bug(&self) -> Option<String> {
        let a = self.exchange.outcome.as_ref().ok()?;
        (a.status >= 500).then(|| {
            let head: String = String::from_utf8_lossy(&a.body[..a.body.len().min(120)])
                .chars()
                .map(|c| if c.is_ascii_digit() { '#' } else { c })
                .collect();
            format!("{} {head}", a.status)
        })
    }
}

/// The violations one request showed: one failure, however many checks it broke.
#[derive(Debug, Clone)]
pub struct Failure<'r> {
    /// In the order found; all carry the same request.
    pub violations: Vec<&'r Violation>,
}

impl<'r> Failure<'r> {
    /// The violation found first, whose request and answer stand for the failure.
    pub fn first(&self) -> &'r Violation {
        self.violations[0]
    }

    /// The checks it broke, each once, in the order found.
    pub fn checks(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for v in &self.violations {
            if !out.contains(&v.check.name) {
                out.push(v.check.name);
            }
        }
        out
    }
}

/// `v` first, then the other violations of `found` that the same request showed.
fn same_request(v: &Violation, found: Vec<Violation>) -> Vec<Violation> {
    let mut out = vec![v.clone()];
    out.extend(
        found
            .into_iter()
            .filter(|w| w.exchange.sent == v.exchange.sent && w.key() != v.key()),
    );
    out
}

/// Groups violations by the request that showed them, in the order first found.
pub fn group(violations: &[Violation]) -> Vec<Failure<'_>> {
    let mut out: Vec<Failure<'_>> = Vec::new();
    for v in violations {
        match out
            .iter_mut()
            .find(|f| f.first().exchange.sent == v.exchange.sent)
        {
            Some(f) => f.violations.push(v),
            None => out.push(Failure {
                violations: vec![v],
            }),
        }
    }
    out
}

/// The result of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub target: String,
    pub mode: &'static str,
    pub seed: u64,
    pub insecure: bool,
    pub cases: u32,
    pub cases_planned: u32,
    pub requests: u64,
    pub elapsed: Duration,
    pub violations: Vec<Violation>,
    /// Violations whose request, sent once more at the end of the run, did not break the check
    /// again: reported as flaky, and not failing the run on their own, unless they are server
    /// errors ([`Violation::fails_when_flaky`]).
    pub flaky: Vec<Violation>,
    /// Findings that do not fail the run (lenient type coercion, unless strict).
    pub warnings: Vec<Violation>,
    /// Requests judged by each check.
    pub per_check: BTreeMap<&'static str, u64>,
    /// Requests judged by each check, per field.
    pub judged: BTreeMap<&'static str, BTreeMap<String, u64>>,
    /// Requests that exercised each field.
    pub per_field: BTreeMap<String, u64>,
    /// Field x rule -> answers seen (status code, or `error`) and their counts.
    pub coverage: BTreeMap<(String, String), BTreeMap<String, u64>>,
    /// Why the run ended before its planned cases, if it did.
    pub stopped_early: Option<String>,
    /// Why the run could not happen at all (exit status 2).
    pub could_not_run: Option<String>,
    /// What the run is of, as reports title it (`update_cvm contract`, or the document's).
    pub title: String,
    /// Operations run (the probe of a whole document).
    pub operations: usize,
    /// The client method names of the operations run, in order (a `--partition` job's share).
    pub operation_names: Vec<String>,
    /// Operations or parts left out, with why (no valid value can be drawn, say).
    pub skipped: Vec<String>,
}

impl Report {
    /// 0 no violation, 1 violations, 2 could not run.
    /// Records a violation: the first one per key wins, and a server error already reported for
    /// another request is the same bug, not a new failure (one request's other checks are kept,
    /// and grouped with it into one failure).
    pub fn record(&mut self, v: Violation) {
        let same_bug = |x: &Violation| {
            x.exchange.sent != v.exchange.sent && v.bug().is_some() && x.bug() == v.bug()
        };
        if !self
            .violations
            .iter()
            .any(|x| x.key() == v.key() || same_bug(x))
        {
            self.violations.push(v);
        }
    }

    /// Records a finding that does not fail the run, once per key.
    pub fn warn(&mut self, v: Violation) {
        if !self.warnings.iter().any(|x| x.key() == v.key()) {
            self.warnings.push(v);
        }
    }

    /// Counts an answer to a request that exercised `rule` on `field`, by its status.
    pub fn cover(&mut self, field: &str, rule: &str, ex: &Exchange) {
        let seen = ex
            .status()
            .map_or_else(|| "error".into(), |s| s.to_string());
        *self
            .coverage
            .entry((field.to_string(), rule.to_string()))
            .or_default()
            .entry(seen)
            .or_default() += 1;
        match self.per_field.get_mut(field) {
            Some(n) => *n += 1,
            None => {
                self.per_field.insert(field.to_string(), 1);
            }
        }
    }

    /// Counts one judgement of `check` on `field`.
    pub fn tick(&mut self, check: Check, field: &str) {
        *self.per_check.entry(check.name).or_default() += 1;
        let per_field = self.judged.entry(check.name).or_default();
        match per_field.get_mut(field) {
            Some(n) => *n += 1,
            None => {
                per_field.insert(field.to_string(), 1);
            }
        }
    }

    pub fn exit_code(&self) -> u8 {
        if self.could_not_run.is_some() {
            2
        } else if self.violations.is_empty() && !self.flaky.iter().any(Violation::fails_when_flaky)
        {
            0
        } else {
            1
        }
    }

    /// The run's failures: its violations grouped by request.
    pub fn failures(&self) -> Vec<Failure<'_>> {
        group(&self.violations)
    }

    /// Flaky findings grouped by request.
    pub fn flaky_failures(&self) -> Vec<Failure<'_>> {
        group(&self.flaky)
    }

    pub fn requests_per_second(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.requests as f64 / s
        } else {
            0.0
        }
    }

    /// Whether a violation of this check was found.
    pub fn failed(&self, check: &str) -> bool {
        self.violations.iter().any(|v| v.check.name == check)
    }
}

/// Runs the suite. Never panics on what the target does; a target that cannot be reached gives a
/// report with `could_not_run`.
pub fn run(settings: &Settings) -> Report {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return Report {
                could_not_run: Some(format!("cannot start a runtime: {e}")),
                ..Report::default()
            }
        }
    };
    let started = Instant::now();
    let target = match Target::new(TargetOptions {
        base_url: settings.target.clone(),
        api_key: settings.api_key.clone(),
        timeout: settings.timeout,
        rate: settings.rate,
        max_requests: settings.max_requests,
        deadline: started + settings.deadline,
        read_limit: settings.read_limit,
        insecure: settings.insecure,
        other_api_key: settings.other_api_key.clone(),
        max_retry_after: Duration::from_secs(30).min(settings.deadline / 4),
        shown: std::sync::Arc::new(http::Shown {
            credential: update_op()
                .auth
                .first()
                .map(|a| http::Credential::parse(a))
                .unwrap_or_default(),
            secret_fields: crate::probe::secret_fields(schema()),
        }),
    }) {
        Ok(t) => t,
        Err(e) => {
            return Report {
                could_not_run: Some(e),
                ..Report::default()
            }
        }
    };
    let halt = settings.fail_fast.then(|| target.halt_switch());
    let suite = Suite {
        s: settings,
        target,
        rec: Recorder {
            report: RefCell::new(Report {
                target: settings.target.clone(),
                mode: settings.mode.name(),
                seed: settings.seed,
                insecure: settings.insecure,
                cases_planned: settings.cases,
                title: format!("{} contract", update_op().name),
                operations: 1,
                operation_names: vec![update_op().name.clone()],
                ..Report::default()
            }),
            answered: RefCell::new(0),
            round_seed: RefCell::new(settings.seed),
            halt,
        },
        state: RefCell::new(None),
        initial: RefCell::new(None),
        progress_at: RefCell::new(Instant::now()),
        stale: RefCell::new(false),
        shrinking: RefCell::new(false),
        composed: RefCell::new(Composed::default()),
        deferred: RefCell::new(Vec::new()),
    };
    for phase in PHASES {
        if suite.rec.report.borrow().could_not_run.is_some() {
            break;
        }
        match phase {
            // proptest drives the runtime case by case.
            Phase::Random => suite.random_phase(&rt),
            p => rt.block_on(suite.phase(p)),
        }
    }
    suite.finish_progress();
    let mut report = suite.rec.report.into_inner();
    report.requests = suite.target.requests();
    report.elapsed = started.elapsed();
    if let Some(path) = &settings.persist {
        persist(path, &report);
    }
    report
}

/// The stateful suite's phases, in the order they run. Each runs over the shared context
/// ([`Suite`]: the target, the settings, the resource's state) and reports through its
/// [`Recorder`]; a phase that runs out of budget ends, and the next one starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The target answers and knows the resource (else the run could not happen).
    Preflight,
    /// Without the key, or with a wrong one: 401, and nothing changes.
    Authentication,
    /// A resource that does not exist is not found.
    UnknownId,
    /// A valid body with a key the schema does not declare (full mode).
    ExtraKey,
    /// The failures the last run kept, first.
    ReplayPersisted,
    /// Every mutation of a base body.
    Sweep,
    /// Every field's edges (`draw::edges`), each alone in a valid body (full mode).
    Edges,
    /// Every nested position reached with what random draws seldom give (`breadth::variants`:
    /// undeclared keys, optional properties left out, nulls, equal and many items, NUL and
    /// non-ASCII text), then one valid update sent twice (full mode).
    Breadth,
    /// In negative mode, the resource reads back unchanged.
    RejectionChangesNothing,
    /// proptest-driven cases with composed read-back.
    Random,
    /// The flow `x-two-phase` describes.
    HeaderFlows,
    /// Every violation's request sent once more: what does not repeat is flaky.
    ReplayViolations,
}

const PHASES: [Phase; 12] = [
    Phase::Preflight,
    Phase::Authentication,
    Phase::UnknownId,
    Phase::ReplayPersisted,
    Phase::Sweep,
    Phase::Edges,
    Phase::Breadth,
    Phase::RejectionChangesNothing,
    Phase::Random,
    // After the random phase has seen its updates shown: against a target that refuses updates
    // while one is applied (409), an accepted update before the random phase would make it wait
    // a second time.
    Phase::ExtraKey,
    Phase::HeaderFlows,
    Phase::ReplayViolations,
];

/// What a run found and judged: counting (per check, per field, coverage), violations kept once
/// per (check, field) or per bug, and warnings. The suite's phases report through it; it owns
/// the report until the run ends.
#[derive(Default)]
struct Recorder {
    report: RefCell<Report>,
    /// Requests that got any answer at all.
    answered: RefCell<u64>,
    /// The seed of the proptest round a violation is found in.
    round_seed: RefCell<u64>,
    /// With [`Settings::fail_fast`], the target's halt switch, set at the first violation.
    halt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl Recorder {
    fn tick(&self, check: Check, field: &str) {
        self.report.borrow_mut().tick(check, field);
    }

    fn violation(
        &self,
        check: Check,
        field: &str,
        rule: Option<&'static str>,
        msg: String,
        ex: &Exchange,
        valid: bool,
    ) -> Violation {
        // A violation keeps only the start of the answer: enough to show, and memory stays flat
        // however many are found and however large the answers.
        let mut exchange = ex.clone();
        if let Ok(a) = &mut exchange.outcome {
            if a.body.len() > KEPT_BODY {
                a.body.truncate(KEPT_BODY);
                a.body.shrink_to_fit();
                a.truncated = true;
            }
        }
        Violation {
            check,
            field: field.to_string(),
            rule,
            message: msg,
            exchange,
            valid_body: valid,
            path: Vec::new(),
            seed: *self.round_seed.borrow(),
        }
    }

    fn record(&self, v: Violation) {
        self.report.borrow_mut().record(v);
        if let Some(h) = &self.halt {
            h.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn warn(&self, v: Violation) {
        self.report.borrow_mut().warn(v);
    }

    fn cover(&self, field: &str, rule: &str, ex: &Exchange) {
        self.report.borrow_mut().cover(field, rule, ex);
    }
}

struct Suite<'a> {
    s: &'a Settings,
    target: Target,
    /// Counting, violations and de-duplication.
    rec: Recorder,
    /// The CVM as last read back.
    state: RefCell<Option<Value>>,
    /// The CVM as the preflight first read it.
    initial: RefCell<Option<Value>>,
    progress_at: RefCell<Instant>,
    /// Whether a request may have changed the CVM since it was last read back (an invalid body
    /// that a lax server accepted, a header flow).
    stale: RefCell<bool>,
    /// Whether proptest is shrinking a violation: read-back then does not wait for an update to
    /// show; the smallest body found is checked again with the full wait before it is reported.
    shrinking: RefCell<bool>,
    /// Updates accepted in the random phase and not yet seen in a read-back.
    composed: RefCell<Composed>,
    /// Mutations of the random phase held back while the target is slow to show updates: sent
    /// after the valid updates, so that they fill the wait for the last one instead of adding to
    /// it.
    deferred: RefCell<Vec<Mutation>>,
}

/// Mutations held back at most; at it the older half is sent (memory stays bounded, and the
/// newer half is left to fill the last wait).
const DEFER_CAP: usize = 8192;

/// How many accepted updates go by between two read-backs that do not wait.
const POLL_EVERY: usize = 8;

/// What the read-back must show once every accepted update is applied: the composition of the
/// updates since the last read-back that showed them all. A target that applies updates in the
/// background is then waited for once per settle (the end of the random phase, or before a
/// shrink), not once per case.
#[derive(Default)]
struct Composed {
    /// Read-back key -> what the latest accepted update that set it expects, and its exchange;
    /// `None` when a request the suite cannot predict (a coerced invalid body) set it last.
    keys: BTreeMap<String, Option<(Expect, std::rc::Rc<Exchange>)>>,
    /// When the latest update was accepted.
    last: Option<Instant>,
    /// Accepted updates since the last read-back.
    since_poll: usize,
    /// Read-back violations found, each attributed to the update that set the field.
    found: Vec<Violation>,
    /// The latest valid body a busy target answered 409 that would have changed the CVM.
    busy: Option<Value>,
    /// Whether a read-back has shown an accepted update change the CVM (an update that sets what
    /// is already there proves nothing about applying).
    shown_change: bool,
    /// Whether a read-back found an accepted update not shown yet: the target may apply late
    /// (or not at all).
    lagging: bool,
    /// Read-back key -> the value expected of it that the latest read-back did not show.
    unshown: BTreeMap<String, Value>,
    /// Whether a value expected but not shown by one read-back showed in a later one: the
    /// target does apply late, so a read-back made at once proves nothing.
    lag_proven: bool,
    /// Read-back key -> every value the updates accepted since the CVM last read back as
    /// predicted gave it; `None` when a request the suite cannot predict touched it. However late
    /// a target applies, a key reads back as before or as one of these.
    since: BTreeMap<String, Option<Vec<Value>>>,
    /// Read-back key -> the latest update that left it out since another one set it. A value
    /// that does not show is blamed on the update that set it (a target that ignores the field);
    /// when that does not reproduce, on this one (a target that resets what is left out).
    left_out_by: BTreeMap<String, std::rc::Rc<Exchange>>,
    /// PATCH field -> the update to try when a composed violation on it does not reproduce with
    /// the update that set it (`left_out_by` when the violation was found).
    alternatives: BTreeMap<String, std::rc::Rc<Exchange>>,
    /// PATCH fields whose latest value no other update may change until a read-back has shown it
    /// (or the composition was judged): a kind of value the run must see confirmed, such as a
    /// null (`Suite::hold_nulls`). Random bodies leave them out meanwhile.
    held: BTreeSet<String>,
}

impl Composed {
    /// Releases the held fields that `now` shows as expected, or that no longer wait for a
    /// read-back (judged, or set by a request the suite cannot predict).
    fn release(&mut self, now: &Value) {
        let keys = &self.keys;
        self.held.retain(|f| {
            let readback = update_body()
                .field(f)
                .and_then(|x| x.readback.as_ref())
                .map(|r| r.field.as_str());
            match readback.and_then(|r| keys.get(r)) {
                Some(Some((e, _))) => e.field == *f && !e.shown_in(now),
                _ => false,
            }
        });
    }

    fn pending(&self) -> bool {
        self.keys.values().any(Option::is_some)
    }

    /// `base` (the CVM as last read back) with every known expectation applied.
    fn predicted(&self, base: &Value) -> Value {
        let mut out = base.clone();
        if let Some(o) = out.as_object_mut() {
            for (k, e) in &self.keys {
                match e {
                    Some((e, _)) => {
                        o.insert(k.clone(), e.value.clone());
                    }
                    None => {
                        o.remove(k);
                    }
                }
            }
        }
        out
    }

    /// Notes an expectation an accepted update added: its value is one the key may now show.
    fn allow(&mut self, e: &Expect) {
        let values = self.since.entry(e.readback.clone()).or_insert(Some(vec![]));
        if let Some(values) = values {
            if !values.contains(&e.value) {
                values.push(e.value.clone());
            }
        }
    }

    /// Notes a key set by a request the suite cannot predict: from now on it may show anything.
    fn unknown(&mut self, key: &str) {
        self.keys.insert(key.into(), None);
        self.since.insert(key.into(), None);
        self.left_out_by.remove(key);
    }

    /// Keeps, for a violation found on `e`, the update that left its key out since.
    fn blame(&mut self, e: &Expect) {
        if let Some(ex) = self.left_out_by.get(&e.readback) {
            self.alternatives.insert(e.field.clone(), ex.clone());
        }
    }

    /// The CVM read back as predicted (or was taken as it is): what may show starts again from
    /// it, but for keys that stay unknown.
    fn confirmed(&mut self) {
        self.left_out_by.clear();
        self.unshown.clear();
        let keys = &self.keys;
        self.since.retain(|k, _| matches!(keys.get(k), Some(None)));
        for v in self.since.values_mut() {
            *v = None;
        }
    }

    /// Expectations whose key reads back a value that neither `base` (the CVM as last read back)
    /// nor any update accepted since gave it. No lag explains such a value, so it is a violation
    /// at once; the key is unknown from then on, so it is reported once.
    fn impossible(
        &mut self,
        base: &Value,
        now: &Value,
    ) -> Vec<(Expect, std::rc::Rc<Exchange>, Value)> {
        let mut out = Vec::new();
        for (k, e) in &self.keys {
            let (Some((e, ex)), Some(Some(values))) = (e, self.since.get(k)) else {
                continue;
            };
            let shown = read(now, k);
            if shown != read(base, k) && !values.contains(&shown) {
                out.push((e.clone(), ex.clone(), shown));
            }
        }
        for (e, _, _) in &out {
            self.blame(e);
            self.unknown(&e.readback);
        }
        out
    }
}

/// Bytes of an answer a violation keeps.
const KEPT_BODY: usize = 8 * 1024;

fn cvm_path(id: &str) -> String {
    crate::spec::resource_path(id)
}

impl Suite<'_> {
    fn secrets<'b>(&'b self, body: Option<&'b Value>) -> Vec<&'b str> {
        let mut out: Vec<&str> = self.s.api_key.iter().map(String::as_str).collect();
        let Some(b) = body else { return out };
        // The secret fields the target was set up with (`http::Shown`), not read again per call.
        let fields = &self.target.options().shown.secret_fields;
        out.extend(checks::secret_values(b, fields.iter().map(String::as_str)));
        out
    }

    /// Checks every answer gets: it came, no 5xx, documented, matching its schema, no echo.
    fn common(
        &self,
        op: &Operation,
        ex: &Exchange,
        field: &str,
        valid: bool,
        body: Option<&Value>,
        mutation: Option<&Mutation>,
    ) -> Vec<Violation> {
        let mut out = Vec::new();
        self.rec.tick(checks::TARGET_ANSWERS, field);
        let a = match &ex.outcome {
            Ok(a) => {
                *self.rec.answered.borrow_mut() += 1;
                a
            }
            Err(_) => {
                if let Err(m) = checks::target_answers(ex) {
                    out.push(self.rec.violation(
                        checks::TARGET_ANSWERS,
                        "(request)",
                        None,
                        m,
                        ex,
                        valid,
                    ));
                }
                return out;
            }
        };
        let secrets = self.secrets(body);
        let seen = checks::Seen {
            schema: schema(),
            op,
            answer: a,
            mutation,
            secrets: &secrets,
        };
        for (check, verdict) in checks::judge(&seen, checks::Applies::Every) {
            self.rec.tick(check, field);
            if let Err(m) = verdict {
                let f = if check == checks::STATUS_CODE_CONFORMANCE
                    || check == checks::RESPONSE_SCHEMA_CONFORMANCE
                {
                    format!("(status {})", a.status)
                } else {
                    field.to_string()
                };
                out.push(self.rec.violation(check, &f, None, m, ex, valid));
            }
        }
        out
    }

    async fn get(&self, id: &str) -> Result<Exchange, Exhausted> {
        self.target
            .send("GET", &cvm_path(id), &[], None, Auth::Key)
            .await
    }

    /// Reads the CVM back; records the GET's own checks. `None` when it could not be read.
    async fn read_back(&self, id: &str) -> Result<Option<Value>, Exhausted> {
        let ex = self.get(id).await?;
        for v in self.common(get_op(), &ex, "(read-back)", true, None, None) {
            self.rec.record(v);
        }
        Ok(ex
            .outcome
            .ok()
            .filter(|a| a.status == 200)
            .and_then(|a| a.json()))
    }

    /// Runs one phase (the random one needs the runtime itself: see [`run`]).
    async fn phase(&self, phase: Phase) {
        let _ = match phase {
            Phase::Preflight => {
                self.preflight().await;
                Ok(())
            }
            Phase::Authentication => self.auth_phase().await,
            Phase::UnknownId => self.unknown_id_probe().await,
            Phase::ExtraKey if self.s.mode == Mode::Full => self.extra_key_probe().await,
            Phase::ExtraKey => Ok(()),
            Phase::ReplayPersisted => self.replay_persisted().await,
            Phase::Sweep => self.sweep().await,
            Phase::Edges if self.s.mode == Mode::Full => self.edges().await,
            Phase::Edges => Ok(()),
            Phase::Breadth if self.s.mode == Mode::Full => self.breadth().await,
            Phase::Breadth => Ok(()),
            Phase::RejectionChangesNothing => self.rejection_changes_nothing().await,
            Phase::Random => Ok(()),
            Phase::HeaderFlows => self.header_flows().await,
            Phase::ReplayViolations => {
                self.replay_violations().await;
                Ok(())
            }
        };
    }

    /// The target answers and knows the resource; its state as first read.
    async fn preflight(&self) {
        let ex = match self.get(&self.s.cvm_id).await {
            Ok(ex) => ex,
            Err(Exhausted) => {
                self.rec.report.borrow_mut().could_not_run =
                    Some("no request budget at all".into());
                return;
            }
        };
        let why = match &ex.outcome {
            Err(f) => Some(format!("target unreachable: {} ({})", f.message, f.kind)),
            Ok(a) if a.status == 401 || a.status == 403 => Some(format!(
                "the target refused the API key ({}); set --api-key or PHALA_API_KEY",
                a.status
            )),
            Ok(a) if a.status == 404 => Some(format!(
                "the target has no CVM `{}` (404); set --cvm-id",
                self.s.cvm_id
            )),
            Ok(_) => None,
        };
        if let Some(why) = why {
            self.rec.report.borrow_mut().could_not_run = Some(why);
            return;
        }
        for v in self.common(get_op(), &ex, "(read-back)", true, None, None) {
            self.rec.record(v);
        }
        let initial = ex.outcome.ok().and_then(|a| a.json());
        *self.state.borrow_mut() = initial.clone();
        *self.initial.borrow_mut() = initial;
    }

    /// In negative mode, after every rejected body, the resource reads back as it first did.
    async fn rejection_changes_nothing(&self) -> Result<(), Exhausted> {
        let initial = self.initial.borrow().clone();
        if self.s.mode == Mode::Negative {
            // Nothing may have changed.
            if let (Ok(after), Some(before)) = (self.read_back(&self.s.cvm_id).await, initial) {
                self.rec
                    .tick(checks::REJECTION_CHANGES_NOTHING, "(read-back)");
                if let Some(after) = after {
                    if after != before {
                        let ex = self.get(&self.s.cvm_id).await;
                        if let Ok(ex) = ex {
                            let field = first_difference(&before, &after);
                            let m = format!(
                                "the CVM changed although every body was rejected: {field} differs"
                            );
                            self.rec.record(self.rec.violation(
                                checks::REJECTION_CHANGES_NOTHING,
                                &field,
                                None,
                                m,
                                &ex,
                                false,
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    async fn auth_phase(&self) -> Result<(), Exhausted> {
        let before = self.state.borrow().clone();
        let body = match (&before, self.s.mode) {
            // A change that would show, had the server accepted it.
            (Some(b), Mode::Full) => {
                json!({"public_sysinfo": !b.get("public_sysinfo").and_then(Value::as_bool).unwrap_or(false)})
            }
            _ => json!({}),
        };
        // No key, a wrong one, and near misses of the real one (empty, truncated, one character
        // more, case changed), on the update and on its read-back.
        let mut auths = vec![Auth::Missing, Auth::Wrong];
        auths.extend(
            Auth::NEAR_MISSES
                .into_iter()
                .filter(|a| a.credential(self.s.api_key.as_deref()).is_some()),
        );
        let path = cvm_path(&self.s.cvm_id);
        for (op, sent_body) in [(update_op(), Some(&body)), (get_op(), None)] {
            if op.auth.is_empty() {
                continue;
            }
            let method = if sent_body.is_some() { "PATCH" } else { "GET" };
            for &auth in &auths {
                let ex = self
                    .target
                    .send(method, &path, &[], sent_body, auth)
                    .await?;
                let which = if method == "PATCH" {
                    auth.label().to_string()
                } else {
                    format!("GET {}", auth.label())
                };
                self.rec.cover(&which, "auth", &ex);
                for v in self.common(op, &ex, &which, true, sent_body, None) {
                    self.rec.record(v);
                }
                self.rec.tick(checks::IGNORED_AUTH, &which);
                if let Ok(a) = &ex.outcome {
                    if a.status != 401 {
                        let m = format!("a {method} {} got {}, not 401", auth.label(), a.status);
                        self.rec.record(self.rec.violation(
                            checks::IGNORED_AUTH,
                            &which,
                            None,
                            m,
                            &ex,
                            true,
                        ));
                    }
                }
            }
        }
        let after = self.read_back(&self.s.cvm_id).await?;
        if let (Some(b), Some(a)) = (&before, &after) {
            if a != b {
                let field = first_difference(b, a);
                let ex = self.get(&self.s.cvm_id).await?;
                let m = format!("an unauthenticated PATCH changed the CVM: {field} differs");
                self.rec.record(self.rec.violation(
                    checks::IGNORED_AUTH,
                    &field,
                    None,
                    m,
                    &ex,
                    true,
                ));
            }
        }
        *self.state.borrow_mut() = after.or(before);
        Ok(())
    }

    /// A valid, empty update of an id that does not exist: where the operation documents 404, that
    /// is the answer, and nothing changes. Safe in negative mode: no CVM has that id.
    async fn unknown_id_probe(&self) -> Result<(), Exhausted> {
        if update_op().response(404).is_none_or(|r| r.status != 404) {
            return Ok(());
        }
        let seed = self.s.seed;
        // A plain id, then ids a path parameter must survive: percent-encoded characters, a
        // slash and dots (sent encoded), Unicode, and a very long one. The plain one must be 404;
        // the others may also be refused as invalid (422), never accepted nor crash.
        let mut ids = vec![
            (format!("contract-tests-no-such-id-{seed}"), "(unknown id)"),
            (format!("..%2e/..%2F{seed} x?#"), "(unknown id, encoded)"),
            (format!("ünïcødé-✓-{seed}"), "(unknown id, unicode)"),
            (format!("{seed}-{}", "x".repeat(2048)), "(unknown id, long)"),
        ];
        // And ids drawn from the path parameter's own schema.
        let known = [Some(&self.s.cvm_id), self.s.onchain_cvm_id.as_ref()];
        for id in path_values(update_op(), seed, 4) {
            if !known.contains(&Some(&id)) {
                ids.push((id, "(unknown id, from its schema)"));
            }
        }
        let body = json!({});
        // The update, and its read-back where that documents a 404 too.
        let mut ops = vec![(update_op(), Some(&body))];
        if get_op().response(404).is_some_and(|r| r.status == 404) {
            ops.push((get_op(), None));
        }
        for (op, sent_body) in ops {
            let method = if sent_body.is_some() { "PATCH" } else { "GET" };
            // A wrong status an earlier id already got is the same bug, not another failure.
            let mut wrong = BTreeSet::new();
            for (i, (missing, field)) in ids.iter().enumerate() {
                let field = if method == "PATCH" {
                    field.to_string()
                } else {
                    format!("GET {field}")
                };
                let ex = self
                    .target
                    .send(method, &cvm_path(missing), &[], sent_body, Auth::Key)
                    .await?;
                self.rec.cover(&field, "unknown_id", &ex);
                for v in self.common(op, &ex, &field, true, sent_body, None) {
                    self.rec.record(v);
                }
                self.rec.tick(checks::UNKNOWN_ID_NOT_FOUND, &field);
                if let Ok(a) = &ex.outcome {
                    let refused = a.status == 404 || (i > 0 && a.status == 422);
                    if !refused && wrong.insert(a.status) {
                        let shown: String = missing.chars().take(40).collect();
                        let m = format!(
                            "a {method} of the id `{shown}`, which does not exist, got {}, not 404",
                            a.status
                        );
                        self.rec.record(self.rec.violation(
                            checks::UNKNOWN_ID_NOT_FOUND,
                            &field,
                            None,
                            m,
                            &ex,
                            true,
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// A valid body with a key the schema does not declare: the request schema allows extra
    /// properties, so a correct server accepts the body and ignores the key. Full mode only (the
    /// update is accepted).
    async fn extra_key_probe(&self) -> Result<(), Exhausted> {
        let key = "contract_tests_undeclared";
        let body = json!({ key: true });
        if update_op()
            .body
            .as_ref()
            .is_some_and(|b| !judge::check(schema(), &body, b).is_empty())
        {
            return Ok(()); // the schema forbids extra keys: then it is a negative case
        }
        let ex = self.patch_cvm(&body).await?;
        self.rec.cover("(extra key)", "extra_key", &ex);
        for v in self.common(update_op(), &ex, "(extra key)", true, Some(&body), None) {
            self.rec.record(v);
        }
        Ok(())
    }

    /// A PATCH of the CVM under test with `body`, with the key.
    async fn patch_cvm(&self, body: &Value) -> Result<Exchange, Exhausted> {
        self.target
            .send(
                "PATCH",
                &cvm_path(&self.s.cvm_id),
                &[],
                Some(body),
                Auth::Key,
            )
            .await
    }

    /// Sends a mutation and judges the answer. Returns the violations (not yet recorded).
    async fn send_mutation(&self, m: &Mutation) -> Result<Vec<Violation>, Exhausted> {
        let ex = self.patch_cvm(&m.body).await?;
        self.rec.cover(&m.field, m.rule, &ex);
        self.progress();
        let mut out = self.common(update_op(), &ex, &m.field, false, Some(&m.body), Some(m));
        if ex.status().is_some_and(|s| s < 300) {
            *self.stale.borrow_mut() = true;
            // What a lax server made of the invalid value is not known: the fields it carries
            // are not predicted until a valid update sets them again.
            let mut c = self.composed.borrow_mut();
            for f in &update_body().fields {
                if let (Some(rb), true) = (&f.readback, m.body.get(&f.name).is_some()) {
                    c.unknown(&rb.field);
                }
            }
        }
        if let Ok(a) = &ex.outcome {
            let secrets = self.secrets(Some(&m.body));
            let seen = checks::Seen {
                schema: schema(),
                op: update_op(),
                answer: a,
                mutation: Some(m),
                secrets: &secrets,
            };
            for (check, verdict) in checks::judge(&seen, checks::Applies::Invalid) {
                self.rec.tick(check, &m.field);
                let Err(msg) = verdict else { continue };
                let v = self
                    .rec
                    .violation(check, &m.field, Some(m.rule), msg, &ex, false);
                if check == checks::NEGATIVE_DATA_REJECTION
                    && m.coercible
                    && !self.s.strict_types
                    && a.status < 300
                {
                    // Lenient coercion ("4" read as 4): reported, not failed, unless strict.
                    let mut w = v;
                    w.message = format!("{} (a lax validator coerces this value; --strict-types makes it a violation)", w.message);
                    self.rec.warn(w);
                } else {
                    out.push(v);
                }
            }
        }
        for v in &mut out {
            v.path.clone_from(&m.path);
        }
        Ok(out)
    }

    fn should_send(&self, coercible: bool) -> bool {
        // A lax server applies coerced values; in negative mode nothing may change.
        !(coercible && self.s.mode == Mode::Negative && !self.s.strict_types)
    }

    /// Every mutation of two base bodies, once: the coverage phase.
    async fn sweep(&self) -> Result<(), Exhausted> {
        let bases = [
            json!({}),
            json!({"gpus": {"gpus": [{"slot": "slot-0", "product_id": null}], "attach_mode": "listed"}}),
        ];
        let mut done = BTreeSet::new();
        let mut todo = Vec::new();
        for base in bases {
            for m in mutate::mutations(schema(), &base, update_body()) {
                if self.should_send(m.coercible) && done.insert(m.body.to_string()) {
                    todo.push(m);
                }
            }
        }
        let refs: Vec<&Mutation> = todo.iter().collect();
        let (found, end) = match self.send_mutations(&refs).await {
            Ok(v) => (v, Ok(())),
            Err((v, e)) => (v, Err(e)),
        };
        for v in found {
            self.rec.record(v);
        }
        end
    }

    /// Whether `body`, applied, would read back differently from the CVM as predicted now.
    fn changes(&self, body: &Value) -> bool {
        let state = self.state.borrow();
        let Some(base) = state.as_ref() else {
            return false;
        };
        let before = self.composed.borrow().predicted(base);
        expectations(body, &before, update_body(), readback_object())
            .iter()
            .any(|e| !e.shown_in(&before))
    }

    /// A valid body that sets every field it can to a value the CVM does not show now (the first
    /// such edge of each field that keeps the body valid); `None` when no field can be changed.
    fn full_body(&self) -> Option<Value> {
        let body = update_body().fields.iter().fold(json!({}), |body, f| {
            self.set_changing(&body, f).unwrap_or(body)
        });
        body.as_object()
            .is_some_and(|o| !o.is_empty())
            .then_some(body)
    }

    /// `body` with `f` set to its first non-null edge that the CVM does not show now, if the
    /// result is valid.
    fn set_changing(&self, body: &Value, f: &crate::meta::Field) -> Option<Value> {
        crate::draw::edges(schema(), &f.shape)
            .into_iter()
            .find_map(|v| {
                if v.is_null() || !self.changes(&json!({ f.name.as_str(): v.clone() })) {
                    return None;
                }
                let mut candidate = body.clone();
                candidate[f.name.as_str()] = v;
                judge::check_object(schema(), &candidate, update_body())
                    .is_empty()
                    .then_some(candidate)
            })
    }

    /// Every field's edges, each alone in a body the model judges valid: a range's ends, an
    /// empty string, null, every value of a closed set. Random bodies reach a given edge only now
    /// and then; a bug at an edge would be found by some seeds and missed by others. Bodies that
    /// change the CVM go first: against a target busy while it applies, the one it accepts first
    /// is then one whose read-back shows something.
    async fn edges(&self) -> Result<(), Exhausted> {
        let Some(shape) = &update_op().body else {
            return Ok(());
        };
        let mut bodies = crate::draw::body_edges(schema(), shape, &json!({}));
        // A stable sort: changing bodies first, each group in the document's order.
        bodies.sort_by_key(|b| !self.changes(b));
        for body in bodies {
            for v in self.send_valid(&body).await? {
                self.rec.record(v);
            }
        }
        Ok(())
    }

    /// Each top-level field at its fullest (`breadth::full`) and every variant of it
    /// (`breadth::variants`), each in a body of its own; then one update that changes the CVM,
    /// sent twice in a row: the repeat must be answered as the first was, without a 5xx.
    async fn breadth(&self) -> Result<(), Exhausted> {
        let Some(shape) = &update_op().body else {
            return Ok(());
        };
        let schema = crate::meta::shared_schema();
        let mut bodies = Vec::new();
        for f in &update_body().fields {
            let Some(v) = crate::breadth::full(schema, &f.shape) else {
                continue;
            };
            let base = json!({ f.name.as_str(): v });
            if !judge::check(schema, &base, shape).is_empty() {
                continue;
            }
            let variants = crate::breadth::variants(schema, shape, &base);
            bodies.push(base);
            bodies.extend(variants.into_iter().map(|v| v.value));
        }
        for body in bodies {
            for v in self.send_valid(&body).await? {
                self.rec.record(v);
            }
        }
        if let Some(body) = self.full_body() {
            for _ in 0..2 {
                for v in self.send_valid(&body).await? {
                    self.rec.record(v);
                }
            }
        }
        self.hold_nulls().await
    }

    /// Each field whose read-back may show null, set to null in a body of its own and held
    /// (`Composed::held`): no later update changes it until a read-back shows the null, so a
    /// target that ignores null cannot hide behind a later update. Against a prompt target the
    /// next read-back releases it; against a late one, the run's one wait at the end does.
    async fn hold_nulls(&self) -> Result<(), Exhausted> {
        let rb = readback_object();
        for f in &update_body().fields {
            let Some(r) = &f.readback else { continue };
            let shows_null = rb
                .and_then(|o| o.field(&r.field))
                .is_some_and(|x| x.nullable);
            if !(f.nullable && shows_null) || *self.shrinking.borrow() {
                continue;
            }
            let body = json!({ f.name.as_str(): null });
            if !self.changes(&body) {
                continue;
            }
            let found = self.send_valid(&body).await?;
            let accepted = found.is_empty();
            for v in found {
                self.rec.record(v);
            }
            let pending = {
                let c = self.composed.borrow();
                matches!(c.keys.get(&r.field), Some(Some((e, _))) if e.field == f.name && e.value.is_null())
            };
            if accepted && pending {
                self.composed.borrow_mut().held.insert(f.name.clone());
            }
        }
        Ok(())
    }

    /// Sends a valid body and, on 202, reads the CVM back until it shows the update.
    async fn send_valid(&self, body: &Value) -> Result<Vec<Violation>, Exhausted> {
        let composing = !*self.shrinking.borrow();
        let held = |s: &Self| {
            let c = s.composed.borrow();
            body.as_object()
                .is_some_and(|o| o.keys().any(|k| c.held.contains(k)))
        };
        let stripped;
        let body = if composing && held(self) {
            // A held field is not changed before a read-back has shown it (the composition's
            // read-backs, every few updates, release it): it is left out meanwhile.
            let c = self.composed.borrow();
            let mut b = body.clone();
            if let Some(o) = b.as_object_mut() {
                o.retain(|k, _| {
                    !c.held.contains(k) || update_body().field(k).is_some_and(|f| f.required)
                });
            }
            stripped = b;
            &stripped
        } else {
            body
        };
        if !composing {
            // Read back at once from here on: what is composed is waited for first, before this
            // update changes the CVM under it.
            self.settle().await?;
        }
        // While composing, the keys a coerced body set stay unknown in the composition: nothing
        // to re-read. Otherwise a stale CVM is read back before the update.
        let stale = self.stale.replace(false);
        let kept_unknown = composing && !self.composed.borrow().keys.is_empty();
        if stale && !kept_unknown {
            let now = self.read_back(&self.s.cvm_id).await?;
            if now.is_some() {
                *self.state.borrow_mut() = now;
            }
        }
        let ex = self.patch_cvm(body).await?;
        for f in body.as_object().into_iter().flat_map(|o| o.keys()) {
            let how = if body[f].is_null() { "null" } else { "value" };
            self.rec.cover(f, how, &ex);
        }
        if body.as_object().is_some_and(|o| o.is_empty()) {
            self.rec.cover("(empty body)", "value", &ex);
        }
        self.progress();
        let mut out = self.common(update_op(), &ex, "(valid body)", true, Some(body), None);
        let Ok(a) = &ex.outcome else { return Ok(out) };
        let secrets = self.secrets(Some(body));
        let seen = checks::Seen {
            schema: schema(),
            op: update_op(),
            answer: a,
            mutation: None,
            secrets: &secrets,
        };
        for (check, verdict) in checks::judge(&seen, checks::Applies::Valid) {
            self.rec.tick(check, "(valid body)");
            if let Err(msg) = verdict {
                let field = a
                    .json()
                    .and_then(|v| first_loc_field(&v))
                    .unwrap_or_else(|| "(body)".into());
                out.push(self.rec.violation(check, &field, None, msg, &ex, true));
            }
        }
        if a.status == 409 && composing && self.changes(body) {
            self.composed.borrow_mut().busy = Some(body.clone());
        }
        if a.status == 202 {
            if composing {
                self.compose(body, &ex).await?;
            } else {
                out.extend(self.check_readback(body, &ex).await?);
            }
        }
        Ok(out)
    }

    /// Adds an accepted update to the composition; every few updates, one read-back that does not
    /// wait takes what has already been applied off the books. What it finds wrong is kept in
    /// `Composed::found`, not blamed on the case at hand.
    async fn compose(&self, body: &Value, ex: &Exchange) -> Result<(), Exhausted> {
        let poll = {
            let state = self.state.borrow();
            let Some(base) = state.as_ref() else {
                return Ok(());
            };
            let mut c = self.composed.borrow_mut();
            let before = c.predicted(base);
            let ex = std::rc::Rc::new(ex.clone());
            for e in expectations(body, &before, update_body(), readback_object()) {
                if e.why == "left out" {
                    match c.keys.get(&e.readback) {
                        // Set by a request the suite cannot predict: nothing to expect.
                        Some(None) => continue,
                        // Set earlier in this composition: that update stays the one blamed.
                        Some(Some((set, _))) if set.value == e.value => {
                            c.left_out_by.insert(e.readback.clone(), ex.clone());
                            continue;
                        }
                        _ => {}
                    }
                } else {
                    c.left_out_by.remove(&e.readback);
                }
                c.allow(&e);
                c.keys.insert(e.readback.clone(), Some((e, ex.clone())));
            }
            c.last = Some(Instant::now());
            c.since_poll += 1;
            c.since_poll >= POLL_EVERY
        };
        if poll {
            self.composed.borrow_mut().since_poll = 0;
            let found = self.poll_composed(false).await?;
            self.composed.borrow_mut().found.extend(found);
        }
        Ok(())
    }

    /// Sends a valid body to a busy target until it is accepted (within the read-back timeout),
    /// then reads it back with the full wait.
    async fn when_free(&self, body: &Value) -> Result<Vec<Violation>, Exhausted> {
        self.settle().await?;
        let until = Instant::now() + self.s.readback_timeout;
        let mut delay = Duration::from_millis(50);
        loop {
            let ex = self.patch_cvm(body).await?;
            match ex.status() {
                Some(202) => {
                    let mut out =
                        self.common(update_op(), &ex, "(valid body)", true, Some(body), None);
                    out.extend(self.check_readback(body, &ex).await?);
                    return Ok(out);
                }
                Some(409) if Instant::now() < until => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_millis(500));
                }
                _ => return Ok(vec![]),
            }
        }
    }

    /// Waits until the composition shows (or its time is up); what does not show is kept in
    /// `Composed::found`.
    async fn settle(&self) -> Result<(), Exhausted> {
        if self.composed.borrow().pending() {
            let found = self.poll_composed(true).await?;
            self.composed.borrow_mut().found.extend(found);
        }
        Ok(())
    }

    /// A read-back violation of the composition, made small: the fields of the update that set
    /// the wrong one are dropped one at a time while the update alone still shows it (trials
    /// read back at once, as proptest's shrinking does), and the result is checked again with the
    /// full wait. If that does not hold up, the violation as found is kept.
    async fn minimise(&self, v: Violation) -> Violation {
        let Some(mut body) = v
            .exchange
            .sent
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
        else {
            return v;
        };
        let keys: Vec<String> = body
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        *self.shrinking.borrow_mut() = true;
        for k in keys.iter().filter(|k| **k != v.field) {
            let mut candidate = body.clone();
            if let Some(o) = candidate.as_object_mut() {
                o.remove(k);
            }
            match self.send_valid(&candidate).await {
                Ok(found) if found.iter().any(|w| w.key() == v.key()) => body = candidate,
                Ok(_) => {}
                Err(Exhausted) => break,
            }
        }
        *self.shrinking.borrow_mut() = false;
        let alternative = self.composed.borrow_mut().alternatives.remove(&v.field);
        let alternative = alternative.and_then(|ex| {
            let body = ex.sent.body.as_deref()?;
            serde_json::from_str::<Value>(body).ok()
        });
        let mut out = self.reproduce(&body, &v).await;
        if let (None, Some(alternative)) = (&out, alternative) {
            // A body that changes nothing shows at once whether or not it was applied: against
            // a target that applies late, another field is set as well, and its showing is
            // waited for.
            let late = self.composed.borrow().lag_proven;
            let alternative = match late && !self.changes(&alternative) {
                true => self.with_marker(alternative, &v.field),
                false => alternative,
            };
            out = self.reproduce(&alternative, &v).await;
        }
        self.composed.borrow_mut().found.clear();
        out.unwrap_or(v)
    }

    /// `body` with one more field (not `except`) set to a value the CVM does not show, if the
    /// result is valid: its showing proves the update was applied.
    fn with_marker(&self, body: Value, except: &str) -> Value {
        update_body()
            .fields
            .iter()
            .filter(|f| f.name != except && body.get(&f.name).is_none())
            .find_map(|f| self.set_changing(&body, f))
            .unwrap_or(body)
    }

    /// Sends `body` alone and reads it back with the full wait: the violation like `v` it shows.
    async fn reproduce(&self, body: &Value, v: &Violation) -> Option<Violation> {
        let ex = self.patch_cvm(body).await.ok()?;
        if ex.status() != Some(202) {
            return None;
        }
        let found = self.check_readback(body, &ex).await.ok()?;
        found.into_iter().find(|w| w.key() == v.key())
    }

    /// Values read back that no accepted update since the last confirmed state gave their key
    /// (`Composed::impossible`), as violations of the update that set the key last.
    fn impossible(&self, now: &Value) -> Vec<Violation> {
        let Some(base) = self.state.borrow().clone() else {
            return vec![];
        };
        let found = self.composed.borrow_mut().impossible(&base, now);
        found
            .into_iter()
            .map(|(e, ex, shown)| {
                let was = read(&base, &e.readback);
                let msg = format!(
                    "after a 202, `{}` reads back {shown}, a value it had neither before ({was}) nor from any update accepted since; {} was expected ({})",
                    e.readback, e.value, e.why
                );
                self.rec
                    .violation(checks::PATCH_SEMANTICS, &e.field, None, msg, &ex, true)
            })
            .collect()
    }

    /// Reads the CVM back and compares it with the composition. Without `wait`, a difference is
    /// left for later unless the latest update is older than the read-back timeout.
    async fn poll_composed(&self, wait: bool) -> Result<Vec<Violation>, Exhausted> {
        let mut delay = Duration::from_millis(20);
        loop {
            let Some(now) = self.read_back(&self.s.cvm_id).await? else {
                return Ok(vec![]);
            };
            let mut out = self.impossible(&now);
            let (wrong, due): (Vec<(Expect, std::rc::Rc<Exchange>)>, bool) = {
                let mut c = self.composed.borrow_mut();
                let wrong: Vec<(Expect, std::rc::Rc<Exchange>)> = c
                    .keys
                    .values()
                    .flatten()
                    .filter(|(e, _)| !e.shown_in(&now))
                    .map(|(e, x)| (e.clone(), x.clone()))
                    .collect();
                // Expected, not shown by the last read-back, shown by this one: late, not lost.
                let late = c.unshown.iter().any(|(k, value)| {
                    matches!(c.keys.get(k), Some(Some((e, _))) if e.value == *value && e.shown_in(&now))
                });
                c.lag_proven |= late;
                c.unshown = wrong
                    .iter()
                    .map(|(e, _)| (e.readback.clone(), e.value.clone()))
                    .collect();
                let due = c
                    .last
                    .is_none_or(|t| t.elapsed() >= self.s.readback_timeout);
                (wrong, due)
            };
            if wrong.is_empty() {
                let mut c = self.composed.borrow_mut();
                let base = self.state.borrow();
                let mut changed = false;
                for (e, _) in c.keys.values().flatten() {
                    self.rec.tick(checks::PATCH_SEMANTICS, &e.field);
                    changed |= base.as_ref().is_some_and(|b| !e.shown_in(b));
                }
                drop(base);
                c.shown_change |= changed;
                c.keys.retain(|_, e| e.is_none());
                c.confirmed();
                c.release(&now);
                *self.state.borrow_mut() = Some(now);
                return Ok(out);
            }
            if due || !self.target.has_budget() {
                let mut c = self.composed.borrow_mut();
                for (e, _) in c.keys.values().flatten() {
                    self.rec.tick(checks::PATCH_SEMANTICS, &e.field);
                }
                for (e, _) in &wrong {
                    c.blame(e);
                }
                c.keys.clear();
                c.confirmed();
                c.release(&now);
                *self.state.borrow_mut() = Some(now.clone());
                out.extend(wrong.iter().map(|(e, ex)| {
                    let within = format!("{:?} of the last update", self.s.readback_timeout);
                    let msg = e.mismatch(&now, &within);
                    self.rec
                        .violation(checks::PATCH_SEMANTICS, &e.field, None, msg, ex, true)
                }));
                return Ok(out);
            }
            if !wait {
                let mut c = self.composed.borrow_mut();
                c.lagging = true;
                c.release(&now);
                return Ok(out);
            }
            self.composed.borrow_mut().found.append(&mut out);
            // Read-backs are cheap and this wait is the run's one: look often.
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(50));
        }
    }

    async fn check_readback(
        &self,
        body: &Value,
        ex: &Exchange,
    ) -> Result<Vec<Violation>, Exhausted> {
        let before = self.state.borrow().clone();
        let Some(before) = before else {
            return Ok(vec![]);
        };
        let expected = expectations(body, &before, update_body(), readback_object());
        // While shrinking, one read-back decides (the shrunk result is checked again in full).
        let wait = if *self.shrinking.borrow() {
            Duration::ZERO
        } else {
            self.s.readback_timeout
        };
        let until = Instant::now() + wait;
        let mut delay = Duration::from_millis(20);
        let mut waited = false;
        loop {
            let Some(now) = self.read_back(&self.s.cvm_id).await? else {
                return Ok(vec![]);
            };
            let wrong: Vec<&Expect> = expected.iter().filter(|e| !e.shown_in(&now)).collect();
            for e in &expected {
                self.rec.tick(checks::PATCH_SEMANTICS, &e.field);
            }
            if wrong.is_empty() {
                let mut c = self.composed.borrow_mut();
                c.shown_change |= expected.iter().any(|e| !e.shown_in(&before));
                // Not shown by an earlier read-back, shown now: the target applies late.
                c.lag_proven |= waited;
                drop(c);
                *self.state.borrow_mut() = Some(now);
                return Ok(vec![]);
            }
            // Waiting only helps a mismatch nobody has reported yet, and only one that still
            // shows the value from before: no lag explains any other.
            let all_known = {
                let r = self.rec.report.borrow();
                wrong.iter().all(|e| {
                    read(&now, &e.readback) != read(&before, &e.readback)
                        || r.violations
                            .iter()
                            .any(|v| v.check == checks::PATCH_SEMANTICS && v.field == e.field)
                })
            };
            if all_known || Instant::now() >= until || !self.target.has_budget() {
                let out = wrong
                    .iter()
                    .map(|e| {
                        let msg = e.mismatch(&now, &format!("{wait:?}"));
                        self.rec
                            .violation(checks::PATCH_SEMANTICS, &e.field, None, msg, ex, true)
                    })
                    .collect();
                *self.state.borrow_mut() = Some(now);
                return Ok(out);
            }
            waited = true;
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(500));
        }
    }

    fn random_phase(&self, rt: &tokio::runtime::Runtime) {
        // Valid bodies from the model at run time: the constraints the generated types'
        // `validate()` was emitted from (tests/agreement.rs holds the two together).
        let Some(bodies) = crate::draw::object(crate::meta::shared_schema(), update_body()) else {
            self.rec.report.borrow_mut().skipped.push(format!(
                "{}: no valid body can be drawn from its schema",
                update_op().name
            ));
            return;
        };
        let strategy = (
            bodies,
            proptest::collection::vec(any::<prop::sample::Index>(), self.s.mutations_per_case),
        );
        #[derive(Default)]
        struct Hunt {
            target: Option<(&'static str, String)>,
            /// The violation as first found, before shrinking, and the others its request showed.
            first: Vec<Violation>,
            best: Option<Violation>,
            cases: u32,
        }
        let hunt = RefCell::new(Hunt::default());
        let known: RefCell<BTreeSet<(&'static str, String)>> = RefCell::new(
            self.rec
                .report
                .borrow()
                .violations
                .iter()
                .map(Violation::key)
                .collect(),
        );
        let known_bugs: RefCell<BTreeSet<String>> = RefCell::new(
            self.rec
                .report
                .borrow()
                .violations
                .iter()
                .filter_map(Violation::bug)
                .collect(),
        );
        let mut round = 0u64;
        loop {
            let done = hunt.borrow().cases;
            if done >= self.s.cases || !self.target.has_budget() {
                break;
            }
            let seed = self
                .s
                .seed
                .wrapping_add(round.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            *self.rec.round_seed.borrow_mut() = seed;
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&seed.to_le_bytes());
            let config = PtConfig {
                cases: self.s.cases - done,
                max_shrink_iters: 256,
                max_shrink_time: 20_000,
                failure_persistence: None,
                max_global_rejects: 0,
                ..PtConfig::default()
            };
            let mut runner =
                TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
            let result = runner.run(&strategy, |(typed, picks)| {
                if !self.target.has_budget() {
                    return Ok(());
                }
                let found = rt.block_on(self.case(&typed, &picks));
                let mut h = hunt.borrow_mut();
                match &h.target {
                    None => {
                        h.cases += 1;
                        let known = known.borrow();
                        let bugs = known_bugs.borrow();
                        let recorded = |v: &Violation| {
                            self.rec.report.borrow().violations.iter().any(|x| {
                                x.key() == v.key() || (v.bug().is_some() && x.bug() == v.bug())
                            })
                        };
                        let new = |v: &&Violation| {
                            !known.contains(&v.key())
                                && v.bug().is_none_or(|b| !bugs.contains(&b))
                                && !recorded(v)
                        };
                        if let Some(v) = found.iter().find(new).cloned() {
                            h.target = Some(v.key());
                            h.first = same_request(&v, found);
                            h.best = Some(v);
                            *self.shrinking.borrow_mut() = true;
                            return Err(TestCaseError::fail("violation"));
                        }
                        Ok(())
                    }
                    Some(k) => {
                        let k = k.clone();
                        match found.into_iter().find(|v| v.key() == k) {
                            Some(v) => {
                                h.best = Some(v);
                                Err(TestCaseError::fail("violation"))
                            }
                            None => Ok(()),
                        }
                    }
                }
            });
            *self.shrinking.borrow_mut() = false;
            match result {
                Err(TestError::Fail(_, (typed, picks))) => {
                    let (key, first) = {
                        let mut h = hunt.borrow_mut();
                        h.best = None;
                        (h.target.take(), std::mem::take(&mut h.first))
                    };
                    // The smallest body, checked again with the full read-back wait; if it does
                    // not hold up, the violation as first found is reported.
                    let again = if self.target.has_budget() {
                        rt.block_on(self.case(&typed, &picks))
                    } else {
                        vec![]
                    };
                    // One failure per request: every check the (shrunk) request broke is
                    // recorded with it, so none of them is hunted again with another body.
                    let group = match again.iter().find(|v| Some(v.key()) == key).cloned() {
                        Some(v) => same_request(&v, again),
                        None => first,
                    };
                    let mut known = known.borrow_mut();
                    for v in group {
                        if let Some(b) = v.bug() {
                            known_bugs.borrow_mut().insert(b);
                        }
                        if known.insert(v.key()) {
                            self.rec.record(v);
                        }
                    }
                }
                _ => break,
            }
            round += 1;
        }
        // The closing pair: every field that shows set to a new value, then the empty body. What
        // is read back last is then what both leave: fields dropped, reset or never applied show
        // there, whichever update a slow target applied last.
        if self.s.mode == Mode::Full {
            let closing = self.full_body().into_iter().chain([json!({})]);
            for body in closing {
                let Ok(found) = rt.block_on(self.send_valid(&body)) else {
                    break;
                };
                for v in found {
                    if known.borrow_mut().insert(v.key()) {
                        self.rec.record(v);
                    }
                }
            }
        }
        // The mutations held back fill the wait for the last updates to show.
        rt.block_on(self.send_deferred(usize::MAX));
        // The updates still composed are waited for once, here; what did not show is made small
        // and recorded.
        if rt.block_on(self.settle()).is_ok() {
            let found = std::mem::take(&mut self.composed.borrow_mut().found);
            let mut seen = BTreeSet::new();
            for v in found {
                if seen.insert(v.key()) && !known.borrow().contains(&v.key()) {
                    let v = rt.block_on(self.minimise(v));
                    self.rec.record(v);
                }
            }
        }
        // A target that was busy for every update read back (the composition above may hold the
        // one it accepted first) still gets one update checked: the last one it refused is sent
        // again, once it is free, and read back.
        let busy = self.composed.borrow_mut().busy.take();
        let shown = self.composed.borrow().shown_change;
        if let (Some(body), false) = (busy, shown) {
            if let Ok(found) = rt.block_on(self.when_free(&body)) {
                for v in found {
                    if known.borrow_mut().insert(v.key()) {
                        self.rec.record(v);
                    }
                }
            }
        }
        let mut r = self.rec.report.borrow_mut();
        r.cases = hunt.borrow().cases;
        if r.cases < self.s.cases && r.stopped_early.is_none() {
            r.stopped_early = Some(if Instant::now() >= self.target.options().deadline {
                format!("the run's deadline ({:?}) was reached", self.s.deadline)
            } else {
                "the request budget (--max-requests) was used up".to_string()
            });
        }
    }

    /// One random case: a valid body (full mode) and some of its mutations.
    async fn case(&self, body: &Value, picks: &[prop::sample::Index]) -> Vec<Violation> {
        let body = body.clone();
        let mut out = Vec::new();
        if self.s.mode == Mode::Full {
            match self.send_valid(&body).await {
                Ok(v) => out.extend(v),
                Err(Exhausted) => return out,
            }
        }
        // Every plan is made, for the picks to choose among; only the picked ones are applied.
        let all: Vec<mutate::Plan> = mutate::plans(schema(), &body, update_body())
            .into_iter()
            .filter(|p| self.should_send(p.coercible))
            .collect();
        if all.is_empty() {
            return out;
        }
        let picked: Vec<Mutation> = picks
            .iter()
            .filter_map(|p| all[p.index(all.len())].apply(&body))
            .collect();
        // Against a target that applies late, the case's mutations wait until the valid updates
        // are sent (they change nothing, so when they go does not matter). Not while shrinking:
        // a shrunk case is judged on what it sends itself.
        let lagging = self.composed.borrow().lagging;
        if lagging && self.s.mode == Mode::Full && !*self.shrinking.borrow() {
            let full = {
                let mut d = self.deferred.borrow_mut();
                d.extend(picked);
                d.len() >= DEFER_CAP
            };
            if full {
                self.send_deferred(DEFER_CAP / 2).await;
            }
            return out;
        }
        let picked: Vec<&Mutation> = picked.iter().collect();
        match self.send_mutations(&picked).await {
            Ok(v) | Err((v, Exhausted)) => out.extend(v),
        }
        out
    }

    /// Sends the first `n` mutations held back, recording what they find. They are recorded as found,
    /// not shrunk: each is one request that changes nothing, its own reproducer.
    async fn send_deferred(&self, n: usize) {
        let held: Vec<Mutation> = {
            let mut d = self.deferred.borrow_mut();
            let n = n.min(d.len());
            d.drain(..n).collect()
        };
        if held.is_empty() {
            return;
        }
        let refs: Vec<&Mutation> = held.iter().collect();
        let found = match self.send_mutations(&refs).await {
            Ok(v) | Err((v, Exhausted)) => v,
        };
        for v in found {
            self.rec.record(v);
        }
    }

    /// Sends mutations, `concurrency` at a time (they change nothing, so order does not matter);
    /// the violations come back in the mutations' order. On `Exhausted`, those found so far.
    async fn send_mutations(
        &self,
        ms: &[&Mutation],
    ) -> Result<Vec<Violation>, (Vec<Violation>, Exhausted)> {
        let mut out = Vec::new();
        for chunk in ms.chunks(self.s.concurrency.max(1)) {
            let results =
                futures_util::future::join_all(chunk.iter().map(|m| self.send_mutation(m))).await;
            let mut exhausted = false;
            for r in results {
                match r {
                    Ok(v) => out.extend(v),
                    Err(Exhausted) => exhausted = true,
                }
            }
            if exhausted {
                return Err((out, Exhausted));
            }
        }
        Ok(out)
    }

    /// Sends every violation's request once more, as its reproducer would, and moves those that
    /// do not break their check again to `flaky`. Checks that depend on the CVM's state or on a
    /// flow (read-back, header flows, authentication's side effects) are not replayed.
    async fn replay_violations(&self) {
        let violations = std::mem::take(&mut self.rec.report.borrow_mut().violations);
        let mut kept = Vec::new();
        let mut flaky = Vec::new();
        for v in violations {
            match self.reproduces(&v).await {
                Some(false) => flaky.push(v),
                _ => kept.push(v),
            }
        }
        let mut r = self.rec.report.borrow_mut();
        r.violations = kept;
        r.flaky = flaky;
    }

    /// Whether the violation's request breaks its check again; `None` when it is not replayed.
    async fn reproduces(&self, v: &Violation) -> Option<bool> {
        let replayable = [
            checks::NOT_A_SERVER_ERROR,
            checks::POSITIVE_DATA_ACCEPTANCE,
            checks::NEGATIVE_DATA_REJECTION,
            checks::VALIDATION_ERROR_NAMES_FIELD,
            checks::STATUS_CODE_CONFORMANCE,
            checks::RESPONSE_SCHEMA_CONFORMANCE,
            checks::NO_SECRET_ECHO,
            checks::TARGET_ANSWERS,
            checks::UNKNOWN_ID_NOT_FOUND,
        ];
        if !replayable.contains(&v.check) {
            return None;
        }
        let sent = &v.exchange.sent;
        let body = sent.json_body();
        let again = self.target.resend(sent).await.ok()?;
        let op = if sent.method == "GET" {
            get_op()
        } else {
            update_op()
        };
        Some(match (&again.outcome, &v.exchange.outcome) {
            (Err(_), _) => v.check == checks::TARGET_ANSWERS || v.exchange.outcome.is_err(),
            (Ok(_), Err(_)) => false,
            (Ok(a), Ok(before)) => {
                let secrets = self.secrets(body.as_ref());
                let seen = checks::Seen {
                    schema: schema(),
                    op,
                    answer: a,
                    mutation: None,
                    secrets: &secrets,
                };
                // A check of every answer is judged again; the others reproduce when the
                // status does.
                match checks::REGISTRY
                    .iter()
                    .find(|(c, applies, _)| *c == v.check && *applies == checks::Applies::Every)
                {
                    Some((_, _, judge)) => judge(&seen).is_err(),
                    None => a.status == before.status,
                }
            }
        })
    }

    /// The two-phase flow the spec describes (`x-two-phase`), on the on-chain CVM when there is
    /// one: prepare-only, phase one, phase two with a wrong hash, phase two.
    async fn header_flows(&self) -> Result<(), Exhausted> {
        if self.s.mode != Mode::Full {
            return Ok(());
        }
        let (Some(id), Some(flow)) = (self.s.onchain_cvm_id.clone(), crate::spec::two_phase())
        else {
            return Ok(());
        };
        let path = cvm_path(&id);
        let body = flow.trigger_body(self.s.seed % 1000);
        let hdr = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let flow_check = |ex: &Exchange, allowed: &[u16], what: &str| {
            for v in self.common(update_op(), ex, "(header flow)", true, Some(&body), None) {
                self.rec.record(v);
            }
            self.rec.tick(checks::HEADER_FLOWS, what);
            self.rec.cover("(header flow)", what, ex);
            if let Some(s) = ex.status() {
                if !allowed.contains(&s) {
                    let m = format!("{what}: got {s}, expected one of {allowed:?}");
                    self.rec.record(self.rec.violation(
                        checks::HEADER_FLOWS,
                        what,
                        None,
                        m,
                        ex,
                        true,
                    ));
                }
            }
        };

        let ex = self
            .target
            .send(
                "PATCH",
                &path,
                &hdr(&[(&flow.prepare_header, "true")]),
                Some(&body),
                Auth::Key,
            )
            .await?;
        flow_check(&ex, &flow.prepare_statuses, "prepare_only");

        let ex = self
            .target
            .send("PATCH", &path, &[], Some(&body), Auth::Key)
            .await?;
        flow_check(&ex, &[flow.starts], "phase_1");
        let hash = ex.outcome.ok().and_then(|a| a.json()).and_then(|v| {
            v.get(&flow.hash_field)
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        let Some(hash) = hash else { return Ok(()) };

        let wrong = self
            .target
            .send(
                "PATCH",
                &path,
                &hdr(&[
                    (&flow.hash_header, "0xdeadbeef"),
                    (&flow.transaction_header, "0xabc"),
                ]),
                Some(&body),
                Auth::Key,
            )
            .await?;
        flow_check(&wrong, &flow.wrong_hash_statuses, "phase_2_wrong_hash");

        // The right hash with transaction hashes that cannot be one: left out, empty, not hex,
        // a bare prefix.
        if !flow.bad_transaction_statuses.is_empty() {
            for (what, tx) in [
                ("phase_2_no_transaction", None),
                ("phase_2_empty_transaction", Some("")),
                ("phase_2_transaction_not_hex", Some("not-a-transaction")),
                ("phase_2_transaction_bare_prefix", Some("0x")),
            ] {
                let mut headers = vec![(flow.hash_header.as_str(), hash.as_str())];
                headers.extend(tx.map(|t| (flow.transaction_header.as_str(), t)));
                let ex = self
                    .target
                    .send("PATCH", &path, &hdr(&headers), Some(&body), Auth::Key)
                    .await?;
                flow_check(&ex, &flow.bad_transaction_statuses, what);
            }
        }

        let tx = format!("0x{}", "ab".repeat(32));
        let ex = self
            .target
            .send(
                "PATCH",
                &path,
                &hdr(&[(&flow.hash_header, &hash), (&flow.transaction_header, &tx)]),
                Some(&body),
                Auth::Key,
            )
            .await?;
        flow_check(&ex, &flow.finish_statuses, "phase_2");
        Ok(())
    }

    async fn replay_persisted(&self) -> Result<(), Exhausted> {
        let Some(path) = &self.s.persist else {
            return Ok(());
        };
        for e in load_persisted(path) {
            if e.valid_body {
                if self.s.mode == Mode::Full {
                    for v in self.send_valid(&e.body).await? {
                        self.rec.record(v);
                    }
                }
                continue;
            }
            let m = Mutation {
                rule: e
                    .rule
                    .as_deref()
                    .and_then(mutate::Rule::from_name)
                    .map_or("replay", mutate::Rule::name),
                field: e.field,
                path: e.path.unwrap_or_default(),
                body: e.body,
                coercible: false,
            };
            if judge::check_object(schema(), &m.body, update_body()).is_empty() {
                continue; // the spec changed and made it valid
            }
            for v in self.send_mutation(&m).await? {
                self.rec.record(v);
            }
        }
        Ok(())
    }

    fn progress(&self) {
        if self.s.progress == Progress::Off {
            return;
        }
        let now = Instant::now();
        let every = if self.s.progress == Progress::Line {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(5)
        };
        if now.duration_since(*self.progress_at.borrow()) < every {
            return;
        }
        *self.progress_at.borrow_mut() = now;
        let r = self.rec.report.borrow();
        let start = self.target.options().deadline - self.s.deadline;
        let secs = now.duration_since(start).as_secs_f64().max(1e-3);
        let line = format!(
            "{} requests, {:.0} req/s, {} violation(s) so far",
            self.target.requests(),
            self.target.requests() as f64 / secs,
            r.violations.len()
        );
        let mut err = std::io::stderr();
        if self.s.progress == Progress::Line {
            let _ = write!(err, "\r\x1b[2K{line}");
        } else {
            let _ = writeln!(err, "progress: {line}");
        }
        let _ = err.flush();
    }

    fn finish_progress(&self) {
        if self.s.progress == Progress::Line {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Mode, Settings};

    #[test]
    fn path_parameter_values_come_from_its_schema_and_the_seed() {
        let op = crate::spec::update_op();
        let a = super::path_values(op, 7, 4);
        assert_eq!(a.len(), 4);
        // `cvm_id` is a string with no bounds: 1 to 64 characters of any kind.
        assert!(
            a.iter().all(|v| (1..=64).contains(&v.chars().count())),
            "{a:?}"
        );
        assert_eq!(
            a,
            super::path_values(op, 7, 4),
            "the same seed draws the same ids"
        );
        assert_ne!(a, super::path_values(op, 8, 4));
    }

    #[test]
    fn only_loopback_targets_default_to_full() {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3/x",
            "http://localhost",
            "http://[::1]:9/",
            "http://u:p@127.0.0.1:1",
        ] {
            assert_eq!(Mode::default_for(url), Mode::Full, "{url}");
            assert_eq!(Settings::new(url, None, "c").concurrency, 4, "{url}");
        }
        for url in [
            "https://cloud-api.phala.com",
            "http://10.0.0.1",
            "http://[2001:db8::1]:80",
            "http://127.0.0.1.example.com",
            "http://localhost@evil.example",
        ] {
            assert_eq!(Mode::default_for(url), Mode::Negative, "{url}");
            assert_eq!(Settings::new(url, None, "c").concurrency, 1, "{url}");
        }
    }
}

/// The progress style for stderr: a rewritten line on a terminal, plain lines otherwise.
pub fn progress_for_stderr() -> Progress {
    if std::io::stderr().is_terminal() {
        Progress::Line
    } else {
        Progress::Plain
    }
}

/// Values for an operation's first path parameter, drawn from its schema with the run's seed:
/// strings of any characters within its lengths, integers within its bounds, its enum values.
fn path_values(op: &crate::meta::Operation, seed: u64, n: usize) -> Vec<String> {
    use crate::meta::Shape;
    use proptest::strategy::{Strategy, ValueTree};
    let Some(p) = op.params.iter().find(|p| p.location == "path") else {
        return Vec::new();
    };
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8] = 0x1d;
    let mut runner = TestRunner::new_with_rng(
        PtConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    let strategy: proptest::strategy::BoxedStrategy<String> = match &p.shape {
        Shape::String {
            min_len, max_len, ..
        } => {
            let lo = min_len.unwrap_or(1).max(1) as usize;
            let hi = max_len.map_or(lo + 63, |m| m as usize).max(lo);
            proptest::collection::vec(any::<char>(), lo..=hi)
                .prop_map(|c| c.into_iter().collect())
                .boxed()
        }
        Shape::Integer { min, max, .. } => (min.unwrap_or(i64::MIN)..=max.unwrap_or(i64::MAX))
            .prop_map(|i| i.to_string())
            .boxed(),
        Shape::Enum { values, .. } if !values.is_empty() => {
            proptest::sample::select(values.clone()).boxed()
        }
        _ => return Vec::new(),
    };
    (0..n)
        .filter_map(|_| strategy.new_tree(&mut runner).ok().map(|t| t.current()))
        .collect()
}
/// What read-back must show after a PATCH.
#[derive(Debug, Clone)]
struct Expect {
    /// The PATCH field.
    field: String,
    /// The GET field.
    readback: String,
    value: Value,
    why: &'static str,
}

impl Expect {
    /// Whether the CVM as read back shows it (a `null` expected may also show as absent).
    fn shown_in(&self, now: &Value) -> bool {
        match now.get(&self.readback) {
            Some(v) => *v == self.value,
            None => self.value.is_null(),
        }
    }

    /// What is wrong when it does not show, waited for `within`.
    fn mismatch(&self, now: &Value, within: &str) -> String {
        let shown = read(now, &self.readback);
        format!(
            "after a 202, `{}` reads back {} where {} was expected ({}) within {within}",
            self.readback, shown, self.value, self.why
        )
    }
}

/// What `key` reads back in `cvm`; absent reads as null.
fn read(cvm: &Value, key: &str) -> Value {
    cvm.get(key).cloned().unwrap_or(Value::Null)
}

/// For every field with `x-readback`: set -> the value (unit converted), null -> null where the
/// read-back field may be null, absent -> as before.
fn expectations(body: &Value, before: &Value, req: &Object, got: Option<&Object>) -> Vec<Expect> {
    let mut out = Vec::new();
    for f in &req.fields {
        let Some(readback) = &f.readback else {
            continue;
        };
        let (rb, div) = (readback.field.as_str(), readback.divide_by);
        let rb_nullable = got
            .and_then(|g| g.field(rb))
            .is_some_and(|gf| gf.nullable || !gf.required);
        match body.get(&f.name) {
            Some(Value::Null) if rb_nullable => out.push(Expect {
                field: f.name.clone(),
                readback: rb.into(),
                value: Value::Null,
                why: "sent as null",
            }),
            Some(Value::Null) => {}
            Some(v) => {
                let value = match (v.as_i64(), div) {
                    (Some(n), d) if d > 1 => json!(n.div_euclid(d)),
                    _ => v.clone(),
                };
                out.push(Expect {
                    field: f.name.clone(),
                    readback: rb.into(),
                    value,
                    why: "sent with a value",
                })
            }
            None => {
                if let Some(prev) = before.get(rb) {
                    out.push(Expect {
                        field: f.name.clone(),
                        readback: rb.into(),
                        value: prev.clone(),
                        why: "left out",
                    })
                }
            }
        }
    }
    out
}

fn first_difference(a: &Value, b: &Value) -> String {
    if let (Some(x), Some(y)) = (a.as_object(), b.as_object()) {
        for (k, v) in x {
            if y.get(k) != Some(v) {
                return k.clone();
            }
        }
        for k in y.keys() {
            if !x.contains_key(k) {
                return k.clone();
            }
        }
    }
    "(body)".into()
}

/// The field a 422's first `loc` names (after `body`).
fn first_loc_field(v: &Value) -> Option<String> {
    let loc = v
        .get("detail")?
        .as_array()?
        .first()?
        .get("loc")?
        .as_array()?;
    let path: Vec<Value> = loc.iter().skip(1).cloned().collect();
    Some(judge::dotted(&path))
}

/// Writes the violations so the next run replays them first (secrets never written).
/// A failure kept for the next run to replay first (`--persist`): what was sent, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Persisted {
    /// The check it broke.
    pub check: String,
    /// The field concerned.
    pub field: String,
    /// The mutation rule, for a negative one.
    #[serde(default)]
    pub rule: Option<String>,
    /// Whether the body was a valid one (sent as an update) or a mutation.
    pub valid_body: bool,
    /// The body as sent (values the suite drew, secret-marked fields included, in full: a
    /// replay sends them again).
    pub body: Value,
    /// The JSON path of the broken field, for a mutation.
    #[serde(default)]
    pub path: Option<Vec<Value>>,
}

/// The failures of a run, as the next run reads them (an unreadable file is ignored).
pub fn load_persisted(path: &std::path::Path) -> Vec<Persisted> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn persist(path: &std::path::Path, report: &Report) {
    let entries: Vec<Persisted> = report
        .violations
        .iter()
        .filter_map(|v| {
            let body: Value = serde_json::from_str(v.exchange.sent.body.as_deref()?).ok()?;
            Some(Persisted {
                check: v.check.name.to_string(),
                field: v.field.clone(),
                rule: v.rule.map(str::to_string),
                valid_body: v.valid_body,
                body,
                path: v.rule.map(|_| v.path.clone()),
            })
        })
        .collect();
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(
        path,
        serde_json::to_string_pretty(&entries).unwrap_or_default(),
    );
}

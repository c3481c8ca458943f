//! The suite: preflight, authentication, a sweep of every mutation, proptest-driven cases with
//! read-back, the header flows, and a verdict. Each violation is kept once per (check, field), with
//! the smallest body proptest could shrink it to.

use crate::checks::{self, Check};
use crate::http::{self, Auth, Exchange, Exhausted, Target, TargetOptions};
use crate::judge;
use crate::meta::{Object, Operation, Schema};
use crate::mutate::{self, Mutation};
use crate::subject::Subject;
use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, RngAlgorithm, TestError, TestRng, TestRunner};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod bodies;
mod composed;
mod flows;
mod probes;
mod random;
mod replay;
mod triage;

use crate::findings::same_request;
pub use crate::findings::{group, Failure, Report, Violation};
use composed::{expectations, Composed, Expect};
use replay::persist;
pub use replay::{load_persisted, Persisted};

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
    pub api_key: Option<http::Secret>,
    /// A second user's key: what the first user created must stay out of its reach.
    pub other_api_key: Option<http::Secret>,
    /// `user:password` for HTTP basic (`--auth`), and the second user's (`--other-auth`).
    pub basic: Option<http::Secret>,
    pub other_basic: Option<http::Secret>,
    /// Headers every request of the run's user carries (`-H`), and of the second user's.
    pub headers: Vec<(String, http::Secret)>,
    pub other_headers: Vec<(String, http::Secret)>,
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
    /// `--max-response-time`: every answer must come within it (`max_response_time`).
    pub max_response_time: Option<Duration>,
    /// `--verify-every-kind`: after the random phase, each kind of value sent that no read-back
    /// has shown applied is sent again and waited for, in rounds (one apply delay each, against
    /// a target that applies late; nothing against a prompt one, which verifies as it goes).
    pub verify_every_kind: bool,
    /// Statuses the user adds to what checks accept (`--expected-statuses`, the config file).
    pub expected: checks::Expected,
}

impl Settings {
    /// The connection to the target these settings describe, for a run started at `started`,
    /// with what its reproducers hide (`shown`) and the longest `Retry-After` it waits.
    pub fn target_options(
        &self,
        started: Instant,
        shown: http::Shown,
        max_retry_after: Duration,
    ) -> TargetOptions {
        TargetOptions {
            base_url: self.target.clone(),
            api_key: self.api_key.clone(),
            basic: self.basic.clone(),
            other_basic: self.other_basic.clone(),
            headers: self.headers.clone(),
            other_headers: self.other_headers.clone(),
            shown: std::sync::Arc::new(shown),
            timeout: self.timeout,
            rate: self.rate,
            max_requests: self.max_requests,
            deadline: started + self.deadline,
            read_limit: self.read_limit,
            insecure: self.insecure,
            other_api_key: self.other_api_key.clone(),
            max_retry_after,
        }
    }

    /// How reports show requests under these settings: where the credential goes (`credential`),
    /// the variables that stand for each credential, and the secret fields.
    pub fn shown(&self, credential: http::Credential, secret_fields: Vec<String>) -> http::Shown {
        let basic = matches!(credential, http::Credential::Basic);
        let var = |auth: &Option<http::Secret>, a: &str, k: &str| {
            if basic && auth.is_some() { a } else { k }.to_string()
        };
        http::Shown {
            var: var(&self.basic, http::AUTH_VAR, http::KEY_VAR),
            other_var: var(&self.other_basic, http::OTHER_AUTH_VAR, http::OTHER_KEY_VAR),
            headers: self.headers.iter().map(|(h, _)| h.clone()).collect(),
            other_headers: self.other_headers.iter().map(|(h, _)| h.clone()).collect(),
            basic_extra: self.basic.is_some() && !basic,
            other_basic_extra: self.other_basic.is_some() && !basic,
            credential,
            secret_fields,
        }
    }

    /// Every credential the run holds, and their encodings (the basic header's), for reports
    /// to hide wherever an answer echoes one.
    pub fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in [
            &self.api_key,
            &self.other_api_key,
            &self.basic,
            &self.other_basic,
        ]
        .into_iter()
        .flatten()
        {
            out.push(s.expose().to_string());
            out.push(openapi_runtime::base64(s.expose().as_bytes()));
            if let Some((_, password)) = s.expose().split_once(':') {
                out.push(password.to_string());
            }
        }
        for (_, v) in self.headers.iter().chain(&self.other_headers) {
            out.push(v.expose().to_string());
        }
        out.retain(|s| s.len() >= 4);
        out
    }

    /// The credential text the placement `c` takes: `--auth`'s pair for HTTP basic (else the
    /// key), the key for the others.
    pub fn key_for(&self, c: &http::Credential) -> Option<&str> {
        match c {
            http::Credential::Basic => self.basic.as_ref().or(self.api_key.as_ref()),
            _ => self.api_key.as_ref(),
        }
        .map(http::Secret::expose)
    }

    /// Whether the run's user has a credential of any kind.
    pub fn has_credential(&self) -> bool {
        self.api_key.is_some() || self.basic.is_some() || !self.headers.is_empty()
    }

    /// Whether the run has a second user's credential (`--other-api-key`, `--other-auth` or
    /// `--other-header`): what `object_level_authorization` needs.
    pub fn has_other_credential(&self) -> bool {
        self.other_api_key.is_some() || self.other_basic.is_some() || !self.other_headers.is_empty()
    }

    /// Defaults for a target: 256 cases, seed 0, 10 s per request, 10 min per run.
    pub fn new(target: &str, api_key: Option<String>, cvm_id: &str) -> Self {
        Settings {
            target: target.trim_end_matches('/').to_string(),
            api_key: api_key.map(http::Secret::from),
            other_api_key: None,
            basic: None,
            other_basic: None,
            headers: Vec::new(),
            other_headers: Vec::new(),
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
            max_response_time: None,
            verify_every_kind: false,
            expected: checks::Expected::default(),
            concurrency: if Mode::default_for(target) == Mode::Full {
                4
            } else {
                1
            },
        }
    }
}

/// Runs the suite. Never panics on what the target does; a target that cannot be reached gives a
/// report with `could_not_run`.
pub fn run(settings: &Settings) -> Report {
    run_on(settings, &Subject::spec(), Scope::Whole)
}

/// Which of the stateful suite's phases a run takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every phase: spec/'s suite, on the item `--cvm-id` names.
    Whole,
    /// The phases of an item's updates and read-backs (every mutation, the edges, the breadth
    /// variants, the random cases with composed read-back, an undeclared key): the engine on any
    /// document runs them on an item it created, after it has probed the operations themselves
    /// (credentials, unknown ids, methods), which the other phases would repeat.
    Item,
}

impl Phase {
    fn in_scope(self, scope: Scope) -> bool {
        scope == Scope::Whole
            || !matches!(
                self,
                Phase::Authentication
                    | Phase::UnknownId
                    | Phase::UnsupportedMethod
                    | Phase::ReplayPersisted
                    | Phase::HeaderFlows
                    // The engine that runs an item's phases triages their findings itself.
                    | Phase::Triage
            )
    }
}

/// The stateful suite on `subj`'s item `settings.cvm_id`: the same phases whatever the document
/// (on spec/ through [`run`]; on any other through the engine, [`crate::probe::run`]).
pub fn run_on(settings: &Settings, subj: &Subject, scope: Scope) -> Report {
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
    let shown = settings.shown(
        subj.update
            .auth
            .first()
            .map(|a| http::Credential::parse(a))
            .unwrap_or_default(),
        crate::probe::secret_fields(&subj.schema),
    );
    let max_retry_after = Duration::from_secs(30).min(settings.deadline / 4);
    let target = match Target::new(settings.target_options(started, shown, max_retry_after)) {
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
        subj,
        target,
        rec: Recorder {
            report: RefCell::new(Report {
                target: settings.target.clone(),
                mode: settings.mode.name(),
                seed: settings.seed,
                insecure: settings.insecure,
                cases_planned: settings.cases,
                title: format!("{} contract", subj.update.name),
                operations: 1,
                operation_names: vec![subj.update.name.clone()],
                documented: [(
                    subj.update.name.clone(),
                    crate::statuses::Documented::of(&subj.update),
                )]
                .into_iter()
                .collect(),
                credential: settings.has_credential(),
                ..Report::default()
            }),
            schema: Some(subj.schema.clone()),
            answered: RefCell::new(0),
            recent: RefCell::new(std::collections::VecDeque::new()),
            examples: RefCell::new(BTreeMap::new()),
            round_seed: RefCell::new(settings.seed),
            halt,
        },
        state: RefCell::new(None),
        initial: RefCell::new(None),
        progress_at: RefCell::new(Instant::now()),
        stale: RefCell::new(false),
        shrinking: RefCell::new(false),
        composed: RefCell::new(Composed::default()),
        direct: RefCell::new(false),
        deferred: RefCell::new(Vec::new()),
        spelling: RefCell::new(None),
    };
    for phase in PHASES.into_iter().filter(|p| p.in_scope(scope)) {
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
    if let (Some(path), Scope::Whole) = (&settings.persist, scope) {
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
    /// Methods the document does not give for the resource's path: 405, with `Allow`.
    UnsupportedMethod,
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
    /// With `--verify-every-kind`, the kinds of value no read-back showed, sent again and
    /// waited for.
    VerifyKinds,
    /// The flow `x-two-phase` describes.
    HeaderFlows,
    /// Every violation's request sent once more: what does not repeat is flaky.
    ReplayViolations,
    /// Every failure's request shrunk to the least one that fails the same way (triage).
    Triage,
}

const PHASES: [Phase; 15] = [
    Phase::Preflight,
    Phase::Authentication,
    Phase::UnknownId,
    Phase::UnsupportedMethod,
    Phase::ReplayPersisted,
    Phase::Sweep,
    Phase::Edges,
    Phase::Breadth,
    Phase::RejectionChangesNothing,
    Phase::Random,
    Phase::VerifyKinds,
    // After the random phase has seen its updates shown: against a target that refuses updates
    // while one is applied (409), an accepted update before the random phase would make it wait
    // a second time.
    Phase::ExtraKey,
    Phase::HeaderFlows,
    Phase::ReplayViolations,
    Phase::Triage,
];

/// What a run found and judged: counting (per check, per field, coverage), violations kept once
/// per (check, field) or per bug, and warnings. The suite's phases report through it; it owns
/// the report until the run ends.
#[derive(Default)]
struct Recorder {
    report: RefCell<Report>,
    /// The document, for the operation each violation's request reached.
    schema: Option<std::sync::Arc<Schema>>,
    /// Requests that got any answer at all.
    answered: RefCell<u64>,
    /// The seed of the proptest round a violation is found in.
    round_seed: RefCell<u64>,
    /// With [`Settings::fail_fast`], the target's halt switch, set at the first violation.
    halt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// The last few updates the target accepted, oldest first: what a server error found now
    /// may need sent before it to happen again ([`Violation::preceding`]).
    recent: RefCell<std::collections::VecDeque<http::Sent>>,
    /// (field, kind) -> a value of that kind the target accepted, to send again when no
    /// read-back showed it (`--verify-every-kind`).
    examples: RefCell<BTreeMap<(String, String), Value>>,
}

/// Accepted updates a server error keeps as what may have led to it.
const RECENT: usize = 8;

impl Recorder {
    /// Counts a kind of value sent to a field that reads back ([`Report::verified`]); keeps
    /// the value as sent (`sent`, none when it was left out).
    fn sent_kind(&self, e: &Expect, sent: Option<&Value>) {
        if let Some(v) = sent {
            self.examples
                .borrow_mut()
                .entry((e.field.clone(), e.kind.clone()))
                .or_insert_with(|| v.clone());
        }
        self.count_kind(e, |n| n.0 += 1);
    }

    /// Counts a kind of value a read-back showed applied.
    fn verified_kind(&self, e: &Expect) {
        self.count_kind(e, |n| n.1 += 1);
    }

    /// Changes the (sent, shown) counts of `e`'s field and kind in the report.
    fn count_kind(&self, e: &Expect, change: impl FnOnce(&mut (u64, u64))) {
        let mut r = self.report.borrow_mut();
        change(
            r.verified
                .entry(e.field.clone())
                .or_default()
                .entry(e.kind.clone())
                .or_default(),
        );
    }

    /// Whether a read-back has shown this kind of value applied to this field.
    fn is_verified(&self, e: &Expect) -> bool {
        self.report
            .borrow()
            .verified
            .get(&e.field)
            .and_then(|k| k.get(&e.kind))
            .is_some_and(|n| n.1 > 0)
    }

    /// Notes an update the target accepted.
    fn accepted(&self, ex: &Exchange) {
        if ex.status().is_some_and(|s| (200..300).contains(&s)) {
            let mut r = self.recent.borrow_mut();
            if r.len() == RECENT {
                r.pop_front();
            }
            r.push_back(ex.sent.clone());
        }
    }

    fn tick(&self, check: Check, field: &str) {
        self.report.borrow_mut().tick(check, field);
    }

    /// The operation `ex`'s request reached, as reports name it.
    fn operation_of(&self, ex: &Exchange) -> String {
        match &self.schema {
            Some(s) => s.operation_label(ex.sent.method, &ex.sent.path),
            None => format!("{} {}", ex.sent.method, ex.sent.path),
        }
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
            // A server error may take an earlier update to happen: those sent just before it are
            // kept for the replay to try.
            preceding: if ex.status().is_some_and(|s| s >= 500) {
                self.recent
                    .borrow()
                    .iter()
                    .filter(|s| **s != ex.sent)
                    .cloned()
                    .collect()
            } else {
                Vec::new()
            },
            operation: self.operation_of(ex),
            shrunk: Default::default(),
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
    /// The item, its update and its read-back.
    subj: &'a Subject,
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
    /// Whether each valid update is read back on its own, with the full wait (not composed).
    direct: RefCell<bool>,
    /// Mutations of the random phase held back while the target is slow to show updates: sent
    /// after the valid updates, so that they fill the wait for the last one instead of adding to
    /// it.
    deferred: RefCell<Vec<Mutation>>,
    /// How the next update's body is written, where not as serde_json writes it (the edges'
    /// raw spellings); taken by the update that sends it.
    spelling: RefCell<Option<crate::http::Spelling>>,
}

/// Mutations held back at most; at it the older half is sent (memory stays bounded, and the
/// newer half is left to fill the last wait).
const DEFER_CAP: usize = 8192;

/// How many accepted updates go by between two read-backs that do not wait.
const POLL_EVERY: usize = 8;

/// Bytes of an answer a violation keeps.
const KEPT_BODY: usize = 8 * 1024;

impl Suite<'_> {
    /// The update of the subject.
    fn update(&self) -> &Operation {
        &self.subj.update
    }

    /// Its read-back.
    fn read(&self) -> &Operation {
        &self.subj.read
    }

    /// The update's body, with where each field reads back.
    fn body(&self) -> &Object {
        &self.subj.body
    }

    /// The smallest valid update (`{}` on spec/): each body the suite builds starts from it.
    fn base(&self) -> Value {
        self.subj.base.clone()
    }

    /// [`Suite::base`] with `key` set to `value`.
    fn base_with(&self, key: &str, value: Value) -> Value {
        let mut b = self.base();
        b[key] = value;
        b
    }

    /// The object the read-back answers with.
    fn readback(&self) -> Option<&Object> {
        self.subj.readback.as_ref()
    }

    /// The document.
    fn schema(&self) -> &Schema {
        &self.subj.schema
    }

    /// The path of the item `id`.
    fn path(&self, id: &str) -> String {
        self.subj.path(id)
    }

    fn secrets<'b>(&'b self, body: Option<&'b Value>) -> Vec<&'b str> {
        let mut out: Vec<&str> = self.s.api_key.iter().map(|k| k.expose()).collect();
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
        self.rec.report.borrow_mut().answered(&op.name, ex.status());
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
            schema: self.schema(),
            op,
            answer: a,
            mutation,
            secrets: &secrets,
            expected: &self.s.expected,
            known_ids: true,
        };
        let more = checks::judge_more(self.schema(), op, a, self.s.max_response_time);
        for (check, verdict) in checks::judge(&seen, checks::Applies::Every).chain(more) {
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
            .send("GET", &self.path(id), &[], None, Auth::Key)
            .await
    }

    /// Reads the CVM back; records the GET's own checks. `None` when it could not be read.
    async fn read_back(&self, id: &str) -> Result<Option<Value>, Exhausted> {
        let ex = self.get(id).await?;
        for v in self.common(self.read(), &ex, "(read-back)", true, None, None) {
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
            Phase::UnsupportedMethod => self.unsupported_methods().await,
            Phase::ExtraKey if self.s.mode == Mode::Full => self.extra_key_probe().await,
            Phase::ExtraKey => Ok(()),
            Phase::ReplayPersisted => self.replay_persisted().await,
            Phase::Sweep => self.sweep_changes_nothing().await,
            Phase::Edges if self.s.mode == Mode::Full => self.edges().await,
            Phase::Edges => Ok(()),
            Phase::Breadth if self.s.mode == Mode::Full => self.breadth().await,
            Phase::Breadth => Ok(()),
            Phase::RejectionChangesNothing => self.rejection_changes_nothing().await,
            Phase::Random => Ok(()),
            Phase::VerifyKinds if self.s.verify_every_kind && self.s.mode == Mode::Full => {
                self.verify_kinds().await
            }
            Phase::VerifyKinds => Ok(()),
            Phase::HeaderFlows => self.header_flows().await,
            Phase::ReplayViolations => {
                self.replay_violations().await;
                Ok(())
            }
            Phase::Triage => {
                self.triage().await;
                Ok(())
            }
        };
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

#[cfg(test)]
mod tests {
    use super::{Mode, Settings};

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

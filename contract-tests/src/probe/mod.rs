//! The suite on any operation of any document (`cargo xtask contract --spec PATH`): requests
//! drawn from the model ([`crate::draw`]) for path, query and header parameters and JSON bodies,
//! valid ones and named mutations, each answer judged by the generic checks. Then, in full mode,
//! each resource the document has goes through its lifecycle ([`crate::scenarios`]).

use crate::checks::{self, Check};
use crate::draw::{self, Place};
use crate::http::{Auth, Credential, Exchange, Exhausted, Target};
use crate::meta::{Operation, Param, Schema, Shape};
use crate::mutate;
use crate::runner::{Mode, Report, Settings, Violation};
use crate::subject::Subject;
use crate::triage::Shrunk;
use openapi_runtime::encode_component;
use proptest::strategy::{Strategy, ValueTree};

/// The value tree of a drawn request.
pub(crate) type Drawn = Box<dyn ValueTree<Value = Request>>;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod phases;
pub(crate) mod requests;

pub use requests::Request;
pub(crate) use requests::{invalid, requests, requests_with, text, unknown_id};

/// Methods the probe sends.
pub const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

fn static_method(m: &str) -> &'static str {
    METHODS.iter().find(|x| **x == m).copied().unwrap_or("GET")
}

/// The operations a run covers: those named (by `operationId` or client method name), or every
/// operation with a method the probe sends. An unknown name is an error.
pub fn select<'s>(schema: &'s Schema, names: &[String]) -> Result<Vec<&'s Operation>, String> {
    if names.is_empty() {
        return Ok(schema
            .operations
            .values()
            .filter(|o| METHODS.contains(&o.method.as_str()))
            .collect());
    }
    names
        .iter()
        .map(|n| {
            schema.find(n).ok_or_else(|| {
                format!("no operation `{n}` in the document (give an operationId or a client method name)")
            })
        })
        .collect()
}

/// An item the run created so that the probe of the operations on items reaches one that exists.
#[derive(Debug, Clone)]
pub(crate) struct Fixture {
    /// The item path template (`/notes/{note_id}`).
    pub item: String,
    /// Its own parameter (`note_id`).
    pub param: String,
    /// The id the create gave.
    pub id: String,
    /// Whether it is the one the resource's delete gets (each other operation gets the other
    /// one, which stays until the run has replayed its findings and then is deleted).
    pub for_delete: bool,
    /// The operation that deletes it, if the document has one.
    pub delete: Option<String>,
    /// The parameters above it, bound to the items made of its parents (empty for a top-level
    /// collection's item).
    pub parents: Vec<(String, String)>,
}

pub(crate) struct Run<'a> {
    pub(crate) s: &'a Settings,
    pub(crate) schema: &'a Schema,
    pub(crate) target: Target,
    pub(crate) report: Report,
    pub(crate) seed: u64,
    /// The target refused a connection: nothing more is sent.
    gone: bool,
    /// Secured operation -> requests sent with the run's own credential (or none, when none is
    /// given), and how many of them got 401 or 403.
    denied: std::collections::BTreeMap<String, (u32, u32)>,
    /// Items the run created for the operations on items to reach.
    pub(crate) fixtures: Vec<Fixture>,
    /// The id of every item the run created (fixtures and the scenarios' own): a 404 to a path
    /// naming another id is no refusal of valid data.
    pub(crate) made: std::collections::BTreeSet<String>,
    /// With [`Settings::fail_fast`], the target's halt switch, set at the first violation.
    halt: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// Requests triage's shrinking has sent, in all and per operation.
    shrink_spent: u32,
    shrink_spent_on: std::collections::BTreeMap<String, u32>,
}

impl Run<'_> {
    /// Sends one request. Once the target refuses connections (it stopped, or crashed on an
    /// earlier request) the run ends: one violation says so, not one per request left.
    pub(crate) async fn send(
        &mut self,
        op: &Operation,
        r: &Request,
        auth: Auth,
    ) -> Result<Exchange, Exhausted> {
        self.send_as(static_method(&op.method), op, r, auth).await
    }

    /// [`Run::send`] with another method than the operation's.
    async fn send_as(
        &mut self,
        method: &'static str,
        op: &Operation,
        r: &Request,
        auth: Auth,
    ) -> Result<Exchange, Exhausted> {
        if self.gone {
            return Err(Exhausted);
        }
        let ex = self
            .target
            .send_text(
                method,
                &r.target(),
                &r.headers,
                r.body
                    .as_ref()
                    .map(|b| crate::http::write_body(b, r.spelling.as_ref())),
                auth,
            )
            .await?;
        if matches!(&ex.outcome, Err(f) if f.kind == "connect") {
            self.gone = true;
            self.report.stopped_early = Some(format!(
                "the target stopped accepting connections (at {} {})",
                op.method,
                r.target()
            ));
        }
        Ok(ex)
    }

    pub(crate) fn auth(&self, op: &Operation) -> Auth {
        if op.auth.is_empty() || !self.s.has_credential() {
            Auth::Missing
        } else {
            Auth::Key
        }
    }

    pub(crate) fn record(
        &mut self,
        check: Check,
        field: &str,
        rule: Option<&'static str>,
        mut message: String,
        ex: &Exchange,
        valid: bool,
    ) {
        // A problem document (RFC 9457) names what the server itself thought went wrong: a mock
        // that cannot serve the document says so there, and the report passes it on.
        if let Some(p) = ex.outcome.as_ref().ok().and_then(|a| a.json()) {
            if let (Some(t), Some(title)) = (
                p.get("type").and_then(Value::as_str),
                p.get("title").and_then(Value::as_str),
            ) {
                message.push_str(&format!(" [the server's problem: {title} ({t})]"));
            }
        }
        let v = Violation {
            check,
            field: field.to_string(),
            rule,
            message,
            exchange: ex.clone(),
            valid_body: valid,
            path: Vec::new(),
            seed: self.seed,
            preceding: Vec::new(),
            operation: self.schema.operation_label(ex.sent.method, &ex.sent.path),
            shrunk: Default::default(),
        };
        self.report.record(v);
        if let Some(h) = &self.halt {
            h.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn warn(
        &mut self,
        check: Check,
        field: &str,
        rule: Option<&'static str>,
        message: String,
        ex: &Exchange,
    ) {
        let v = Violation {
            check,
            field: field.to_string(),
            rule,
            message: format!("{message} (a lax validator coerces this value; --strict-types makes it a violation)"),
            exchange: ex.clone(),
            valid_body: false,
            path: Vec::new(),
            seed: self.seed,
            preceding: Vec::new(),
            operation: self
                .schema
                .operation_label(ex.sent.method, &ex.sent.path),
            shrunk: Default::default(),
        };
        self.report.warn(v);
    }

    /// The checks every answer gets.
    pub(crate) fn common(
        &mut self,
        op: &Operation,
        ex: &Exchange,
        field: &str,
        mutation: Option<&mutate::Mutation>,
        secrets: &[String],
    ) {
        let valid = mutation.is_none();
        self.report.tick(checks::TARGET_ANSWERS, field);
        self.report.answered(&op.name, ex.status());
        let a = match &ex.outcome {
            Ok(a) => a.clone(),
            Err(_) => {
                if let Err(m) = checks::target_answers(ex) {
                    self.record(checks::TARGET_ANSWERS, field, None, m, ex, valid);
                }
                return;
            }
        };
        let own = self.s.secrets();
        let secrets: Vec<&str> = secrets
            .iter()
            .chain(own.iter())
            .map(String::as_str)
            .collect();
        let seen = checks::Seen {
            schema: self.schema,
            op,
            answer: &a,
            mutation,
            secrets: &secrets,
            expected: &self.s.expected,
            known_ids: self.known_ids(op, &ex.sent.path),
        };
        let more = checks::judge_more(self.schema, op, &a, self.s.max_response_time);
        for (check, verdict) in checks::judge(&seen, checks::Applies::Every).chain(more) {
            self.report.tick(check, field);
            if let Err(m) = verdict {
                self.record(check, field, None, m, ex, mutation.is_none());
            }
        }
    }

    /// After a delete that succeeded, its item is no longer one the run has: a 404 for it is no
    /// refusal of valid data.
    pub(crate) fn forget_deleted(&mut self, op: &Operation, ex: &Exchange) {
        if op.method != "DELETE" || !ex.status().is_some_and(|s| (200..300).contains(&s)) {
            return;
        }
        if let Some((_, id)) = crate::meta::path_params(&op.path, &ex.sent.path).last() {
            self.made.remove(id);
        }
    }

    /// Whether every path parameter of `op` in `path` is the id of an item the run made.
    pub(crate) fn known_ids(&self, op: &Operation, path: &str) -> bool {
        crate::meta::path_params(&op.path, path)
            .iter()
            .all(|(_, v)| self.made.contains(v))
    }

    /// The path parameters of `op` that a fixture fixes: the id of an item the run created, for
    /// its item path and every path under it.
    fn fixed_params(&self, op: &Operation) -> Vec<(String, String)> {
        let deletes = |f: &Fixture| f.delete.as_deref() == Some(op.name.as_str());
        self.fixtures
            .iter()
            .filter_map(|f| Some((f, crate::meta::under_template(&op.path, &f.item)?)))
            // The delete of the item path gets its own item; everything else the lasting one.
            .filter(|(f, _)| {
                f.for_delete == (crate::meta::same_template(&op.path, &f.item) && deletes(f))
            })
            // Under the name the operation's path gives the fixture's parameter.
            .filter_map(|(f, names)| {
                let (_, ours) = names.iter().find(|(theirs, _)| *theirs == f.param)?;
                Some((ours.clone(), f.id.clone()))
            })
            .collect()
    }

    /// Deletes the lasting fixtures, once the findings that reached them are replayed: a run
    /// leaves behind no item it made for its probe. Not judged: the probe judged the delete.
    async fn remove_fixtures(&mut self) {
        // Nested items first, then their parents.
        for f in std::mem::take(&mut self.fixtures).into_iter().rev() {
            let Some(op) = f.delete.as_deref().and_then(|d| self.schema.operation(d)) else {
                continue;
            };
            if f.for_delete {
                continue;
            }
            let path = f
                .parents
                .iter()
                .chain([(f.param.clone(), f.id.clone())].iter())
                .fold(f.item.clone(), |p, (name, id)| {
                    p.replace(&format!("{{{name}}}"), &encode_component(id))
                });
            let r = Request {
                path,
                query: Vec::new(),
                headers: Vec::new(),
                body: None,
                spelling: None,
            };
            let auth = self.auth(op);
            if self.send(op, &r, auth).await.is_err() {
                break;
            }
        }
    }

    /// Sends a valid request and judges the answer; a failure it shows is triaged at once.
    pub(crate) async fn send_valid(
        &mut self,
        op: &Operation,
        r: &Request,
        field: &str,
        auth: Auth,
        secrets: &[String],
    ) -> Result<Exchange, Exhausted> {
        self.send_valid_drawn(op, r, field, auth, secrets, None::<&mut Drawn>)
            .await
    }

    /// [`Run::send_valid`] of a request drawn from the value tree `drawn`, whose shrinking then
    /// goes first when the request fails.
    pub(crate) async fn send_valid_drawn<T: ValueTree<Value = Request>>(
        &mut self,
        op: &Operation,
        r: &Request,
        field: &str,
        auth: Auth,
        secrets: &[String],
        drawn: Option<&mut T>,
    ) -> Result<Exchange, Exhausted> {
        let before = self.report.violations.len();
        let ex = self.send(op, r, auth).await?;
        self.tally(op, auth, &ex);
        self.common(op, &ex, field, None, secrets);
        self.report.cover(field, "valid", &ex);
        self.forget_deleted(op, &ex);
        if let Ok(a) = &ex.outcome {
            let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
            let seen = checks::Seen {
                schema: self.schema,
                op,
                answer: a,
                mutation: None,
                secrets: &secrets,
                expected: &self.s.expected,
                known_ids: self.known_ids(op, &ex.sent.path),
            };
            for (check, verdict) in checks::judge(&seen, checks::Applies::Valid) {
                self.report.tick(check, field);
                if let Err(m) = verdict {
                    self.record(check, field, None, m, &ex, true);
                }
            }
        }
        if self.report.violations.len() > before {
            self.triage(op, &ex, None, drawn).await;
        }
        Ok(ex)
    }

    /// Sends each of the first `upto` violations' requests once more: one whose status changes
    /// is flaky. The later ones (the scenarios') depend on the state they were found in: a bare
    /// replay proves nothing of them, and they are kept as found.
    async fn replay(&mut self, upto: usize) {
        let mut found = std::mem::take(&mut self.report.violations);
        let stateful = found.split_off(upto.min(found.len()));
        for v in found {
            // A delete that succeeded changed what a second one finds: not replayed bare.
            let deleted = v.exchange.sent.method == "DELETE"
                && v.exchange.status().is_some_and(|s| (200..300).contains(&s));
            if deleted {
                self.report.violations.push(v);
                continue;
            }
            let again = self.target.resend(&v.exchange.sent).await;
            // A create that was taken, sent again, may meet itself: a 409 to the second says
            // the first was stored, as it was found (a unique name).
            let created = |a: &crate::http::Answer, e: &Exchange| {
                v.exchange.sent.method == "POST"
                    && (200..300).contains(&a.status)
                    && e.status() == Some(409)
            };
            let same = match (&again, &v.exchange.outcome) {
                (Ok(e), Ok(a)) => e.status() == Some(a.status) || created(a, e),
                (Ok(e), Err(_)) => e.outcome.is_err(),
                (Err(_), _) => true,
            };
            if same {
                self.report.violations.push(v);
            } else {
                self.report.flaky.push(v);
            }
        }
        self.report.violations.extend(stateful);
    }
}

impl Run<'_> {
    /// The part names of every hold so far, each tried first when a failure is shrunk: a part
    /// that broke other operations is confirmed in a request or two.
    fn hints(&self) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        for h in &self.report.held {
            let name = vec![h.part.name()];
            if !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }

    /// Triage of a failure just found: the request `ex` (to `op`, breaking `mutation` if any) is
    /// shrunk, with proptest's shrinking of `drawn` first where it was drawn; each violation of
    /// that request keeps the least request found; what a valid request's failure needed is held
    /// back from the operation's later requests; server errors met on the way are judged.
    pub(crate) async fn triage<T: ValueTree<Value = Request>>(
        &mut self,
        op: &Operation,
        ex: &Exchange,
        mutation: Option<&mutate::Mutation>,
        drawn: Option<&mut T>,
    ) {
        if self.s.fail_fast || self.gone {
            return;
        }
        let pending: Vec<usize> = self
            .report
            .violations
            .iter()
            .enumerate()
            .filter(|(_, v)| v.exchange.sent == ex.sent && v.shrunk == Shrunk::Pending)
            .map(|(i, _)| i)
            .collect();
        let Some(check) = pending
            .iter()
            .map(|i| &self.report.violations[*i])
            .min_by_key(|v| {
                (
                    crate::triage::Category::of(v.check),
                    checks::ALL.iter().position(|c| *c == v.check),
                )
            })
            .map(|v| v.check)
        else {
            return;
        };
        // A failure like one already shrunk on this operation takes its result.
        let primary = pending
            .iter()
            .map(|i| &self.report.violations[*i])
            .find(|v| v.check == check)
            .map(crate::triage::like_key);
        let like = primary.as_ref().and_then(|key| {
            self.report
                .violations
                .iter()
                .find(|v| matches!(v.shrunk, Shrunk::Done(_)) && crate::triage::like_key(v) == *key)
                .and_then(|v| v.shrunk.minimal().cloned())
        });
        if let Some(m) = like {
            for i in pending {
                self.report.violations[i].shrunk = Shrunk::Like(Box::new(m.clone()));
            }
            return;
        }
        let spent_here = self.shrink_spent_on.get(&op.name).copied().unwrap_or(0);
        let left = SHRINK_TOTAL
            .saturating_sub(self.shrink_spent)
            .min(SHRINK_PER_OPERATION.saturating_sub(spent_here));
        let shrinking = if left == 0 {
            crate::triage::Shrinking {
                shrunk: Shrunk::Kept(format!(
                    "the shrinking budget ({SHRINK_PER_OPERATION} requests an operation, \
                     {SHRINK_TOTAL} a run) was spent"
                )),
                server_errors: Vec::new(),
            }
        } else {
            let hints = self.hints();
            let job = crate::triage::Job {
                schema: self.schema,
                target: &self.target,
                expected: &self.s.expected,
                key: self.s.key_for(&self.target.options().shown.credential),
                max_response_time: self.s.max_response_time,
                known_ids: self.known_ids(op, &ex.sent.path),
                hints: &hints,
                budget: crate::triage::SHRINK_BUDGET.min(left),
            };
            crate::triage::shrink_failure(&job, op, check, ex, mutation.cloned(), drawn).await
        };
        if let Shrunk::Done(m) = &shrinking.shrunk {
            self.shrink_spent += m.tries;
            *self.shrink_spent_on.entry(op.name.clone()).or_default() += m.tries;
            // A least request that is valid and still fails: what it needs is a broken input,
            // whatever request it was found on.
            {
                let status = ex
                    .status()
                    .map_or_else(|| "no answer".to_string(), |s| s.to_string());
                let why = format!("it made requests fail {} ({status})", check.name);
                for h in crate::triage::holds_from(m, &op.name, &why) {
                    if !self
                        .report
                        .held
                        .iter()
                        .any(|x| x.operation == h.operation && x.part == h.part)
                    {
                        self.report.held.push(h);
                    }
                }
            }
        }
        for i in pending {
            self.report.violations[i].shrunk = shrinking.shrunk.clone();
        }
        let label = op.operation_id.clone().unwrap_or_else(|| op.name.clone());
        for e in shrinking.server_errors {
            self.common(op, &e, &format!("{label} (shrinking)"), None, &[]);
        }
    }

    /// Triage of every failure not triaged yet (those the scenarios and the item runs found,
    /// and server errors met while shrinking), until none is left or the budget is spent.
    pub(crate) async fn triage_rest(&mut self) {
        if self.s.fail_fast {
            return;
        }
        for flaky in [false, true] {
            loop {
                let list = if flaky {
                    &self.report.flaky
                } else {
                    &self.report.violations
                };
                let Some(v) = list.iter().find(|v| v.shrunk == Shrunk::Pending) else {
                    break;
                };
                let (sent, exchange) = (v.exchange.sent.clone(), v.exchange.clone());
                let mutation = crate::triage::mutation_of(v.rule, &v.field, &v.path);
                let op = self
                    .schema
                    .operation_at(sent.method, &sent.path)
                    .or_else(|| {
                        let template = v.operation.split_once(' ').map(|(_, t)| t)?;
                        self.schema.operations.values().find(|o| o.path == template)
                    })
                    .cloned();
                let Some(op) = op else {
                    self.mark(
                        flaky,
                        &sent,
                        Shrunk::Kept("its operation is not in the document".into()),
                    );
                    continue;
                };
                if flaky {
                    // A flaky failure did not happen again: shrinking has nothing to hold to.
                    self.mark(flaky, &sent, Shrunk::Kept("it did not happen again".into()));
                    continue;
                }
                self.triage(&op, &exchange, mutation.as_ref(), None::<&mut Drawn>)
                    .await;
                // Whatever stays pending (the run is over budget) is kept as found.
                self.mark(
                    flaky,
                    &sent,
                    Shrunk::Kept("the run's budget was spent".into()),
                );
            }
        }
    }

    /// Sets what triage made of every pending violation of the request `sent`.
    fn mark(&mut self, flaky: bool, sent: &crate::http::Sent, to: Shrunk) {
        let list = if flaky {
            &mut self.report.flaky
        } else {
            &mut self.report.violations
        };
        for v in list
            .iter_mut()
            .filter(|v| v.exchange.sent == *sent && v.shrunk == Shrunk::Pending)
        {
            v.shrunk = to.clone();
        }
    }
}

/// Requests a run's shrinking may send in all, and on one operation: each operation's failures
/// get their share, whatever the order they are found in.
const SHRINK_TOTAL: u32 = 16_384;
const SHRINK_PER_OPERATION: u32 = 128;

/// Values of the body's secret fields (`format: password`, `writeOnly`), at the top level.
pub(crate) fn secret_values(schema: &Schema, op: &Operation, body: Option<&Value>) -> Vec<String> {
    let Some(Shape::Object { name }) = op.body.as_ref().map(|s| match s {
        Shape::Nullable { inner } => inner.as_ref(),
        s => s,
    }) else {
        return Vec::new();
    };
    let Some(o) = schema.object(name) else {
        return Vec::new();
    };
    let Some(body) = body else {
        return Vec::new();
    };
    let fields = o
        .fields
        .iter()
        .filter(|f| f.secret)
        .map(|f| f.name.as_str());
    checks::secret_values(body, fields)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Runs the probe on `names` (every operation when empty) of `schema`. `--cases` counts per
/// operation. Never panics on what the target does.
pub fn run(settings: &Settings, schema: Arc<Schema>, names: &[String]) -> Report {
    let started = Instant::now();
    let mut report = Report {
        target: settings.target.clone(),
        mode: settings.mode.name(),
        seed: settings.seed,
        insecure: settings.insecure,
        title: "contract (any operation)".into(),
        ..Report::default()
    };
    let ops: Vec<Operation> = match select(&schema, names) {
        Ok(ops) => ops.into_iter().cloned().collect(),
        Err(e) => {
            report.could_not_run = Some(e);
            return report;
        }
    };
    // The first operation of each path, by name, among all selected: the path's own probes go
    // with it.
    let mut path_first: std::collections::BTreeMap<String, String> = Default::default();
    for o in &ops {
        let e = path_first
            .entry(o.path.clone())
            .or_insert_with(|| o.name.clone());
        if o.name < *e {
            *e = o.name.clone();
        }
    }
    let ops = match settings.partition {
        Some(p) => {
            report.title = format!("{} (partition {p})", report.title);
            p.share(ops)
        }
        None => ops,
    };
    report.cases_planned = settings.cases.saturating_mul(ops.len() as u32);
    let credential = ops
        .iter()
        .find_map(|o| o.auth.first())
        .map(|a| Credential::parse(a))
        .unwrap_or_default();
    let shown = settings.shown(credential, secret_fields(&schema));
    let options = settings.target_options(started, shown, Duration::from_secs(30));
    let target = match Target::new(options) {
        Ok(t) => t,
        Err(e) => {
            report.could_not_run = Some(e);
            return report;
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            report.could_not_run = Some(format!("cannot start a runtime: {e}"));
            return report;
        }
    };
    let mut run = Run {
        s: settings,
        schema: &schema,
        target,
        report,
        seed: settings.seed,
        gone: false,
        denied: Default::default(),
        fixtures: Vec::new(),
        made: Default::default(),
        halt: None,
        shrink_spent: 0,
        shrink_spent_on: Default::default(),
    };
    run.halt = settings.fail_fast.then(|| run.target.halt_switch());
    // Drawn within I-JSON's exact integers; judged by the document's own ranges.
    let drawn = Arc::new(crate::model::interoperable((*schema).clone()));
    let go_on = rt.block_on(async {
        // A target that cannot be reached is a run that could not happen, not a violation per
        // operation.
        match run.target.send("GET", "/", &[], None, Auth::Missing).await {
            Ok(Exchange {
                outcome: Err(f), ..
            }) if f.kind == "connect" => {
                run.report.could_not_run =
                    Some(format!("cannot reach {}: {}", settings.target, f.message));
                return false;
            }
            _ => {}
        }
        let mut spent = false;
        // In full mode, an item of each resource first, for the operations on items to reach
        // (`--cvm-id` is such an item given, on spec/); and deletes last, so that the other
        // operations find it still there.
        if settings.mode == Mode::Full {
            spent = run.fixtures(&drawn).await.is_err();
        }
        let mut order: Vec<(usize, &Operation)> = ops.iter().enumerate().collect();
        order.sort_by_key(|(_, o)| o.method == "DELETE");
        for (i, op) in order {
            if spent {
                break;
            }
            if run.operation(&drawn, i, op).await.is_err() {
                spent = true;
                break;
            }
        }
        // Each path once, in the job that holds the path's first operation.
        let firsts: Vec<&Operation> = ops
            .iter()
            .filter(|o| path_first.get(&o.path) == Some(&o.name))
            .collect();
        if !spent {
            spent = run.unsupported_methods(&drawn, &firsts).await.is_err();
        }
        // One finding for a credential no secured operation accepts; the lifecycle needs one.
        let locked_out = run.missing_auth();
        if locked_out {
            run.report.skip(
                "the lifecycle scenarios: no secured operation accepted the credential".into(),
            );
        }
        // Then each resource through its lifecycle (it creates and deletes: full mode only).
        let stateless = run.report.violations.len();
        if !spent && !locked_out && settings.mode == Mode::Full {
            spent = run.scenarios(&drawn, &ops).await.is_err();
        }
        if spent && run.report.stopped_early.is_none() {
            run.report.stopped_early =
                Some("the request budget (--max-requests) or the deadline was used up".into());
        }
        run.replay(stateless).await;
        !spent && !locked_out
    });
    // Then the stateful suite's updates on each item the run made, with the same depth as on
    // spec/: every mutation, the edges, the breadth variants, random cases read back composed.
    if go_on && settings.mode == Mode::Full {
        let lasting: Vec<Fixture> = run
            .fixtures
            .iter()
            .filter(|f| !f.for_delete)
            .cloned()
            .collect();
        for f in lasting {
            let Some(mut subj) = item_subject(&schema, &ops, &f.item) else {
                continue;
            };
            subj.bound = f.parents.clone();
            let mut s = settings.clone();
            s.cvm_id = f.id.clone();
            s.persist = None;
            s.progress = crate::runner::Progress::Off;
            s.deadline = settings.deadline.saturating_sub(started.elapsed());
            s.max_requests = settings
                .max_requests
                .map(|m| m.saturating_sub(run.target.requests()));
            if s.deadline.is_zero() || s.max_requests == Some(0) {
                run.report.stopped_early.get_or_insert_with(|| {
                    format!(
                        "the request budget (--max-requests) or the deadline was used up before \
                         the updates of {} were tried",
                        f.item
                    )
                });
                break;
            }
            let r = crate::runner::run_on(&s, &subj, crate::runner::Scope::Item);
            run.report.absorb(r, &f.item);
        }
    }
    // Triage of what is left (the scenarios', the item runs'), while the items still exist.
    rt.block_on(run.triage_rest());
    rt.block_on(run.remove_fixtures());
    let mut report = run.report;
    // The item runs' own requests are in already (`Report::absorb`).
    report.requests += run.target.requests();
    report.elapsed = started.elapsed();
    report.operations = ops.len();
    report.operation_names = ops.iter().map(|o| o.name.clone()).collect();
    report.documented = ops
        .iter()
        .map(|o| (o.name.clone(), crate::statuses::Documented::of(o)))
        .collect();
    report.credential = settings.has_credential();
    report
}

/// The subject of the stateful suite on the item path `item`: its PATCH and its GET, both among
/// the operations the run covers, and at least one field of the update that the read shows.
fn item_subject(schema: &Arc<Schema>, ops: &[Operation], item: &str) -> Option<Subject> {
    let of = |m: &str| ops.iter().find(|o| o.path == item && o.method == m);
    Subject::of(schema.clone(), of("PATCH")?, of("GET")?)
}

/// Every secret field name of the document's objects.
pub fn secret_fields(schema: &Schema) -> Vec<String> {
    let mut out: Vec<String> = schema
        .objects
        .values()
        .flat_map(|o| o.fields.iter().filter(|f| f.secret).map(|f| f.name.clone()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Bodies for a generated crate's `tests/agreement.rs`: for every operation with a JSON body,
/// `draws` valid bodies drawn from the model, the first one with each field at each of its edges
/// (`draw::body_edges`), and every mutation of the first two, as
/// `{"operation", "valid", "rule", "field", "body"}`. Deterministic for a seed.
pub fn body_cases(schema: &Arc<Schema>, draws: usize, seed: u8) -> Vec<Value> {
    let mut rng = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    );
    let mut out = Vec::new();
    for op in schema.operations.values() {
        let Some(shape) = &op.body else { continue };
        let Some(strategy) = draw::value(schema, shape, Place::Body) else {
            continue;
        };
        for i in 0..draws {
            let Ok(tree) = strategy.new_tree(&mut rng) else {
                break;
            };
            let body = tree.current();
            if i == 0 {
                for edge in draw::body_edges(schema, shape, &body) {
                    out.push(json!({"operation": op.name, "valid": true, "body": edge}));
                }
            }
            if i < 2 {
                for m in mutate::body_mutations(schema, &body, shape) {
                    out.push(json!({
                        "operation": op.name, "valid": false, "rule": m.rule,
                        "field": m.field, "body": m.body,
                    }));
                }
            }
            out.push(json!({"operation": op.name, "valid": true, "body": body}));
        }
    }
    out
}

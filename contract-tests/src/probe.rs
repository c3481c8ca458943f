//! The suite on any operation of any document (`cargo xtask contract --spec PATH`): requests
//! drawn from the model ([`crate::draw`]) for path, query and header parameters and JSON bodies,
//! valid ones and named mutations, each answer judged by the generic checks. Then, in full mode,
//! each resource the document has goes through its lifecycle ([`crate::scenarios`]).

use crate::checks::{self, Check};
use crate::draw::{self, Place};
use crate::http::{Auth, Credential, Exchange, Exhausted, Shown, Target, TargetOptions};
use crate::meta::{Operation, Param, Schema, Shape};
use crate::mutate;
use crate::runner::{Mode, Report, Settings, Violation};
use openapi_runtime::encode_component;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Methods the probe sends.
pub const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// One request, before it is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl Request {
    /// The path with its query string.
    pub fn target(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let q: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect();
        format!("{}?{}", self.path, q.join("&"))
    }
}

/// A parameter value as text: strings as they are, other scalars as JSON, arrays joined by commas
/// (the `simple` and non-exploded `form` styles).
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

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

/// The strategy of whole valid requests of `op`, or why there is none.
pub(crate) fn requests(
    schema: &Arc<Schema>,
    op: &Operation,
) -> Result<proptest::strategy::BoxedStrategy<Request>, String> {
    requests_with(schema, op, &[])
}

/// [`requests`] with some path parameters fixed (`(name, value)`): the ids of items the run
/// created, so that an operation on an item reaches one that exists.
pub(crate) fn requests_with(
    schema: &Arc<Schema>,
    op: &Operation,
    fixed: &[(String, String)],
) -> Result<proptest::strategy::BoxedStrategy<Request>, String> {
    let mut parts = Vec::new();
    for p in &op.params {
        let Some(place) = Place::of(&p.location) else {
            continue;
        };
        // `null` has no spelling in a path, a query or a header: a nullable parameter is drawn
        // from its non-null shape (absent stands for nothing).
        let shape = match &p.shape {
            Shape::Nullable { inner } => inner.as_ref(),
            s => s,
        };
        // A fixed id is used only where the parameter's schema allows it (a mock's stock answer
        // may carry an id no request could send).
        let allowed = |id: &str| {
            let v = match shape {
                Shape::Integer { .. } | Shape::Number { .. } => {
                    serde_json::from_str::<Value>(id).unwrap_or_else(|_| json!(id))
                }
                _ => json!(id),
            };
            // The judge leaves patterns to the drawing (regex dialects differ); a fixed id is
            // held to its parameter's pattern here, where the pattern compiles.
            let pattern_ok = match shape {
                Shape::String {
                    pattern: Some(p), ..
                } => fancy_regex::Regex::new(p).map_or(true, |re| re.is_match(id).unwrap_or(true)),
                _ => true,
            };
            pattern_ok && crate::judge::check(schema, &v, shape).is_empty()
        };
        if let Some((_, id)) = fixed
            .iter()
            .find(|(n, i)| p.location == "path" && *n == p.name && allowed(i))
        {
            let fixed = Some((
                p.location.clone(),
                p.name.clone(),
                Value::String(id.clone()),
            ));
            parts.push(proptest::strategy::Just(fixed).boxed());
            continue;
        }

        let Some(s) = draw::value(schema, shape, place) else {
            return Err(format!(
                "no valid value can be drawn for parameter `{}`",
                p.name
            ));
        };
        let (name, loc) = (p.name.clone(), p.location.clone());
        let present = s.prop_map(move |v| Some((loc.clone(), name.clone(), v)));
        parts.push(if p.required {
            present.boxed()
        } else {
            proptest::prop_oneof![proptest::strategy::Just(None), present].boxed()
        });
    }
    let body = match &op.body {
        None => proptest::strategy::Just(None).boxed(),
        Some(shape) => match draw::value(schema, shape, Place::Body) {
            Some(s) if op.body_required => s.prop_map(Some).boxed(),
            Some(s) => {
                proptest::prop_oneof![1 => proptest::strategy::Just(None), 3 => s.prop_map(Some)]
                    .boxed()
            }
            None if !op.body_required => proptest::strategy::Just(None).boxed(),
            None => return Err("no valid body can be drawn".into()),
        },
    };
    let template = op.path.clone();
    Ok((parts, body)
        .prop_map(move |(params, body)| {
            let mut r = Request {
                path: template.clone(),
                query: Vec::new(),
                headers: Vec::new(),
                body,
            };
            for (loc, name, v) in params.into_iter().flatten() {
                match loc.as_str() {
                    "path" => {
                        r.path = r
                            .path
                            .replace(&format!("{{{name}}}"), &encode_component(&text(&v)))
                    }
                    "query" => match &v {
                        Value::Array(a) => {
                            r.query.extend(a.iter().map(|x| (name.clone(), text(x))))
                        }
                        _ => r.query.push((name, text(&v))),
                    },
                    _ => r.headers.push((name, text(&v))),
                }
            }
            r
        })
        .boxed())
}

/// Invalid requests made from a valid one: each breaks one rule of one parameter or of the body.
fn invalid(schema: &Schema, op: &Operation, valid: &Request) -> Vec<(mutate::Mutation, Request)> {
    let mut out = Vec::new();
    if let (Some(shape), Some(body)) = (&op.body, &valid.body) {
        for m in mutate::body_mutations(schema, body, shape) {
            // A `null` optional body reads as no body to many servers (Prism among them): it is
            // not a clear negative.
            if m.body.is_null() && !op.body_required {
                continue;
            }
            let mut r = valid.clone();
            r.body = Some(m.body.clone());
            out.push((m, r));
        }
    }
    for p in &op.params {
        let Some(place) = ["query", "header"].iter().find(|l| **l == p.location) else {
            continue;
        };
        let mutation = |rule: &'static str| mutate::Mutation {
            rule,
            field: format!("({place} {})", p.name),
            path: vec![json!(place), json!(p.name)],
            body: Value::Null,
            coercible: false,
        };
        let drop = |r: &mut Request| {
            r.query
                .retain(|(k, _)| !(*place == "query" && *k == p.name));
            r.headers
                .retain(|(k, _)| !(*place == "header" && *k == p.name));
        };
        if p.required {
            let mut r = valid.clone();
            drop(&mut r);
            out.push((mutation("missing_required"), r));
        }
        if let Some((rule, bad)) = wrong_text(p) {
            let mut r = valid.clone();
            drop(&mut r);
            if *place == "query" {
                r.query.push((p.name.clone(), bad));
            } else {
                r.headers.push((p.name.clone(), bad));
            }
            out.push((mutation(rule), r));
        }
    }
    out
}

/// A text no value of the parameter's shape reads as, with the rule it breaks.
fn wrong_text(p: &Param) -> Option<(&'static str, String)> {
    let shape = match &p.shape {
        Shape::Nullable { inner } => inner.as_ref(),
        s => s,
    };
    match shape {
        Shape::Integer { max: Some(max), .. } if *max < i64::MAX => {
            Some(("above_maximum", (i128::from(*max) + 1).to_string()))
        }
        Shape::Integer { .. } | Shape::Number { .. } => Some(("wrong_type", "not-a-number".into())),
        Shape::Boolean => Some(("wrong_type", "maybe".into())),
        Shape::Enum {
            values,
            open: false,
        } if !values.is_empty() => Some(("not_in_enum", "contract-tests-not-a-member".into())),
        _ => None,
    }
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
    /// With [`Settings::fail_fast`], the target's halt switch, set at the first violation.
    halt: Option<Arc<std::sync::atomic::AtomicBool>>,
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
            .send(method, &r.target(), &r.headers, r.body.as_ref(), auth)
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
        if op.auth.is_empty() || self.s.api_key.is_none() {
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
        let a = match &ex.outcome {
            Ok(a) => a.clone(),
            Err(_) => {
                if let Err(m) = checks::target_answers(ex) {
                    self.record(checks::TARGET_ANSWERS, field, None, m, ex, valid);
                }
                return;
            }
        };
        let secrets: Vec<&str> = secrets
            .iter()
            .map(String::as_str)
            .chain(self.s.api_key.as_deref())
            .collect();
        let seen = checks::Seen {
            schema: self.schema,
            op,
            answer: &a,
            mutation,
            secrets: &secrets,
        };
        let more = checks::judge_more(self.schema, op, &a, self.s.max_response_time);
        for (check, verdict) in checks::judge(&seen, checks::Applies::Every).chain(more) {
            self.report.tick(check, field);
            if let Err(m) = verdict {
                self.record(check, field, None, m, ex, mutation.is_none());
            }
        }
    }

    async fn operation(
        &mut self,
        schema: &Arc<Schema>,
        index: usize,
        op: &Operation,
    ) -> Result<(), Exhausted> {
        let label = op.operation_id.clone().unwrap_or_else(|| op.name.clone());
        if op.body_required && op.body.is_none() {
            self.report.skipped.push(format!(
                "{label}: its required body is not JSON, and only JSON bodies are drawn"
            ));
            return Ok(());
        }
        // Requests are drawn from `schema` (I-JSON integers), judged by the original.
        let drawn_op = schema.operations.get(&op.name).unwrap_or(op);
        let fixed = self.fixed_params(op);
        let strategy = match requests_with(schema, drawn_op, &fixed) {
            Ok(s) => s,
            Err(why) => {
                self.report.skipped.push(format!("{label}: {why}"));
                return Ok(());
            }
        };
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&self.s.seed.to_le_bytes());
        seed[8..16].copy_from_slice(&(index as u64).to_le_bytes());
        let mut rng = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        let auth = self.auth(op);
        for case in 0..self.s.cases {
            let Ok(tree) = strategy.new_tree(&mut rng) else {
                self.report.skipped.push(format!(
                    "{label}: the model's strategy rejected too many draws"
                ));
                return Ok(());
            };
            let valid = tree.current();
            self.report.cases += 1;
            let secrets = secret_values(self.schema, op, valid.body.as_ref());
            if case == 0 && !op.auth.is_empty() {
                self.ignored_auth(op, &valid, &label).await?;
            }
            if case == 0 {
                self.unknown_id(schema, drawn_op, op, &fixed, &label)
                    .await?;
            }
            if self.s.mode == Mode::Full {
                self.send_valid(op, &valid, &format!("{label} (valid)"), auth, &secrets)
                    .await?;
                if case == 0 {
                    // The same valid request twice in a row, and every nested position reached
                    // with what random draws seldom give (`breadth::variants`).
                    self.send_valid(op, &valid, &format!("{label} (repeated)"), auth, &secrets)
                        .await?;
                    let variants = drawn_op
                        .body
                        .as_ref()
                        .map(|shape| crate::breadth::bodies(schema, shape))
                        .unwrap_or_default();
                    self.send_bodies(op, &valid, variants, &format!("{label} (breadth)"), auth)
                        .await?;
                }
                // The first body once more with each field at each edge: random draws reach a
                // given edge only now and then.
                let edges = match (&drawn_op.body, &valid.body, case) {
                    (Some(shape), Some(body), 0) => draw::body_edges(schema, shape, body),
                    _ => Vec::new(),
                };
                self.send_bodies(op, &valid, edges, &format!("{label} (edge)"), auth)
                    .await?;
            }
            // Every mutation of the first cases; later cases repeat the rules already probed.
            if case >= 2 {
                continue;
            }
            for (m, r) in invalid(self.schema, op, &valid) {
                let ex = self.send(op, &r, auth).await?;
                self.tally(op, auth, &ex);
                let field = format!("{label} {}", m.field);
                self.common(op, &ex, &field, Some(&m), &secrets);
                self.report.cover(&field, m.rule, &ex);
                let Ok(a) = &ex.outcome else { continue };
                let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
                let seen = checks::Seen {
                    schema: self.schema,
                    op,
                    answer: a,
                    mutation: Some(&m),
                    secrets: &secrets,
                };
                for (check, verdict) in checks::judge(&seen, checks::Applies::Invalid) {
                    // A framework's convention the document does not state is not held here.
                    if checks::CONVENTIONS.contains(&check) {
                        continue;
                    }
                    self.report.tick(check, &field);
                    let Err(msg) = verdict else { continue };
                    let lenient = check == checks::NEGATIVE_DATA_REJECTION
                        && m.coercible
                        && a.status < 300
                        && !self.s.strict_types;
                    if lenient {
                        // A lax validator coerced it: a warning unless strict types are asked for.
                        self.warn(check, &field, Some(m.rule), msg, &ex);
                    } else {
                        self.record(check, &field, Some(m.rule), msg, &ex, false);
                    }
                }
            }
        }
        Ok(())
    }

    /// The path parameters of `op` that a fixture fixes: the id of an item the run created, for
    /// its item path and every path under it.
    fn fixed_params(&self, op: &Operation) -> Vec<(String, String)> {
        let deletes = |f: &Fixture| f.delete.as_deref() == Some(op.name.as_str());
        self.fixtures
            .iter()
            .filter(|f| op.path == f.item || op.path.starts_with(&format!("{}/", f.item)))
            // The delete of the item path gets its own item; everything else the lasting one.
            .filter(|f| f.for_delete == (op.path == f.item && deletes(f)))
            .map(|f| (f.param.clone(), f.id.clone()))
            .collect()
    }

    /// Deletes the lasting fixtures, once the findings that reached them are replayed: a run
    /// leaves behind no item it made for its probe. Not judged: the probe judged the delete.
    async fn remove_fixtures(&mut self) {
        for f in std::mem::take(&mut self.fixtures) {
            let Some(op) = f.delete.as_deref().and_then(|d| self.schema.operation(d)) else {
                continue;
            };
            if f.for_delete {
                continue;
            }
            let path = f
                .item
                .replace(&format!("{{{}}}", f.param), &encode_component(&f.id));
            let r = Request {
                path,
                query: Vec::new(),
                headers: Vec::new(),
                body: None,
            };
            let auth = self.auth(op);
            if self.send(op, &r, auth).await.is_err() {
                break;
            }
        }
    }

    /// Counts an answer of a secured operation to the run's own credential (`missing_auth`).
    fn tally(&mut self, op: &Operation, auth: Auth, ex: &Exchange) {
        if op.auth.is_empty() || auth != self.auth(op) {
            return;
        }
        if let Some(status) = ex.status() {
            let e = self.denied.entry(op.name.clone()).or_default();
            e.0 += 1;
            e.1 += u32::from(status == 401 || status == 403);
        }
    }

    /// When every secured operation answered 401 or 403 to every request sent with the run's
    /// credential, that credential is missing or wrong: one `missing_auth` failure says so,
    /// in place of a failure per operation for the one cause. Whether it did.
    fn missing_auth(&mut self) -> bool {
        let all_denied = !self.denied.is_empty()
            && self
                .denied
                .values()
                .all(|(sent, denied)| *sent > 0 && sent == denied);
        if !all_denied {
            return false;
        }
        let secured = self.denied.len();
        let denied_here = |v: &Violation| {
            v.exchange.status().is_some_and(|s| s == 401 || s == 403)
                && matches!(v.exchange.sent.auth, Auth::Key | Auth::Missing)
        };
        let (folded, kept): (Vec<Violation>, Vec<Violation>) =
            std::mem::take(&mut self.report.violations)
                .into_iter()
                .partition(denied_here);
        self.report.violations = kept;
        let Some(first) = folded.first() else {
            return true;
        };
        let given = if self.s.api_key.is_some() {
            "the credential given"
        } else {
            "no credential (none was given)"
        };
        let m = format!(
            "every one of the {secured} secured operation(s) answered 401 or 403 to every request with {given}: the credential is missing or wrong, so nothing behind it was tested ({} finding(s) of that one cause folded into this one)",
            folded.len()
        );
        let ex = first.exchange.clone();
        self.report.tick(checks::MISSING_AUTH, "(credentials)");
        self.record(checks::MISSING_AUTH, "(credentials)", None, m, &ex, true);
        true
    }

    /// Each path of `ops` with every method the probe sends that the document does not give for
    /// it: each must get a 405 whose `Allow` names the documented methods. The request is a
    /// valid one of the path's first operation, its method changed. Methods other than GET go out
    /// in full mode only: a server that does implement an undocumented DELETE would act on it.
    async fn unsupported_methods(
        &mut self,
        drawn: &Arc<Schema>,
        ops: &[&Operation],
    ) -> Result<(), Exhausted> {
        let mut paths: Vec<&str> = ops.iter().map(|o| o.path.as_str()).collect();
        paths.sort_unstable();
        paths.dedup();
        for (i, path) in paths.into_iter().enumerate() {
            let documented = checks::methods_of_overlapping(self.schema, path);
            let Some(op) = self.schema.operations.values().find(|o| o.path == path) else {
                continue;
            };
            let Ok(strategy) = requests(drawn, drawn.operations.get(&op.name).unwrap_or(op)) else {
                continue;
            };
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&self.s.seed.to_le_bytes());
            seed[8..16].copy_from_slice(&(i as u64).to_le_bytes());
            seed[16] = 0x4d;
            let mut rng = TestRunner::new_with_rng(
                Config::default(),
                TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
            );
            let Ok(tree) = strategy.new_tree(&mut rng) else {
                continue;
            };
            let valid = tree.current();
            let auth = self.auth(op);
            for method in METHODS {
                if documented.iter().any(|m| m == method)
                    || (method != "GET" && self.s.mode != Mode::Full)
                {
                    continue;
                }
                let ex = self.send_as(method, op, &valid, auth).await?;
                let field = format!("{method} {path}");
                self.report.tick(checks::TARGET_ANSWERS, &field);
                let a = match &ex.outcome {
                    Ok(a) => a.clone(),
                    Err(_) => {
                        if let Err(m) = checks::target_answers(&ex) {
                            self.record(checks::TARGET_ANSWERS, &field, None, m, &ex, true);
                        }
                        continue;
                    }
                };
                self.report.cover(&field, "unsupported method", &ex);
                let verdicts = [
                    (
                        checks::UNSUPPORTED_METHOD,
                        checks::unsupported_method(method, &a),
                    ),
                    (
                        checks::ALLOW_HEADER_CONFORMANCE,
                        checks::allow_header_conformance(self.schema, path, method, &a),
                    ),
                ];
                for (check, verdict) in verdicts {
                    self.report.tick(check, &field);
                    if let Err(m) = verdict {
                        self.record(check, &field, None, m, &ex, true);
                    }
                }
            }
        }
        Ok(())
    }

    /// On an operation that reaches an item the run created and documents a 404: the same
    /// request with an id no item has must get the 404 (or a 410), not be served
    /// (`unknown_id_not_found`).
    async fn unknown_id(
        &mut self,
        drawn: &Arc<Schema>,
        drawn_op: &Operation,
        op: &Operation,
        fixed: &[(String, String)],
        label: &str,
    ) -> Result<(), Exhausted> {
        let documents_404 = op.responses.iter().any(|r| r.status == 404 && !r.range);
        let Some((param, _)) = fixed.last() else {
            return Ok(());
        };
        let Some(p) = op
            .params
            .iter()
            .find(|p| p.location == "path" && p.name == *param)
        else {
            return Ok(());
        };
        let taken: Vec<&str> = self.fixtures.iter().map(|f| f.id.as_str()).collect();
        let Some(unknown) = unknown_id(self.schema, &p.shape, &taken) else {
            return Ok(());
        };
        if !documents_404 {
            return Ok(());
        }
        let mut ids = fixed.to_vec();
        if let Some(last) = ids.last_mut() {
            last.1 = unknown.clone();
        }
        let Ok(strategy) = requests_with(drawn, drawn_op, &ids) else {
            return Ok(());
        };
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&self.s.seed.to_le_bytes());
        seed[16] = 0x1d;
        let mut rng = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        let Ok(tree) = strategy.new_tree(&mut rng) else {
            return Ok(());
        };
        let r = tree.current();
        let auth = self.auth(op);
        let ex = self.send(op, &r, auth).await?;
        let field = format!("{label} (unknown id)");
        self.common(op, &ex, &field, None, &[]);
        self.report.cover(&field, "unknown id", &ex);
        self.report.tick(checks::UNKNOWN_ID_NOT_FOUND, &field);
        if let Some(status) = ex.status().filter(|s| !matches!(s, 404 | 410)) {
            let m = format!(
                "{} with an id no item has (`{unknown}`) got {status}, not 404",
                op.method
            );
            self.record(checks::UNKNOWN_ID_NOT_FOUND, &field, None, m, &ex, true);
        }
        Ok(())
    }

    /// A valid request of a secured operation with no credential, a wrong one and near misses
    /// of the real one: none may be served.
    async fn ignored_auth(
        &mut self,
        op: &Operation,
        valid: &Request,
        label: &str,
    ) -> Result<(), Exhausted> {
        let mut auths = vec![Auth::Missing, Auth::Wrong];
        auths.extend(
            Auth::NEAR_MISSES
                .into_iter()
                .filter(|a| a.credential(self.s.api_key.as_deref()).is_some()),
        );
        for auth in auths {
            let ex = self.send(op, valid, auth).await?;
            let field = format!("{label} {}", auth.label());
            self.common(op, &ex, &field, None, &[]);
            self.report.cover(&field, "auth", &ex);
            self.report.tick(checks::IGNORED_AUTH, &field);
            if let Some(s) = ex.status().filter(|s| (200..300).contains(s)) {
                let m = format!(
                    "{} {} {} was served ({s})",
                    op.method,
                    valid.target(),
                    auth.label()
                );
                self.record(checks::IGNORED_AUTH, &field, None, m, &ex, true);
            }
        }
        Ok(())
    }

    /// `valid` once with each of `bodies` in place of its body, each judged as a valid request.
    async fn send_bodies(
        &mut self,
        op: &Operation,
        valid: &Request,
        bodies: Vec<Value>,
        field: &str,
        auth: Auth,
    ) -> Result<(), Exhausted> {
        for body in bodies {
            let r = Request {
                body: Some(body),
                ..valid.clone()
            };
            let secrets = secret_values(self.schema, op, r.body.as_ref());
            self.send_valid(op, &r, field, auth, &secrets).await?;
        }
        Ok(())
    }

    /// Sends a valid request and judges the answer.
    pub(crate) async fn send_valid(
        &mut self,
        op: &Operation,
        r: &Request,
        field: &str,
        auth: Auth,
        secrets: &[String],
    ) -> Result<Exchange, Exhausted> {
        let ex = self.send(op, r, auth).await?;
        self.tally(op, auth, &ex);
        self.common(op, &ex, field, None, secrets);
        self.report.cover(field, "valid", &ex);
        if let Ok(a) = &ex.outcome {
            let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
            let seen = checks::Seen {
                schema: self.schema,
                op,
                answer: a,
                mutation: None,
                secrets: &secrets,
            };
            for (check, verdict) in checks::judge(&seen, checks::Applies::Valid) {
                self.report.tick(check, field);
                if let Err(m) = verdict {
                    self.record(check, field, None, m, &ex, true);
                }
            }
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
            let same = match (&again, &v.exchange.outcome) {
                (Ok(e), Ok(a)) => e.status() == Some(a.status),
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

/// An id a path parameter of `shape` allows that none of `taken` is and that a store is unlikely
/// to have given: a large number, a nil-like UUID, or a word.
fn unknown_id(schema: &Schema, shape: &Shape, taken: &[&str]) -> Option<String> {
    let shape = match shape {
        Shape::Nullable { inner } => inner.as_ref(),
        s => s,
    };
    let candidates: Vec<Value> = match shape {
        Shape::Integer { max, .. } => {
            let mut c = vec![json!(1_999_999_937i64), json!(987_654_321i64)];
            if let Some(m) = max {
                c.insert(0, json!(*m));
            }
            c
        }
        Shape::Number { .. } => vec![json!(1_999_999_937i64)],
        Shape::String { .. } => vec![
            json!("00000000-0000-4000-8000-00000000dead"),
            json!("contract-no-such-id"),
            json!("zz9"),
        ],
        _ => Vec::new(),
    };
    candidates
        .into_iter()
        .filter(|v| crate::judge::check(schema, v, shape).is_empty())
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        .find(|t| !taken.contains(&t.as_str()))
}

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
    let target = match Target::new(TargetOptions {
        base_url: settings.target.clone(),
        api_key: settings.api_key.clone(),
        shown: Arc::new(Shown {
            credential,
            secret_fields: secret_fields(&schema),
        }),
        timeout: settings.timeout,
        rate: settings.rate,
        max_requests: settings.max_requests,
        deadline: started + settings.deadline,
        read_limit: settings.read_limit,
        insecure: settings.insecure,
        other_api_key: settings.other_api_key.clone(),
        max_retry_after: Duration::from_secs(30),
    }) {
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
        halt: None,
    };
    run.halt = settings.fail_fast.then(|| run.target.halt_switch());
    // Drawn within I-JSON's exact integers; judged by the document's own ranges.
    let drawn = Arc::new(crate::model::interoperable((*schema).clone()));
    rt.block_on(async {
        // A target that cannot be reached is a run that could not happen, not a violation per
        // operation.
        match run.target.send("GET", "/", &[], None, Auth::Missing).await {
            Ok(Exchange {
                outcome: Err(f), ..
            }) if f.kind == "connect" => {
                run.report.could_not_run =
                    Some(format!("cannot reach {}: {}", settings.target, f.message));
                return;
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
            run.report.skipped.push(
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
        run.remove_fixtures().await;
    });
    let mut report = run.report;
    report.requests = run.target.requests();
    report.elapsed = started.elapsed();
    report.operations = ops.len();
    report.operation_names = ops.iter().map(|o| o.name.clone()).collect();
    report
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

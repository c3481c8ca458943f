//! Triage: what a run's failures come down to, beside the checks (which say what is wrong with
//! one answer) and the report (which tells it).
//!
//! - [`shrink`]: every failure's request is shrunk to the least request that still fails the
//!   same way (the same check, the same status class), sent to the target by a [`Replayer`];
//!   the result is kept on the violation ([`Shrunk`]).
//! - [`causes`]: failures are grouped into causes (where a cause is decided); the report leads
//!   with them.
//! - hold-backs ([`Hold`]): when one part of an operation's requests makes them fail, the run
//!   reports it once and stops sending it there (leaves it out, or keeps to a value that passed),
//!   so that the checks behind it still run.

pub mod causes;
pub mod mask;
pub mod parts;
pub mod shrink;

pub use causes::{causes, Category, Cause};
pub use parts::Parts;
pub use shrink::{Oracle, Outcome, Part, Seen};

use crate::checks::{self, Check, Expected};
use crate::http::{Exchange, Sent, Target};
use crate::meta::{Operation, Schema};
use crate::mutate::Mutation;
use serde_json::Value;
use std::time::Duration;

/// What shrinking made of a failure's request.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Shrunk {
    /// Not tried yet.
    #[default]
    Pending,
    /// The least request found.
    Done(Box<Minimal>),
    /// Not shrunk itself: a failure like it (the same operation, check, status class, rule and
    /// masked message) was, to this least request.
    Like(Box<Minimal>),
    /// Kept as found, and why (a check of the resource's state, a body that is not JSON, the
    /// budget spent).
    Kept(String),
}

impl Shrunk {
    /// The least request, its own or that of a failure like it.
    pub fn minimal(&self) -> Option<&Minimal> {
        match self {
            Shrunk::Done(m) | Shrunk::Like(m) => Some(m),
            _ => None,
        }
    }
}

/// The least request that fails the same way as a failure's.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimal {
    /// It, and what it got.
    pub exchange: Exchange,
    /// The parts it carries that the document does not require: what the failure needs
    /// (`header x-prefect-api-version`, `body limit`).
    pub needed: Vec<Part>,
    /// Where it breaks the document (`body flows.id (type)`); empty when it is valid.
    pub broken: Vec<String>,
    /// Requests the shrinking sent.
    pub tries: u32,
    /// Whether each part it keeps was shown to be needed (the budget did not run out first).
    pub complete: bool,
    /// Values of its parts that made the failure go away (what a hold-back keeps to).
    pub passing: Vec<(String, Value)>,
}

impl Minimal {
    /// The needed parts by name.
    pub fn needed_names(&self) -> Vec<String> {
        self.needed.iter().map(Part::name).collect()
    }
}

/// A part of an operation's requests held back for the rest of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Hold {
    /// The operation (client method name).
    pub operation: String,
    pub part: Part,
    /// `None`: left out; else the value it keeps to (a value that passed).
    pub value: Option<Value>,
    /// What it made requests do (the failure's check and status).
    pub why: String,
}

impl Hold {
    /// How the report says it.
    pub fn describe(&self) -> String {
        match &self.value {
            None => format!("{} left out: {}", self.part.name(), self.why),
            Some(v) => format!(
                "{} kept to {v}, a value that passed: {}",
                self.part.name(),
                self.why
            ),
        }
    }
}

/// `r` with the holds on its operation applied.
pub fn apply_holds(holds: &[Hold], op: &str, r: &mut crate::probe::Request) {
    apply_holds_but(holds, op, r, None);
}

/// [`apply_holds`], but for the holds on the part a mutation breaks (`at`: `["query", name]`,
/// `["header", name]`, or a body path): an invalid request keeps what makes it invalid.
pub fn apply_holds_but(
    holds: &[Hold],
    op: &str,
    r: &mut crate::probe::Request,
    at: Option<&[Value]>,
) {
    let touches = |p: &Part| -> bool {
        let Some(at) = at else { return false };
        match p {
            Part::Query(k) => {
                at.first().and_then(Value::as_str) == Some("query")
                    && at.get(1).and_then(Value::as_str) == Some(k.as_str())
            }
            Part::Header(k) => {
                at.first().and_then(Value::as_str) == Some("header")
                    && at
                        .get(1)
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(k))
            }
            Part::Body => !matches!(at.first().and_then(Value::as_str), Some("query" | "header")),
            Part::Key(path) => {
                let n = path.len().min(at.len());
                path[..n] == at[..n]
            }
        }
    };
    for h in holds
        .iter()
        .filter(|h| h.operation == op && !touches(&h.part))
    {
        match (&h.part, &h.value) {
            (Part::Query(k), None) => r.query.retain(|(a, _)| a != k),
            (Part::Query(k), Some(v)) => {
                for (a, t) in r.query.iter_mut().filter(|(a, _)| a == k) {
                    let _ = a;
                    *t = crate::probe::text(v);
                }
            }
            (Part::Header(k), None) => r.headers.retain(|(a, _)| !a.eq_ignore_ascii_case(k)),
            (Part::Header(k), Some(v)) => {
                for (_, t) in r
                    .headers
                    .iter_mut()
                    .filter(|(a, _)| a.eq_ignore_ascii_case(k))
                {
                    *t = crate::probe::text(v);
                }
            }
            (Part::Body, _) => r.body = None,
            (Part::Key(at), value) => {
                if let Some(b) = &mut r.body {
                    hold_key(b, at, value.as_ref());
                }
            }
        }
    }
}

/// `r` (a request of `op`) without the optional query and header parameters any operation holds
/// back by the same name: probes of something else (credentials, ids) keep clear of a parameter
/// known to break requests.
pub fn apply_shared_holds(holds: &[Hold], op: &Operation, r: &mut crate::probe::Request) {
    let optional = |place: &str, name: &str| {
        op.params
            .iter()
            .any(|p| !p.required && p.location == place && p.name.eq_ignore_ascii_case(name))
    };
    for h in holds.iter().filter(|h| h.value.is_none()) {
        match &h.part {
            Part::Query(k) if optional("query", k) => r.query.retain(|(a, _)| a != k),
            Part::Header(k) if optional("header", k) => {
                r.headers.retain(|(a, _)| !a.eq_ignore_ascii_case(k))
            }
            _ => {}
        }
    }
}

/// A body with the key at `at` left out (`value` none) or, where it is there, set to `value`.
pub fn hold_key(body: &mut Value, at: &[Value], value: Option<&Value>) {
    let Some((last, parent)) = at.split_last() else {
        return;
    };
    let mut v = body;
    for k in parent {
        let next = match k {
            Value::String(s) => v.get_mut(s.as_str()),
            Value::Number(n) => n.as_u64().and_then(|i| v.get_mut(i as usize)),
            _ => None,
        };
        match next {
            Some(n) => v = n,
            None => return,
        }
    }
    let (Value::Object(o), Some(k)) = (v, last.as_str()) else {
        return;
    };
    match value {
        None => {
            o.shift_remove(k);
        }
        Some(x) => {
            if let Some(slot) = o.get_mut(k) {
                *slot = x.clone();
            }
        }
    }
}

/// The top-level keys of an answer's JSON object, sorted; `None` for another answer.
fn answer_keys(ex: &Exchange) -> Option<Vec<String>> {
    let a = ex.outcome.as_ref().ok()?;
    match serde_json::from_slice::<Value>(&a.body).ok()? {
        Value::Object(o) => {
            let mut k: Vec<String> = o.keys().cloned().collect();
            k.sort();
            Some(k)
        }
        _ => None,
    }
}

/// The status class of an outcome (4 for a 404); `None` for no answer.
pub fn class_of(ex: &Exchange) -> Option<u16> {
    ex.status().map(|s| s / 100)
}

/// Which requests a shrunk one may be, to count as failing the same way: a check of valid
/// requests stays with valid ones, a check of invalid ones with invalid ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Valid,
    Invalid,
    Any,
}

/// The checks a shrunk request can be judged by again from its answer alone, with the requests
/// each keeps to. The others need the state they were found in (a read-back, a lifecycle) or
/// sum up many requests.
pub fn shrinkable(check: Check) -> Option<Gate> {
    if let Some((_, applies, _)) = checks::REGISTRY.iter().find(|(c, _, _)| *c == check) {
        return Some(match applies {
            checks::Applies::Valid => Gate::Valid,
            checks::Applies::Invalid => Gate::Invalid,
            checks::Applies::Every => Gate::Any,
        });
    }
    [
        checks::UNKNOWN_ID_NOT_FOUND,
        checks::IGNORED_AUTH,
        checks::UNSUPPORTED_METHOD,
        checks::ALLOW_HEADER_CONFORMANCE,
        checks::MAX_RESPONSE_TIME,
    ]
    .contains(&check)
    .then_some(Gate::Any)
}

/// Sends shrunk candidates of one failure and judges each by the failure's check.
pub struct Replayer<'a> {
    pub schema: &'a Schema,
    /// The operation the request reached (for a method the path lacks, the path's first one).
    pub op: &'a Operation,
    pub check: Check,
    /// The failure's status, and the top-level keys of its JSON answer.
    pub status: Option<u16>,
    pub keys: Option<Vec<String>>,
    pub gate: Gate,
    /// The rule the request broke, for the checks of invalid requests.
    pub mutation: Option<Mutation>,
    pub target: &'a Target,
    pub expected: &'a Expected,
    pub known_ids: bool,
    /// The credential, which an answer must not echo.
    pub key: Option<&'a str>,
    pub max_response_time: Option<Duration>,
    /// The candidates that failed, with their answers (the least one found is among them).
    pub failing: Vec<Exchange>,
    /// Answers with a 5xx to candidates that were not failing the same way: server errors the
    /// shrinking itself found, which the run reports.
    pub server_errors: Vec<Exchange>,
}

impl Oracle for Replayer<'_> {
    async fn judge(&mut self, p: &Parts) -> Option<Seen> {
        let problems = p.problems(self.schema, self.op);
        let fit = match self.gate {
            Gate::Valid => problems.is_empty(),
            Gate::Invalid => !problems.is_empty(),
            Gate::Any => true,
        };
        if !fit {
            return Some(Seen::Unfit);
        }
        let ex = self
            .target
            .send_text(
                p.method,
                &p.target(),
                &p.headers,
                p.body
                    .as_ref()
                    .map(|b| crate::http::write_body(b, p.spelling.as_ref())),
                p.auth,
            )
            .await
            .ok()?;
        // "The same way" is held tighter than the same status class, so that shrinking does not
        // slide to another failure of the same check (a 400 from one header becoming a 422 from
        // a too long value): the same status, and an answer with the same top-level keys.
        let same = ex.status() == self.status && answer_keys(&ex) == self.keys;
        let fails = same && self.breaks(p, &ex);
        if fails {
            self.failing.push(ex);
            Some(Seen::Fails)
        } else {
            if ex.status().is_some_and(|s| s >= 500) && self.server_errors.len() < 4 {
                self.server_errors.push(ex);
            }
            Some(Seen::Passes)
        }
    }
}

impl Replayer<'_> {
    /// Whether `ex` breaks the check again.
    fn breaks(&self, p: &Parts, ex: &Exchange) -> bool {
        let a = match &ex.outcome {
            Ok(a) => a,
            Err(_) => return self.check == checks::TARGET_ANSWERS,
        };
        let mut secrets: Vec<&str> = self.key.into_iter().collect();
        let fields = &self.target.options().shown.secret_fields;
        if let Some(b) = &p.body {
            secrets.extend(checks::secret_values(b, fields.iter().map(String::as_str)));
        }
        let seen = checks::Seen {
            schema: self.schema,
            op: self.op,
            answer: a,
            mutation: self.mutation.as_ref(),
            secrets: &secrets,
            expected: self.expected,
            known_ids: self.known_ids,
        };
        if let Some((_, _, predicate)) = checks::REGISTRY.iter().find(|(c, _, _)| *c == self.check)
        {
            return predicate(&seen).is_err();
        }
        let c = self.check;
        let verdict = if c == checks::UNKNOWN_ID_NOT_FOUND {
            if matches!(a.status, 404 | 410) {
                Ok(())
            } else {
                Err(String::new())
            }
        } else if c == checks::IGNORED_AUTH {
            if (200..300).contains(&a.status) {
                Err(String::new())
            } else {
                Ok(())
            }
        } else if c == checks::UNSUPPORTED_METHOD {
            checks::unsupported_method(p.method, a)
        } else if c == checks::ALLOW_HEADER_CONFORMANCE {
            checks::allow_header_conformance(self.schema, &self.op.path, p.method, a)
        } else if c == checks::MAX_RESPONSE_TIME {
            match self.max_response_time {
                Some(limit) => checks::max_response_time(a, limit),
                None => Ok(()),
            }
        } else {
            Ok(())
        };
        verdict.is_err()
    }
}

/// Requests one failure's shrinking may send.
pub const SHRINK_BUDGET: u32 = 48;

/// How a failure is shrunk: its request, what it is judged by, and what is known already.
pub struct Job<'a> {
    pub schema: &'a Schema,
    pub target: &'a Target,
    pub expected: &'a Expected,
    pub key: Option<&'a str>,
    pub max_response_time: Option<Duration>,
    pub known_ids: bool,
    /// Part names that made other failures (tried first).
    pub hints: &'a [Vec<String>],
    pub budget: u32,
}

/// What a shrinking gives: the outcome for the violation, and server errors it met on the way.
pub struct Shrinking {
    pub shrunk: Shrunk,
    pub server_errors: Vec<Exchange>,
}

/// Shrinks the request of a failure of `check` (`ex`, the rule it broke `mutation`), whose
/// request `op` takes. With `drawn`, a value tree the request was drawn from, proptest's
/// shrinking goes first; delta debugging then takes what is left.
pub async fn shrink_failure<T: proptest::strategy::ValueTree<Value = crate::probe::Request>>(
    job: &Job<'_>,
    op: &Operation,
    check: Check,
    ex: &Exchange,
    mutation: Option<Mutation>,
    drawn: Option<&mut T>,
) -> Shrinking {
    let kept = |why: &str| Shrinking {
        shrunk: Shrunk::Kept(why.to_string()),
        server_errors: Vec::new(),
    };
    let Some(gate) = shrinkable(check) else {
        return kept("it needs the state it was found in");
    };
    if matches!(&ex.outcome, Err(f) if f.kind == "timeout") {
        return kept("each smaller request would wait for the timeout");
    }
    let Some(start) = Parts::of(&ex.sent) else {
        return kept("its body is not JSON");
    };
    let mut replayer = Replayer {
        schema: job.schema,
        op,
        check,
        status: ex.status(),
        keys: answer_keys(ex),
        gate,
        mutation,
        target: job.target,
        expected: job.expected,
        known_ids: job.known_ids,
        key: job.key,
        max_response_time: job.max_response_time,
        failing: Vec::new(),
        server_errors: Vec::new(),
    };
    let (method, auth) = (ex.sent.method, ex.sent.auth);
    let mut begin = start;
    let mut tries = 0;
    if let Some(tree) = drawn {
        let to_parts = |r: &crate::probe::Request| Parts {
            method,
            path: r.path.clone(),
            query: r.query.clone(),
            headers: r.headers.clone(),
            body: r.body.clone(),
            auth,
            spelling: r.spelling.clone(),
        };
        let (best, n) = shrink::by_tree(tree, to_parts, &mut replayer, job.budget / 2).await;
        tries += n;
        if let Some(b) = best {
            begin = b;
        }
    }
    let out = shrink::shrink(
        job.schema,
        op,
        begin,
        job.hints,
        &mut replayer,
        job.budget.saturating_sub(tries),
    )
    .await;
    // The least request found was sent and failed: its own answer is shown.
    let exchange = replayer
        .failing
        .iter()
        .rev()
        .find(|e| Parts::of(&e.sent).as_ref() == Some(&out.parts))
        .cloned()
        .unwrap_or_else(|| ex.clone());
    let least = Parts::of(&exchange.sent).unwrap_or(out.parts);
    Shrinking {
        shrunk: Shrunk::Done(Box::new(Minimal {
            needed: shrink::needed(job.schema, op, &least),
            broken: least.problems(job.schema, op),
            exchange,
            tries: tries + out.tries,
            complete: out.complete,
            passing: out.passing,
        })),
        server_errors: replayer.server_errors,
    }
}

/// What makes two failures alike before either is shrunk: the operation, the check, the status
/// class, the rule and the masked message. One of them is shrunk; the others take its result
/// ([`Shrunk::Like`]).
pub fn like_key(v: &crate::findings::Violation) -> String {
    let template = v
        .operation
        .split_once(' ')
        .map_or(String::new(), |(_, t)| t.to_string());
    format!(
        "{}|{}|{}|{}|{}",
        v.operation,
        v.check.name,
        status_key(v),
        v.rule.unwrap_or("-"),
        mask::mask(&v.message, &v.exchange.sent.path, &template)
    )
}

/// The status as causes tell failures apart by it: its class (`4xx`), but the status itself for
/// `status_code_conformance`, whose whole verdict is that one status is not documented.
pub fn status_key(v: &crate::findings::Violation) -> String {
    match v.exchange.status() {
        Some(s) if v.check == checks::STATUS_CODE_CONFORMANCE => s.to_string(),
        Some(s) => format!("{}xx", s / 100),
        None => "no answer".into(),
    }
}

/// A mutation as a violation keeps it (its rule and where), for judging a shrunk request again.
pub fn mutation_of(rule: Option<&'static str>, field: &str, path: &[Value]) -> Option<Mutation> {
    rule.map(|rule| Mutation {
        rule,
        field: field.to_string(),
        path: path.to_vec(),
        body: Value::Null,
        coercible: false,
    })
}

/// The holds a least request teaches, when it is valid, shrinking went to the end, and it needs
/// parts the document does not require: each needed part left out. Where it needs none, a required part whose simpler value
/// passed is kept to that value.
pub fn holds_from(m: &Minimal, operation: &str, why: &str) -> Vec<Hold> {
    // Only what shrinking showed needed, part by part: a shrinking cut short by its budget
    // keeps parts it never tried.
    if !m.broken.is_empty() || !m.complete {
        return Vec::new();
    }
    if !m.needed.is_empty() {
        return m
            .needed
            .iter()
            .map(|p| Hold {
                operation: operation.to_string(),
                part: p.clone(),
                value: None,
                why: why.to_string(),
            })
            .collect();
    }
    m.passing
        .iter()
        .filter_map(|(name, v)| {
            let part = part_named(name)?;
            Some(Hold {
                operation: operation.to_string(),
                part,
                value: Some(v.clone()),
                why: why.to_string(),
            })
        })
        .collect()
}

/// The part a name names (`query limit`, `header x`, `body a.b`); body paths of keys only.
fn part_named(name: &str) -> Option<Part> {
    let (place, rest) = name.split_once(' ').unwrap_or((name, ""));
    match place {
        "query" => Some(Part::Query(rest.to_string())),
        "header" => Some(Part::Header(rest.to_string())),
        "body" if rest.is_empty() => Some(Part::Body),
        "body" if !rest.contains('[') => Some(Part::Key(
            rest.split('.')
                .map(|k| Value::from(k.to_string()))
                .collect(),
        )),
        _ => None,
    }
}

/// The request a [`Sent`] was, for what the report shows of a least one.
pub fn sent_of(m: &Minimal) -> &Sent {
    &m.exchange.sent
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_hold_leaves_out_or_keeps_to_a_value() {
        let mut r = crate::probe::Request {
            path: "/x".into(),
            query: vec![("limit".into(), "900".into()), ("q".into(), "a".into())],
            headers: vec![("X-Version".into(), "zz".into())],
            body: Some(json!({"a": {"b": 1, "c": 2}, "d": 3})),
            spelling: None,
        };
        let hold = |part: Part, value: Option<Value>| Hold {
            operation: "op".into(),
            part,
            value,
            why: String::new(),
        };
        let holds = [
            hold(Part::Query("limit".into()), Some(json!(0))),
            hold(Part::Header("x-version".into()), None),
            hold(Part::Key(vec![json!("a"), json!("b")]), None),
            hold(Part::Key(vec![json!("d")]), Some(json!(0))),
            hold(Part::Query("q".into()), None),
        ];
        apply_holds(&holds[..4], "op", &mut r);
        assert_eq!(
            r.query,
            vec![
                ("limit".to_string(), "0".to_string()),
                ("q".into(), "a".into())
            ]
        );
        assert!(r.headers.is_empty());
        assert_eq!(r.body, Some(json!({"a": {"c": 2}, "d": 0})));
        // Another operation's holds do not apply.
        let mut other = r.clone();
        apply_holds(
            &[Hold {
                operation: "other".into(),
                ..holds[4].clone()
            }],
            "op",
            &mut other,
        );
        assert_eq!(other, r);
    }

    #[test]
    fn part_names_read_back() {
        for p in [
            Part::Query("limit".into()),
            Part::Header("x-a".into()),
            Part::Body,
            Part::Key(vec![json!("a"), json!("b")]),
        ] {
            assert_eq!(part_named(&p.name()), Some(p));
        }
    }
}

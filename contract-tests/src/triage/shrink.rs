//! Shrinking a failing request to the least one that still fails the same way.
//!
//! Values drawn from a strategy shrink first with proptest's own shrinking ([`by_tree`]): it drops
//! optional parameters and properties and simplifies each value within its constraints. What was
//! built by hand (mutations, edges, breadth variants, scenario steps) shrinks by delta debugging
//! ([`shrink`]): the parts the document does not require are dropped in halves, then one at a
//! time, level by level into the body, and each value left is tried simpler. An [`Oracle`] says of
//! each candidate whether it still fails the same way; every candidate costs it one request, at
//! most, and a budget bounds them.

use super::parts::{shape_at, Parts};
use crate::judge;
use crate::meta::{Operation, Schema, Shape};
use proptest::strategy::ValueTree;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// What became of a candidate request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// It still fails the same way.
    Fails,
    /// It was sent and did not fail so.
    Passes,
    /// It was not sent: it is not a request of the kind the failure is about (a valid one turned
    /// invalid, say).
    Unfit,
}

/// Says of a candidate request whether it still fails the same way; `None` once the run's budget
/// is spent.
#[allow(async_fn_in_trait)]
pub trait Oracle {
    async fn judge(&mut self, candidate: &Parts) -> Option<Seen>;
}

/// What shrinking found.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The least request found that fails the same way.
    pub parts: Parts,
    /// Requests it took.
    pub tries: u32,
    /// Whether every part left was shown to be needed (no budget ran out on the way).
    pub complete: bool,
    /// Parts whose simpler value made the failure go away, with that value: a value of theirs
    /// that passes.
    pub passing: Vec<(String, Value)>,
}

/// A part of a request that can be left out or held to a value: what a hold-back names.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Query(String),
    Header(String),
    Body,
    Key(Vec<Value>),
}

impl Part {
    /// How causes name it: `query limit`, `header x-trace`, `body`, `body flows.id`.
    pub fn name(&self) -> String {
        match self {
            Part::Query(k) => format!("query {k}"),
            Part::Header(k) => format!("header {}", k.to_ascii_lowercase()),
            Part::Body => "body".into(),
            Part::Key(at) => format!("body {}", judge::dotted(at)),
        }
    }
}

/// The parts of `p` the document does not require of `op`, at every depth, deepest only (a key
/// whose object keeps keys of its own is named by those): what a least failing request still
/// needs beyond what it must carry.
pub fn needed(schema: &Schema, op: &Operation, p: &Parts) -> Vec<Part> {
    let mut out = Vec::new();
    for u in top_units(schema, op, p) {
        match u {
            Unit::Query(k, _) => out.push(Part::Query(k)),
            Unit::Header(k) => out.push(Part::Header(k)),
            Unit::Body => {}
            Unit::Key(at) => keys_below(schema, op, p, at, &mut out),
        }
    }
    // Required keys lead to optional ones below them.
    if let Some(Value::Object(o)) = &p.body {
        for k in o.keys() {
            let at = vec![Value::from(k.as_str())];
            if required_key(schema, op, &at) {
                let mut below = Vec::new();
                keys_below(schema, op, p, at, &mut below);
                out.extend(
                    below
                        .into_iter()
                        .filter(|x| matches!(x, Part::Key(a) if a.len() > 1)),
                );
            }
        }
    }
    out
}

/// `at` (a key of `p`'s body) or, where its object keeps optional keys, those.
fn keys_below(schema: &Schema, op: &Operation, p: &Parts, at: Vec<Value>, out: &mut Vec<Part>) {
    let children: Vec<Vec<Value>> = match p.body.as_ref().and_then(|b| get(b, &at)) {
        Some(Value::Object(o)) => o
            .keys()
            .map(|k| {
                let mut c = at.clone();
                c.push(Value::from(k.as_str()));
                c
            })
            .filter(|c| !required_key(schema, op, c))
            .collect(),
        _ => Vec::new(),
    };
    if children.is_empty() {
        if !required_key(schema, op, &at) {
            out.push(Part::Key(at));
        }
        return;
    }
    for c in children {
        keys_below(schema, op, p, c, out);
    }
}

/// A part that can be left out.
#[derive(Debug, Clone, PartialEq)]
enum Unit {
    Query(String, String),
    Header(String),
    Body,
    Key(Vec<Value>),
}

/// The oracle with what it already answered kept, so that no candidate goes out twice.
struct Memo<'o, O: Oracle> {
    oracle: &'o mut O,
    seen: HashMap<String, Seen>,
    tries: u32,
    budget: u32,
    spent: bool,
}

impl<O: Oracle> Memo<'_, O> {
    async fn judge(&mut self, p: &Parts) -> Seen {
        let key = format!("{}|{:?}|{:?}", p.target(), p.headers, p.body);
        if let Some(v) = self.seen.get(&key) {
            return *v;
        }
        if self.tries >= self.budget {
            self.spent = true;
            return Seen::Unfit;
        }
        let v = match self.oracle.judge(p).await {
            Some(v) => v,
            None => {
                self.spent = true;
                return Seen::Unfit;
            }
        };
        if v != Seen::Unfit {
            self.tries += 1;
        }
        self.seen.insert(key, v);
        v
    }

    async fn fails(&mut self, p: &Parts) -> bool {
        self.judge(p).await == Seen::Fails
    }
}

/// Shrinks `start` by delta debugging. `hints` are sets of part names that made other failures
/// of the run (a header that broke other operations, say): each is tried alone first, so that a
/// known cause costs one request to confirm.
pub async fn shrink<O: Oracle>(
    schema: &Schema,
    op: &Operation,
    start: Parts,
    hints: &[Vec<String>],
    oracle: &mut O,
    budget: u32,
) -> Outcome {
    let mut memo = Memo {
        oracle,
        seen: HashMap::new(),
        tries: 0,
        budget,
        spent: false,
    };
    let mut current = start;
    // The top level: parameters, headers and the body's own keys.
    let units = top_units(schema, op, &current);
    let units = hinted(&mut memo, &mut current, units, hints).await;
    ddmin(&mut memo, &mut current, units).await;
    // Then each object left, one level down at a time.
    let mut frontier: Vec<Vec<Value>> = match &current.body {
        Some(Value::Object(o)) => o.keys().map(|k| vec![Value::from(k.as_str())]).collect(),
        _ => Vec::new(),
    };
    for _depth in 0..6 {
        if memo.spent || frontier.is_empty() {
            break;
        }
        let mut next = Vec::new();
        for at in frontier {
            let Some(Value::Object(o)) = current.body.as_ref().and_then(|b| get(b, &at)) else {
                continue;
            };
            let children: Vec<Vec<Value>> = o
                .keys()
                .map(|k| {
                    let mut p = at.clone();
                    p.push(Value::from(k.as_str()));
                    p
                })
                .collect();
            let units: Vec<Unit> = children
                .iter()
                .filter(|p| !required_key(schema, op, p))
                .cloned()
                .map(Unit::Key)
                .collect();
            ddmin(&mut memo, &mut current, units).await;
            next.extend(children);
        }
        frontier = next;
    }
    let passing = simplify(&mut memo, schema, op, &mut current).await;
    Outcome {
        parts: current,
        tries: memo.tries,
        complete: !memo.spent,
        passing,
    }
}

/// Shrinks a request drawn from a strategy with proptest's shrinking of its value tree: each
/// simpler value the tree offers is tried, kept when it still fails, backed out of when not.
/// Returns the least failing request and the requests it took.
pub async fn by_tree<T: ValueTree, O: Oracle>(
    tree: &mut T,
    to_parts: impl Fn(&T::Value) -> Parts,
    oracle: &mut O,
    budget: u32,
) -> (Option<Parts>, u32) {
    let mut memo = Memo {
        oracle,
        seen: HashMap::new(),
        tries: 0,
        budget,
        spent: false,
    };
    let mut best = None;
    if !tree.simplify() {
        return (best, 0);
    }
    loop {
        let candidate = to_parts(&tree.current());
        let fails = memo.fails(&candidate).await;
        if memo.spent {
            break;
        }
        let more = if fails {
            best = Some(candidate);
            tree.simplify()
        } else {
            tree.complicate()
        };
        if !more {
            break;
        }
    }
    (best, memo.tries)
}

/// The parts of the top level that can be left out: parameters the document does not require,
/// the body where it is optional, and its keys that are not required.
fn top_units(schema: &Schema, op: &Operation, p: &Parts) -> Vec<Unit> {
    let required = |place: &str, name: &str| {
        op.params
            .iter()
            .any(|x| x.required && x.location == place && x.name.eq_ignore_ascii_case(name))
    };
    let mut out = Vec::new();
    for (k, v) in &p.query {
        if !required("query", k) {
            out.push(Unit::Query(k.clone(), v.clone()));
        }
    }
    for (k, _) in &p.headers {
        if !required("header", k) {
            out.push(Unit::Header(k.clone()));
        }
    }
    match &p.body {
        Some(Value::Object(o)) => {
            for k in o.keys() {
                let at = vec![Value::from(k.as_str())];
                if !required_key(schema, op, &at) {
                    out.push(Unit::Key(at));
                }
            }
        }
        Some(_) if !op.body_required => out.push(Unit::Body),
        _ => {}
    }
    if !op.body_required && p.body.is_some() && !out.contains(&Unit::Body) {
        // Left out whole after its keys: a request with no body at all is the least one.
        out.push(Unit::Body);
    }
    out
}

/// How a unit is named among a request's parts ([`Parts::optional_names`]).
fn unit_name(u: &Unit) -> String {
    match u {
        Unit::Query(k, _) => format!("query {k}"),
        Unit::Header(k) => format!("header {}", k.to_ascii_lowercase()),
        Unit::Body => "body".into(),
        Unit::Key(at) => format!("body {}", judge::dotted(at)),
    }
}

/// Each hint that names only units present: the request with every other unit left out is tried
/// first, and kept when it still fails.
async fn hinted<O: Oracle>(
    memo: &mut Memo<'_, O>,
    current: &mut Parts,
    units: Vec<Unit>,
    hints: &[Vec<String>],
) -> Vec<Unit> {
    for hint in hints {
        if hint.is_empty() {
            continue;
        }
        let names: Vec<String> = units.iter().map(unit_name).collect();
        if !hint.iter().all(|h| names.contains(h)) || hint.len() == units.len() {
            continue;
        }
        let others: Vec<Unit> = units
            .iter()
            .filter(|u| !hint.contains(&unit_name(u)))
            .cloned()
            .collect();
        let candidate = without(current, &others);
        if memo.fails(&candidate).await {
            *current = candidate;
            return units
                .into_iter()
                .filter(|u| hint.contains(&unit_name(u)))
                .collect();
        }
        if memo.spent {
            break;
        }
    }
    units
}

/// Delta debugging: leaves out the whole set, then halves, quarters... down to one unit at a
/// time, keeping every leaving-out after which the request still fails.
async fn ddmin<O: Oracle>(memo: &mut Memo<'_, O>, current: &mut Parts, mut units: Vec<Unit>) {
    let mut n = 1usize;
    while !units.is_empty() && !memo.spent {
        let size = units.len().div_ceil(n);
        let mut removed = false;
        let mut start = 0;
        while start < units.len() {
            let end = (start + size).min(units.len());
            let candidate = without(current, &units[start..end]);
            if candidate != *current && memo.fails(&candidate).await {
                *current = candidate;
                units.drain(start..end);
                removed = true;
                break;
            }
            if memo.spent {
                return;
            }
            start = end;
        }
        if removed {
            n = n.saturating_sub(1).max(1);
        } else if size == 1 {
            break;
        } else {
            n = (n * 2).min(units.len());
        }
    }
}

/// `p` with `units` left out.
fn without(p: &Parts, units: &[Unit]) -> Parts {
    let mut out = p.clone();
    for u in units {
        match u {
            Unit::Query(k, v) => out.query.retain(|(a, b)| !(a == k && b == v)),
            Unit::Header(k) => out.headers.retain(|(a, _)| !a.eq_ignore_ascii_case(k)),
            Unit::Body => out.body = None,
            Unit::Key(at) => {
                if let Some(b) = &mut out.body {
                    remove(b, at);
                }
            }
        }
    }
    out
}

/// Whether the document requires the key at `at` of `op`'s body.
fn required_key(schema: &Schema, op: &Operation, at: &[Value]) -> bool {
    let (Some(body), Some((last, parent))) = (&op.body, at.split_last()) else {
        return false;
    };
    let Some(name) = last.as_str() else {
        return false;
    };
    let object = match shape_at(schema, body, parent) {
        Some(Shape::Object { name }) => schema.object(name),
        Some(Shape::Nullable { inner }) => match inner.as_ref() {
            Shape::Object { name } => schema.object(name),
            _ => None,
        },
        _ => None,
    };
    object
        .and_then(|o| o.field(name))
        .is_some_and(|f| f.required)
}

fn get<'v>(v: &'v Value, at: &[Value]) -> Option<&'v Value> {
    at.iter().try_fold(v, |v, k| match k {
        Value::String(s) => v.get(s.as_str()),
        Value::Number(n) => v.get(n.as_u64()? as usize),
        _ => None,
    })
}

fn get_mut<'v>(v: &'v mut Value, at: &[Value]) -> Option<&'v mut Value> {
    at.iter().try_fold(v, |v, k| match k {
        Value::String(s) => v.get_mut(s.as_str()),
        Value::Number(n) => v.get_mut(n.as_u64()? as usize),
        _ => None,
    })
}

fn remove(v: &mut Value, at: &[Value]) {
    let Some((last, parent)) = at.split_last() else {
        return;
    };
    if let (Some(Value::Object(o)), Some(k)) = (get_mut(v, parent), last.as_str()) {
        o.shift_remove(k);
    }
}

/// Simpler values of `shape`, simplest first (none for a string with a pattern or a format, which
/// the judge cannot confirm).
fn simpler(shape: &Shape) -> Vec<Value> {
    match shape {
        Shape::Nullable { inner } => simpler(inner),
        Shape::Boolean => vec![Value::Bool(false)],
        Shape::Integer { min, max, .. } => {
            let mut v = vec![Value::from(0)];
            v.extend(min.map(Value::from));
            v.extend(max.map(Value::from));
            v
        }
        Shape::Number { min, .. } => {
            let mut v = vec![Value::from(0)];
            v.extend(
                min.and_then(serde_json::Number::from_f64)
                    .map(Value::Number),
            );
            v
        }
        Shape::String {
            pattern: None,
            format: None,
            ..
        } => vec![Value::from(""), Value::from("a")],
        Shape::Enum { values, .. } => values.iter().take(1).cloned().map(Value::from).collect(),
        Shape::Values { values } => values.iter().take(1).cloned().collect(),
        Shape::Array { .. } | Shape::Tuple { .. } => vec![Value::Array(Vec::new())],
        Shape::Map { .. } => vec![Value::Object(Map::new())],
        _ => Vec::new(),
    }
}

/// Each value left tried simpler: a candidate that still fails is kept; one after which the
/// request passes is a value of that part that passes.
async fn simplify<O: Oracle>(
    memo: &mut Memo<'_, O>,
    schema: &Schema,
    op: &Operation,
    current: &mut Parts,
) -> Vec<(String, Value)> {
    let mut passing = Vec::new();
    // Parameters.
    for i in 0..current.query.len() + current.headers.len() {
        if memo.spent {
            return passing;
        }
        let (place, name, text) = if i < current.query.len() {
            let (k, v) = &current.query[i];
            ("query", k.clone(), v.clone())
        } else {
            let (k, v) = &current.headers[i - current.query.len()];
            ("header", k.clone(), v.clone())
        };
        let Some(p) = op
            .params
            .iter()
            .find(|p| p.location == place && p.name.eq_ignore_ascii_case(&name))
        else {
            continue;
        };
        for v in simpler(&p.shape) {
            let t = crate::probe::text(&v);
            if t == text || t.is_empty() {
                continue;
            }
            let mut candidate = current.clone();
            let slot = if place == "query" {
                &mut candidate.query[i].1
            } else {
                &mut candidate.headers[i - current.query.len()].1
            };
            *slot = t;
            match memo.judge(&candidate).await {
                Seen::Fails => {
                    *current = candidate;
                    break;
                }
                Seen::Passes => {
                    passing.push((format!("{place} {}", name.to_ascii_lowercase()), v));
                    break;
                }
                Seen::Unfit if memo.spent => return passing,
                Seen::Unfit => {}
            }
        }
    }
    // The body's leaves.
    let (Some(shape), Some(body)) = (&op.body, current.body.clone()) else {
        return passing;
    };
    let mut leaves = Vec::new();
    collect_leaves(&body, &mut Vec::new(), &mut leaves);
    for at in leaves {
        if memo.spent {
            break;
        }
        let Some(s) = shape_at(schema, shape, &at) else {
            continue;
        };
        let Some(now) = current.body.as_ref().and_then(|b| get(b, &at)).cloned() else {
            continue;
        };
        for v in simpler(s) {
            if judge::same_json(&v, &now) {
                break;
            }
            let mut candidate = current.clone();
            if let Some(slot) = candidate.body.as_mut().and_then(|b| get_mut(b, &at)) {
                *slot = v.clone();
            }
            match memo.judge(&candidate).await {
                Seen::Fails => {
                    *current = candidate;
                    break;
                }
                Seen::Passes => {
                    passing.push((format!("body {}", judge::dotted(&at)), v));
                    break;
                }
                Seen::Unfit if memo.spent => break,
                Seen::Unfit => {}
            }
        }
    }
    passing
}

/// The paths of every value in `v` that is not an object (arrays count as values).
fn collect_leaves(v: &Value, at: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                at.push(Value::from(k.as_str()));
                collect_leaves(x, at, out);
                at.pop();
            }
        }
        _ if !at.is_empty() => out.push(at.clone()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Auth;
    use serde_json::json;

    /// Fails when the request carries header `x-bad` and body key `flows.limit` over 200.
    struct Picky {
        asked: u32,
    }

    impl Oracle for Picky {
        async fn judge(&mut self, p: &Parts) -> Option<Seen> {
            self.asked += 1;
            let header = p.headers.iter().any(|(k, _)| k == "x-bad");
            let limit = p
                .body
                .as_ref()
                .and_then(|b| b.pointer("/flows/limit"))
                .and_then(Value::as_i64)
                .is_some_and(|l| l > 200);
            Some(if header && limit {
                Seen::Fails
            } else {
                Seen::Passes
            })
        }
    }

    fn schema() -> Schema {
        Schema::from_document(
            r##"{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/runs":{"post":{
            "operationId":"make","parameters":[
              {"name":"x-bad","in":"header","schema":{"type":"string"}},
              {"name":"x-ok","in":"header","schema":{"type":"string"}},
              {"name":"q","in":"query","schema":{"type":"integer"}}],
            "requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Run"}}}},
            "responses":{"200":{"description":"ok"}}}}},
            "components":{"schemas":{
              "Run":{"type":"object","required":["name"],"properties":{
                "name":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}},
                "flows":{"$ref":"#/components/schemas/Flows"}}},
              "Flows":{"type":"object","properties":{"limit":{"type":"integer"},"id":{"type":"string"},"deep":{"type":"object","properties":{"a":{"type":"integer"}}}}}}}}"##,
        )
        .unwrap()
    }

    fn start() -> Parts {
        Parts {
            method: "POST",
            path: "/runs".into(),
            query: vec![("q".into(), "5".into())],
            headers: vec![("x-ok".into(), "1".into()), ("x-bad".into(), "zz".into())],
            body: Some(
                json!({"name": "n0", "tags": ["a", "b"], "flows": {"limit": 900, "id": "x", "deep": {"a": 3}}}),
            ),
            auth: Auth::Missing,
            spelling: None,
        }
    }

    #[tokio::test]
    async fn what_is_left_is_what_the_failure_needs() {
        let schema = schema();
        let op = schema.find("make").unwrap().clone();
        let mut o = Picky { asked: 0 };
        let out = shrink(&schema, &op, start(), &[], &mut o, 64).await;
        assert!(out.complete);
        // Its value is made simpler too: only its presence matters here.
        assert_eq!(
            out.parts.headers,
            vec![("x-bad".to_string(), "a".to_string())]
        );
        assert!(out.parts.query.is_empty());
        // `name` is required and stays (simplified); `flows.limit` is what fails.
        assert_eq!(
            out.parts.body,
            Some(json!({"name": "", "flows": {"limit": 900}}))
        );
        assert_eq!(
            out.parts.optional_names(&op),
            [
                "body flows",
                "body flows.limit",
                "body name",
                "header x-bad"
            ]
        );
        let needed: Vec<String> = needed(&schema, &op, &out.parts)
            .iter()
            .map(Part::name)
            .collect();
        assert_eq!(needed, ["header x-bad", "body flows.limit"]);
        // 0 is a value of `flows.limit` that passes.
        assert!(out
            .passing
            .contains(&("body flows.limit".to_string(), json!(0))));
        assert_eq!(out.tries, o.asked);
    }

    #[tokio::test]
    async fn a_hint_confirms_a_known_cause_at_once() {
        let schema = schema();
        let op = schema.find("make").unwrap().clone();
        let mut plain = Picky { asked: 0 };
        let a = shrink(&schema, &op, start(), &[], &mut plain, 64).await;
        let mut hinted = Picky { asked: 0 };
        let hint = vec!["header x-bad".to_string(), "body flows".to_string()];
        let b = shrink(&schema, &op, start(), &[hint], &mut hinted, 64).await;
        assert_eq!(a.parts, b.parts);
        assert!(
            hinted.asked < plain.asked,
            "{} vs {}",
            hinted.asked,
            plain.asked
        );
    }

    #[tokio::test]
    async fn the_budget_bounds_the_requests() {
        let schema = schema();
        let op = schema.find("make").unwrap().clone();
        let mut o = Picky { asked: 0 };
        let out = shrink(&schema, &op, start(), &[], &mut o, 3).await;
        assert!(!out.complete);
        assert!(o.asked <= 3);
    }
}

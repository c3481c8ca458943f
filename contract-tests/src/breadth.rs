//! Breadth at every depth: valid values that reach each nested position of a shape with the
//! values random draws seldom give. A full value (every optional property present, arrays of one
//! item) is changed at one position at a time:
//!
//! - an undeclared key in each open object;
//! - each optional property left out, and each nullable one sent as null;
//! - two equal items in each array that does not ask for unique ones, and [`MANY_ITEMS`] items in
//!   each array with no `maxItems` below that;
//! - a NUL and characters beyond ASCII in each free-text string.
//!
//! Every variant is judged valid against the model before it is offered: a server must accept
//! each one.

use crate::faults::{Position, Step};
use crate::judge;
use crate::meta::{Schema, Shape};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Items in the long array variant: well past what a handler written for a few expects.
pub const MANY_ITEMS: usize = 48;

/// The undeclared key the extra-key variants carry.
pub const EXTRA_KEY: &str = "contract_tests_undeclared";

/// How deep full values nest.
const MAX_DEPTH: usize = 6;

/// One variant: where it changes the value, what it does there, and the whole value.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// The position changed.
    pub at: Position,
    /// What was done there (`extra key`, `left out`, `null`, `equal items`, `many items`,
    /// `NUL`, `non-ASCII`).
    pub what: &'static str,
    /// The whole value, changed.
    pub value: Value,
}

impl Variant {
    /// How reports name it: `gpus.gpus[].slot (NUL)`.
    pub fn label(&self) -> String {
        format!("{} ({})", self.at, self.what)
    }
}

/// A valid value of `shape` with every optional property present and every array holding one
/// item (or as many as it must); `None` where the model admits none this can build.
pub fn full(schema: &Arc<Schema>, shape: &Shape) -> Option<Value> {
    let v = build(schema, shape, 0)?;
    judge::check(schema, &v, shape).is_empty().then_some(v)
}

/// A valid value of `shape` with only the properties it must have (each nested object likewise)
/// and arrays at their fewest items; `None` where the model admits none this can build. An
/// update's body with nothing optional in it: what the stateful suite adds each field to.
pub fn minimal(schema: &Arc<Schema>, shape: &Shape) -> Option<Value> {
    let v = build_with(schema, shape, 0, true)?;
    judge::check(schema, &v, shape).is_empty().then_some(v)
}

fn build(schema: &Arc<Schema>, shape: &Shape, depth: usize) -> Option<Value> {
    build_with(schema, shape, depth, false)
}

fn build_with(schema: &Arc<Schema>, shape: &Shape, depth: usize, bare: bool) -> Option<Value> {
    let build =
        |schema: &Arc<Schema>, shape: &Shape, depth: usize| build_with(schema, shape, depth, bare);
    if depth > MAX_DEPTH {
        return None;
    }
    match shape {
        Shape::Object { name } => {
            let o = schema.object(name)?;
            let mut m = Map::new();
            for f in o.fields.iter().filter(|f| f.required || !bare) {
                match build(schema, &f.shape, depth + 1) {
                    Some(v) => {
                        m.insert(f.name.clone(), v);
                    }
                    None if f.required => return None,
                    None => {}
                }
            }
            Some(Value::Object(m))
        }
        Shape::Array {
            items, min_items, ..
        } => {
            let fewest = min_items.unwrap_or(0) as usize;
            if bare && fewest == 0 {
                return Some(Value::Array(Vec::new()));
            }
            let item = build(schema, items, depth + 1)?;
            let n = fewest.max(1);
            // Several items must differ where they must be unique: leave those to the drawer.
            (n == 1).then(|| Value::Array(vec![item]))
        }
        Shape::Map { .. } if bare => Some(Value::Object(Map::new())),
        Shape::Map { values } => {
            let v = build(schema, values, depth + 1)?;
            Some(Value::Object(Map::from_iter([("key".to_string(), v)])))
        }
        Shape::Nullable { inner } => build(schema, inner, depth),
        Shape::OneOf { options } => options.iter().find_map(|o| build(schema, o, depth)),
        leaf => leaf_value(schema, leaf),
    }
}

/// A valid non-null value of a scalar shape: its edge nearest zero for a number, its first
/// non-null edge otherwise, or one drawn with a fixed seed where it has none (a pattern or a
/// format).
fn leaf_value(schema: &Arc<Schema>, shape: &Shape) -> Option<Value> {
    // A number nearest zero (a range's end may be i64's), else the first edge.
    let edges: Vec<Value> = crate::draw::edges(schema, shape)
        .into_iter()
        .filter(|v| !v.is_null())
        .collect();
    let tamest = edges
        .iter()
        .filter_map(|v| v.as_f64().map(|f| (f.abs(), v)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, v)| v.clone());
    if let Some(v) = tamest.or_else(|| edges.first().cloned()) {
        return Some(v);
    }
    let strategy = crate::draw::value(schema, shape, crate::draw::Place::Body)?;
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    strategy
        .new_tree(&mut runner)
        .ok()
        .map(|t| t.current())
        .filter(|v| !v.is_null())
}

/// A full valid value of `shape` and every variant of it: what the probe and the scenarios send
/// of a body; empty where no full value can be built.
pub fn bodies(schema: &Arc<Schema>, shape: &Shape) -> Vec<Value> {
    let Some(base) = full(schema, shape) else {
        return Vec::new();
    };
    let mut out: Vec<Value> = variants(schema, shape, &base)
        .into_iter()
        .map(|v| v.value)
        .collect();
    out.insert(0, base);
    out
}

/// Every variant of `base` (a valid value of `shape`), each valid as a whole.
pub fn variants(schema: &Arc<Schema>, shape: &Shape, base: &Value) -> Vec<Variant> {
    let mut out = Vec::new();
    walk(
        schema,
        shape,
        base,
        &Position::default(),
        &mut |at, what, changed| {
            out.push((at.clone(), what, changed));
        },
        0,
    );
    out.into_iter()
        .filter_map(|(at, what, changed)| {
            let value = replace(base, &at.0, changed)?;
            (judge::check(schema, &value, shape).is_empty() && value != *base).then_some(Variant {
                at,
                what,
                value,
            })
        })
        .collect()
}

/// `base` with the first value at `steps` replaced by `new` (`None` removes the key).
fn replace(base: &Value, steps: &[Step], new: Option<Value>) -> Option<Value> {
    let Some((first, rest)) = steps.split_first() else {
        return new;
    };
    let mut out = base.clone();
    match (first, &mut out) {
        (Step::Key(k), Value::Object(m)) => {
            let inner = m.get(k)?;
            match (rest.is_empty(), new) {
                (true, None) => {
                    m.remove(k);
                }
                (_, new) => {
                    let v = replace(inner, rest, new)?;
                    m.insert(k.clone(), v);
                }
            }
        }
        (Step::Items, Value::Array(a)) => {
            let inner = a.first()?;
            let v = replace(inner, rest, new)?;
            a[0] = v;
        }
        _ => return None,
    }
    Some(out)
}

type Emit<'e> = dyn FnMut(&Position, &'static str, Option<Value>) + 'e;

fn walk(
    schema: &Schema,
    shape: &Shape,
    v: &Value,
    at: &Position,
    emit: &mut Emit<'_>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match (shape, v) {
        (Shape::Nullable { inner }, _) => walk(schema, inner, v, at, emit, depth),
        (Shape::OneOf { options }, _) => {
            // The first option the value fits is the one whose positions it has.
            if let Some(o) = options
                .iter()
                .find(|o| judge::check(schema, v, o).is_empty())
            {
                walk(schema, o, v, at, emit, depth);
            }
        }
        (Shape::Object { name }, Value::Object(m)) => {
            let Some(o) = schema.object(name) else {
                return;
            };
            if !o.closed && !m.contains_key(EXTRA_KEY) {
                let mut with = m.clone();
                with.insert(EXTRA_KEY.into(), Value::Bool(true));
                emit(at, "extra key", Some(Value::Object(with)));
            }
            for f in &o.fields {
                let Some(fv) = m.get(&f.name) else { continue };
                let here = Position([at.0.clone(), vec![Step::Key(f.name.clone())]].concat());
                if !f.required {
                    emit(&here, "left out", None);
                }
                if f.nullable || matches!(f.shape, Shape::Nullable { .. }) {
                    emit(&here, "null", Some(Value::Null));
                }
                walk(schema, &f.shape, fv, &here, emit, depth + 1);
            }
        }
        (
            Shape::Array {
                items,
                max_items,
                unique,
                ..
            },
            Value::Array(a),
        ) => {
            let Some(first) = a.first() else { return };
            if !unique && max_items.is_none_or(|m| m >= 2) {
                emit(
                    at,
                    "equal items",
                    Some(Value::Array(vec![first.clone(); 2])),
                );
            }
            if !unique && max_items.is_none_or(|m| m as usize >= MANY_ITEMS) {
                emit(
                    at,
                    "many items",
                    Some(Value::Array(vec![first.clone(); MANY_ITEMS])),
                );
            }
            let here = Position([at.0.clone(), vec![Step::Items]].concat());
            if matches!(&**items, Shape::Nullable { .. }) {
                emit(&here, "null", Some(Value::Null));
            }
            walk(schema, items, first, &here, emit, depth + 1);
        }
        (
            Shape::String {
                pattern: None,
                format,
                ..
            },
            Value::String(s),
        ) if format.as_deref().is_none_or(|f| f == "password") => text_variants(s, at, emit),
        (Shape::Enum { open: true, .. }, Value::String(s)) => text_variants(s, at, emit),
        _ => {}
    }
}

/// A NUL, and a character beyond ASCII, in place of the string's first character: its length
/// kept, so its bounds still hold.
fn text_variants(s: &str, at: &Position, emit: &mut Emit<'_>) {
    // An empty string gets one character (a bound that forbids it drops the variant).
    let keep = |k: usize| s.chars().skip(k).collect::<String>();
    emit(at, "NUL", Some(Value::String(format!("\0{}", keep(1)))));
    emit(
        at,
        "non-ASCII",
        Some(Value::String(format!("é{}", keep(1)))),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variant_that_would_break_the_schema_is_not_offered() {
        // A closed object gets no extra key; a required property is never left out.
        let doc = r#"{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/x":{"post":{
            "operationId":"make","requestBody":{"required":true,"content":{"application/json":{"schema":{
              "type":"object","additionalProperties":false,"required":["a"],
              "properties":{"a":{"type":"string","maxLength":3},"b":{"type":"array","items":{"type":"integer"},"uniqueItems":true}}}}}},
            "responses":{"200":{"description":"ok"}}}}}}"#;
        let schema = Arc::new(Schema::from_document(doc).unwrap());
        let op = schema.find("make").unwrap();
        let shape = op.body.clone().unwrap();
        let base = full(&schema, &shape).unwrap();
        let labels: Vec<String> = variants(&schema, &shape, &base)
            .iter()
            .map(Variant::label)
            .collect();
        assert!(
            !labels.iter().any(|l| l.contains("extra key")),
            "{labels:?}"
        );
        assert!(
            !labels.iter().any(|l| l.starts_with("a (left out)")),
            "{labels:?}"
        );
        assert!(
            !labels.iter().any(|l| l.contains("equal items")),
            "{labels:?}"
        );
        assert!(labels.iter().any(|l| l == "a (NUL)"), "{labels:?}");
    }

    #[test]
    fn a_minimal_value_holds_what_is_required_at_every_depth_and_nothing_else() {
        let doc = r#"{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/x":{"patch":{
            "operationId":"change","requestBody":{"required":true,"content":{"application/json":{"schema":{
              "type":"object","required":["name","inner","tags"],
              "properties":{"name":{"type":"string","minLength":2},"note":{"type":"string"},
                "tags":{"type":"array","items":{"type":"string"}},
                "inner":{"type":"object","required":["n"],"properties":{
                  "n":{"type":"integer","minimum":5},"o":{"type":"boolean"}}}}}}}},
            "responses":{"200":{"description":"ok"}}}}}}"#;
        let schema = Arc::new(Schema::from_document(doc).unwrap());
        let shape = schema.find("change").unwrap().body.clone().unwrap();
        let v = minimal(&schema, &shape).unwrap();
        let o = v.as_object().unwrap();
        let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["inner", "name", "tags"], "{v}");
        assert_eq!(v["inner"], serde_json::json!({"n": 5}), "{v}");
        assert_eq!(v["tags"], serde_json::json!([]), "{v}");
        assert!(v["name"].as_str().unwrap().chars().count() >= 2, "{v}");
        // The full value is a superset.
        let f = full(&schema, &shape).unwrap();
        assert!(
            f.get("note").is_some() && f["inner"].get("o").is_some(),
            "{f}"
        );
    }
}

//! Invalid bodies as named mutations of a valid one: one rule broken at a time, each knowing the
//! rule and the field. A mutation that the schema still accepts is dropped, never sent as negative.

use crate::judge::{self, dotted};
use crate::meta::{Field, Object, Schema, Shape};
use serde_json::{json, Value};

/// A body that a correct server must reject.
#[derive(Debug, Clone, PartialEq)]
pub struct Mutation {
    /// The rule broken: one of [`RULES`].
    pub rule: &'static str,
    /// The field, as a dotted path (`shutdown_timeout`, `gpus.gpus[0].slot`, `(body)`).
    pub field: String,
    /// The JSON path of the field, as FastAPI puts it after `"body"` in a 422's `loc`.
    pub path: Vec<Value>,
    /// The whole body to send.
    pub body: Value,
    /// Whether common lax validators (Pydantic's default mode) coerce this value into a valid one
    /// (`"4"` or `true` for an integer, `1` for a boolean): a server that accepts it is lenient
    /// rather than wrong, and is reported as such unless strict types are asked for.
    pub coercible: bool,
}

/// The rules, in the order reports list them.
pub const RULES: [&str; 13] = [
    "below_minimum",
    "above_maximum",
    "not_a_multiple",
    "wrong_type",
    "null_not_nullable",
    "missing_required",
    "not_in_enum",
    "too_short",
    "too_long",
    "too_few_items",
    "too_many_items",
    "not_an_object",
    "undeclared_key",
];

/// Every mutation of `valid` (an instance of `object`): each field of the schema, present or not,
/// and the fields of nested objects and list items that `valid` holds.
pub fn mutations(schema: &Schema, valid: &Value, object: &Object) -> Vec<Mutation> {
    mutations_of(schema, valid, object, false)
}

/// [`mutations`] of a body whose shape is `body`: a nullable object body is not broken by `null`.
pub fn body_mutations(schema: &Schema, valid: &Value, body: &Shape) -> Vec<Mutation> {
    match body {
        Shape::Object { name } => schema
            .object(name)
            .map(|o| mutations_of(schema, valid, o, false))
            .unwrap_or_default(),
        Shape::Nullable { inner } => match inner.as_ref() {
            Shape::Object { name } if !valid.is_null() => schema
                .object(name)
                .map(|o| mutations_of(schema, valid, o, true))
                .unwrap_or_default(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn mutations_of(schema: &Schema, valid: &Value, object: &Object, nullable: bool) -> Vec<Mutation> {
    let mut out = Vec::new();
    let null = (!nullable).then_some(Value::Null);
    for (rule, body) in [
        ("not_an_object", Some(json!([]))),
        ("not_an_object", Some(json!("update"))),
        ("not_an_object", Some(json!(42))),
        ("not_an_object", null),
    ] {
        let Some(body) = body else { continue };
        out.push(Mutation {
            rule,
            field: "(body)".into(),
            path: vec![],
            body,
            coercible: false,
        });
    }
    object_mutations(schema, valid, valid, object, &mut Vec::new(), &mut out, 0);
    // Keep only bodies the schema really rejects, once each. Two mutations of one rule at one
    // path of the same valid body differ only in what they put there: that is the key (cheap,
    // where comparing whole bodies was quadratic in their number and linear in their size).
    let mut seen = std::collections::HashSet::new();
    out.retain(|m| {
        let key = (
            m.rule,
            m.field.clone(),
            serde_json::to_string(&m.path).unwrap_or_default(),
            at(&m.body, &m.path).map(Value::to_string),
        );
        !seen.contains(&key)
            && !judge::check_object(schema, &m.body, object).is_empty()
            && seen.insert(key)
    });
    out
}

/// The value at `path` (keys and indexes) of `v`.
fn at<'v>(v: &'v Value, path: &[Value]) -> Option<&'v Value> {
    path.iter().try_fold(v, |cur, step| match step {
        Value::String(k) => cur.get(k.as_str()),
        Value::Number(i) => cur.get(i.as_u64()? as usize),
        _ => None,
    })
}

fn object_mutations(
    schema: &Schema,
    root: &Value,
    here: &Value,
    object: &Object,
    path: &mut Vec<Value>,
    out: &mut Vec<Mutation>,
    depth: u32,
) {
    if depth > 6 {
        return;
    }
    // `additionalProperties: false`: a key the schema does not declare is a negative case.
    if object.closed && here.is_object() {
        let key = "contract_tests_undeclared";
        path.push(Value::String(key.into()));
        if let Some(body) = with(root, path, Some(json!(true))) {
            out.push(Mutation {
                rule: "undeclared_key",
                field: dotted(path),
                path: path.clone(),
                body,
                coercible: false,
            });
        }
        path.pop();
    }
    for field in &object.fields {
        path.push(Value::String(field.name.clone()));
        let current = here.get(&field.name);
        field_mutations(root, field, path, out);
        // Descend into what the body holds.
        if let Some(v) = current {
            nested(schema, root, v, &field.shape, path, out, depth);
        }
        path.pop();
    }
}

fn nested(
    schema: &Schema,
    root: &Value,
    v: &Value,
    shape: &Shape,
    path: &mut Vec<Value>,
    out: &mut Vec<Mutation>,
    depth: u32,
) {
    match (shape, v) {
        (Shape::Object { name }, Value::Object(_)) => {
            if let Some(o) = schema.object(name) {
                object_mutations(schema, root, v, o, path, out, depth + 1);
            }
        }
        (Shape::Nullable { inner }, _) => nested(schema, root, v, inner, path, out, depth),
        (Shape::Array { items, .. }, Value::Array(a)) if !a.is_empty() => {
            path.push(Value::from(0));
            nested(schema, root, &a[0], items, path, out, depth + 1);
            path.pop();
        }
        _ => {}
    }
}

/// `root` with the value at `path` replaced (or removed when `value` is `None`). Missing parents
/// are not created: such a mutation would break another rule first.
fn with(root: &Value, path: &[Value], value: Option<Value>) -> Option<Value> {
    let mut body = root.clone();
    let (last, parents) = path.split_last()?;
    let mut cur = &mut body;
    for seg in parents {
        cur = match seg {
            Value::String(k) => cur.as_object_mut()?.get_mut(k)?,
            Value::Number(i) => cur.as_array_mut()?.get_mut(i.as_u64()? as usize)?,
            _ => return None,
        };
    }
    let obj = cur.as_object_mut()?;
    let key = last.as_str()?.to_string();
    match value {
        Some(v) => {
            obj.insert(key, v);
        }
        None => {
            obj.remove(&key)?;
        }
    }
    Some(body)
}

fn field_mutations(root: &Value, field: &Field, path: &[Value], out: &mut Vec<Mutation>) {
    let mut add = |rule: &'static str, value: Option<Value>, coercible: bool| {
        if let Some(body) = with(root, path, value) {
            out.push(Mutation {
                rule,
                field: dotted(path),
                path: path.to_vec(),
                body,
                coercible,
            });
        }
    };
    if field.required {
        add("missing_required", None, false);
    }
    if !field.nullable {
        add("null_not_nullable", Some(Value::Null), false);
    }
    let shape = match &field.shape {
        Shape::Nullable { inner } => inner.as_ref(),
        s => s,
    };
    match shape.clone() {
        Shape::Integer {
            min,
            max,
            multiple_of,
            ..
        } => {
            if let Some(m) = multiple_of.filter(|m| *m >= 1.0 && *m < 1e15) {
                // Just past a multiple, inside the bounds where the bounds allow.
                let base = min.unwrap_or(0);
                add("not_a_multiple", Some(json!(base.saturating_add(1))), false);
                add(
                    "not_a_multiple",
                    Some(json!((m as i64).saturating_add(1))),
                    false,
                );
            }
            if let Some(min) = min {
                for v in [min.saturating_sub(1), 0, -1, i64::MIN] {
                    if v < min {
                        add("below_minimum", Some(json!(v)), false);
                    }
                }
            }
            if let Some(max) = max {
                for v in [max.saturating_add(1), i64::MAX] {
                    if v > max {
                        add("above_maximum", Some(json!(v)), false);
                    }
                }
            }
            add("wrong_type", Some(json!("4")), true);
            add("wrong_type", Some(json!(true)), true);
            add("wrong_type", Some(json!(10.5)), false);
            add("wrong_type", Some(json!("abc")), false);
            add("wrong_type", Some(json!([1])), false);
        }
        Shape::Number {
            min,
            max,
            exclusive_min,
            exclusive_max,
            multiple_of,
        } => {
            if let Some(m) = multiple_of.filter(|m| *m > 0.0 && m.is_finite()) {
                let base = min.map_or(0.0, |x| (x / m).ceil() * m);
                add("not_a_multiple", Some(json!(base + m / 2.0)), false);
            }
            if let Some(min) = min {
                add(
                    "below_minimum",
                    Some(json!(if exclusive_min { min } else { min - 1.0 })),
                    false,
                );
            }
            if let Some(max) = max {
                add(
                    "above_maximum",
                    Some(json!(if exclusive_max { max } else { max + 1.0 })),
                    false,
                );
            }
            add("wrong_type", Some(json!("abc")), false);
            add("wrong_type", Some(json!({})), false);
        }
        Shape::Boolean => {
            add("wrong_type", Some(json!(1)), true);
            add("wrong_type", Some(json!("true")), true);
            add("wrong_type", Some(json!("maybe")), false);
            add("wrong_type", Some(json!(2)), false);
            add("wrong_type", Some(json!([])), false);
        }
        Shape::String {
            min_len, max_len, ..
        } => {
            add("wrong_type", Some(json!(123)), false);
            add("wrong_type", Some(json!(false)), false);
            add("wrong_type", Some(json!(["a"])), false);
            if let Some(min) = min_len.filter(|m| *m > 0) {
                add(
                    "too_short",
                    Some(json!("x".repeat(min as usize - 1))),
                    false,
                );
            }
            if let Some(max) = max_len.filter(|m| *m < 1 << 20) {
                add("too_long", Some(json!("x".repeat(max as usize + 1))), false);
            }
        }
        Shape::Enum { values, open } => {
            add("wrong_type", Some(json!(5)), false);
            if !open {
                let first = values.first().map(String::as_str).unwrap_or("a");
                add("not_in_enum", Some(json!(format!("not-{first}"))), false);
            }
        }
        Shape::Array {
            min_items,
            max_items,
            items,
            ..
        } => {
            add("wrong_type", Some(json!("not-a-list")), false);
            add("wrong_type", Some(json!({"a": 1})), false);
            if let Some(min) = min_items.filter(|m| *m > 0) {
                add("too_few_items", Some(Value::Array(vec![])), false);
                let _ = min;
            }
            if let Some(max) = max_items.filter(|m| *m < 1000) {
                let item = example(&items);
                add(
                    "too_many_items",
                    Some(Value::Array(vec![item; max as usize + 1])),
                    false,
                );
            }
        }
        Shape::Object { .. } | Shape::Map { .. } => {
            add("wrong_type", Some(json!([])), false);
            add("wrong_type", Some(json!("not-an-object")), false);
        }
        Shape::Values { values } => {
            add(
                "not_in_enum",
                Some(json!("contract-tests-not-a-member")),
                false,
            );
            if let Some(Value::Number(n)) = values.first() {
                let outside = n.as_f64().unwrap_or(0.0) + 0.5;
                add("not_in_enum", Some(json!(outside)), false);
            }
        }
        Shape::Null => add("wrong_type", Some(json!(0)), false),
        Shape::Any | Shape::OneOf { .. } | Shape::Nullable { .. } => {}
    }
}

/// Some value of a shape, for padding lists.
fn example(shape: &Shape) -> Value {
    match shape {
        Shape::Boolean => json!(true),
        Shape::Integer { min, .. } => json!(min.unwrap_or(1)),
        Shape::Number { min, .. } => json!(min.unwrap_or(1.0)),
        Shape::String { min_len, .. } => json!("x".repeat(min_len.unwrap_or(1) as usize)),
        Shape::Enum { values, .. } => json!(values.first().cloned().unwrap_or_else(|| "x".into())),
        _ => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::schema;
    use crate::spec::update_body;

    fn find<'a>(ms: &'a [Mutation], rule: &str, field: &str) -> Vec<&'a Mutation> {
        ms.iter()
            .filter(|m| m.rule == rule && m.field == field)
            .collect()
    }

    #[test]
    fn the_seed_rules_become_mutations() {
        let ms = mutations(
            schema(),
            &json!({"gpus": {"gpus": [{"slot": "a"}]}}),
            update_body(),
        );
        let below: Vec<Value> = find(&ms, "below_minimum", "shutdown_timeout")
            .iter()
            .map(|m| m.body["shutdown_timeout"].clone())
            .collect();
        assert_eq!(below, [json!(9), json!(0), json!(-1), json!(i64::MIN)]);
        let above: Vec<Value> = find(&ms, "above_maximum", "shutdown_timeout")
            .iter()
            .map(|m| m.body["shutdown_timeout"].clone())
            .collect();
        assert_eq!(above, [json!(1201), json!(i64::MAX)]);
        assert_eq!(find(&ms, "null_not_nullable", "allow_force_stop").len(), 1);
        assert_eq!(find(&ms, "missing_required", "gpus.gpus").len(), 1);
        let slot = find(&ms, "missing_required", "gpus.gpus[0].slot");
        assert_eq!(slot[0].body, json!({"gpus": {"gpus": [{}]}}));
        assert_eq!(
            slot[0].path,
            [json!("gpus"), json!("gpus"), json!(0), json!("slot")]
        );
        assert_eq!(find(&ms, "not_an_object", "(body)").len(), 4);
        let wrong: Vec<(Value, bool)> = find(&ms, "wrong_type", "vcpu")
            .iter()
            .map(|m| (m.body["vcpu"].clone(), m.coercible))
            .collect();
        assert!(wrong.contains(&(json!("4"), true)) && wrong.contains(&(json!(10.5), false)));
        assert!(find(&ms, "wrong_type", "allow_force_stop")
            .iter()
            .any(|m| m.body["allow_force_stop"] == json!(1)));
    }

    #[test]
    fn an_undeclared_key_is_negative_only_where_the_schema_closes_the_object() {
        let open = update_body();
        let ms = mutations(schema(), &json!({}), open);
        assert!(ms.iter().all(|m| m.rule != "undeclared_key"), "open: none");
        let closed: Object = serde_json::from_value(json!({
            "name": "Closed", "closed": true,
            "fields": [{"name": "a", "shape": {"kind": "boolean"}}]
        }))
        .unwrap();
        let ms = mutations(schema(), &json!({"a": true}), &closed);
        let extra = find(&ms, "undeclared_key", "contract_tests_undeclared");
        assert_eq!(extra.len(), 1, "{ms:?}");
        assert_eq!(
            extra[0].body,
            json!({"a": true, "contract_tests_undeclared": true})
        );
        // The judge agrees: the key breaks `additionalProperties`, and only in the closed object.
        let problems = judge::check_object(schema(), &extra[0].body, &closed);
        assert_eq!(problems[0].rule, "additionalProperties");
        assert!(judge::check_object(schema(), &extra[0].body, open).is_empty());
    }

    #[test]
    fn every_mutation_is_invalid_and_nested_ones_need_their_parent() {
        let ms = mutations(schema(), &json!({}), update_body());
        assert!(ms
            .iter()
            .all(|m| !judge::check_object(schema(), &m.body, update_body()).is_empty()));
        assert!(
            find(&ms, "missing_required", "gpus.gpus").is_empty(),
            "no gpus object to break"
        );
        // An open enum has no `not_in_enum`: any string is valid there.
        let ms = mutations(
            schema(),
            &json!({"gpus": {"gpus": [], "attach_mode": "all"}}),
            update_body(),
        );
        assert!(find(&ms, "not_in_enum", "gpus.attach_mode").is_empty());
        assert_eq!(find(&ms, "null_not_nullable", "gpus.attach_mode").len(), 1);
    }
}

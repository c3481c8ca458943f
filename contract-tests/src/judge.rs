//! Judging JSON against the schema metadata the generator emits: the same rules for request bodies
//! (is a mutation really invalid?) and for answers (does a body match its documented schema?).

use crate::meta::{Object, Operation, Schema, Shape};
use serde_json::Value;

/// One way a value breaks its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where, as a JSON path of keys and indices (empty for the value itself).
    pub path: Vec<Value>,
    /// The schema keyword broken (`type`, `minimum`, `required`, `enum`, ...).
    pub rule: &'static str,
}

impl Problem {
    /// The path as `a.b[0].c`.
    pub fn dotted(&self) -> String {
        dotted(&self.path)
    }
}

/// Formats a JSON path as `a.b[0].c` (`(body)` when empty).
pub fn dotted(path: &[Value]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Value::Number(n) => s.push_str(&format!("[{n}]")),
            Value::String(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            other => s.push_str(&other.to_string()),
        }
    }
    if s.is_empty() {
        "(body)".into()
    } else {
        s
    }
}

/// Every problem of `value` against `shape`.
pub fn check(schema: &Schema, value: &Value, shape: &Shape) -> Vec<Problem> {
    let mut out = Vec::new();
    walk(schema, value, shape, &mut Vec::new(), &mut out, 0);
    out
}

/// Every problem of `value` against an object schema.
pub fn check_object(schema: &Schema, value: &Value, object: &Object) -> Vec<Problem> {
    let mut out = Vec::new();
    walk_object(schema, value, object, &mut Vec::new(), &mut out, 0);
    out
}

fn walk_object(
    schema: &Schema,
    value: &Value,
    obj: &Object,
    path: &mut Vec<Value>,
    out: &mut Vec<Problem>,
    depth: u32,
) {
    let Some(m) = value.as_object() else {
        push(out, path, "type");
        return;
    };
    if obj.closed {
        for k in m.keys() {
            if !obj.fields.iter().any(|f| &f.name == k) {
                path.push(Value::String(k.clone()));
                push(out, path, "additionalProperties");
                path.pop();
            }
        }
    }
    for f in &obj.fields {
        path.push(Value::String(f.name.clone()));
        match m.get(&f.name) {
            None if f.required => push(out, path, "required"),
            None => {}
            Some(Value::Null) if f.nullable => {}
            Some(Value::Null) => push(out, path, "nullable"),
            Some(v) => walk(schema, v, &f.shape, path, out, depth + 1),
        }
        path.pop();
    }
}

fn push(out: &mut Vec<Problem>, path: &[Value], rule: &'static str) {
    out.push(Problem {
        path: path.to_vec(),
        rule,
    });
}

fn walk(
    schema: &Schema,
    value: &Value,
    shape: &Shape,
    path: &mut Vec<Value>,
    out: &mut Vec<Problem>,
    depth: u32,
) {
    if depth > 64 {
        return;
    }
    match shape {
        Shape::Any => {}
        Shape::Null => {
            if !value.is_null() {
                push(out, path, "type");
            }
        }
        Shape::Values { values } => {
            if !values.iter().any(|v| same_json(v, value)) {
                push(out, path, "enum");
            }
        }
        Shape::Nullable { inner } => {
            if !value.is_null() {
                walk(schema, value, inner, path, out, depth + 1);
            }
        }
        Shape::Boolean => {
            if !value.is_boolean() {
                push(out, path, "type");
            }
        }
        Shape::Integer {
            min,
            max,
            multiple_of,
            range,
        } => match as_integer(value) {
            None => push(out, path, "type"),
            Some(n) => {
                if range.is_some_and(|(lo, hi)| n < i128::from(lo) || n > i128::from(hi)) {
                    push(out, path, "format");
                }
                if min.is_some_and(|m| n < i128::from(m)) {
                    push(out, path, "minimum");
                }
                if max.is_some_and(|m| n > i128::from(m)) {
                    push(out, path, "maximum");
                }
                if multiple_of.is_some_and(|m| !is_multiple_integer(n, m)) {
                    push(out, path, "multipleOf");
                }
            }
        },
        Shape::Number {
            min,
            max,
            exclusive_min,
            exclusive_max,
            multiple_of,
        } => match value.as_f64() {
            None => push(out, path, "type"),
            Some(n) => {
                if min.is_some_and(|m| if *exclusive_min { n <= m } else { n < m }) {
                    push(out, path, "minimum");
                }
                if max.is_some_and(|m| if *exclusive_max { n >= m } else { n > m }) {
                    push(out, path, "maximum");
                }
                if multiple_of.is_some_and(|m| !is_multiple(n, m)) {
                    push(out, path, "multipleOf");
                }
            }
        },
        Shape::String {
            min_len, max_len, ..
        } => match value.as_str() {
            None => push(out, path, "type"),
            Some(s) => {
                let n = s.chars().count() as u64;
                if min_len.is_some_and(|m| n < m) {
                    push(out, path, "minLength");
                }
                if max_len.is_some_and(|m| n > m) {
                    push(out, path, "maxLength");
                }
            }
        },
        Shape::Enum { values, open } => match value.as_str() {
            None => push(out, path, "type"),
            Some(s) => {
                if !open && !values.iter().any(|v| v == s) {
                    push(out, path, "enum");
                }
            }
        },
        Shape::Tuple {
            items,
            required,
            rest,
            min_items,
            max_items,
        } => match value.as_array() {
            None => push(out, path, "type"),
            Some(a) => {
                let n = a.len() as u64;
                if a.len() < *required || min_items.is_some_and(|m| n < m) {
                    push(out, path, "minItems");
                }
                if max_items.is_some_and(|m| n > m) || (rest.is_none() && a.len() > items.len()) {
                    push(out, path, "maxItems");
                }
                for (i, item) in a.iter().enumerate() {
                    let Some(s) = items.get(i).or(rest.as_deref()) else {
                        break;
                    };
                    path.push(Value::from(i));
                    walk(schema, item, s, path, out, depth + 1);
                    path.pop();
                }
            }
        },
        Shape::Array {
            items,
            min_items,
            max_items,
            unique,
        } => match value.as_array() {
            None => push(out, path, "type"),
            Some(a) => {
                let n = a.len() as u64;
                if *unique
                    && a.iter()
                        .enumerate()
                        .any(|(i, x)| a[..i].iter().any(|y| same_json(x, y)))
                {
                    push(out, path, "uniqueItems");
                }
                if min_items.is_some_and(|m| n < m) {
                    push(out, path, "minItems");
                }
                if max_items.is_some_and(|m| n > m) {
                    push(out, path, "maxItems");
                }
                for (i, item) in a.iter().enumerate() {
                    path.push(Value::from(i));
                    walk(schema, item, items, path, out, depth + 1);
                    path.pop();
                }
            }
        },
        Shape::Map { values: inner } => match value.as_object() {
            None => push(out, path, "type"),
            Some(m) => {
                for (k, v) in m {
                    path.push(Value::String(k.clone()));
                    walk(schema, v, inner, path, out, depth + 1);
                    path.pop();
                }
            }
        },
        Shape::Object { name } => {
            if let Some(obj) = schema.object(name) {
                walk_object(schema, value, obj, path, out, depth);
            }
        }
        Shape::OneOf { options } => {
            let fits = options.iter().any(|o| {
                let mut inner = Vec::new();
                walk(schema, value, o, &mut path.clone(), &mut inner, depth + 1);
                inner.is_empty()
            });
            if !fits {
                push(out, path, "anyOf");
            }
        }
    }
}

/// Whether `n` is a whole multiple of `m`, decided as the generated `validate()` decides it
/// (`ValidationErrors::multiple_of` in the runtime).
pub fn is_multiple(n: f64, m: f64) -> bool {
    if m <= 0.0 || !m.is_finite() {
        return true;
    }
    let q = n / m;
    (q - q.round()).abs() <= 1e-9
}

/// [`is_multiple`] for an integer: exact where the step is whole, as the generated
/// `validate()` decides it (`ValidationErrors::multiple_of_integer`).
pub fn is_multiple_integer(n: i128, m: f64) -> bool {
    if m >= 1.0 && m.fract() == 0.0 && m < 1e18 {
        n % (m as i128) == 0
    } else {
        is_multiple(n as f64, m)
    }
}

/// JSON equality with numbers compared by value (`1` and `1.0` are the same number).
pub fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// A JSON integer: any number without a fraction part (JSON Schema counts `10.0` as an integer).
fn as_integer(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 1e30)
                    .map(|f| f as i128)
            }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(v: Value) -> Vec<(String, &'static str)> {
        check_object(crate::meta::schema(), &v, crate::spec::update_body())
            .into_iter()
            .map(|p| (p.dotted(), p.rule))
            .collect()
    }

    #[test]
    fn integer_multiples_are_judged_exactly() {
        assert!(is_multiple_integer(9_033_810_484_125_115, 5.0));
        assert!(!is_multiple_integer(9_033_810_484_125_116, 5.0));
        assert!(
            is_multiple_integer(3, 0.5),
            "every integer is a multiple of 0.5"
        );
    }

    #[test]
    fn the_seed_rules_hold() {
        assert!(rules(json!({})).is_empty());
        assert!(
            rules(json!({"shutdown_timeout": null, "vcpu": 4, "allow_force_stop": false}))
                .is_empty()
        );
        assert_eq!(
            rules(json!({"shutdown_timeout": 9})),
            [("shutdown_timeout".into(), "minimum")]
        );
        assert_eq!(
            rules(json!({"shutdown_timeout": 1201})),
            [("shutdown_timeout".into(), "maximum")]
        );
        assert_eq!(
            rules(json!({"shutdown_timeout": 10.5})),
            [("shutdown_timeout".into(), "type")]
        );
        assert_eq!(
            rules(json!({"allow_force_stop": null})),
            [("allow_force_stop".into(), "nullable")]
        );
        assert_eq!(
            rules(json!({"gpus": {"attach_mode": "all"}})),
            [("gpus.gpus".into(), "required")]
        );
        assert_eq!(
            rules(json!({"gpus": {"gpus": [{}]}})),
            [("gpus.gpus[0].slot".into(), "required")]
        );
        assert!(rules(json!({"gpus": {"gpus": [], "attach_mode": "anything"}})).is_empty());
        assert_eq!(rules(json!([])), [("(body)".into(), "type")]);
    }
}

/// Where a request breaks its operation, and the rule: FastAPI's `loc` (`["query", "limit"]`,
/// `["body", "flows", "id"]`) and the schema keyword (`missing` for a required part left out,
/// `json_invalid` for a body that is not JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestProblem {
    pub loc: Vec<Value>,
    pub rule: &'static str,
}

/// Every problem of a request to `op`: its path, query and header parameters (each text read as
/// its shape reads it, [`param_value`]) and its body (`Err` when it is not JSON). The stateful
/// mock refuses a request with these, and triage holds a shrunk request to them.
pub fn request(
    schema: &Schema,
    op: &Operation,
    path: &[(String, String)],
    query: &[(String, String)],
    header: &dyn Fn(&str) -> Option<String>,
    body: Result<Option<&Value>, &str>,
) -> Vec<RequestProblem> {
    let mut out = Vec::new();
    for p in &op.params {
        let text = match p.location.as_str() {
            "path" => path
                .iter()
                .find(|(k, _)| *k == p.name)
                .map(|(_, v)| v.clone()),
            "query" => {
                let all: Vec<&str> = query
                    .iter()
                    .filter(|(k, _)| *k == p.name)
                    .map(|(_, v)| v.as_str())
                    .collect();
                (!all.is_empty()).then(|| all.join(","))
            }
            "header" => header(&p.name),
            _ => continue,
        };
        let loc = vec![
            Value::from(p.location.as_str()),
            Value::from(p.name.as_str()),
        ];
        match text {
            None if p.required => out.push(RequestProblem {
                loc,
                rule: "missing",
            }),
            None => {}
            Some(t) => {
                let v = param_value(&p.shape, &t);
                if let Some(pr) = check(schema, &v, &p.shape).first() {
                    out.push(RequestProblem { loc, rule: pr.rule });
                }
            }
        }
    }
    let Some(shape) = &op.body else {
        return out;
    };
    match body {
        Err(_) => out.push(RequestProblem {
            loc: vec![Value::from("body")],
            rule: "json_invalid",
        }),
        Ok(None) if op.body_required => out.push(RequestProblem {
            loc: vec![Value::from("body")],
            rule: "missing",
        }),
        Ok(None) => {}
        Ok(Some(v)) => {
            for pr in check(schema, v, shape) {
                let mut loc = vec![Value::from("body")];
                loc.extend(pr.path.iter().cloned());
                out.push(RequestProblem { loc, rule: pr.rule });
            }
        }
    }
    out
}

/// A parameter's text as the JSON value its shape reads it as (`"4"` as 4 for an integer,
/// `a,b` as a list).
pub fn param_value(shape: &Shape, text: &str) -> Value {
    let shape = match shape {
        Shape::Nullable { inner } => inner.as_ref(),
        s => s,
    };
    match shape {
        Shape::Integer { .. } => text
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(text)),
        Shape::Number { .. } => text
            .parse::<f64>()
            .ok()
            .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
            .unwrap_or_else(|| Value::from(text)),
        Shape::Boolean => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::from(text),
        },
        Shape::Array { items, .. } => Value::Array(
            text.split(',')
                .filter(|s| !s.is_empty())
                .map(|s| param_value(items, s))
                .collect(),
        ),
        Shape::Values { values } => values
            .iter()
            .find(|v| v.as_str() == Some(text) || v.to_string() == *text)
            .cloned()
            .unwrap_or_else(|| Value::from(text)),
        _ => Value::from(text),
    }
}

//! A request as the mock reads it: its path split and decoded, its credential where the
//! security schemes put it, its parameters and body judged against their schemas, its refusal.

use super::*;

pub(crate) fn split(path: &str) -> Vec<&str> {
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect()
}

/// Percent-decodes a path segment (a `Location`'s last one, say).
pub fn decode_segment(s: &str) -> String {
    decode(s)
}

/// Percent-decodes a path segment or a query component.
pub(crate) fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The key a request carries, as the operation's security schemes place it.
pub(crate) fn credential(
    op: &Operation,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Option<String> {
    op.auth.iter().find_map(|a| {
        if let Some(h) = a.strip_prefix("header:") {
            return headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
        }
        if let Some(q) = a.strip_prefix("query:") {
            return query.iter().find(|(k, _)| k == q).map(|(_, v)| v.clone());
        }
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::to_string)
    })
}

/// A parameter's text as the JSON value its shape reads it as.
pub(crate) fn param_value(shape: &Shape, text: &str) -> Value {
    match strip(shape) {
        Shape::Integer { .. } => text
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| json!(text)),
        Shape::Number { .. } => text
            .parse::<f64>()
            .ok()
            .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
            .unwrap_or_else(|| json!(text)),
        Shape::Boolean => match text {
            "true" => json!(true),
            "false" => json!(false),
            _ => json!(text),
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
            .unwrap_or_else(|| json!(text)),
        _ => json!(text),
    }
}

pub(crate) fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")))
        })
        .collect()
}

/// The request's problems, as FastAPI lists them.
pub(crate) fn problems(
    schema: &Schema,
    op: &Operation,
    path_params: &[(String, String)],
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &Option<Value>,
    body_error: Option<String>,
) -> Vec<Value> {
    let mut out = Vec::new();
    for p in &op.params {
        let text = match p.location.as_str() {
            "path" => path_params
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
            "header" => headers
                .get(p.name.as_str())
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            _ => continue,
        };
        let loc = vec![json!(p.location), json!(p.name)];
        match text {
            None if p.required => out.push(detail_item("missing", loc, "Field required")),
            None => {}
            Some(t) => {
                let v = param_value(&p.shape, &t);
                if let Some(pr) = judge::check(schema, &v, &p.shape).first() {
                    out.push(detail_item(pr.rule, loc, "Input should match its schema"));
                }
            }
        }
    }
    if let Some(e) = body_error {
        out.push(detail_item("json_invalid", vec![json!("body")], &e));
    } else if let Some(shape) = &op.body {
        match body {
            None if op.body_required => out.push(detail_item(
                "missing",
                vec![json!("body")],
                "Field required",
            )),
            None => {}
            Some(v) => {
                for pr in judge::check(schema, v, shape) {
                    let mut loc = vec![json!("body")];
                    loc.extend(pr.path.iter().cloned());
                    out.push(detail_item(pr.rule, loc, "Input should match its schema"));
                }
            }
        }
    }
    out
}

pub(crate) fn detail_item(kind: &str, loc: Vec<Value>, msg: &str) -> Value {
    json!({ "type": kind, "loc": loc, "msg": msg })
}

/// The status a refusal of a bad request takes: 422 where documented, else 400, else the first
/// documented 4xx, else 422.
pub(crate) fn refusal(op: &Operation) -> u16 {
    let documented = |s: u16| op.responses.iter().any(|r| !r.range && r.status == s);
    [422, 400]
        .into_iter()
        .find(|s| documented(*s))
        .or_else(|| {
            op.responses
                .iter()
                .filter(|r| !r.range && (400..500).contains(&r.status))
                .map(|r| r.status)
                .min()
        })
        .unwrap_or(422)
}

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

/// The request's problems, as FastAPI lists them ([`judge::request`] says where and which rule).
pub(crate) fn problems(
    schema: &Schema,
    op: &Operation,
    path_params: &[(String, String)],
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &Option<Value>,
    body_error: Option<String>,
) -> Vec<Value> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let body = match &body_error {
        Some(e) => Err(e.as_str()),
        None => Ok(body.as_ref()),
    };
    judge::request(schema, op, path_params, query, &header, body)
        .into_iter()
        .map(|p| {
            let msg = match (p.rule, &body_error) {
                ("json_invalid", Some(e)) => e.as_str(),
                ("missing", _) => "Field required",
                _ => "Input should match its schema",
            };
            detail_item(p.rule, p.loc, msg)
        })
        .collect()
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

//! A request taken apart for shrinking: its path, its query pairs, its headers and its JSON body,
//! each part named the way causes and hold-backs name it (`query limit`, `header x-trace`,
//! `body flows.id`).

use crate::http::{Auth, Sent};
use crate::judge;
use crate::meta::{Operation, Schema, Shape};
use serde_json::Value;

/// One request, in parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Parts {
    pub method: &'static str,
    /// The concrete path, without its query.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    pub auth: Auth,
    /// The body's value in another JSON spelling, as it was sent ([`crate::http::Spelling`]).
    pub spelling: Option<crate::http::Spelling>,
}

/// The spelling `text` (the body as sent) writes `body` in: `None` for serde_json's own, else
/// the one key and form that write it so.
fn spelling_of(body: &Value, text: &str) -> Option<crate::http::Spelling> {
    use crate::http::{write_body, Form, Spelling};
    if write_body(body, None) == text {
        return None;
    }
    body.as_object()?.keys().find_map(|k| {
        [Form::Exponent, Form::EscapedUnicode]
            .into_iter()
            .map(|form| Spelling {
                key: k.clone(),
                form,
            })
            .find(|sp| write_body(body, Some(sp)) == text)
    })
}

impl Parts {
    /// `sent` taken apart; `None` when its body is not JSON (it is then shown as found).
    pub fn of(sent: &Sent) -> Option<Parts> {
        let body: Option<Value> = match &sent.body {
            Some(text) => Some(serde_json::from_str(text).ok()?),
            None => None,
        };
        let spelling = match (&body, &sent.body) {
            (Some(b), Some(text)) => spelling_of(b, text),
            _ => None,
        };
        let (path, query) = match sent.path.split_once('?') {
            Some((p, q)) => (p.to_string(), query_pairs(q)),
            None => (sent.path.clone(), Vec::new()),
        };
        Some(Parts {
            method: sent.method,
            path,
            query,
            headers: sent.headers.clone(),
            body,
            auth: sent.auth,
            spelling,
        })
    }

    /// The path with its query string, as sent.
    pub fn target(&self) -> String {
        crate::http::with_query(&self.path, &self.query)
    }

    /// Where the request breaks `op` ([`judge::request`]), each as `PLACE PATH (rule)`; empty
    /// when it is valid.
    pub fn problems(&self, schema: &Schema, op: &Operation) -> Vec<String> {
        let path = crate::meta::path_params(&op.path, &self.path);
        let header = |name: &str| {
            self.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        judge::request(
            schema,
            op,
            &path,
            &self.query,
            &header,
            Ok(self.body.as_ref()),
        )
        .into_iter()
        .map(|p| format!("{} ({})", loc_name(&p.loc), p.rule))
        .collect()
    }

    /// Every part present that the document does not require of `op`, by name: what a failure
    /// may need beyond the least request.
    pub fn optional_names(&self, op: &Operation) -> Vec<String> {
        let required = |place: &str, name: &str| {
            op.params
                .iter()
                .any(|p| p.required && p.location == place && p.name.eq_ignore_ascii_case(name))
        };
        let mut out: Vec<String> = Vec::new();
        for (k, _) in &self.query {
            if !required("query", k) {
                out.push(format!("query {k}"));
            }
        }
        for (k, _) in &self.headers {
            if !required("header", k) {
                out.push(format!("header {}", k.to_ascii_lowercase()));
            }
        }
        if let Some(b) = &self.body {
            body_names(b, &mut Vec::new(), &mut out);
        }
        out.sort();
        out.dedup();
        out
    }
}

/// Each key of a body at every depth, as `body a.b`.
fn body_names(v: &Value, at: &mut Vec<Value>, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                at.push(Value::from(k.as_str()));
                out.push(format!("body {}", judge::dotted(at)));
                body_names(x, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            // An array's first item stands for its items: `body tags[0].name`.
            for x in a.iter().take(1) {
                at.push(Value::from(0));
                body_names(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// A FastAPI `loc` as a part name: `query limit`, `header x-trace`, `body flows.id`, `body`.
pub fn loc_name(loc: &[Value]) -> String {
    let place = loc.first().and_then(Value::as_str).unwrap_or("body");
    let rest = &loc[1.min(loc.len())..];
    if rest.is_empty() {
        return place.to_string();
    }
    let inner = if place == "body" {
        judge::dotted(rest)
    } else {
        rest.iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(".")
    };
    let inner = if place == "header" {
        inner.to_ascii_lowercase()
    } else {
        inner
    };
    format!("{place} {inner}")
}

/// A query string's pairs, decoded.
pub fn query_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (
                crate::mock::decode_segment(&k.replace('+', " ")),
                crate::mock::decode_segment(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// The shape the document gives the body value at `path` (keys and indices), when it says.
pub fn shape_at<'s>(schema: &'s Schema, shape: &'s Shape, path: &[Value]) -> Option<&'s Shape> {
    let Some((first, rest)) = path.split_first() else {
        return Some(shape);
    };
    match shape {
        Shape::Nullable { inner } => shape_at(schema, inner, path),
        Shape::Object { name } => {
            let f = schema.object(name)?.field(first.as_str()?)?;
            shape_at(schema, &f.shape, rest)
        }
        Shape::Map { values } => shape_at(schema, values, rest),
        Shape::Array { items, .. } => shape_at(schema, items, rest),
        Shape::Tuple {
            items, rest: more, ..
        } => {
            let i = first.as_u64()? as usize;
            match items.get(i) {
                Some(s) => shape_at(schema, s, rest),
                None => shape_at(schema, more.as_deref()?, rest),
            }
        }
        Shape::OneOf { options } => options.iter().find_map(|o| shape_at(schema, o, path)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Shown;
    use std::sync::Arc;

    fn sent(path: &str, body: Option<&str>) -> Sent {
        Sent {
            method: "POST",
            path: path.into(),
            headers: vec![("X-Trace".into(), "abc".into())],
            auth: Auth::Missing,
            body: body.map(str::to_string),
            shown: Arc::new(Shown::default()),
        }
    }

    #[test]
    fn a_body_in_another_spelling_comes_apart_and_back_in_it() {
        for text in [r#"{"n":6e2,"s":"x"}"#, r#"{"n":600,"s":"\u0078"}"#] {
            let p = Parts::of(&sent("/t", Some(text))).unwrap();
            assert!(p.spelling.is_some(), "{text}");
            let again = crate::http::write_body(p.body.as_ref().unwrap(), p.spelling.as_ref());
            assert_eq!(again, text);
        }
        let plain = Parts::of(&sent("/t", Some(r#"{"n":600}"#))).unwrap();
        assert_eq!(plain.spelling, None);
    }

    #[test]
    fn a_request_comes_apart_and_back_as_it_was_sent() {
        let s = sent(
            "/things/a%20b?limit=5&tag=x%26y",
            Some(r#"{"a":{"b":1},"c":[{"d":2}]}"#),
        );
        let p = Parts::of(&s).unwrap();
        assert_eq!(p.path, "/things/a%20b");
        assert_eq!(
            p.query,
            vec![("limit".into(), "5".into()), ("tag".into(), "x&y".into())]
        );
        assert_eq!(p.target(), s.path);
        let op = Operation {
            name: "op".into(),
            operation_id: None,
            pointer: String::new(),
            method: "POST".into(),
            path: "/things/{id}".into(),
            params: Vec::new(),
            body: None,
            body_required: false,
            responses: Vec::new(),
            auth: Vec::new(),
            extensions: Default::default(),
        };
        assert_eq!(
            p.optional_names(&op),
            [
                "body a",
                "body a.b",
                "body c",
                "body c[0].d",
                "header x-trace",
                "query limit",
                "query tag"
            ]
        );
        assert!(Parts::of(&sent("/x", Some("not json"))).is_none());
    }

    #[test]
    fn locs_read_as_part_names() {
        use serde_json::json;
        assert_eq!(loc_name(&[json!("query"), json!("limit")]), "query limit");
        assert_eq!(loc_name(&[json!("header"), json!("X-Api")]), "header x-api");
        assert_eq!(
            loc_name(&[json!("body"), json!("a"), json!(0), json!("b")]),
            "body a[0].b"
        );
        assert_eq!(loc_name(&[json!("body")]), "body");
    }
}

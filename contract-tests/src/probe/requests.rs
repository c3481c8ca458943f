//! Requests of any operation: drawn valid ones (path, query and header parameters, a JSON body),
//! with some path parameters fixed to items the run made, and invalid ones that break one rule.

use super::*;

/// One request, before it is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    /// How the body is written on the wire, where not as serde_json writes it: one value in
    /// another JSON spelling ([`crate::http::Spelling`]).
    pub spelling: Option<crate::http::Spelling>,
}

impl Request {
    /// A request of `path` alone: no query, no header, no body (a read or a delete of an item).
    pub fn bare(path: String) -> Request {
        Request {
            path,
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            spelling: None,
        }
    }

    /// The path with its query string.
    pub fn target(&self) -> String {
        crate::http::with_query(&self.path, &self.query)
    }
}

/// A parameter value as text: strings as they are, other scalars as JSON, arrays joined by commas
/// (the `simple` and non-exploded `form` styles).
pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
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
        // An optional precondition (`If-Match`) drawn at random never holds: its 412 would hide
        // what the request tests. The conditional scenarios send the real ones.
        if p.location == "header" && !p.required && crate::meta::is_precondition(&p.name) {
            continue;
        }
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
            // An optional parameter nothing can be drawn for is left out; a required one leaves
            // the operation undrawable.
            if !p.required {
                continue;
            }
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
                spelling: None,
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
pub(crate) fn invalid(
    schema: &Schema,
    op: &Operation,
    valid: &Request,
) -> Vec<(mutate::Mutation, Request)> {
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
        // A path parameter of the wrong type (`/tasks/not-a-number`): the 422 or 404 a document
        // gives its item operations.
        if p.location == "path" {
            let Some((rule, bad)) = wrong_text(p) else {
                continue;
            };
            let slot = format!("{{{}}}", p.name);
            let template: Vec<&str> = op.path.trim_matches('/').split('/').collect();
            let mut segments: Vec<String> = valid
                .path
                .trim_matches('/')
                .split('/')
                .map(str::to_string)
                .collect();
            let Some(i) = template.iter().position(|t| *t == slot) else {
                continue;
            };
            if segments.len() != template.len() {
                continue;
            }
            segments[i] = openapi_runtime::encode_component(&bad);
            let mut r = valid.clone();
            r.path = format!("/{}", segments.join("/"));
            let m = mutate::Mutation {
                rule,
                field: format!("(path {})", p.name),
                path: vec![json!("path"), json!(p.name)],
                body: Value::Null,
                coercible: false,
            };
            out.push((m, r));
            continue;
        }
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

/// `r` with each string its body gives a field the document marks unique made another one
/// (`n` tells the calls apart), where the body stays valid: a valid create sent again (without a
/// credential, say) is then not refused as a duplicate of itself.
pub(crate) fn freshen_unique(schema: &Schema, op: &Operation, r: &mut Request, n: usize) {
    let (Some(shape), Some(Value::Object(body))) = (&op.body, r.body.as_mut()) else {
        return;
    };
    let Some(object) = crate::resources::object_of(schema, shape) else {
        return;
    };
    for f in object.fields.iter().filter(|f| f.unique) {
        let Some(Value::String(was)) = body.get(&f.name).cloned() else {
            continue;
        };
        let suffix = format!("~{n:x}");
        let kept = was.chars().count().saturating_sub(suffix.len());
        let shorter: String = was.chars().take(kept).chain(suffix.chars()).collect();
        let longer = format!("{was}{suffix}");
        for fresh in [shorter, longer] {
            if fresh == was {
                continue;
            }
            body.insert(f.name.clone(), Value::String(fresh));
            if crate::judge::check(schema, &Value::Object(body.clone()), shape).is_empty() {
                break;
            }
            body.insert(f.name.clone(), Value::String(was.clone()));
        }
    }
}

/// A text no value of the parameter's shape reads as, with the rule it breaks.
pub(crate) fn wrong_text(p: &Param) -> Option<(&'static str, String)> {
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

/// An id a path parameter of `shape` allows that none of `taken` is and that a store is unlikely
/// to have given: a large number, a nil-like UUID, or a word.
pub(crate) fn unknown_id(schema: &Schema, shape: &Shape, taken: &[&str]) -> Option<String> {
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

/// Leaves out of `r` the preconditions the document does not require: a drawn one
/// (`If-Match: "x"`) would fail a request meant to succeed with a 412.
pub(crate) fn drop_preconditions(op: &Operation, r: &mut Request) {
    r.headers.retain(|(k, _)| {
        !crate::meta::is_precondition(k)
            || op
                .params
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(k) && p.required)
    });
}

/// Near misses of a real id, each with what it is: another case, a space after it, a prefix,
/// one character more, a Unicode look-alike of a letter. None may find the item the real one
/// names. `case_free`: the id's case means nothing (a UUID), so no case is changed.
pub(crate) fn near_misses(id: &str, case_free: bool) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    let swapped = crate::http::swap_case(id);
    if !case_free && swapped != id {
        out.push((swapped, "another case"));
    }
    out.push((format!("{id} "), "a space after it"));
    if id.chars().count() > 1 {
        let mut prefix = id.to_string();
        prefix.pop();
        out.push((prefix, "a prefix"));
    }
    out.push((format!("{id}~"), "one character more"));
    // Cyrillic letters drawn like Latin ones.
    const LOOK_ALIKES: [(char, char); 6] = [
        ('a', 'а'),
        ('c', 'с'),
        ('e', 'е'),
        ('o', 'о'),
        ('p', 'р'),
        ('x', 'х'),
    ];
    if let Some((i, c)) = id
        .char_indices()
        .find(|(_, c)| LOOK_ALIKES.iter().any(|(l, _)| l == c))
    {
        let twin = LOOK_ALIKES.iter().find(|(l, _)| *l == c).map(|(_, t)| *t);
        if let Some(t) = twin {
            let mut s = id.to_string();
            s.replace_range(i..i + c.len_utf8(), &t.to_string());
            out.push((s, "a look-alike letter"));
        }
    }
    out.retain(|(n, _)| n != id && !n.is_empty());
    out
}

/// Whether an answer's JSON shows `id` as one of its values (the item a near miss found).
pub(crate) fn shows_id(answer: &serde_json::Value, id: &str) -> bool {
    match answer {
        serde_json::Value::String(s) => s == id,
        serde_json::Value::Number(n) => n.to_string() == id,
        serde_json::Value::Array(a) => a.iter().any(|v| shows_id(v, id)),
        serde_json::Value::Object(o) => o.values().any(|v| shows_id(v, id)),
        _ => false,
    }
}

#[cfg(test)]
mod near_miss_tests {
    use super::*;

    #[test]
    fn near_misses_differ_from_the_id_and_a_uuid_keeps_its_case() {
        let n = near_misses("cvm-1", false);
        let ids: Vec<&str> = n.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(ids, ["CVM-1", "cvm-1 ", "cvm-", "cvm-1~", "сvm-1"]);
        let u = near_misses("0f8fad5b-d9cb-469f-a165-70867728950e", true);
        assert!(u.iter().all(|(_, how)| *how != "another case"));
        assert!(near_misses("7", false).iter().all(|(s, _)| s != "7"));
        assert!(crate::faults::near_miss_of("CVM-1", "cvm-1"));
        assert!(crate::faults::near_miss_of("cvm-1 ", "cvm-1"));
        assert!(!crate::faults::near_miss_of("cvm-", "cvm-1"));
    }

    #[test]
    fn an_answer_shows_an_id_among_its_values() {
        let a = serde_json::json!({"data": {"id": "abc", "n": 7}});
        assert!(shows_id(&a, "abc") && shows_id(&a, "7"));
        assert!(!shows_id(&a, "ABC"));
    }
}

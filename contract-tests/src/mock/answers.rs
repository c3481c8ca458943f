//! The mock's answers: shaped to the schema documented for their status, with documented
//! headers, the success of an operation as its generated faults change it, a 405, new ids and
//! the defaults of what a create or a replace leaves out.

use super::*;

/// A first id a path parameter takes: `1`, or a string the parameter's schema allows.
pub(crate) fn first_id(op: &Operation, param: &str) -> String {
    match op.params.iter().find(|p| p.name == param).map(|p| &p.shape) {
        Some(Shape::Integer { .. }) | Some(Shape::Number { .. }) => "1".into(),
        _ => "1".into(),
    }
}

/// An id as the answers carry it: a number where the path parameter is one.
pub(crate) fn id_value(id: &str, op: &Operation, param: &str) -> Value {
    let numeric = matches!(
        op.params.iter().find(|p| p.name == param).map(|p| &p.shape),
        Some(Shape::Integer { .. }) | Some(Shape::Number { .. })
    );
    match (numeric, id.parse::<i64>()) {
        (true, Ok(n)) => json!(n),
        _ => json!(id),
    }
}

/// The shape of the first documented success of `op`, if it has a body.
pub(crate) fn success_shape(op: &Operation) -> Option<&Shape> {
    success(op).and_then(|r| r.body.as_ref())
}

pub(crate) fn success(op: &Operation) -> Option<&crate::meta::Response> {
    op.responses
        .iter()
        .filter(|r| !r.range && (200..300).contains(&r.status))
        .min_by_key(|r| r.status)
}

/// `value` made to fit `shape`: as it is where it fits; an object gets every key of `value` that
/// keeps it valid over a full valid value of its own; anything else a full valid value.
pub(crate) fn shaped(schema: &Arc<Schema>, shape: &Shape, value: &Value) -> Value {
    if judge::check(schema, value, shape).is_empty() {
        return value.clone();
    }
    match (strip(shape), value) {
        (Shape::Array { items, .. }, Value::Array(a)) => {
            let v = Value::Array(a.iter().map(|x| shaped(schema, items, x)).collect());
            if judge::check(schema, &v, shape).is_empty() {
                return v;
            }
        }
        (s @ Shape::Object { .. }, Value::Object(m)) => {
            let mut out = breadth::full(schema, s)
                .filter(Value::is_object)
                .unwrap_or_else(|| json!({}));
            for (k, v) in m {
                let before = out.get(k).cloned();
                out[k.as_str()] = v.clone();
                if !judge::check(schema, &out, s).is_empty() {
                    match before {
                        Some(b) => out[k.as_str()] = b,
                        None => {
                            out.as_object_mut().expect("object").remove(k);
                        }
                    }
                }
            }
            if judge::check(schema, &out, shape).is_empty() {
                return out;
            }
        }
        _ => {}
    }
    breadth::full(schema, shape).unwrap_or_else(|| value.clone())
}

pub(crate) fn strip(shape: &Shape) -> &Shape {
    match shape {
        Shape::Nullable { inner } => strip(inner),
        other => other,
    }
}

/// The body an answer of `status` for `op` carries: `body` shaped to what the document gives for
/// that status, a full valid value of it where `body` is `None`, `body` as it is where the
/// document gives none (but for a 204).
pub(crate) fn body_for(
    schema: &Arc<Schema>,
    op: &Operation,
    status: u16,
    body: Option<Value>,
) -> Option<Value> {
    let documented = op.response(status).and_then(|r| r.body.as_ref());
    match (documented, body) {
        (Some(shape), Some(b)) => Some(shaped(schema, shape, &b)),
        (Some(shape), None) => breadth::full(schema, shape),
        (None, Some(b)) if status != 204 => Some(b),
        _ => None,
    }
}

pub(crate) fn respond(status: u16, body: Option<Value>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match body {
        Some(v) => (code, axum::Json(v)).into_response(),
        None => code.into_response(),
    }
}

/// An answer of `status` for `op`, its body shaped to what the document gives for it.
pub(crate) fn answer(
    schema: &Arc<Schema>,
    op: &Operation,
    status: u16,
    body: Option<Value>,
) -> Response {
    respond(status, body_for(schema, op, status, body))
}

/// A success answer, as the generated faults of `op` shape it.
pub(crate) fn success_answer(
    m: &Mock,
    op: &Operation,
    status: u16,
    body: Option<Value>,
) -> Response {
    let mut status = status;
    for g in m.on(Kind::UndocumentedSuccessStatus, &op.name) {
        if let Some(s) = g.arg.as_ref().and_then(Value::as_u64) {
            status = s as u16;
            m.fired.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    let mut body = body_for(&m.schema, op, status, body);
    for g in m.on(Kind::ResponseFieldDropped, &op.name) {
        if let (Some(Value::String(k)), Some(o)) =
            (&g.arg, body.as_mut().and_then(Value::as_object_mut))
        {
            if o.remove(k).is_some() {
                m.fired.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
    let mut resp = respond(status, body);
    if let Some(doc) = op.response(status) {
        let dropped = m.on(Kind::ResponseHeaderDropped, &op.name);
        for h in &doc.headers {
            if dropped.iter().any(|g| g.arg == Some(json!(h.name))) {
                m.fired.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                continue;
            }
            let text = header_text(&m.schema, h.shape.as_ref());
            if let (Ok(k), Ok(v)) = (
                axum::http::HeaderName::from_bytes(h.name.as_bytes()),
                HeaderValue::from_str(&text),
            ) {
                resp.headers_mut().insert(k, v);
            }
        }
    }
    if m.fire(Kind::WrongContentType, &op.name) {
        resp.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    resp
}

/// A documented answer header's value: a full valid value of its schema, as header text.
pub(crate) fn header_text(schema: &Arc<Schema>, shape: Option<&Shape>) -> String {
    let v = shape
        .and_then(|s| breadth::full(schema, s))
        .unwrap_or_else(|| json!("1"));
    fn text(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(","),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }
    text(&v)
}

/// The answer to a method the document does not give for the path: a 405 whose `Allow` names the
/// documented ones, unless a generated fault of the path's first operation serves it as that
/// operation's success ([`Kind::MethodServed`]) or leaves `Allow` out ([`Kind::AllowMissing`]).
pub(crate) fn not_allowed(m: &Mock, route: &Route) -> Response {
    let first = route
        .ops
        .iter()
        .map(|(_, n)| n.as_str())
        .min()
        .unwrap_or("");
    if m.fire(Kind::MethodServed, first) {
        if let Some(op) = m.schema.operation(first) {
            let status = success(op).map_or(200, |r| r.status);
            return success_answer(m, op, status, None);
        }
    }
    let mut r = (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(json!({"detail": "Method Not Allowed"})),
    )
        .into_response();
    if m.fire(Kind::AllowMissing, first) {
        return r;
    }
    let allow: Vec<&str> = route.ops.iter().map(|(mth, _)| mth.as_str()).collect();
    if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
        r.headers_mut().insert(axum::http::header::ALLOW, v);
    }
    r
}

/// The value a careless server gives what it was not sent: `0`, `""`, `false`, `[]`, `{}`.
pub(crate) fn zero(shape: &Shape) -> Option<Value> {
    match strip(shape) {
        Shape::Integer { .. } => Some(json!(0)),
        Shape::Number { .. } => Some(json!(0.0)),
        Shape::String { .. } | Shape::Enum { .. } => Some(json!("")),
        Shape::Boolean => Some(json!(false)),
        Shape::Array { .. } => Some(json!([])),
        Shape::Object { .. } | Shape::Map { .. } => Some(json!({})),
        _ => None,
    }
}

/// What a server takes for the keys a body leaves out: the document's `default`, else null where
/// null is allowed.
pub(crate) fn with_defaults(schema: &Schema, op: &Operation, value: &mut Map<String, Value>) {
    let Some(o) = op
        .body
        .as_ref()
        .and_then(|b| resources::object_of(schema, b))
    else {
        return;
    };
    for f in &o.fields {
        if value.contains_key(&f.name) {
            continue;
        }
        match (&f.default, f.nullable) {
            (Some(d), _) => {
                value.insert(f.name.clone(), d.clone());
            }
            (None, true) => {
                value.insert(f.name.clone(), Value::Null);
            }
            _ => {}
        }
    }
}

/// A new item's id, as its key in the store and as its answers carry it: a number, a UUID or a
/// string, as the id field's schema wants.
pub(crate) fn create_id(schema: &Schema, op: &Operation, r: &Resource, n: u64) -> (String, Value) {
    let shape = success_shape(op)
        .and_then(|s| r.id_shape(schema, s))
        .map(|s| strip(s).clone());
    match shape {
        Some(Shape::String {
            format: Some(f), ..
        }) if f == "uuid" => {
            let id = format!("00000000-0000-4000-8000-{n:012x}");
            (id.clone(), json!(id))
        }
        Some(Shape::String { .. }) => (n.to_string(), json!(n.to_string())),
        _ => (n.to_string(), json!(n)),
    }
}

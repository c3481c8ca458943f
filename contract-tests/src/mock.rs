//! A stateful mock of any document (`cargo xtask serve --spec PATH`): an in-memory implementation
//! inferred from the document, with no code written for it.
//!
//! - Resources ([`crate::resources`]): a POST to a collection stores an item under a new id, a GET
//!   of the collection lists its items, a GET of an item reads it, PATCH merges what is present,
//!   PUT replaces, DELETE removes; an item that does not exist is a 404. A resource with no
//!   create starts with one item.
//! - Credentials where the security schemes say (a header, a query parameter, a bearer token);
//!   none or a wrong one is a 401. Items belong to the key that created them: another key's
//!   read, change or delete is a 404.
//! - Parameters and bodies are judged against their schemas ([`crate::judge`]); a request that
//!   breaks them is answered with the documented 4xx (422 where documented, with FastAPI's
//!   `detail` list), a path with no operation for the method with a 405 and `Allow`.
//! - Every answer is shaped to the schema documented for its status: stored values where they
//!   fit, and a full valid value ([`crate::breadth::full`]) for the rest.
//!
//! The faults generated from the document ([`crate::faults`]) switch on one at a time, as on the
//! reference server of `spec/`.

use crate::breadth;
use crate::faults::{Generated, Kind};
use crate::judge;
use crate::meta::{Operation, Schema, Shape};
use crate::resources::{self, Resource, Role};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// What a mock runs with.
#[derive(Debug, Clone)]
pub struct Options {
    /// The keys it accepts, each a user of its own (the first is the default user's).
    pub api_keys: Vec<String>,
    /// Generated faults switched on.
    pub faults: Vec<Generated>,
}

/// The second key a mock accepts unless told otherwise: another user.
pub const OTHER_API_KEY: &str = "reference-key-2";

impl Default for Options {
    fn default() -> Self {
        Options {
            api_keys: vec![
                crate::server::DEFAULT_API_KEY.to_string(),
                OTHER_API_KEY.to_string(),
            ],
            faults: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
struct Item {
    value: Map<String, Value>,
    /// The index of the key that created it.
    owner: usize,
}

#[derive(Default)]
struct Store {
    /// Concrete collection path -> id -> item, in insertion order of ids.
    items: BTreeMap<String, BTreeMap<String, Item>>,
    /// Ids deleted, per collection (for a fault that lists them still).
    deleted: BTreeMap<String, BTreeMap<String, Item>>,
    next_id: u64,
    /// The last body each operation accepted (for a repeat).
    last_body: BTreeMap<String, Value>,
    /// Per operation, the top-level keys its last accepted body set to null.
    nulled: BTreeMap<String, Vec<String>>,
    /// Operations that have answered once ([`Kind::SlowAnswer`] holds back only the first).
    answered: std::collections::BTreeSet<String>,
}

struct Mock {
    schema: Arc<Schema>,
    resources: Vec<Resource>,
    routes: Vec<Route>,
    opts: Options,
    store: Mutex<Store>,
    fired: std::sync::atomic::AtomicU64,
}

/// A path template and the operations on it.
struct Route {
    segments: Vec<Segment>,
    /// Method -> client method name.
    ops: Vec<(String, String)>,
}

enum Segment {
    Literal(String),
    Param(String),
}

impl Route {
    /// The path parameters of `path`, when it matches.
    fn matches(&self, path: &[&str]) -> Option<Vec<(String, String)>> {
        if path.len() != self.segments.len() {
            return None;
        }
        let mut out = Vec::new();
        for (s, p) in self.segments.iter().zip(path) {
            match s {
                Segment::Literal(l) if l == p => {}
                Segment::Literal(_) => return None,
                Segment::Param(n) => out.push((n.clone(), decode(p))),
            }
        }
        Some(out)
    }

    fn literals(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count()
    }
}

fn split(path: &str) -> Vec<&str> {
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
fn decode(s: &str) -> String {
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

impl Mock {
    fn new(schema: Arc<Schema>, opts: Options) -> Mock {
        let mut by_path: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for op in schema.operations.values() {
            by_path
                .entry(op.path.clone())
                .or_default()
                .push((op.method.clone(), op.name.clone()));
        }
        let mut routes: Vec<Route> = by_path
            .into_iter()
            .map(|(path, ops)| Route {
                segments: split(&path)
                    .into_iter()
                    .map(
                        |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                            Some(p) => Segment::Param(p.to_string()),
                            None => Segment::Literal(s.to_string()),
                        },
                    )
                    .collect(),
                ops,
            })
            .collect();
        // A literal segment wins over a parameter (`/notes/mine` before `/notes/{id}`).
        routes.sort_by_key(|r| std::cmp::Reverse(r.literals()));
        let resources = resources::infer(&schema);
        let mock = Mock {
            schema,
            resources,
            routes,
            opts,
            store: Mutex::new(Store::default()),
            fired: Default::default(),
        };
        mock.seed();
        mock
    }

    /// One item in each collection without parameters whose resource has no create: something to
    /// read and change.
    fn seed(&self) {
        let mut store = self.store.lock().expect("store");
        for r in &self.resources {
            if r.op(&self.schema, Role::Create).is_some() || r.collection.contains('{') {
                continue;
            }
            let Some(read) = r
                .op(&self.schema, Role::Read)
                .or_else(|| r.op(&self.schema, Role::Update))
            else {
                continue;
            };
            let id = first_id(read, &r.param);
            let mut value = success_shape(read)
                .and_then(|s| breadth::full(&self.schema, s))
                .and_then(|v| v.as_object().cloned())
                .unwrap_or_default();
            if let Some(f) = &r.id_field {
                value.insert(f.clone(), id_value(&id, read, &r.param));
            }
            store
                .items
                .entry(r.collection.clone())
                .or_default()
                .insert(id, Item { value, owner: 0 });
        }
    }

    /// The ids it starts with, as `(item path, id)`.
    pub fn seeded(&self) -> Vec<(String, String)> {
        let store = self.store.lock().expect("store");
        let mut out = Vec::new();
        for (collection, items) in &store.items {
            for id in items.keys() {
                out.push((
                    format!("{}/{id}", collection.trim_end_matches('/')),
                    id.clone(),
                ));
            }
        }
        out
    }

    fn on(&self, kind: Kind, op: &str) -> Vec<&Generated> {
        self.opts
            .faults
            .iter()
            .filter(|g| g.kind == kind && g.op == op)
            .collect()
    }

    fn fire(&self, kind: Kind, op: &str) -> bool {
        let on = !self.on(kind, op).is_empty();
        if on {
            self.fired
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        on
    }

    fn resource_of(&self, op: &str) -> Option<(&Resource, Role)> {
        self.resources
            .iter()
            .find_map(|r| r.role_of(op).map(|role| (r, role)))
    }
}

/// A first id a path parameter takes: `1`, or a string the parameter's schema allows.
fn first_id(op: &Operation, param: &str) -> String {
    match op.params.iter().find(|p| p.name == param).map(|p| &p.shape) {
        Some(Shape::Integer { .. }) | Some(Shape::Number { .. }) => "1".into(),
        _ => "1".into(),
    }
}

/// An id as the answers carry it: a number where the path parameter is one.
fn id_value(id: &str, op: &Operation, param: &str) -> Value {
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
fn success_shape(op: &Operation) -> Option<&Shape> {
    success(op).and_then(|r| r.body.as_ref())
}

fn success(op: &Operation) -> Option<&crate::meta::Response> {
    op.responses
        .iter()
        .filter(|r| !r.range && (200..300).contains(&r.status))
        .min_by_key(|r| r.status)
}

/// `value` made to fit `shape`: as it is where it fits; an object gets every key of `value` that
/// keeps it valid over a full valid value of its own; anything else a full valid value.
fn shaped(schema: &Arc<Schema>, shape: &Shape, value: &Value) -> Value {
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

fn strip(shape: &Shape) -> &Shape {
    match shape {
        Shape::Nullable { inner } => strip(inner),
        other => other,
    }
}

/// The body an answer of `status` for `op` carries: `body` shaped to what the document gives for
/// that status, a full valid value of it where `body` is `None`, `body` as it is where the
/// document gives none (but for a 204).
fn body_for(
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

fn respond(status: u16, body: Option<Value>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match body {
        Some(v) => (code, axum::Json(v)).into_response(),
        None => code.into_response(),
    }
}

/// An answer of `status` for `op`, its body shaped to what the document gives for it.
fn answer(schema: &Arc<Schema>, op: &Operation, status: u16, body: Option<Value>) -> Response {
    respond(status, body_for(schema, op, status, body))
}

/// The status a refusal of a bad request takes: 422 where documented, else 400, else the first
/// documented 4xx, else 422.
fn refusal(op: &Operation) -> u16 {
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

fn detail_item(kind: &str, loc: Vec<Value>, msg: &str) -> Value {
    json!({ "type": kind, "loc": loc, "msg": msg })
}

/// The key a request carries, as the operation's security schemes place it.
fn credential(op: &Operation, headers: &HeaderMap, query: &[(String, String)]) -> Option<String> {
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
fn param_value(shape: &Shape, text: &str) -> Value {
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

fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
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
fn problems(
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

/// The validation errors, as the generated faults of `op` change them
/// ([`Generated::adjust_errors`]).
fn faulty_validation(m: &Mock, op: &str, body: &Value, errs: &mut Vec<Value>) {
    let changed = m
        .opts
        .faults
        .iter()
        .filter(|g| g.op == op)
        .filter(|g| g.adjust_errors(&m.schema, body, errs))
        .count();
    m.fired
        .fetch_add(changed as u64, std::sync::atomic::Ordering::Relaxed);
}

/// Whether a generated fault of `op` crashes this valid request ([`Generated::crashes`]); keeps
/// what the next request's faults look back at.
fn crashes(m: &Mock, store: &mut Store, op: &str, body: Option<&Value>) -> bool {
    let nulled = store.nulled.remove(op).unwrap_or_default();
    let repeat = body.is_some() && store.last_body.get(op) == body;
    let hit = m
        .opts
        .faults
        .iter()
        .filter(|g| g.op == op)
        .any(|g| g.crashes(&m.schema, body, &nulled, repeat));
    if hit {
        m.fired.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    if let Some(b) = body {
        store.last_body.insert(op.to_string(), b.clone());
        store
            .nulled
            .insert(op.to_string(), crate::faults::nulled_keys(b));
    }
    hit
}

/// A success answer, as the generated faults of `op` shape it.
fn success_answer(m: &Mock, op: &Operation, status: u16, body: Option<Value>) -> Response {
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
fn header_text(schema: &Arc<Schema>, shape: Option<&Shape>) -> String {
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
fn not_allowed(m: &Mock, route: &Route) -> Response {
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

async fn handle(
    State(m): State<Arc<Mock>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let path = split(uri.path());
    let Some((route, params)) = m
        .routes
        .iter()
        .find_map(|r| r.matches(&path).map(|p| (r, p)))
    else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"detail": "Not Found"})),
        )
            .into_response();
    };
    let Some((_, name)) = route.ops.iter().find(|(mth, _)| *mth == method.as_str()) else {
        return not_allowed(&m, route);
    };
    let schema = m.schema.clone();
    let Some(op) = schema.operation(name) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let query = query_pairs(&uri);
    let first = m.store.lock().expect("store").answered.insert(name.clone());
    if first && m.fire(Kind::SlowAnswer, name) {
        tokio::time::sleep(crate::faults::SLOW_ANSWER).await;
    }

    // Credentials.
    let mut user = 0usize;
    if !op.auth.is_empty() {
        let given = credential(op, &headers, &query);
        match given
            .as_deref()
            .and_then(|g| m.opts.api_keys.iter().position(|k| k == g))
        {
            Some(u) => user = u,
            None => {
                let near = given.as_deref().is_some_and(|g| {
                    !g.is_empty() && m.opts.api_keys.iter().any(|k| k.starts_with(g))
                });
                let let_in = (near && m.fire(Kind::NearMissKeyAccepted, name))
                    || m.fire(Kind::AuthIgnored, name);
                if !let_in {
                    let status = if op.response(401).is_some_and(|r| r.status == 401)
                        || op.response(403).is_none()
                    {
                        401
                    } else {
                        403
                    };
                    return answer(
                        &schema,
                        op,
                        status,
                        Some(json!({"detail": "Not authenticated"})),
                    );
                }
            }
        }
    }

    // The request against its schemas.
    let (body, body_error) = if bytes.is_empty() {
        (None, None)
    } else {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(format!("JSON decode error: {e}"))),
        }
    };
    let mut errs = problems(&schema, op, &params, &query, &headers, &body, body_error);
    if let Some(b) = &body {
        faulty_validation(&m, name, b, &mut errs);
    }
    for g in m.on(Kind::RequiredHeaderIgnored, name) {
        let before = errs.len();
        errs.retain(|e| e["loc"] != json!(["header", g.arg.clone().unwrap_or_default()]));
        if errs.len() < before {
            m.fired.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    if !errs.is_empty() {
        return answer(&schema, op, refusal(op), Some(json!({ "detail": errs })));
    }

    let mut store = m.store.lock().expect("store");
    if crashes(&m, &mut store, name, body.as_ref()) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
    }
    let status = success(op).map_or(200, |r| r.status);
    let Some((res, role)) = m.resource_of(name) else {
        // Not an operation on a resource: its documented success, statically.
        drop(store);
        return success_answer(&m, op, status, None);
    };
    let request_path = format!("/{}", path.join("/"));
    let (collection, id) = match role {
        Role::Create | Role::List => (request_path.clone(), None),
        _ => {
            let (c, i) = request_path.rsplit_once('/').unwrap_or(("", ""));
            let c = if c.is_empty() { "/" } else { c };
            (c.to_string(), Some(decode(i)))
        }
    };
    let not_found = |store: std::sync::MutexGuard<'_, Store>| {
        drop(store);
        answer(&schema, op, 404, Some(json!({"detail": "Not Found"})))
    };
    match role {
        Role::Create => {
            store.next_id += 1;
            let n = store.next_id;
            let id = create_id(&schema, op, res, n);
            let mut value = body
                .as_ref()
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            with_defaults(&schema, op, &mut value);
            if let Some(f) = &res.id_field {
                value.insert(f.clone(), id.1.clone());
            }
            // What the read shows of it is fixed now: defaults drawn once, stored.
            if let Some(s) = res
                .op(&schema, Role::Read)
                .and_then(success_shape)
                .or(success_shape(op))
            {
                if let Value::Object(full) = shaped(&schema, s, &Value::Object(value.clone())) {
                    for (k, v) in full {
                        value.entry(k).or_insert(v);
                    }
                }
            }
            let shown = Value::Object(value.clone());
            if !m.fire(Kind::CreateNotStored, name) {
                store
                    .items
                    .entry(collection)
                    .or_default()
                    .insert(id.0, Item { value, owner: user });
            }
            drop(store);
            success_answer(&m, op, status, Some(shown))
        }
        Role::List => {
            let mut list: Vec<Value> = store
                .items
                .get(&collection)
                .into_iter()
                .flat_map(|items| items.values())
                .filter(|i| i.owner == user)
                .map(|i| Value::Object(i.value.clone()))
                .collect();
            if let Some(deleted) = store.deleted.get(&collection) {
                if m.fire(Kind::ListShowsDeleted, name) {
                    list.extend(deleted.values().map(|i| Value::Object(i.value.clone())));
                }
            }
            drop(store);
            let body = match success_shape(op).map(strip) {
                Some(Shape::Object { name: o }) => {
                    // A page: the one array property holds the items.
                    let mut page = success_shape(op)
                        .and_then(|s| breadth::full(&schema, s))
                        .unwrap_or_else(|| json!({}));
                    if let Some(f) = schema.object(o).and_then(|o| {
                        o.fields
                            .iter()
                            .find(|f| matches!(strip(&f.shape), Shape::Array { .. }))
                    }) {
                        page[f.name.as_str()] = Value::Array(list);
                    }
                    page
                }
                _ => Value::Array(list),
            };
            success_answer(&m, op, status, Some(body))
        }
        Role::Read | Role::Update | Role::Replace | Role::Delete => {
            let id = id.unwrap_or_default();
            let mut item = store
                .items
                .get(&collection)
                .and_then(|c| c.get(&id))
                .cloned();
            if let Some(i) = &item {
                let others = i.owner != user && !m.fire(Kind::OtherUserServed, name);
                if others {
                    item = None;
                }
            }
            let Some(mut item) = item else {
                // Served as if it were there: read, changed or deleted.
                if m.fire(Kind::UnknownIdServed, name) {
                    drop(store);
                    let echo = body.clone().filter(|_| role != Role::Read);
                    return success_answer(&m, op, status, echo);
                }
                return not_found(store);
            };
            match role {
                Role::Read => {
                    drop(store);
                    success_answer(&m, op, status, Some(Value::Object(item.value)))
                }
                Role::Delete => {
                    if !m.fire(Kind::DeleteKept, name) {
                        if let Some(c) = store.items.get_mut(&collection) {
                            c.remove(&id);
                        }
                        store
                            .deleted
                            .entry(collection)
                            .or_default()
                            .insert(id, item);
                    }
                    drop(store);
                    success_answer(&m, op, status, None)
                }
                _ => {
                    let old = item.value.clone();
                    let patch = body
                        .as_ref()
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    let mut next = if role == Role::Replace {
                        // What the body leaves out takes its default; what it sends is
                        // applied below, faults and all.
                        let mut keep = Map::new();
                        with_defaults(&schema, op, &mut keep);
                        keep.retain(|k, _| !patch.contains_key(k));
                        if let Some(f) = &res.id_field {
                            if let Some(v) = old.get(f) {
                                keep.insert(f.clone(), v.clone());
                            }
                        }
                        keep
                    } else {
                        old.clone()
                    };
                    for (k, v) in patch {
                        let ignored = (v.is_null() && state_fault(&m, Kind::NullIgnored, name, &k))
                            || (!v.is_null() && state_fault(&m, Kind::ValueIgnored, name, &k));
                        // Ignored, the field keeps the value it had (a replace too).
                        match (ignored, old.get(&k)) {
                            (false, _) => {
                                next.insert(k, v);
                            }
                            (true, Some(was)) => {
                                next.insert(k, was.clone());
                            }
                            (true, None) => {}
                        }
                    }
                    // Left out, cleared: to null where the body allows it, else to its zero value.
                    let fields = op
                        .body
                        .as_ref()
                        .and_then(|b| resources::object_of(&schema, b));
                    for g in m.on(Kind::AbsentCleared, name) {
                        let Some(k) = g.at.top_key() else { continue };
                        if body.as_ref().and_then(|b| b.get(k)).is_some() {
                            continue;
                        }
                        let f = fields.and_then(|o| o.field(k));
                        let reset = match f {
                            Some(f) if f.nullable => Some(Value::Null),
                            Some(f) => zero(&f.shape),
                            None => None,
                        };
                        if let Some(v) = reset {
                            next.insert(k.to_string(), v);
                            m.fired.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                    item.value = next.clone();
                    if let Some(c) = store.items.get_mut(&collection) {
                        c.insert(id, item);
                    }
                    drop(store);
                    let shown = if m.fire(Kind::StaleAnswer, name) {
                        old
                    } else {
                        next
                    };
                    success_answer(&m, op, status, Some(Value::Object(shown)))
                }
            }
        }
    }
}

/// The value a careless server gives what it was not sent: `0`, `""`, `false`, `[]`, `{}`.
fn zero(shape: &Shape) -> Option<Value> {
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
fn with_defaults(schema: &Schema, op: &Operation, value: &mut Map<String, Value>) {
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

fn state_fault(m: &Mock, kind: Kind, op: &str, key: &str) -> bool {
    let on = m.on(kind, op).iter().any(|g| g.at.top_key() == Some(key));
    if on {
        m.fired.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    on
}

/// A new item's id, as its key in the store and as its answers carry it: a number, a UUID or a
/// string, as the id field's schema wants.
fn create_id(schema: &Schema, op: &Operation, r: &Resource, n: u64) -> (String, Value) {
    let shape = r.id_field.as_ref().and_then(|f| {
        let o = resources::object_of(schema, success_shape(op)?)?;
        o.field(f).map(|f| strip(&f.shape).clone())
    });
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

/// A running mock on 127.0.0.1; it stops when dropped.
pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    mock: Arc<Mock>,
    _listening: crate::server::Listening,
}

impl Running {
    /// Requests whose answer or effect a generated fault changed so far.
    pub fn fired(&self) -> u64 {
        self.mock.fired.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The items it started with, as `(item path, id)`.
    pub fn seeded(&self) -> Vec<(String, String)> {
        self.mock.seeded()
    }
}

/// Starts a mock of `schema` on `port` of 127.0.0.1 (0: a free one).
pub fn spawn(schema: Arc<Schema>, port: u16, opts: Options) -> std::io::Result<Running> {
    let mock = Arc::new(Mock::new(schema, opts));
    let app = Router::new().fallback(handle).with_state(mock.clone());
    let listening = crate::server::listen(port, app, "mock-server")?;
    Ok(Running {
        url: listening.url.clone(),
        mock,
        _listening: listening,
    })
}

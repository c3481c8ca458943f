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

mod answers;
mod hooks;
mod request;

use answers::*;
use hooks::*;
pub use request::decode_segment;
use request::*;

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
    /// Its version, as its `ETag` gives it (`"N"`): a new one on every change.
    tag: u64,
}

#[derive(Default)]
struct Store {
    /// Concrete collection path -> id -> item, in insertion order of ids.
    items: BTreeMap<String, BTreeMap<String, Item>>,
    /// Ids deleted, per collection (for a fault that lists them still).
    deleted: BTreeMap<String, BTreeMap<String, Item>>,
    next_id: u64,
    /// The last version given an item ([`Item::tag`]).
    next_tag: u64,
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

/// The page of `list` a list request asks for, as its operation pages ([`crate::pages`]): by
/// offset and limit, page and size, or a cursor (the offset as text); with the next page's
/// cursor when more follow. `skew` shifts every page after the first (a planted fault).
fn page_of(
    op: &Operation,
    query: &[(String, String)],
    list: Vec<Value>,
    skew: i64,
) -> (Vec<Value>, Option<String>) {
    use crate::pages::Paging;
    let number = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<i64>().ok())
    };
    let size_of = |s: &Option<crate::pages::Size>| s.as_ref().and_then(|s| number(&s.name));
    let (start, size) = match crate::pages::of(op) {
        Paging::Whole => return (list, None),
        Paging::Offset { offset, limit } => (number(&offset).unwrap_or(0), size_of(&limit)),
        Paging::Page { page, first, size } => {
            let n = size_of(&size);
            let p = number(&page).unwrap_or(first);
            match n {
                Some(n) => ((p - first).saturating_mul(n), Some(n)),
                None if p == first => (0, None),
                None => (i64::MAX, None),
            }
        }
        Paging::Cursor { param, limit } => (number(&param).unwrap_or(0), size_of(&limit)),
    };
    let start = if start > 0 {
        start.saturating_add(skew)
    } else {
        start
    };
    let start = usize::try_from(start.max(0))
        .unwrap_or(usize::MAX)
        .min(list.len());
    let end = size
        .map_or(list.len(), |n| {
            start.saturating_add(usize::try_from(n.max(0)).unwrap_or(0))
        })
        .min(list.len());
    let next = (end < list.len()).then(|| end.to_string());
    (list[start..end].to_vec(), next)
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
            r.set_id(&mut value, id_value(&id, read, &r.param));
            store.items.entry(r.collection.clone()).or_default().insert(
                id,
                Item {
                    value,
                    owner: 0,
                    tag: 0,
                },
            );
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

    /// The item a nested collection's address (`/notes/7/comments`) lives under, as its
    /// collection's address and id (`/notes`, `7`), when the parent resource is one whose items
    /// the store holds (made by a create, or seeded).
    fn parent_of(&self, r: &Resource, collection: &str) -> Option<(String, String)> {
        if !r.collection.contains('{') {
            return None;
        }
        let parent = resources::parent_of(&self.resources, r)?;
        if parent.op(&self.schema, Role::Create).is_none() && parent.collection.contains('{') {
            return None;
        }
        let depth = parent.item.split('/').count();
        let segments: Vec<&str> = collection.split('/').take(depth).collect();
        let (id, above) = segments.split_last()?;
        let above = above.join("/");
        let above = if above.is_empty() { "/".into() } else { above };
        Some((above, decode(id)))
    }

    /// Whether the items of `r` carry an `ETag`: some operation on an item declares `If-Match`
    /// or `If-None-Match`.
    fn conditional(&self, r: &Resource) -> bool {
        [Role::Read, Role::Update, Role::Replace, Role::Delete]
            .into_iter()
            .filter_map(|role| r.op(&self.schema, role))
            .any(|o| {
                o.header_param("if-match").is_some() || o.header_param("if-none-match").is_some()
            })
    }

    fn resource_of(&self, op: &str) -> Option<(&Resource, Role)> {
        self.resources
            .iter()
            .find_map(|r| r.role_of(op).map(|role| (r, role)))
    }
}

/// The `ETag` of version `tag`.
fn etag_text(tag: u64) -> String {
    format!("\"{tag}\"")
}

/// The fields of a refused update's `body` that are valid on their own, applied to the item
/// all the same ([`Kind::RefusalApplied`]); whether any was.
fn apply_valid_part(m: &Mock, op: &Operation, path: &[&str], body: &Value) -> bool {
    let Some((_, Role::Update)) = m.resource_of(&op.name) else {
        return false;
    };
    let Some(object) = op
        .body
        .as_ref()
        .and_then(|b| resources::object_of(&m.schema, b))
    else {
        return false;
    };
    let request_path = format!("/{}", path.join("/"));
    let Some((collection, id)) = request_path.rsplit_once('/') else {
        return false;
    };
    let collection = if collection.is_empty() {
        "/"
    } else {
        collection
    };
    let mut store = m.store.lock().expect("store");
    let Some(item) = store
        .items
        .get_mut(collection)
        .and_then(|c| c.get_mut(&decode(id)))
    else {
        return false;
    };
    let mut applied = false;
    for (k, v) in body.as_object().into_iter().flatten() {
        let Some(f) = object.field(k) else { continue };
        let valid = (v.is_null() && f.nullable)
            || (!v.is_null() && judge::check(&m.schema, v, &f.shape).is_empty());
        if valid && item.value.get(k) != Some(v) {
            item.value.insert(k.clone(), v.clone());
            applied = true;
        }
    }
    applied
}

/// Whether `op`'s answers lose their `ETag` ([`Kind::ResponseHeaderDropped`] of that header).
fn etag_dropped(m: &Mock, op: &str) -> bool {
    m.on(Kind::ResponseHeaderDropped, op).iter().any(|g| {
        g.arg
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(|h| h.eq_ignore_ascii_case("etag"))
    })
}

/// Whether the concrete path `path` is an address of the template `template`.
fn fits(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(a, b)| a == b || (a.starts_with('{') && a.ends_with('}')))
}

/// `resp` with the `ETag` of version `tag`, when the item has one (it replaces a made-up one a
/// documented header would get).
fn with_etag(mut resp: Response, tag: Option<u64>) -> Response {
    if let Some(t) = tag {
        if let Ok(v) = HeaderValue::from_str(&etag_text(t)) {
            resp.headers_mut().insert(axum::http::header::ETAG, v);
        }
    }
    resp
}

/// The answer a request's preconditions (RFC 9110, section 13) get on an item at version `tag`,
/// when they do not hold: 412 for an `If-Match` that names another version, or an
/// `If-None-Match` that names this one on a change; 304 for the latter on a read. Only where the
/// operation declares the header and documents the status.
fn preconditions(
    m: &Mock,
    op: &Operation,
    role: Role,
    headers: &HeaderMap,
    tag: u64,
) -> Option<Response> {
    let current = etag_text(tag);
    let names = |v: &str| {
        v.trim() == "*"
            || v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == current)
    };
    let given = |h: &str| {
        op.header_param(h)?;
        headers.get(h).and_then(|v| v.to_str().ok())
    };
    let failed = || {
        answer(
            &m.schema,
            op,
            412,
            Some(json!({"detail": "Precondition Failed"})),
        )
    };
    if let Some(v) = given("if-match") {
        if op.documents(412) && !names(v) && !m.fire(Kind::StaleIfMatchAccepted, &op.name) {
            return Some(failed());
        }
    }
    if given("if-none-match").is_some_and(names) {
        if role == Role::Read {
            if op.documents(304) && !m.fire(Kind::IfNoneMatchIgnored, &op.name) {
                return Some(with_etag(
                    StatusCode::NOT_MODIFIED.into_response(),
                    Some(tag),
                ));
            }
        } else if op.documents(412) {
            return Some(failed());
        }
    }
    None
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

    // A string escaped on the wire is the same string: refused only with the fault on.
    if crate::faults::escapes_printable(&bytes) && m.fire(Kind::EscapedUnicodeRefused, name) {
        let errs = json!([{"type": "string_type", "loc": ["body"], "msg": "Input should be a valid string"}]);
        return answer(&schema, op, refusal(op), Some(json!({ "detail": errs })));
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
        if let (Some(b), false) = (&body, m.on(Kind::RefusalApplied, name).is_empty()) {
            if apply_valid_part(&m, op, &path, b) {
                m.fired.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
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
        // A create the document's links tie to a collection at another path stores there.
        Role::Create if op.path != res.collection && !res.collection.contains('{') => {
            (res.collection.clone(), None)
        }
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
    // A nested collection lives under an item of its parent: none there, nothing under it.
    if let Some((parent_collection, parent_id)) = m.parent_of(res, &collection) {
        let there = store
            .items
            .get(&parent_collection)
            .is_some_and(|items| items.contains_key(&parent_id));
        // Its items left behind, and still served.
        let orphan = role == Role::Read
            && id.as_ref().is_some_and(|i| {
                store
                    .items
                    .get(&collection)
                    .is_some_and(|c| c.contains_key(i))
            });
        let served_orphan = orphan && !there && m.fire(Kind::ChildrenOutliveParent, name);
        if !there && !served_orphan {
            // Served as if it were there.
            if m.fire(Kind::UnknownIdServed, name) {
                drop(store);
                let echo = body
                    .clone()
                    .filter(|_| role != Role::Read && role != Role::List);
                return success_answer(&m, op, status, echo);
            }
            return not_found(store);
        }
    }
    match role {
        Role::Create => {
            // A value the document marks unique, already an item's: a conflict.
            let unique_taken = body.as_ref().is_some_and(|b| {
                let object = op
                    .body
                    .as_ref()
                    .and_then(|s| resources::object_of(&schema, s));
                let items = store.items.get(&collection);
                object.into_iter().flat_map(|o| &o.fields).any(|f| {
                    f.unique
                        && b.get(&f.name).is_some_and(|v| {
                            !v.is_null()
                                && items.is_some_and(|c| {
                                    c.values().any(|i| i.value.get(&f.name) == Some(v))
                                })
                        })
                })
            });
            if unique_taken && !m.fire(Kind::DuplicateAccepted, name) {
                drop(store);
                let status = if op.documents(409) { 409 } else { refusal(op) };
                return answer(
                    &schema,
                    op,
                    status,
                    Some(json!({"detail": "An item with that value exists"})),
                );
            }
            store.next_id += 1;
            let n = store.next_id;
            let id = create_id(&schema, op, res, n);
            // Its address, for a `Location` the document gives the answer; with the fault, an
            // address of another item (or of none).
            let mut located = id.0.clone();
            if !m.on(Kind::LocationElsewhere, name).is_empty() {
                let other = store
                    .items
                    .get(&collection)
                    .and_then(|c| c.keys().next_back().cloned());
                located = other.unwrap_or_else(|| format!("{}0", id.0));
                m.fired.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            let location = format!(
                "{}/{}",
                collection.trim_end_matches('/'),
                openapi_runtime::encode_component(&located)
            );
            let mut value = body
                .as_ref()
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            with_defaults(&schema, op, &mut value);
            res.set_id(&mut value, id.1.clone());
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
            store.next_tag += 1;
            let tag = store.next_tag;
            if !m.fire(Kind::CreateNotStored, name) {
                store.items.entry(collection).or_default().insert(
                    id.0,
                    Item {
                        value,
                        owner: user,
                        tag,
                    },
                );
            }
            drop(store);
            let mut resp = success_answer(&m, op, status, Some(shown));
            let declared = op.response(status).is_some_and(|r| {
                r.headers
                    .iter()
                    .any(|h| h.name.eq_ignore_ascii_case("location"))
            });
            if declared && resp.headers().contains_key(axum::http::header::LOCATION) {
                if let Ok(v) = HeaderValue::from_str(&location) {
                    resp.headers_mut().insert(axum::http::header::LOCATION, v);
                }
            }
            with_etag(
                resp,
                (m.conditional(res) && !etag_dropped(&m, name)).then_some(tag),
            )
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
            let skew = if m.fire(Kind::PageSkips, name) {
                1
            } else if m.fire(Kind::PageRepeats, name) {
                -1
            } else {
                0
            };
            let (list, next) = page_of(op, &query, list, skew);
            let body = match success_shape(op).map(strip) {
                Some(Shape::Object { name: o }) => {
                    // A page: the one array property holds the items.
                    let mut page = success_shape(op)
                        .and_then(|s| breadth::full(&schema, s))
                        .unwrap_or_else(|| json!({}));
                    if let Some(o) = schema.object(o) {
                        if let Some(f) = o
                            .fields
                            .iter()
                            .find(|f| matches!(strip(&f.shape), Shape::Array { .. }))
                        {
                            page[f.name.as_str()] = Value::Array(list);
                        }
                        // The next page's cursor, where the page has a field for it.
                        if let Some(f) = o
                            .fields
                            .iter()
                            .find(|f| crate::pages::NEXT.contains(&f.name.as_str()))
                        {
                            page[f.name.as_str()] = next.map_or(Value::Null, Value::from);
                        }
                    }
                    page
                }
                _ => Value::Array(list),
            };
            success_answer(&m, op, status, Some(body))
        }
        Role::Read | Role::Update | Role::Replace | Role::Delete => {
            let mut id = id.unwrap_or_default();
            let near = store.items.get(&collection).and_then(|c| {
                (!c.contains_key(&id))
                    .then(|| {
                        c.keys()
                            .find(|k| crate::faults::near_miss_of(&id, k))
                            .cloned()
                    })
                    .flatten()
            });
            if let Some(real) = near {
                if m.fire(Kind::NearMissIdServed, name) {
                    id = real;
                } else if role != Role::Read && m.fire(Kind::NearMissApplied, name) {
                    // Done to the real item, and answered as if there were none.
                    if let Some(c) = store.items.get_mut(&collection) {
                        if role == Role::Delete {
                            c.remove(&real);
                        } else if let (Some(item), Some(Value::Object(patch))) =
                            (c.get_mut(&real), body.as_ref())
                        {
                            item.value.extend(patch.clone());
                        }
                    }
                    return not_found(store);
                }
            }
            let mut item = store
                .items
                .get(&collection)
                .and_then(|c| c.get(&id))
                .cloned();
            // Not under this parent: with the fault, found under any other.
            if item.is_none() && role == Role::Read && res.collection.contains('{') {
                let elsewhere = store
                    .items
                    .iter()
                    .filter(|(c, _)| **c != collection && fits(&res.collection, c))
                    .find_map(|(_, items)| items.get(&id).cloned());
                if elsewhere.is_some() && m.fire(Kind::ChildUnderAnyParent, name) {
                    item = elsewhere;
                }
            }
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
            let conditional = m.conditional(res);
            if conditional {
                if let Some(refused) = preconditions(&m, op, role, &headers, item.tag) {
                    drop(store);
                    return refused;
                }
            }
            // A dropped `ETag` stays dropped (the fault of a documented header).
            let etag_dropped = etag_dropped(&m, name);
            let tag_of = |t: u64| (conditional && !etag_dropped).then_some(t);
            match role {
                Role::Read => {
                    drop(store);
                    let resp = success_answer(&m, op, status, Some(Value::Object(item.value)));
                    with_etag(resp, tag_of(item.tag))
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
                    let mut body = body.clone();
                    let folds = !m.on(Kind::UndeclaredKeyFolded, name).is_empty();
                    let object = op
                        .body
                        .as_ref()
                        .and_then(|b| resources::object_of(&schema, b));
                    if let (true, Some(o), Some(b)) = (folds, object, body.as_mut()) {
                        if crate::faults::fold_keys(o, b) {
                            m.fired.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                    let patch = body
                        .as_ref()
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    let merges = role == Role::Replace && {
                        let left_out = old.keys().any(|k| {
                            !patch.contains_key(k)
                                && object.is_some_and(|o| o.field(k).is_some_and(|f| !f.required))
                        });
                        left_out && m.fire(Kind::ReplaceMerges, name)
                    };
                    let mut next = if role == Role::Replace && !merges {
                        // What the body leaves out takes its default; what it sends is
                        // applied below, faults and all.
                        let mut keep = Map::new();
                        with_defaults(&schema, op, &mut keep);
                        keep.retain(|k, _| !patch.contains_key(k));
                        if let Some(v) = res.id_in(&Value::Object(old.clone())) {
                            res.set_id(&mut keep, v.clone());
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
                    if conditional && !m.fire(Kind::EtagUnchanged, name) {
                        store.next_tag += 1;
                        item.tag = store.next_tag;
                    }
                    let tag = item.tag;
                    if let Some(c) = store.items.get_mut(&collection) {
                        c.insert(id, item);
                    }
                    drop(store);
                    let shown = if m.fire(Kind::StaleAnswer, name) {
                        old
                    } else {
                        next
                    };
                    let resp = success_answer(&m, op, status, Some(Value::Object(shown)));
                    with_etag(resp, tag_of(tag))
                }
            }
        }
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

//! Triage on a small service written the way production servers are, with flaws that make a
//! report hard to read: every 500 has the same body whichever operation it comes from, and one
//! optional header the document allows as any text is refused unless it is a version
//! (`x.y.z`), on every operation. The report must name each server error where it happened,
//! shrink each failure to what it needs, make the header one cause and hold it back so that
//! the checks behind it still run.

use axum::extract::{Path, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use contract_tests::meta::Schema;
use contract_tests::triage::{self, Category};
use contract_tests::{probe, report, Mode, Settings};
use serde_json::{json, Value};
use std::sync::Arc;

const DOC: &str = r##"{
  "openapi": "3.0.3",
  "info": {"title": "flawed", "version": "1"},
  "paths": {
    "/things": {
      "get": {"operationId": "listThings",
        "parameters": [{"$ref": "#/components/parameters/Version"}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}}},
      "post": {"operationId": "makeThing",
        "parameters": [{"$ref": "#/components/parameters/Version"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
        "responses": {"200": {"description": "ok"}, "422": {"description": "invalid"}}}
    },
    "/things/{id}/weigh": {
      "post": {"operationId": "weighThing",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                       {"$ref": "#/components/parameters/Version"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Weight"}}}},
        "responses": {"200": {"description": "ok"}, "422": {"description": "invalid"}}}
    }
  },
  "components": {
    "parameters": {
      "Version": {"name": "x-client-version", "in": "header", "required": false, "schema": {"type": "string"}}
    },
    "schemas": {
      "Thing": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "maxLength": 20},
        "size": {"type": "integer"},
        "note": {"type": "string"}}},
      "Weight": {"type": "object", "properties": {
        "grams": {"type": "integer"},
        "label": {"type": "string"}}}
    }
  }
}"##;

/// The one body every server error gets, as production servers answer.
fn server_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({"message": "Internal Server Error"})),
    )
        .into_response()
}

/// The header, when there, must be `x.y.z`: the refusal, if it is not.
fn version_refused(h: &HeaderMap) -> Option<Response> {
    match h.get("x-client-version").and_then(|v| v.to_str().ok()) {
        None => None,
        Some(v) if v.split('.').count() == 3 && v.split('.').all(|p| p.parse::<u32>().is_ok()) => {
            None
        }
        Some(v) => Some(
            (
                StatusCode::BAD_REQUEST,
                Json(json!({"detail": format!("bad client version: {v}")})),
            )
                .into_response(),
        ),
    }
}

async fn body_of(r: Request) -> Option<Value> {
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn integer(v: &Value) -> bool {
    v.is_i64() || v.is_u64()
}

/// An optional property: absent, or of its type (never null).
fn fits(b: &Value, key: &str, ok: fn(&Value) -> bool) -> bool {
    b.get(key).is_none_or(ok)
}

fn invalid() -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({"detail": "invalid"})),
    )
        .into_response()
}

async fn list(h: HeaderMap) -> Response {
    if let Some(r) = version_refused(&h) {
        return r;
    }
    Json(json!([])).into_response()
}

async fn make(h: HeaderMap, r: Request) -> Response {
    if let Some(r) = version_refused(&h) {
        return r;
    }
    let Some(b) = body_of(r).await.filter(Value::is_object) else {
        return invalid();
    };
    let name_ok = b["name"].as_str().is_some_and(|n| n.chars().count() <= 20);
    if !name_ok || !fits(&b, "size", integer) || !fits(&b, "note", Value::is_string) {
        return invalid();
    }
    // The flaw: a size past a thousand overflows a column.
    if b["size"].as_i64().is_some_and(|s| s > 1000) {
        return server_error();
    }
    Json(json!({"ok": true})).into_response()
}

async fn weigh(Path(_id): Path<String>, h: HeaderMap, r: Request) -> Response {
    if let Some(r) = version_refused(&h) {
        return r;
    }
    let Some(b) = body_of(r).await.filter(Value::is_object) else {
        return invalid();
    };
    if !fits(&b, "grams", integer) || !fits(&b, "label", Value::is_string) {
        return invalid();
    }
    // The flaw: a negative weight divides by nothing.
    if b["grams"].as_i64().is_some_and(|g| g < 0) {
        return server_error();
    }
    Json(json!({"ok": true})).into_response()
}

/// The service on a free port of 127.0.0.1, for the life of the test's runtime.
fn serve() -> (String, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/things", get(list).post(make))
        .route("/things/{id}/weigh", post(weigh));
    rt.spawn(async move { axum::serve(listener, app).await });
    (url, rt)
}

#[test]
fn each_server_error_is_named_where_it_happened_and_the_broken_header_is_one_cause() {
    let (url, _rt) = serve();
    let schema = Arc::new(Schema::from_document(DOC).unwrap());
    for seed in [0, 1, 2] {
        let mut s = Settings::new(&url, None, "");
        s.cases = 20;
        s.seed = seed;
        s.mode = Mode::Full;
        let r = probe::run(&s, schema.clone(), &[]);
        let text = report::summary(&r, &[]);
        let causes = triage::causes(&r);

        // Both operations that answered a 500 are named, each in a cause of its own, though
        // the two answers are the same.
        let seen = r.server_errors_seen();
        assert!(
            seen.contains_key("make_thing") && seen.contains_key("weigh_thing"),
            "seed {seed}: {seen:?}\n{text}"
        );
        assert!(
            triage::causes::unnamed_server_errors(&r).is_empty(),
            "seed {seed}:\n{text}"
        );
        for (op, part) in [("make_thing", "body size"), ("weigh_thing", "body grams")] {
            let c = causes
                .iter()
                .find(|c| c.category == Category::ServerError && c.operations == [op])
                .unwrap_or_else(|| panic!("seed {seed}: no server error of {op}:\n{text}"));
            // Shrunk to the part that overflows, and every other optional part left out.
            let (_, v) = c.reproducers()[0];
            let m = v
                .shrunk
                .minimal()
                .unwrap_or_else(|| panic!("seed {seed}: {op} not shrunk:\n{text}"));
            assert_eq!(m.needed_names(), [part], "seed {seed}:\n{text}");
            assert!(m.exchange.sent.headers.is_empty(), "seed {seed}:\n{text}");
        }

        // The header is one cause, on every operation it broke, and held back after it.
        let header: Vec<_> = causes
            .iter()
            .filter(|c| c.parts.iter().any(|p| p == "header x-client-version"))
            .collect();
        assert_eq!(
            header.len(),
            1,
            "seed {seed}: the header is one cause:\n{text}"
        );
        assert!(header[0].input, "seed {seed}:\n{text}");
        assert_eq!(header[0].operations.len(), 3, "seed {seed}:\n{text}");
        let held_header = r
            .held
            .iter()
            .filter(|h| h.part.name() == "header x-client-version")
            .count();
        assert_eq!(
            held_header, 3,
            "seed {seed}: held on each operation:\n{text}"
        );
        // And what made the server errors, where each happened.
        let held: Vec<(String, String)> = r
            .held
            .iter()
            .filter(|h| h.part.name() != "header x-client-version")
            .map(|h| (h.operation.clone(), h.part.name()))
            .collect();
        assert!(
            held.iter()
                .all(|h| *h == ("make_thing".into(), "body size".into())
                    || *h == ("weigh_thing".into(), "body grams".into())),
            "seed {seed}: {held:?}\n{text}"
        );
        // Held back, it no longer masks the checks behind it: few failures, not one per request.
        assert!(header[0].failures.len() <= 6, "seed {seed}:\n{text}");
        // Nothing else is wrong with the service.
        assert_eq!(causes.len(), 3, "seed {seed}:\n{text}");
    }
}

#[test]
fn a_user_widens_what_a_check_accepts() {
    let (url, _rt) = serve();
    let schema = Arc::new(Schema::from_document(DOC).unwrap());
    let mut s = Settings::new(&url, None, "");
    s.cases = 5;
    s.mode = Mode::Full;
    // The 400 to the header, accepted as a refusal the user expects, on every operation; the
    // 500s stay (positive_data_acceptance does not judge them).
    s.expected.add_arg("positive_data_acceptance=400").unwrap();
    s.expected.add_arg("status_code_conformance=400").unwrap();
    let r = probe::run(&s, schema, &[]);
    let causes = triage::causes(&r);
    let text = report::summary(&r, &[]);
    assert!(
        causes.iter().all(|c| c.category == Category::ServerError),
        "{text}"
    );
    assert!(
        r.held.iter().all(|h| h.part.name().starts_with("body ")),
        "the header did not fail, and is not held back:\n{text}"
    );
}

/// A service that takes any body at all: every invalid request it accepts is a finding. A null
/// taken where the document forbids it is one cause however many fields and operations take it
/// (the field's name is masked in the message), and the cause lists each place.
const LAX: &str = r##"{
  "openapi": "3.0.3",
  "info": {"title": "lax", "version": "1"},
  "paths": {
    "/a": {"post": {"operationId": "makeA",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {
        "type": "object", "properties": {"alpha": {"type": "string"}, "beta": {"type": "string"}}}}}},
      "responses": {"200": {"description": "ok"}, "422": {"description": "invalid"}}}},
    "/b": {"post": {"operationId": "makeB",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {
        "type": "object", "properties": {"alpha": {"type": "string"}}}}}},
      "responses": {"200": {"description": "ok"}, "422": {"description": "invalid"}}}}
  }
}"##;

#[test]
fn a_rule_broken_alike_is_one_cause_that_lists_its_places() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let ok = || async { Json(json!({"ok": true})) };
    let app = Router::new().route("/a", post(ok)).route("/b", post(ok));
    rt.spawn(async move { axum::serve(listener, app).await });
    let schema = Arc::new(Schema::from_document(LAX).unwrap());
    let mut s = Settings::new(&url, None, "");
    s.cases = 20;
    s.mode = Mode::Full;
    let r = probe::run(&s, schema, &[]);
    let text = report::summary(&r, &[]);
    let causes = triage::causes(&r);
    let nulls: Vec<_> = causes
        .iter()
        .filter(|c| c.check == "negative_data_rejection" && c.summary.contains("null_not_nullable"))
        .collect();
    assert_eq!(nulls.len(), 1, "{text}");
    let c = nulls[0];
    assert_eq!(c.operations.len(), 2, "{text}");
    for place in ["body alpha (nullable)", "body beta (nullable)"] {
        assert!(c.parts.iter().any(|p| p == place), "{:?}\n{text}", c.parts);
    }
    assert!(c.summary.contains("places"), "{}", c.summary);
    // Masking a name leaves the words it is part of alone: `beta`'s message is not `alpha`'s
    // with a name cut out of another word.
    assert!(!c.summary.contains("<name>"), "{}", c.summary);
}

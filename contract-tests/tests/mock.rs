//! The stateful mock of any document (`serve --spec`) against the service a document came from:
//! `targets/notes_app.py`, an ordinary FastAPI CRUD service the mock was not written for, and the
//! OpenAPI document FastAPI makes of it (`targets/notes.openapi.json`). The same requests go to
//! both; the statuses, and the bodies that read a note back, must agree.

mod uvicorn;

use contract_tests::meta::Schema;
use contract_tests::mock;
use serde_json::{json, Value};
use std::sync::Arc;

const DOC: &str = include_str!("../targets/notes.openapi.json");
const KEY: &str = "reference-key";
const OTHER: &str = "reference-key-2";

/// One request of the script: method, path (`{id}` for the note created first), key, body.
type Step = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<Value>,
);

fn script() -> Vec<Step> {
    vec![
        (
            "POST",
            "/notes",
            Some(KEY),
            Some(json!({"title": "first", "tags": ["a"]})),
        ),
        ("GET", "/notes/{id}", Some(KEY), None),
        (
            "PATCH",
            "/notes/{id}",
            Some(KEY),
            Some(json!({"body": "hello"})),
        ),
        ("GET", "/notes/{id}", Some(KEY), None),
        (
            "PATCH",
            "/notes/{id}",
            Some(KEY),
            Some(json!({"priority": 5})),
        ),
        ("GET", "/notes/{id}", Some(KEY), None),
        (
            "PATCH",
            "/notes/{id}",
            Some(KEY),
            Some(json!({"body": null})),
        ),
        ("GET", "/notes/{id}", Some(KEY), None),
        (
            "PUT",
            "/notes/{id}",
            Some(KEY),
            Some(json!({"title": "second"})),
        ),
        ("GET", "/notes/{id}", Some(KEY), None),
        ("GET", "/notes", Some(KEY), None),
        // Another user's note is not there for them; nor is anything without a key.
        ("GET", "/notes/{id}", Some(OTHER), None),
        ("DELETE", "/notes/{id}", Some(OTHER), None),
        ("GET", "/notes", Some(OTHER), None),
        ("GET", "/notes", None, None),
        ("GET", "/notes/{id}", Some("reference-ke"), None),
        // Bodies and parameters the schema forbids.
        ("POST", "/notes", Some(KEY), Some(json!({"title": ""}))),
        ("POST", "/notes", Some(KEY), Some(json!({}))),
        (
            "PATCH",
            "/notes/{id}",
            Some(KEY),
            Some(json!({"priority": 9})),
        ),
        (
            "PATCH",
            "/notes/{id}",
            Some(KEY),
            Some(json!({"title": null})),
        ),
        ("GET", "/notes/not-a-number", Some(KEY), None),
        ("GET", "/notes?limit=0", Some(KEY), None),
        // A method the path does not have.
        ("POST", "/notes/{id}", Some(KEY), None),
        // Delete, then it is gone.
        ("DELETE", "/notes/{id}", Some(KEY), None),
        ("GET", "/notes/{id}", Some(KEY), None),
        ("DELETE", "/notes/{id}", Some(KEY), None),
        (
            "PATCH",
            "/notes/{id}",
            Some(KEY),
            Some(json!({"body": "x"})),
        ),
        ("GET", "/notes", Some(KEY), None),
    ]
}

/// Runs the script against `base`: each step's status, and its JSON body (none for an empty one).
fn play(base: &str) -> Vec<(u16, Option<Value>)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let mut id = String::new();
        let mut out = Vec::new();
        for (method, path, key, body) in script() {
            let url = format!("{base}{}", path.replace("{id}", &id));
            let mut rb =
                client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
            if let Some(k) = key {
                rb = rb.header("X-API-Key", k);
            }
            if let Some(b) = &body {
                rb = rb.json(b);
            }
            let r = rb.send().await.unwrap();
            let status = r.status().as_u16();
            let allow = r
                .headers()
                .get("allow")
                .map(|a| a.to_str().unwrap().to_string());
            let text = r.text().await.unwrap();
            let json: Option<Value> = serde_json::from_str(&text).ok();
            if id.is_empty() && status == 201 {
                id = json.as_ref().unwrap()["id"].to_string();
            }
            if status == 405 {
                assert!(
                    allow.is_some(),
                    "{method} {path}: a 405 names what is allowed"
                );
            }
            out.push((status, json));
        }
        out
    })
}

#[test]
fn the_mock_of_a_fastapi_document_behaves_as_the_service_does() {
    let schema = Arc::new(Schema::from_document(DOC).expect("FastAPI's document loads"));
    let srv = mock::spawn(schema, 0, mock::Options::default()).unwrap();
    let mocked = play(&srv.url);
    let statuses: Vec<u16> = mocked.iter().map(|(s, _)| *s).collect();
    // What the service's own code does, whether or not Python is here to confirm it.
    assert_eq!(
        statuses,
        [
            201, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404, 200, 401, 401, 422,
            422, 422, 422, 422, 422, 405, 204, 404, 404, 404, 200
        ],
        "{mocked:#?}"
    );
    let read = |i: usize| mocked[i].1.clone().unwrap();
    assert_eq!(
        read(3)["body"],
        "hello",
        "a PATCH is shown by the next read"
    );
    assert_eq!(read(3)["title"], "first", "what a PATCH leaves out is kept");
    assert_eq!(read(7)["body"], Value::Null, "null clears");
    assert_eq!(
        read(9)["priority"],
        3,
        "a PUT replaces: defaults where left out"
    );
    assert_eq!(read(10).as_array().unwrap().len(), 1);
    assert_eq!(read(13), json!([]), "the other user lists nothing");
    assert_eq!(read(27), json!([]), "a deleted note is not listed");

    if !uvicorn::python_has_fastapi() {
        eprintln!("notice: python3 with fastapi and uvicorn not found; the mock is not compared with the service (pip install fastapi uvicorn)");
        return;
    }
    let service = uvicorn::start("notes_app:app", &[("API_KEYS", &format!("{KEY},{OTHER}"))]);
    let real = play(&service.url);
    for (i, ((step, m), r)) in script().iter().zip(&mocked).zip(&real).enumerate() {
        assert_eq!(
            m.0, r.0,
            "step {i} {} {}: mock {:?}, service {:?}",
            step.0, step.1, m, r
        );
        // A note as read, listed, created or changed reads the same from both.
        if m.0 / 100 == 2 && !matches!(m.1, Some(Value::Object(ref o)) if o.contains_key("detail"))
        {
            assert_eq!(m.1, r.1, "step {i} {} {}", step.0, step.1);
        }
    }
}

#[test]
fn a_document_it_cannot_serve_is_not_a_panic() {
    // A resource with no create starts with one item to read and change.
    let doc = r##"{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{
      "/things/{thing_id}":{"parameters":[{"name":"thing_id","in":"path","required":true,"schema":{"type":"string"}}],
        "get":{"operationId":"get_thing","responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Thing"}}}},"404":{"description":"no"}}},
        "patch":{"operationId":"patch_thing","requestBody":{"content":{"application/json":{"schema":{"type":"object","properties":{"size":{"type":"integer","minimum":1}}}}}},"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Thing"}}}},"422":{"description":"bad"}}}}},
      "components":{"schemas":{"Thing":{"type":"object","required":["thing_id","size"],"properties":{"thing_id":{"type":"string"},"size":{"type":"integer"}}}}}}"##;
    let schema = Arc::new(Schema::from_document(doc).unwrap());
    let srv = mock::spawn(schema, 0, mock::Options::default()).unwrap();
    assert_eq!(srv.seeded(), [("/things/1".to_string(), "1".to_string())]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let r = c
            .patch(format!("{}/things/1", srv.url))
            .json(&json!({"size": 7}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let got: Value = c
            .get(format!("{}/things/1", srv.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got["size"], 7);
        assert_eq!(got["thing_id"], "1");
        let r = c
            .patch(format!("{}/things/1", srv.url))
            .json(&json!({"size": 0}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let r = c.get(format!("{}/things/2", srv.url)).send().await.unwrap();
        assert_eq!(r.status(), 404);
        let r = c.get(format!("{}/nowhere", srv.url)).send().await.unwrap();
        assert_eq!(r.status(), 404);
    });
}

#[test]
fn a_crud_document_has_the_faults_of_a_lifecycle() {
    let schema = Schema::from_document(DOC).unwrap();
    let names: Vec<String> = contract_tests::faults::of_document(&schema)
        .iter()
        .map(contract_tests::faults::Generated::name)
        .collect();
    for want in [
        "create-not-stored:create_note",
        "delete-kept:delete_note",
        "list-shows-deleted:list_notes",
        "stale-answer:update_note",
        "other-user-served:read_note",
        "other-user-served:delete_note",
        "value-ignored:update_note:body",
        "null-ignored:update_note:body",
        "absent-cleared:update_note:title",
        "bound-above:create_note:priority",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:#?}");
    }
}

/// The mutation score of a document through its mock: a finding the clean mock already gives
/// (FastAPI documents no 404) kills nothing; one only the mutant gives does.
#[test]
fn the_score_of_a_document_counts_only_what_the_fault_adds() {
    let schema = Arc::new(Schema::from_document(DOC).unwrap());
    let score = score_of(
        "notes",
        schema,
        1,
        10,
        &[
            "wrong-content-type:create_note",
            "bound-above:create_note:priority",
        ],
    );
    assert_eq!(score.outcomes.len(), 2, "{}", score.text());
    assert_eq!(score.killed(), 2, "{}", score.text());
    let clean = &score.baseline[0].1;
    assert!(
        !clean.is_empty(),
        "the clean mock's own findings are listed"
    );
    for o in &score.outcomes {
        assert!(o.checks.iter().all(|c| !c.is_empty()));
    }
    assert_eq!(score.json()["total"], 2);
}

/// Accounts created at `/signups` and read at `/accounts/{ref}`: only the document's links say
/// that the first makes what the second reads, and that `number`, not `id`, is what `ref` takes.
const LINKED: &str = r##"{"openapi":"3.0.3","info":{"title":"accounts","version":"1"},"paths":{
  "/signups":{"post":{"operationId":"sign_up","requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/AccountIn"}}}},
    "responses":{"201":{"description":"made","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Account"}}},
      "links":{"read":{"operationId":"read_account","parameters":{"ref":"$response.body#/number"}},
               "close":{"operationId":"close_account","parameters":{"ref":"$response.body#/number"}}}},
      "422":{"description":"invalid"}}}},
  "/accounts/{ref}":{"parameters":[{"name":"ref","in":"path","required":true,"schema":{"type":"string"}}],
    "get":{"operationId":"read_account","responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Account"}}}},"404":{"description":"none"}}},
    "delete":{"operationId":"close_account","responses":{"204":{"description":"gone"},"404":{"description":"none"}}}}},
  "components":{"schemas":{
    "AccountIn":{"type":"object","required":["owner"],"properties":{"owner":{"type":"string","minLength":1,"maxLength":20}}},
    "Account":{"type":"object","required":["id","number","owner"],"properties":{"id":{"type":"integer"},"number":{"type":"string"},"owner":{"type":"string"}}}}}}"##;

/// The lifecycle of a resource that only the links make one runs, and kills its faults.
#[test]
fn links_make_a_lifecycle_that_paths_alone_do_not() {
    let schema = Arc::new(Schema::from_document(LINKED).unwrap());
    let names: Vec<String> = contract_tests::faults::of_document(&schema)
        .iter()
        .map(contract_tests::faults::Generated::name)
        .collect();
    for want in ["create-not-stored:sign_up", "delete-kept:close_account"] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:#?}");
    }
    let score = score_of(
        "accounts",
        schema,
        2,
        5,
        &["create-not-stored:sign_up", "delete-kept:close_account"],
    );
    assert_eq!(score.outcomes.len(), 2, "{}", score.text());
    assert_eq!(score.killed(), 2, "{}", score.text());
    // The clean mock, the same document's service, gives no finding of the lifecycle.
    for (_, clean) in &score.baseline {
        assert!(
            !clean.iter().any(|c| c.contains("ensure_resource_availability")
                || c.contains("use_after_free")),
            "{clean:?}"
        );
    }
}

/// Comments live under a note: `/notes/{note_id}/comments/{comment_id}`.
const NESTED: &str = r##"{"openapi":"3.0.3","info":{"title":"notes","version":"1"},"paths":{
  "/notes":{"post":{"operationId":"create_note","requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/NoteIn"}}}},
    "responses":{"201":{"description":"made","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Note"}}}},"422":{"description":"invalid"}}}},
  "/notes/{note_id}":{"parameters":[{"name":"note_id","in":"path","required":true,"schema":{"type":"integer"}}],
    "get":{"operationId":"read_note","responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Note"}}}},"404":{"description":"none"}}},
    "delete":{"operationId":"delete_note","responses":{"204":{"description":"gone"},"404":{"description":"none"}}}},
  "/notes/{note_id}/comments":{"parameters":[{"name":"note_id","in":"path","required":true,"schema":{"type":"integer"}}],
    "post":{"operationId":"create_comment","requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/CommentIn"}}}},
      "responses":{"201":{"description":"made","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Comment"}}}},"404":{"description":"none"},"422":{"description":"invalid"}}},
    "get":{"operationId":"list_comments","responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"type":"array","items":{"$ref":"#/components/schemas/Comment"}}}}},"404":{"description":"none"}}}},
  "/notes/{note_id}/comments/{comment_id}":{"parameters":[{"name":"note_id","in":"path","required":true,"schema":{"type":"integer"}},{"name":"comment_id","in":"path","required":true,"schema":{"type":"integer"}}],
    "get":{"operationId":"read_comment","responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Comment"}}}},"404":{"description":"none"}}},
    "patch":{"operationId":"update_comment","requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/CommentPatch"}}}},
      "responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Comment"}}}},"404":{"description":"none"},"422":{"description":"invalid"}}},
    "delete":{"operationId":"delete_comment","responses":{"204":{"description":"gone"},"404":{"description":"none"}}}}},
  "components":{"schemas":{
    "NoteIn":{"type":"object","required":["title"],"properties":{"title":{"type":"string","minLength":1,"maxLength":40}}},
    "Note":{"type":"object","required":["id","title"],"properties":{"id":{"type":"integer"},"title":{"type":"string"}}},
    "CommentIn":{"type":"object","required":["text"],"properties":{"text":{"type":"string","minLength":1,"maxLength":40},"stars":{"type":"integer","minimum":0,"maximum":5}}},
    "CommentPatch":{"type":"object","properties":{"text":{"type":"string","minLength":1,"maxLength":40},"stars":{"type":"integer","minimum":0,"maximum":5}}},
    "Comment":{"type":"object","required":["id","text"],"properties":{"id":{"type":"integer"},"text":{"type":"string"},"stars":{"type":"integer"}}}}}}"##;

/// A nested collection's items are made under an item made of its parent, taken through their
/// lifecycle and updated as spec/'s CVM is: its faults are killed, and nothing is skipped for
/// want of the parent's id.
#[test]
fn a_nested_collection_gets_its_lifecycle_under_an_item_of_its_parent() {
    let schema = Arc::new(Schema::from_document(NESTED).unwrap());
    let srv = mock::spawn(schema.clone(), 0, mock::Options::default()).unwrap();
    let mut s = contract_tests::Settings::new(&srv.url, None, "");
    s.cases = 5;
    s.seed = 3;
    s.readback_timeout = std::time::Duration::from_millis(300);
    let report = contract_tests::probe::run(&s, schema.clone(), &[]);
    assert!(
        !report.skipped.iter().any(|x| x.contains("nested")),
        "{:?}",
        report.skipped
    );
    assert!(report.violations.is_empty(), "{:#?}", report.violations);
    // The comment's lifecycle ran, and so did the item phases of spec/'s suite on it.
    let judged = |check: &str, on: &str| {
        report
            .judged
            .get(check)
            .is_some_and(|fields| fields.keys().any(|f| f.starts_with(on)))
    };
    assert!(
        judged("use_after_free", "/notes/{note_id}/comments"),
        "{:?}",
        report.judged.keys()
    );
    assert!(
        judged("patch_semantics", "/notes/{note_id}/comments/{comment_id}"),
        "{:?}",
        report.judged.get("patch_semantics")
    );
    let score = score_of(
        "nested",
        schema,
        2,
        5,
        &[
            "create-not-stored:create_comment",
            "delete-kept:delete_comment",
            "value-ignored:update_comment:stars",
        ],
    );
    assert_eq!(score.outcomes.len(), 3, "{}", score.text());
    assert_eq!(score.killed(), 3, "{}", score.text());
}

/// The mutation score of `only` (fault names) on the mock of `schema`.
fn score_of(
    label: &str,
    schema: Arc<Schema>,
    seeds: u64,
    cases: u32,
    only: &[&str],
) -> contract_tests::mutants::Score {
    contract_tests::mutants::run(&contract_tests::mutants::Options {
        subject: contract_tests::mutants::Subject::Document {
            label: label.into(),
            schema,
        },
        seeds,
        cases,
        jobs: 2,
        only: only.iter().map(|s| s.to_string()).collect(),
    })
}

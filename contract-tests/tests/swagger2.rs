//! A Swagger 2.0 document all the way through the suite: the stateful mock serves it, the suite
//! probes it with HTTP basic credentials for two users and a header of its own, and finds nothing
//! wrong with a correct mock, a planted fault where there is one, and no credential in any output.

use contract_tests::meta::Schema;
use contract_tests::{faults, http, mock, probe, report, Mode, Settings};
use std::sync::Arc;

const DOC: &str = r##"{
  "swagger": "2.0",
  "info": {"title": "notes", "version": "1"},
  "basePath": "/",
  "consumes": ["application/json"],
  "produces": ["application/json"],
  "securityDefinitions": {"basic": {"type": "basic"}},
  "security": [{"basic": []}],
  "paths": {
    "/notes": {
      "get": {"operationId": "listNotes",
        "parameters": [
          {"name": "limit", "in": "query", "type": "integer", "minimum": 1, "maximum": 100},
          {"name": "offset", "in": "query", "type": "integer", "minimum": 0}],
        "responses": {
          "200": {"description": "the notes", "schema": {"type": "array", "items": {"$ref": "#/definitions/Note"}}},
          "401": {"$ref": "#/responses/Unauthorized"}}},
      "post": {"operationId": "createNote",
        "parameters": [{"name": "note", "in": "body", "required": true, "schema": {"$ref": "#/definitions/NoteIn"}}],
        "responses": {
          "201": {"description": "created", "schema": {"$ref": "#/definitions/Note"}},
          "401": {"$ref": "#/responses/Unauthorized"},
          "422": {"description": "invalid"}}}
    },
    "/notes/{note_id}": {
      "parameters": [{"$ref": "#/parameters/NoteId"}],
      "get": {"operationId": "getNote",
        "parameters": [{"name": "If-None-Match", "in": "header", "type": "string"}],
        "responses": {
          "200": {"description": "the note", "schema": {"$ref": "#/definitions/Note"},
                  "headers": {"ETag": {"type": "string"}}},
          "304": {"description": "not modified since the ETag given"},
          "401": {"$ref": "#/responses/Unauthorized"},
          "404": {"description": "no such note"}}},
      "put": {"operationId": "replaceNote",
        "parameters": [{"name": "note", "in": "body", "required": true, "schema": {"$ref": "#/definitions/NoteIn"}},
                       {"name": "If-Match", "in": "header", "type": "string"}],
        "responses": {
          "200": {"description": "replaced", "schema": {"$ref": "#/definitions/Note"}},
          "401": {"$ref": "#/responses/Unauthorized"},
          "404": {"description": "no such note"},
          "412": {"description": "the If-Match names another version"},
          "422": {"description": "invalid"}}},
      "delete": {"operationId": "deleteNote",
        "responses": {
          "204": {"description": "deleted"},
          "401": {"$ref": "#/responses/Unauthorized"},
          "404": {"description": "no such note"}}}
    }
  },
  "parameters": {
    "NoteId": {"name": "note_id", "in": "path", "required": true, "type": "string"}
  },
  "responses": {
    "Unauthorized": {"description": "no credential, or a wrong one"}
  },
  "definitions": {
    "NoteIn": {"type": "object", "required": ["title"], "properties": {
      "title": {"type": "string", "minLength": 1, "maxLength": 40},
      "body": {"type": "string", "x-nullable": true},
      "priority": {"type": "integer", "minimum": 0, "maximum": 5}}},
    "Note": {"type": "object", "required": ["id", "title"], "properties": {
      "id": {"type": "string"},
      "title": {"type": "string"},
      "body": {"type": "string", "x-nullable": true},
      "priority": {"type": "integer"}}}
  }
}"##;

const ALICE: &str = "alice:pw-alice-7731";
const BOB: &str = "bob:pw-bob-1942";
const TRACE: &str = "trace-token-5518";

fn settings(url: &str, seed: u64) -> Settings {
    let mut s = Settings::new(url, None, "");
    s.cases = 10;
    s.seed = seed;
    s.mode = Mode::Full;
    s.basic = Some(http::Secret::new(ALICE));
    s.other_basic = Some(http::Secret::new(BOB));
    s.headers = vec![("X-Trace".into(), http::Secret::new(TRACE))];
    s
}

fn options(faults: Vec<faults::Generated>) -> mock::Options {
    mock::Options {
        api_keys: vec![ALICE.into(), BOB.into()],
        faults,
    }
}

#[test]
fn a_correct_mock_of_a_2_0_document_passes_statefully_and_no_credential_is_shown() {
    let schema = Arc::new(Schema::from_document(DOC).unwrap());
    for seed in [0, 1, 2] {
        let srv = mock::spawn(schema.clone(), 0, options(Vec::new())).unwrap();
        let s = settings(&srv.url, seed);
        let r = probe::run(&s, schema.clone(), &[]);
        let secrets = s.secrets();
        let text = report::summary(&r, &secrets.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(r.could_not_run.is_none(), "{text}");
        assert!(
            r.violations.is_empty(),
            "seed {seed}: a false positive:\n{text}"
        );
        for check in [
            "ensure_resource_availability",
            "use_after_free",
            "object_level_authorization",
            "ignored_auth",
            "conditional_requests",
        ] {
            assert!(
                r.per_check.get(check).copied().unwrap_or(0) > 0,
                "seed {seed}: {check} judged nothing:\n{text}"
            );
        }
    }
}

#[test]
fn a_planted_fault_is_caught_and_the_reports_hide_every_credential() {
    let schema = Arc::new(Schema::from_document(DOC).unwrap());
    let all = faults::of_document(&schema);
    let fault = all
        .iter()
        .find(|f| f.kind == faults::Kind::BoundAbove && f.op == "create_note")
        .cloned()
        .expect("a bound to break on create_note");
    let srv = mock::spawn(schema.clone(), 0, options(vec![fault.clone()])).unwrap();
    let s = settings(&srv.url, 0);
    let r = probe::run(&s, schema, &[]);
    let secrets = s.secrets();
    let hidden: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let text = report::summary(&r, &hidden);
    assert!(
        r.failed("negative_data_rejection"),
        "{} not caught:\n{text}",
        fault.name()
    );
    // What a report could leak: the pairs, their passwords, the basic header's encoding, and
    // the header's value.
    let dir = std::env::temp_dir().join(format!("swagger2-outputs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut outputs = vec![("summary".to_string(), text.clone())];
    for fmt in ["json", "junit", "html"] {
        let path = dir.join(format!("report.{fmt}"));
        report::write(fmt, &path, &r, &hidden).unwrap();
        outputs.push((fmt.into(), std::fs::read_to_string(&path).unwrap()));
    }
    outputs.push(("debug".into(), format!("{s:?}")));
    let leaks = [
        ALICE.to_string(),
        BOB.to_string(),
        "pw-alice-7731".into(),
        "pw-bob-1942".into(),
        openapi_runtime::base64(ALICE.as_bytes()),
        openapi_runtime::base64(BOB.as_bytes()),
        TRACE.into(),
    ];
    for (name, out) in &outputs {
        for leak in &leaks {
            assert!(!out.contains(leak.as_str()), "{name} shows {leak}");
        }
    }
    // The reproducer says where the credentials come from instead.
    assert!(
        text.contains("$CONTRACT_AUTH") && text.contains("X-Trace"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Each fault of conditional requests the document's headers imply, an id lookup that a near
/// miss fools, and a near miss refused but done to the real item, is caught by the check that
/// names it, under 3 seeds.
#[test]
fn a_lost_update_a_fixed_etag_an_ignored_if_none_match_and_a_near_miss_id_are_caught() {
    let schema = Arc::new(Schema::from_document(DOC).unwrap());
    let planted: Vec<faults::Generated> = faults::of_document(&schema)
        .into_iter()
        .filter(|f| {
            matches!(
                f.kind,
                faults::Kind::StaleIfMatchAccepted
                    | faults::Kind::EtagUnchanged
                    | faults::Kind::IfNoneMatchIgnored
                    | faults::Kind::NearMissIdServed
                    | faults::Kind::NearMissApplied
            )
        })
        .collect();
    let names: Vec<String> = planted.iter().map(faults::Generated::name).collect();
    assert_eq!(
        names,
        [
            "etag-unchanged:replace_note",
            "if-none-match-ignored:get_note",
            "near-miss-id-applied:delete_note",
            "near-miss-id-applied:replace_note",
            "near-miss-id-served:delete_note",
            "near-miss-id-served:get_note",
            "near-miss-id-served:replace_note",
            "stale-if-match-accepted:replace_note"
        ]
    );
    for fault in planted {
        for seed in [0, 1, 2] {
            let srv = mock::spawn(schema.clone(), 0, options(vec![fault.clone()])).unwrap();
            let r = probe::run(&settings(&srv.url, seed), schema.clone(), &[]);
            let text = report::summary(&r, &[]);
            assert!(srv.fired() > 0, "{} never fired", fault.name());
            let check = match fault.kind {
                faults::Kind::NearMissIdServed => "unknown_id_not_found",
                faults::Kind::NearMissApplied => "rejection_changes_nothing",
                _ => "conditional_requests",
            };
            assert!(
                r.violations.iter().any(|v| v.check.name == check),
                "seed {seed}: {} not caught:\n{text}",
                fault.name()
            );
        }
    }
}

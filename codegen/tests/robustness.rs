//! The generator never panics, locates what it rejects, and is deterministic.

use openapi_rs_codegen::{generate, load_api, Options};
use proptest::prelude::*;
use serde_json::{json, Value};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        // Number literals beyond 64 bits, as published documents write them.
        prop_oneof![
            Just(-9_223_372_036_854_776_000.0_f64),
            Just(18_446_744_073_709_551_616.0_f64),
            Just(1e300_f64),
            Just(-1e30_f64),
        ]
        .prop_map(Value::from),
        prop_oneof![
            Just("string".to_string()),
            Just("object".to_string()),
            Just("null".to_string()),
            Just("#/components/schemas/Pet".to_string()),
            Just("#/components/schemas/Nope".to_string()),
            // Rust keywords, as schema, property, enum and operation names.
            Just("Self".to_string()),
            Just("ref".to_string()),
            Just("self".to_string()),
            Just("crate".to_string()),
            Just("type".to_string()),
            "[a-zA-Z_{}/#~-]{0,12}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        let keys = prop_oneof![
            Just("type".to_string()),
            Just("$ref".to_string()),
            Just("anyOf".to_string()),
            Just("oneOf".to_string()),
            Just("allOf".to_string()),
            Just("properties".to_string()),
            Just("items".to_string()),
            Just("enum".to_string()),
            Just("const".to_string()),
            Just("nullable".to_string()),
            Just("required".to_string()),
            Just("additionalProperties".to_string()),
            Just("minimum".to_string()),
            Just("exclusiveMinimum".to_string()),
            Just("maximum".to_string()),
            Just("Self".to_string()),
            Just("ref".to_string()),
            "[a-z]{1,6}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces (or deletes) the node reached by following `path` (indices taken modulo each node's
/// width); a path that ends early replaces the node it reached.
fn mutate(doc: &mut Value, path: &[usize], replacement: Value, delete: bool) {
    let Some((step, rest)) = path.split_first() else {
        *doc = replacement;
        return;
    };
    match doc {
        Value::Object(map) if !map.is_empty() => {
            let key = map.keys().nth(step % map.len()).unwrap().clone();
            if rest.is_empty() && delete {
                map.remove(&key);
            } else {
                mutate(map.get_mut(&key).unwrap(), rest, replacement, delete);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = step % items.len();
            if rest.is_empty() && delete {
                items.remove(i);
            } else {
                mutate(&mut items[i], rest, replacement, delete);
            }
        }
        other => *other = replacement,
    }
}

fn check_no_panic(doc: &Value) -> Result<(), TestCaseError> {
    let text = serde_json::to_string(doc).unwrap();
    match generate(&text, &Options::default()) {
        Ok(out) => {
            // Whatever it emits must be Rust that parses.
            for (path, contents) in &out.files {
                if path.ends_with(".rs") && path != "src/runtime.rs" {
                    prop_assert!(syn::parse_file(contents).is_ok(), "{path} does not parse");
                }
            }
        }
        Err(e) => {
            prop_assert!(e.pointer.is_empty() || e.pointer.starts_with('/'), "{e}");
            prop_assert!(!e.message.is_empty());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_documents_never_panic(
        base in prop_oneof![Just("constructs.yaml"), Just("legacy30.yaml")],
        edits in prop::collection::vec((prop::collection::vec(any::<usize>(), 1..8), arb_json(), any::<bool>()), 1..5),
    ) {
        let mut doc = fixture(base);
        for (path, replacement, delete) in edits {
            mutate(&mut doc, &path, replacement, delete);
        }
        check_no_panic(&doc)?;
    }

    #[test]
    fn random_documents_never_panic(schemas in prop::collection::btree_map("[A-Za-z_]{1,8}", arb_json(), 0..6)) {
        let doc = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {"/x/{id}": {"post": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}},
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": schemas.values().next().cloned().unwrap_or(json!({}))}}}}
            }}},
            "components": {"schemas": schemas.into_iter().chain([("Pet".to_string(), json!({"type": "object"}))]).collect::<serde_json::Map<_, _>>()}
        });
        check_no_panic(&doc)?;
    }
}

#[test]
fn errors_name_the_node() {
    let cases = [
        (json!({"openapi": "2.0"}), "/openapi"),
        (json!({"swagger": "3.0"}), "/swagger"),
        // Swagger 2.0: the node of the document as written, not of its 3.0 form.
        (
            json!({"swagger": "2.0", "info": {"title": 7, "version": "1"}, "paths": {}}),
            "/info/title",
        ),
        (
            json!({"swagger": "2.0", "info": {"title": "t", "version": "1"}, "consumes": ["application/json"],
                   "paths": {"/a": {"post": {"parameters": [{"name": "b", "in": "body", "schema": {"$ref": "#/definitions/Nope"}}],
                                             "responses": {"200": {"description": "ok"}}}}}}),
            "/paths/~1a/post/parameters/0/schema",
        ),
        (
            json!({"swagger": "2.0", "info": {"title": "t", "version": "1"},
                   "paths": {"/a": {"get": {"responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Nope"}}}}}}}),
            "/paths/~1a/get/responses/200/schema",
        ),
        (
            json!({"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {},
                   "definitions": {"A": {"type": "object", "properties": {"b": {"$ref": "#/definitions/Nope"}}}}}),
            "/definitions/A/properties/b",
        ),
        (
            json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
                   "components": {"schemas": {"A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}}}}}),
            "/components/schemas/A/properties/b",
        ),
        (
            json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
                   "paths": {"/a": {"get": {"parameters": [{"$ref": "#/components/parameters/P"}], "responses": {}}}}}),
            "/paths/~1a/get/parameters/0",
        ),
        (
            json!({"openapi": "3.0.3", "info": {"title": 7, "version": "1"}, "paths": {}}),
            "/info/title",
        ),
    ];
    for (doc, pointer) in cases {
        let err = load_api(&doc.to_string()).unwrap_err();
        assert_eq!(err.pointer, pointer, "{err}");
    }
}

#[test]
fn warnings_on_a_swagger_2_document_name_its_own_nodes() {
    let doc = json!({"swagger": "2.0", "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": {
            "parameters": [{"name": "ids", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "tsv"}],
            "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/A"}}}}}},
        "definitions": {"A": {"type": "object", "properties": {
            "b": {"type": "array", "items": {"type": "string"}, "prefixItems": [{"type": "string"}]},
            "c": {"not": {"type": "string"}}}}}});
    let out = generate(&doc.to_string(), &Options::default()).unwrap();
    let pointers: Vec<&str> = out.diagnostics.iter().map(|d| d.pointer.as_str()).collect();
    assert!(
        pointers.contains(&"/paths/~1a/get/parameters/0/collectionFormat"),
        "{pointers:?}"
    );
    assert!(!pointers.is_empty());
    for p in &pointers {
        assert!(
            !p.starts_with("/components") && !p.contains("requestBody") && !p.contains("/content/"),
            "a pointer into the converted document: {p} in {pointers:?}"
        );
    }
    assert!(
        pointers
            .iter()
            .any(|p| p.starts_with("/definitions/A/properties/")),
        "{pointers:?}"
    );
}

#[test]
fn output_is_byte_identical_and_names_do_not_depend_on_order() {
    let doc = fixture("constructs.yaml");
    let text = serde_json::to_string(&doc).unwrap();
    let a = generate(&text, &Options::default()).unwrap();
    let b = generate(&text, &Options::default()).unwrap();
    assert_eq!(a.files, b.files);

    // The same schemas in reverse order get the same names.
    let mut reversed = doc.clone();
    let schemas = reversed["components"]["schemas"].as_object_mut().unwrap();
    let entries: Vec<(String, Value)> = std::mem::take(schemas).into_iter().rev().collect();
    schemas.extend(entries);
    let (api_a, _) = load_api(&text).unwrap();
    let (api_b, _) = load_api(&reversed.to_string()).unwrap();
    assert_eq!(
        api_a.types.keys().collect::<Vec<_>>(),
        api_b.types.keys().collect::<Vec<_>>()
    );
}

#[test]
fn degraded_constructs_are_listed_once_with_their_pointer() {
    let (_, diags) = load_api(&fixture("constructs.yaml").to_string()).unwrap();
    let pointers: Vec<&str> = diags.iter().map(|d| d.pointer.as_str()).collect();
    // The multipart upload and `prefixItems` are generated now; only `contains` is degraded.
    assert_eq!(
        pointers,
        ["/components/schemas/Pet/properties/watch/contains"]
    );
    assert!(
        diags[0].message.contains("not supported"),
        "{}",
        diags[0].message
    );
}

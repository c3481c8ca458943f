//! Documents that are legal OpenAPI and used to be refused or silently mistyped.

use openapi_rs_codegen::{generate, Options};

fn gen(doc: &str) -> openapi_rs_codegen::Output {
    generate(doc, &Options::default()).unwrap_or_else(|e| panic!("refused: {e}"))
}

fn warnings(out: &openapi_rs_codegen::Output) -> Vec<String> {
    out.diagnostics.iter().map(|d| d.to_string()).collect()
}

#[test]
fn an_operation_without_responses_loads() {
    let out = gen(r#"{"openapi":"3.1.0","info":{"title":"t","version":"1"},
        "paths":{"/a":{"get":{"operationId":"ping"}}}}"#);
    assert!(out.files["src/client.rs"].contains("pub async fn ping"));
}

#[test]
fn a_mutual_tls_scheme_loads_with_a_warning() {
    let out = gen(r#"{"openapi":"3.1.0","info":{"title":"t","version":"1"},
        "paths":{"/a":{"get":{"operationId":"ping","security":[{"mtls":[]}],"responses":{"204":{"description":"ok"}}}}},
        "components":{"securitySchemes":{"mtls":{"type":"mutualTLS"}}}}"#);
    let w = warnings(&out);
    assert!(
        w.iter()
            .any(|w| w.contains("/components/securitySchemes/mtls") && w.contains("mutualTLS")),
        "{w:?}"
    );
}

#[test]
fn a_ref_into_paths_is_followed() {
    let out = gen(r##"{"openapi":"3.1.0","info":{"title":"t","version":"1"},
        "paths":{
          "/anything":{"post":{"operationId":"make","requestBody":{"content":{"application/json":{"schema":
              {"type":"object","required":["n"],"properties":{"n":{"type":"integer"}}}}}},
              "responses":{"204":{"description":"ok"}}}},
          "/other":{"put":{"operationId":"again","requestBody":{"content":{"application/json":{"schema":
              {"$ref":"#/paths/~1anything/post/requestBody/content/application~1json/schema"}}}},
              "responses":{"204":{"description":"ok"}}}}}}"##);
    let client = &out.files["src/client.rs"];
    assert!(client.contains("pub async fn again"), "{client}");
    let types = &out.files["src/types.rs"];
    assert!(types.contains("pub struct AgainBody"), "{types}");
    assert!(types.contains("pub n: i64"), "{types}");
}

#[test]
fn number_literals_of_any_size_load() {
    let out = gen(r#"{"openapi":"3.1.0","info":{"title":"t","version":"1"},
        "paths":{"/a":{"post":{"operationId":"put","requestBody":{"content":{"application/json":{"schema":
          {"type":"object","properties":{
            "low":{"type":"integer","minimum":-9223372036854776000},
            "high":{"type":"integer","maximum":18446744073709551616},
            "impossible":{"type":"integer","minimum":1e30},
            "huge_float":{"type":"number","maximum":1e300},
            "big_default":{"type":"integer","default":9007199254740993}
          }}}}},"responses":{"204":{"description":"ok"}}}}}}"#);
    let w = warnings(&out);
    // Bounds no i64 can break are dropped silently; one no i64 can meet is named.
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("/properties/impossible/minimum"), "{w:?}");
    assert!(
        out.files["src/types.rs"].contains("1e300"),
        "{}",
        out.files["src/types.rs"]
    );
}

#[test]
fn a_repeated_operation_id_is_a_warning_with_the_pointer() {
    let out = gen(r#"{"openapi":"3.1.0","info":{"title":"t","version":"1"},
        "paths":{"/a":{"get":{"operationId":"same","responses":{"204":{"description":"ok"}}}},
                 "/b":{"get":{"operationId":"same","responses":{"204":{"description":"ok"}}}}}}"#);
    let w = warnings(&out);
    assert!(
        w.iter()
            .any(|w| w.contains("/paths/~1a/get/operationId") && w.contains("`same`")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|w| w.contains("/paths/~1b/get/operationId") && w.contains("`same2`")),
        "{w:?}"
    );
}

#[test]
fn an_all_of_of_strings_is_the_string_enum_it_means() {
    let out = gen(r##"{"openapi":"3.1.0","info":{"title":"t","version":"1"},
        "paths":{"/a":{"put":{"operationId":"put","requestBody":{"content":{"application/json":{"schema":
          {"type":"array","items":{"type":"string","enum":["a","b"],"allOf":[{"$ref":"#/components/schemas/Kind"}]}}}}},
          "responses":{"204":{"description":"ok"}}}}},
        "components":{"schemas":{"Kind":{"type":"string","enum":["a","b","c"]}}}}"##);
    assert!(out.diagnostics.is_empty(), "{:?}", warnings(&out));
    let types = &out.files["src/types.rs"];
    assert!(types.contains("pub enum PutBodyItem"), "{types}");
    assert!(!types.contains("pub struct PutBodyItem"), "{types}");
}

#[test]
fn non_json_bodies_and_cookies_are_sent_not_skipped() {
    let out = gen(r#"{"openapi":"3.1.0","info":{"title":"t","version":"1"},
        "paths":{
          "/img":{"put":{"operationId":"put_image",
            "parameters":[{"name":"sid","in":"cookie","schema":{"type":"string"}}],
            "requestBody":{"content":{"image/png":{"schema":{"type":"string","format":"binary"}}}},
            "responses":{"204":{"description":"ok"}}}},
          "/form":{"post":{"operationId":"upload",
            "requestBody":{"content":{"multipart/form-data":{"schema":{"type":"object",
              "properties":{"file":{"type":"string","contentMediaType":"application/pdf"},"note":{"type":"string"}}}}}},
            "responses":{"204":{"description":"ok"}}}}}}"#);
    assert!(out.diagnostics.is_empty(), "{:?}", warnings(&out));
    let client = &out.files["src/client.rs"];
    assert!(
        client.contains(r#"req.raw("image/png", body.to_vec());"#),
        "{client}"
    );
    assert!(
        client.contains(r#"req.cookie("sid", &params.sid)?;"#),
        "{client}"
    );
    assert!(client.contains("form.file(\"file\", file);"), "{client}");
    assert!(client.contains("form.text(\"note\""), "{client}");
    assert!(out.files["src/types.rs"].contains("super::runtime::FilePart"));
}

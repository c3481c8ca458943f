//! The document's own examples: found everywhere, judged by the document's schema, and paired with
//! the type of their place. (The round-trips themselves run in the snapshot crate's
//! `tests/examples.rs`: `cargo test -p snapshot-examples --features serialize --test examples`.)

use openapi_rs_codegen::{generate, ExampleStatus, Options};
use std::collections::BTreeMap;

fn fates() -> BTreeMap<String, ExampleStatus> {
    let text = std::fs::read_to_string("tests/fixtures/examples.yaml").unwrap();
    let opts = Options {
        examples: true,
        ..Options::default()
    };
    let out = generate(&text, &opts).unwrap();
    out.examples
        .into_iter()
        .map(|e| (e.pointer, e.status))
        .collect()
}

#[test]
fn every_place_of_an_example_is_found_once() {
    let fates = fates();
    let expected = [
        "/paths/~1things~1{id}/parameters/0/example",
        "/paths/~1things~1{id}/get/parameters/0/examples/plain",
        "/paths/~1things~1{id}/get/parameters/0/examples/shared",
        "/paths/~1things~1{id}/get/parameters/0/examples/far",
        "/paths/~1things~1{id}/get/responses/200/headers/X-Rate-Remaining/example",
        "/paths/~1things~1{id}/get/responses/200/content/application~1json/examples/full",
        "/paths/~1things~1{id}/get/responses/200/content/application~1json/examples/wrong_kind",
        "/paths/~1things~1{id}/get/responses/200/content/text~1plain/example",
        "/paths/~1things~1{id}/put/requestBody/content/application~1json/example",
        "/components/examples/Unused",
        "/components/schemas/Kind/examples/0",
        "/components/schemas/Kind/examples/1",
        "/components/schemas/Thing/example",
        "/components/schemas/Thing/properties/id/example",
        "/components/schemas/Thing/properties/weight/example",
        "/components/schemas/Thing/properties/ledger/example",
        "/components/schemas/Thing/properties/mass/example",
        "/components/schemas/Thing/properties/note/anyOf/0/examples/0",
        "/paths/~1messages/post/requestBody/content/application~1x-www-form-urlencoded/example",
        "/paths/~1messages/post/responses/201/content/application~1json/schema/allOf/1/example",
        "/paths/~1messages/post/responses/201/content/application~1json/schema/allOf/1/properties/sid/example",
        "/paths/~1messages/post/responses/201/content/application~1json/schema/allOf/1/properties/hops/items/example",
        "/components/schemas/Stamp/example",
    ];
    let found: Vec<&str> = fates.keys().map(String::as_str).collect();
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(found, want);
}

#[test]
fn each_example_meets_its_fate() {
    let fates = fates();
    let status = |p: &str| fates[p].clone();
    let na = |p: &str| match status(p) {
        ExampleStatus::NotAttempted(why) => why,
        other => panic!("{p}: {other:?}"),
    };
    assert!(na("/paths/~1things~1{id}/get/parameters/0/examples/far").contains("externalValue"));
    assert!(
        na("/paths/~1things~1{id}/get/responses/200/content/text~1plain/example")
            .contains("`text/plain` is not JSON")
    );
    assert!(na("/components/examples/Unused").contains("references"));
    match status(
        "/paths/~1things~1{id}/get/responses/200/content/application~1json/examples/wrong_kind",
    ) {
        ExampleStatus::Invalid(why) => {
            assert_eq!(why, "at /kind: \"huge\" is not one of the enum's values")
        }
        other => panic!("{other:?}"),
    }
    // The `$ref`ed example and the branch of a lowered `anyOf` are tried like any other.
    for p in [
        "/paths/~1things~1{id}/get/parameters/0/examples/shared",
        "/components/schemas/Thing/properties/note/anyOf/0/examples/0",
        "/paths/~1things~1{id}/get/responses/200/headers/X-Rate-Remaining/example",
        // Beyond i64 and u64 in the YAML: loaded, and round-tripped through i64 and f64.
        "/components/schemas/Thing/properties/ledger/example",
        "/components/schemas/Thing/properties/mass/example",
    ] {
        assert_eq!(status(p), ExampleStatus::Attempted, "{p}");
    }
    // A form body's example goes through its form type; a component used only as an `allOf`
    // branch has its own type, which its example goes through; an inline branch has none, but a
    // property it declares is a field of the merged type, nested ones included.
    for p in [
        "/paths/~1messages/post/requestBody/content/application~1x-www-form-urlencoded/example",
        "/components/schemas/Stamp/example",
        "/paths/~1messages/post/responses/201/content/application~1json/schema/allOf/1/properties/sid/example",
        "/paths/~1messages/post/responses/201/content/application~1json/schema/allOf/1/properties/hops/items/example",
    ] {
        assert_eq!(status(p), ExampleStatus::Attempted, "{p}");
    }
    assert!(na(
        "/paths/~1messages/post/responses/201/content/application~1json/schema/allOf/1/example"
    )
    .contains("`allOf` branch is a part of a value"));
    let attempted = fates
        .values()
        .filter(|s| **s == ExampleStatus::Attempted)
        .count();
    assert_eq!(attempted, 18);
}

#[test]
fn without_the_option_nothing_is_collected_or_emitted() {
    let text = std::fs::read_to_string("tests/fixtures/examples.yaml").unwrap();
    let out = generate(&text, &Options::default()).unwrap();
    assert!(out.examples.is_empty());
    assert!(!out.files.contains_key("tests/examples.rs"));
}

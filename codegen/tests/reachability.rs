//! Only the types operations and webhooks reach are emitted, unless every schema is asked for.

use openapi_rs_codegen::{generate, Options};

const DOC: &str = r##"
openapi: 3.1.0
info: {title: t, version: '1'}
paths:
  /a:
    post:
      operationId: make_a
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/A'}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: array
                items: {$ref: '#/components/schemas/Listed'}
webhooks:
  ping:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Hook'}
      responses:
        '200': {description: ok}
components:
  schemas:
    A:
      type: object
      properties:
        b: {$ref: '#/components/schemas/B'}
    B:
      type: object
      properties:
        again: {$ref: '#/components/schemas/A'}
    Listed: {type: object, properties: {x: {type: integer}}}
    Hook: {type: object, properties: {event: {type: string}}}
    Leftover:
      type: object
      properties:
        c: {$ref: '#/components/schemas/LeftoverChild'}
    LeftoverChild: {type: object, properties: {y: {type: string}}}
"##;

fn types_of(all_schemas: bool) -> String {
    let out = generate(
        DOC,
        &Options {
            all_schemas,
            ..Options::default()
        },
    )
    .unwrap();
    out.files["src/types.rs"].clone()
}

#[test]
fn unreachable_schemas_are_left_out_by_default() {
    let types = types_of(false);
    for kept in [
        "pub struct A ",
        "pub struct B ",
        "pub struct Listed ",
        "pub struct Hook ",
    ] {
        assert!(types.contains(kept), "{kept} missing:\n{types}");
    }
    for dropped in ["Leftover", "LeftoverChild"] {
        assert!(!types.contains(dropped), "{dropped} emitted:\n{types}");
    }
}

#[test]
fn all_schemas_keeps_every_schema_under_the_same_names() {
    let all = types_of(true);
    for name in ["A", "B", "Listed", "Hook", "Leftover", "LeftoverChild"] {
        assert!(
            all.contains(&format!("pub struct {name} ")),
            "{name}:\n{all}"
        );
    }
    // The reachable types are written the same either way.
    let pruned = types_of(false);
    let a = |t: &str| {
        t[t.find("pub struct A ").unwrap()..]
            .split("\n}\n")
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(a(&pruned), a(&all));
}

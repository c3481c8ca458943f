//! Lowering: rewrites an OpenAPI 3.1 document, as raw JSON, into the 3.0 shape that `openapiv3` models.
//!
//! One pass, schema-aware (it only rewrites nodes that are schemas, so a property *named* `const` or
//! `examples` is left alone). Each rule keeps the meaning of the node:
//!
//! | 3.1 construct | lowered to |
//! |---|---|
//! | `type: [T, "null"]` | `type: T, nullable: true` |
//! | `type: [A, B]` (several non-null types) | `anyOf: [{type: A}, {type: B}]` |
//! | `type: "null"` | `x-null: true` (a schema that only admits `null`) |
//! | `anyOf`/`oneOf` with a null branch | the other branches, `nullable: true`; a lone `$ref` branch becomes `allOf: [$ref]`, a lone inline branch is merged into the node |
//! | numeric `exclusiveMinimum: n` / `exclusiveMaximum: n` | `minimum: n, exclusiveMinimum: true` (and likewise) |
//! | `const: v` | `enum: [v]` (with `type` inferred from `v` when absent) |
//! | `examples: [a, ...]` | `example: a` |
//! | `$ref` with sibling keywords | `allOf: [{$ref}]` with the siblings kept |
//! | `contentEncoding: base64` / `contentMediaType` | `format: byte` / `format: binary` |
//! | `$schema`, `$id`, `$comment`, `$anchor` | dropped (no meaning for code) |
//! | `prefixItems` of one schema repeated, closed after it | `items` of that schema (and `maxItems`) |
//! | other `prefixItems` (a tuple) | `x-prefix-items` (each lowered), and `x-prefix-closed: true` for `items: false` |
//! | `if`/`then`/`else`, `patternProperties`, `dependentSchemas`, `unevaluated*`, `contains` | dropped, with a warning |
//!
//! A 3.0 document passes through unchanged except for the parts of it that are already 3.1-only.

use crate::diag::{Diagnostics, Ptr};
use serde_json::{Map, Value};

/// The root extension that lists the component schemas webhooks refer to (keys as JSON pointer
/// segments, still escaped).
pub(crate) const WEBHOOK_ROOTS: &str = "x-codegen-webhook-schemas";

/// Component schema keys that `$ref`s under `v` name.
fn schema_refs(v: &Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                if let Some(key) = r.strip_prefix("#/components/schemas/") {
                    out.insert(key.to_string());
                }
            }
            map.values().for_each(|x| schema_refs(x, out));
        }
        Value::Array(items) => items.iter().for_each(|x| schema_refs(x, out)),
        _ => {}
    }
}

/// Whether a `$ref` points inside the document but not at a whole component
/// (`#/paths/~1pets/post/requestBody/...`, `#/components/schemas/Pet/properties/id`).
fn is_foreign_ref(r: &str) -> bool {
    let Some(rest) = r.strip_prefix("#/") else {
        return false;
    };
    match rest.strip_prefix("components/") {
        Some(tail) => tail.split('/').count() != 2,
        None => true,
    }
}

fn has_foreign_ref(v: &Value) -> bool {
    match v {
        Value::Object(map) => {
            matches!(map.get("$ref"), Some(Value::String(r)) if is_foreign_ref(r))
                || map.values().any(has_foreign_ref)
        }
        Value::Array(items) => items.iter().any(has_foreign_ref),
        _ => false,
    }
}

/// Replaces each `$ref` to a node that is not a whole component by a copy of that node (its
/// sibling keywords kept), so later stages see only component references. A chain deeper than 32,
/// or past 10,000 copies (a cycle), is left as it is and reported by the stage that cannot follow
/// it.
fn inline_foreign_refs(v: &mut Value, doc: &Value, depth: usize, budget: &mut usize) {
    if depth > 32 || *budget == 0 {
        return;
    }
    if let Value::Object(map) = v {
        if let Some(Value::String(r)) = map.get("$ref") {
            if is_foreign_ref(r) {
                if let Some(Value::Object(target)) = doc.pointer(&r[1..]) {
                    let mut merged = target.clone();
                    for (k, x) in map.iter().filter(|(k, _)| k.as_str() != "$ref") {
                        merged.insert(k.clone(), x.clone());
                    }
                    *map = merged;
                    *budget -= 1;
                    return inline_foreign_refs(v, doc, depth + 1, budget);
                }
            }
        }
    }
    match v {
        Value::Object(map) => map
            .values_mut()
            .for_each(|x| inline_foreign_refs(x, doc, depth, budget)),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|x| inline_foreign_refs(x, doc, depth, budget)),
        _ => {}
    }
}

/// Lowers `doc` in place. Warnings go to `diags`.
pub(crate) fn lower_document(doc: &mut Value, diags: &mut Diagnostics) {
    if has_foreign_ref(doc) {
        let snapshot = doc.clone();
        inline_foreign_refs(doc, &snapshot, 0, &mut 10_000);
    }
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    if let Some(Value::String(v)) = root.get("openapi") {
        if v.starts_with("3.1") {
            root.insert("openapi".into(), Value::String("3.0.3".into()));
        }
    }
    if !root.contains_key("paths") {
        root.insert("paths".into(), Value::Object(Map::new()));
    }
    // Webhooks are not operations of the client, but the schemas they carry are types its users
    // need: their component keys stay as roots of what is emitted.
    if let Some(webhooks) = root.remove("webhooks") {
        let mut keys = std::collections::BTreeSet::new();
        schema_refs(&webhooks, &mut keys);
        if !keys.is_empty() {
            root.insert(
                WEBHOOK_ROOTS.into(),
                keys.into_iter().map(Value::String).collect(),
            );
        }
    }
    root.remove("jsonSchemaDialect");
    if let Some(Value::Object(info)) = root.get_mut("info") {
        if let Some(Value::Object(lic)) = info.get_mut("license") {
            lic.remove("identifier");
            lic.entry("name")
                .or_insert_with(|| Value::String(String::new()));
        }
    }
    let paths_ptr = Ptr::ROOT.key("paths");
    if let Some(Value::Object(paths)) = root.get_mut("paths") {
        for (path, item) in paths.iter_mut() {
            lower_path_item(item, paths_ptr.key(path), diags);
        }
    }
    let comp = Ptr::ROOT.key("components");
    if let Some(Value::Object(components)) = root.get_mut("components") {
        for_each_entry(components, "schemas", comp, |v, p| {
            lower_schema(v, p, diags)
        });
        for_each_entry(components, "parameters", comp, |v, p| {
            lower_parameter(v, p, diags)
        });
        for_each_entry(components, "headers", comp, |v, p| {
            lower_parameter(v, p, diags)
        });
        for_each_entry(components, "responses", comp, |v, p| {
            lower_response(v, p, diags)
        });
        for_each_entry(components, "requestBodies", comp, |v, p| {
            lower_content_holder(v, p, diags)
        });
        components.remove("pathItems");
        let schemes_ptr = comp.key("securitySchemes");
        if let Some(Value::Object(schemes)) = components.get_mut("securitySchemes") {
            // 3.1's `mutualTLS` has no place in openapiv3's model; the certificate is the
            // transport's business, set on the caller's own reqwest client.
            let mtls: Vec<String> = schemes
                .iter()
                .filter(|(_, v)| v.get("type").and_then(Value::as_str) == Some("mutualTLS"))
                .map(|(k, _)| k.clone())
                .collect();
            for name in mtls {
                schemes.remove(&name);
                diags.warn(
                    schemes_ptr.key(&name).text(),
                    format!("security scheme `{name}` is mutualTLS: configure the client certificate on your own reqwest::Client (ClientBuilder::http_client)"),
                );
            }
        }
    }
}

fn for_each_entry(
    obj: &mut Map<String, Value>,
    key: &str,
    base: Ptr<'_>,
    mut f: impl FnMut(&mut Value, Ptr<'_>),
) {
    let at = base.key(key);
    if let Some(Value::Object(entries)) = obj.get_mut(key) {
        for (name, v) in entries.iter_mut() {
            f(v, at.key(name));
        }
    }
}

/// The HTTP methods a Path Item may hold.
pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn lower_path_item(item: &mut Value, ptr: Ptr<'_>, diags: &mut Diagnostics) {
    let Some(item) = item.as_object_mut() else {
        return;
    };
    lower_parameter_list(item, ptr, diags);
    for m in METHODS {
        let op_ptr = ptr.key(m);
        if let Some(Value::Object(op)) = item.get_mut(m) {
            lower_parameter_list(op, op_ptr, diags);
            if let Some(body) = op.get_mut("requestBody") {
                lower_content_holder(body, op_ptr.key("requestBody"), diags);
            }
            op.remove("callbacks");
            // 3.1 makes `responses` optional; openapiv3 requires it.
            op.entry("responses")
                .or_insert_with(|| Value::Object(Map::new()));
            for_each_entry(op, "responses", op_ptr, |v, p| lower_response(v, p, diags));
        }
    }
}

fn lower_parameter_list(obj: &mut Map<String, Value>, ptr: Ptr<'_>, diags: &mut Diagnostics) {
    let at = ptr.key("parameters");
    if let Some(Value::Array(params)) = obj.get_mut("parameters") {
        for (i, p) in params.iter_mut().enumerate() {
            lower_parameter(p, at.index(i), diags);
        }
    }
}

fn lower_parameter(p: &mut Value, ptr: Ptr<'_>, diags: &mut Diagnostics) {
    let Some(obj) = p.as_object_mut() else {
        return;
    };
    lower_examples(obj);
    if let Some(s) = obj.get_mut("schema") {
        lower_schema(s, ptr.key("schema"), diags);
    }
    lower_content_map(obj, ptr, diags);
}

fn lower_response(r: &mut Value, ptr: Ptr<'_>, diags: &mut Diagnostics) {
    let Some(obj) = r.as_object_mut() else {
        return;
    };
    for_each_entry(obj, "headers", ptr, |v, p| lower_parameter(v, p, diags));
    lower_content_map(obj, ptr, diags);
}

fn lower_content_holder(r: &mut Value, ptr: Ptr<'_>, diags: &mut Diagnostics) {
    if let Some(obj) = r.as_object_mut() {
        lower_content_map(obj, ptr, diags);
    }
}

fn lower_content_map(obj: &mut Map<String, Value>, ptr: Ptr<'_>, diags: &mut Diagnostics) {
    let at = ptr.key("content");
    if let Some(Value::Object(content)) = obj.get_mut("content") {
        for (mime, media) in content.iter_mut() {
            let mptr = at.key(mime);
            if let Some(media) = media.as_object_mut() {
                lower_examples(media);
                if let Some(s) = media.get_mut("schema") {
                    lower_schema(s, mptr.key("schema"), diags);
                }
            }
        }
    }
}

/// `examples` on parameters and media types is a map in both versions; nothing to do, except that
/// 3.1 allows `example` and `examples` together, which openapiv3 accepts. Kept for symmetry.
fn lower_examples(_obj: &mut Map<String, Value>) {}

/// Keywords that only annotate; dropped silently.
const DROP_SILENT: [&str; 6] = [
    "$schema",
    "$id",
    "$comment",
    "$anchor",
    "$dynamicAnchor",
    "$defs",
];
/// Keywords that carry validation meaning the generator cannot express; dropped with a warning.
const DROP_WARN: [&str; 11] = [
    "if",
    "then",
    "else",
    "patternProperties",
    "dependentSchemas",
    "dependentRequired",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
    "propertyNames",
    "$dynamicRef",
];

/// `prefixItems` whose schemas are all the same, with nothing other than that schema allowed after
/// them (`items: false`, `maxItems` at most their number, or `items` the same schema): an array of
/// that schema, which admits exactly the same values (`prefixItems` requires no position to be
/// present, so `minItems` stays as written). Phala's OS image versions (`[int, int, int]`) are such
/// arrays. Other `prefixItems` are tuples (see [`tuple_prefix_items`]).
fn uniform_prefix_items(obj: &mut Map<String, Value>) {
    let Some(Value::Array(prefix)) = obj.get("prefixItems") else {
        return;
    };
    let Some(first) = prefix.first().cloned() else {
        return;
    };
    if prefix.iter().any(|p| *p != first) {
        return;
    }
    let n = prefix.len() as u64;
    let max = obj.get("maxItems").and_then(Value::as_u64);
    let closed = match obj.get("items") {
        Some(Value::Bool(false)) => true,
        Some(items) => *items == first,
        None => max.is_some_and(|m| m <= n),
    };
    if !closed {
        return;
    }
    if obj.get("items") == Some(&Value::Bool(false)) {
        obj.insert("maxItems".into(), max.map_or(n, |m| m.min(n)).into());
    }
    obj.remove("prefixItems");
    obj.insert("items".into(), first);
}

/// The extension that carries a tuple's `prefixItems` (lowered) past openapiv3, which has no
/// such keyword; the IR reads it back (`build::schemas`).
pub(crate) const PREFIX_ITEMS: &str = "x-prefix-items";
/// Set beside [`PREFIX_ITEMS`] when the document says `items: false`: nothing may follow.
pub(crate) const PREFIX_CLOSED: &str = "x-prefix-closed";

/// `prefixItems` that [`uniform_prefix_items`] left (a tuple): moved, each position lowered, to
/// [`PREFIX_ITEMS`]. `items: false` after it (no more items) becomes [`PREFIX_CLOSED`], since
/// openapiv3 reads `items` only as a schema.
fn tuple_prefix_items(obj: &mut Map<String, Value>, ptr: Ptr<'_>, diags: &mut Diagnostics) {
    let Some(prefix) = obj.remove("prefixItems") else {
        return;
    };
    let Value::Array(mut prefix) = prefix else {
        diags.warn(
            ptr.key("prefixItems").text(),
            "`prefixItems` is not an array of schemas; the constraint is not enforced",
        );
        return;
    };
    let at = ptr.key("prefixItems");
    for (i, p) in prefix.iter_mut().enumerate() {
        lower_schema(p, at.index(i), diags);
    }
    if obj.get("items") == Some(&Value::Bool(false)) {
        obj.remove("items");
        obj.insert(PREFIX_CLOSED.into(), Value::Bool(true));
    }
    obj.insert(PREFIX_ITEMS.into(), Value::Array(prefix));
}

/// Lowers one schema node (and, first, every schema below it).
pub(crate) fn lower_schema(schema: &mut Value, ptr: Ptr<'_>, diags: &mut Diagnostics) {
    // JSON Schema allows `true`/`false` as schemas.
    if let Value::Bool(b) = schema {
        *schema = if *b {
            Value::Object(Map::new())
        } else {
            diags.warn(
                ptr.text(),
                "schema `false` (admits nothing) is read as any value",
            );
            Value::Object(Map::new())
        };
        return;
    }
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    uniform_prefix_items(obj);
    tuple_prefix_items(obj, ptr, diags);

    // Children first.
    for key in ["items", "not", "additionalItems"] {
        if let Some(child) = obj.get_mut(key) {
            lower_schema(child, ptr.key(key), diags);
        }
    }
    if let Some(child) = obj.get_mut("additionalProperties") {
        if child.is_object() {
            lower_schema(child, ptr.key("additionalProperties"), diags);
        }
    }
    for_each_entry(obj, "properties", ptr, |v, p| lower_schema(v, p, diags));
    for key in ["allOf", "anyOf", "oneOf"] {
        let at = ptr.key(key);
        if let Some(Value::Array(branches)) = obj.get_mut(key) {
            for (i, b) in branches.iter_mut().enumerate() {
                lower_schema(b, at.index(i), diags);
            }
        }
    }

    // One pass over the keys finds the rare node with keywords to drop.
    if obj
        .keys()
        .any(|k| DROP_SILENT.contains(&k.as_str()) || DROP_WARN.contains(&k.as_str()))
    {
        for key in DROP_SILENT {
            obj.remove(key);
        }
        // Keys `patternProperties` allows are keys `additionalProperties: false` does not see:
        // with the patterns gone, forbidding every other key would refuse them.
        if obj.contains_key("patternProperties")
            && obj.get("additionalProperties") == Some(&Value::Bool(false))
        {
            obj.remove("additionalProperties");
        }
        for key in DROP_WARN {
            if obj.remove(key).is_some() {
                diags.warn(
                    ptr.key(key).text(),
                    format!("`{key}` is not supported; the constraint is not enforced"),
                );
            }
        }
    }

    // examples -> example
    if let Some(ex) = obj.remove("examples") {
        if !obj.contains_key("example") {
            if let Value::Array(mut items) = ex {
                if !items.is_empty() {
                    obj.insert("example".into(), items.swap_remove(0));
                }
            }
        }
    }

    // contentEncoding / contentMediaType -> format
    let encoding = obj.remove("contentEncoding");
    let media = obj.remove("contentMediaType");
    if !obj.contains_key("format") {
        if encoding.as_ref().and_then(Value::as_str) == Some("base64") {
            obj.insert("format".into(), "byte".into());
        } else if media.is_some() {
            obj.insert("format".into(), "binary".into());
        }
    }

    // exclusive bounds as numbers
    for (excl, plain) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(n) = obj.get(excl).filter(|v| v.is_number()).cloned() {
            obj.insert(plain.into(), n);
            obj.insert(excl.into(), Value::Bool(true));
        }
    }

    // const -> single-value enum
    if let Some(c) = obj.remove("const") {
        if !obj.contains_key("type") {
            if let Some(t) = json_type_of(&c) {
                obj.insert("type".into(), t.into());
            }
        }
        if c.is_null() {
            obj.insert("x-null".into(), Value::Bool(true));
        } else {
            obj.insert("enum".into(), Value::Array(vec![c]));
        }
    }

    // type arrays and type: null
    match obj.get("type").cloned() {
        Some(Value::Array(types)) => {
            let had_null = types.iter().any(|t| t == "null");
            let rest: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
            obj.remove("type");
            match rest.len() {
                0 => {
                    obj.insert("x-null".into(), Value::Bool(true));
                }
                1 => {
                    obj.insert("type".into(), rest[0].clone());
                }
                _ => {
                    let branches = rest
                        .into_iter()
                        .map(|t| {
                            let mut m = Map::new();
                            m.insert("type".into(), t);
                            Value::Object(m)
                        })
                        .collect();
                    obj.insert("anyOf".into(), Value::Array(branches));
                }
            }
            if had_null {
                obj.insert("nullable".into(), Value::Bool(true));
            }
        }
        Some(Value::String(t)) if t == "null" => {
            obj.remove("type");
            obj.insert("x-null".into(), Value::Bool(true));
        }
        _ => {}
    }
    // enum containing null admits null
    if let Some(Value::Array(values)) = obj.get_mut("enum") {
        if values.iter().any(Value::is_null) && values.len() > 1 {
            values.retain(|v| !v.is_null());
            obj.insert("nullable".into(), Value::Bool(true));
        }
    }

    // Integer schemas: openapiv3 reads their bounds as i64, 3.1 writers (Pydantic) emit `10.0`.
    if obj.get("type").and_then(Value::as_str) == Some("integer") {
        // A literal beyond i64 (`minimum: -9223372036854776000`, read as a float) loads too: a
        // bound no i64 can break is dropped silently, one no i64 can meet is dropped with a
        // warning (the emitted check changes), anything else becomes the nearest i64 inside.
        const LIMIT: f64 = 9_223_372_036_854_775_807.0; // 2^63, as f64 rounds i64::MAX
        for (key, round_up) in [("minimum", true), ("maximum", false), ("multipleOf", true)] {
            if let Some(f) = obj
                .get(key)
                .and_then(|v| if v.is_f64() { v.as_f64() } else { None })
            {
                let r = if round_up { f.ceil() } else { f.floor() };
                let vacuous = if key == "minimum" {
                    r < -LIMIT
                } else {
                    r >= LIMIT
                };
                if r.is_finite() && (-LIMIT..LIMIT).contains(&r) {
                    obj.insert(key.into(), Value::from(r as i64));
                } else {
                    obj.remove(key);
                    if !vacuous || !r.is_finite() {
                        diags.warn(
                            ptr.key(key).text(),
                            format!("`{key}: {f}` is beyond any 64-bit integer; the bound is not enforced"),
                        );
                    }
                }
            }
        }
        for key in ["enum", "default", "example"] {
            let fix = |v: &mut Value| {
                if let Some(f) = v
                    .as_f64()
                    .filter(|f| v.is_f64() && f.fract() == 0.0 && (-LIMIT..LIMIT).contains(f))
                {
                    *v = Value::from(f as i64);
                }
            };
            match obj.get_mut(key) {
                Some(Value::Array(items)) => items.iter_mut().for_each(fix),
                Some(v) => fix(v),
                None => {}
            }
        }
    }

    // anyOf / oneOf with null branches
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(branches)) = obj.get_mut(key) else {
            continue;
        };
        let before = branches.len();
        branches.retain(|b| !is_null_schema(b));
        if branches.len() == before {
            continue;
        }
        obj.insert("nullable".into(), Value::Bool(true));
        let Some(Value::Array(branches)) = obj.get(key) else {
            continue;
        };
        if branches.len() == 1 && !has_structure(obj, key) {
            let only = branches[0].clone();
            obj.remove(key);
            if let Some(only) = only.as_object() {
                if only.contains_key("$ref") {
                    obj.insert(
                        "allOf".into(),
                        Value::Array(vec![Value::Object(only.clone())]),
                    );
                } else {
                    for (k, v) in only {
                        // The outer node's annotations (description, title, default) win.
                        obj.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
        }
    }

    // $ref with siblings -> allOf wrapper so the siblings survive
    if obj.contains_key("$ref") && obj.len() > 1 {
        let r = obj.remove("$ref").unwrap_or(Value::Null);
        let mut inner = Map::new();
        inner.insert("$ref".into(), r);
        obj.insert("allOf".into(), Value::Array(vec![Value::Object(inner)]));
    }

    // A type-less node with object keywords is an object.
    if !obj.contains_key("type")
        && (obj.contains_key("properties") || obj.contains_key("additionalProperties"))
        && !["allOf", "anyOf", "oneOf"]
            .iter()
            .any(|k| obj.contains_key(*k))
    {
        obj.insert("type".into(), "object".into());
    }
}

fn json_type_of(v: &Value) -> Option<&'static str> {
    Some(match v {
        Value::String(_) => "string",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => return None,
    })
}

/// After lowering, a null-only schema is `{x-null: true}` (plus annotations), or `enum: [null]`.
fn is_null_schema(v: &Value) -> bool {
    let Some(o) = v.as_object() else {
        return false;
    };
    o.get("x-null") == Some(&Value::Bool(true))
        || matches!(o.get("enum"), Some(Value::Array(a)) if a.len() == 1 && a[0].is_null())
}

/// Whether the node has structure of its own besides `key` (then a lone branch cannot be merged).
fn has_structure(obj: &Map<String, Value>, key: &str) -> bool {
    [
        "type",
        "properties",
        "items",
        "allOf",
        "anyOf",
        "oneOf",
        "enum",
        "$ref",
    ]
    .iter()
    .any(|k| *k != key && obj.contains_key(*k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lowered(mut v: Value) -> (Value, Vec<crate::Diagnostic>) {
        let mut d = Diagnostics::default();
        lower_schema(&mut v, Ptr::ROOT.key("s"), &mut d);
        (v, d.into_vec())
    }

    #[test]
    fn a_uniform_closed_prefix_is_an_array_of_its_schema() {
        let int = json!({"type": "integer"});
        // Closed by maxItems, by `items: false`, by the same schema after: exact.
        for (input, max) in [
            (
                json!({"type": "array", "prefixItems": [int, int, int], "minItems": 3, "maxItems": 3}),
                Some(3),
            ),
            (
                json!({"type": "array", "prefixItems": [int, int], "items": false}),
                Some(2),
            ),
            (
                json!({"type": "array", "prefixItems": [int, int], "items": int}),
                None,
            ),
        ] {
            let (v, d) = lowered(input.clone());
            assert!(d.is_empty(), "{input}: {d:?}");
            assert_eq!(v["items"], int, "{input}");
            assert!(v.get("prefixItems").is_none());
            assert_eq!(v.get("maxItems").and_then(Value::as_u64), max, "{input}");
        }
        // Open after the prefix, or mixed: a tuple, kept for the IR with no warning.
        for (input, closed) in [
            (json!({"type": "array", "prefixItems": [int, int]}), false),
            (
                json!({"type": "array", "prefixItems": [int, int], "items": {"type": "string"}}),
                false,
            ),
            (
                json!({"type": "array", "prefixItems": [int, {"type": "string"}], "items": false}),
                true,
            ),
        ] {
            let (v, d) = lowered(input.clone());
            assert!(d.is_empty(), "{input}: {d:?}");
            assert!(v.get("prefixItems").is_none(), "{input}");
            assert_eq!(v[PREFIX_ITEMS], input["prefixItems"], "{input}");
            assert_eq!(v.get(PREFIX_CLOSED).is_some(), closed, "{input}");
            assert_eq!(
                v.get("items").is_some(),
                input["items"].is_object(),
                "{input}"
            );
        }
    }

    #[test]
    fn a_tuple_s_positions_are_lowered_too() {
        let (v, _) = lowered(json!({"prefixItems": [{"type": ["string", "null"]}, {"const": 1}]}));
        assert_eq!(
            v[PREFIX_ITEMS],
            json!([{"type": "string", "nullable": true}, {"type": "integer", "enum": [1]}])
        );
    }

    #[test]
    fn nullable_any_of_of_inline_schema_is_merged() {
        let (v, _) = lowered(json!({
            "anyOf": [{"type": "integer", "maximum": 1200.0, "minimum": 10.0}, {"type": "null"}],
            "description": "d"
        }));
        assert_eq!(
            v,
            json!({"description": "d", "nullable": true, "type": "integer", "maximum": 1200, "minimum": 10})
        );
    }

    #[test]
    fn nullable_ref_becomes_all_of() {
        let (v, _) = lowered(json!({"anyOf": [{"$ref": "#/x"}, {"type": "null"}]}));
        assert_eq!(v, json!({"nullable": true, "allOf": [{"$ref": "#/x"}]}));
    }

    #[test]
    fn numeric_exclusive_bounds_and_const() {
        let (v, _) = lowered(json!({"type": "number", "exclusiveMinimum": 0.0, "const": 3}));
        assert_eq!(
            v,
            json!({"type": "number", "exclusiveMinimum": true, "minimum": 0.0, "enum": [3]})
        );
    }

    #[test]
    fn type_arrays() {
        let (v, _) = lowered(json!({"type": ["string", "null"]}));
        assert_eq!(v, json!({"type": "string", "nullable": true}));
        let (v, _) = lowered(json!({"type": ["string", "integer"]}));
        assert_eq!(
            v,
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})
        );
    }

    #[test]
    fn property_named_like_a_keyword_is_left_alone() {
        let (v, _) = lowered(json!({"type": "object", "properties": {
            "const": {"type": "string"}, "examples": {"type": "string", "examples": ["a"]}
        }}));
        assert_eq!(
            v,
            json!({"type": "object", "properties": {
                "const": {"type": "string"}, "examples": {"type": "string", "example": "a"}
            }})
        );
    }

    #[test]
    fn unsupported_keywords_warn_with_pointer() {
        let (_, d) = lowered(json!({"type": "array", "contains": {"type": "string"}}));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].pointer, "/s/contains");
    }
}

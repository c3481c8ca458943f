//! `schema.json`: every object's and operation's constraints as data, read by the generated
//! crate's `meta::schema()` (feature `proptest`). Data, not code: it costs the crate no compile time.

use crate::ir::*;
use serde_json::{json, Map, Value};

/// `marker` is the "generated, do not edit" line, kept as the document's first key.
pub fn emit(api: &Api, marker: &str) -> String {
    let objects: Map<String, Value> = api
        .types
        .iter()
        .filter_map(|(name, t)| {
            let TypeKind::Struct(s) = &t.kind else {
                return None;
            };
            let fields: Vec<Value> = s.fields.iter().map(|f| field(api, f)).collect();
            let mut object = json!({ "name": name, "fields": fields });
            if s.closed {
                object["closed"] = json!(true);
            }
            Some((name.clone(), object))
        })
        .collect();
    let operations: Map<String, Value> = api
        .operations
        .iter()
        .map(|op| {
            let body = match &op.body {
                Some(b) if b.kind == BodyKind::Json => shape(api, &b.ty, None, 0),
                _ => Value::Null,
            };
            let responses: Vec<Value> = op
                .responses
                .iter()
                .map(|r| {
                    let (status, range) = match r.status {
                        StatusMatch::Code(c) => (c, false),
                        StatusMatch::Range(d) => (d * 100, true),
                        StatusMatch::Default => (0, false),
                    };
                    let body = match &r.body {
                        ResponseBody::Json(ty) => shape(api, ty, None, 0),
                        ResponseBody::Raw => Value::Null,
                    };
                    json!({ "status": status, "range": range, "body": body })
                })
                .collect();
            let params: Vec<Value> = op
                .params
                .iter()
                .map(|p| {
                    let location = match p.location {
                        ParamLocation::Path => "path",
                        ParamLocation::Query => "query",
                        ParamLocation::Header => "header",
                        ParamLocation::Cookie => "cookie",
                    };
                    json!({ "name": p.json, "in": location, "required": p.required, "shape": shape(api, &p.ty, None, 0) })
                })
                .collect();
            (op.name.clone(), json!({ "method": op.method, "path": op.path, "params": params, "body": body, "responses": responses }))
        })
        .collect();
    let mut text = serde_json::to_string_pretty(
        &json!({ "@generated": marker, "objects": objects, "operations": operations }),
    )
    .unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

fn field(api: &Api, f: &Field) -> Value {
    let mut v = json!({
        "name": f.json,
        "shape": shape(api, &f.ty, Some(&f.constraints), 0),
        "required": matches!(f.presence, Presence::Required | Presence::RequiredNullable),
        "nullable": matches!(f.presence, Presence::RequiredNullable | Presence::OptionalNullable),
    });
    if let Some((field, div)) = &f.readback {
        v["readback"] = json!({ "field": field, "divide_by": div });
    }
    v
}

fn num(n: Num) -> Value {
    match n {
        Num::Int(i) => json!(i),
        Num::Float(f) => json!(f),
    }
}

/// The shape of a type, with a field's constraints when there are any.
fn shape(api: &Api, ty: &Ty, c: Option<&Constraints>, depth: u32) -> Value {
    let empty = Constraints::default();
    let c = c.unwrap_or(&empty);
    match ty {
        Ty::Bool => json!({"kind": "boolean"}),
        Ty::Int(_) => {
            let int = |b: Option<Bound>| {
                b.map(|b| match b.value {
                    Num::Int(i) => json!(i),
                    Num::Float(f) => json!(f as i64),
                })
            };
            json!({"kind": "integer", "min": int(c.minimum), "max": int(c.maximum)})
        }
        Ty::Float(_) => json!({
            "kind": "number",
            "min": c.minimum.map(|b| num(b.value)),
            "max": c.maximum.map(|b| num(b.value)),
            "exclusive_min": c.minimum.is_some_and(|b| b.exclusive),
            "exclusive_max": c.maximum.is_some_and(|b| b.exclusive),
        }),
        Ty::String => json!({"kind": "string", "min_len": c.min_length, "max_len": c.max_length}),
        Ty::Array(t) => json!({
            "kind": "array",
            "items": shape(api, t, None, depth),
            "min_items": c.min_items,
            "max_items": c.max_items,
        }),
        Ty::Map(t) => json!({"kind": "map", "values": shape(api, t, None, depth)}),
        Ty::Nullable(t) => json!({"kind": "nullable", "inner": shape(api, t, Some(c), depth)}),
        Ty::Any | Ty::Null | Ty::File => json!({"kind": "any"}),
        Ty::Named(n) => match api.types.get(n).map(|t| &t.kind) {
            Some(TypeKind::Struct(_)) => json!({"kind": "object", "name": n}),
            Some(TypeKind::Enum { variants, open }) => {
                let values: Vec<&str> = variants.iter().map(|v| v.value.as_str()).collect();
                json!({"kind": "enum", "values": values, "open": open})
            }
            Some(TypeKind::Union { variants }) if depth < 8 => {
                let options: Vec<Value> = variants
                    .iter()
                    .map(|v| shape(api, &v.ty, None, depth + 1))
                    .collect();
                json!({"kind": "one_of", "options": options})
            }
            Some(TypeKind::Alias(a)) if depth < 8 => shape(api, a, Some(c), depth + 1),
            _ => json!({"kind": "any"}),
        },
    }
}

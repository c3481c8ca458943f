//! The generator's IR ([`codegen::ir::Api`]) turned into the suite's [`Schema`]: one conversion,
//! so every constraint the suite judges, mutates or draws is one `validate()` was emitted from.

use crate::meta::{Field, Header, Object, Operation, Param, Readback, Response, Schema, Shape};
use codegen::ir::{
    Api, Auth, BodyKind, Bound, Constraints, Num, ParamLocation, Presence, ResponseBody,
    StatusMatch, Ty, TypeKind,
};
use serde_json::Value;
use std::collections::BTreeMap;

/// The schema of `api`; `raw` is the document as written (for the operations' extensions).
pub fn from_api(api: &Api, raw: &Value) -> Schema {
    let mut objects = BTreeMap::new();
    for (name, t) in &api.types {
        match &t.kind {
            TypeKind::Struct(s) => {
                let fields = s.fields.iter().map(|f| field(api, f)).collect();
                objects.insert(
                    name.clone(),
                    Object {
                        name: name.clone(),
                        fields,
                        closed: s.closed,
                    },
                );
            }
            // Each variant of an internally tagged union is an object whose tag has one value.
            TypeKind::Tagged { tag, variants } => {
                for v in variants {
                    let mut fields = vec![Field {
                        name: tag.clone(),
                        shape: Shape::Enum {
                            values: vec![v.value.clone()],
                            open: false,
                        },
                        required: true,
                        nullable: false,
                        readback: None,
                        secret: false,
                        default: None,
                        unique: false,
                    }];
                    fields.extend(v.fields.iter().map(|f| field(api, f)));
                    let name = tagged_name(name, &v.value);
                    objects.insert(
                        name.clone(),
                        Object {
                            name,
                            fields,
                            closed: false,
                        },
                    );
                }
            }
            _ => {}
        }
    }
    let operations = api
        .operations
        .iter()
        .map(|op| {
            // OpenAPI: header parameters named Accept, Content-Type or Authorization are ignored.
            let ignored = |p: &&codegen::ir::Param| {
                p.location == ParamLocation::Header
                    && ["accept", "content-type", "authorization"]
                        .contains(&p.json.to_ascii_lowercase().as_str())
            };
            let params = op
                .params
                .iter()
                .filter(|p| !ignored(p))
                .map(|p| Param {
                    name: p.json.clone(),
                    location: match p.location {
                        ParamLocation::Path => "path",
                        ParamLocation::Query => "query",
                        ParamLocation::Header => "header",
                        ParamLocation::Cookie => "cookie",
                    }
                    .into(),
                    required: p.required,
                    shape: shape(api, &p.ty, &p.constraints, 0),
                })
                .collect();
            let body = op
                .body
                .as_ref()
                .filter(|b| b.kind == BodyKind::Json)
                .map(|b| {
                    let s = shape(api, &b.ty, &b.constraints, 0);
                    if b.nullable {
                        Shape::Nullable { inner: Box::new(s) }
                    } else {
                        s
                    }
                });
            let responses = op
                .responses
                .iter()
                .map(|r| {
                    let (status, range) = match r.status {
                        StatusMatch::Code(c) => (c, false),
                        StatusMatch::Range(d) => (d * 100, true),
                        StatusMatch::Default => (0, false),
                    };
                    let body = match &r.body {
                        ResponseBody::Json(ty) => Some(shape(api, ty, &Constraints::default(), 0)),
                        ResponseBody::Raw => None,
                    };
                    let key = match r.status {
                        StatusMatch::Code(c) => c.to_string(),
                        StatusMatch::Range(d) => format!("{d}XX"),
                        StatusMatch::Default => "default".into(),
                    };
                    Response {
                        status,
                        range,
                        body,
                        headers: response_headers(raw, &op.pointer, &key),
                        links: links(api, raw, &op.pointer, &key),
                    }
                })
                .collect();
            let auth = op
                .auth
                .iter()
                .map(|a| match a {
                    Auth::ApiKeyHeader(h) => format!("header:{h}"),
                    Auth::ApiKeyQuery(q) => format!("query:{q}"),
                    Auth::Bearer => "bearer".into(),
                    Auth::Basic => "basic".into(),
                })
                .collect();
            let extensions = pointer(raw, &op.pointer)
                .and_then(Value::as_object)
                .map(|o| {
                    o.iter()
                        .filter(|(k, _)| k.starts_with("x-"))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            (
                op.name.clone(),
                Operation {
                    name: op.name.clone(),
                    operation_id: op.operation_id.clone(),
                    pointer: op.pointer.clone(),
                    method: op.method.clone(),
                    path: op.path.clone(),
                    params,
                    body,
                    body_required: op.body.as_ref().is_some_and(|b| b.required),
                    responses,
                    auth,
                    extensions,
                },
            )
        })
        .collect();
    Schema {
        objects,
        operations,
    }
}

/// The node `v` names, its local `$ref`s followed (a few deep).
fn resolved<'v>(raw: &'v Value, mut v: &'v Value) -> &'v Value {
    for _ in 0..8 {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.strip_prefix('#').and_then(|p| raw.pointer(p)) {
                Some(next) => v = next,
                None => break,
            },
            None => break,
        }
    }
    v
}

/// The answer `key` of the operation at `op_pointer`, as written.
fn answer_node<'v>(raw: &'v Value, op_pointer: &str, key: &str) -> Option<&'v Value> {
    let responses = pointer(raw, op_pointer)?.get("responses")?;
    responses
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| resolved(raw, v))
}

/// The `links` of one answer, each resolved to the operation it names (by `operationId`, or a
/// local `operationRef` such as `#/paths/~1notes~1{id}/get`); a link to no known operation is
/// left out.
fn links(api: &Api, raw: &Value, op_pointer: &str, key: &str) -> Vec<crate::meta::Link> {
    let Some(links) = answer_node(raw, op_pointer, key)
        .and_then(|a| a.get("links"))
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for link in links.values() {
        let link = resolved(raw, link);
        let by_id = link
            .get("operationId")
            .and_then(Value::as_str)
            .and_then(|id| {
                api.operations
                    .iter()
                    .find(|o| o.operation_id.as_deref() == Some(id))
            });
        let by_ref = || {
            let r = link.get("operationRef")?.as_str()?.strip_prefix('#')?;
            api.operations.iter().find(|o| o.pointer == r)
        };
        let Some(target) = by_id.or_else(by_ref) else {
            continue;
        };
        let parameters = link
            .get("parameters")
            .and_then(Value::as_object)
            .map(|ps| {
                ps.iter()
                    .filter_map(|(k, v)| {
                        // `path.id` and `id` name the same parameter.
                        let name = k.rsplit_once('.').map_or(k.as_str(), |(_, n)| n);
                        Some((name.to_string(), v.as_str()?.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(crate::meta::Link {
            operation: target.name.clone(),
            parameters,
        });
    }
    out
}

/// The headers the document gives one answer of an operation, read from the document as
/// written (`responses/<key>/headers`, any case of `2XX`), `Content-Type` left out as OpenAPI
/// says.
fn response_headers(raw: &Value, op_pointer: &str, key: &str) -> Vec<Header> {
    let Some(responses) = pointer(raw, op_pointer).and_then(|o| o.get("responses")) else {
        return Vec::new();
    };
    let answer = responses
        .as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
        .map(|(_, v)| resolved(raw, v));
    let Some(headers) = answer
        .and_then(|a| a.get("headers"))
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    headers
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("content-type"))
        .map(|(name, h)| {
            let h = resolved(raw, h);
            Header {
                name: name.clone(),
                required: h.get("required").and_then(Value::as_bool).unwrap_or(false),
                shape: h.get("schema").map(|s| raw_shape(raw, s, 0)),
            }
        })
        .collect()
}

/// The shape of a schema as written, for the few places the IR does not type (answer headers):
/// the scalar keywords, enums, arrays and null; anything else is `Any`.
fn raw_shape(raw: &Value, s: &Value, depth: u32) -> Shape {
    let s = resolved(raw, s);
    if depth > 8 {
        return Shape::Any;
    }
    let nullable = |inner: Shape| Shape::Nullable {
        inner: Box::new(inner),
    };
    let is_null = |x: &Value| resolved(raw, x).get("type").and_then(Value::as_str) == Some("null");
    for key in ["anyOf", "oneOf"] {
        if let Some(list) = s.get(key).and_then(Value::as_array) {
            let rest: Vec<&Value> = list.iter().filter(|x| !is_null(x)).collect();
            return match (rest.as_slice(), rest.len() < list.len()) {
                ([one], true) => nullable(raw_shape(raw, one, depth + 1)),
                ([one], false) => raw_shape(raw, one, depth + 1),
                _ => Shape::Any,
            };
        }
    }
    let (typ, null) = match s.get("type") {
        Some(Value::String(t)) => (Some(t.as_str()), false),
        Some(Value::Array(ts)) => {
            let named: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
            let rest: Vec<&str> = named.iter().copied().filter(|t| *t != "null").collect();
            (
                if rest.len() == 1 { Some(rest[0]) } else { None },
                rest.len() < named.len(),
            )
        }
        _ => (None, false),
    };
    let num = |k: &str| s.get(k).and_then(Value::as_f64);
    let int = |k: &str| s.get(k).and_then(Value::as_i64);
    let uint = |k: &str| s.get(k).and_then(Value::as_u64);
    let inner = match typ {
        Some("integer") => Shape::Integer {
            min: int("minimum"),
            max: int("maximum"),
            multiple_of: None,
            range: None,
        },
        Some("number") => Shape::Number {
            min: num("minimum"),
            max: num("maximum"),
            exclusive_min: false,
            exclusive_max: false,
            multiple_of: None,
        },
        Some("boolean") => Shape::Boolean,
        Some("string") => match s.get("enum").and_then(Value::as_array) {
            Some(values) => Shape::Enum {
                values: values
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                open: false,
            },
            None => Shape::String {
                min_len: uint("minLength"),
                max_len: uint("maxLength"),
                pattern: None,
                format: s.get("format").and_then(Value::as_str).map(str::to_string),
            },
        },
        Some("array") => Shape::Array {
            items: Box::new(
                s.get("items")
                    .map(|i| raw_shape(raw, i, depth + 1))
                    .unwrap_or(Shape::Any),
            ),
            min_items: uint("minItems"),
            max_items: uint("maxItems"),
            unique: false,
        },
        _ => Shape::Any,
    };
    if null {
        nullable(inner)
    } else {
        inner
    }
}

/// The object name of a tagged union's variant.
fn tagged_name(union: &str, tag: &str) -> String {
    format!("{union}#{tag}")
}

/// The node a JSON pointer names.
fn pointer<'v>(v: &'v Value, ptr: &str) -> Option<&'v Value> {
    if ptr.is_empty() {
        return Some(v);
    }
    v.pointer(ptr)
}

fn field(api: &Api, f: &codegen::ir::Field) -> Field {
    Field {
        name: f.json.clone(),
        shape: shape(api, &f.ty, &f.constraints, 0),
        required: matches!(f.presence, Presence::Required | Presence::RequiredNullable),
        nullable: matches!(
            f.presence,
            Presence::RequiredNullable | Presence::OptionalNullable
        ),
        readback: f.readback.as_ref().map(|(field, d)| Readback {
            field: field.clone(),
            divide_by: *d,
        }),
        secret: f.secret,
        default: f.default.clone(),
        unique: f.doc.as_deref().is_some_and(crate::meta::says_unique),
    }
}

/// The smallest integer a bound allows.
fn int_low(b: Bound) -> i64 {
    match (b.value, b.exclusive) {
        (Num::Int(i), false) => i,
        (Num::Int(i), true) => i.saturating_add(1),
        (Num::Float(f), false) => f.ceil() as i64,
        (Num::Float(f), true) => f.floor() as i64 + 1,
    }
}

/// The largest integer a bound allows.
fn int_high(b: Bound) -> i64 {
    match (b.value, b.exclusive) {
        (Num::Int(i), false) => i,
        (Num::Int(i), true) => i.saturating_sub(1),
        (Num::Float(f), false) => f.floor() as i64,
        (Num::Float(f), true) => f.ceil() as i64 - 1,
    }
}

/// The shape of a value of `ty` under the constraints `c` of its place.
pub fn shape(api: &Api, ty: &Ty, c: &Constraints, depth: u32) -> Shape {
    if depth > 32 {
        return Shape::Any;
    }
    // A node's own enum of numbers or booleans is its narrowest statement, whatever type a
    // `$ref` beside it names.
    if !c.enumeration.is_empty() {
        return Shape::Values {
            values: c.enumeration.clone(),
        };
    }
    let items = c.items.as_deref().cloned().unwrap_or_default();
    match ty {
        Ty::Bool => Shape::Boolean,
        Ty::Int(it) => {
            use codegen::ir::IntTy::*;
            // The Rust type's own range is part of what the generated type accepts.
            let (tlo, thi): (i64, i64) = match it {
                I8 => (i8::MIN.into(), i8::MAX.into()),
                I16 => (i16::MIN.into(), i16::MAX.into()),
                I32 => (i32::MIN.into(), i32::MAX.into()),
                U8 => (0, u8::MAX.into()),
                U16 => (0, u16::MAX.into()),
                U32 => (0, u32::MAX.into()),
                I64 | U64 => (i64::MIN, i64::MAX),
            };
            Shape::Integer {
                min: c.minimum.map(int_low),
                max: c.maximum.map(int_high),
                multiple_of: c.multiple_of.map(Num::as_f64).filter(|m| *m > 0.0),
                range: (tlo != i64::MIN || thi != i64::MAX).then_some((tlo, thi)),
            }
        }
        Ty::Float(_) => Shape::Number {
            min: c.minimum.map(|b| b.value.as_f64()),
            max: c.maximum.map(|b| b.value.as_f64()),
            exclusive_min: c.minimum.is_some_and(|b| b.exclusive),
            exclusive_max: c.maximum.is_some_and(|b| b.exclusive),
            multiple_of: c.multiple_of.map(Num::as_f64).filter(|m| *m > 0.0),
        },
        Ty::String => Shape::String {
            min_len: c.min_length,
            max_len: c.max_length,
            pattern: c.pattern.clone(),
            format: c.format.clone(),
        },
        Ty::Array(t) => Shape::Array {
            items: Box::new(shape(api, t, &items, depth + 1)),
            min_items: c.min_items,
            max_items: c.max_items,
            unique: c.unique_items,
        },
        Ty::Map(t) => Shape::Map {
            values: Box::new(shape(api, t, &items, depth + 1)),
        },
        Ty::Tuple(ts) => Shape::Tuple {
            items: positions(api, ts, c, depth),
            required: ts.len(),
            rest: None,
            min_items: None,
            max_items: None,
        },
        Ty::Nullable(t) => Shape::Nullable {
            inner: Box::new(shape(api, t, c, depth + 1)),
        },
        Ty::Null => Shape::Null,
        Ty::Any | Ty::File => Shape::Any,
        Ty::Named(n) => match api.types.get(n).map(|t| &t.kind) {
            Some(TypeKind::Struct(_)) => Shape::Object { name: n.clone() },
            Some(TypeKind::Enum { variants, open }) => Shape::Enum {
                values: variants.iter().map(|v| v.value.clone()).collect(),
                open: *open,
            },
            Some(TypeKind::Union { variants }) => Shape::OneOf {
                options: variants
                    .iter()
                    .map(|v| shape(api, &v.ty, &v.constraints, depth + 1))
                    .collect(),
            },
            Some(TypeKind::Tagged { variants, .. }) => Shape::OneOf {
                options: variants
                    .iter()
                    .map(|v| Shape::Object {
                        name: tagged_name(n, &v.value),
                    })
                    .collect(),
            },
            Some(TypeKind::Alias(a)) => shape(api, a, c, depth + 1),
            Some(TypeKind::Tuple(tu)) => {
                let tc = &tu.constraints;
                let rest_c = tc.items.as_deref().cloned().unwrap_or_default();
                Shape::Tuple {
                    items: positions(api, &tu.items, tc, depth),
                    required: tu.required,
                    rest: tu
                        .rest
                        .as_ref()
                        .map(|r| Box::new(shape(api, r, &rest_c, depth + 1))),
                    min_items: tc.min_items,
                    max_items: tc.max_items,
                }
            }
            None => Shape::Any,
        },
    }
}

/// The shapes of a tuple's positions, each with its own constraints.
fn positions(api: &Api, items: &[Ty], c: &Constraints, depth: u32) -> Vec<Shape> {
    let none = Constraints::default();
    items
        .iter()
        .enumerate()
        .map(|(i, t)| shape(api, t, c.prefix.get(i).unwrap_or(&none), depth + 1))
        .collect()
}

/// The largest integer every JSON reader holds exactly (I-JSON, RFC 7493: 2^53 - 1).
pub const INTEROPERABLE: i64 = (1 << 53) - 1;

/// `schema` with every integer drawn within I-JSON's exact range: what a probe of a server
/// written in any language may send. (Judging keeps the document's own ranges.)
pub fn interoperable(mut schema: Schema) -> Schema {
    fn clamp(shape: &mut Shape) {
        match shape {
            Shape::Integer { range, .. } => {
                let (lo, hi) = range.unwrap_or((i64::MIN, i64::MAX));
                *range = Some((lo.max(-INTEROPERABLE), hi.min(INTEROPERABLE)));
            }
            Shape::Array { items, .. } => clamp(items),
            Shape::Map { values } => clamp(values),
            Shape::Nullable { inner } => clamp(inner),
            Shape::OneOf { options } => options.iter_mut().for_each(clamp),
            _ => {}
        }
    }
    for o in schema.objects.values_mut() {
        o.fields.iter_mut().for_each(|f| clamp(&mut f.shape));
    }
    for op in schema.operations.values_mut() {
        op.params.iter_mut().for_each(|p| clamp(&mut p.shape));
        if let Some(b) = &mut op.body {
            clamp(b);
        }
    }
    schema
}

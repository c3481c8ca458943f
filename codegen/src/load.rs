//! Loading: text (JSON or YAML) -> raw JSON -> lowered to 3.0 -> `openapiv3::OpenAPI`.

use crate::diag::{escape_segment, Diagnostics, Error};
use serde_json::Value;

/// Parses `text` as JSON, or as YAML when it is not JSON, and checks it is an OpenAPI document
/// (Swagger 2.0 is lowered onto 3.0 first, by `swagger2`).
pub(crate) fn parse_text(text: &str) -> Result<Value, Error> {
    let trimmed = text.trim_start();
    let value: Value = if trimmed.starts_with('{') {
        serde_json::from_str(text).map_err(|e| {
            Error::new(
                "",
                format!(
                    "not valid JSON (line {}, column {}): {e}",
                    e.line(),
                    e.column()
                ),
            )
        })?
    } else {
        serde_yaml::from_str::<Lenient>(text)
            .map(|l| l.0)
            .map_err(|e| {
                let at = e
                    .location()
                    .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
                    .unwrap_or_default();
                Error::new("", format!("not valid YAML{at}: {e}"))
            })?
    };
    let Some(obj) = value.as_object() else {
        return Err(Error::new("", "an OpenAPI document must be an object"));
    };
    match obj.get("openapi") {
        Some(Value::String(v)) if v.starts_with("3.0") || v.starts_with("3.1") => Ok(value),
        None if crate::swagger2::is_swagger2(&value) => Ok(value),
        Some(Value::String(v)) => Err(Error::new(
            "/openapi",
            format!("OpenAPI version {v} is not supported (3.0.x and 3.1.x are)"),
        )),
        Some(_) => Err(Error::new("/openapi", "`openapi` must be a version string")),
        None if obj.contains_key("swagger") => Err(Error::new(
            "/swagger",
            "only Swagger 2.0 is read of the Swagger versions (`swagger: \"2.0\"`)",
        )),
        None => Err(Error::new("", "missing `openapi` version field")),
    }
}

/// A JSON value read from YAML, where an integer beyond `i64`/`u64` (YAML has no bound; a JSON
/// document's such numbers become floats when serde_json reads them) becomes the nearest `f64`,
/// as it does from JSON, instead of failing the whole document.
struct Lenient(Value);

impl<'de> serde::Deserialize<'de> for Lenient {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LenientVisitor).map(Lenient)
    }
}

struct LenientVisitor;

impl<'de> serde::de::Visitor<'de> for LenientVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(i64::try_from(v)
            .map(Value::from)
            .unwrap_or_else(|_| float(v as f64)))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(u64::try_from(v)
            .map(Value::from)
            .unwrap_or_else(|_| float(v as f64)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Lenient(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut obj = serde_json::Map::new();
        // Keys are read as text, as serde_json's own value does: `200:` is the key "200".
        while let Some((k, Lenient(v))) = map.next_entry::<String, Lenient>()? {
            obj.insert(k, v);
        }
        Ok(Value::Object(obj))
    }
}

/// A float as JSON; YAML's `.inf` and `.nan`, which JSON cannot hold, as null (as serde_json does).
fn float(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// A document read, in the 3.x shape (a Swagger 2.0 one converted), with the map from its
/// pointers back to the document as written when asked for.
pub(crate) struct Read {
    pub value: Value,
    pub map: crate::swagger2::PointerMap,
    /// Whether it was a Swagger 2.0 document.
    pub converted: bool,
}

/// Parses `text` and, when it is Swagger 2.0, converts it (its own warnings go to `diags`, naming
/// 2.0 nodes), writing down the pointer map when `record`.
pub(crate) fn read(text: &str, diags: &mut Diagnostics, record: bool) -> Result<Read, Error> {
    let value = parse_text(text)?;
    if crate::swagger2::is_swagger2(&value) {
        let (value, map) = crate::swagger2::convert(value, diags, record)?;
        return Ok(Read {
            value,
            map,
            converted: true,
        });
    }
    Ok(Read {
        value,
        map: Default::default(),
        converted: false,
    })
}

/// Lowers a parsed document and reads it into openapiv3's model.
pub(crate) fn load(read: Read, diags: &mut Diagnostics) -> Result<openapiv3::OpenAPI, Error> {
    let mut value = read.value;
    crate::lower::lower_document(&mut value, diags);
    from_value(value)
}

pub(crate) fn from_value(value: Value) -> Result<openapiv3::OpenAPI, Error> {
    match typed::<openapiv3::OpenAPI>(&value, "") {
        Ok(doc) => Ok(doc),
        // openapiv3 reads many nodes through untagged enums and flattened maps, where serde forgets
        // the path; find the deepest node that fails on its own instead.
        Err(top) => Err(locate(&value, "", Kind::Document).unwrap_or(top)),
    }
}

/// Deserializes `value` as `T`, locating the error under `base`.
fn typed<T: serde::de::DeserializeOwned>(value: &Value, base: &str) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut pointer = base.to_string();
        for seg in e.path().iter() {
            use serde_path_to_error::Segment;
            match seg {
                Segment::Seq { index } => {
                    pointer.push('/');
                    pointer.push_str(&index.to_string());
                }
                Segment::Map { key } => {
                    pointer.push('/');
                    pointer.push_str(&escape_segment(key));
                }
                Segment::Enum { .. } | Segment::Unknown => {}
            }
        }
        let msg = e.inner().to_string();
        let msg = if msg.starts_with("data did not match any variant") {
            "not a valid node here (neither a `$ref` nor a well-formed object)".to_string()
        } else {
            msg
        };
        Error::new(pointer, format!("invalid document: {msg}"))
    })
}

/// The kinds of node the locator knows, each with its openapiv3 type and children.
#[derive(Clone, Copy)]
enum Kind {
    Document,
    Info,
    PathItem,
    Operation,
    Parameter,
    RequestBody,
    Response,
    MediaType,
    Schema,
    Components,
    SecurityScheme,
}

fn check(value: &Value, ptr: &str, kind: Kind) -> Result<(), Error> {
    use openapiv3 as o;
    let is_ref = value.get("$ref").is_some();
    match kind {
        Kind::Document => typed::<o::OpenAPI>(value, ptr).map(drop),
        Kind::Info => typed::<o::Info>(value, ptr).map(drop),
        Kind::PathItem => typed::<o::ReferenceOr<o::PathItem>>(value, ptr).map(drop),
        Kind::Operation => typed::<o::Operation>(value, ptr).map(drop),
        Kind::Parameter if is_ref => typed::<o::ReferenceOr<o::Parameter>>(value, ptr).map(drop),
        Kind::Parameter => typed::<o::Parameter>(value, ptr).map(drop),
        Kind::RequestBody if is_ref => {
            typed::<o::ReferenceOr<o::RequestBody>>(value, ptr).map(drop)
        }
        Kind::RequestBody => typed::<o::RequestBody>(value, ptr).map(drop),
        Kind::Response if is_ref => typed::<o::ReferenceOr<o::Response>>(value, ptr).map(drop),
        Kind::Response => typed::<o::Response>(value, ptr).map(drop),
        Kind::MediaType => typed::<o::MediaType>(value, ptr).map(drop),
        Kind::Schema if is_ref => typed::<o::ReferenceOr<o::Schema>>(value, ptr).map(drop),
        Kind::Schema => typed::<o::Schema>(value, ptr).map(drop),
        Kind::Components => typed::<o::Components>(value, ptr).map(drop),
        Kind::SecurityScheme => typed::<o::ReferenceOr<o::SecurityScheme>>(value, ptr).map(drop),
    }
}

/// The children of a node that the locator descends into.
fn children(value: &Value, kind: Kind) -> Vec<(String, &Value, Kind)> {
    let mut out = Vec::new();
    let Some(obj) = value.as_object() else {
        return out;
    };
    match kind {
        Kind::Document => {
            push_map(obj, "paths", Kind::PathItem, &mut out);
            if let Some(v) = obj.get("info") {
                out.push(("/info".into(), v, Kind::Info));
            }
            if let Some(v) = obj.get("components") {
                out.push(("/components".into(), v, Kind::Components));
            }
        }
        Kind::Components => {
            push_map(obj, "schemas", Kind::Schema, &mut out);
            push_map(obj, "parameters", Kind::Parameter, &mut out);
            push_map(obj, "responses", Kind::Response, &mut out);
            push_map(obj, "requestBodies", Kind::RequestBody, &mut out);
            push_map(obj, "securitySchemes", Kind::SecurityScheme, &mut out);
        }
        Kind::PathItem => {
            for m in [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ] {
                if let Some(v) = obj.get(m) {
                    out.push((format!("/{m}"), v, Kind::Operation));
                }
            }
            push_list(obj, "parameters", Kind::Parameter, &mut out);
        }
        Kind::Operation => {
            push_list(obj, "parameters", Kind::Parameter, &mut out);
            if let Some(v) = obj.get("requestBody") {
                out.push(("/requestBody".into(), v, Kind::RequestBody));
            }
            push_map(obj, "responses", Kind::Response, &mut out);
        }
        Kind::Parameter => {
            if let Some(v) = obj.get("schema") {
                out.push(("/schema".into(), v, Kind::Schema));
            }
            push_map(obj, "content", Kind::MediaType, &mut out);
        }
        Kind::RequestBody | Kind::Response => push_map(obj, "content", Kind::MediaType, &mut out),
        Kind::MediaType => {
            if let Some(v) = obj.get("schema") {
                out.push(("/schema".into(), v, Kind::Schema));
            }
        }
        Kind::Schema => {
            push_map(obj, "properties", Kind::Schema, &mut out);
            for key in ["items", "not", "additionalProperties"] {
                if let Some(v) = obj.get(key).filter(|v| v.is_object()) {
                    out.push((format!("/{key}"), v, Kind::Schema));
                }
            }
            for key in ["allOf", "anyOf", "oneOf"] {
                push_list(obj, key, Kind::Schema, &mut out);
            }
        }
        Kind::Info | Kind::SecurityScheme => {}
    }
    out
}

fn push_map<'v>(
    obj: &'v serde_json::Map<String, Value>,
    key: &str,
    kind: Kind,
    out: &mut Vec<(String, &'v Value, Kind)>,
) {
    if let Some(Value::Object(m)) = obj.get(key) {
        for (k, v) in m {
            out.push((
                format!("/{}/{}", escape_segment(key), escape_segment(k)),
                v,
                kind,
            ));
        }
    }
}

fn push_list<'v>(
    obj: &'v serde_json::Map<String, Value>,
    key: &str,
    kind: Kind,
    out: &mut Vec<(String, &'v Value, Kind)>,
) {
    if let Some(Value::Array(items)) = obj.get(key) {
        for (i, v) in items.iter().enumerate() {
            out.push((format!("/{key}/{i}"), v, kind));
        }
    }
}

/// The deepest failing node under `value` (which fails as `kind`), or `None` if it does not fail.
fn locate(value: &Value, ptr: &str, kind: Kind) -> Option<Error> {
    let own = check(value, ptr, kind).err()?;
    for (suffix, child, child_kind) in children(value, kind) {
        if let Some(e) = locate(child, &format!("{ptr}{suffix}"), child_kind) {
            return Some(e);
        }
    }
    Some(own)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_node_is_located() {
        let text = r#"{"openapi":"3.0.3","info":{"title":"t","version":"1"},
            "paths":{"/a":{"get":{"responses":{"200":{"description":5}}}}}}"#;
        let mut d = Diagnostics::default();
        let err = load(read(text, &mut d, false).unwrap(), &mut d).unwrap_err();
        assert_eq!(err.pointer, "/paths/~1a/get/responses/200/description");
    }

    #[test]
    fn swagger_two_is_read_and_one_point_two_is_refused() {
        assert!(parse_text("swagger: '2.0'\n").is_ok());
        let err = parse_text("swagger: '1.2'\n").unwrap_err();
        assert_eq!(err.pointer, "/swagger");
    }

    #[test]
    fn upstream_float_exclusive_minimum_loads_after_lowering() {
        let text = r#"{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{},
            "components":{"schemas":{"A":{"type":"number","exclusiveMinimum":0.0}}}}"#;
        let raw: Value = serde_json::from_str(text).unwrap();
        assert!(from_value(raw).is_err(), "openapiv3 alone rejects it");
        let mut d = Diagnostics::default();
        assert!(load(read(text, &mut d, false).unwrap(), &mut d).is_ok());
    }
}

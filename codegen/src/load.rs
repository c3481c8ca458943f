//! Loading: text (JSON or YAML) -> raw JSON -> lowered to 3.0 -> `openapiv3::OpenAPI`.

use crate::diag::{escape_segment, Diagnostics, Error};
use serde_json::Value;

/// Parses `text` as JSON, or as YAML when it is not JSON, and checks it is an OpenAPI 3.0/3.1 document.
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
        serde_yaml::from_str(text).map_err(|e| {
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
        Some(Value::String(v)) => Err(Error::new(
            "/openapi",
            format!("OpenAPI version {v} is not supported (3.0.x and 3.1.x are)"),
        )),
        Some(_) => Err(Error::new("/openapi", "`openapi` must be a version string")),
        None if obj.contains_key("swagger") => Err(Error::new(
            "/swagger",
            "Swagger 2.0 is not supported; convert the document to OpenAPI 3 first",
        )),
        None => Err(Error::new("", "missing `openapi` version field")),
    }
}

/// Lowers a parsed document and reads it into openapiv3's model.
pub(crate) fn load(text: &str, diags: &mut Diagnostics) -> Result<openapiv3::OpenAPI, Error> {
    let mut value = parse_text(text)?;
    crate::lower::lower_document(&mut value, diags);
    from_value(value)
}

fn from_value(value: Value) -> Result<openapiv3::OpenAPI, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut pointer = String::new();
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
        Error::new(pointer, format!("invalid document: {}", e.inner()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_node_is_located() {
        let text = r#"{"openapi":"3.0.3","info":{"title":"t","version":"1"},
            "paths":{"/a":{"get":{"responses":{"200":{"description":5}}}}}}"#;
        let err = load(text, &mut Diagnostics::default()).unwrap_err();
        assert_eq!(err.pointer, "/paths/~1a/get/responses/200/description");
    }

    #[test]
    fn swagger_two_is_refused() {
        let err = parse_text("swagger: '2.0'\n").unwrap_err();
        assert_eq!(err.pointer, "/swagger");
    }

    #[test]
    fn upstream_float_exclusive_minimum_loads_after_lowering() {
        let text = r#"{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{},
            "components":{"schemas":{"A":{"type":"number","exclusiveMinimum":0.0}}}}"#;
        let raw: Value = serde_json::from_str(text).unwrap();
        assert!(from_value(raw).is_err(), "openapiv3 alone rejects it");
        assert!(load(text, &mut Diagnostics::default()).is_ok());
    }
}

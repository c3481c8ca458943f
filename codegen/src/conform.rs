//! Does a JSON value conform to a schema of the document, as the document wrote it?
//!
//! This reads the document before lowering, in either dialect: 3.0 (`nullable`, boolean
//! `exclusiveMinimum`, tuple `items`) and 3.1 (type arrays, `const`, numeric exclusive bounds,
//! `prefixItems`). It is independent of the IR on purpose: it decides whether an example is one the
//! document allows, and the IR is what that example then tests.
//!
//! Not judged, because a JSON round-trip does not depend on them: `pattern` and string formats.
//! Integer formats are judged, as the ranges OpenAPI gives them. A `$ref` that cannot be followed
//! passes.

use serde_json::Value;

/// How deep `$ref`s and subschemas are followed before a value is let pass.
const MAX_DEPTH: usize = 64;

/// The first reason `value` does not conform to `schema` (a node of `doc`), or `None`.
pub fn violation(doc: &Value, schema: &Value, value: &Value) -> Option<String> {
    let mut at = String::new();
    check(doc, schema, value, &mut at, 0)
}

fn check(doc: &Value, schema: &Value, v: &Value, at: &mut String, depth: usize) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    let s = match schema {
        Value::Bool(true) => return None,
        Value::Bool(false) => return Some(fail(at, "no value is allowed here")),
        Value::Object(s) => s,
        _ => return None,
    };
    if v.is_null() && s.get("nullable") == Some(&Value::Bool(true)) {
        return None;
    }
    if let Some(Value::String(r)) = s.get("$ref") {
        if let Some(target) = resolve(doc, r) {
            if let Some(e) = check(doc, target, v, at, depth + 1) {
                return Some(e);
            }
        }
    }
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => is_type(v, t),
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(|t| is_type(v, t)),
            _ => true,
        };
        if !ok {
            return Some(fail(at, &format!("expected type {t}, found {}", kind(v))));
        }
    }
    if let Some(Value::Array(values)) = s.get("enum") {
        if !values.iter().any(|e| same(e, v)) {
            return Some(fail(
                at,
                &format!("{} is not one of the enum's values", short(v)),
            ));
        }
    }
    if let Some(c) = s.get("const") {
        if !same(c, v) {
            return Some(fail(
                at,
                &format!("{} is not the const {}", short(v), short(c)),
            ));
        }
    }
    if let Some(e) = match v {
        Value::Number(_) => number(s, v, at),
        Value::String(text) => string(s, text, at),
        Value::Array(items) => array(doc, s, items, at, depth),
        Value::Object(_) => object(doc, s, v, at, depth),
        _ => None,
    } {
        return Some(e);
    }
    if let Some(Value::Array(all)) = s.get("allOf") {
        for b in all {
            if let Some(e) = check(doc, b, v, at, depth + 1) {
                return Some(e);
            }
        }
    }
    if let Some(Value::Array(any)) = s.get("anyOf") {
        if !any.is_empty() && !any.iter().any(|b| passes(doc, b, v, depth)) {
            return Some(fail(at, "matches no branch of anyOf"));
        }
    }
    if let Some(Value::Array(one)) = s.get("oneOf") {
        let fits: Vec<&Value> = one.iter().filter(|b| passes(doc, b, v, depth)).collect();
        // Several branches fit, but one of them has a pattern or a format, which is not judged
        // here: which branch the value is cannot be decided, and it is let pass.
        let undecided = fits.len() > 1 && fits.iter().any(|b| unjudged(doc, b, 0));
        if !one.is_empty() && fits.len() != 1 && !undecided {
            return Some(fail(
                at,
                &format!("matches {} branches of oneOf, not one", fits.len()),
            ));
        }
    }
    if let Some(not) = s.get("not") {
        if passes(doc, not, v, depth) {
            return Some(fail(at, "matches the schema under `not`"));
        }
    }
    None
}

fn passes(doc: &Value, schema: &Value, v: &Value, depth: usize) -> bool {
    check(doc, schema, v, &mut String::new(), depth + 1).is_none()
}

fn fail(at: &str, what: &str) -> String {
    if at.is_empty() {
        what.to_string()
    } else {
        format!("at {at}: {what}")
    }
}

/// Follows a local `$ref` (`#/...`, percent-decoded and pointer-unescaped by `Value::pointer`).
pub fn resolve<'d>(doc: &'d Value, r: &str) -> Option<&'d Value> {
    let frag = r.strip_prefix('#')?;
    doc.pointer(&percent_decode(frag))
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_type(v: &Value, t: &str) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "number" => v.is_number(),
        "integer" => is_integer(v),
        _ => true,
    }
}

fn is_integer(v: &Value) -> bool {
    v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) if is_integer(v) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 40 {
        format!("{}...", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || (x.as_f64().is_some() && x.as_f64() == y.as_f64())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, a)| y.get(k).is_some_and(|b| same(a, b)))
        }
        _ => a == b,
    }
}

/// Whether a schema (through `$ref`s, combinators, items and properties; bounded) holds a
/// `pattern` or a string `format`, the keywords this module does not judge.
fn unjudged(doc: &Value, schema: &Value, depth: usize) -> bool {
    if depth > 8 {
        return true;
    }
    let Some(s) = schema.as_object() else {
        return false;
    };
    if s.contains_key("pattern")
        || s.get("format")
            .and_then(Value::as_str)
            .is_some_and(|f| !f.starts_with("int") && !f.starts_with("uint"))
    {
        return true;
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        if resolve(doc, r).is_some_and(|t| unjudged(doc, t, depth + 1)) {
            return true;
        }
    }
    let nested = ["allOf", "anyOf", "oneOf"]
        .iter()
        .filter_map(|k| s.get(*k).and_then(Value::as_array))
        .flatten()
        .chain(s.get("items"))
        .chain(
            s.get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|p| p.values()),
        );
    for n in nested {
        if unjudged(doc, n, depth + 1) {
            return true;
        }
    }
    false
}

/// A JSON number written as an integer.
fn int_of(v: &Value) -> Option<i128> {
    v.as_i64()
        .map(i128::from)
        .or_else(|| v.as_u64().map(i128::from))
}

fn number(s: &serde_json::Map<String, Value>, v: &Value, at: &str) -> Option<String> {
    let x = v.as_f64()?;
    let num = |k: &str| s.get(k).and_then(Value::as_f64);
    let flag = |k: &str| s.get(k) == Some(&Value::Bool(true));
    // Integers against integer bounds compare exactly: beyond 2^53, floats round them together.
    let exact = |k: &str| -> Option<std::cmp::Ordering> {
        let b = s.get(k)?;
        let (a, b) = (int_of(v)?, int_of(b)?);
        Some(a.cmp(&b))
    };
    if let Some(o) = exact("maximum") {
        if o.is_gt() || (flag("exclusiveMaximum") && o.is_eq()) {
            return Some(fail(
                at,
                &format!("{v} is above the maximum {}", s["maximum"]),
            ));
        }
    }
    if let Some(o) = exact("minimum") {
        if o.is_lt() || (flag("exclusiveMinimum") && o.is_eq()) {
            return Some(fail(
                at,
                &format!("{v} is below the minimum {}", s["minimum"]),
            ));
        }
    }
    if let Some(min) = num("minimum") {
        if x < min || (flag("exclusiveMinimum") && x == min) {
            return Some(fail(at, &format!("{x} is below the minimum {min}")));
        }
    }
    if let Some(max) = num("maximum") {
        if x > max || (flag("exclusiveMaximum") && x == max) {
            return Some(fail(at, &format!("{x} is above the maximum {max}")));
        }
    }
    if let Some(min) = num("exclusiveMinimum") {
        if x <= min {
            return Some(fail(at, &format!("{x} is not above {min}")));
        }
    }
    if let Some(max) = num("exclusiveMaximum") {
        if x >= max {
            return Some(fail(at, &format!("{x} is not below {max}")));
        }
    }
    if let Some(m) = num("multipleOf").filter(|m| *m > 0.0) {
        // An integer and a whole step compare exactly; beyond 2^53 a float quotient cannot.
        let exact = match (int_of(v), s.get("multipleOf").and_then(int_of)) {
            (Some(n), Some(step)) if step > 0 => Some(n % step == 0),
            _ => None,
        };
        let q = x / m;
        let multiple = exact.unwrap_or((q - q.round()).abs() <= 1e-9 * q.abs().max(1.0));
        if !multiple {
            return Some(fail(at, &format!("{v} is not a multiple of {m}")));
        }
    }
    if is_integer(v) {
        let range: Option<(f64, f64)> = match s.get("format").and_then(Value::as_str) {
            Some("int8") => Some((i8::MIN as f64, i8::MAX as f64)),
            Some("int16") => Some((i16::MIN as f64, i16::MAX as f64)),
            Some("int32") => Some((i32::MIN as f64, i32::MAX as f64)),
            Some("uint8") => Some((0.0, u8::MAX as f64)),
            Some("uint16") => Some((0.0, u16::MAX as f64)),
            Some("uint32") => Some((0.0, u32::MAX as f64)),
            _ => None,
        };
        if let Some((lo, hi)) = range {
            if x < lo || x > hi {
                return Some(fail(at, &format!("{x} does not fit its integer format")));
            }
        }
        let format = s.get("format").and_then(Value::as_str);
        if format == Some("int64") && !v.is_i64() {
            return Some(fail(at, &format!("{x} does not fit int64")));
        }
        if format == Some("uint64") && !v.is_u64() {
            return Some(fail(at, &format!("{x} does not fit uint64")));
        }
    }
    None
}

fn string(s: &serde_json::Map<String, Value>, text: &str, at: &str) -> Option<String> {
    let len = text.chars().count() as u64;
    if let Some(min) = s.get("minLength").and_then(Value::as_u64) {
        if len < min {
            return Some(fail(at, &format!("shorter than minLength {min}")));
        }
    }
    if let Some(max) = s.get("maxLength").and_then(Value::as_u64) {
        if len > max {
            return Some(fail(at, &format!("longer than maxLength {max}")));
        }
    }
    None
}

fn array(
    doc: &Value,
    s: &serde_json::Map<String, Value>,
    items: &[Value],
    at: &mut String,
    depth: usize,
) -> Option<String> {
    let n = items.len() as u64;
    if s.get("minItems")
        .and_then(Value::as_u64)
        .is_some_and(|m| n < m)
    {
        return Some(fail(at, "fewer items than minItems"));
    }
    if s.get("maxItems")
        .and_then(Value::as_u64)
        .is_some_and(|m| n > m)
    {
        return Some(fail(at, "more items than maxItems"));
    }
    if s.get("uniqueItems") == Some(&Value::Bool(true)) {
        for (i, a) in items.iter().enumerate() {
            if items[..i].iter().any(|b| same(a, b)) {
                return Some(fail(at, "items are not unique"));
            }
        }
    }
    let prefix: &[Value] = match (s.get("prefixItems"), s.get("items")) {
        (Some(Value::Array(p)), _) => p,
        (_, Some(Value::Array(p))) => p,
        _ => &[],
    };
    let rest = match s.get("items") {
        Some(Value::Array(_)) => None,
        other => other,
    };
    for (i, item) in items.iter().enumerate() {
        let schema = prefix
            .get(i)
            .or(if i >= prefix.len() { rest } else { None });
        if let Some(schema) = schema {
            let len = at.len();
            at.push_str(&format!("/{i}"));
            let e = check(doc, schema, item, at, depth + 1);
            at.truncate(len);
            if e.is_some() {
                return e;
            }
        }
    }
    None
}

fn object(
    doc: &Value,
    s: &serde_json::Map<String, Value>,
    v: &Value,
    at: &mut String,
    depth: usize,
) -> Option<String> {
    let obj = v.as_object()?;
    if let Some(Value::Array(required)) = s.get("required") {
        for r in required.iter().filter_map(Value::as_str) {
            if !obj.contains_key(r) {
                return Some(fail(at, &format!("required property `{r}` is missing")));
            }
        }
    }
    let n = obj.len() as u64;
    if s.get("minProperties")
        .and_then(Value::as_u64)
        .is_some_and(|m| n < m)
    {
        return Some(fail(at, "fewer properties than minProperties"));
    }
    if s.get("maxProperties")
        .and_then(Value::as_u64)
        .is_some_and(|m| n > m)
    {
        return Some(fail(at, "more properties than maxProperties"));
    }
    let props = s.get("properties").and_then(Value::as_object);
    let patterned = s.get("patternProperties").is_some();
    for (k, val) in obj {
        let schema = match props.and_then(|p| p.get(k)) {
            Some(schema) => schema,
            None if patterned => continue,
            None => match s.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    return Some(fail(at, &format!("property `{k}` is not declared")));
                }
                Some(extra @ Value::Object(_)) => extra,
                _ => continue,
            },
        };
        let len = at.len();
        at.push('/');
        at.push_str(&k.replace('~', "~0").replace('/', "~1"));
        let e = check(doc, schema, val, at, depth + 1);
        at.truncate(len);
        if e.is_some() {
            return e;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn judge(schema: Value, v: Value) -> Option<String> {
        let doc = json!({"components": {"schemas": {"S": schema.clone()}}});
        violation(&doc, &json!({"$ref": "#/components/schemas/S"}), &v)
    }

    #[test]
    fn both_dialects_of_null_and_bounds() {
        assert!(judge(json!({"type": "integer", "nullable": true}), json!(null)).is_none());
        assert!(judge(json!({"type": ["integer", "null"]}), json!(null)).is_none());
        assert!(judge(json!({"type": "integer"}), json!(null)).is_some());
        let old = json!({"type": "number", "minimum": 1, "exclusiveMinimum": true});
        assert!(judge(old.clone(), json!(1)).is_some());
        assert!(judge(old, json!(1.5)).is_none());
        assert!(judge(json!({"exclusiveMaximum": 3}), json!(3)).is_some());
        assert!(judge(json!({"type": "integer"}), json!(2.0)).is_none());
        assert!(judge(json!({"type": "integer"}), json!(2.5)).is_some());
        assert!(judge(json!({"multipleOf": 0.1}), json!(0.3)).is_none());
        // Beyond 2^53, exactly: 9033810484125115 is a multiple of 5, its float is not.
        assert!(judge(json!({"multipleOf": 5}), json!(9_033_810_484_125_115u64)).is_none());
        assert!(judge(json!({"multipleOf": 5}), json!(9_033_810_484_125_116u64)).is_some());
        assert!(judge(
            json!({"type": "integer", "format": "int32"}),
            json!(5_000_000_000u64)
        )
        .is_some());
    }

    #[test]
    fn objects_arrays_and_combinators() {
        let s = json!({
            "type": "object", "required": ["a"], "additionalProperties": false,
            "properties": {"a": {"type": "array", "items": {"enum": ["x", "y"]}, "uniqueItems": true}}
        });
        assert!(judge(s.clone(), json!({"a": ["x", "y"]})).is_none());
        let e = judge(s.clone(), json!({"a": ["x", "z"]})).unwrap();
        assert!(e.starts_with("at /a/1:"), "{e}");
        assert!(judge(s.clone(), json!({"a": ["x", "x"]})).is_some());
        assert!(judge(s.clone(), json!({})).is_some());
        assert!(judge(s, json!({"a": [], "b": 1})).is_some());
        let one = json!({"oneOf": [{"type": "integer"}, {"type": "number"}]});
        assert!(judge(one.clone(), json!(1.5)).is_none());
        assert_eq!(
            judge(one, json!(1)).as_deref(),
            Some("matches 2 branches of oneOf, not one")
        );
        assert!(judge(json!({"not": {"type": "string"}}), json!("s")).is_some());
        assert!(judge(json!({"prefixItems": [{"type": "string"}]}), json!([1])).is_some());
        assert!(judge(json!({"$ref": "#/nowhere"}), json!(1)).is_none());
    }
}

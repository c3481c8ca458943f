//! `allOf` of schemas that are not objects: strings, enums, numbers, arrays, and annotation-only
//! branches, merged into the one schema a value must satisfy. (Object branches are merged into a
//! struct by `build`, property by property.)
//!
//! The merge works on the JSON form of openapiv3 schemas, the outer schema first: its annotations
//! (description, title, default, example, nullable, extensions) win; constraints combine so that
//! the result admits what every branch admits: the larger minimum, the smaller maximum, the
//! intersection of enums.

use serde_json::{Map, Value};

/// Keywords that give a schema a type of its own (as opposed to annotating a reference).
pub(crate) fn has_own_type(s: &Map<String, Value>) -> bool {
    [
        "type",
        "enum",
        "format",
        "items",
        "properties",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "multipleOf",
    ]
    .iter()
    .any(|k| s.contains_key(*k))
}

/// What a merge could not reconcile, for a warning.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Conflicts(pub Vec<String>);

/// Merges `branch` into `acc` (the outer schema, or what has been merged so far).
pub(crate) fn merge_into(
    acc: &mut Map<String, Value>,
    branch: &Map<String, Value>,
    c: &mut Conflicts,
) {
    for (k, v) in branch {
        match k.as_str() {
            "allOf" | "$ref" => {}
            "type" => match acc.get("type") {
                None => {
                    acc.insert(k.clone(), v.clone());
                }
                Some(a) if a == v => {}
                Some(a) => {
                    let pair = (a.as_str(), v.as_str());
                    if matches!(pair, (Some("number"), Some("integer"))) {
                        acc.insert(k.clone(), v.clone());
                    } else if !matches!(pair, (Some("integer"), Some("number"))) {
                        c.0.push(format!("types `{a}` and `{v}` disagree; `{a}` is kept"));
                    }
                }
            },
            "enum" => match (acc.get("enum"), v) {
                (Some(Value::Array(a)), Value::Array(b)) => {
                    let both: Vec<Value> = a.iter().filter(|x| b.contains(x)).cloned().collect();
                    if both.is_empty() {
                        c.0.push("the enums share no value; the outer one is kept".into());
                    } else {
                        acc.insert(k.clone(), Value::Array(both));
                    }
                }
                (None, _) => {
                    acc.insert(k.clone(), v.clone());
                }
                _ => {}
            },
            "minimum" | "minLength" | "minItems" | "minProperties" => keep_extreme(acc, k, v, true),
            "maximum" | "maxLength" | "maxItems" | "maxProperties" => {
                keep_extreme(acc, k, v, false)
            }
            // Annotations and everything else: the outer schema's (or the first branch's) win.
            _ => {
                acc.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
}

fn keep_extreme(acc: &mut Map<String, Value>, k: &str, v: &Value, larger: bool) {
    let new = v.as_f64();
    let old = acc.get(k).and_then(Value::as_f64);
    let replace = match (old, new) {
        (None, Some(_)) => true,
        (Some(o), Some(n)) => {
            if larger {
                n > o
            } else {
                n < o
            }
        }
        _ => false,
    };
    if replace {
        acc.insert(k.to_string(), v.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn an_outer_enum_narrows_a_referenced_string() {
        let mut acc = obj(json!({"type": "string", "enum": ["a", "b"], "description": "outer"}));
        let mut c = Conflicts::default();
        merge_into(
            &mut acc,
            &obj(
                json!({"type": "string", "enum": ["a", "b", "c"], "description": "inner", "format": "snowflake"}),
            ),
            &mut c,
        );
        assert_eq!(
            Value::Object(acc),
            json!({"type": "string", "enum": ["a", "b"], "description": "outer", "format": "snowflake"})
        );
        assert!(c.0.is_empty());
    }

    #[test]
    fn bounds_tighten_and_integer_beats_number() {
        let mut acc = obj(json!({"minimum": 1, "maximum": 100, "type": "number"}));
        let mut c = Conflicts::default();
        merge_into(
            &mut acc,
            &obj(json!({"minimum": 5, "maximum": 200, "type": "integer"})),
            &mut c,
        );
        assert_eq!(
            Value::Object(acc),
            json!({"minimum": 5, "maximum": 100, "type": "integer"})
        );
    }

    #[test]
    fn disagreeing_types_and_disjoint_enums_are_reported() {
        let mut acc = obj(json!({"type": "string", "enum": ["a"]}));
        let mut c = Conflicts::default();
        merge_into(
            &mut acc,
            &obj(json!({"type": "boolean", "enum": ["b"]})),
            &mut c,
        );
        assert_eq!(c.0.len(), 2, "{c:?}");
        assert_eq!(acc["type"], "string");
    }

    #[test]
    fn own_types() {
        assert!(has_own_type(&obj(json!({"enum": [1]}))));
        assert!(!has_own_type(&obj(
            json!({"description": "d", "nullable": true})
        )));
    }
}

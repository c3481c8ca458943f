//! The operations the stateful suite works on, found from the document's own facts: the
//! operation whose body carries `x-readback` fields is the update, and the GET of the same path
//! reads it back. Change the spec, and the suite follows.

use crate::meta::{schema, Object, Operation, Shape};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The update: the first operation (by client method name) whose JSON body has a field with
/// `x-readback`.
pub fn update_op() -> &'static Operation {
    schema()
        .operations
        .values()
        .find(|op| {
            op.body
                .as_ref()
                .and_then(object_of)
                .is_some_and(|o| o.fields.iter().any(|f| f.readback.is_some()))
        })
        .expect("the spec has an operation whose body carries x-readback fields")
}

/// The read-back: the GET of the update's path.
pub fn get_op() -> &'static Operation {
    let path = &update_op().path;
    schema()
        .operations
        .values()
        .find(|op| op.method == "GET" && &op.path == path)
        .expect("the spec documents a GET of the updated resource")
}

/// The object a shape names, if it names one.
pub fn object_of(shape: &Shape) -> Option<&'static Object> {
    match shape {
        Shape::Object { name } => schema().object(name),
        Shape::Nullable { inner } => object_of(inner),
        _ => None,
    }
}

/// The body of an update.
pub fn update_body() -> &'static Object {
    update_op()
        .body
        .as_ref()
        .and_then(object_of)
        .expect("the update takes an object body")
}

/// The CVM as read back (the GET's 200 body).
pub fn readback_object() -> Option<&'static Object> {
    get_op()
        .responses
        .iter()
        .find(|r| r.status == 200)
        .and_then(|r| r.body.as_ref())
        .and_then(object_of)
}

/// The path of the resource `id`: the update's path template with its one path parameter set.
pub fn resource_path(id: &str) -> String {
    let op = update_op();
    let name = op
        .params
        .iter()
        .find(|p| p.location == "path")
        .map(|p| p.name.as_str())
        .unwrap_or("id");
    op.path.replace(
        &format!("{{{name}}}"),
        &openapi_runtime::encode_component(id),
    )
}

/// The update's body fields that are secrets (`format: password`, `writeOnly`).
pub fn secret_fields() -> Vec<&'static str> {
    update_body()
        .fields
        .iter()
        .filter(|f| f.secret)
        .map(|f| f.name.as_str())
        .collect()
}

/// The `x-two-phase` extension of the update: a change that takes two calls (see spec/).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TwoPhase {
    /// Sent as `true`, the update only prepares.
    pub prepare_header: String,
    /// What a prepare-only update may get.
    pub prepare_statuses: Vec<u16>,
    /// The status that starts phase two.
    pub starts: u16,
    /// The field of that answer that phase two sends back.
    pub hash_field: String,
    /// The header that carries it back.
    pub hash_header: String,
    /// The header that carries the transaction's hash.
    pub transaction_header: String,
    /// What phase two with a hash that is not the one given may get.
    pub wrong_hash_statuses: Vec<u16>,
    /// What phase two may get.
    pub finish_statuses: Vec<u16>,
    /// What phase two with the right hash and a transaction hash that cannot be one (missing,
    /// empty, not hex) may get; not probed when empty.
    #[serde(default)]
    pub bad_transaction_statuses: Vec<u16>,
    /// A body that starts the flow; `{n}` in its strings is replaced by a per-run number.
    pub trigger: BTreeMap<String, Value>,
}

impl TwoPhase {
    /// The trigger body for run number `n`.
    pub fn trigger_body(&self, n: u64) -> Value {
        Value::Object(
            self.trigger
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => Value::String(s.replace("{n}", &n.to_string())),
                        other => other.clone(),
                    };
                    (k.clone(), v)
                })
                .collect(),
        )
    }
}

/// The update's two-phase flow, when the spec describes one.
pub fn two_phase() -> Option<TwoPhase> {
    let v = update_op().extensions.get("x-two-phase")?;
    serde_json::from_value(v.clone()).ok()
}

/// The faults generated from the document for the update and its read-back
/// ([`crate::faults::of_operation`]): the mutants the reference server can become.
pub fn generated_faults() -> &'static [crate::faults::Generated] {
    static ALL: std::sync::OnceLock<Vec<crate::faults::Generated>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut all = crate::faults::of_operation(
            schema(),
            update_op(),
            readback_object(),
            two_phase().is_some(),
        );
        all.extend(crate::faults::of_operation(schema(), get_op(), None, false));
        all.extend(crate::faults::of_paths([update_op(), get_op()]));
        all.sort_by_key(crate::faults::Generated::name);
        all
    })
}

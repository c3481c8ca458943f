//! A replace replaces (RFC 9110, section 9.3.4: PUT sets the whole state of the resource): after
//! a PUT that sets each optional field the read shows, a PUT of the least body (what the
//! document requires, nothing else) must leave none of those values behind (`patch_semantics`).
//!
//! Only fields whose value the run chose and that a server could not have given by default are
//! judged: scalars, set to a value other than the one they read before, and never the usual
//! defaults (`""`, `0`, `false`, null). A field the least body leaves out may read back as
//! absent, null, or a default of the server's own, but not as what the run set.

use super::{comparable, is_success, same, Item};
use crate::checks;
use crate::http::Exhausted;
use crate::meta::{Operation, Schema, Shape};
use crate::probe::{Request, Run};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Whether `v` could be a server's default for a field left out.
fn a_default(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Array(_) | Value::Object(_) => true,
        Value::Bool(true) => false,
    }
}

impl Run<'_> {
    /// The replace of `item` with every optional field it can set changed, then with the least
    /// body: what the first set must not show after the second.
    pub(super) async fn replace_resets(
        &mut self,
        drawn: &Arc<Schema>,
        item: &mut Item<'_>,
        op: &Operation,
    ) -> Result<(), Exhausted> {
        let schema = self.schema;
        let label = item.resource.collection.clone();
        let Some((body, read)) = super::body_and_read(schema, op, item) else {
            return Ok(());
        };
        let object = Shape::Object {
            name: body.name.clone(),
        };
        let Some(Value::Object(least)) = crate::breadth::minimal(drawn, &object) else {
            return Ok(());
        };
        // The least body, and each optional scalar field it leaves out set to a value other than
        // the one it reads now, where the body stays valid.
        let mut full: Map<String, Value> = least.clone();
        let mut set: Vec<String> = Vec::new();
        for f in body.fields.iter().filter(|f| !f.required && !f.secret) {
            if least.contains_key(&f.name) || !comparable(read, &f.name) {
                continue;
            }
            let now = item.shown.get(&f.name).cloned().unwrap_or(Value::Null);
            let value = crate::draw::edges(schema, &f.shape).into_iter().find(|v| {
                !a_default(v) && !same(v, &now) && f.default.as_ref().is_none_or(|d| !same(v, d))
            });
            let Some(v) = value else { continue };
            let mut candidate = full.clone();
            candidate.insert(f.name.clone(), v);
            if crate::judge::check(schema, &Value::Object(candidate.clone()), &object).is_empty() {
                full = candidate;
                set.push(f.name.clone());
            }
        }
        if set.is_empty() {
            return Ok(());
        }
        let path = item.path.clone();
        let req = move |b: Map<String, Value>| Request {
            path: path.clone(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Some(Value::Object(b)),
            spelling: None,
        };
        let field = format!("{label} (replace, every field set)");
        let ex = self
            .step(op, &req(full.clone()), self.auth(op), &field, true)
            .await?;
        if !is_success(&ex) {
            return Ok(());
        }
        item.note_sent(&Value::Object(full.clone()));
        let Some(first) = self
            .read(item, &format!("{label} (read after a full replace)"))
            .await?
        else {
            return Ok(());
        };
        if !is_success(&first) {
            return Ok(());
        }
        // Only what the read shows as sent: a field the server keeps to itself says nothing.
        let shown: Vec<(String, Value)> = set
            .into_iter()
            .filter_map(|k| {
                let v = full.get(&k)?;
                let now = item.shown.get(&k)?;
                same(now, v).then(|| (k, v.clone()))
            })
            .collect();
        if shown.is_empty() {
            return Ok(());
        }
        let field = format!("{label} (replace, least body)");
        let ex = self
            .step(op, &req(least.clone()), self.auth(op), &field, true)
            .await?;
        if !is_success(&ex) {
            return Ok(());
        }
        item.note_sent(&Value::Object(least));
        let read_field = format!("{label} (read after a least replace)");
        let Some(after) = self.read(item, &read_field).await? else {
            return Ok(());
        };
        if !is_success(&after) {
            return Ok(());
        }
        for (k, v) in shown {
            let now = item.shown.get(&k).cloned().unwrap_or(Value::Null);
            if same(&now, &v) {
                let m = format!(
                    "a replace that left `{k}` out still reads `{k}` = {v}, the value the replace before set: PUT merged instead of replacing"
                );
                self.fail(
                    checks::PATCH_SEMANTICS,
                    &format!("{read_field} {k}"),
                    m,
                    &after,
                );
            } else {
                self.pass(checks::PATCH_SEMANTICS, &read_field);
            }
        }
        Ok(())
    }
}

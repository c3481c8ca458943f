//! Unique values (`unique_values`): where a create's body has a field whose description says its
//! value is unique ([`crate::meta::says_unique`]), a second create with the values of one that
//! succeeded is refused, as a conflict (the 409 the document gives, or another 4xx), and makes
//! no second item. Where the create documents a 409 and marks no field, the same duplicate is
//! still sent, the recipe for that 409 (status coverage), but a success is not judged: nothing
//! said it must not be.

use super::{created_id, is_success, Item};
use crate::checks;
use crate::http::Exhausted;
use crate::meta::{Operation, Schema};
use crate::probe::{Request, Run};
use crate::resources::{self, Resource, Role};
use std::sync::Arc;

/// The fields of `create`'s body marked unique that `body` sets (not to null).
fn unique_fields(schema: &Schema, create: &Operation, body: &serde_json::Value) -> Vec<String> {
    create
        .body
        .as_ref()
        .and_then(|b| resources::object_of(schema, b))
        .into_iter()
        .flat_map(|o| o.fields.iter())
        .filter(|f| f.unique && body.get(&f.name).is_some_and(|v| !v.is_null()))
        .map(|f| f.name.clone())
        .collect()
}

impl Run<'_> {
    /// Sends `created` (the request that made `item`) again, with fresh headers and query (a new
    /// idempotency key is no replay), and judges the second create.
    pub(super) async fn unique_values(
        &mut self,
        drawn: &Arc<Schema>,
        item: &Item<'_>,
        create: &Operation,
        created: &Request,
        salt: u64,
    ) -> Result<(), Exhausted> {
        let schema = self.schema;
        let Some(body) = created.body.as_ref() else {
            return Ok(());
        };
        let unique = unique_fields(schema, create, body);
        if unique.is_empty() && !create.documents(409) {
            return Ok(());
        }
        let r = item.resource;
        let fresh = self.draw(drawn, create, &r.bind(&create.path), salt + 0x51);
        let dup = Request {
            path: created.path.clone(),
            query: fresh
                .as_ref()
                .map_or_else(|| created.query.clone(), |f| f.query.clone()),
            headers: fresh
                .as_ref()
                .map_or_else(|| created.headers.clone(), |f| f.headers.clone()),
            body: Some(body.clone()),
            spelling: None,
        };
        let field = format!("{} (create again, the same values)", r.collection);
        let ex = self
            .step(create, &dup, self.auth(create), &field, false)
            .await?;
        let status = ex.status();
        if is_success(&ex) {
            // A second item was made: judged where the document said it must not be, and
            // removed either way.
            if !unique.is_empty() {
                let values: Vec<String> = unique
                    .iter()
                    .map(|k| format!("{k} = {}", body[k.as_str()]))
                    .collect();
                let m = format!(
                    "a second create with {}, which the document says is unique, was accepted ({}){}",
                    values.join(", "),
                    status.unwrap_or(0),
                    if create.documents(409) {
                        ", not refused with the 409 it documents"
                    } else {
                        ""
                    }
                );
                self.fail(checks::UNIQUE_VALUES, &field, m, &ex);
            }
            if let Some(id) = created_id(r, &ex) {
                if Some(&id) != Some(&item.id) {
                    self.remove(r, &id).await?;
                }
            }
        } else if status.is_some_and(|s| (400..500).contains(&s)) && !unique.is_empty() {
            self.pass(checks::UNIQUE_VALUES, &field);
        }
        Ok(())
    }

    /// Deletes the item `id` of `r` (not judged: an item a scenario made beside its own).
    pub(super) async fn remove(
        &mut self,
        r: &Resource,
        id: &serde_json::Value,
    ) -> Result<(), Exhausted> {
        let Some(delete) = r.op(self.schema, Role::Delete) else {
            return Ok(());
        };
        let req = Request::bare(r.item_path(id));
        let auth = self.auth(delete);
        let ex = self.send(delete, &req, auth).await?;
        self.forget_deleted(delete, &ex);
        Ok(())
    }
}

//! Nested collections (`nested_resources`): an item made under one parent
//! (`/projects/{project_id}/milestones`) is not reached under another parent, and once its parent
//! is deleted it is gone with it.
//!
//! The scenario makes two parents of its own, A and B, and a child under A; reads the child's id
//! under B (which must not be a success); deletes A, where the parent has a delete, and reads the
//! child under A again (404 or 410). Then it removes what is left. A document that keeps
//! children after their parent is gone says so in no standard way; a target that does is told
//! apart only by this finding, which names the check.

use super::{created_id, is_gone, is_success};
use crate::checks;
use crate::http::Exhausted;
use crate::meta::{under_template, Operation, Schema};
use crate::probe::{Request, Run};
use crate::resources::{self, id_text, Resource, Role};
use serde_json::Value;
use std::sync::Arc;

/// `child`'s item path bound under the parent `parent` (already bound itself) whose item is
/// `parent_id`; the child's own parameter left as a template.
fn under(child: &Resource, parent: &Resource, parent_id: &Value) -> Option<Resource> {
    let names = under_template(&child.collection, &parent.item)?;
    let renamed = |name: &str| {
        names
            .iter()
            .find(|(theirs, _)| theirs == name)
            .map_or_else(|| name.to_string(), |(_, ours)| ours.clone())
    };
    let mut c = child.clone();
    c.bound = parent
        .bound
        .iter()
        .map(|(n, v)| (renamed(n), v.clone()))
        .chain([(renamed(&parent.param), id_text(parent_id))])
        .collect();
    c.collection_path().map(|_| c)
}

impl Run<'_> {
    /// The nested scenario of `r` (unbound, as inferred), when its collection sits under an item
    /// of another resource the run can make.
    pub(super) async fn nested(
        &mut self,
        drawn: &Arc<Schema>,
        r: &Resource,
        create: &Operation,
        salt: u64,
    ) -> Result<(), Exhausted> {
        let schema = self.schema;
        let all = resources::infer(schema);
        let (Some(parent), Some(read)) = (resources::parent_of(&all, r), r.op(schema, Role::Read))
        else {
            return Ok(());
        };
        let Some(parent) = self.bound(parent) else {
            return Ok(());
        };
        let Some(pcreate) = parent.op(schema, Role::Create) else {
            return Ok(());
        };
        let label = r.collection.clone();
        // Two parents of the scenario's own.
        let mut parents = Vec::new();
        for k in 0..2u64 {
            let field = format!("{} (a parent for {label})", parent.collection);
            let Some((_, ex)) = self
                .create(drawn, &parent, pcreate, salt + 0x61 + k, &field)
                .await?
            else {
                return self.remove_all(&parent, &parents).await;
            };
            let Some(id) = created_id(&parent, &ex) else {
                return self.remove_all(&parent, &parents).await;
            };
            self.made.insert(id_text(&id));
            parents.push(id);
        }
        let (Some(in_a), Some(in_b)) = (
            under(r, &parent, &parents[0]),
            under(r, &parent, &parents[1]),
        ) else {
            return self.remove_all(&parent, &parents).await;
        };
        let field = format!("{label} (create under a parent)");
        let made = self
            .create(drawn, &in_a, create, salt + 0x63, &field)
            .await?;
        let Some(child) = made.and_then(|(_, ex)| created_id(&in_a, &ex)) else {
            return self.remove_all(&parent, &parents).await;
        };
        self.made.insert(id_text(&child));
        let own = in_a.item_path(&child);

        // Under the other parent: not found.
        let field = format!("{label} (read under another parent)");
        let elsewhere = in_b.item_path(&child);
        let ex = self
            .step(
                read,
                &Request::bare(elsewhere.clone()),
                self.auth(read),
                &field,
                false,
            )
            .await?;
        if is_success(&ex) {
            let m = format!(
                "the item made as {own} reads under another parent, as {elsewhere} ({})",
                ex.status().unwrap_or(0)
            );
            self.fail(checks::NESTED_RESOURCES, &field, m, &ex);
        } else if ex.status().is_some_and(|s| (400..500).contains(&s)) {
            self.pass(checks::NESTED_RESOURCES, &field);
        }

        // Its parent deleted: gone with it.
        let mut left = parents.clone();
        if let Some(pdelete) = parent.op(schema, Role::Delete) {
            let field = format!("{} (delete a parent of {label})", parent.collection);
            let del = Request::bare(parent.item_path(&parents[0]));
            let ex = self
                .step(pdelete, &del, self.auth(pdelete), &field, true)
                .await?;
            if is_success(&ex) {
                self.forget_deleted(pdelete, &ex);
                left.remove(0);
                let field = format!("{label} (read after its parent's delete)");
                let ex = self
                    .step(
                        read,
                        &Request::bare(own.clone()),
                        self.auth(read),
                        &field,
                        false,
                    )
                    .await?;
                if is_gone(&ex) {
                    self.pass(checks::NESTED_RESOURCES, &field);
                } else if is_success(&ex) {
                    let m = format!(
                        "the item made as {own} still reads after its parent was deleted ({})",
                        ex.status().unwrap_or(0)
                    );
                    self.fail(checks::NESTED_RESOURCES, &field, m, &ex);
                }
            } else {
                self.remove(&in_a, &child).await?;
            }
        } else {
            self.remove(&in_a, &child).await?;
        }
        self.remove_all(&parent, &left).await
    }

    async fn remove_all(&mut self, r: &Resource, ids: &[Value]) -> Result<(), Exhausted> {
        for id in ids {
            self.remove(r, id).await?;
        }
        Ok(())
    }
}

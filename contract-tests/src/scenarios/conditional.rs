//! Conditional requests (RFC 9110, section 13), on a live item, wherever the document declares
//! the headers that carry them (`conditional_requests`):
//!
//! - a read with `If-None-Match` set to the item's current `ETag` gets 304, where the read
//!   declares the header and documents the 304;
//! - an update with `If-Match` set to the current `ETag` is obeyed (not a 412), and the `ETag`
//!   the item reads with afterwards is another one when the item changed;
//! - the same update sent again with the `ETag` of before, now stale, gets 412 where the update
//!   documents it, and the item reads back as it was.
//!
//! What the target does not declare is not judged; what it declares but cannot be tried (a read
//! with no `ETag`) is said in the report's notes.

use super::{is_success, Item};
use crate::checks;
use crate::http::{Exchange, Exhausted};
use crate::meta::Operation;
use crate::probe::{Request, Run};
use crate::resources::Role;
use std::sync::Arc;

/// The `ETag` an answer carries.
fn etag(ex: &Exchange) -> Option<String> {
    ex.outcome
        .as_ref()
        .ok()
        .and_then(|a| a.header("etag"))
        .map(str::to_string)
}

/// Whether an update `op` takes `If-Match`, and says what a stale one gets.
fn takes_if_match(op: &Operation) -> bool {
    op.header_param("if-match").is_some()
}

impl Run<'_> {
    /// The conditional requests of `item`'s resource, where its operations declare them.
    pub(super) async fn conditional(
        &mut self,
        drawn: &Arc<crate::meta::Schema>,
        item: &mut Item<'_>,
        salt: u64,
    ) -> Result<(), Exhausted> {
        let schema = self.schema;
        let label = item.resource.collection.clone();
        let Some(read_op) = item.resource.op(schema, Role::Read) else {
            return Ok(());
        };
        let updates: Vec<&Operation> = [Role::Update, Role::Replace]
            .into_iter()
            .filter_map(|r| item.resource.op(schema, r))
            .filter(|op| takes_if_match(op))
            .collect();
        let if_none_match = read_op.header_param("if-none-match").is_some();
        if updates.is_empty() && !if_none_match {
            return Ok(());
        }
        let field = format!("{label} (read for its ETag)");
        let Some(first) = self.read(item, &field).await? else {
            return Ok(());
        };
        if !is_success(&first) {
            return Ok(());
        }
        let Some(tag) = etag(&first) else {
            self.report.skip(format!(
                "{label}: conditional requests not tried: the read of an item carries no ETag, though the document declares {}",
                if if_none_match { "If-None-Match" } else { "If-Match" }
            ));
            return Ok(());
        };

        // A current If-None-Match on the read: not modified.
        if if_none_match && read_op.documents(304) {
            let field = format!("{label} (read, If-None-Match current)");
            let r = bare(&item.path, "If-None-Match", &tag);
            let ex = self
                .step(read_op, &r, self.auth(read_op), &field, false)
                .await?;
            match ex.status() {
                Some(304) => self.pass(checks::CONDITIONAL_REQUESTS, &field),
                Some(s) => {
                    let m = format!(
                        "a read with If-None-Match: {tag}, the item's current ETag, got {s}, not 304 Not Modified"
                    );
                    self.fail(checks::CONDITIONAL_REQUESTS, &field, m, &ex);
                }
                None => {}
            }
        }

        // Each update that takes If-Match (a PATCH and a PUT are two code paths), each from the
        // item's ETag as it then is.
        for (i, op) in updates.into_iter().enumerate() {
            let tag = if i == 0 {
                tag.clone()
            } else {
                let field = format!("{label} (read for its ETag)");
                match self.read(item, &field).await? {
                    Some(ex) if is_success(&ex) => match etag(&ex) {
                        Some(t) => t,
                        None => return Ok(()),
                    },
                    _ => return Ok(()),
                }
            };
            self.if_match(drawn, item, op, tag, salt + 17 + i as u64)
                .await?;
        }
        self.stale_delete(item, &tag).await
    }

    /// A delete with `If-Match` set to `first`, the item's `ETag` before the updates, now stale:
    /// refused with the 412 the delete documents, and the item still there.
    async fn stale_delete(&mut self, item: &mut Item<'_>, first: &str) -> Result<(), Exhausted> {
        let schema = self.schema;
        let Some(delete) = item
            .resource
            .op(schema, Role::Delete)
            .filter(|d| takes_if_match(d) && d.documents(412))
        else {
            return Ok(());
        };
        let label = item.resource.collection.clone();
        let field = format!("{label} (read for its ETag)");
        let now = match self.read(item, &field).await? {
            Some(ex) if is_success(&ex) => etag(&ex),
            _ => return Ok(()),
        };
        // Only a tag the item no longer has is stale.
        if now.as_deref().is_none_or(|t| t == first) {
            return Ok(());
        }
        let field = format!("{label} (delete, If-Match stale)");
        let r = bare(&item.path, "If-Match", first);
        let ex = self
            .step(delete, &r, self.auth(delete), &field, false)
            .await?;
        match ex.status() {
            Some(412) => self.pass(checks::CONDITIONAL_REQUESTS, &field),
            Some(s) => {
                let m = format!(
                    "DELETE {} with If-Match: {first}, an ETag the item no longer has, got {s}, not 412 Precondition Failed",
                    item.path
                );
                self.fail(checks::CONDITIONAL_REQUESTS, &field, m, &ex);
            }
            None => {}
        }
        Ok(())
    }

    /// An update `op` of `item` with a current `If-Match` (`tag`), then the same with it stale.
    async fn if_match(
        &mut self,
        drawn: &Arc<crate::meta::Schema>,
        item: &mut Item<'_>,
        op: &Operation,
        tag: String,
        salt: u64,
    ) -> Result<(), Exhausted> {
        let label = item.resource.collection.clone();
        let what = if op.method == "PUT" {
            "replace"
        } else {
            "update"
        };
        let Some(mut req) = self.draw(drawn, op, &item.path, salt) else {
            return Ok(());
        };
        req.path = item.path.clone();
        req.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("if-match"));

        // A current If-Match: the update is done.
        let field = format!("{label} ({what}, If-Match current)");
        let mut current = req.clone();
        current.headers.push(("If-Match".into(), tag.clone()));
        let before = item.shown.clone();
        let ex = self
            .step(op, &current, self.auth(op), &field, false)
            .await?;
        match ex.status() {
            Some(412) => {
                let m = format!(
                    "{} {} with If-Match: {tag}, the item's current ETag, got 412: a precondition that holds was refused",
                    op.method, item.path
                );
                self.fail(checks::CONDITIONAL_REQUESTS, &field, m, &ex);
                return Ok(());
            }
            Some(_) if is_success(&ex) => self.pass(checks::CONDITIONAL_REQUESTS, &field),
            // Refused for its body or otherwise: nothing to go on.
            _ => return Ok(()),
        }
        if let Some(b) = &req.body {
            item.note_sent(b);
        }
        let field = format!("{label} (read after a conditional update)");
        let Some(after) = self.read(item, &field).await? else {
            return Ok(());
        };
        if !is_success(&after) {
            return Ok(());
        }
        let changed = item.shown != before;
        let new_tag = etag(&after);
        match &new_tag {
            Some(t) if *t == tag && changed => {
                let m = format!(
                    "the item changed, but reads with the same ETag as before ({tag}): a cache or a conditional update cannot tell the two apart"
                );
                self.fail(checks::CONDITIONAL_REQUESTS, &field, m, &after);
                return Ok(());
            }
            Some(t) if *t != tag => self.pass(checks::CONDITIONAL_REQUESTS, &field),
            // Unchanged, or no ETag now: a stale tag cannot be told from a current one.
            _ => return Ok(()),
        }

        // The ETag of before is stale now: the same update with it is refused, and changes
        // nothing.
        if !op.documents(412) {
            return Ok(());
        }
        let field = format!("{label} ({what}, If-Match stale)");
        let now = item.shown.clone();
        let mut stale = req.clone();
        stale.headers.push(("If-Match".into(), tag.clone()));
        let ex = self.step(op, &stale, self.auth(op), &field, false).await?;
        match ex.status() {
            Some(412) => self.pass(checks::CONDITIONAL_REQUESTS, &field),
            Some(s) if is_success(&ex) => {
                let m = format!(
                    "{} {} with If-Match: {tag}, an ETag the item no longer has, got {s}, not 412 Precondition Failed: a lost update",
                    op.method, item.path
                );
                self.fail(checks::CONDITIONAL_REQUESTS, &field, m, &ex);
            }
            Some(s) => {
                let m = format!(
                    "{} {} with a stale If-Match ({tag}) got {s}, not the 412 the document gives",
                    op.method, item.path
                );
                self.fail(checks::CONDITIONAL_REQUESTS, &field, m, &ex);
            }
            None => return Ok(()),
        }
        let field = format!("{label} (read after a stale If-Match)");
        if let Some(read) = self.read(item, &field).await? {
            if is_success(&read) && item.shown != now {
                let m = "an update refused for its stale If-Match changed the item".to_string();
                self.fail(checks::CONDITIONAL_REQUESTS, &field, m, &read);
            }
        }
        Ok(())
    }
}

/// A request for `path` with only the header `name: value`.
fn bare(path: &str, name: &str, value: &str) -> Request {
    let mut r = Request::bare(path.to_string());
    r.headers.push((name.to_string(), value.to_string()));
    r
}

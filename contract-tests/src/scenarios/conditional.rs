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
        let update = [Role::Update, Role::Replace]
            .into_iter()
            .filter_map(|r| item.resource.op(schema, r))
            .find(|op| takes_if_match(op));
        let if_none_match = read_op.header_param("if-none-match").is_some();
        if update.is_none() && !if_none_match {
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

        let Some(op) = update else {
            return Ok(());
        };
        let Some(mut req) = self.draw(drawn, op, &item.path, salt + 17) else {
            return Ok(());
        };
        req.path = item.path.clone();
        req.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("if-match"));

        // A current If-Match: the update is done.
        let field = format!("{label} (update, If-Match current)");
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
        let field = format!("{label} (update, If-Match stale)");
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
    Request {
        path: path.to_string(),
        query: Vec::new(),
        headers: vec![(name.to_string(), value.to_string())],
        body: None,
    }
}

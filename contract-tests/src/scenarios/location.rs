//! The `Location` of a create's answer (RFC 9110, section 10.2.2): where the document gives a
//! 201 a `Location` header, a read of that address shows the item the create made, the one whose
//! id its answer carries (`ensure_resource_availability`). A `Location` naming another item, or
//! none the target serves, is a client led astray.

use super::{is_success, same, Item};
use crate::checks;
use crate::http::{Exchange, Exhausted};
use crate::probe::{Request, Run};
use crate::resources::Role;

impl Run<'_> {
    /// Reads `item` again at the `Location` the create's answer `created` gives it, where the
    /// document declares the header on that answer.
    pub(super) async fn location_reads_back(
        &mut self,
        item: &mut Item<'_>,
        created: &Exchange,
        create: &crate::meta::Operation,
    ) -> Result<(), Exhausted> {
        let label = item.resource.collection.clone();
        let Some(status) = created.status() else {
            return Ok(());
        };
        let declared = create.response(status).is_some_and(|r| {
            r.headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("location"))
        });
        let Some(location) = created
            .outcome
            .as_ref()
            .ok()
            .and_then(|a| a.header("location"))
            .map(str::to_string)
        else {
            // A missing required header is `response_headers_conformance`'s to judge.
            return Ok(());
        };
        if !declared {
            return Ok(());
        }
        let Some(read_op) = item.resource.op(self.schema, Role::Read) else {
            return Ok(());
        };
        let field = format!("{label} (read at the create's Location)");
        let Some(target) = crate::pages::under_base(&self.s.target, &location) else {
            let m = format!(
                "the create's Location `{location}` is not an address of the target ({})",
                self.s.target
            );
            self.fail(checks::ENSURE_RESOURCE_AVAILABILITY, &field, m, created);
            return Ok(());
        };
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), q),
            None => (target.clone(), ""),
        };
        let query = query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k.to_string(), v.to_string())
            })
            .collect();
        let r = Request {
            query,
            ..Request::bare(path)
        };
        let ex = self
            .step(read_op, &r, self.auth(read_op), &field, false)
            .await?;
        if !is_success(&ex) {
            let m = format!(
                "the create's Location `{location}` reads as {}, not as the item it made ({})",
                ex.status()
                    .map_or_else(|| "no answer".to_string(), |s| s.to_string()),
                item.path
            );
            self.fail(checks::ENSURE_RESOURCE_AVAILABILITY, &field, m, &ex);
            return Ok(());
        }
        let shown = ex.outcome.as_ref().ok().and_then(|a| a.json());
        let shown_id = shown.as_ref().and_then(|v| item.resource.id_in(v).cloned());
        match shown_id {
            Some(id) if !same(&id, &item.id) => {
                let m = format!(
                    "the create's Location `{location}` reads back the item {id}, not the one it made ({})",
                    item.id
                );
                self.fail(checks::ENSURE_RESOURCE_AVAILABILITY, &field, m, &ex);
            }
            _ => self.pass(checks::ENSURE_RESOURCE_AVAILABILITY, &field),
        }
        Ok(())
    }
}

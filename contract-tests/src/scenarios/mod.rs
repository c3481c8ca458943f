//! Stateful scenarios on any document: each resource the document has ([`crate::resources`]) is
//! taken through its lifecycle, in full mode, after the probe of its operations.
//!
//! 1. Create, then read: the item is there and shows what it was created with; it is listed
//!    (`ensure_resource_availability`).
//! 2. Update, then read: what was sent shows, what was left out is kept, null clears where the
//!    read-back allows null; the update's own answer shows what the read does; a replace shows
//!    what it sent (`patch_semantics`).
//!    A replace with the least body keeps none of the values a replace before set
//!    (`patch_semantics`, [`replace`]).
//!    Where the document declares them, conditional requests on the live item
//!    (`conditional_requests`, [`conditional`]).
//!    The `Location` of the create's answer reads back the item it made
//!    (`ensure_resource_availability`, [`location`]); a create again with the same values is
//!    refused where a field is unique (`unique_values`, [`unique`]).
//! 3. The other user's key (`--other-api-key`) can neither read, change nor delete it, and it is
//!    still there after it tried (`object_level_authorization`).
//! 4. Delete, then read and delete again: 404 or 410; it is no longer listed (`use_after_free`).
//!
//! 5. For a nested collection, an item is reached only under its own parent, and is gone once
//!    the parent is (`nested_resources`, [`nested`]).
//!
//! Every answer is also judged by the checks of any answer (a 500 on a second delete is a
//! `not_a_server_error`).

mod conditional;
mod location;
mod nested;
mod replace;
mod unique;

use crate::checks::{self, Check};
use crate::http::{Auth, Exchange, Exhausted};
use crate::meta::{Object, Operation, Schema, Shape};
use crate::probe::{requests, secret_values, Request, Run};
use crate::resources::{self, Resource, Role};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What a scenario knows of its item as it goes.
struct Item<'r> {
    resource: &'r Resource,
    /// The item's path, its id in place.
    path: String,
    id: Value,
    /// How the item last read back.
    shown: Map<String, Value>,
    /// Field -> the keys the run has sent inside it, where it was sent as an object: what of
    /// it the run knows. A server writes keys of its own there too (Kinto's
    /// `data.last_modified`), and they change with every write.
    sent: BTreeMap<String, BTreeSet<String>>,
}

impl Item<'_> {
    /// Notes the keys a create or update sent inside each object field.
    fn note_sent(&mut self, body: &Value) {
        for (k, v) in body.as_object().into_iter().flatten() {
            if let Value::Object(o) = v {
                self.sent
                    .entry(k.clone())
                    .or_default()
                    .extend(o.keys().cloned());
            }
        }
    }

    /// `v`, the value of `field`, as far as the run knows it: an object cut to the keys the run
    /// sent inside it.
    fn known(&self, field: &str, v: &Value) -> Value {
        match v {
            Value::Object(o) => {
                let keys = self.sent.get(field);
                Value::Object(
                    o.iter()
                        .filter(|(k, _)| keys.is_some_and(|s| s.contains(*k)))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                )
            }
            other => other.clone(),
        }
    }
}

impl Item<'_> {
    /// The object a read of the item shows, as documented.
    fn read_object<'s>(&self, schema: &'s Schema) -> Option<&'s Object> {
        self.resource
            .op(schema, Role::Read)
            .and_then(|r| answer_object(schema, r))
    }
}

/// The object the first documented success of `op` answers with.
fn answer_object<'s>(schema: &'s Schema, op: &Operation) -> Option<&'s Object> {
    let ok = op
        .responses
        .iter()
        .filter(|r| !r.range && (200..300).contains(&r.status))
        .min_by_key(|r| r.status)?;
    resources::object_of(schema, ok.body.as_ref()?)
}

/// The object `op` takes as its body, and the one a read of the item shows.
fn body_and_read<'s>(
    schema: &'s Schema,
    op: &Operation,
    item: &Item<'_>,
) -> Option<(&'s Object, &'s Object)> {
    let body = op
        .body
        .as_ref()
        .and_then(|b| resources::object_of(schema, b))?;
    Some((body, item.read_object(schema)?))
}

/// Whether two JSON values are the same value (numbers by value: `1` and `1.0` agree).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => crate::meta::same_number(x, y),
        _ => a == b,
    }
}

/// Whether `shown` (what a read shows) shows `sent` (what was sent): the same value, but that an
/// object shows each key sent (the server may add its own, a `last_modified`), at every depth; a
/// list shows each item sent, in any order (a server may keep a list as a set, and add its own:
/// Kinto adds the writer to a bucket's `write` principals); and a null sent shows as null or as
/// left out, as does an empty list or object (Kinto keeps no empty principal list).
fn shows(shown: &Value, sent: &Value) -> bool {
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    match (shown, sent) {
        (Value::Object(a), Value::Object(b)) => b.iter().all(|(k, v)| match a.get(k) {
            Some(x) => shows(x, v),
            None => empty(v),
        }),
        (Value::Array(a), Value::Array(b)) => {
            // Each item sent matched by its own item shown.
            let mut free: Vec<&Value> = a.iter().collect();
            b.iter()
                .all(|y| match free.iter().position(|x| shows(x, y)) {
                    Some(i) => {
                        free.swap_remove(i);
                        true
                    }
                    None => false,
                })
        }
        _ => same(shown, sent),
    }
}

/// Whether a field's value can be compared as sent: a secret is never shown, and a value with a
/// format may come back normalised (`2024-01-01T00:00:00Z` as `...+00:00`).
fn comparable(o: &Object, key: &str) -> bool {
    o.field(key).is_some_and(|f| {
        !f.secret
            && !matches!(
                &f.shape,
                Shape::String {
                    format: Some(_),
                    ..
                }
            )
    })
}

fn is_success(ex: &Exchange) -> bool {
    ex.status().is_some_and(|s| (200..300).contains(&s))
}

fn is_gone(ex: &Exchange) -> bool {
    matches!(ex.status(), Some(404 | 410))
}

/// The id of the item a create made: the answer's id field, else the last segment of its
/// `Location` when that names an item of the resource.
pub(crate) fn created_id(r: &Resource, ex: &Exchange) -> Option<Value> {
    let a = ex.outcome.as_ref().ok()?;
    let from_body = a
        .json()
        .and_then(|created| r.id_in(&created).cloned())
        .filter(|v| v.is_string() || v.is_number());
    from_body.or_else(|| {
        let location = a.header("location")?;
        // An absolute address or a path; the item is the collection's path and one segment.
        let path = location.split_once("://").map_or(location, |(_, rest)| {
            rest.find('/').map_or("/", |i| &rest[i..])
        });
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let (collection, last) = path.trim_end_matches('/').rsplit_once('/')?;
        let ours = r.bind(&r.collection);
        let wanted = ours.trim_end_matches('/');
        (collection.ends_with(wanted) && !last.is_empty())
            .then(|| Value::String(crate::mock::decode_segment(last)))
    })
}

impl Run<'_> {
    /// `r` with its collection's parameters bound to the lasting items the run made of the
    /// resources above it (`/notes/{note_id}/comments` under a note it created); `None` when
    /// one of them has none.
    pub(crate) fn bound(&self, r: &Resource) -> Option<Resource> {
        let mut r = r.clone();
        if let Some((parent, names)) = self
            .fixtures
            .iter()
            .filter(|f| !f.for_delete && !crate::meta::same_template(&r.collection, &f.item))
            .filter_map(|f| Some((f, crate::meta::under_template(&r.collection, &f.item)?)))
            .max_by_key(|(f, _)| f.item.len())
        {
            // The parent's parameters, under the names the nested collection gives them.
            let renamed = |name: &str| {
                names
                    .iter()
                    .find(|(theirs, _)| theirs == name)
                    .map_or_else(|| name.to_string(), |(_, ours)| ours.clone())
            };
            r.bound = parent
                .parents
                .iter()
                .chain([(parent.param.clone(), parent.id.clone())].iter())
                .map(|(name, id)| (renamed(name), id.clone()))
                .collect();
        }
        r.collection_path().map(|_| r)
    }

    /// Items of each resource, created with drawn valid bodies for the probe of the operations
    /// on items: each then reaches one that exists, as `--cvm-id` does on spec/. A nested
    /// collection's items are made under the item made of its parent. The resource's delete
    /// gets an item of its own; the other one lasts until the run has replayed its findings.
    pub(crate) async fn fixtures(&mut self, drawn: &Arc<Schema>) -> Result<(), Exhausted> {
        // Parents sort before their nested collections.
        for (i, r) in resources::infer(self.schema).iter().enumerate() {
            let Some(r) = self.bound(r) else {
                continue;
            };
            let r = &r;
            let Some(create) = r.op(self.schema, Role::Create) else {
                continue;
            };
            let delete = r.op(self.schema, Role::Delete).map(|d| d.name.clone());
            // One item that lasts, and one for the delete when there is one.
            for for_delete in [false, true] {
                if for_delete && delete.is_none() {
                    continue;
                }
                let salt = 0xf1 + 2 * i as u64 + u64::from(for_delete);
                let label = create
                    .operation_id
                    .clone()
                    .unwrap_or_else(|| create.name.clone());
                let field = format!("{label} (valid)");
                let Some((_, ex)) = self.create(drawn, r, create, salt, &field).await? else {
                    continue;
                };
                if let Some(id) = created_id(r, &ex) {
                    self.made.insert(resources::id_text(&id));
                    self.fixtures.push(crate::probe::Fixture {
                        item: r.item.clone(),
                        param: r.param.clone(),
                        id: resources::id_text(&id),
                        for_delete,
                        delete: delete.clone(),
                        parents: r.bound.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Every resource with a create the run covers, taken through its lifecycle.
    pub(crate) async fn scenarios(
        &mut self,
        drawn: &Arc<Schema>,
        selected: &[Operation],
    ) -> Result<(), Exhausted> {
        let covered = |op: &Operation| selected.iter().any(|s| s.name == op.name);
        let all = resources::infer(self.schema);
        for (i, r) in all.iter().enumerate() {
            let Some(create) = r.op(self.schema, Role::Create).filter(|o| covered(o)) else {
                continue;
            };
            let Some(r) = self.bound(r) else {
                self.report.skip(format!(
                    "{}: the scenarios of a nested collection need an item of its parent, and \
                     the run could make none",
                    r.collection
                ));
                continue;
            };
            self.lifecycle(drawn, &r, create, i as u64).await?;
            // A nested collection: its items belong to their parent.
            if r.collection.contains('{') {
                self.nested(drawn, &all[i], create, i as u64).await?;
            }
        }
        Ok(())
    }

    /// Makes an item of `r`: a drawn valid create, and when the target refuses it, one with the
    /// least body the schema admits (a server may refuse values its schema does not rule out,
    /// as Kinto refuses a collection's `schema` that is no JSON Schema). `None`, noted in the
    /// report, when neither is accepted.
    async fn create(
        &mut self,
        drawn: &Arc<Schema>,
        r: &Resource,
        create: &Operation,
        salt: u64,
        field: &str,
    ) -> Result<Option<(Request, Exchange)>, Exhausted> {
        let Some(req) = self.draw(drawn, create, &r.bind(&create.path), salt) else {
            self.report
                .skip(format!("{}: no valid create can be drawn", r.collection));
            return Ok(None);
        };
        let least = drawn
            .operations
            .get(&create.name)
            .unwrap_or(create)
            .body
            .as_ref()
            .and_then(|shape| crate::breadth::minimal(drawn, shape))
            .filter(|b| Some(b) != req.body.as_ref())
            .map(|b| Request {
                body: Some(b),
                ..req.clone()
            });
        // A 409 says a value is taken (a unique name an earlier request chose): two more draws
        // before the least body.
        let mut redraws = 0u64;
        let mut last = None;
        let mut queue: std::collections::VecDeque<Request> = std::iter::once(req).collect();
        let mut least = least;
        while let Some(req) = queue.pop_front() {
            let ex = self
                .step(create, &req, self.auth(create), field, true)
                .await?;
            if is_success(&ex) {
                return Ok(Some((req, ex)));
            }
            if ex.status() == Some(409) && redraws < 2 {
                redraws += 1;
                let path = r.bind(&create.path);
                queue.extend(self.draw(drawn, create, &path, salt + (redraws << 32)));
            }
            if queue.is_empty() {
                queue.extend(least.take());
            }
            // A server error is judged already; another body will not mend it.
            let stop = ex.status().is_none_or(|s| s >= 500);
            last = ex.status();
            if stop {
                break;
            }
        }
        let said = last.map_or_else(|| "no answer".to_string(), |s| s.to_string());
        self.report.skip(format!(
            "{}: the target accepted no create (the last answered {said})",
            r.collection
        ));
        Ok(None)
    }

    /// A valid request of `op` drawn with the run's seed, on `path` (its path parameters set).
    fn draw(&self, drawn: &Arc<Schema>, op: &Operation, path: &str, salt: u64) -> Option<Request> {
        let op = drawn.operations.get(&op.name).unwrap_or(op);
        let strategy = requests(drawn, op).ok()?;
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&self.s.seed.to_le_bytes());
        seed[8..16].copy_from_slice(&salt.to_le_bytes());
        seed[16] = 0x5c;
        let mut rng = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        let mut r = strategy.new_tree(&mut rng).ok()?.current();
        r.path = path.to_string();
        crate::triage::apply_holds(&self.report.held, &op.name, &mut r);
        // Optional query parameters (a page size, a filter) could hide the item: left out.
        r.query
            .retain(|(k, _)| op.params.iter().any(|p| p.name == *k && p.required));
        crate::probe::requests::drop_preconditions(op, &mut r);
        Some(r)
    }

    /// Sends a request and judges its answer by the checks of every answer (and, for a request
    /// whose success is expected, of a valid one).
    async fn step(
        &mut self,
        op: &Operation,
        r: &Request,
        auth: Auth,
        field: &str,
        expect_success: bool,
    ) -> Result<Exchange, Exhausted> {
        let secrets = secret_values(self.schema, op, r.body.as_ref());
        if expect_success {
            return self.send_valid(op, r, field, auth, &secrets).await;
        }
        let ex = self.send(op, r, auth).await?;
        self.common(op, &ex, field, None, &secrets);
        self.report.cover(field, "scenario", &ex);
        Ok(ex)
    }

    fn fail(&mut self, check: Check, field: &str, message: String, ex: &Exchange) {
        self.report.tick(check, field);
        self.record(check, field, None, message, ex, true);
    }

    fn pass(&mut self, check: Check, field: &str) {
        self.report.tick(check, field);
    }

    async fn lifecycle(
        &mut self,
        drawn: &Arc<Schema>,
        r: &Resource,
        create: &Operation,
        salt: u64,
    ) -> Result<(), Exhausted> {
        let schema = self.schema;
        let label = r.collection.clone();
        let field = format!("{label} (create)");
        let Some((req, ex)) = self.create(drawn, r, create, salt, &field).await? else {
            return Ok(());
        };
        let Some(id) = created_id(r, &ex) else {
            self.report.skip(format!(
                "{label}: the create's answer carries no id for {}",
                r.item
            ));
            return Ok(());
        };
        self.made.insert(resources::id_text(&id));
        let mut item = Item {
            resource: r,
            path: r.item_path(&id),
            id,
            shown: Map::new(),
            sent: BTreeMap::new(),
        };
        item.note_sent(req.body.as_ref().unwrap_or(&Value::Null));

        // 1. It is there, as created, and listed.
        let field = format!("{label} (read after create)");
        if let Some(ex) = self.read(&mut item, &field).await? {
            if is_success(&ex) {
                let sent = req.body.clone().unwrap_or(Value::Null);
                self.compare(
                    &item,
                    checks::ENSURE_RESOURCE_AVAILABILITY,
                    &field,
                    &sent,
                    "created with",
                    &ex,
                );
            } else {
                let m = format!(
                    "a created item ({}) reads as {}, not as a success",
                    item.path,
                    ex.status().map_or("no answer".into(), |s| s.to_string())
                );
                self.fail(checks::ENSURE_RESOURCE_AVAILABILITY, &field, m, &ex);
                return Ok(());
            }
        }
        self.listed(drawn, &item, true, salt).await?;
        // 1a. The create's `Location` reads back the item it made.
        self.location_reads_back(&mut item, &ex, create).await?;
        // 1b. A second create with the same values, where a field is unique or a 409 documented.
        self.unique_values(drawn, &item, create, &req, salt).await?;

        // 2. Updates.
        for role in [Role::Update, Role::Replace] {
            let Some(op) = r.op(schema, role) else {
                continue;
            };
            let Some(drawn_req) = self.draw(drawn, op, &item.path, salt + 7) else {
                continue;
            };
            let mut bodies = vec![drawn_req.body.clone()];
            bodies.extend(self.update_bodies(drawn, op, &item, role == Role::Replace));
            // And what random draws seldom give, on the live item (`breadth::variants`).
            if let Some(shape) = &drawn.operations.get(&op.name).unwrap_or(op).body {
                bodies.extend(crate::breadth::bodies(drawn, shape).into_iter().map(Some));
            }
            for body in bodies.into_iter().flatten() {
                let req = Request {
                    body: Some(body.clone()),
                    ..drawn_req.clone()
                };
                let what = if role == Role::Update {
                    "update"
                } else {
                    "replace"
                };
                let field = format!("{label} ({what})");
                let before = item.shown.clone();
                let ex = self.step(op, &req, self.auth(op), &field, true).await?;
                if !is_success(&ex) {
                    continue;
                }
                item.note_sent(&body);
                let answered = ex.outcome.as_ref().ok().and_then(|a| a.json());
                let read_field = format!("{label} (read after {what})");
                let Some(read) = self.read(&mut item, &read_field).await? else {
                    continue;
                };
                if !is_success(&read) {
                    let m = format!("after a {what} the item reads as {:?}", read.status());
                    self.fail(checks::PATCH_SEMANTICS, &read_field, m, &read);
                    continue;
                }
                self.compare(
                    &item,
                    checks::PATCH_SEMANTICS,
                    &read_field,
                    &body,
                    "sent",
                    &read,
                );
                if role == Role::Update {
                    self.kept(op, &item, &before, &body, &read_field, &read);
                }
                if let Some(Value::Object(a)) = answered {
                    self.answer_agrees(&item, &a, &field, &ex);
                }
            }
        }

        // 2a. A replace replaces: what the least body leaves out is not kept.
        if let Some(op) = r.op(schema, Role::Replace) {
            self.replace_resets(drawn, &mut item, op).await?;
        }

        // 2b. Conditional requests, where the document declares them.
        self.conditional(drawn, &mut item, salt).await?;

        // 3. The other user.
        if self.s.has_other_credential() {
            self.other_user(drawn, &mut item, salt).await?;
        }

        // 4. Delete.
        let Some(delete) = r.op(schema, Role::Delete) else {
            return Ok(());
        };
        let del = Request::bare(item.path.clone());
        let ex = self
            .step(
                delete,
                &del,
                self.auth(delete),
                &format!("{label} (delete)"),
                true,
            )
            .await?;
        if !is_success(&ex) {
            return Ok(());
        }
        let field = format!("{label} (read after delete)");
        if let Some(ex) = self.read(&mut item, &field).await? {
            self.gone(&field, "a read of the deleted item", &ex);
        }
        let field = format!("{label} (second delete)");
        let ex = self
            .step(delete, &del, self.auth(delete), &field, false)
            .await?;
        self.gone(&field, "a second delete", &ex);
        self.listed(drawn, &item, false, salt).await?;
        Ok(())
    }

    /// Bodies that tell the rules of an update apart: every field at once (a full valid body), the
    /// same with every field changed (none may be ignored), each field alone with another value
    /// (what each leaves out must be kept), then every nullable field the read shows sent as null
    /// (each must read back null). For a replace (`replace`), the full body, every field changed,
    /// and the full body with those fields null.
    fn update_bodies(
        &self,
        drawn: &Arc<Schema>,
        op: &Operation,
        item: &Item<'_>,
        replace: bool,
    ) -> Vec<Option<Value>> {
        let schema = self.schema;
        let Some((body, read)) = body_and_read(schema, op, item) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let object = Shape::Object {
            name: body.name.clone(),
        };
        let Some(Value::Object(full)) = crate::breadth::full(drawn, &object) else {
            return out;
        };
        out.push(Some(Value::Object(full.clone())));
        let nullable: Vec<&str> = body
            .fields
            .iter()
            .filter(|f| f.nullable && read.field(&f.name).is_some_and(|r| r.nullable))
            .filter(|f| full.get(&f.name).is_some_and(|v| !v.is_null()))
            .map(|f| f.name.as_str())
            .collect();
        // The full body with every field it can at another valid value: an update or replace
        // that ignores a value shows the one before.
        let mut other = full.clone();
        for f in body.fields.iter().filter(|f| comparable(read, &f.name)) {
            let was = full.get(&f.name).cloned();
            let change = crate::draw::edges(schema, &f.shape)
                .into_iter()
                .find(|v| !v.is_null() && was.as_ref().is_none_or(|x| !same(x, v)));
            if let Some(v) = change {
                other.insert(f.name.clone(), v);
                if !crate::judge::check(schema, &Value::Object(other.clone()), &object).is_empty() {
                    match &was {
                        Some(w) => other.insert(f.name.clone(), w.clone()),
                        None => other.remove(&f.name),
                    };
                }
            }
        }
        if other != full {
            out.push(Some(Value::Object(other)));
        }
        if replace {
            // A whole body, then the same with every nullable field null: the replace must
            // show each null, not the value before it.
            if !nullable.is_empty() {
                let mut nulled = full.clone();
                for k in &nullable {
                    nulled.insert(k.to_string(), Value::Null);
                }
                out.push(Some(Value::Object(nulled)));
            }
            return out;
        }
        // Each alone (up to eight), with a value other than the full body's: each leaves the
        // others out, which must keep what they had; the first again at the end, so that the
        // last one is left out too.
        let mut alone = Vec::new();
        for f in body.fields.iter().filter(|f| comparable(read, &f.name)) {
            let other = crate::draw::edges(schema, &f.shape)
                .into_iter()
                .find(|v| !v.is_null() && full.get(&f.name).is_none_or(|x| !same(x, v)));
            if let Some(v) = other {
                let one = json!({ f.name.as_str(): v });
                if crate::judge::check(schema, &one, &object).is_empty() {
                    alone.push(one);
                }
            }
            if alone.len() == 8 {
                break;
            }
        }
        if alone.len() > 1 {
            alone.push(alone[0].clone());
        }
        out.extend(alone.into_iter().map(Some));
        let nulls: Map<String, Value> = nullable
            .iter()
            .map(|k| (k.to_string(), Value::Null))
            .collect();
        if !nulls.is_empty() {
            out.push(Some(Value::Object(nulls)));
        }
        out
    }

    /// Reads the item with the first user's key; keeps what a success shows.
    async fn read(
        &mut self,
        item: &mut Item<'_>,
        field: &str,
    ) -> Result<Option<Exchange>, Exhausted> {
        let Some(op) = item.resource.op(self.schema, Role::Read) else {
            return Ok(None);
        };
        let r = Request::bare(item.path.clone());
        let ex = self.step(op, &r, self.auth(op), field, false).await?;
        if is_success(&ex) {
            if let Some(Value::Object(o)) = ex.outcome.as_ref().ok().and_then(|a| a.json()) {
                item.shown = o;
            }
        }
        Ok(Some(ex))
    }

    /// Each comparable field of `sent` that the read shows, shown as sent (null only where the
    /// read allows null).
    fn compare(
        &mut self,
        item: &Item<'_>,
        check: Check,
        field: &str,
        sent: &Value,
        how: &str,
        ex: &Exchange,
    ) {
        let Some(read) = item.read_object(self.schema) else {
            return;
        };
        let Some(sent) = sent.as_object() else { return };
        for (k, v) in sent {
            if !comparable(read, k) || (v.is_null() && !read.field(k).is_some_and(|f| f.nullable)) {
                continue;
            }
            let shown = item.shown.get(k).cloned().unwrap_or(Value::Null);
            if shows(&shown, v) {
                self.pass(check, field);
            } else {
                let m = format!("{how} `{k}` = {v}, the item reads back {shown}");
                self.fail(check, &format!("{field} {k}"), m, ex);
            }
        }
    }

    /// The update's fields that `body` left out, kept as they read `before`.
    fn kept(
        &mut self,
        op: &Operation,
        item: &Item<'_>,
        before: &Map<String, Value>,
        body: &Value,
        field: &str,
        ex: &Exchange,
    ) {
        let Some((fields, read)) = body_and_read(self.schema, op, item) else {
            return;
        };
        for f in &fields.fields {
            if body.get(&f.name).is_some() || !comparable(read, &f.name) {
                continue;
            }
            let (Some(was), now) = (before.get(&f.name), item.shown.get(&f.name)) else {
                continue;
            };
            if was.is_object() && !item.sent.contains_key(&f.name) {
                continue;
            }
            // What the run knows of it: an object as far as the run wrote it.
            let (was, now) = (
                item.known(&f.name, was),
                now.map(|n| item.known(&f.name, n)),
            );
            let (was, now) = (&was, now.as_ref());
            // The same value, lists in any order (a server may keep one as a set).
            if now.is_some_and(|n| shows(n, was) && shows(was, n)) {
                self.pass(checks::PATCH_SEMANTICS, field);
            } else {
                let m = format!(
                    "an update that left `{}` out changed it from {was} to {}",
                    f.name,
                    now.cloned().unwrap_or(Value::Null)
                );
                self.fail(
                    checks::PATCH_SEMANTICS,
                    &format!("{field} {}", f.name),
                    m,
                    ex,
                );
            }
        }
    }

    /// The update's own answer shows what the read after it does.
    fn answer_agrees(
        &mut self,
        item: &Item<'_>,
        answer: &Map<String, Value>,
        field: &str,
        ex: &Exchange,
    ) {
        let Some(read) = item.read_object(self.schema) else {
            return;
        };
        for (k, v) in answer {
            let Some(shown) = item.shown.get(k) else {
                continue;
            };
            if !comparable(read, k) {
                continue;
            }
            // The answer may say less than the read (Kinto's `Response-Behavior: diff`), not
            // otherwise.
            if shows(shown, v) {
                self.pass(checks::PATCH_SEMANTICS, field);
            } else {
                let m = format!("the update answered `{k}` = {v}, the read after it shows {shown}");
                self.fail(
                    checks::PATCH_SEMANTICS,
                    &format!("{field} {k} (answer)"),
                    m,
                    ex,
                );
                return;
            }
        }
    }

    /// The other user's key reaches nothing of the item; the item is still there after.
    async fn other_user(
        &mut self,
        drawn: &Arc<Schema>,
        item: &mut Item<'_>,
        salt: u64,
    ) -> Result<(), Exhausted> {
        let schema = self.schema;
        let label = &item.resource.collection;
        let mut tried = false;
        for role in [Role::Read, Role::Update, Role::Replace, Role::Delete] {
            // An operation without security serves anyone: no user's own.
            let Some(op) = item
                .resource
                .op(schema, role)
                .filter(|o| !o.auth.is_empty())
            else {
                continue;
            };
            tried = true;
            let mut req = self
                .draw(drawn, op, &item.path, salt + 11)
                .unwrap_or_else(|| Request::bare(item.path.clone()));
            req.path = item.path.clone();
            let field = format!("{label} ({:?}, the other user)", role).to_lowercase();
            let ex = self.step(op, &req, Auth::Other, &field, false).await?;
            if is_success(&ex) {
                let m = format!(
                    "{} {} with another user's key got {}: it is the first user's",
                    op.method,
                    item.path,
                    ex.status().unwrap_or(0)
                );
                self.fail(checks::OBJECT_LEVEL_AUTHORIZATION, &field, m, &ex);
            } else {
                self.pass(checks::OBJECT_LEVEL_AUTHORIZATION, &field);
            }
        }
        if !tried {
            return Ok(());
        }
        let field = format!("{label} (read after the other user)");
        if let Some(ex) = self.read(item, &field).await? {
            if !is_success(&ex) {
                let m =
                    "after the other user's requests the item is gone for its own user".to_string();
                self.fail(checks::OBJECT_LEVEL_AUTHORIZATION, &field, m, &ex);
            }
        }
        Ok(())
    }

    /// After a delete: never a success. A 404 or 410 says it is gone; a 403 that it is not the
    /// caller's to know (Kinto's answer for what is not there); any refusal that it is not done
    /// again.
    fn gone(&mut self, field: &str, what: &str, ex: &Exchange) {
        if ex.outcome.is_err()
            || is_gone(ex)
            || ex.status().is_some_and(|s| (400..500).contains(&s))
        {
            self.pass(checks::USE_AFTER_FREE, field);
        } else {
            let m = format!(
                "{what} got {}: the item is still there",
                ex.status().unwrap_or(0)
            );
            self.fail(checks::USE_AFTER_FREE, field, m, ex);
        }
    }

    /// Whether the list holds the item (`present`) or not, read whole (every page, as the list
    /// pages: [`crate::pages`]). A list that cannot be read whole is not judged: the report says
    /// so. Before the delete, the list is also read with a small page size and with a large one,
    /// which must give the same items, each once (`pagination_consistency`).
    async fn listed(
        &mut self,
        drawn: &Arc<Schema>,
        item: &Item<'_>,
        present: bool,
        salt: u64,
    ) -> Result<(), Exhausted> {
        let (Some(list), Some(_)) = (
            item.resource.op(self.schema, Role::List),
            item.resource.id_field.as_ref(),
        ) else {
            return Ok(());
        };
        let Some(req) = self.draw(
            drawn,
            list,
            &item.resource.bind(&item.resource.collection),
            salt + 3,
        ) else {
            return Ok(());
        };
        let field = format!(
            "{} (list {} delete)",
            item.resource.collection,
            if present { "before" } else { "after" }
        );
        let paging = crate::pages::of(list);
        let largest = paging.size(paging.largest()).map(|(_, n)| n);
        let whole = match self.read_list(list, &req, largest, &field).await? {
            Ok(l) => l,
            Err(why) => {
                self.report.skip(format!(
                    "{field}: whether the item is listed was not judged: {why}"
                ));
                return Ok(());
            }
        };
        let id_of = |x: &Value| item.resource.id_in_listed(x).cloned();
        let found = whole
            .items
            .iter()
            .any(|x| id_of(x).is_some_and(|i| same(&i, &item.id)));
        let (check, ok) = if present {
            (checks::ENSURE_RESOURCE_AVAILABILITY, found)
        } else {
            (checks::USE_AFTER_FREE, !found)
        };
        if ok {
            self.pass(check, &field);
        } else {
            let pages = if whole.pages > 1 {
                format!(" (read whole: {} pages)", whole.pages)
            } else {
                String::new()
            };
            let m = if present {
                format!(
                    "the item created as {} is not in the list{pages}",
                    item.path
                )
            } else {
                format!(
                    "the item deleted as {} is still in the list{pages}",
                    item.path
                )
            };
            self.fail(check, &field, m, &whole.last);
        }
        if present {
            self.pages_agree(list, &req, &whole, item.resource).await?;
        }
        Ok(())
    }

    /// A list read with a small page size holds the items a read with a large one does, each
    /// once; so does each read on its own.
    async fn pages_agree(
        &mut self,
        list: &Operation,
        req: &Request,
        whole: &Listing,
        resource: &Resource,
    ) -> Result<(), Exhausted> {
        let field = format!("{} (list read by pages)", resource.collection);
        let ids = |l: &Listing| -> Vec<Value> {
            l.items
                .iter()
                .filter_map(|x| resource.id_in_listed(x).cloned())
                .collect()
        };
        let twice = |ids: &[Value]| -> Option<Value> {
            ids.iter()
                .enumerate()
                .find(|(i, a)| ids[..*i].iter().any(|b| same(a, b)))
                .map(|(_, a)| a.clone())
        };
        let large = ids(whole);
        if let Some(dup) = twice(&large) {
            let m = format!(
                "read {} page(s) at a time, the list holds {dup} twice",
                whole.pages
            );
            self.fail(checks::PAGINATION_CONSISTENCY, &field, m, &whole.last);
            return Ok(());
        }
        let paging = crate::pages::of(list);
        let largest = paging.size(paging.largest()).map(|(_, n)| n);
        if !paging.sized() || large.len() < 2 {
            self.pass(checks::PAGINATION_CONSISTENCY, &field);
            return Ok(());
        }
        // Read again by smaller pages: about three pages of the first read's items each, then
        // two and one a page, where that is at most forty pages. An off-by-one at a page's
        // boundary shows at some sizes and not at others (a last page of one item never offered).
        // And sizes whose last page holds exactly one item (all but one), or that end exactly
        // at the list's end (half of an even list): where a boundary test is off by one.
        let len = large.len() as i64;
        let third = ((len + 2) / 3).max(1);
        let mut sizes: Vec<i64> = Vec::new();
        for n in [third, len - 1, len / 2, 2, 1] {
            let pages = (len + n - 1) / n.max(1);
            if n > 0 && !sizes.contains(&n) && pages <= 40 && Some(n) < largest {
                sizes.push(n);
            }
        }
        if sizes.is_empty() {
            self.pass(checks::PAGINATION_CONSISTENCY, &field);
            return Ok(());
        }
        for small in sizes {
            let by_small = match self.read_list(list, req, Some(small), &field).await? {
                Ok(l) => l,
                Err(why) => {
                    self.report.skip(format!(
                        "{field}: whether its pages agree was not judged: {why}"
                    ));
                    return Ok(());
                }
            };
            let small_ids = ids(&by_small);
            let missing: Vec<&Value> = large
                .iter()
                .filter(|a| !small_ids.iter().any(|b| same(a, b)))
                .collect();
            let extra: Vec<&Value> = small_ids
                .iter()
                .filter(|a| !large.iter().any(|b| same(a, b)))
                .collect();
            let m = if let Some(dup) = twice(&small_ids) {
                Some(format!(
                    "read {small} item(s) a page, the list holds {dup} on two pages"
                ))
            } else if let Some(x) = missing.first() {
                Some(format!(
                    "read {small} item(s) a page ({} pages), the list leaves out {x}, which a read of {} a page holds",
                    by_small.pages,
                    largest.unwrap_or(0)
                ))
            } else {
                extra.first().map(|x| {
                    format!(
                        "read {small} item(s) a page, the list holds {x}, which a read of {} a page does not",
                        largest.unwrap_or(0)
                    )
                })
            };
            match m {
                Some(m) => {
                    self.fail(checks::PAGINATION_CONSISTENCY, &field, m, &by_small.last);
                    return Ok(());
                }
                None => self.pass(checks::PAGINATION_CONSISTENCY, &field),
            }
        }
        Ok(())
    }

    /// Every page of a list (`size` items a page where the list takes a size), each judged as a
    /// valid request's answer; `Err` with why when it cannot be read whole.
    async fn read_list(
        &mut self,
        list: &Operation,
        base: &Request,
        size: Option<i64>,
        field: &str,
    ) -> Result<Result<Listing, String>, Exhausted> {
        use crate::pages::{self, Paging};
        let paging = pages::of(list);
        let names: Vec<&str> = match &paging {
            Paging::Offset { offset, limit } => std::iter::once(offset.as_str())
                .chain(limit.as_ref().map(|l| l.name.as_str()))
                .collect(),
            Paging::Page { page, size, .. } => std::iter::once(page.as_str())
                .chain(size.as_ref().map(|l| l.name.as_str()))
                .collect(),
            Paging::Cursor { param, limit } => std::iter::once(param.as_str())
                .chain(limit.as_ref().map(|l| l.name.as_str()))
                .collect(),
            Paging::Whole => Vec::new(),
        };
        let mut clean = base.clone();
        clean.query.retain(|(k, _)| !names.contains(&k.as_str()));
        let size = size.and_then(|n| paging.size(n));
        let mut items: Vec<Value> = Vec::new();
        let mut offset: i64 = 0;
        let mut cursor: Option<String> = None;
        let mut follow: Option<String> = None;
        let mut previous: Option<Vec<Value>> = None;
        let mut last = None;
        let mut read = 0;
        for page in 0..pages::MAX_PAGES {
            let r = match follow.take() {
                Some(path) => {
                    let (p, q) = path.split_once('?').unwrap_or((&path, ""));
                    Request {
                        path: p.to_string(),
                        query: crate::triage::parts::query_pairs(q),
                        ..clean.clone()
                    }
                }
                None => {
                    let mut r = clean.clone();
                    match &paging {
                        Paging::Offset { offset: o, .. } => {
                            r.query.push((o.clone(), offset.to_string()))
                        }
                        Paging::Page { page: p, first, .. } => {
                            r.query.push((p.clone(), (first + page as i64).to_string()))
                        }
                        Paging::Cursor { param, .. } => {
                            if let Some(c) = &cursor {
                                r.query.push((param.clone(), c.clone()));
                            }
                        }
                        Paging::Whole => {}
                    }
                    if let Some((name, n)) = &size {
                        r.query.push((name.clone(), n.to_string()));
                    }
                    r
                }
            };
            let ex = self.step(list, &r, self.auth(list), field, true).await?;
            let Some(body) = ex
                .outcome
                .as_ref()
                .ok()
                .filter(|_| is_success(&ex))
                .and_then(|a| a.json())
            else {
                return Ok(Err(format!(
                    "page {} answered {}",
                    page + 1,
                    ex.status().map_or("nothing".into(), |s| s.to_string())
                )));
            };
            let Some(got) = pages::items(&body) else {
                return Ok(Err(format!("page {} holds no list", page + 1)));
            };
            // The next page's address: `Link: <...>; rel="next"`, or Kinto's `Next-Page`.
            let link = ex
                .outcome
                .as_ref()
                .ok()
                .and_then(|a| {
                    a.header("link")
                        .and_then(pages::link_next)
                        .or_else(|| a.header("next-page").map(str::to_string))
                })
                .and_then(|u| pages::under_base(&self.s.target, &u));
            let next = pages::body_next(&body);
            let full = size.as_ref().is_none_or(|(_, n)| got.len() as i64 >= *n);
            // A page like the one before it: the server pages no further (what it repeats is
            // the consistency check's to say).
            let stuck = previous.as_ref() == Some(&got) && !got.is_empty();
            let n = got.len() as i64;
            read += 1;
            items.extend(got.iter().cloned());
            previous = Some(got);
            last = Some(ex);
            if stuck || n == 0 {
                break;
            }
            match &paging {
                // A short page is the last; without a size to tell, an empty one is.
                Paging::Offset { .. } | Paging::Page { .. } => {
                    if !full {
                        break;
                    }
                    offset += n;
                }
                Paging::Cursor { .. } if link.is_some() => follow = link,
                Paging::Cursor { .. } => match next {
                    Some(Value::String(t)) if t.contains('/') || t.contains('?') => {
                        match pages::under_base(&self.s.target, &t) {
                            Some(p) => follow = Some(p),
                            None => break,
                        }
                    }
                    Some(Value::String(t)) => cursor = Some(t),
                    Some(other) => cursor = Some(other.to_string()),
                    None => match link {
                        Some(p) => follow = Some(p),
                        None => break,
                    },
                },
                Paging::Whole => {
                    let address = next
                        .and_then(|v| v.as_str().map(str::to_string))
                        .and_then(|t| pages::under_base(&self.s.target, &t));
                    match link.or(address) {
                        Some(p) => follow = Some(p),
                        None => break,
                    }
                }
            }
            if page + 1 == pages::MAX_PAGES {
                return Ok(Err(format!(
                    "it holds more than {} pages",
                    pages::MAX_PAGES
                )));
            }
        }
        let Some(last) = last else {
            return Ok(Err("no page was read".into()));
        };
        Ok(Ok(Listing {
            pages: read,
            items,
            last,
        }))
    }
}

/// A list read whole.
struct Listing {
    items: Vec<Value>,
    pages: usize,
    /// The last page's exchange (what a failure shows).
    last: Exchange,
}

#[cfg(test)]
mod tests {
    use super::shows;
    use serde_json::json;

    #[test]
    fn a_read_shows_what_was_sent_in_any_order_and_with_its_own_keys() {
        let shown = json!({"id": "b1", "write": ["bob", "alice"], "last_modified": 7});
        assert!(shows(&shown, &json!({"write": ["alice"]})));
        assert!(shows(
            &shown,
            &json!({"write": ["alice", "bob"], "read": []})
        ));
        assert!(shows(&shown, &json!({"gone": null, "meta": {}})));
        assert!(shows(&json!({"n": 600}), &json!({"n": 600.0})));
        // What differs, or is missing and was not empty, is not shown.
        assert!(!shows(&shown, &json!({"write": ["carol"]})));
        assert!(!shows(&shown, &json!({"read": ["alice"]})));
        assert!(!shows(&shown, &json!({"write": ["alice", "alice"]})));
        assert!(!shows(&json!({"n": 1}), &json!({"n": "1"})));
    }
}

//! Composed read-back: what the read-back must show once every accepted update is applied, how
//! it is polled and waited for, and how a read-back violation is made small.

use super::*;

/// What the read-back must show once every accepted update is applied: the composition of the
/// updates since the last read-back that showed them all. A target that applies updates in the
/// background is then waited for once per settle (the end of the random phase, or before a
/// shrink), not once per case.
#[derive(Default)]
pub(super) struct Composed {
    /// Read-back key -> what the latest accepted update that set it expects, and its exchange;
    /// `None` when a request the suite cannot predict (a coerced invalid body) set it last.
    pub(super) keys: BTreeMap<String, Option<(Expect, std::rc::Rc<Exchange>)>>,
    /// When the latest update was accepted.
    pub(super) last: Option<Instant>,
    /// Accepted updates since the last read-back.
    pub(super) since_poll: usize,
    /// Read-back violations found, each attributed to the update that set the field.
    pub(super) found: Vec<Violation>,
    /// The latest valid body a busy target answered 409 that would have changed the CVM.
    pub(super) busy: Option<Value>,
    /// Whether a read-back has shown an accepted update change the CVM (an update that sets what
    /// is already there proves nothing about applying).
    pub(super) shown_change: bool,
    /// Whether a read-back found an accepted update not shown yet: the target may apply late
    /// (or not at all).
    pub(super) lagging: bool,
    /// Read-back key -> the value expected of it that the latest read-back did not show.
    pub(super) unshown: BTreeMap<String, Value>,
    /// Whether a value expected but not shown by one read-back showed in a later one: the
    /// target does apply late, so a read-back made at once proves nothing.
    pub(super) lag_proven: bool,
    /// Read-back key -> every value the updates accepted since the CVM last read back as
    /// predicted gave it; `None` when a request the suite cannot predict touched it. However late
    /// a target applies, a key reads back as before or as one of these.
    pub(super) since: BTreeMap<String, Option<Vec<Value>>>,
    /// Read-back key -> the latest update that left it out since another one set it. A value
    /// that does not show is blamed on the update that set it (a target that ignores the field);
    /// when that does not reproduce, on this one (a target that resets what is left out).
    pub(super) left_out_by: BTreeMap<String, std::rc::Rc<Exchange>>,
    /// PATCH field -> the update to try when a composed violation on it does not reproduce with
    /// the update that set it (`left_out_by` when the violation was found).
    pub(super) alternatives: BTreeMap<String, std::rc::Rc<Exchange>>,
    /// PATCH fields whose latest value no other update may change until a read-back has shown it
    /// (or the composition was judged): a kind of value the run must see confirmed, such as a
    /// null (`Suite::hold_nulls`). Random bodies leave them out meanwhile.
    pub(super) held: BTreeSet<String>,
}

impl Composed {
    /// Releases the held fields that `now` shows as expected, or that no longer wait for a
    /// read-back (judged, or set by a request the suite cannot predict).
    pub(super) fn release(&mut self, now: &Value, body: &Object) {
        let keys = &self.keys;
        self.held.retain(|f| {
            let readback = body
                .field(f)
                .and_then(|x| x.readback.as_ref())
                .map(|r| r.field.as_str());
            match readback.and_then(|r| keys.get(r)) {
                Some(Some((e, _))) => e.field == *f && !e.shown_in(now),
                _ => false,
            }
        });
    }

    pub(super) fn pending(&self) -> bool {
        self.keys.values().any(Option::is_some)
    }

    /// `base` (the CVM as last read back) with every known expectation applied.
    pub(super) fn predicted(&self, base: &Value) -> Value {
        let mut out = base.clone();
        if let Some(o) = out.as_object_mut() {
            for (k, e) in &self.keys {
                match e {
                    Some((e, _)) => {
                        o.insert(k.clone(), e.value.clone());
                    }
                    None => {
                        o.remove(k);
                    }
                }
            }
        }
        out
    }

    /// Notes an expectation an accepted update added: its value is one the key may now show.
    pub(super) fn allow(&mut self, e: &Expect) {
        let values = self.since.entry(e.readback.clone()).or_insert(Some(vec![]));
        if let Some(values) = values {
            if !values.contains(&e.value) {
                values.push(e.value.clone());
            }
        }
    }

    /// Notes a key set by a request the suite cannot predict: from now on it may show anything.
    pub(super) fn unknown(&mut self, key: &str) {
        self.keys.insert(key.into(), None);
        self.since.insert(key.into(), None);
        self.left_out_by.remove(key);
    }

    /// Keeps, for a violation found on `e`, the update that left its key out since.
    pub(super) fn blame(&mut self, e: &Expect) {
        if let Some(ex) = self.left_out_by.get(&e.readback) {
            self.alternatives.insert(e.field.clone(), ex.clone());
        }
    }

    /// The CVM read back as predicted (or was taken as it is): what may show starts again from
    /// it, but for keys that stay unknown.
    pub(super) fn confirmed(&mut self) {
        self.left_out_by.clear();
        self.unshown.clear();
        let keys = &self.keys;
        self.since.retain(|k, _| matches!(keys.get(k), Some(None)));
        for v in self.since.values_mut() {
            *v = None;
        }
    }

    /// Expectations whose key reads back a value that neither `base` (the CVM as last read back)
    /// nor any update accepted since gave it. No lag explains such a value, so it is a violation
    /// at once; the key is unknown from then on, so it is reported once.
    pub(super) fn impossible(
        &mut self,
        base: &Value,
        now: &Value,
    ) -> Vec<(Expect, std::rc::Rc<Exchange>, Value)> {
        let mut out = Vec::new();
        for (k, e) in &self.keys {
            let (Some((e, ex)), Some(Some(values))) = (e, self.since.get(k)) else {
                continue;
            };
            let shown = read(now, k);
            if !alike(&shown, &read(base, k)) && !values.iter().any(|v| merged(&shown, v)) {
                out.push((e.clone(), ex.clone(), shown));
            }
        }
        for (e, _, _) in &out {
            self.blame(e);
            self.unknown(&e.readback);
        }
        out
    }
}

/// What read-back must show after a PATCH.
#[derive(Debug, Clone)]
pub(super) struct Expect {
    /// The PATCH field.
    pub(super) field: String,
    /// The GET field.
    pub(super) readback: String,
    pub(super) value: Value,
    pub(super) why: &'static str,
    /// The kind of value sent ([`kind_of`]): what the coverage report counts as sent and as
    /// verified by a read-back.
    pub(super) kind: String,
}

impl Expect {
    /// Whether the CVM as read back shows it (a `null` expected may also show as absent).
    pub(super) fn shown_in(&self, now: &Value) -> bool {
        match now.get(&self.readback) {
            Some(v) => merged(v, &self.value),
            None => self.value.is_null(),
        }
    }

    /// What is wrong when it does not show, waited for `within`.
    pub(super) fn mismatch(&self, now: &Value, within: &str) -> String {
        let shown = read(now, &self.readback);
        format!(
            "after an accepted update, `{}` reads back {} where {} was expected ({}) within {within}",
            self.readback, shown, self.value, self.why
        )
    }
}

/// Whether `now` shows `sent` merged in as a PATCH merges it (RFC 7396): an object sent sets
/// each of its keys, a null among them clears that key, and the keys it leaves out keep theirs;
/// anything else is set whole. Numbers compare by value (`600` shows `600.0`).
///
/// Inside an object, a list shows each item sent, in any order and beside items of the
/// server's own (Kinto adds the writer to `permissions.write`), and an empty list or object
/// may show as left out; a field's own list is set whole.
pub(super) fn merged(now: &Value, sent: &Value) -> bool {
    match (now, sent) {
        (Value::Object(_), Value::Object(_)) => within(now, sent),
        _ => alike(now, sent),
    }
}

/// [`merged`] below the field's own value.
fn within(now: &Value, sent: &Value) -> bool {
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    match (now, sent) {
        (Value::Object(n), Value::Object(s)) => s.iter().all(|(k, v)| match n.get(k) {
            Some(x) if v.is_null() => x.is_null(),
            Some(x) => within(x, v),
            None => empty(v),
        }),
        (Value::Array(n), Value::Array(s)) => {
            let mut free: Vec<&Value> = n.iter().collect();
            s.iter()
                .all(|y| match free.iter().position(|x| alike(x, y)) {
                    Some(i) => {
                        free.swap_remove(i);
                        true
                    }
                    None => false,
                })
        }
        _ => alike(now, sent),
    }
}

/// Deep equality, numbers by value: `600` is `600.0`, but two integers are compared exactly (an
/// integer past 2^53 that reads back rounded is not the one sent).
fn alike(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => crate::meta::same_number(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| alike(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| alike(v, w)))
        }
        _ => a == b,
    }
}

/// What `key` reads back in `cvm`; absent reads as null.
pub(super) fn read(cvm: &Value, key: &str) -> Value {
    cvm.get(key).cloned().unwrap_or(Value::Null)
}

/// For every field with `x-readback`: set -> the value (unit converted), null -> null where the
/// read-back field may be null, absent -> as before.
pub(super) fn expectations(
    body: &Value,
    before: &Value,
    req: &Object,
    got: Option<&Object>,
) -> Vec<Expect> {
    let mut out = Vec::new();
    for f in &req.fields {
        let Some(readback) = &f.readback else {
            continue;
        };
        let (rb, div) = (readback.field.as_str(), readback.divide_by);
        let rb_nullable = got
            .and_then(|g| g.field(rb))
            .is_some_and(|gf| gf.nullable || !gf.required);
        match body.get(&f.name) {
            Some(Value::Null) if rb_nullable => out.push(Expect {
                field: f.name.clone(),
                readback: rb.into(),
                value: Value::Null,
                why: "sent as null",
                kind: "null".into(),
            }),
            Some(Value::Null) => {}
            Some(v) => {
                let value = match (v.as_i64(), div) {
                    (Some(n), d) if d > 1 => json!(n.div_euclid(d)),
                    _ => v.clone(),
                };
                out.push(Expect {
                    field: f.name.clone(),
                    readback: rb.into(),
                    value,
                    why: "sent with a value",
                    kind: kind_of(&f.shape, v),
                })
            }
            None => {
                // An object left out is not expected whole: the server writes keys of its own
                // in it (Kinto's `data.last_modified`). The scenarios judge what the run wrote
                // there (`scenarios::Item::known`).
                if let Some(prev) = before.get(rb).filter(|p| !p.is_object()) {
                    out.push(Expect {
                        field: f.name.clone(),
                        readback: rb.into(),
                        value: prev.clone(),
                        why: "left out",
                        kind: "absent".into(),
                    })
                }
            }
        }
    }
    out
}

/// The kind of a value sent to a field of `shape`, for the coverage report: each edge by name (a
/// range's ends and the values beside them, zero, an empty, shortest or longest text, an empty
/// list, each value of a closed set, each boolean), else `value`.
pub(crate) fn kind_of(shape: &crate::meta::Shape, v: &Value) -> String {
    use crate::meta::Shape;
    match shape {
        Shape::Nullable { inner } => kind_of(inner, v),
        Shape::OneOf { options } => options
            .iter()
            .map(|o| kind_of(o, v))
            .find(|k| k != "value")
            .unwrap_or_else(|| "value".into()),
        Shape::Integer { min, max, .. } => {
            let Some(n) = v.as_i64() else {
                return "value".into();
            };
            let at = |b: &Option<i64>, d: i64| b.is_some_and(|b| b.checked_add(d) == Some(n));
            if at(min, 0) {
                "minimum".into()
            } else if at(max, 0) {
                "maximum".into()
            } else if at(min, 1) {
                "minimum+1".into()
            } else if at(max, -1) {
                "maximum-1".into()
            } else if n == 0 {
                "zero".into()
            } else {
                "value".into()
            }
        }
        Shape::String {
            min_len, max_len, ..
        } => {
            let Some(t) = v.as_str() else {
                return "value".into();
            };
            let n = t.chars().count() as u64;
            if n == 0 {
                "empty".into()
            } else if Some(n) == *max_len {
                "longest".into()
            } else if Some(n) == *min_len {
                "shortest".into()
            } else {
                "value".into()
            }
        }
        Shape::Boolean => match v.as_bool() {
            Some(b) => b.to_string(),
            None => "value".into(),
        },
        Shape::Enum { values, .. } => match v.as_str() {
            Some(t) if values.iter().any(|x| x == t) => format!("= {t}"),
            _ => "value".into(),
        },
        Shape::Array { .. } if v.as_array().is_some_and(Vec::is_empty) => "empty list".into(),
        _ => "value".into(),
    }
}

impl Suite<'_> {
    /// `--verify-every-kind`: the kinds of value sent that no read-back showed applied, sent
    /// again in rounds, each read back on its own with the full wait. A round carries, for each
    /// field, its next such kind; the fields a round leaves out are judged kept.
    pub(super) async fn verify_kinds(&self) -> Result<(), Exhausted> {
        let pending: BTreeMap<String, Vec<Value>> = {
            let r = self.rec.report.borrow();
            let examples = self.rec.examples.borrow();
            r.verified
                .iter()
                .map(|(f, kinds)| {
                    let values = kinds
                        .iter()
                        .filter(|(_, (_, shown))| *shown == 0)
                        .filter_map(|(k, _)| examples.get(&(f.clone(), k.clone())).cloned())
                        .collect();
                    (f.clone(), values)
                })
                .collect()
        };
        let rounds = pending.values().map(Vec::len).max().unwrap_or(0);
        let Some(shape) = &self.update().body else {
            return Ok(());
        };
        *self.direct.borrow_mut() = true;
        let mut out = Ok(());
        for i in 0..rounds {
            let body: serde_json::Map<String, Value> = pending
                .iter()
                .filter_map(|(f, values)| Some((f.clone(), values.get(i)?.clone())))
                .collect();
            let body = Value::Object(body);
            // Values accepted one at a time may not go together: then each alone.
            let bodies = if judge::check(self.schema(), &body, shape).is_empty() {
                vec![body]
            } else {
                body.as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| self.base_with(k, v.clone()))
                    .collect()
            };
            for b in bodies {
                match self.send_valid(&b).await {
                    Ok(found) => found.into_iter().for_each(|v| self.rec.record(v)),
                    Err(e) => {
                        out = Err(e);
                        break;
                    }
                }
            }
        }
        // A field left out is verified by an update that changes another one: every round may
        // have carried it. Such an update, one for the first field otherwise.
        let absent: Vec<String> = self
            .rec
            .report
            .borrow()
            .verified
            .iter()
            .filter(|(_, kinds)| kinds.get("absent").is_some_and(|(_, shown)| *shown == 0))
            .map(|(f, _)| f.clone())
            .collect();
        let shown: Vec<&crate::meta::Field> = self
            .body()
            .fields
            .iter()
            .filter(|f| f.readback.is_some())
            .collect();
        let setters: Vec<&crate::meta::Field> =
            match shown.iter().find(|f| !absent.contains(&f.name)) {
                Some(g) => vec![*g],
                None => shown.iter().take(2).copied().collect(),
            };
        if !absent.is_empty() && out.is_ok() {
            for g in setters {
                let Some(b) = self.set_changing(&self.base(), g) else {
                    continue;
                };
                match self.send_valid(&b).await {
                    Ok(found) => found.into_iter().for_each(|v| self.rec.record(v)),
                    Err(e) => {
                        out = Err(e);
                        break;
                    }
                }
            }
        }
        *self.direct.borrow_mut() = false;
        out
    }

    /// Adds an accepted update to the composition; every few updates, one read-back that does not
    /// wait takes what has already been applied off the books. What it finds wrong is kept in
    /// `Composed::found`, not blamed on the case at hand.
    pub(super) async fn compose(&self, body: &Value, ex: &Exchange) -> Result<(), Exhausted> {
        let poll = {
            let state = self.state.borrow();
            let Some(base) = state.as_ref() else {
                return Ok(());
            };
            let mut c = self.composed.borrow_mut();
            let before = c.predicted(base);
            let ex = std::rc::Rc::new(ex.clone());
            let mut unverified = false;
            for e in expectations(body, &before, self.body(), self.readback()) {
                self.rec.sent_kind(&e, body.get(&e.field));
                unverified |= !self.rec.is_verified(&e);
                if e.why == "left out" {
                    match c.keys.get(&e.readback) {
                        // Set by a request the suite cannot predict: nothing to expect.
                        Some(None) => continue,
                        // Set earlier in this composition: that update stays the one blamed.
                        Some(Some((set, _))) if set.value == e.value => {
                            c.left_out_by.insert(e.readback.clone(), ex.clone());
                            continue;
                        }
                        _ => {}
                    }
                } else {
                    c.left_out_by.remove(&e.readback);
                }
                c.allow(&e);
                c.keys.insert(e.readback.clone(), Some((e, ex.clone())));
            }
            c.last = Some(Instant::now());
            c.since_poll += 1;
            // A kind of value no read-back has confirmed yet is read back at once, while the
            // target keeps up: every kind sent is then verified, not only the composition's last.
            c.since_poll >= POLL_EVERY || (unverified && !c.lagging)
        };
        if poll {
            self.composed.borrow_mut().since_poll = 0;
            let found = self.poll_composed(false).await?;
            self.composed.borrow_mut().found.extend(found);
        }
        Ok(())
    }

    /// Waits until the composition shows (or its time is up); what does not show is kept in
    /// `Composed::found`.
    pub(super) async fn settle(&self) -> Result<(), Exhausted> {
        if self.composed.borrow().pending() {
            let found = self.poll_composed(true).await?;
            self.composed.borrow_mut().found.extend(found);
        }
        Ok(())
    }

    /// A read-back violation of the composition, made small: the fields of the update that set
    /// the wrong one are dropped one at a time while the update alone still shows it (trials
    /// read back at once, as proptest's shrinking does), and the result is checked again with the
    /// full wait. If that does not hold up, the violation as found is kept.
    pub(super) async fn minimise(&self, v: Violation) -> Violation {
        let Some(mut body) = v
            .exchange
            .sent
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
        else {
            return v;
        };
        let keys: Vec<String> = body
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        *self.shrinking.borrow_mut() = true;
        for k in keys.iter().filter(|k| **k != v.field) {
            let mut candidate = body.clone();
            if let Some(o) = candidate.as_object_mut() {
                o.remove(k);
            }
            match self.send_valid(&candidate).await {
                Ok(found) if found.iter().any(|w| w.key() == v.key()) => body = candidate,
                Ok(_) => {}
                Err(Exhausted) => break,
            }
        }
        *self.shrinking.borrow_mut() = false;
        let alternative = self.composed.borrow_mut().alternatives.remove(&v.field);
        let alternative = alternative.and_then(|ex| {
            let body = ex.sent.body.as_deref()?;
            serde_json::from_str::<Value>(body).ok()
        });
        let mut out = self.reproduce(&body, &v).await;
        if let (None, Some(alternative)) = (&out, alternative) {
            // A body that changes nothing shows at once whether or not it was applied: against
            // a target that applies late, another field is set as well, and its showing is
            // waited for.
            let late = self.composed.borrow().lag_proven;
            let alternative = match late && !self.changes(&alternative) {
                true => self.with_marker(alternative, &v.field),
                false => alternative,
            };
            out = self.reproduce(&alternative, &v).await;
        }
        self.composed.borrow_mut().found.clear();
        out.unwrap_or(v)
    }

    /// `body` with one more field (not `except`) set to a value the CVM does not show, if the
    /// result is valid: its showing proves the update was applied.
    pub(super) fn with_marker(&self, body: Value, except: &str) -> Value {
        self.body()
            .fields
            .iter()
            .filter(|f| f.name != except && body.get(&f.name).is_none())
            .find_map(|f| self.set_changing(&body, f))
            .unwrap_or(body)
    }

    /// Sends `body` alone and reads it back with the full wait: the violation like `v` it shows.
    pub(super) async fn reproduce(&self, body: &Value, v: &Violation) -> Option<Violation> {
        let ex = self.patch_cvm(body).await.ok()?;
        if !ex.status().is_some_and(|s| (200..300).contains(&s)) {
            return None;
        }
        let found = self.check_readback(body, &ex).await.ok()?;
        found.into_iter().find(|w| w.key() == v.key())
    }

    /// Values read back that no accepted update since the last confirmed state gave their key
    /// (`Composed::impossible`), as violations of the update that set the key last.
    pub(super) fn impossible(&self, now: &Value) -> Vec<Violation> {
        let Some(base) = self.state.borrow().clone() else {
            return vec![];
        };
        let found = self.composed.borrow_mut().impossible(&base, now);
        found
            .into_iter()
            .map(|(e, ex, shown)| {
                let was = read(&base, &e.readback);
                let msg = format!(
                    "after an accepted update, `{}` reads back {shown}, a value it had neither before ({was}) nor from any update accepted since; {} was expected ({})",
                    e.readback, e.value, e.why
                );
                self.rec
                    .violation(checks::PATCH_SEMANTICS, &e.field, None, msg, &ex, true)
            })
            .collect()
    }

    /// Reads the CVM back and compares it with the composition. Without `wait`, a difference is
    /// left for later unless the latest update is older than the read-back timeout.
    pub(super) async fn poll_composed(&self, wait: bool) -> Result<Vec<Violation>, Exhausted> {
        let mut delay = Duration::from_millis(20);
        loop {
            let Some(now) = self.read_back(&self.s.cvm_id).await? else {
                return Ok(vec![]);
            };
            let mut out = self.impossible(&now);
            let (wrong, due): (Vec<(Expect, std::rc::Rc<Exchange>)>, bool) = {
                let mut c = self.composed.borrow_mut();
                let wrong: Vec<(Expect, std::rc::Rc<Exchange>)> = c
                    .keys
                    .values()
                    .flatten()
                    .filter(|(e, _)| !e.shown_in(&now))
                    .map(|(e, x)| (e.clone(), x.clone()))
                    .collect();
                // Expected, not shown by the last read-back, shown by this one: late, not lost.
                let late = c.unshown.iter().any(|(k, value)| {
                    matches!(c.keys.get(k), Some(Some((e, _))) if e.value == *value && e.shown_in(&now))
                });
                c.lag_proven |= late;
                c.unshown = wrong
                    .iter()
                    .map(|(e, _)| (e.readback.clone(), e.value.clone()))
                    .collect();
                let due = c
                    .last
                    .is_none_or(|t| t.elapsed() >= self.s.readback_timeout);
                (wrong, due)
            };
            if wrong.is_empty() {
                let mut c = self.composed.borrow_mut();
                let base = self.state.borrow();
                let mut changed = false;
                for (e, _) in c.keys.values().flatten() {
                    self.rec.tick(checks::PATCH_SEMANTICS, &e.field);
                    self.rec.verified_kind(e);
                    changed |= base.as_ref().is_some_and(|b| !e.shown_in(b));
                }
                drop(base);
                c.shown_change |= changed;
                c.keys.retain(|_, e| e.is_none());
                c.confirmed();
                c.release(&now, self.body());
                *self.state.borrow_mut() = Some(now);
                return Ok(out);
            }
            if due || !self.target.has_budget() {
                let mut c = self.composed.borrow_mut();
                for (e, _) in c.keys.values().flatten() {
                    self.rec.tick(checks::PATCH_SEMANTICS, &e.field);
                }
                for (e, _) in &wrong {
                    c.blame(e);
                }
                c.keys.clear();
                c.confirmed();
                c.release(&now, self.body());
                *self.state.borrow_mut() = Some(now.clone());
                out.extend(wrong.iter().map(|(e, ex)| {
                    let within = format!("{:?} of the last update", self.s.readback_timeout);
                    let msg = e.mismatch(&now, &within);
                    self.rec
                        .violation(checks::PATCH_SEMANTICS, &e.field, None, msg, ex, true)
                }));
                return Ok(out);
            }
            if !wait {
                let mut c = self.composed.borrow_mut();
                c.lagging = true;
                c.release(&now, self.body());
                return Ok(out);
            }
            self.composed.borrow_mut().found.append(&mut out);
            // Read-backs are cheap and this wait is the run's one: look often.
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(50));
        }
    }

    pub(super) async fn check_readback(
        &self,
        body: &Value,
        ex: &Exchange,
    ) -> Result<Vec<Violation>, Exhausted> {
        let before = self.state.borrow().clone();
        let Some(before) = before else {
            return Ok(vec![]);
        };
        let expected = expectations(body, &before, self.body(), self.readback());
        for e in &expected {
            self.rec.sent_kind(e, body.get(&e.field));
        }
        // While shrinking, one read-back decides (the shrunk result is checked again in full).
        let wait = if *self.shrinking.borrow() {
            Duration::ZERO
        } else {
            self.s.readback_timeout
        };
        let until = Instant::now() + wait;
        let mut delay = Duration::from_millis(20);
        let mut waited = false;
        loop {
            let Some(now) = self.read_back(&self.s.cvm_id).await? else {
                return Ok(vec![]);
            };
            let wrong: Vec<&Expect> = expected.iter().filter(|e| !e.shown_in(&now)).collect();
            for e in &expected {
                self.rec.tick(checks::PATCH_SEMANTICS, &e.field);
            }
            if wrong.is_empty() {
                for e in &expected {
                    self.rec.verified_kind(e);
                }
                let mut c = self.composed.borrow_mut();
                c.shown_change |= expected.iter().any(|e| !e.shown_in(&before));
                // Not shown by an earlier read-back, shown now: the target applies late.
                c.lag_proven |= waited;
                drop(c);
                *self.state.borrow_mut() = Some(now);
                return Ok(vec![]);
            }
            // Waiting only helps a mismatch nobody has reported yet, and only one that still
            // shows the value from before: no lag explains any other.
            let all_known = {
                let r = self.rec.report.borrow();
                wrong.iter().all(|e| {
                    read(&now, &e.readback) != read(&before, &e.readback)
                        || r.violations
                            .iter()
                            .any(|v| v.check == checks::PATCH_SEMANTICS && v.field == e.field)
                })
            };
            if all_known || Instant::now() >= until || !self.target.has_budget() {
                let out = wrong
                    .iter()
                    .map(|e| {
                        let msg = e.mismatch(&now, &format!("{wait:?}"));
                        self.rec
                            .violation(checks::PATCH_SEMANTICS, &e.field, None, msg, ex, true)
                    })
                    .collect();
                *self.state.borrow_mut() = Some(now);
                return Ok(out);
            }
            waited = true;
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(500));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::merged;
    use serde_json::json;

    #[test]
    fn a_patch_merges_objects_and_sets_everything_else_whole() {
        // `merged` judges one field: `now` is what the field reads back, `sent` what was sent.
        let now = json!({"id": "b1", "key": {}, "n": 600, "tags": [1, 2]});
        assert!(merged(&now, &json!({"key": {}})));
        assert!(merged(&now, &json!({"n": 600.0, "gone": null})));
        assert!(merged(&json!(600), &json!(6e2)));
        assert!(merged(&json!([1.0, 2]), &json!([1, 2])));
        assert!(!merged(
            &json!(9007199254740993_i64),
            &json!(9007199254740992_i64)
        ));
        assert!(!merged(
            &json!(9007199254740993_i64),
            &json!(9.007199254740992e15)
        ));
        assert!(!merged(&json!(600), &json!(600.5)));
        // A field's own list is set whole; a key sent with a value must show it; a null sent
        // clears.
        assert!(!merged(&json!([1, 2]), &json!([1])));
        assert!(!merged(&now, &json!({"key": {"a": 1}})));
        assert!(!merged(&now, &json!({"id": null})));
        // Inside an object, a list shows what was sent among what the server adds, each item
        // as often as sent.
        let perms = json!({"write": ["me", "bob"], "read": []});
        assert!(merged(
            &perms,
            &json!({"write": ["bob"], "read": [], "admin": []})
        ));
        assert!(!merged(&perms, &json!({"write": ["carol"]})));
        assert!(!merged(&perms, &json!({"write": ["bob", "bob"]})));
        assert!(!merged(
            &json!({"a": [{"x": 1, "y": 2}]}),
            &json!({"a": [{"x": 1}]})
        ));
        assert!(!merged(&json!([1, 2, 3]), &json!([1, 2])));
    }
}

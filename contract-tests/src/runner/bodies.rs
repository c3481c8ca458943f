//! Bodies sent to the update: every mutation of a base body (the sweep), every field's edges,
//! the breadth variants, nulls held until shown, and the one way a valid update is sent and judged.

use super::*;

impl Suite<'_> {
    /// A PATCH of the CVM under test with `body`, with the key.
    pub(super) async fn patch_cvm(&self, body: &Value) -> Result<Exchange, Exhausted> {
        let spelling = self.spelling.borrow_mut().take();
        let text = crate::http::write_body(body, spelling.as_ref());
        let ex = self
            .target
            .send_text(
                "PATCH",
                &self.path(&self.s.cvm_id),
                &[],
                Some(text),
                Auth::Key,
            )
            .await?;
        self.rec.accepted(&ex);
        Ok(ex)
    }

    /// Sends a mutation and judges the answer. Returns the violations (not yet recorded).
    pub(super) async fn send_mutation(&self, m: &Mutation) -> Result<Vec<Violation>, Exhausted> {
        let ex = self.patch_cvm(&m.body).await?;
        self.rec.cover(&m.field, m.rule, &ex);
        self.progress();
        let mut out = self.common(self.update(), &ex, &m.field, false, Some(&m.body), Some(m));
        if ex.status().is_some_and(|s| s < 300) {
            *self.stale.borrow_mut() = true;
            // What a lax server made of the invalid value is not known: the fields it carries
            // are not predicted until a valid update sets them again.
            let mut c = self.composed.borrow_mut();
            for f in &self.body().fields {
                if let (Some(rb), true) = (&f.readback, m.body.get(&f.name).is_some()) {
                    c.unknown(&rb.field);
                }
            }
        }
        if let Ok(a) = &ex.outcome {
            let secrets = self.secrets(Some(&m.body));
            let seen = checks::Seen {
                schema: self.schema(),
                op: self.update(),
                answer: a,
                mutation: Some(m),
                secrets: &secrets,
                expected: &self.s.expected,
                known_ids: true,
            };
            for (check, verdict) in checks::judge(&seen, checks::Applies::Invalid) {
                self.rec.tick(check, &m.field);
                let Err(msg) = verdict else { continue };
                let v = self
                    .rec
                    .violation(check, &m.field, Some(m.rule), msg, &ex, false);
                if check == checks::NEGATIVE_DATA_REJECTION
                    && m.coercible
                    && !self.s.strict_types
                    && a.status < 300
                {
                    // Lenient coercion ("4" read as 4): reported, not failed, unless strict.
                    let mut w = v;
                    w.message = format!("{} (a lax validator coerces this value; --strict-types makes it a violation)", w.message);
                    self.rec.warn(w);
                } else {
                    out.push(v);
                }
            }
        }
        for v in &mut out {
            v.path.clone_from(&m.path);
        }
        Ok(out)
    }

    pub(super) fn should_send(&self, coercible: bool, null_body: bool) -> bool {
        // A lax server applies coerced values; in negative mode nothing may change.
        let lax = coercible && self.s.mode == Mode::Negative && !self.s.strict_types;
        // A `null` body where the body may be left out reads as no body to many servers
        // (Prism among them): not a clear negative.
        let no_body = null_body && !self.update().body_required;
        !lax && !no_body
    }

    /// Every mutation of two base bodies, once: the coverage phase.
    pub(super) async fn sweep(&self) -> Result<(), Exhausted> {
        // The empty body, and one with every optional property present and one item in every
        // array, so that each nested field's mutations are made too.
        let shape = crate::meta::Shape::Object {
            name: self.body().name.clone(),
        };
        let bases =
            std::iter::once(self.base()).chain(crate::breadth::full(&self.subj.schema, &shape));
        let mut done = BTreeSet::new();
        let mut todo = Vec::new();
        for base in bases {
            for m in mutate::mutations(self.schema(), &base, self.body()) {
                if self.should_send(m.coercible, m.body.is_null())
                    && done.insert(m.body.to_string())
                {
                    todo.push(m);
                }
            }
        }
        let refs: Vec<&Mutation> = todo.iter().collect();
        let (found, end) = match self.send_mutations(&refs).await {
            Ok(v) => (v, Ok(())),
            Err((v, e)) => (v, Err(e)),
        };
        for v in found {
            self.rec.record(v);
        }
        end
    }

    /// Whether `body`, applied, would read back differently from the CVM as predicted now.
    pub(super) fn changes(&self, body: &Value) -> bool {
        let state = self.state.borrow();
        let Some(base) = state.as_ref() else {
            return false;
        };
        let before = self.composed.borrow().predicted(base);
        expectations(body, &before, self.body(), self.readback())
            .iter()
            .any(|e| !e.shown_in(&before))
    }

    /// A valid body that sets every field it can to a value the CVM does not show now (the first
    /// such edge of each field that keeps the body valid); `None` when no field can be changed.
    pub(super) fn full_body(&self) -> Option<Value> {
        let body = self.body().fields.iter().fold(self.base(), |body, f| {
            self.set_changing(&body, f).unwrap_or(body)
        });
        body.as_object()
            .is_some_and(|o| !o.is_empty())
            .then_some(body)
    }

    /// `body` with `f` set to its first non-null edge that the CVM does not show now, if the
    /// result is valid.
    pub(super) fn set_changing(&self, body: &Value, f: &crate::meta::Field) -> Option<Value> {
        crate::draw::edges(self.schema(), &f.shape)
            .into_iter()
            .find_map(|v| {
                if v.is_null() || !self.changes(&json!({ f.name.as_str(): v.clone() })) {
                    return None;
                }
                let mut candidate = body.clone();
                candidate[f.name.as_str()] = v;
                judge::check_object(self.schema(), &candidate, self.body())
                    .is_empty()
                    .then_some(candidate)
            })
    }

    /// Every field's edges, each alone in a body the model judges valid: a range's ends, an
    /// empty string, null, every value of a closed set. Random bodies reach a given edge only now
    /// and then; a bug at an edge would be found by some seeds and missed by others. Bodies that
    /// change the CVM go first: against a target busy while it applies, the one it accepts first
    /// is then one whose read-back shows something.
    pub(super) async fn edges(&self) -> Result<(), Exhausted> {
        let Some(shape) = &self.update().body else {
            return Ok(());
        };
        let base = self.base();
        let mut bodies = crate::draw::body_edges(self.schema(), shape, &base);
        // Each integer edge once more in another JSON spelling (`600.0`), which must be taken
        // alike.
        bodies.extend(crate::draw::spelled_edges(self.schema(), shape, &base));
        // A stable sort: changing bodies first, each group in the document's order.
        bodies.sort_by_key(|b| !self.changes(b));
        // Each integer and string field once more in a spelling only the text shows (`6e2`,
        // `"\u00e9"`): the same value, taken alike.
        let spelled = crate::draw::spelled_bodies(self.schema(), shape, &base);
        for body in bodies {
            for v in self.send_valid(&body).await? {
                self.rec.record(v);
            }
        }
        for (body, sp) in spelled {
            *self.spelling.borrow_mut() = Some(sp);
            for v in self.send_valid(&body).await? {
                self.rec.record(v);
            }
            self.spelling.borrow_mut().take();
        }
        Ok(())
    }

    /// Each top-level field at its fullest (`breadth::full`) and every variant of it
    /// (`breadth::variants`), each in a body of its own; then one update that changes the CVM,
    /// sent twice in a row: the repeat must be answered as the first was, without a 5xx.
    pub(super) async fn breadth(&self) -> Result<(), Exhausted> {
        let Some(shape) = &self.update().body else {
            return Ok(());
        };
        let schema = &self.subj.schema;
        let mut bodies = Vec::new();
        for f in &self.body().fields {
            let Some(v) = crate::breadth::full(schema, &f.shape) else {
                continue;
            };
            let base = self.base_with(&f.name, v);
            if !judge::check(schema, &base, shape).is_empty() {
                continue;
            }
            let variants = crate::breadth::variants(schema, shape, &base);
            bodies.push(base);
            bodies.extend(variants.into_iter().map(|v| v.value));
        }
        for body in bodies {
            for v in self.send_valid(&body).await? {
                self.rec.record(v);
            }
        }
        if let Some(body) = self.full_body() {
            for _ in 0..2 {
                for v in self.send_valid(&body).await? {
                    self.rec.record(v);
                }
            }
        }
        self.hold_nulls().await
    }

    /// Each field whose read-back may show null, set to null in a body of its own and held
    /// (`Composed::held`): no later update changes it until a read-back shows the null, so a
    /// target that ignores null cannot hide behind a later update. Against a prompt target the
    /// next read-back releases it; against a late one, the run's one wait at the end does.
    pub(super) async fn hold_nulls(&self) -> Result<(), Exhausted> {
        let rb = self.readback();
        for f in &self.body().fields {
            let Some(r) = &f.readback else { continue };
            let shows_null = rb
                .and_then(|o| o.field(&r.field))
                .is_some_and(|x| x.nullable);
            if !(f.nullable && shows_null) || *self.shrinking.borrow() {
                continue;
            }
            let body = self.base_with(&f.name, Value::Null);
            if !self.changes(&body) {
                continue;
            }
            let found = self.send_valid(&body).await?;
            let accepted = found.is_empty();
            for v in found {
                self.rec.record(v);
            }
            let pending = {
                let c = self.composed.borrow();
                matches!(c.keys.get(&r.field), Some(Some((e, _))) if e.field == f.name && e.value.is_null())
            };
            if accepted && pending {
                self.composed.borrow_mut().held.insert(f.name.clone());
            }
        }
        Ok(())
    }

    /// Sends a valid body and, once accepted (a 2xx: 202 on spec/), reads the item back until it
    /// shows the update.
    pub(super) async fn send_valid(&self, body: &Value) -> Result<Vec<Violation>, Exhausted> {
        let composing = !*self.shrinking.borrow() && !*self.direct.borrow();
        let held = |s: &Self| {
            let c = s.composed.borrow();
            body.as_object()
                .is_some_and(|o| o.keys().any(|k| c.held.contains(k)))
        };
        let stripped;
        let body = if composing && held(self) {
            // A held field is not changed before a read-back has shown it (the composition's
            // read-backs, every few updates, release it): it is left out meanwhile.
            let c = self.composed.borrow();
            let mut b = body.clone();
            if let Some(o) = b.as_object_mut() {
                o.retain(|k, _| {
                    !c.held.contains(k) || self.body().field(k).is_some_and(|f| f.required)
                });
            }
            stripped = b;
            &stripped
        } else {
            body
        };
        if !composing {
            // Read back at once from here on: what is composed is waited for first, before this
            // update changes the CVM under it.
            self.settle().await?;
        }
        // While composing, the keys a coerced body set stay unknown in the composition: nothing
        // to re-read. Otherwise a stale CVM is read back before the update.
        let stale = self.stale.replace(false);
        let kept_unknown = composing && !self.composed.borrow().keys.is_empty();
        if stale && !kept_unknown {
            let now = self.read_back(&self.s.cvm_id).await?;
            if now.is_some() {
                *self.state.borrow_mut() = now;
            }
        }
        let ex = self.patch_cvm(body).await?;
        for f in body.as_object().into_iter().flat_map(|o| o.keys()) {
            let how = if body[f].is_null() { "null" } else { "value" };
            self.rec.cover(f, how, &ex);
        }
        if body.as_object().is_some_and(|o| o.is_empty()) {
            self.rec.cover("(empty body)", "value", &ex);
        }
        self.progress();
        let mut out = self.common(self.update(), &ex, "(valid body)", true, Some(body), None);
        let Ok(a) = &ex.outcome else { return Ok(out) };
        let secrets = self.secrets(Some(body));
        let seen = checks::Seen {
            schema: self.schema(),
            op: self.update(),
            answer: a,
            mutation: None,
            secrets: &secrets,
            expected: &self.s.expected,
            known_ids: true,
        };
        for (check, verdict) in checks::judge(&seen, checks::Applies::Valid) {
            self.rec.tick(check, "(valid body)");
            if let Err(msg) = verdict {
                let field = a
                    .json()
                    .and_then(|v| first_loc_field(&v))
                    .unwrap_or_else(|| "(body)".into());
                out.push(self.rec.violation(check, &field, None, msg, &ex, true));
            }
        }
        if a.status == 409 && composing && self.changes(body) {
            self.composed.borrow_mut().busy = Some(body.clone());
        }
        if (200..300).contains(&a.status) {
            if composing {
                self.compose(body, &ex).await?;
            } else {
                out.extend(self.check_readback(body, &ex).await?);
            }
        }
        Ok(out)
    }

    /// Sends a valid body to a busy target until it is accepted (within the read-back timeout),
    /// then reads it back with the full wait.
    pub(super) async fn when_free(&self, body: &Value) -> Result<Vec<Violation>, Exhausted> {
        self.settle().await?;
        let until = Instant::now() + self.s.readback_timeout;
        let mut delay = Duration::from_millis(50);
        loop {
            let ex = self.patch_cvm(body).await?;
            match ex.status() {
                Some(s) if (200..300).contains(&s) => {
                    let mut out =
                        self.common(self.update(), &ex, "(valid body)", true, Some(body), None);
                    out.extend(self.check_readback(body, &ex).await?);
                    return Ok(out);
                }
                Some(409) if Instant::now() < until => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_millis(500));
                }
                _ => return Ok(vec![]),
            }
        }
    }
}

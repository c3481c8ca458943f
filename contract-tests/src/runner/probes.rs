//! The probes of the resource's edges that need no body drawn: the preflight, authentication,
//! unknown ids, an undeclared key, and the read-back that must show rejections changed nothing.

use super::*;

impl Suite<'_> {
    /// Every method the probe sends that the document does not give for the resource's path,
    /// on the resource: each must get a 405 whose `Allow` names the documented ones. Methods
    /// other than GET go out in full mode only (a server that does implement an undocumented
    /// DELETE would act on it).
    pub(super) async fn unsupported_methods(&self) -> Result<(), Exhausted> {
        let path = &self.update().path;
        let documented = checks::methods_of_overlapping(self.schema(), path);
        let target = self.path(&self.s.cvm_id);
        for method in crate::probe::METHODS {
            if documented.iter().any(|m| m == method)
                || (method != "GET" && self.s.mode != Mode::Full)
            {
                continue;
            }
            let body = matches!(method, "POST" | "PUT").then(|| json!({}));
            let ex = self
                .target
                .send(method, &target, &[], body.as_ref(), Auth::Key)
                .await?;
            if ex.status().is_some_and(|s| (200..300).contains(&s)) {
                // Served: whatever it did, the CVM is read again before it is judged.
                *self.stale.borrow_mut() = true;
            }
            let field = format!("{method} (unsupported)");
            self.rec.tick(checks::TARGET_ANSWERS, &field);
            self.rec.cover(&field, "unsupported method", &ex);
            let a = match &ex.outcome {
                Ok(a) => a,
                Err(_) => {
                    if let Err(m) = checks::target_answers(&ex) {
                        let v =
                            self.rec
                                .violation(checks::TARGET_ANSWERS, &field, None, m, &ex, true);
                        self.rec.record(v);
                    }
                    continue;
                }
            };
            let verdicts = [
                (
                    checks::UNSUPPORTED_METHOD,
                    checks::unsupported_method(method, a),
                ),
                (
                    checks::ALLOW_HEADER_CONFORMANCE,
                    checks::allow_header_conformance(self.schema(), path, method, a),
                ),
            ];
            for (check, verdict) in verdicts {
                self.rec.tick(check, &field);
                if let Err(m) = verdict {
                    let v = self.rec.violation(check, &field, None, m, &ex, true);
                    self.rec.record(v);
                }
            }
        }
        Ok(())
    }

    /// The target answers and knows the resource; its state as first read.
    pub(super) async fn preflight(&self) {
        let ex = match self.get(&self.s.cvm_id).await {
            Ok(ex) => ex,
            Err(Exhausted) => {
                self.rec.report.borrow_mut().could_not_run =
                    Some("no request budget at all".into());
                return;
            }
        };
        let why = match &ex.outcome {
            Err(f) => Some(format!("target unreachable: {} ({})", f.message, f.kind)),
            Ok(a) if a.status == 401 || a.status == 403 => Some(format!(
                "the target refused the API key ({}); set --api-key or PHALA_API_KEY",
                a.status
            )),
            Ok(a) if a.status == 404 => Some(format!(
                "the target has no CVM `{}` (404); set --cvm-id",
                self.s.cvm_id
            )),
            Ok(_) => None,
        };
        if let Some(why) = why {
            self.rec.report.borrow_mut().could_not_run = Some(why);
            return;
        }
        for v in self.common(self.read(), &ex, "(read-back)", true, None, None) {
            self.rec.record(v);
        }
        let initial = ex.outcome.ok().and_then(|a| a.json());
        *self.state.borrow_mut() = initial.clone();
        *self.initial.borrow_mut() = initial;
    }

    /// In negative mode, after every rejected body, the resource reads back as it first did.
    pub(super) async fn rejection_changes_nothing(&self) -> Result<(), Exhausted> {
        let initial = self.initial.borrow().clone();
        if self.s.mode == Mode::Negative {
            // Nothing may have changed.
            if let (Ok(after), Some(before)) = (self.read_back(&self.s.cvm_id).await, initial) {
                self.rec
                    .tick(checks::REJECTION_CHANGES_NOTHING, "(read-back)");
                if let Some(after) = after {
                    if after != before {
                        let ex = self.get(&self.s.cvm_id).await;
                        if let Ok(ex) = ex {
                            let field = first_difference(&before, &after);
                            let m = format!(
                                "the CVM changed although every body was rejected: {field} differs"
                            );
                            self.rec.record(self.rec.violation(
                                checks::REJECTION_CHANGES_NOTHING,
                                &field,
                                None,
                                m,
                                &ex,
                                false,
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The sweep of every mutation; in full mode, where every one was refused, the item then
    /// reads back with each field an update shows as it was before the sweep: a refused request
    /// changed nothing (`rejection_changes_nothing`). Negative mode judges the whole run at its
    /// end ([`Suite::rejection_changes_nothing`]).
    pub(super) async fn sweep_changes_nothing(&self) -> Result<(), Exhausted> {
        let full = self.s.mode == Mode::Full && !*self.stale.borrow();
        let before = if full {
            self.settle().await?;
            self.read_back(&self.s.cvm_id).await?
        } else {
            None
        };
        self.sweep().await?;
        // A lax target took some broken body: what it made of it is not known.
        let Some(before) = before.filter(|_| !*self.stale.borrow()) else {
            return Ok(());
        };
        let ex = self.get(&self.s.cvm_id).await?;
        let Some(after) = ex.outcome.as_ref().ok().and_then(|a| a.json()) else {
            return Ok(());
        };
        let field = "(read-back after refused bodies)";
        self.rec.tick(checks::REJECTION_CHANGES_NOTHING, field);
        let changed = self.body().fields.iter().find_map(|f| {
            let rb = f.readback.as_ref()?;
            let (was, now) = (
                composed::read(&before, &rb.field),
                composed::read(&after, &rb.field),
            );
            (was != now).then(|| (rb.field.clone(), was, now))
        });
        if let Some((shown, was, now)) = changed {
            let m = format!(
                "every broken body was refused, and yet {shown} changed: it read {was} before them and {now} after"
            );
            self.rec.record(self.rec.violation(
                checks::REJECTION_CHANGES_NOTHING,
                &shown,
                None,
                m,
                &ex,
                false,
            ));
        }
        Ok(())
    }

    pub(super) async fn auth_phase(&self) -> Result<(), Exhausted> {
        let before = self.state.borrow().clone();
        let body = match (&before, self.s.mode) {
            // A change that would show, had the server accepted it.
            (Some(_), Mode::Full) => self
                .body()
                .fields
                .iter()
                .find_map(|f| self.set_changing(&self.base(), f))
                .unwrap_or_else(|| self.base()),
            _ => self.base(),
        };
        // No key, a wrong one, and near misses of the real one (empty, truncated, one character
        // more, case changed), on the update and on its read-back.
        let mut auths = vec![Auth::Missing, Auth::Wrong];
        auths.extend(Auth::NEAR_MISSES.into_iter().filter(|a| {
            a.credential(self.s.key_for(&self.target.options().shown.credential))
                .is_some()
        }));
        let path = self.path(&self.s.cvm_id);
        for (op, sent_body) in [(self.update(), Some(&body)), (self.read(), None)] {
            if op.auth.is_empty() {
                continue;
            }
            let method = if sent_body.is_some() { "PATCH" } else { "GET" };
            for &auth in &auths {
                let ex = self
                    .target
                    .send(method, &path, &[], sent_body, auth)
                    .await?;
                let which = if method == "PATCH" {
                    auth.label().to_string()
                } else {
                    format!("GET {}", auth.label())
                };
                self.rec.cover(&which, "auth", &ex);
                for v in self.common(op, &ex, &which, true, sent_body, None) {
                    self.rec.record(v);
                }
                self.rec.tick(checks::IGNORED_AUTH, &which);
                if let Ok(a) = &ex.outcome {
                    if a.status != 401 {
                        let m = format!("a {method} {} got {}, not 401", auth.label(), a.status);
                        self.rec.record(self.rec.violation(
                            checks::IGNORED_AUTH,
                            &which,
                            None,
                            m,
                            &ex,
                            true,
                        ));
                    }
                }
            }
        }
        let after = self.read_back(&self.s.cvm_id).await?;
        if let (Some(b), Some(a)) = (&before, &after) {
            if a != b {
                let field = first_difference(b, a);
                let ex = self.get(&self.s.cvm_id).await?;
                let m = format!("an unauthenticated PATCH changed the CVM: {field} differs");
                self.rec.record(self.rec.violation(
                    checks::IGNORED_AUTH,
                    &field,
                    None,
                    m,
                    &ex,
                    true,
                ));
            }
        }
        *self.state.borrow_mut() = after.or(before);
        Ok(())
    }

    /// A valid, empty update of an id that does not exist: where the operation documents 404, that
    /// is the answer, and nothing changes. Safe in negative mode: no CVM has that id.
    pub(super) async fn unknown_id_probe(&self) -> Result<(), Exhausted> {
        if self.update().response(404).is_none_or(|r| r.status != 404) {
            return Ok(());
        }
        let seed = self.s.seed;
        // A plain id, then ids a path parameter must survive: percent-encoded characters, a
        // slash and dots (sent encoded), Unicode, and a very long one. The plain one must be 404;
        // the others may also be refused as invalid (422), never accepted nor crash.
        let mut ids: Vec<(String, String)> = vec![
            (
                format!("contract-tests-no-such-id-{seed}"),
                "(unknown id)".into(),
            ),
            (
                format!("..%2e/..%2F{seed} x?#"),
                "(unknown id, encoded)".into(),
            ),
            (format!("ünïcødé-✓-{seed}"), "(unknown id, unicode)".into()),
            (
                format!("{seed}-{}", "x".repeat(2048)),
                "(unknown id, long)".into(),
            ),
        ];
        // Near misses of the real id: another case, a space, a prefix, one character more, a
        // look-alike letter. None may reach the CVM (an id that differs only by case must not
        // resolve to it); any refusal will do.
        let real = self.s.cvm_id.clone();
        let near: Vec<(String, String)> = crate::probe::requests::near_misses(&real, false)
            .into_iter()
            .map(|(id, how)| (id, format!("(near miss of the id, {how})")))
            .collect();
        // And ids drawn from the path parameter's own schema.
        let known = [Some(&self.s.cvm_id), self.s.onchain_cvm_id.as_ref()];
        for id in path_values(self.update(), seed, 4) {
            if !known.contains(&Some(&id)) {
                ids.push((id, "(unknown id, from its schema)".into()));
            }
        }
        let first_near = ids.len();
        ids.extend(near);
        let body = self.base();
        // The update, and its read-back where that documents a 404 too.
        let mut ops = vec![(self.update(), Some(&body))];
        if self.read().response(404).is_some_and(|r| r.status == 404) {
            ops.push((self.read(), None));
        }
        for (op, sent_body) in ops {
            let method = if sent_body.is_some() { "PATCH" } else { "GET" };
            // A wrong status an earlier id already got is the same bug, not another failure.
            let mut wrong = BTreeSet::new();
            // Only a target that refuses an unknown id can show a near miss reached the CVM.
            let mut refuses_unknown = false;
            for (i, (missing, field)) in ids.iter().enumerate() {
                let field = if method == "PATCH" {
                    field.to_string()
                } else {
                    format!("GET {field}")
                };
                let ex = self
                    .target
                    .send(method, &self.path(missing), &[], sent_body, Auth::Key)
                    .await?;
                self.rec.cover(&field, "unknown_id", &ex);
                for v in self.common(op, &ex, &field, true, sent_body, None) {
                    self.rec.record(v);
                }
                self.rec.tick(checks::UNKNOWN_ID_NOT_FOUND, &field);
                if let Ok(a) = &ex.outcome {
                    if i == 0 {
                        refuses_unknown = a.status == 404;
                    }
                    if i >= first_near {
                        // A near miss: any refusal will do; a success reached the real CVM.
                        if refuses_unknown && (200..300).contains(&a.status) {
                            let m = format!(
                                "a {method} of `{missing}`, a near miss of the real id `{real}`, got {}: it reached the CVM",
                                a.status
                            );
                            self.rec.record(self.rec.violation(
                                checks::UNKNOWN_ID_NOT_FOUND,
                                &field,
                                None,
                                m,
                                &ex,
                                true,
                            ));
                        }
                        continue;
                    }
                    let refused = a.status == 404 || (i > 0 && a.status == 422);
                    if !refused && wrong.insert(a.status) {
                        let shown: String = missing.chars().take(40).collect();
                        let m = format!(
                            "a {method} of the id `{shown}`, which does not exist, got {}, not 404",
                            a.status
                        );
                        self.rec.record(self.rec.violation(
                            checks::UNKNOWN_ID_NOT_FOUND,
                            &field,
                            None,
                            m,
                            &ex,
                            true,
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// A valid body with a key the schema does not declare: the request schema allows extra
    /// properties, so a correct server accepts the body and ignores the key. Full mode only (the
    /// update is accepted).
    pub(super) async fn extra_key_probe(&self) -> Result<(), Exhausted> {
        let key = "contract_tests_undeclared";
        let body = self.base_with(key, Value::Bool(true));
        if self
            .update()
            .body
            .as_ref()
            .is_some_and(|b| !judge::check(self.schema(), &body, b).is_empty())
        {
            return Ok(()); // the schema forbids extra keys: then it is a negative case
        }
        let ex = self.patch_cvm(&body).await?;
        self.rec.cover("(extra key)", "extra_key", &ex);
        for v in self.common(self.update(), &ex, "(extra key)", true, Some(&body), None) {
            self.rec.record(v);
        }
        self.look_alike_keys().await
    }

    /// Undeclared keys spelled like declared ones: another case (`VCPU` for `vcpu`), a space
    /// after, a prefix, one character more, a look-alike letter, each with a value that would
    /// change its twin: a correct server ignores the key (or refuses the
    /// body), and the read-back shows the twin as it was (`patch_semantics`: a field left out
    /// keeps its value). Only fields that read back, where the schema allows undeclared keys.
    async fn look_alike_keys(&self) -> Result<(), Exhausted> {
        let Some(shape) = self.update().body.clone() else {
            return Ok(());
        };
        let declared: BTreeSet<&str> = self.body().fields.iter().map(|f| f.name.as_str()).collect();
        let mut bodies = Vec::new();
        for f in &self.body().fields {
            if f.readback.is_none() {
                continue;
            }
            // Its near misses (another case, a space after, a prefix, one character more, a
            // look-alike letter), all in one body: none may act as the field.
            let twins: Vec<String> = crate::probe::requests::near_misses(&f.name, false)
                .into_iter()
                .map(|(n, _)| n)
                .filter(|n| *n != f.name && !declared.contains(n.as_str()))
                .collect();
            if twins.is_empty() {
                continue;
            }
            let base = self.base();
            let Some(changed) = self.set_changing(&base, f) else {
                continue;
            };
            let mut body = base;
            let Some(o) = body.as_object_mut() else {
                continue;
            };
            o.remove(&f.name);
            for twin in twins {
                o.insert(twin, changed[f.name.as_str()].clone());
            }
            if judge::check(self.schema(), &body, &shape).is_empty() {
                bodies.push(body);
            }
        }
        // Each read back on its own (not composed with others): a twin that changed is then
        // blamed on the one body that carried its look-alike.
        *self.direct.borrow_mut() = true;
        let mut result = Ok(());
        for body in bodies {
            match self.send_valid(&body).await {
                Ok(found) => found.into_iter().for_each(|v| self.rec.record(v)),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        *self.direct.borrow_mut() = false;
        result
    }
}

/// Values for an operation's first path parameter, drawn from its schema with the run's seed:
/// strings of any characters within its lengths, integers within its bounds, its enum values.
pub(super) fn path_values(op: &crate::meta::Operation, seed: u64, n: usize) -> Vec<String> {
    use crate::meta::Shape;
    use proptest::strategy::{Strategy, ValueTree};
    let Some(p) = op.params.iter().find(|p| p.location == "path") else {
        return Vec::new();
    };
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8] = 0x1d;
    let mut runner = TestRunner::new_with_rng(
        PtConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    let strategy: proptest::strategy::BoxedStrategy<String> = match &p.shape {
        Shape::String {
            min_len, max_len, ..
        } => {
            let lo = min_len.unwrap_or(1).max(1) as usize;
            let hi = max_len.map_or(lo + 63, |m| m as usize).max(lo);
            proptest::collection::vec(any::<char>(), lo..=hi)
                .prop_map(|c| c.into_iter().collect())
                .boxed()
        }
        Shape::Integer { min, max, .. } => (min.unwrap_or(i64::MIN)..=max.unwrap_or(i64::MAX))
            .prop_map(|i| i.to_string())
            .boxed(),
        Shape::Enum { values, .. } if !values.is_empty() => {
            proptest::sample::select(values.clone()).boxed()
        }
        _ => return Vec::new(),
    };
    (0..n)
        .filter_map(|_| strategy.new_tree(&mut runner).ok().map(|t| t.current()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_parameter_values_come_from_its_schema_and_the_seed() {
        let op = crate::spec::update_op();
        let a = super::path_values(op, 7, 4);
        assert_eq!(a.len(), 4);
        // `cvm_id` is a string with no bounds: 1 to 64 characters of any kind.
        assert!(
            a.iter().all(|v| (1..=64).contains(&v.chars().count())),
            "{a:?}"
        );
        assert_eq!(
            a,
            super::path_values(op, 7, 4),
            "the same seed draws the same ids"
        );
        assert_ne!(a, super::path_values(op, 8, 4));
    }
}

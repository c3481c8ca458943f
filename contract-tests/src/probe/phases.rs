//! The probe's phases on each operation: valid, repeated, breadth and edge requests, every
//! mutation of the first cases, an unknown id, missing and near-miss credentials; and those of
//! the whole run: the methods each path lacks, one `missing_auth` for a credential nothing accepts.

use super::*;

/// The size of a body sent for a documented 413: 2 MiB, past the 1 MiB many servers and proxies
/// allow by default.
const OVERSIZED: usize = 2 << 20;
/// The length of an address sent for a documented 414: 64 KiB, past the 8 KiB most servers take.
const OVERSIZED_URI: usize = 64 << 10;

impl Run<'_> {
    pub(crate) async fn operation(
        &mut self,
        schema: &Arc<Schema>,
        index: usize,
        op: &Operation,
    ) -> Result<(), Exhausted> {
        let label = op.operation_id.clone().unwrap_or_else(|| op.name.clone());
        if op.body_required && op.body.is_none() {
            self.report.skip(format!(
                "{label}: its required body is not JSON, and only JSON bodies are drawn"
            ));
            return Ok(());
        }
        // Requests are drawn from `schema` (I-JSON integers), judged by the original.
        let drawn_op = schema.operations.get(&op.name).unwrap_or(op);
        let fixed = self.fixed_params(op);
        let strategy = match requests_with(schema, drawn_op, &fixed) {
            Ok(s) => s,
            Err(why) => {
                self.report.skip(format!("{label}: {why}"));
                return Ok(());
            }
        };
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&self.s.seed.to_le_bytes());
        seed[8..16].copy_from_slice(&(index as u64).to_le_bytes());
        let mut rng = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        let auth = self.auth(op);
        for case in 0..self.s.cases {
            let Ok(mut tree) = strategy.new_tree(&mut rng) else {
                self.report.skip(format!(
                    "{label}: the model's strategy rejected too many draws"
                ));
                return Ok(());
            };
            // What made earlier requests of the operation fail is held back (triage).
            let mut valid = tree.current();
            crate::triage::apply_holds(&self.report.held, &op.name, &mut valid);
            self.report.cases += 1;
            let secrets = secret_values(self.schema, op, valid.body.as_ref());
            // A delete's probes of credentials and ids go while its item is still there; every
            // other operation's after its valid request, which may teach what to hold back.
            let deletes = op.method == "DELETE";
            if case == 0 && deletes {
                self.identity_probes(schema, drawn_op, op, &fixed, &valid, &label)
                    .await?;
            }
            if self.s.mode == Mode::Full {
                // The drawn request first: a failure it shows is shrunk with its value tree, and
                // what it needed is held back from every request after it.
                self.send_valid_drawn(
                    op,
                    &valid,
                    &format!("{label} (valid)"),
                    auth,
                    &secrets,
                    Some(&mut tree),
                )
                .await?;
                let mut held = valid.clone();
                crate::triage::apply_holds(&self.report.held, &op.name, &mut held);
                if case == 0 {
                    // The same valid request twice in a row (held back as the next ones are).
                    if held != valid {
                        self.send_valid(op, &held, &format!("{label} (valid)"), auth, &secrets)
                            .await?;
                    }
                    self.send_valid(op, &held, &format!("{label} (repeated)"), auth, &secrets)
                        .await?;
                }
                valid = held;
            }
            if case == 0 && !deletes {
                self.identity_probes(schema, drawn_op, op, &fixed, &valid, &label)
                    .await?;
            }
            if self.s.mode == Mode::Full {
                if case == 0 {
                    // Every nested position reached with what random draws seldom give
                    // (`breadth::variants`).
                    let variants = drawn_op
                        .body
                        .as_ref()
                        .map(|shape| crate::breadth::bodies(schema, shape))
                        .unwrap_or_default();
                    self.send_bodies(op, &valid, variants, &format!("{label} (breadth)"), auth)
                        .await?;
                }
                // The first body once more with each field at each edge: random draws reach a
                // given edge only now and then.
                let edges = match (&drawn_op.body, &valid.body, case) {
                    (Some(shape), Some(body), 0) => draw::body_edges(schema, shape, body),
                    _ => Vec::new(),
                };
                self.send_bodies(op, &valid, edges, &format!("{label} (edge)"), auth)
                    .await?;
                // And each integer in another JSON spelling of it (`600.0`): the same value.
                let spelled = match (&drawn_op.body, &valid.body, case) {
                    (Some(shape), Some(body), 0) => draw::spelled_edges(schema, shape, body),
                    _ => Vec::new(),
                };
                self.send_bodies(op, &valid, spelled, &format!("{label} (spelling)"), auth)
                    .await?;
                // And each integer and string of the first body in a spelling only its text
                // shows (`6e2`, `"\u0061"`): the body is the same value.
                let raw = match (&drawn_op.body, &valid.body, case) {
                    (Some(shape), Some(body), 0) => draw::spelled_bodies(schema, shape, body),
                    _ => Vec::new(),
                };
                for (body, sp) in raw {
                    let mut r = Request {
                        body: Some(body),
                        spelling: Some(sp),
                        ..valid.clone()
                    };
                    crate::triage::apply_holds(&self.report.held, &op.name, &mut r);
                    let secrets = secret_values(self.schema, op, r.body.as_ref());
                    let field = format!("{label} (spelling)");
                    self.send_valid(op, &r, &field, auth, &secrets).await?;
                }
            }
            // Every mutation of the first cases; later cases repeat the rules already probed.
            if case >= 2 {
                continue;
            }
            for (m, mut r) in invalid(self.schema, op, &valid) {
                // Holds learnt since the case was drawn apply too, but not on what the mutation
                // breaks.
                crate::triage::apply_holds_but(&self.report.held, &op.name, &mut r, Some(&m.path));
                let before = self.report.violations.len();
                let ex = self.send(op, &r, auth).await?;
                self.tally(op, auth, &ex);
                let field = format!("{label} {}", m.field);
                self.common(op, &ex, &field, Some(&m), &secrets);
                self.report.cover(&field, m.rule, &ex);
                if let Ok(a) = &ex.outcome {
                    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
                    let seen = checks::Seen {
                        schema: self.schema,
                        op,
                        answer: a,
                        mutation: Some(&m),
                        secrets: &secrets,
                        expected: &self.s.expected,
                        known_ids: self.known_ids(op, &ex.sent.path),
                    };
                    for (check, verdict) in checks::judge(&seen, checks::Applies::Invalid) {
                        // A framework's convention the document does not state is not held here.
                        if checks::CONVENTIONS.contains(&check) {
                            continue;
                        }
                        self.report.tick(check, &field);
                        let Err(msg) = verdict else { continue };
                        let lenient = check == checks::NEGATIVE_DATA_REJECTION
                            && m.coercible
                            && a.status < 300
                            && !self.s.strict_types;
                        if lenient {
                            // A lax validator coerced it: a warning unless strict types are
                            // asked for.
                            self.warn(check, &field, Some(m.rule), msg, &ex);
                        } else {
                            self.record(check, &field, Some(m.rule), msg, &ex, false);
                        }
                    }
                }
                if self.report.violations.len() > before {
                    for v in &mut self.report.violations[before..] {
                        v.path.clone_from(&m.path);
                    }
                    self.triage(op, &ex, Some(&m), None::<&mut Drawn>).await;
                }
            }
        }
        Ok(())
    }

    /// The probes of who may ask and for what: no credential, a wrong one and near misses
    /// (`ignored_auth`), and an id no item has (`unknown_id_not_found`). Parameters held back on
    /// any operation are left out of them: a broken input would hide what they probe.
    async fn identity_probes(
        &mut self,
        schema: &Arc<Schema>,
        drawn_op: &Operation,
        op: &Operation,
        fixed: &[(String, String)],
        valid: &Request,
        label: &str,
    ) -> Result<(), Exhausted> {
        let mut r = valid.clone();
        crate::triage::apply_shared_holds(&self.report.held, op, &mut r);
        if !op.auth.is_empty() {
            self.ignored_auth(op, &r, label).await?;
        }
        self.oversized(op, &r, label).await?;
        self.preconditions(op, &r, label).await?;
        self.unknown_id(schema, drawn_op, op, fixed, label).await
    }

    /// Where an operation declares a precondition header and documents the 412 or 304 it
    /// answers, the request that status is for: `If-Match` with an `ETag` nothing has,
    /// `If-None-Match: *` (on a read, the 304 of a current item; on a change, the 412 of an item
    /// that exists), `If-Unmodified-Since` the epoch, `If-Modified-Since` a date to come; where it
    /// documents 406, an `Accept` of a type nothing is; where 415, its body said to be text.
    /// Judged by the checks of every answer; what each precondition must do on a live item is
    /// the conditional scenario's (`conditional_requests`).
    async fn preconditions(
        &mut self,
        op: &Operation,
        valid: &Request,
        label: &str,
    ) -> Result<(), Exhausted> {
        let tries: [(&str, &str); 4] = [
            ("if-match", "\"contract-tests-stale\""),
            ("if-none-match", "*"),
            ("if-unmodified-since", "Thu, 01 Jan 1970 00:00:00 GMT"),
            ("if-modified-since", "Fri, 31 Dec 9999 23:59:59 GMT"),
        ];
        let conditional = op.documents(412) || op.documents(304);
        let mut sends: Vec<(String, String)> = tries
            .into_iter()
            .filter(|_| conditional)
            .filter_map(|(name, value)| Some((op.header_param(name)?.name.clone(), value.into())))
            .collect();
        // And content negotiation: an `Accept` nothing answers (406), a body as text (415).
        if op.documents(406) {
            sends.push(("Accept".into(), "application/x-contract-tests-none".into()));
        }
        if op.documents(415) && valid.body.is_some() {
            sends.push(("Content-Type".into(), "text/plain".into()));
        }
        for (name, value) in sends {
            let mut r = valid.clone();
            r.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
            r.headers.push((name.clone(), value.clone()));
            let p_name = name;
            let ex = self.send(op, &r, self.auth(op)).await?;
            let field = format!("{label} ({p_name}: {value})");
            self.common(op, &ex, &field, None, &[]);
            self.report.cover(&field, "precondition", &ex);
            // A delete that went through all the same: its item is gone.
            self.forget_deleted(op, &ex);
        }
        Ok(())
    }

    /// Where an operation documents 413 or 414, the request that status is for: a body of
    /// [`OVERSIZED`] bytes (its valid body with a string that long under an undeclared key, or
    /// the string alone where the body is no object), a query of [`OVERSIZED_URI`] bytes. Judged
    /// by the checks of every answer: a crash or a status the document does not give is a
    /// finding; a server that takes the size is within its rights, since no size was documented.
    async fn oversized(
        &mut self,
        op: &Operation,
        valid: &Request,
        label: &str,
    ) -> Result<(), Exhausted> {
        if op.documents(413) && op.body.is_some() {
            let pad = Value::String("x".repeat(OVERSIZED));
            let body = match valid.body.clone() {
                Some(Value::Object(mut o)) => {
                    o.insert("contract_tests_padding".into(), pad);
                    Value::Object(o)
                }
                _ => pad,
            };
            let r = Request {
                body: Some(body),
                spelling: None,
                ..valid.clone()
            };
            let ex = self.send(op, &r, self.auth(op)).await?;
            let field = format!("{label} (a body of {OVERSIZED} bytes)");
            self.common(op, &ex, &field, None, &[]);
            self.report.cover(&field, "oversized", &ex);
        }
        if op.documents(414) {
            let mut r = valid.clone();
            r.query
                .push(("contract_tests_padding".into(), "x".repeat(OVERSIZED_URI)));
            let ex = self.send(op, &r, self.auth(op)).await?;
            let field = format!("{label} (an address of {OVERSIZED_URI} bytes)");
            self.common(op, &ex, &field, None, &[]);
            self.report.cover(&field, "oversized", &ex);
        }
        Ok(())
    }

    /// Counts an answer of a secured operation to the run's own credential (`missing_auth`).
    pub(crate) fn tally(&mut self, op: &Operation, auth: Auth, ex: &Exchange) {
        if op.auth.is_empty() || auth != self.auth(op) {
            return;
        }
        if let Some(status) = ex.status() {
            let e = self.denied.entry(op.name.clone()).or_default();
            e.0 += 1;
            e.1 += u32::from(status == 401 || status == 403);
        }
    }

    /// When every secured operation answered 401 or 403 to every request sent with the run's
    /// credential, that credential is missing or wrong: one `missing_auth` failure says so,
    /// in place of a failure per operation for the one cause. Whether it did.
    pub(crate) fn missing_auth(&mut self) -> bool {
        let all_denied = !self.denied.is_empty()
            && self
                .denied
                .values()
                .all(|(sent, denied)| *sent > 0 && sent == denied);
        if !all_denied {
            return false;
        }
        let secured = self.denied.len();
        let denied_here = |v: &Violation| {
            v.exchange.status().is_some_and(|s| s == 401 || s == 403)
                && matches!(v.exchange.sent.auth, Auth::Key | Auth::Missing)
        };
        let (folded, kept): (Vec<Violation>, Vec<Violation>) =
            std::mem::take(&mut self.report.violations)
                .into_iter()
                .partition(denied_here);
        self.report.violations = kept;
        let Some(first) = folded.first() else {
            return true;
        };
        let given = if self.s.has_credential() {
            "the credential given"
        } else {
            "no credential (none was given)"
        };
        let m = format!(
            "every one of the {secured} secured operation(s) answered 401 or 403 to every request with {given}: the credential is missing or wrong, so nothing behind it was tested ({} finding(s) of that one cause folded into this one)",
            folded.len()
        );
        let ex = first.exchange.clone();
        self.report.tick(checks::MISSING_AUTH, "(credentials)");
        self.record(checks::MISSING_AUTH, "(credentials)", None, m, &ex, true);
        true
    }

    /// Each path of `ops` with every method the probe sends that the document does not give for
    /// it: each must get a 405 whose `Allow` names the documented methods. The request is a
    /// valid one of the path's first operation, its method changed. Methods other than GET go out
    /// in full mode only: a server that does implement an undocumented DELETE would act on it.
    pub(crate) async fn unsupported_methods(
        &mut self,
        drawn: &Arc<Schema>,
        ops: &[&Operation],
    ) -> Result<(), Exhausted> {
        let mut paths: Vec<&str> = ops.iter().map(|o| o.path.as_str()).collect();
        paths.sort_unstable();
        paths.dedup();
        for (i, path) in paths.into_iter().enumerate() {
            let documented = checks::methods_of_overlapping(self.schema, path);
            let Some(op) = self.schema.operations.values().find(|o| o.path == path) else {
                continue;
            };
            let Ok(strategy) = requests(drawn, drawn.operations.get(&op.name).unwrap_or(op)) else {
                continue;
            };
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&self.s.seed.to_le_bytes());
            seed[8..16].copy_from_slice(&(i as u64).to_le_bytes());
            seed[16] = 0x4d;
            let mut rng = TestRunner::new_with_rng(
                Config::default(),
                TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
            );
            let Ok(tree) = strategy.new_tree(&mut rng) else {
                continue;
            };
            let mut valid = tree.current();
            crate::triage::apply_holds(&self.report.held, &op.name, &mut valid);
            let auth = self.auth(op);
            for method in METHODS {
                if documented.iter().any(|m| m == method)
                    || (method != "GET" && self.s.mode != Mode::Full)
                {
                    continue;
                }
                let ex = self.send_as(method, op, &valid, auth).await?;
                let field = format!("{method} {path}");
                self.report.tick(checks::TARGET_ANSWERS, &field);
                let a = match &ex.outcome {
                    Ok(a) => a.clone(),
                    Err(_) => {
                        if let Err(m) = checks::target_answers(&ex) {
                            self.record(checks::TARGET_ANSWERS, &field, None, m, &ex, true);
                        }
                        continue;
                    }
                };
                self.report.cover(&field, "unsupported method", &ex);
                // A 405 to a method the path lacks is the one each operation of the path that
                // documents 405 gives (status coverage, per operation).
                if a.status == 405 {
                    let of_path: Vec<String> = self
                        .schema
                        .operations
                        .values()
                        .filter(|o| o.path == path && o.documents(405))
                        .map(|o| o.name.clone())
                        .collect();
                    for name in of_path {
                        self.report.answered(&name, Some(405));
                    }
                }
                let verdicts = [
                    (
                        checks::UNSUPPORTED_METHOD,
                        checks::unsupported_method(method, &a),
                    ),
                    (
                        checks::ALLOW_HEADER_CONFORMANCE,
                        checks::allow_header_conformance(self.schema, path, method, &a),
                    ),
                ];
                for (check, verdict) in verdicts {
                    self.report.tick(check, &field);
                    if let Err(m) = verdict {
                        self.record(check, &field, None, m, &ex, true);
                    }
                }
            }
        }
        Ok(())
    }

    /// On an operation that reaches an item the run created and documents a 404: the same
    /// request with an id no item has must get the 404 (or a 410, or a 401/403 the operation
    /// documents), not be served (`unknown_id_not_found`).
    pub(crate) async fn unknown_id(
        &mut self,
        drawn: &Arc<Schema>,
        drawn_op: &Operation,
        op: &Operation,
        fixed: &[(String, String)],
        label: &str,
    ) -> Result<(), Exhausted> {
        let documents_404 = op.responses.iter().any(|r| r.status == 404 && !r.range);
        let Some((param, _)) = fixed.last() else {
            return Ok(());
        };
        let Some(p) = op
            .params
            .iter()
            .find(|p| p.location == "path" && p.name == *param)
        else {
            return Ok(());
        };
        let taken: Vec<&str> = self.fixtures.iter().map(|f| f.id.as_str()).collect();
        let Some(unknown) = unknown_id(self.schema, &p.shape, &taken) else {
            return Ok(());
        };
        if !documents_404 {
            return Ok(());
        }
        let mut ids = fixed.to_vec();
        if let Some(last) = ids.last_mut() {
            last.1 = unknown.clone();
        }
        let Some(r) = self.request_with_ids(drawn, drawn_op, op, &ids, 0x1d) else {
            return Ok(());
        };
        let auth = self.auth(op);
        let before = self.report.violations.len();
        let ex = self.send(op, &r, auth).await?;
        let field = format!("{label} (unknown id)");
        self.common(op, &ex, &field, None, &[]);
        self.report.cover(&field, "unknown id", &ex);
        self.report.tick(checks::UNKNOWN_ID_NOT_FOUND, &field);
        // A documented 401 or 403 serves nothing either: a server may refuse to say whether an
        // item it will not show exists (Kinto answers 403 to a bucket its user cannot read).
        let hides = |s: u16| matches!(s, 401 | 403) && op.responses.iter().any(|r| r.status == s);
        // Only a target that refuses an unknown id can show a near miss found the real item.
        let refuses_unknown = ex
            .status()
            .is_some_and(|s| matches!(s, 404 | 410) || hides(s));
        if let Some(status) = ex
            .status()
            .filter(|&s| !matches!(s, 404 | 410) && !hides(s))
        {
            let m = format!(
                "{} with an id no item has (`{unknown}`) got {status}, not 404",
                op.method
            );
            self.record(checks::UNKNOWN_ID_NOT_FOUND, &field, None, m, &ex, true);
        }
        if self.report.violations.len() > before {
            self.triage(op, &ex, None, None::<&mut Drawn>).await;
        }
        if !refuses_unknown {
            return Ok(());
        }
        self.near_miss_ids(drawn, drawn_op, op, fixed, p, label)
            .await
    }

    /// A valid request of `op` with its path parameters `ids`, drawn with the run's seed (`salt`
    /// tells the probes' draws apart), holds applied. A precondition has nothing to match on an
    /// item that is not there (its 412 would come first): it is left out.
    fn request_with_ids(
        &self,
        drawn: &Arc<Schema>,
        drawn_op: &Operation,
        op: &Operation,
        ids: &[(String, String)],
        salt: u8,
    ) -> Option<Request> {
        let strategy = requests_with(drawn, drawn_op, ids).ok()?;
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&self.s.seed.to_le_bytes());
        seed[16] = salt;
        let mut rng = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        let mut r = strategy.new_tree(&mut rng).ok()?.current();
        crate::triage::apply_holds(&self.report.held, &op.name, &mut r);
        crate::triage::apply_shared_holds(&self.report.held, op, &mut r);
        crate::probe::requests::drop_preconditions(op, &mut r);
        Some(r)
    }

    /// Near misses of the real id the request names ([`requests::near_misses`]): none may be
    /// served as the item itself (a success that shows the real id, or, with no body, any
    /// success but an upsert's).
    async fn near_miss_ids(
        &mut self,
        drawn: &Arc<Schema>,
        drawn_op: &Operation,
        op: &Operation,
        fixed: &[(String, String)],
        p: &crate::meta::Param,
        label: &str,
    ) -> Result<(), Exhausted> {
        let Some((_, real)) = fixed.last() else {
            return Ok(());
        };
        let (text, case_free) = match crate::faults::strip_shape(&p.shape) {
            Shape::String { format, .. } => (true, format.as_deref() == Some("uuid")),
            Shape::Enum { .. } => (true, false),
            _ => (false, false),
        };
        if !text {
            return Ok(());
        }
        // A write to a near miss that is refused must leave the real item as it was: read it
        // before and after them, where the path has a read.
        let read_op = (op.method != "GET")
            .then(|| {
                self.schema
                    .operations
                    .values()
                    .find(|o| o.method == "GET" && crate::meta::same_template(&o.path, &op.path))
            })
            .flatten();
        let read_real = read_op.and_then(|read| {
            let drawn_read = drawn.operations.get(&read.name).unwrap_or(read);
            let r = self.request_with_ids(drawn, drawn_read, read, fixed, 0x4f)?;
            Some((read, r))
        });
        let before = match &read_real {
            Some((read, r)) => self.send(read, r, self.auth(read)).await?.json_success(),
            None => None,
        };
        let mut any_served = false;
        for (near, how) in requests::near_misses(real, case_free) {
            // A near miss the parameter's own schema refuses is an invalid request, not a test
            // of the lookup.
            if !crate::judge::check(self.schema, &Value::String(near.clone()), &p.shape).is_empty()
            {
                continue;
            }
            let mut ids = fixed.to_vec();
            if let Some(last) = ids.last_mut() {
                last.1 = near.clone();
            }
            let Some(r) = self.request_with_ids(drawn, drawn_op, op, &ids, 0x4e) else {
                continue;
            };
            let ex = self.send(op, &r, self.auth(op)).await?;
            let field = format!("{label} (near miss of an id, {how})");
            self.common(op, &ex, &field, None, &[]);
            self.report.cover(&field, "near miss", &ex);
            self.report.tick(checks::UNKNOWN_ID_NOT_FOUND, &field);
            let Ok(a) = &ex.outcome else { continue };
            if !(200..300).contains(&a.status) {
                continue;
            }
            any_served = true;
            let served = match a.json() {
                Some(body) => requests::shows_id(&body, real),
                None => op.method != "PUT",
            };
            if served {
                let shown: String = near.chars().take(60).collect();
                let m = format!(
                    "{} with `{shown}`, a near miss of the real id `{real}` ({how}), got {} and the item `{real}` is what it served",
                    op.method, a.status
                );
                self.record(checks::UNKNOWN_ID_NOT_FOUND, &field, None, m, &ex, true);
            }
        }
        // Every near miss refused: the real item reads as before them. A second read tells a
        // change they made from a value that moves by itself (a clock).
        let (Some((read, r)), Some(before), false) = (read_real, before, any_served) else {
            return Ok(());
        };
        let field = format!("{label} (read after near misses of an id)");
        let ex = self.send(read, &r, self.auth(read)).await?;
        self.report.tick(checks::REJECTION_CHANGES_NOTHING, &field);
        let Some(after) = ex.json_success() else {
            let m = format!(
                "after {} requests to near misses of `{real}`, all refused, the item `{real}` reads as {}",
                op.method,
                ex.status().map_or_else(|| "no answer".into(), |s| s.to_string())
            );
            self.record(
                checks::REJECTION_CHANGES_NOTHING,
                &field,
                None,
                m,
                &ex,
                true,
            );
            return Ok(());
        };
        if after != before {
            let again = self.send(read, &r, self.auth(read)).await?;
            if again.json_success().as_ref() == Some(&after) {
                let m = format!(
                    "{} requests to near misses of `{real}` were all refused, and yet the item `{real}` changed",
                    op.method
                );
                self.record(
                    checks::REJECTION_CHANGES_NOTHING,
                    &field,
                    None,
                    m,
                    &ex,
                    true,
                );
            }
        }
        Ok(())
    }

    /// A valid request of a secured operation with no credential, a wrong one and near misses
    /// of the real one: none may be served.
    pub(crate) async fn ignored_auth(
        &mut self,
        op: &Operation,
        valid: &Request,
        label: &str,
    ) -> Result<(), Exhausted> {
        let mut auths = vec![Auth::Missing, Auth::Wrong];
        auths.extend(Auth::NEAR_MISSES.into_iter().filter(|a| {
            a.credential(self.s.key_for(&self.target.options().shown.credential))
                .is_some()
        }));
        for (n, auth) in auths.into_iter().enumerate() {
            // A create of a unique value already made is refused as a duplicate, whoever asks.
            let mut fresh = valid.clone();
            requests::freshen_unique(self.schema, op, &mut fresh, n);
            let valid = &fresh;
            let ex = self.send(op, valid, auth).await?;
            let field = format!("{label} {}", auth.label());
            self.common(op, &ex, &field, None, &[]);
            self.report.cover(&field, "auth", &ex);
            self.report.tick(checks::IGNORED_AUTH, &field);
            if let Some(s) = ex.status().filter(|s| (200..300).contains(s)) {
                // A create a credential of its own made: where every credential is an account
                // (Kinto's basic auth), it made another user's item, which the run's own
                // credential cannot read. Served as the run's user, it can.
                if auth != Auth::Missing && self.made_for_another(op, &ex).await? {
                    self.report.skip(format!(
                        "{field}: the create was served, as another account's (the run's own credential cannot read what it made): not judged"
                    ));
                    continue;
                }
                let m = format!(
                    "{} {} {} was served ({s})",
                    op.method,
                    valid.target(),
                    auth.label()
                );
                self.record(checks::IGNORED_AUTH, &field, None, m, &ex, true);
            }
        }
        Ok(())
    }

    /// Whether `ex`, a create of `op` that succeeded, made an item the run's own credential
    /// cannot read (a 401, 403 or 404 to it): an item of another account.
    async fn made_for_another(&mut self, op: &Operation, ex: &Exchange) -> Result<bool, Exhausted> {
        let Some(mut r) = crate::resources::infer(self.schema)
            .into_iter()
            .find(|r| r.role_of(&op.name) == Some(crate::resources::Role::Create))
        else {
            return Ok(false);
        };
        let Some(read) = r.op(self.schema, crate::resources::Role::Read) else {
            return Ok(false);
        };
        let Some(id) = crate::scenarios::created_id(&r, ex) else {
            return Ok(false);
        };
        // The item's address under the parent the create's own path names.
        r.bound = crate::meta::path_params(&op.path, &ex.sent.path);
        let path = r.item_path(&id);
        if path.contains('{') {
            return Ok(false);
        }
        let req = Request::bare(path);
        let got = self.send(read, &req, self.auth(read)).await?;
        Ok(matches!(got.status(), Some(401 | 403 | 404)))
    }

    /// `valid` once with each of `bodies` in place of its body, each judged as a valid request.
    pub(crate) async fn send_bodies(
        &mut self,
        op: &Operation,
        valid: &Request,
        bodies: Vec<Value>,
        field: &str,
        auth: Auth,
    ) -> Result<(), Exhausted> {
        let mut sent: std::collections::HashSet<String> = Default::default();
        for body in bodies {
            let mut r = Request {
                body: Some(body),
                ..valid.clone()
            };
            // A held-back part may make two bodies one: each goes once.
            crate::triage::apply_holds(&self.report.held, &op.name, &mut r);
            let text = r.body.as_ref().map(Value::to_string).unwrap_or_default();
            if !sent.insert(text) {
                continue;
            }
            let secrets = secret_values(self.schema, op, r.body.as_ref());
            self.send_valid(op, &r, field, auth, &secrets).await?;
        }
        Ok(())
    }
}

//! The random phase: proptest draws valid bodies and picks mutations, shrinks what fails, and
//! holds mutations back while a late target applies; and the progress line.

use super::*;

impl Suite<'_> {
    pub(super) fn random_phase(&self, rt: &tokio::runtime::Runtime) {
        // Valid bodies from the model at run time: the constraints the generated types'
        // `validate()` was emitted from (tests/agreement.rs holds the two together).
        let Some(bodies) = crate::draw::object(&self.subj.schema, self.body()) else {
            self.rec.report.borrow_mut().skip(format!(
                "{}: no valid body can be drawn from its schema",
                self.update().name
            ));
            return;
        };
        let strategy = (
            bodies,
            proptest::collection::vec(any::<prop::sample::Index>(), self.s.mutations_per_case),
        );
        #[derive(Default)]
        struct Hunt {
            target: Option<(&'static str, String)>,
            /// The violation as first found, before shrinking, and the others its request showed.
            first: Vec<Violation>,
            best: Option<Violation>,
            cases: u32,
        }
        let hunt = RefCell::new(Hunt::default());
        let known: RefCell<BTreeSet<(&'static str, String)>> = RefCell::new(
            self.rec
                .report
                .borrow()
                .violations
                .iter()
                .map(Violation::key)
                .collect(),
        );
        let known_bugs: RefCell<BTreeSet<String>> = RefCell::new(
            self.rec
                .report
                .borrow()
                .violations
                .iter()
                .filter_map(Violation::bug)
                .collect(),
        );
        let mut round = 0u64;
        loop {
            let done = hunt.borrow().cases;
            if done >= self.s.cases || !self.target.has_budget() {
                break;
            }
            let seed = self
                .s
                .seed
                .wrapping_add(round.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            *self.rec.round_seed.borrow_mut() = seed;
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&seed.to_le_bytes());
            let config = PtConfig {
                cases: self.s.cases - done,
                max_shrink_iters: 256,
                max_shrink_time: 20_000,
                failure_persistence: None,
                max_global_rejects: 0,
                ..PtConfig::default()
            };
            let mut runner =
                TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
            let result = runner.run(&strategy, |(typed, picks)| {
                if !self.target.has_budget() {
                    return Ok(());
                }
                let found = rt.block_on(self.case(&typed, &picks));
                let mut h = hunt.borrow_mut();
                match &h.target {
                    None => {
                        h.cases += 1;
                        let known = known.borrow();
                        let bugs = known_bugs.borrow();
                        let recorded = |v: &Violation| {
                            self.rec.report.borrow().violations.iter().any(|x| {
                                x.key() == v.key() || (v.bug().is_some() && x.bug() == v.bug())
                            })
                        };
                        let new = |v: &&Violation| {
                            !known.contains(&v.key())
                                && v.bug().is_none_or(|b| !bugs.contains(&b))
                                && !recorded(v)
                        };
                        if let Some(v) = found.iter().find(new).cloned() {
                            h.target = Some(v.key());
                            h.first = same_request(&v, found);
                            h.best = Some(v);
                            *self.shrinking.borrow_mut() = true;
                            return Err(TestCaseError::fail("violation"));
                        }
                        Ok(())
                    }
                    Some(k) => {
                        let k = k.clone();
                        match found.into_iter().find(|v| v.key() == k) {
                            Some(v) => {
                                h.best = Some(v);
                                Err(TestCaseError::fail("violation"))
                            }
                            None => Ok(()),
                        }
                    }
                }
            });
            *self.shrinking.borrow_mut() = false;
            match result {
                Err(TestError::Fail(_, (typed, picks))) => {
                    let (key, first) = {
                        let mut h = hunt.borrow_mut();
                        h.best = None;
                        (h.target.take(), std::mem::take(&mut h.first))
                    };
                    // The smallest body, checked again with the full read-back wait; if it does
                    // not hold up, the violation as first found is reported.
                    let again = if self.target.has_budget() {
                        rt.block_on(self.case(&typed, &picks))
                    } else {
                        vec![]
                    };
                    // One failure per request: every check the (shrunk) request broke is
                    // recorded with it, so none of them is hunted again with another body.
                    let group = match again.iter().find(|v| Some(v.key()) == key).cloned() {
                        Some(v) => same_request(&v, again),
                        None => first,
                    };
                    let mut known = known.borrow_mut();
                    for v in group {
                        if let Some(b) = v.bug() {
                            known_bugs.borrow_mut().insert(b);
                        }
                        if known.insert(v.key()) {
                            self.rec.record(v);
                        }
                    }
                }
                _ => break,
            }
            round += 1;
        }
        // The closing pair: every field that shows set to a new value, then the empty body. What
        // is read back last is then what both leave: fields dropped, reset or never applied show
        // there, whichever update a slow target applied last.
        if self.s.mode == Mode::Full {
            let closing = self.full_body().into_iter().chain([self.base()]);
            for body in closing {
                let Ok(found) = rt.block_on(self.send_valid(&body)) else {
                    break;
                };
                for v in found {
                    if known.borrow_mut().insert(v.key()) {
                        self.rec.record(v);
                    }
                }
            }
        }
        // The mutations held back fill the wait for the last updates to show.
        rt.block_on(self.send_deferred(usize::MAX));
        // The updates still composed are waited for once, here; what did not show is made small
        // and recorded.
        if rt.block_on(self.settle()).is_ok() {
            let found = std::mem::take(&mut self.composed.borrow_mut().found);
            let mut seen = BTreeSet::new();
            for v in found {
                if seen.insert(v.key()) && !known.borrow().contains(&v.key()) {
                    let v = rt.block_on(self.minimise(v));
                    self.rec.record(v);
                }
            }
        }
        // A target that was busy for every update read back (the composition above may hold the
        // one it accepted first) still gets one update checked: the last one it refused is sent
        // again, once it is free, and read back.
        let busy = self.composed.borrow_mut().busy.take();
        let shown = self.composed.borrow().shown_change;
        if let (Some(body), false) = (busy, shown) {
            if let Ok(found) = rt.block_on(self.when_free(&body)) {
                for v in found {
                    if known.borrow_mut().insert(v.key()) {
                        self.rec.record(v);
                    }
                }
            }
        }
        let mut r = self.rec.report.borrow_mut();
        r.cases = hunt.borrow().cases;
        if r.cases < self.s.cases && r.stopped_early.is_none() {
            r.stopped_early = Some(if Instant::now() >= self.target.options().deadline {
                format!("the run's deadline ({:?}) was reached", self.s.deadline)
            } else {
                "the request budget (--max-requests) was used up".to_string()
            });
        }
    }

    /// One random case: a valid body (full mode) and some of its mutations.
    pub(super) async fn case(&self, body: &Value, picks: &[prop::sample::Index]) -> Vec<Violation> {
        let body = body.clone();
        let mut out = Vec::new();
        if self.s.mode == Mode::Full {
            match self.send_valid(&body).await {
                Ok(v) => out.extend(v),
                Err(Exhausted) => return out,
            }
        }
        // Every plan is made, for the picks to choose among; only the picked ones are applied.
        let all: Vec<mutate::Plan> = mutate::plans(self.schema(), &body, self.body())
            .into_iter()
            .filter(|p| {
                self.should_send(
                    p.coercible,
                    p.path.is_empty() && p.value == Some(Value::Null),
                )
            })
            .collect();
        if all.is_empty() {
            return out;
        }
        let picked: Vec<Mutation> = picks
            .iter()
            .filter_map(|p| all[p.index(all.len())].apply(&body))
            .collect();
        // Against a target that applies late, the case's mutations wait until the valid updates
        // are sent (they change nothing, so when they go does not matter). Not while shrinking:
        // a shrunk case is judged on what it sends itself.
        let lagging = self.composed.borrow().lagging;
        if lagging && self.s.mode == Mode::Full && !*self.shrinking.borrow() {
            let full = {
                let mut d = self.deferred.borrow_mut();
                d.extend(picked);
                d.len() >= DEFER_CAP
            };
            if full {
                self.send_deferred(DEFER_CAP / 2).await;
            }
            return out;
        }
        let picked: Vec<&Mutation> = picked.iter().collect();
        match self.send_mutations(&picked).await {
            Ok(v) | Err((v, Exhausted)) => out.extend(v),
        }
        out
    }

    /// Sends the first `n` mutations held back, recording what they find. They are recorded as found,
    /// not shrunk: each is one request that changes nothing, its own reproducer.
    pub(super) async fn send_deferred(&self, n: usize) {
        let held: Vec<Mutation> = {
            let mut d = self.deferred.borrow_mut();
            let n = n.min(d.len());
            d.drain(..n).collect()
        };
        if held.is_empty() {
            return;
        }
        let refs: Vec<&Mutation> = held.iter().collect();
        let found = match self.send_mutations(&refs).await {
            Ok(v) | Err((v, Exhausted)) => v,
        };
        for v in found {
            self.rec.record(v);
        }
    }

    /// Sends mutations, `concurrency` at a time (they change nothing, so order does not matter);
    /// the violations come back in the mutations' order. On `Exhausted`, those found so far.
    pub(super) async fn send_mutations(
        &self,
        ms: &[&Mutation],
    ) -> Result<Vec<Violation>, (Vec<Violation>, Exhausted)> {
        let mut out = Vec::new();
        for chunk in ms.chunks(self.s.concurrency.max(1)) {
            let results =
                futures_util::future::join_all(chunk.iter().map(|m| self.send_mutation(m))).await;
            let mut exhausted = false;
            for r in results {
                match r {
                    Ok(v) => out.extend(v),
                    Err(Exhausted) => exhausted = true,
                }
            }
            if exhausted {
                return Err((out, Exhausted));
            }
        }
        Ok(out)
    }

    pub(super) fn progress(&self) {
        if self.s.progress == Progress::Off {
            return;
        }
        let now = Instant::now();
        let every = if self.s.progress == Progress::Line {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(5)
        };
        if now.duration_since(*self.progress_at.borrow()) < every {
            return;
        }
        *self.progress_at.borrow_mut() = now;
        let r = self.rec.report.borrow();
        let start = self.target.options().deadline - self.s.deadline;
        let secs = now.duration_since(start).as_secs_f64().max(1e-3);
        let line = format!(
            "{} requests, {:.0} req/s, {} violation(s) so far",
            self.target.requests(),
            self.target.requests() as f64 / secs,
            r.violations.len()
        );
        let mut err = std::io::stderr();
        if self.s.progress == Progress::Line {
            let _ = write!(err, "\r\x1b[2K{line}");
        } else {
            let _ = writeln!(err, "progress: {line}");
        }
        let _ = err.flush();
    }

    pub(super) fn finish_progress(&self) {
        if self.s.progress == Progress::Line {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

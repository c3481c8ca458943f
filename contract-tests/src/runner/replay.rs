//! Replays: every violation's request sent once more before the verdict, and the failures a
//! run keeps (`--persist`) sent first by the next one.

use super::*;

impl Suite<'_> {
    /// Sends every violation's request once more, as its reproducer would, and moves those that
    /// do not break their check again to `flaky`. Checks that depend on the CVM's state or on a
    /// flow (read-back, header flows, authentication's side effects) are not replayed.
    pub(super) async fn replay_violations(&self) {
        let violations = std::mem::take(&mut self.rec.report.borrow_mut().violations);
        let mut kept = Vec::new();
        let mut flaky = Vec::new();
        for mut v in violations {
            match self.reproduces(&v).await {
                // A server error that does not happen on its own is tried after the updates
                // that preceded it; if it then happens, it is a failure with those in its
                // reproducer, else a flaky one (which still fails the run).
                Some(false) if v.fails_when_flaky() && !v.preceding.is_empty() => {
                    match self.reproduces_after(&v).await {
                        Some(n) => {
                            v.preceding.drain(..v.preceding.len() - n);
                            v.message.push_str(&format!(
                                " (it happens again after the {n} update(s) sent before it, not on its own)"
                            ));
                            kept.push(v);
                        }
                        None => {
                            v.preceding.clear();
                            flaky.push(v);
                        }
                    }
                }
                Some(false) => {
                    v.preceding.clear();
                    flaky.push(v);
                }
                _ => {
                    v.preceding.clear();
                    kept.push(v);
                }
            }
        }
        let mut r = self.rec.report.borrow_mut();
        r.violations = kept;
        r.flaky = flaky;
    }

    /// The fewest of the updates that preceded a server error (the last 1, 2, 4, then all of
    /// them) after which its request gets a server error again, sent in order; `None` when none
    /// does.
    pub(super) async fn reproduces_after(&self, v: &Violation) -> Option<usize> {
        let all = v.preceding.len();
        let mut tried = Vec::new();
        for n in [1, 2, 4, all] {
            let n = n.min(all);
            if n == 0 || tried.contains(&n) {
                continue;
            }
            tried.push(n);
            for s in &v.preceding[all - n..] {
                self.target.resend(s).await.ok()?;
            }
            let again = self.target.resend(&v.exchange.sent).await.ok()?;
            if again.status().is_some_and(|s| s >= 500) {
                return Some(n);
            }
        }
        None
    }

    /// Whether the violation's request breaks its check again; `None` when it is not replayed.
    pub(super) async fn reproduces(&self, v: &Violation) -> Option<bool> {
        let replayable = [
            checks::NOT_A_SERVER_ERROR,
            checks::POSITIVE_DATA_ACCEPTANCE,
            checks::NEGATIVE_DATA_REJECTION,
            checks::VALIDATION_ERROR_NAMES_FIELD,
            checks::STATUS_CODE_CONFORMANCE,
            checks::RESPONSE_SCHEMA_CONFORMANCE,
            checks::NO_SECRET_ECHO,
            checks::TARGET_ANSWERS,
            checks::UNKNOWN_ID_NOT_FOUND,
        ];
        if !replayable.contains(&v.check) {
            return None;
        }
        let sent = &v.exchange.sent;
        let body = sent.json_body();
        let again = self.target.resend(sent).await.ok()?;
        let op = if sent.method == "GET" {
            self.read()
        } else {
            self.update()
        };
        Some(match (&again.outcome, &v.exchange.outcome) {
            (Err(_), _) => v.check == checks::TARGET_ANSWERS || v.exchange.outcome.is_err(),
            (Ok(_), Err(_)) => false,
            (Ok(a), Ok(before)) => {
                let secrets = self.secrets(body.as_ref());
                let seen = checks::Seen {
                    schema: self.schema(),
                    op,
                    answer: a,
                    mutation: None,
                    secrets: &secrets,
                    expected: &self.s.expected,
                    known_ids: true,
                };
                // A check of every answer is judged again; the others reproduce when the
                // status does.
                match checks::REGISTRY
                    .iter()
                    .find(|(c, applies, _)| *c == v.check && *applies == checks::Applies::Every)
                {
                    Some((_, _, judge)) => judge(&seen).is_err(),
                    None => a.status == before.status,
                }
            }
        })
    }

    pub(super) async fn replay_persisted(&self) -> Result<(), Exhausted> {
        let Some(path) = &self.s.persist else {
            return Ok(());
        };
        for e in load_persisted(path) {
            if e.valid_body {
                if self.s.mode == Mode::Full {
                    for v in self.send_valid(&e.body).await? {
                        self.rec.record(v);
                    }
                }
                continue;
            }
            let m = Mutation {
                rule: e
                    .rule
                    .as_deref()
                    .and_then(mutate::Rule::from_name)
                    .map_or("replay", mutate::Rule::name),
                field: e.field,
                path: e.path.unwrap_or_default(),
                body: e.body,
                coercible: false,
            };
            if judge::check_object(self.schema(), &m.body, self.body()).is_empty() {
                continue; // the spec changed and made it valid
            }
            for v in self.send_mutation(&m).await? {
                self.rec.record(v);
            }
        }
        Ok(())
    }
}

/// Writes the violations so the next run replays them first (secrets never written).
/// A failure kept for the next run to replay first (`--persist`): what was sent, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Persisted {
    /// The check it broke.
    pub check: String,
    /// The field concerned.
    pub field: String,
    /// The mutation rule, for a negative one.
    #[serde(default)]
    pub rule: Option<String>,
    /// Whether the body was a valid one (sent as an update) or a mutation.
    pub valid_body: bool,
    /// The body as sent (values the suite drew, secret-marked fields included, in full: a
    /// replay sends them again).
    pub body: Value,
    /// The JSON path of the broken field, for a mutation.
    #[serde(default)]
    pub path: Option<Vec<Value>>,
}

/// The failures of a run, as the next run reads them (an unreadable file is ignored).
pub fn load_persisted(path: &std::path::Path) -> Vec<Persisted> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

pub(super) fn persist(path: &std::path::Path, report: &Report) {
    let entries: Vec<Persisted> = report
        .violations
        .iter()
        .filter_map(|v| {
            let body: Value = serde_json::from_str(v.exchange.sent.body.as_deref()?).ok()?;
            Some(Persisted {
                check: v.check.name.to_string(),
                field: v.field.clone(),
                rule: v.rule.map(str::to_string),
                valid_body: v.valid_body,
                body,
                path: v.rule.map(|_| v.path.clone()),
            })
        })
        .collect();
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(
        path,
        serde_json::to_string_pretty(&entries).unwrap_or_default(),
    );
}

//! What a run found: violations, failures (the violations one request showed) and the report
//! that counts and keeps them.

use crate::checks::Check;
use crate::http::Exchange;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// One broken check, kept once per (check, field).
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub check: Check,
    /// The field concerned (`shutdown_timeout`, `gpus.gpus[0].slot`), or `(body)`, `(status)`...
    pub field: String,
    /// The mutation rule, for negative checks.
    pub rule: Option<&'static str>,
    pub message: String,
    /// What was sent and what came back.
    pub exchange: Exchange,
    /// Whether the body was a valid one (`true`) or a mutation (`false`); for replay.
    pub valid_body: bool,
    /// For a mutation, the JSON path of the field it broke; for replay.
    pub path: Vec<Value>,
    /// The run's seed and the round of proptest that found it.
    pub seed: u64,
    /// The accepted updates sent just before it, oldest first: for a server error, kept when
    /// found; after the replay, the fewest of them that make it happen again, when it does not
    /// happen on its own (its reproducer sends them first).
    pub preceding: Vec<crate::http::Sent>,
    /// The operation the request reached: its client method name, or `METHOD /template` for a
    /// method the document does not give ([`crate::meta::Schema::operation_label`]).
    pub operation: String,
    /// What triage made of its request: the least one that fails the same way.
    pub shrunk: crate::triage::Shrunk,
}

impl Violation {
    /// Its reproducer: the `curl` of each request it needs before it (see
    /// [`Violation::preceding`]), then its own, one a line.
    pub fn reproducer(&self, base_url: &str) -> String {
        self.preceding
            .iter()
            .chain(std::iter::once(&self.exchange.sent))
            .map(|s| crate::http::curl(base_url, s))
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn key(&self) -> (&'static str, String) {
        (self.check.name, self.field.clone())
    }

    /// The bug a server error stands for: its status and the start of its body. Two requests
    /// answered with the same 5xx are one bug, whatever else their bodies break.
    /// Whether the run fails on this finding even when a replay did not reproduce it: a server
    /// error is a bug whatever state it takes to show, so it is reported as flaky and still fails.
    pub fn fails_when_flaky(&self) -> bool {
        self.exchange
            .outcome
            .as_ref()
            .is_ok_and(|a| a.status >= 500)
    }

    pub fn bug(&self) -> Option<String> {
        let a = self.exchange.outcome.as_ref().ok()?;
        (a.status >= 500).then(|| {
            let head: String = String::from_utf8_lossy(&a.body[..a.body.len().min(120)])
                .chars()
                .map(|c| if c.is_ascii_digit() { '#' } else { c })
                .collect();
            format!("{} {head}", a.status)
        })
    }
}

/// The violations one request showed: one failure, however many checks it broke.
#[derive(Debug, Clone)]
pub struct Failure<'r> {
    /// In the order found; all carry the same request.
    pub violations: Vec<&'r Violation>,
}

impl<'r> Failure<'r> {
    /// The violation found first, whose request and answer stand for the failure.
    pub fn first(&self) -> &'r Violation {
        self.violations[0]
    }

    /// The checks it broke, each once, in the order found.
    pub fn checks(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for v in &self.violations {
            if !out.contains(&v.check.name) {
                out.push(v.check.name);
            }
        }
        out
    }
}

/// `v` first, then the other violations of `found` that the same request showed.
pub(crate) fn same_request(v: &Violation, found: Vec<Violation>) -> Vec<Violation> {
    let mut out = vec![v.clone()];
    out.extend(
        found
            .into_iter()
            .filter(|w| w.exchange.sent == v.exchange.sent && w.key() != v.key()),
    );
    out
}

/// Groups violations by the request that showed them, in the order first found.
pub fn group(violations: &[Violation]) -> Vec<Failure<'_>> {
    let mut out: Vec<Failure<'_>> = Vec::new();
    for v in violations {
        match out
            .iter_mut()
            .find(|f| f.first().exchange.sent == v.exchange.sent)
        {
            Some(f) => f.violations.push(v),
            None => out.push(Failure {
                violations: vec![v],
            }),
        }
    }
    out
}

/// The result of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub target: String,
    pub mode: &'static str,
    pub seed: u64,
    pub insecure: bool,
    pub cases: u32,
    pub cases_planned: u32,
    pub requests: u64,
    pub elapsed: Duration,
    pub violations: Vec<Violation>,
    /// Violations whose request, sent once more at the end of the run, did not break the check
    /// again: reported as flaky, and not failing the run on their own, unless they are server
    /// errors ([`Violation::fails_when_flaky`]).
    pub flaky: Vec<Violation>,
    /// Findings that do not fail the run (lenient type coercion, unless strict).
    pub warnings: Vec<Violation>,
    /// Requests judged by each check.
    pub per_check: BTreeMap<&'static str, u64>,
    /// Requests judged by each check, per field.
    pub judged: BTreeMap<&'static str, BTreeMap<String, u64>>,
    /// Requests that exercised each field.
    pub per_field: BTreeMap<String, u64>,
    /// Field x rule -> answers seen (status code, or `error`) and their counts.
    pub coverage: BTreeMap<(String, String), BTreeMap<String, u64>>,
    /// Field that reads back -> kind of value sent (`null`, `absent`, `minimum`, `longest`,
    /// `value`...) -> (accepted updates that sent it, read-backs that showed it applied).
    pub verified: BTreeMap<String, BTreeMap<String, (u64, u64)>>,
    /// Why the run ended before its planned cases, if it did.
    pub stopped_early: Option<String>,
    /// Why the run could not happen at all (exit status 2).
    pub could_not_run: Option<String>,
    /// What the run is of, as reports title it (`update_cvm contract`, or the document's).
    pub title: String,
    /// Operations run (the probe of a whole document).
    pub operations: usize,
    /// The client method names of the operations run, in order (a `--partition` job's share).
    pub operation_names: Vec<String>,
    /// Operations or parts left out, with why (no valid value can be drawn, say).
    pub skipped: Vec<String>,
    /// Parts of requests held back after they made an operation's requests fail (triage).
    pub held: Vec<crate::triage::Hold>,
    /// What the document says of each operation run that a status recipe needs
    /// ([`crate::statuses`]).
    pub documented: BTreeMap<String, crate::statuses::Documented>,
    /// Whether the run had a credential to give (its status recipes can vary one).
    pub credential: bool,
    /// Operation -> status -> answers judged (every check's requests).
    pub answers: BTreeMap<String, BTreeMap<u16, u64>>,
}

/// Server errors kept per operation: enough to tell its distinct causes apart.
pub const SERVER_ERRORS_PER_OPERATION: usize = 8;

impl Report {
    /// Notes what the run left out, and why, once however often it comes up.
    pub fn skip(&mut self, why: String) {
        if !self.skipped.contains(&why) {
            self.skipped.push(why);
        }
    }

    /// Takes in what another run found (the stateful suite on one item, inside the engine's
    /// run), its fields named after `label` (the item's path), so that they do not mix with
    /// the operations' own.
    pub fn absorb(&mut self, other: Report, label: &str) {
        let name = |f: &str| format!("{label} {f}");
        for mut v in other.violations {
            v.field = name(&v.field);
            self.record(v);
        }
        for mut v in other.warnings {
            v.field = name(&v.field);
            self.warn(v);
        }
        for mut v in other.flaky {
            v.field = name(&v.field);
            self.flaky.push(v);
        }
        for (c, n) in other.per_check {
            *self.per_check.entry(c).or_default() += n;
        }
        for (c, fields) in other.judged {
            let into = self.judged.entry(c).or_default();
            for (f, n) in fields {
                *into.entry(name(&f)).or_default() += n;
            }
        }
        for (f, n) in other.per_field {
            *self.per_field.entry(name(&f)).or_default() += n;
        }
        for ((f, rule), answers) in other.coverage {
            let into = self.coverage.entry((name(&f), rule)).or_default();
            for (a, n) in answers {
                *into.entry(a).or_default() += n;
            }
        }
        for (f, kinds) in other.verified {
            self.verified.insert(name(&f), kinds);
        }
        for (op, by) in other.answers {
            let into = self.answers.entry(op).or_default();
            for (status, n) in by {
                *into.entry(status).or_default() += n;
            }
        }
        self.held.extend(other.held);
        self.requests += other.requests;
        for s in other.skipped {
            self.skip(format!("{label}: {s}"));
        }
        if let Some(why) = other.could_not_run {
            self.skip(format!("{label}: the item's updates could not run: {why}"));
        }
        if self.stopped_early.is_none() {
            self.stopped_early = other.stopped_early;
        }
    }

    /// Records a violation; whether it was kept. The first one per key wins. A server error is
    /// kept wherever it happened: never merged with another operation's, however alike their
    /// bodies, and up to [`SERVER_ERRORS_PER_OPERATION`] per operation, which triage tells apart
    /// by their least requests. One request's other checks are grouped with it into one failure.
    pub fn record(&mut self, v: Violation) -> bool {
        if v.fails_when_flaky() {
            let again = self.violations.iter().any(|x| {
                x.check == v.check && x.field == v.field && x.exchange.sent == v.exchange.sent
            });
            let of_operation = self
                .violations
                .iter()
                .filter(|x| x.check == v.check && x.operation == v.operation)
                .count();
            if again || of_operation >= SERVER_ERRORS_PER_OPERATION {
                return false;
            }
        } else if self
            .violations
            .iter()
            .any(|x| x.check == v.check && x.field == v.field)
        {
            return false;
        }
        self.violations.push(v);
        true
    }

    /// Counts an answer of `operation` by its status (the statuses each operation was seen to
    /// give: the server errors a run met, the documented statuses it provoked).
    pub fn answered(&mut self, operation: &str, status: Option<u16>) {
        let Some(status) = status else { return };
        match self.answers.get_mut(operation) {
            Some(m) => *m.entry(status).or_default() += 1,
            None => {
                self.answers
                    .insert(operation.to_string(), [(status, 1)].into_iter().collect());
            }
        }
    }

    /// Of the statuses the document gives the operations run, those the run got, and why each
    /// other one was not.
    pub fn status_coverage(&self) -> crate::statuses::Coverage {
        crate::statuses::coverage(&self.documented, &self.answers, self.credential)
    }

    /// The operations that answered a 5xx, and how often.
    pub fn server_errors_seen(&self) -> BTreeMap<&str, u64> {
        self.answers
            .iter()
            .filter_map(|(op, by)| {
                let n: u64 = by.iter().filter(|(s, _)| **s >= 500).map(|(_, n)| n).sum();
                (n > 0).then_some((op.as_str(), n))
            })
            .collect()
    }

    /// Records a finding that does not fail the run, once per key.
    pub fn warn(&mut self, v: Violation) {
        if !self.warnings.iter().any(|x| x.key() == v.key()) {
            self.warnings.push(v);
        }
    }

    /// Counts an answer to a request that exercised `rule` on `field`, by its status.
    pub fn cover(&mut self, field: &str, rule: &str, ex: &Exchange) {
        let seen = ex
            .status()
            .map_or_else(|| "error".into(), |s| s.to_string());
        *self
            .coverage
            .entry((field.to_string(), rule.to_string()))
            .or_default()
            .entry(seen)
            .or_default() += 1;
        match self.per_field.get_mut(field) {
            Some(n) => *n += 1,
            None => {
                self.per_field.insert(field.to_string(), 1);
            }
        }
    }

    /// Counts one judgement of `check` on `field`.
    pub fn tick(&mut self, check: Check, field: &str) {
        *self.per_check.entry(check.name).or_default() += 1;
        let per_field = self.judged.entry(check.name).or_default();
        match per_field.get_mut(field) {
            Some(n) => *n += 1,
            None => {
                per_field.insert(field.to_string(), 1);
            }
        }
    }

    pub fn exit_code(&self) -> u8 {
        if self.could_not_run.is_some() {
            2
        } else if self.violations.is_empty() && !self.flaky.iter().any(Violation::fails_when_flaky)
        {
            0
        } else {
            1
        }
    }

    /// The run's failures: its violations grouped by request.
    pub fn failures(&self) -> Vec<Failure<'_>> {
        group(&self.violations)
    }

    /// Flaky findings grouped by request.
    pub fn flaky_failures(&self) -> Vec<Failure<'_>> {
        group(&self.flaky)
    }

    pub fn requests_per_second(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.requests as f64 / s
        } else {
            0.0
        }
    }

    /// Whether a violation of this check was found.
    pub fn failed(&self, check: &str) -> bool {
        self.violations.iter().any(|v| v.check.name == check)
    }
}

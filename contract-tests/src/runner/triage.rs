//! The last phase: each failure's request shrunk to the least one that fails the same way
//! ([`crate::triage`]), for the report to show beside the request as found.

use super::*;
use crate::triage::{self, Shrunk};

impl Suite<'_> {
    /// Shrinks the request of every failure (flaky ones aside: they did not happen again),
    /// within the run's budget; each of a request's violations keeps the result.
    pub(super) async fn triage(&self) {
        if self.s.fail_fast {
            return;
        }
        let mut spent = 0u32;
        loop {
            let next = {
                let r = self.rec.report.borrow();
                r.violations
                    .iter()
                    .find(|v| v.shrunk == Shrunk::Pending)
                    .map(|v| {
                        let same: Vec<&Violation> = r
                            .violations
                            .iter()
                            .filter(|w| w.exchange.sent == v.exchange.sent)
                            .collect();
                        let first = same
                            .iter()
                            .min_by_key(|w| {
                                (
                                    triage::Category::of(w.check),
                                    checks::ALL.iter().position(|c| *c == w.check),
                                )
                            })
                            .copied()
                            .unwrap_or(v);
                        (
                            first.check,
                            first.exchange.clone(),
                            triage::mutation_of(first.rule, &first.field, &first.path),
                        )
                    })
            };
            let Some((check, ex, mutation)) = next else {
                break;
            };
            // A failure like one already shrunk takes its result.
            let like = {
                let r = self.rec.report.borrow();
                let key = r
                    .violations
                    .iter()
                    .find(|v| v.exchange.sent == ex.sent && v.check == check)
                    .map(triage::like_key);
                key.and_then(|key| {
                    r.violations
                        .iter()
                        .find(|v| matches!(v.shrunk, Shrunk::Done(_)) && triage::like_key(v) == key)
                        .and_then(|v| v.shrunk.minimal().cloned())
                })
            };
            if let Some(m) = like {
                let mut r = self.rec.report.borrow_mut();
                for v in r
                    .violations
                    .iter_mut()
                    .filter(|v| v.exchange.sent == ex.sent && v.shrunk == Shrunk::Pending)
                {
                    v.shrunk = Shrunk::Like(Box::new(m.clone()));
                }
                continue;
            }
            let schema = self.schema();
            let op = schema
                .operation_at(ex.sent.method, &ex.sent.path)
                .unwrap_or(self.update())
                .clone();
            let left = TRIAGE_TOTAL.saturating_sub(spent);
            let shrunk = if left == 0 {
                Shrunk::Kept("the run's shrinking budget was spent".into())
            } else {
                let job = triage::Job {
                    schema,
                    target: &self.target,
                    expected: &self.s.expected,
                    key: self.s.key_for(&self.target.options().shown.credential),
                    max_response_time: self.s.max_response_time,
                    known_ids: true,
                    hints: &[],
                    budget: triage::SHRINK_BUDGET.min(left),
                };
                let out = triage::shrink_failure(
                    &job,
                    &op,
                    check,
                    &ex,
                    mutation,
                    None::<&mut crate::probe::Drawn>,
                )
                .await;
                if let Shrunk::Done(m) = &out.shrunk {
                    spent += m.tries;
                }
                out.shrunk
            };
            let mut r = self.rec.report.borrow_mut();
            for v in r
                .violations
                .iter_mut()
                .filter(|v| v.exchange.sent == ex.sent && v.shrunk == Shrunk::Pending)
            {
                v.shrunk = shrunk.clone();
            }
        }
    }
}

/// Requests the stateful suite's shrinking may send in all.
const TRIAGE_TOTAL: u32 = 2048;

//! Status coverage: of the statuses the document gives each operation, which ones the run got
//! an answer with ("documented statuses provoked: N of M"), and, for each one it did not, why:
//! the recipe that would provoke it and what stood in its way.
//!
//! The facts come from the document ([`Documented::of`], taken when the run starts); the answers
//! from the run ([`crate::findings::Report::answers`]).

use crate::meta::Operation;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What the document says of one operation that a recipe needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Documented {
    /// The statuses it gives by number (not ranges, not `default`), in order.
    pub statuses: Vec<u16>,
    /// Whether it needs a credential.
    pub secured: bool,
    /// Whether its path names an item (`{id}`).
    pub names_an_item: bool,
    /// Whether it takes a body.
    pub takes_a_body: bool,
    /// Whether it declares `If-Match` / `If-None-Match`.
    pub if_match: bool,
    pub if_none_match: bool,
}

impl Documented {
    pub fn of(op: &Operation) -> Documented {
        let mut statuses: Vec<u16> = op
            .responses
            .iter()
            .filter(|r| !r.range && r.status != 0)
            .map(|r| r.status)
            .collect();
        statuses.sort_unstable();
        statuses.dedup();
        Documented {
            statuses,
            secured: !op.auth.is_empty(),
            names_an_item: op.params.iter().any(|p| p.location == "path"),
            takes_a_body: op.body.is_some(),
            if_match: op.header_param("if-match").is_some(),
            if_none_match: op.header_param("if-none-match").is_some(),
        }
    }
}

/// One documented status the run never got, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Missed {
    pub operation: String,
    pub status: u16,
    pub why: String,
}

/// The run's status coverage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Coverage {
    pub documented: usize,
    pub provoked: usize,
    pub missed: Vec<Missed>,
}

/// `answers` in a few words: `200 ×3, 422 ×12`.
fn seen(answers: Option<&BTreeMap<u16, u64>>) -> String {
    match answers {
        Some(a) if !a.is_empty() => a
            .iter()
            .map(|(s, n)| format!("{s} ×{n}"))
            .collect::<Vec<_>>()
            .join(", "),
        _ => "no answer at all".into(),
    }
}

/// Why `status` was not provoked on an operation the document describes as `d`, which answered
/// `answers`; `credential`: whether the run had one to give.
fn why(
    status: u16,
    d: &Documented,
    answers: Option<&BTreeMap<u16, u64>>,
    credential: bool,
) -> String {
    let got = seen(answers);
    let recipe = match status {
        200..=299 => "a valid request: none was accepted with this status".to_string(),
        304 if d.if_none_match => {
            "a read with a current If-None-Match: the item carried no ETag, or no item was made".into()
        }
        304 => "a current If-None-Match: the operation declares no If-None-Match header".into(),
        300..=399 => "no recipe for a redirect".into(),
        400 | 422 if !d.takes_a_body && !d.names_an_item => {
            "an invalid request: the operation takes nothing to break but its query".into()
        }
        400 | 422 => "an invalid request: every one got another status".into(),
        401 | 403 if !d.secured => {
            "no credential, a wrong one, another user's: the operation needs none".into()
        }
        401 | 403 if !credential => {
            "a wrong credential or another user's: the run had no credential to vary (--auth, --api-key, -H)".into()
        }
        401 | 403 => "no credential, a wrong one, another user's: none got it".into(),
        404 if !d.names_an_item => "an unknown id: the path names no item".into(),
        404 => "an unknown id, or a deleted one: none got it".into(),
        405 => "a method the path lacks: none got it on this operation's path".into(),
        409 => "a duplicate (a create sent again with the same values, where a field is unique or a create documents 409): none got it; a conflicting update has no recipe".into(),
        412 if d.if_match => "a stale If-Match: no item had an ETag to make stale".into(),
        412 => "a stale If-Match: the operation declares no If-Match header".into(),
        413 if d.takes_a_body => "a body of 2 MiB: none got it".into(),
        413 => "a body past the size limit: the operation takes no body".into(),
        414 => "an address of 64 KiB: none got it".into(),
        406 => "an Accept of a type nothing is: none got it".into(),
        415 if d.takes_a_body => "a body said to be text/plain: none got it".into(),
        415 => "a body of another media type: the operation takes no body".into(),
        429 => "many requests at once: the suite keeps to its rate on purpose".into(),
        500..=599 => "a server error is found, not provoked on purpose".into(),
        _ => "no recipe for this status".into(),
    };
    format!("{recipe} (answers: {got})")
}

/// The coverage of `documented` by `answers` (operation -> status -> count).
pub fn coverage(
    documented: &BTreeMap<String, Documented>,
    answers: &BTreeMap<String, BTreeMap<u16, u64>>,
    credential: bool,
) -> Coverage {
    let mut c = Coverage::default();
    for (op, d) in documented {
        let got = answers.get(op);
        for &status in &d.statuses {
            c.documented += 1;
            if got.is_some_and(|g| g.contains_key(&status)) {
                c.provoked += 1;
            } else {
                c.missed.push(Missed {
                    operation: op.clone(),
                    status,
                    why: why(status, d, got, credential),
                });
            }
        }
    }
    c
}

impl Coverage {
    /// The text report's lines: the count, then at most `shown` of those not provoked.
    pub fn text(&self, shown: usize) -> String {
        let mut s = String::new();
        if self.documented == 0 {
            return s;
        }
        let _ = writeln!(
            s,
            "documented statuses provoked: {} of {}",
            self.provoked, self.documented
        );
        for m in self.missed.iter().take(shown) {
            let _ = writeln!(s, "  not provoked: {} {}: {}", m.operation, m.status, m.why);
        }
        if self.missed.len() > shown {
            let _ = writeln!(
                s,
                "  and {} more not provoked: each is in the JSON report",
                self.missed.len() - shown
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_status_is_counted_once_and_each_one_missed_says_why() {
        let documented: BTreeMap<String, Documented> = [
            (
                "get_note".to_string(),
                Documented {
                    statuses: vec![200, 304, 404],
                    secured: true,
                    names_an_item: true,
                    if_none_match: true,
                    ..Documented::default()
                },
            ),
            (
                "list".to_string(),
                Documented {
                    statuses: vec![200, 401],
                    ..Documented::default()
                },
            ),
        ]
        .into_iter()
        .collect();
        let answers: BTreeMap<String, BTreeMap<u16, u64>> = [(
            "get_note".to_string(),
            [(200, 4), (404, 2), (500, 1)].into_iter().collect(),
        )]
        .into_iter()
        .collect();
        let c = coverage(&documented, &answers, true);
        assert_eq!((c.provoked, c.documented), (2, 5));
        let missed: Vec<(&str, u16)> = c
            .missed
            .iter()
            .map(|m| (m.operation.as_str(), m.status))
            .collect();
        assert_eq!(missed, [("get_note", 304), ("list", 200), ("list", 401)]);
        assert!(
            c.missed[0].why.contains("If-None-Match"),
            "{:?}",
            c.missed[0]
        );
        assert!(c.missed[0].why.contains("200 ×4, 404 ×2, 500 ×1"));
        assert!(c.missed[1].why.contains("no answer at all"));
        assert!(c.missed[2].why.contains("needs none"), "{:?}", c.missed[2]);
        let text = c.text(1);
        assert!(
            text.starts_with("documented statuses provoked: 2 of 5\n"),
            "{text}"
        );
        assert!(text.contains("and 2 more not provoked"), "{text}");
    }
}

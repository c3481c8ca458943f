//! Where a cause is decided: a run's failures grouped by what they come down to.
//!
//! A failure (the violations one request showed) stands for its most serious violation, and
//! that decides its cause:
//! - a server error (a 5xx, or no answer at all) is one cause per operation, and per least
//!   request within one: the parts its shrunk request needs, and where it breaks the document;
//! - a broken input: a valid request refused (4xx) because of parts the document does not
//!   require, which shrinking isolated (an optional header the server reads more strictly than
//!   the document says), is one cause for those parts, whatever the operation and the check;
//! - otherwise the same check failing the same way: the same status class, the same message once
//!   what varies is masked ([`super::mask`]), the same rule, and the same parts where shrinking
//!   isolated some (else the same place, masked, where it was found).
//!
//! Causes come in order: server errors, authentication and authorization, the resource's state,
//! then conformance to the document (broken inputs first within it); within each, the most
//! failures first.

use super::mask::mask;
use crate::checks::{self, Check};
use crate::findings::{group, Failure, Report, Violation};
use std::collections::BTreeMap;

/// What kind of wrong a cause is, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    ServerError,
    Auth,
    State,
    Conformance,
}

impl Category {
    pub fn of(check: Check) -> Category {
        if [checks::NOT_A_SERVER_ERROR, checks::TARGET_ANSWERS].contains(&check) {
            Category::ServerError
        } else if [
            checks::IGNORED_AUTH,
            checks::MISSING_AUTH,
            checks::OBJECT_LEVEL_AUTHORIZATION,
        ]
        .contains(&check)
        {
            Category::Auth
        } else if [
            checks::PATCH_SEMANTICS,
            checks::USE_AFTER_FREE,
            checks::ENSURE_RESOURCE_AVAILABILITY,
            checks::PAGINATION_CONSISTENCY,
            checks::REJECTION_CHANGES_NOTHING,
            checks::HEADER_FLOWS,
            checks::UNKNOWN_ID_NOT_FOUND,
            checks::CONDITIONAL_REQUESTS,
            checks::UNIQUE_VALUES,
            checks::NESTED_RESOURCES,
        ]
        .contains(&check)
        {
            Category::State
        } else {
            Category::Conformance
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Category::ServerError => "server error",
            Category::Auth => "authentication",
            Category::State => "state",
            Category::Conformance => "conformance",
        }
    }
}

/// One cause: the failures it groups and what they share.
#[derive(Debug, Clone)]
pub struct Cause<'r> {
    pub category: Category,
    /// Whether it is a broken input (a part the server refuses where the document allows it).
    pub input: bool,
    /// The check that stands for it.
    pub check: &'static str,
    /// Every check its failures broke, each once.
    pub checks: Vec<&'static str>,
    /// What it is, in a line.
    pub summary: String,
    /// The status class its failures got (4 for 4xx); `None` for no answer.
    pub class: Option<u16>,
    /// The request parts shrinking isolated, when it did.
    pub parts: Vec<String>,
    /// Every operation it touched, in the order found.
    pub operations: Vec<String>,
    /// Its failures, in the order found; each with whether it was flaky.
    pub failures: Vec<(Failure<'r>, bool)>,
    /// What decided it (for tests and for a reader who wonders why two causes are two).
    pub key: String,
}

impl<'r> Cause<'r> {
    /// Whether only flaky failures make it (it then fails the run only as a server error).
    pub fn flaky(&self) -> bool {
        self.failures.iter().all(|(_, flaky)| *flaky)
    }

    /// Whether it fails the run.
    pub fn fails_run(&self) -> bool {
        self.failures
            .iter()
            .any(|(f, flaky)| !flaky || f.first().fails_when_flaky())
    }

    /// One reproducer per operation: its failure whose least request is the smallest.
    pub fn reproducers(&self) -> Vec<(&str, &'r Violation)> {
        let mut out: Vec<(&str, &'r Violation)> = Vec::new();
        for op in &self.operations {
            let best = self
                .failures
                .iter()
                .map(|(f, _)| primary(f))
                .filter(|v| v.operation == *op)
                .min_by_key(|v| size(v));
            if let Some(v) = best {
                out.push((op.as_str(), v));
            }
        }
        out
    }
}

/// How large a failure's request is, least request where shrunk (bytes of path and body).
fn size(v: &Violation) -> usize {
    let sent = v
        .shrunk
        .minimal()
        .map_or(&v.exchange.sent, |m| &m.exchange.sent);
    sent.path.len() + sent.body.as_ref().map_or(0, String::len) + sent.headers.len() * 16
}

/// The violation that stands for a failure: its most serious one (by category, then in the
/// order checks are listed).
pub fn primary<'r>(f: &Failure<'r>) -> &'r Violation {
    let rank = |v: &Violation| {
        (
            Category::of(v.check),
            checks::ALL
                .iter()
                .position(|c| *c == v.check)
                .unwrap_or(usize::MAX),
        )
    };
    f.violations
        .iter()
        .copied()
        .min_by_key(|v| rank(v))
        .unwrap_or(f.first())
}

/// A violation's message with what varies masked: its own field (the name of the part it is
/// about, `limit`, `flows.id`: "the same message once ... names ... are masked"), then what
/// [`mask`] masks.
fn masked_message(v: &Violation) -> String {
    let f = v.field.as_str();
    // The field less the label of its operation or resource in front (`create_flow limit`).
    let name = match f.split_once(' ') {
        Some((_, rest)) if !f.starts_with('(') => rest,
        _ => f,
    }
    .trim();
    let mut text = v.message.clone();
    if !name.is_empty() && !name.starts_with('(') {
        text = replace_word(&text, name, "<name>");
    }
    mask(&text, &v.exchange.sent.path, &template(v))
}

/// `text` with each occurrence of `word` that stands alone (not inside a longer name: `y` is not
/// replaced in `body`) replaced by `with`.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let name_char = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(word) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + word.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(name_char) || after.is_some_and(name_char) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[i + word.len()..];
    }
    out.push_str(rest);
    out
}

/// The template of the path a violation's request went to.
fn template(v: &Violation) -> String {
    v.operation
        .split_once(' ')
        .map(|(_, t)| t.to_string())
        .unwrap_or_default()
}

/// The parts of a least request that tell causes apart: those it needs beside the ones where it
/// breaks the document. Which invalid input a check of invalid requests was about is in its
/// message and rule already; for a check of any answer, any invalid input would do.
fn telling_parts(m: &super::Minimal) -> Vec<String> {
    m.needed_names()
        .into_iter()
        .filter(|n| !m.broken.iter().any(|b| b.starts_with(&format!("{n} ("))))
        .collect()
}

/// A part's name with its list indices dropped (`requests[3].method` is `requests[].method`): the
/// same field of another item is the same part.
fn unindexed(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    let mut rest = part;
    while let Some(i) = rest.find('[') {
        out.push_str(&rest[..=i]);
        let after = &rest[i + 1..];
        match after.find(']') {
            Some(j) if j > 0 && after[..j].bytes().all(|b| b.is_ascii_digit()) => {
                rest = &after[j..]
            }
            _ => rest = after,
        }
    }
    out.push_str(rest);
    out
}

/// A failure's cause key, with what the cause shows of it.
fn decide(f: &Failure<'_>) -> (String, Category, bool, Vec<String>) {
    let v = primary(f);
    // A 5xx is a server error whichever of its request's checks was kept.
    let category = if v.exchange.status().is_some_and(|s| s >= 500) {
        Category::ServerError
    } else {
        Category::of(v.check)
    };
    let class = v.exchange.status().map(|s| s / 100);
    let class_text = class.map_or_else(|| "no answer".to_string(), |c| format!("{c}xx"));
    let least = v.shrunk.minimal();
    if category == Category::ServerError {
        // One cause per operation and least request: what it needs and where it is invalid.
        let (parts, what) = match least {
            Some(m) => {
                let mut p = m.needed_names();
                p.extend(m.broken.iter().cloned());
                let what = p.join(", ");
                (p, what)
            }
            None => (Vec::new(), "as found".to_string()),
        };
        let key = format!("server|{}|{class_text}|{what}", v.operation);
        return (key, category, false, parts);
    }
    if let Some(m) = least {
        // A refusal that needs a part the document does not require (beside where the request
        // may be invalid, which a refusal of an invalid request is about already): the part is
        // the cause, whatever else the request carries.
        let telling = telling_parts(m);
        let input = class == Some(4)
            && !telling.is_empty()
            && matches!(category, Category::State | Category::Conformance)
            && super::shrinkable(v.check) != Some(super::Gate::Invalid);
        if input {
            let key = format!("input|{}|{class_text}", telling.join(", "));
            return (key, Category::Conformance, true, telling);
        }
    }
    let message = masked_message(v);
    // A failure not shrunk is told apart by its check, status, rule and message alone.
    let (parts, place) = match least {
        Some(m) => {
            // The parts it needs beside where it is invalid: where it is invalid is the rule
            // and the masked name of the message (a server that takes null where the document
            // forbids it does so for every field alike: one cause, its places listed).
            let place = telling_parts(m).join(", ");
            let mut shown = m.needed_names();
            shown.extend(m.broken.iter().cloned());
            (shown, place)
        }
        None => (Vec::new(), String::new()),
    };
    let key = format!(
        "check|{}|{}|{message}|{}|{place}",
        v.check.name,
        super::status_key(v),
        v.rule.unwrap_or("-")
    );
    (key, category, false, parts)
}

/// The run's failures (and flaky ones) as causes, in report order.
pub fn causes(r: &Report) -> Vec<Cause<'_>> {
    let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
    let mut out: Vec<Cause<'_>> = Vec::new();
    let all = group(&r.violations)
        .into_iter()
        .map(|f| (f, false))
        .chain(group(&r.flaky).into_iter().map(|f| (f, true)));
    for (f, flaky) in all {
        let (key, category, input, parts) = decide(&f);
        let v = primary(&f);
        let i = *by_key.entry(key.clone()).or_insert_with(|| {
            out.push(Cause {
                category,
                input,
                check: v.check.name,
                checks: Vec::new(),
                summary: summary(v, category, input, &parts),
                class: v.exchange.status().map(|s| s / 100),
                parts: Vec::new(),
                operations: Vec::new(),
                failures: Vec::new(),
                key,
            });
            out.len() - 1
        });
        let c = &mut out[i];
        for p in parts.iter().map(|p| unindexed(p)) {
            if !c.parts.contains(&p) {
                c.parts.push(p);
            }
        }
        for name in f.checks() {
            if !c.checks.contains(&name) {
                c.checks.push(name);
            }
        }
        if !c.operations.contains(&v.operation) {
            c.operations.push(v.operation.clone());
        }
        c.failures.push((f, flaky));
    }
    for c in &mut out {
        if !c.input && c.category != Category::ServerError {
            c.summary = with_others(&c.summary, c.failures.len());
            // Where the failures broke the document, when not all in one place.
            let broken: Vec<&str> = c
                .parts
                .iter()
                .filter_map(|p| p.rsplit_once(" (").map(|(at, _)| at))
                .collect();
            if broken.len() > 1 {
                let shown: Vec<&str> = broken.iter().take(4).copied().collect();
                let more = broken.len() - shown.len();
                c.summary = format!(
                    "{}; at {} places: {}{}",
                    c.summary,
                    broken.len(),
                    shown.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                );
            }
        }
    }
    out.sort_by(|a, b| {
        (
            a.category,
            !a.input,
            std::cmp::Reverse(a.failures.len()),
            &a.key,
        )
            .cmp(&(
                b.category,
                !b.input,
                std::cmp::Reverse(b.failures.len()),
                &b.key,
            ))
    });
    out
}

/// A cause in a line, from the failure that opened it.
fn summary(v: &Violation, category: Category, input: bool, parts: &[String]) -> String {
    let status = v
        .exchange
        .status()
        .map_or_else(|| "no answer".to_string(), |s| s.to_string());
    if input {
        return format!(
            "requests that carry {} get {status}, though the document allows it ({}: {})",
            parts.join(" and "),
            v.check.name,
            v.message
        );
    }
    if category == Category::ServerError {
        let to = match v.shrunk.minimal() {
            Some(m) if m.needed.is_empty() && m.broken.is_empty() => {
                " to the least request the operation takes".to_string()
            }
            Some(m) => {
                let mut what = m.needed_names();
                what.extend(m.broken.iter().map(|b| format!("{b}, invalid")));
                format!(" to requests with {}", what.join(", "))
            }
            None => String::new(),
        };
        return match v.exchange.status() {
            Some(_) => format!("{} answered {status}{to}", v.operation),
            None => format!("{} gave no answer{to}", v.operation),
        };
    }
    format!("{}: {}", v.check.name, v.message)
}

/// The summary of a cause of several failures says the first stands for the others.
fn with_others(summary: &str, n: usize) -> String {
    match n {
        0 | 1 => summary.to_string(),
        n => format!("{summary} (and {} failure(s) like it)", n - 1),
    }
}

/// The operations a run got a 5xx from that no server-error cause names (none, when the report
/// and its coverage agree).
pub fn unnamed_server_errors(r: &Report) -> Vec<String> {
    let named: Vec<String> = causes(r)
        .into_iter()
        .filter(|c| c.category == Category::ServerError)
        .flat_map(|c| c.operations)
        .collect();
    r.server_errors_seen()
        .keys()
        .filter(|op| !named.iter().any(|n| n == *op))
        .map(|s| s.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_masked_where_it_stands_alone() {
        assert_eq!(
            replace_word("got y in body, y.z and (y)", "y", "<n>"),
            "got <n> in body, <n>.z and (<n>)"
        );
        assert_eq!(replace_word("size sizes", "size", "<n>"), "<n> sizes");
    }

    #[test]
    fn list_indices_do_not_make_another_part() {
        assert_eq!(
            unindexed("body requests[12].method (nullable)"),
            "body requests[].method (nullable)"
        );
        assert_eq!(unindexed("body a[x][3]"), "body a[x][]");
        assert_eq!(unindexed("query limit"), "query limit");
    }
}

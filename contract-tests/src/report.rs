//! What a run tells people and machines: a text summary, and report files.

use crate::checks;
use crate::http::{self, redact_text};
use crate::runner::{self, Failure, Report, Violation};
use crate::triage::{self, Cause};
use std::fmt::Write as _;

/// Bytes of an answer shown in a report.
pub const EXCERPT: usize = 500;

/// Failures (and warnings) the text summary lists one by one; past it, the causes stand for
/// them and the JSON and HTML reports hold each.
pub const FAILURES_SHOWN: usize = 20;
/// Statuses not provoked listed in the text report (all of them are in the JSON).
pub const STATUSES_SHOWN: usize = 20;

/// Least requests the text summary shows per cause (the JSON and HTML show one per operation).
const REPRODUCERS_SHOWN: usize = 3;

/// How a cause's status class reads.
fn class_text(c: &Cause<'_>) -> String {
    c.class
        .map_or_else(|| "no answer".into(), |k| format!("{k}xx"))
}

/// The least request a violation's request was shrunk to, or the request as found.
fn least(v: &Violation) -> (&crate::http::Exchange, String) {
    match &v.shrunk {
        triage::Shrunk::Done(m) => (
            &m.exchange,
            format!(
                "shrunk in {} request(s){}",
                m.tries,
                if m.complete { "" } else { ", not to the end" }
            ),
        ),
        triage::Shrunk::Like(m) => (
            &m.exchange,
            format!(
                "that of a failure like it on this operation, shrunk in {} request(s)",
                m.tries
            ),
        ),
        triage::Shrunk::Kept(why) => (&v.exchange, format!("as found: {why}")),
        triage::Shrunk::Pending => (&v.exchange, "as found".into()),
    }
}

/// The causes, first in the text summary.
fn causes_text(s: &mut String, r: &Report, causes: &[Cause<'_>], secrets: &[&str]) {
    if causes.is_empty() {
        return;
    }
    let failures: usize = causes.iter().map(|c| c.failures.len()).sum();
    let _ = writeln!(
        s,
        "\n{} CAUSE(S) of {failures} failure(s), most serious first:",
        causes.len()
    );
    for (i, c) in causes.iter().enumerate() {
        let flaky = if c.flaky() { ", flaky" } else { "" };
        let _ = writeln!(
            s,
            "\nCAUSE {} [{}{flaky}] {} ({}): {}",
            i + 1,
            if c.input { "input" } else { c.category.label() },
            c.check,
            class_text(c),
            redact_text(&c.summary, secrets)
        );
        let _ = writeln!(
            s,
            "  {} failure(s) on {} operation(s): {}",
            c.failures.len(),
            c.operations.len(),
            c.operations.join(", ")
        );
        if c.checks.len() > 1 {
            let _ = writeln!(s, "  checks broken: {}", c.checks.join(", "));
        }
        if !c.parts.is_empty() {
            let _ = writeln!(s, "  isolated: {}", c.parts.join(", "));
        }
        let reproducers = c.reproducers();
        for (op, v) in reproducers.iter().take(REPRODUCERS_SHOWN) {
            let (ex, how) = least(v);
            let _ = writeln!(
                s,
                "  least request on {op} ({how}): {} {} {}",
                ex.sent.method,
                ex.sent.path,
                ex.sent.body.as_deref().unwrap_or("(no body)")
            );
            let answer = match &ex.outcome {
                Ok(a) => format!("{} {}", a.status, a.excerpt(200)),
                Err(f) => format!("no answer ({}): {}", f.kind, f.message),
            };
            let _ = writeln!(s, "    answer:    {}", redact_text(&answer, secrets));
            let _ = writeln!(s, "    reproduce: {}", http::curl(&r.target, &ex.sent));
        }
        if reproducers.len() > REPRODUCERS_SHOWN {
            let _ = writeln!(
                s,
                "  ... and {} more operation(s), each with its least request in the JSON and HTML reports",
                reproducers.len() - REPRODUCERS_SHOWN
            );
        }
        let held: Vec<&triage::Hold> = r
            .held
            .iter()
            .filter(|h| c.parts.contains(&h.part.name()) && c.operations.contains(&h.operation))
            .collect();
        if !held.is_empty() {
            let mut ops: Vec<&str> = held.iter().map(|h| h.operation.as_str()).collect();
            ops.sort_unstable();
            ops.dedup();
            let _ = writeln!(
                s,
                "  held back after it, on {} operation(s): {}",
                ops.len(),
                held[0].describe()
            );
        }
    }
}

/// Hides the run's credentials (`base`: the API key) in what is shown of `v`. The values the
/// suite drew are test data, secret-marked fields included, and show in full: a reproducer that
/// hides them would not reproduce.
fn hide(text: &str, _v: &Violation, base: &[&str]) -> String {
    redact_text(text, base)
}

/// The answer of a violation, for people: status and a bounded excerpt, or why none came.
pub fn answer_text(v: &Violation, secrets: &[&str]) -> String {
    match &v.exchange.outcome {
        Ok(a) => hide(&format!("{} {}", a.status, a.excerpt(EXCERPT)), v, secrets),
        Err(f) => hide(
            &format!("no answer ({}): {}", f.kind, f.message),
            v,
            secrets,
        ),
    }
}

/// The body sent, as sent.
pub fn body_text(v: &Violation) -> String {
    v.exchange
        .sent
        .body
        .clone()
        .unwrap_or_else(|| "(none)".into())
}

/// ` (rule)` for a violation found by a named mutation, else nothing.
fn rule_note(v: &Violation) -> String {
    v.rule.map(|r| format!(" ({r})")).unwrap_or_default()
}

/// One line of a failure: `check on field (rule): message`.
fn broke(v: &Violation, secrets: &[&str]) -> String {
    format!(
        "{} on {}{}: {}",
        v.check.name,
        v.field,
        rule_note(v),
        hide(&v.message, v, secrets)
    )
}

/// How many violations a check has.
fn violations_of(r: &Report, check: &str) -> usize {
    r.violations
        .iter()
        .filter(|v| v.check.name == check)
        .count()
}

/// The text summary printed at the end of a run.
pub fn summary(r: &Report, secrets: &[&str]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "contract suite: {} (mode {}, seed {})",
        r.target, r.mode, r.seed
    );
    if r.insecure {
        let _ = writeln!(s, "TLS certificates were NOT verified (--insecure)");
    }
    if let Some(why) = &r.could_not_run {
        let _ = writeln!(s, "could not run: {why}");
        return s;
    }
    let causes = triage::causes(r);
    causes_text(&mut s, r, &causes, secrets);
    let failures = r.failures();
    if failures.len() > FAILURES_SHOWN {
        let _ = writeln!(
            s,
            "\n{} failures in {} causes: each is in the JSON and HTML reports (--report)",
            failures.len(),
            causes.len()
        );
    }
    for (i, f) in failures
        .iter()
        .enumerate()
        .take_while(|_| failures.len() <= FAILURES_SHOWN)
    {
        let v = f.first();
        let _ = writeln!(
            s,
            "\nFAILURE {}: {} {} breaks {}",
            i + 1,
            v.exchange.sent.method,
            v.exchange.sent.path,
            f.checks().join(", ")
        );
        for v in &f.violations {
            let _ = writeln!(s, "  - {}", broke(v, secrets));
            let _ = writeln!(s, "      ({})", v.check.doc);
        }
        let _ = writeln!(
            s,
            "  sent:     {} {} {}",
            v.exchange.sent.method,
            v.exchange.sent.path,
            body_text(v)
        );
        let _ = writeln!(s, "  answer:   {}", answer_text(v, secrets));
        let _ = writeln!(
            s,
            "  reproduce: {}",
            v.reproducer(&r.target).replace('\n', "\n             ")
        );
        let _ = writeln!(
            s,
            "  seed:     {} (cargo xtask contract --seed {})",
            v.seed, r.seed
        );
    }
    for f in &r.flaky {
        let verdict = if f.fails_when_flaky() {
            "a server error fails the run all the same"
        } else {
            "not failing the run"
        };
        let _ = writeln!(
            s,
            "\nflaky {} on {}: {} (sent again, it did not happen again; {verdict})",
            f.check.name,
            f.field,
            hide(&f.message, f, secrets)
        );
        let _ = writeln!(
            s,
            "  reproduce: {}",
            http::curl(&r.target, &f.exchange.sent)
        );
    }
    if r.warnings.len() > FAILURES_SHOWN {
        let _ = writeln!(
            s,
            "\n{} warnings: each is in the JSON and HTML reports (--report)",
            r.warnings.len()
        );
    }
    for w in r
        .warnings
        .iter()
        .take_while(|_| r.warnings.len() <= FAILURES_SHOWN)
    {
        let _ = writeln!(
            s,
            "\nwarning {} on {} ({}): {}",
            w.check.name,
            w.field,
            w.rule.unwrap_or("-"),
            hide(&w.message, w, secrets)
        );
        let _ = writeln!(
            s,
            "  reproduce: {}",
            http::curl(&r.target, &w.exchange.sent)
        );
    }
    let _ = writeln!(s, "\nchecks (requests judged):");
    for c in checks::ALL {
        let n = r.per_check.get(c.name).copied().unwrap_or(0);
        let failed = violations_of(r, c.name);
        let mark = if failed > 0 {
            format!("FAILED ({failed})")
        } else if n == 0 {
            "not run".into()
        } else {
            "ok".into()
        };
        let _ = writeln!(s, "  {:<30} {:>7}  {}", c.name, n, mark);
    }
    if r.operations > 1 {
        // One line per field of every operation would bury the verdict: the count says enough.
        let _ = writeln!(
            s,
            "operations: {} run, {} field(s) and parameter(s) exercised",
            r.operations,
            r.per_field.len()
        );
    } else {
        let _ = writeln!(s, "fields (requests that exercised them):");
        for (f, n) in &r.per_field {
            let _ = writeln!(s, "  {f:<30} {n:>7}");
        }
    }
    if !r.verified.is_empty() {
        let _ = writeln!(
            s,
            "read back (kinds of value sent, and verified: shown applied by a read-back):"
        );
        for (f, kinds) in &r.verified {
            let text: Vec<String> = kinds
                .iter()
                .map(|(k, (sent, shown))| {
                    if *shown > 0 {
                        format!("{k} ok")
                    } else {
                        format!("{k} NOT VERIFIED ({sent} sent)")
                    }
                })
                .collect();
            let _ = writeln!(s, "  {f:<30} {}", text.join(", "));
        }
    }
    s.push_str(&r.status_coverage().text(STATUSES_SHOWN));
    for why in &r.skipped {
        let _ = writeln!(s, "skipped: {why}");
    }
    for h in &r.held {
        let _ = writeln!(s, "held back on {}: {}", h.operation, h.describe());
    }
    if let Some(why) = &r.stopped_early {
        let _ = writeln!(s, "stopped early: {why}");
    }
    let _ = writeln!(
        s,
        "{} case(s) of {}, {} request(s) in {:.2} s ({:.0} req/s); {} cause(s), {} failure(s) ({} violation(s)), {} warning(s){}",
        r.cases,
        r.cases_planned,
        r.requests,
        r.elapsed.as_secs_f64(),
        r.requests_per_second(),
        causes.len(),
        failures.len(),
        r.violations.len(),
        r.warnings.len(),
        if r.flaky.is_empty() {
            String::new()
        } else {
            format!(", {} flaky", r.flaky.len())
        }
    );
    s
}

fn violation_json(r: &Report, v: &Violation, secrets: &[&str]) -> serde_json::Value {
    let answer = match &v.exchange.outcome {
        Ok(a) => {
            serde_json::json!({"status": a.status, "excerpt": hide(&a.excerpt(EXCERPT), v, secrets), "truncated": a.truncated})
        }
        Err(f) => serde_json::json!({"error": f.kind, "message": f.message}),
    };
    serde_json::json!({
        "check": v.check.name,
        "field": v.field,
        "rule": v.rule,
        "message": hide(&v.message, v, secrets),
        "request": request_json(&v.exchange.sent),
        "answer": answer,
        "curl": v.reproducer(&r.target),
        "seed": v.seed,
    })
}

/// One failure: the request, its answer, its reproducer and every check it broke.
fn failure_json(r: &Report, f: &Failure<'_>, secrets: &[&str]) -> serde_json::Value {
    let v = f.first();
    let mut first = violation_json(r, v, secrets);
    let broke: Vec<serde_json::Value> = f
        .violations
        .iter()
        .map(|v| {
            serde_json::json!({
                "check": v.check.name,
                "field": v.field,
                "rule": v.rule,
                "message": hide(&v.message, v, secrets),
            })
        })
        .collect();
    let shrunk = match &v.shrunk {
        triage::Shrunk::Done(m) | triage::Shrunk::Like(m) => serde_json::json!({
            "like_another": matches!(v.shrunk, triage::Shrunk::Like(_)),
            "tries": m.tries, "complete": m.complete,
            "request": request_json(&m.exchange.sent),
            "needed": m.needed_names(), "broken": m.broken,
        }),
        triage::Shrunk::Kept(why) => serde_json::json!({"kept_as_found": why}),
        triage::Shrunk::Pending => serde_json::Value::Null,
    };
    serde_json::json!({
        "operation": v.operation,
        "checks": f.checks(),
        "violations": broke,
        "shrunk": shrunk,
        "request": first["request"].take(),
        "answer": first["answer"].take(),
        "curl": first["curl"].take(),
        "seed": v.seed,
    })
}

/// A request as the JSON report shows it.
fn request_json(sent: &crate::http::Sent) -> serde_json::Value {
    serde_json::json!({
        "method": sent.method,
        "path": sent.path,
        "headers": sent.headers.iter().map(|(k, v)| serde_json::json!([k, v])).collect::<Vec<_>>(),
        "body": sent.body.clone().unwrap_or_else(|| "(none)".into()),
    })
}

/// A cause: what it is, where, and its failures, with one least request per operation.
fn cause_json(r: &Report, c: &Cause<'_>, secrets: &[&str]) -> serde_json::Value {
    let reproducers: Vec<serde_json::Value> = c
        .reproducers()
        .into_iter()
        .map(|(op, v)| {
            let (ex, how) = least(v);
            let answer = match &ex.outcome {
                Ok(a) => serde_json::json!({"status": a.status, "excerpt": redact_text(&a.excerpt(EXCERPT), secrets)}),
                Err(f) => serde_json::json!({"error": f.kind, "message": f.message}),
            };
            let shrunk = match &v.shrunk {
                triage::Shrunk::Done(m) => serde_json::json!({
                    "tries": m.tries, "complete": m.complete,
                    "needed": m.needed_names(), "broken": m.broken,
                }),
                triage::Shrunk::Like(m) => serde_json::json!({
                    "like_another": true, "tries": m.tries, "complete": m.complete,
                    "needed": m.needed_names(), "broken": m.broken,
                }),
                triage::Shrunk::Kept(why) => serde_json::json!({"kept_as_found": why}),
                triage::Shrunk::Pending => serde_json::Value::Null,
            };
            serde_json::json!({
                "operation": op,
                "request": request_json(&ex.sent),
                "answer": answer,
                "curl": http::curl(&r.target, &ex.sent),
                "shrunk": shrunk,
                "how": how,
                "found_as": request_json(&v.exchange.sent),
            })
        })
        .collect();
    let held: Vec<String> = r
        .held
        .iter()
        .filter(|h| c.parts.contains(&h.part.name()) && c.operations.contains(&h.operation))
        .map(|h| format!("{}: {}", h.operation, h.describe()))
        .collect();
    serde_json::json!({
        "check": c.check,
        "checks": c.checks,
        "category": if c.input { "input" } else { c.category.label() },
        "summary": redact_text(&c.summary, secrets),
        "status_class": c.class.map(|k| format!("{k}xx")),
        "parts": c.parts,
        "operations": c.operations,
        "count": c.failures.len(),
        "flaky": c.flaky(),
        "fails_run": c.fails_run(),
        "held_back": held,
        "reproducers": reproducers,
        "failures": c.failures.iter().map(|(f, flaky)| {
            let mut j = failure_json(r, f, secrets);
            j["flaky"] = serde_json::Value::Bool(*flaky);
            j
        }).collect::<Vec<_>>(),
        "key": c.key,
    })
}

/// The machine-readable result.
pub fn json(r: &Report, secrets: &[&str]) -> serde_json::Value {
    let checks: serde_json::Map<String, serde_json::Value> = checks::ALL
        .iter()
        .map(|c| {
            let failed = violations_of(r, c.name);
            (
                c.name.to_string(),
                serde_json::json!({"doc": c.doc, "judged": r.per_check.get(c.name).copied().unwrap_or(0), "violations": failed}),
            )
        })
        .collect();
    let coverage: Vec<serde_json::Value> = r
        .coverage
        .iter()
        .map(|((field, rule), answers)| serde_json::json!({"field": field, "rule": rule, "answers": answers}))
        .collect();
    let c = r.status_coverage();
    let statuses = serde_json::json!({
        "documented": c.documented,
        "provoked": c.provoked,
        "not_provoked": c.missed.iter().map(|m| serde_json::json!({"operation": m.operation, "status": m.status, "why": m.why})).collect::<Vec<_>>(),
    });
    serde_json::json!({
        "target": r.target,
        "mode": r.mode,
        "seed": r.seed,
        "tls_verified": !r.insecure,
        "exit_code": r.exit_code(),
        "could_not_run": r.could_not_run,
        "stopped_early": r.stopped_early,
        "cases": r.cases,
        "cases_planned": r.cases_planned,
        "requests": r.requests,
        "operations": r.operation_names,
        "elapsed_secs": (r.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        "requests_per_second": r.requests_per_second().round(),
        "cause_count": triage::causes(r).len(),
        "causes": triage::causes(r).iter().map(|c| cause_json(r, c, secrets)).collect::<Vec<_>>(),
        "held_back": r.held.iter().map(|h| serde_json::json!({"operation": h.operation, "part": h.part.name(), "kept_to": h.value, "why": h.why})).collect::<Vec<_>>(),
        "statuses": r.answers,
        "status_coverage": statuses,
        "server_errors_seen": r.server_errors_seen(),
        "failure_count": r.failures().len(),
        "failures": r.failures().iter().map(|f| failure_json(r, f, secrets)).collect::<Vec<_>>(),
        "violations": r.violations.iter().map(|v| violation_json(r, v, secrets)).collect::<Vec<_>>(),
        "warnings": r.warnings.iter().map(|v| violation_json(r, v, secrets)).collect::<Vec<_>>(),
        "flaky": r.flaky.iter().map(|v| violation_json(r, v, secrets)).collect::<Vec<_>>(),
        "checks": checks,
        "coverage": coverage,
        "verified": r.verified.iter().flat_map(|(field, kinds)| kinds.iter().map(move |(kind, (sent, shown))| {
            serde_json::json!({"field": field, "kind": kind, "sent": sent, "verified": shown})
        })).collect::<Vec<_>>(),
    })
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one passing test case per check and field judged without a violation, and one
/// test case per cause: failing, with its summary, every operation it touched and each one's
/// least request; skipped when only flaky findings make it (failing all the same for a server
/// error).
pub fn junit(r: &Report, secrets: &[&str]) -> String {
    let causes = triage::causes(r);
    let broken: std::collections::BTreeSet<(&str, &str)> = r
        .violations
        .iter()
        .map(|v| (v.check.name, v.field.as_str()))
        .collect();
    let passing: Vec<(&str, &str)> = r
        .judged
        .iter()
        .flat_map(|(c, fields)| fields.keys().map(move |f| (*c, f.as_str())))
        .filter(|k| !broken.contains(k))
        .collect();
    let failing = causes.iter().filter(|c| c.fails_run()).count();
    let skipped = causes.len() - failing;
    let failed = failing + usize::from(r.could_not_run.is_some());
    let tests = (passing.len() + failed + skipped).max(1);
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"contract\" tests=\"{tests}\" failures=\"{failed}\" skipped=\"{skipped}\" time=\"{:.3}\">",
        r.elapsed.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"{} ({} mode, seed {})\" tests=\"{tests}\" failures=\"{failed}\" skipped=\"{skipped}\" time=\"{:.3}\">",
        xml(&r.title),
        r.mode,
        r.seed,
        r.elapsed.as_secs_f64()
    );
    if let Some(why) = &r.could_not_run {
        let _ = writeln!(s, "    <testcase classname=\"contract\" name=\"run\"><failure message=\"{}\"/></testcase>", xml(why));
    }
    for (check, field) in passing {
        let name = xml(&format!("{check}[{field}]"));
        let _ = writeln!(
            s,
            "    <testcase classname=\"{}\" name=\"{name}\"/>",
            xml(check)
        );
    }
    for (i, c) in causes.iter().enumerate() {
        junit_cause(&mut s, r, i + 1, c, secrets);
    }
    let _ = writeln!(s, "  </testsuite>\n</testsuites>");
    s
}

/// The JUnit case of one cause.
fn junit_cause(s: &mut String, r: &Report, n: usize, c: &Cause<'_>, secrets: &[&str]) {
    let kind = if !c.flaky() {
        "cause"
    } else if c.fails_run() {
        "flaky failure"
    } else {
        "flaky"
    };
    let name = xml(&format!(
        "{kind} {n}: {} ({}, {} operation(s))",
        c.check,
        class_text(c),
        c.operations.len()
    ));
    let _ = writeln!(
        s,
        "    <testcase classname=\"{}\" name=\"{name}\">",
        xml(c.check)
    );
    let mut body = String::new();
    let _ = writeln!(body, "{}", redact_text(&c.summary, secrets));
    let _ = writeln!(
        body,
        "{} failure(s); checks: {}; operations: {}",
        c.failures.len(),
        c.checks.join(", "),
        c.operations.join(", ")
    );
    for (op, v) in c.reproducers() {
        let (ex, how) = least(v);
        let answer = match &ex.outcome {
            Ok(a) => format!("{} {}", a.status, a.excerpt(200)),
            Err(f) => format!("no answer ({}): {}", f.kind, f.message),
        };
        let _ = writeln!(
            body,
            "{op} ({how}): {}\n  answer: {}",
            http::curl(&r.target, &ex.sent),
            redact_text(&answer, secrets)
        );
    }
    let mut message = xml(&redact_text(&c.summary, secrets));
    if kind == "flaky failure" {
        message = format!("flaky (sent again, it did not happen again): {message}");
    }
    if kind == "flaky" {
        let _ = writeln!(
            s,
            "      <skipped message=\"flaky: sent again, it did not happen again: {message}\"/>\n      <system-out>{}</system-out>",
            xml(&body)
        );
    } else {
        let _ = writeln!(
            s,
            "      <failure message=\"{message}\" type=\"{}\">{}</failure>",
            xml(c.check),
            xml(&body)
        );
    }
    let _ = writeln!(s, "    </testcase>");
}

/// A self-contained page: summary, coverage matrix (fields x rules, answers seen, coloured by
/// result) and every violation with its reproducer.
pub fn html(r: &Report, secrets: &[&str]) -> String {
    let e = |t: &str| xml(t);
    let mut rules: Vec<String> = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    for (f, rule) in r.coverage.keys() {
        if !fields.contains(f) {
            fields.push(f.clone());
        }
        if !rules.contains(rule) {
            rules.push(rule.clone());
        }
    }
    let order = |x: &String| {
        ["value", "null"]
            .iter()
            .position(|r| r == x)
            .unwrap_or_else(|| {
                2 + crate::mutate::RULES
                    .iter()
                    .position(|r| r == x)
                    .unwrap_or(99)
            })
    };
    rules.sort_by_key(order);
    let verdict = if r.could_not_run.is_some() {
        "could not run"
    } else if r.violations.is_empty() {
        "passed"
    } else {
        "failed"
    };
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Contract report: {verdict}</title>\n<style>\
body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}\
th,td{{border:1px solid #bbb;padding:4px 8px;font-size:13px;text-align:left;vertical-align:top}}\
th{{background:#eee}}td.ok{{background:#c8f0c8}}td.bad{{background:#f6b3b3}}td.warn{{background:#f8e6a0}}td.none{{background:#f4f4f4;color:#999}}\
pre{{background:#f6f6f6;padding:8px;white-space:pre-wrap;word-break:break-all}}.verdict-passed{{color:#176317}}.verdict-failed,.verdict-could{{color:#a11}}\
</style></head><body>\n<h1 class=\"verdict-{}\">Contract report: {verdict}</h1>\n",
        verdict.split(' ').next().unwrap_or("")
    );
    let _ = writeln!(
        s,
        "<p>Target <code>{}</code>, mode <b>{}</b>, seed {}, TLS {}; {} case(s) of {}, {} request(s) in {:.2} s ({:.0} req/s); {} failure(s) ({} violation(s)), {} warning(s).</p>",
        e(&r.target),
        r.mode,
        r.seed,
        if r.insecure { "<b>not verified (--insecure)</b>" } else { "verified" },
        r.cases,
        r.cases_planned,
        r.requests,
        r.elapsed.as_secs_f64(),
        r.requests_per_second(),
        r.failures().len(),
        r.violations.len(),
        r.warnings.len()
    );
    if let Some(why) = &r.could_not_run {
        let _ = writeln!(s, "<p><b>Could not run:</b> {}</p>", e(why));
    }
    let causes = triage::causes(r);
    if !causes.is_empty() {
        let _ = writeln!(s, "<h2>Causes</h2>\n<p>{} cause(s), most serious first: server errors, then authentication, then the resource's state, then conformance to the document. Each shows every operation it touched and, for each, the least request that fails the same way.</p>", causes.len());
        for (i, c) in causes.iter().enumerate() {
            let _ = writeln!(
                s,
                "<div class=\"cause\" id=\"cause-{}\"><h3>Cause {}: <code>{}</code> [{}{}] ({})</h3><p>{}</p><p>{} failure(s) on {} operation(s): {}. Checks broken: {}.{}</p>",
                i + 1,
                i + 1,
                c.check,
                if c.input { "input" } else { c.category.label() },
                if c.flaky() { ", flaky" } else { "" },
                e(&class_text(c)),
                e(&redact_text(&c.summary, secrets)),
                c.failures.len(),
                c.operations.len(),
                e(&c.operations.join(", ")),
                c.checks.join(", "),
                if c.parts.is_empty() {
                    String::new()
                } else {
                    format!(" Isolated: <code>{}</code>.", e(&c.parts.join(", ")))
                }
            );
            for (op, v) in c.reproducers() {
                let (ex, how) = least(v);
                let answer = match &ex.outcome {
                    Ok(a) => format!("{} {}", a.status, a.excerpt(EXCERPT)),
                    Err(f) => format!("no answer ({}): {}", f.kind, f.message),
                };
                let _ = writeln!(
                    s,
                    "<p><code>{}</code> ({}):</p><pre>{}\nanswer: {}</pre>",
                    e(op),
                    e(&how),
                    e(&http::curl(&r.target, &ex.sent)),
                    e(&redact_text(&answer, secrets))
                );
            }
            s.push_str("</div>\n");
        }
    }
    if !r.held.is_empty() {
        s.push_str("<h2>Held back</h2>\n<ul>");
        for h in &r.held {
            let _ = write!(
                s,
                "<li><code>{}</code>: {}</li>",
                e(&h.operation),
                e(&h.describe())
            );
        }
        s.push_str("</ul>\n");
    }
    let statuses = r.status_coverage();
    if statuses.documented > 0 {
        let _ = writeln!(
            s,
            "<h2>Documented statuses</h2>\n<p id=\"status-coverage\">provoked: {} of {}</p>",
            statuses.provoked, statuses.documented
        );
        if !statuses.missed.is_empty() {
            s.push_str("<table id=\"not-provoked\"><tr><th>operation</th><th>status</th><th>why not</th></tr>\n");
            for m in &statuses.missed {
                let _ = writeln!(
                    s,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                    e(&m.operation),
                    m.status,
                    e(&m.why)
                );
            }
            s.push_str("</table>\n");
        }
    }
    let _ = writeln!(s, "<h2>Coverage</h2>\n<p>Rows are fields, columns what was sent (a value, null, or a mutation breaking one rule); each cell lists the answers seen and how often. Red: a violation on that field and rule; yellow: a warning; green: exercised, no violation; grey: not exercised.</p>");
    let _ = writeln!(
        s,
        "<table id=\"coverage\"><tr><th>field</th>{}</tr>",
        rules
            .iter()
            .map(|r| format!("<th>{}</th>", e(r)))
            .collect::<String>()
    );
    for f in &fields {
        let _ = write!(s, "<tr><th>{}</th>", e(f));
        for rule in &rules {
            match r.coverage.get(&(f.clone(), rule.clone())) {
                None => s.push_str("<td class=\"none\">-</td>"),
                Some(answers) => {
                    let hit = |list: &Vec<Violation>| {
                        list.iter().any(|v| {
                            &v.field == f
                                && v.rule.is_none_or(|x| x == rule)
                                && (v.rule.is_some()
                                    || !crate::mutate::RULES.contains(&rule.as_str()))
                        })
                    };
                    let class = if hit(&r.violations) {
                        "bad"
                    } else if hit(&r.warnings) {
                        "warn"
                    } else {
                        "ok"
                    };
                    let text: Vec<String> = answers
                        .iter()
                        .map(|(st, n)| format!("{st}&times;{n}"))
                        .collect();
                    let _ = write!(s, "<td class=\"{class}\">{}</td>", text.join(" "));
                }
            }
        }
        s.push_str("</tr>\n");
    }
    if !r.verified.is_empty() {
        let _ = writeln!(s, "</table>\n<h2>Read back</h2>\n<p>For each field that reads back, each kind of value sent in an accepted update, and how many read-backs showed it applied. Green: verified; red: sent, never shown applied.</p>\n<table id=\"verified\"><tr><th>field</th><th>kind</th><th>sent</th><th>verified</th></tr>");
        for (f, kinds) in &r.verified {
            for (k, (sent, shown)) in kinds {
                let class = if *shown > 0 { "ok" } else { "bad" };
                let _ = writeln!(
                    s,
                    "<tr><th>{}</th><td>{}</td><td>{sent}</td><td class=\"{class}\">{shown}</td></tr>",
                    e(f),
                    e(k)
                );
            }
        }
    }
    s.push_str("</table>\n<h2>Checks</h2>\n<table id=\"checks\"><tr><th>check</th><th>asserts</th><th>judged</th><th>result</th></tr>\n");
    for c in checks::ALL {
        let n = r.per_check.get(c.name).copied().unwrap_or(0);
        let failed = violations_of(r, c.name);
        let (class, text) = if failed > 0 {
            ("bad", format!("{failed} violation(s)"))
        } else if n == 0 {
            ("none", "not run".into())
        } else {
            ("ok", "ok".into())
        };
        let _ = writeln!(s, "<tr><td><code>{}</code></td><td>{}</td><td>{n}</td><td class=\"{class}\">{text}</td></tr>", c.name, e(c.doc));
    }
    s.push_str("</table>\n");
    for (title, list) in [
        ("Failures", r.failures()),
        (
            "Flaky (sent again, not reproduced; not failing the run)",
            r.flaky_failures(),
        ),
        ("Warnings", runner::group(&r.warnings)),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s, "<h2>{title}</h2>");
        for f in &list {
            let v = f.first();
            let items: String = f
                .violations
                .iter()
                .map(|v| {
                    format!(
                        "<li><code>{}</code> on <code>{}</code>{}: {}</li>",
                        v.check.name,
                        e(&v.field),
                        rule_note(v),
                        e(&hide(&v.message, v, secrets))
                    )
                })
                .collect();
            let _ = writeln!(
                s,
                "<div class=\"violation\"><h3>{} <code>{}</code>: {}</h3><ul>{items}</ul><pre>sent: {} {} {}\nanswer: {}</pre><p>Reproduce:</p><pre>{}</pre><p>Seed {}.</p></div>",
                v.exchange.sent.method,
                e(&v.exchange.sent.path),
                f.checks().join(", "),
                v.exchange.sent.method,
                e(&v.exchange.sent.path),
                e(&body_text(v)),
                e(&answer_text(v, secrets)),
                e(&v.reproducer(&r.target)),
                v.seed
            );
        }
    }
    s.push_str("</body></html>\n");
    s
}

/// Writes a report file in `format` (`json`, `junit` or `html`).
pub fn write(
    format: &str,
    path: &std::path::Path,
    r: &Report,
    secrets: &[&str],
) -> std::io::Result<()> {
    let text = match format {
        "json" => serde_json::to_string_pretty(&json(r, secrets)).unwrap_or_default() + "\n",
        "junit" => junit(r, secrets),
        "html" => html(r, secrets),
        other => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("unknown report format `{other}`"),
            ))
        }
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

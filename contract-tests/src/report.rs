//! What a run tells people and machines: a text summary, and report files.

use crate::checks;
use crate::http::{self, redact_text};
use crate::runner::{self, Failure, Report, Violation};
use std::fmt::Write as _;

/// Bytes of an answer shown in a report.
pub const EXCERPT: usize = 500;

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
    for (i, f) in r.failures().iter().enumerate() {
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
    for w in &r.warnings {
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
    for why in &r.skipped {
        let _ = writeln!(s, "skipped: {why}");
    }
    if let Some(why) = &r.stopped_early {
        let _ = writeln!(s, "stopped early: {why}");
    }
    let _ = writeln!(
        s,
        "{} case(s) of {}, {} request(s) in {:.2} s ({:.0} req/s); {} failure(s) ({} violation(s)), {} warning(s){}",
        r.cases,
        r.cases_planned,
        r.requests,
        r.elapsed.as_secs_f64(),
        r.requests_per_second(),
        r.failures().len(),
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
        "request": {
            "method": v.exchange.sent.method,
            "path": v.exchange.sent.path,
            "body": body_text(v),
        },
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
    serde_json::json!({
        "checks": f.checks(),
        "violations": broke,
        "request": first["request"].take(),
        "answer": first["answer"].take(),
        "curl": first["curl"].take(),
        "seed": v.seed,
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

/// JUnit XML: one passing test case per check and field judged without a violation, one failing
/// case per failure (every check its request broke, and the reproducer), and one skipped case per
/// flaky finding.
pub fn junit(r: &Report, secrets: &[&str]) -> String {
    let failures = r.failures();
    let flaky = r.flaky_failures();
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
    let flaky_failing = flaky
        .iter()
        .filter(|f| f.first().fails_when_flaky())
        .count();
    let failed = failures.len() + usize::from(r.could_not_run.is_some()) + flaky_failing;
    let tests = (passing.len() + failed + flaky.len() - flaky_failing).max(1);
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"contract\" tests=\"{tests}\" failures=\"{failed}\" skipped=\"{}\" time=\"{:.3}\">",
        flaky.len() - flaky_failing,
        r.elapsed.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"{} ({} mode, seed {})\" tests=\"{tests}\" failures=\"{failed}\" skipped=\"{}\" time=\"{:.3}\">",
        xml(&r.title),
        r.mode,
        r.seed,
        flaky.len() - flaky_failing,
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
    for (i, f) in failures.iter().enumerate() {
        junit_case(&mut s, r, i + 1, f, "failure", secrets);
    }
    for (i, f) in flaky.iter().enumerate() {
        let kind = if f.first().fails_when_flaky() {
            "flaky failure"
        } else {
            "flaky"
        };
        junit_case(&mut s, r, i + 1, f, kind, secrets);
    }
    let _ = writeln!(s, "  </testsuite>\n</testsuites>");
    s
}

/// A failing (or, for `flaky`, skipped) JUnit case for one failure.
fn junit_case(s: &mut String, r: &Report, n: usize, f: &Failure<'_>, kind: &str, secrets: &[&str]) {
    let v = f.first();
    let name = xml(&format!(
        "{kind} {n}: {} {} ({})",
        v.exchange.sent.method,
        v.exchange.sent.path,
        f.checks().join(", ")
    ));
    let _ = writeln!(
        s,
        "    <testcase classname=\"{}\" name=\"{name}\">",
        xml(v.check.name)
    );
    let mut body = String::new();
    for v in &f.violations {
        let _ = writeln!(body, "{}", broke(v, secrets));
    }
    let _ = write!(
        body,
        "sent: {} {} {}\nanswer: {}\nreproduce: {}\nseed: {}",
        v.exchange.sent.method,
        v.exchange.sent.path,
        body_text(v),
        answer_text(v, secrets),
        v.reproducer(&r.target),
        v.seed
    );
    let mut message = xml(&hide(&v.message, v, secrets));
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
            xml(v.check.name),
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

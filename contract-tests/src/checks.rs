//! The checks: small named predicates, each with a one-line doc. A check returns `Err(message)`
//! when the answer breaks it.

use crate::http::{Answer, Exchange};
use crate::judge;
use crate::meta::{Operation, Schema, Shape};
use crate::mutate::Mutation;
use serde_json::Value;

/// A check's name and what it asserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Check {
    pub name: &'static str,
    pub doc: &'static str,
}

/// No answer is a 5xx.
pub const NOT_A_SERVER_ERROR: Check = Check {
    name: "not_a_server_error",
    doc: "no request, valid or not, gets a 5xx",
};
/// A valid request is never refused as invalid.
pub const POSITIVE_DATA_ACCEPTANCE: Check = Check {
    name: "positive_data_acceptance",
    doc: "a valid request is not refused: never a 422, nor another 4xx the operation does not document (401/403, 409, 429, and a 404 for an id the run did not make aside)",
};
/// An invalid request is refused.
pub const NEGATIVE_DATA_REJECTION: Check = Check {
    name: "negative_data_rejection",
    doc: "a request that breaks the schema is refused with a 4xx (whether that status is documented is status_code_conformance's verdict)",
};
/// A 422 says which field is wrong.
pub const VALIDATION_ERROR_NAMES_FIELD: Check = Check {
    name: "validation_error_names_field",
    doc: "a 422 is an HTTPValidationError and some `loc` names the broken field",
};
/// Every status is documented.
pub const STATUS_CODE_CONFORMANCE: Check = Check {
    name: "status_code_conformance",
    doc: "every answer's status is documented for the operation",
};
/// Every body matches its documented schema.
pub const RESPONSE_SCHEMA_CONFORMANCE: Check = Check {
    name: "response_schema_conformance",
    doc: "every answer's body matches the schema documented for its status",
};
/// A body documented as JSON comes as JSON.
pub const CONTENT_TYPE_CONFORMANCE: Check = Check {
    name: "content_type_conformance",
    doc: "an answer whose documented body is JSON has a JSON `Content-Type`",
};
/// PATCH changes what was sent and nothing else.
pub const PATCH_SEMANTICS: Check = Check {
    name: "patch_semantics",
    doc: "read back, fields set took their value, nulls were cleared, fields left out kept theirs",
};
/// Credentials are required.
pub const IGNORED_AUTH: Check = Check {
    name: "ignored_auth",
    doc: "a secured operation is not served without its credential, with a wrong one, or with a near miss of it (empty, truncated, one character more, case changed)",
};
/// Rejected requests change nothing.
pub const REJECTION_CHANGES_NOTHING: Check = Check {
    name: "rejection_changes_nothing",
    doc: "after a run of rejected bodies the CVM reads back exactly as before",
};
/// The on-chain header flows work.
pub const HEADER_FLOWS: Check = Check {
    name: "header_flows",
    doc: "the two-phase flow the spec describes (`x-two-phase`) answers as documented",
};
/// Secrets are not echoed.
pub const NO_SECRET_ECHO: Check = Check {
    name: "no_secret_echo",
    doc: "no answer echoes the API key or the value of a secret field (`format: password`, `writeOnly`)",
};
/// An id that does not exist is not found.
pub const UNKNOWN_ID_NOT_FOUND: Check = Check {
    name: "unknown_id_not_found",
    doc: "a request for an id that does not exist gets the documented 404 and changes nothing",
};
/// A created resource is there.
pub const ENSURE_RESOURCE_AVAILABILITY: Check = Check {
    name: "ensure_resource_availability",
    doc: "a created resource can be read and listed, and shows what it was created with",
};
/// A deleted resource is gone.
pub const USE_AFTER_FREE: Check = Check {
    name: "use_after_free",
    doc: "after a delete, the resource reads and deletes as 404 or 410, and is not listed",
};
/// A list read page by page holds each item once, and the same items whatever the page size.
pub const PAGINATION_CONSISTENCY: Check = Check {
    name: "pagination_consistency",
    doc: "a list read page by page (as its parameters and answers say it pages) holds each item once, and the same items with a small page size as with a large one",
};
/// One user cannot reach another's resources.
pub const OBJECT_LEVEL_AUTHORIZATION: Check = Check {
    name: "object_level_authorization",
    doc: "a resource one key created can be neither read, changed nor deleted with another key",
};
/// Documented answer headers are there and well formed.
pub const RESPONSE_HEADERS_CONFORMANCE: Check = Check {
    name: "response_headers_conformance",
    doc: "an answer carries every header the document requires of it, and each documented header it carries matches its schema",
};
/// A required header left out is refused.
pub const MISSING_REQUIRED_HEADER: Check = Check {
    name: "missing_required_header",
    doc: "a request without one of its required header parameters gets a 4xx",
};
/// A method the document does not give for a path is not allowed.
pub const UNSUPPORTED_METHOD: Check = Check {
    name: "unsupported_method",
    doc: "a method the document does not give for a path gets 405 Method Not Allowed",
};
/// A 405 says what is allowed.
pub const ALLOW_HEADER_CONFORMANCE: Check = Check {
    name: "allow_header_conformance",
    doc: "a 405 carries `Allow`, naming every method the document gives for the path and not the one refused",
};
/// Answers come in time (`--max-response-time`).
pub const MAX_RESPONSE_TIME: Check = Check {
    name: "max_response_time",
    doc: "every answer comes within --max-response-time",
};
/// The credential given works somewhere.
pub const MISSING_AUTH: Check = Check {
    name: "missing_auth",
    doc: "some secured operation accepts the credential given; when every one answers 401 or 403, it is missing or wrong (one finding, not one per operation)",
};
/// The target answers at all.
pub const TARGET_ANSWERS: Check = Check {
    name: "target_answers",
    doc: "every request gets a complete answer within the timeout",
};

/// Conditional requests do what RFC 9110 says, where the document declares them.
pub const CONDITIONAL_REQUESTS: Check = Check {
    name: "conditional_requests",
    doc: "where the document declares them: a stale `If-Match` gets 412 and changes nothing, a current one is obeyed, a current `If-None-Match` on a read gets 304, and the `ETag` changes when the item does",
};

/// A value the document marks unique is not given twice.
pub const UNIQUE_VALUES: Check = Check {
    name: "unique_values",
    doc: "a create that repeats the value of a field whose description says it is unique is refused (the document's 409), and makes no second item",
};

/// A nested item belongs to its parent.
pub const NESTED_RESOURCES: Check = Check {
    name: "nested_resources",
    doc: "an item of a nested collection is reached only under its own parent, and is gone once its parent is deleted",
};

/// Every check, in report order.
pub const ALL: [Check; 27] = [
    NOT_A_SERVER_ERROR,
    POSITIVE_DATA_ACCEPTANCE,
    NEGATIVE_DATA_REJECTION,
    VALIDATION_ERROR_NAMES_FIELD,
    STATUS_CODE_CONFORMANCE,
    RESPONSE_SCHEMA_CONFORMANCE,
    CONTENT_TYPE_CONFORMANCE,
    PATCH_SEMANTICS,
    IGNORED_AUTH,
    REJECTION_CHANGES_NOTHING,
    HEADER_FLOWS,
    NO_SECRET_ECHO,
    UNKNOWN_ID_NOT_FOUND,
    ENSURE_RESOURCE_AVAILABILITY,
    USE_AFTER_FREE,
    PAGINATION_CONSISTENCY,
    OBJECT_LEVEL_AUTHORIZATION,
    CONDITIONAL_REQUESTS,
    UNIQUE_VALUES,
    NESTED_RESOURCES,
    RESPONSE_HEADERS_CONFORMANCE,
    MISSING_REQUIRED_HEADER,
    UNSUPPORTED_METHOD,
    ALLOW_HEADER_CONFORMANCE,
    MAX_RESPONSE_TIME,
    MISSING_AUTH,
    TARGET_ANSWERS,
];

pub type Verdict = Result<(), String>;

/// Everything a check judges one answer with: the document, the operation, the answer, the
/// mutation the request carried (none for a valid request) and the secrets it carried.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    pub schema: &'a Schema,
    pub op: &'a Operation,
    pub answer: &'a Answer,
    /// The rule the request broke; `None` for a valid request.
    pub mutation: Option<&'a Mutation>,
    /// The API key and the secret fields' values the request carried.
    pub secrets: &'a [&'a str],
    /// The statuses the user added to what each check accepts.
    pub expected: &'a Expected,
    /// Whether every id in the request's path names an item the run made or was given (a 404
    /// to a drawn id is no refusal of valid data).
    pub known_ids: bool,
}

/// Statuses a user adds to those a check accepts, for every operation or for one:
/// `--expected-statuses CHECK[:OPERATION]=CODES` (CODES such as `404,409,4XX`) or the config
/// file's `[checks.CHECK] expected-statuses` and `[[operations]]` tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    rules: Vec<ExpectedRule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ExpectedRule {
    check: String,
    /// An operationId, a client method name, or `METHOD /template`; `None` for every operation.
    operation: Option<String>,
    /// Exact codes, and classes (`4XX` as 4).
    codes: Vec<u16>,
    classes: Vec<u16>,
}

/// The checks whose accepted statuses a user can widen.
pub const WIDENED: [Check; 4] = [
    POSITIVE_DATA_ACCEPTANCE,
    NEGATIVE_DATA_REJECTION,
    STATUS_CODE_CONFORMANCE,
    MISSING_REQUIRED_HEADER,
];

impl Expected {
    /// Adds `CHECK[:OPERATION]=CODES`.
    pub fn add_arg(&mut self, arg: &str) -> Result<(), String> {
        let (lhs, codes) = arg.split_once('=').ok_or_else(|| {
            format!("--expected-statuses takes CHECK[:OPERATION]=CODES, not `{arg}`")
        })?;
        let (check, op) = match lhs.split_once(':') {
            Some((c, o)) => (c.trim(), Some(o.trim().to_string())),
            None => (lhs.trim(), None),
        };
        let codes: Vec<String> = codes.split(',').map(|c| c.trim().to_string()).collect();
        self.add(check, op, &codes)
    }

    /// Adds `codes` (`404`, `4XX`) to what `check` accepts, on `operation` or on every one.
    pub fn add(
        &mut self,
        check: &str,
        operation: Option<String>,
        codes: &[String],
    ) -> Result<(), String> {
        if !WIDENED.iter().any(|c| c.name == check) {
            let names: Vec<&str> = WIDENED.iter().map(|c| c.name).collect();
            return Err(format!(
                "`{check}` takes no expected statuses; these do: {}",
                names.join(", ")
            ));
        }
        let mut rule = ExpectedRule {
            check: check.to_string(),
            operation,
            codes: Vec::new(),
            classes: Vec::new(),
        };
        for c in codes.iter().filter(|c| !c.is_empty()) {
            let upper = c.to_ascii_uppercase();
            match upper.strip_suffix("XX").map(str::parse::<u16>) {
                Some(Ok(k)) if (1..=5).contains(&k) => rule.classes.push(k),
                Some(_) => return Err(format!("`{c}` is not a status class (1XX to 5XX)")),
                None => match upper.parse::<u16>() {
                    Ok(n) if (100..=599).contains(&n) => rule.codes.push(n),
                    _ => return Err(format!("`{c}` is not an HTTP status")),
                },
            }
        }
        if rule.codes.is_empty() && rule.classes.is_empty() {
            return Err(format!("no status given for `{check}`"));
        }
        self.rules.push(rule);
        Ok(())
    }

    /// Whether the user added `status` to what `check` accepts on `op`.
    pub fn allows(&self, check: Check, op: &Operation, status: u16) -> bool {
        self.rules.iter().any(|r| {
            r.check == check.name
                && r.operation.as_deref().is_none_or(|o| names(op, o))
                && (r.codes.contains(&status) || r.classes.contains(&(status / 100)))
        })
    }

    /// The operations the rules name that the document lacks.
    pub fn unknown_operations(&self, schema: &Schema) -> Vec<String> {
        self.rules
            .iter()
            .filter_map(|r| r.operation.as_ref())
            .filter(|o| !schema.operations.values().any(|op| names(op, o)))
            .cloned()
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// Whether `name` names `op`: its operationId, its client method name, or `METHOD /template`.
fn names(op: &Operation, name: &str) -> bool {
    op.operation_id.as_deref() == Some(name)
        || op.name == name
        || name
            .split_once(' ')
            .is_some_and(|(m, p)| m.eq_ignore_ascii_case(&op.method) && p == op.path)
}

/// A check's predicate: one signature for all.
pub type Predicate = fn(&Seen<'_>) -> Verdict;

/// Which answers a check judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// Every answer.
    Every,
    /// Answers to valid requests.
    Valid,
    /// Answers to requests that break a rule.
    Invalid,
}

/// The checks that judge one answer on its own, in the order they run. The checks that need the
/// resource's state (`patch_semantics`, `ignored_auth`, `rejection_changes_nothing`,
/// `header_flows`, `unknown_id_not_found`) are judged by the stateful suite's phases, and
/// `target_answers` by whether an answer came at all.
pub const REGISTRY: [(Check, Applies, Predicate); 10] = [
    (NOT_A_SERVER_ERROR, Applies::Every, not_a_server_error),
    (
        STATUS_CODE_CONFORMANCE,
        Applies::Every,
        status_code_conformance,
    ),
    (
        RESPONSE_SCHEMA_CONFORMANCE,
        Applies::Every,
        response_schema_conformance,
    ),
    (
        CONTENT_TYPE_CONFORMANCE,
        Applies::Every,
        content_type_conformance,
    ),
    (NO_SECRET_ECHO, Applies::Every, no_secret_echo),
    (
        RESPONSE_HEADERS_CONFORMANCE,
        Applies::Every,
        response_headers_conformance,
    ),
    (
        POSITIVE_DATA_ACCEPTANCE,
        Applies::Valid,
        positive_data_acceptance,
    ),
    (
        NEGATIVE_DATA_REJECTION,
        Applies::Invalid,
        negative_data_rejection,
    ),
    (
        VALIDATION_ERROR_NAMES_FIELD,
        Applies::Invalid,
        validation_error_names_field,
    ),
    (
        MISSING_REQUIRED_HEADER,
        Applies::Invalid,
        missing_required_header,
    ),
];

/// Checks of a framework's convention rather than of the document (FastAPI's `loc` naming the
/// field): the stateful suite holds `spec/` to them, a probe of any document does not.
pub const CONVENTIONS: [Check; 1] = [VALIDATION_ERROR_NAMES_FIELD];

/// The registered checks of `applies` judged on `seen`, each with its verdict (judged as the
/// iterator is read: nothing is collected on the way).
pub fn judge<'s>(
    seen: &'s Seen<'s>,
    applies: Applies,
) -> impl Iterator<Item = (Check, Verdict)> + 's {
    REGISTRY
        .iter()
        .filter(move |(_, a, _)| *a == applies)
        .map(move |(c, _, p)| (*c, p(seen)))
}

/// The checks every answer gets besides the registry's, which need more than one answer shows:
/// `allow_header_conformance` on a 405 (the path's documented methods), and, with
/// `--max-response-time`, `max_response_time`.
pub fn judge_more(
    schema: &Schema,
    op: &Operation,
    a: &Answer,
    limit: Option<std::time::Duration>,
) -> Vec<(Check, Verdict)> {
    let mut out = Vec::new();
    if a.status == 405 {
        out.push((
            ALLOW_HEADER_CONFORMANCE,
            allow_header_conformance(schema, &op.path, &op.method, a),
        ));
    }
    if let Some(limit) = limit {
        out.push((MAX_RESPONSE_TIME, max_response_time(a, limit)));
    }
    out
}

pub fn target_answers(e: &Exchange) -> Verdict {
    match &e.outcome {
        Ok(_) => Ok(()),
        Err(f) => Err(format!("no answer ({}): {}", f.kind, f.message)),
    }
}

pub fn not_a_server_error(s: &Seen<'_>) -> Verdict {
    if s.answer.status >= 500 {
        Err(format!("answered {}", s.answer.status))
    } else {
        Ok(())
    }
}

/// Every status is documented (a `default` answer or a range counts), for valid and invalid
/// requests alike: this check alone says whether a refusal's status is one the document gives.
pub fn status_code_conformance(s: &Seen<'_>) -> Verdict {
    let (op, a) = (s.op, s.answer);
    if s.expected.allows(STATUS_CODE_CONFORMANCE, op, a.status) {
        return Ok(());
    }
    match op.response(a.status) {
        Some(_) => Ok(()),
        None => Err(format!(
            "status {} is not documented for {} {}",
            a.status, op.method, op.path
        )),
    }
}

pub fn response_schema_conformance(s: &Seen<'_>) -> Verdict {
    let (op, a) = (s.op, s.answer);
    let Some(doc) = op.response(a.status) else {
        return Ok(());
    };
    let Some(shape) = &doc.body else {
        return Ok(());
    };
    // HTTP forbids a body on 204 and 304, whatever the document says.
    if matches!(a.status, 204 | 304) && a.body.is_empty() {
        return Ok(());
    }
    if a.truncated {
        return Err(format!(
            "the {} body is larger than the read limit",
            a.status
        ));
    }
    let Ok(v) = serde_json::from_slice::<Value>(&a.body) else {
        return Err(format!("the {} body is not JSON", a.status));
    };
    let problems = judge::check(s.schema, &v, shape);
    match problems.first() {
        None => Ok(()),
        Some(p) => Err(format!(
            "the {} body breaks its schema at {} ({})",
            a.status,
            p.dotted(),
            p.rule
        )),
    }
}

/// An answer whose status documents a JSON body, and that has a body, says it is JSON: its
/// `Content-Type` is `application/json` or a `+json` type (parameters such as `charset` aside).
pub fn content_type_conformance(s: &Seen<'_>) -> Verdict {
    let a = s.answer;
    let documented_json = s.op.response(a.status).is_some_and(|r| r.body.is_some());
    if !documented_json || a.body.is_empty() {
        return Ok(());
    }
    let essence = a
        .content_type
        .as_deref()
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some(t) if t == "application/json" || t.ends_with("+json") => Ok(()),
        Some(t) => Err(format!(
            "the {} answer is `{t}`, where the document gives a JSON body",
            a.status
        )),
        None => Err(format!(
            "the {} answer has no Content-Type, where the document gives a JSON body",
            a.status
        )),
    }
}

/// A valid request is not refused: not with a 422, not with a 400 the operation does not
/// document for a reason of its own, and not with any other 4xx it does not document (a range or
/// `default` documents it). Beside the
/// statuses a user adds, these are no refusal of the data: 401 and 403 (the credential's
/// business: `ignored_auth`, `missing_auth`), 409 (a conflict with the state), 429 (a rate
/// limit), and a 404 or 410 to a request whose path names an id the run did not make. Whether a
/// status is documented at all is `status_code_conformance`'s verdict; a 5xx is
/// `not_a_server_error`'s. An operation that documents no success cannot be held to one.
pub fn positive_data_acceptance(s: &Seen<'_>) -> Verdict {
    let (op, a) = (s.op, s.answer);
    let succeeds = op
        .responses
        .iter()
        .any(|r| r.status / 100 == 2 || r.status == 0);
    if !succeeds
        || !(400..500).contains(&a.status)
        || s.expected.allows(POSITIVE_DATA_ACCEPTANCE, op, a.status)
    {
        return Ok(());
    }
    // A 400 must be documented as itself; another status may be by a range or `default`.
    let exactly = |code: u16| op.responses.iter().any(|r| r.status == code && !r.range);
    let excused = match a.status {
        401 | 403 | 409 | 429 => true,
        422 => false,
        400 => exactly(400),
        404 | 410 if !s.known_ids => true,
        other => op.response(other).is_some(),
    };
    if excused {
        Ok(())
    } else {
        Err(format!(
            "a valid request got {}: {}",
            a.status,
            a.excerpt(300)
        ))
    }
}

/// A request that breaks a rule is refused with a 4xx, any of them (and any status the user
/// adds): the document cannot list every way of refusing, and whether the status is documented is
/// `status_code_conformance`'s verdict.
pub fn negative_data_rejection(s: &Seen<'_>) -> Verdict {
    let Some(m) = s.mutation else { return Ok(()) };
    // A required header left out is `missing_required_header`'s to judge.
    if missing_header(m).is_some() {
        return Ok(());
    }
    let status = s.answer.status;
    if (400..500).contains(&status) || s.expected.allows(NEGATIVE_DATA_REJECTION, s.op, status) {
        Ok(())
    } else {
        Err(format!(
            "a request breaking `{}` at {} got {status}, not a 4xx",
            m.rule, m.field
        ))
    }
}

/// The header a mutation left out, when it left out a required header parameter.
fn missing_header(m: &Mutation) -> Option<&str> {
    match m.path.as_slice() {
        [place, name] if m.rule == "missing_required" && place == "header" => name.as_str(),
        _ => None,
    }
}

/// A request without a required header parameter is refused with a 4xx (any: the document
/// cannot list every way of refusing, and a 401 or 400 is as right as a 422).
pub fn missing_required_header(s: &Seen<'_>) -> Verdict {
    let Some(name) = s.mutation.and_then(missing_header) else {
        return Ok(());
    };
    let status = s.answer.status;
    if (400..500).contains(&status) || s.expected.allows(MISSING_REQUIRED_HEADER, s.op, status) {
        Ok(())
    } else {
        Err(format!(
            "a request without its required header `{name}` got {status}, not a 4xx"
        ))
    }
}

/// The header's value as JSON of its shape's type: headers are text, so a number, a boolean or
/// a list is read from it first. `None` when the text is not of that type at all.
fn header_value(text: &str, shape: &Shape) -> Option<Value> {
    let text = text.trim();
    match shape {
        Shape::Nullable { inner } => header_value(text, inner),
        Shape::Integer { .. } => text.parse::<i64>().ok().map(Value::from),
        Shape::Number { .. } => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        Shape::Boolean => match text {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        Shape::Array { items, .. } => text
            .split(',')
            .map(|t| header_value(t, items))
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        _ => Some(Value::String(text.to_string())),
    }
}

/// An answer carries every header its documented answer requires, and each documented header
/// it carries reads as the header's schema says.
pub fn response_headers_conformance(s: &Seen<'_>) -> Verdict {
    let Some(doc) = s.op.response(s.answer.status) else {
        return Ok(());
    };
    let mut problems = Vec::new();
    for h in &doc.headers {
        match (s.answer.header(&h.name), &h.shape) {
            (None, _) if h.required => problems.push(format!("`{}` is missing", h.name)),
            (Some(text), Some(shape)) => match header_value(text, shape) {
                None => problems.push(format!("`{}: {text}` is not of its schema's type", h.name)),
                Some(v) => {
                    if let Some(p) = judge::check(s.schema, &v, shape).first() {
                        problems.push(format!(
                            "`{}: {text}` breaks its schema ({})",
                            h.name, p.rule
                        ));
                    }
                }
            },
            _ => {}
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the {} answer's headers: {}",
            s.answer.status,
            problems.join("; ")
        ))
    }
}

/// The methods the document gives for a path template.
pub fn methods_of(schema: &Schema, path: &str) -> Vec<String> {
    let mut out: Vec<String> = schema
        .operations
        .values()
        .filter(|o| o.path == path)
        .map(|o| o.method.to_ascii_uppercase())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether two path templates can name the same address: as many segments, and each pair the
/// same literal or at least one a parameter (`/jobs/batch-stop` and `/jobs/{job_id}`).
pub fn templates_overlap(a: &str, b: &str) -> bool {
    let param = |s: &str| s.starts_with('{') && s.ends_with('}');
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split('/').collect(), b.split('/').collect());
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x == y || param(x) || param(y))
}

/// The methods the document gives for any template that can name the same address as `path`:
/// a method one of them has is not unsupported there, whichever the server matches.
pub fn methods_of_overlapping(schema: &Schema, path: &str) -> Vec<String> {
    let mut out: Vec<String> = schema
        .operations
        .values()
        .filter(|o| templates_overlap(&o.path, path))
        .map(|o| o.method.to_ascii_uppercase())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A method the document does not give for the path is answered 405.
pub fn unsupported_method(method: &str, a: &Answer) -> Verdict {
    if a.status == 405 {
        Ok(())
    } else {
        Err(format!(
            "{method}, which the document does not give for this path, got {}, not 405",
            a.status
        ))
    }
}

/// A 405 carries `Allow`, which names every method the document gives for the path (`path`, a
/// template) and not `refused`, the method it refused. Other methods it may name (`HEAD`,
/// `OPTIONS`) are the server's own business.
pub fn allow_header_conformance(schema: &Schema, path: &str, refused: &str, a: &Answer) -> Verdict {
    if a.status != 405 {
        return Ok(());
    }
    let Some(allow) = a.header("allow") else {
        return Err("the 405 has no `Allow` header".into());
    };
    let named: Vec<String> = allow
        .split(',')
        .map(|m| m.trim().to_ascii_uppercase())
        .filter(|m| !m.is_empty())
        .collect();
    let documented = methods_of(schema, path);
    let missing: Vec<&String> = documented.iter().filter(|m| !named.contains(m)).collect();
    if !missing.is_empty() {
        let missing: Vec<&str> = missing.iter().map(|m| m.as_str()).collect();
        return Err(format!(
            "`Allow: {allow}` leaves out {}, which the document gives for {path}",
            missing.join(", ")
        ));
    }
    if named.iter().any(|m| m.eq_ignore_ascii_case(refused)) {
        return Err(format!(
            "`Allow: {allow}` names {refused}, the method it refused"
        ));
    }
    Ok(())
}

/// An answer came within `limit`.
pub fn max_response_time(a: &Answer, limit: std::time::Duration) -> Verdict {
    if a.elapsed <= limit {
        Ok(())
    } else {
        Err(format!(
            "answered in {:.0} ms, over the limit of {:.0} ms",
            a.elapsed.as_secs_f64() * 1000.0,
            limit.as_secs_f64() * 1000.0
        ))
    }
}

/// A 422 names the broken field, where the document's 422 is a list of errors with locations
/// (FastAPI's `HTTPValidationError`: `detail[].loc`).
pub fn validation_error_names_field(s: &Seen<'_>) -> Verdict {
    let (Some(m), a) = (s.mutation, s.answer) else {
        return Ok(());
    };
    if a.status != 422 || !lists_locations(s.schema, s.op) {
        return Ok(());
    }
    // A parameter's mutation names no body field.
    if m.path
        .first()
        .and_then(Value::as_str)
        .is_some_and(|p| p == "query" || p == "header")
    {
        return Ok(());
    }
    let Some(v) = a.json() else {
        return Err("the 422 body is not JSON".into());
    };
    let Some(items) = v.get("detail").and_then(Value::as_array) else {
        return Err("the 422 body has no `detail` list".into());
    };
    let mut want = vec![Value::String("body".into())];
    want.extend(m.path.iter().cloned());
    let names_it = items.iter().any(|i| {
        i.get("loc")
            .and_then(Value::as_array)
            .is_some_and(|loc| loc.len() >= want.len() && loc[..want.len()] == want[..])
    });
    if names_it {
        Ok(())
    } else {
        let locs: Vec<String> = items
            .iter()
            .filter_map(|i| i.get("loc").map(Value::to_string))
            .collect();
        Err(format!(
            "no `loc` starts with {}; got {}",
            Value::Array(want),
            locs.join(", ")
        ))
    }
}

/// Whether the operation's documented 422 is a `detail` list of errors with a `loc` each.
fn lists_locations(schema: &Schema, op: &Operation) -> bool {
    let Some(Shape::Object { name }) = op
        .responses
        .iter()
        .find(|r| r.status == 422 && !r.range)
        .and_then(|r| r.body.as_ref())
    else {
        return false;
    };
    let Some(detail) = schema.object(name).and_then(|o| o.field("detail")) else {
        return false;
    };
    let items = match &detail.shape {
        Shape::Array { items, .. } => items.as_ref(),
        Shape::Nullable { inner } => match inner.as_ref() {
            Shape::Array { items, .. } => items.as_ref(),
            _ => return false,
        },
        _ => return false,
    };
    matches!(items, Shape::Object { name } if schema.object(name).is_some_and(|o| o.field("loc").is_some()))
}

pub fn no_secret_echo(s: &Seen<'_>) -> Verdict {
    let text = String::from_utf8_lossy(&s.answer.body);
    match s
        .secrets
        .iter()
        .find(|x| x.len() >= 4 && text.contains(**x))
    {
        Some(_) => Err("the answer echoes a secret sent in the request".into()),
        None => Ok(()),
    }
}

/// The values of `body`'s secret fields (`fields`) an answer must not echo: each string one,
/// unless another field of the request carries the same string (an echo of that field is not
/// the secret's).
pub fn secret_values<'b>(
    body: &'b Value,
    fields: impl IntoIterator<Item = &'b str>,
) -> Vec<&'b str> {
    let Some(o) = body.as_object() else {
        return Vec::new();
    };
    fields
        .into_iter()
        .filter_map(|f| Some((f, o.get(f)?.as_str()?)))
        .filter(|(f, secret)| {
            !o.iter()
                .any(|(k, x)| k != f && (k.contains(secret) || carries(x, secret)))
        })
        .map(|(_, secret)| secret)
        .collect()
}

/// Whether `needle` occurs in any string or key of `v`.
pub fn carries(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => s.contains(needle),
        Value::Array(a) => a.iter().any(|x| carries(x, needle)),
        Value::Object(o) => o
            .iter()
            .any(|(k, x)| k.contains(needle) || carries(x, needle)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn answer(status: u16, body: Value) -> Answer {
        Answer {
            status,
            content_type: Some("application/json".into()),
            retry_after: None,
            body: serde_json::to_vec(&body).unwrap(),
            truncated: false,
            elapsed: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    fn mutation(path: Vec<Value>) -> Mutation {
        Mutation {
            rule: "below_minimum",
            field: "x".into(),
            path,
            body: json!({}),
            coercible: false,
        }
    }

    static NONE: std::sync::LazyLock<Expected> = std::sync::LazyLock::new(Expected::default);

    fn seen<'a>(a: &'a Answer, m: Option<&'a Mutation>, secrets: &'a [&'a str]) -> Seen<'a> {
        Seen {
            schema: crate::meta::schema(),
            op: crate::spec::update_op(),
            answer: a,
            mutation: m,
            secrets,
            expected: &NONE,
            known_ids: true,
        }
    }

    #[test]
    fn each_check_passes_and_fails() {
        let v = |status: u16, body: Value| answer(status, body);
        assert!(not_a_server_error(&seen(&v(503, json!({})), None, &[])).is_err());
        // A status of the spec's own (the two-phase flow's) is documented, and not a 5xx.
        let own = crate::spec::update_op()
            .responses
            .iter()
            .map(|r| r.status)
            .find(|s| *s > 451)
            .expect("the spec documents a status of its own");
        assert!(not_a_server_error(&seen(&v(own, json!({})), None, &[])).is_ok());
        assert!(status_code_conformance(&seen(&v(own, json!({})), None, &[])).is_ok());
        assert!(status_code_conformance(&seen(&v(200, json!({})), None, &[])).is_err());
        let ok = v(202, json!({"correlation_id": "c"}));
        assert!(response_schema_conformance(&seen(&ok, None, &[])).is_ok());
        let e = response_schema_conformance(&seen(&v(202, json!({"status": "ok"})), None, &[]))
            .unwrap_err();
        assert!(e.contains("correlation_id (required)"), "{e}");
        assert!(positive_data_acceptance(&seen(&v(422, json!({})), None, &[])).is_err());
        let busy = v(409, json!({"detail": "busy"}));
        assert!(positive_data_acceptance(&seen(&busy, None, &[])).is_ok());
        let m = mutation(vec![json!("shutdown_timeout")]);
        assert!(negative_data_rejection(&seen(&v(202, json!({})), Some(&m), &[])).is_err());
        // Any 4xx refuses: whether it is documented is status_code_conformance's verdict, for
        // an invalid request as for a valid one.
        let teapot = v(418, json!({}));
        assert!(negative_data_rejection(&seen(&teapot, Some(&m), &[])).is_ok());
        assert!(status_code_conformance(&seen(&teapot, Some(&m), &[])).is_err());
        // A 404 to an id the run made is a refusal (spec/ documents it, so not here); an
        // undocumented 4xx is one; to a drawn id a 404 is not.
        assert!(positive_data_acceptance(&seen(&v(404, json!({})), None, &[])).is_ok());
        assert!(positive_data_acceptance(&seen(&teapot, None, &[])).is_err());
        let mut drawn = seen(&teapot, None, &[]);
        drawn.known_ids = false;
        assert!(
            positive_data_acceptance(&drawn).is_err(),
            "only a 404 or 410 is excused"
        );
        // Whether a status is documented is not this check's to say.
        assert!(positive_data_acceptance(&seen(&v(200, json!({})), None, &[])).is_ok());
        let good =
            json!({"detail": [{"loc": ["body", "shutdown_timeout"], "msg": "m", "type": "t"}]});
        assert!(validation_error_names_field(&seen(&v(422, good), Some(&m), &[])).is_ok());
        let other = json!({"detail": [{"loc": ["body", "vcpu"], "msg": "m", "type": "t"}]});
        assert!(validation_error_names_field(&seen(&v(422, other), Some(&m), &[])).is_err());
        let plain = v(422, json!({"message": "bad"}));
        assert!(validation_error_names_field(&seen(&plain, Some(&m), &[])).is_err());
        let echo = v(202, json!({"e": "s3cr3t-value"}));
        assert!(no_secret_echo(&seen(&echo, None, &["s3cr3t-value"])).is_err());
    }

    #[test]
    fn a_user_widens_what_a_check_accepts_per_operation() {
        let mut e = Expected::default();
        e.add_arg("positive_data_acceptance:update_cvm=418,5XX")
            .unwrap();
        e.add_arg("status_code_conformance=418").unwrap();
        let op = crate::spec::update_op();
        assert!(e.allows(POSITIVE_DATA_ACCEPTANCE, op, 418));
        assert!(e.allows(POSITIVE_DATA_ACCEPTANCE, op, 503));
        assert!(!e.allows(POSITIVE_DATA_ACCEPTANCE, op, 400));
        assert!(!e.allows(NEGATIVE_DATA_REJECTION, op, 418));
        let mut other = op.clone();
        other.name = "something_else".into();
        other.operation_id = None;
        assert!(
            !e.allows(POSITIVE_DATA_ACCEPTANCE, &other, 418),
            "for update_cvm only"
        );
        assert!(
            e.allows(STATUS_CODE_CONFORMANCE, &other, 418),
            "for every operation"
        );
        let teapot = answer(418, json!({}));
        let mut s = seen(&teapot, None, &[]);
        s.expected = &e;
        assert!(positive_data_acceptance(&s).is_ok());
        assert!(status_code_conformance(&s).is_ok());
        // By `METHOD /template` too.
        let mut by_route = Expected::default();
        by_route
            .add_arg(&format!(
                "positive_data_acceptance:{} {}=418",
                op.method, op.path
            ))
            .unwrap();
        assert!(by_route.allows(POSITIVE_DATA_ACCEPTANCE, op, 418));
        for bad in [
            "positive_data_acceptance",
            "no_secret_echo=400",
            "status_code_conformance=9XX",
            "status_code_conformance=abc",
            "status_code_conformance=",
        ] {
            assert!(Expected::default().add_arg(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_json_body_must_say_it_is_json() {
        let with = |ct: Option<&str>, status: u16| Answer {
            content_type: ct.map(str::to_string),
            ..answer(status, json!({"correlation_id": "c"}))
        };
        let judge = |a: &Answer| content_type_conformance(&seen(a, None, &[]));
        assert!(judge(&with(Some("application/json"), 202)).is_ok());
        assert!(judge(&with(Some("Application/JSON; charset=utf-8"), 202)).is_ok());
        assert!(judge(&with(Some("application/problem+json"), 422)).is_ok());
        let e = judge(&with(Some("text/plain; charset=utf-8"), 202)).unwrap_err();
        assert!(e.contains("`text/plain`"), "{e}");
        assert!(judge(&with(None, 202)).is_err());
        // An undocumented status has no documented body to hold the answer to.
        assert!(judge(&with(Some("text/plain"), 200)).is_ok());
        // Nor does an empty body say anything.
        let empty = Answer {
            body: Vec::new(),
            ..with(Some("text/plain"), 202)
        };
        assert!(judge(&empty).is_ok());
    }

    #[test]
    fn the_registry_runs_the_checks_that_apply() {
        let a = answer(500, json!({}));
        let m = mutation(vec![json!("vcpu")]);
        let s = seen(&a, None, &[]);
        let every: Vec<&str> = judge(&s, Applies::Every).map(|(c, _)| c.name).collect();
        assert_eq!(
            every,
            [
                "not_a_server_error",
                "status_code_conformance",
                "response_schema_conformance",
                "content_type_conformance",
                "no_secret_echo",
                "response_headers_conformance"
            ]
        );
        let s = seen(&a, Some(&m), &[]);
        let invalid: Vec<(Check, Verdict)> = judge(&s, Applies::Invalid).collect();
        assert_eq!(invalid[0].0, NEGATIVE_DATA_REJECTION);
        assert!(invalid[0].1.is_err(), "a 500 is no refusal");
    }

    #[test]
    fn a_secret_another_field_carries_is_not_counted_as_echoed() {
        let body =
            serde_json::json!({"password": "s3cr3t", "name": "my-s3cr3t-box", "token": "t0k"});
        let fields = ["password", "token", "absent"];
        assert_eq!(secret_values(&body, fields), ["t0k"]);
        let alone = serde_json::json!({"password": "s3cr3t", "vcpu": 2});
        assert_eq!(secret_values(&alone, fields), ["s3cr3t"]);
        assert!(secret_values(&serde_json::json!([1]), fields).is_empty());
    }

    #[test]
    fn documented_answer_headers_are_there_and_well_formed() {
        let doc = r##"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
          "paths": {"/things": {"post": {"operationId": "make",
            "responses": {"201": {"description": "made",
              "headers": {
                "Location": {"required": true, "schema": {"type": "string"}},
                "X-Rate-Remaining": {"schema": {"type": "integer", "minimum": 0}},
                "X-Flags": {"$ref": "#/components/headers/Flags"},
                "Content-Type": {"required": true, "schema": {"type": "string"}}},
              "content": {"application/json": {"schema": {"type": "object"}}}}}}}},
          "components": {"headers": {"Flags": {"schema": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}}}}}"##;
        let schema = Schema::from_document(doc).unwrap();
        let op = schema.find("make").unwrap();
        assert_eq!(
            op.responses[0].headers.len(),
            3,
            "Content-Type is not a documented header"
        );
        let judge = |headers: &[(&str, &str)]| {
            let a = Answer {
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..answer(201, json!({}))
            };
            response_headers_conformance(&Seen {
                schema: &schema,
                op,
                answer: &a,
                mutation: None,
                secrets: &[],
                expected: &NONE,
                known_ids: true,
            })
        };
        assert!(judge(&[("location", "/things/1")]).is_ok());
        assert!(judge(&[
            ("LOCATION", "/things/1"),
            ("x-rate-remaining", "3"),
            ("x-flags", "a,b")
        ])
        .is_ok());
        let e = judge(&[]).unwrap_err();
        assert!(e.contains("`Location` is missing"), "{e}");
        let e = judge(&[("location", "/t/1"), ("x-rate-remaining", "many")]).unwrap_err();
        assert!(e.contains("not of its schema's type"), "{e}");
        let e = judge(&[("location", "/t/1"), ("x-rate-remaining", "-1")]).unwrap_err();
        assert!(e.contains("breaks its schema"), "{e}");
        assert!(judge(&[("location", "/t/1"), ("x-flags", "a,c")]).is_err());
    }

    #[test]
    fn a_405_names_what_the_path_allows() {
        let schema = crate::meta::schema();
        let path = &crate::spec::update_op().path;
        let documented = methods_of(schema, path);
        assert!(
            documented.contains(&"PATCH".to_string()) && documented.contains(&"GET".to_string())
        );
        let with = |status: u16, allow: Option<&str>| Answer {
            headers: allow
                .map(|a| ("allow".to_string(), a.to_string()))
                .into_iter()
                .collect(),
            ..answer(status, json!({"detail": "Method Not Allowed"}))
        };
        let judge = |a: &Answer| allow_header_conformance(schema, path, "DELETE", a);
        assert!(judge(&with(405, Some("GET, PATCH"))).is_ok());
        assert!(judge(&with(405, Some("patch,get,head,options"))).is_ok());
        assert!(judge(&with(405, None)).unwrap_err().contains("no `Allow`"));
        assert!(judge(&with(405, Some("GET")))
            .unwrap_err()
            .contains("leaves out PATCH"));
        assert!(judge(&with(405, Some("GET, PATCH, DELETE")))
            .unwrap_err()
            .contains("the method it refused"));
        // Only a 405 is judged.
        assert!(judge(&with(404, None)).is_ok());
        assert!(unsupported_method("DELETE", &with(405, None)).is_ok());
        assert!(unsupported_method("DELETE", &with(200, None)).is_err());
        assert!(unsupported_method("DELETE", &with(404, None)).is_err());
    }

    #[test]
    fn a_required_header_left_out_is_refused_with_a_4xx() {
        let m = Mutation {
            rule: "missing_required",
            field: "(header X-Tenant)".into(),
            path: vec![json!("header"), json!("X-Tenant")],
            body: json!({}),
            coercible: false,
        };
        let judge = |status: u16| {
            let a = answer(status, json!({}));
            (
                missing_required_header(&seen(&a, Some(&m), &[])),
                negative_data_rejection(&seen(&a, Some(&m), &[])),
            )
        };
        let (header, negative) = judge(200);
        assert!(header.unwrap_err().contains("`X-Tenant`"));
        assert!(negative.is_ok(), "judged once, under its own name");
        assert!(judge(400).0.is_ok() && judge(401).0.is_ok() && judge(422).0.is_ok());
        assert!(judge(500).0.is_err());
        // Any other mutation is not this check's.
        let other = mutation(vec![json!("vcpu")]);
        let a = answer(200, json!({}));
        assert!(missing_required_header(&seen(&a, Some(&other), &[])).is_ok());
    }

    #[test]
    fn slow_answers_break_the_time_limit() {
        let mut a = answer(200, json!({}));
        a.elapsed = Duration::from_millis(250);
        assert!(max_response_time(&a, Duration::from_millis(300)).is_ok());
        let e = max_response_time(&a, Duration::from_millis(200)).unwrap_err();
        assert!(e.contains("250 ms") && e.contains("200 ms"), "{e}");
    }
}

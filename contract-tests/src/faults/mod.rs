//! Faults generated from a document: one switch per operation, position and rule, derived from
//! the model ([`crate::meta::Schema`]) and never chosen with the suite in mind. A target built to
//! honour the document (the reference server) switches one on to become a mutant; `cargo xtask
//! mutants` runs the suite against every mutant and counts the ones it kills.
//!
//! This module decides *which* faults a document has and *when* each one fires (the predicates on
//! a request body). What a fault does to an answer is the target's business; the reference server
//! ([`crate::server`]) applies them.

use crate::meta::{Object, Operation, Schema, Shape};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt;

mod generate;
mod position;

pub use generate::{of_document, of_operation, of_paths};
pub use position::{Position, Slot, Step};

/// An array longer than this makes [`Kind::ServerErrorOnLongArray`] fire: more items than a
/// handler written for the usual few expects. The suite sends arrays well past it.
pub const LONG_ARRAY: usize = 16;

/// What a generated fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A value one past the lower bound (a number, a string's length, an array's size) is
    /// accepted.
    BoundBelow,
    /// A value one past the upper bound is accepted.
    BoundAbove,
    /// `null`, which the document allows here, is refused with a 422.
    NullRejected,
    /// An optional property is required: a body without it gets a 422.
    OptionalRequired,
    /// A 500 when the value is the lower bound itself.
    ServerErrorOnMin,
    /// A 500 when the value is the upper bound itself.
    ServerErrorOnMax,
    /// A 500 when an array holds two equal items (the document does not ask for unique ones).
    ServerErrorOnEqualItems,
    /// A 500 when an array holds more than [`LONG_ARRAY`] items (the document sets no maximum).
    ServerErrorOnLongArray,
    /// A 500 when an open object carries a key it does not declare.
    ServerErrorOnExtraKey,
    /// A 500 when a string holds a character beyond ASCII.
    ServerErrorOnNonAscii,
    /// A 500 when a string holds a NUL character.
    ServerErrorOnNul,
    /// A 500 on the update that follows one that set this field to null: a crash that only an
    /// earlier request explains.
    ServerErrorAfterNull,
    /// A 500 when the same valid update is sent twice in a row.
    ServerErrorOnRepeat,
    /// `null` is answered as accepted but the field keeps its value.
    NullIgnored,
    /// An update that leaves the field out clears it (or resets it to its first value).
    AbsentCleared,
    /// A value is answered as accepted but never applied.
    ValueIgnored,
    /// The secret is echoed back in the success answer.
    SecretEchoed,
    /// The operation serves requests without a valid credential.
    AuthIgnored,
    /// A credential that is a prefix of the real one is accepted.
    NearMissKeyAccepted,
    /// The success answer is sent as `text/plain`, its body unchanged.
    WrongContentType,
    /// The success answer has a status the operation does not document.
    UndocumentedSuccessStatus,
    /// The success answer lacks a property its schema requires.
    ResponseFieldDropped,
    /// A resource that does not exist is served as if it did.
    UnknownIdServed,
    /// Phase two of the two-phase flow accepts a malformed transaction hash.
    MalformedTransactionAccepted,
    /// Phase two accepts a compose hash that is not the one phase one gave.
    WrongHashAccepted,
    /// A create answers as if it stored the item, and does not store it.
    CreateNotStored,
    /// A delete answers as if it removed the item, and keeps it.
    DeleteKept,
    /// The list still holds deleted items.
    ListShowsDeleted,
    /// A page after the first starts one item too late: the item at each page boundary is
    /// never listed.
    PageSkips,
    /// A page after the first starts one item too early: the item at each page boundary is
    /// listed twice.
    PageRepeats,
    /// An update's answer shows the values before it.
    StaleAnswer,
    /// Another user's item is served (read, changed or deleted).
    OtherUserServed,
    /// A method the document does not give for the operation's path is served as the
    /// operation itself.
    MethodServed,
    /// A 405 for the operation's path carries no `Allow` header.
    AllowMissing,
    /// The success answer lacks a header the document requires of it.
    ResponseHeaderDropped,
    /// A request without a required header parameter is served.
    RequiredHeaderIgnored,
    /// The operation's first answer is held back [`SLOW_ANSWER`] (a cold start, a lock).
    SlowAnswer,
    /// An update with a stale `If-Match` is done, not refused with 412 (a lost update).
    StaleIfMatchAccepted,
    /// An update leaves the item's `ETag` as it was.
    EtagUnchanged,
    /// A read with a current `If-None-Match` is answered in full, not with 304.
    IfNoneMatchIgnored,
    /// An id that differs from a real one by case or by surrounding whitespace finds that item.
    NearMissIdServed,
    /// An integer spelled with a fraction part of zero (`600.0`), the same integer to JSON
    /// Schema, is refused with a 422.
    IntegerSpellingRefused,
    /// An undeclared key spelled like a declared one in another case (`VCPU`) is applied as it.
    UndeclaredKeyFolded,
    /// A replace (PUT) keeps the values of the fields its body leaves out: it merges.
    ReplaceMerges,
    /// A create's `Location` names another item than the one it made.
    LocationElsewhere,
    /// A create that repeats a value the document marks unique is accepted.
    DuplicateAccepted,
    /// An item of a nested collection is read under any parent, not only its own.
    ChildUnderAnyParent,
    /// An item of a nested collection still reads once its parent is deleted.
    ChildrenOutliveParent,
    /// A body whose text escapes a printable character (`"\u0061"` for `"a"`), the same string
    /// to JSON, is refused with a 422.
    EscapedUnicodeRefused,
    /// An update refused for one broken field applies the body's valid fields all the same.
    RefusalApplied,
    /// An enum value in another case, or with a space around it, is taken as the member.
    EnumCaseFolded,
    /// A change or delete sent to a near miss of a real id is answered 404, and done to the
    /// real item all the same.
    NearMissApplied,
}

/// How long [`Kind::SlowAnswer`] holds an answer back: past the limit `cargo xtask mutants`
/// gives `max_response_time` ([`SLOW_LIMIT`]).
pub const SLOW_ANSWER: std::time::Duration = std::time::Duration::from_millis(1500);
/// The `--max-response-time` a mutation run judges with.
pub const SLOW_LIMIT: std::time::Duration = std::time::Duration::from_millis(1000);

impl Kind {
    /// Every kind, with its name in fault names.
    pub const ALL: [(Kind, &'static str); 52] = [
        (Kind::BoundBelow, "bound-below"),
        (Kind::BoundAbove, "bound-above"),
        (Kind::NullRejected, "null-rejected"),
        (Kind::OptionalRequired, "optional-required"),
        (Kind::ServerErrorOnMin, "server-error-on-min"),
        (Kind::ServerErrorOnMax, "server-error-on-max"),
        (Kind::ServerErrorOnEqualItems, "server-error-on-equal-items"),
        (Kind::ServerErrorOnLongArray, "server-error-on-long-array"),
        (Kind::ServerErrorOnExtraKey, "server-error-on-extra-key"),
        (Kind::ServerErrorOnNonAscii, "server-error-on-non-ascii"),
        (Kind::ServerErrorOnNul, "server-error-on-nul"),
        (Kind::ServerErrorAfterNull, "server-error-after-null"),
        (Kind::ServerErrorOnRepeat, "server-error-on-repeat"),
        (Kind::NullIgnored, "null-ignored"),
        (Kind::AbsentCleared, "absent-cleared"),
        (Kind::ValueIgnored, "value-ignored"),
        (Kind::SecretEchoed, "secret-echoed"),
        (Kind::AuthIgnored, "auth-ignored"),
        (Kind::NearMissKeyAccepted, "near-miss-key-accepted"),
        (Kind::WrongContentType, "wrong-content-type"),
        (
            Kind::UndocumentedSuccessStatus,
            "undocumented-success-status",
        ),
        (Kind::ResponseFieldDropped, "response-field-dropped"),
        (Kind::UnknownIdServed, "unknown-id-served"),
        (
            Kind::MalformedTransactionAccepted,
            "malformed-transaction-accepted",
        ),
        (Kind::WrongHashAccepted, "wrong-hash-accepted"),
        (Kind::CreateNotStored, "create-not-stored"),
        (Kind::DeleteKept, "delete-kept"),
        (Kind::ListShowsDeleted, "list-shows-deleted"),
        (Kind::PageSkips, "page-skips"),
        (Kind::PageRepeats, "page-repeats"),
        (Kind::StaleAnswer, "stale-answer"),
        (Kind::OtherUserServed, "other-user-served"),
        (Kind::MethodServed, "method-served"),
        (Kind::AllowMissing, "allow-missing"),
        (Kind::ResponseHeaderDropped, "response-header-dropped"),
        (Kind::RequiredHeaderIgnored, "required-header-ignored"),
        (Kind::SlowAnswer, "slow-answer"),
        (Kind::StaleIfMatchAccepted, "stale-if-match-accepted"),
        (Kind::EtagUnchanged, "etag-unchanged"),
        (Kind::IfNoneMatchIgnored, "if-none-match-ignored"),
        (Kind::NearMissIdServed, "near-miss-id-served"),
        (Kind::IntegerSpellingRefused, "integer-spelling-refused"),
        (Kind::UndeclaredKeyFolded, "undeclared-key-folded"),
        (Kind::ReplaceMerges, "replace-merges"),
        (Kind::LocationElsewhere, "location-elsewhere"),
        (Kind::DuplicateAccepted, "duplicate-accepted"),
        (Kind::ChildUnderAnyParent, "child-under-any-parent"),
        (Kind::ChildrenOutliveParent, "children-outlive-parent"),
        (Kind::EscapedUnicodeRefused, "escaped-unicode-refused"),
        (Kind::RefusalApplied, "refused-update-applied"),
        (Kind::EnumCaseFolded, "enum-case-folded"),
        (Kind::NearMissApplied, "near-miss-id-applied"),
    ];

    /// The kind's name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("?", |(_, n)| n)
    }

    fn from_name(name: &str) -> Option<Kind> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }
}

/// A fault generated from the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// What it does.
    pub kind: Kind,
    /// The operation it sits on (the client method name).
    pub op: String,
    /// The body position it watches; the root for faults of the whole operation.
    pub at: Position,
    /// What fires it, where that is a value: the off-by-one value of a bound, the bound itself
    /// of an edge, the property dropped from an answer.
    pub arg: Option<Value>,
}

/// `body` with each undeclared top-level key that is a declared one of `object` in another case
/// or with spaces around it renamed to it (unless that one is there too), as a server that folds case does; whether any
/// was ([`Kind::UndeclaredKeyFolded`]).
pub fn fold_keys(object: &Object, body: &mut Value) -> bool {
    let Some(o) = body.as_object_mut() else {
        return false;
    };
    let renames: Vec<(String, String)> = o
        .keys()
        .filter(|k| object.field(k).is_none())
        .filter_map(|k| {
            let twin = object
                .fields
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(k.trim()) && !o.contains_key(&f.name))?;
            Some((k.clone(), twin.name.clone()))
        })
        .collect();
    for (from, to) in &renames {
        if let Some(v) = o.remove(from) {
            o.insert(to.clone(), v);
        }
    }
    !renames.is_empty()
}

/// Whether a body's text writes a printable character as a `\uXXXX` escape, which serde_json
/// (and most writers) never do: only a client respelling a string on purpose
/// ([`Kind::EscapedUnicodeRefused`]).
pub fn escapes_printable(raw: &[u8]) -> bool {
    let mut i = 0;
    while i + 1 < raw.len() {
        if raw[i] != b'\\' {
            i += 1;
            continue;
        }
        if raw[i + 1] == b'u' {
            let hex = raw
                .get(i + 2..i + 6)
                .and_then(|h| std::str::from_utf8(h).ok());
            if hex
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .is_some_and(|c| c >= 0x20)
            {
                return true;
            }
        }
        // The escape and the character it escapes (`\\` is one backslash).
        i += 2;
    }
    false
}

/// Whether `near` is a near miss of `id` that a [`Kind::NearMissIdServed`] fault resolves to it:
/// the same but for case and surrounding whitespace.
pub fn near_miss_of(near: &str, id: &str) -> bool {
    near != id && near.trim().to_lowercase() == id.to_lowercase()
}

impl Generated {
    /// Its name, as `--fault` takes it: `KIND:OPERATION` for a fault of the operation,
    /// `KIND:OPERATION:POSITION` for one of a body position, with the property for a dropped one.
    pub fn name(&self) -> String {
        let mut s = format!("{}:{}", self.kind.name(), self.op);
        match (&self.at.0.is_empty(), self.kind, &self.arg) {
            (
                _,
                Kind::ResponseFieldDropped
                | Kind::ResponseHeaderDropped
                | Kind::RequiredHeaderIgnored,
                Some(Value::String(p)),
            ) => {
                s.push(':');
                s.push_str(p);
            }
            (false, _, _) => {
                s.push(':');
                s.push_str(&self.at.to_string());
            }
            (true, Kind::ServerErrorOnExtraKey, _) => s.push_str(":(body)"),
            _ => {}
        }
        s
    }

    /// A sentence saying what the mutant does.
    pub fn describe(&self) -> String {
        let at = &self.at;
        let arg = self.arg.as_ref().map(|v| v.to_string()).unwrap_or_default();
        match self.kind {
            Kind::BoundBelow => format!("{at}: {arg}, one below the lower bound, is accepted"),
            Kind::BoundAbove => format!("{at}: {arg}, one above the upper bound, is accepted"),
            Kind::NullRejected => format!("{at}: null is refused with 422"),
            Kind::OptionalRequired => format!("{at}: the optional property is required"),
            Kind::ServerErrorOnMin | Kind::ServerErrorOnMax => {
                format!("{at}: the bound {arg} gets a 500")
            }
            Kind::ServerErrorOnEqualItems => format!("{at}: two equal items get a 500"),
            Kind::ServerErrorOnLongArray => {
                format!("{at}: more than {LONG_ARRAY} items get a 500")
            }
            Kind::ServerErrorOnExtraKey => format!("{at}: an undeclared key gets a 500"),
            Kind::ServerErrorOnNonAscii => format!("{at}: a character beyond ASCII gets a 500"),
            Kind::ServerErrorOnNul => format!("{at}: a NUL character gets a 500"),
            Kind::ServerErrorAfterNull => {
                format!("{at}: the update after one that set it to null gets a 500")
            }
            Kind::ServerErrorOnRepeat => "the same valid update twice in a row gets a 500".into(),
            Kind::NullIgnored => format!("{at}: null is accepted but not applied"),
            Kind::AbsentCleared => format!("{at}: an update without it clears it"),
            Kind::ValueIgnored => format!("{at}: a value is accepted but not applied"),
            Kind::SecretEchoed => format!("{at}: the secret is echoed in the answer"),
            Kind::AuthIgnored => "requests without a valid credential are served".into(),
            Kind::NearMissKeyAccepted => {
                "a credential that is a prefix of the real one is accepted".into()
            }
            Kind::WrongContentType => "the success answer is sent as text/plain".into(),
            Kind::UndocumentedSuccessStatus => format!("the success answer has status {arg}"),
            Kind::ResponseFieldDropped => format!("the success answer lacks {arg}"),
            Kind::UnknownIdServed => "a resource that does not exist is served".into(),
            Kind::MalformedTransactionAccepted => {
                "phase two accepts a malformed transaction hash".into()
            }
            Kind::WrongHashAccepted => "phase two accepts a compose hash it did not give".into(),
            Kind::CreateNotStored => "a create answers but does not store the item".into(),
            Kind::DeleteKept => "a delete answers but keeps the item".into(),
            Kind::ListShowsDeleted => "the list still holds deleted items".into(),
            Kind::PageSkips => "each page after the first starts one item too late".into(),
            Kind::PageRepeats => "each page after the first starts one item too early".into(),
            Kind::StaleAnswer => "the update's answer shows the values before it".into(),
            Kind::OtherUserServed => "another user's item is served".into(),
            Kind::MethodServed => {
                "a method the document does not give for the path is served".into()
            }
            Kind::AllowMissing => "a 405 for the path has no `Allow` header".into(),
            Kind::ResponseHeaderDropped => format!("the success answer lacks the header {arg}"),
            Kind::RequiredHeaderIgnored => {
                format!("a request without the required header {arg} is served")
            }
            Kind::SlowAnswer => format!(
                "the first answer is held back {} ms",
                SLOW_ANSWER.as_millis()
            ),
            Kind::StaleIfMatchAccepted => {
                "an update with a stale If-Match is done, not refused with 412".into()
            }
            Kind::EtagUnchanged => "an update leaves the item's ETag as it was".into(),
            Kind::IfNoneMatchIgnored => {
                "a read with a current If-None-Match gets the item, not 304".into()
            }
            Kind::NearMissIdServed => {
                "an id differing from a real one by case or whitespace finds that item".into()
            }
            Kind::IntegerSpellingRefused => {
                format!("{at}: an integer spelled with `.0` is refused with 422")
            }
            Kind::ReplaceMerges => "a replace keeps what its body leaves out".into(),
            Kind::LocationElsewhere => {
                "a create's Location names another item than the one it made".into()
            }
            Kind::DuplicateAccepted => {
                "a create repeating a value the document marks unique is accepted".into()
            }
            Kind::ChildUnderAnyParent => "a nested item reads under any parent".into(),
            Kind::EnumCaseFolded => {
                format!("{at}: a member in another case or with a space around it is accepted")
            }
            Kind::NearMissApplied => {
                "a change sent to a near miss of a real id is refused, and done to the real item"
                    .into()
            }
            Kind::RefusalApplied => {
                "an update refused for a broken field applies its valid fields all the same".into()
            }
            Kind::EscapedUnicodeRefused => {
                "a body escaping a printable character (`\\u0061`) is refused with 422".into()
            }
            Kind::ChildrenOutliveParent => {
                "a nested item still reads once its parent is deleted".into()
            }
            Kind::UndeclaredKeyFolded => {
                "an undeclared key spelled like a declared one in another case is applied as it"
                    .into()
            }
        }
    }

    /// Parses a name [`Generated::name`] gave, against the faults of `all`.
    pub fn find<'a>(all: &'a [Generated], name: &str) -> Option<&'a Generated> {
        let kind = Kind::from_name(name.split(':').next()?)?;
        all.iter().find(|g| g.kind == kind && g.name() == name)
    }

    /// Whether this fault watches position `at` of operation `op` (any kind).
    pub fn on(&self, op: &str) -> bool {
        self.op == op
    }

    /// Whether the body `body` fires this fault's request predicate: the value it watches is
    /// there and is what fires it. For the kinds that need state or an answer, false.
    pub fn fires_on(&self, schema: &Schema, body: &Value) -> bool {
        let slots = self.at.visit(body);
        let values = || slots.iter().filter_map(|s| s.value);
        match self.kind {
            Kind::BoundBelow
            | Kind::BoundAbove
            | Kind::ServerErrorOnMin
            | Kind::ServerErrorOnMax => {
                let Some(arg) = self.arg.as_ref() else {
                    return false;
                };
                values().any(|v| measure_matches(v, arg))
            }
            Kind::NullRejected => values().any(Value::is_null),
            Kind::IntegerSpellingRefused => values().any(|v| {
                v.as_number()
                    .is_some_and(|n| n.is_f64() && n.as_f64().is_some_and(|f| f.fract() == 0.0))
            }),
            Kind::OptionalRequired => slots.iter().any(|s| s.value.is_none()),
            Kind::ServerErrorOnEqualItems => values().any(|v| {
                v.as_array().is_some_and(|a| {
                    a.iter()
                        .enumerate()
                        .any(|(i, x)| a[i + 1..].iter().any(|y| y == x))
                })
            }),
            Kind::ServerErrorOnLongArray => {
                values().any(|v| v.as_array().is_some_and(|a| a.len() > LONG_ARRAY))
            }
            Kind::ServerErrorOnExtraKey => {
                let Some(object) = object_at(schema, self, &self.at) else {
                    return false;
                };
                values().any(|v| {
                    v.as_object().is_some_and(|m| {
                        m.keys().any(|k| object.fields.iter().all(|f| &f.name != k))
                    })
                })
            }
            Kind::ServerErrorOnNonAscii => {
                values().any(|v| v.as_str().is_some_and(|s| !s.is_ascii()))
            }
            Kind::ServerErrorOnNul => {
                values().any(|v| v.as_str().is_some_and(|s| s.contains('\0')))
            }
            Kind::EnumCaseFolded => {
                let Some(Value::Array(members)) = &self.arg else {
                    return false;
                };
                values().any(|v| {
                    v.as_str().is_some_and(|s| {
                        let folded = s.trim();
                        members.iter().any(|m| {
                            m.as_str()
                                .is_some_and(|m| m != s && m.eq_ignore_ascii_case(folded))
                        })
                    })
                })
            }
            _ => false,
        }
    }
}

/// What the faults of one operation do to a request, for a target that applies them: the
/// validation errors they change, and whether they crash it.
impl Generated {
    /// Changes `errs` (FastAPI error items, `loc` from `"body"`) as this fault would for `body`:
    /// a bound off by one drops the errors at its position, a null refused or an optional
    /// property required adds one. Whether it changed anything.
    pub fn adjust_errors(&self, schema: &Schema, body: &Value, errs: &mut Vec<Value>) -> bool {
        if !self.fires_on(schema, body) {
            return false;
        }
        match self.kind {
            Kind::BoundBelow | Kind::BoundAbove | Kind::EnumCaseFolded => {
                let before = errs.len();
                errs.retain(|e| {
                    let loc = e.get("loc").and_then(Value::as_array);
                    !loc.is_some_and(|l| self.at.names(l))
                });
                errs.len() < before
            }
            Kind::NullRejected | Kind::OptionalRequired | Kind::IntegerSpellingRefused => {
                let mut loc = vec![Value::from("body")];
                loc.extend(self.at.0.iter().map(|s| match s {
                    Step::Key(k) => Value::from(k.as_str()),
                    Step::Items => Value::from(0),
                }));
                let (kind, msg) = match self.kind {
                    Kind::NullRejected => ("value_error", "Input should not be null"),
                    Kind::IntegerSpellingRefused => ("int_type", "Input should be a valid integer"),
                    _ => ("missing", "Field required"),
                };
                errs.push(serde_json::json!({ "type": kind, "loc": loc, "msg": msg }));
                true
            }
            _ => false,
        }
    }

    /// Whether this fault crashes a valid `body`: a value it cannot take, the same body as the
    /// last one accepted (`repeat`), or one after an update that set these top-level keys to
    /// null (`nulled`).
    pub fn crashes(
        &self,
        schema: &Schema,
        body: Option<&Value>,
        nulled: &[String],
        repeat: bool,
    ) -> bool {
        match self.kind {
            Kind::ServerErrorOnMin
            | Kind::ServerErrorOnMax
            | Kind::ServerErrorOnEqualItems
            | Kind::ServerErrorOnLongArray
            | Kind::ServerErrorOnExtraKey
            | Kind::ServerErrorOnNonAscii
            | Kind::ServerErrorOnNul => body.is_some_and(|b| self.fires_on(schema, b)),
            Kind::ServerErrorAfterNull => self
                .at
                .top_key()
                .is_some_and(|k| nulled.iter().any(|n| n == k)),
            Kind::ServerErrorOnRepeat => repeat,
            _ => false,
        }
    }
}

/// The top-level keys `body` sets to null.
pub fn nulled_keys(body: &Value) -> Vec<String> {
    body.as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| v.is_null())
        .map(|(k, _)| k.clone())
        .collect()
}

/// Whether `v` measures `arg`: an equal number, or a string or array of `arg` characters or
/// items when `arg` is `{"len": n}`.
fn measure_matches(v: &Value, arg: &Value) -> bool {
    if let Some(n) = arg.get("len").and_then(Value::as_u64) {
        return match v {
            Value::String(s) => s.chars().count() as u64 == n,
            Value::Array(a) => a.len() as u64 == n,
            _ => false,
        };
    }
    match (v.as_f64(), arg.as_f64()) {
        (Some(a), Some(b)) => a == b && v.is_number(),
        _ => false,
    }
}

/// The documented object at a position of the fault's operation body.
fn object_at<'s>(schema: &'s Schema, g: &Generated, at: &Position) -> Option<&'s Object> {
    let op = schema.operation(&g.op)?;
    let mut shape = op.body.as_ref()?;
    for step in &at.0 {
        shape = strip(shape);
        shape = match (step, shape) {
            (Step::Key(k), Shape::Object { name }) => &schema.object(name)?.field(k)?.shape,
            (Step::Items, Shape::Array { items, .. }) => items,
            _ => return None,
        };
    }
    match strip(shape) {
        Shape::Object { name } => schema.object(name),
        _ => None,
    }
}

/// The shape under nullability and a union whose one option is an object or an array.
pub(crate) fn strip_shape(shape: &Shape) -> &Shape {
    strip(shape)
}

/// The shape under nullability and a union whose one option is an object or an array.
fn strip(shape: &Shape) -> &Shape {
    match shape {
        Shape::Nullable { inner } => strip(inner),
        Shape::OneOf { options } => {
            let structured: Vec<&Shape> = options
                .iter()
                .map(strip)
                .filter(|o| matches!(o, Shape::Object { .. } | Shape::Array { .. }))
                .collect();
            match structured.as_slice() {
                [one] => one,
                _ => shape,
            }
        }
        other => other,
    }
}

//! Which faults a document has: each operation's (its body's positions and rules, its answers,
//! its credentials), each path's, and each resource's lifecycle.

use super::*;

/// How deep positions are generated.
pub(crate) const MAX_DEPTH: usize = 4;

/// Every fault of `op`'s body and answers. `readback`, when given, is the object a read-back of
/// the resource shows: the state faults go on the body fields it shows (where `x-readback` says,
/// else under the same name). `two_phase` says whether the operation has the flow of
/// `x-two-phase`.
pub fn of_operation(
    schema: &Schema,
    op: &Operation,
    readback: Option<&Object>,
    two_phase: bool,
) -> Vec<Generated> {
    let mut out = Vec::new();
    let mk = |kind, at: &Position, arg: Option<Value>| Generated {
        kind,
        op: op.name.clone(),
        at: at.clone(),
        arg,
    };
    let root = Position::default();
    if !op.auth.is_empty() {
        out.push(mk(Kind::AuthIgnored, &root, None));
        out.push(mk(Kind::NearMissKeyAccepted, &root, None));
    }
    out.push(mk(Kind::SlowAnswer, &root, None));
    for p in op
        .params
        .iter()
        .filter(|p| p.location == "header" && p.required)
    {
        out.push(mk(
            Kind::RequiredHeaderIgnored,
            &root,
            Some(p.name.clone().into()),
        ));
    }
    let has_path_param = op.params.iter().any(|p| p.location == "path");
    if has_path_param && op.responses.iter().any(|r| r.status == 404 && !r.range) {
        out.push(mk(Kind::UnknownIdServed, &root, None));
        // Case and whitespace change only what an id of text is (not a number, not a UUID,
        // whose case RFC 9562 leaves free).
        let text_id = op.params.iter().any(|p| {
            p.location == "path"
                && matches!(strip(&p.shape), Shape::String { format, .. } if format.as_deref() != Some("uuid"))
        });
        if text_id {
            out.push(mk(Kind::NearMissIdServed, &root, None));
        }
    }
    if let Some(success) = op
        .responses
        .iter()
        .find(|r| !r.range && (200..300).contains(&r.status))
    {
        if success.body.is_some() {
            out.push(mk(Kind::WrongContentType, &root, None));
        }
        for h in success.headers.iter().filter(|h| h.required) {
            out.push(mk(
                Kind::ResponseHeaderDropped,
                &root,
                Some(h.name.clone().into()),
            ));
        }
        // A status the document does not give: none is, where it has `default` or `2XX`.
        let undocumented = [200u16, 201, 202, 203]
            .into_iter()
            .find(|s| op.response(*s).is_none());
        if let Some(s) = undocumented {
            out.push(mk(Kind::UndocumentedSuccessStatus, &root, Some(s.into())));
        }
        if let Some(Shape::Object { name }) = success.body.as_ref().map(strip) {
            if let Some(o) = schema.object(name) {
                for f in o.fields.iter().filter(|f| f.required) {
                    out.push(mk(
                        Kind::ResponseFieldDropped,
                        &root,
                        Some(f.name.clone().into()),
                    ));
                }
            }
        }
    }
    if two_phase {
        out.push(mk(Kind::MalformedTransactionAccepted, &root, None));
        out.push(mk(Kind::WrongHashAccepted, &root, None));
    }
    let Some(body) = &op.body else {
        return out;
    };
    out.push(mk(Kind::ServerErrorOnRepeat, &root, None));
    // A key another case of a declared one, applied as it: where an update's fields read back
    // (the suite sends such keys on an item's PATCH) and undeclared keys are allowed.
    if let (Some(rb), Shape::Object { name }) = (readback, body) {
        let folds = schema.object(name).is_some_and(|o| {
            !o.closed
                && o.fields.iter().any(|f| {
                    let twin = f.name.to_ascii_uppercase() != f.name
                        || f.name.to_ascii_lowercase() != f.name;
                    twin && (f.readback.is_some() || rb.field(&f.name).is_some())
                })
        });
        if folds && op.method == "PATCH" {
            out.push(mk(Kind::UndeclaredKeyFolded, &root, None));
        }
    }
    let mut seen = BTreeSet::new();
    let mut escapable = false;
    positions(
        schema,
        body,
        &root,
        &mut seen,
        &mut |at, shape, nullable, required| {
            let top = at.0.len() == 1;
            if nullable {
                out.push(mk(Kind::NullRejected, at, None));
                if top {
                    out.push(mk(Kind::ServerErrorAfterNull, at, None));
                }
            }
            if !required && !at.0.is_empty() {
                out.push(mk(Kind::OptionalRequired, at, None));
            }
            if top && matches!(shape, Shape::Integer { .. }) {
                out.push(mk(Kind::IntegerSpellingRefused, at, None));
            }
            if top && matches!(shape, Shape::String { .. } | Shape::Enum { .. }) {
                escapable = true;
            }
            if let Shape::Enum {
                values,
                open: false,
            } = shape
            {
                out.push(mk(Kind::EnumCaseFolded, at, Some(values.clone().into())));
            }
            bounds(shape, &mut |kind, arg| out.push(mk(kind, at, Some(arg))));
            match shape {
                // Any text goes here: no pattern, and no format but `password`.
                Shape::String {
                    pattern: None,
                    format,
                    ..
                } if format.as_deref().is_none_or(|f| f == "password") => {
                    out.push(mk(Kind::ServerErrorOnNonAscii, at, None));
                    out.push(mk(Kind::ServerErrorOnNul, at, None));
                }
                Shape::Enum { open: true, .. } => {
                    out.push(mk(Kind::ServerErrorOnNonAscii, at, None));
                    out.push(mk(Kind::ServerErrorOnNul, at, None));
                }
                Shape::Array {
                    max_items, unique, ..
                } => {
                    if !unique {
                        out.push(mk(Kind::ServerErrorOnEqualItems, at, None));
                    }
                    if max_items.is_none_or(|m| m as usize > LONG_ARRAY) {
                        out.push(mk(Kind::ServerErrorOnLongArray, at, None));
                    }
                }
                Shape::Object { name } if schema.object(name).is_some_and(|o| !o.closed) => {
                    out.push(mk(Kind::ServerErrorOnExtraKey, at, None));
                }
                _ => {}
            }
        },
    );
    // A string of the body written with escapes (`"\u0061"`), refused as if it were not one.
    if escapable {
        out.push(mk(Kind::EscapedUnicodeRefused, &root, None));
    }
    // State and secrets: top-level fields of the body.
    if let Some(Shape::Object { name }) = Some(strip(body)) {
        if let Some(o) = schema.object(name) {
            for f in &o.fields {
                let at = root.push(Step::Key(f.name.clone()));
                if f.secret {
                    out.push(mk(Kind::SecretEchoed, &at, None));
                }
                // It reads back where `x-readback` says, else under its own name.
                let shown_as = match &f.readback {
                    Some(rb) => rb.field.as_str(),
                    None => f.name.as_str(),
                };
                let Some(shown) = readback.and_then(|r| r.field(shown_as)) else {
                    continue;
                };
                let shows_null = shown.nullable;
                out.push(mk(Kind::AbsentCleared, &at, None));
                out.push(mk(Kind::ValueIgnored, &at, None));
                if f.nullable && shows_null {
                    out.push(mk(Kind::NullIgnored, &at, None));
                }
            }
        }
    }
    out.sort_by_key(Generated::name);
    out.dedup();
    out
}

/// The faults of each path the operations `ops` are on, where the probe's methods are not all
/// documented for it: an undocumented method served, a 405 without `Allow`. Each sits on the
/// path's first operation by name.
pub fn of_paths<'o>(ops: impl IntoIterator<Item = &'o Operation>) -> Vec<Generated> {
    let mut first: std::collections::BTreeMap<&str, (&str, Vec<&str>)> = Default::default();
    for op in ops {
        let e = first
            .entry(op.path.as_str())
            .or_insert((op.name.as_str(), Vec::new()));
        e.0 = e.0.min(op.name.as_str());
        e.1.push(op.method.as_str());
    }
    let mut out = Vec::new();
    for (name, methods) in first.values() {
        let undocumented = crate::probe::METHODS
            .iter()
            .any(|m| !methods.iter().any(|x| x.eq_ignore_ascii_case(m)));
        if undocumented {
            for kind in [Kind::MethodServed, Kind::AllowMissing] {
                out.push(Generated {
                    kind,
                    op: name.to_string(),
                    at: Position::default(),
                    arg: None,
                });
            }
        }
    }
    out
}

/// Every fault of a whole document: each operation's ([`of_operation`], with the read of its
/// resource as the read-back of an update), and each resource's lifecycle faults.
pub fn of_document(schema: &Schema) -> Vec<Generated> {
    let resources = crate::resources::infer(schema);
    let mut out = Vec::new();
    for op in schema.operations.values() {
        let mut readback = None;
        for r in &resources {
            if matches!(
                r.role_of(&op.name),
                Some(crate::resources::Role::Update | crate::resources::Role::Replace)
            ) {
                readback = r
                    .op(schema, crate::resources::Role::Read)
                    .and_then(|read| {
                        read.responses
                            .iter()
                            .find(|x| !x.range && (200..300).contains(&x.status))
                    })
                    .and_then(|x| x.body.as_ref())
                    .and_then(|b| crate::resources::object_of(schema, b));
            }
        }
        let replace = resources
            .iter()
            .any(|r| r.role_of(&op.name) == Some(crate::resources::Role::Replace));
        out.extend(
            of_operation(schema, op, readback, false)
                .into_iter()
                // A replace resets what it leaves out: that is no fault of it.
                .filter(|g| !(replace && g.kind == Kind::AbsentCleared)),
        );
    }
    out.extend(of_paths(schema.operations.values()));
    use crate::resources::Role;
    for r in &resources {
        let name = |role| r.op(schema, role).map(|o| o.name.clone());
        let mk = |kind, op: String| Generated {
            kind,
            op,
            at: Position::default(),
            arg: None,
        };
        let readable = name(Role::Read).is_some() || name(Role::List).is_some();
        if let (Some(c), true) = (name(Role::Create), readable) {
            out.push(mk(Kind::CreateNotStored, c));
        }
        if let (Some(d), true) = (name(Role::Delete), readable) {
            out.push(mk(Kind::DeleteKept, d));
        }
        if let (Some(l), Some(_)) = (name(Role::List), name(Role::Delete)) {
            out.push(mk(Kind::ListShowsDeleted, l));
        }
        // A list its parameters say is read page by page, by a size the suite can choose.
        if let Some(l) = r
            .op(schema, Role::List)
            .filter(|l| crate::pages::of(l).sized())
        {
            out.push(mk(Kind::PageSkips, l.name.clone()));
            out.push(mk(Kind::PageRepeats, l.name.clone()));
        }
        if let (Some(op), Some(_)) = (r.op(schema, Role::Replace), name(Role::Read)) {
            let optional = op
                .body
                .as_ref()
                .and_then(|b| crate::resources::object_of(schema, b))
                .is_some_and(|o| o.fields.iter().any(|f| !f.required));
            if optional {
                out.push(mk(Kind::ReplaceMerges, op.name.clone()));
            }
        }
        if let (Some(op), Some(_)) = (r.op(schema, Role::Update), name(Role::Read)) {
            if op.body.is_some() {
                out.push(mk(Kind::RefusalApplied, op.name.clone()));
            }
        }
        // A write to a near miss of an id of text, refused and done all the same: on items the
        // run makes (a create), which it can read back.
        if let (Some(_), Some(_)) = (name(Role::Create), name(Role::Read)) {
            for role in [Role::Update, Role::Replace, Role::Delete] {
                let Some(op) = r.op(schema, role) else {
                    continue;
                };
                let text_id = op.params.iter().any(|p| {
                    p.location == "path"
                        && p.name == r.param
                        && matches!(strip(&p.shape), Shape::String { format, .. } if format.as_deref() != Some("uuid"))
                });
                if text_id && op.documents(404) {
                    out.push(mk(Kind::NearMissApplied, op.name.clone()));
                }
            }
        }
        for role in [Role::Update, Role::Replace] {
            if let (Some(op), Some(_)) = (r.op(schema, role), name(Role::Read)) {
                let answers = op
                    .responses
                    .iter()
                    .any(|x| !x.range && (200..300).contains(&x.status) && x.body.is_some());
                if answers {
                    out.push(mk(Kind::StaleAnswer, op.name.clone()));
                }
            }
        }
        for role in [Role::Read, Role::Update, Role::Replace, Role::Delete] {
            if let Some(op) = r.op(schema, role).filter(|o| !o.auth.is_empty()) {
                out.push(mk(Kind::OtherUserServed, op.name.clone()));
            }
        }
        // A create whose answer documents `Location`, of an item that can be read there.
        if let (Some(c), Some(_)) = (r.op(schema, Role::Create), name(Role::Read)) {
            let located = c.responses.iter().any(|x| {
                (200..300).contains(&x.status)
                    && x.headers
                        .iter()
                        .any(|h| h.name.eq_ignore_ascii_case("location"))
            });
            if located {
                out.push(mk(Kind::LocationElsewhere, c.name.clone()));
            }
            let unique = c
                .body
                .as_ref()
                .and_then(|b| crate::resources::object_of(schema, b))
                .is_some_and(|o| o.fields.iter().any(|f| f.unique));
            if unique {
                out.push(mk(Kind::DuplicateAccepted, c.name.clone()));
            }
        }
        // A nested collection's items, under a parent the run can make (and delete).
        if let (Some(read), true) = (r.op(schema, Role::Read), r.collection.contains('{')) {
            let parent = crate::resources::parent_of(&resources, r);
            if let Some(p) = parent.filter(|p| p.op(schema, Role::Create).is_some()) {
                out.push(mk(Kind::ChildUnderAnyParent, read.name.clone()));
                if p.op(schema, Role::Delete).is_some() {
                    out.push(mk(Kind::ChildrenOutliveParent, read.name.clone()));
                }
            }
        }
        // Conditional requests, where the document declares them (the mock keeps an ETag for
        // every item of a resource whose operations take `If-Match` or `If-None-Match`).
        if let Some(read) = r.op(schema, Role::Read) {
            if read.header_param("if-none-match").is_some() && read.documents(304) {
                out.push(mk(Kind::IfNoneMatchIgnored, read.name.clone()));
            }
            for role in [Role::Update, Role::Replace] {
                if let Some(op) = r
                    .op(schema, role)
                    .filter(|o| o.header_param("if-match").is_some())
                {
                    out.push(mk(Kind::EtagUnchanged, op.name.clone()));
                    if op.documents(412) {
                        out.push(mk(Kind::StaleIfMatchAccepted, op.name.clone()));
                    }
                }
            }
            if let Some(op) = r
                .op(schema, Role::Delete)
                .filter(|o| o.header_param("if-match").is_some() && o.documents(412))
            {
                out.push(mk(Kind::StaleIfMatchAccepted, op.name.clone()));
            }
        }
    }
    out.sort_by_key(Generated::name);
    out.dedup();
    out
}

/// The bounds of a shape, as the faults they give: one past each bound accepted, and each bound a
/// crash. Format ranges are not bounds of the document (see [`Shape::Integer`]).
pub(crate) fn bounds(shape: &Shape, push: &mut dyn FnMut(Kind, Value)) {
    let len = |n: u64| serde_json::json!({ "len": n });
    match shape {
        Shape::Integer { min, max, .. } => {
            if let Some(m) = min {
                push(Kind::BoundBelow, (*m - 1).into());
                push(Kind::ServerErrorOnMin, (*m).into());
            }
            if let Some(m) = max {
                push(Kind::BoundAbove, (*m + 1).into());
                push(Kind::ServerErrorOnMax, (*m).into());
            }
        }
        Shape::String {
            min_len, max_len, ..
        } => {
            if let Some(m) = min_len.filter(|m| *m > 0) {
                push(Kind::BoundBelow, len(m - 1));
            }
            if let Some(m) = max_len {
                push(Kind::BoundAbove, len(m + 1));
            }
        }
        Shape::Array {
            min_items,
            max_items,
            ..
        } => {
            if let Some(m) = min_items.filter(|m| *m > 0) {
                push(Kind::BoundBelow, len(m - 1));
            }
            if let Some(m) = max_items {
                push(Kind::BoundAbove, len(m + 1));
            }
        }
        _ => {}
    }
}

/// Visits every position of `shape` under `at`: `(position, shape without null, nullable,
/// required)`. Objects already on the way are not entered again (recursive types).
pub(crate) fn positions(
    schema: &Schema,
    shape: &Shape,
    at: &Position,
    seen: &mut BTreeSet<String>,
    f: &mut dyn FnMut(&Position, &Shape, bool, bool),
) {
    fn go(
        schema: &Schema,
        shape: &Shape,
        at: &Position,
        nullable: bool,
        required: bool,
        seen: &mut BTreeSet<String>,
        f: &mut dyn FnMut(&Position, &Shape, bool, bool),
    ) {
        if at.0.len() > MAX_DEPTH {
            return;
        }
        let (shape, nullable) = match shape {
            Shape::Nullable { inner } => (&**inner, true),
            other => (other, nullable),
        };
        let shape = strip(shape);
        f(at, shape, nullable, required);
        match shape {
            Shape::Object { name } => {
                let Some(o) = schema.object(name) else {
                    return;
                };
                if !seen.insert(name.clone()) {
                    return;
                }
                for field in &o.fields {
                    go(
                        schema,
                        &field.shape,
                        &at.push(Step::Key(field.name.clone())),
                        field.nullable,
                        field.required,
                        seen,
                        f,
                    );
                }
                seen.remove(name);
            }
            Shape::Array { items, .. } => {
                go(schema, items, &at.push(Step::Items), false, true, seen, f)
            }
            _ => {}
        }
    }
    go(schema, shape, at, false, true, seen, f)
}

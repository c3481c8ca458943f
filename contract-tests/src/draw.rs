//! Valid values of any [`Shape`], drawn at run time: the strategies of operations the generated
//! crate has no compiled strategy for (`cargo xtask contract --spec`). They read the same model as
//! the judge, and `tests/corpus_agreement.rs` holds them to it, and to the document, on every
//! request schema of the corpus.

use crate::judge;
use crate::meta::{Object, Schema, Shape};
use openapi_runtime::strategy;
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use serde_json::{Map, Value};
use std::sync::Arc;

/// How deep objects nest before optional fields are left out.
const MAX_DEPTH: u32 = 4;

/// Where a value goes: a header value must be printable ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Body,
    Path,
    Query,
    Header,
}

impl Place {
    /// The place of a parameter by its `in` (`path`, `query`, `header`); none for a cookie.
    pub fn of(location: &str) -> Option<Place> {
        match location {
            "path" => Some(Place::Path),
            "query" => Some(Place::Query),
            "header" => Some(Place::Header),
            _ => None,
        }
    }
}

/// Valid values of `shape`, or `None` where the model admits none this drawer can build (a
/// required field cycle, an impossible range, a pattern it cannot read).
pub fn value(schema: &Arc<Schema>, shape: &Shape, place: Place) -> Option<BoxedStrategy<Value>> {
    draw(schema, shape, place, 0)
}

/// Valid objects of `object`.
pub fn object(schema: &Arc<Schema>, object: &Object) -> Option<BoxedStrategy<Value>> {
    draw_object(schema, object, 0)
}

/// The edges of `shape`, each one valid: a range's ends and the values next to them, zero, an
/// empty and a longest string, an empty list, every value of a closed set, null where null is
/// allowed. Random draws reach each edge only now and then; the suite sends every one of them
/// once. Strings with a pattern or a format have none here (the judge could not confirm them).
pub fn edges(schema: &Schema, shape: &Shape) -> Vec<Value> {
    let mut out = Vec::new();
    edges_into(shape, &mut out);
    let mut kept: Vec<Value> = Vec::new();
    for v in out {
        if !kept.contains(&v) && judge::check(schema, &v, shape).is_empty() {
            kept.push(v);
        }
    }
    kept
}

/// The object `shape` names and `base`'s fields, where `shape` is an object and `base` one.
fn object_and_fields<'a>(
    schema: &'a Schema,
    shape: &Shape,
    base: &'a Value,
) -> Option<(&'a crate::meta::Object, &'a serde_json::Map<String, Value>)> {
    match shape {
        Shape::Object { name } => Some((schema.object(name)?, base.as_object()?)),
        _ => None,
    }
}

/// `base` (a valid body of `shape`) with one top-level field set to one of its edges, for every
/// field and edge, each judged valid as a whole. Empty where `shape` is not an object.
pub fn body_edges(schema: &Schema, shape: &Shape, base: &Value) -> Vec<Value> {
    let Some((object, fields)) = object_and_fields(schema, shape, base) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for f in &object.fields {
        for v in edges(schema, &f.shape) {
            if fields.get(&f.name) == Some(&v) {
                continue;
            }
            let mut body = fields.clone();
            body.insert(f.name.clone(), v);
            let body = Value::Object(body);
            if judge::check(schema, &body, shape).is_empty() {
                out.push(body);
            }
        }
    }
    out
}

/// `base` (a valid body of `shape`) with one top-level integer spelled another way JSON allows:
/// `600` as `600.0`, which JSON Schema counts as the same integer. A server must treat the two
/// alike (issue: a value refused for its spelling). Each body is judged valid as a whole; only
/// integers a double holds exactly are respelled.
pub fn spellings(schema: &Schema, shape: &Shape, base: &Value) -> Vec<Value> {
    let Some((object, fields)) = object_and_fields(schema, shape, base) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for f in &object.fields {
        let integer = |s: &Shape| matches!(s, Shape::Integer { .. });
        let is_integer = match &f.shape {
            Shape::Nullable { inner } => integer(inner),
            s => integer(s),
        };
        let Some(n) = fields.get(&f.name).and_then(Value::as_i64) else {
            continue;
        };
        if !is_integer || n.unsigned_abs() > 1 << 53 {
            continue;
        }
        let mut body = fields.clone();
        body.insert(f.name.clone(), Value::from(n as f64));
        let body = Value::Object(body);
        if judge::check(schema, &body, shape).is_empty() {
            out.push(body);
        }
    }
    out
}

/// For each top-level integer and string field of `shape`: `base` (a valid body of it) with the
/// field set to a value that has another JSON spelling ([`crate::http::Spelling`]), and that
/// spelling: an integer with an exponent (`6e2`), a non-empty string with every character
/// escaped (`"\u00e9"`). The field keeps `base`'s value where it has one; else it takes an edge
/// of its own, or `"é"` or `"a"`, whichever leaves the body valid. The value is the same either
/// way, only the text on the wire differs: every one must be taken as the body written plainly.
pub fn spelled_bodies(
    schema: &Schema,
    shape: &Shape,
    base: &Value,
) -> Vec<(Value, crate::http::Spelling)> {
    use crate::http::{Form, Spelling};
    let Some((object, fields)) = object_and_fields(schema, shape, base) else {
        return Vec::new();
    };
    // As with `600.0`: only integers a double holds exactly, which every JSON reader takes alike.
    let form_of = |v: &Value| match v {
        Value::Number(n) if n.as_i64().is_some_and(|i| i.unsigned_abs() <= 1 << 53) => {
            Some(Form::Exponent)
        }
        Value::String(s) if !s.is_empty() => Some(Form::EscapedUnicode),
        _ => None,
    };
    let mut out = Vec::new();
    for f in &object.fields {
        let own = fields
            .get(&f.name)
            .filter(|v| form_of(v).is_some())
            .cloned();
        // Text of our own only where any text goes: the judge leaves patterns and formats to
        // the server, so a made-up string could break one.
        let free_text = matches!(
            strip_nullable(&f.shape),
            Shape::String {
                pattern: None,
                format: None,
                ..
            }
        );
        let made_up = [Value::from("\u{e9}"), Value::from("a")]
            .into_iter()
            .filter(|_| free_text);
        let candidates = own.into_iter().chain(
            edges(schema, &f.shape)
                .into_iter()
                .chain(made_up)
                .filter(|v| form_of(v).is_some()),
        );
        for v in candidates {
            let mut body = fields.clone();
            body.insert(f.name.clone(), v.clone());
            let body = Value::Object(body);
            if !judge::check(schema, &body, shape).is_empty() {
                continue;
            }
            if let Some(form) = form_of(&v) {
                let key = f.name.clone();
                out.push((body, Spelling { key, form }));
            }
            break;
        }
    }
    out
}

/// `shape` without a nullable wrapper.
fn strip_nullable(shape: &Shape) -> &Shape {
    match shape {
        Shape::Nullable { inner } => inner,
        s => s,
    }
}

/// The integer edges of [`body_edges`], and `base`'s own integers, each respelled as
/// [`spellings`] does: only the field the edge sets (or, for `base`, each in turn).
pub fn spelled_edges(schema: &Schema, shape: &Shape, base: &Value) -> Vec<Value> {
    let mut out = spellings(schema, shape, base);
    for edge in body_edges(schema, shape, base) {
        let set: Vec<&String> = edge
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, v)| base.get(k.as_str()) != Some(*v))
            .map(|(k, _)| k)
            .collect();
        out.extend(spellings(schema, shape, &edge).into_iter().filter(|s| {
            s.as_object()
                .into_iter()
                .flatten()
                .all(|(k, v)| edge.get(k.as_str()) == Some(v) || set.contains(&k))
        }));
    }
    out
}

/// An integer shape's bounds: the document's, within the type's range (all of `i64` when none).
fn integer_bounds(min: Option<i64>, max: Option<i64>, range: Option<(i64, i64)>) -> (i128, i128) {
    let (rlo, rhi) = range.unwrap_or((i64::MIN, i64::MAX));
    (
        i128::from(min.unwrap_or(rlo).max(rlo)),
        i128::from(max.unwrap_or(rhi).min(rhi)),
    )
}

/// The step of an integer's `multipleOf`, where it is a whole number the drawer can use.
fn integer_step(multiple_of: Option<f64>) -> Option<i128> {
    multiple_of
        .filter(|m| *m >= 1.0 && m.fract() == 0.0 && *m < 1e18)
        .map(|m| m as i128)
}

/// The longest string an edge may be (a longer `maxLength` gets no longest string, a longer
/// `minLength` no string at all).
const LONGEST_EDGE: u64 = 64 * 1024;

fn edges_into(shape: &Shape, out: &mut Vec<Value>) {
    match shape {
        Shape::Null => out.push(Value::Null),
        Shape::Boolean => out.extend([Value::Bool(false), Value::Bool(true)]),
        Shape::Values { values } => out.extend(values.iter().cloned()),
        Shape::Enum { values, .. } => out.extend(values.iter().cloned().map(Value::from)),
        Shape::Integer {
            min,
            max,
            multiple_of,
            range,
        } => {
            let (lo, hi) = integer_bounds(*min, *max, *range);
            let step = integer_step(*multiple_of).unwrap_or(1);
            let (klo, khi) = strategy::multiples(lo, hi, step);
            if klo <= khi {
                for k in [klo, klo + 1, khi - 1, khi] {
                    if (klo..=khi).contains(&k) {
                        out.extend(i64::try_from(k * step).ok().map(Value::from));
                    }
                }
                if lo <= 0 && 0 <= hi {
                    out.push(Value::from(0));
                }
            }
        }
        Shape::Number {
            min,
            max,
            exclusive_min,
            exclusive_max,
            ..
        } => {
            if let (Some(lo), false) = (min, exclusive_min) {
                out.push(Value::from(*lo));
            }
            if let (Some(hi), false) = (max, exclusive_max) {
                out.push(Value::from(*hi));
            }
            out.push(Value::from(0.0));
        }
        Shape::String {
            min_len,
            max_len,
            pattern: None,
            format: None,
        } => {
            // A `minLength` past the cap gets no edge at all: the document may ask for any size.
            let lo = min_len.unwrap_or(0);
            if lo > LONGEST_EDGE {
                return;
            }
            out.push(Value::from("a".repeat(lo as usize)));
            if let Some(hi) = max_len.filter(|h| *h >= lo && *h <= LONGEST_EDGE) {
                out.push(Value::from("a".repeat(hi as usize)));
            }
        }
        Shape::Array { min_items, .. } if min_items.unwrap_or(0) == 0 => {
            out.push(Value::Array(Vec::new()))
        }
        Shape::OneOf { options } => {
            for o in options {
                edges_into(o, out);
            }
        }
        Shape::Nullable { inner } => {
            out.push(Value::Null);
            edges_into(inner, out);
        }
        _ => {}
    }
}

fn draw(
    schema: &Arc<Schema>,
    shape: &Shape,
    place: Place,
    depth: u32,
) -> Option<BoxedStrategy<Value>> {
    if depth > 12 {
        return None;
    }
    Some(match shape {
        Shape::Any => strategy::any_json(),
        Shape::Null => Just(Value::Null).boxed(),
        Shape::Boolean => any::<bool>().prop_map(Value::from).boxed(),
        Shape::Values { values } if !values.is_empty() => {
            proptest::sample::select(values.clone()).boxed()
        }
        Shape::Values { .. } => return None,
        Shape::Integer {
            min,
            max,
            multiple_of,
            range,
        } => {
            // The generated strategies' building blocks (the runtime's `strategy` module), on
            // the same ranges: the type's range where the document states no bound.
            let (lo, hi) = integer_bounds(*min, *max, *range);
            if lo > hi {
                return None;
            }
            match integer_step(*multiple_of) {
                Some(step) => {
                    let (klo, khi) = strategy::multiples(lo, hi, step);
                    if klo > khi {
                        return None;
                    }
                    strategy::integer_multiple(lo, hi, step)
                        .prop_map(|v| Value::from(v as i64))
                        .boxed()
                }
                None => strategy::integer(lo, hi)
                    .prop_map(|v| Value::from(v as i64))
                    .boxed(),
            }
        }
        Shape::Number {
            min,
            max,
            exclusive_min,
            exclusive_max,
            multiple_of,
        } => {
            let lo = min.unwrap_or(-1e15);
            let hi = max.unwrap_or(1e15);
            let (el, eh) = (*exclusive_min, *exclusive_max);
            if lo > hi || (lo == hi && (el || eh)) {
                return None;
            }
            match multiple_of.filter(|m| *m > 0.0 && m.is_finite()) {
                Some(m) => {
                    let (klo, khi) = strategy::float_multiples(lo, hi, el, eh, m);
                    if klo > khi {
                        return None;
                    }
                    strategy::number_multiple(lo, hi, el, eh, m)
                        .prop_map(Value::from)
                        .boxed()
                }
                None => strategy::number(lo, hi, el, eh)
                    .prop_map(Value::from)
                    .boxed(),
            }
        }
        Shape::String {
            min_len,
            max_len,
            pattern,
            format,
        } => string(
            *min_len,
            *max_len,
            pattern.as_deref(),
            format.as_deref(),
            place,
        )?,
        Shape::Enum { values, open } => {
            let other = "[a-z_]{1,12}".prop_map(Value::from);
            if values.is_empty() {
                return Some(other.boxed());
            }
            let known = proptest::sample::select(values.clone()).prop_map(Value::from);
            if *open {
                prop_oneof![3 => known, 1 => other].boxed()
            } else {
                known.boxed()
            }
        }
        // The positions every value holds, then each optional one in turn (the shortest value
        // of each length the positions allow); no rest, which `min_items` may require.
        Shape::Tuple {
            items,
            required,
            min_items,
            ..
        } => {
            if min_items.is_some_and(|m| m > items.len() as u64) {
                return None;
            }
            let least = (*required)
                .max(min_items.unwrap_or(0) as usize)
                .min(items.len());
            let parts: Vec<BoxedStrategy<Value>> = items
                .iter()
                .map(|s| draw(schema, s, place, depth + 1))
                .collect::<Option<_>>()?;
            let len = least..=items.len();
            (parts, len)
                .prop_map(|(values, len)| Value::Array(values.into_iter().take(len).collect()))
                .boxed()
        }
        Shape::Array {
            items,
            min_items,
            max_items,
            unique,
        } => {
            let lo = min_items.unwrap_or(0).min(64) as usize;
            let hi = max_items
                .map_or(lo.max(3), |m| m as usize)
                .min(lo + 3)
                .max(lo);
            let item = match draw(schema, items, place, depth + 1) {
                Some(i) => i,
                None if lo == 0 => return Some(Just(Value::Array(Vec::new())).boxed()),
                None => return None,
            };
            let unique = *unique;
            proptest::collection::vec(item, lo..=hi)
                .prop_map(move |mut v| {
                    if unique {
                        let mut kept: Vec<Value> = Vec::new();
                        for x in v.drain(..) {
                            if !kept.iter().any(|k| judge::same_json(k, &x)) {
                                kept.push(x);
                            }
                        }
                        v = kept;
                    }
                    v
                })
                .prop_filter("too few unique items", move |v| v.len() >= lo)
                .prop_map(Value::Array)
                .boxed()
        }
        Shape::Map { values } => match draw(schema, values, place, depth + 1) {
            Some(inner) => proptest::collection::btree_map(strategy::key(), inner, 0..=2)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
                .boxed(),
            None => Just(Value::Object(Map::new())).boxed(),
        },
        Shape::Object { name } => {
            let o = schema.object(name)?;
            draw_object(schema, o, depth + 1)?
        }
        Shape::OneOf { options } => {
            let arms: Vec<BoxedStrategy<Value>> = options
                .iter()
                .filter_map(|o| draw(schema, o, place, depth + 1))
                .collect();
            if arms.is_empty() {
                return None;
            }
            // A value that fits several branches breaks `oneOf`: keep those that fit one. Where
            // a fitting branch has a pattern or format (which the judge does not read), the
            // judge cannot tell, and the value is kept.
            let (schema, options) = (schema.clone(), options.clone());
            proptest::strategy::Union::new(arms)
                .prop_filter("fits more than one branch", move |v| {
                    let fits: Vec<&Shape> = options
                        .iter()
                        .filter(|o| judge::check(&schema, v, o).is_empty())
                        .collect();
                    fits.len() == 1 || fits.iter().any(|o| !judged_exactly(&schema, o, 0))
                })
                .boxed()
        }
        Shape::Nullable { inner } => match draw(schema, inner, place, depth + 1) {
            Some(s) => strategy::optional(s)
                .prop_map(|v| v.unwrap_or(Value::Null))
                .boxed(),
            None => Just(Value::Null).boxed(),
        },
    })
}

fn draw_object(schema: &Arc<Schema>, o: &Object, depth: u32) -> Option<BoxedStrategy<Value>> {
    let mut parts: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    for f in &o.fields {
        let name = f.name.clone();
        let inner = if depth > MAX_DEPTH {
            None
        } else {
            draw(schema, &f.shape, Place::Body, depth + 1)
        };
        // The generated strategies' presence: `optional` (absent or a value; null or a value
        // for a required nullable field), `patch` (absent, null or a value).
        let entry = move |v: Option<Value>| v.map(|v| (name.clone(), v));
        let part: BoxedStrategy<Option<(String, Value)>> = match (inner, f.required, f.nullable) {
            (Some(s), true, false) => s.prop_map(move |v| entry(Some(v))).boxed(),
            (Some(s), true, true) => strategy::optional(s)
                .prop_map(move |v| entry(Some(v.unwrap_or(Value::Null))))
                .boxed(),
            (Some(s), false, false) => strategy::optional(s).prop_map(entry).boxed(),
            (Some(s), false, true) => strategy::patch(s)
                .prop_map(move |p| match p {
                    openapi_runtime::Patch::Absent => entry(None),
                    openapi_runtime::Patch::Null => entry(Some(Value::Null)),
                    openapi_runtime::Patch::Set(v) => entry(Some(v)),
                })
                .boxed(),
            (None, true, true) => Just(entry(Some(Value::Null))).boxed(),
            (None, true, false) => return None,
            (None, false, _) => continue,
        };
        parts.push(part);
    }
    Some(
        parts
            .prop_map(|kv| Value::Object(kv.into_iter().flatten().collect()))
            .boxed(),
    )
}

/// Strings of a length, a pattern or a format.
fn string(
    min: Option<u64>,
    max: Option<u64>,
    pattern: Option<&str>,
    format: Option<&str>,
    place: Place,
) -> Option<BoxedStrategy<Value>> {
    let lo = min.unwrap_or(0) as usize;
    let hi = max.map_or(lo + 24, |m| (m as usize).min(lo + 64)).max(lo);
    if max.is_some_and(|m| (m as usize) < lo) {
        return None;
    }
    // Patterns and formats make their own lengths: only the document's bounds hold them.
    let (lo_doc, hi_doc) = (lo, max.map_or(usize::MAX, |m| m as usize));
    let fits = move |s: &String| (lo_doc..=hi_doc).contains(&s.chars().count());
    if let Some(p) = pattern {
        // Drawn from the pattern without its lookarounds (proptest's generator has none), then
        // held to the whole pattern.
        let whole = fancy_regex::Regex::new(p).ok()?;
        let s = proptest::string::string_regex(&ascii_classes(&without_lookaround(p))).ok()?;
        return Some(
            s.prop_filter("length outside the bounds", fits)
                // ECMA-262's `.` does not match line terminators where Rust's does: such
                // characters are left out, so the value matches in both dialects.
                .prop_filter("a line terminator or control character", |s| {
                    !s.chars()
                        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
                })
                .prop_filter("does not match the whole pattern", move |s| {
                    whole.is_match(s).unwrap_or(false)
                })
                .prop_map(Value::from)
                .boxed(),
        );
    }
    let formatted: Option<BoxedStrategy<String>> = match format {
        Some("date-time") => Some(
            (
                2000u32..2030,
                1u32..=12,
                1u32..=28,
                0u32..24,
                0u32..60,
                0u32..60,
            )
                .prop_map(|(y, mo, d, h, mi, s)| {
                    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
                })
                .boxed(),
        ),
        Some("date") => Some(
            (2000u32..2030, 1u32..=12, 1u32..=28)
                .prop_map(|(y, mo, d)| format!("{y:04}-{mo:02}-{d:02}"))
                .boxed(),
        ),
        Some("time") => Some(
            (0u32..24, 0u32..60, 0u32..60)
                .prop_map(|(h, mi, s)| format!("{h:02}:{mi:02}:{s:02}Z"))
                .boxed(),
        ),
        Some("uuid") => Some(
            any::<u128>()
                .prop_map(|n| {
                    let h = format!("{n:032x}");
                    format!(
                        "{}-{}-4{}-a{}-{}",
                        &h[..8],
                        &h[8..12],
                        &h[13..16],
                        &h[17..20],
                        &h[20..]
                    )
                })
                .boxed(),
        ),
        Some("email") => Some(
            "[a-z]{1,10}"
                .prop_map(|u| format!("{u}@example.com"))
                .boxed(),
        ),
        Some("uri" | "url" | "uri-reference" | "iri") => Some(
            "[a-z]{1,10}"
                .prop_map(|p| format!("https://example.com/{p}"))
                .boxed(),
        ),
        Some("hostname") => Some(
            "[a-z]{1,10}"
                .prop_map(|h| format!("{h}.example.com"))
                .boxed(),
        ),
        Some("ipv4") => Some(
            any::<[u8; 4]>()
                .prop_map(|b| format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]))
                .boxed(),
        ),
        Some("ipv6") => Some(
            any::<u16>()
                .prop_map(|n| format!("2001:db8::{n:x}"))
                .boxed(),
        ),
        Some("byte") => Some(
            "[a-z]{0,6}"
                .prop_map(|s| openapi_runtime::base64(s.as_bytes()))
                .boxed(),
        ),
        _ => None,
    };
    if let Some(f) = formatted {
        return Some(
            f.prop_filter("length outside the bounds", fits)
                .prop_map(Value::from)
                .boxed(),
        );
    }
    let chars = match place {
        // A body string is any string: the generated strategies' own.
        Place::Body => return Some(strategy::string(min, max).prop_map(Value::from).boxed()),
        // Path and query values go percent-encoded; headers take printable ASCII without edge
        // spaces.
        Place::Header => "[a-zA-Z0-9_.-]",
        Place::Path | Place::Query => "[a-zA-Z0-9_.~ é-]",
    };
    // An empty path segment is no segment; an empty query value is not allowed unless the
    // document says `allowEmptyValue` (OpenAPI 3.0), which this drawer does not read.
    let lo_gen = if matches!(place, Place::Path | Place::Query) {
        lo.max(1)
    } else {
        lo
    };
    let hi_gen = hi.max(lo_gen);
    let plain = proptest::string::string_regex(&format!("{chars}{{{lo_gen},{hi_gen}}}")).ok()?;
    if place == Place::Path {
        // `.` and `..` are dot-segments: every client and server normalises them away.
        return Some(
            plain
                .prop_filter("a dot-segment", |s| s != "." && s != "..")
                .prop_map(Value::from)
                .boxed(),
        );
    }
    Some(plain.prop_map(Value::from).boxed())
}

/// Whether the judge reads every constraint of a shape: no pattern or format in it, at any depth
/// (bounded).
fn judged_exactly(schema: &Schema, shape: &Shape, depth: u32) -> bool {
    if depth > 6 {
        return false;
    }
    match shape {
        Shape::String {
            pattern, format, ..
        } => pattern.is_none() && format.is_none(),
        Shape::Nullable { inner } => judged_exactly(schema, inner, depth + 1),
        Shape::Array { items, .. } => judged_exactly(schema, items, depth + 1),
        Shape::Tuple { items, rest, .. } => items
            .iter()
            .chain(rest.as_deref())
            .all(|s| judged_exactly(schema, s, depth + 1)),
        Shape::Map { values } => judged_exactly(schema, values, depth + 1),
        Shape::OneOf { options } => options.iter().all(|o| judged_exactly(schema, o, depth + 1)),
        Shape::Object { name } => schema.object(name).is_none_or(|o| {
            o.fields
                .iter()
                .all(|f| judged_exactly(schema, &f.shape, depth + 1))
        }),
        _ => true,
    }
}

/// `p` without its lookahead and lookbehind groups.
fn without_lookaround(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..chars.len().min(i + 4)].iter().collect();
        let look = ["(?!", "(?=", "(?<!", "(?<="]
            .iter()
            .any(|l| rest.starts_with(*l));
        if look {
            // Skip to the matching parenthesis.
            let mut depth = 0;
            let mut j = i;
            while j < chars.len() {
                match chars[j] {
                    '\\' => j += 1,
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            i = j + 1;
            continue;
        }
        if chars[i] == '\\' && i + 1 < chars.len() {
            out.push(chars[i]);
            out.push(chars[i + 1]);
            i += 2;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// A regex of the document (ECMA-262) in the terms proptest's generator reads: anchors dropped
/// (at either end of any branch), lazy quantifiers read as greedy (they match the same strings),
/// `\d`, `\w` and `\s` as their ASCII classes (ECMA's are ASCII; Rust's are Unicode).
fn ascii_classes(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let chars: Vec<char> = p.chars().collect();
    let mut in_class = false;
    // Whether the last thing written is a quantifier (`+`, `*`, `?`, `{m,n}`) outside a class.
    let mut quantified = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            match chars[i + 1] {
                'd' => out.push_str(if in_class { "0-9" } else { "[0-9]" }),
                'w' => out.push_str(if in_class {
                    "A-Za-z0-9_"
                } else {
                    "[A-Za-z0-9_]"
                }),
                's' => out.push_str(if in_class { " " } else { "[ ]" }),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
            quantified = false;
            i += 2;
            continue;
        }
        match c {
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            // Anchors, at either end of any branch: the generator draws whole strings anyway.
            '^' | '$' if !in_class => {
                i += 1;
                continue;
            }
            // `a+?` is `a+` to a generator: the same strings match.
            '?' if !in_class && quantified => {
                quantified = false;
                i += 1;
                continue;
            }
            _ => {}
        }
        quantified = !in_class && matches!(c, '+' | '*' | '?' | '}');
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn empty() -> Schema {
        Schema {
            objects: Default::default(),
            operations: Default::default(),
        }
    }

    fn int(min: Option<i64>, max: Option<i64>, multiple_of: Option<f64>) -> Shape {
        Shape::Integer {
            min,
            max,
            multiple_of,
            range: None,
        }
    }

    #[test]
    fn ecma_patterns_read_as_the_generator_reads_them() {
        assert_eq!(ascii_classes(r#"^"([0-9]+?)"$|\*"#), r#""([0-9]+)"|\*"#);
        assert_eq!(
            ascii_classes(r"^\d{2,}?-[\w.]+$"),
            r"[0-9]{2,}-[A-Za-z0-9_.]+"
        );
        assert_eq!(ascii_classes(r"a\+?b"), r"a\+?b");
        assert_eq!(ascii_classes(r"x??(?:y)"), r"x?(?:y)");
        assert_eq!(ascii_classes(r"[$^]+"), r"[$^]+");
        // Drawn, each value matches the whole pattern as written.
        let shape = Shape::String {
            min_len: None,
            max_len: None,
            pattern: Some(r#"^"([0-9]+?)"$|\*"#.into()),
            format: None,
        };
        let s = Arc::new(empty());
        let strategy = value(&s, &shape, Place::Header).expect("drawable");
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let re = fancy_regex::Regex::new(r#"^"([0-9]+?)"$|\*"#).unwrap();
        for _ in 0..20 {
            let v = strategy.new_tree(&mut runner).unwrap().current();
            assert!(re.is_match(v.as_str().unwrap()).unwrap(), "{v}");
        }
    }

    #[test]
    fn tuples_are_drawn_as_the_judge_admits_and_refused_otherwise() {
        use proptest::strategy::ValueTree;
        let s = Arc::new(empty());
        let tuple = Shape::Tuple {
            items: vec![
                int(Some(0), Some(9), None),
                Shape::Boolean,
                int(None, None, None),
            ],
            required: 2,
            rest: None,
            min_items: None,
            max_items: None,
        };
        let strategy = value(&s, &tuple, Place::Body).unwrap();
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let mut lengths = std::collections::BTreeSet::new();
        for _ in 0..64 {
            let v = strategy.new_tree(&mut runner).unwrap().current();
            assert!(crate::judge::check(&s, &v, &tuple).is_empty(), "{v}");
            lengths.insert(v.as_array().unwrap().len());
        }
        // Both lengths the positions allow are drawn.
        assert_eq!(lengths.into_iter().collect::<Vec<_>>(), [2, 3]);
        for wrong in [
            json!([1]),
            json!([1, true, 2, 3]),
            json!([true, 1]),
            json!({}),
        ] {
            assert!(
                !crate::judge::check(&s, &wrong, &tuple).is_empty(),
                "{wrong}"
            );
        }
        let open = Shape::Tuple {
            items: vec![Shape::Boolean],
            required: 1,
            rest: Some(Box::new(int(Some(0), None, None))),
            min_items: None,
            max_items: Some(3),
        };
        assert!(crate::judge::check(&s, &json!([true, 1, 2]), &open).is_empty());
        assert!(!crate::judge::check(&s, &json!([true, -1]), &open).is_empty());
        assert!(!crate::judge::check(&s, &json!([true, 1, 2, 3]), &open).is_empty());
    }

    #[test]
    fn edges_are_the_ends_of_a_range_and_their_neighbours() {
        let s = empty();
        assert_eq!(
            edges(&s, &int(Some(10), Some(1200), None)),
            [json!(10), json!(11), json!(1199), json!(1200)]
        );
        // Zero where the range holds it; multiples keep to the step.
        assert_eq!(
            edges(&s, &int(Some(-7), Some(7), Some(5.0))),
            [json!(-5), json!(0), json!(5)]
        );
        let open = edges(&s, &int(None, None, None));
        for v in [i64::MIN, i64::MIN + 1, 0, i64::MAX - 1, i64::MAX] {
            assert!(open.contains(&json!(v)), "{v} not in {open:?}");
        }
        // An empty range has no edge.
        assert!(edges(&s, &int(Some(3), Some(2), None)).is_empty());
    }

    #[test]
    fn edges_of_strings_sets_and_nullables() {
        let s = empty();
        let text = |min_len, max_len, pattern: Option<&str>| Shape::String {
            min_len,
            max_len,
            pattern: pattern.map(String::from),
            format: None,
        };
        assert_eq!(
            edges(&s, &text(Some(2), Some(5), None)),
            [json!("aa"), json!("aaaaa")]
        );
        assert_eq!(edges(&s, &text(None, None, None)), [json!("")]);
        // A huge minimum is not built (it would be a gigabyte).
        assert!(edges(&s, &text(Some(1 << 30), None, None)).is_empty());
        // A pattern the judge does not read: no edge it could not confirm.
        assert!(edges(&s, &text(None, None, Some("^x+$"))).is_empty());
        let set = Shape::Enum {
            values: vec!["all".into(), "listed".into()],
            open: false,
        };
        assert_eq!(edges(&s, &set), [json!("all"), json!("listed")]);
        let nullable = Shape::Nullable {
            inner: Box::new(Shape::Boolean),
        };
        assert_eq!(
            edges(&s, &nullable),
            [Value::Null, json!(false), json!(true)]
        );
    }

    #[test]
    fn body_edges_change_one_field_of_a_valid_body_and_stay_valid() {
        let schema: Schema = serde_json::from_value(json!({
            "objects": {"Req": {"name": "Req", "closed": true, "fields": [
                {"name": "id", "required": true, "readback": null,
                 "shape": {"kind": "string", "min_len": 1, "max_len": 3}},
                {"name": "size", "readback": null,
                 "shape": {"kind": "integer", "min": 1, "max": 4}},
            ]}},
            "operations": {},
        }))
        .unwrap();
        let shape = Shape::Object { name: "Req".into() };
        let base = json!({"id": "x", "size": 2});
        let out = body_edges(&schema, &shape, &base);
        assert_eq!(
            out,
            [
                json!({"id": "a", "size": 2}),
                json!({"id": "aaa", "size": 2}),
                json!({"id": "x", "size": 1}),
                json!({"id": "x", "size": 3}),
                json!({"id": "x", "size": 4}),
            ]
        );
        for body in &out {
            assert!(judge::check(&schema, body, &shape).is_empty(), "{body}");
        }
        // Not an object: nothing.
        assert!(body_edges(&schema, &Shape::Boolean, &json!(true)).is_empty());
    }

    #[test]
    fn lookarounds_are_dropped_and_classes_made_ascii() {
        let name = r"^(?![0-9a-f]{8}-[0-9a-f]{4}$)^[a-z][a-z0-9-]*[a-zA-Z0-9]$";
        assert_eq!(without_lookaround(name), r"^^[a-z][a-z0-9-]*[a-zA-Z0-9]$");
        assert_eq!(
            ascii_classes(&without_lookaround(name)),
            "[a-z][a-z0-9-]*[a-zA-Z0-9]"
        );
        assert_eq!(without_lookaround(r"a\(?=b)c(?<!d)"), r"a\(?=b)c");
        assert_eq!(ascii_classes(r"^\d+\.\w$"), r"[0-9]+\.[A-Za-z0-9_]");
        assert_eq!(openapi_runtime::base64(b"ab"), "YWI=");
        assert_eq!(openapi_runtime::base64(b"abc"), "YWJj");
    }

    #[test]
    fn a_pattern_with_a_lookahead_is_drawn_and_held_to_the_whole_pattern() {
        use proptest::strategy::ValueTree;
        let name = r"^(?![0-9]+$)^[a-z0-9]{1,6}$";
        let s = string(None, Some(6), Some(name), None, Place::Body).unwrap();
        let re = fancy_regex::Regex::new(name).unwrap();
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        for _ in 0..64 {
            let v = s.new_tree(&mut runner).unwrap().current();
            let text = v.as_str().unwrap();
            assert!(re.is_match(text).unwrap(), "{text}");
        }
    }
}

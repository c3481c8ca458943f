//! Invalid bodies as named mutations of a valid one: one rule broken at a time, each knowing the
//! rule and the field. A mutation that the schema still accepts is dropped, never sent as negative.

use crate::judge::{self, dotted};
use crate::meta::{Field, Object, Schema, Shape};
use serde_json::{json, Value};

/// A body that a correct server must reject.
#[derive(Debug, Clone, PartialEq)]
pub struct Mutation {
    /// The rule broken: a [`Rule`]'s name (one of [`RULES`]).
    pub rule: &'static str,
    /// The field, as a dotted path (`shutdown_timeout`, `gpus.gpus[0].slot`, `(body)`).
    pub field: String,
    /// The JSON path of the field, as FastAPI puts it after `"body"` in a 422's `loc`.
    pub path: Vec<Value>,
    /// The whole body to send.
    pub body: Value,
    /// Whether common lax validators (Pydantic's default mode) coerce this value into a valid one
    /// (`"4"` or `true` for an integer, `1` for a boolean): a server that accepts it is lenient
    /// rather than wrong, and is reported as such unless strict types are asked for.
    pub coercible: bool,
}

/// The rules' names, in the order reports list them.
pub const RULES: [&str; 13] = [
    "below_minimum",
    "above_maximum",
    "not_a_multiple",
    "wrong_type",
    "null_not_nullable",
    "missing_required",
    "not_in_enum",
    "too_short",
    "too_long",
    "too_few_items",
    "too_many_items",
    "not_an_object",
    "undeclared_key",
];

/// A mutation not yet applied: what to put where. The random phase builds every plan of a body
/// and applies only those it picks.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The rule broken: a [`Rule`]'s name.
    pub rule: &'static str,
    /// The field, as a dotted path.
    pub field: String,
    /// The JSON path of the field (empty: the whole body is replaced).
    pub path: Vec<Value>,
    /// What goes there (`None`: the key is taken out).
    pub value: Option<Value>,
    /// As [`Mutation::coercible`].
    pub coercible: bool,
}

impl Plan {
    /// The mutation this plan makes of `valid`, the body it was planned from (`None` for a body
    /// it does not fit: a parent of its path, or the key it takes out, is missing).
    pub fn apply(&self, valid: &Value) -> Option<Mutation> {
        let body = if self.path.is_empty() {
            self.value.clone()?
        } else {
            with(valid, &self.path, self.value.clone())?
        };
        Some(Mutation {
            rule: self.rule,
            field: self.field.clone(),
            path: self.path.clone(),
            body,
            coercible: self.coercible,
        })
    }
}

/// Every mutation of `valid` (an instance of `object`): each field of the schema, present or not,
/// and the fields of nested objects and list items that `valid` holds.
pub fn mutations(schema: &Schema, valid: &Value, object: &Object) -> Vec<Mutation> {
    applied(valid, plans(schema, valid, object))
}

/// The plans of [`mutations`], in the same order, without their bodies.
pub fn plans(schema: &Schema, valid: &Value, object: &Object) -> Vec<Plan> {
    plans_of(schema, valid, object, false, true)
}

fn applied(valid: &Value, plans: Vec<Plan>) -> Vec<Mutation> {
    plans.iter().filter_map(|p| p.apply(valid)).collect()
}

/// [`mutations`] of a body whose shape is `body`: a nullable object body is not broken by `null`.
pub fn body_mutations(schema: &Schema, valid: &Value, body: &Shape) -> Vec<Mutation> {
    applied(valid, body_plans(schema, valid, body, true))
}

/// [`body_mutations`] with every candidate built and judged as a whole body: slower, and the
/// reference the judging at a mutation's path alone is tested against.
pub fn body_mutations_judged_whole(schema: &Schema, valid: &Value, body: &Shape) -> Vec<Mutation> {
    applied(valid, body_plans(schema, valid, body, false))
}

fn body_plans(schema: &Schema, valid: &Value, body: &Shape, local: bool) -> Vec<Plan> {
    match body {
        Shape::Object { name } => schema
            .object(name)
            .map(|o| plans_of(schema, valid, o, false, local))
            .unwrap_or_default(),
        Shape::Nullable { inner } => match inner.as_ref() {
            Shape::Object { name } if !valid.is_null() => schema
                .object(name)
                .map(|o| plans_of(schema, valid, o, true, local))
                .unwrap_or_default(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn plans_of(
    schema: &Schema,
    valid: &Value,
    object: &Object,
    nullable: bool,
    local: bool,
) -> Vec<Plan> {
    let mut g = Generator {
        schema,
        root: valid,
        object,
        // A mutation of a valid body breaks only what lies on its path, so it is judged there
        // alone; of an invalid one, in full.
        local: local && judge::check_object(schema, valid, object).is_empty(),
        under_unique: false,
        out: Vec::new(),
        at_path: 0,
    };
    let null = (!nullable).then_some(Value::Null);
    for body in [
        Some(json!([])),
        Some(json!("update")),
        Some(json!(42)),
        null,
    ]
    .into_iter()
    .flatten()
    {
        g.out.push(Plan {
            rule: Rule::NotAnObject.name(),
            field: "(body)".into(),
            path: vec![],
            value: Some(body),
            coercible: false,
        });
    }
    g.object(valid, object, &mut Vec::new(), 0);
    g.out
}

/// What a mutation's rejection is decided by without building its body.
enum Verdict<'f> {
    /// Always rejected (an undeclared key of a closed object).
    Rejected,
    /// Decided by this field's schema alone: the rest of a valid body stays valid.
    Field(&'f Field),
}

/// Builds the mutations of one valid body. Each kept mutation is one the schema rejects, once
/// per key: two mutations of one rule at one path differ only in what they put there.
struct Generator<'a> {
    schema: &'a Schema,
    root: &'a Value,
    /// The schema of `root`.
    object: &'a Object,
    /// Whether `root` is valid, so that a mutation can be judged at its path alone.
    local: bool,
    /// Whether the walk is inside an array with `uniqueItems`, where a changed item can collide
    /// with another: such mutations are judged in full.
    under_unique: bool,
    out: Vec<Plan>,
    /// Where in `out` the plans of the path at hand begin: a path is visited once, so a key
    /// seen before can only be among them.
    at_path: usize,
}

impl Generator<'_> {
    fn object(&mut self, here: &Value, object: &Object, path: &mut Vec<Value>, depth: u32) {
        if depth > 6 {
            return;
        }
        // `additionalProperties: false`: a key the schema does not declare is a negative case.
        if object.closed && here.is_object() {
            path.push(Value::String("contract_tests_undeclared".into()));
            self.at_path = self.out.len();
            let rule = Rule::UndeclaredKey.name();
            self.push(rule, path, Some(json!(true)), false, Verdict::Rejected);
            path.pop();
        }
        for field in &object.fields {
            path.push(Value::String(field.name.clone()));
            self.at_path = self.out.len();
            for rule in Rule::FIELD {
                for (value, coercible) in rule.values(field) {
                    self.push(rule.name(), path, value, coercible, Verdict::Field(field));
                }
            }
            // Descend into what the body holds.
            if let Some(v) = here.get(&field.name) {
                self.nested(v, &field.shape, path, depth);
            }
            path.pop();
        }
    }

    fn nested(&mut self, v: &Value, shape: &Shape, path: &mut Vec<Value>, depth: u32) {
        match (shape, v) {
            (Shape::Object { name }, Value::Object(_)) => {
                if let Some(o) = self.schema.object(name) {
                    self.object(v, o, path, depth + 1);
                }
            }
            (Shape::Nullable { inner }, _) => self.nested(v, inner, path, depth),
            (Shape::Array { items, unique, .. }, Value::Array(a)) if !a.is_empty() => {
                let outer = self.under_unique;
                self.under_unique |= *unique;
                path.push(Value::from(0));
                self.nested(&a[0], items, path, depth + 1);
                path.pop();
                self.under_unique = outer;
            }
            _ => {}
        }
    }

    /// Keeps the mutation that puts `value` at `path` (or takes the key out) if the schema
    /// rejects it and no mutation of the same key came before.
    fn push(
        &mut self,
        rule: &'static str,
        path: &[Value],
        value: Option<Value>,
        coercible: bool,
        verdict: Verdict<'_>,
    ) {
        if !applies(self.root, path, value.is_none()) {
            return;
        }
        if self.out[self.at_path..]
            .iter()
            .any(|p| p.rule == rule && p.value == value)
        {
            return;
        }
        let rejected = match verdict {
            Verdict::Rejected => true,
            Verdict::Field(f) if self.local && !self.under_unique => match &value {
                None => f.required,
                Some(Value::Null) => !f.nullable,
                Some(v) => !judge::check(self.schema, v, &f.shape).is_empty(),
            },
            Verdict::Field(_) => with(self.root, path, value.clone())
                .is_some_and(|b| !judge::check_object(self.schema, &b, self.object).is_empty()),
        };
        if !rejected {
            return;
        }
        self.out.push(Plan {
            rule,
            field: dotted(path),
            path: path.to_vec(),
            value,
            coercible,
        });
    }
}

/// Whether [`with`] can make this change: every parent is there, and so is a key to take out.
fn applies(root: &Value, path: &[Value], removal: bool) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let parent = parents.iter().try_fold(root, |cur, seg| match seg {
        Value::String(k) => cur.as_object()?.get(k),
        Value::Number(i) => cur.as_array()?.get(i.as_u64()? as usize),
        _ => None,
    });
    match (parent.and_then(Value::as_object), last.as_str()) {
        (Some(o), Some(k)) => !removal || o.contains_key(k),
        _ => false,
    }
}

/// `root` with the value at `path` replaced (or removed when `value` is `None`). Missing parents
/// are not created: such a mutation would break another rule first.
fn with(root: &Value, path: &[Value], value: Option<Value>) -> Option<Value> {
    let mut body = root.clone();
    let (last, parents) = path.split_last()?;
    let mut cur = &mut body;
    for seg in parents {
        cur = match seg {
            Value::String(k) => cur.as_object_mut()?.get_mut(k)?,
            Value::Number(i) => cur.as_array_mut()?.get_mut(i.as_u64()? as usize)?,
            _ => return None,
        };
    }
    let obj = cur.as_object_mut()?;
    let key = last.as_str()?.to_string();
    match value {
        Some(v) => {
            obj.insert(key, v);
        }
        None => {
            obj.remove(&key)?;
        }
    }
    Some(body)
}

/// A rule a mutation breaks. Each has one function: what to put in a field's place to break it
/// (`None`: take the field out), and whether lax validators coerce that into a valid value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    MissingRequired,
    NullNotNullable,
    NotAMultiple,
    BelowMinimum,
    AboveMaximum,
    WrongType,
    NotInEnum,
    TooShort,
    TooLong,
    TooFewItems,
    TooManyItems,
    /// The whole body is not an object (applied to bodies, not fields).
    NotAnObject,
    /// A key an object with `additionalProperties: false` does not declare (applied to objects).
    UndeclaredKey,
}

/// What a rule puts in a field's place: a value (or `None`, the field left out), and whether
/// lax validators coerce it.
pub type Replacement = (Option<Value>, bool);

impl Rule {
    /// The rules applied to each field, in the order their mutations are made.
    pub const FIELD: [Rule; 11] = [
        Rule::MissingRequired,
        Rule::NullNotNullable,
        Rule::NotAMultiple,
        Rule::BelowMinimum,
        Rule::AboveMaximum,
        Rule::WrongType,
        Rule::NotInEnum,
        Rule::TooShort,
        Rule::TooLong,
        Rule::TooFewItems,
        Rule::TooManyItems,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Rule::MissingRequired => "missing_required",
            Rule::NullNotNullable => "null_not_nullable",
            Rule::NotAMultiple => "not_a_multiple",
            Rule::BelowMinimum => "below_minimum",
            Rule::AboveMaximum => "above_maximum",
            Rule::WrongType => "wrong_type",
            Rule::NotInEnum => "not_in_enum",
            Rule::TooShort => "too_short",
            Rule::TooLong => "too_long",
            Rule::TooFewItems => "too_few_items",
            Rule::TooManyItems => "too_many_items",
            Rule::NotAnObject => "not_an_object",
            Rule::UndeclaredKey => "undeclared_key",
        }
    }

    /// The rule of this name.
    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::FIELD
            .into_iter()
            .chain([Rule::NotAnObject, Rule::UndeclaredKey])
            .find(|r| r.name() == name)
    }

    /// What breaks this rule in `field`'s place; nothing where the field's schema does not
    /// state the rule.
    pub fn values(self, field: &Field) -> Vec<Replacement> {
        let shape = match &field.shape {
            Shape::Nullable { inner } => inner.as_ref(),
            s => s,
        };
        match self {
            Rule::MissingRequired => missing_required(field),
            Rule::NullNotNullable => null_not_nullable(field),
            Rule::NotAMultiple => not_a_multiple(shape),
            Rule::BelowMinimum => below_minimum(shape),
            Rule::AboveMaximum => above_maximum(shape),
            Rule::WrongType => wrong_type(shape),
            Rule::NotInEnum => not_in_enum(shape),
            Rule::TooShort => too_short(shape),
            Rule::TooLong => too_long(shape),
            Rule::TooFewItems => too_few_items(shape),
            Rule::TooManyItems => too_many_items(shape),
            Rule::NotAnObject | Rule::UndeclaredKey => Vec::new(),
        }
    }
}

fn strict(values: impl IntoIterator<Item = Value>) -> Vec<Replacement> {
    values.into_iter().map(|v| (Some(v), false)).collect()
}

fn missing_required(field: &Field) -> Vec<Replacement> {
    if field.required {
        vec![(None, false)]
    } else {
        Vec::new()
    }
}

fn null_not_nullable(field: &Field) -> Vec<Replacement> {
    if field.nullable {
        Vec::new()
    } else {
        strict([Value::Null])
    }
}

fn not_a_multiple(shape: &Shape) -> Vec<Replacement> {
    match shape {
        Shape::Integer {
            min, multiple_of, ..
        } => match multiple_of.filter(|m| *m >= 1.0 && *m < 1e15) {
            // Just past a multiple, inside the bounds where the bounds allow.
            Some(m) => strict([
                json!(min.unwrap_or(0).saturating_add(1)),
                json!((m as i64).saturating_add(1)),
            ]),
            None => Vec::new(),
        },
        Shape::Number {
            min, multiple_of, ..
        } => match multiple_of.filter(|m| *m > 0.0 && m.is_finite()) {
            Some(m) => {
                let base = min.map_or(0.0, |x| (x / m).ceil() * m);
                strict([json!(base + m / 2.0)])
            }
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn below_minimum(shape: &Shape) -> Vec<Replacement> {
    match shape {
        Shape::Integer { min: Some(min), .. } => strict(
            [min.saturating_sub(1), 0, -1, i64::MIN]
                .into_iter()
                .filter(|v| v < min)
                .map(|v| json!(v)),
        ),
        Shape::Number {
            min: Some(min),
            exclusive_min,
            ..
        } => strict([json!(if *exclusive_min { *min } else { min - 1.0 })]),
        _ => Vec::new(),
    }
}

fn above_maximum(shape: &Shape) -> Vec<Replacement> {
    match shape {
        Shape::Integer { max: Some(max), .. } => strict(
            [max.saturating_add(1), i64::MAX]
                .into_iter()
                .filter(|v| v > max)
                .map(|v| json!(v)),
        ),
        Shape::Number {
            max: Some(max),
            exclusive_max,
            ..
        } => strict([json!(if *exclusive_max { *max } else { max + 1.0 })]),
        _ => Vec::new(),
    }
}

fn wrong_type(shape: &Shape) -> Vec<Replacement> {
    match shape {
        Shape::Integer { .. } => vec![
            (Some(json!("4")), true),
            (Some(json!(true)), true),
            (Some(json!(10.5)), false),
            (Some(json!("abc")), false),
            (Some(json!([1])), false),
        ],
        Shape::Number { .. } => strict([json!("abc"), json!({})]),
        Shape::Boolean => vec![
            (Some(json!(1)), true),
            (Some(json!("true")), true),
            (Some(json!("maybe")), false),
            (Some(json!(2)), false),
            (Some(json!([])), false),
        ],
        Shape::String { .. } => strict([json!(123), json!(false), json!(["a"])]),
        Shape::Enum { .. } => strict([json!(5)]),
        Shape::Array { .. } => strict([json!("not-a-list"), json!({"a": 1})]),
        Shape::Object { .. } | Shape::Map { .. } => strict([json!([]), json!("not-an-object")]),
        Shape::Null => strict([json!(0)]),
        _ => Vec::new(),
    }
}

fn not_in_enum(shape: &Shape) -> Vec<Replacement> {
    match shape {
        Shape::Enum {
            values,
            open: false,
        } => {
            let first = values.first().map(String::as_str).unwrap_or("a");
            let mut out = strict([json!(format!("not-{first}"))]);
            // Near misses of a member, which must not act as it: another case, a space after.
            let swapped = crate::http::swap_case(first);
            let near = [swapped, format!("{first} ")];
            out.extend(strict(
                near.into_iter()
                    .filter(|n| values.iter().all(|v| v != n))
                    .map(Value::from),
            ));
            out
        }
        Shape::Values { values } => {
            let mut out = strict([json!("contract-tests-not-a-member")]);
            if let Some(Value::Number(n)) = values.first() {
                out.extend(strict([json!(n.as_f64().unwrap_or(0.0) + 0.5)]));
            }
            out
        }
        _ => Vec::new(),
    }
}

fn too_short(shape: &Shape) -> Vec<Replacement> {
    match shape {
        Shape::String {
            min_len: Some(min), ..
        } if *min > 0 => strict([json!("x".repeat(*min as usize - 1))]),
        _ => Vec::new(),
    }
}

fn too_long(shape: &Shape) -> Vec<Replacement> {
    match shape {
        Shape::String {
            max_len: Some(max), ..
        } if *max < 1 << 20 => strict([json!("x".repeat(*max as usize + 1))]),
        _ => Vec::new(),
    }
}

fn too_few_items(shape: &Shape) -> Vec<Replacement> {
    match shape {
        Shape::Array {
            min_items: Some(min),
            ..
        } if *min > 0 => strict([Value::Array(vec![])]),
        _ => Vec::new(),
    }
}

fn too_many_items(shape: &Shape) -> Vec<Replacement> {
    match shape {
        Shape::Array {
            max_items: Some(max),
            items,
            ..
        } if *max < 1000 => strict([Value::Array(vec![example(items); *max as usize + 1])]),
        _ => Vec::new(),
    }
}

/// Some value of a shape, for padding lists.
fn example(shape: &Shape) -> Value {
    match shape {
        Shape::Boolean => json!(true),
        Shape::Integer { min, .. } => json!(min.unwrap_or(1)),
        Shape::Number { min, .. } => json!(min.unwrap_or(1.0)),
        Shape::String { min_len, .. } => json!("x".repeat(min_len.unwrap_or(1) as usize)),
        Shape::Enum { values, .. } => json!(values.first().cloned().unwrap_or_else(|| "x".into())),
        _ => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::schema;
    use crate::spec::update_body;

    fn find<'a>(ms: &'a [Mutation], rule: &str, field: &str) -> Vec<&'a Mutation> {
        ms.iter()
            .filter(|m| m.rule == rule && m.field == field)
            .collect()
    }

    #[test]
    fn every_rule_has_a_name_in_the_report_order() {
        let mut names: Vec<&str> = Rule::FIELD
            .into_iter()
            .chain([Rule::NotAnObject, Rule::UndeclaredKey])
            .map(Rule::name)
            .collect();
        names.sort_unstable();
        let mut listed = RULES.to_vec();
        listed.sort_unstable();
        assert_eq!(names, listed);
        assert!(RULES
            .iter()
            .all(|n| Rule::from_name(n).is_some_and(|r| r.name() == *n)));
    }

    #[test]
    fn the_seed_rules_become_mutations() {
        let ms = mutations(
            schema(),
            &json!({"gpus": {"gpus": [{"slot": "a"}]}}),
            update_body(),
        );
        let below: Vec<Value> = find(&ms, "below_minimum", "shutdown_timeout")
            .iter()
            .map(|m| m.body["shutdown_timeout"].clone())
            .collect();
        assert_eq!(below, [json!(9), json!(0), json!(-1), json!(i64::MIN)]);
        let above: Vec<Value> = find(&ms, "above_maximum", "shutdown_timeout")
            .iter()
            .map(|m| m.body["shutdown_timeout"].clone())
            .collect();
        assert_eq!(above, [json!(1201), json!(i64::MAX)]);
        assert_eq!(find(&ms, "null_not_nullable", "allow_force_stop").len(), 1);
        assert_eq!(find(&ms, "missing_required", "gpus.gpus").len(), 1);
        let slot = find(&ms, "missing_required", "gpus.gpus[0].slot");
        assert_eq!(slot[0].body, json!({"gpus": {"gpus": [{}]}}));
        assert_eq!(
            slot[0].path,
            [json!("gpus"), json!("gpus"), json!(0), json!("slot")]
        );
        assert_eq!(find(&ms, "not_an_object", "(body)").len(), 4);
        let wrong: Vec<(Value, bool)> = find(&ms, "wrong_type", "vcpu")
            .iter()
            .map(|m| (m.body["vcpu"].clone(), m.coercible))
            .collect();
        assert!(wrong.contains(&(json!("4"), true)) && wrong.contains(&(json!(10.5), false)));
        assert!(find(&ms, "wrong_type", "allow_force_stop")
            .iter()
            .any(|m| m.body["allow_force_stop"] == json!(1)));
    }

    #[test]
    fn an_undeclared_key_is_negative_only_where_the_schema_closes_the_object() {
        let open = update_body();
        let ms = mutations(schema(), &json!({}), open);
        assert!(ms.iter().all(|m| m.rule != "undeclared_key"), "open: none");
        let closed: Object = serde_json::from_value(json!({
            "name": "Closed", "closed": true,
            "fields": [{"name": "a", "shape": {"kind": "boolean"}}]
        }))
        .unwrap();
        let ms = mutations(schema(), &json!({"a": true}), &closed);
        let extra = find(&ms, "undeclared_key", "contract_tests_undeclared");
        assert_eq!(extra.len(), 1, "{ms:?}");
        assert_eq!(
            extra[0].body,
            json!({"a": true, "contract_tests_undeclared": true})
        );
        // The judge agrees: the key breaks `additionalProperties`, and only in the closed object.
        let problems = judge::check_object(schema(), &extra[0].body, &closed);
        assert_eq!(problems[0].rule, "additionalProperties");
        assert!(judge::check_object(schema(), &extra[0].body, open).is_empty());
    }

    #[test]
    fn every_mutation_is_invalid_and_nested_ones_need_their_parent() {
        let ms = mutations(schema(), &json!({}), update_body());
        assert!(ms
            .iter()
            .all(|m| !judge::check_object(schema(), &m.body, update_body()).is_empty()));
        assert!(
            find(&ms, "missing_required", "gpus.gpus").is_empty(),
            "no gpus object to break"
        );
        // An open enum has no `not_in_enum`: any string is valid there.
        let ms = mutations(
            schema(),
            &json!({"gpus": {"gpus": [], "attach_mode": "all"}}),
            update_body(),
        );
        assert!(find(&ms, "not_in_enum", "gpus.attach_mode").is_empty());
        assert_eq!(find(&ms, "null_not_nullable", "gpus.attach_mode").len(), 1);
    }

    #[test]
    fn a_plan_applies_to_the_body_it_was_made_of_only() {
        let schema = crate::meta::schema();
        let object = crate::spec::update_body();
        let valid =
            serde_json::json!({"gpus": {"gpus": [{"slot": "slot-0"}], "attach_mode": "listed"}});
        let all = plans(schema, &valid, object);
        let removal = all
            .iter()
            .find(|p| p.value.is_none())
            .expect("a present key can be taken out");
        assert!(removal.apply(&valid).is_some());
        assert!(
            removal.apply(&serde_json::json!({})).is_none(),
            "nothing to take out"
        );
        assert_eq!(
            all.iter()
                .filter_map(|p| p.apply(&valid))
                .collect::<Vec<_>>(),
            mutations(schema, &valid, object)
        );
    }
}

//! The document's own examples: found in the document as written, judged against its schema, and
//! paired with the generated type of their place for the crate's `tests/examples.rs` harness.
//!
//! Every `example`, every entry of an `examples` list (3.1 schemas) and every entry of an
//! `examples` map (parameters, headers, media types) counts once where it is used; an entry of
//! `#/components/examples` counts at each place that references it, or once on its own when
//! nothing does.

use crate::conform;
use crate::diag::escape_segment;
use crate::ir::{Api, ExampleCase, Ty};
use crate::lower::METHODS;
use serde_json::Value;
use std::collections::BTreeSet;

/// What became of one example of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExampleStatus {
    /// In the harness: deserialised into its type, serialised back and compared.
    Attempted,
    /// The document's own schema rejects it (the reason says where and why).
    Invalid(String),
    /// Not tried, for the reason given.
    NotAttempted(String),
}

/// One example of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleOutcome {
    /// JSON pointer of the example.
    pub pointer: String,
    /// Whether it went into the harness, and why not.
    pub status: ExampleStatus,
}

/// Finds every example of `doc` (the document before lowering), judges it, and pairs those the
/// document allows with the type [`Api::places`] gives their schema.
pub(crate) fn collect(doc: &Value, api: &Api) -> (Vec<ExampleOutcome>, Vec<ExampleCase>) {
    let mut w = Walk {
        doc,
        api,
        outcomes: Vec::new(),
        cases: Vec::new(),
        used: BTreeSet::new(),
    };
    w.document();
    (w.outcomes, w.cases)
}

/// Keys under which a schema holds one subschema, a list of them, or a map of them.
const SUB_ONE: [&str; 10] = [
    "items",
    "additionalProperties",
    "not",
    "contains",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
];
const SUB_LIST: [&str; 5] = ["allOf", "anyOf", "oneOf", "prefixItems", "items"];
const SUB_MAP: [&str; 5] = [
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];

/// Where an example sits and what may stop it before it is judged.
struct Place<'p> {
    /// Pointer of the schema it is an instance of.
    schema: &'p str,
    /// Set when examples here are not JSON bodies the client reads or sends.
    not_json: Option<&'p str>,
    /// A form body (`application/x-www-form-urlencoded`): its examples are objects, round-tripped
    /// through the form encoding.
    form: bool,
}

struct Walk<'d> {
    doc: &'d Value,
    api: &'d Api,
    outcomes: Vec<ExampleOutcome>,
    cases: Vec<ExampleCase>,
    /// `#/components/examples/...` entries referenced from somewhere.
    used: BTreeSet<String>,
}

impl Walk<'_> {
    fn document(&mut self) {
        let doc = self.doc;
        for (path, item) in entries(doc.get("paths")) {
            self.path_item(item, &format!("/paths/{}", escape_segment(path)));
        }
        for (name, item) in entries(doc.get("webhooks")) {
            self.path_item(item, &format!("/webhooks/{}", escape_segment(name)));
        }
        let comp = doc.get("components");
        let at =
            |section: &str, key: &str| format!("/components/{section}/{}", escape_segment(key));
        for (k, v) in entries(comp.and_then(|c| c.get("schemas"))) {
            self.schema(v, &at("schemas", k));
        }
        for section in ["parameters", "headers"] {
            for (k, v) in entries(comp.and_then(|c| c.get(section))) {
                self.parameter(v, &at(section, k));
            }
        }
        for (k, v) in entries(comp.and_then(|c| c.get("responses"))) {
            self.response(v, &at("responses", k));
        }
        for (k, v) in entries(comp.and_then(|c| c.get("requestBodies"))) {
            self.content(v, &at("requestBodies", k));
        }
        for (k, v) in entries(comp.and_then(|c| c.get("pathItems"))) {
            self.path_item(v, &at("pathItems", k));
        }
        for (k, v) in entries(comp.and_then(|c| c.get("callbacks"))) {
            self.callback(v, &at("callbacks", k));
        }
        for (k, _) in entries(comp.and_then(|c| c.get("examples"))) {
            let ptr = at("examples", k);
            if !self.used.contains(&ptr) {
                self.outcome(
                    ptr,
                    ExampleStatus::NotAttempted(
                        "no parameter or media type references this example".into(),
                    ),
                );
            }
        }
    }

    fn path_item(&mut self, item: &Value, ptr: &str) {
        self.parameters(item, ptr);
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let op_ptr = format!("{ptr}/{m}");
            self.parameters(op, &op_ptr);
            if let Some(body) = op.get("requestBody") {
                self.content(body, &format!("{op_ptr}/requestBody"));
            }
            for (status, r) in entries(op.get("responses")) {
                self.response(r, &format!("{op_ptr}/responses/{}", escape_segment(status)));
            }
            for (name, cb) in entries(op.get("callbacks")) {
                self.callback(cb, &format!("{op_ptr}/callbacks/{}", escape_segment(name)));
            }
        }
    }

    fn callback(&mut self, cb: &Value, ptr: &str) {
        for (expr, item) in entries(Some(cb)) {
            self.path_item(item, &format!("{ptr}/{}", escape_segment(expr)));
        }
    }

    fn parameters(&mut self, holder: &Value, ptr: &str) {
        if let Some(Value::Array(list)) = holder.get("parameters") {
            for (i, p) in list.iter().enumerate() {
                self.parameter(p, &format!("{ptr}/parameters/{i}"));
            }
        }
    }

    fn parameter(&mut self, p: &Value, ptr: &str) {
        if p.get("$ref").is_some() {
            return; // counted where it is defined
        }
        let schema = format!("{ptr}/schema");
        let place = Place {
            schema: &schema,
            not_json: None,
            form: false,
        };
        self.examples_of(p, ptr, &place, false);
        if let Some(s) = p.get("schema") {
            self.schema(s, &schema);
        }
        self.media_map(p, ptr);
    }

    fn response(&mut self, r: &Value, ptr: &str) {
        if r.get("$ref").is_some() {
            return;
        }
        for (name, h) in entries(r.get("headers")) {
            self.parameter(h, &format!("{ptr}/headers/{}", escape_segment(name)));
        }
        self.media_map(r, ptr);
    }

    fn content(&mut self, holder: &Value, ptr: &str) {
        if holder.get("$ref").is_some() {
            return;
        }
        self.media_map(holder, ptr);
    }

    fn media_map(&mut self, holder: &Value, ptr: &str) {
        for (mime, media) in entries(holder.get("content")) {
            let mptr = format!("{ptr}/content/{}", escape_segment(mime));
            let schema = format!("{mptr}/schema");
            let json = crate::build::is_json(mime);
            let form = mime.starts_with("application/x-www-form-urlencoded");
            let place = Place {
                schema: &schema,
                not_json: (!json && !form).then_some(mime.as_str()),
                form,
            };
            self.examples_of(media, &mptr, &place, false);
            if let Some(s) = media.get("schema") {
                self.schema(s, &schema);
            }
        }
    }

    fn schema(&mut self, s: &Value, ptr: &str) {
        let Some(obj) = s.as_object() else { return };
        let place = Place {
            schema: ptr,
            not_json: None,
            form: false,
        };
        self.examples_of(s, ptr, &place, true);
        for key in SUB_ONE {
            if let Some(sub @ Value::Object(_)) = obj.get(key) {
                self.schema(sub, &format!("{ptr}/{key}"));
            }
        }
        for key in SUB_LIST {
            if let Some(Value::Array(list)) = obj.get(key) {
                for (i, sub) in list.iter().enumerate() {
                    self.schema(sub, &format!("{ptr}/{key}/{i}"));
                }
            }
        }
        for key in SUB_MAP {
            for (name, sub) in entries(obj.get(key)) {
                self.schema(sub, &format!("{ptr}/{key}/{}", escape_segment(name)));
            }
        }
    }

    /// `example` and `examples` of a node: a list on a schema, a map of Example Objects elsewhere.
    fn examples_of(&mut self, node: &Value, ptr: &str, place: &Place<'_>, schema: bool) {
        if let Some(v) = node.get("example") {
            self.found(format!("{ptr}/example"), Ok(v), place);
        }
        match node.get("examples") {
            Some(Value::Array(list)) if schema => {
                for (i, v) in list.iter().enumerate() {
                    self.found(format!("{ptr}/examples/{i}"), Ok(v), place);
                }
            }
            Some(Value::Object(map)) if !schema => {
                for (name, entry) in map {
                    let at = format!("{ptr}/examples/{}", escape_segment(name));
                    let value = example_object(self.doc, &mut self.used, entry);
                    self.found(at, value, place);
                }
            }
            _ => {}
        }
    }

    fn found(&mut self, pointer: String, value: Result<&Value, String>, place: &Place<'_>) {
        let status = self.judge(&pointer, value, place);
        self.outcome(pointer, status);
    }

    fn judge(
        &mut self,
        pointer: &str,
        value: Result<&Value, String>,
        place: &Place<'_>,
    ) -> ExampleStatus {
        use ExampleStatus::*;
        let value = match value {
            Ok(v) => v,
            Err(why) => return NotAttempted(why),
        };
        if let Some(mime) = place.not_json {
            return NotAttempted(format!("media type `{mime}` is not JSON"));
        }
        // A branch of `anyOf`/`oneOf` has no type of its own when the union is lowered (a
        // nullable `anyOf`, say); its example is then a value of the union's type.
        let mut at = place.schema;
        while !self.api.places.contains_key(at) {
            match union_parent(at) {
                Some(parent) => at = parent,
                None => break,
            }
        }
        let Some(schema) = self.doc.pointer(at) else {
            return NotAttempted("no schema describes it".into());
        };
        if let Some(why) = conform::violation(self.doc, schema, value) {
            return Invalid(why);
        }
        let Some(ty) = self.api.places.get(at) else {
            return NotAttempted(no_type_reason(place.schema).into());
        };
        if let Some(why) = self.unusable(ty) {
            return NotAttempted(why);
        }
        self.cases.push(ExampleCase {
            pointer: pointer.to_string(),
            json: value.to_string(),
            ty: ty.clone(),
            form: place.form,
        });
        Attempted
    }

    /// Why a type cannot take part in a JSON round-trip, if it cannot.
    fn unusable(&self, ty: &Ty) -> Option<String> {
        match ty {
            Ty::File => Some("a file part is bytes, not JSON".into()),
            Ty::Named(n) if !self.api.types.contains_key(n) => Some(format!(
                "type `{n}` is not generated: no operation reaches it (--all-schemas keeps it)"
            )),
            Ty::Array(t) | Ty::Map(t) | Ty::Nullable(t) => self.unusable(t),
            _ => None,
        }
    }

    fn outcome(&mut self, pointer: String, status: ExampleStatus) {
        self.outcomes.push(ExampleOutcome { pointer, status });
    }
}

/// The union a branch pointer (`.../anyOf/2`, `.../oneOf/0`) belongs to.
fn union_parent(ptr: &str) -> Option<&str> {
    let (rest, index) = ptr.rsplit_once('/')?;
    index.parse::<usize>().ok()?;
    rest.strip_suffix("/anyOf")
        .or_else(|| rest.strip_suffix("/oneOf"))
}

/// Why a schema position has no generated type.
fn no_type_reason(schema: &str) -> &'static str {
    if schema.starts_with("/webhooks/") || schema.contains("/callbacks/") {
        "webhooks and callbacks get no client code"
    } else if schema.contains("/headers/") {
        "response headers are not typed by the client"
    } else if schema.contains("/allOf/") {
        "an `allOf` branch is a part of a value, not a whole one"
    } else if schema.contains("/content/") && schema.ends_with("/schema") {
        "the client reads or sends another media type of this body"
    } else {
        "no type is generated for this place"
    }
}

/// The value of an Example Object, its `$ref`s followed (and noted in `used`).
fn example_object<'d>(
    doc: &'d Value,
    used: &mut BTreeSet<String>,
    mut entry: &'d Value,
) -> Result<&'d Value, String> {
    for _ in 0..8 {
        match entry.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                used.insert(r.trim_start_matches('#').to_string());
                entry = conform::resolve(doc, r)
                    .ok_or_else(|| format!("`$ref` {r} points to no example"))?;
            }
            None => break,
        }
    }
    match (entry.get("value"), entry.get("externalValue")) {
        (Some(v), _) => Ok(v),
        (None, Some(_)) => Err("an `externalValue` is not fetched".into()),
        (None, None) => Err("the Example Object has no `value`".into()),
    }
}

fn entries(v: Option<&Value>) -> impl Iterator<Item = (&String, &Value)> {
    v.and_then(Value::as_object).into_iter().flatten()
}

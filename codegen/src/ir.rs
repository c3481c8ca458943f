//! The IR: a small typed model of an API's types and operations, with every Rust name decided.
//!
//! Emitters read only this module's types. Everything here is ordered (`BTreeMap`, sorted `Vec`s), so
//! the same document always yields the same IR.

use serde_json::Value;
use std::collections::BTreeMap;

/// A whole API.
#[derive(Debug, Clone, PartialEq)]
pub struct Api {
    pub title: String,
    pub version: String,
    pub description: Option<String>,
    /// Every named type, keyed by its Rust name.
    pub types: BTreeMap<String, TypeDef>,
    /// Operations, sorted by method name.
    pub operations: Vec<Operation>,
    /// Types that webhooks carry: kept, like those operations reach.
    pub webhook_types: Vec<String>,
    /// The type of each schema position, by JSON pointer (filled only when examples are asked for).
    pub places: BTreeMap<String, Ty>,
    /// The document's examples that the generated crate's `tests/examples.rs` round-trips.
    pub examples: Vec<ExampleCase>,
    /// With `--features-by-tag`: the crate's cargo features and what each gates.
    pub features: Option<crate::tags::TagFeatures>,
}

/// One example of the document and the type of its place.
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleCase {
    /// JSON pointer of the example.
    pub pointer: String,
    /// The example, as JSON text.
    pub json: String,
    /// The generated type it should deserialise into.
    pub ty: Ty,
    /// A form body's example: round-tripped through the form encoding the client sends.
    pub form: bool,
}

/// A type reference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ty {
    Bool,
    Int(IntTy),
    Float(FloatTy),
    String,
    Array(Box<Ty>),
    /// A JSON object with arbitrary keys.
    Map(Box<Ty>),
    /// A type of the table, by Rust name.
    Named(String),
    /// Any JSON value (empty schemas, and constructs the generator degrades).
    Any,
    /// `null` and nothing else (`type: null` alone); written as `serde_json::Value`.
    Null,
    /// A file of a `multipart/form-data` body (`format: binary`): bytes, file name, media type.
    File,
    /// A value that may also be `null` (outside struct fields, which carry nullability themselves).
    Nullable(Box<Ty>),
    /// A fixed-length array of these types in order (`prefixItems` with nothing after, every
    /// position present): a Rust tuple.
    Tuple(Vec<Ty>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IntTy {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FloatTy {
    F32,
    F64,
}

/// A named type.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeDef {
    pub name: String,
    /// JSON pointer of the schema it comes from.
    pub pointer: String,
    pub doc: Option<String>,
    pub kind: TypeKind,
    /// Whether values of this type have constraints to check (here or in a type they contain).
    pub validates: bool,
    /// Whether `Default` can be derived.
    pub derives_default: bool,
    /// Whether `Serialize` is derived whatever the features: types requests carry (and types no
    /// operation reaches, kept with `all_schemas`). Types only answers carry derive it with the
    /// crate's `serialize` feature, which saves their compile time by default.
    pub serialize: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeKind {
    Struct(Struct),
    /// A string enum. `open`: any other string is accepted too and kept.
    Enum {
        variants: Vec<EnumVariant>,
        open: bool,
    },
    /// `oneOf`/`anyOf` whose branches are told apart by shape (serde `untagged`).
    Union {
        variants: Vec<UnionVariant>,
    },
    /// `oneOf` of inline objects told apart by a single-valued property (serde internally tagged).
    Tagged {
        tag: String,
        variants: Vec<TaggedVariant>,
    },
    /// A plain alias (`pub type X = ...`).
    Alias(Ty),
    /// `prefixItems` whose trailing positions may be missing or after which more items may
    /// follow: a tuple struct.
    Tuple(Box<Tuple>),
}

/// An array whose leading positions each have their own schema (`prefixItems`).
#[derive(Debug, Clone, PartialEq)]
pub struct Tuple {
    /// The positions' types, in order.
    pub items: Vec<Ty>,
    /// How many leading positions every value holds (`minItems`, at most `items.len()`); the
    /// others are `Option`s, and a missing one is written as nothing.
    pub required: usize,
    /// The type of the items after the positions (a `Vec` of them); `None` when none may follow.
    pub rest: Option<Ty>,
    /// The node's constraints: the positions' in `prefix`, the rest's in `items`, the count in
    /// `min_items`/`max_items`.
    pub constraints: Constraints,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    pub fields: Vec<Field>,
    /// Type of additional properties kept beside the named fields.
    pub extra: Option<Ty>,
    /// `additionalProperties: false`: a key beyond the named fields makes the value invalid.
    pub closed: bool,
}

impl Struct {
    /// The Rust name of the field that keeps additional properties: `extra`, unless a documented
    /// property already has that name.
    pub fn extra_field(&self) -> String {
        let mut name = "extra".to_string();
        if self.fields.iter().any(|f| f.rust == name) {
            name = "extra_properties".into();
        }
        while self.fields.iter().any(|f| f.rust == name) {
            name.push('_');
        }
        name
    }
}

/// How a field is present on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Required, not nullable: `T`.
    Required,
    /// Required and nullable: `Option<T>`, key always written.
    RequiredNullable,
    /// Optional, not nullable: `Option<T>`, skipped when `None`.
    Optional,
    /// Optional and nullable: `Patch<T>` (absent / null / value).
    OptionalNullable,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Name on the wire.
    pub json: String,
    /// Rust identifier (possibly a keyword, written raw).
    pub rust: String,
    pub ty: Ty,
    pub presence: Presence,
    /// Box the value (the field is on a containment cycle).
    pub boxed: bool,
    pub default: Option<Value>,
    pub doc: Option<String>,
    pub constraints: Constraints,
    /// From the `x-readback` extension: the field of the resource read back (GET) that shows this
    /// field's value, and the divisor between the two units (1 when they agree).
    pub readback: Option<(String, i64)>,
    /// A secret (`format: password`): `Debug` shows `<redacted>` in place of its value.
    pub secret: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnumVariant {
    pub value: String,
    pub rust: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnionVariant {
    pub rust: String,
    pub ty: Ty,
    /// The branch's own constraints (a pattern, a format, bounds), through `$ref`s.
    pub constraints: Constraints,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaggedVariant {
    pub value: String,
    pub rust: String,
    pub doc: Option<String>,
    pub fields: Vec<Field>,
}

/// A numeric bound. Integer bounds are normalised to inclusive ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    /// The value as a float (integers beyond 2^53 round).
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    pub value: Num,
    pub exclusive: bool,
}

/// Value constraints of one schema node, as the document states them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    pub minimum: Option<Bound>,
    pub maximum: Option<Bound>,
    pub multiple_of: Option<Num>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<String>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    /// `uniqueItems: true` (drawn and judged; `validate()` does not check it).
    pub unique_items: bool,
    /// `format` of a string (`date-time`, `uuid`, ...): drawn to match, documented in the types.
    pub format: Option<String>,
    /// `enum` of a non-string scalar (string enums are [`TypeKind::Enum`] types): the allowed values.
    pub enumeration: Vec<Value>,
    /// The constraints of an array's items (or a map's values), wherever the items' schema
    /// states them, through `$ref`s too.
    pub items: Option<Box<Constraints>>,
    /// The constraints of a tuple's positions (`prefixItems`), one per position.
    pub prefix: Vec<Constraints>,
}

impl Constraints {
    /// Whether any constraint is checked by the generated `validate()` (patterns are documented only).
    pub fn is_checked(&self) -> bool {
        self.minimum.is_some()
            || self.maximum.is_some()
            || self.multiple_of.is_some()
            || self.min_length.is_some()
            || self.max_length.is_some()
            || self.min_items.is_some()
            || self.max_items.is_some()
            || self.items.as_ref().is_some_and(|c| c.is_checked())
            || self.prefix.iter().any(Constraints::is_checked)
    }

    /// Whether the node states nothing at all.
    pub fn is_empty(&self) -> bool {
        *self == Constraints::default()
    }
}

/// An operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Method name on the client (snake_case).
    pub name: String,
    /// The document's `operationId`, if any.
    pub operation_id: Option<String>,
    /// HTTP method, upper case.
    pub method: String,
    pub path: String,
    pub pointer: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub deprecated: bool,
    pub params: Vec<Param>,
    pub body: Option<Body>,
    pub responses: Vec<Response>,
    /// Name of the response enum.
    pub response_type: String,
    /// Name of the struct of optional parameters, when there are any.
    pub params_type: Option<String>,
    pub auth: Vec<Auth>,
    /// The document's tags of the operation, as written.
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ParamLocation {
    Path,
    Query,
    Header,
    Cookie,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub json: String,
    pub rust: String,
    pub location: ParamLocation,
    pub required: bool,
    pub ty: Ty,
    pub doc: Option<String>,
    /// The value's constraints (through `$ref`s too).
    pub constraints: Constraints,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Form,
    /// Raw bytes with the given media type.
    Bytes,
    /// Text with the given media type.
    Text,
    /// `multipart/form-data`: each property a part, files (`Ty::File`) as they are.
    Multipart,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub ty: Ty,
    pub required: bool,
    pub kind: BodyKind,
    pub media_type: String,
    pub doc: Option<String>,
    /// Multipart only: the media type the document's `encoding` gives a part, by property.
    pub part_types: BTreeMap<String, String>,
    /// The document allows `null` for the whole body (the client sends a value, never `null`).
    pub nullable: bool,
    /// The body's own constraints (an array body's item count, say).
    pub constraints: Constraints,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StatusMatch {
    Code(u16),
    /// `4XX` and the like: the first digit.
    Range(u16),
    Default,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ResponseBody {
    /// No schema documented: the variant keeps the raw answer.
    Raw,
    /// A JSON body of this type.
    Json(Ty),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: StatusMatch,
    pub variant: String,
    pub body: ResponseBody,
    pub doc: String,
}

/// A way the client may authenticate an operation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Auth {
    /// An API key in the named header.
    ApiKeyHeader(String),
    /// An API key in the named query parameter.
    ApiKeyQuery(String),
    /// `Authorization: Bearer` (HTTP bearer and OAuth2 schemes).
    Bearer,
    /// `Authorization: Basic` (HTTP basic, Swagger 2.0's `basic`).
    Basic,
}

impl Api {
    pub fn type_def(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name)
    }

    /// Whether a value of `ty` has constraints to check.
    pub fn ty_validates(&self, ty: &Ty) -> bool {
        match ty {
            Ty::Named(n) => self.types.get(n).is_some_and(|t| t.validates),
            Ty::Array(t) | Ty::Map(t) | Ty::Nullable(t) => self.ty_validates(t),
            Ty::Tuple(ts) => ts.iter().any(|t| self.ty_validates(t)),
            _ => false,
        }
    }
}

impl Api {
    /// `ty` with named aliases followed to what they stand for (bounded, for alias cycles).
    pub fn unalias<'t>(&'t self, mut ty: &'t Ty) -> &'t Ty {
        for _ in 0..16 {
            match ty {
                Ty::Named(n) => match self.types.get(n).map(|t| &t.kind) {
                    Some(TypeKind::Alias(inner)) => ty = inner,
                    _ => break,
                },
                _ => break,
            }
        }
        ty
    }
}

impl Api {
    /// Whether the constraints `c` of a value of `ty` give `validate()` something to check: the
    /// bounds of a number, the length of a string, the item count of an array and its items'
    /// own constraints. The one predicate the analysis and the emitter share.
    pub fn checks(&self, ty: &Ty, c: &Constraints) -> bool {
        match self.unalias(ty) {
            Ty::Int(_) | Ty::Float(_) => {
                c.minimum.is_some() || c.maximum.is_some() || c.multiple_of.is_some()
            }
            Ty::String => c.min_length.is_some() || c.max_length.is_some(),
            Ty::Array(item) => {
                c.min_items.is_some()
                    || c.max_items.is_some()
                    || c.items.as_deref().is_some_and(|ic| self.checks(item, ic))
            }
            Ty::Tuple(items) => items
                .iter()
                .zip(&c.prefix)
                .any(|(t, pc)| self.checks(t, pc)),
            _ => false,
        }
    }
}

impl Ty {
    /// Every type of the table this type names, directly or inside arrays, maps and nullables.
    pub fn named(&self, out: &mut Vec<String>) {
        match self {
            Ty::Named(n) => out.push(n.clone()),
            Ty::Array(t) | Ty::Map(t) | Ty::Nullable(t) => t.named(out),
            Ty::Tuple(ts) => ts.iter().for_each(|t| t.named(out)),
            Ty::Bool | Ty::Int(_) | Ty::Float(_) | Ty::String | Ty::Any | Ty::Null | Ty::File => {}
        }
    }
}

impl TypeDef {
    /// The types of the table this type's values contain.
    pub fn refers_to(&self) -> Vec<String> {
        let mut out = Vec::new();
        match &self.kind {
            TypeKind::Struct(s) => {
                s.fields.iter().for_each(|f| f.ty.named(&mut out));
                if let Some(e) = &s.extra {
                    e.named(&mut out);
                }
            }
            TypeKind::Enum { .. } => {}
            TypeKind::Union { variants } => variants.iter().for_each(|v| v.ty.named(&mut out)),
            TypeKind::Tagged { variants, .. } => variants
                .iter()
                .flat_map(|v| &v.fields)
                .for_each(|f| f.ty.named(&mut out)),
            TypeKind::Alias(t) => t.named(&mut out),
            TypeKind::Tuple(t) => t
                .items
                .iter()
                .chain(&t.rest)
                .for_each(|t| t.named(&mut out)),
        }
        out
    }
}

impl Operation {
    /// The types of the table the operation's parameters and body name (what it sends).
    pub fn sends(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.params.iter().for_each(|p| p.ty.named(&mut out));
        if let Some(b) = &self.body {
            b.ty.named(&mut out);
        }
        out
    }

    /// The types of the table the operation's answers name (what it receives).
    pub fn receives(&self) -> Vec<String> {
        let mut out = Vec::new();
        for r in &self.responses {
            if let ResponseBody::Json(t) = &r.body {
                t.named(&mut out);
            }
        }
        out
    }

    /// Every type of the table the operation names.
    pub fn refers_to(&self) -> Vec<String> {
        let mut out = self.sends();
        out.extend(self.receives());
        out
    }
}

impl Api {
    /// Drops every type no operation reaches; returns how many were dropped. Names were decided
    /// before, so the kept types' names do not depend on this.
    pub fn retain_reachable(&mut self) -> usize {
        let mut roots: Vec<String> = self
            .operations
            .iter()
            .flat_map(Operation::refers_to)
            .chain(self.webhook_types.iter().cloned())
            .collect();
        // The examples' harness needs the types of their places.
        for e in &self.examples {
            e.ty.named(&mut roots);
        }
        let seen = self.closure(roots);
        let before = self.types.len();
        self.types.retain(|name, _| seen.contains(name));
        before - self.types.len()
    }

    /// Keeps the operations `selection` admits, and only the webhooks and examples that are still
    /// reached; call before [`Api::retain_reachable`], which then drops the types no kept operation
    /// reaches. Fails, naming it, on an operation or tag of the selection that the document lacks.
    pub fn retain_selected(&mut self, selection: &Selection) -> Result<(), crate::Error> {
        if selection.is_everything() {
            return Ok(());
        }
        for id in selection.operations.iter().chain(&selection.exclude) {
            if !self.operations.iter().any(|op| op.answers_to(id)) {
                return Err(crate::Error::new(
                    "/paths",
                    format!("no operation has the operationId or method name `{id}`"),
                ));
            }
        }
        for tag in &selection.tags {
            if !self.operations.iter().any(|op| op.tags.contains(tag)) {
                return Err(crate::Error::new(
                    "/paths",
                    format!("no operation has the tag `{tag}`"),
                ));
            }
        }
        self.operations.retain(|op| selection.admits(op));
        if self.operations.is_empty() {
            return Err(crate::Error::new(
                "/paths",
                "the selection leaves no operation",
            ));
        }
        // Webhooks are not operations of the client: a selection leaves them out.
        self.webhook_types.clear();
        let seen = self.closure(self.operations.iter().flat_map(Operation::refers_to));
        self.examples.retain(|e| {
            let mut named = Vec::new();
            e.ty.named(&mut named);
            named.iter().all(|n| seen.contains(n))
        });
        Ok(())
    }

    /// Keeps what a generation emits: the operations `selection` admits, then, unless
    /// `all_schemas`, only the types they (and the kept webhooks and examples) reach.
    pub fn narrow(&mut self, selection: &Selection, all_schemas: bool) -> Result<(), crate::Error> {
        self.retain_selected(selection)?;
        if !all_schemas {
            self.retain_reachable();
        }
        Ok(())
    }

    /// The types `roots` name, and every type they contain.
    pub(crate) fn closure(
        &self,
        roots: impl IntoIterator<Item = String>,
    ) -> std::collections::BTreeSet<String> {
        let mut seen = std::collections::BTreeSet::new();
        let mut work: Vec<String> = roots.into_iter().collect();
        while let Some(name) = work.pop() {
            if seen.insert(name.clone()) {
                if let Some(t) = self.types.get(&name) {
                    work.extend(t.refers_to());
                }
            }
        }
        seen
    }

    /// Decides [`TypeDef::serialize`]: `false` for the types only answers carry.
    pub fn mark_serialize(&mut self) {
        let mut sent: Vec<String> = self.operations.iter().flat_map(Operation::sends).collect();
        let received: Vec<String> = self
            .operations
            .iter()
            .flat_map(Operation::receives)
            .collect();
        sent.extend(self.webhook_types.iter().cloned());
        let sent = self.closure(sent);
        let received = self.closure(received);
        for (name, t) in self.types.iter_mut() {
            t.serialize = sent.contains(name) || !received.contains(name);
        }
    }
}

/// Which operations a generation keeps: those named or tagged (every one when neither is given),
/// less those excluded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// operationIds or client method names to keep.
    pub operations: Vec<String>,
    /// Tags whose operations to keep.
    pub tags: Vec<String>,
    /// operationIds or client method names to leave out.
    pub exclude: Vec<String>,
}

impl Selection {
    /// Whether the selection keeps every operation.
    pub fn is_everything(&self) -> bool {
        self.operations.is_empty() && self.tags.is_empty() && self.exclude.is_empty()
    }

    /// Whether `op` is kept.
    pub fn admits(&self, op: &Operation) -> bool {
        let named = self.operations.is_empty() && self.tags.is_empty()
            || self.operations.iter().any(|id| op.answers_to(id))
            || self.tags.iter().any(|t| op.tags.contains(t));
        named && !self.exclude.iter().any(|id| op.answers_to(id))
    }
}

impl Operation {
    /// Whether `id` names this operation, by operationId or by client method name.
    pub fn answers_to(&self, id: &str) -> bool {
        self.operation_id.as_deref() == Some(id) || self.name == id
    }
}

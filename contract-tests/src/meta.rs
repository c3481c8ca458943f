//! The generated crate's schema data (`schema.json`, `phala_cloud::SCHEMA_JSON`) as Rust types:
//! each object's fields and constraints, and each operation's route and answers.

use serde::Deserialize;
use std::collections::BTreeMap;

/// What a JSON value must look like.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shape {
    /// Any JSON value.
    Any,
    /// `true` or `false`.
    Boolean,
    /// An integer within inclusive bounds.
    Integer {
        /// Smallest allowed value.
        min: Option<i64>,
        /// Largest allowed value.
        max: Option<i64>,
    },
    /// A number within bounds.
    Number {
        /// Smallest allowed value.
        min: Option<f64>,
        /// Largest allowed value.
        max: Option<f64>,
        /// Whether `min` itself is excluded.
        #[serde(default)]
        exclusive_min: bool,
        /// Whether `max` itself is excluded.
        #[serde(default)]
        exclusive_max: bool,
    },
    /// A string with a length in characters within bounds.
    String {
        /// Shortest allowed length.
        min_len: Option<u64>,
        /// Longest allowed length.
        max_len: Option<u64>,
    },
    /// One of these strings (or, when `open`, any string).
    Enum {
        /// The known values.
        values: Vec<String>,
        /// Whether other strings are allowed too.
        #[serde(default)]
        open: bool,
    },
    /// An array of items of one shape.
    Array {
        /// The items' shape.
        items: Box<Shape>,
        /// Fewest items.
        min_items: Option<u64>,
        /// Most items.
        max_items: Option<u64>,
    },
    /// An object with arbitrary keys.
    Map {
        /// The values' shape.
        values: Box<Shape>,
    },
    /// An object with documented fields: [`Schema::object`] by this name.
    Object {
        /// The Rust type name.
        name: String,
    },
    /// Any of these shapes.
    OneOf {
        /// The alternatives.
        options: Vec<Shape>,
    },
    /// `null` or the inner shape.
    Nullable {
        /// The shape of a non-null value.
        inner: Box<Shape>,
    },
}

/// A documented object.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Object {
    /// The Rust type name.
    pub name: String,
    /// Its fields, in document order.
    pub fields: Vec<Field>,
    /// `additionalProperties: false`: no key beyond the fields.
    #[serde(default)]
    pub closed: bool,
}

/// Where a field's value shows when the resource is read back (the `x-readback` extension).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Readback {
    /// The field of the read-back resource.
    pub field: String,
    /// The divisor from this field's unit to that one's.
    pub divide_by: i64,
}

/// A field of an object.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Field {
    /// The key on the wire.
    pub name: String,
    /// The value's shape (without nullability).
    pub shape: Shape,
    /// Whether the key must be present.
    #[serde(default)]
    pub required: bool,
    /// Whether the value may be `null`.
    #[serde(default)]
    pub nullable: bool,
    /// Where the value shows when read back, if the spec says.
    pub readback: Option<Readback>,
}

/// An answer an operation documents.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Response {
    /// The status (a code such as `202`; `400` with `range` for `4XX`; `0` for `default`).
    pub status: u16,
    /// Whether `status` stands for a whole range.
    #[serde(default)]
    pub range: bool,
    /// The JSON body's shape, when one is documented.
    pub body: Option<Shape>,
}

/// An operation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Operation {
    /// HTTP method, upper case.
    pub method: String,
    /// Path template, such as `/api/v1/cvms/{cvm_id}`.
    pub path: String,
    /// Its parameters (path, query, header, cookie).
    #[serde(default)]
    pub params: Vec<Param>,
    /// The JSON body's shape, when the operation takes one.
    pub body: Option<Shape>,
    /// Every documented answer.
    pub responses: Vec<Response>,
}

/// A parameter of an operation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Param {
    /// Its name on the wire.
    pub name: String,
    /// `path`, `query`, `header` or `cookie`.
    #[serde(rename = "in")]
    pub location: String,
    pub required: bool,
    /// The shape of its value.
    pub shape: Shape,
}

/// Every object and operation of the document.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Schema {
    /// Objects by Rust type name.
    pub objects: BTreeMap<String, Object>,
    /// Operations by client method name.
    pub operations: BTreeMap<String, Operation>,
}

impl Schema {
    /// The object with this Rust type name.
    pub fn object(&self, name: &str) -> Option<&Object> {
        self.objects.get(name)
    }

    /// The operation with this client method name.
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }
}

/// The schema of this crate's document.
pub fn schema() -> &'static Schema {
    static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::from_str(phala_cloud::SCHEMA_JSON)
            .expect("schema.json is written by the generator together with this crate")
    })
}

impl Object {
    /// The field with this wire name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

impl Operation {
    /// The documented answer for `status`: an exact code first, then a range, then `default`.
    pub fn response(&self, status: u16) -> Option<&Response> {
        let r = &self.responses;
        r.iter()
            .find(|x| !x.range && x.status == status && x.status != 0)
            .or_else(|| r.iter().find(|x| x.range && x.status / 100 == status / 100))
            .or_else(|| r.iter().find(|x| x.status == 0))
    }
}

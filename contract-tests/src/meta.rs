//! The suite's view of a document: each object's fields and constraints, and each operation's
//! route, parameters, body and answers. Built at run time from the generator's IR
//! ([`Schema::from_document`], [`crate::model`]), so the judge, the mutations and the runtime
//! strategies read the constraints the generated `validate()` and strategies were emitted from.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// What a JSON value must look like: the IR's types and [`codegen::ir::Constraints`], as data the
/// judge, the mutations and the runtime strategies ([`crate::draw`]) all read.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shape {
    /// Any JSON value.
    Any,
    /// `null` and nothing else.
    Null,
    /// `true` or `false`.
    Boolean,
    /// An integer within inclusive bounds.
    Integer {
        /// Smallest allowed value.
        min: Option<i64>,
        /// Largest allowed value.
        max: Option<i64>,
        /// A divisor of every allowed value.
        #[serde(default)]
        multiple_of: Option<f64>,
        /// The range a `format` gives (`int32`, `uint8`, ...), which the generated type holds:
        /// judged and drawn within, but not mutated, since JSON Schema validators read unknown
        /// formats as annotations only.
        #[serde(default)]
        range: Option<(i64, i64)>,
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
        /// A divisor of every allowed value.
        #[serde(default)]
        multiple_of: Option<f64>,
    },
    /// A string with a length in characters within bounds.
    String {
        /// Shortest allowed length.
        min_len: Option<u64>,
        /// Longest allowed length.
        max_len: Option<u64>,
        /// `pattern`: drawn to match; not judged (ECMA-262 and Rust regexes differ).
        #[serde(default)]
        pattern: Option<String>,
        /// `format` (`date-time`, `uuid`, ...): drawn to match; not judged.
        #[serde(default)]
        format: Option<String>,
    },
    /// One of these strings (or, when `open`, any string).
    Enum {
        /// The known values.
        values: Vec<String>,
        /// Whether other strings are allowed too.
        #[serde(default)]
        open: bool,
    },
    /// One of these JSON values (an `enum` of numbers or booleans).
    Values {
        /// The allowed values.
        values: Vec<Value>,
    },
    /// An array of items of one shape.
    Array {
        /// The items' shape.
        items: Box<Shape>,
        /// Fewest items.
        min_items: Option<u64>,
        /// Most items.
        max_items: Option<u64>,
        /// `uniqueItems`.
        #[serde(default)]
        unique: bool,
    },
    /// An array whose leading positions each have a shape (`prefixItems`).
    Tuple {
        /// The positions' shapes, in order.
        items: Vec<Shape>,
        /// How many leading positions every value holds.
        required: usize,
        /// The shape of items after the positions; `None` when none may follow.
        rest: Option<Box<Shape>>,
        /// Fewest items.
        #[serde(default)]
        min_items: Option<u64>,
        /// Most items.
        #[serde(default)]
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
    /// A secret (`format: password` or `writeOnly`): never shown, and never echoed back.
    #[serde(default)]
    pub secret: bool,
    /// The document's `default`, what a server takes when the key is left out.
    #[serde(default)]
    pub default: Option<Value>,
    /// Whether its description says its value is unique among the items of its resource
    /// ([`says_unique`]): a second create with the same value is a conflict.
    #[serde(default)]
    pub unique: bool,
}

/// Whether a field's description says that no two items share its value: the word `unique`,
/// not negated (`not unique`, `non-unique`). OpenAPI has no keyword for it; FastAPI, Django and
/// Rails documents say it in words.
pub fn says_unique(doc: &str) -> bool {
    let lower = doc.to_ascii_lowercase();
    lower.match_indices("unique").any(|(i, _)| {
        let before = &lower[..i];
        let word_start = before
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric() && c != '-');
        let word_end = lower[i + "unique".len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        let negated =
            before.ends_with("non-") || before.ends_with("not ") || before.ends_with("non");
        word_start && word_end && !negated
    })
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
    /// The headers the document gives this answer (`Content-Type` aside, as OpenAPI says).
    #[serde(default)]
    pub headers: Vec<Header>,
    /// The answer's OpenAPI `links`: later operations that take values from it.
    #[serde(default)]
    pub links: Vec<Link>,
}

/// An OpenAPI link: an operation a value of this answer goes to, and how.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Link {
    /// The operation linked to (its client method name), from `operationId` or `operationRef`.
    pub operation: String,
    /// Each of its parameters and the runtime expression that gives it, as written
    /// (`$response.body#/id`).
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
}

impl Link {
    /// The field of the answer's body the parameter `name` takes, when the link says
    /// `$response.body#/FIELD` (one level deep).
    pub fn body_field(&self, name: &str) -> Option<&str> {
        let e = self.parameters.get(name)?;
        let field = e.strip_prefix("$response.body#/")?;
        (!field.is_empty() && !field.contains('/')).then_some(field)
    }
}

/// A header the document gives an answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Header {
    /// As the document spells it (headers compare in any case).
    pub name: String,
    /// Whether every such answer must carry it.
    #[serde(default)]
    pub required: bool,
    /// What its value must be, when the document says.
    pub shape: Option<Shape>,
}

/// An operation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Operation {
    /// The client's method name (the generator's), unique in the document.
    #[serde(default)]
    pub name: String,
    /// The document's `operationId`.
    #[serde(default)]
    pub operation_id: Option<String>,
    /// JSON pointer of the operation in the document.
    #[serde(default)]
    pub pointer: String,
    /// HTTP method, upper case.
    pub method: String,
    /// Path template, such as `/things/{id}`.
    pub path: String,
    /// Its parameters (path, query, header, cookie).
    #[serde(default)]
    pub params: Vec<Param>,
    /// The JSON body's shape, when the operation takes one.
    pub body: Option<Shape>,
    /// Whether the body is required.
    #[serde(default)]
    pub body_required: bool,
    /// Every documented answer.
    pub responses: Vec<Response>,
    /// How credentials go with a request: `header:NAME`, `query:NAME` or `bearer`; empty when the
    /// operation needs none.
    #[serde(default)]
    pub auth: Vec<String>,
    /// The operation's `x-` extensions, as written.
    #[serde(default)]
    pub extensions: BTreeMap<String, Value>,
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
    /// The schema of a document (JSON or YAML, 2.0, 3.0 or 3.1), built at run time from the
    /// generator's IR: the same model `validate()` and the generated strategies come from.
    pub fn from_document(text: &str) -> Result<Schema, String> {
        let (api, _) = codegen::load_api(text).map_err(|e| e.to_string())?;
        let raw = codegen::parse_document(text).map_err(|e| e.to_string())?;
        Ok(crate::model::from_api(&api, &raw))
    }

    /// The operation with this `operationId`, or else this client method name.
    pub fn find(&self, id: &str) -> Option<&Operation> {
        self.operations
            .values()
            .find(|o| o.operation_id.as_deref() == Some(id))
            .or_else(|| self.operations.get(id))
    }

    /// The object with this Rust type name.
    pub fn object(&self, name: &str) -> Option<&Object> {
        self.objects.get(name)
    }

    /// The operation with this client method name.
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    /// The operation a request of `method` to the concrete `path` (a query string aside) reaches:
    /// the template it matches with the most literal segments, as a router picks.
    pub fn operation_at(&self, method: &str, path: &str) -> Option<&Operation> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        self.operations
            .values()
            .filter(|o| o.method.eq_ignore_ascii_case(method))
            .filter_map(|o| template_matches(&o.path, path).map(|literals| (literals, o)))
            .max_by_key(|(literals, o)| (*literals, std::cmp::Reverse(o.name.clone())))
            .map(|(_, o)| o)
    }

    /// How reports name the operation a request reached: its client method name, or, for a
    /// method the document does not give, `METHOD /template` of the path's own template.
    pub fn operation_label(&self, method: &str, path: &str) -> String {
        if let Some(o) = self.operation_at(method, path) {
            return o.name.clone();
        }
        let bare = path.split(['?', '#']).next().unwrap_or(path);
        let template = self
            .operations
            .values()
            .filter_map(|o| template_matches(&o.path, bare).map(|l| (l, o.path.as_str())))
            .max_by_key(|(l, p)| (*l, std::cmp::Reverse(*p)))
            .map_or(bare, |(_, p)| p);
        format!("{method} {template}")
    }
}

/// Whether the concrete `path` fits `template` (`/notes/{id}`), segment by segment; the number
/// of literal segments when it does.
pub fn template_matches(template: &str, path: &str) -> Option<usize> {
    let split = |p: &str| -> Vec<String> {
        p.trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (t, p) = (split(template), split(path));
    if t.len() != p.len() {
        return None;
    }
    let mut literals = 0;
    for (a, b) in t.iter().zip(&p) {
        if a.starts_with('{') && a.ends_with('}') {
            continue;
        }
        if a != b {
            return None;
        }
        literals += 1;
    }
    Some(literals)
}

/// The path parameters of the concrete `path` under `template`, decoded.
pub fn path_params(template: &str, path: &str) -> Vec<(String, String)> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let t = template.trim_matches('/').split('/');
    let p = path.trim_matches('/').split('/');
    t.zip(p)
        .filter_map(|(a, b)| {
            let name = a.strip_prefix('{')?.strip_suffix('}')?;
            Some((name.to_string(), crate::mock::decode_segment(b)))
        })
        .collect()
}

/// Whether a request header is a precondition (RFC 9110, section 13.1): one that makes the
/// server answer 412 or 304 instead of doing what was asked.
pub fn is_precondition(name: &str) -> bool {
    [
        "if-match",
        "if-none-match",
        "if-modified-since",
        "if-unmodified-since",
        "if-range",
    ]
    .iter()
    .any(|p| name.eq_ignore_ascii_case(p))
}

/// Whether the path template `path` is the template `item` or lies under it, segment by
/// segment, a parameter matching a parameter whatever its name: Kinto's
/// `/buckets/{bucket_id}/collections` lies under `/buckets/{id}`. `Some` holds the names of
/// `item`'s parameters paired with the names `path` gives them, in order.
pub fn under_template(path: &str, item: &str) -> Option<Vec<(String, String)>> {
    let param = |s: &str| {
        s.strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .map(str::to_string)
    };
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    let i: Vec<&str> = item.trim_matches('/').split('/').collect();
    if i.len() > p.len() {
        return None;
    }
    let mut names = Vec::new();
    for (a, b) in i.iter().zip(&p) {
        match (param(a), param(b)) {
            (Some(x), Some(y)) => names.push((x, y)),
            (None, None) if a == b => {}
            _ => return None,
        }
    }
    Some(names)
}

/// Whether two path templates name the same path, whatever their parameters are called.
pub fn same_template(a: &str, b: &str) -> bool {
    a.trim_matches('/').split('/').count() == b.trim_matches('/').split('/').count()
        && under_template(a, b).is_some()
}

/// The document the suite runs on when no other is given: `spec/`, built into the binary.
pub const DEFAULT_SPEC: &str = include_str!("../../spec/phala-cloud.yaml");

/// The schema of the default document ([`DEFAULT_SPEC`]).
pub fn schema() -> &'static Schema {
    shared_schema()
}

/// [`schema`], shared: what the runtime strategies ([`crate::draw`]) hold on to.
pub fn shared_schema() -> &'static std::sync::Arc<Schema> {
    static SCHEMA: std::sync::OnceLock<std::sync::Arc<Schema>> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        std::sync::Arc::new(
            Schema::from_document(DEFAULT_SPEC).expect("spec/ is a document the generator reads"),
        )
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
    /// Whether the document gives `status` itself (not a range, not `default`).
    pub fn documents(&self, status: u16) -> bool {
        self.responses
            .iter()
            .any(|r| !r.range && r.status == status)
    }

    /// The header parameter named `name` (in any case), when the operation declares one.
    pub fn header_param(&self, name: &str) -> Option<&Param> {
        self.params
            .iter()
            .find(|p| p.location == "header" && p.name.eq_ignore_ascii_case(name))
    }

    pub fn response(&self, status: u16) -> Option<&Response> {
        let r = &self.responses;
        r.iter()
            .find(|x| !x.range && x.status == status && x.status != 0)
            .or_else(|| r.iter().find(|x| x.range && x.status / 100 == status / 100))
            .or_else(|| r.iter().find(|x| x.status == 0))
    }
}

/// Whether two JSON numbers are the same value in any spelling (`600`, `600.0`, `6e2`); two
/// integers are compared exactly, so an integer past 2^53 read back rounded is another value.
pub(crate) fn same_number(x: &serde_json::Number, y: &serde_json::Number) -> bool {
    fn integral(n: &serde_json::Number) -> Option<i128> {
        if let Some(i) = n.as_i128() {
            return Some(i);
        }
        let f = n.as_f64()?;
        (f.fract() == 0.0 && f.abs() < 1e38).then_some(f as i128)
    }
    match (integral(x), integral(y)) {
        (Some(a), Some(b)) => a == b,
        _ => x.as_f64() == y.as_f64(),
    }
}

#[cfg(test)]
mod template_tests {
    use super::{same_template, under_template};

    #[test]
    fn templates_line_up_by_position_whatever_their_parameters_are_called() {
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            under_template("/buckets/{bucket_id}/collections", "/buckets/{id}"),
            Some(vec![pair("id", "bucket_id")])
        );
        assert_eq!(
            under_template("/a/{x}/b/{y}/c", "/a/{p}/b/{q}"),
            Some(vec![pair("p", "x"), pair("q", "y")])
        );
        assert_eq!(under_template("/buckets", "/buckets/{id}"), None);
        assert_eq!(under_template("/groups/{id}/x", "/buckets/{id}"), None);
        assert_eq!(under_template("/buckets/all", "/buckets/{id}"), None);
        assert!(same_template("/buckets/{bucket_id}", "/buckets/{id}/"));
        assert!(!same_template("/buckets/{id}/collections", "/buckets/{id}"));
    }
}

#[cfg(test)]
mod tests {
    use super::says_unique;

    #[test]
    fn a_description_says_unique_only_when_it_is_not_negated() {
        assert!(says_unique(
            "The project's name, unique among the caller's projects."
        ));
        assert!(says_unique("Unique name"));
        assert!(!says_unique("Names are not unique."));
        assert!(!says_unique("A non-unique label"));
        assert!(!says_unique("A nonunique label"));
        assert!(!says_unique("The uniqueness of names is not checked"));
        assert!(!says_unique("A name"));
    }
}

//! Support code shared by every generated crate: the tri-state PATCH field, validation, the HTTP
//! client and its error type.
//!
//! This file is written by hand, once, in the generator's repository, and copied unchanged into each
//! generated crate; it does not depend on the document the crate was generated from.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Patch<T>
// ---------------------------------------------------------------------------------------------

/// An optional, nullable field: left out, sent as `null`, or sent with a value.
///
/// A PATCH body tells these three apart: a field left out keeps the server's value, an explicit
/// `null` clears it, a value sets it. Fields of this type are skipped on the wire when
/// [`Patch::Absent`] and read back as `Absent` when the key is missing.
///
/// ```text
/// let mut body = UpdateCvmRequest::default();
/// body.vcpu = Patch::Set(4);          // {"vcpu": 4}
/// body.shutdown_timeout = Patch::Null; // {"shutdown_timeout": null}
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Patch<T> {
    /// The key is not sent (the server keeps its value).
    #[default]
    Absent,
    /// The key is sent as `null` (the server clears its value).
    Null,
    /// The key is sent with this value.
    Set(T),
}

impl<T> Patch<T> {
    /// Whether the key is left out.
    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }

    /// Whether the key is sent as `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Patch::Null)
    }

    /// Whether the key is sent with a value.
    pub fn is_set(&self) -> bool {
        matches!(self, Patch::Set(_))
    }

    /// The value, if one is set.
    pub fn as_option(&self) -> Option<&T> {
        match self {
            Patch::Set(v) => Some(v),
            _ => None,
        }
    }

    /// The value, if one is set.
    pub fn into_option(self) -> Option<T> {
        match self {
            Patch::Set(v) => Some(v),
            _ => None,
        }
    }

    /// `Some(v)` becomes `Set(v)`, `None` becomes `Null` (an explicit clear).
    pub fn from_option(v: Option<T>) -> Self {
        v.map_or(Patch::Null, Patch::Set)
    }
}

impl<T> From<T> for Patch<T> {
    fn from(v: T) -> Self {
        Patch::Set(v)
    }
}

impl<T: Serialize> Serialize for Patch<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Patch::Set(v) => v.serialize(s),
            // `Absent` is skipped by the field attribute; standing alone it can only be null.
            Patch::Null | Patch::Absent => s.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(d).map(Patch::from_option)
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/// One broken constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where: a field path such as `gpus.gpus[0].slot` (empty for the value itself).
    pub path: String,
    /// The schema keyword broken: `minimum`, `maximum`, `multipleOf`, `minLength`, `maxLength`,
    /// `minItems` or `maxItems`.
    pub rule: &'static str,
    /// A sentence for people.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{} ({})", self.message, self.rule)
        } else {
            write!(f, "{}: {} ({})", self.path, self.message, self.rule)
        }
    }
}

/// Every constraint a value breaks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<Violation>);

impl ValidationErrors {
    /// The violations, in field order.
    pub fn violations(&self) -> &[Violation] {
        &self.0
    }

    fn push(&mut self, path: &str, rule: &'static str, message: String) {
        self.0.push(Violation {
            path: path.to_string(),
            rule,
            message,
        });
    }

    /// Checks `value >= min` (or `>` when exclusive).
    pub fn minimum<T: PartialOrd + fmt::Display>(
        &mut self,
        path: &str,
        value: T,
        min: T,
        exclusive: bool,
    ) {
        let ok = if exclusive { value > min } else { value >= min };
        if !ok {
            let op = if exclusive {
                "greater than"
            } else {
                "at least"
            };
            self.push(path, "minimum", format!("must be {op} {min}, got {value}"));
        }
    }

    /// Checks `value <= max` (or `<` when exclusive).
    pub fn maximum<T: PartialOrd + fmt::Display>(
        &mut self,
        path: &str,
        value: T,
        max: T,
        exclusive: bool,
    ) {
        let ok = if exclusive { value < max } else { value <= max };
        if !ok {
            let op = if exclusive { "less than" } else { "at most" };
            self.push(path, "maximum", format!("must be {op} {max}, got {value}"));
        }
    }

    /// Checks that `value` is a multiple of `step`.
    pub fn multiple_of(&mut self, path: &str, value: f64, step: f64) {
        let q = value / step;
        if step > 0.0 && (q - q.round()).abs() > 1e-9 {
            self.push(
                path,
                "multipleOf",
                format!("must be a multiple of {step}, got {value}"),
            );
        }
    }

    /// Checks a string's length in characters.
    pub fn length(&mut self, path: &str, value: &str, min: Option<u64>, max: Option<u64>) {
        let n = value.chars().count() as u64;
        if let Some(min) = min.filter(|m| n < *m) {
            self.push(
                path,
                "minLength",
                format!("must have at least {min} characters, got {n}"),
            );
        }
        if let Some(max) = max.filter(|m| n > *m) {
            self.push(
                path,
                "maxLength",
                format!("must have at most {max} characters, got {n}"),
            );
        }
    }

    /// Checks an array's number of items.
    pub fn items(&mut self, path: &str, n: usize, min: Option<u64>, max: Option<u64>) {
        let n = n as u64;
        if let Some(min) = min.filter(|m| n < *m) {
            self.push(
                path,
                "minItems",
                format!("must have at least {min} items, got {n}"),
            );
        }
        if let Some(max) = max.filter(|m| n > *m) {
            self.push(
                path,
                "maxItems",
                format!("must have at most {max} items, got {n}"),
            );
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Joins a field name onto a path.
pub fn field_path(base: &str, field: &str) -> String {
    if base.is_empty() {
        field.to_string()
    } else {
        format!("{base}.{field}")
    }
}

/// Values whose schema has constraints (bounds, lengths, item counts) that can be checked locally.
pub trait Validate {
    /// Adds every broken constraint under `path` to `errors`.
    fn validate_into(&self, path: &str, errors: &mut ValidationErrors);

    /// Checks every constraint; the client calls this before it sends a body.
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        self.validate_into("", &mut errors);
        if errors.0.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate_into(&self, path: &str, errors: &mut ValidationErrors) {
        for (i, v) in self.iter().enumerate() {
            v.validate_into(&format!("{path}[{i}]"), errors);
        }
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate_into(&self, path: &str, errors: &mut ValidationErrors) {
        if let Some(v) = self {
            v.validate_into(path, errors);
        }
    }
}

impl<T: Validate> Validate for Patch<T> {
    fn validate_into(&self, path: &str, errors: &mut ValidationErrors) {
        if let Patch::Set(v) = self {
            v.validate_into(path, errors);
        }
    }
}

impl<T: Validate> Validate for Box<T> {
    fn validate_into(&self, path: &str, errors: &mut ValidationErrors) {
        (**self).validate_into(path, errors);
    }
}

impl<T: Validate> Validate for BTreeMap<String, T> {
    fn validate_into(&self, path: &str, errors: &mut ValidationErrors) {
        for (k, v) in self {
            v.validate_into(&field_path(path, k), errors);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors and raw answers
// ---------------------------------------------------------------------------------------------

/// An answer as received: status, headers and body bytes.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body, as received (bounded by [`ClientBuilder::max_response_bytes`]).
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Parses the body as JSON; an empty body reads as `null`.
    pub fn json<T: DeserializeOwned>(self) -> Result<T, Error> {
        let parsed = if self.body.iter().all(u8::is_ascii_whitespace) {
            serde_json::from_slice(b"null")
        } else {
            serde_json::from_slice(&self.body)
        };
        parsed.map_err(|source| Error::Decode {
            response: Box::new(self),
            source,
        })
    }
}

/// Why a call did not produce a documented answer.
#[derive(Debug)]
pub enum Error {
    /// The request body breaks constraints of the schema; nothing was sent.
    Validation(ValidationErrors),
    /// A parameter or body could not be encoded.
    Encode(String),
    /// The request could not be sent or the answer not received (connection, TLS, timeout).
    Transport(reqwest::Error),
    /// The answer's status is documented, but its body does not match the documented schema.
    Decode {
        /// The answer, kept whole.
        response: Box<RawResponse>,
        /// What did not match.
        source: serde_json::Error,
    },
    /// The answer's body is larger than the configured limit.
    BodyTooLarge {
        /// The answer's status.
        status: u16,
        /// The limit in bytes.
        limit: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Validation(e) => write!(f, "invalid request: {e}"),
            Error::Encode(e) => write!(f, "cannot encode request: {e}"),
            Error::Transport(e) => write!(f, "transport error: {e}"),
            Error::Decode { response, source } => {
                write!(
                    f,
                    "answer {} does not match its documented schema: {source}",
                    response.status
                )
            }
            Error::BodyTooLarge { status, limit } => {
                write!(f, "answer {status} has a body larger than {limit} bytes")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Validation(e) => Some(e),
            Error::Transport(e) => Some(e),
            Error::Decode { source, .. } => Some(source),
            Error::Encode(_) | Error::BodyTooLarge { .. } => None,
        }
    }
}

impl From<ValidationErrors> for Error {
    fn from(e: ValidationErrors) -> Self {
        Error::Validation(e)
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        Error::Transport(e)
    }
}

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

/// How an operation may authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// The API key in this header.
    ApiKeyHeader(&'static str),
    /// The API key in this query parameter.
    ApiKeyQuery(&'static str),
    /// `Authorization: Bearer <token>`.
    Bearer,
}

/// The API client. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    base_url: String,
    http: reqwest::Client,
    api_key: Option<String>,
    bearer_token: Option<String>,
    max_response_bytes: usize,
}

/// Builds a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    base_url: String,
    http: Option<reqwest::Client>,
    timeout: Duration,
    connect_timeout: Duration,
    api_key: Option<String>,
    bearer_token: Option<String>,
    user_agent: String,
    max_response_bytes: usize,
}

impl ClientBuilder {
    /// Whole-request timeout (default 30 s). Ignored with [`ClientBuilder::http_client`].
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Connection timeout (default 10 s). Ignored with [`ClientBuilder::http_client`].
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// The API key, sent where the operation's security scheme says (a header such as `X-API-Key`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// A bearer token, sent as `Authorization: Bearer ...` to operations that accept one.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// The `User-Agent` header. Ignored with [`ClientBuilder::http_client`].
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// The largest answer body read, in bytes (default 16 MiB); a larger one is
    /// [`Error::BodyTooLarge`].
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n;
        self
    }

    /// Uses your own `reqwest::Client` (proxies, TLS roots, middleware-free tuning).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .timeout(self.timeout)
                .connect_timeout(self.connect_timeout)
                .user_agent(self.user_agent)
                .build()?,
        };
        Ok(Client {
            base_url: self.base_url.trim_end_matches('/').to_string(),
            http,
            api_key: self.api_key,
            bearer_token: self.bearer_token,
            max_response_bytes: self.max_response_bytes,
        })
    }
}

impl Client {
    /// A client for `base_url` (such as `https://cloud-api.phala.com`) with default settings.
    pub fn new(base_url: impl Into<String>) -> Result<Self, Error> {
        Self::builder(base_url).build()
    }

    /// A builder for `base_url`.
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            http: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            api_key: None,
            bearer_token: None,
            user_agent: concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION")).to_string(),
            max_response_bytes: 16 * 1024 * 1024,
        }
    }

    /// A client for `base_url` that sends through your own `reqwest::Client`.
    pub fn from_client(base_url: impl Into<String>, http: reqwest::Client) -> Self {
        let b = Self::builder(base_url);
        Client {
            base_url: b.base_url.trim_end_matches('/').to_string(),
            http,
            api_key: None,
            bearer_token: None,
            max_response_bytes: b.max_response_bytes,
        }
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends a request built by a generated operation and reads the answer (bounded).
    pub async fn send(&self, req: Request) -> Result<RawResponse, Error> {
        let mut query = req.query;
        let mut rb = self
            .http
            .request(req.method, format!("{}{}", self.base_url, req.path));
        for auth in req.auth {
            match (auth, &self.api_key, &self.bearer_token) {
                (Auth::ApiKeyHeader(name), Some(key), _) => rb = rb.header(*name, key),
                (Auth::ApiKeyQuery(name), Some(key), _) => {
                    query.push((name.to_string(), key.clone()))
                }
                (Auth::Bearer, _, Some(token)) => rb = rb.bearer_auth(token),
                _ => {}
            }
        }
        if !query.is_empty() {
            rb = rb.query(&query);
        }
        for (name, value) in req.headers {
            rb = rb.header(name, value);
        }
        if let Some((content_type, bytes)) = req.body {
            rb = rb
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(bytes);
        }
        let mut resp = rb.send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            if body.len() + chunk.len() > self.max_response_bytes {
                return Err(Error::BodyTooLarge {
                    status,
                    limit: self.max_response_bytes,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }
}

/// A request on its way out, built by generated operations.
#[derive(Debug)]
pub struct Request {
    method: reqwest::Method,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(&'static str, String)>,
    body: Option<(&'static str, Vec<u8>)>,
    auth: &'static [Auth],
}

impl Request {
    /// A request for `path` (already expanded, starting with `/`).
    pub fn new(method: reqwest::Method, path: String, auth: &'static [Auth]) -> Self {
        Request {
            method,
            path,
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            auth,
        }
    }

    /// Adds a query parameter; `None`/`null` adds nothing, an array adds one pair per item.
    pub fn query<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), Error> {
        match to_json(value)? {
            serde_json::Value::Null => {}
            serde_json::Value::Array(items) => {
                for item in items {
                    if let Some(s) = scalar(&item) {
                        self.query.push((name.to_string(), s));
                    }
                }
            }
            other => {
                if let Some(s) = scalar(&other) {
                    self.query.push((name.to_string(), s));
                }
            }
        }
        Ok(())
    }

    /// Adds a header; `None`/`null` adds nothing, an array is sent comma-separated.
    pub fn header<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let text = match to_json(value)? {
            serde_json::Value::Null => return Ok(()),
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(scalar)
                .collect::<Vec<_>>()
                .join(","),
            other => scalar(&other).unwrap_or_default(),
        };
        self.headers.push((name, text));
        Ok(())
    }

    /// Sets a JSON body.
    pub fn json<T: Serialize + ?Sized>(&mut self, body: &T) -> Result<(), Error> {
        let bytes = serde_json::to_vec(body).map_err(|e| Error::Encode(e.to_string()))?;
        self.body = Some(("application/json", bytes));
        Ok(())
    }

    /// Sets a form-encoded body (`application/x-www-form-urlencoded`).
    pub fn form<T: Serialize + ?Sized>(&mut self, body: &T) -> Result<(), Error> {
        let mut pairs = Vec::new();
        if let serde_json::Value::Object(map) = to_json(body)? {
            for (k, v) in map {
                match v {
                    serde_json::Value::Null => {}
                    serde_json::Value::Array(items) => {
                        pairs.extend(items.iter().filter_map(scalar).map(|s| (k.clone(), s)))
                    }
                    v => pairs.extend(scalar(&v).map(|s| (k.clone(), s))),
                }
            }
        }
        let text = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.body = Some(("application/x-www-form-urlencoded", text.into_bytes()));
        Ok(())
    }

    /// Sets a raw body with its media type.
    pub fn raw(&mut self, content_type: &'static str, bytes: Vec<u8>) {
        self.body = Some((content_type, bytes));
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<serde_json::Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::Encode(e.to_string()))
}

fn scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// Formats a path parameter, percent-encoded as one path segment.
pub fn path_param<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    let v = to_json(value)?;
    let s = scalar(&v).ok_or_else(|| Error::Encode("a path parameter cannot be null".into()))?;
    Ok(encode_component(&s))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Schema metadata and proptest strategies (feature `proptest`)
// ---------------------------------------------------------------------------------------------

/// The schemas' constraints as data (`schema.json`, generated beside this file), for contract tests
/// that build, break and judge JSON.
#[cfg(feature = "proptest")]
pub mod meta {
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
        /// The JSON body's shape, when the operation takes one.
        pub body: Option<Shape>,
        /// Every documented answer.
        pub responses: Vec<Response>,
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
            serde_json::from_str(include_str!("schema.json"))
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
}

/// Building blocks of the generated strategies.
#[cfg(feature = "proptest")]
pub mod strategy {
    use proptest::prelude::*;

    /// Absent, null or a value, each about a third of the time.
    pub fn patch<T: std::fmt::Debug + Clone + 'static>(
        value: BoxedStrategy<T>,
    ) -> BoxedStrategy<super::Patch<T>> {
        prop_oneof![
            1 => Just(super::Patch::Absent),
            1 => Just(super::Patch::Null),
            2 => value.prop_map(super::Patch::Set),
        ]
        .boxed()
    }

    /// Absent or a value.
    pub fn optional<T: std::fmt::Debug + Clone + 'static>(
        value: BoxedStrategy<T>,
    ) -> BoxedStrategy<Option<T>> {
        prop_oneof![1 => Just(None), 2 => value.prop_map(Some)].boxed()
    }

    /// An integer in `lo..=hi`, with weight on both edges and their neighbours.
    pub fn integer(lo: i128, hi: i128) -> BoxedStrategy<i128> {
        let mut edges = vec![lo, hi];
        if lo < hi {
            edges.push(lo + 1);
            edges.push(hi - 1);
        }
        if lo <= 0 && 0 <= hi {
            edges.push(0);
        }
        edges.sort_unstable();
        edges.dedup();
        prop_oneof![
            1 => proptest::sample::select(edges),
            2 => lo..=hi,
        ]
        .boxed()
    }

    /// A finite number in the range (bounds excluded when asked).
    pub fn number(lo: f64, hi: f64, exclusive_lo: bool, exclusive_hi: bool) -> BoxedStrategy<f64> {
        let (lo, hi) = (lo.max(-1e15), hi.min(1e15));
        let step = |x: f64| (x.abs() * 1e-9).max(1e-9);
        let lo = if exclusive_lo { lo + step(lo) } else { lo };
        let hi = if exclusive_hi { hi - step(hi) } else { hi };
        if lo >= hi {
            return Just(lo).boxed();
        }
        prop_oneof![1 => proptest::sample::select(vec![lo, hi]), 3 => lo..=hi].boxed()
    }

    /// Strings of a length within bounds: empty, ASCII, any Unicode, and long ones.
    pub fn string(min_len: Option<u64>, max_len: Option<u64>) -> BoxedStrategy<String> {
        let lo = min_len.unwrap_or(0).min(4096) as usize;
        let hi = (max_len.unwrap_or(4096).min(4096) as usize).max(lo);
        let short_hi = hi.min(lo + 16);
        let mut options: Vec<(u32, BoxedStrategy<String>)> = vec![
            (3, proptest::string::string_regex(&format!("[a-zA-Z0-9_.-]{{{lo},{short_hi}}}")).unwrap().boxed()),
            (2, proptest::collection::vec(any::<char>(), lo..=short_hi).prop_map(|c| c.into_iter().collect()).boxed()),
        ];
        if lo == 0 {
            options.push((1, Just(String::new()).boxed()));
        }
        if hi > short_hi {
            options.push((1, (short_hi..=hi).prop_map(|n| "x".repeat(n)).boxed()));
        }
        proptest::strategy::Union::new_weighted(options).boxed()
    }

    /// A small JSON value.
    pub fn any_json() -> BoxedStrategy<serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(serde_json::Value::from),
            "[a-z]{0,8}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..3).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map("[a-z]{1,6}", inner, 0..3)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
        .boxed()
    }

    /// Keys of generated maps.
    pub fn key() -> BoxedStrategy<String> {
        "[a-z][a-z0-9_]{0,7}".boxed()
    }
}

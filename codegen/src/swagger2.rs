//! Swagger 2.0 (OpenAPI 2.0) read into the 3.0 shape the rest of the pipeline works on, as raw
//! JSON, with a map from every node it writes back to the node of the document as written: every
//! error and warning then names the 2.0 node ([`PointerMap::original`]).
//!
//! | 2.0 | 3.0 |
//! |---|---|
//! | `swagger: "2.0"` | `openapi: "3.0.3"` |
//! | `host`, `basePath`, `schemes` | `servers` (one per scheme; a relative one without `host`) |
//! | `definitions` | `components/schemas` |
//! | `parameters` (shared) | `components/parameters`; a body one `components/requestBodies`; a `formData` one is copied where it is used |
//! | `responses` (shared) | `components/responses` |
//! | `securityDefinitions`: `basic`, `apiKey`, `oauth2` (`implicit`, `password`, `application`, `accessCode`) | `securitySchemes`: `http`/`basic`, `apiKey`, `oauth2` flows (`implicit`, `password`, `clientCredentials`, `authorizationCode`) |
//! | a `body` parameter | `requestBody`, one media type per `consumes` (`application/json` when none) |
//! | `formData` parameters | `requestBody` of an object with one property each: `multipart/form-data` when `consumes` says so or one is a `file`, else `application/x-www-form-urlencoded` |
//! | a parameter's `type`, `format`, `items`, `enum`, bounds... | its `schema` |
//! | `collectionFormat`: `csv`, `ssv`, `pipes`, `multi` | `style`/`explode`: `form` (or `simple` outside a query) unexploded, `spaceDelimited`, `pipeDelimited`, `form` exploded |
//! | `collectionFormat: tsv` | `form`, with a warning (3.0 has no tab-separated style) |
//! | `type: file` | `type: string, format: binary` |
//! | `x-nullable`, `x-isnullable` | `nullable` |
//! | a response's `schema`, `headers`, `examples` (by media type) | `content` per `produces` (`application/json` when none), each with its `example`; `headers` with a `schema` each |
//! | `discriminator: NAME` | `discriminator: {propertyName: NAME}` |
//! | `$ref: "#/definitions/X"`, `"#/parameters/X"`, `"#/responses/X"` | the component it became |
//! | `allowEmptyValue`, `x-` extensions, `tags`, `externalDocs`, `security`, `deprecated` | kept |

use crate::diag::{escape_segment, Diagnostics, Error, Ptr};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Converted pointer prefixes and the pointers of the document as written they come from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PointerMap {
    /// Converted prefix -> original prefix; the longest prefix of a pointer decides.
    prefixes: BTreeMap<String, String>,
    /// Whether the conversion writes it down (only asked for when something is to be named:
    /// writing it costs as much as the rest of the conversion).
    recording: bool,
}

impl PointerMap {
    /// A map that the conversion writes down (`recording`), or one it leaves empty.
    pub fn new(recording: bool) -> Self {
        PointerMap {
            prefixes: BTreeMap::new(),
            recording,
        }
    }

    /// Notes that the converted prefix `f().0` stands for `f().1` (built only when recording).
    fn map_with(&mut self, f: impl FnOnce() -> (String, String)) {
        if self.recording {
            let (converted, original) = f();
            self.prefixes.insert(converted, original);
        }
    }

    /// The pointer of the document as written that `p` (a pointer of the converted document)
    /// stands for: `p` itself when nothing was converted.
    pub fn original(&self, p: &str) -> String {
        let mut at = p.len();
        loop {
            let prefix = &p[..at];
            if let Some(o) = self.prefixes.get(prefix) {
                return format!("{o}{}", &p[at..]);
            }
            match prefix.rfind('/') {
                Some(i) => at = i,
                None => return p.to_string(),
            }
        }
    }
}

/// Whether `doc` is a Swagger 2.0 document.
pub(crate) fn is_swagger2(doc: &Value) -> bool {
    doc.get("swagger").and_then(Value::as_str) == Some("2.0")
}

fn seg(s: &str) -> String {
    escape_segment(s)
}

/// The conversion's working state. Its warnings name nodes of the document as written.
struct Convert<'d> {
    /// The document's shared parameters, which operations refer to.
    shared: Map<String, Value>,
    map: PointerMap,
    diags: &'d mut Diagnostics,
    consumes: std::rc::Rc<Vec<String>>,
    produces: std::rc::Rc<Vec<String>>,
}

fn take_object(obj: &mut Map<String, Value>, key: &str) -> Map<String, Value> {
    match obj.shift_remove(key) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn take_array(obj: &mut Map<String, Value>, key: &str) -> Vec<Value> {
    match obj.shift_remove(key) {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    }
}

fn media(obj: &Map<String, Value>, key: &str) -> Option<Vec<String>> {
    obj.get(key).and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(|m| m.as_str().map(str::to_string))
            .collect()
    })
}

/// `doc` (Swagger 2.0) as a 3.0.3 document, and the map back to it. The warnings it adds to
/// `diags` name nodes of `doc` itself (not to be mapped again). The document is changed in
/// place, node by node, and pointers are written out only when needed: the conversion costs
/// less than reading the larger 3.0 text would.
pub(crate) fn convert(
    doc: Value,
    diags: &mut Diagnostics,
    record: bool,
) -> Result<(Value, PointerMap), Error> {
    let Value::Object(mut obj) = doc else {
        return Err(Error::new("", "a Swagger document must be an object"));
    };
    let shared = match obj.get("parameters") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let mut c = Convert {
        shared,
        map: PointerMap::new(record),
        diags,
        consumes: std::rc::Rc::new(media(&obj, "consumes").unwrap_or_default()),
        produces: std::rc::Rc::new(media(&obj, "produces").unwrap_or_default()),
    };
    let root = Ptr::ROOT;
    c.map
        .map_with(|| ("/openapi".to_string(), "/swagger".to_string()));
    let servers = servers(&obj, &mut c.map);
    let mut components = Map::new();
    let mut defs = take_object(&mut obj, "definitions");
    if !defs.is_empty() {
        let here = root.key("definitions");
        for (name, s) in defs.iter_mut() {
            let at = here.key(name);
            c.map
                .map_with(|| (format!("/components/schemas/{}", seg(name)), at.text()));
            c.schema(s, &at);
        }
        components.insert("schemas".into(), Value::Object(defs));
    }
    let params = take_object(&mut obj, "parameters");
    if !params.is_empty() {
        let here = root.key("parameters");
        let mut parameters = Map::new();
        let mut bodies = Map::new();
        for (name, p) in params {
            let at = here.key(&name);
            match p.get("in").and_then(Value::as_str) {
                Some("body") => {
                    let to = root.key("components");
                    let to = to.key("requestBodies");
                    let to = to.key(&name);
                    let consumes = c.consumes.clone();
                    let body = c.body(p, &at, &to, &consumes);
                    bodies.insert(name, body);
                }
                // A form field is a property of an operation's body, copied where it is used.
                Some("formData") => {}
                _ => {
                    let to = root.key("components");
                    let to = to.key("parameters");
                    let to = to.key(&name);
                    c.map.map_with(|| (to.text(), at.text()));
                    let p = c.parameter(p, &at, &to);
                    parameters.insert(name, p);
                }
            }
        }
        if !parameters.is_empty() {
            components.insert("parameters".into(), Value::Object(parameters));
        }
        if !bodies.is_empty() {
            components.insert("requestBodies".into(), Value::Object(bodies));
        }
    }
    let mut responses = take_object(&mut obj, "responses");
    if !responses.is_empty() {
        let here = root.key("responses");
        let produces = c.produces.clone();
        for (name, r) in responses.iter_mut() {
            let at = here.key(name);
            let to = root.key("components");
            let to = to.key("responses");
            let to = to.key(name);
            c.response(r, &at, &to, &produces);
        }
        components.insert("responses".into(), Value::Object(responses));
    }
    let defs = take_object(&mut obj, "securityDefinitions");
    if !defs.is_empty() {
        let here = root.key("securityDefinitions");
        let mut schemes = Map::new();
        for (name, s) in defs {
            let at = here.key(&name);
            c.map.map_with(|| {
                (
                    format!("/components/securitySchemes/{}", seg(&name)),
                    at.text(),
                )
            });
            if let Some(s) = c.security_scheme(s, &at) {
                schemes.insert(name, s);
            }
        }
        components.insert("securitySchemes".into(), Value::Object(schemes));
    }
    let mut paths = take_object(&mut obj, "paths");
    let here = root.key("paths");
    for (path, item) in paths.iter_mut() {
        c.path_item(item, &here.key(path));
    }
    // What 2.0 has and 3.0 says elsewhere (or not at all) goes; the rest stays as it is.
    for k in [
        "swagger", "host", "basePath", "schemes", "consumes", "produces",
    ] {
        obj.shift_remove(k);
    }
    obj.retain(|k, _| {
        matches!(k.as_str(), "info" | "tags" | "externalDocs" | "security") || k.starts_with("x-")
    });
    let mut out = Map::new();
    out.insert("openapi".into(), json!("3.0.3"));
    out.extend(obj);
    if let Some(servers) = servers {
        out.insert("servers".into(), servers);
    }
    out.insert("paths".into(), Value::Object(paths));
    if !components.is_empty() {
        out.insert("components".into(), Value::Object(components));
    }
    Ok((Value::Object(out), c.map))
}

/// `servers` from `host`, `basePath` and `schemes`.
fn servers(doc: &Map<String, Value>, map: &mut PointerMap) -> Option<Value> {
    let host = doc.get("host").and_then(Value::as_str);
    let base = doc.get("basePath").and_then(Value::as_str).unwrap_or("");
    if host.is_none() && base.is_empty() {
        return None;
    }
    map.map_with(|| {
        let from = if host.is_some() { "/host" } else { "/basePath" };
        ("/servers".to_string(), from.to_string())
    });
    let schemes: Vec<&str> = doc
        .get("schemes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let urls: Vec<Value> = match host {
        None => vec![json!({ "url": if base.is_empty() { "/" } else { base } })],
        Some(h) if schemes.is_empty() => vec![json!({"url": format!("https://{h}{base}")})],
        Some(h) => schemes
            .iter()
            .map(|s| json!({"url": format!("{s}://{h}{base}")}))
            .collect(),
    };
    Some(Value::Array(urls))
}

impl Convert<'_> {
    /// A schema, changed in place: its references renamed and 2.0's own keywords read. `at` is
    /// where it is in the document as written (for warnings).
    fn schema(&mut self, s: &mut Value, at: &Ptr<'_>) {
        let Value::Object(o) = s else {
            return;
        };
        if let Some(r) = o.get_mut("$ref") {
            *r = self.reference(r, &|| format!("{}/$ref", at.text()));
        }
        for key in ["x-nullable", "x-isnullable"] {
            if let Some(v) = o.shift_remove(key) {
                if v.as_bool() == Some(true) {
                    o.insert("nullable".into(), json!(true));
                }
            }
        }
        if o.get("type").and_then(Value::as_str) == Some("file") {
            o.insert("type".into(), json!("string"));
            o.insert("format".into(), json!("binary"));
        }
        if let Some(Value::String(name)) = o.get("discriminator") {
            let name = name.clone();
            o.insert("discriminator".into(), json!({ "propertyName": name }));
        }
        if let Some(Value::Array(list)) = o.get("items") {
            // 2.0 allows no tuple `items`; the first one stands for all, as the validators of
            // its day read it.
            self.diags.warn(
                format!("{}/items", at.text()),
                "`items` as a list is not 2.0; its first schema stands for every item",
            );
            let first = list.first().cloned().unwrap_or(json!({}));
            o.insert("items".into(), first);
        }
        for key in ["items", "additionalProperties", "not"] {
            if let Some(v) = o.get_mut(key).filter(|v| v.is_object()) {
                self.schema(v, &at.key(key));
            }
        }
        if let Some(Value::Object(props)) = o.get_mut("properties") {
            let here = at.key("properties");
            for (name, v) in props.iter_mut() {
                self.schema(v, &here.key(name));
            }
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(list)) = o.get_mut(key) {
                let here = at.key(key);
                for (i, v) in list.iter_mut().enumerate() {
                    self.schema(v, &here.index(i));
                }
            }
        }
    }

    /// A `$ref` of the 2.0 document, as a reference to the component it became.
    fn reference(&mut self, r: &Value, at: &dyn Fn() -> String) -> Value {
        let Some(text) = r.as_str() else {
            return r.clone();
        };
        let renamed = if let Some(rest) = text.strip_prefix("#/definitions/") {
            format!("#/components/schemas/{rest}")
        } else if let Some(rest) = text.strip_prefix("#/responses/") {
            format!("#/components/responses/{rest}")
        } else if let Some(rest) = text.strip_prefix("#/parameters/") {
            format!("#/components/parameters/{rest}")
        } else {
            if !text.starts_with('#') {
                self.diags.warn(
                    at(),
                    format!("`{text}` is in another document, which is not read"),
                );
            }
            text.to_string()
        };
        Value::String(renamed)
    }

    /// The shared parameter a `#/parameters/NAME` reference names.
    fn shared_parameter<'r>(&self, r: &'r str) -> Option<(&'r str, &Value)> {
        let name = r.strip_prefix("#/parameters/")?;
        let p = if name.contains('~') {
            self.shared
                .get(&name.replace("~1", "/").replace("~0", "~"))?
        } else {
            self.shared.get(name)?
        };
        Some((name, p))
    }

    /// A parameter itself, through its reference.
    fn resolved<'v>(&'v self, p: &'v Value) -> &'v Value {
        match p.get("$ref").and_then(Value::as_str) {
            Some(r) => self.shared_parameter(r).map_or(p, |(_, s)| s),
            None => p,
        }
    }

    /// Where a parameter (or the shared one it refers to) goes.
    fn place<'v>(&'v self, p: &'v Value) -> &'v str {
        self.resolved(p)
            .get("in")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// A parameter's name and place, through its reference.
    fn key<'v>(&'v self, p: &'v Value) -> (&'v str, &'v str) {
        let p = self.resolved(p);
        (
            p.get("name").and_then(Value::as_str).unwrap_or(""),
            p.get("in").and_then(Value::as_str).unwrap_or(""),
        )
    }

    /// A path, query or header parameter: its schema keywords gathered into `schema`.
    fn parameter(&mut self, p: Value, at: &Ptr<'_>, to: &Ptr<'_>) -> Value {
        let Value::Object(mut o) = p else {
            return p;
        };
        if let Some(r) = o.get_mut("$ref") {
            *r = self.reference(r, &|| format!("{}/$ref", at.text()));
            return Value::Object(o);
        }
        let path = o.get("in").and_then(Value::as_str) == Some("path");
        let query = o.get("in").and_then(Value::as_str) == Some("query");
        let is_array = o.get("type").and_then(Value::as_str) == Some("array");
        let format = o.shift_remove("collectionFormat");
        let mut schema = Map::new();
        o.retain(|k, v| {
            let keep = matches!(
                k.as_str(),
                "name"
                    | "in"
                    | "description"
                    | "required"
                    | "deprecated"
                    | "allowEmptyValue"
                    | "example"
            ) || (k.starts_with("x-") && k != "x-nullable" && k != "x-isnullable");
            if !keep {
                schema.insert(k.clone(), std::mem::take(v));
            }
            keep
        });
        if path {
            o.insert("required".into(), json!(true));
        }
        if is_array || format.is_some() {
            let (style, explode) =
                self.style(format.as_ref().and_then(Value::as_str), query, path, at);
            o.insert("style".into(), json!(style));
            o.insert("explode".into(), json!(explode));
        }
        // The schema keywords are the parameter's own: they map to the parameter itself.
        self.map
            .map_with(|| (format!("{}/schema", to.text()), at.text()));
        let mut schema = Value::Object(schema);
        self.schema(&mut schema, at);
        o.insert("schema".into(), schema);
        Value::Object(o)
    }

    /// The 3.0 style and explode of a 2.0 `collectionFormat` on a query, path or header
    /// parameter.
    fn style(
        &mut self,
        format: Option<&str>,
        query: bool,
        _path: bool,
        at: &Ptr<'_>,
    ) -> (&'static str, bool) {
        let plain = if query { "form" } else { "simple" };
        let warn = |diags: &mut Diagnostics, m: String| {
            diags.warn(format!("{}/collectionFormat", at.text()), m)
        };
        match format.unwrap_or("csv") {
            "csv" => (plain, false),
            "ssv" => ("spaceDelimited", false),
            "pipes" => ("pipeDelimited", false),
            "multi" if query => ("form", true),
            "multi" => {
                warn(
                    self.diags,
                    "`multi` is for query and form parameters; read as comma-separated".into(),
                );
                (plain, false)
            }
            "tsv" => {
                warn(
                    self.diags,
                    "3.0 has no tab-separated style; read as comma-separated".into(),
                );
                (plain, false)
            }
            other => {
                warn(
                    self.diags,
                    format!("unknown collectionFormat `{other}`; read as comma-separated"),
                );
                (plain, false)
            }
        }
    }

    /// Puts `schema` under each media type of `types` (the last one takes it, the others a copy).
    fn content(
        &mut self,
        types: &[String],
        schema: Value,
        to: &Ptr<'_>,
        from: &dyn Fn() -> String,
    ) -> Map<String, Value> {
        let mut content = Map::new();
        let mut schema = Some(schema);
        for (i, mt) in types.iter().enumerate() {
            self.map
                .map_with(|| (format!("{}/content/{}/schema", to.text(), seg(mt)), from()));
            let s = if i + 1 == types.len() {
                schema.take().unwrap_or(Value::Null)
            } else {
                schema.clone().unwrap_or(Value::Null)
            };
            let mut media = Map::new();
            media.insert("schema".into(), s);
            content.insert(mt.clone(), Value::Object(media));
        }
        content
    }

    /// A body parameter as a request body, one media type per `consumes`.
    fn body(&mut self, p: Value, at: &Ptr<'_>, to: &Ptr<'_>, consumes: &[String]) -> Value {
        self.map.map_with(|| (to.text(), at.text()));
        let Value::Object(mut o) = p else {
            return p;
        };
        let mut schema = o.shift_remove("schema").unwrap_or(json!({}));
        self.schema(&mut schema, &at.key("schema"));
        let json = ["application/json".to_string()];
        let types: &[String] = if consumes.is_empty() { &json } else { consumes };
        let content = self.content(types, schema, to, &|| format!("{}/schema", at.text()));
        let mut out = Map::new();
        if let Some(d) = o.shift_remove("description") {
            out.insert("description".into(), d);
        }
        out.insert("content".into(), Value::Object(content));
        let required = o.get("required").and_then(Value::as_bool).unwrap_or(false);
        out.insert("required".into(), json!(required));
        out.extend(o.into_iter().filter(|(k, _)| k.starts_with("x-")));
        Value::Object(out)
    }

    /// A response, changed in place: its schema under one media type per `produces`, each with
    /// the example the 2.0 response gives for it, and its headers' schemas.
    fn response(&mut self, r: &mut Value, at: &Ptr<'_>, to: &Ptr<'_>, produces: &[String]) {
        let Value::Object(o) = r else {
            return;
        };
        if let Some(rf) = o.get_mut("$ref") {
            *rf = self.reference(rf, &|| format!("{}/$ref", at.text()));
            return;
        }
        self.map.map_with(|| (to.text(), at.text()));
        if !o.contains_key("description") {
            o.insert("description".into(), json!(""));
        }
        let examples = take_object(o, "examples");
        if let Some(mut schema) = o.shift_remove("schema") {
            self.schema(&mut schema, &at.key("schema"));
            let mut types: Vec<String> = if produces.is_empty() {
                vec!["application/json".into()]
            } else {
                produces.to_vec()
            };
            // An example for a media type the operation does not list still says one is given.
            for mt in examples.keys() {
                if !types.contains(mt) {
                    types.push(mt.clone());
                }
            }
            let mut content = self.content(&types, schema, to, &|| format!("{}/schema", at.text()));
            for (mt, ex) in examples {
                self.map.map_with(|| {
                    (
                        format!("{}/content/{}/example", to.text(), seg(&mt)),
                        format!("{}/examples/{}", at.text(), seg(&mt)),
                    )
                });
                if let Some(Value::Object(media)) = content.get_mut(&mt) {
                    media.insert("example".into(), ex);
                }
            }
            o.insert("content".into(), Value::Object(content));
        } else if !examples.is_empty() {
            self.diags.warn(
                format!("{}/examples", at.text()),
                "examples of a response with no schema are kept without one",
            );
            let mut content = Map::new();
            for (mt, v) in examples {
                self.map.map_with(|| {
                    (
                        format!("{}/content/{}/example", to.text(), seg(&mt)),
                        format!("{}/examples/{}", at.text(), seg(&mt)),
                    )
                });
                content.insert(mt, json!({ "example": v }));
            }
            o.insert("content".into(), Value::Object(content));
        }
        if let Some(Value::Object(hs)) = o.get_mut("headers") {
            let here_at = at.key("headers");
            let here_to = to.key("headers");
            for (name, h) in hs.iter_mut() {
                let hat = here_at.key(name);
                let hto = here_to.key(name);
                self.map.map_with(|| (hto.text(), hat.text()));
                self.map
                    .map_with(|| (format!("{}/schema", hto.text()), hat.text()));
                let Value::Object(header) = h else { continue };
                header.shift_remove("collectionFormat");
                let mut schema = Map::new();
                header.retain(|k, v| {
                    let keep = k == "description" || k.starts_with("x-");
                    if !keep {
                        schema.insert(k.clone(), std::mem::take(v));
                    }
                    keep
                });
                let mut schema = Value::Object(schema);
                self.schema(&mut schema, &hat);
                header.insert("schema".into(), schema);
            }
        }
    }

    fn security_scheme(&mut self, s: Value, at: &Ptr<'_>) -> Option<Value> {
        let o = s.as_object()?;
        let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
        let mut out = Map::new();
        if let Some(d) = o.get("description") {
            out.insert("description".into(), d.clone());
        }
        match kind {
            "basic" => {
                out.insert("type".into(), json!("http"));
                out.insert("scheme".into(), json!("basic"));
            }
            "apiKey" => {
                out.insert("type".into(), json!("apiKey"));
                out.insert("name".into(), o.get("name").cloned().unwrap_or(json!("")));
                out.insert("in".into(), o.get("in").cloned().unwrap_or(json!("header")));
            }
            "oauth2" => {
                let scopes = o.get("scopes").cloned().unwrap_or(json!({}));
                let url = |k: &str| o.get(k).cloned().unwrap_or(json!(""));
                let (name, flow) = match o.get("flow").and_then(Value::as_str).unwrap_or("") {
                    "implicit" => (
                        "implicit",
                        json!({"authorizationUrl": url("authorizationUrl"), "scopes": scopes}),
                    ),
                    "password" => (
                        "password",
                        json!({"tokenUrl": url("tokenUrl"), "scopes": scopes}),
                    ),
                    "application" => (
                        "clientCredentials",
                        json!({"tokenUrl": url("tokenUrl"), "scopes": scopes}),
                    ),
                    "accessCode" => (
                        "authorizationCode",
                        json!({"authorizationUrl": url("authorizationUrl"), "tokenUrl": url("tokenUrl"), "scopes": scopes}),
                    ),
                    other => {
                        self.diags.warn(
                            format!("{}/flow", at.text()),
                            format!("unknown OAuth2 flow `{other}`; the scheme is left out"),
                        );
                        return None;
                    }
                };
                out.insert("type".into(), json!("oauth2"));
                out.insert("flows".into(), json!({ name: flow }));
            }
            other => {
                self.diags.warn(
                    format!("{}/type", at.text()),
                    format!("unknown security scheme type `{other}`; left out"),
                );
                return None;
            }
        }
        for (k, v) in o {
            if k.starts_with("x-") {
                out.insert(k.clone(), v.clone());
            }
        }
        Some(Value::Object(out))
    }

    /// A path item, changed in place.
    fn path_item(&mut self, item: &mut Value, at: &Ptr<'_>) {
        let Value::Object(o) = item else {
            return;
        };
        let shared = take_array(o, "parameters");
        // Path-level path, query and header parameters stay there; body and form ones go into
        // each operation's body.
        let here = at.key("parameters");
        let mut kept = Vec::new();
        for (i, p) in shared.iter().enumerate() {
            if matches!(self.place(p), "body" | "formData") {
                continue;
            }
            let pat = here.index(i);
            let to = here.index(kept.len());
            self.map.map_with(|| (to.text(), pat.text()));
            kept.push(self.parameter(p.clone(), &pat, &to));
        }
        if o.shift_remove("$ref").is_some() {
            self.diags.warn(
                format!("{}/$ref", at.text()),
                "a path item `$ref` is not read",
            );
        }
        o.retain(|k, _| {
            matches!(
                k.as_str(),
                "get" | "put" | "post" | "delete" | "options" | "head" | "patch"
            ) || k.starts_with("x-")
        });
        for (k, v) in o.iter_mut() {
            if !k.starts_with("x-") {
                self.operation(v, &at.key(k), &shared, at);
            }
        }
        if !kept.is_empty() {
            o.insert("parameters".into(), Value::Array(kept));
        }
    }

    /// An operation, changed in place.
    fn operation(&mut self, op: &mut Value, at: &Ptr<'_>, shared: &[Value], path_at: &Ptr<'_>) {
        let Value::Object(o) = op else {
            return;
        };
        let consumes = media(o, "consumes").map_or_else(|| self.consumes.clone(), std::rc::Rc::new);
        let produces = media(o, "produces").map_or_else(|| self.produces.clone(), std::rc::Rc::new);
        for k in ["consumes", "produces", "schemes"] {
            o.shift_remove(k);
        }
        // The operation's own parameters, then the path's body and form ones it does not
        // override (the path's others stay on the path).
        let own = take_array(o, "parameters");
        let mut responses = take_object(o, "responses");
        o.retain(|k, _| {
            matches!(
                k.as_str(),
                "tags"
                    | "summary"
                    | "description"
                    | "externalDocs"
                    | "operationId"
                    | "deprecated"
                    | "security"
            ) || k.starts_with("x-")
        });
        let own_here = at.key("parameters");
        let path_here = path_at.key("parameters");
        let mut inherited: Vec<(Value, usize)> = Vec::new();
        for (i, p) in shared.iter().enumerate() {
            let overridden = own.iter().any(|q| self.key(q) == self.key(p));
            if !overridden && matches!(self.place(p), "body" | "formData") {
                inherited.push((p.clone(), i));
            }
        }
        let mut params = Vec::new();
        let mut form: Vec<(Value, String)> = Vec::new();
        let all = own
            .into_iter()
            .enumerate()
            .map(|(i, p)| (p, &own_here, i))
            .chain(inherited.into_iter().map(|(p, i)| (p, &path_here, i)));
        for (p, base, i) in all {
            let pat = base.index(i);
            match self.place(&p) {
                "body" => {
                    let to = at.key("requestBody");
                    let body = match p.get("$ref").and_then(Value::as_str) {
                        Some(r) => {
                            let name = r.trim_start_matches("#/parameters/").to_string();
                            self.map.map_with(|| (to.text(), pat.text()));
                            json!({ "$ref": format!("#/components/requestBodies/{name}") })
                        }
                        None => self.body(p, &pat, &to, &consumes),
                    };
                    o.insert("requestBody".into(), body);
                }
                "formData" => {
                    let resolved = match p.get("$ref").and_then(Value::as_str) {
                        Some(r) => match self.shared_parameter(r) {
                            Some((name, s)) => (s.clone(), format!("/parameters/{name}")),
                            None => (p.clone(), pat.text()),
                        },
                        None => (p, pat.text()),
                    };
                    form.push(resolved);
                }
                _ => {
                    let to = own_here.index(params.len());
                    self.map.map_with(|| (to.text(), pat.text()));
                    params.push(self.parameter(p, &pat, &to));
                }
            }
        }
        if !params.is_empty() {
            o.insert("parameters".into(), Value::Array(params));
        }
        if !form.is_empty() {
            let body = self.form(form, at, &consumes);
            o.insert("requestBody".into(), body);
        }
        let here = at.key("responses");
        for (code, r) in responses.iter_mut() {
            let rat = here.key(code);
            self.response(r, &rat, &rat, &produces);
        }
        o.insert("responses".into(), Value::Object(responses));
    }

    /// `formData` parameters as one form body: an object with a property per field.
    fn form(&mut self, fields: Vec<(Value, String)>, at: &Ptr<'_>, consumes: &[String]) -> Value {
        let files = fields
            .iter()
            .any(|(p, _)| p.get("type").and_then(Value::as_str) == Some("file"));
        let multipart = files
            || consumes
                .iter()
                .any(|c| c.starts_with("multipart/form-data"));
        let mt = if multipart {
            "multipart/form-data"
        } else {
            "application/x-www-form-urlencoded"
        };
        if files && !consumes.is_empty() && !consumes.iter().any(|c| c.starts_with("multipart/")) {
            self.diags.warn(
                format!("{}/consumes", at.text()),
                "a file field needs multipart/form-data, which `consumes` does not list; sent as it",
            );
        }
        let mut props = Map::new();
        let mut required = Vec::new();
        for (p, pat) in fields {
            let Value::Object(p) = p else { continue };
            let Some(name) = p.get("name").and_then(Value::as_str).map(str::to_string) else {
                continue;
            };
            self.map.map_with(|| {
                (
                    format!(
                        "{}/requestBody/content/{}/schema/properties/{}",
                        at.text(),
                        seg(mt),
                        seg(&name)
                    ),
                    pat.clone(),
                )
            });
            if p.get("required").and_then(Value::as_bool) == Some(true) {
                required.push(json!(name));
            }
            let schema: Map<String, Value> = p
                .into_iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "name" | "in" | "required" | "collectionFormat" | "allowEmptyValue"
                    ) && !k.starts_with("x-")
                })
                .collect();
            let mut schema = Value::Object(schema);
            // Named by the field's own pointer, as written (a shared one's, or the operation's).
            self.schema(&mut schema, &Ptr::from_text(&pat));
            props.insert(name, schema);
        }
        let mut schema = json!({"type": "object", "properties": props});
        if !required.is_empty() {
            schema["required"] = Value::Array(required.clone());
        }
        json!({
            "content": { mt: { "schema": schema } },
            "required": !required.is_empty(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert_text(text: &str) -> (Value, PointerMap, Vec<crate::diag::Diagnostic>) {
        let doc: Value = serde_json::from_str(text).unwrap();
        let mut d = Diagnostics::default();
        let (v, m) = convert(doc, &mut d, true).unwrap();
        (v, m, d.into_vec())
    }

    #[test]
    fn a_small_document_converts_construct_by_construct() {
        let (v, map, diags) = convert_text(
            r##"{"swagger": "2.0", "info": {"title": "t", "version": "1"},
              "host": "api.example.com", "basePath": "/v1", "schemes": ["https"],
              "consumes": ["application/json"], "produces": ["application/json"],
              "securityDefinitions": {"basic": {"type": "basic"},
                "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
                "oauth": {"type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://a", "tokenUrl": "https://t", "scopes": {"read": "r"}}},
              "parameters": {"page": {"name": "page", "in": "query", "type": "integer", "minimum": 1},
                             "pet": {"name": "pet", "in": "body", "required": true, "schema": {"$ref": "#/definitions/Pet"}}},
              "responses": {"NotFound": {"description": "gone", "schema": {"$ref": "#/definitions/Error"}}},
              "paths": {"/pets/{id}": {
                 "parameters": [{"name": "id", "in": "path", "type": "string"}],
                 "get": {"operationId": "getPet",
                   "parameters": [{"$ref": "#/parameters/page"},
                     {"name": "tags", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "multi"},
                     {"name": "ids", "in": "query", "type": "array", "items": {"type": "integer"}, "collectionFormat": "pipes"},
                     {"name": "q", "in": "query", "type": "string", "allowEmptyValue": true}],
                   "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"},
                       "headers": {"X-Rate": {"type": "integer"}},
                       "examples": {"application/json": {"id": 1, "name": "rex"}}},
                     "404": {"$ref": "#/responses/NotFound"}}},
                 "put": {"operationId": "putPet", "parameters": [{"$ref": "#/parameters/pet"}],
                   "responses": {"200": {"description": "ok"}}},
                 "post": {"operationId": "upload", "consumes": ["multipart/form-data"],
                   "parameters": [{"name": "file", "in": "formData", "type": "file", "required": true},
                     {"name": "note", "in": "formData", "type": "string"}],
                   "responses": {"201": {"description": "made"}}}}},
              "definitions": {"Pet": {"type": "object", "required": ["name"], "discriminator": "kind",
                   "properties": {"name": {"type": "string"}, "kind": {"type": "string"},
                     "tag": {"type": "string", "x-nullable": true}}},
                 "Error": {"type": "object"}}}"##,
        );
        assert_eq!(v["openapi"], "3.0.3");
        assert_eq!(v["servers"], json!([{"url": "https://api.example.com/v1"}]));
        let schemes = &v["components"]["securitySchemes"];
        assert_eq!(schemes["basic"], json!({"type": "http", "scheme": "basic"}));
        assert_eq!(
            schemes["key"],
            json!({"type": "apiKey", "name": "X-Key", "in": "header"})
        );
        assert_eq!(
            schemes["oauth"]["flows"]["authorizationCode"]["tokenUrl"],
            "https://t"
        );
        let pet = &v["components"]["schemas"]["Pet"];
        assert_eq!(pet["properties"]["tag"]["nullable"], true);
        assert_eq!(pet["discriminator"], json!({"propertyName": "kind"}));
        assert_eq!(
            v["components"]["parameters"]["page"]["schema"],
            json!({"type": "integer", "minimum": 1})
        );
        let body = &v["components"]["requestBodies"]["pet"];
        assert_eq!(body["required"], true);
        assert_eq!(
            body["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Pet"
        );
        let item = &v["paths"]["/pets/{id}"];
        assert_eq!(item["parameters"][0]["required"], true);
        let get = &item["get"];
        assert_eq!(get["parameters"][0]["$ref"], "#/components/parameters/page");
        assert_eq!(get["parameters"][1]["style"], "form");
        assert_eq!(get["parameters"][1]["explode"], true);
        assert_eq!(get["parameters"][2]["style"], "pipeDelimited");
        assert_eq!(get["parameters"][3]["allowEmptyValue"], true);
        let ok = &get["responses"]["200"];
        assert_eq!(ok["content"]["application/json"]["example"]["name"], "rex");
        assert_eq!(ok["headers"]["X-Rate"]["schema"]["type"], "integer");
        assert_eq!(
            get["responses"]["404"]["$ref"],
            "#/components/responses/NotFound"
        );
        assert_eq!(
            item["put"]["requestBody"]["$ref"],
            "#/components/requestBodies/pet"
        );
        let form = &item["post"]["requestBody"]["content"]["multipart/form-data"]["schema"];
        assert_eq!(
            form["properties"]["file"],
            json!({"type": "string", "format": "binary"})
        );
        assert_eq!(form["required"], json!(["file"]));
        assert!(diags.is_empty(), "{diags:?}");

        // Pointers of the converted document name the node as written.
        for (converted, original) in [
            ("/components/schemas/Pet/properties/tag", "/definitions/Pet/properties/tag"),
            ("/paths/~1pets~1{id}/get/parameters/1/schema/items", "/paths/~1pets~1{id}/get/parameters/1/items"),
            ("/paths/~1pets~1{id}/get/responses/200/content/application~1json/schema", "/paths/~1pets~1{id}/get/responses/200/schema"),
            ("/paths/~1pets~1{id}/get/responses/200/content/application~1json/example", "/paths/~1pets~1{id}/get/responses/200/examples/application~1json"),
            ("/paths/~1pets~1{id}/post/requestBody/content/multipart~1form-data/schema/properties/note", "/paths/~1pets~1{id}/post/parameters/1"),
            ("/components/requestBodies/pet/content/application~1json/schema", "/parameters/pet/schema"),
            ("/components/securitySchemes/basic", "/securityDefinitions/basic"),
            ("/paths/~1pets~1{id}/get/operationId", "/paths/~1pets~1{id}/get/operationId"),
        ] {
            assert_eq!(map.original(converted), original, "{converted}");
        }
    }

    #[test]
    fn what_3_0_cannot_say_degrades_with_a_warning() {
        let (v, _, diags) = convert_text(
            r#"{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {"/x": {"get": {
                "parameters": [{"name": "a", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "tsv"}],
                "responses": {"200": {"description": "ok"}}}}}}"#,
        );
        assert_eq!(v["paths"]["/x"]["get"]["parameters"][0]["style"], "form");
        assert_eq!(diags.len(), 1);
        assert_eq!(
            diags[0].pointer,
            "/paths/~1x/get/parameters/0/collectionFormat"
        );
    }
}

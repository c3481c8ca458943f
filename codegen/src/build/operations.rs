//! Operations: method names, parameters (path-level ones overridden by the operation's), bodies by
//! media type, answers by status, and credentials.

use super::*;

pub(crate) fn is_json(media: &str) -> bool {
    let m = media.split(';').next().unwrap_or("").trim();
    m == "application/json" || m.ends_with("+json") || m == "*/*" || m == "application/*"
}

impl<'a> Builder<'a> {
    pub(super) fn operations(&mut self) -> Result<Vec<Operation>, Error> {
        struct Raw<'o> {
            path: &'o str,
            method: &'static str,
            op: &'o openapiv3::Operation,
            item: &'o openapiv3::PathItem,
            ptr: String,
        }
        let mut raws: BTreeMap<(String, &'static str), Raw<'_>> = BTreeMap::new();
        for (path, item) in &self.spec.paths.paths {
            let pptr = join("/paths", path);
            let item = match item {
                ReferenceOr::Item(i) => i,
                ReferenceOr::Reference { .. } => {
                    self.diags.warn(
                        &pptr,
                        "path item `$ref` is not supported; the path is skipped",
                    );
                    continue;
                }
            };
            let methods: [(&'static str, &Option<openapiv3::Operation>); 8] = [
                ("get", &item.get),
                ("put", &item.put),
                ("post", &item.post),
                ("delete", &item.delete),
                ("options", &item.options),
                ("head", &item.head),
                ("patch", &item.patch),
                ("trace", &item.trace),
            ];
            for (method, op) in methods {
                if let Some(op) = op {
                    raws.insert(
                        (path.clone(), method),
                        Raw {
                            path,
                            method,
                            op,
                            item,
                            ptr: join(&pptr, method),
                        },
                    );
                }
            }
        }
        let candidates: BTreeMap<(String, &'static str), Vec<String>> = raws
            .iter()
            .map(|(k, r)| {
                (
                    k.clone(),
                    names::operation_candidates(r.op.operation_id.as_deref(), r.path, r.method),
                )
            })
            .collect();
        let reserved: BTreeSet<String> = CLIENT_METHODS.iter().map(|s| s.to_string()).collect();
        let op_names = names::assign_unique(&candidates, &reserved);
        // operationId must be unique; where a document repeats one, each operation's name says so.
        let mut id_count: BTreeMap<&str, usize> = BTreeMap::new();
        for r in raws.values() {
            if let Some(id) = r.op.operation_id.as_deref() {
                *id_count.entry(id).or_default() += 1;
            }
        }
        for (k, r) in &raws {
            if let Some(id) = r.op.operation_id.as_deref().filter(|id| id_count[id] > 1) {
                self.diags.warn(
                    join(&r.ptr, "operationId"),
                    format!(
                        "operationId `{id}` is used by {} operations; this one is the method `{}`",
                        id_count[id], op_names[k]
                    ),
                );
            }
        }
        let mut by_name: BTreeMap<String, &Raw<'_>> = BTreeMap::new();
        for (k, r) in &raws {
            by_name.insert(op_names[k].clone(), r);
        }
        let mut out = Vec::new();
        for (name, r) in by_name {
            if let Some(op) = self.operation(&name, r.path, r.method, r.op, r.item, &r.ptr)? {
                out.push(op);
            }
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn operation(
        &mut self,
        name: &str,
        path: &str,
        method: &str,
        op: &openapiv3::Operation,
        item: &openapiv3::PathItem,
        ptr: &str,
    ) -> Result<Option<Operation>, Error> {
        let prefix = names::pascal(name);
        // Body first: an operation whose body cannot be sent is skipped before it names anything.
        let body = match &op.request_body {
            None => None,
            Some(rb) => {
                let bptr = join(ptr, "requestBody");
                let (rb, bptr) = self.resolve_request_body(rb, &bptr)?;
                match self.body(rb, &bptr, &format!("{prefix}Body"))? {
                    Ok(b) => Some(b),
                    Err(media) => {
                        self.diags.warn(
                            &bptr,
                            format!("operation `{name}` skipped: request body `{media}` is not supported"),
                        );
                        return Ok(None);
                    }
                }
            }
        };

        // Parameters: path-level, overridden by operation-level ones of the same name and location.
        let mut params: BTreeMap<(ParamLocation, String), (Param, usize)> = BTreeMap::new();
        let all = item
            .parameters
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    p,
                    join(&join(&join("/paths", path), "parameters"), &i.to_string()),
                )
            })
            .chain(
                op.parameters
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p, join(&join(ptr, "parameters"), &i.to_string()))),
            );
        for (order, (p, pptr)) in all.enumerate() {
            let (p, pptr) = self.resolve_parameter(p, &pptr)?;
            let (location, data) = match p {
                Parameter::Path { parameter_data, .. } => (ParamLocation::Path, parameter_data),
                Parameter::Query { parameter_data, .. } => (ParamLocation::Query, parameter_data),
                Parameter::Header { parameter_data, .. } => (ParamLocation::Header, parameter_data),
                Parameter::Cookie { parameter_data, .. } => (ParamLocation::Cookie, parameter_data),
            };
            let hint = format!("{prefix}{}", names::pascal(&data.name));
            let constraints = match &data.format {
                ParameterSchemaOrContent::Schema(s) => self.constraints_of(s.into(), 0),
                ParameterSchemaOrContent::Content(_) => Constraints::default(),
            };
            let ty = match &data.format {
                ParameterSchemaOrContent::Schema(s) => {
                    self.ty(s.into(), &join(&pptr, "schema"), &hint)?
                }
                ParameterSchemaOrContent::Content(_) => {
                    self.diags.warn(
                        &pptr,
                        "parameter `content` is not supported; sent as a string",
                    );
                    Ty::String
                }
            };
            let ty = match ty {
                Ty::Nullable(inner) => *inner,
                t => t,
            };
            let param = Param {
                json: data.name.clone(),
                rust: String::new(),
                location,
                required: data.required || location == ParamLocation::Path,
                ty,
                doc: data.description.clone(),
                constraints,
            };
            let key = (location, data.name.clone());
            let slot = params.get(&key).map(|(_, o)| *o).unwrap_or(order);
            params.insert(key, (param, slot));
        }
        let mut params: Vec<Param> = {
            let mut v: Vec<(Param, usize)> = params.into_values().collect();
            v.sort_by_key(|(_, o)| *o);
            v.into_iter().map(|(p, _)| p).collect()
        };
        let mut taken_args: Vec<String> = vec!["body".into(), "params".into()];
        for p in &mut params {
            let base = names::snake(&p.json);
            let mut n = base.clone();
            let mut i = 2;
            while taken_args.contains(&n) {
                n = format!("{}_{i}", base.trim_end_matches('_'));
                i += 1;
            }
            taken_args.push(n.clone());
            p.rust = n;
        }
        for p in &params {
            if p.location == ParamLocation::Path && !path.contains(&format!("{{{}}}", p.json)) {
                self.diags.warn(
                    ptr,
                    format!("path parameter `{}` does not appear in the path", p.json),
                );
            }
        }

        let responses = self.responses(&prefix, &op.responses, &join(ptr, "responses"))?;
        let response_type = self.unique(&format!("{prefix}Response"));
        let params_type = params
            .iter()
            .any(|p| !p.required)
            .then(|| self.unique(&format!("{prefix}Params")));
        let auth = self.auth(op);
        Ok(Some(Operation {
            name: name.to_string(),
            operation_id: op.operation_id.clone(),
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            pointer: ptr.to_string(),
            summary: op.summary.clone(),
            description: op.description.clone(),
            deprecated: op.deprecated,
            params,
            body,
            responses,
            response_type,
            params_type,
            auth,
            tags: op.tags.clone(),
        }))
    }

    /// `Ok(Err(media))` when no media type of the body is supported.
    pub(super) fn body(
        &mut self,
        rb: &openapiv3::RequestBody,
        ptr: &str,
        hint: &str,
    ) -> Result<Result<Body, String>, Error> {
        let cptr = join(ptr, "content");
        let pick = rb
            .content
            .iter()
            .find(|(m, _)| is_json(m))
            .map(|(m, mt)| (m, mt, BodyKind::Json))
            .or_else(|| {
                rb.content
                    .iter()
                    .find(|(m, _)| m.starts_with("application/x-www-form-urlencoded"))
                    .map(|(m, mt)| (m, mt, BodyKind::Form))
            })
            .or_else(|| {
                rb.content
                    .iter()
                    .find(|(m, _)| m.starts_with("multipart/form-data"))
                    .map(|(m, mt)| (m, mt, BodyKind::Multipart))
            })
            .or_else(|| {
                rb.content
                    .iter()
                    .find(|(m, _)| m.starts_with("text/"))
                    .map(|(m, mt)| (m, mt, BodyKind::Text))
            })
            // Any other media type (`application/octet-stream`, `image/png`, `*/*`) is bytes.
            .or_else(|| {
                rb.content
                    .iter()
                    .next()
                    .map(|(m, mt)| (m, mt, BodyKind::Bytes))
            });
        let Some((media, mt, kind)) = pick else {
            let media = rb
                .content
                .keys()
                .next()
                .cloned()
                .unwrap_or_else(|| "(none)".into());
            return Ok(Err(media));
        };
        let mptr = join(&join(&cptr, media), "schema");
        let ty = match kind {
            BodyKind::Bytes => Ty::Array(Box::new(Ty::Int(IntTy::U8))),
            BodyKind::Text => Ty::String,
            BodyKind::Json | BodyKind::Form | BodyKind::Multipart => match &mt.schema {
                Some(s) => self.ty(s.into(), &mptr, hint)?,
                None => Ty::Any,
            },
        };
        let (ty, nullable) = match ty {
            Ty::Nullable(t) => (*t, true),
            t => (t, false),
        };
        let constraints = match &mt.schema {
            Some(s) if kind == BodyKind::Json => self.constraints_of(s.into(), 0),
            _ => Constraints::default(),
        };
        let mut part_types = BTreeMap::new();
        if kind == BodyKind::Multipart {
            if let Some(s) = &mt.schema {
                self.mark_files(s, &ty, &mptr)?;
            }
            for (prop, enc) in &mt.encoding {
                if let Some(ct) = &enc.content_type {
                    part_types.insert(prop.clone(), ct.clone());
                }
            }
        }
        // A wildcard media type (`image/*`, `*/*`) is no `Content-Type` to send.
        let media_type = if media.contains('*') {
            "application/octet-stream".to_string()
        } else {
            media.clone()
        };
        Ok(Ok(Body {
            ty,
            required: rb.required,
            kind,
            media_type,
            doc: rb.description.clone(),
            part_types,
            nullable,
            constraints,
        }))
    }

    /// In a multipart body's struct, the properties that are files (`format: binary`, or an
    /// array of them) become `Ty::File` fields.
    pub(super) fn mark_files(
        &mut self,
        s: &ReferenceOr<Schema>,
        ty: &Ty,
        ptr: &str,
    ) -> Result<(), Error> {
        let Ty::Named(name) = ty else { return Ok(()) };
        let Some(schema) = self.branch(s, ptr)? else {
            return Ok(());
        };
        let v = view(schema);
        let Some(props) = v.properties else {
            return Ok(());
        };
        let is_binary = |p: &ReferenceOr<Box<Schema>>| match p {
            ReferenceOr::Item(s) => {
                let pv = view(s);
                pv.format == Some("binary")
                    || pv.any_of.iter().chain(pv.one_of).chain(pv.all_of).any(
                        |b| matches!(b, ReferenceOr::Item(b) if view(b).format == Some("binary")),
                    )
            }
            ReferenceOr::Reference { .. } => false,
        };
        let files: BTreeMap<&str, bool> = props
            .iter()
            .filter_map(|(k, p)| {
                if is_binary(p) {
                    return Some((k.as_str(), false));
                }
                match p {
                    ReferenceOr::Item(s) => match view(s).items {
                        Some(ReferenceOr::Item(i)) if view(i).format == Some("binary") => {
                            Some((k.as_str(), true))
                        }
                        _ => None,
                    },
                    _ => None,
                }
            })
            .collect();
        if let Some(TypeDef {
            kind: TypeKind::Struct(st),
            ..
        }) = self.types.get_mut(name)
        {
            for f in &mut st.fields {
                match files.get(f.json.as_str()) {
                    Some(false) => f.ty = Ty::File,
                    Some(true) => f.ty = Ty::Array(Box::new(Ty::File)),
                    None => {}
                }
            }
        }
        Ok(())
    }

    pub(super) fn responses(
        &mut self,
        prefix: &str,
        rs: &openapiv3::Responses,
        ptr: &str,
    ) -> Result<Vec<Response>, Error> {
        let mut out = Vec::new();
        let mut entries: Vec<(StatusMatch, &ReferenceOr<openapiv3::Response>, String)> = rs
            .responses
            .iter()
            .map(|(code, r)| {
                let (m, key) = match code {
                    StatusCode::Code(c) => (StatusMatch::Code(*c), c.to_string()),
                    StatusCode::Range(d) => (StatusMatch::Range(*d), format!("{d}XX")),
                };
                (m, r, join(ptr, &key))
            })
            .collect();
        if let Some(d) = &rs.default {
            entries.push((StatusMatch::Default, d, join(ptr, "default")));
        }
        entries.sort_by_key(|(m, _, _)| *m);
        let variants = names::unique_variants(
            entries
                .iter()
                .map(|(m, _, _)| match m {
                    StatusMatch::Code(c) => names::status_variant(*c),
                    StatusMatch::Range(d) => names::range_variant(*d),
                    StatusMatch::Default => "Default".to_string(),
                })
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
        );
        for ((status, r, rptr), variant) in entries.into_iter().zip(variants) {
            let (resp, rptr) = self.resolve_response(r, &rptr)?;
            let body = match resp.content.iter().find(|(m, _)| is_json(m)) {
                Some((media, mt)) => match &mt.schema {
                    Some(s) => {
                        let sptr = join(&join(&join(&rptr, "content"), media), "schema");
                        ResponseBody::Json(self.ty(
                            s.into(),
                            &sptr,
                            &format!("{prefix}{variant}Body"),
                        )?)
                    }
                    None => ResponseBody::Json(Ty::Any),
                },
                None => ResponseBody::Raw,
            };
            if self.places.is_some() {
                self.header_places(resp, &rptr)?;
            }
            out.push(Response {
                status,
                variant,
                body,
                doc: resp.description.clone(),
            });
        }
        Ok(out)
    }

    /// Records the types of a response's headers, for the examples' harness. The client does not
    /// type headers, so only schemas that need no definition of their own are read: nothing is
    /// added to the emitted types.
    pub(super) fn header_places(
        &mut self,
        resp: &openapiv3::Response,
        rptr: &str,
    ) -> Result<(), Error> {
        let table = self.spec.components.as_ref().map(|c| &c.headers);
        for (name, h) in &resp.headers {
            let hptr = join(&join(rptr, "headers"), name);
            let Ok((header, hptr)) = follow(h, table, "headers", "header", &hptr) else {
                continue;
            };
            let openapiv3::ParameterSchemaOrContent::Schema(s) = &header.format else {
                continue;
            };
            let plain = match s {
                ReferenceOr::Reference { .. } => true,
                ReferenceOr::Item(schema) => {
                    let v = view(schema);
                    v.all_of.is_empty() && !needs_definition(&v)
                }
            };
            if plain {
                self.ty(s.into(), &join(&hptr, "schema"), "Header")?;
            }
        }
        Ok(())
    }

    pub(super) fn auth(&self, op: &openapiv3::Operation) -> Vec<Auth> {
        let reqs = op.security.as_ref().or(self.spec.security.as_ref());
        let Some(reqs) = reqs else { return Vec::new() };
        let schemes = self.spec.components.as_ref().map(|c| &c.security_schemes);
        let mut out = BTreeSet::new();
        for req in reqs {
            for name in req.keys() {
                let Some(ReferenceOr::Item(s)) = schemes.and_then(|s| s.get(name)) else {
                    continue;
                };
                match s {
                    SecurityScheme::APIKey {
                        location: openapiv3::APIKeyLocation::Header,
                        name,
                        ..
                    } => {
                        out.insert(Auth::ApiKeyHeader(name.clone()));
                    }
                    SecurityScheme::APIKey {
                        location: openapiv3::APIKeyLocation::Query,
                        name,
                        ..
                    } => {
                        out.insert(Auth::ApiKeyQuery(name.clone()));
                    }
                    SecurityScheme::HTTP { scheme, .. }
                        if scheme.eq_ignore_ascii_case("bearer") =>
                    {
                        out.insert(Auth::Bearer);
                    }
                    SecurityScheme::HTTP { scheme, .. } if scheme.eq_ignore_ascii_case("basic") => {
                        out.insert(Auth::Basic);
                    }
                    SecurityScheme::OAuth2 { .. } | SecurityScheme::OpenIDConnect { .. } => {
                        out.insert(Auth::Bearer);
                    }
                    _ => {}
                }
            }
        }
        out.into_iter().collect()
    }
}

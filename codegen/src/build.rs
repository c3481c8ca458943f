//! openapiv3 model -> IR. The only module besides `load` that sees openapiv3 types.

use crate::diag::{join, Diagnostics, Error};
use crate::ir::*;
use crate::names;
use indexmap::IndexMap;
use openapiv3::{
    AdditionalProperties, OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, Schema,
    SchemaData, SchemaKind, SecurityScheme, StatusCode, Type, VariantOrUnknownOrEmpty,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// Method names the client itself uses; operations never take them.
const CLIENT_METHODS: [&str; 4] = ["new", "builder", "base_url", "inner"];

/// Builds the IR. With `record_places`, [`Api::places`] gets the type of every schema position.
pub(crate) fn build(
    spec: &OpenAPI,
    diags: &mut Diagnostics,
    record_places: bool,
) -> Result<Api, Error> {
    let mut b = Builder {
        spec,
        diags,
        types: BTreeMap::new(),
        taken: BTreeSet::new(),
        ref_names: BTreeMap::new(),
        places: record_places.then(BTreeMap::new),
    };
    b.name_components();
    if let Some(components) = &spec.components {
        for (key, schema) in &components.schemas {
            let name = b.ref_names[key].clone();
            let ptr = join("/components/schemas", key);
            b.define_component(&name, schema, &ptr)?;
        }
    }
    let operations = b.operations()?;
    let webhook_types = match spec.extensions.get(crate::lower::WEBHOOK_ROOTS) {
        Some(Value::Array(keys)) => keys
            .iter()
            .filter_map(|k| {
                k.as_str()
                    .and_then(|k| b.ref_names.get(&unescape(k)))
                    .cloned()
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut api = Api {
        title: spec.info.title.clone(),
        version: spec.info.version.clone(),
        description: spec.info.description.clone(),
        types: b.types,
        operations,
        webhook_types,
        places: b.places.unwrap_or_default(),
        examples: Vec::new(),
    };
    analyse(&mut api);
    Ok(api)
}

struct Builder<'a> {
    spec: &'a OpenAPI,
    diags: &'a mut Diagnostics,
    types: BTreeMap<String, TypeDef>,
    taken: BTreeSet<String>,
    /// Component schema key -> Rust name.
    ref_names: BTreeMap<String, String>,
    /// Schema pointer -> its type, when asked for.
    places: Option<BTreeMap<String, Ty>>,
}

/// One schema node seen uniformly, whether openapiv3 read it as a typed schema or as `AnySchema`.
struct View<'s> {
    data: &'s SchemaData,
    typ: Option<&'s str>,
    format: Option<&'s str>,
    enum_values: Vec<Value>,
    properties: Option<&'s IndexMap<String, ReferenceOr<Box<Schema>>>>,
    required: &'s [String],
    additional: Option<&'s AdditionalProperties>,
    items: Option<&'s ReferenceOr<Box<Schema>>>,
    one_of: &'s [ReferenceOr<Schema>],
    any_of: &'s [ReferenceOr<Schema>],
    all_of: &'s [ReferenceOr<Schema>],
    not: bool,
    constraints: Constraints,
}

fn format_str<T>(
    f: &VariantOrUnknownOrEmpty<T>,
    known: impl Fn(&T) -> &'static str,
) -> Option<&str> {
    match f {
        VariantOrUnknownOrEmpty::Item(t) => Some(known(t)),
        VariantOrUnknownOrEmpty::Unknown(s) => Some(s.as_str()),
        VariantOrUnknownOrEmpty::Empty => None,
    }
}

fn float_bound(v: Option<f64>, exclusive: bool) -> Option<Bound> {
    v.map(|v| Bound {
        value: Num::Float(v),
        exclusive,
    })
}

fn view(s: &Schema) -> View<'_> {
    let mut v = View {
        data: &s.schema_data,
        typ: None,
        format: None,
        enum_values: Vec::new(),
        properties: None,
        required: &[],
        additional: None,
        items: None,
        one_of: &[],
        any_of: &[],
        all_of: &[],
        not: false,
        constraints: Constraints::default(),
    };
    match &s.schema_kind {
        SchemaKind::Type(Type::String(t)) => {
            v.typ = Some("string");
            v.format = format_str(&t.format, |f| match f {
                openapiv3::StringFormat::Date => "date",
                openapiv3::StringFormat::DateTime => "date-time",
                openapiv3::StringFormat::Password => "password",
                openapiv3::StringFormat::Byte => "byte",
                openapiv3::StringFormat::Binary => "binary",
            });
            v.enum_values = t
                .enumeration
                .iter()
                .map(|e| e.clone().map_or(Value::Null, Value::String))
                .collect();
            v.constraints.min_length = t.min_length.map(|n| n as u64);
            v.constraints.max_length = t.max_length.map(|n| n as u64);
            v.constraints.pattern = t.pattern.clone();
        }
        SchemaKind::Type(Type::Number(t)) => {
            v.typ = Some("number");
            v.format = format_str(&t.format, |f| match f {
                openapiv3::NumberFormat::Float => "float",
                openapiv3::NumberFormat::Double => "double",
            });
            v.enum_values = t
                .enumeration
                .iter()
                .map(|e| e.map_or(Value::Null, Value::from))
                .collect();
            v.constraints.minimum = float_bound(t.minimum, t.exclusive_minimum);
            v.constraints.maximum = float_bound(t.maximum, t.exclusive_maximum);
            v.constraints.multiple_of = t.multiple_of.map(Num::Float);
        }
        SchemaKind::Type(Type::Integer(t)) => {
            v.typ = Some("integer");
            v.format = format_str(&t.format, |f| match f {
                openapiv3::IntegerFormat::Int32 => "int32",
                openapiv3::IntegerFormat::Int64 => "int64",
            });
            v.enum_values = t
                .enumeration
                .iter()
                .map(|e| e.map_or(Value::Null, Value::from))
                .collect();
            v.constraints.minimum = t.minimum.map(|m| Bound {
                value: Num::Int(if t.exclusive_minimum {
                    m.saturating_add(1)
                } else {
                    m
                }),
                exclusive: false,
            });
            v.constraints.maximum = t.maximum.map(|m| Bound {
                value: Num::Int(if t.exclusive_maximum {
                    m.saturating_sub(1)
                } else {
                    m
                }),
                exclusive: false,
            });
            v.constraints.multiple_of = t.multiple_of.filter(|m| *m > 0).map(Num::Int);
        }
        SchemaKind::Type(Type::Boolean(t)) => {
            v.typ = Some("boolean");
            v.enum_values = t
                .enumeration
                .iter()
                .map(|e| e.map_or(Value::Null, Value::Bool))
                .collect();
        }
        SchemaKind::Type(Type::Object(t)) => {
            v.typ = Some("object");
            v.properties = Some(&t.properties);
            v.required = &t.required;
            v.additional = t.additional_properties.as_ref();
        }
        SchemaKind::Type(Type::Array(t)) => {
            v.typ = Some("array");
            v.items = t.items.as_ref();
            v.constraints.min_items = t.min_items.map(|n| n as u64);
            v.constraints.max_items = t.max_items.map(|n| n as u64);
            v.constraints.unique_items = t.unique_items;
        }
        SchemaKind::OneOf { one_of } => v.one_of = one_of,
        SchemaKind::AnyOf { any_of } => v.any_of = any_of,
        SchemaKind::AllOf { all_of } => v.all_of = all_of,
        SchemaKind::Not { .. } => v.not = true,
        SchemaKind::Any(a) => {
            v.typ = a.typ.as_deref();
            v.format = a.format.as_deref();
            v.enum_values = a.enumeration.clone();
            if !a.properties.is_empty() || a.typ.as_deref() == Some("object") {
                v.properties = Some(&a.properties);
            }
            v.required = &a.required;
            v.additional = a.additional_properties.as_ref();
            v.items = a.items.as_ref();
            v.one_of = &a.one_of;
            v.any_of = &a.any_of;
            v.all_of = &a.all_of;
            v.not = a.not.is_some();
            let integer = a.typ.as_deref() == Some("integer");
            let bound = |x: Option<f64>, excl: Option<bool>| {
                x.map(|x| Bound {
                    value: if integer && x.fract() == 0.0 {
                        Num::Int(x as i64)
                    } else {
                        Num::Float(x)
                    },
                    exclusive: excl.unwrap_or(false),
                })
            };
            v.constraints = Constraints {
                minimum: bound(a.minimum, a.exclusive_minimum),
                maximum: bound(a.maximum, a.exclusive_maximum),
                multiple_of: a.multiple_of.map(Num::Float),
                min_length: a.min_length.map(|n| n as u64),
                max_length: a.max_length.map(|n| n as u64),
                pattern: a.pattern.clone(),
                min_items: a.min_items.map(|n| n as u64),
                max_items: a.max_items.map(|n| n as u64),
                unique_items: a.unique_items.unwrap_or(false),
                ..Constraints::default()
            };
        }
    }
    if v.typ == Some("string") {
        v.constraints.format = v.format.map(str::to_string);
    }
    if matches!(v.typ, Some("integer" | "number" | "boolean")) {
        v.constraints.enumeration = v
            .enum_values
            .iter()
            .filter(|e| !e.is_null())
            .cloned()
            .collect();
    }
    v
}

/// A schema or a reference, boxed or not.
enum SRef<'s> {
    Ref(&'s str),
    Item(&'s Schema),
}

impl<'s> From<&'s ReferenceOr<Schema>> for SRef<'s> {
    fn from(r: &'s ReferenceOr<Schema>) -> Self {
        match r {
            ReferenceOr::Reference { reference } => SRef::Ref(reference),
            ReferenceOr::Item(s) => SRef::Item(s),
        }
    }
}

impl<'s> From<&'s ReferenceOr<Box<Schema>>> for SRef<'s> {
    fn from(r: &'s ReferenceOr<Box<Schema>>) -> Self {
        match r {
            ReferenceOr::Reference { reference } => SRef::Ref(reference),
            ReferenceOr::Item(s) => SRef::Item(s),
        }
    }
}

fn doc_of(data: &SchemaData) -> Option<String> {
    data.description.clone().filter(|d| !d.trim().is_empty())
}

impl<'a> Builder<'a> {
    /// Decides the Rust name of every component schema before anything else is named.
    fn name_components(&mut self) {
        let Some(components) = &self.spec.components else {
            return;
        };
        // A schema's `title` names it when no other schema has the same title: FastAPI keys such
        // as `pkg__routes__cvms__management__CvmBasicInfo` keep the title `CvmBasicInfo`.
        let title_of = |s: &ReferenceOr<Schema>| match s {
            ReferenceOr::Item(s) => s
                .schema_data
                .title
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(names::pascal),
            ReferenceOr::Reference { .. } => None,
        };
        let mut title_count: BTreeMap<String, usize> = BTreeMap::new();
        for s in components.schemas.values() {
            if let Some(t) = title_of(s) {
                *title_count.entry(t).or_default() += 1;
            }
        }
        let candidates: BTreeMap<String, Vec<String>> = components
            .schemas
            .iter()
            .map(|(k, s)| {
                let mut c = Vec::with_capacity(3);
                if let Some(t) = title_of(s).filter(|t| title_count[t] == 1) {
                    c.push(t);
                }
                c.push(names::schema_type_name(k));
                c.push(names::schema_type_name_full(k));
                c.dedup();
                (k.clone(), c)
            })
            .collect();
        self.ref_names = names::assign_unique(&candidates, &BTreeSet::new());
        self.taken.extend(self.ref_names.values().cloned());
    }

    /// Takes the first free name from `hint`, `hint2`, `hint3`, ...
    fn unique(&mut self, hint: &str) -> String {
        let base = names::pascal(hint);
        let mut n = base.clone();
        let mut i = 2;
        while self.taken.contains(&n) {
            n = format!("{}{i}", base.trim_end_matches('_'));
            i += 1;
        }
        self.taken.insert(n.clone());
        n
    }

    fn resolve_schema_ref(
        &self,
        reference: &str,
        ptr: &str,
    ) -> Result<Option<(&'a str, &'a Schema)>, Error> {
        let Some(key) = reference.strip_prefix(SCHEMA_PREFIX) else {
            return Ok(None);
        };
        let key = unescape(key);
        let components = self.spec.components.as_ref();
        match components.and_then(|c| c.schemas.get_full(key.as_str())) {
            Some((_, k, ReferenceOr::Item(s))) => Ok(Some((k.as_str(), s))),
            Some((_, k, ReferenceOr::Reference { reference })) => {
                // A component that is itself a reference: follow it (bounded).
                let mut seen = BTreeSet::from([k.clone()]);
                let mut r = reference.clone();
                loop {
                    let kk = unescape(r.strip_prefix(SCHEMA_PREFIX).unwrap_or(""));
                    match components.and_then(|c| c.schemas.get_full(kk.as_str())) {
                        Some((_, k2, ReferenceOr::Item(s))) => return Ok(Some((k2.as_str(), s))),
                        Some((_, k2, ReferenceOr::Reference { reference }))
                            if seen.insert(k2.clone()) =>
                        {
                            r = reference.clone();
                        }
                        _ => {
                            return Err(Error::new(
                                ptr,
                                format!("`$ref` {reference} does not resolve to a schema"),
                            ))
                        }
                    }
                }
            }
            None => Err(Error::new(
                ptr,
                format!("`$ref` {reference} points to no schema in components"),
            )),
        }
    }

    /// Whether the component schema `key` allows `null` itself (`nullable: true`, or a 3.1 type
    /// list with `null`, lowered to it).
    fn nullable_component(&self, key: &str) -> bool {
        let schemas = self.spec.components.as_ref().map(|c| &c.schemas);
        match schemas.and_then(|s| s.get(key)) {
            Some(ReferenceOr::Item(s)) => s.schema_data.nullable,
            _ => false,
        }
    }

    /// The constraints a schema position states, wherever they are written: through `$ref`s,
    /// single-branch combinators (`anyOf: [T, null]` lowered) and, for arrays and maps, down to
    /// the items. The one place the IR's [`Constraints`] are read from the document.
    fn constraints_of(&self, s: SRef<'_>, depth: usize) -> Constraints {
        if depth > 16 {
            return Constraints::default();
        }
        let schema = match s {
            SRef::Item(s) => s,
            SRef::Ref(r) => match self.resolve_schema_ref(r, "") {
                Ok(Some((_, s))) => s,
                _ => return Constraints::default(),
            },
        };
        let v = view(schema);
        let mut c = v.constraints.clone();
        if c.is_empty() {
            let single = [v.all_of, v.any_of, v.one_of]
                .into_iter()
                .find(|b| b.len() == 1)
                .map(|b| &b[0]);
            if let Some(b) = single {
                return self.constraints_of(b.into(), depth + 1);
            }
        }
        let inner = match (v.items, v.additional) {
            (Some(items), _) => Some(self.constraints_of(items.into(), depth + 1)),
            (None, Some(AdditionalProperties::Schema(s)))
                if v.properties.is_none_or(|p| p.is_empty()) =>
            {
                Some(self.constraints_of(s.as_ref().into(), depth + 1))
            }
            _ => None,
        };
        c.items = inner.filter(|i| !i.is_empty()).map(Box::new);
        c
    }

    /// The type of a schema position. `hint` names an inline type, should one be needed.
    fn ty(&mut self, s: SRef<'_>, ptr: &str, hint: &str) -> Result<Ty, Error> {
        let ty = self.ty_here(s, ptr, hint)?;
        if let Some(places) = &mut self.places {
            places.insert(ptr.to_string(), ty.clone());
        }
        Ok(ty)
    }

    fn ty_here(&mut self, s: SRef<'_>, ptr: &str, hint: &str) -> Result<Ty, Error> {
        match s {
            SRef::Ref(r) => {
                if let Some(key) = r.strip_prefix(SCHEMA_PREFIX) {
                    let key = unescape(key);
                    if let Some(name) = self.ref_names.get(&key) {
                        // A nullable component is nullable wherever it is used; its own type
                        // is the non-null value.
                        let named = Ty::Named(name.clone());
                        return Ok(if self.nullable_component(&key) {
                            nullable_ty(named)
                        } else {
                            named
                        });
                    }
                    return Err(Error::new(
                        ptr,
                        format!("`$ref` {r} points to no schema in components"),
                    ));
                }
                if r.starts_with('#') {
                    return Err(Error::new(
                        ptr,
                        format!("`$ref` {r} is not a schema reference"),
                    ));
                }
                self.diags.warn(
                    ptr,
                    format!("external `$ref` {r} is not followed; read as any JSON value"),
                );
                Ok(Ty::Any)
            }
            SRef::Item(schema) => {
                let v = view(schema);
                if !v.all_of.is_empty() {
                    if let Some(merged) = self.scalar_all_of(schema, ptr)? {
                        return self.ty(SRef::Item(&merged), ptr, hint);
                    }
                }
                let nullable = v.data.nullable;
                let inner = self.ty_of_view(&v, ptr, hint)?;
                Ok(if nullable { nullable_ty(inner) } else { inner })
            }
        }
    }

    /// The non-null type of an inline schema.
    fn ty_of_view(&mut self, v: &View<'_>, ptr: &str, hint: &str) -> Result<Ty, Error> {
        if needs_definition(v) {
            let name = self.unique(hint);
            self.define(&name, v, ptr)?;
            return Ok(Ty::Named(name));
        }
        self.plain_ty(v, ptr, hint)
    }

    /// Types that need no definition of their own.
    fn plain_ty(&mut self, v: &View<'_>, ptr: &str, hint: &str) -> Result<Ty, Error> {
        if v.data.extensions.get("x-null") == Some(&Value::Bool(true)) {
            return Ok(Ty::Null);
        }
        if v.not {
            self.diags
                .warn(ptr, "`not` is not supported; read as any JSON value");
            return Ok(Ty::Any);
        }
        // Single-branch combinators are the branch.
        for (key, branches) in [
            ("allOf", v.all_of),
            ("anyOf", v.any_of),
            ("oneOf", v.one_of),
        ] {
            if branches.len() == 1 {
                return self.ty((&branches[0]).into(), &join(&join(ptr, key), "0"), hint);
            }
        }
        Ok(match v.typ {
            Some("boolean") => Ty::Bool,
            Some("integer") => Ty::Int(match v.format {
                Some("int8") => IntTy::I8,
                Some("int16") => IntTy::I16,
                Some("int32") => IntTy::I32,
                Some("uint8") => IntTy::U8,
                Some("uint16") => IntTy::U16,
                Some("uint32") => IntTy::U32,
                Some("uint64") => IntTy::U64,
                _ => IntTy::I64,
            }),
            Some("number") => Ty::Float(match v.format {
                Some("float") => FloatTy::F32,
                _ => FloatTy::F64,
            }),
            Some("string") => Ty::String,
            Some("array") => match v.items {
                Some(items) => Ty::Array(Box::new(self.ty(
                    items.into(),
                    &join(ptr, "items"),
                    &format!("{hint}Item"),
                )?)),
                None => Ty::Array(Box::new(Ty::Any)),
            },
            Some("object") | None if v.properties.is_some() || v.additional.is_some() => {
                match v.additional {
                    Some(AdditionalProperties::Schema(s)) => Ty::Map(Box::new(self.ty(
                        s.as_ref().into(),
                        &join(ptr, "additionalProperties"),
                        &format!("{hint}Value"),
                    )?)),
                    _ => Ty::Map(Box::new(Ty::Any)),
                }
            }
            Some("object") => Ty::Map(Box::new(Ty::Any)),
            None => Ty::Any,
            Some(other) => {
                self.diags.warn(
                    join(ptr, "type"),
                    format!("unknown type `{other}`; read as any JSON value"),
                );
                Ty::Any
            }
        })
    }

    fn define_component(
        &mut self,
        name: &str,
        schema: &ReferenceOr<Schema>,
        ptr: &str,
    ) -> Result<(), Error> {
        if let Some(places) = &mut self.places {
            places.insert(ptr.to_string(), Ty::Named(name.to_string()));
        }
        match schema {
            ReferenceOr::Reference { .. } => {
                let ty = self.ty(schema.into(), ptr, name)?;
                self.insert(name, ptr, None, TypeKind::Alias(ty));
                Ok(())
            }
            ReferenceOr::Item(s) => {
                if let Some(merged) = self.scalar_all_of(s, ptr)? {
                    return self.define_component(name, &ReferenceOr::Item(merged), ptr);
                }
                let v = view(s);
                if needs_definition(&v) {
                    self.define(name, &v, ptr)
                } else {
                    // Not nullable here: references to a nullable component carry the null.
                    let ty = self.plain_ty(&v, ptr, name)?;
                    self.insert(name, ptr, doc_of(v.data), TypeKind::Alias(ty));
                    Ok(())
                }
            }
        }
    }

    /// The schema an `allOf` branch stands for, its `$ref` followed; `None` for a reference
    /// outside `#/components/schemas`.
    fn branch<'s>(&self, b: &'s ReferenceOr<Schema>, ptr: &str) -> Result<Option<&'s Schema>, Error>
    where
        'a: 's,
    {
        match b {
            ReferenceOr::Reference { reference } => {
                Ok(self.resolve_schema_ref(reference, ptr)?.map(|(_, s)| s))
            }
            ReferenceOr::Item(s) => Ok(Some(s)),
        }
    }

    /// Whether a schema, or any `allOf` branch below it, is an object.
    fn object_like(&self, s: &Schema, ptr: &str, depth: usize) -> Result<bool, Error> {
        let v = view(s);
        if v.properties.is_some_and(|p| !p.is_empty())
            || v.typ == Some("object")
            || v.additional.is_some()
        {
            return Ok(true);
        }
        if depth > 32 {
            return Err(all_of_too_deep(ptr));
        }
        for b in v.all_of {
            if let Some(branch) = self.branch(b, ptr)? {
                if self.object_like(branch, ptr, depth + 1)? {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// An `allOf` whose branches are not objects (a string enum narrowing a referenced string,
    /// bounds on a referenced number, annotation-only references), merged into one schema. `None`
    /// where the object merge applies, where there is no `allOf`, or where the schema only
    /// annotates a single reference (which stays that reference's type).
    fn scalar_all_of(&mut self, s: &Schema, ptr: &str) -> Result<Option<Schema>, Error> {
        let v = view(s);
        if v.all_of.is_empty() || self.object_like(s, ptr, 0)? {
            return Ok(None);
        }
        let to_map = |s: &Schema| match serde_json::to_value(s) {
            Ok(Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        let mut acc = to_map(s);
        acc.remove("allOf");
        if v.all_of.len() == 1 && !crate::merge::has_own_type(&acc) {
            return Ok(None);
        }
        let mut conflicts = crate::merge::Conflicts::default();
        let mut stack: Vec<(&ReferenceOr<Schema>, usize)> =
            v.all_of.iter().rev().map(|b| (b, 0)).collect();
        while let Some((b, depth)) = stack.pop() {
            if depth > 32 {
                return Err(all_of_too_deep(ptr));
            }
            let Some(branch) = self.branch(b, ptr)? else {
                if let ReferenceOr::Reference { reference } = b {
                    self.diags
                        .warn(ptr, format!("`allOf` branch {reference} is not followed"));
                }
                continue;
            };
            stack.extend(view(branch).all_of.iter().rev().map(|b| (b, depth + 1)));
            crate::merge::merge_into(&mut acc, &to_map(branch), &mut conflicts);
        }
        for c in conflicts.0 {
            self.diags.warn(
                join(ptr, "allOf"),
                format!("`allOf` cannot be merged exactly: {c}"),
            );
        }
        match serde_json::from_value::<Schema>(Value::Object(acc)) {
            Ok(merged) => Ok(Some(merged)),
            Err(e) => {
                self.diags.warn(join(ptr, "allOf"), format!("`allOf` branches merge into no valid schema ({e}); the first branch is used"));
                Ok(None)
            }
        }
    }

    fn insert(&mut self, name: &str, ptr: &str, doc: Option<String>, kind: TypeKind) {
        self.types.insert(
            name.to_string(),
            TypeDef {
                name: name.to_string(),
                pointer: ptr.to_string(),
                doc,
                kind,
                validates: false,
                derives_default: false,
                serialize: true,
            },
        );
    }

    /// Defines `name` from a schema that needs a definition (see [`needs_definition`]).
    fn define(&mut self, name: &str, v: &View<'_>, ptr: &str) -> Result<(), Error> {
        let doc = doc_of(v.data);
        // Reserve the slot early so recursive references see the name.
        // A string `enum` of the node itself is the narrowest statement of its values, whatever
        // an `allOf` or `oneOf` beside it says (Discord narrows a `$ref`'d enum this way).
        let own_enum = v.typ == Some("string") && v.enum_values.iter().any(Value::is_string);
        let kind = if own_enum {
            let values: Vec<String> = v
                .enum_values
                .iter()
                .filter_map(|e| e.as_str().map(str::to_string))
                .collect();
            enum_kind(values, false)
        } else if !v.all_of.is_empty() {
            self.merge_all_of(name, v, ptr)?
        } else if !v.one_of.is_empty() || !v.any_of.is_empty() {
            let (key, branches) = if v.one_of.is_empty() {
                ("anyOf", v.any_of)
            } else {
                ("oneOf", v.one_of)
            };
            self.union(name, v, branches, &join(ptr, key))?
        } else if !v.enum_values.is_empty() {
            let values: Vec<String> = v
                .enum_values
                .iter()
                .filter_map(|e| e.as_str().map(str::to_string))
                .collect();
            enum_kind(values, false)
        } else {
            let fields = self.fields(name, v.properties, v.required, ptr)?;
            let extra = self.extra(name, v.additional, ptr)?;
            let closed = matches!(v.additional, Some(AdditionalProperties::Any(false)));
            TypeKind::Struct(Struct {
                fields,
                extra,
                closed,
            })
        };
        self.insert(name, ptr, doc, kind);
        Ok(())
    }

    fn extra(
        &mut self,
        name: &str,
        additional: Option<&AdditionalProperties>,
        ptr: &str,
    ) -> Result<Option<Ty>, Error> {
        Ok(match additional {
            Some(AdditionalProperties::Schema(s)) => Some(self.ty(
                s.as_ref().into(),
                &join(ptr, "additionalProperties"),
                &format!("{name}Value"),
            )?),
            // An object that does not forbid other properties keeps them: a value read and
            // written back is the value the server sent.
            Some(AdditionalProperties::Any(true)) | None => Some(Ty::Any),
            Some(AdditionalProperties::Any(false)) => None,
        })
    }

    fn fields(
        &mut self,
        owner: &str,
        properties: Option<&IndexMap<String, ReferenceOr<Box<Schema>>>>,
        required: &[String],
        ptr: &str,
    ) -> Result<Vec<Field>, Error> {
        let Some(props) = properties else {
            return Ok(Vec::new());
        };
        let props_ptr = join(ptr, "properties");
        let rust_names = names::unique_fields(props.keys().map(String::as_str));
        let mut out = Vec::with_capacity(props.len());
        for ((json, prop), rust) in props.iter().zip(rust_names) {
            let fptr = join(&props_ptr, json);
            let hint = format!("{owner}{}", names::pascal(json));
            // An `allOf` of scalars is merged once: its type and its constraints come from the
            // merged schema.
            let merged = match prop {
                ReferenceOr::Item(s) => self.scalar_all_of(s, &fptr)?,
                ReferenceOr::Reference { .. } => None,
            };
            let ty = match &merged {
                Some(m) => self.ty(SRef::Item(m), &fptr, &hint)?,
                None => self.ty(prop.into(), &fptr, &hint)?,
            };
            let (ty, nullable) = match ty {
                Ty::Nullable(inner) => (*inner, true),
                // Any JSON value includes `null`: kept apart from an absent key.
                t @ (Ty::Any | Ty::Null) => (t, true),
                t => (t, false),
            };
            let readback = match prop {
                ReferenceOr::Item(s) => readback_of(s.schema_data.extensions.get("x-readback")),
                ReferenceOr::Reference { .. } => None,
            };
            let secret = match prop {
                ReferenceOr::Item(s) => is_secret(&view(s)),
                ReferenceOr::Reference { .. } => false,
            };
            let constraints = match &merged {
                Some(m) => self.constraints_of(SRef::Item(m), 0),
                None => self.constraints_of(prop.into(), 0),
            };
            let (doc, default) = match prop {
                ReferenceOr::Item(s) => {
                    let pv = view(s);
                    (doc_of(pv.data), pv.data.default.clone())
                }
                ReferenceOr::Reference { .. } => (None, None),
            };
            let is_required = required.iter().any(|r| r == json);
            let presence = match (is_required, nullable) {
                (true, false) => Presence::Required,
                (true, true) => Presence::RequiredNullable,
                (false, false) => Presence::Optional,
                (false, true) => Presence::OptionalNullable,
            };
            out.push(Field {
                json: json.clone(),
                rust,
                ty,
                presence,
                boxed: false,
                default,
                doc,
                constraints,
                readback,
                secret,
            });
        }
        Ok(out)
    }

    /// `allOf` with several branches: the object branches' properties merged into one struct.
    fn merge_all_of(&mut self, name: &str, v: &View<'_>, ptr: &str) -> Result<TypeKind, Error> {
        let mut props: IndexMap<String, ReferenceOr<Box<Schema>>> = IndexMap::default();
        let mut required: Vec<String> = Vec::new();
        let mut additional: Option<AdditionalProperties> = None;
        let mut stack: Vec<(SRef<'_>, String, usize)> = Vec::new();
        for (i, b) in v.all_of.iter().enumerate().rev() {
            stack.push((b.into(), join(&join(ptr, "allOf"), &i.to_string()), 0));
        }
        if let Some(p) = v.properties {
            for (k, s) in p {
                props.insert(k.clone(), s.clone());
            }
            required.extend(v.required.iter().cloned());
        }
        while let Some((b, bptr, depth)) = stack.pop() {
            if depth > 32 {
                return Err(all_of_too_deep(bptr));
            }
            let schema: &Schema = match b {
                SRef::Ref(r) => match self.resolve_schema_ref(r, &bptr)? {
                    Some((_, s)) => s,
                    None => {
                        self.diags
                            .warn(&bptr, format!("`allOf` branch {r} is not followed"));
                        continue;
                    }
                },
                SRef::Item(s) => s,
            };
            let bv = view(schema);
            for (i, inner) in bv.all_of.iter().enumerate().rev() {
                stack.push((
                    inner.into(),
                    join(&join(&bptr, "allOf"), &i.to_string()),
                    depth + 1,
                ));
            }
            if let Some(p) = bv.properties {
                for (k, s) in p {
                    match props.get_mut(k) {
                        None => {
                            props.insert(k.clone(), s.clone());
                        }
                        // A later branch that re-declares a property with object constraints of
                        // its own (`required`, properties) narrows it: both declarations hold.
                        Some(first) if adds_object_constraints(s) => {
                            let both = |r: &ReferenceOr<Box<Schema>>| match r {
                                ReferenceOr::Reference { reference } => ReferenceOr::Reference {
                                    reference: reference.clone(),
                                },
                                ReferenceOr::Item(b) => ReferenceOr::Item((**b).clone()),
                            };
                            *first = ReferenceOr::Item(Box::new(Schema {
                                schema_data: SchemaData::default(),
                                schema_kind: SchemaKind::AllOf {
                                    all_of: vec![both(first), both(s)],
                                },
                            }));
                        }
                        Some(_) => {}
                    }
                }
                required.extend(bv.required.iter().cloned());
                if let Some(a) = bv.additional {
                    additional.get_or_insert_with(|| a.clone());
                }
            } else if bv.all_of.is_empty()
                && (bv.typ.is_some_and(|t| t != "object")
                    || !bv.one_of.is_empty()
                    || !bv.any_of.is_empty())
            {
                self.diags.warn(
                    &bptr,
                    "`allOf` branch that is not an object cannot be merged; it is ignored",
                );
            }
        }
        let fields = self.fields(name, Some(&props), &required, ptr)?;
        let extra = self.extra(name, additional.as_ref(), ptr)?;
        let closed = matches!(additional, Some(AdditionalProperties::Any(false)));
        Ok(TypeKind::Struct(Struct {
            fields,
            extra,
            closed,
        }))
    }

    fn union(
        &mut self,
        name: &str,
        v: &View<'_>,
        branches: &[ReferenceOr<Schema>],
        ptr: &str,
    ) -> Result<TypeKind, Error> {
        // Open or merged string enums.
        let mut values = Vec::new();
        let mut open = false;
        let mut all_strings = true;
        for b in branches {
            match b {
                ReferenceOr::Item(s) => {
                    let bv = view(s);
                    if bv.typ == Some("string") && bv.one_of.is_empty() && bv.any_of.is_empty() {
                        if bv.enum_values.is_empty() {
                            open = true;
                        } else {
                            values.extend(
                                bv.enum_values
                                    .iter()
                                    .filter_map(|e| e.as_str().map(str::to_string)),
                            );
                        }
                    } else {
                        all_strings = false;
                    }
                }
                ReferenceOr::Reference { .. } => all_strings = false,
            }
        }
        if all_strings && !values.is_empty() {
            return Ok(enum_kind(values, open));
        }
        if let Some(kind) = self.tagged(name, branches, ptr)? {
            return Ok(kind);
        }
        let _ = v;
        let mut tys = Vec::with_capacity(branches.len());
        let mut raw_names = Vec::with_capacity(branches.len());
        for (i, b) in branches.iter().enumerate() {
            let bptr = join(ptr, &i.to_string());
            let label = match b {
                ReferenceOr::Reference { reference } => reference
                    .strip_prefix(SCHEMA_PREFIX)
                    .and_then(|k| self.ref_names.get(&unescape(k)).cloned()),
                ReferenceOr::Item(s) => s.schema_data.title.clone(),
            };
            let hint = format!(
                "{name}{}",
                label
                    .clone()
                    .map(|l| names::pascal(&l))
                    .unwrap_or_else(|| format!("Variant{i}"))
            );
            let ty = self.ty(b.into(), &bptr, &hint)?;
            let label = label.unwrap_or_else(|| shape_label(&ty, i));
            raw_names.push(label);
            tys.push((ty, self.constraints_of(b.into(), 0)));
        }
        let rust = names::unique_variants(raw_names.iter().map(String::as_str));
        Ok(TypeKind::Union {
            variants: rust
                .into_iter()
                .zip(tys)
                .map(|(rust, (ty, constraints))| UnionVariant {
                    rust,
                    ty,
                    constraints,
                })
                .collect(),
        })
    }

    /// A `oneOf`/`anyOf` of inline objects that all have a required property with one distinct
    /// string value each is a tagged enum.
    fn tagged(
        &mut self,
        name: &str,
        branches: &[ReferenceOr<Schema>],
        ptr: &str,
    ) -> Result<Option<TypeKind>, Error> {
        let mut views = Vec::new();
        for b in branches {
            let ReferenceOr::Item(s) = b else {
                return Ok(None);
            };
            let bv = view(s);
            if bv.typ != Some("object") || bv.properties.is_none() || bv.data.nullable {
                return Ok(None);
            }
            views.push(bv);
        }
        let first = &views[0];
        let Some(props) = first.properties else {
            return Ok(None);
        };
        'candidates: for tag in props.keys() {
            let mut seen = BTreeSet::new();
            let mut tag_values = Vec::new();
            for bv in &views {
                let Some(ReferenceOr::Item(p)) = bv.properties.and_then(|p| p.get(tag)) else {
                    continue 'candidates;
                };
                let pv = view(p);
                let value = match pv.enum_values.as_slice() {
                    [Value::String(s)] => s.clone(),
                    _ => continue 'candidates,
                };
                if !bv.required.contains(tag) || !seen.insert(value.clone()) {
                    continue 'candidates;
                }
                tag_values.push(value);
            }
            let rust = names::unique_variants(tag_values.iter().map(String::as_str));
            let mut variants = Vec::new();
            for (i, ((bv, value), rust)) in views.iter().zip(tag_values).zip(rust).enumerate() {
                let bptr = join(ptr, &i.to_string());
                // The tag is the enum's own; the variant's fields are the other properties.
                let rest: IndexMap<String, ReferenceOr<Box<Schema>>> = bv
                    .properties
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| *k != tag)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let fields =
                    self.fields(&format!("{name}{rust}"), Some(&rest), bv.required, &bptr)?;
                variants.push(TaggedVariant {
                    value,
                    rust,
                    doc: doc_of(bv.data),
                    fields,
                });
            }
            return Ok(Some(TypeKind::Tagged {
                tag: tag.clone(),
                variants,
            }));
        }
        Ok(None)
    }

    fn operations(&mut self) -> Result<Vec<Operation>, Error> {
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
    fn operation(
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
        }))
    }

    fn resolve_parameter<'p>(
        &self,
        p: &'p ReferenceOr<Parameter>,
        ptr: &str,
    ) -> Result<(&'p Parameter, String), Error>
    where
        'a: 'p,
    {
        let table = self.spec.components.as_ref().map(|c| &c.parameters);
        follow(p, table, "parameters", "parameter", ptr)
    }

    fn resolve_request_body<'p>(
        &self,
        rb: &'p ReferenceOr<openapiv3::RequestBody>,
        ptr: &str,
    ) -> Result<(&'p openapiv3::RequestBody, String), Error>
    where
        'a: 'p,
    {
        let table = self.spec.components.as_ref().map(|c| &c.request_bodies);
        follow(rb, table, "requestBodies", "request body", ptr)
    }

    fn resolve_response<'p>(
        &self,
        r: &'p ReferenceOr<openapiv3::Response>,
        ptr: &str,
    ) -> Result<(&'p openapiv3::Response, String), Error>
    where
        'a: 'p,
    {
        let table = self.spec.components.as_ref().map(|c| &c.responses);
        follow(r, table, "responses", "response", ptr)
    }

    /// `Ok(Err(media))` when no media type of the body is supported.
    fn body(
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
    fn mark_files(&mut self, s: &ReferenceOr<Schema>, ty: &Ty, ptr: &str) -> Result<(), Error> {
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

    fn responses(
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
    fn header_places(&mut self, resp: &openapiv3::Response, rptr: &str) -> Result<(), Error> {
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

    fn auth(&self, op: &openapiv3::Operation) -> Vec<Auth> {
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

/// Follows `$ref`s to `#/components/{section}/...` until an item (at most 16 hops, so a cycle is
/// an error, not a hang). Returns the item and its pointer.
fn follow<'p, T>(
    start: &'p ReferenceOr<T>,
    table: Option<&'p IndexMap<String, ReferenceOr<T>>>,
    section: &str,
    what: &str,
    ptr: &str,
) -> Result<(&'p T, String), Error> {
    let prefix = format!("#/components/{section}/");
    let mut cur = start;
    let mut at = ptr.to_string();
    for _ in 0..16 {
        match cur {
            ReferenceOr::Item(item) => return Ok((item, at)),
            ReferenceOr::Reference { reference } => {
                let key = reference.strip_prefix(&prefix).ok_or_else(|| {
                    Error::new(ptr, format!("`$ref` {reference} is not a {what} reference"))
                })?;
                let key = unescape(key);
                cur = table.and_then(|t| t.get(&key)).ok_or_else(|| {
                    Error::new(ptr, format!("`$ref` {reference} points to no {what}"))
                })?;
                at = join(&join("/components", section), &key);
            }
        }
    }
    Err(Error::new(ptr, format!("{what} references form a cycle")))
}

/// Whether an inline schema states object constraints (`required`, properties).
fn adds_object_constraints(s: &ReferenceOr<Box<Schema>>) -> bool {
    match s {
        ReferenceOr::Item(b) => {
            let v = view(b);
            !v.required.is_empty() || v.properties.is_some_and(|p| !p.is_empty())
        }
        ReferenceOr::Reference { .. } => false,
    }
}

fn all_of_too_deep(ptr: impl Into<String>) -> Error {
    Error::new(ptr, "`allOf` nests too deep (a reference cycle?)")
}

/// Whether a property holds a secret: `format: password` on it, or on its single non-null branch
/// (`anyOf: [{type: string, format: password}, {type: 'null'}]`, as 3.1 documents write it).
fn is_secret(v: &View<'_>) -> bool {
    if v.format == Some("password") {
        return true;
    }
    let branches = v.all_of.iter().chain(v.any_of).chain(v.one_of);
    let mut non_null = branches.filter_map(|b| match b {
        ReferenceOr::Item(s) => {
            let bv = view(s);
            (bv.typ != Some("null")).then_some(bv)
        }
        ReferenceOr::Reference { .. } => None,
    });
    match (non_null.next(), non_null.next()) {
        (Some(only), None) => only.format == Some("password"),
        _ => false,
    }
}

/// `x-readback: name` or `x-readback: {field: name, divide_by: n}`.
fn readback_of(v: Option<&Value>) -> Option<(String, i64)> {
    match v? {
        Value::String(s) => Some((s.clone(), 1)),
        Value::Object(o) => {
            let field = o.get("field")?.as_str()?.to_string();
            let div = o
                .get("divide_by")
                .and_then(Value::as_i64)
                .filter(|d| *d > 0)
                .unwrap_or(1);
            Some((field, div))
        }
        _ => None,
    }
}

pub(crate) fn is_json(media: &str) -> bool {
    let m = media.split(';').next().unwrap_or("").trim();
    m == "application/json" || m.ends_with("+json") || m == "*/*" || m == "application/*"
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

fn nullable_ty(t: Ty) -> Ty {
    match t {
        Ty::Nullable(_) | Ty::Any => t,
        t => Ty::Nullable(Box::new(t)),
    }
}

/// Whether an inline schema needs a named type of its own.
fn needs_definition(v: &View<'_>) -> bool {
    if v.data.extensions.get("x-null") == Some(&Value::Bool(true)) || v.not {
        return false;
    }
    if v.all_of.len() > 1 || (v.all_of.len() == 1 && v.properties.is_some_and(|p| !p.is_empty())) {
        return true;
    }
    if v.one_of.len() > 1 || v.any_of.len() > 1 {
        return true;
    }
    if v.typ == Some("string") && v.enum_values.iter().any(Value::is_string) {
        return true;
    }
    // `additionalProperties: false` with nothing declared: the empty object, a closed struct.
    let closed_empty = matches!(v.additional, Some(AdditionalProperties::Any(false)));
    v.all_of.is_empty()
        && v.one_of.is_empty()
        && v.any_of.is_empty()
        && matches!(v.typ, Some("object") | None)
        && (v.properties.is_some_and(|p| !p.is_empty()) || closed_empty)
}

fn enum_kind(values: Vec<String>, open: bool) -> TypeKind {
    let mut seen = BTreeSet::new();
    let values: Vec<String> = values
        .into_iter()
        .filter(|v| seen.insert(v.clone()))
        .collect();
    let rust = names::unique_variants(values.iter().map(String::as_str));
    let mut rust: Vec<String> = rust;
    if open {
        // `Other` carries unknown strings; a known value of that name moves aside.
        for r in &mut rust {
            if r == "Other" {
                r.push_str("Value");
            }
        }
    }
    TypeKind::Enum {
        variants: values
            .into_iter()
            .zip(rust)
            .map(|(value, rust)| EnumVariant { value, rust })
            .collect(),
        open,
    }
}

/// A variant name from a branch's shape, when it has neither a title nor a reference name.
fn shape_label(ty: &Ty, i: usize) -> String {
    match ty {
        Ty::Bool => "Bool".into(),
        Ty::Int(_) => "Integer".into(),
        Ty::Float(_) => "Number".into(),
        Ty::String => "String".into(),
        Ty::Array(_) => "Array".into(),
        Ty::Map(_) => "Object".into(),
        Ty::Named(n) => n.clone(),
        Ty::Null => "Null".into(),
        Ty::Any | Ty::File | Ty::Nullable(_) => format!("Variant{i}"),
    }
}

/// Post-passes over the finished table: boxing on cycles, `validates`, `derives_default`.
fn analyse(api: &mut Api) {
    // Direct containment edges (not through Vec/Map, which already allocate).
    fn direct(ty: &Ty, out: &mut BTreeSet<String>) {
        match ty {
            Ty::Named(n) => {
                out.insert(n.clone());
            }
            Ty::Nullable(t) => direct(t, out),
            _ => {}
        }
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, t) in &api.types {
        let e = edges.entry(name.clone()).or_default();
        match &t.kind {
            TypeKind::Struct(s) => s.fields.iter().for_each(|f| direct(&f.ty, e)),
            TypeKind::Tagged { variants, .. } => variants
                .iter()
                .flat_map(|v| &v.fields)
                .for_each(|f| direct(&f.ty, e)),
            TypeKind::Union { variants } => variants.iter().for_each(|v| direct(&v.ty, e)),
            TypeKind::Alias(t) => direct(t, e),
            TypeKind::Enum { .. } => {}
        }
    }
    // A field is on a containment cycle when its target is in the owner's component: the field
    // is an edge owner -> target, and the target leads back (a field of the owner's own type too).
    let comp = crate::graph::components(&edges);
    let on_cycle = |owner: &str, target: &str| -> bool {
        comp.contains_key(owner) && comp.get(owner) == comp.get(target)
    };
    let mut boxed: BTreeSet<(String, String)> = BTreeSet::new();
    for (name, t) in &api.types {
        let fields: Vec<&Field> = match &t.kind {
            TypeKind::Struct(s) => s.fields.iter().collect(),
            TypeKind::Tagged { variants, .. } => variants.iter().flat_map(|v| &v.fields).collect(),
            _ => continue,
        };
        for f in fields {
            let mut targets = BTreeSet::new();
            direct(&f.ty, &mut targets);
            if targets.iter().any(|t| on_cycle(name, t)) {
                boxed.insert((name.clone(), f.rust.clone()));
            }
        }
    }
    // Unions and aliases on a cycle box their variant through the struct fields already; a cycle
    // made only of unions and aliases would still be infinite, so its variants are boxed as well.
    for t in api.types.values_mut() {
        let name = t.name.clone();
        let fields: Vec<&mut Field> = match &mut t.kind {
            TypeKind::Struct(s) => s.fields.iter_mut().collect(),
            TypeKind::Tagged { variants, .. } => {
                variants.iter_mut().flat_map(|v| &mut v.fields).collect()
            }
            _ => continue,
        };
        for f in fields {
            f.boxed = boxed.contains(&(name.clone(), f.rust.clone()));
        }
    }

    // validates: fixpoint over the table.
    let mut validates: BTreeSet<String> = BTreeSet::new();
    let read: &Api = api;
    loop {
        let before = validates.len();
        for (name, t) in &read.types {
            if validates.contains(name) {
                continue;
            }
            let ty_v = |ty: &Ty| ty_mentions(ty, &validates);
            let v = match &t.kind {
                TypeKind::Struct(s) => {
                    s.fields
                        .iter()
                        .any(|f| read.checks(&f.ty, &f.constraints) || ty_v(&f.ty))
                        || s.extra.as_ref().is_some_and(ty_v)
                }
                TypeKind::Tagged { variants, .. } => variants
                    .iter()
                    .flat_map(|v| &v.fields)
                    .any(|f| read.checks(&f.ty, &f.constraints) || ty_v(&f.ty)),
                TypeKind::Union { variants } => variants.iter().any(|v| ty_v(&v.ty)),
                TypeKind::Alias(_) | TypeKind::Enum { .. } => false,
            };
            if v {
                validates.insert(name.clone());
            }
        }
        if validates.len() == before {
            break;
        }
    }
    // Aliases validate through their target; the emitter calls validate on the target directly.
    for (name, t) in api.types.iter_mut() {
        t.validates = validates.contains(name);
    }

    // derives_default: structs whose every field defaults.
    let mut default: BTreeSet<String> = BTreeSet::new();
    loop {
        let before = default.len();
        for (name, t) in &api.types {
            if default.contains(name) {
                continue;
            }
            if let TypeKind::Struct(s) = &t.kind {
                let ok = s.fields.iter().all(|f| {
                    f.presence != Presence::Required || ty_defaults(&f.ty, &default, &api.types)
                });
                if ok {
                    default.insert(name.clone());
                }
            }
        }
        if default.len() == before {
            break;
        }
    }
    for (name, t) in api.types.iter_mut() {
        t.derives_default = default.contains(name);
    }
}

fn ty_mentions(ty: &Ty, set: &BTreeSet<String>) -> bool {
    match ty {
        Ty::Named(n) => set.contains(n),
        Ty::Array(t) | Ty::Map(t) | Ty::Nullable(t) => ty_mentions(t, set),
        _ => false,
    }
}

fn ty_defaults(ty: &Ty, default: &BTreeSet<String>, types: &BTreeMap<String, TypeDef>) -> bool {
    match ty {
        Ty::Named(n) => {
            default.contains(n)
                || matches!(types.get(n).map(|t| &t.kind), Some(TypeKind::Alias(a)) if ty_defaults(a, default, types))
        }
        Ty::Any
        | Ty::Null
        | Ty::File
        | Ty::Bool
        | Ty::Int(_)
        | Ty::Float(_)
        | Ty::String
        | Ty::Array(_)
        | Ty::Map(_)
        | Ty::Nullable(_) => true,
    }
}

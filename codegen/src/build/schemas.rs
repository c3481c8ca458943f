//! Schemas: one schema position to one IR type, its definition when it needs one, the fields of
//! objects and the constraints of every position (`constraints_of`, the one place they are read).

use super::*;

/// One schema node seen uniformly, whether openapiv3 read it as a typed schema or as `AnySchema`.
pub(super) struct View<'s> {
    pub(super) data: &'s SchemaData,
    pub(super) typ: Option<&'s str>,
    pub(super) format: Option<&'s str>,
    pub(super) enum_values: Vec<Value>,
    pub(super) properties: Option<&'s IndexMap<String, ReferenceOr<Box<Schema>>>>,
    pub(super) required: &'s [String],
    pub(super) additional: Option<&'s AdditionalProperties>,
    pub(super) items: Option<&'s ReferenceOr<Box<Schema>>>,
    pub(super) one_of: &'s [ReferenceOr<Schema>],
    pub(super) any_of: &'s [ReferenceOr<Schema>],
    pub(super) all_of: &'s [ReferenceOr<Schema>],
    pub(super) not: bool,
    pub(super) constraints: Constraints,
}

pub(super) fn format_str<T>(
    f: &VariantOrUnknownOrEmpty<T>,
    known: impl Fn(&T) -> &'static str,
) -> Option<&str> {
    match f {
        VariantOrUnknownOrEmpty::Item(t) => Some(known(t)),
        VariantOrUnknownOrEmpty::Unknown(s) => Some(s.as_str()),
        VariantOrUnknownOrEmpty::Empty => None,
    }
}

pub(super) fn float_bound(v: Option<f64>, exclusive: bool) -> Option<Bound> {
    v.map(|v| Bound {
        value: Num::Float(v),
        exclusive,
    })
}

pub(super) fn view(s: &Schema) -> View<'_> {
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

/// Whether an inline schema needs a named type of its own.
pub(super) fn needs_definition(v: &View<'_>) -> bool {
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

pub(super) fn enum_kind(values: Vec<String>, open: bool) -> TypeKind {
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

pub(super) fn nullable_ty(t: Ty) -> Ty {
    match t {
        Ty::Nullable(_) | Ty::Any => t,
        t => Ty::Nullable(Box::new(t)),
    }
}

/// Whether a property holds a secret: `format: password` on it, or on its single non-null branch
/// (`anyOf: [{type: string, format: password}, {type: 'null'}]`, as 3.1 documents write it).
pub(super) fn is_secret(v: &View<'_>) -> bool {
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
pub(super) fn readback_of(v: Option<&Value>) -> Option<(String, i64)> {
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

pub(super) fn doc_of(data: &SchemaData) -> Option<String> {
    data.description.clone().filter(|d| !d.trim().is_empty())
}

impl<'a> Builder<'a> {
    /// The constraints a schema position states, wherever they are written: through `$ref`s,
    /// single-branch combinators (`anyOf: [T, null]` lowered) and, for arrays and maps, down to
    /// the items. The one place the IR's [`Constraints`] are read from the document.
    pub(super) fn constraints_of(&self, s: SRef<'_>, depth: usize) -> Constraints {
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
        if let Some(Value::Array(raw)) = v.data.extensions.get(crate::lower::PREFIX_ITEMS) {
            c.prefix = raw
                .iter()
                .map(
                    |p| match serde_json::from_value::<ReferenceOr<Schema>>(p.clone()) {
                        Ok(p) => self.constraints_of((&p).into(), depth + 1),
                        Err(_) => Constraints::default(),
                    },
                )
                .collect();
            if c.prefix.iter().all(Constraints::is_empty) {
                c.prefix.clear();
            }
        }
        c
    }

    /// The type of a schema position. `hint` names an inline type, should one be needed.
    pub(super) fn ty(&mut self, s: SRef<'_>, ptr: &str, hint: &str) -> Result<Ty, Error> {
        let ty = self.ty_here(s, ptr, hint)?;
        if let Some(places) = &mut self.places {
            places.insert(ptr.to_string(), ty.clone());
        }
        Ok(ty)
    }

    pub(super) fn ty_here(&mut self, s: SRef<'_>, ptr: &str, hint: &str) -> Result<Ty, Error> {
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
    pub(super) fn ty_of_view(&mut self, v: &View<'_>, ptr: &str, hint: &str) -> Result<Ty, Error> {
        if needs_definition(v) {
            let name = self.unique(hint);
            self.define(&name, v, ptr)?;
            return Ok(Ty::Named(name));
        }
        self.plain_ty(v, ptr, hint)
    }

    /// Types that need no definition of their own.
    pub(super) fn plain_ty(&mut self, v: &View<'_>, ptr: &str, hint: &str) -> Result<Ty, Error> {
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
            Some("array") | None if v.data.extensions.contains_key(crate::lower::PREFIX_ITEMS) => {
                self.tuple(v, ptr, hint)?
            }
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

    /// `prefixItems` (carried by the lowering as [`crate::lower::PREFIX_ITEMS`]): a Rust tuple
    /// when nothing may follow, every position is present (`minItems`) and no position names a
    /// type of the table (whose own checks a tuple could not run); otherwise a tuple struct.
    fn tuple(&mut self, v: &View<'_>, ptr: &str, hint: &str) -> Result<Ty, Error> {
        let at = join(ptr, "prefixItems");
        let raw = match v.data.extensions.get(crate::lower::PREFIX_ITEMS) {
            Some(Value::Array(a)) => a,
            _ => return Ok(Ty::Array(Box::new(Ty::Any))),
        };
        let mut positions = Vec::with_capacity(raw.len());
        for (i, p) in raw.iter().enumerate() {
            let schema: ReferenceOr<Schema> = serde_json::from_value(p.clone())
                .map_err(|e| Error::new(join(&at, &i.to_string()), format!("not a schema: {e}")))?;
            positions.push(schema);
        }
        let mut items = Vec::with_capacity(positions.len());
        for (i, p) in positions.iter().enumerate() {
            let here = join(&at, &i.to_string());
            items.push(self.ty(p.into(), &here, &format!("{hint}{i}"))?);
        }
        let n = items.len() as u64;
        let min = v.constraints.min_items.unwrap_or(0);
        let closed = v.data.extensions.get(crate::lower::PREFIX_CLOSED) == Some(&Value::Bool(true))
            || v.constraints.max_items.is_some_and(|m| m <= n);
        let rest = if closed {
            None
        } else {
            Some(match v.items {
                Some(items) => {
                    self.ty(items.into(), &join(ptr, "items"), &format!("{hint}Item"))?
                }
                None => Ty::Any,
            })
        };
        let named = items.iter().any(|t| {
            let mut out = Vec::new();
            t.named(&mut out);
            !out.is_empty()
        });
        // Tuples stop at 12 for the traits derived on what holds them.
        if rest.is_none() && min >= n && !named && items.len() <= 12 {
            return Ok(Ty::Tuple(items));
        }
        let name = self.unique(hint);
        let constraints = self.tuple_constraints(&positions, v);
        let kind = TypeKind::Tuple(Box::new(crate::ir::Tuple {
            required: min.min(n) as usize,
            items,
            rest,
            constraints,
        }));
        self.insert(&name, ptr, doc_of(v.data), kind);
        Ok(Ty::Named(name))
    }

    /// A tuple node's constraints: its own, each position's, and the rest's.
    fn tuple_constraints(&self, positions: &[ReferenceOr<Schema>], v: &View<'_>) -> Constraints {
        let mut c = v.constraints.clone();
        c.prefix = positions
            .iter()
            .map(|p| self.constraints_of(p.into(), 1))
            .collect();
        c.items = v
            .items
            .map(|i| self.constraints_of(i.into(), 1))
            .filter(|i| !i.is_empty())
            .map(Box::new);
        c
    }

    pub(super) fn define_component(
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
                    // A tuple struct made for this very node takes the component's name.
                    if let Ty::Named(made) = &ty {
                        if self.types.get(made).is_some_and(|t| {
                            t.pointer == ptr && matches!(t.kind, TypeKind::Tuple(_))
                        }) {
                            if let Some(mut t) = self.types.remove(made) {
                                t.name = name.to_string();
                                self.types.insert(name.to_string(), t);
                            }
                            return Ok(());
                        }
                    }
                    self.insert(name, ptr, doc_of(v.data), TypeKind::Alias(ty));
                    Ok(())
                }
            }
        }
    }

    /// Defines `name` from a schema that needs a definition (see [`needs_definition`]).
    pub(super) fn define(&mut self, name: &str, v: &View<'_>, ptr: &str) -> Result<(), Error> {
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

    pub(super) fn extra(
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

    pub(super) fn fields(
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
            // A required untyped value is `Value`: it holds `null` itself, and an `Option` around it
            // would give two spellings of one answer.
            let nullable = nullable && !(is_required && matches!(ty, Ty::Any | Ty::Null));
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
}

//! `allOf`: scalars merged into one constrained scalar, objects merged into one struct (a
//! property a later branch narrows keeps both declarations).

use super::*;

/// Whether an inline schema states object constraints (`required`, properties).
pub(super) fn adds_object_constraints(s: &ReferenceOr<Box<Schema>>) -> bool {
    match s {
        ReferenceOr::Item(b) => {
            let v = view(b);
            !v.required.is_empty() || v.properties.is_some_and(|p| !p.is_empty())
        }
        ReferenceOr::Reference { .. } => false,
    }
}

pub(super) fn all_of_too_deep(ptr: impl Into<String>) -> Error {
    Error::new(ptr, "`allOf` nests too deep (a reference cycle?)")
}

impl<'a> Builder<'a> {
    /// Whether a schema, or any `allOf` branch below it, is an object.
    pub(super) fn object_like(&self, s: &Schema, ptr: &str, depth: usize) -> Result<bool, Error> {
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
    pub(super) fn scalar_all_of(&mut self, s: &Schema, ptr: &str) -> Result<Option<Schema>, Error> {
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

    /// `allOf` with several branches: the object branches' properties merged into one struct.
    pub(super) fn merge_all_of(
        &mut self,
        name: &str,
        v: &View<'_>,
        ptr: &str,
    ) -> Result<TypeKind, Error> {
        let mut props: IndexMap<String, ReferenceOr<Box<Schema>>> = IndexMap::default();
        let mut required: Vec<String> = Vec::new();
        let mut additional: Option<AdditionalProperties> = None;
        // Property -> the inline branch that declared it, where its examples sit.
        let mut declared_in: Vec<(String, String)> = Vec::new();
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
            let inline = matches!(b, SRef::Item(_));
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
                            if inline {
                                declared_in.push((k.clone(), bptr.clone()));
                            }
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
        self.alias_branch_places(ptr, &declared_in);
        let extra = self.extra(name, additional.as_ref(), ptr)?;
        let closed = matches!(additional, Some(AdditionalProperties::Any(false)));
        Ok(TypeKind::Struct(Struct {
            fields,
            extra,
            closed,
        }))
    }

    /// The places (types by schema pointer) of merged properties, recorded again under the inline
    /// `allOf` branch that declared each one: an example written inside a branch
    /// (`.../allOf/1/properties/events/items/example`) is a value of the merged field's type.
    fn alias_branch_places(&mut self, ptr: &str, declared_in: &[(String, String)]) {
        let Some(places) = &mut self.places else {
            return;
        };
        let mut add = Vec::new();
        for (k, branch) in declared_in {
            let merged = join(&join(ptr, "properties"), k);
            let own = join(&join(branch, "properties"), k);
            for (at, ty) in places.range(merged.clone()..) {
                let Some(rest) = at.strip_prefix(&merged) else {
                    break;
                };
                if rest.is_empty() || rest.starts_with('/') {
                    add.push((format!("{own}{rest}"), ty.clone()));
                }
            }
        }
        for (at, ty) in add {
            places.entry(at).or_insert(ty);
        }
    }
}

//! Unions: `oneOf`/`anyOf` told apart by shape (untagged) or by a single-valued property
//! (internally tagged).

use super::*;

impl<'a> Builder<'a> {
    pub(super) fn union(
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
                        let c = &bv.constraints;
                        let constrained = c.pattern.is_some()
                            || c.min_length.is_some()
                            || c.max_length.is_some()
                            || bv.format.is_some_and(|f| !f.is_empty());
                        if bv.enum_values.is_empty() && constrained {
                            // Any string of a pattern or format is not any string: an open enum
                            // would lose that. The branches stay a union.
                            all_strings = false;
                        } else if bv.enum_values.is_empty() {
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
    pub(super) fn tagged(
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
}

//! Naming: every component's Rust name decided once, before any type is built, so names do not
//! depend on the order types are reached.

use super::*;

/// A variant name from a branch's shape, when it has neither a title nor a reference name.
pub(super) fn shape_label(ty: &Ty, i: usize) -> String {
    match ty {
        Ty::Bool => "Bool".into(),
        Ty::Int(_) => "Integer".into(),
        Ty::Float(_) => "Number".into(),
        Ty::String => "String".into(),
        Ty::Array(_) | Ty::Tuple(_) => "Array".into(),
        Ty::Map(_) => "Object".into(),
        Ty::Named(n) => n.clone(),
        Ty::Null => "Null".into(),
        Ty::Any | Ty::File | Ty::Nullable(_) => format!("Variant{i}"),
    }
}

impl<'a> Builder<'a> {
    /// Decides the Rust name of every component schema before anything else is named.
    pub(super) fn name_components(&mut self) {
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
    pub(super) fn unique(&mut self, hint: &str) -> String {
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
}

//! Analysis over the finished table: containment cycles to box, which types validate, which
//! derive `Default`.

use super::*;

/// Post-passes over the finished table: boxing on cycles, `validates`, `derives_default`.
pub(super) fn analyse(api: &mut Api) {
    // Direct containment edges (not through Vec/Map, which already allocate).
    fn direct(ty: &Ty, out: &mut BTreeSet<String>) {
        match ty {
            Ty::Named(n) => {
                out.insert(n.clone());
            }
            Ty::Nullable(t) => direct(t, out),
            Ty::Tuple(ts) => ts.iter().for_each(|t| direct(t, out)),
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
            TypeKind::Tuple(t) => t.items.iter().for_each(|t| direct(t, e)),
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
    let read: &Api = api;
    let validates = fixpoint(&read.types, |t, validates| {
        let ty_v = |ty: &Ty| ty_mentions(ty, validates);
        match &t.kind {
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
            // An alias validates what it stands for.
            TypeKind::Alias(a) => ty_v(a),
            TypeKind::Tuple(t) => {
                let c = &t.constraints;
                let own = c.min_items.is_some_and(|m| m > t.required as u64)
                    || c.max_items.is_some() && t.rest.is_some();
                own || t
                    .items
                    .iter()
                    .zip(&c.prefix)
                    .any(|(ty, pc)| read.checks(ty, pc))
                    || t.items.iter().any(ty_v)
                    || t.rest.as_ref().is_some_and(|r| {
                        ty_v(r) || c.items.as_deref().is_some_and(|ic| read.checks(r, ic))
                    })
            }
            TypeKind::Enum { .. } => false,
        }
    });
    // An alias is marked when its target validates; the emitter calls validate on the target.
    for (name, t) in api.types.iter_mut() {
        t.validates = validates.contains(name);
    }

    // derives_default: structs whose every field defaults.
    let default = fixpoint(&api.types, |t, default| match &t.kind {
        TypeKind::Struct(s) => s
            .fields
            .iter()
            .all(|f| f.presence != Presence::Required || ty_defaults(&f.ty, default, &api.types)),
        _ => false,
    });
    for (name, t) in api.types.iter_mut() {
        t.derives_default = default.contains(name);
    }
}

/// The smallest set of type names closed under `rule`: a type joins when `rule` holds of it given
/// the set so far, until no more join.
fn fixpoint(
    types: &BTreeMap<String, TypeDef>,
    rule: impl Fn(&TypeDef, &BTreeSet<String>) -> bool,
) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    loop {
        let joining: Vec<String> = types
            .iter()
            .filter(|(name, t)| !set.contains(*name) && rule(t, &set))
            .map(|(name, _)| name.clone())
            .collect();
        if joining.is_empty() {
            return set;
        }
        set.extend(joining);
    }
}
pub(super) fn ty_mentions(ty: &Ty, set: &BTreeSet<String>) -> bool {
    match ty {
        Ty::Named(n) => set.contains(n),
        Ty::Array(t) | Ty::Map(t) | Ty::Nullable(t) => ty_mentions(t, set),
        Ty::Tuple(ts) => ts.iter().any(|t| ty_mentions(t, set)),
        _ => false,
    }
}

pub(super) fn ty_defaults(
    ty: &Ty,
    default: &BTreeSet<String>,
    types: &BTreeMap<String, TypeDef>,
) -> bool {
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
        Ty::Tuple(ts) => ts.iter().all(|t| ty_defaults(t, default, types)),
    }
}

//! The `strategies` module (feature `proptest`): a proptest strategy per type that a request can
//! carry (bodies and parameters), building only valid values, with weight on the edges.

use super::{ident, opt_u64, rust_ty, type_ident};
use crate::ir::*;
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;
use std::collections::{BTreeMap, BTreeSet};

/// Names and reachability decided once for the module.
struct Ctx<'a> {
    api: &'a Api,
    /// Type name -> strategy function name, for the types that have one.
    fns: BTreeMap<String, String>,
    /// Type name -> component id in the graph of all references (recursive types share one).
    comp: BTreeMap<String, usize>,
}

pub fn emit(api: &Api) -> TokenStream {
    let edges: BTreeMap<String, BTreeSet<String>> = api
        .types
        .iter()
        .map(|(n, t)| (n.clone(), type_refs(t)))
        .collect();
    let mut ctx = Ctx {
        api,
        fns: BTreeMap::new(),
        comp: crate::graph::components(&edges),
    };
    // Strategies for what requests carry: body and parameter types and what they contain.
    let mut wanted = BTreeSet::new();
    for op in &api.operations {
        let tys = op
            .body
            .iter()
            .map(|b| &b.ty)
            .chain(op.params.iter().map(|p| &p.ty));
        for ty in tys {
            let mut direct = BTreeSet::new();
            refs(ty, &mut direct);
            let mut stack: Vec<String> = direct.into_iter().collect();
            while let Some(n) = stack.pop() {
                if wanted.insert(n.clone()) {
                    stack.extend(edges.get(&n).into_iter().flatten().cloned());
                }
            }
        }
    }
    let buildable = buildable(&ctx);
    let mut used_fns = BTreeSet::new();
    for name in buildable.intersection(&wanted) {
        ctx.fns.insert(
            name.clone(),
            unique(crate::names::snake(name), &mut used_fns),
        );
    }
    let fns = api.types.iter().filter_map(|(name, t)| {
        let f = ctx.fns.get(name)?;
        let f = super::ident(f);
        let ty = type_ident(name);
        let body = type_strategy(&ctx, name, t)?;
        let doc = format!(" Valid values of [`{name}`](super::types::{name}).");
        let cfg = super::cfg_attr(super::type_gate(api, name));
        Some(quote! {
            #cfg
            #[doc = #doc]
            pub fn #f() -> ::proptest::strategy::BoxedStrategy<types::#ty> {
                #body
            }
        })
    });
    quote! {
        #[allow(unused_imports)]
        use ::proptest::strategy::Strategy as _;
        #[allow(unused_imports)]
        use super::types;
        #( #fns )*
    }
}

fn unique(base: String, used: &mut BTreeSet<String>) -> String {
    let mut n = base.clone();
    let mut i = 2;
    while !used.insert(n.clone()) {
        n = format!("{}_{i}", base.trim_end_matches('_'));
        i += 1;
    }
    n
}

fn refs(ty: &Ty, out: &mut BTreeSet<String>) {
    match ty {
        Ty::Named(n) => {
            out.insert(n.clone());
        }
        Ty::Array(t) | Ty::Map(t) | Ty::Nullable(t) => refs(t, out),
        Ty::Tuple(ts) => ts.iter().for_each(|t| refs(t, out)),
        _ => {}
    }
}

fn type_refs(t: &TypeDef) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    match &t.kind {
        TypeKind::Struct(s) => {
            s.fields.iter().for_each(|f| refs(&f.ty, &mut out));
            if let Some(e) = &s.extra {
                refs(e, &mut out);
            }
        }
        TypeKind::Tagged { variants, .. } => variants
            .iter()
            .flat_map(|v| &v.fields)
            .for_each(|f| refs(&f.ty, &mut out)),
        TypeKind::Union { variants } => variants.iter().for_each(|v| refs(&v.ty, &mut out)),
        TypeKind::Alias(ty) => refs(ty, &mut out),
        TypeKind::Tuple(t) => t
            .items
            .iter()
            .chain(&t.rest)
            .for_each(|t| refs(t, &mut out)),
        TypeKind::Enum { .. } => {}
    }
    out
}

impl Ctx<'_> {
    /// Whether `target` is on a cycle through `owner` (references to it are cut inside `owner`).
    fn cyclic(&self, owner: &str, target: &str) -> bool {
        target == owner
            || (self.comp.contains_key(owner) && self.comp.get(owner) == self.comp.get(target))
    }
}

/// The types that get a strategy: every required part can be built (references on a cycle are
/// cut where the schema allows an empty value: absent, null, an empty list or map).
fn buildable(ctx: &Ctx<'_>) -> BTreeSet<String> {
    let mut ok: BTreeSet<String> = ctx.api.types.keys().cloned().collect();
    loop {
        let before = ok.len();
        let snapshot = ok.clone();
        ok.retain(|name| {
            let t = &ctx.api.types[name];
            let can = |ty: &Ty, cuttable: bool| can_build(ctx, name, ty, cuttable, &snapshot);
            match &t.kind {
                TypeKind::Struct(s) => s
                    .fields
                    .iter()
                    .all(|f| can(&f.ty, f.presence != Presence::Required)),
                TypeKind::Tagged { variants, .. } => variants.iter().any(|v| {
                    v.fields
                        .iter()
                        .all(|f| can(&f.ty, f.presence != Presence::Required))
                }),
                TypeKind::Union { variants } => variants.iter().any(|v| can(&v.ty, false)),
                TypeKind::Alias(ty) => can(ty, false),
                // The rest stays empty, and optional positions can be missing.
                TypeKind::Tuple(tu) => tu.items[..tu.required].iter().all(|t| can(t, false)),
                TypeKind::Enum { variants, open } => *open || !variants.is_empty(),
            }
        });
        if ok.len() == before {
            return ok;
        }
    }
}

fn can_build(ctx: &Ctx<'_>, owner: &str, ty: &Ty, cuttable: bool, ok: &BTreeSet<String>) -> bool {
    match ty {
        Ty::Named(n) => (!ctx.cyclic(owner, n) && ok.contains(n)) || cuttable,
        Ty::Array(t) | Ty::Map(t) => can_build(ctx, owner, t, true, ok) || cuttable,
        Ty::Nullable(_) => true,
        Ty::Tuple(ts) => ts.iter().all(|t| can_build(ctx, owner, t, false, ok)) || cuttable,
        _ => true,
    }
}

fn lit_i(v: i128) -> Literal {
    Literal::i128_unsuffixed(v)
}

/// The strategy of a type's values, or `None` where a part cannot be built.
fn ty_strategy(
    ctx: &Ctx<'_>,
    owner: &str,
    ty: &Ty,
    c: Option<&Constraints>,
) -> Option<TokenStream> {
    let st = quote!(super::runtime::strategy);
    let empty = Constraints::default();
    let c = c.unwrap_or(&empty);
    Some(match ty {
        Ty::Bool => quote!(::proptest::arbitrary::any::<bool>().boxed()),
        Ty::Int(it) => {
            let (tlo, thi): (i128, i128) = match it {
                IntTy::I8 => (i8::MIN.into(), i8::MAX.into()),
                IntTy::I16 => (i16::MIN.into(), i16::MAX.into()),
                IntTy::I32 => (i32::MIN.into(), i32::MAX.into()),
                IntTy::I64 => (i64::MIN.into(), i64::MAX.into()),
                IntTy::U8 => (0, u8::MAX.into()),
                IntTy::U16 => (0, u16::MAX.into()),
                IntTy::U32 => (0, u32::MAX.into()),
                IntTy::U64 => (0, u64::MAX.into()),
            };
            // The smallest and largest integers a bound allows, exclusive or not.
            let low = |b: Bound| match (b.value, b.exclusive) {
                (Num::Int(i), false) => i128::from(i),
                (Num::Int(i), true) => i128::from(i) + 1,
                (Num::Float(f), false) => f.ceil() as i128,
                (Num::Float(f), true) => f.floor() as i128 + 1,
            };
            let high = |b: Bound| match (b.value, b.exclusive) {
                (Num::Int(i), false) => i128::from(i),
                (Num::Int(i), true) => i128::from(i) - 1,
                (Num::Float(f), false) => f.floor() as i128,
                (Num::Float(f), true) => f.ceil() as i128 - 1,
            };
            let lo = c.minimum.map(low).unwrap_or(tlo).clamp(tlo, thi);
            let hi = c.maximum.map(high).unwrap_or(thi).clamp(tlo, thi);
            if lo > hi {
                return None;
            }
            let rt = rust_ty(ty);
            // A whole `multipleOf`; a fractional one (every integer is a multiple of 0.5) leaves
            // the range as it is.
            let step = match c.multiple_of {
                Some(Num::Int(m)) if m > 0 => Some(i128::from(m)),
                Some(Num::Float(m)) if m > 0.0 && m.fract() == 0.0 && m < 1e18 => Some(m as i128),
                _ => None,
            };
            if let Some(step) = step {
                // No multiple of the step in the range: no valid value (as for lo > hi).
                let klo = lo.div_euclid(step) + i128::from(lo.rem_euclid(step) != 0);
                if klo > hi.div_euclid(step) {
                    return None;
                }
            }
            let (lo, hi) = (lit_i(lo), lit_i(hi));
            match step {
                Some(step) => {
                    let step = lit_i(step);
                    quote!(#st::integer_multiple(#lo, #hi, #step).prop_map(|v| v as #rt).boxed())
                }
                None => quote!(#st::integer(#lo, #hi).prop_map(|v| v as #rt).boxed()),
            }
        }
        Ty::Float(ft) => {
            let lo = c.minimum.map(|b| b.value.as_f64()).unwrap_or(-1e15);
            let hi = c.maximum.map(|b| b.value.as_f64()).unwrap_or(1e15);
            let (el, eh) = (
                c.minimum.is_some_and(|b| b.exclusive),
                c.maximum.is_some_and(|b| b.exclusive),
            );
            let step = c
                .multiple_of
                .map(Num::as_f64)
                .filter(|m| *m > 0.0 && m.is_finite());
            if let Some(m) = step {
                // The same range of `k` as the runtime's `float_multiples`; empty: no value.
                let mut klo = (lo / m).ceil().max(-1e6);
                if el && klo * m <= lo {
                    klo += 1.0;
                }
                let mut khi = (hi / m).floor().min(1e6);
                if eh && khi * m >= hi {
                    khi -= 1.0;
                }
                if klo > khi {
                    return None;
                }
            }
            let (lo, hi) = (super::f64_lit(lo), super::f64_lit(hi));
            let base = match step {
                Some(m) => {
                    let m = super::f64_lit(m);
                    quote!(#st::number_multiple(#lo, #hi, #el, #eh, #m))
                }
                None => quote!(#st::number(#lo, #hi, #el, #eh)),
            };
            match ft {
                FloatTy::F64 => base,
                FloatTy::F32 => quote!(#base.prop_map(|v| v as f32).boxed()),
            }
        }
        Ty::String => {
            let (a, b) = (opt_u64(c.min_length), opt_u64(c.max_length));
            quote!(#st::string(#a, #b))
        }
        Ty::Any => quote!(#st::any_json()),
        Ty::Null => quote!(::proptest::strategy::Just(::serde_json::Value::Null).boxed()),
        Ty::File => quote!(#st::file_part()),
        Ty::Array(t) => {
            let lo = c.min_items.unwrap_or(0).min(64);
            let hi = c.max_items.unwrap_or(lo.max(3)).min(lo + 3).max(lo);
            let items = match c.items.as_deref() {
                Some(ic) => ty_strategy(ctx, owner, t, Some(ic)),
                None => ty_strategy_cut(ctx, owner, t),
            };
            match items {
                Some(inner) => {
                    let (lo, hi) = (
                        Literal::usize_suffixed(lo as usize),
                        Literal::usize_suffixed(hi as usize),
                    );
                    quote!(::proptest::collection::vec(#inner, #lo..=#hi).boxed())
                }
                None if lo == 0 => {
                    quote!(::proptest::strategy::Just(::std::vec::Vec::new()).boxed())
                }
                None => return None,
            }
        }
        Ty::Tuple(ts) => {
            let empty = Constraints::default();
            let parts: Vec<TokenStream> = ts
                .iter()
                .enumerate()
                .map(|(i, t)| ty_strategy(ctx, owner, t, Some(c.prefix.get(i).unwrap_or(&empty))))
                .collect::<Option<_>>()?;
            let names: Vec<Ident> = (0..parts.len())
                .map(|i| Ident::new(&format!("f{i}"), Span::call_site()))
                .collect();
            from_fields(parts, quote!((#( #names, )*)))
        }
        Ty::Map(t) => match ty_strategy_cut(ctx, owner, t) {
            Some(inner) => {
                quote!(::proptest::collection::btree_map(#st::key(), #inner, 0..=2usize).boxed())
            }
            None => quote!(::proptest::strategy::Just(::std::collections::BTreeMap::new()).boxed()),
        },
        Ty::Nullable(t) => match ty_strategy(ctx, owner, t, Some(c)) {
            Some(inner) => quote!(#st::optional(#inner)),
            None => quote!(::proptest::strategy::Just(::std::option::Option::None).boxed()),
        },
        // An alias of a constrained value: the constraints apply to what it stands for.
        Ty::Named(_) if !c.is_empty() && ctx.api.unalias(ty) != ty => {
            return ty_strategy(ctx, owner, ctx.api.unalias(ty), Some(c));
        }
        Ty::Named(n) => {
            if ctx.cyclic(owner, n) {
                return None;
            }
            let f = super::ident(ctx.fns.get(n)?);
            quote!(super::strategies::#f())
        }
    })
}

/// Like [`ty_strategy`] for items of lists and maps (no field constraints apply).
fn ty_strategy_cut(ctx: &Ctx<'_>, owner: &str, ty: &Ty) -> Option<TokenStream> {
    ty_strategy(ctx, owner, ty, None)
}

fn field_strategy(ctx: &Ctx<'_>, owner: &str, f: &Field) -> Option<TokenStream> {
    let st = quote!(super::runtime::strategy);
    let inner = ty_strategy(ctx, owner, &f.ty, Some(&f.constraints)).map(|s| {
        if f.boxed {
            quote!(#s.prop_map(::std::boxed::Box::new).boxed())
        } else {
            s
        }
    });
    Some(match (f.presence, inner) {
        (Presence::Required, inner) => inner?,
        (Presence::Optional | Presence::RequiredNullable, Some(s)) => quote!(#st::optional(#s)),
        (Presence::Optional | Presence::RequiredNullable, None) => {
            quote!(::proptest::strategy::Just(::std::option::Option::None).boxed())
        }
        (Presence::OptionalNullable, Some(s)) => quote!(#st::patch(#s)),
        (Presence::OptionalNullable, None) => {
            quote!(::proptest::strategy::Just(super::runtime::Patch::Absent).boxed())
        }
    })
}

/// Builds a value from fields: a nested tuple of strategies (proptest's tuples stop at 12) mapped
/// into the constructor `make`, which sees the values as `f0, f1, ...`.
fn from_fields(strategies: Vec<TokenStream>, make: TokenStream) -> TokenStream {
    if strategies.is_empty() {
        return quote!(::proptest::strategy::Just(#make).boxed());
    }
    let names: Vec<Ident> = (0..strategies.len())
        .map(|i| Ident::new(&format!("f{i}"), Span::call_site()))
        .collect();
    let chunks: Vec<(Vec<TokenStream>, Vec<Ident>)> = strategies
        .chunks(8)
        .zip(names.chunks(8))
        .map(|(s, n)| (s.to_vec(), n.to_vec()))
        .collect();
    let tuple = chunks.iter().map(|(s, _)| quote!((#( #s, )*)));
    let pattern = chunks.iter().map(|(_, n)| quote!((#( #n, )*)));
    quote! {
        (#( #tuple, )*).prop_map(|(#( #pattern, )*)| #make).boxed()
    }
}

/// One of several strategies, or `None` when there is none.
fn union(arms: Vec<TokenStream>) -> Option<TokenStream> {
    (!arms.is_empty())
        .then(|| quote!(::proptest::strategy::Union::new(::std::vec![#( #arms ),*]).boxed()))
}

fn type_strategy(ctx: &Ctx<'_>, name: &str, t: &TypeDef) -> Option<TokenStream> {
    let ty = type_ident(name);
    match &t.kind {
        TypeKind::Struct(s) => {
            let strategies: Vec<TokenStream> = s
                .fields
                .iter()
                .map(|f| field_strategy(ctx, name, f))
                .collect::<Option<_>>()?;
            let inits = s.fields.iter().enumerate().map(|(i, f)| {
                let field = ident(&f.rust);
                let v = Ident::new(&format!("f{i}"), Span::call_site());
                quote!(#field: #v)
            });
            let extra = s.extra.as_ref().map(|_| {
                let id = ident(&s.extra_field());
                quote!(#id: ::std::default::Default::default(),)
            });
            Some(from_fields(
                strategies,
                quote!(types::#ty { #( #inits, )* #extra }),
            ))
        }
        TypeKind::Enum { variants, open } => {
            let known = variants.iter().map(|v| {
                let id = type_ident(&v.rust);
                quote!(types::#ty::#id)
            });
            let select = quote!(::proptest::sample::select(::std::vec![#( #known ),*]));
            if *open {
                if variants.is_empty() {
                    return Some(quote!("[a-z_]{1,12}".prop_map(types::#ty::from).boxed()));
                }
                Some(quote! {
                    ::proptest::prop_oneof![
                        3 => #select,
                        1 => "[a-z_]{1,12}".prop_map(types::#ty::from),
                    ].boxed()
                })
            } else {
                Some(quote!(#select.boxed()))
            }
        }
        TypeKind::Union { variants } => {
            let arms: Vec<TokenStream> = variants
                .iter()
                .filter_map(|v| {
                    let s = ty_strategy(ctx, name, &v.ty, None)?;
                    let id = type_ident(&v.rust);
                    Some(quote!(#s.prop_map(types::#ty::#id).boxed()))
                })
                .collect();
            union(arms)
        }
        TypeKind::Tagged { variants, .. } => {
            let arms: Vec<TokenStream> = variants
                .iter()
                .filter_map(|v| {
                    let strategies: Vec<TokenStream> = v
                        .fields
                        .iter()
                        .map(|f| field_strategy(ctx, name, f))
                        .collect::<Option<_>>()?;
                    let id = type_ident(&v.rust);
                    let inits = v.fields.iter().enumerate().map(|(i, f)| {
                        let field = ident(&f.rust);
                        let val = Ident::new(&format!("f{i}"), Span::call_site());
                        quote!(#field: #val)
                    });
                    Some(from_fields(
                        strategies,
                        quote!(types::#ty::#id { #( #inits, )* }),
                    ))
                })
                .collect();
            union(arms)
        }
        TypeKind::Alias(a) => ty_strategy(ctx, name, a, None),
        // The positions every value holds; the optional ones missing and no rest (the least
        // value the schema allows, which validates whatever `maxItems` says).
        TypeKind::Tuple(tu) => {
            let empty = Constraints::default();
            let c = &tu.constraints;
            let parts: Vec<TokenStream> = tu.items[..tu.required]
                .iter()
                .enumerate()
                .map(|(i, t)| ty_strategy(ctx, name, t, Some(c.prefix.get(i).unwrap_or(&empty))))
                .collect::<Option<_>>()?;
            if c.min_items.is_some_and(|m| m > tu.required as u64) {
                return None;
            }
            let mut args: Vec<TokenStream> = (0..parts.len())
                .map(|i| {
                    let v = Ident::new(&format!("f{i}"), Span::call_site());
                    quote!(#v)
                })
                .collect();
            args.extend((tu.required..tu.items.len()).map(|_| quote!(::std::option::Option::None)));
            if tu.rest.is_some() {
                args.push(quote!(::std::vec::Vec::new()));
            }
            Some(from_fields(parts, quote!(types::#ty(#( #args ),*))))
        }
    }
}

//! The `strategies` module (feature `proptest`): each schema's constraints as data (`meta` statics)
//! and a proptest strategy per type that builds only valid values, with weight on the edges.

use super::{ident, rust_ty, type_ident};
use crate::ir::*;
use heck::{ToShoutySnakeCase, ToSnakeCase};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;
use std::collections::{BTreeMap, BTreeSet};

/// Names and reachability decided once for the module.
struct Ctx<'a> {
    api: &'a Api,
    /// Type name -> static name of its `meta::Object`.
    statics: BTreeMap<String, String>,
    /// Type name -> strategy function name, for the types that have one.
    fns: BTreeMap<String, String>,
    /// Type name -> the types it can reach (through any reference).
    reach: BTreeMap<String, BTreeSet<String>>,
}

pub fn emit(api: &Api) -> TokenStream {
    let mut ctx = Ctx {
        api,
        statics: BTreeMap::new(),
        fns: BTreeMap::new(),
        reach: reach(api),
    };
    let mut used = BTreeSet::new();
    for (name, t) in &api.types {
        if matches!(t.kind, TypeKind::Struct(_)) {
            ctx.statics
                .insert(name.clone(), unique(name.to_shouty_snake_case(), &mut used));
        }
    }
    let buildable = buildable(&ctx);
    let mut used_fns = BTreeSet::new();
    for name in &buildable {
        ctx.fns
            .insert(name.clone(), unique(name.to_snake_case(), &mut used_fns));
    }

    let objects = api.types.iter().filter_map(|(name, t)| {
        let TypeKind::Struct(s) = &t.kind else {
            return None;
        };
        let id = Ident::new(&ctx.statics[name], Span::call_site());
        let fields = s.fields.iter().map(|f| field_meta(&ctx, f));
        Some(quote! {
            pub static #id: crate::runtime::meta::Object = crate::runtime::meta::Object {
                name: #name,
                fields: &[#( #fields ),*],
            };
        })
    });
    let ops = api.operations.iter().map(|op| {
        let id = Ident::new(&format!("OP_{}", op.name.to_shouty_snake_case()), Span::call_site());
        let name = &op.name;
        let method = &op.method;
        let path = &op.path;
        let body = match &op.body {
            Some(b) if b.kind == BodyKind::Json => {
                let s = shape(&ctx, &b.ty, None, 0);
                quote!(::std::option::Option::Some(#s))
            }
            _ => quote!(::std::option::Option::None),
        };
        let responses = op.responses.iter().map(|r| {
            let (status, range) = match r.status {
                StatusMatch::Code(c) => (c, false),
                StatusMatch::Range(d) => (d * 100, true),
                StatusMatch::Default => (0, false),
            };
            let body = match &r.body {
                ResponseBody::Json(ty) => {
                    let s = shape(&ctx, ty, None, 0);
                    quote!(::std::option::Option::Some(#s))
                }
                ResponseBody::Raw => quote!(::std::option::Option::None),
            };
            let status = Literal::u16_unsuffixed(status);
            quote! { crate::runtime::meta::Response { status: #status, range: #range, body: #body } }
        });
        let doc = format!(" `{method} {path}`");
        quote! {
            #[doc = #doc]
            pub static #id: crate::runtime::meta::Operation = crate::runtime::meta::Operation {
                name: #name,
                method: #method,
                path: #path,
                body: #body,
                responses: &[#( #responses ),*],
            };
        }
    });
    let fns = api.types.iter().filter_map(|(name, t)| {
        let f = ctx.fns.get(name)?;
        let f = Ident::new(f, Span::call_site());
        let ty = type_ident(name);
        let body = type_strategy(&ctx, name, t)?;
        let doc = format!(" Valid values of [`{name}`](crate::types::{name}).");
        Some(quote! {
            #[doc = #doc]
            pub fn #f() -> ::proptest::strategy::BoxedStrategy<crate::types::#ty> {
                #body
            }
        })
    });
    quote! {
        #[allow(unused_imports)]
        use ::proptest::strategy::Strategy as _;
        #( #objects )*
        #( #ops )*
        #( #fns )*
    }
}

fn unique(base: String, used: &mut BTreeSet<String>) -> String {
    let mut n = base.clone();
    let mut i = 2;
    while !used.insert(n.clone()) {
        n = format!("{base}_{i}");
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
        TypeKind::Enum { .. } => {}
    }
    out
}

fn reach(api: &Api) -> BTreeMap<String, BTreeSet<String>> {
    let direct: BTreeMap<&String, BTreeSet<String>> =
        api.types.iter().map(|(n, t)| (n, type_refs(t))).collect();
    api.types
        .keys()
        .map(|start| {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<String> = direct[start].iter().cloned().collect();
            while let Some(n) = stack.pop() {
                if seen.insert(n.clone()) {
                    if let Some(next) = direct.get(&n) {
                        stack.extend(next.iter().cloned());
                    }
                }
            }
            (start.clone(), seen)
        })
        .collect()
}

impl Ctx<'_> {
    /// Whether `target` is on a cycle through `owner` (references to it are cut inside `owner`).
    fn cyclic(&self, owner: &str, target: &str) -> bool {
        target == owner
            || (self.reach.get(target).is_some_and(|r| r.contains(owner))
                && self.reach.get(owner).is_some_and(|r| r.contains(target)))
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
        _ => true,
    }
}

fn lit_i(v: i128) -> Literal {
    Literal::i128_unsuffixed(v)
}

fn opt_u64(v: Option<u64>) -> TokenStream {
    match v {
        Some(n) => {
            let l = Literal::u64_unsuffixed(n);
            quote!(::std::option::Option::Some(#l))
        }
        None => quote!(::std::option::Option::None),
    }
}

fn opt_i64(v: Option<i64>) -> TokenStream {
    match v {
        Some(n) => {
            let l = Literal::i64_unsuffixed(n);
            quote!(::std::option::Option::Some(#l))
        }
        None => quote!(::std::option::Option::None),
    }
}

fn opt_f64(v: Option<f64>) -> TokenStream {
    match v {
        Some(n) => {
            let l = Literal::f64_unsuffixed(n);
            quote!(::std::option::Option::Some(#l))
        }
        None => quote!(::std::option::Option::None),
    }
}

fn num_f64(n: Num) -> f64 {
    match n {
        Num::Int(i) => i as f64,
        Num::Float(f) => f,
    }
}

/// A `meta::Shape` expression for a type (and the field's constraints, when there are any).
fn shape(ctx: &Ctx<'_>, ty: &Ty, c: Option<&Constraints>, depth: u32) -> TokenStream {
    let m = quote!(crate::runtime::meta::Shape);
    let empty = Constraints::default();
    let c = c.unwrap_or(&empty);
    match ty {
        Ty::Bool => quote!(#m::Boolean),
        Ty::Int(_) => {
            let to_i = |b: Option<Bound>| {
                b.map(|b| match b.value {
                    Num::Int(i) => i,
                    Num::Float(f) => f as i64,
                })
            };
            let (min, max) = (opt_i64(to_i(c.minimum)), opt_i64(to_i(c.maximum)));
            quote!(#m::Integer { min: #min, max: #max })
        }
        Ty::Float(_) => {
            let min = opt_f64(c.minimum.map(|b| num_f64(b.value)));
            let max = opt_f64(c.maximum.map(|b| num_f64(b.value)));
            let emin = c.minimum.is_some_and(|b| b.exclusive);
            let emax = c.maximum.is_some_and(|b| b.exclusive);
            quote!(#m::Number { min: #min, max: #max, exclusive_min: #emin, exclusive_max: #emax })
        }
        Ty::String => {
            let (a, b) = (opt_u64(c.min_length), opt_u64(c.max_length));
            quote!(#m::String { min_len: #a, max_len: #b })
        }
        Ty::Array(t) => {
            let inner = shape(ctx, t, None, depth);
            let (a, b) = (opt_u64(c.min_items), opt_u64(c.max_items));
            quote!(#m::Array { items: &#inner, min_items: #a, max_items: #b })
        }
        Ty::Map(t) => {
            let inner = shape(ctx, t, None, depth);
            quote!(#m::Map(&#inner))
        }
        Ty::Nullable(t) => {
            let inner = shape(ctx, t, Some(c), depth);
            quote!(#m::Nullable(&#inner))
        }
        Ty::Any => quote!(#m::Any),
        Ty::Named(n) => {
            let Some(t) = ctx.api.types.get(n) else {
                return quote!(#m::Any);
            };
            match &t.kind {
                TypeKind::Struct(_) => {
                    let id = Ident::new(&ctx.statics[n], Span::call_site());
                    quote!(#m::Object(&#id))
                }
                TypeKind::Enum { variants, open } => {
                    let values = variants.iter().map(|v| &v.value);
                    quote!(#m::Enum { values: &[#( #values ),*], open: #open })
                }
                TypeKind::Union { variants } if depth < 8 => {
                    let shapes = variants.iter().map(|v| shape(ctx, &v.ty, None, depth + 1));
                    quote!(#m::OneOf(&[#( #shapes ),*]))
                }
                TypeKind::Alias(a) if depth < 8 => shape(ctx, a, Some(c), depth + 1),
                _ => quote!(#m::Any),
            }
        }
    }
}

fn field_meta(ctx: &Ctx<'_>, f: &Field) -> TokenStream {
    let name = &f.json;
    let shape = shape(ctx, &f.ty, Some(&f.constraints), 0);
    let required = matches!(f.presence, Presence::Required | Presence::RequiredNullable);
    let nullable = matches!(
        f.presence,
        Presence::RequiredNullable | Presence::OptionalNullable
    );
    let readback = match &f.readback {
        Some((field, div)) => {
            let div = Literal::i64_unsuffixed(*div);
            quote!(::std::option::Option::Some((#field, #div)))
        }
        None => quote!(::std::option::Option::None),
    };
    quote! {
        crate::runtime::meta::Field {
            name: #name,
            shape: #shape,
            required: #required,
            nullable: #nullable,
            readback: #readback,
        }
    }
}

/// The strategy of a type's values, or `None` where a part cannot be built.
fn ty_strategy(
    ctx: &Ctx<'_>,
    owner: &str,
    ty: &Ty,
    c: Option<&Constraints>,
) -> Option<TokenStream> {
    let st = quote!(crate::runtime::strategy);
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
            let b = |x: Option<Bound>| {
                x.map(|b| match b.value {
                    Num::Int(i) => i128::from(i),
                    Num::Float(f) => f as i128,
                })
            };
            let lo = b(c.minimum).unwrap_or(tlo).clamp(tlo, thi);
            let hi = b(c.maximum).unwrap_or(thi).clamp(tlo, thi);
            if lo > hi {
                return None;
            }
            let rt = rust_ty(ty);
            let (lo, hi) = (lit_i(lo), lit_i(hi));
            quote!(#st::integer(#lo, #hi).prop_map(|v| v as #rt).boxed())
        }
        Ty::Float(ft) => {
            let lo = c.minimum.map(|b| num_f64(b.value)).unwrap_or(-1e15);
            let hi = c.maximum.map(|b| num_f64(b.value)).unwrap_or(1e15);
            let (el, eh) = (
                c.minimum.is_some_and(|b| b.exclusive),
                c.maximum.is_some_and(|b| b.exclusive),
            );
            let (lo, hi) = (Literal::f64_unsuffixed(lo), Literal::f64_unsuffixed(hi));
            match ft {
                FloatTy::F64 => quote!(#st::number(#lo, #hi, #el, #eh)),
                FloatTy::F32 => {
                    quote!(#st::number(#lo, #hi, #el, #eh).prop_map(|v| v as f32).boxed())
                }
            }
        }
        Ty::String => {
            let (a, b) = (opt_u64(c.min_length), opt_u64(c.max_length));
            quote!(#st::string(#a, #b))
        }
        Ty::Any => quote!(#st::any_json()),
        Ty::Array(t) => {
            let lo = c.min_items.unwrap_or(0).min(64);
            let hi = c.max_items.unwrap_or(lo.max(3)).min(lo + 3).max(lo);
            match ty_strategy_cut(ctx, owner, t) {
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
        Ty::Named(n) => {
            if ctx.cyclic(owner, n) {
                return None;
            }
            let f = Ident::new(ctx.fns.get(n)?, Span::call_site());
            quote!(crate::strategies::#f())
        }
    })
}

/// Like [`ty_strategy`] for items of lists and maps (no field constraints apply).
fn ty_strategy_cut(ctx: &Ctx<'_>, owner: &str, ty: &Ty) -> Option<TokenStream> {
    ty_strategy(ctx, owner, ty, None)
}

fn field_strategy(ctx: &Ctx<'_>, owner: &str, f: &Field) -> Option<TokenStream> {
    let st = quote!(crate::runtime::strategy);
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
            quote!(::proptest::strategy::Just(crate::runtime::Patch::Absent).boxed())
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
            let extra = s
                .extra
                .as_ref()
                .map(|_| quote!(extra: ::std::default::Default::default(),));
            Some(from_fields(
                strategies,
                quote!(crate::types::#ty { #( #inits, )* #extra }),
            ))
        }
        TypeKind::Enum { variants, open } => {
            let known = variants.iter().map(|v| {
                let id = type_ident(&v.rust);
                quote!(crate::types::#ty::#id)
            });
            let select = quote!(::proptest::sample::select(::std::vec![#( #known ),*]));
            if *open {
                if variants.is_empty() {
                    return Some(quote!("[a-z_]{1,12}".prop_map(crate::types::#ty::from).boxed()));
                }
                Some(quote! {
                    ::proptest::prop_oneof![
                        3 => #select,
                        1 => "[a-z_]{1,12}".prop_map(crate::types::#ty::from),
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
                    Some(quote!(#s.prop_map(crate::types::#ty::#id).boxed()))
                })
                .collect();
            if arms.is_empty() {
                return None;
            }
            Some(quote!(::proptest::strategy::Union::new(
                ::std::vec![#( #arms ),*]
            )
            .boxed()))
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
                        quote!(crate::types::#ty::#id { #( #inits, )* }),
                    ))
                })
                .collect();
            if arms.is_empty() {
                return None;
            }
            Some(quote!(::proptest::strategy::Union::new(
                ::std::vec![#( #arms ),*]
            )
            .boxed()))
        }
        TypeKind::Alias(a) => ty_strategy(ctx, name, a, None),
    }
}

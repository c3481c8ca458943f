//! Types: one Rust item per entry of the IR's type table, plus each operation's response enum and
//! optional-parameter struct.

use super::docs;
use super::{ident, opt_u64, type_ident, Scope};
use crate::ir::*;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

/// The whole of `types.rs`: its header, then every part.
pub fn emit(api: &Api) -> TokenStream {
    let parts = (0..parts(api)).map(|i| emit_part(api, i));
    let header = header(api);
    quote! { #header #( #parts )* }
}

/// Types per part: `types.rs` is emitted and formatted in parts, in parallel.
const PART: usize = 48;

/// How many parts `types.rs` has: the type table in runs of [`PART`], then the operations' types.
pub fn parts(api: &Api) -> usize {
    api.types.len().div_ceil(PART) + 1
}

/// The module's inner attribute and imports.
pub fn header(api: &Api) -> TokenStream {
    let imports = Scope::types(api).imports();
    quote! {
        #imports
    }
}

/// Part `i` of `types.rs`; the parts in order make the module (after [`header`]).
pub fn emit_part(api: &Api, i: usize) -> TokenStream {
    let sc = &Scope::types(api);
    let table = api.types.len().div_ceil(PART);
    if i < table {
        let defs = api
            .types
            .values()
            .skip(i * PART)
            .take(PART)
            .map(|t| super::gate_items(type_def(api, sc, t), super::type_gate(api, &t.name)));
        quote! { #( #defs )* }
    } else {
        let ops = api.operations.iter().map(|op| {
            super::gate_items(
                operation_types(sc, op),
                super::operation_gate(api, &op.name),
            )
        });
        quote! { #( #ops )* }
    }
}

fn type_def(api: &Api, sc: &Scope, t: &TypeDef) -> TokenStream {
    let name = type_ident(&t.name);
    // Every public item is documented: the schema's description, or where the schema is.
    let fallback = format!("The schema at `#{}`.", t.pointer.replace('`', "'"));
    let doc = docs::attrs(Some(t.doc.as_deref().unwrap_or(&fallback)));
    // Types only answers carry serialise with the `serialize` feature (see `TypeDef::serialize`).
    let ser = if t.serialize {
        quote!(#[derive(serde::Serialize)])
    } else {
        quote!(#[cfg_attr(feature = "serialize", derive(serde::Serialize))])
    };
    match &t.kind {
        TypeKind::Alias(ty) => {
            let ty = sc.ty(ty);
            quote! { #doc pub type #name = #ty; }
        }
        TypeKind::Struct(s) => {
            let derive_default = t.derives_default.then(|| quote!(Default,));
            let fields = s.fields.iter().map(|f| field(sc, f, true, t.serialize));
            let extra = s.extra.as_ref().map(|ty| {
                let ty = sc.ty(ty);
                let (map, string) = (sc.map(), sc.string());
                let id = ident(&s.extra_field());
                quote! {
                    #[doc = " Properties beyond the documented ones."]
                    #[serde(flatten)]
                    pub #id: #map<#string, #ty>,
                }
            });
            let defaults = default_accessors(api, sc, &t.name, &s.fields);
            let new = constructor(sc, &t.name, s);
            let validate = t.validates.then(|| validate_struct(api, &t.name, s));
            // A struct with a secret field (`format: password`) writes its own `Debug`.
            let (derive_debug, debug_impl) = if s.fields.iter().any(|f| f.secret) {
                (TokenStream::new(), redacting_debug(&t.name, s))
            } else {
                (quote!(Debug,), TokenStream::new())
            };
            // `additionalProperties: false`: a key the schema does not declare is refused.
            let deny = s.closed.then(|| quote!(#[serde(deny_unknown_fields)]));
            quote! {
                #doc
                #[derive(#derive_debug Clone, PartialEq, #derive_default serde::Deserialize)]
                #ser
                #deny
                pub struct #name {
                    #( #fields )*
                    #extra
                }
                #debug_impl
                #new
                #defaults
                #validate
            }
        }
        TypeKind::Enum {
            variants,
            open: false,
        } => {
            let vs = variants.iter().map(|v| {
                let id = type_ident(&v.rust);
                let value = &v.value;
                let d = format!(" `{}`", value.replace('`', "'"));
                quote! { #[doc = #d] #[serde(rename = #value)] #id, }
            });
            let arms = variants.iter().map(|v| {
                let id = type_ident(&v.rust);
                let value = &v.value;
                quote! { Self::#id => #value, }
            });
            quote! {
                #doc
                #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize)]
                #ser
                pub enum #name { #( #vs )* }
                impl #name {
                    /// The value on the wire.
                    pub fn as_str(&self) -> &'static str {
                        match self { #( #arms )* }
                    }
                }
            }
        }
        TypeKind::Enum {
            variants,
            open: true,
        } => open_enum(sc, &name, doc, variants),
        TypeKind::Union { variants } => {
            let vs = variants.iter().map(|v| {
                let id = type_ident(&v.rust);
                let ty = sc.ty(&v.ty);
                let d = format!(" A value of the `{}` shape.", v.rust);
                quote! { #[doc = #d] #id(#ty), }
            });
            let validate = t.validates.then(|| {
                let arms = variants.iter().map(|v| {
                    let id = type_ident(&v.rust);
                    if api.ty_validates(&v.ty) {
                        quote! { Self::#id(v) => super::runtime::Validate::validate_into(v, path, errors), }
                    } else {
                        quote! { Self::#id(_) => {} }
                    }
                });
                quote! {
                    impl super::runtime::Validate for #name {
                        fn validate_into(&self, path: &str, errors: &mut super::runtime::ValidationErrors) {
                            match self { #( #arms )* }
                        }
                    }
                }
            });
            quote! {
                #doc
                #[derive(Debug, Clone, PartialEq, serde::Deserialize)]
                #ser
                #[serde(untagged)]
                pub enum #name { #( #vs )* }
                #validate
            }
        }
        TypeKind::Tuple(tu) => tuple_struct(api, sc, t, tu, doc),
        TypeKind::Tagged { tag, variants } => {
            let vs = variants.iter().map(|v| {
                let id = type_ident(&v.rust);
                let value = &v.value;
                let fallback = format!("`{tag}` is `{}`.", value.replace('`', "'"));
                let vdoc = docs::attrs(Some(v.doc.as_deref().unwrap_or(&fallback)));
                let fields = v.fields.iter().map(|f| field(sc, f, false, t.serialize));
                if v.fields.is_empty() {
                    quote! { #vdoc #[serde(rename = #value)] #id {}, }
                } else {
                    quote! { #vdoc #[serde(rename = #value)] #id { #( #fields )* }, }
                }
            });
            let validate = t.validates.then(|| {
                let arms = variants.iter().map(|v| {
                    let id = type_ident(&v.rust);
                    let names: Vec<_> = v.fields.iter().map(|f| ident(&f.rust)).collect();
                    let checks = v.fields.iter().zip(&names).map(|(f, b)| field_check(api, f, quote!(#b), false));
                    quote! { Self::#id { #( #names, )* } => { #( #checks )* } }
                });
                quote! {
                    impl super::runtime::Validate for #name {
                        #[allow(unused_variables)]
                        fn validate_into(&self, path: &str, errors: &mut super::runtime::ValidationErrors) {
                            match self { #( #arms )* }
                        }
                    }
                }
            });
            quote! {
                #doc
                #[derive(Debug, Clone, PartialEq, serde::Deserialize)]
                #ser
                #[serde(tag = #tag)]
                pub enum #name { #( #vs )* }
                #validate
            }
        }
    }
}

/// A tuple struct for `prefixItems` that may be short or followed by more items: positions every
/// value holds, then `Option`s for the ones it may lack, then a `Vec` of the rest when more may
/// follow. serde derives would read a fixed length, so it reads and writes itself: positions in
/// order until the array ends; the rest only after every position. A missing optional position
/// ends the array on the wire (the ones after it are not written), as JSON has no hole.
fn tuple_struct(api: &Api, sc: &Scope, t: &TypeDef, tu: &Tuple, doc: TokenStream) -> TokenStream {
    let name = type_ident(&t.name);
    let (option, vec) = (sc.option(), sc.vec());
    let n = tu.items.len();
    let fields = tu.items.iter().enumerate().map(|(i, ty)| {
        let ty = sc.ty(ty);
        let d = format!(" Position {i}.");
        if i < tu.required {
            quote!(#[doc = #d] pub #ty)
        } else {
            quote!(#[doc = #d] pub #option<#ty>)
        }
    });
    let rest = tu.rest.as_ref().map(|r| {
        let r = sc.ty(r);
        let d = format!(" The items after position {}.", n.saturating_sub(1));
        quote!(#[doc = #d] pub #vec<#r>)
    });
    let fields = fields.chain(rest);
    let vars: Vec<proc_macro2::Ident> = (0..n)
        .map(|i| proc_macro2::Ident::new(&format!("f{i}"), proc_macro2::Span::call_site()))
        .collect();
    let expecting = format!("an array of at least {} items", tu.required);
    let reads = tu.items.iter().enumerate().map(|(i, ty)| {
        let ty = sc.ty(ty);
        let v = &vars[i];
        if i < tu.required {
            let at = Literal::usize_unsuffixed(i);
            quote! {
                let #v = seq.next_element::<#ty>()?
                    .ok_or_else(|| serde::de::Error::invalid_length(#at, &self))?;
            }
        } else if i == tu.required {
            quote! { let #v = seq.next_element::<#ty>()?; }
        } else {
            let prev = &vars[i - 1];
            quote! {
                let #v = if #prev.is_some() { seq.next_element::<#ty>()? } else { ::std::option::Option::None };
            }
        }
    });
    let (read_rest, rest_arg) = match &tu.rest {
        Some(r) => {
            let r = sc.ty(r);
            let read = quote! {
                while let ::std::option::Option::Some(v) = seq.next_element::<#r>()? {
                    rest.push(v);
                }
            };
            let read = match vars[tu.required..].last() {
                Some(last) => quote!(if #last.is_some() { #read }),
                None => read,
            };
            (
                quote! {
                    let mut rest = ::std::vec::Vec::new();
                    #read
                },
                quote!(rest),
            )
        }
        None => (TokenStream::new(), TokenStream::new()),
    };
    let writes = (0..n).map(|i| {
        let at = syn::Index::from(i);
        if i < tu.required {
            quote! { seq.serialize_element(&self.#at)?; }
        } else {
            quote! {
                match &self.#at {
                    ::std::option::Option::Some(v) => seq.serialize_element(v)?,
                    ::std::option::Option::None => return seq.end(),
                }
            }
        }
    });
    let write_rest = tu.rest.as_ref().map(|_| {
        let at = syn::Index::from(n);
        quote! { for v in &self.#at { seq.serialize_element(v)?; } }
    });
    let ser_cfg = (!t.serialize).then(|| quote!(#[cfg(feature = "serialize")]));
    let validate = t.validates.then(|| {
        let c = &tu.constraints;
        let empty = Constraints::default();
        let req = Literal::usize_unsuffixed(tu.required);
        let mut count = vec![quote!(#req)];
        for i in tu.required..n {
            let at = syn::Index::from(i);
            count.push(quote!(usize::from(self.#at.is_some())));
        }
        if tu.rest.is_some() {
            let at = syn::Index::from(n);
            count.push(quote!(self.#at.len()));
        }
        let count_check = (c.min_items.is_some() || c.max_items.is_some()).then(|| {
            let (min, max) = (opt_u64(c.min_items), opt_u64(c.max_items));
            quote! { errors.items(path, #( #count )+*, #min, #max); }
        });
        let positions = tu.items.iter().enumerate().map(|(i, ty)| {
            let mut checks = value_checks(api, ty, c.prefix.get(i).unwrap_or(&empty), 0);
            if api.ty_validates(ty) {
                checks.push(quote! { super::runtime::Validate::validate_into(v, &p, errors); });
            }
            if checks.is_empty() {
                return TokenStream::new();
            }
            let at = syn::Index::from(i);
            let here = Literal::usize_unsuffixed(i);
            if i < tu.required {
                quote! {
                    {
                        let v = &self.#at;
                        let p = ::std::format!("{}[{}]", path, #here);
                        #( #checks )*
                    }
                }
            } else {
                quote! {
                    if let ::std::option::Option::Some(v) = self.#at.as_ref() {
                        let p = ::std::format!("{}[{}]", path, #here);
                        #( #checks )*
                    }
                }
            }
        });
        let rest = tu.rest.as_ref().map(|r| {
            let mut checks = value_checks(api, r, c.items.as_deref().unwrap_or(&empty), 0);
            if api.ty_validates(r) {
                checks.push(quote! { super::runtime::Validate::validate_into(v, &p, errors); });
            }
            if checks.is_empty() {
                return TokenStream::new();
            }
            let at = syn::Index::from(n);
            let n = Literal::usize_unsuffixed(n);
            quote! {
                for (i, v) in self.#at.iter().enumerate() {
                    let p = ::std::format!("{}[{}]", path, i + #n);
                    #( #checks )*
                }
            }
        });
        quote! {
            impl super::runtime::Validate for #name {
                fn validate_into(&self, path: &str, errors: &mut super::runtime::ValidationErrors) {
                    #count_check
                    #( #positions )*
                    #rest
                }
            }
        }
    });
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq)]
        pub struct #name( #( #fields ),* );

        impl<'de> serde::Deserialize<'de> for #name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                struct Seq;
                impl<'de> serde::de::Visitor<'de> for Seq {
                    type Value = #name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(#expecting)
                    }
                    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> ::std::result::Result<#name, A::Error> {
                        #( #reads )*
                        #read_rest
                        ::std::result::Result::Ok(#name( #( #vars, )* #rest_arg ))
                    }
                }
                deserializer.deserialize_seq(Seq)
            }
        }

        #ser_cfg
        impl serde::Serialize for #name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                use serde::ser::SerializeSeq;
                let mut seq = serializer.serialize_seq(::std::option::Option::None)?;
                #( #writes )*
                #write_rest
                seq.end()
            }
        }
        #validate
    }
}

/// `Debug` for a struct that shows `<redacted>` in place of its secret fields' values.
fn redacting_debug(name: &str, s: &Struct) -> TokenStream {
    let id = type_ident(name);
    let fields = s.fields.iter().map(|f| {
        let n = ident(&f.rust);
        let label = &f.rust;
        if f.secret {
            quote! { .field(#label, &super::runtime::Redacted) }
        } else {
            quote! { .field(#label, &self.#n) }
        }
    });
    let extra = s.extra.as_ref().map(|_| {
        let label = s.extra_field();
        let id = ident(&label);
        quote! { .field(#label, &self.#id) }
    });
    quote! {
        impl ::std::fmt::Debug for #id {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(#name)
                    #( #fields )*
                    #extra
                    .finish()
            }
        }
    }
}

fn open_enum(
    sc: &Scope,
    name: &proc_macro2::Ident,
    doc: TokenStream,
    variants: &[EnumVariant],
) -> TokenStream {
    let string = sc.string();
    let vs = variants.iter().map(|v| {
        let id = type_ident(&v.rust);
        let d = format!(" `{}`", v.value);
        quote! { #[doc = #d] #id, }
    });
    let to_str = variants.iter().map(|v| {
        let id = type_ident(&v.rust);
        let value = &v.value;
        quote! { Self::#id => #value, }
    });
    let from_str = variants.iter().map(|v| {
        let id = type_ident(&v.rust);
        let value = &v.value;
        quote! { #value => Self::#id, }
    });
    quote! {
        #doc
        #[doc = ""]
        #[doc = " Open: values other than the known ones are kept in `Other`. A value is compared,"]
        #[doc = " hashed and ordered by its wire string, so `Other` holding a known value equals that"]
        #[doc = " value's variant; `From` and `parse` map known values to their variant."]
        #[derive(Debug, Clone)]
        pub enum #name {
            #( #vs )*
            /// Any other value.
            Other(#string),
        }
        impl #name {
            /// The value on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( #to_str )*
                    Self::Other(s) => s,
                }
            }
        }
        impl ::std::convert::From<#string> for #name {
            fn from(s: #string) -> Self {
                match s.as_str() {
                    #( #from_str )*
                    _ => Self::Other(s),
                }
            }
        }
        impl ::std::convert::From<&str> for #name {
            fn from(s: &str) -> Self {
                Self::from(s.to_string())
            }
        }
        impl ::std::str::FromStr for #name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                ::std::result::Result::Ok(Self::from(s))
            }
        }
        impl ::std::cmp::PartialEq for #name {
            fn eq(&self, other: &Self) -> bool {
                self.as_str() == other.as_str()
            }
        }
        impl ::std::cmp::Eq for #name {}
        impl ::std::hash::Hash for #name {
            fn hash<H: ::std::hash::Hasher>(&self, h: &mut H) {
                self.as_str().hash(h)
            }
        }
        impl ::std::cmp::PartialOrd for #name {
            fn partial_cmp(&self, other: &Self) -> ::std::option::Option<::std::cmp::Ordering> {
                ::std::option::Option::Some(self.cmp(other))
            }
        }
        impl ::std::cmp::Ord for #name {
            fn cmp(&self, other: &Self) -> ::std::cmp::Ordering {
                self.as_str().cmp(other.as_str())
            }
        }
        impl serde::Serialize for #name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> serde::Deserialize<'de> for #name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                <#string as serde::Deserialize>::deserialize(d).map(Self::from)
            }
        }
    }
}

/// The Rust type of a field, with its presence and boxing.
pub fn field_ty(sc: &Scope, f: &Field) -> TokenStream {
    let inner = sc.ty(&f.ty);
    let inner = if f.boxed {
        let b = sc.boxed();
        quote!(#b<#inner>)
    } else {
        inner
    };
    match f.presence {
        Presence::Required => inner,
        Presence::RequiredNullable | Presence::Optional => {
            let o = sc.option();
            quote!(#o<#inner>)
        }
        Presence::OptionalNullable => {
            let p = sc.patch();
            quote!(#p<#inner>)
        }
    }
}

/// A struct field. `sent`: the type is one the client sends, whose optional non-nullable fields
/// then refuse an explicit `null` as the schema does (types only answers carry stay lenient:
/// servers often send `null` for "absent").
fn field(sc: &Scope, f: &Field, public: bool, sent: bool) -> TokenStream {
    let name = ident(&f.rust);
    let ty = field_ty(sc, f);
    let mut doc_text = f
        .doc
        .as_deref()
        .map(docs::sanitize)
        .unwrap_or_else(|| format!("`{}`.", f.json.replace('`', "'")));
    let notes = constraint_notes(f);
    if !notes.is_empty() {
        if !doc_text.is_empty() {
            doc_text.push_str("\n\n");
        }
        doc_text.push_str(&notes);
    }
    let doc = docs::lines(&doc_text);
    let rename = (f.json != f.rust).then(|| {
        let j = &f.json;
        quote!(#[serde(rename = #j)])
    });
    let serde = match f.presence {
        // A sent type's required nullable key must be there (serde would read a missing key as
        // `None`); answers are read leniently.
        Presence::RequiredNullable if sent => {
            quote!(#[serde(deserialize_with = "super::runtime::nullable")])
        }
        Presence::Required | Presence::RequiredNullable => TokenStream::new(),
        Presence::Optional if sent => {
            let f = sc.option_is_none();
            quote!(#[serde(default, skip_serializing_if = #f, deserialize_with = "super::runtime::present")])
        }
        Presence::Optional => {
            let f = sc.option_is_none();
            quote!(#[serde(default, skip_serializing_if = #f)])
        }
        Presence::OptionalNullable => {
            let f = sc.patch_is_absent();
            quote!(#[serde(default, skip_serializing_if = #f)])
        }
    };
    let vis = public.then(|| quote!(pub));
    quote! { #doc #rename #serde #vis #name: #ty, }
}

fn num_lit(n: Num) -> String {
    match n {
        Num::Int(i) => i.to_string(),
        Num::Float(f) => f.to_string(),
    }
}

/// A line such as "Range: `10 <= x <= 1200`. Default: `false`." for the field's doc.
fn constraint_notes(f: &Field) -> String {
    let c = &f.constraints;
    let mut parts = Vec::new();
    match (c.minimum, c.maximum) {
        (Some(lo), Some(hi)) => parts.push(format!(
            "Range: `{} {} x {} {}`.",
            num_lit(lo.value),
            if lo.exclusive { "<" } else { "<=" },
            if hi.exclusive { "<" } else { "<=" },
            num_lit(hi.value)
        )),
        (Some(lo), None) => parts.push(format!(
            "Minimum: `{}{}`.",
            if lo.exclusive { "> " } else { "" },
            num_lit(lo.value)
        )),
        (None, Some(hi)) => parts.push(format!(
            "Maximum: `{}{}`.",
            if hi.exclusive { "< " } else { "" },
            num_lit(hi.value)
        )),
        (None, None) => {}
    }
    if let Some(m) = c.multiple_of {
        parts.push(format!("Multiple of `{}`.", num_lit(m)));
    }
    if c.min_length.is_some() || c.max_length.is_some() {
        parts.push(format!(
            "Length: `{}..={}` characters.",
            c.min_length.unwrap_or(0),
            c.max_length.map(|m| m.to_string()).unwrap_or_default()
        ));
    }
    if let Some(p) = &c.pattern {
        parts.push(format!(
            "Pattern (not checked locally): `{}`.",
            p.replace('`', "'")
        ));
    }
    if c.min_items.is_some() || c.max_items.is_some() {
        parts.push(format!(
            "Items: `{}..={}`.",
            c.min_items.unwrap_or(0),
            c.max_items.map(|m| m.to_string()).unwrap_or_default()
        ));
    }
    if let Some(d) = &f.default {
        let text = d.to_string();
        if text.len() <= 80 {
            parts.push(format!("Default: `{}`.", text.replace('`', "'")));
        }
    }
    match f.presence {
        Presence::OptionalNullable => {
            parts.push("Absent, `null` and a value are told apart.".into())
        }
        Presence::RequiredNullable => parts.push("Always sent; may be `null`.".into()),
        _ => {}
    }
    parts.join(" ")
}

/// `fn x_or_default(&self)` accessors for optional fields with a simple documented default.
/// `new(required...)` for a struct with required fields: each required field is an argument (text
/// as `impl Into<String>`), every other field left out, so that none can be forgotten the way a
/// `..Default::default()` literal forgets one.
fn constructor(sc: &Scope, owner: &str, s: &Struct) -> TokenStream {
    let required =
        |f: &&Field| matches!(f.presence, Presence::Required | Presence::RequiredNullable);
    if !s.fields.iter().any(|f| required(&f)) {
        return TokenStream::new();
    }
    let mut params = Vec::new();
    let mut inits = Vec::new();
    for f in &s.fields {
        let id = ident(&f.rust);
        if !required(&f) {
            inits.push(quote! { #id: ::std::default::Default::default(), });
        } else if f.ty == Ty::String && !f.boxed && f.presence == Presence::Required {
            let string = sc.string();
            params.push(quote! { #id: impl ::std::convert::Into<#string> });
            inits.push(quote! { #id: #id.into(), });
        } else {
            let ty = field_ty(sc, f);
            params.push(quote! { #id: #ty });
            inits.push(quote! { #id, });
        }
    }
    let extra = s.extra.as_ref().map(|_| {
        let id = ident(&s.extra_field());
        quote! { #id: ::std::default::Default::default(), }
    });
    let name = type_ident(owner);
    let many = (params.len() > 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    quote! {
        impl #name {
            /// A value with its required fields given and every optional one left out.
            #many
            pub fn new(#( #params ),*) -> Self {
                Self { #( #inits )* #extra }
            }
        }
    }
}

fn default_accessors(api: &Api, sc: &Scope, owner: &str, fields: &[Field]) -> TokenStream {
    let methods: Vec<TokenStream> = fields
        .iter()
        .filter(|f| f.presence == Presence::Optional && !f.boxed)
        .filter_map(|f| {
            let d = f.default.as_ref()?;
            let name = ident(&format!("{}_or_default", f.rust.trim_start_matches("r#")));
            let field = ident(&f.rust);
            let doc = format!(
                " `{}`, or its documented default `{}` when absent.",
                f.json, d
            );
            let doc = doc.replace('[', "\\[").replace(']', "\\]");
            let body = match (&f.ty, d) {
                (Ty::Bool, serde_json::Value::Bool(b)) => {
                    quote! { pub fn #name(&self) -> bool { self.#field.unwrap_or(#b) } }
                }
                (Ty::Int(_), serde_json::Value::Number(n)) => {
                    let ty = sc.ty(&f.ty);
                    let lit = Literal::i64_unsuffixed(n.as_i64()?);
                    quote! { pub fn #name(&self) -> #ty { self.#field.unwrap_or(#lit) } }
                }
                (Ty::Float(_), serde_json::Value::Number(n)) => {
                    let ty = sc.ty(&f.ty);
                    let lit = super::f64_lit(n.as_f64()?);
                    quote! { pub fn #name(&self) -> #ty { self.#field.unwrap_or(#lit) } }
                }
                (Ty::String, serde_json::Value::String(s)) => {
                    quote! { pub fn #name(&self) -> &str { self.#field.as_deref().unwrap_or(#s) } }
                }
                (Ty::Named(n), serde_json::Value::String(s)) => {
                    let TypeKind::Enum { variants, open } = &api.type_def(n)?.kind else {
                        return None;
                    };
                    let v = variants.iter().find(|v| &v.value == s)?;
                    let ty = type_ident(n);
                    let var = type_ident(&v.rust);
                    // Closed enums are `Copy`; open ones carry a `String`.
                    let get = if *open {
                        quote!(self.#field.clone())
                    } else {
                        quote!(self.#field)
                    };
                    quote! { pub fn #name(&self) -> #ty { #get.unwrap_or(#ty::#var) } }
                }
                _ => return None,
            };
            Some(quote! { #[doc = #doc] #body })
        })
        .collect();
    if methods.is_empty() {
        return TokenStream::new();
    }
    let owner = type_ident(owner);
    quote! { impl #owner { #( #methods )* } }
}

fn validate_struct(api: &Api, name: &str, s: &Struct) -> TokenStream {
    let id = type_ident(name);
    let checks = s.fields.iter().map(|f| {
        let name = ident(&f.rust);
        field_check(api, f, quote!(self.#name), true)
    });
    let extra = s.extra.as_ref().filter(|t| api.ty_validates(t)).map(|_| {
        let id = ident(&s.extra_field());
        quote! { super::runtime::Validate::validate_into(&self.#id, path, errors); }
    });
    quote! {
        impl super::runtime::Validate for #id {
            fn validate_into(&self, path: &str, errors: &mut super::runtime::ValidationErrors) {
                #( #checks )*
                #extra
            }
        }
    }
}

/// The checks of one field. `access` is the place expression (`self.x`, or a binding `x` of type
/// `&T` inside a match when `owned_place` is false).
fn field_check(api: &Api, f: &Field, access: TokenStream, owned_place: bool) -> TokenStream {
    let nested = api.ty_validates(&f.ty);
    let mut checks = value_checks(api, &f.ty, &f.constraints, 0);
    if nested {
        checks.push(quote! { super::runtime::Validate::validate_into(v, &p, errors); });
    }
    if checks.is_empty() {
        return TokenStream::new();
    }
    let place = if owned_place {
        quote!(&#access)
    } else {
        access.clone()
    };
    let json = &f.json;
    let get = match f.presence {
        Presence::Required => {
            return quote! {
                {
                    let v = #place;
                    let p = super::runtime::field_path(path, #json);
                    #( #checks )*
                }
            };
        }
        Presence::RequiredNullable | Presence::Optional => quote!(#access.as_ref()),
        Presence::OptionalNullable => quote!(#access.as_option()),
    };
    quote! {
        if let ::std::option::Option::Some(v) = #get {
            let p = super::runtime::field_path(path, #json);
            #( #checks )*
        }
    }
}

/// The checks of the constraints `c` on a value `v: &T` of type `ty` at path `p`; for arrays,
/// the items' constraints too. A named alias is seen through: its constraints are the field's.
fn value_checks(api: &Api, ty: &Ty, c: &Constraints, depth: usize) -> Vec<TokenStream> {
    let ty = api.unalias(ty);
    let mut checks = Vec::new();
    if depth > 8 || !c.is_checked() {
        return checks;
    }
    let bound = |b: Bound, which: &str| -> TokenStream {
        let excl = b.exclusive;
        let method = proc_macro2::Ident::new(which, proc_macro2::Span::call_site());
        match (b.value, ty) {
            (Num::Int(i), Ty::Int(_)) => {
                let lit = Literal::i128_unsuffixed(i as i128);
                quote! { errors.#method(&p, i128::from(*v), #lit, #excl); }
            }
            (n, _) => {
                let lit = super::f64_lit(n.as_f64());
                let value = as_f64(ty);
                quote! { errors.#method(&p, #value, #lit, #excl); }
            }
        }
    };
    if matches!(ty, Ty::Int(_) | Ty::Float(_)) {
        if let Some(b) = c.minimum {
            checks.push(bound(b, "minimum"));
        }
        if let Some(b) = c.maximum {
            checks.push(bound(b, "maximum"));
        }
        let whole = |m: Num| match m {
            Num::Int(i) if i > 0 => Some(i128::from(i)),
            Num::Float(f) if f >= 1.0 && f.fract() == 0.0 && f < 1e18 => Some(f as i128),
            _ => None,
        };
        match (c.multiple_of, ty) {
            // An integer and a whole step: exact, in integers.
            (Some(m), Ty::Int(_)) if whole(m).is_some() => {
                let lit = Literal::i128_unsuffixed(whole(m).unwrap_or(1));
                checks.push(quote! { errors.multiple_of_integer(&p, i128::from(*v), #lit); });
            }
            (Some(m), _) => {
                let lit = super::f64_lit(m.as_f64());
                let value = as_f64(ty);
                checks.push(quote! { errors.multiple_of(&p, #value, #lit); });
            }
            (None, _) => {}
        }
    }
    if matches!(ty, Ty::String) && (c.min_length.is_some() || c.max_length.is_some()) {
        let min = opt_u64(c.min_length);
        let max = opt_u64(c.max_length);
        checks.push(quote! { errors.length(&p, v, #min, #max); });
    }
    if let Ty::Tuple(items) = ty {
        for (i, (t, pc)) in items.iter().zip(&c.prefix).enumerate() {
            let inner = value_checks(api, t, pc, depth + 1);
            if !inner.is_empty() {
                let at = syn::Index::from(i);
                let i = Literal::usize_unsuffixed(i);
                checks.push(quote! {
                    {
                        let v = &v.#at;
                        let p = ::std::format!("{}[{}]", p, #i);
                        #( #inner )*
                    }
                });
            }
        }
    }
    if let Ty::Array(item) = ty {
        if c.min_items.is_some() || c.max_items.is_some() {
            let min = opt_u64(c.min_items);
            let max = opt_u64(c.max_items);
            checks.push(quote! { errors.items(&p, v.len(), #min, #max); });
        }
        if let Some(ic) = &c.items {
            let inner = value_checks(api, item, ic, depth + 1);
            if !inner.is_empty() {
                checks.push(quote! {
                    for (i, v) in v.iter().enumerate() {
                        let p = ::std::format!("{}[{}]", p, i);
                        #( #inner )*
                    }
                });
            }
        }
    }
    checks
}

/// `*v` as an `f64`, without a cast clippy would call needless.
fn as_f64(ty: &Ty) -> TokenStream {
    match ty {
        Ty::Float(FloatTy::F64) => quote!(*v),
        Ty::Float(FloatTy::F32)
        | Ty::Int(IntTy::I8 | IntTy::I16 | IntTy::I32 | IntTy::U8 | IntTy::U16 | IntTy::U32) => {
            quote!(f64::from(*v))
        }
        _ => quote!(*v as f64),
    }
}

fn operation_types(sc: &Scope, op: &Operation) -> TokenStream {
    let resp = type_ident(&op.response_type);
    let doc = format!(
        " Every answer of [`Client::{}`](super::Client::{}), by status.",
        op.name, op.name
    );
    let variants = op.responses.iter().map(|r| {
        let id = type_ident(&r.variant);
        let status = match r.status {
            StatusMatch::Code(c) => c.to_string(),
            StatusMatch::Range(d) => format!("{d}XX"),
            StatusMatch::Default => "Any other status".into(),
        };
        let text = format!("{status}: {}", r.doc.trim());
        let vdoc = docs::attrs(Some(&text));
        match &r.body {
            ResponseBody::Json(ty) => {
                let ty = sc.ty(ty);
                quote! { #vdoc #id(#ty), }
            }
            ResponseBody::Raw => quote! { #vdoc #id(super::runtime::RawResponse), },
        }
    });
    let undocumented = (!op
        .responses
        .iter()
        .any(|r| r.status == StatusMatch::Default))
    .then(|| {
        quote! {
            /// A status the document does not describe, kept as received.
            Undocumented(super::runtime::RawResponse),
        }
    });
    let params = op.params_type.as_ref().map(|pt| {
        let id = type_ident(pt);
        let fields = op.params.iter().filter(|p| !p.required).map(|p| {
            let name = ident(&p.rust);
            let ty = sc.ty(&p.ty);
            let where_ = match p.location {
                ParamLocation::Query => "Query parameter",
                ParamLocation::Header => "Header",
                ParamLocation::Path => "Path parameter",
                ParamLocation::Cookie => "Cookie",
            };
            let mut text = format!("{where_} `{}`.", p.json);
            if let Some(d) = &p.doc {
                text = format!("{}\n\n{text}", docs::sanitize(d));
            }
            let d = docs::lines(&text);
            let o = sc.option();
            quote! { #d pub #name: #o<#ty>, }
        });
        let doc = format!(
            " Optional parameters of [`Client::{}`](super::Client::{}).",
            op.name, op.name
        );
        quote! {
            #[doc = #doc]
            #[derive(Debug, Clone, Default, PartialEq)]
            pub struct #id { #( #fields )* }
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq)]
        pub enum #resp {
            #( #variants )*
            #undocumented
        }
        #params
    }
}

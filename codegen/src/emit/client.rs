//! The client: one async method per operation on the hand-written `Client`.

use super::docs;
use super::{ident, rust_ty, type_ident};
use crate::ir::*;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

pub fn emit(api: &Api) -> TokenStream {
    let methods = api.operations.iter().map(|op| {
        let cfg = super::cfg_attr(super::operation_gate(api, &op.name));
        let m = method(api, op);
        quote!(#cfg #m)
    });
    quote! {
        #[allow(unused_imports)]
        use super::types;
        /// The API client: one async method per operation. Cheap to clone; clones share the
        /// connection pool.
        ///
        /// Its `Debug` shows `<redacted>` for the API key and the bearer token.
        #[derive(Debug, Clone)]
        pub struct Client(super::runtime::Client);
        /// Builds a [`Client`]: credentials, timeouts, answer limit, or your own `reqwest::Client`.
        pub type ClientBuilder = super::runtime::ClientBuilder<Client>;
        impl ::std::convert::From<super::runtime::Client> for Client {
            fn from(inner: super::runtime::Client) -> Self {
                Client(inner)
            }
        }
        impl Client {
            /// A client for `base_url` with default settings and no credentials.
            pub fn new(base_url: impl ::std::convert::Into<::std::string::String>) -> ::std::result::Result<Self, super::runtime::Error> {
                Self::builder(base_url).build()
            }
            /// A builder for `base_url`, such as `https://api.example.com`.
            pub fn builder(base_url: impl ::std::convert::Into<::std::string::String>) -> ClientBuilder {
                super::runtime::ClientBuilder::new(base_url)
                    .user_agent(concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION")))
            }
            /// The base URL, without a trailing slash.
            pub fn base_url(&self) -> &str {
                self.0.base_url()
            }
            /// The HTTP side, to send a [`Request`](super::Request) built by hand.
            pub fn inner(&self) -> &super::runtime::Client {
                &self.0
            }
            #( #methods )*
        }
    }
}

/// The argument type of a required parameter.
fn arg_ty(ty: &Ty) -> TokenStream {
    match ty {
        Ty::String => quote!(&str),
        Ty::Bool | Ty::Int(_) | Ty::Float(_) => rust_ty(ty),
        other => {
            let t = rust_ty(other);
            quote!(&#t)
        }
    }
}

fn method(api: &Api, op: &Operation) -> TokenStream {
    let name = ident(&op.name);
    let resp = type_ident(&op.response_type);

    // Docs: summary, description, the route, and the answers.
    let mut text = String::new();
    if let Some(s) = &op.summary {
        text.push_str(&docs::sanitize(s));
        text.push_str("\n\n");
    }
    if let Some(d) = &op.description {
        text.push_str(&docs::sanitize(d));
        text.push_str("\n\n");
    }
    text.push_str(&format!("`{} {}`", op.method, op.path.replace('`', "'")));
    let doc = docs::lines(text.trim());

    let required: Vec<&Param> = op.params.iter().filter(|p| p.required).collect();
    let args = required.iter().map(|p| {
        let n = ident(&p.rust);
        let t = arg_ty(&p.ty);
        quote!(#n: #t)
    });
    let body_arg = op.body.as_ref().map(|b| {
        let t = match b.kind {
            BodyKind::Json | BodyKind::Form | BodyKind::Multipart => {
                let t = rust_ty(&b.ty);
                quote!(&#t)
            }
            BodyKind::Bytes => quote!(&[u8]),
            BodyKind::Text => quote!(&str),
        };
        if b.required {
            quote!(body: #t)
        } else {
            quote!(body: ::std::option::Option<#t>)
        }
    });
    let params_arg = op.params_type.as_ref().map(|pt| {
        let t = type_ident(pt);
        quote!(params: &types::#t)
    });
    let all_args = args.chain(body_arg).chain(params_arg);

    let validate = op
        .body
        .as_ref()
        .filter(|b| api.ty_validates(&b.ty))
        .map(|b| {
            if b.required {
                quote! { super::runtime::Validate::validate(body)?; }
            } else {
                quote! {
                    if let ::std::option::Option::Some(body) = body {
                        super::runtime::Validate::validate(body)?;
                    }
                }
            }
        });

    let (path_locals, path) = path_expr(op);
    let method = proc_macro2::Ident::new(&op.method, proc_macro2::Span::call_site());
    let auth = op.auth.iter().map(|a| match a {
        Auth::ApiKeyHeader(h) => quote!(super::runtime::Auth::ApiKeyHeader(#h)),
        Auth::ApiKeyQuery(q) => quote!(super::runtime::Auth::ApiKeyQuery(#q)),
        Auth::Bearer => quote!(super::runtime::Auth::Bearer),
        Auth::Basic => quote!(super::runtime::Auth::Basic),
    });

    let params = op
        .params
        .iter()
        .filter(|p| p.location != ParamLocation::Path)
        .map(|p| {
            let n = ident(&p.rust);
            let json = &p.json;
            let value = if p.required {
                quote!(&#n)
            } else {
                quote!(&params.#n)
            };
            match p.location {
                ParamLocation::Query => quote! { req.query(#json, #value)?; },
                ParamLocation::Cookie => quote! { req.cookie(#json, #value)?; },
                _ => quote! { req.header(#json, #value)?; },
            }
        });
    let body = op.body.as_ref().map(|b| {
        let media = &b.media_type;
        let set = match b.kind {
            BodyKind::Json => quote!(req.json(body)?;),
            BodyKind::Form => quote!(req.form(body)?;),
            BodyKind::Bytes => quote!(req.raw(#media, body.to_vec());),
            BodyKind::Text => quote!(req.raw(#media, body.as_bytes().to_vec());),
            BodyKind::Multipart => multipart(api, b),
        };
        if b.required {
            set
        } else {
            quote! { if let ::std::option::Option::Some(body) = body { #set } }
        }
    });
    let mut_req =
        if op.params.iter().any(|p| p.location != ParamLocation::Path) || op.body.is_some() {
            quote!(mut)
        } else {
            TokenStream::new()
        };

    let arms = op.responses.iter().map(|r| {
        let v = type_ident(&r.variant);
        let pat = match r.status {
            StatusMatch::Code(c) => {
                let c = Literal::u16_unsuffixed(c);
                quote!(#c)
            }
            StatusMatch::Range(d) => {
                let lo = Literal::u16_unsuffixed(d * 100);
                let hi = Literal::u16_unsuffixed(d * 100 + 99);
                quote!(#lo..=#hi)
            }
            StatusMatch::Default => quote!(_),
        };
        let value = match r.body {
            ResponseBody::Json(_) => quote!(response.json()?),
            ResponseBody::Raw => quote!(response),
        };
        quote! { #pat => types::#resp::#v(#value), }
    });
    let fallback = (!op
        .responses
        .iter()
        .any(|r| r.status == StatusMatch::Default))
    .then(|| quote! { _ => types::#resp::Undocumented(response), });
    let deprecated = op.deprecated.then(|| quote!(#[deprecated]));
    let result = match op.responses.as_slice() {
        // No answer documented: every answer is kept as received.
        [] => quote!(types::#resp::Undocumented(response)),
        // Only `default`: no status to tell apart.
        [only] if only.status == StatusMatch::Default => {
            let v = type_ident(&only.variant);
            let value = match only.body {
                ResponseBody::Json(_) => quote!(response.json()?),
                ResponseBody::Raw => quote!(response),
            };
            quote!(types::#resp::#v(#value))
        }
        _ => quote! {
            match response.status {
                #( #arms )*
                #fallback
            }
        },
    };

    quote! {
        #doc
        #deprecated
        pub async fn #name(&self, #( #all_args ),*) -> ::std::result::Result<types::#resp, super::runtime::Error> {
            #validate
            #( #path_locals )*
            let #mut_req req = super::runtime::Request::new(super::runtime::reqwest::Method::#method, #path, &[#( #auth ),*]);
            #( #params )*
            #body
            let response = self.0.send(req).await?;
            ::std::result::Result::Ok(#result)
        }
    }
}

/// The statements that build a multipart body from `body`: a part per field of its struct, files
/// as they are; a body without a struct sends each of its JSON fields as text.
fn multipart(api: &Api, b: &Body) -> TokenStream {
    let fields = match &b.ty {
        Ty::Named(n) => match api.types.get(n).map(|t| &t.kind) {
            Some(TypeKind::Struct(s)) => Some(&s.fields),
            _ => None,
        },
        _ => None,
    };
    let Some(fields) = fields else {
        return quote! {
            let mut form = super::runtime::Multipart::new();
            form.fields(body)?;
            req.multipart(form);
        };
    };
    let parts = fields.iter().map(|f| {
        let n = ident(&f.rust);
        let json = &f.json;
        // The field's value when it is there: `&T` for a required one, `Option<&T>` otherwise.
        let present = match f.presence {
            Presence::Required => None,
            Presence::OptionalNullable => Some(quote!(body.#n.as_option())),
            Presence::Optional | Presence::RequiredNullable => Some(quote!(body.#n.as_ref())),
        };
        match (&f.ty, present) {
            (Ty::File, None) => quote! { form.file(#json, &body.#n); },
            (Ty::File, Some(opt)) => quote! {
                if let ::std::option::Option::Some(file) = #opt {
                    form.file(#json, file);
                }
            },
            (Ty::Array(inner), present) if **inner == Ty::File => {
                let items = match present {
                    None => quote!(body.#n.iter()),
                    Some(opt) => quote!(#opt.into_iter().flatten()),
                };
                quote! { for file in #items { form.file(#json, file); } }
            }
            _ => {
                let ct = match b.part_types.get(&f.json) {
                    Some(ct) => quote!(::std::option::Option::Some(#ct)),
                    None => quote!(::std::option::Option::None),
                };
                quote! { form.text(#json, &body.#n, #ct)?; }
            }
        }
    });
    quote! {
        let mut form = super::runtime::Multipart::new();
        #( #parts )*
        req.multipart(form);
    }
}

/// The path with each `{param}` filled in, percent-encoded: the `let` statements that encode the
/// parameters, and the expression that builds the path from them.
fn path_expr(op: &Operation) -> (Vec<TokenStream>, TokenStream) {
    let mut fmt = String::new();
    let mut locals = Vec::new();
    let mut rest = op.path.as_str();
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        let name = &rest[open + 1..close];
        let param = op
            .params
            .iter()
            .find(|p| p.location == ParamLocation::Path && p.json == name);
        fmt.push_str(&rest[..open].replace('{', "{{").replace('}', "}}"));
        match param {
            Some(p) => {
                let local = format!("p{}", locals.len());
                fmt.push_str(&format!("{{{local}}}"));
                let local = proc_macro2::Ident::new(&local, proc_macro2::Span::call_site());
                let n = ident(&p.rust);
                let json = &p.json;
                locals.push(quote! { let #local = super::runtime::path_param(#json, &#n)?; });
            }
            None => fmt.push_str(&rest[open..=close].replace('{', "{{").replace('}', "}}")),
        }
        rest = &rest[close + 1..];
    }
    fmt.push_str(&rest.replace('{', "{{").replace('}', "}}"));
    if locals.is_empty() {
        let lit = fmt.replace("{{", "{").replace("}}", "}");
        (locals, quote!(::std::string::String::from(#lit)))
    } else {
        (locals, quote!(format!(#fmt)))
    }
}

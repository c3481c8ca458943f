//! `tests/agreement.rs`: the generated request body types read the values the suite's model
//! draws and breaks: a drawn body deserialises and passes `validate()`, a broken one does not.
//! The table is per document; the harness is `runtime::examples::agree`, written once.
//! The values come from outside (`AGREEMENT_CASES`, a JSON file `cargo xtask corpus` writes from
//! `contract_tests::probe::body_cases`), so the crate needs no dependency on the suite.

use super::rust_ty;
use crate::ir::{Api, BodyKind, Ty};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

/// The harness, or `None` when no operation takes a JSON body.
pub fn emit(api: &Api, crate_name: &str) -> Option<TokenStream> {
    let lib = format_ident!("{}", crate_name.replace('-', "_"));
    let rows: Vec<TokenStream> = api
        .operations
        .iter()
        .filter_map(|op| {
            let b = op.body.as_ref().filter(|b| b.kind == BodyKind::Json)?;
            let ty = if b.nullable {
                rust_ty(&Ty::Nullable(Box::new(b.ty.clone())))
            } else {
                rust_ty(&b.ty)
            };
            let name = Literal::string(&op.name);
            let check = if api.ty_validates(&b.ty) {
                quote!(accepts_valid::<#ty>)
            } else {
                quote!(accepts::<#ty>)
            };
            Some(quote!((#name, #check),))
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let count = Literal::usize_unsuffixed(rows.len());
    // Under `--features-by-tag` the table needs every operation: the `full` feature.
    let full = api
        .features
        .is_some()
        .then(|| quote!(#![cfg(feature = "full")]));
    Some(quote! {
        //! Bodies the suite's model drew (valid) and broke (one rule each), read by the generated
        //! types: `AGREEMENT_CASES=cases.json cargo test --test agreement`.
        #full
        #![cfg_attr(rustfmt, rustfmt::skip)]
        #![allow(unused_imports)]

        use #lib::examples::{accepts, accepts_valid, agree, Check};
        use #lib::types;

        /// (client method, what its body type says of a value)
        const BODIES: [(&str, Check); #count] = [
            #(#rows)*
        ];

        #[test]
        fn bodies_agree_with_the_model() {
            agree(&BODIES);
        }
    })
}

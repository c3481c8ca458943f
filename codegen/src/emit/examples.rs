//! `tests/examples.rs`: the document's own examples, each round-tripped through the generated type
//! of its place by `runtime::examples::round_trip` (a form body's by `form_round_trip`).

use super::rust_ty;
use crate::ir::Api;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

/// The harness, or `None` when the document has no example to try.
pub fn emit(api: &Api, crate_name: &str) -> Option<TokenStream> {
    if api.examples.is_empty() {
        return None;
    }
    let lib = format_ident!("{}", crate_name.replace('-', "_"));
    let rows = api.examples.iter().map(|e| {
        let at = Literal::string(&e.pointer);
        let json = Literal::string(&e.json);
        let ty = rust_ty(&e.ty);
        if e.form {
            quote!((#at, #json, form_round_trip::<#ty>),)
        } else {
            quote!((#at, #json, round_trip::<#ty>),)
        }
    });
    let count = Literal::usize_unsuffixed(api.examples.len());
    // Under `--features-by-tag` the table needs every operation's types: the `full` feature.
    let full = api
        .features
        .is_some()
        .then(|| quote!(#![cfg(feature = "full")]));
    Some(quote! {
        //! The document's own examples, each deserialised into the generated type of its place,
        //! serialised back and compared (`cargo test --features serialize --test examples`).
        #![cfg(feature = "serialize")]
        #full
        #![cfg_attr(rustfmt, rustfmt::skip)]
        #![allow(clippy::type_complexity, unused_imports)]

        use #lib::examples::{form_round_trip, round_trip};
        use #lib::types;

        /// (JSON pointer of the example, the example, its round-trip)
        const EXAMPLES: [(&str, &str, fn(&str) -> ::std::result::Result<(), ::std::string::String>); #count] = [
            #(#rows)*
        ];

        #[test]
        fn examples_round_trip() {
            let mut failed = 0;
            for (at, json, check) in EXAMPLES {
                match check(json) {
                    Ok(()) => println!("example ok {at}"),
                    Err(why) => {
                        failed += 1;
                        println!("example failed {at}: {why}");
                    }
                }
            }
            assert_eq!(failed, 0, "{failed} of {} examples do not round-trip", EXAMPLES.len());
        }
    })
}

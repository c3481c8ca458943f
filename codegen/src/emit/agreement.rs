//! `tests/agreement.rs`: the generated request body types read the values the suite's model
//! draws and breaks: a drawn body deserialises and passes `validate()`, a broken one does not.
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
    Some(quote! {
        //! Bodies the suite's model drew (valid) and broke (one rule each), read by the generated
        //! types: `AGREEMENT_CASES=cases.json cargo test --test agreement`.
        #![cfg_attr(rustfmt, rustfmt::skip)]
        #![allow(clippy::type_complexity, unused_imports)]

        use #lib::examples::{accepts, accepts_valid};
        use #lib::types;

        /// (client method, what its body type says of a value)
        const BODIES: [(&str, fn(&::serde_json::Value) -> ::std::result::Result<(), ::std::string::String>); #count] = [
            #(#rows)*
        ];

        #[test]
        fn bodies_agree_with_the_model() {
            let Ok(path) = ::std::env::var("AGREEMENT_CASES") else {
                println!("notice: AGREEMENT_CASES is not set; nothing to check");
                return;
            };
            let text = ::std::fs::read_to_string(&path).expect("AGREEMENT_CASES names a readable file");
            let cases: ::std::vec::Vec<::serde_json::Value> = ::serde_json::from_str(&text).expect("a JSON list");
            let mut disagree = 0;
            let mut judged = 0;
            for c in &cases {
                let op = c["operation"].as_str().unwrap_or("");
                let Some((_, check)) = BODIES.iter().find(|(n, _)| *n == op) else { continue };
                judged += 1;
                let valid = c["valid"] == ::serde_json::Value::Bool(true);
                match (valid, check(&c["body"])) {
                    (true, Err(why)) => {
                        disagree += 1;
                        println!("agreement wrong {op}: a drawn body is refused ({why}): {}", c["body"]);
                    }
                    (false, Ok(())) => {
                        disagree += 1;
                        println!("agreement wrong {op}: a body breaking `{}` at {} is accepted: {}", c["rule"], c["field"], c["body"]);
                    }
                    _ => {}
                }
            }
            println!("agreement judged {judged}");
            assert_eq!(disagree, 0, "{disagree} of {judged} bodies disagree with the model");
        }
    })
}

//! `generate_api!`: the client of an OpenAPI 3.0/3.1 or Swagger 2.0 document, expanded where the macro is called.
//!
//! ```ignore
//! // Cargo.toml: openapi-rs-macros, openapi-runtime, serde (feature "derive"), serde_json
//! openapi_rs_macros::generate_api!("openapi.yaml");
//!
//! async fn demo() -> Result<(), Error> {
//!     let client = Client::builder("https://api.example.com").api_key("...").build()?;
//!     Ok(())
//! }
//! ```
//!
//! The path is relative to the calling crate's manifest folder. The expansion is what a generated
//! crate's `lib.rs` holds, inline: the `types` module, `Client` and `ClientBuilder`, and the
//! runtime's re-exports (`Patch`, `Error`, ...). Everything else it needs it reaches through
//! `openapi_runtime`. A selection narrows it:
//!
//! ```ignore
//! openapi_rs_macros::generate_api!(
//!     "openapi.yaml",
//!     operations = ["update_cvm"],
//!     tags = [],
//!     exclude_operations = [],
//! );
//! ```
//!
//! A document the generator cannot handle is a compile error that names the JSON pointer of the
//! offending node. `openapi-rs generate` prints the warnings of constructs it degrades, which a
//! macro cannot.

use proc_macro::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{bracketed, Ident, LitStr, Token};

struct Input {
    spec: LitStr,
    selection: codegen::ir::Selection,
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let spec: LitStr = input.parse()?;
        let mut selection = codegen::ir::Selection::default();
        while input.parse::<Token![,]>().is_ok() {
            if input.is_empty() {
                break;
            }
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let content;
            bracketed!(content in input);
            let values: Vec<String> = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?
                .iter()
                .map(LitStr::value)
                .collect();
            match key.to_string().as_str() {
                "operations" => selection.operations.extend(values),
                "tags" => selection.tags.extend(values),
                "exclude_operations" => selection.exclude.extend(values),
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown option `{other}`; the options are operations, tags and exclude_operations"),
                    ))
                }
            }
        }
        Ok(Input { spec, selection })
    }
}

/// Expands to the client of the document at the given path (see the crate docs).
#[proc_macro]
pub fn generate_api(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as Input);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(message) => syn::Error::new(input.spec.span(), message)
            .to_compile_error()
            .into(),
    }
}

fn expand(input: &Input) -> Result<proc_macro2::TokenStream, String> {
    let base = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_default();
    let path = base.join(input.spec.value());
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let opts = codegen::Options {
        selection: input.selection.clone(),
        ..Default::default()
    };
    let module = codegen::generate_module(&text, &opts).map_err(|e| e.to_string())?;
    let tokens = module.tokens;
    let tracked = path.display().to_string();
    // The document as an input of the build: cargo compiles the caller again when it changes.
    Ok(quote! {
        const _: &[u8] = include_bytes!(#tracked);
        #tokens
    })
}

//! Emitters: IR -> tokens -> `syn::File` -> prettyplease -> files of a crate.

pub mod client;
pub mod docs;
pub mod meta;
pub mod strategies;
pub mod types;

use crate::diag::Error;
use crate::ir::*;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, ToTokens};
use std::collections::BTreeMap;

/// The runtime crate's source (`runtime/src/lib.rs`), written by hand once; copied into a
/// generated crate as `src/runtime.rs` with [`Runtime::Include`].
pub const RUNTIME: &str = include_str!("../../../runtime/src/lib.rs");

/// The runtime crate's package name.
pub const RUNTIME_CRATE: &str = "openapi-runtime";

/// The runtime crate's version, which generated crates pin (`=x.y.z`).
pub const RUNTIME_VERSION: &str = "0.1.0";

/// How a generated crate gets its runtime (`Patch`, `Client`, `Error`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runtime {
    /// A dependency on the runtime crate, its version pinned; from `path` when given (relative to
    /// the generated crate), else from the registry.
    Crate {
        /// Where the runtime crate is, relative to the generated crate's folder.
        path: Option<String>,
    },
    /// A copy of the runtime in the crate itself (`src/runtime.rs`), for a crate with no
    /// dependency on this repository.
    Include,
}

/// The marker that tells generated files from hand-written ones in an output folder.
pub const MARKER: &str = "@generated";

/// What to emit.
#[derive(Debug, Clone)]
pub struct Options {
    /// Cargo package name of the generated crate.
    pub crate_name: String,
    /// Its version.
    pub crate_version: String,
    /// The spec's file name, for the preamble (a name, not a path, so output does not depend on
    /// where the repository is checked out).
    pub spec_name: String,
    /// The command that regenerates the crate, for the preamble.
    pub command: String,
    /// Add an empty `[workspace]` table so the crate builds on its own, outside any workspace.
    pub standalone: bool,
    /// Where the runtime comes from.
    pub runtime: Runtime,
    /// Emit every component schema, not only those the operations reach.
    pub all_schemas: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            crate_name: "api-client".into(),
            crate_version: "0.1.0".into(),
            spec_name: "openapi.json".into(),
            command: "cargo xtask regenerate".into(),
            standalone: false,
            runtime: Runtime::Crate { path: None },
            all_schemas: false,
        }
    }
}

/// An identifier for a field, method or parameter; keywords become raw identifiers.
pub fn ident(name: &str) -> Ident {
    if crate::names::is_keyword(name) {
        Ident::new_raw(name, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// An identifier for a type or variant (names module guarantees it is not a keyword).
pub fn type_ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// How a module of the generated crate writes types: short names where nothing shadows them.
///
/// In `types.rs` the schemas' own types are written bare (`GpuConfig`) and the standard ones
/// short (`Option`, `String`, `Vec`, `Box`, `BTreeMap`, `Patch`) unless a schema of that name
/// shadows them, in which case they are written in full. Elsewhere schema types are
/// `types::GpuConfig` and nothing is shadowed.
#[derive(Debug, Clone)]
pub struct Scope {
    in_types: bool,
    shadowed: std::collections::BTreeSet<&'static str>,
}

const SHORT: [&str; 7] = [
    "Option", "String", "Vec", "Box", "BTreeMap", "Patch", "Value",
];

impl Scope {
    /// The scope of `types.rs`.
    pub fn types(api: &Api) -> Self {
        Scope {
            in_types: true,
            shadowed: SHORT
                .into_iter()
                .filter(|n| api.types.contains_key(*n))
                .collect(),
        }
    }

    /// The scope of the other generated modules (which `use crate::types;`).
    pub fn outside() -> Self {
        Scope {
            in_types: false,
            shadowed: Default::default(),
        }
    }

    fn free(&self, name: &str) -> bool {
        !self.shadowed.contains(name)
    }

    /// `use` lines a module needs for the short names (allowed to go unused).
    pub fn imports(&self) -> TokenStream {
        let map = self.free("BTreeMap").then(|| {
            quote!(
                use std::collections::BTreeMap;
            )
        });
        let patch = (self.in_types && self.free("Patch")).then(|| {
            quote!(
                use crate::runtime::Patch;
            )
        });
        quote! {
            #[allow(unused_imports)]
            #map
            #[allow(unused_imports)]
            #patch
        }
    }

    pub fn option(&self) -> TokenStream {
        if self.free("Option") {
            quote!(Option)
        } else {
            quote!(::std::option::Option)
        }
    }

    pub fn string(&self) -> TokenStream {
        if self.free("String") {
            quote!(String)
        } else {
            quote!(::std::string::String)
        }
    }

    pub fn vec(&self) -> TokenStream {
        if self.free("Vec") {
            quote!(Vec)
        } else {
            quote!(::std::vec::Vec)
        }
    }

    pub fn boxed(&self) -> TokenStream {
        if self.free("Box") {
            quote!(Box)
        } else {
            quote!(::std::boxed::Box)
        }
    }

    pub fn map(&self) -> TokenStream {
        if !self.in_types {
            quote!(std::collections::BTreeMap)
        } else if self.free("BTreeMap") {
            quote!(BTreeMap)
        } else {
            quote!(::std::collections::BTreeMap)
        }
    }

    pub fn patch(&self) -> TokenStream {
        if self.in_types && self.free("Patch") {
            quote!(Patch)
        } else {
            quote!(crate::runtime::Patch)
        }
    }

    pub fn value(&self) -> TokenStream {
        quote!(serde_json::Value)
    }

    /// The path serde calls to skip an absent `Option`.
    pub fn option_is_none(&self) -> &'static str {
        if self.free("Option") {
            "Option::is_none"
        } else {
            "::std::option::Option::is_none"
        }
    }

    /// The path serde calls to skip an absent `Patch`.
    pub fn patch_is_absent(&self) -> &'static str {
        if self.in_types && self.free("Patch") {
            "Patch::is_absent"
        } else {
            "crate::runtime::Patch::is_absent"
        }
    }

    /// A type of the table.
    pub fn named(&self, n: &str) -> TokenStream {
        let id = type_ident(n);
        if self.in_types {
            quote!(#id)
        } else {
            quote!(types::#id)
        }
    }

    /// The Rust type for an IR type.
    pub fn ty(&self, ty: &Ty) -> TokenStream {
        match ty {
            Ty::Bool => quote!(bool),
            Ty::Int(i) => match i {
                IntTy::I8 => quote!(i8),
                IntTy::I16 => quote!(i16),
                IntTy::I32 => quote!(i32),
                IntTy::I64 => quote!(i64),
                IntTy::U8 => quote!(u8),
                IntTy::U16 => quote!(u16),
                IntTy::U32 => quote!(u32),
                IntTy::U64 => quote!(u64),
            },
            Ty::Float(FloatTy::F32) => quote!(f32),
            Ty::Float(FloatTy::F64) => quote!(f64),
            Ty::String => self.string(),
            Ty::Array(t) => {
                let (v, t) = (self.vec(), self.ty(t));
                quote!(#v<#t>)
            }
            Ty::Map(t) => {
                let (m, s, t) = (self.map(), self.string(), self.ty(t));
                quote!(#m<#s, #t>)
            }
            Ty::Named(n) => self.named(n),
            Ty::Any => self.value(),
            Ty::File => quote!(crate::runtime::FilePart),
            Ty::Nullable(t) => {
                let (o, t) = (self.option(), self.ty(t));
                quote!(#o<#t>)
            }
        }
    }
}

/// A float literal, in exponent form when its plain form would be long (`1e300`, not 301 digits).
pub fn f64_lit(v: f64) -> TokenStream {
    if v.is_finite() && v != 0.0 && !(1e-6..1e16).contains(&v.abs()) {
        let text = format!("{v:e}");
        let text = if text.contains('.') || text.contains('e') {
            text
        } else {
            format!("{text}.0")
        };
        text.parse()
            .unwrap_or_else(|_| proc_macro2::Literal::f64_unsuffixed(v).into_token_stream())
    } else {
        proc_macro2::Literal::f64_unsuffixed(v).into_token_stream()
    }
}

/// `Some(n)` or `None` as a literal expression.
pub fn opt_u64(v: Option<u64>) -> TokenStream {
    match v {
        Some(n) => {
            let lit = proc_macro2::Literal::u64_unsuffixed(n);
            quote!(::std::option::Option::Some(#lit))
        }
        None => quote!(::std::option::Option::None),
    }
}

/// A type as written outside `types.rs` (see [`Scope::outside`]).
pub fn rust_ty(ty: &Ty) -> TokenStream {
    Scope::outside().ty(ty)
}

/// Formats a token stream as Rust, without a preamble.
pub fn format_fragment(tokens: TokenStream, what: &str) -> Result<String, Error> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| {
        Error::new(
            "",
            format!("internal error: emitted {what} does not parse: {e}; please report it"),
        )
    })?;
    Ok(prettyplease::unparse(&file))
}

/// Runs `jobs` on every core and returns their results in order.
fn run_parallel(
    jobs: Vec<&(dyn Fn() -> Result<String, Error> + Sync)>,
) -> Result<Vec<String>, Error> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<String, Error>>>> =
        jobs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let out = job();
                *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(out);
            });
        }
    });
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| {
                    Err(Error::new(
                        "",
                        "internal error: a formatting job did not run",
                    ))
                })
        })
        .collect()
}

/// Formats a token stream as a Rust file with the preamble.
pub fn format_file(tokens: TokenStream, preamble: &str, what: &str) -> Result<String, Error> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| {
        Error::new(
            "",
            format!("internal error: emitted {what} does not parse: {e}; please report it"),
        )
    })?;
    Ok(format!("{preamble}\n{}", prettyplease::unparse(&file)))
}

fn preamble(opts: &Options, comment: &str) -> String {
    format!(
        "{comment} {MARKER} by `{}` from {}.\n{comment} Do not edit: change the spec and regenerate.\n",
        opts.command, opts.spec_name
    )
}

/// Every file of the generated crate, by path relative to the crate root.
pub fn emit_crate(api: &Api, opts: &Options) -> Result<BTreeMap<String, String>, Error> {
    let rs_pre = preamble(opts, "//");
    let mut files = BTreeMap::new();

    let runtime_mod = match opts.runtime {
        Runtime::Include => quote! {
            #[rustfmt::skip]
            mod runtime;
        },
        Runtime::Crate { .. } => quote! {
            use openapi_runtime as runtime;
        },
    };
    let lib = quote! {
        #![doc = include_str!("../README.md")]
        #![cfg_attr(rustfmt, rustfmt::skip)]
        #![forbid(unsafe_code)]
        #![warn(missing_docs)]

        #runtime_mod
        /// Request and response types, one per schema of the document, and per operation an
        /// enum of its answers.
        #[rustfmt::skip]
        #[allow(clippy::large_enum_variant, clippy::too_many_arguments)]
        pub mod types;
        #[rustfmt::skip]
        #[allow(clippy::too_many_arguments)]
        mod client;
        /// Proptest strategies of valid values (feature `proptest`).
        #[cfg(feature = "proptest")]
        #[rustfmt::skip]
        pub mod strategies;
        /// Each object's and operation's constraints as JSON data, for contract tests (feature
        /// `proptest`).
        #[cfg(feature = "proptest")]
        pub const SCHEMA_JSON: &str = include_str!("schema.json");

        pub use client::{Client, ClientBuilder};
        pub use runtime::{
            encode_component, field_path, path_param, Auth, Error, FilePart, Multipart, Patch,
            RawResponse, Redacted, Request, Validate, ValidationErrors, Violation,
        };
        #[cfg(feature = "proptest")]
        pub use runtime::strategy;
    };
    files.insert("src/lib.rs".into(), format_file(lib, &rs_pre, "lib.rs")?);

    // The large files are built and formatted in parts, on every core; the parts are fixed by the
    // document, not by the number of cores, so the output is the same everywhere.
    type Job<'a> = Box<dyn Fn() -> Result<String, Error> + Sync + 'a>;
    let marker = format!(
        "{MARKER} by `{}` from {}. Do not edit: change the spec and regenerate.",
        opts.command, opts.spec_name
    );
    let mut jobs: Vec<(&str, Job<'_>)> = Vec::new();
    // schema.json first: one long job, best started early.
    jobs.push(("src/schema.json", Box::new(|| Ok(meta::emit(api, &marker)))));
    jobs.push((
        "src/types.rs",
        Box::new(|| format_fragment(types::header(api), "types.rs")),
    ));
    for i in 0..types::parts(api) {
        jobs.push((
            "src/types.rs",
            Box::new(move || format_fragment(types::emit_part(api, i), "types.rs")),
        ));
    }
    jobs.push((
        "src/client.rs",
        Box::new(|| format_fragment(client::emit(api), "client.rs")),
    ));
    jobs.push((
        "src/strategies.rs",
        Box::new(|| format_fragment(strategies::emit(api), "strategies.rs")),
    ));
    let texts = run_parallel(jobs.iter().map(|(_, j)| j.as_ref()).collect())?;
    for ((path, _), text) in jobs.iter().zip(texts) {
        if path.ends_with(".rs") {
            files
                .entry(path.to_string())
                .or_insert_with(|| rs_pre.clone() + "\n")
                .push_str(&text);
        } else {
            files.insert(path.to_string(), text);
        }
    }
    if opts.runtime == Runtime::Include {
        files.insert(
            "src/runtime.rs".into(),
            format!("{}\n{RUNTIME}", preamble(opts, "//")),
        );
    }
    files.insert("Cargo.toml".into(), cargo_toml(opts));
    files.insert("README.md".into(), readme(api, opts));
    Ok(files)
}

fn cargo_toml(opts: &Options) -> String {
    let workspace = if opts.standalone {
        "\n[workspace]\n"
    } else {
        ""
    };
    let (runtime_dep, runtime_feature) = match &opts.runtime {
        Runtime::Include => (String::new(), ""),
        Runtime::Crate { path } => {
            let path = path
                .as_ref()
                .map(|p| format!(", path = \"{}\"", p.replace('\\', "/")))
                .unwrap_or_default();
            (
                format!("{RUNTIME_CRATE} = {{ version = \"={RUNTIME_VERSION}\"{path} }}\n"),
                ", \"openapi-runtime/proptest\"",
            )
        }
    };
    format!(
        r#"# {MARKER} by `{command}` from {spec}. Do not edit: change the spec and regenerate.
[package]
name = "{name}"
version = "{version}"
edition = "2021"
rust-version = "1.80"
description = "Typed async client for the API described by {spec}"
publish = false

[features]
default = []
## proptest strategies for every schema, for contract and property tests.
proptest = ["dep:proptest"{runtime_feature}]
## `Serialize` also for the types only answers carry (left out by default: it costs compile time).
serialize = []

[dependencies]
{runtime_dep}reqwest = {{ version = "0.12", default-features = false, features = ["json", "multipart", "rustls-tls"] }}
bytes = "1"
serde = {{ version = "1", features = ["derive"] }}
serde_json = "1"
proptest = {{ version = "1", optional = true }}

[dev-dependencies]
tokio = {{ version = "1", features = ["rt-multi-thread", "macros", "net", "io-util", "time"] }}
{workspace}"#,
        command = opts.command,
        spec = opts.spec_name,
        name = opts.crate_name,
        version = opts.crate_version,
    )
}

fn readme(api: &Api, opts: &Options) -> String {
    let lib = opts.crate_name.replace('-', "_");
    let mut s = format!(
        "<!-- {MARKER} by `{}` from {}. Do not edit: change the spec and regenerate. -->\n# {}\n\n",
        opts.command, opts.spec_name, opts.crate_name
    );
    s.push_str(&format!(
        "Typed async client for **{}** (version {}), generated from `{}`.\n\n",
        docs::sanitize(&api.title),
        docs::sanitize(&api.version),
        opts.spec_name
    ));
    if let Some(d) = &api.description {
        s.push_str(&docs::sanitize(d));
        s.push_str("\n\n");
    }
    s.push_str(&format!(
        "```no_run\n# async fn demo() -> Result<(), {lib}::Error> {{\nlet client = {lib}::Client::builder(\"https://api.example.com\")\n    .api_key(\"...\")\n    .build()?;\n# let _ = client;\n# Ok(())\n# }}\n```\n\n"
    ));
    s.push_str("Each operation is an async method of `Client` that returns an enum with one variant per documented status, and `Undocumented` for any other answer.\n\n");
    s.push_str("| method | route | answers |\n|---|---|---|\n");
    for op in &api.operations {
        let answers: Vec<String> = op
            .responses
            .iter()
            .map(|r| match r.status {
                StatusMatch::Code(c) => c.to_string(),
                StatusMatch::Range(d) => format!("{d}XX"),
                StatusMatch::Default => "default".into(),
            })
            .collect();
        s.push_str(&format!(
            "| `{}` | `{} {}` | {} |\n",
            op.name,
            op.method,
            op.path.replace('|', "\\|"),
            answers.join(", ")
        ));
    }
    s
}

//! OpenAPI 3.0/3.1 to Rust: typed request/response types and an async reqwest client.
//!
//! The pipeline runs one way, one stage a module:
//! text -> [`load`](crate::load_api) (JSON or YAML, 3.1 lowered onto openapiv3's 3.0 model) ->
//! [`ir`] (types and operations, every Rust name decided) -> emitters -> prettyplease -> files.
//!
//! ```no_run
//! let text = std::fs::read_to_string("spec/phala-cloud.yaml").unwrap();
//! let out = openapi_rs_codegen::generate(&text, &openapi_rs_codegen::Options::default()).unwrap();
//! for (path, contents) in &out.files {
//!     println!("{path}: {} bytes", contents.len());
//! }
//! ```

mod build;
pub mod conform;
mod diag;
pub mod emit;
mod examples;
pub mod graph;
pub mod ir;
mod load;
mod lower;
mod merge;
mod script;
pub mod write;
pub use script::BuildScript;
pub mod names;
pub mod tags;

pub use diag::{Diagnostic, Error};
pub use emit::{is_generated_text, Options, Runtime, MARKER};
pub use examples::{ExampleOutcome, ExampleStatus};
use std::collections::BTreeMap;

/// The result of a generation.
#[derive(Debug, Clone)]
pub struct Output {
    /// Files of the generated crate, by path relative to its root.
    pub files: BTreeMap<String, String>,
    /// Constructs degraded or skipped, each once, sorted by pointer.
    pub diagnostics: Vec<Diagnostic>,
    /// Operations the client has a method for.
    pub operations: usize,
    /// Every example of the document and what became of it (with [`Options::examples`]).
    pub examples: Vec<ExampleOutcome>,
}

/// Loads a document (JSON or YAML, OpenAPI 3.0.x or 3.1.x) into the IR.
pub fn load_api(text: &str) -> Result<(ir::Api, Vec<Diagnostic>), Error> {
    let mut diags = diag::Diagnostics::default();
    let spec = load::load(text, &mut diags)?;
    let api = build::build(&spec, &mut diags, false)?;
    Ok((api, diags.into_vec()))
}

/// Parses a document (JSON or YAML) as written, without lowering: what tools that read the
/// document's own keywords (extensions, examples) work on.
pub fn parse_document(text: &str) -> Result<serde_json::Value, Error> {
    load::parse_text(text)
}

/// Generates a crate from a document.
pub fn generate(text: &str, opts: &Options) -> Result<Output, Error> {
    generate_timed(text, opts).map(|(out, _)| out)
}

/// A client generated as one module body (see [`generate_module`]).
#[derive(Debug, Clone)]
pub struct Module {
    /// The items, as tokens (what the `generate_api!` macro expands to).
    pub tokens: proc_macro2::TokenStream,
    /// Constructs degraded or skipped, each once, sorted by pointer.
    pub diagnostics: Vec<Diagnostic>,
    /// Operations the client has a method for.
    pub operations: usize,
}

impl Module {
    /// The items as formatted Rust source, for a file that a crate `include!`s.
    pub fn to_source(&self) -> Result<String, Error> {
        emit::format_fragment(self.tokens.clone(), "the module")
    }
}

/// Generates the client as one module body instead of a crate: the types, the client and the
/// re-exports a generated crate's `lib.rs` holds, with every type serialisable and no proptest
/// strategies (they need the caller's features). Only `opts.selection` and `opts.all_schemas`
/// apply. It needs `openapi-runtime`, `serde` (with `derive`) and `serde_json` beside it.
pub fn generate_module(text: &str, opts: &Options) -> Result<Module, Error> {
    let mut diags = diag::Diagnostics::default();
    let spec = load::load(text, &mut diags)?;
    let mut api = build::build(&spec, &mut diags, false)?;
    api.narrow(&opts.selection, opts.all_schemas)?;
    for t in api.types.values_mut() {
        t.serialize = true;
    }
    Ok(Module {
        tokens: emit::emit_module(&api),
        diagnostics: diags.into_vec(),
        operations: api.operations.len(),
    })
}

/// Time spent in each stage of one generation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// Text to JSON value.
    pub parse: std::time::Duration,
    /// 3.1 lowered onto the 3.0 shape.
    pub lower: std::time::Duration,
    /// JSON value to openapiv3's model.
    pub model: std::time::Duration,
    /// Model to IR (names, types, operations).
    pub ir: std::time::Duration,
    /// IR to formatted files.
    pub emit: std::time::Duration,
}

impl Timings {
    /// The whole generation.
    pub fn total(&self) -> std::time::Duration {
        self.parse + self.lower + self.model + self.ir + self.emit
    }
}

/// [`generate`], timing each stage.
pub fn generate_timed(text: &str, opts: &Options) -> Result<(Output, Timings), Error> {
    use std::time::Instant;
    let mut t = Timings::default();
    let mut diags = diag::Diagnostics::default();
    let at = Instant::now();
    let mut value = load::parse_text(text)?;
    let raw = opts.examples.then(|| value.clone());
    t.parse = at.elapsed();
    let at = Instant::now();
    lower::lower_document(&mut value, &mut diags);
    t.lower = at.elapsed();
    let at = Instant::now();
    let spec = load::from_value(value)?;
    t.model = at.elapsed();
    let at = Instant::now();
    let mut api = build::build(&spec, &mut diags, opts.examples)?;
    let mut examples = Vec::new();
    if let Some(raw) = &raw {
        let (outcomes, cases) = examples::collect(raw, &api);
        examples = outcomes;
        api.examples = cases;
    }
    api.narrow(&opts.selection, opts.all_schemas)?;
    api.mark_serialize();
    if opts.features_by_tag {
        api.features = Some(tags::TagFeatures::of(&api));
    }
    t.ir = at.elapsed();
    let at = Instant::now();
    let files = emit::emit_crate(&api, opts)?;
    t.emit = at.elapsed();
    Ok((
        Output {
            files,
            diagnostics: diags.into_vec(),
            operations: api.operations.len(),
            examples,
        },
        t,
    ))
}

//! OpenAPI 3.0/3.1 and Swagger 2.0 to Rust: typed request/response types and an async reqwest client.
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
mod swagger2;
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

/// Where the nodes of a document read (a Swagger 2.0 one converted) are in the document as
/// written: every error, warning and example the later stages name is named there. The map is
/// written down only when something is to be named (a second conversion of the text).
struct Origin<'t> {
    text: &'t str,
    converted: bool,
    map: std::cell::OnceCell<swagger2::PointerMap>,
    /// The conversion's own warnings, already named there.
    early: diag::Diagnostics,
}

impl<'t> Origin<'t> {
    fn new(text: &'t str, read: &load::Read, early: diag::Diagnostics) -> Self {
        Origin {
            text,
            converted: read.converted,
            map: std::cell::OnceCell::new(),
            early,
        }
    }

    /// The pointer of the document as written that `p` stands for.
    fn original(&self, p: &str) -> String {
        if !self.converted {
            return p.to_string();
        }
        self.map
            .get_or_init(|| {
                let mut ignored = diag::Diagnostics::default();
                load::read(self.text, &mut ignored, true)
                    .map(|r| r.map)
                    .unwrap_or_default()
            })
            .original(p)
    }

    fn error(&self, mut e: Error) -> Error {
        e.pointer = self.original(&e.pointer);
        e
    }

    fn diagnostics(self, later: diag::Diagnostics) -> Vec<Diagnostic> {
        let mut all = diag::Diagnostics::default();
        for d in later.into_vec() {
            all.warn(self.original(&d.pointer), d.message);
        }
        for d in self.early.into_vec() {
            all.warn(d.pointer, d.message);
        }
        all.into_vec()
    }
}

/// Reads `text` (JSON or YAML; OpenAPI 3.0, 3.1 or Swagger 2.0) into openapiv3's model.
fn read<'t>(
    text: &'t str,
    diags: &mut diag::Diagnostics,
) -> Result<(openapiv3::OpenAPI, Origin<'t>), Error> {
    let mut early = diag::Diagnostics::default();
    let read = load::read(text, &mut early, false)?;
    let origin = Origin::new(text, &read, early);
    let spec = load::load(read, diags).map_err(|e| origin.error(e))?;
    Ok((spec, origin))
}

/// Loads a document (JSON or YAML, OpenAPI 3.0.x or 3.1.x, or Swagger 2.0) into the IR.
pub fn load_api(text: &str) -> Result<(ir::Api, Vec<Diagnostic>), Error> {
    let mut diags = diag::Diagnostics::default();
    let (spec, origin) = read(text, &mut diags)?;
    let api = build::build(&spec, &mut diags, false).map_err(|e| origin.error(e))?;
    Ok((api, origin.diagnostics(diags)))
}

/// Parses a document (JSON or YAML) without lowering: what tools that read the document's own
/// keywords (extensions, examples, links) work on. A Swagger 2.0 document comes converted to the
/// 3.0 shape, its extensions and examples kept.
pub fn parse_document(text: &str) -> Result<serde_json::Value, Error> {
    let mut early = diag::Diagnostics::default();
    load::read(text, &mut early, false).map(|r| r.value)
}

/// The pointer of the document as written that a pointer of the document [`parse_document`]
/// gives stands for (itself, but for a Swagger 2.0 document).
pub fn original_pointer(text: &str, pointer: &str) -> Result<String, Error> {
    let mut early = diag::Diagnostics::default();
    load::read(text, &mut early, true).map(|r| r.map.original(pointer))
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
    let (spec, origin) = read(text, &mut diags)?;
    let mut api = build::build(&spec, &mut diags, false).map_err(|e| origin.error(e))?;
    api.narrow(&opts.selection, opts.all_schemas)
        .map_err(|e| origin.error(e))?;
    for t in api.types.values_mut() {
        t.serialize = true;
    }
    Ok(Module {
        tokens: emit::emit_module(&api),
        operations: api.operations.len(),
        diagnostics: origin.diagnostics(diags),
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
    let mut early = diag::Diagnostics::default();
    let read = load::read(text, &mut early, false)?;
    let origin = Origin::new(text, &read, early);
    let mut value = read.value;
    let raw = opts.examples.then(|| value.clone());
    t.parse = at.elapsed();
    let at = Instant::now();
    lower::lower_document(&mut value, &mut diags);
    t.lower = at.elapsed();
    let at = Instant::now();
    let spec = load::from_value(value).map_err(|e| origin.error(e))?;
    t.model = at.elapsed();
    let at = Instant::now();
    let mut api = build::build(&spec, &mut diags, opts.examples).map_err(|e| origin.error(e))?;
    let mut examples = Vec::new();
    if let Some(raw) = &raw {
        let (mut outcomes, mut cases) = examples::collect(raw, &api);
        for o in &mut outcomes {
            o.pointer = origin.original(&o.pointer);
        }
        for c in &mut cases {
            c.pointer = origin.original(&c.pointer);
        }
        examples = outcomes;
        api.examples = cases;
    }
    api.narrow(&opts.selection, opts.all_schemas)
        .map_err(|e| origin.error(e))?;
    api.mark_serialize();
    if opts.features_by_tag {
        api.features = Some(tags::TagFeatures::of(&api));
    }
    t.ir = at.elapsed();
    let at = Instant::now();
    let files = emit::emit_crate(&api, opts).map_err(|e| origin.error(e))?;
    t.emit = at.elapsed();
    Ok((
        Output {
            files,
            diagnostics: origin.diagnostics(diags),
            operations: api.operations.len(),
            examples,
        },
        t,
    ))
}

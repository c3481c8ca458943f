//! Generation from a crate's build script: the client written into `OUT_DIR` as one file, which
//! the crate `include!`s.

use crate::diag::Error;
use crate::ir::Selection;
use std::path::{Path, PathBuf};

/// Generates a client from a build script.
///
/// In `build.rs`, with `openapi-rs-codegen` as a build-dependency, `main` calls:
///
/// ```no_run
/// openapi_rs_codegen::BuildScript::new("openapi.yaml")
///     .operation("update_cvm")
///     .write()
///     .unwrap_or_else(|e| panic!("{e}"));
/// ```
///
/// ```ignore
/// // src/lib.rs (with openapi-runtime, serde (feature `derive`) and serde_json as dependencies)
/// include!(concat!(env!("OUT_DIR"), "/openapi.rs"));
///
/// # async fn demo() -> Result<(), Error> {
/// let client = Client::builder("https://api.example.com").api_key("...").build()?;
/// # Ok(()) }
/// ```
///
/// The file holds what a generated crate's `lib.rs` holds, inline: `types`, `Client`,
/// `ClientBuilder` and the runtime's re-exports (see [`crate::generate_module`]). Cargo is told to
/// run the script again when the document changes, and each construct the generator degraded is
/// a `cargo:warning`.
#[derive(Debug, Clone)]
pub struct BuildScript {
    spec: PathBuf,
    file_name: String,
    selection: Selection,
    all_schemas: bool,
    deny_warnings: bool,
}

impl BuildScript {
    /// The document, relative to the crate's manifest folder (or absolute).
    pub fn new(spec: impl AsRef<Path>) -> Self {
        BuildScript {
            spec: spec.as_ref().to_path_buf(),
            file_name: "openapi.rs".into(),
            selection: Selection::default(),
            all_schemas: false,
            deny_warnings: false,
        }
    }

    /// The name of the file written in `OUT_DIR` (default `openapi.rs`), for a crate with two
    /// clients.
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = name.into();
        self
    }

    /// Generate this operation (operationId or client method name); may be given again.
    pub fn operation(mut self, id: impl Into<String>) -> Self {
        self.selection.operations.push(id.into());
        self
    }

    /// Generate the operations of this tag; may be given again.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.selection.tags.push(tag.into());
        self
    }

    /// Leave this operation out; may be given again.
    pub fn exclude_operation(mut self, id: impl Into<String>) -> Self {
        self.selection.exclude.push(id.into());
        self
    }

    /// Emit every component schema, not only those the operations reach.
    pub fn all_schemas(mut self, yes: bool) -> Self {
        self.all_schemas = yes;
        self
    }

    /// Fail when a construct had to be degraded.
    pub fn deny_warnings(mut self, yes: bool) -> Self {
        self.deny_warnings = yes;
        self
    }

    /// Writes the file into `OUT_DIR`, as a build script; returns its path.
    pub fn write(self) -> Result<PathBuf, Error> {
        let out = std::env::var_os("OUT_DIR").ok_or_else(|| {
            Error::new(
                "",
                "OUT_DIR is not set: call write() from a build script, or write_to(dir)",
            )
        })?;
        let base = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_default();
        let spec = base.join(&self.spec);
        println!("cargo:rerun-if-changed={}", spec.display());
        let (path, warnings) = self.write_from(&spec, Path::new(&out))?;
        for w in warnings {
            println!("cargo:warning={w}");
        }
        Ok(path)
    }

    /// Writes the file into `dir`; returns its path and the generator's warnings.
    pub fn write_to(self, dir: &Path) -> Result<(PathBuf, Vec<String>), Error> {
        let spec = self.spec.clone();
        self.write_from(&spec, dir)
    }

    fn write_from(self, spec: &Path, dir: &Path) -> Result<(PathBuf, Vec<String>), Error> {
        let text = std::fs::read_to_string(spec)
            .map_err(|e| Error::new("", format!("cannot read {}: {e}", spec.display())))?;
        let opts = crate::Options {
            all_schemas: self.all_schemas,
            selection: self.selection,
            ..Default::default()
        };
        let module = crate::generate_module(&text, &opts)?;
        let warnings: Vec<String> = module
            .diagnostics
            .iter()
            .map(|d| format!("{}: {d}", spec.display()))
            .collect();
        if self.deny_warnings && !warnings.is_empty() {
            return Err(Error::new(
                "",
                format!(
                    "{} warning(s) and deny_warnings: {}",
                    warnings.len(),
                    warnings.join("; ")
                ),
            ));
        }
        let source = format!(
            "// {} by `openapi_rs_codegen::BuildScript` from {}. Do not edit.\n{}",
            crate::MARKER,
            spec.file_name().unwrap_or_default().to_string_lossy(),
            module.to_source()?
        );
        let path = dir.join(&self.file_name);
        // Written only when it changes, so that an unchanged document rebuilds nothing.
        if std::fs::read_to_string(&path).ok().as_deref() != Some(source.as_str()) {
            std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(&path, source))
                .map_err(|e| Error::new("", format!("cannot write {}: {e}", path.display())))?;
        }
        Ok((path, warnings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("codegen-script-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn spec() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/phala-cloud.yaml")
    }

    #[test]
    fn the_file_holds_the_selected_client_and_is_rewritten_only_when_it_changes() {
        let dir = scratch("write");
        let (path, warnings) = BuildScript::new(spec())
            .operation("update_cvm")
            .file_name("cvm.rs")
            .write_to(&dir)
            .unwrap();
        assert_eq!(path, dir.join("cvm.rs"));
        assert!(warnings.is_empty(), "{warnings:?}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(crate::is_generated_text(&text));
        assert!(text.contains("pub mod types {") && text.contains("pub async fn update_cvm("));
        assert!(!text.contains("pub async fn get_cvm("));
        assert!(
            !text.contains("#!["),
            "an included file may hold no inner attribute"
        );
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        BuildScript::new(spec())
            .operation("update_cvm")
            .file_name("cvm.rs")
            .write_to(&dir)
            .unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            before
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_document_or_operation_is_an_error() {
        let dir = scratch("errors");
        let err = BuildScript::new(dir.join("nope.yaml"))
            .write_to(&dir)
            .unwrap_err();
        assert!(err.message.contains("cannot read"), "{err}");
        let err = BuildScript::new(spec())
            .operation("nope")
            .write_to(&dir)
            .unwrap_err();
        assert!(err.message.contains("`nope`"), "{err}");
        assert!(!dir.join("openapi.rs").exists());
    }

    #[test]
    fn deny_warnings_fails_on_a_degraded_construct() {
        let dir = scratch("deny");
        std::fs::create_dir_all(&dir).unwrap();
        let spec = dir.join("t.yaml");
        std::fs::write(
            &spec,
            "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {type: array, prefixItems: [{type: string}], items: false}\n",
        )
        .unwrap();
        let (_, warnings) = BuildScript::new(&spec).write_to(&dir).unwrap();
        if warnings.is_empty() {
            return; // the construct is no longer degraded; nothing to deny
        }
        let err = BuildScript::new(&spec)
            .deny_warnings(true)
            .write_to(&dir)
            .unwrap_err();
        assert!(err.message.contains("deny_warnings"), "{err}");
    }
}

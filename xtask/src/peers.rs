//! The peer generator the compile-time benchmark compares against: oas3-gen 0.29, installed with
//! `cargo install --locked` into a cache directory when absent, and run on the same documents.

use crate::regenerate;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The peer's crate and version.
pub const OAS3_GEN: (&str, &str) = ("oas3-gen", "0.29.0");

/// Where tools the benchmark installs are kept: `$PHALA_TOOLS_CACHE`, else
/// `$XDG_CACHE_HOME/phala-openapi-rs`, else `~/.cache/phala-openapi-rs`, else `target/tools`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("PHALA_TOOLS_CACHE") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("phala-openapi-rs");
    }
    if let Some(h) = std::env::var_os("HOME") {
        return PathBuf::from(h).join(".cache/phala-openapi-rs");
    }
    regenerate::repo_root().join("target/tools")
}

/// The oas3-gen binary, installed first when it is not in the cache.
pub fn oas3_gen() -> Result<PathBuf, String> {
    let (name, version) = OAS3_GEN;
    let root = cache_dir().join(format!("{name}-{version}"));
    let bin = root.join("bin").join(name);
    if bin.is_file() {
        return Ok(bin);
    }
    eprintln!(
        "installing {name} {version} into {} (once; a few minutes)",
        root.display()
    );
    let status = crate::cargo()
        .args([
            "install",
            "--locked",
            "--quiet",
            name,
            "--version",
            version,
            "--root",
        ])
        .arg(&root)
        .env("CARGO_TARGET_DIR", cache_dir().join("build"))
        .env_remove("CARGO_MAKEFLAGS")
        .status()
        .map_err(|e| format!("cannot run cargo install: {e}"))?;
    if !status.success() || !bin.is_file() {
        return Err(format!("cargo install {name} {version} failed"));
    }
    Ok(bin)
}

/// oas3-gen refuses an OAuth2 flow whose URLs are not absolute (FastAPI writes `tokenUrl: "token"`
/// and `authorizationUrl: ""`); those URLs become absolute ones on `example.invalid`. Returns the
/// document and the number of URLs changed.
pub fn absolute_oauth_urls(doc: &mut Value) -> usize {
    let mut changed = 0;
    let Some(schemes) = doc
        .pointer_mut("/components/securitySchemes")
        .and_then(Value::as_object_mut)
    else {
        return 0;
    };
    for scheme in schemes.values_mut() {
        let Some(flows) = scheme.get_mut("flows").and_then(Value::as_object_mut) else {
            continue;
        };
        for flow in flows.values_mut().filter_map(Value::as_object_mut) {
            for key in ["authorizationUrl", "tokenUrl", "refreshUrl"] {
                if let Some(Value::String(url)) = flow.get_mut(key) {
                    if !url.starts_with("http://") && !url.starts_with("https://") {
                        *url = format!("https://example.invalid/{}", url.trim_start_matches('/'));
                        changed += 1;
                    }
                }
            }
        }
    }
    changed
}

/// oas3-gen 0.29 derives `validator::Validate` with `#[validate(nested)]` on a field named
/// `errors`, which the derive's own `errors` binding shadows, so the crate does not compile
/// (GitHub's `ValidationError`). The attribute is removed there: the peer then does a little less
/// work than as generated, so its time is a lower bound. Returns how many were removed.
pub fn patch_known_failures(src: &Path) -> Result<usize, String> {
    let path = src.join("types.rs");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = String::with_capacity(text.len());
    let mut removed = 0;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let next_is_errors = lines
            .peek()
            .is_some_and(|n| n.trim_start().starts_with("pub errors:"));
        if line.trim() == "#[validate(nested)]" && next_is_errors {
            removed += 1;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if removed > 0 {
        std::fs::write(&path, out).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(removed)
}

/// The peer's command that generates a client crate from `input` into `out`.
pub fn oas3_command(bin: &Path, input: &Path, out: &Path) -> Command {
    let mut c = Command::new(bin);
    c.args([
        "generate",
        "client-mod",
        "--workspace",
        "--color",
        "never",
        "-i",
    ])
    .arg(input)
    .arg("-o")
    .arg(out);
    c
}

/// The document as the peer can read it, written beside `out` (`OUT.input.json`): OAuth2 URLs made
/// absolute. Returns its path and what was changed.
pub fn peer_input(spec: &Path, out: &Path) -> Result<(std::path::PathBuf, Vec<String>), String> {
    let mut notes = Vec::new();
    let text = std::fs::read_to_string(spec).map_err(|e| format!("{}: {e}", spec.display()))?;
    let mut doc: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", spec.display()))?;
    let urls = absolute_oauth_urls(&mut doc);
    if urls > 0 {
        notes.push(format!("{urls} OAuth2 URL(s) made absolute"));
    }
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let input = out.with_extension("input.json");
    std::fs::write(&input, serde_json::to_vec(&doc).unwrap_or_default())
        .map_err(|e| format!("{}: {e}", input.display()))?;
    Ok((input, notes))
}

/// Generates the peer's client crate for `spec` into `out` (a standalone crate); returns notes on
/// what had to be changed for it to generate and compile.
pub fn generate_oas3(spec: &Path, out: &Path) -> Result<Vec<String>, String> {
    let bin = oas3_gen()?;
    let (input, mut notes) = peer_input(spec, out)?;
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let output = oas3_command(&bin, &input, out)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if !output.status.success() {
        return Err(format!(
            "oas3-gen failed on {}: {}",
            spec.display(),
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .find(|l| l.starts_with("Error"))
                .unwrap_or("see its output")
        ));
    }
    let manifest = out.join("Cargo.toml");
    let mut toml =
        std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    if !toml.contains("[workspace]") {
        toml.push_str("\n[workspace]\n");
        std::fs::write(&manifest, toml).map_err(|e| format!("{}: {e}", manifest.display()))?;
    }
    let patched = patch_known_failures(&out.join("src"))?;
    if patched > 0 {
        notes.push(format!(
            "{patched} `#[validate(nested)]` on a field named `errors` removed (does not compile as generated)"
        ));
    }
    Ok(notes)
}

/// Types a generated crate declares: `pub struct`, `pub enum` and `pub type` items of its sources.
pub fn count_types(src: &Path) -> usize {
    let mut n = 0;
    if let Ok(entries) = std::fs::read_dir(src) {
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                n += text
                    .lines()
                    .map(str::trim_start)
                    .filter(|l| {
                        l.starts_with("pub struct ")
                            || l.starts_with("pub enum ")
                            || l.starts_with("pub type ")
                    })
                    .count();
            }
        }
    }
    n
}

/// Lines of Rust in a crate's `src/`, without the files `skip` names.
pub fn count_lines(src: &Path, skip: &[&str]) -> usize {
    let mut n = 0;
    if let Ok(entries) = std::fs::read_dir(src) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".rs") && !skip.contains(&name.as_str()) {
                n += std::fs::read_to_string(e.path())
                    .unwrap_or_default()
                    .lines()
                    .count();
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn relative_oauth_urls_become_absolute_and_absolute_ones_stay() {
        let mut doc = json!({"components": {"securitySchemes": {
            "o": {"type": "oauth2", "flows": {"authorizationCode": {
                "authorizationUrl": "", "tokenUrl": "token", "scopes": {}}}},
            "p": {"type": "oauth2", "flows": {"password": {
                "tokenUrl": "https://a.example/t", "scopes": {}}}},
            "k": {"type": "apiKey", "in": "header", "name": "X"}
        }}});
        assert_eq!(absolute_oauth_urls(&mut doc), 2);
        let flow = &doc["components"]["securitySchemes"]["o"]["flows"]["authorizationCode"];
        assert_eq!(flow["tokenUrl"], "https://example.invalid/token");
        assert_eq!(flow["authorizationUrl"], "https://example.invalid/");
        assert_eq!(
            doc["components"]["securitySchemes"]["p"]["flows"]["password"]["tokenUrl"],
            "https://a.example/t"
        );
        assert_eq!(absolute_oauth_urls(&mut json!({})), 0);
    }

    #[test]
    fn only_the_nested_validation_of_an_errors_field_is_removed() {
        let dir = regenerate::repo_root().join("target/xtask-tests/peers-patch");
        std::fs::create_dir_all(&dir).unwrap();
        let src = "pub struct A {\n    #[validate(nested)]\n    pub errors: Option<Vec<E>>,\n    #[validate(nested)]\n    pub inner: Option<E>,\n}\n";
        std::fs::write(dir.join("types.rs"), src).unwrap();
        assert_eq!(patch_known_failures(&dir).unwrap(), 1);
        let text = std::fs::read_to_string(dir.join("types.rs")).unwrap();
        assert_eq!(text, src.replacen("    #[validate(nested)]\n", "", 1));
        assert_eq!(count_types(&dir), 1);
    }
}

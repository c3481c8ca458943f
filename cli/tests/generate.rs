//! `openapi-rs generate` as a user runs it: a document outside this repository in, a crate out,
//! `--check` fresh afterwards and stale after a change, and the documented exit statuses.

use std::path::{Path, PathBuf};
use std::process::Command;

fn openapi_rs() -> Command {
    Command::new(env!("CARGO_BIN_EXE_openapi-rs"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("openapi-rs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn status(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
    )
}

#[test]
fn a_crate_outside_the_repository_takes_the_runtime_beside_the_source_and_checks_fresh() {
    let dir = scratch("outside");
    let spec = dir.join("api.yaml");
    std::fs::copy(repo().join("spec/phala-cloud.yaml"), &spec).unwrap();
    let out = dir.join("cvm-client");
    let gen = |extra: &[&str]| {
        let mut cmd = openapi_rs();
        cmd.current_dir(&dir)
            .args(["generate", "--spec", "api.yaml", "--out", "cvm-client"])
            .args(extra);
        status(&mut cmd)
    };
    let (code, text) = gen(&[]);
    assert_eq!(code, 0, "{text}");
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"cvm-client\""), "{manifest}");
    // Built from this clone, the command finds the runtime beside its source, names it by
    // path (so the crate compiles with no registry copy), and says so.
    assert!(
        manifest.contains("openapi-runtime = { version = \"=0.1.0\", path = \"")
            && manifest.contains("/runtime\" }"),
        "by path: {manifest}"
    );
    assert!(
        text.contains("depends on openapi-runtime by path"),
        "{text}"
    );
    assert!(std::fs::read_to_string(out.join("src/lib.rs"))
        .unwrap()
        .contains("`openapi-rs generate`"));
    assert_eq!(gen(&["--check"]).0, 0, "fresh after writing");

    // A change to the document: --check says stale (1) and writes nothing.
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("maximum: 1200.0", "maximum: 1800.0");
    std::fs::write(&spec, text).unwrap();
    let types = std::fs::read_to_string(out.join("src/types.rs")).unwrap();
    let (code, diff) = gen(&["--check"]);
    assert_eq!(code, 1, "{diff}");
    assert!(diff.contains("1800"), "{diff}");
    assert_eq!(
        std::fs::read_to_string(out.join("src/types.rs")).unwrap(),
        types
    );

    // Asked for, the runtime is named by path as well; a selection keeps one method.
    let runtime = repo().join("runtime");
    let (code, text) = gen(&[
        "--runtime-path",
        runtime.to_str().unwrap(),
        "--operation",
        "get_cvm",
    ]);
    assert_eq!(code, 0, "{text}");
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("path = \""), "{manifest}");
    let client = std::fs::read_to_string(out.join("src/client.rs")).unwrap();
    assert!(
        client.contains("pub async fn get_cvm(") && !client.contains("pub async fn update_cvm(")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_exits_2_and_names_the_node() {
    let dir = scratch("bad");
    std::fs::write(
        dir.join("bad.yaml"),
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Missing'}\n",
    )
    .unwrap();
    let (code, text) = status(
        openapi_rs()
            .current_dir(&dir)
            .args(["generate", "--spec", "bad.yaml", "--out", "x"]),
    );
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("/paths/~1a/get/responses/200"), "{text}");
    assert!(!dir.join("x").exists(), "nothing written");
    let (code, text) = status(
        openapi_rs()
            .current_dir(&dir)
            .args(["generate", "--spec", "bad.yaml"]),
    );
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--spec needs --out"), "{text}");
    let (code, text) = status(openapi_rs().current_dir(&dir).args([
        "generate",
        "--spec",
        "../nope.yaml",
        "--out",
        "x",
        "--operation",
        "a",
    ]));
    assert_eq!(code, 2, "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn contract_takes_the_suite_options() {
    let (code, text) = status(openapi_rs().args(["contract", "--help"]));
    assert_eq!(code, 0, "{text}");
    for flag in [
        "--spec",
        "--target",
        "--other-api-key",
        "--cvm-id",
        "--cases",
        "--report",
    ] {
        assert!(text.contains(flag), "{flag} missing from:\n{text}");
    }
    // An unreachable target is exit 2 ("could not run"), as with `cargo xtask contract`.
    let (code, text) = status(openapi_rs().args([
        "contract",
        "--target",
        "http://127.0.0.1:9",
        "--cvm-id",
        "x",
        "--cases",
        "1",
        "--timeout",
        "2",
    ]));
    assert_eq!(code, 2, "{text}");
}

#[test]
fn features_by_tag_gates_each_tag_and_keeps_all_on_by_default() {
    let dir = scratch("tags");
    let (code, text) = status(
        openapi_rs().current_dir(&dir).args([
            "generate",
            "--spec",
            repo()
                .join("codegen/tests/fixtures/tagged.yaml")
                .to_str()
                .unwrap(),
            "--out",
            "tagged",
            "--features-by-tag",
        ]),
    );
    assert_eq!(code, 0, "{text}");
    let manifest = std::fs::read_to_string(dir.join("tagged/Cargo.toml")).unwrap();
    for line in [
        "default = [\"full\"]",
        "full = [\"pets\", \"store-front\"]",
        "pets = []",
        "store-front = []",
    ] {
        assert!(manifest.contains(line), "{line} in {manifest}");
    }
    let client = std::fs::read_to_string(dir.join("tagged/src/client.rs")).unwrap();
    assert!(
        client.contains("#[cfg(feature = \"store-front\")]"),
        "{client}"
    );
    assert!(client.contains("#[cfg(any(feature = \"pets\", feature = \"store-front\"))]"));
    // Without the flag, nothing is gated.
    let (code, _) = status(
        openapi_rs().current_dir(&dir).args([
            "generate",
            "--spec",
            repo()
                .join("codegen/tests/fixtures/tagged.yaml")
                .to_str()
                .unwrap(),
            "--out",
            "plain",
        ]),
    );
    assert_eq!(code, 0);
    let plain = std::fs::read_to_string(dir.join("plain/src/client.rs")).unwrap();
    assert!(!plain.contains("#[cfg("), "{plain}");
    let _ = std::fs::remove_dir_all(&dir);
}

//! Writes the Update CVM client of spec/ into OUT_DIR: one operation selected.

fn main() {
    openapi_rs_codegen::BuildScript::new("../../spec/phala-cloud.yaml")
        .operation("update_cvm")
        .write()
        .unwrap_or_else(|e| panic!("{e}"));
}

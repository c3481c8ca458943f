//! Operation selection (`--operation`, `--tag`, `--exclude-operation`): the kept operations are
//! exactly those asked for, and the types emitted are exactly those they reach.

use openapi_rs_codegen::ir::{Api, Selection};
use openapi_rs_codegen::{generate, generate_module, load_api, Options};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::path::Path;

fn spec() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join("spec/phala-cloud.yaml")).unwrap()
}

fn select(operations: &[&str], tags: &[&str], exclude: &[&str]) -> Selection {
    let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
    Selection {
        operations: own(operations),
        tags: own(tags),
        exclude: own(exclude),
    }
}

fn methods(selection: Selection) -> Result<Vec<String>, String> {
    let opts = Options {
        selection,
        ..Default::default()
    };
    let out = generate(&spec(), &opts).map_err(|e| e.to_string())?;
    let client = &out.files["src/client.rs"];
    Ok(client
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub async fn "))
        .map(|l| l.split('(').next().unwrap().to_string())
        .collect())
}

#[test]
fn an_operation_is_chosen_by_method_name_or_by_operation_id() {
    assert_eq!(
        methods(select(&["update_cvm"], &[], &[])).unwrap(),
        ["update_cvm"]
    );
    assert_eq!(
        methods(select(
            &["update_cvm_endpoint_api_v1_cvms__cvm_id__patch"],
            &[],
            &[]
        ))
        .unwrap(),
        ["update_cvm"]
    );
}

#[test]
fn tags_and_exclusions_combine() {
    assert_eq!(
        methods(select(&[], &["CVMs"], &[])).unwrap(),
        ["get_cvm", "update_cvm"]
    );
    assert_eq!(
        methods(select(&[], &["CVMs"], &["get_cvm"])).unwrap(),
        ["update_cvm"]
    );
    // An exclusion alone keeps the rest.
    assert_eq!(
        methods(select(&[], &[], &["update_cvm"])).unwrap(),
        ["get_cvm"]
    );
}

#[test]
fn a_name_the_document_lacks_is_an_error_not_an_empty_crate() {
    let err = methods(select(&["updat_cvm"], &[], &[])).unwrap_err();
    assert!(
        err.contains("/paths") && err.contains("`updat_cvm`"),
        "{err}"
    );
    let err = methods(select(&[], &["Nope"], &[])).unwrap_err();
    assert!(err.contains("no operation has the tag `Nope`"), "{err}");
    let err = methods(select(&[], &[], &["get_cvm", "update_cvm"])).unwrap_err();
    assert!(err.contains("leaves no operation"), "{err}");
}

#[test]
fn the_module_form_holds_the_selection_too() {
    let opts = Options {
        selection: select(&["get_cvm"], &[], &[]),
        ..Default::default()
    };
    let module = generate_module(&spec(), &opts).unwrap();
    assert_eq!(module.operations, 1);
    let source = module.to_source().unwrap();
    assert!(source.contains("pub async fn get_cvm("));
    assert!(
        !source.contains("UpdateCvmRequest"),
        "a type only update_cvm reaches"
    );
    assert!(
        !source.contains("feature = \""),
        "the module form assumes no feature"
    );
}

/// Every type a kept operation or kept type names is in the table, and every type in the table
/// is reached from a kept operation.
fn closed_and_minimal(api: &Api) -> Result<(), String> {
    let mut reached: BTreeSet<String> = BTreeSet::new();
    let mut work: Vec<String> = api.operations.iter().flat_map(|o| o.refers_to()).collect();
    while let Some(n) = work.pop() {
        if reached.insert(n.clone()) {
            let t = api
                .types
                .get(&n)
                .ok_or(format!("{n} is named but not emitted"))?;
            work.extend(t.refers_to());
        }
    }
    let table: BTreeSet<String> = api.types.keys().cloned().collect();
    if table != reached {
        return Err(format!(
            "emitted but not reached: {:?}",
            table.difference(&reached).collect::<Vec<_>>()
        ));
    }
    Ok(())
}

fn phala_full() -> Option<String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs/phala-cloud.openapi.json");
    match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(_) => {
            println!(
                "notice: {} not found; the selection property runs on spec/ only",
                path.display()
            );
            None
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever operations are picked from the whole Phala document (spec/ without it), exactly
    /// those are kept, and the type table is closed and holds nothing unreached.
    #[test]
    fn any_selection_keeps_what_it_names_and_what_that_reaches(picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..6)) {
        thread_local! {
            static API: Api = {
                let text = phala_full().unwrap_or_else(spec);
                load_api(&text).unwrap().0
            };
        }
        API.with(|full| {
            let names: Vec<String> = picks.iter().map(|i| full.operations[i.index(full.operations.len())].name.clone()).collect();
            let mut api = full.clone();
            api.examples.clear();
            api.retain_selected(&Selection { operations: names.clone(), ..Default::default() }).unwrap();
            api.retain_reachable();
            let kept: BTreeSet<&str> = api.operations.iter().map(|o| o.name.as_str()).collect();
            let asked: BTreeSet<&str> = names.iter().map(String::as_str).collect();
            prop_assert_eq!(kept, asked);
            prop_assert!(closed_and_minimal(&api).is_ok(), "{:?}", closed_and_minimal(&api));
            Ok(())
        })?;
    }
}

//! `--features-by-tag`: each tag's operations, and the types only they reach, behind a cargo
//! feature of the generated crate. Decided here, on the IR, once; the emitters only read
//! [`TagFeatures`] (a `#[cfg]` per item) and the Cargo.toml lists the features.
//!
//! An operation is compiled when any of its tags' features is on; one with no tag always is. A
//! type is compiled when any operation that reaches it is: its gate is the union of those
//! operations' features, and it has none (always compiled) when an untagged operation or a
//! webhook reaches it, or when no operation does (`--all-schemas`, or an example's type).

use crate::ir::{Api, Operation};
use std::collections::{BTreeMap, BTreeSet};

/// Feature names a tag cannot take: the generated crate's own features.
const RESERVED: [&str; 4] = ["default", "full", "proptest", "serialize"];

/// The cargo features of a crate generated with `--features-by-tag`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagFeatures {
    /// Feature name -> the tag it stands for, sorted by feature.
    pub features: BTreeMap<String, String>,
    /// Operation (client method) name -> the features any of which compiles it; absent or empty:
    /// always compiled.
    pub operations: BTreeMap<String, Vec<String>>,
    /// Type name -> the features any of which compiles it; absent or empty: always compiled.
    pub types: BTreeMap<String, Vec<String>>,
}

impl TagFeatures {
    /// The features of `api`'s tags, and the gate of each operation and type.
    pub fn of(api: &Api) -> TagFeatures {
        let mut tags: BTreeSet<&str> = BTreeSet::new();
        for op in &api.operations {
            tags.extend(op.tags.iter().map(String::as_str));
        }
        let mut by_tag: BTreeMap<&str, String> = BTreeMap::new();
        let mut taken: BTreeSet<String> = RESERVED.iter().map(|s| s.to_string()).collect();
        for tag in tags {
            let base = feature_name(tag);
            let mut name = base.clone();
            let mut i = 2;
            while taken.contains(&name) {
                name = format!("{base}-{i}");
                i += 1;
            }
            taken.insert(name.clone());
            by_tag.insert(tag, name);
        }
        let gate_of = |op: &Operation| -> Vec<String> {
            let set: BTreeSet<&String> = op
                .tags
                .iter()
                .filter_map(|t| by_tag.get(t.as_str()))
                .collect();
            set.into_iter().cloned().collect()
        };

        let mut operations = BTreeMap::new();
        // Per type: the features that reach it, or None once something ungated reaches it.
        let mut reach: BTreeMap<String, Option<BTreeSet<String>>> = BTreeMap::new();
        for op in &api.operations {
            let gate = gate_of(op);
            for name in api.closure(op.refers_to()) {
                let entry = reach.entry(name).or_insert_with(|| Some(BTreeSet::new()));
                match (entry.as_mut(), gate.is_empty()) {
                    (Some(set), false) => set.extend(gate.iter().cloned()),
                    (Some(_), true) => *entry = None,
                    (None, _) => {}
                }
            }
            if !gate.is_empty() {
                operations.insert(op.name.clone(), gate);
            }
        }
        // The examples' harness needs `full`, so their types keep the gates operations give
        // them; a type only an example reaches is reached by no operation, so always compiled.
        for name in api.closure(api.webhook_types.clone()) {
            reach.insert(name, None);
        }
        let types = reach
            .into_iter()
            .filter_map(|(name, set)| {
                let set = set?;
                (!set.is_empty()).then(|| (name, set.into_iter().collect()))
            })
            .collect();
        TagFeatures {
            features: by_tag
                .into_iter()
                .map(|(t, f)| (f, t.to_string()))
                .collect(),
            operations,
            types,
        }
    }

    /// The features any of which compiles the operation `name` (empty: always).
    pub fn of_operation(&self, name: &str) -> &[String] {
        self.operations.get(name).map_or(&[], Vec::as_slice)
    }

    /// The features any of which compiles the type `name` (empty: always).
    pub fn of_type(&self, name: &str) -> &[String] {
        self.types.get(name).map_or(&[], Vec::as_slice)
    }
}

/// A tag as a cargo feature name: lower case ASCII letters and digits, runs of anything else one
/// `-`; `tag` when nothing is left.
pub fn feature_name(tag: &str) -> String {
    let mut out = String::new();
    for c in tag.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        "tag".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(doc: &str) -> Api {
        let mut diags = crate::diag::Diagnostics::default();
        let read = crate::load::read(doc, &mut diags, false).unwrap();
        let spec = crate::load::load(read, &mut diags).unwrap();
        let mut api = crate::build::build(&spec, &mut diags, false).unwrap();
        api.narrow(&Default::default(), false).unwrap();
        api
    }

    #[test]
    fn tags_become_distinct_feature_names() {
        assert_eq!(feature_name("Repos"), "repos");
        assert_eq!(feature_name("code-scanning"), "code-scanning");
        assert_eq!(feature_name("  Users & Teams!"), "users-teams");
        assert_eq!(feature_name("???"), "tag");
    }

    #[test]
    fn a_type_is_gated_by_every_tag_that_reaches_it_and_ungated_when_an_untagged_one_does() {
        let doc = r##"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
          "paths": {
            "/a": {"get": {"operationId": "a", "tags": ["Alpha"], "responses": {"200": {"description": "ok",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}},
            "/b": {"get": {"operationId": "b", "tags": ["beta", "full"], "responses": {"200": {"description": "ok",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/B"}}}}}}},
            "/c": {"get": {"operationId": "c", "responses": {"200": {"description": "ok",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/C"}}}}}}}
          },
          "components": {"schemas": {
            "Shared": {"type": "object", "properties": {"x": {"type": "integer"}}},
            "Common": {"type": "object", "properties": {"y": {"type": "integer"}}},
            "A": {"type": "object", "properties": {"s": {"$ref": "#/components/schemas/Shared"}, "c": {"$ref": "#/components/schemas/Common"}}},
            "B": {"type": "object", "properties": {"s": {"$ref": "#/components/schemas/Shared"}}},
            "C": {"type": "object", "properties": {"c": {"$ref": "#/components/schemas/Common"}}}
          }}}"##;
        let f = TagFeatures::of(&api(doc));
        // `full` is the crate's own feature: the tag takes the next free name.
        let names: Vec<(&str, &str)> = f
            .features
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(
            names,
            [("alpha", "Alpha"), ("beta", "beta"), ("full-2", "full")]
        );
        assert_eq!(f.of_operation("a"), ["alpha"]);
        assert_eq!(f.of_operation("b"), ["beta", "full-2"]);
        assert!(f.of_operation("c").is_empty());
        assert_eq!(f.of_type("A"), ["alpha"]);
        assert_eq!(f.of_type("Shared"), ["alpha", "beta", "full-2"]);
        // Reached by the untagged operation too: always compiled.
        assert!(f.of_type("Common").is_empty());
        assert!(f.of_type("C").is_empty());
    }
}

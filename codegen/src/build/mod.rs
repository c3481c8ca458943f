//! openapiv3 model -> IR. The only module besides `load` that sees openapiv3 types.
//!
//! One `Builder`, its work split by concern (the lines typify draws):
//!
//! | module | decides |
//! |---|---|
//! | `naming` | every component's Rust name, before any type is built |
//! | `refs` | where a `$ref` leads (schemas, parameters, bodies, answers) |
//! | `schemas` | the type of a schema position, its definition, fields, constraints |
//! | `all_of` | merged `allOf`s (scalars and objects) |
//! | `unions` | `oneOf`/`anyOf`, untagged or internally tagged |
//! | `operations` | operations: names, parameters, bodies, answers, credentials |
//! | `analysis` | over the finished table: cycles to box, `validate()`, `Default` |

use crate::diag::{join, Diagnostics, Error};
use crate::ir::*;
use crate::names;
use indexmap::IndexMap;
use openapiv3::{
    AdditionalProperties, OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, Schema,
    SchemaData, SchemaKind, SecurityScheme, StatusCode, Type, VariantOrUnknownOrEmpty,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

mod all_of;
mod analysis;
mod naming;
mod operations;
mod refs;
mod schemas;
mod unions;

// Each concern's helpers, visible to the others through `use super::*`.
#[allow(unused_imports)]
use all_of::{adds_object_constraints, all_of_too_deep};
use analysis::analyse;
#[allow(unused_imports)]
use naming::shape_label;
pub(crate) use operations::is_json;
#[allow(unused_imports)]
use refs::{follow, unescape};
#[allow(unused_imports)]
use schemas::{
    doc_of, enum_kind, is_secret, needs_definition, nullable_ty, readback_of, view, View,
};

const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// Method names the client itself uses; operations never take them.
const CLIENT_METHODS: [&str; 4] = ["new", "builder", "base_url", "inner"];

/// Builds the IR. With `record_places`, [`Api::places`] gets the type of every schema position.
pub(crate) fn build(
    spec: &OpenAPI,
    diags: &mut Diagnostics,
    record_places: bool,
) -> Result<Api, Error> {
    let mut b = Builder {
        spec,
        diags,
        types: BTreeMap::new(),
        taken: BTreeSet::new(),
        ref_names: BTreeMap::new(),
        places: record_places.then(BTreeMap::new),
    };
    b.name_components();
    if let Some(components) = &spec.components {
        for (key, schema) in &components.schemas {
            let name = b.ref_names[key].clone();
            let ptr = join("/components/schemas", key);
            b.define_component(&name, schema, &ptr)?;
        }
    }
    let operations = b.operations()?;
    let webhook_types = match spec.extensions.get(crate::lower::WEBHOOK_ROOTS) {
        Some(Value::Array(keys)) => keys
            .iter()
            .filter_map(|k| {
                k.as_str()
                    .and_then(|k| b.ref_names.get(&unescape(k)))
                    .cloned()
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut api = Api {
        title: spec.info.title.clone(),
        version: spec.info.version.clone(),
        description: spec.info.description.clone(),
        types: b.types,
        operations,
        webhook_types,
        places: b.places.unwrap_or_default(),
        examples: Vec::new(),
        features: None,
    };
    analyse(&mut api);
    Ok(api)
}

struct Builder<'a> {
    spec: &'a OpenAPI,
    diags: &'a mut Diagnostics,
    types: BTreeMap<String, TypeDef>,
    taken: BTreeSet<String>,
    /// Component schema key -> Rust name.
    ref_names: BTreeMap<String, String>,
    /// Schema pointer -> its type, when asked for.
    places: Option<BTreeMap<String, Ty>>,
}

/// A schema or a reference, boxed or not.
enum SRef<'s> {
    Ref(&'s str),
    Item(&'s Schema),
}

impl<'s> From<&'s ReferenceOr<Schema>> for SRef<'s> {
    fn from(r: &'s ReferenceOr<Schema>) -> Self {
        match r {
            ReferenceOr::Reference { reference } => SRef::Ref(reference),
            ReferenceOr::Item(s) => SRef::Item(s),
        }
    }
}

impl<'s> From<&'s ReferenceOr<Box<Schema>>> for SRef<'s> {
    fn from(r: &'s ReferenceOr<Box<Schema>>) -> Self {
        match r {
            ReferenceOr::Reference { reference } => SRef::Ref(reference),
            ReferenceOr::Item(s) => SRef::Item(s),
        }
    }
}

impl<'a> Builder<'a> {
    pub(super) fn insert(&mut self, name: &str, ptr: &str, doc: Option<String>, kind: TypeKind) {
        self.types.insert(
            name.to_string(),
            TypeDef {
                name: name.to_string(),
                pointer: ptr.to_string(),
                doc,
                kind,
                validates: false,
                derives_default: false,
                serialize: true,
            },
        );
    }
}

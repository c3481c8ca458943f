//! What the stateful suite works on: an item of a document's resource, the operation that
//! updates it, the one that reads it back, and which field of the read shows each field of the
//! update. On `spec/` the document says all of that itself (`x-readback`, `x-two-phase`, and
//! `--cvm-id` for the item); on any other document the engine finds it (a resource with a PATCH
//! and a GET of its items, an item it created, and the read's fields of the same names).

use crate::meta::{Object, Operation, Readback, Schema, Shape};
use crate::spec::TwoPhase;
use std::sync::Arc;

/// The resource the stateful suite updates and reads back.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The document.
    pub schema: Arc<Schema>,
    /// The update (a PATCH of the item).
    pub update: Operation,
    /// The read-back (the GET of the same path).
    pub read: Operation,
    /// The update's body, each field that reads back saying where.
    pub body: Object,
    /// The object the read answers with.
    pub readback: Option<Object>,
    /// The flow `x-two-phase` describes, on spec/.
    pub two_phase: Option<TwoPhase>,
    /// The smallest valid update ([`crate::breadth::minimal`]): what each body the suite builds
    /// starts from (`{}` where no property is required).
    pub base: serde_json::Value,
    /// Path parameters above the item, bound to its parents' ids (a nested collection's item).
    pub bound: Vec<(String, String)>,
}

impl Subject {
    /// spec/'s: the update whose body carries `x-readback`, the GET of its path, its two-phase
    /// flow.
    pub fn spec() -> Subject {
        Subject {
            schema: crate::meta::shared_schema().clone(),
            update: crate::spec::update_op().clone(),
            read: crate::spec::get_op().clone(),
            body: crate::spec::update_body().clone(),
            readback: crate::spec::readback_object().cloned(),
            two_phase: crate::spec::two_phase(),
            base: serde_json::json!({}),
            bound: Vec::new(),
        }
        .with_base()
    }

    /// The subject of an update and a read of the same item path on any document: the update's
    /// body fields read back where `x-readback` says, else in the read's field of the same name
    /// (a field the read does not show is not read back). `None` when the update has no JSON
    /// object body or no field of it reads back.
    pub fn of(schema: Arc<Schema>, update: &Operation, read: &Operation) -> Option<Subject> {
        let object = |shape: &Shape| crate::resources::object_of(&schema, shape).cloned();
        let mut body = update.body.as_ref().and_then(object)?;
        let readback = read
            .responses
            .iter()
            .filter(|r| !r.range && (200..300).contains(&r.status))
            .min_by_key(|r| r.status)
            .and_then(|r| r.body.as_ref())
            .and_then(object);
        let hinted = body.fields.iter().any(|f| f.readback.is_some());
        if !hinted {
            for f in &mut body.fields {
                let shown = readback.as_ref().and_then(|r| r.field(&f.name));
                if shown.is_some() && !f.secret {
                    f.readback = Some(Readback {
                        field: f.name.clone(),
                        divide_by: 1,
                    });
                }
            }
        }
        if !body.fields.iter().any(|f| f.readback.is_some()) {
            return None;
        }
        let subject = Subject {
            update: update.clone(),
            read: read.clone(),
            body,
            readback,
            two_phase: None,
            schema,
            base: serde_json::Value::Null,
            bound: Vec::new(),
        }
        .with_base();
        subject.base.is_object().then_some(subject)
    }

    /// The subject with its [`Subject::base`] built from the document (`null` where none can
    /// be).
    fn with_base(mut self) -> Subject {
        let shape = Shape::Object {
            name: self.body.name.clone(),
        };
        self.base = crate::breadth::minimal(&self.schema, &shape).unwrap_or_default();
        self
    }

    /// The item's path: the update's path template with its last path parameter set to `id`,
    /// and those above it as [`Subject::bound`] says.
    pub fn path(&self, id: &str) -> String {
        let name = self
            .update
            .params
            .iter()
            .rfind(|p| p.location == "path")
            .map(|p| p.name.as_str())
            .unwrap_or("id");
        self.bound
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .chain([(name, id)])
            .fold(self.update.path.clone(), |path, (n, v)| {
                path.replace(&format!("{{{n}}}"), &openapi_runtime::encode_component(v))
            })
    }
}

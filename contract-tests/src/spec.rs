//! The parts of the generated crate's schema (`crate::meta::schema()`) the suite works on.
//! They follow the spec: regenerate after a spec change and the suite fuzzes the new rules.

use crate::meta::{schema, Object, Operation, Shape};

/// `PATCH /api/v1/cvms/{cvm_id}`.
pub fn update_op() -> &'static Operation {
    schema()
        .operation("update_cvm")
        .expect("the spec documents the update_cvm operation")
}

/// `GET /api/v1/cvms/{cvm_id}`.
pub fn get_op() -> &'static Operation {
    schema()
        .operation("get_cvm")
        .expect("the spec documents the get_cvm operation")
}

/// The object a shape names, if it names one.
pub fn object_of(shape: &Shape) -> Option<&'static Object> {
    match shape {
        Shape::Object { name } => schema().object(name),
        Shape::Nullable { inner } => object_of(inner),
        _ => None,
    }
}

/// The body of an update.
pub fn update_body() -> &'static Object {
    update_op()
        .body
        .as_ref()
        .and_then(object_of)
        .expect("update_cvm takes an object body")
}

/// The CVM as read back (the GET's 200 body).
pub fn readback_object() -> Option<&'static Object> {
    get_op()
        .responses
        .iter()
        .find(|r| r.status == 200)
        .and_then(|r| r.body.as_ref())
        .and_then(object_of)
}

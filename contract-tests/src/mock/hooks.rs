//! Where the generated faults of an operation change the mock: its validation errors, a crash,
//! a state fault on one field.

use super::*;

/// The validation errors, as the generated faults of `op` change them
/// ([`Generated::adjust_errors`]).
pub(crate) fn faulty_validation(m: &Mock, op: &str, body: &Value, errs: &mut Vec<Value>) {
    let changed = m
        .opts
        .faults
        .iter()
        .filter(|g| g.op == op)
        .filter(|g| g.adjust_errors(&m.schema, body, errs))
        .count();
    m.fired
        .fetch_add(changed as u64, std::sync::atomic::Ordering::Relaxed);
}

/// Whether a generated fault of `op` crashes this valid request ([`Generated::crashes`]); keeps
/// what the next request's faults look back at.
pub(crate) fn crashes(m: &Mock, store: &mut Store, op: &str, body: Option<&Value>) -> bool {
    let nulled = store.nulled.remove(op).unwrap_or_default();
    let repeat = body.is_some() && store.last_body.get(op) == body;
    let hit = m
        .opts
        .faults
        .iter()
        .filter(|g| g.op == op)
        .any(|g| g.crashes(&m.schema, body, &nulled, repeat));
    if hit {
        m.fired.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    if let Some(b) = body {
        store.last_body.insert(op.to_string(), b.clone());
        store
            .nulled
            .insert(op.to_string(), crate::faults::nulled_keys(b));
    }
    hit
}

pub(crate) fn state_fault(m: &Mock, kind: Kind, op: &str, key: &str) -> bool {
    let on = m.on(kind, op).iter().any(|g| g.at.top_key() == Some(key));
    if on {
        m.fired.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    on
}

//! The checks: small named predicates, each with a one-line doc. A check returns `Err(message)`
//! when the answer breaks it.

use crate::http::{Answer, Exchange};
use crate::judge;
use crate::meta::{Operation, Schema};
use crate::mutate::Mutation;
use serde_json::Value;

/// A check's name and what it asserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Check {
    pub name: &'static str,
    pub doc: &'static str,
}

/// No answer is a 5xx.
pub const NOT_A_SERVER_ERROR: Check = Check {
    name: "not_a_server_error",
    doc: "no request, valid or not, gets a 5xx",
};
/// A valid body is never refused as invalid.
pub const POSITIVE_DATA_ACCEPTANCE: Check = Check {
    name: "positive_data_acceptance",
    doc: "a valid body never gets 422; it gets a documented status",
};
/// An invalid body is refused with 422.
pub const NEGATIVE_DATA_REJECTION: Check = Check {
    name: "negative_data_rejection",
    doc: "a body that breaks the schema gets 422",
};
/// A 422 says which field is wrong.
pub const VALIDATION_ERROR_NAMES_FIELD: Check = Check {
    name: "validation_error_names_field",
    doc: "a 422 is an HTTPValidationError and some `loc` names the broken field",
};
/// Every status is documented.
pub const STATUS_CODE_CONFORMANCE: Check = Check {
    name: "status_code_conformance",
    doc: "every answer's status is documented for the operation",
};
/// Every body matches its documented schema.
pub const RESPONSE_SCHEMA_CONFORMANCE: Check = Check {
    name: "response_schema_conformance",
    doc: "every answer's body matches the schema documented for its status",
};
/// PATCH changes what was sent and nothing else.
pub const PATCH_SEMANTICS: Check = Check {
    name: "patch_semantics",
    doc: "read back, fields set took their value, nulls were cleared, fields left out kept theirs",
};
/// Credentials are required.
pub const AUTH_REQUIRED: Check = Check {
    name: "auth_required",
    doc: "without the key, or with a wrong one, the answer is 401 and nothing changes",
};
/// Rejected requests change nothing.
pub const REJECTION_CHANGES_NOTHING: Check = Check {
    name: "rejection_changes_nothing",
    doc: "after a run of rejected bodies the CVM reads back exactly as before",
};
/// The on-chain header flows work.
pub const HEADER_FLOWS: Check = Check {
    name: "header_flows",
    doc: "the two-phase flow the spec describes (`x-two-phase`) answers as documented",
};
/// Secrets are not echoed.
pub const NO_SECRET_ECHO: Check = Check {
    name: "no_secret_echo",
    doc: "no answer echoes the API key or the value of a secret field (`format: password`, `writeOnly`)",
};
/// An id that does not exist is not found.
pub const UNKNOWN_ID_NOT_FOUND: Check = Check {
    name: "unknown_id_not_found",
    doc: "a request for an id that does not exist gets the documented 404 and changes nothing",
};
/// The target answers at all.
pub const TARGET_ANSWERS: Check = Check {
    name: "target_answers",
    doc: "every request gets a complete answer within the timeout",
};

/// Every check, in report order.
pub const ALL: [Check; 13] = [
    NOT_A_SERVER_ERROR,
    POSITIVE_DATA_ACCEPTANCE,
    NEGATIVE_DATA_REJECTION,
    VALIDATION_ERROR_NAMES_FIELD,
    STATUS_CODE_CONFORMANCE,
    RESPONSE_SCHEMA_CONFORMANCE,
    PATCH_SEMANTICS,
    AUTH_REQUIRED,
    REJECTION_CHANGES_NOTHING,
    HEADER_FLOWS,
    NO_SECRET_ECHO,
    UNKNOWN_ID_NOT_FOUND,
    TARGET_ANSWERS,
];

pub type Verdict = Result<(), String>;

pub fn target_answers(e: &Exchange) -> Verdict {
    match &e.outcome {
        Ok(_) => Ok(()),
        Err(f) => Err(format!("no answer ({}): {}", f.kind, f.message)),
    }
}

pub fn not_a_server_error(a: &Answer) -> Verdict {
    if a.status >= 500 {
        Err(format!("answered {}", a.status))
    } else {
        Ok(())
    }
}

pub fn status_code_conformance(op: &Operation, a: &Answer) -> Verdict {
    match op.response(a.status) {
        Some(_) => Ok(()),
        None => Err(format!(
            "status {} is not documented for {} {}",
            a.status, op.method, op.path
        )),
    }
}

pub fn response_schema_conformance(schema: &Schema, op: &Operation, a: &Answer) -> Verdict {
    let Some(doc) = op.response(a.status) else {
        return Ok(());
    };
    let Some(shape) = &doc.body else {
        return Ok(());
    };
    // HTTP forbids a body on 204 and 304, whatever the document says.
    if matches!(a.status, 204 | 304) && a.body.is_empty() {
        return Ok(());
    }
    if a.truncated {
        return Err(format!(
            "the {} body is larger than the read limit",
            a.status
        ));
    }
    let Ok(v) = serde_json::from_slice::<Value>(&a.body) else {
        return Err(format!("the {} body is not JSON", a.status));
    };
    let problems = judge::check(schema, &v, shape);
    match problems.first() {
        None => Ok(()),
        Some(p) => Err(format!(
            "the {} body breaks its schema at {} ({})",
            a.status,
            p.dotted(),
            p.rule
        )),
    }
}

pub fn positive_data_acceptance(op: &Operation, a: &Answer) -> Verdict {
    if a.status == 422 {
        return Err(format!("a valid body got 422: {}", a.excerpt(300)));
    }
    if op.response(a.status).is_none() {
        return Err(format!("a valid body got undocumented status {}", a.status));
    }
    Ok(())
}

pub fn negative_data_rejection(m: &Mutation, a: &Answer) -> Verdict {
    if a.status == 422 {
        Ok(())
    } else {
        Err(format!(
            "a body breaking `{}` on {} got {}, not 422",
            m.rule, m.field, a.status
        ))
    }
}

pub fn validation_error_names_field(m: &Mutation, a: &Answer) -> Verdict {
    if a.status != 422 {
        return Ok(());
    }
    let Some(v) = a.json() else {
        return Err("the 422 body is not JSON".into());
    };
    let Some(items) = v.get("detail").and_then(Value::as_array) else {
        return Err("the 422 body has no `detail` list".into());
    };
    let mut want = vec![Value::String("body".into())];
    want.extend(m.path.iter().cloned());
    let names_it = items.iter().any(|i| {
        i.get("loc")
            .and_then(Value::as_array)
            .is_some_and(|loc| loc.len() >= want.len() && loc[..want.len()] == want[..])
    });
    if names_it {
        Ok(())
    } else {
        let locs: Vec<String> = items
            .iter()
            .filter_map(|i| i.get("loc").map(Value::to_string))
            .collect();
        Err(format!(
            "no `loc` starts with {}; got {}",
            Value::Array(want),
            locs.join(", ")
        ))
    }
}

pub fn no_secret_echo(a: &Answer, secrets: &[&str]) -> Verdict {
    let text = String::from_utf8_lossy(&a.body);
    match secrets.iter().find(|s| s.len() >= 4 && text.contains(**s)) {
        Some(_) => Err("the answer echoes a secret sent in the request".into()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn answer(status: u16, body: Value) -> Answer {
        Answer {
            status,
            content_type: Some("application/json".into()),
            retry_after: None,
            body: serde_json::to_vec(&body).unwrap(),
            truncated: false,
            elapsed: Duration::ZERO,
        }
    }

    fn mutation(path: Vec<Value>) -> Mutation {
        Mutation {
            rule: "below_minimum",
            field: "x".into(),
            path,
            body: json!({}),
            coercible: false,
        }
    }

    #[test]
    fn each_check_passes_and_fails() {
        assert!(not_a_server_error(&answer(503, json!({}))).is_err());
        // A status of the spec's own (the two-phase flow's) is documented, and not a 5xx.
        let own = crate::spec::update_op()
            .responses
            .iter()
            .map(|r| r.status)
            .find(|s| *s > 451)
            .expect("the spec documents a status of its own");
        assert!(not_a_server_error(&answer(own, json!({}))).is_ok());
        assert!(status_code_conformance(crate::spec::update_op(), &answer(own, json!({}))).is_ok());
        assert!(
            status_code_conformance(crate::spec::update_op(), &answer(200, json!({}))).is_err()
        );
        assert!(response_schema_conformance(
            crate::meta::schema(),
            crate::spec::update_op(),
            &answer(202, json!({"correlation_id": "c"}))
        )
        .is_ok());
        let e = response_schema_conformance(
            crate::meta::schema(),
            crate::spec::update_op(),
            &answer(202, json!({"status": "ok"})),
        )
        .unwrap_err();
        assert!(e.contains("correlation_id (required)"), "{e}");
        assert!(
            positive_data_acceptance(crate::spec::update_op(), &answer(422, json!({}))).is_err()
        );
        assert!(positive_data_acceptance(
            crate::spec::update_op(),
            &answer(409, json!({"detail": "busy"}))
        )
        .is_ok());
        let m = mutation(vec![json!("shutdown_timeout")]);
        assert!(negative_data_rejection(&m, &answer(202, json!({}))).is_err());
        let good =
            json!({"detail": [{"loc": ["body", "shutdown_timeout"], "msg": "m", "type": "t"}]});
        assert!(validation_error_names_field(&m, &answer(422, good)).is_ok());
        let other = json!({"detail": [{"loc": ["body", "vcpu"], "msg": "m", "type": "t"}]});
        assert!(validation_error_names_field(&m, &answer(422, other)).is_err());
        assert!(validation_error_names_field(&m, &answer(422, json!({"message": "bad"}))).is_err());
        assert!(no_secret_echo(
            &answer(202, json!({"e": "s3cr3t-value"})),
            &["s3cr3t-value"]
        )
        .is_err());
    }
}

//! The update's body judged as FastAPI and Pydantic v2 judge it: a `detail` list of errors,
//! each with its `loc`, the reference server's own code (it is not the suite's judge).

use super::*;

/// One FastAPI/Pydantic v2 style error item.
pub(crate) fn item(kind: &str, loc: &[Value], msg: &str, input: &Value) -> Value {
    let mut full = vec![json!("body")];
    full.extend_from_slice(loc);
    json!({ "type": kind, "loc": full, "msg": msg, "input": input })
}

pub(crate) fn validation_error(items: Vec<Value>, faults: &BTreeSet<Fault>) -> Response {
    let body = if faults.contains(&Fault::ValidationWithoutDetail) {
        json!({ "message": "invalid request" })
    } else {
        json!({ "detail": items })
    };
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// Validates an UpdateCvmRequest body the way Pydantic does in strict mode; returns error items.
pub(crate) fn validate(body: &Value, faults: &BTreeSet<Fault>) -> Vec<Value> {
    let mut errs = Vec::new();
    let Some(obj) = body.as_object() else {
        let (kind, msg) = if body.is_null() {
            ("missing", "Field required")
        } else {
            (
                "model_attributes_type",
                "Input should be a valid dictionary or object to extract fields from",
            )
        };
        return vec![item(kind, &[], msg, body)];
    };
    let strings = [
        "docker_compose_file",
        "pre_launch_script",
        "encrypted_env",
        "user_config",
        "image",
    ];
    let bools = ["public_logs", "public_sysinfo", "public_tcbinfo"];
    let ints = ["vcpu", "memory", "disk_size"];
    for (k, v) in obj {
        let loc = [json!(k)];
        if v.is_null() {
            let nullable = k != "allow_force_stop";
            let rejected = k == "shutdown_timeout" && faults.contains(&Fault::NullRejected);
            if !nullable || rejected {
                let (kind, msg) = if k == "allow_force_stop" {
                    ("bool_type", "Input should be a valid boolean")
                } else {
                    ("int_type", "Input should be a valid integer")
                };
                errs.push(item(kind, &loc, msg, v));
            }
            continue;
        }
        let k = k.as_str();
        if strings.contains(&k) && !v.is_string() {
            errs.push(item(
                "string_type",
                &loc,
                "Input should be a valid string",
                v,
            ));
        } else if (bools.contains(&k) || k == "allow_force_stop") && !v.is_boolean() {
            errs.push(item(
                "bool_type",
                &loc,
                "Input should be a valid boolean",
                v,
            ));
        } else if ints.contains(&k) || k == "shutdown_timeout" {
            check_int(v, &loc, k == "shutdown_timeout", faults, &mut errs);
        } else if k == "allowed_envs" {
            match v.as_array() {
                None => errs.push(item("list_type", &loc, "Input should be a valid list", v)),
                Some(a) => {
                    for (i, e) in a.iter().enumerate() {
                        if !e.is_string() {
                            errs.push(item(
                                "string_type",
                                &[json!(k), json!(i)],
                                "Input should be a valid string",
                                e,
                            ));
                        }
                    }
                }
            }
        } else if k == "gpus" {
            check_gpus(v, &mut errs);
        }
        // Unknown keys are ignored, as Pydantic does by default.
    }
    errs
}

pub(crate) fn check_int(
    v: &Value,
    loc: &[Value],
    bounded: bool,
    faults: &BTreeSet<Fault>,
    errs: &mut Vec<Value>,
) {
    let n = match v {
        Value::Number(n) if n.is_i64() || n.is_u64() => n.as_i64(),
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() != 0.0) => {
            errs.push(item(
                "int_from_float",
                loc,
                "Input should be a valid integer, got a number with a fractional part",
                v,
            ));
            return;
        }
        Value::Number(n) => n.as_f64().map(|f| f as i64),
        _ => {
            errs.push(item("int_type", loc, "Input should be a valid integer", v));
            return;
        }
    };
    let Some(n) = n else {
        errs.push(item(
            "int_parsing_size",
            loc,
            "Unable to parse input string as an integer, exceeded maximum size",
            v,
        ));
        return;
    };
    if bounded {
        let min = if faults.contains(&Fault::BoundOffByOne) {
            9
        } else {
            10
        };
        if n < min {
            errs.push(json!({"type": "greater_than_equal", "loc": ["body", loc[0].clone()], "msg": "Input should be greater than or equal to 10", "input": v, "ctx": {"ge": 10}}));
        } else if n > 1200 {
            errs.push(json!({"type": "less_than_equal", "loc": ["body", loc[0].clone()], "msg": "Input should be less than or equal to 1200", "input": v, "ctx": {"le": 1200}}));
        }
    }
}

pub(crate) fn check_gpus(v: &Value, errs: &mut Vec<Value>) {
    let Some(g) = v.as_object() else {
        errs.push(item(
            "model_type",
            &[json!("gpus")],
            "Input should be a valid dictionary or instance of GpuConfig",
            v,
        ));
        return;
    };
    match g.get("gpus") {
        None => errs.push(item(
            "missing",
            &[json!("gpus"), json!("gpus")],
            "Field required",
            v,
        )),
        Some(Value::Array(list)) => {
            for (i, spec) in list.iter().enumerate() {
                let at = |k: &str| vec![json!("gpus"), json!("gpus"), json!(i), json!(k)];
                let Some(s) = spec.as_object() else {
                    errs.push(item(
                        "model_type",
                        &at("")[..3],
                        "Input should be a valid dictionary or instance of GpuSpec",
                        spec,
                    ));
                    continue;
                };
                match s.get("slot") {
                    None => errs.push(item("missing", &at("slot"), "Field required", spec)),
                    Some(Value::String(_)) => {}
                    Some(other) => errs.push(item(
                        "string_type",
                        &at("slot"),
                        "Input should be a valid string",
                        other,
                    )),
                }
                if let Some(p) = s
                    .get("product_id")
                    .filter(|p| !p.is_null() && !p.is_string())
                {
                    errs.push(item(
                        "string_type",
                        &at("product_id"),
                        "Input should be a valid string",
                        p,
                    ));
                }
            }
        }
        Some(other) => errs.push(item(
            "list_type",
            &[json!("gpus"), json!("gpus")],
            "Input should be a valid list",
            other,
        )),
    }
    if let Some(m) = g.get("attach_mode").filter(|m| !m.is_string()) {
        errs.push(item(
            "string_type",
            &[json!("gpus"), json!("attach_mode")],
            "Input should be a valid string",
            m,
        ));
    }
}

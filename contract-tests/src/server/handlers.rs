//! The CVM's read and update: GET shows the CVM as its details report it, PATCH validates,
//! applies (late, with `--apply-delay`), runs the two-phase flow, and lets the switched-on faults
//! change what it does.

use super::*;

/// The CVM as GET reports it (disk in GB).
pub(crate) fn basic_info(c: &Cvm, faults: &BTreeSet<Fault>) -> Value {
    let f = &c.fields;
    let g = |k: &str| f.get(k).cloned().unwrap_or(Value::Null);
    let disk_mb = f.get("disk_size").and_then(Value::as_i64).unwrap_or(0);
    let _ = faults;
    let mut out = json!({
        "id": g("id"), "name": g("name"), "status": g("status"), "in_progress": false,
        "app_id": g("app_id"), "vcpu": g("vcpu"), "memory": g("memory"),
        "disk_size": disk_mb.div_euclid(1024), "base_image": g("image"),
        "public_logs": g("public_logs"), "public_sysinfo": g("public_sysinfo"), "listed": false,
    });
    if c.onchain {
        out["kms_info"] = json!({"id": "kms_base", "url": "https://kms.example", "version": "0.5", "chain_id": 8453, "kms_contract_address": "0x00000000000000000000000000000000000000aa"});
    }
    out
}

/// The CVM `id` names: itself, or, with [`Kind::NearMissIdServed`] on for `op`, the CVM it is a
/// near miss of (another case, surrounding whitespace).
fn resolve(inner: &mut Inner, op: &str, id: String) -> String {
    if inner.cvms.contains_key(&id) {
        return id;
    }
    let real = inner
        .cvms
        .keys()
        .find(|k| crate::faults::near_miss_of(&id, k))
        .cloned();
    match real {
        Some(real) if inner.fire(Kind::NearMissIdServed, op) => real,
        _ => id,
    }
}

pub(crate) async fn get_cvm(
    State(s): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut inner = s.lock().expect("state lock");
    let (op, _) = op_names();
    if !authorized(&mut inner, &headers, op) {
        return detail(StatusCode::UNAUTHORIZED, "Authentication required");
    }
    let id = resolve(&mut inner, op, id);
    let id = if !inner.cvms.contains_key(&id) && inner.fire(Kind::UnknownIdServed, op) {
        CVM_ID.to_string()
    } else {
        id
    };
    if let Some(c) = inner.cvms.get_mut(&id) {
        c.settle();
    }
    match inner.cvms.get(&id) {
        Some(c) => {
            let body = basic_info(c, &inner.faults);
            success(&mut inner, op, StatusCode::OK, body)
        }
        None => detail(StatusCode::NOT_FOUND, "CVM not found"),
    }
}

/// A short stable hash, standing in for the compose hash.
pub(crate) fn compose_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("0x{h:016x}")
}

pub(crate) async fn patch_cvm(
    State(s): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = s.lock().expect("state lock");
    let faults = inner.faults.clone();
    let (_, op) = op_names();
    // A string escaped on the wire is the same string: refused only with the fault on.
    if crate::faults::escapes_printable(&body) && inner.fire(Kind::EscapedUnicodeRefused, op) {
        let items = vec![
            json!({"type": "string_type", "loc": ["body"], "msg": "Input should be a valid string", "input": {}}),
        ];
        return validation_error(items, &faults);
    }
    // FastAPI decodes the JSON first: malformed JSON is a 422 whatever the credentials.
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                let items = vec![
                    json!({"type": "json_invalid", "loc": ["body", e.column()], "msg": "JSON decode error", "input": {}, "ctx": {"error": e.to_string()}}),
                ];
                return validation_error(items, &faults);
            }
        }
    };
    if !authorized(&mut inner, &headers, op) {
        return detail(StatusCode::UNAUTHORIZED, "Authentication required");
    }
    let mut errs = validate(&body, &faults);
    mutate_errors(&mut inner, op, &body, &mut errs);
    if !errs.is_empty() {
        return validation_error(errs, &faults);
    }
    let mut body = body;
    let folds = inner
        .generated
        .iter()
        .any(|g| g.kind == Kind::UndeclaredKeyFolded && g.on(op));
    if folds && crate::faults::fold_keys(crate::spec::update_body(), &mut body) {
        inner.fired += 1;
    }
    let obj = body.as_object().cloned().unwrap_or_default();
    let id = resolve(&mut inner, op, id);
    if inner.cvms.contains_key(&id) && crashes(&mut inner, op, &body) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
    }
    inner.updates += 1;
    if inner.timing.blip_at == Some(inner.updates) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
    }
    if faults.contains(&Fault::ExtraKeyServerError)
        && obj.keys().any(|k| !KNOWN_KEYS.contains(&k.as_str()))
    {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
    }
    if faults.contains(&Fault::ServerErrorOnEdge)
        && obj.get("shutdown_timeout") == Some(&json!(1200))
    {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
    }
    let timing = inner.timing;
    if !inner.cvms.contains_key(&id)
        && (faults.contains(&Fault::UnknownIdAccepted) || inner.fire(Kind::UnknownIdServed, op))
    {
        let n = inner.next_correlation;
        inner.next_correlation += 1;
        let answer = json!({"status": "accepted", "message": "Update initiated", "correlation_id": format!("corr-{n}")});
        return (StatusCode::ACCEPTED, Json(answer)).into_response();
    }
    let Some(cvm) = inner.cvms.get_mut(&id) else {
        return detail(StatusCode::NOT_FOUND, "CVM not found");
    };
    cvm.settle();
    if timing.busy_conflict && cvm.pending.is_some() {
        return detail(
            StatusCode::CONFLICT,
            "Another operation on this CVM is still running",
        );
    }
    let cvm = cvm.clone();

    // Two-phase flow for compose changes of an on-chain CVM.
    let compose_change =
        obj.contains_key("docker_compose_file") || obj.contains_key("pre_launch_script");
    if cvm.onchain && compose_change {
        let h = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let expected = compose_hash(&serde_json::to_string(&obj).unwrap_or_default());
        let phase1 = || {
            let app_id = cvm.fields.get("app_id").cloned().unwrap_or(Value::Null);
            let kms = basic_info(&cvm, &faults)["kms_info"].clone();
            (StatusCode::from_u16(465).expect("valid status"), Json(json!({
                "status": "precondition_required",
                "message": "Register the compose hash on chain, then repeat the request with X-Compose-Hash and X-Transaction-Hash.",
                "compose_hash": expected, "app_id": app_id, "device_id": "device-1", "kms_info": kms,
            })))
                .into_response()
        };
        if h("x-prepare-only").as_deref() == Some("true") {
            return phase1();
        }
        match (h("x-compose-hash"), h("x-transaction-hash")) {
            (None, _) => return phase1(),
            (Some(given), _) if given != expected && !inner.fire(Kind::WrongHashAccepted, op) => {
                return detail(
                    StatusCode::from_u16(466).expect("valid"),
                    "Compose hash invalid or expired",
                )
            }
            (Some(_), tx)
                if !tx
                    .as_deref()
                    .is_some_and(|t| t.starts_with("0x") && t.len() > 2)
                    && !inner.fire(Kind::MalformedTransactionAccepted, op) =>
            {
                return detail(
                    StatusCode::from_u16(467).expect("valid"),
                    "Transaction verification failed",
                )
            }
            _ => {
                let text = obj
                    .get("docker_compose_file")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if text.contains("not-allowed") {
                    return detail(
                        StatusCode::from_u16(468).expect("valid"),
                        "Compose hash not allowed on-chain",
                    );
                }
            }
        }
    }

    let echoed = obj.get("encrypted_env").cloned();
    inner.last_update = Some(body.clone());
    inner.nulled = crate::faults::nulled_keys(&body).into_iter().collect();
    // The state faults: which keys of this update are dropped, and which absent ones reset.
    let mut dropped = BTreeSet::new();
    let mut reset = BTreeMap::new();
    let readback = crate::spec::readback_object();
    for g in inner.generated.iter().filter(|g| g.on(op)) {
        let Some(k) = g.at.top_key() else { continue };
        match (g.kind, obj.get(k)) {
            (Kind::NullIgnored, Some(Value::Null)) => {
                dropped.insert(k.to_string());
            }
            (Kind::ValueIgnored, Some(v)) if !v.is_null() => {
                dropped.insert(k.to_string());
            }
            (Kind::AbsentCleared, None) => {
                let shows_null = crate::spec::update_body()
                    .field(k)
                    .and_then(|f| f.readback.as_ref())
                    .and_then(|r| readback.and_then(|o| o.field(&r.field)))
                    .is_some_and(|f| f.nullable);
                let first = initial_cvm(0, "", false).fields.get(k).cloned();
                reset.insert(
                    k.to_string(),
                    if shows_null {
                        Value::Null
                    } else {
                        first.unwrap_or(Value::Null)
                    },
                );
            }
            _ => {}
        }
    }
    inner.fired += (dropped.len() + reset.len()) as u64;
    let secret_echoed = inner.switched(Kind::SecretEchoed, op);
    let stored = inner.cvms.get_mut(&id).expect("present");
    // The update applies on top of what is being applied, if anything.
    let mut fields = match &stored.pending {
        Some((_, f)) => f.clone(),
        None => stored.fields.clone(),
    };
    if faults.contains(&Fault::AbsentCleared) {
        for k in ["public_logs", "image"] {
            if !obj.contains_key(k) {
                fields.insert(k.into(), Value::Null);
            }
        }
        if !obj.contains_key("vcpu") {
            fields.insert("vcpu".into(), json!(1));
        }
    }
    fields.extend(reset);
    for (k, v) in obj {
        if (k == "memory" && faults.contains(&Fault::PresentIgnored)) || dropped.contains(&k) {
            continue;
        }
        // Resources cannot be "cleared": null leaves them as they are.
        if v.is_null() && ["vcpu", "memory", "disk_size"].contains(&k.as_str()) {
            continue;
        }
        fields.insert(k, v);
    }
    if timing.apply_delay.is_zero() {
        stored.fields = fields;
    } else {
        stored.pending = Some((std::time::Instant::now() + timing.apply_delay, fields));
    }
    let n = inner.next_correlation;
    inner.next_correlation += 1;
    let mut answer = json!({"status": "accepted", "message": "Update initiated", "correlation_id": format!("corr-{n}")});
    if faults.contains(&Fault::AcceptedWithoutCorrelationId) {
        answer
            .as_object_mut()
            .expect("object")
            .remove("correlation_id");
    }
    if faults.contains(&Fault::EchoesSecret) {
        if let Some(e) = &echoed {
            answer["encrypted_env"] = e.clone();
        }
    }
    for g in secret_echoed {
        if let Some(k) = g.at.top_key() {
            if let Some(v) = body.get(k).filter(|v| !v.is_null()) {
                answer[k] = v.clone();
                inner.fired += 1;
            }
        }
    }
    let status = if faults.contains(&Fault::OkInsteadOfAccepted) {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    success(&mut inner, op, status, answer)
}

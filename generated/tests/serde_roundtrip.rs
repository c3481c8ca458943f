//! The wire form of generated types: absent, null and value stay apart, both ways.

use phala_cloud::types::{GpuConfig, GpuConfigAttachMode, GpuSpec, UpdateCvmRequest};
use phala_cloud::Patch;
use serde_json::{json, Value};

fn wire(body: &UpdateCvmRequest) -> String {
    serde_json::to_string(body).unwrap()
}

fn back(text: &str) -> UpdateCvmRequest {
    serde_json::from_str(text).unwrap()
}

#[test]
fn absent_null_and_value_serialise_apart_and_read_back() {
    let cases: [(Patch<i64>, &str); 3] = [
        (Patch::Absent, "{}"),
        (Patch::Null, r#"{"shutdown_timeout":null}"#),
        (Patch::Set(600), r#"{"shutdown_timeout":600}"#),
    ];
    for (value, expected) in cases {
        let body = UpdateCvmRequest {
            shutdown_timeout: value,
            ..Default::default()
        };
        assert_eq!(wire(&body), expected);
        assert_eq!(back(expected), body, "reading {expected} back");
    }
}

#[test]
fn every_nullable_field_keeps_an_explicit_null() {
    let all_null = json!({
        "docker_compose_file": null, "pre_launch_script": null, "allowed_envs": null,
        "public_logs": null, "public_sysinfo": null, "public_tcbinfo": null,
        "encrypted_env": null, "user_config": null, "gpus": null, "vcpu": null,
        "memory": null, "disk_size": null, "image": null, "shutdown_timeout": null
    });
    let body: UpdateCvmRequest = serde_json::from_value(all_null.clone()).unwrap();
    assert!(body.vcpu.is_null() && body.gpus.is_null() && body.allowed_envs.is_null());
    assert_eq!(serde_json::to_value(&body).unwrap(), all_null);
}

#[test]
fn allow_force_stop_is_optional_not_nullable_with_a_default() {
    assert_eq!(back("{}").allow_force_stop, None);
    assert!(!back("{}").allow_force_stop_or_default());
    assert_eq!(
        back(r#"{"allow_force_stop":true}"#).allow_force_stop,
        Some(true)
    );
    let sent = UpdateCvmRequest {
        allow_force_stop: Some(false),
        ..Default::default()
    };
    assert_eq!(wire(&sent), r#"{"allow_force_stop":false}"#);
    // null is not a value of a non-nullable field; serde reads it as None, which the server's
    // validation (not this type) must refuse: see the contract tests.
}

#[test]
fn attach_mode_is_open_and_defaults_to_listed() {
    let g: GpuConfig = serde_json::from_str(r#"{"gpus":[{"slot":"s1"}]}"#).unwrap();
    assert_eq!(g.attach_mode, None);
    assert_eq!(g.attach_mode_or_default(), GpuConfigAttachMode::Listed);
    let g: GpuConfig = serde_json::from_str(r#"{"gpus":[],"attach_mode":"all"}"#).unwrap();
    assert_eq!(g.attach_mode, Some(GpuConfigAttachMode::All));
    let g: GpuConfig = serde_json::from_str(r#"{"gpus":[],"attach_mode":"numa-local"}"#).unwrap();
    assert_eq!(
        g.attach_mode,
        Some(GpuConfigAttachMode::Other("numa-local".into()))
    );
    assert_eq!(
        serde_json::to_string(&g).unwrap(),
        r#"{"gpus":[],"attach_mode":"numa-local"}"#
    );
}

#[test]
fn required_keys_are_required() {
    assert!(serde_json::from_str::<GpuConfig>(r#"{"attach_mode":"all"}"#).is_err());
    assert!(serde_json::from_str::<GpuSpec>(r#"{"product_id":"x"}"#).is_err());
    let spec: GpuSpec = serde_json::from_str(r#"{"slot":"a","product_id":null}"#).unwrap();
    assert!(spec.product_id.is_null());
}

#[test]
fn fastapi_validation_bodies_with_extra_keys_parse() {
    let body = json!({"detail": [{
        "type": "less_than_equal", "loc": ["body", "shutdown_timeout"],
        "msg": "Input should be less than or equal to 1200", "input": 5000,
        "ctx": {"le": 1200}, "url": "https://errors.pydantic.dev/2.9/v/less_than_equal"
    }, {"type": "missing", "loc": ["body", "gpus", "gpus", 0, "slot"], "msg": "Field required"}]});
    let parsed: phala_cloud::types::HttpValidationError = serde_json::from_value(body).unwrap();
    let detail = parsed.detail.unwrap();
    assert_eq!(detail.len(), 2);
    assert_eq!(detail[0].r#type, "less_than_equal");
    use phala_cloud::types::ValidationErrorLocItem as Loc;
    assert_eq!(
        detail[1].loc,
        [
            Loc::String("body".into()),
            Loc::String("gpus".into()),
            Loc::String("gpus".into()),
            Loc::Integer(0),
            Loc::String("slot".into())
        ]
    );
}

#[test]
fn a_full_body_round_trips() {
    let body = UpdateCvmRequest {
        docker_compose_file: Patch::Set("services: {}\n".into()),
        allowed_envs: Patch::Set(vec!["A".into(), "B".into()]),
        public_logs: Patch::Set(true),
        gpus: Patch::Set(GpuConfig {
            gpus: vec![GpuSpec {
                slot: "0000:01:00.0".into(),
                product_id: Patch::Null,
                extra: Default::default(),
            }],
            attach_mode: Some(GpuConfigAttachMode::Listed),
            extra: Default::default(),
        }),
        vcpu: Patch::Set(4),
        memory: Patch::Null,
        image: Patch::Set("dstack-0.5".into()),
        allow_force_stop: Some(true),
        ..Default::default()
    };
    let text = wire(&body);
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value["gpus"]["gpus"][0],
        json!({"slot": "0000:01:00.0", "product_id": null})
    );
    assert_eq!(value.as_object().unwrap().len(), 8);
    assert_eq!(back(&text), body);
}

#[test]
fn a_known_value_of_an_open_enum_has_one_representation() {
    let other = GpuConfigAttachMode::Other("all".into());
    assert_eq!(other, GpuConfigAttachMode::All);
    assert_eq!(
        "all".parse::<GpuConfigAttachMode>().unwrap(),
        GpuConfigAttachMode::All
    );
    assert_eq!(GpuConfigAttachMode::from("all"), GpuConfigAttachMode::All);
    let read: GpuConfigAttachMode =
        serde_json::from_str(&serde_json::to_string(&other).unwrap()).unwrap();
    assert_eq!(read, other);
    let hash = |v: &GpuConfigAttachMode| {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        v.hash(&mut h);
        h.finish()
    };
    assert_eq!(hash(&other), hash(&GpuConfigAttachMode::All));
    assert_ne!(
        GpuConfigAttachMode::from("mig"),
        GpuConfigAttachMode::All,
        "unknown values stay apart"
    );
    assert_eq!(GpuConfigAttachMode::from("mig").as_str(), "mig");
}

#[test]
fn a_schema_is_named_by_its_title_when_the_title_is_unique() {
    // The key is `teehouse__api__routes__cvms__management__CvmBasicInfo`; its title names it.
    let cvm: phala_cloud::types::CvmBasicInfo = serde_json::from_value(json!({
        "id": 1, "name": "n", "status": "running", "app_id": "a",
        "vcpu": 1, "memory": 1024, "disk_size": 10
    }))
    .unwrap();
    assert_eq!(cvm.vcpu, 1);
}

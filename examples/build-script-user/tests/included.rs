//! The client build.rs wrote: only the selected operation, and every type serialisable (the
//! module form has no `serialize` feature to ask for it).

use example_build_script_user::types::{UpdateCvmParams, UpdateCvmRequest, UpdateCvmResponse};
use example_build_script_user::{Client, Patch};

const SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.rs"));

#[test]
fn only_the_selected_operation_is_written() {
    assert!(SOURCE.contains("pub async fn update_cvm("));
    assert!(
        !SOURCE.contains("pub async fn get_cvm("),
        "get_cvm was not selected"
    );
}

#[tokio::test]
async fn the_included_client_sends_an_update() {
    use contract_tests::server::{self, CVM_ID, DEFAULT_API_KEY};
    let running = server::spawn(DEFAULT_API_KEY, &[]).expect("reference server");
    let client = Client::builder(running.url.clone())
        .api_key(DEFAULT_API_KEY)
        .build()
        .expect("client");
    let body = UpdateCvmRequest {
        vcpu: Patch::Set(2),
        ..Default::default()
    };
    match client
        .update_cvm(CVM_ID, &body, &UpdateCvmParams::default())
        .await
        .expect("an answer")
    {
        // An answer type serialises too, in this form.
        UpdateCvmResponse::Accepted(accepted) => {
            let json = serde_json::to_value(&accepted).expect("serialisable");
            assert!(json.is_object(), "{json}");
        }
        other => panic!("{other:?}"),
    }
}

//! The client `generate_api!` expanded, used as a generated crate's would be: against spec/'s
//! reference server, an update is accepted and shows when the CVM is read back.

use contract_tests::server::{self, CVM_ID, DEFAULT_API_KEY};
use example_macro_user::types::{
    GetCvmResponse, UpdateCvmParams, UpdateCvmRequest, UpdateCvmResponse,
};
use example_macro_user::{Client, Patch};

#[tokio::test]
async fn the_expanded_client_updates_and_reads_back() {
    let running = server::spawn(DEFAULT_API_KEY, &[]).expect("reference server");
    let client = Client::builder(running.url.clone())
        .api_key(DEFAULT_API_KEY)
        .build()
        .expect("client");
    let body = UpdateCvmRequest {
        public_logs: Patch::Set(false),
        ..Default::default()
    };
    let answer = client
        .update_cvm(CVM_ID, &body, &UpdateCvmParams::default())
        .await
        .expect("an answer");
    assert!(
        matches!(answer, UpdateCvmResponse::Accepted(_)),
        "{answer:?}"
    );
    match client.get_cvm(CVM_ID).await.expect("an answer") {
        GetCvmResponse::Ok(cvm) => assert_eq!(cvm.public_logs, Patch::Set(false), "{cvm:?}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn without_the_key_the_answer_is_the_documented_401() {
    let running = server::spawn(DEFAULT_API_KEY, &[]).expect("reference server");
    let client = Client::new(running.url.clone()).expect("client");
    let answer = client.get_cvm(CVM_ID).await.expect("an answer");
    assert!(
        matches!(answer, GetCvmResponse::Unauthorized(_)),
        "{answer:?}"
    );
}

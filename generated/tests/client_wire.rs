//! The generated client against a local HTTP server on 127.0.0.1: what goes on the wire, and how
//! each answer comes back.

use phala_cloud::types::{UpdateCvmParams, UpdateCvmRequest, UpdateCvmResponse};
use phala_cloud::{Client, Error, Patch};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the server read it.
#[derive(Debug)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn read_request(sock: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen {
        method,
        path,
        headers,
        body,
    })
}

/// Serves one connection: reads one request, answers `status` with `body`, returns what it read
/// (or `None` when no request came within 5 s).
async fn serve_once(status: u16, body: &str) -> (String, tokio::task::JoinHandle<Option<Seen>>) {
    serve_once_within(status, body, Duration::from_secs(5)).await
}

async fn serve_once_within(
    status: u16,
    body: &str,
    wait: Duration,
) -> (String, tokio::task::JoinHandle<Option<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let body = body.to_string();
    let handle = tokio::spawn(async move {
        let accepted = tokio::time::timeout(wait, listener.accept()).await;
        let (mut sock, _) = accepted.ok()?.ok()?;
        let seen = read_request(&mut sock).await?;
        let answer = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\nx-request-id: r-1\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        sock.write_all(answer.as_bytes()).await.ok()?;
        let _ = sock.shutdown().await;
        Some(seen)
    });
    (base, handle)
}

fn client(base: &str) -> Client {
    Client::builder(base)
        .api_key("test-key")
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn body() -> UpdateCvmRequest {
    UpdateCvmRequest {
        vcpu: Patch::Set(4),
        shutdown_timeout: Patch::Null,
        ..Default::default()
    }
}

#[tokio::test]
async fn patch_sends_method_path_headers_and_exact_body() {
    let (base, server) = serve_once(
        202,
        r#"{"status":"accepted","message":"ok","correlation_id":"c-42"}"#,
    )
    .await;
    let params = UpdateCvmParams {
        x_compose_hash: Some("0xabc".into()),
        ..Default::default()
    };
    let answer = client(&base)
        .update_cvm("app_123", &body(), &params)
        .await
        .unwrap();
    let seen = server.await.unwrap().expect("a request");
    assert_eq!(seen.method, "PATCH");
    assert_eq!(seen.path, "/api/v1/cvms/app_123");
    assert_eq!(seen.header("x-api-key"), Some("test-key"));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("x-compose-hash"), Some("0xabc"));
    assert_eq!(seen.header("x-transaction-hash"), None);
    assert_eq!(seen.header("x-prepare-only"), None);
    assert_eq!(
        String::from_utf8(seen.body).unwrap(),
        r#"{"vcpu":4,"shutdown_timeout":null}"#
    );
    match answer {
        UpdateCvmResponse::Accepted(a) => assert_eq!(a.correlation_id, "c-42"),
        other => panic!("expected Accepted, got {other:?}"),
    }
}

#[tokio::test]
async fn path_parameters_are_percent_encoded() {
    let (base, server) = serve_once(404, r#"{"detail":"CVM not found"}"#).await;
    let answer = client(&base)
        .update_cvm(
            "a b/c?d",
            &UpdateCvmRequest::default(),
            &UpdateCvmParams::default(),
        )
        .await
        .unwrap();
    let seen = server.await.unwrap().unwrap();
    assert_eq!(seen.path, "/api/v1/cvms/a%20b%2Fc%3Fd");
    assert_eq!(String::from_utf8(seen.body).unwrap(), "{}");
    assert!(matches!(answer, UpdateCvmResponse::NotFound(e) if e.detail == "CVM not found"));
}

#[tokio::test]
async fn conflict_is_its_own_variant() {
    let (base, _server) = serve_once(409, r#"{"detail":"Another operation in progress"}"#).await;
    let answer = client(&base)
        .update_cvm("1", &body(), &Default::default())
        .await
        .unwrap();
    assert!(
        matches!(answer, UpdateCvmResponse::Conflict(e) if e.detail == "Another operation in progress")
    );
}

#[tokio::test]
async fn validation_error_is_typed_with_fastapi_extras() {
    let fastapi_422 = r#"{"detail":[{"type":"less_than_equal","loc":["body","shutdown_timeout"],"msg":"Input should be less than or equal to 1200","input":1201,"ctx":{"le":1200},"url":"https://errors.pydantic.dev/2.9/v/less_than_equal"}]}"#;
    let (base, _server) = serve_once(422, fastapi_422).await;
    let answer = client(&base)
        .update_cvm("1", &body(), &Default::default())
        .await
        .unwrap();
    let UpdateCvmResponse::UnprocessableEntity(e) = answer else {
        panic!("expected UnprocessableEntity, got {answer:?}");
    };
    let item = &e.detail.unwrap()[0];
    assert_eq!(item.r#type, "less_than_equal");
    use phala_cloud::types::ValidationErrorLocItem as Loc;
    assert_eq!(
        item.loc,
        [
            Loc::String("body".into()),
            Loc::String("shutdown_timeout".into())
        ]
    );
}

#[tokio::test]
async fn phase_one_of_the_on_chain_flow_is_465() {
    let (base, _server) = serve_once(
        465,
        r#"{"status":"precondition_required","message":"register it","compose_hash":"0xfeed","app_id":"app_1","device_id":"dev_9","kms_info":{"id":"kms_1","url":"https://kms","version":"1","chain_id":8453}}"#,
    )
    .await;
    let answer = client(&base)
        .update_cvm("1", &body(), &Default::default())
        .await
        .unwrap();
    let UpdateCvmResponse::Status465(p) = answer else {
        panic!("expected Status465, got {answer:?}");
    };
    assert_eq!(p.compose_hash, "0xfeed");
    assert_eq!(p.kms_info.as_option().unwrap().chain_id, Patch::Set(8453));
}

#[tokio::test]
async fn undocumented_answers_are_kept_whole() {
    let (base, _server) = serve_once(418, "<html>teapot</html>").await;
    let answer = client(&base)
        .update_cvm("1", &body(), &Default::default())
        .await
        .unwrap();
    let UpdateCvmResponse::Undocumented(raw) = answer else {
        panic!("expected Undocumented, got {answer:?}");
    };
    assert_eq!(raw.status, 418);
    assert_eq!(raw.text(), "<html>teapot</html>");
    assert_eq!(raw.headers.get("x-request-id").unwrap(), "r-1");
}

#[tokio::test]
async fn a_documented_status_with_a_wrong_body_keeps_the_raw_answer() {
    let (base, _server) = serve_once(202, r#"{"status":"accepted"}"#).await;
    let err = client(&base)
        .update_cvm("1", &body(), &Default::default())
        .await
        .unwrap_err();
    let Error::Decode { response, source } = err else {
        panic!("expected Decode, got {err:?}");
    };
    assert_eq!(response.status, 202);
    assert!(source.to_string().contains("correlation_id"), "{source}");
}

#[tokio::test]
async fn out_of_range_values_are_refused_before_sending() {
    let (base, server) = serve_once_within(202, "{}", Duration::from_millis(300)).await;
    let bad = UpdateCvmRequest {
        shutdown_timeout: Patch::Set(5),
        ..Default::default()
    };
    let err = client(&base)
        .update_cvm("1", &bad, &Default::default())
        .await
        .unwrap_err();
    let Error::Validation(v) = err else {
        panic!("expected Validation, got {err:?}")
    };
    let first = &v.violations()[0];
    assert_eq!(
        (first.path.as_str(), first.rule),
        ("shutdown_timeout", "minimum")
    );
    assert_eq!(
        v.to_string(),
        "shutdown_timeout: must be at least 10, got 5 (minimum)"
    );
    assert!(
        server.await.unwrap().is_none(),
        "nothing may reach the server"
    );

    use phala_cloud::Validate;
    let edge = |n| UpdateCvmRequest {
        shutdown_timeout: Patch::Set(n),
        ..Default::default()
    };
    assert!(edge(10).validate().is_ok() && edge(1200).validate().is_ok());
    assert_eq!(
        edge(1201).validate().unwrap_err().violations()[0].rule,
        "maximum"
    );
}

#[tokio::test]
async fn a_silent_server_hits_the_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        drop(sock);
    });
    let c = Client::builder(&base)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = c
        .update_cvm("1", &body(), &Default::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Transport(e) if e.is_timeout()),
        "{err:?}"
    );
    hold.abort();
}

#[tokio::test]
async fn large_answers_are_bounded() {
    let big = format!("{{\"detail\":\"{}\"}}", "x".repeat(10_000));
    let (base, _server) = serve_once(409, &big).await;
    let c = Client::builder(&base)
        .max_response_bytes(1024)
        .build()
        .unwrap();
    let err = c
        .update_cvm("1", &body(), &Default::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::BodyTooLarge {
                status: 409,
                limit: 1024
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn your_own_reqwest_client_is_used() {
    let (base, server) = serve_once(202, r#"{"correlation_id":"c"}"#).await;
    let http = reqwest::Client::builder()
        .user_agent("mine/1.0")
        .build()
        .unwrap();
    let c = Client::builder(&base)
        .http_client(http)
        .api_key("k-own")
        .build()
        .unwrap();
    let answer = c
        .update_cvm("1", &body(), &Default::default())
        .await
        .unwrap();
    assert!(matches!(answer, UpdateCvmResponse::Accepted(_)));
    let seen = server.await.unwrap().unwrap();
    assert_eq!(seen.header("user-agent"), Some("mine/1.0"));
    assert_eq!(
        seen.header("x-api-key"),
        Some("k-own"),
        "the key set on the builder is kept with your own reqwest client"
    );
}

#[tokio::test]
async fn get_reads_the_cvm_back() {
    let (base, server) = serve_once(
        200,
        r#"{"id":7,"name":"web","status":"running","app_id":"app_7","vcpu":4,"memory":4096,"disk_size":40,"public_logs":true,"unknown_field":1}"#,
    )
    .await;
    let answer = client(&base).get_cvm("app_7").await.unwrap();
    let seen = server.await.unwrap().unwrap();
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("GET", "/api/v1/cvms/app_7")
    );
    let phala_cloud::types::GetCvmResponse::Ok(cvm) = answer else {
        panic!("{answer:?}")
    };
    assert_eq!((cvm.vcpu, cvm.disk_size), (4, 40));
    assert_eq!(cvm.public_logs, Patch::Set(true));
    assert!(cvm.base_image.is_absent());
}

// ---------------------------------------------------------------------------------------------
// Trust: credentials never shown, no path escape, exact errors, comparable answers.
// ---------------------------------------------------------------------------------------------

const KEY: &str = "sk-live-7f3a9c1e";
const TOKEN: &str = "tok-b81d44e0";

/// Every public type that holds a credential, formatted every way `Debug` can be.
#[test]
fn debug_never_shows_a_credential() {
    let builder = Client::builder("http://127.0.0.1:9")
        .api_key(KEY)
        .bearer_token(TOKEN);
    let builder_text = format!("{builder:?} {builder:#?}");
    let client = builder.build().unwrap();
    let own = Client::builder("http://127.0.0.1:9")
        .http_client(
            reqwest::Client::builder()
                .default_headers(
                    [(
                        reqwest::header::HeaderName::from_static("x-api-key"),
                        reqwest::header::HeaderValue::from_static(KEY),
                    )]
                    .into_iter()
                    .collect(),
                )
                .build()
                .unwrap(),
        )
        .api_key(KEY)
        .build()
        .unwrap();
    let texts = [
        builder_text,
        format!("{client:?} {client:#?}"),
        format!("{:?}", client.inner()),
        format!("{own:?} {own:#?}"),
        format!("{:?}", client.clone()),
    ];
    for text in &texts {
        assert!(!text.contains(KEY), "API key shown: {text}");
        assert!(!text.contains(TOKEN), "bearer token shown: {text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
}

#[test]
fn debug_of_a_body_hides_its_secret_fields() {
    let body = UpdateCvmRequest {
        encrypted_env: Patch::Set("c0ffee5ecre7".into()),
        vcpu: Patch::Set(2),
        ..Default::default()
    };
    let text = format!("{body:?} {body:#?}");
    assert!(!text.contains("c0ffee5ecre7"), "{text}");
    assert!(text.contains("encrypted_env: <redacted>"), "{text}");
    assert!(
        text.contains("vcpu: Set(\n        2"),
        "other fields still shown: {text}"
    );
    // The wire form is unchanged.
    assert!(serde_json::to_string(&body)
        .unwrap()
        .contains("c0ffee5ecre7"));
}

#[tokio::test]
async fn dot_segments_and_empty_path_parameters_are_refused_before_sending() {
    for bad in ["..", ".", ""] {
        let (base, server) = serve_once_within(202, "{}", Duration::from_millis(300)).await;
        let err = client(&base)
            .update_cvm(bad, &body(), &Default::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Encode { name, .. } if name == "cvm_id"),
            "{bad:?}: {err:?}"
        );
        assert!(err.to_string().contains("`cvm_id`"), "{err}");
        assert!(server.await.unwrap().is_none(), "{bad:?}: nothing is sent");
    }
}

#[tokio::test]
async fn encoded_dots_stay_inside_the_resource() {
    for (id, path) in [
        ("%2e%2e", "/api/v1/cvms/%252e%252e"),
        ("a/..", "/api/v1/cvms/a%2F.."),
        ("...", "/api/v1/cvms/..."),
    ] {
        let (base, server) = serve_once(404, r#"{"detail":"no"}"#).await;
        let answer = client(&base).get_cvm(id).await.unwrap();
        assert!(matches!(
            answer,
            phala_cloud::types::GetCvmResponse::NotFound(_)
        ));
        assert_eq!(server.await.unwrap().unwrap().path, path);
    }
}

#[tokio::test]
async fn a_header_with_cr_or_lf_is_an_encode_error_naming_the_header() {
    let (base, server) = serve_once_within(202, "{}", Duration::from_millis(300)).await;
    let params = UpdateCvmParams {
        x_compose_hash: Some("0xabc\r\nX-Injected: 1".into()),
        ..Default::default()
    };
    let err = client(&base)
        .update_cvm("app_1", &body(), &params)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Encode { name, .. } if name == "X-Compose-Hash"),
        "{err:?}"
    );
    assert!(server.await.unwrap().is_none(), "nothing is sent");
}

#[test]
fn a_credential_no_header_can_carry_is_refused_by_build() {
    for (key, token, name) in [
        ("key-9f2\r\nX-Evil: 1", "tok-1", "api_key"),
        ("key-9f2\n", "tok-1", "api_key"),
        ("key-9f2", "tok-1\r\n", "bearer_token"),
    ] {
        let err = Client::builder("http://127.0.0.1:9")
            .api_key(key)
            .bearer_token(token)
            .build()
            .unwrap_err();
        assert!(
            matches!(&err, Error::Encode { name: n, .. } if n == name),
            "{err:?}"
        );
        let text = format!("{err:?} {err}");
        assert!(
            !text.contains("key-9f2") && !text.contains("tok-1"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn answers_compare_with_assert_eq() {
    let mut answers = Vec::new();
    for _ in 0..2 {
        let (base, _server) = serve_once(202, r#"{"correlation_id":"c-1"}"#).await;
        answers.push(
            client(&base)
                .update_cvm("app_1", &body(), &Default::default())
                .await
                .unwrap(),
        );
    }
    assert_eq!(answers[0], answers[1]);
    let mut raws = Vec::new();
    for _ in 0..2 {
        let (base, _server) = serve_once(418, "teapot").await;
        let answer = client(&base).get_cvm("app_1").await.unwrap();
        let phala_cloud::types::GetCvmResponse::Undocumented(raw) = answer else {
            panic!("{answer:?}")
        };
        raws.push(raw);
    }
    assert_eq!(raws[0], raws[1]);
    assert_eq!(&raws[0].body[..], b"teapot");
}

/// A documented status whose body is not the documented one is `Error::Decode` with the answer
/// kept whole (see the crate README).
#[tokio::test]
async fn a_documented_status_with_another_body_is_decode_with_the_answer_kept() {
    for (status, text) in [
        (401, "Unauthorized"),
        (422, r#"{"detail":"a string, not a list"}"#),
    ] {
        let (base, _server) = serve_once(status, text).await;
        let err = client(&base)
            .update_cvm("app_1", &body(), &Default::default())
            .await
            .unwrap_err();
        let Error::Decode { response, .. } = err else {
            panic!("{status}: {err:?}")
        };
        assert_eq!(response.status, status);
        assert_eq!(response.text(), text);
    }
}

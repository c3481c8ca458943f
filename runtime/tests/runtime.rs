//! The runtime on its own: the tri-state field, validation, encoding, requests and the client,
//! through its public API only.

use openapi_runtime::{
    encode_component, field_path, path_param, Auth, Client, Error, Patch, RawResponse, Request,
    Validate, ValidationErrors,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

// ------------------------------------------------------------------------------------------
// Patch
// ------------------------------------------------------------------------------------------

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct Body {
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    n: Patch<i64>,
}

#[test]
fn patch_keeps_absent_null_and_value_apart_both_ways() {
    for (value, wire) in [
        (Patch::Absent, "{}"),
        (Patch::Null, r#"{"n":null}"#),
        (Patch::Set(3), r#"{"n":3}"#),
    ] {
        let body = Body { n: value };
        assert_eq!(serde_json::to_string(&body).unwrap(), wire);
        assert_eq!(serde_json::from_str::<Body>(wire).unwrap(), body);
    }
}

#[test]
fn patch_accessors() {
    let set = Patch::Set(1);
    assert!(set.is_set() && !set.is_null() && !set.is_absent());
    assert_eq!(set.as_option(), Some(&1));
    assert_eq!(set.into_option(), Some(1));
    assert!(Patch::<i32>::Null.is_null());
    assert_eq!(Patch::<i32>::Null.into_option(), None);
    assert_eq!(Patch::from_option(None::<i32>), Patch::Null);
    assert_eq!(Patch::from(5), Patch::Set(5));
    assert_eq!(Patch::<u8>::default(), Patch::Absent);
}

// ------------------------------------------------------------------------------------------
// Validation
// ------------------------------------------------------------------------------------------

#[test]
fn bounds_inclusive_and_exclusive() {
    let mut e = ValidationErrors::default();
    e.minimum("a", 10, 10, false);
    e.maximum("a", 10, 10, false);
    assert!(e.violations().is_empty());
    e.minimum("b", 10, 10, true);
    e.maximum("c", 10, 10, true);
    e.minimum("d", 9, 10, false);
    let rules: Vec<(&str, &str)> = e
        .violations()
        .iter()
        .map(|v| (v.path.as_str(), v.rule))
        .collect();
    assert_eq!(
        rules,
        [("b", "minimum"), ("c", "maximum"), ("d", "minimum")]
    );
    assert_eq!(
        e.violations()[2].to_string(),
        "d: must be at least 10, got 9 (minimum)"
    );
}

#[test]
fn integer_multiples_are_exact_beyond_two_to_the_53() {
    // Found by the constructs fixture's agreement test: 9033810484125115 is a multiple of 5, but
    // as a float it reads 9033810484125116, which is not.
    let mut e = ValidationErrors::default();
    e.multiple_of_integer("m", 9_033_810_484_125_115, 5);
    e.multiple_of_integer("m", i128::from(i64::MIN), 2);
    assert!(e.violations().is_empty(), "{e}");
    e.multiple_of_integer("m", 9_033_810_484_125_116, 5);
    assert_eq!(e.violations().len(), 1);
}

#[test]
fn multiple_of_lengths_and_items() {
    let mut e = ValidationErrors::default();
    e.multiple_of("m", 15.0, 5.0);
    e.multiple_of("m", 0.3, 0.1);
    assert!(e.violations().is_empty(), "{e}");
    e.multiple_of("m", 7.0, 5.0);
    e.length("s", "héllo", Some(6), Some(10));
    e.length("s", "héllo", None, Some(4));
    e.length("s", "héllo", Some(5), Some(5));
    e.items("v", 0, Some(1), None);
    e.items("v", 4, None, Some(3));
    let rules: Vec<&str> = e.violations().iter().map(|v| v.rule).collect();
    assert_eq!(
        rules,
        [
            "multipleOf",
            "minLength",
            "maxLength",
            "minItems",
            "maxItems"
        ]
    );
}

struct Bounded(i64);

impl Validate for Bounded {
    fn validate_into(&self, path: &str, errors: &mut ValidationErrors) {
        errors.maximum(path, self.0, 3, false);
    }
}

#[test]
fn containers_validate_every_element_under_its_path() {
    let v = vec![Bounded(1), Bounded(9)];
    let err = v.validate().unwrap_err();
    assert_eq!(err.violations()[0].path, "[1]");
    let map: BTreeMap<String, Bounded> = [("k".to_string(), Bounded(4))].into_iter().collect();
    assert_eq!(map.validate().unwrap_err().violations()[0].path, "k");
    assert!(Patch::<Bounded>::Null.validate().is_ok());
    assert!(Patch::Set(Bounded(5)).validate().is_err());
    assert!(None::<Bounded>.validate().is_ok());
    assert!(Some(Box::new(Bounded(5))).validate().is_err());
    assert_eq!(field_path("", "a"), "a");
    assert_eq!(field_path("a[0]", "b"), "a[0].b");
    let wrapped: Error = err.into();
    assert!(wrapped
        .to_string()
        .starts_with("invalid request: [1]: must be at most 3"));
}

// ------------------------------------------------------------------------------------------
// Encoding
// ------------------------------------------------------------------------------------------

#[test]
fn components_are_percent_encoded_except_unreserved() {
    assert_eq!(encode_component("a-b_c.d~e"), "a-b_c.d~e");
    assert_eq!(encode_component("a/b c?%"), "a%2Fb%20c%3F%25");
    assert_eq!(encode_component("é"), "%C3%A9");
}

#[test]
fn path_parameters_that_would_leave_their_resource_are_refused() {
    for bad in ["", ".", ".."] {
        let err = path_param("id", bad).unwrap_err();
        assert!(
            matches!(&err, Error::Encode { name, .. } if name == "id"),
            "{bad:?}: {err:?}"
        );
    }
    assert!(matches!(
        path_param("id", &None::<String>),
        Err(Error::Encode { .. })
    ));
    assert_eq!(path_param("id", "...").unwrap(), "...");
    assert_eq!(path_param("id", "%2e").unwrap(), "%252e");
    assert_eq!(path_param("id", &42).unwrap(), "42");
    assert_eq!(path_param("id", &true).unwrap(), "true");
}

#[test]
fn headers_refuse_control_characters_by_name() {
    let mut r = Request::new(reqwest::Method::GET, "/".into(), &[]);
    assert!(r.header("X-Ok", "fine").is_ok());
    assert!(r.header("X-None", &None::<String>).is_ok());
    for bad in ["a\r\nb", "a\nb", "a\0b"] {
        let err = r.header("X-Bad", bad).unwrap_err();
        assert!(
            matches!(&err, Error::Encode { name, .. } if name == "X-Bad"),
            "{err:?}"
        );
        assert!(err.to_string().contains("`X-Bad`"), "{err}");
    }
}

// ------------------------------------------------------------------------------------------
// Answers
// ------------------------------------------------------------------------------------------

#[test]
fn raw_answers_decode_compare_and_keep_their_body() {
    let raw = |body: &str| RawResponse {
        status: 200,
        headers: Default::default(),
        body: body.as_bytes().to_vec().into(),
    };
    assert_eq!(raw(" ").json::<Option<i32>>().unwrap(), None);
    assert_eq!(raw("[1]").json::<Vec<i32>>().unwrap(), vec![1]);
    let Err(Error::Decode { response, .. }) = raw("nope").json::<i32>() else {
        panic!("not a decode error")
    };
    assert_eq!(*response, raw("nope"));
    assert_eq!(response.text(), "nope");
    assert_ne!(raw("a"), raw("b"));
}

// ------------------------------------------------------------------------------------------
// The client on the wire
// ------------------------------------------------------------------------------------------

/// Answers every connection with `answer(request head)` until dropped; returns the base URL and the
/// heads it saw.
async fn server(
    answer: impl Fn(&str) -> String + Send + Sync + 'static,
) -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let answer = std::sync::Arc::new(answer);
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while let Ok(Ok((mut sock, _))) = tokio::time::timeout_at(deadline, listener.accept()).await
        {
            let mut buf = vec![0u8; 8192];
            let n = sock.read(&mut buf).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            let out = answer(&head);
            let _ = tx.send(head);
            let _ = sock.write_all(out.as_bytes()).await;
            let _ = sock.shutdown().await;
        }
    });
    (base, rx)
}

fn ok(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn credentials_go_where_the_operation_says() {
    const AUTH: &[Auth] = &[Auth::ApiKeyHeader("X-API-Key"), Auth::Bearer];
    const QUERY: &[Auth] = &[Auth::ApiKeyQuery("api_key")];
    let (base, mut seen) = server(|_| ok("{}")).await;
    let c = Client::builder(&base)
        .api_key("k1")
        .bearer_token("t1")
        .build()
        .unwrap();
    let mut r = Request::new(reqwest::Method::GET, "/a".into(), AUTH);
    r.query("q", &["x y", "z"]).unwrap();
    c.send(r).await.unwrap();
    let head = seen.recv().await.unwrap().to_ascii_lowercase();
    assert!(head.starts_with("get /a?q=x+y&q=z http/1.1"), "{head}");
    assert!(head.contains("x-api-key: k1"), "{head}");
    assert!(head.contains("authorization: bearer t1"), "{head}");

    c.send(Request::new(reqwest::Method::GET, "/b".into(), QUERY))
        .await
        .unwrap();
    let head = seen.recv().await.unwrap();
    assert!(head.starts_with("GET /b?api_key=k1 "), "{head}");
}

#[tokio::test]
async fn basic_credentials_go_to_basic_operations_alone() {
    const BASIC: &[Auth] = &[Auth::Basic];
    const KEY: &[Auth] = &[Auth::ApiKeyHeader("X-API-Key")];
    let (base, mut seen) = server(|_| ok("{}")).await;
    let c = Client::builder(&base)
        .basic_auth("Aladdin", "open sesame")
        .build()
        .unwrap();
    c.send(Request::new(reqwest::Method::GET, "/a".into(), BASIC))
        .await
        .unwrap();
    let head = seen.recv().await.unwrap().to_ascii_lowercase();
    // RFC 7617's own example.
    assert!(
        head.contains("authorization: basic qwxhzgrpbjpvcgvuihnlc2ftzq=="),
        "{head}"
    );
    c.send(Request::new(reqwest::Method::GET, "/b".into(), KEY))
        .await
        .unwrap();
    let head = seen.recv().await.unwrap().to_ascii_lowercase();
    assert!(!head.contains("authorization"), "{head}");
    assert!(!format!("{c:?}").contains("open sesame"));
}

#[test]
fn base64_writes_rfc_4648_vectors() {
    for (plain, coded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(openapi_runtime::base64(plain.as_bytes()), coded);
    }
}

#[tokio::test]
async fn a_transport_error_never_carries_a_query_api_key() {
    const QUERY: &[Auth] = &[Auth::ApiKeyQuery("api_key")];
    // A port nothing listens on: bind, read the port, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = Client::builder(format!("http://127.0.0.1:{port}"))
        .api_key("sk-query-51ab")
        .build()
        .unwrap();
    let err = c
        .send(Request::new(reqwest::Method::GET, "/x".into(), QUERY))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("sk-query-51ab"), "{text}");
    assert!(text.contains("redacted"), "{text}");
}

#[tokio::test]
async fn the_api_key_does_not_follow_a_redirect_to_another_origin() {
    let (other, mut other_seen) = server(|_| ok("stolen")).await;
    let target = format!("{other}/collect");
    let (base, _seen) = server(move |_| {
        format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
    })
    .await;
    const AUTH: &[Auth] = &[Auth::ApiKeyHeader("X-API-Key")];
    let c = Client::builder(&base).api_key("sk-9").build().unwrap();
    let answer = c
        .send(Request::new(reqwest::Method::GET, "/a".into(), AUTH))
        .await
        .unwrap();
    assert_eq!(answer.status, 307, "the redirect is returned, not followed");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), other_seen.recv())
            .await
            .is_err(),
        "the other origin was never contacted"
    );
}

#[tokio::test]
async fn answers_beyond_the_limit_are_refused() {
    let (base, _seen) = server(|_| ok(&"x".repeat(4096))).await;
    let c = Client::builder(&base)
        .max_response_bytes(1024)
        .build()
        .unwrap();
    let err = c
        .send(Request::new(reqwest::Method::GET, "/".into(), &[]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::BodyTooLarge {
                status: 200,
                limit: 1024
            }
        ),
        "{err:?}"
    );
}

#[test]
fn debug_of_client_and_builder_redacts_credentials() {
    let b = Client::builder("http://h")
        .api_key("sk-dbg-1")
        .bearer_token("tk-dbg-2");
    let text = format!("{b:?}");
    let c = b.build().unwrap();
    for t in [text, format!("{c:#?}")] {
        assert!(!t.contains("sk-dbg-1") && !t.contains("tk-dbg-2"), "{t}");
        assert!(t.contains("<redacted>"), "{t}");
    }
    assert_eq!(c.base_url(), "http://h");
    assert_eq!(format!("{:?}", openapi_runtime::Redacted), "<redacted>");
}

mod example_round_trips {
    use openapi_runtime::examples::{equivalent, round_trip};
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    #[derive(Serialize, Deserialize)]
    struct Thing {
        id: i64,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    }

    #[test]
    fn allowed_differences_pass() {
        // a default filled in, another key order, another number spelling
        equivalent(
            &json!({"b": 1.0, "a": [1]}),
            &json!({"a": [1.0], "b": 1, "c": []}),
        )
        .unwrap();
        round_trip::<Thing>(r#"{"note": "n", "id": 3}"#).unwrap();
        round_trip::<Thing>(r#"{"id": 3.0}"#).unwrap_err(); // i64 refuses 3.0: a real failure
    }

    #[test]
    fn real_differences_are_located() {
        let e = equivalent(
            &json!({"a": {"b~/": [1, 2]}}),
            &json!({"a": {"b~/": [1, 3]}}),
        );
        assert_eq!(e.unwrap_err(), "/a/b~0~1/1 was 2 and came back as 3");
        let e = round_trip::<Thing>(r#"{"id": 1, "extra": true}"#).unwrap_err();
        assert_eq!(e, "/extra was true and is dropped");
        let e = round_trip::<Thing>(r#"{"id": 1, "note": null}"#).unwrap_err();
        assert_eq!(e, "/note was null and is dropped");
        let e = round_trip::<Thing>(r#"{"id": "1"}"#).unwrap_err();
        assert!(
            e.starts_with("does not deserialise: invalid type: string"),
            "{e}"
        );
        assert!(equivalent(&json!([1]), &json!([1, 2])).is_err());
        assert!(equivalent(&json!("a"), &json!("b")).is_err());
    }

    #[derive(Serialize, Deserialize)]
    struct Form {
        to: String,
        #[serde(default)]
        media: Vec<String>,
        price: f64,
    }

    #[test]
    fn form_examples_round_trip_through_the_encoding_the_client_sends() {
        use openapi_runtime::examples::{decode_form, form_round_trip};
        use openapi_runtime::form_text;
        // Another number spelling and key order are the same form; a space and `&` survive.
        form_round_trip::<Form>(r#"{"price": 2, "media": ["a b", "c&d"], "to": "+1 555"}"#)
            .unwrap();
        let form = Form {
            to: "a b".into(),
            media: vec!["x".into(), "y".into()],
            price: 1.5,
        };
        // Properties in either order (serde_json's map decides), an array's items in theirs.
        let mut sent: Vec<String> = form_text(&form)
            .unwrap()
            .split('&')
            .map(String::from)
            .collect();
        sent.sort();
        assert_eq!(sent, ["media=x", "media=y", "price=1.5", "to=a%20b"]);
        assert_eq!(form_text(&json!({"gone": null})).unwrap(), "");
        assert_eq!(
            decode_form("to=a%20b&media=x+y&e=").unwrap(),
            [("to", "a b"), ("media", "x y"), ("e", "")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        // A key the form type does not keep is lost on the way: a failure that says so.
        let e = form_round_trip::<Form>(r#"{"to": "x", "price": 1, "from": "y"}"#).unwrap_err();
        assert!(e.contains("from=y"), "{e}");
        assert!(form_round_trip::<Form>("[1]")
            .unwrap_err()
            .contains("object"));
        assert!(decode_form("a=%zz").is_err());
    }
}

#[test]
fn a_required_nullable_key_must_be_there() {
    #[derive(Debug, serde::Deserialize)]
    struct Sent {
        #[serde(deserialize_with = "openapi_runtime::nullable")]
        a: Option<i64>,
    }
    let read = |v: serde_json::Value| serde_json::from_value::<Sent>(v).map(|s| s.a);
    assert_eq!(read(serde_json::json!({"a": null})).unwrap(), None);
    assert_eq!(read(serde_json::json!({"a": 4})).unwrap(), Some(4));
    assert!(
        read(serde_json::json!({})).is_err(),
        "a missing key is not null"
    );
}

//! The reference server's timing switches (delayed apply, busy 409, latency) and `cargo xtask serve`.

use contract_tests::server::{self, Timing, CVM_ID, DEFAULT_API_KEY};
use serde_json::{json, Value};
use std::io::BufRead as _;
use std::time::Duration;

async fn patch(base: &str, body: Value) -> u16 {
    reqwest::Client::new()
        .patch(format!("{base}/api/v1/cvms/{CVM_ID}"))
        .header("X-API-Key", DEFAULT_API_KEY)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn vcpu(base: &str) -> i64 {
    let v: Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/cvms/{CVM_ID}"))
        .header("X-API-Key", DEFAULT_API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["vcpu"].as_i64().unwrap()
}

#[tokio::test]
async fn a_delayed_update_shows_in_get_only_after_the_delay() {
    let timing = Timing {
        apply_delay: Duration::from_millis(400),
        ..Timing::default()
    };
    let s = server::spawn_with(0, DEFAULT_API_KEY, &[], timing).unwrap();
    assert_eq!(vcpu(&s.url).await, 2);
    assert_eq!(patch(&s.url, json!({"vcpu": 4})).await, 202);
    assert_eq!(vcpu(&s.url).await, 2, "not applied yet");
    // A second update lands on top of the pending one.
    assert_eq!(patch(&s.url, json!({"memory": 8192})).await, 202);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(vcpu(&s.url).await, 4, "applied after the delay");
}

#[tokio::test]
async fn a_patch_during_an_update_is_409_when_busy_conflict_is_on() {
    let timing = Timing {
        apply_delay: Duration::from_millis(400),
        busy_conflict: true,
        ..Timing::default()
    };
    let s = server::spawn_with(0, DEFAULT_API_KEY, &[], timing).unwrap();
    assert_eq!(patch(&s.url, json!({"vcpu": 4})).await, 202);
    assert_eq!(patch(&s.url, json!({"vcpu": 6})).await, 409);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(patch(&s.url, json!({"vcpu": 6})).await, 202, "free again");
    assert_eq!(vcpu(&s.url).await, 4, "the 409 changed nothing");
}

#[tokio::test]
async fn latency_holds_every_answer_back() {
    let timing = Timing {
        latency: Duration::from_millis(150),
        ..Timing::default()
    };
    let s = server::spawn_with(0, DEFAULT_API_KEY, &[], timing).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(patch(&s.url, json!({"vcpu": 4})).await, 202);
    assert_eq!(
        vcpu(&s.url).await,
        4,
        "applied at once: latency is not apply delay"
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn serve_prints_where_it_listens_and_stops_by_itself() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_serve"))
        .args([
            "--port",
            "0",
            "--duration",
            "4",
            "--fault",
            "bound-off-by-one",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("reference server listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    let rest: Vec<String> = lines.by_ref().take(3).map(Result::unwrap).collect();
    assert!(rest[0].contains(DEFAULT_API_KEY), "{rest:?}");
    assert!(rest[1].contains(CVM_ID), "{rest:?}");
    assert!(rest[2].contains("bound-off-by-one"), "{rest:?}");
    assert_eq!(vcpu(&url).await, 2);
    // The fault is on: 9 is accepted.
    assert_eq!(patch(&url, json!({"shutdown_timeout": 9})).await, 202);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn serve_keeps_a_given_key_out_of_its_output_and_refuses_unknown_faults() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_serve"))
        .args(["--duration", "0", "--api-key", "sk-mine-4242"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("sk-mine-4242"), "{text}");
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_serve"))
        .args(["--fault", "no-such-fault", "--duration", "0"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bound-off-by-one"));
}

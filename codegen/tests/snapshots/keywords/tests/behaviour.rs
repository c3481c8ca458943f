//! The keyword fixture's crate does what its document says, not only compiles.

use snapshot_keywords::types::{Channel, ChannelKindsItem, Self_, Type};
use snapshot_keywords::Validate;

#[test]
fn an_all_of_of_strings_reads_the_strings_the_api_sends() {
    let c: Channel =
        serde_json::from_str(r#"{"kinds":["text","voice"],"id":"42","limit":5}"#).unwrap();
    assert_eq!(
        c.kinds,
        Some(vec![ChannelKindsItem::Text, ChannelKindsItem::Voice])
    );
    assert_eq!(c.id.as_deref(), Some("42"));
    assert!(
        serde_json::from_str::<Channel>(r#"{"kinds":["stage"]}"#).is_err(),
        "the outer enum narrows the referenced one"
    );
}

#[test]
fn bounds_of_every_all_of_branch_are_checked() {
    let ok: Channel = serde_json::from_str(r#"{"limit":50}"#).unwrap();
    assert!(ok.validate().is_ok());
    let over: Channel = serde_json::from_str(r#"{"limit":51}"#).unwrap();
    let err = over.validate().unwrap_err();
    assert_eq!(err.violations()[0].rule, "maximum");
    let under: Channel = serde_json::from_str(r#"{"limit":-1}"#).unwrap();
    assert_eq!(
        under.validate().unwrap_err().violations()[0].rule,
        "minimum"
    );
}

#[test]
fn keyword_names_round_trip_under_their_wire_names() {
    let wire =
        serde_json::json!({"ref": "r", "self": 2, "Self": "S", "super": "type", "gen": true});
    let v: Self_ = serde_json::from_value(wire.clone()).unwrap();
    assert_eq!(v.r#ref, "r");
    assert_eq!(v.super_, Some(Type::Type));
    assert_eq!(serde_json::to_value(&v).unwrap(), wire);
}

//! One constraint model, measured on the spec's request body: the strategies, the generated
//! `validate()` and the judge (the runtime model built from the same IR) agree.
//!
//! - every body the valid strategy draws passes `validate()` and the judge;
//! - every named mutation of it is refused by the judge (by construction) and by the generated
//!   types: it does not deserialise, or `validate()` names a violation.

use contract_tests::meta::schema;
use contract_tests::{judge, mutate, spec};
use phala_cloud::types::UpdateCvmRequest;
use phala_cloud::{strategies, Validate};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn strategies_validate_and_the_judge_agree(body in strategies::update_cvm_request()) {
        prop_assert!(body.validate().is_ok(), "{:?}", body.validate());
        let value = serde_json::to_value(&body).unwrap();
        let object = spec::update_body();
        let judged = judge::check_object(schema(), &value, object);
        prop_assert!(judged.is_empty(), "{judged:?} for {value}");
        for m in mutate::mutations(schema(), &value, object) {
            prop_assert!(!judge::check_object(schema(), &m.body, object).is_empty());
            let refused = match serde_json::from_value::<UpdateCvmRequest>(m.body.clone()) {
                Err(_) => true,
                Ok(typed) => typed.validate().is_err(),
            };
            prop_assert!(refused, "mutation {} on {} accepted by the types: {}", m.rule, m.field, m.body);
        }
    }
}

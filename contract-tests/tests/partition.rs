//! `--partition K/N`: N jobs, each running its share of a document's operations against the same
//! kind of target, together run every operation exactly once, and each writes reports of its own.

use contract_tests::meta::Schema;
use contract_tests::partition::Partition;
use contract_tests::{mock, probe, report, server, Mode, Settings};
use std::collections::BTreeSet;
use std::sync::Arc;

const DOC: &str = include_str!("../targets/notes.openapi.json");

#[test]
fn the_jobs_of_a_partition_run_every_operation_once() {
    let schema = Arc::new(Schema::from_document(DOC).unwrap());
    let all: BTreeSet<String> = schema.operations.keys().cloned().collect();
    assert!(all.len() >= 5, "the notes document has its CRUD operations");
    let dir = std::env::temp_dir().join(format!("contract-partition-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for n in [1, 2, 3, all.len() + 1] {
        let mut seen: Vec<String> = Vec::new();
        for k in 1..=n {
            let srv = mock::spawn(schema.clone(), 0, mock::Options::default()).unwrap();
            let mut s = Settings::new(&srv.url, Some(server::DEFAULT_API_KEY.into()), "");
            s.other_api_key = Some(mock::OTHER_API_KEY.into());
            s.cases = 2;
            s.mode = Mode::Full;
            s.partition = Some(Partition { k, n });
            let r = probe::run(&s, schema.clone(), &[]);
            assert!(r.could_not_run.is_none(), "{:?}", r.could_not_run);
            assert_eq!(r.operations, r.operation_names.len());
            // Each job's JSON report names what it ran, for a CI matrix to merge.
            let path = dir.join(format!("partition-{k}-of-{n}.json"));
            report::write("json", &path, &r, &[]).unwrap();
            let json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let named: Vec<String> = json["operations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            assert_eq!(named, r.operation_names, "job {k}/{n}");
            seen.extend(named);
        }
        let unique: BTreeSet<String> = seen.iter().cloned().collect();
        assert_eq!(
            seen.len(),
            unique.len(),
            "an operation ran twice in {n} jobs"
        );
        assert_eq!(unique, all, "{n} jobs did not run every operation");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

//! The suite's config file (`--config PATH`, or `CONTRACT_CONFIG`): settings a project keeps
//! beside its document, in TOML. What the command line gives adds to it.
//!
//! ```toml
//! # The statuses a check accepts beyond its own, for every operation...
//! [checks.positive_data_acceptance]
//! expected-statuses = [404, "409"]
//!
//! # ...or for one (an operationId, a client method name, or "METHOD /template").
//! [[operations]]
//! operation = "create_flow"
//! checks.status_code_conformance.expected-statuses = ["4XX"]
//! ```

use crate::checks::Expected;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The file, as read.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    #[serde(default)]
    pub checks: BTreeMap<String, CheckConfig>,
    #[serde(default)]
    pub operations: Vec<OperationConfig>,
}

/// What the file says of one check.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CheckConfig {
    #[serde(default)]
    pub expected_statuses: Vec<Status>,
}

/// What the file says of one operation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OperationConfig {
    pub operation: String,
    #[serde(default)]
    pub checks: BTreeMap<String, CheckConfig>,
}

/// A status as written: a number, or text such as `"404"` or `"4XX"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Status {
    Code(u16),
    Text(String),
}

impl Status {
    fn text(&self) -> String {
        match self {
            Status::Code(n) => n.to_string(),
            Status::Text(t) => t.clone(),
        }
    }
}

impl Config {
    /// Reads `path`; an error names the file and where in it.
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Config::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The expected statuses it gives, added to `into`.
    pub fn expected_into(&self, into: &mut Expected) -> Result<(), String> {
        let add =
            |into: &mut Expected, op: Option<&str>, checks: &BTreeMap<String, CheckConfig>| {
                for (check, c) in checks {
                    let codes: Vec<String> = c.expected_statuses.iter().map(Status::text).collect();
                    if codes.is_empty() {
                        continue;
                    }
                    into.add(check, op.map(str::to_string), &codes)
                        .map_err(|e| match op {
                            Some(o) => format!("operation `{o}`: {e}"),
                            None => e,
                        })?;
                }
                Ok::<(), String>(())
            };
        add(into, None, &self.checks)?;
        for o in &self.operations {
            add(into, Some(&o.operation), &o.checks)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_widens_checks_globally_and_per_operation() {
        let c = Config::parse(
            r#"
            [checks.positive_data_acceptance]
            expected-statuses = [404, "409"]

            [[operations]]
            operation = "update_cvm"
            checks.status_code_conformance.expected-statuses = ["4XX"]
            "#,
        )
        .unwrap();
        let mut e = Expected::default();
        c.expected_into(&mut e).unwrap();
        let op = crate::spec::update_op();
        assert!(e.allows(crate::checks::POSITIVE_DATA_ACCEPTANCE, op, 409));
        assert!(e.allows(crate::checks::STATUS_CODE_CONFORMANCE, op, 418));
        assert!(!e.allows(crate::checks::NEGATIVE_DATA_REJECTION, op, 418));
    }

    #[test]
    fn a_mistake_in_the_file_is_an_error_that_says_where() {
        let e = Config::parse("[checks.positive_data_acceptance]\nexpected-status = [404]\n")
            .unwrap_err();
        assert!(e.contains("expected-status"), "{e}");
        let c = Config::parse("[checks.no_secret_echo]\nexpected-statuses = [404]\n").unwrap();
        let e = c.expected_into(&mut Expected::default()).unwrap_err();
        assert!(e.contains("no_secret_echo"), "{e}");
    }
}

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
//!
//! # Credentials, `${NAME}` read from the environment: the run's user and the second one.
//! [auth]
//! basic = "alice:${ALICE_PASSWORD}"
//! headers = { "X-Session" = "${SESSION}" }
//! [other-auth]
//! api-key = "${OTHER_KEY}"
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
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub other_auth: AuthConfig,
}

/// A user's credentials, each value with `${NAME}` read from the environment.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AuthConfig {
    pub api_key: Option<String>,
    /// `user:password`, for HTTP basic.
    pub basic: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// Credentials with their variables read.
#[derive(Debug, Default)]
pub struct Resolved {
    pub api_key: Option<String>,
    pub basic: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl AuthConfig {
    pub fn resolved(&self) -> Result<Resolved, String> {
        let text = |v: &Option<String>| v.as_deref().map(expand).transpose();
        Ok(Resolved {
            api_key: text(&self.api_key)?,
            basic: text(&self.basic)?,
            headers: self
                .headers
                .iter()
                .map(|(k, v)| Ok((k.clone(), expand(v)?)))
                .collect::<Result<_, String>>()?,
        })
    }
}

/// `text` with each `${NAME}` replaced by that environment variable; an unset one is an error
/// that names it (never its value).
pub fn expand(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!(
                "`${{` without a closing `}}` in the config file: {text:?}"
            ));
        };
        let name = &after[..end];
        let value = std::env::var(name)
            .map_err(|_| format!("the config file names ${{{name}}}, which is not set"))?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
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
    fn credentials_come_from_the_environment_and_unset_ones_are_named() {
        std::env::set_var("CONTRACT_TEST_PW", "s3cret");
        let c = Config::parse(
            r#"
            [auth]
            basic = "alice:${CONTRACT_TEST_PW}"
            headers = { "X-Session" = "tok-${CONTRACT_TEST_PW}" }
            [other-auth]
            api-key = "${CONTRACT_TEST_UNSET_VAR}"
            "#,
        )
        .unwrap();
        let own = c.auth.resolved().unwrap();
        assert_eq!(own.basic.as_deref(), Some("alice:s3cret"));
        assert_eq!(
            own.headers,
            [("X-Session".to_string(), "tok-s3cret".to_string())]
        );
        let e = c.other_auth.resolved().unwrap_err();
        assert!(
            e.contains("CONTRACT_TEST_UNSET_VAR") && !e.contains("s3cret"),
            "{e}"
        );
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

//! Rust names for OpenAPI names. Every name the generated code uses is decided here, once.

use heck::{ToSnakeCase, ToUpperCamelCase};
use std::collections::{BTreeMap, BTreeSet};

/// Rust's strict and reserved keywords (2021 edition and later).
const KEYWORDS: [&str; 51] = [
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: [&str; 5] = ["self", "Self", "super", "crate", "_"];

/// Whether `s` must be written `r#s` (or changed) to be an identifier.
pub fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s) || s == "gen"
}

/// Turns separators and symbols into word breaks that heck understands, keeping a leading sign.
fn words(raw: &str) -> String {
    let mut s = String::with_capacity(raw.len() + 4);
    let trimmed = raw.trim();
    if let Some(rest) = trimmed.strip_prefix('+') {
        s.push_str("plus ");
        s.push_str(rest);
    } else if let Some(rest) = trimmed.strip_prefix('-') {
        s.push_str("minus ");
        s.push_str(rest);
    } else {
        s.push_str(trimmed);
    }
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect()
}

/// `UpperCamelCase` type or variant name; never empty, never starting with a digit, never a keyword.
pub fn pascal(raw: &str) -> String {
    let mut n = words(raw).to_upper_camel_case();
    if n.is_empty() {
        n = "Empty".into();
    }
    if n.starts_with(|c: char| c.is_ascii_digit()) {
        n.insert(0, 'V');
    }
    if is_keyword(&n) {
        n.push('_');
    }
    n
}

/// `snake_case` field, method or parameter name. Keywords stay as they are: the emitter writes them
/// as raw identifiers (`r#type`), except the few that cannot be raw, which get a trailing `_`.
pub fn snake(raw: &str) -> String {
    let mut n = words(raw).to_snake_case();
    if n.is_empty() {
        n = "value".into();
    }
    if n.starts_with(|c: char| c.is_ascii_digit()) {
        n.insert(0, '_');
    }
    if NOT_RAW.contains(&n.as_str()) {
        n.push('_');
    }
    n
}

/// The Rust type name of a component schema key.
///
/// FastAPI qualifies a model name with its module path (`pkg__routes__cvms__management__CvmBasicInfo`)
/// only when two models share the short name; the name kept is the last module segment and the model
/// (`ManagementCvmBasicInfo`), so it depends on the key alone, not on what else the document holds.
pub fn schema_type_name(key: &str) -> String {
    let segments: Vec<&str> = key.split("__").filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [] => pascal(key),
        [one] => pascal(one),
        [.., module, model] => pascal(&format!("{module}_{model}")),
    }
}

/// The longest form of a schema name, used when short forms collide.
pub fn schema_type_name_full(key: &str) -> String {
    pascal(&key.replace("__", "_"))
}

/// FastAPI builds operation ids as `{function}{path}_{method}` with every non-word character of the
/// path replaced by `_`. Returns the function part when `id` has that shape.
pub fn strip_fastapi_suffix<'a>(id: &'a str, path: &str, method: &str) -> Option<&'a str> {
    let suffix: String = path
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        + "_"
        + method;
    id.strip_suffix(&suffix).filter(|s| !s.is_empty())
}

/// Candidate method names for an operation, shortest (preferred) first. The last is always the full
/// operation id (or method and path when there is none), so some candidate is unique.
pub fn operation_candidates(id: Option<&str>, path: &str, method: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(id) = id {
        if let Some(func) = strip_fastapi_suffix(id, path, method) {
            let mut short = func;
            short = short.strip_prefix("handle_").unwrap_or(short);
            short = short.strip_suffix("_endpoint").unwrap_or(short);
            if !short.is_empty() {
                out.push(snake(short));
            }
            out.push(snake(func));
        }
        out.push(snake(id));
    } else {
        out.push(snake(&format!("{method} {path}")));
    }
    out.dedup();
    out
}

/// Chooses one name per key from each key's candidate list (preferred first), so that no two keys
/// share a name and no name is in `reserved`. A key drops to its next candidate only when its current
/// one is contested, and all contenders drop together, so a key's name does not depend on which of
/// them comes first. When candidates run out, a numeric suffix (in key order) ends the contest.
pub fn assign_unique<K: Ord + Clone>(
    candidates: &BTreeMap<K, Vec<String>>,
    reserved: &BTreeSet<String>,
) -> BTreeMap<K, String> {
    let mut level: BTreeMap<K, usize> = candidates.keys().map(|k| (k.clone(), 0)).collect();
    loop {
        let name_of = |k: &K, lvl: usize| -> String {
            let c = &candidates[k];
            c[lvl.min(c.len() - 1)].clone()
        };
        let mut by_name: BTreeMap<String, Vec<K>> = BTreeMap::new();
        for (k, lvl) in &level {
            by_name.entry(name_of(k, *lvl)).or_default().push(k.clone());
        }
        let mut changed = false;
        for (name, keys) in &by_name {
            if keys.len() > 1 || reserved.contains(name) {
                for k in keys {
                    let l = level.get_mut(k).expect("key present");
                    if *l + 1 < candidates[k].len() {
                        *l += 1;
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            let mut used: BTreeSet<String> = reserved.clone();
            let mut out = BTreeMap::new();
            for (name, keys) in by_name {
                for k in keys {
                    let mut n = name.clone();
                    let mut i = 2;
                    while used.contains(&n) {
                        n = format!("{}{i}", name.trim_end_matches('_'));
                        i += 1;
                    }
                    used.insert(n.clone());
                    out.insert(k, n);
                }
            }
            return out;
        }
    }
}

/// Variant names for a list of raw values (enum values, branch names), in order, unique.
pub fn unique_variants<'a>(raws: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut used = BTreeSet::new();
    raws.into_iter()
        .map(|r| {
            let base = pascal(r);
            let mut n = base.clone();
            let mut i = 2;
            while !used.insert(n.clone()) {
                n = format!("{}{i}", base.trim_end_matches('_'));
                i += 1;
            }
            n
        })
        .collect()
}

/// Field names for a list of property names, in order, unique.
pub fn unique_fields<'a>(raws: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut used = BTreeSet::new();
    raws.into_iter()
        .map(|r| {
            let base = snake(r);
            let mut n = base.clone();
            let mut i = 2;
            while !used.insert(n.clone()) {
                n = format!("{}_{i}", base.trim_end_matches('_'));
                i += 1;
            }
            n
        })
        .collect()
}

/// The name of a response variant for a status code.
pub fn status_variant(code: u16) -> String {
    let reason = match code {
        100 => "Continue",
        101 => "SwitchingProtocols",
        200 => "Ok",
        201 => "Created",
        202 => "Accepted",
        203 => "NonAuthoritativeInformation",
        204 => "NoContent",
        205 => "ResetContent",
        206 => "PartialContent",
        207 => "MultiStatus",
        300 => "MultipleChoices",
        301 => "MovedPermanently",
        302 => "Found",
        303 => "SeeOther",
        304 => "NotModified",
        307 => "TemporaryRedirect",
        308 => "PermanentRedirect",
        400 => "BadRequest",
        401 => "Unauthorized",
        402 => "PaymentRequired",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        408 => "RequestTimeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "LengthRequired",
        412 => "PreconditionFailed",
        413 => "PayloadTooLarge",
        415 => "UnsupportedMediaType",
        416 => "RangeNotSatisfiable",
        417 => "ExpectationFailed",
        421 => "MisdirectedRequest",
        422 => "UnprocessableEntity",
        423 => "Locked",
        424 => "FailedDependency",
        425 => "TooEarly",
        426 => "UpgradeRequired",
        428 => "PreconditionRequired",
        429 => "TooManyRequests",
        431 => "RequestHeaderFieldsTooLarge",
        451 => "UnavailableForLegalReasons",
        500 => "InternalServerError",
        501 => "NotImplemented",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        505 => "HttpVersionNotSupported",
        507 => "InsufficientStorage",
        _ => return format!("Status{code}"),
    };
    reason.to_string()
}

/// The name of a response variant for a status range such as `4XX`.
pub fn range_variant(first_digit: u16) -> String {
    match first_digit {
        1 => "Informational".into(),
        2 => "Success".into(),
        3 => "Redirection".into(),
        4 => "ClientError".into(),
        5 => "ServerError".into(),
        d => format!("Status{d}xx"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fastapi_operation_ids_shorten() {
        let c = operation_candidates(
            Some("update_cvm_endpoint_api_v1_cvms__cvm_id__patch"),
            "/api/v1/cvms/{cvm_id}",
            "patch",
        );
        assert_eq!(
            c,
            [
                "update_cvm",
                "update_cvm_endpoint",
                "update_cvm_endpoint_api_v1_cvms_cvm_id_patch"
            ]
        );
        let c = operation_candidates(
            Some("handle_get_cvm_api_v1_cvms__cvm_id__get"),
            "/api/v1/cvms/{cvm_id}",
            "get",
        );
        assert_eq!(c[0], "get_cvm");
        assert_eq!(operation_candidates(None, "/a/{b}", "get"), ["get_a_b"]);
    }

    #[test]
    fn schema_names() {
        assert_eq!(
            schema_type_name("teehouse__api__routes__cvms__management__CvmBasicInfo"),
            "ManagementCvmBasicInfo"
        );
        assert_eq!(
            schema_type_name("HTTPValidationError"),
            "HttpValidationError"
        );
        assert_eq!(schema_type_name("Body_upload_file"), "BodyUploadFile");
        assert_eq!(pascal("1st"), "V1st");
        assert_eq!(pascal("+1"), "Plus1");
        assert_eq!(pascal("-1"), "Minus1");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("type"), "type");
        assert_eq!(snake("X-Compose-Hash"), "x_compose_hash");
        assert_eq!(snake("@odata.type"), "odata_type");
    }

    #[test]
    fn contested_names_all_drop_to_the_longer_form() {
        let mut c = BTreeMap::new();
        c.insert("a__X", vec!["AX".to_string(), "AXLong".into()]);
        c.insert("b__X", vec!["AX".to_string(), "BXLong".into()]);
        c.insert("Y", vec!["Y".to_string()]);
        let out = assign_unique(&c, &BTreeSet::new());
        assert_eq!(out["a__X"], "AXLong");
        assert_eq!(out["b__X"], "BXLong");
        assert_eq!(out["Y"], "Y");
        let reserved = ["Y".to_string()].into_iter().collect();
        let out = assign_unique(&c, &reserved);
        assert_eq!(out["Y"], "Y2");
    }

    #[test]
    fn variants_are_unique() {
        assert_eq!(unique_variants(["a", "A", "b-c"]), ["A", "A2", "BC"]);
    }
}

//! A request as the mock reads it: its path split and decoded, its credential where the
//! security schemes put it, its parameters and body judged against their schemas, its refusal.

use super::*;

pub(crate) fn split(path: &str) -> Vec<&str> {
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect()
}

/// Percent-decodes a path segment (a `Location`'s last one, say).
pub fn decode_segment(s: &str) -> String {
    decode(s)
}

/// Percent-decodes a path segment or a query component.
pub(crate) fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The key a request carries, as the operation's security schemes place it.
pub(crate) fn credential(
    op: &Operation,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Option<String> {
    op.auth.iter().find_map(|a| {
        if let Some(h) = a.strip_prefix("header:") {
            return headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
        }
        if let Some(q) = a.strip_prefix("query:") {
            return query.iter().find(|(k, _)| k == q).map(|(_, v)| v.clone());
        }
        let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
        if a == "basic" {
            // The pair, `user:password`, stands for the key.
            return authorization
                .and_then(|v| {
                    v.strip_prefix("Basic ")
                        .or_else(|| v.strip_prefix("basic "))
                })
                .and_then(|b| unbase64(b.trim()))
                .and_then(|bytes| String::from_utf8(bytes).ok());
        }
        authorization
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::to_string)
    })
}

/// Standard base64 read back (RFC 4648, padding optional); `None` for text that is not.
pub(crate) fn unbase64(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let digits: Vec<u32> = text
        .trim_end_matches('=')
        .bytes()
        .map(value)
        .collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, d)| n | d << (18 - 6 * i));
        out.push((n >> 16) as u8);
        if chunk.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(n as u8);
        }
    }
    Some(out)
}

pub(crate) fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")))
        })
        .collect()
}

/// The request's problems, as FastAPI lists them ([`judge::request`] says where and which rule).
pub(crate) fn problems(
    schema: &Schema,
    op: &Operation,
    path_params: &[(String, String)],
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &Option<Value>,
    body_error: Option<String>,
) -> Vec<Value> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let body = match &body_error {
        Some(e) => Err(e.as_str()),
        None => Ok(body.as_ref()),
    };
    judge::request(schema, op, path_params, query, &header, body)
        .into_iter()
        .map(|p| {
            let msg = match (p.rule, &body_error) {
                ("json_invalid", Some(e)) => e.as_str(),
                ("missing", _) => "Field required",
                _ => "Input should match its schema",
            };
            detail_item(p.rule, p.loc, msg)
        })
        .collect()
}

pub(crate) fn detail_item(kind: &str, loc: Vec<Value>, msg: &str) -> Value {
    json!({ "type": kind, "loc": loc, "msg": msg })
}

/// The status a refusal of a bad request takes: 422 where documented, else 400, else the first
/// documented 4xx, else 422.
pub(crate) fn refusal(op: &Operation) -> u16 {
    let documented = |s: u16| op.responses.iter().any(|r| !r.range && r.status == s);
    [422, 400]
        .into_iter()
        .find(|s| documented(*s))
        .or_else(|| {
            op.responses
                .iter()
                .filter(|r| !r.range && (400..500).contains(&r.status))
                .map(|r| r.status)
                .min()
        })
        .unwrap_or(422)
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_reads_back_what_the_runtime_writes() {
        for text in ["", "a", "ab", "abc", "alice:s3cret", "user:pässwörd"] {
            let coded = openapi_runtime::base64(text.as_bytes());
            assert_eq!(super::unbase64(&coded).as_deref(), Some(text.as_bytes()));
        }
        assert_eq!(super::unbase64("not base64!"), None);
    }
}

//! Lists read whole: how a list operation pages its items, as its document and its answers say,
//! and the items of every page, up to a bound.
//!
//! The ways recognised, by the list's query parameters and what its answers carry:
//! - limit and offset (`limit`/`offset`, `_limit`/`_start`, `per_page`/`skip`...);
//! - page and size (`page`/`per_page`, `_page`/`_limit`, `page_number`/`page_size`...);
//! - a cursor: a parameter (`cursor`, `after`, `page_token`...) fed from the answer's own
//!   `next_cursor`, `next`, `nextPageToken`... (top level, or under `meta`, `links`,
//!   `pagination`);
//! - a link to the next page: `Link: <...>; rel="next"`, or a `next` address in the body.
//!
//! A list no way applies to is one page. A list that has more pages than the bound, or a page
//! that fails, cannot be read whole: the checks of what it holds are then skipped, not failed.

use crate::meta::{Operation, Param, Shape};
use serde_json::Value;

/// Pages read at most to read one list whole.
pub const MAX_PAGES: usize = 50;

/// How a list operation pages, by its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Paging {
    /// No paging parameter: one page, unless an answer links to a next one.
    Whole,
    /// `offset` from 0, by `limit` items (the server's own size when it has no size parameter).
    Offset { offset: String, limit: Option<Size> },
    /// `page` from `first`, `size` items a page.
    Page {
        page: String,
        first: i64,
        size: Option<Size>,
    },
    /// A cursor parameter the answers feed.
    Cursor { param: String, limit: Option<Size> },
}

/// A page-size parameter and the largest size its schema allows.
#[derive(Debug, Clone, PartialEq)]
pub struct Size {
    pub name: String,
    pub max: Option<i64>,
    pub min: i64,
}

const OFFSET: [&str; 6] = ["offset", "_start", "skip", "start", "from", "_offset"];
const LIMIT: [&str; 13] = [
    "limit",
    "_limit",
    "per_page",
    "perPage",
    "page_size",
    "pageSize",
    "size",
    "count",
    "max_results",
    "maxResults",
    "take",
    "first",
    "_per_page",
];
const PAGE: [&str; 5] = ["page", "_page", "page_number", "pageNumber", "pageIndex"];
const CURSOR: [&str; 13] = [
    "cursor",
    "_token",
    "after",
    "starting_after",
    "page_token",
    "pageToken",
    "next_token",
    "nextToken",
    "continuation_token",
    "continuationToken",
    "marker",
    "next",
    "_cursor",
];

/// The answer fields that give the next page's cursor or address.
pub const NEXT: [&str; 8] = [
    "next_cursor",
    "nextCursor",
    "next_page_token",
    "nextPageToken",
    "next",
    "cursor",
    "next_token",
    "nextToken",
];

fn query<'o>(op: &'o Operation, names: &[&str]) -> Option<&'o Param> {
    names.iter().find_map(|n| {
        op.params
            .iter()
            .find(|p| p.location == "query" && p.name == *n)
    })
}

fn integer_bounds(shape: &Shape) -> (Option<i64>, Option<i64>) {
    match shape {
        Shape::Nullable { inner } => integer_bounds(inner),
        Shape::Integer { min, max, .. } => (*min, *max),
        _ => (None, None),
    }
}

fn size_of(p: Option<&Param>) -> Option<Size> {
    let p = p?;
    let (min, max) = integer_bounds(&p.shape);
    Some(Size {
        name: p.name.clone(),
        max,
        min: min.unwrap_or(1).max(1),
    })
}

/// How `op` (a list) pages, by its query parameters.
pub fn of(op: &Operation) -> Paging {
    let limit = size_of(query(op, &LIMIT));
    if let Some(o) = query(op, &OFFSET) {
        return Paging::Offset {
            offset: o.name.clone(),
            limit,
        };
    }
    if let Some(p) = query(op, &PAGE) {
        let (min, _) = integer_bounds(&p.shape);
        // The page size may be named like a limit (`_page` with `_limit`).
        return Paging::Page {
            page: p.name.clone(),
            first: min.unwrap_or(1).max(0),
            size: limit,
        };
    }
    if let Some(c) = query(op, &CURSOR) {
        return Paging::Cursor {
            param: c.name.clone(),
            limit,
        };
    }
    Paging::Whole
}

impl Paging {
    /// The page size to ask for: `want`, within what the size parameter allows.
    pub fn size(&self, want: i64) -> Option<(String, i64)> {
        let s = match self {
            Paging::Offset { limit, .. } | Paging::Cursor { limit, .. } => limit.as_ref(),
            Paging::Page { size, .. } => size.as_ref(),
            Paging::Whole => None,
        }?;
        let n = want.max(s.min);
        Some((s.name.clone(), s.max.map_or(n, |m| n.min(m))))
    }

    /// Whether pages can be asked for by size (two reads with two sizes can then be compared).
    pub fn sized(&self) -> bool {
        self.size(1).is_some()
    }

    /// The largest page the size parameter allows, or 100.
    pub fn largest(&self) -> i64 {
        self.size(100).map_or(100, |(_, n)| n)
    }
}

/// The items of a list answer: the array itself, or the first array among the object's fields
/// (`items`, `data`, `results`...).
pub fn items(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Array(a) => Some(a.clone()),
        Value::Object(o) => o.values().find_map(|x| match x {
            Value::Array(a) => Some(a.clone()),
            _ => None,
        }),
        _ => None,
    }
}

/// The address of the next page a `Link` header gives (`<...>; rel="next"`).
pub fn link_next(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let rel_next = params.split(';').any(|p| {
            let p = p.trim().to_ascii_lowercase();
            p == "rel=\"next\"" || p == "rel=next" || p.starts_with("rel=\"next ")
        });
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        rel_next.then(|| url.to_string())
    })
}

/// What an answer body says of the next page: a cursor, or an address (a text holding `/` or
/// `?`). `None` when it says there is none.
pub fn body_next(v: &Value) -> Option<Value> {
    let o = v.as_object()?;
    let found = NEXT.iter().find_map(|k| o.get(*k)).or_else(|| {
        [
            "meta",
            "links",
            "pagination",
            "page_info",
            "pageInfo",
            "_links",
        ]
        .iter()
        .filter_map(|k| o.get(*k)?.as_object())
        .find_map(|inner| NEXT.iter().find_map(|k| inner.get(*k)))
    })?;
    match found {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        // HAL: `{"next": {"href": ...}}`.
        Value::Object(h) => h.get("href").cloned().filter(Value::is_string),
        Value::Bool(_) => None,
        other => Some(other.clone()),
    }
}

/// `url` (absolute, or a path from the host) as a path under `base` (the target's base URL), if
/// it is on the same server.
pub fn under_base(base: &str, url: &str) -> Option<String> {
    let base = base.trim_end_matches('/');
    let (base_origin, base_path) = split_origin(base);
    let (origin, path) = if url.contains("://") {
        split_origin(url)
    } else if url.starts_with('/') {
        (base_origin, url)
    } else {
        // A relative address (`?page=2`) is not one this reads.
        return None;
    };
    if origin != base_origin {
        return None;
    }
    let rest = path.strip_prefix(base_path)?;
    Some(if rest.is_empty() || rest.starts_with('?') {
        format!("/{rest}")
    } else {
        rest.to_string()
    })
}

/// `scheme://host[:port]` and the rest of an address.
fn split_origin(url: &str) -> (&str, &str) {
    let after = url.find("://").map_or(0, |i| i + 3);
    match url[after..].find('/') {
        Some(i) => url.split_at(after + i),
        None => (url, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(params: &[(&str, Shape)]) -> Operation {
        Operation {
            name: "list".into(),
            operation_id: None,
            pointer: String::new(),
            method: "GET".into(),
            path: "/things".into(),
            params: params
                .iter()
                .map(|(n, s)| Param {
                    name: n.to_string(),
                    location: "query".into(),
                    required: false,
                    shape: s.clone(),
                })
                .collect(),
            body: None,
            body_required: false,
            responses: Vec::new(),
            auth: Vec::new(),
            extensions: Default::default(),
        }
    }

    fn int(min: Option<i64>, max: Option<i64>) -> Shape {
        Shape::Integer {
            min,
            max,
            multiple_of: None,
            range: None,
        }
    }

    #[test]
    fn the_way_a_list_pages_is_read_from_its_parameters() {
        let o = op(&[
            ("limit", int(Some(1), Some(200))),
            ("offset", int(Some(0), None)),
        ]);
        assert_eq!(
            of(&o),
            Paging::Offset {
                offset: "offset".into(),
                limit: Some(Size {
                    name: "limit".into(),
                    max: Some(200),
                    min: 1
                })
            }
        );
        assert_eq!(of(&o).size(1000), Some(("limit".into(), 200)));
        let j = op(&[("_page", int(None, None)), ("_limit", int(None, None))]);
        assert!(
            matches!(of(&j), Paging::Page { ref page, first: 1, size: Some(_) } if page == "_page")
        );
        let c = op(&[(
            "cursor",
            Shape::String {
                min_len: None,
                max_len: None,
                pattern: None,
                format: None,
            },
        )]);
        assert!(matches!(of(&c), Paging::Cursor { .. }));
        assert_eq!(of(&op(&[("q", int(None, None))])), Paging::Whole);
    }

    #[test]
    fn next_pages_are_found_where_servers_put_them() {
        let h = r#"<http://h:1/api/posts?_page=1>; rel="first", <http://h:1/api/posts?_page=2>; rel="next""#;
        assert_eq!(
            link_next(h).as_deref(),
            Some("http://h:1/api/posts?_page=2")
        );
        assert_eq!(link_next(r#"<http://h/x>; rel="last""#), None);
        assert_eq!(
            body_next(&json!({"items": [], "next_cursor": "abc"})),
            Some(json!("abc"))
        );
        assert_eq!(body_next(&json!({"items": [], "next_cursor": null})), None);
        assert_eq!(
            body_next(&json!({"data": [], "meta": {"nextCursor": 7}})),
            Some(json!(7))
        );
        assert_eq!(
            body_next(&json!({"_links": {"next": {"href": "/x?p=2"}}})),
            Some(json!("/x?p=2"))
        );
        assert_eq!(
            under_base("http://h:1/api", "http://h:1/api/posts?_page=2").as_deref(),
            Some("/posts?_page=2")
        );
        assert_eq!(
            under_base("http://h:1/api", "/api/posts").as_deref(),
            Some("/posts")
        );
        assert_eq!(
            under_base("http://h:1/api", "http://elsewhere/api/posts"),
            None
        );
        assert_eq!(
            items(&json!({"total": 3, "items": [1, 2]})),
            Some(vec![json!(1), json!(2)])
        );
    }
}

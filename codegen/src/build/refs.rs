//! References: `$ref`s to schemas, parameters, bodies and responses followed, with cycles and
//! dangling references reported by pointer.

use super::*;

/// Follows `$ref`s to `#/components/{section}/...` until an item (at most 16 hops, so a cycle is
/// an error, not a hang). Returns the item and its pointer.
pub(super) fn follow<'p, T>(
    start: &'p ReferenceOr<T>,
    table: Option<&'p IndexMap<String, ReferenceOr<T>>>,
    section: &str,
    what: &str,
    ptr: &str,
) -> Result<(&'p T, String), Error> {
    let prefix = format!("#/components/{section}/");
    let mut cur = start;
    let mut at = ptr.to_string();
    for _ in 0..16 {
        match cur {
            ReferenceOr::Item(item) => return Ok((item, at)),
            ReferenceOr::Reference { reference } => {
                let key = reference.strip_prefix(&prefix).ok_or_else(|| {
                    Error::new(ptr, format!("`$ref` {reference} is not a {what} reference"))
                })?;
                let key = unescape(key);
                cur = table.and_then(|t| t.get(&key)).ok_or_else(|| {
                    Error::new(ptr, format!("`$ref` {reference} points to no {what}"))
                })?;
                at = join(&join("/components", section), &key);
            }
        }
    }
    Err(Error::new(ptr, format!("{what} references form a cycle")))
}

pub(super) fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

impl<'a> Builder<'a> {
    pub(super) fn resolve_schema_ref(
        &self,
        reference: &str,
        ptr: &str,
    ) -> Result<Option<(&'a str, &'a Schema)>, Error> {
        let Some(key) = reference.strip_prefix(SCHEMA_PREFIX) else {
            return Ok(None);
        };
        let key = unescape(key);
        let components = self.spec.components.as_ref();
        match components.and_then(|c| c.schemas.get_full(key.as_str())) {
            Some((_, k, ReferenceOr::Item(s))) => Ok(Some((k.as_str(), s))),
            Some((_, k, ReferenceOr::Reference { reference })) => {
                // A component that is itself a reference: follow it (bounded).
                let mut seen = BTreeSet::from([k.clone()]);
                let mut r = reference.clone();
                loop {
                    let kk = unescape(r.strip_prefix(SCHEMA_PREFIX).unwrap_or(""));
                    match components.and_then(|c| c.schemas.get_full(kk.as_str())) {
                        Some((_, k2, ReferenceOr::Item(s))) => return Ok(Some((k2.as_str(), s))),
                        Some((_, k2, ReferenceOr::Reference { reference }))
                            if seen.insert(k2.clone()) =>
                        {
                            r = reference.clone();
                        }
                        _ => {
                            return Err(Error::new(
                                ptr,
                                format!("`$ref` {reference} does not resolve to a schema"),
                            ))
                        }
                    }
                }
            }
            None => Err(Error::new(
                ptr,
                format!("`$ref` {reference} points to no schema in components"),
            )),
        }
    }

    /// Whether the component schema `key` allows `null` itself (`nullable: true`, or a 3.1 type
    /// list with `null`, lowered to it).
    pub(super) fn nullable_component(&self, key: &str) -> bool {
        let schemas = self.spec.components.as_ref().map(|c| &c.schemas);
        match schemas.and_then(|s| s.get(key)) {
            Some(ReferenceOr::Item(s)) => s.schema_data.nullable,
            _ => false,
        }
    }

    /// The schema an `allOf` branch stands for, its `$ref` followed; `None` for a reference
    /// outside `#/components/schemas`.
    pub(super) fn branch<'s>(
        &self,
        b: &'s ReferenceOr<Schema>,
        ptr: &str,
    ) -> Result<Option<&'s Schema>, Error>
    where
        'a: 's,
    {
        match b {
            ReferenceOr::Reference { reference } => {
                Ok(self.resolve_schema_ref(reference, ptr)?.map(|(_, s)| s))
            }
            ReferenceOr::Item(s) => Ok(Some(s)),
        }
    }

    pub(super) fn resolve_parameter<'p>(
        &self,
        p: &'p ReferenceOr<Parameter>,
        ptr: &str,
    ) -> Result<(&'p Parameter, String), Error>
    where
        'a: 'p,
    {
        let table = self.spec.components.as_ref().map(|c| &c.parameters);
        follow(p, table, "parameters", "parameter", ptr)
    }

    pub(super) fn resolve_request_body<'p>(
        &self,
        rb: &'p ReferenceOr<openapiv3::RequestBody>,
        ptr: &str,
    ) -> Result<(&'p openapiv3::RequestBody, String), Error>
    where
        'a: 'p,
    {
        let table = self.spec.components.as_ref().map(|c| &c.request_bodies);
        follow(rb, table, "requestBodies", "request body", ptr)
    }

    pub(super) fn resolve_response<'p>(
        &self,
        r: &'p ReferenceOr<openapiv3::Response>,
        ptr: &str,
    ) -> Result<(&'p openapiv3::Response, String), Error>
    where
        'a: 'p,
    {
        let table = self.spec.components.as_ref().map(|c| &c.responses);
        follow(r, table, "responses", "response", ptr)
    }
}

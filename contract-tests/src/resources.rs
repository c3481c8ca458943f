//! Resources inferred from a document: a collection path (`/notes`) and its item path
//! (`/notes/{note_id}`), the operations that create, list, read, update, replace and delete its
//! items, and the field of an item that carries the id the item path takes. The stateful mock
//! ([`crate::mock`]) implements them; nothing here is specific to one document.

use crate::meta::{Operation, Schema, Shape};
use serde_json::{Map, Value};

/// What an operation does to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// `POST` to the collection.
    Create,
    /// `GET` of the collection.
    List,
    /// `GET` of an item.
    Read,
    /// `PATCH` of an item: what is present is applied, what is absent kept.
    Update,
    /// `PUT` of an item: the item becomes the body.
    Replace,
    /// `DELETE` of an item.
    Delete,
}

/// A collection and its items.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// The collection's path template (`/notes`, `/users/{user_id}/notes`).
    pub collection: String,
    /// The item's path template (`/notes/{note_id}`).
    pub item: String,
    /// The item path's own parameter (`note_id`).
    pub param: String,
    /// The field of an item that carries its id (`id`, `note_id`), when one is found in the
    /// answers; a dotted path where the answers wrap the item (`data.id`).
    pub id_field: Option<String>,
    /// The operations on it, by role (client method names).
    pub ops: Vec<(Role, String)>,
    /// Path parameters of the collection already bound to an item (the parent's id, for a
    /// nested collection such as `/notes/{note_id}/comments`); empty as inferred.
    pub bound: Vec<(String, String)>,
}

impl Resource {
    /// The operation of `role`, if the document has one.
    pub fn op<'s>(&self, schema: &'s Schema, role: Role) -> Option<&'s Operation> {
        self.ops
            .iter()
            .find(|(r, _)| *r == role)
            .and_then(|(_, name)| schema.operation(name))
    }

    /// `template` (a path of this resource) with its bound parameters set.
    pub fn bind(&self, template: &str) -> String {
        self.bound
            .iter()
            .fold(template.to_string(), |path, (name, id)| {
                path.replace(
                    &format!("{{{name}}}"),
                    &openapi_runtime::encode_component(id),
                )
            })
    }

    /// The collection's address, when every parameter of it is bound.
    pub fn collection_path(&self) -> Option<String> {
        Some(self.bind(&self.collection)).filter(|p| !p.contains('{'))
    }

    /// The role of the operation named `name`.
    pub fn role_of(&self, name: &str) -> Option<Role> {
        self.ops.iter().find(|(_, n)| n == name).map(|(r, _)| *r)
    }

    /// The id an answer (or a stored item) carries, along [`Resource::id_field`].
    pub fn id_in<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        let path = self.id_field.as_deref()?;
        path.split('.').try_fold(v, |v, k| v.get(k))
    }

    /// The id a list's item carries: along [`Resource::id_field`], or, where the answers wrap one
    /// item (`data.id`) and a list holds them bare, by the field's own name.
    pub fn id_in_listed<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        self.id_in(v).or_else(|| {
            let last = self.id_field.as_deref()?.rsplit('.').next()?;
            v.get(last)
        })
    }

    /// `item` with its id set along [`Resource::id_field`] (the objects on the way made).
    pub fn set_id(&self, item: &mut Map<String, Value>, id: Value) {
        let Some(path) = self.id_field.as_deref() else {
            return;
        };
        let keys: Vec<&str> = path.split('.').collect();
        let Some((last, above)) = keys.split_last() else {
            return;
        };
        let mut at = item;
        for k in above {
            let next = at
                .entry(k.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !next.is_object() {
                *next = Value::Object(Map::new());
            }
            let Value::Object(m) = next else { return };
            at = m;
        }
        at.insert(last.to_string(), id);
    }

    /// The address of the item `id` of this resource, its bound parameters set.
    pub fn item_path(&self, id: &Value) -> String {
        self.bind(&self.item).replace(
            &format!("{{{}}}", self.param),
            &openapi_runtime::encode_component(&id_text(id)),
        )
    }

    /// The shape the id field has in `op`'s success answer.
    pub fn id_shape<'s>(&self, schema: &'s Schema, shape: &'s Shape) -> Option<&'s Shape> {
        let path = self.id_field.as_deref()?;
        let mut at = shape;
        for k in path.split('.') {
            at = &object_of(schema, at)?.field(k)?.shape;
        }
        Some(at)
    }
}

/// The last segment's parameter name, when the path ends in one (`/notes/{id}` -> `id`).
fn trailing_param(path: &str) -> Option<&str> {
    let last = path.rsplit('/').next()?;
    last.strip_prefix('{')?.strip_suffix('}')
}

/// An id as it goes in a path: a string as it is, a number as written.
pub fn id_text(id: &Value) -> String {
    id.as_str().map_or_else(|| id.to_string(), str::to_string)
}

/// The resource of `all` that `r`'s collection is nested under: the one with the longest item
/// path that `r.collection` extends (`/notes/{note_id}` for `/notes/{note_id}/comments`).
pub fn parent_of<'a>(all: &'a [Resource], r: &Resource) -> Option<&'a Resource> {
    all.iter()
        .filter(|p| {
            !crate::meta::same_template(&r.collection, &p.item)
                && crate::meta::under_template(&r.collection, &p.item).is_some()
        })
        .max_by_key(|p| p.item.len())
}

/// Every resource of the document, by item path. A path ending in a parameter is an item path;
/// the same path less that segment is its collection, whether or not the document has
/// operations on it.
pub fn infer(schema: &Schema) -> Vec<Resource> {
    let mut out: Vec<Resource> = Vec::new();
    for op in schema.operations.values() {
        let Some(param) = trailing_param(&op.path) else {
            continue;
        };
        let collection = op.path[..op.path.len() - param.len() - 3].to_string();
        let collection = if collection.is_empty() {
            "/".to_string()
        } else {
            collection
        };
        if !out.iter().any(|r| r.item == op.path) {
            out.push(Resource {
                collection,
                item: op.path.clone(),
                param: param.to_string(),
                id_field: None,
                ops: Vec::new(),
                bound: Vec::new(),
            });
        }
    }
    for r in &mut out {
        for op in schema.operations.values() {
            let role = match (
                op.method.as_str(),
                op.path == r.item,
                op.path == r.collection,
            ) {
                ("POST", _, true) => Role::Create,
                ("GET", _, true) => Role::List,
                ("GET", true, _) => Role::Read,
                ("PATCH", true, _) => Role::Update,
                ("PUT", true, _) => Role::Replace,
                ("DELETE", true, _) => Role::Delete,
                _ => continue,
            };
            if !r.ops.iter().any(|(x, _)| *x == role) {
                r.ops.push((role, op.name.clone()));
            }
        }
        r.ops.sort();
        r.id_field = id_field(schema, r);
    }
    follow_links(schema, &mut out);
    // Parents before what is nested under them, whatever the parameters are called
    // (`/b/{bucket_id}/c/{collection_id}/r/{id}` sorts after `/b/{bucket_id}/c/{id}`).
    out.sort_by_key(|r| (r.item.matches('/').count(), r.item.clone()));
    out
}

/// What the document's OpenAPI `links` say, over what paths and names suggest: a `POST` whose
/// success links to an operation on a resource's items, passing the item's parameter from a
/// field of its body (`$response.body#/number`), creates that resource's items, and that field
/// is their id, whatever the paths look like.
fn follow_links(schema: &Schema, resources: &mut [Resource]) {
    for op in schema.operations.values().filter(|o| o.method == "POST") {
        let links = op
            .responses
            .iter()
            .filter(|x| !x.range && (200..300).contains(&x.status))
            .flat_map(|x| &x.links);
        for link in links {
            let Some(r) = resources.iter_mut().find(|r| {
                r.ops.iter().any(|(role, name)| {
                    *name == link.operation
                        && matches!(
                            role,
                            Role::Read | Role::Update | Role::Replace | Role::Delete
                        )
                })
            }) else {
                continue;
            };
            let Some(field) = link.body_field(&r.param) else {
                continue;
            };
            r.id_field = Some(field.to_string());
            if !r.ops.iter().any(|(role, _)| *role == Role::Create) {
                r.ops.push((Role::Create, op.name.clone()));
                r.ops.sort();
            }
        }
    }
}

/// The field of an item's answers that carries its id: the path parameter's own name, else `name`
/// for a parameter that takes a name, else `id`, else the one field whose name ends in `id`
/// (`noteId`, `note_id`), looked for in the create's answer first, then the read's; where the
/// answers wrap the item in an object field (`{"data": {"id": ...}}`, Kinto's and JSON:API's
/// envelope), that field's own, as a dotted path (`data.id`).
fn id_field(schema: &Schema, r: &Resource) -> Option<String> {
    let answer = |role| {
        let op = r.op(schema, role)?;
        let ok = op
            .responses
            .iter()
            .find(|x| !x.range && (200..300).contains(&x.status))?;
        object_of(schema, ok.body.as_ref()?)
    };
    let answers: Vec<&crate::meta::Object> = [answer(Role::Create), answer(Role::Read)]
        .into_iter()
        .flatten()
        .collect();
    for o in &answers {
        if let Some(n) = id_among(r, o) {
            return Some(n);
        }
    }
    // One level down: the envelope `data` first, then any object field that carries an id.
    for o in &answers {
        let mut fields: Vec<&crate::meta::Field> = o.fields.iter().collect();
        fields.sort_by_key(|f| f.name != "data");
        for f in fields {
            if let Some(inner) = object_of(schema, &f.shape) {
                if let Some(n) = id_among(r, inner) {
                    return Some(format!("{}.{n}", f.name));
                }
            }
        }
    }
    // An open `data` envelope that declares no id may still carry one by the parameter's name
    // (Kinto's answers do): the create's answer says, and one that does not is skipped.
    answers.iter().find_map(|o| {
        let data = o.field("data")?;
        let open = match &data.shape {
            Shape::Map { .. } => true,
            shape => object_of(schema, shape).is_some_and(|inner| !inner.closed),
        };
        open.then(|| format!("data.{}", r.param))
    })
}

/// The field of `o` that carries the id of `r`'s items, by name.
fn id_among(r: &Resource, o: &crate::meta::Object) -> Option<String> {
    let names: Vec<&String> = o.fields.iter().map(|f| &f.name).collect();
    if let Some(n) = names.iter().find(|n| ***n == r.param) {
        return Some((*n).clone());
    }
    // A parameter that takes a name (`organization_name`, `projectName`) is the item's name.
    let by_name = r.param.to_ascii_lowercase().ends_with("name");
    if let Some(n) = names.iter().find(|n| by_name && **n == "name") {
        return Some((*n).clone());
    }
    if let Some(n) = names.iter().find(|n| **n == "id") {
        return Some((*n).clone());
    }
    let ids: Vec<&&String> = names
        .iter()
        .filter(|n| {
            let l = n.to_ascii_lowercase();
            l.ends_with("id") && l.len() > 2
        })
        .collect();
    match ids.as_slice() {
        [one] => Some((**one).clone()),
        _ => None,
    }
}

/// The object a shape is, through nullability and a union with one object option.
pub fn object_of<'s>(schema: &'s Schema, shape: &Shape) -> Option<&'s crate::meta::Object> {
    match shape {
        Shape::Object { name } => schema.object(name),
        Shape::Nullable { inner } => object_of(schema, inner),
        Shape::OneOf { options } => {
            let objects: Vec<_> = options
                .iter()
                .filter_map(|o| object_of(schema, o))
                .collect();
            match objects.as_slice() {
                [one] => Some(one),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTES: &str = r##"{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{
      "/notes":{"get":{"operationId":"list_notes","responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"type":"array","items":{"$ref":"#/components/schemas/Note"}}}}}}},
                "post":{"operationId":"create_note","requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/NoteIn"}}}},"responses":{"201":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Note"}}}}}}},
      "/notes/{note_id}":{"parameters":[{"name":"note_id","in":"path","required":true,"schema":{"type":"integer"}}],
                "get":{"operationId":"read_note","responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Note"}}}}}},
                "patch":{"operationId":"update_note","requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/NoteIn"}}}},"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Note"}}}}}},
                "delete":{"operationId":"delete_note","responses":{"204":{"description":"gone"}}}}},
      "components":{"schemas":{
        "NoteIn":{"type":"object","properties":{"title":{"type":"string"}}},
        "Note":{"type":"object","required":["id","title"],"properties":{"id":{"type":"integer"},"title":{"type":"string"}}}}}}"##;

    #[test]
    fn links_name_the_create_and_the_id_field_where_paths_and_names_would_not() {
        // The accounts are created at /signups and read at /accounts/{ref}; their answers carry
        // an `id` (which the names would pick) and a `number`, which the links pass as `ref`.
        let doc = r##"{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{
          "/signups":{"post":{"operationId":"sign_up","requestBody":{"content":{"application/json":{"schema":{"type":"object","properties":{"name":{"type":"string"}}}}}},
            "responses":{"201":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Account"}}},
              "links":{"read":{"operationId":"read_account","parameters":{"ref":"$response.body#/number"}},
                       "gone":{"operationRef":"#/paths/~1accounts~1{ref}/delete","parameters":{"path.ref":"$response.body#/number"}},
                       "nowhere":{"operationId":"no_such_operation"}}}}}},
          "/accounts/{ref}":{"parameters":[{"name":"ref","in":"path","required":true,"schema":{"type":"string"}}],
            "get":{"operationId":"read_account","responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Account"}}}}}},
            "delete":{"operationId":"close_account","responses":{"204":{"description":"gone"}}}}},
          "components":{"schemas":{"Account":{"type":"object","required":["id","number"],"properties":{"id":{"type":"integer"},"number":{"type":"string"}}}}}}"##;
        let schema = Schema::from_document(doc).unwrap();
        let created = &schema.find("sign_up").unwrap().responses[0];
        let targets: Vec<&str> = created.links.iter().map(|l| l.operation.as_str()).collect();
        assert_eq!(targets, ["read_account", "close_account"], "{created:#?}");
        assert_eq!(created.links[1].body_field("ref"), Some("number"));
        let rs = infer(&schema);
        assert_eq!(rs.len(), 1, "{rs:#?}");
        let r = &rs[0];
        assert_eq!(r.id_field.as_deref(), Some("number"), "{r:#?}");
        assert_eq!(r.role_of("sign_up"), Some(Role::Create), "{r:#?}");
        assert_eq!(r.role_of("close_account"), Some(Role::Delete), "{r:#?}");
        // Without the links, the names pick `id` and nothing creates accounts.
        let bare = doc.replace("\"links\"", "\"x-no-links\"");
        let r = &infer(&Schema::from_document(&bare).unwrap())[0];
        assert_eq!(r.id_field.as_deref(), Some("id"));
        assert_eq!(r.role_of("sign_up"), None);
    }

    #[test]
    fn a_collection_and_its_items_are_one_resource() {
        let schema = Schema::from_document(NOTES).unwrap();
        let rs = infer(&schema);
        assert_eq!(rs.len(), 1, "{rs:#?}");
        let r = &rs[0];
        assert_eq!(
            (r.collection.as_str(), r.item.as_str()),
            ("/notes", "/notes/{note_id}")
        );
        assert_eq!(r.param, "note_id");
        assert_eq!(r.id_field.as_deref(), Some("id"));
        let roles: Vec<Role> = r.ops.iter().map(|(r, _)| *r).collect();
        assert_eq!(
            roles,
            [
                Role::Create,
                Role::List,
                Role::Read,
                Role::Update,
                Role::Delete
            ]
        );
        assert_eq!(r.role_of("delete_note"), Some(Role::Delete));
    }
}

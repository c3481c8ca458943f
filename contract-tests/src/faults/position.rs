//! Positions in a request body (`gpus.gpus[].slot`): what a fault watches, how it names itself,
//! and how the values at it are found in a body.

use super::*;

/// One step of a position in a body.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// The value of this key of an object.
    Key(String),
    /// Every item of an array.
    Items,
}

/// A position in a request body: the root is the empty path. Shown as `gpus.gpus[].slot`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position(pub Vec<Step>);

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(body)");
        }
        let mut first = true;
        for s in &self.0 {
            match s {
                Step::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Step::Items => f.write_str("[]")?,
            }
            first = false;
        }
        Ok(())
    }
}

impl Position {
    pub(crate) fn push(&self, s: Step) -> Position {
        let mut v = self.0.clone();
        v.push(s);
        Position(v)
    }

    /// The top-level key, when the position is one.
    pub fn top_key(&self) -> Option<&str> {
        match self.0.as_slice() {
            [Step::Key(k)] => Some(k),
            _ => None,
        }
    }

    /// Every value at this position in `body` (one per array item on the way), with the object
    /// that holds it when the last step is a key: `(holder, value)`. A holder whose key is absent
    /// gives `(Some(holder), None)`.
    pub fn visit<'v>(&self, body: &'v Value) -> Vec<Slot<'v>> {
        let mut out = Vec::new();
        walk(&self.0, body, None, &mut out);
        out
    }

    /// Whether a location of the form FastAPI gives (`["body", "gpus", "gpus", 0, "slot"]`, or
    /// the same without `"body"`) names this position.
    pub fn names(&self, loc: &[Value]) -> bool {
        let loc = match loc.first() {
            Some(Value::String(b)) if b == "body" => &loc[1..],
            _ => loc,
        };
        let mut i = 0;
        for s in &self.0 {
            match (s, loc.get(i)) {
                (Step::Key(k), Some(Value::String(l))) if l == k => i += 1,
                (Step::Items, Some(Value::Number(_))) => i += 1,
                _ => return false,
            }
        }
        i == loc.len()
    }
}

/// A value found at a position (see [`Position::visit`]).
#[derive(Debug, Clone, Copy)]
pub struct Slot<'v> {
    /// The object whose key the position's last step is, if it is a key.
    pub holder: Option<&'v serde_json::Map<String, Value>>,
    /// The value, or `None` where the holder lacks the key.
    pub value: Option<&'v Value>,
}

pub(crate) fn walk<'v>(
    steps: &[Step],
    v: &'v Value,
    holder: Option<&'v serde_json::Map<String, Value>>,
    out: &mut Vec<Slot<'v>>,
) {
    let Some((first, rest)) = steps.split_first() else {
        out.push(Slot {
            holder,
            value: Some(v),
        });
        return;
    };
    match (first, v) {
        (Step::Key(k), Value::Object(m)) => match m.get(k) {
            Some(x) => walk(rest, x, Some(m), out),
            None if rest.is_empty() => out.push(Slot {
                holder: Some(m),
                value: None,
            }),
            None => {}
        },
        (Step::Items, Value::Array(a)) => {
            for x in a {
                walk(rest, x, None, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    pub(crate) fn positions_name_fastapi_locations() {
        let p = Position(vec![
            Step::Key("gpus".into()),
            Step::Key("gpus".into()),
            Step::Items,
            Step::Key("slot".into()),
        ]);
        assert_eq!(p.to_string(), "gpus.gpus[].slot");
        assert!(p.names(&[
            json!("body"),
            json!("gpus"),
            json!("gpus"),
            json!(3),
            json!("slot")
        ]));
        assert!(!p.names(&[json!("body"), json!("gpus"), json!("gpus"), json!(3)]));
        assert!(!p.names(&[json!("body"), json!("gpus")]));
    }

    #[test]
    fn a_position_visits_every_item_and_absent_keys() {
        let p = Position(vec![Step::Items, Step::Key("a".into())]);
        let body = json!([{"a": 1}, {"b": 2}, {"a": null}]);
        let slots = p.visit(&body);
        assert_eq!(slots.len(), 3);
        assert_eq!(slots[0].value, Some(&json!(1)));
        assert!(slots[1].value.is_none() && slots[1].holder.is_some());
        assert_eq!(slots[2].value, Some(&Value::Null));
    }
}

//! Errors and warnings, each located by the JSON pointer of the node it is about.

use std::fmt;

/// A construct the generator degraded or skipped. Generation goes on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// JSON pointer (RFC 6901) of the node, e.g. `/components/schemas/Foo/prefixItems`.
    pub pointer: String,
    /// What was degraded and to what.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "warning: {}: {}",
            display_pointer(&self.pointer),
            self.message
        )
    }
}

/// A document the generator cannot handle. Nothing is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// JSON pointer of the offending node (empty for the whole document).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl Error {
    pub(crate) fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "error: {}: {}",
            display_pointer(&self.pointer),
            self.message
        )
    }
}

impl std::error::Error for Error {}

fn display_pointer(p: &str) -> &str {
    if p.is_empty() {
        "(document root)"
    } else {
        p
    }
}

/// Collects diagnostics; each (pointer, message) pair is kept once, in sorted order.
#[derive(Debug, Default)]
pub(crate) struct Diagnostics(std::collections::BTreeSet<Diagnostic>);

impl Diagnostics {
    pub(crate) fn warn(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.0.insert(Diagnostic {
            pointer: pointer.into(),
            message: message.into(),
        });
    }

    pub(crate) fn into_vec(self) -> Vec<Diagnostic> {
        self.0.into_iter().collect()
    }
}

/// Escapes one JSON pointer segment (RFC 6901: `~` as `~0`, `/` as `~1`).
pub fn escape_segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Appends a segment to a pointer.
pub(crate) fn join(pointer: &str, segment: &str) -> String {
    format!("{pointer}/{}", escape_segment(segment))
}

/// A JSON pointer built only when it is needed: a chain of segments on the stack, turned into a
/// string when a diagnostic names it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ptr<'a> {
    parent: Option<&'a Ptr<'a>>,
    seg: Seg<'a>,
}

#[derive(Clone, Copy, Debug)]
enum Seg<'a> {
    Root,
    /// A whole pointer, as text (already escaped).
    Text(&'a str),
    Key(&'a str),
    Index(usize),
}

impl<'a> Ptr<'a> {
    /// The document root (`""`).
    pub(crate) const ROOT: Ptr<'static> = Ptr {
        parent: None,
        seg: Seg::Root,
    };

    /// A pointer from its text (RFC 6901, already escaped), to build on.
    pub(crate) fn from_text(text: &'a str) -> Ptr<'a> {
        Ptr {
            parent: None,
            seg: Seg::Text(text),
        }
    }

    /// This pointer with a key appended.
    pub(crate) fn key(&'a self, key: &'a str) -> Ptr<'a> {
        Ptr {
            parent: Some(self),
            seg: Seg::Key(key),
        }
    }

    /// This pointer with an array index appended.
    pub(crate) fn index(&'a self, i: usize) -> Ptr<'a> {
        Ptr {
            parent: Some(self),
            seg: Seg::Index(i),
        }
    }

    /// The pointer as RFC 6901 text.
    pub(crate) fn text(&self) -> String {
        let mut segs = Vec::new();
        let mut cur = Some(self);
        while let Some(p) = cur {
            segs.push(p.seg);
            cur = p.parent;
        }
        let mut out = String::new();
        for s in segs.iter().rev() {
            match s {
                Seg::Root => {}
                Seg::Text(t) => out.push_str(t),
                Seg::Key(k) => {
                    out.push('/');
                    out.push_str(&escape_segment(k));
                }
                Seg::Index(i) => {
                    out.push('/');
                    out.push_str(&i.to_string());
                }
            }
        }
        out
    }
}

//! Doc text from the document, made safe for rustdoc: no doctests from stray code blocks, no broken
//! intra-doc links, no stray HTML, URLs as links.

use proc_macro2::TokenStream;
use quote::quote;

/// Rewrites free text so rustdoc renders it as prose and compiles nothing from it.
pub fn sanitize(text: &str) -> String {
    // Tabs become spaces (rustdoc and clippy want no tabs in doc comments).
    let untabbed;
    let text = if text.contains('\t') {
        untabbed = text.replace('\t', "    ");
        untabbed.as_str()
    } else {
        text
    };
    let mut out = Vec::new();
    let mut in_fence = false;
    // Width of the marker of the list item being continued, if any.
    let mut item: Option<usize> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            // Every fence opens as plain text so rustdoc never runs it as a doctest.
            out.push(if in_fence {
                "```".to_string()
            } else {
                "```text".to_string()
            });
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            out.push(line.trim_end().to_string());
            continue;
        }
        // Leading indentation would make an indented code block (a doctest): drop it, except
        // the indentation that continues a list item.
        if trimmed.is_empty() {
            item = None;
            out.push(String::new());
        } else if let Some(width) = list_marker(trimmed) {
            item = Some(width);
            out.push(format!(
                "{}{}",
                &trimmed[..width],
                escape_prose(&trimmed[width..])
            ));
        } else if let Some(width) = item {
            out.push(format!("{}{}", " ".repeat(width), escape_prose(trimmed)));
        } else {
            out.push(escape_prose(trimmed));
        }
    }
    if in_fence {
        out.push("```".into());
    }
    // Trim blank lines at both ends.
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    let start = out.iter().position(|l| !l.is_empty()).unwrap_or(out.len());
    out[start..].join("\n")
}

/// The width of a list item's marker (`- `, `* `, `+ `, `12. `) at the start of a line.
fn list_marker(line: &str) -> Option<usize> {
    let bullet = if line.starts_with("- ") || line.starts_with("* ") || line.starts_with("+ ") {
        1
    } else {
        let digits = line.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits >= 10 || !line[digits..].starts_with(". ") {
            return None;
        }
        digits + 1
    };
    // The item's text starts after the marker and its spaces (one to four).
    let spaces = line[bullet..]
        .bytes()
        .take_while(|b| *b == b' ')
        .count()
        .min(4);
    Some(bullet + spaces)
}

fn escape_prose(line: &str) -> String {
    let mut s = String::with_capacity(line.len() + 8);
    let mut rest = line;
    while !rest.is_empty() {
        if let Some(url_len) = url_at(rest) {
            let (url, tail) = rest.split_at(url_len);
            s.push('<');
            s.push_str(url);
            s.push('>');
            rest = tail;
            continue;
        }
        let c = rest.chars().next().expect("non-empty");
        match c {
            '[' | ']' | '<' | '>' | '\\' | '*' | '_' | '`' | '#' | '|' if needs_escape(c, &s) => {
                s.push('\\');
                s.push(c);
            }
            _ => s.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    s
}

/// Markdown syntax that would change the meaning or warn: brackets (links), angle brackets (HTML),
/// backslashes; emphasis and code marks are kept, a `#` only at a line start (heading) is escaped.
fn needs_escape(c: char, so_far: &str) -> bool {
    match c {
        '[' | ']' | '<' | '>' | '\\' => true,
        '#' | '|' => so_far.is_empty(),
        _ => false,
    }
}

fn url_at(s: &str) -> Option<usize> {
    if !(s.starts_with("http://") || s.starts_with("https://")) {
        return None;
    }
    let end = s
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`' | ')' | ']'))
        .unwrap_or(s.len());
    let url = s[..end].trim_end_matches(['.', ',', ';', ':']);
    Some(url.len())
}

/// `#[doc = "..."]` attributes for a doc text, one per line so prettyplease prints `///` lines.
pub fn attrs(text: Option<&str>) -> TokenStream {
    let Some(text) = text else {
        return TokenStream::new();
    };
    let clean = sanitize(text);
    if clean.is_empty() {
        return TokenStream::new();
    }
    lines(&clean)
}

/// Doc attributes for already-safe text.
pub fn lines(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| {
        if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        }
    });
    quote! { #( #[doc = #lines] )* }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_become_text_and_links_are_escaped() {
        let s = sanitize("Use [x] at https://a.b/c.\n    indented\n```python\nprint(1)\n```");
        assert_eq!(
            s,
            "Use \\[x\\] at <https://a.b/c>.\nindented\n```text\nprint(1)\n```"
        );
    }

    #[test]
    fn list_items_keep_their_continuation_indented() {
        assert_eq!(sanitize("- one\ntwo\n\nthree"), "- one\n  two\n\nthree");
        assert_eq!(sanitize("10. ten\n  more"), "10. ten\n    more");
        assert_eq!(sanitize("*   wide\nnext"), "*   wide\n    next");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(sanitize("a <b> c"), "a \\<b\\> c");
    }
}

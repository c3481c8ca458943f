//! Messages with what changes from one request to the next masked out, so that two failures of
//! the same cause read the same: the operation's own path, quoted values, and any word holding a
//! digit (ids, numbers, versions, UUIDs).

/// `message` masked: `path` and `template` (the request's concrete path and its template) as
/// `<path>`, text in single quotes or backticks as `<q>`, and every word that holds a digit as
/// `<n>`. Words are runs of letters, digits and `_ . - : +`; JSON's double quotes are kept, and
/// what they hold is masked word by word, so `{"detail":"limit must be <= 200"}` keeps its words.
pub fn mask(message: &str, path: &str, template: &str) -> String {
    let mut text = message.to_string();
    for p in [path, template] {
        if p.len() > 1 {
            text = text.replace(p, "<path>");
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        if word.chars().any(|c| c.is_ascii_digit()) {
            out.push_str("<n>");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    while let Some(c) = chars.next() {
        // A path (`/flows/{id}/runs`) names an operation or an item: masked whole.
        if c == '/' && word.is_empty() {
            while chars
                .peek()
                .is_some_and(|n| n.is_alphanumeric() || "_.-~%{}/:".contains(*n))
            {
                chars.next();
            }
            out.push_str("<path>");
            continue;
        }
        if c == '\'' || c == '`' {
            // A quote opens a quoted value only where a word does not go on (`it's` stays).
            if word.is_empty() {
                if let Some(end) = text_until(&mut chars.clone(), c) {
                    for _ in 0..=end {
                        chars.next();
                    }
                    out.push_str("<q>");
                    continue;
                }
            }
            word.push(c);
            continue;
        }
        if c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | ':' | '+') {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    // Masks that follow each other are one (`<n>.<n>` is a version, `<n> <n>` two ids).
    while out.contains("<n><n>") {
        out = out.replace("<n><n>", "<n>");
    }
    // A method and a path name the operation, which a cause lists apart.
    for m in ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] {
        out = out.replace(&format!("{m} <path>"), "<path>");
    }
    out
}

/// How many characters to the closing `quote` on the same line, if it comes within 200.
fn text_until(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, quote: char) -> Option<usize> {
    for (i, c) in chars.take(200).enumerate() {
        if c == quote {
            return Some(i);
        }
        if c == '\n' {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn what_varies_is_masked_and_what_names_the_cause_is_kept() {
        let a = r#"a valid request got 400: {"detail":"Invalid X-PREFECT-API-VERSION header format.Expected header in format 'x.y.z' but received 9_nxzv.nR.c-o_8Hz30.W_M"}"#;
        let b = r#"a valid request got 400: {"detail":"Invalid X-PREFECT-API-VERSION header format.Expected header in format 'x.y.z' but received 0.0.0-zz"}"#;
        assert_eq!(mask(a, "", ""), mask(b, "", ""));
        assert!(mask(a, "", "").contains("Invalid X-PREFECT-API-VERSION header"));
        assert_eq!(
            mask(
                "status 404 is not documented for GET /flows/9f1c-44",
                "/flows/9f1c-44",
                "/flows/{id}"
            ),
            "status <n> is not documented for <path>"
        );
        assert_eq!(
            mask(
                "status 404 is not documented for GET /flows/{id}",
                "/flows/77",
                "/flows/{id}"
            ),
            "status <n> is not documented for <path>"
        );
        assert_eq!(
            mask("a request breaking `wrong_type` at limit got 200", "", ""),
            "a request breaking <q> at limit got <n>"
        );
        assert_eq!(mask("it's 3 o'clock", "", ""), "it's <n> o'clock");
        assert_eq!(
            mask(
                "status 400 is not documented for POST /work_pools/{name}/queues",
                "",
                ""
            ),
            "status <n> is not documented for <path>"
        );
        assert_eq!(mask("a/b and 1/2", "", ""), "a/b and <n>/<n>");
        assert_ne!(
            mask(r#"{"detail":"limit must be <= 200"}"#, "", ""),
            mask(r#"{"detail":"name is required"}"#, "", "")
        );
    }
}

//! Message helpers with the reference's exact spelling.

use std::fmt::Write;

/// `"a", "b"`: items quoted with no escaping, as the reference's `joinQuote`.
pub fn join_quote<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut text = String::from("\"");
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            text.push_str("\", \"");
        }
        text.push_str(item.as_ref());
    }
    text.push('"');
    text
}

pub fn pluralize<'a>(singular: &'a str, plural: &'a str, count: usize) -> &'a str {
    if count == 1 { singular } else { plural }
}

/// `container "a"` / `containers "a", "b"`.
pub fn containers<S: AsRef<str>>(names: &[S]) -> String {
    format!(
        "{} {}",
        pluralize("container", "containers", names.len()),
        join_quote(names)
    )
}

/// Who set a forbidden value: `pod`, then `container(s) "x"`; callers join them with ` and `.
pub fn setters(pod: bool, bad_containers: &[&str]) -> Vec<String> {
    let mut setters = Vec::new();
    if pod {
        setters.push("pod".to_string());
    }
    if !bad_containers.is_empty() {
        setters.push(containers(bad_containers));
    }
    setters
}

/// `key="value"` with the value quoted as Go's `%q` does.
pub fn key_equals_quoted(key: &str, value: &str) -> String {
    format!("{key}={}", go_quote(value))
}

/// Go's `strconv.Quote`: printable characters as they are, control characters escaped.
pub fn go_quote(value: &str) -> String {
    let mut text = String::with_capacity(value.len() + 2);
    text.push('"');
    for c in value.chars() {
        match c {
            '"' => text.push_str("\\\""),
            '\\' => text.push_str("\\\\"),
            '\u{7}' => text.push_str("\\a"),
            '\u{8}' => text.push_str("\\b"),
            '\u{c}' => text.push_str("\\f"),
            '\n' => text.push_str("\\n"),
            '\r' => text.push_str("\\r"),
            '\t' => text.push_str("\\t"),
            '\u{b}' => text.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(text, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(text, "\\u{:04x}", c as u32);
            }
            c => text.push(c),
        }
    }
    text.push('"');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_quote_matches_the_reference() {
        assert_eq!(join_quote::<&str>(&[]), "");
        assert_eq!(join_quote(&["a"]), "\"a\"");
        assert_eq!(join_quote(&["a", "b"]), "\"a\", \"b\"");
    }

    #[test]
    fn containers_are_singular_only_for_one() {
        assert_eq!(containers(&["a"]), "container \"a\"");
        assert_eq!(containers(&["a", "b"]), "containers \"a\", \"b\"");
    }

    #[test]
    fn go_quote_escapes_like_go() {
        assert_eq!(go_quote("unconfined"), "\"unconfined\"");
        assert_eq!(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(go_quote("x\ny\u{1}"), "\"x\\ny\\x01\"");
        assert_eq!(go_quote("é"), "\"é\"");
    }
}

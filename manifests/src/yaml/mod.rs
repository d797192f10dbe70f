//! YAML as Kubernetes reads it (YAML 1.1 scalars: `yes` and `on` are booleans, `0777` is octal,
//! as `sigs.k8s.io/yaml` does), on serde-saphyr; for manifests, with the line each value starts on.
//! Manifests in the plain block style tools write are read by a quicker reader of that subset
//! ([`block`]), which leaves everything else to serde-saphyr.

mod block;
pub mod lines;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A parsed document: its value, the 1-based line it starts on (its first key, for a mapping)
/// and, for a mapping with an `items` list, the line each item starts on.
#[derive(Debug, PartialEq)]
pub struct ParsedDocument {
    pub line: u64,
    pub value: Value,
    pub item_lines: Vec<u64>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct YamlError {
    /// 1-based, within the document; 0 when the parser gave none.
    pub line: u64,
    pub message: String,
}

pub(crate) fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        // go-yaml v2, which sigs.k8s.io/yaml uses, reads `0777` as octal.
        legacy_octal_numbers: true,
    }
}

/// Reads one YAML document into `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, serde_saphyr::Error> {
    serde_saphyr::from_str_with_options(text, options())
}

/// Writes `value` as a YAML document.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, serde_saphyr::ser::Error> {
    serde_saphyr::to_string(value)
}

/// Parses one manifest document; `None` for an empty one (`~`, `null`).
pub fn parse(text: &str) -> Result<Option<ParsedDocument>, YamlError> {
    match block::parse(text) {
        Some(parsed) => Ok(Some(parsed)),
        None => parse_with_saphyr(text),
    }
}

/// Reads `text` with the quick reader only; `None` when it leaves the document to serde-saphyr.
/// For the benchmark, which compares the two readers.
pub fn parse_quick(text: &str) -> Option<ParsedDocument> {
    block::parse(text)
}

/// How serde-saphyr reads a plain scalar in a value's place; `None` when it refuses it.
fn resolve_plain_scalar(text: &str) -> Option<Value> {
    let mut document: Map<String, Value> = from_str(&format!("k: {text}\n")).ok()?;
    document
        .remove("k")
        .filter(|value| !value.is_array() && !value.is_object())
}

/// Reads `text` with serde-saphyr only (the benchmark compares the two readers).
pub fn parse_with_saphyr(text: &str) -> Result<Option<ParsedDocument>, YamlError> {
    lines::read(text, None)
}

/// What the parser says went wrong, without its `error: line L column C:` prefix (the line is the
/// document's, not the file's) and the snippet of the input it adds below.
pub(crate) fn what_went_wrong(message: &str) -> String {
    let first = message.lines().next().unwrap_or_default().trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let first = match first.strip_prefix("line ") {
        Some(rest) => rest.split_once(": ").map_or(first, |(_, what)| what),
        None => first,
    };
    first.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_mapping_starts_at_its_first_key_and_items_at_theirs() {
        let text = "# comment\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n-\n  apiVersion: v1\n  kind: Pod\n";
        let parsed = parse(text).unwrap().unwrap();
        assert_eq!(parsed.line, 2);
        assert_eq!(parsed.item_lines, [5, 8]);
        assert_eq!(
            parsed.value["items"][1],
            json!({"apiVersion": "v1", "kind": "Pod"})
        );
    }

    #[test]
    fn scalars_read_as_kubernetes_reads_them() {
        let parsed = parse("a: yes\nb: on\nc: 0777\nd: 'yes'\ne: ~\nf: 1.5\ng: \"0777\"\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            parsed.value,
            json!({"a": true, "b": true, "c": 511, "d": "yes", "e": null, "f": 1.5, "g": "0777"})
        );
    }

    #[test]
    fn json_documents_and_other_values_are_read_too() {
        let parsed = parse("{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}\n")
            .unwrap()
            .unwrap();
        assert_eq!(parsed.value, json!({"apiVersion": "v1", "kind": "Pod"}));
        assert_eq!(parse("- 1\n- 2\n").unwrap().unwrap().value, json!([1, 2]));
        assert_eq!(parse("hello\n").unwrap().unwrap().value, json!("hello"));
        assert_eq!(parse("~\n").unwrap(), None);
    }

    #[test]
    fn errors_give_their_line() {
        let error = parse("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(error.line >= 2, "{error:?}");
        assert!(!error.message.is_empty());
        assert!(!error.message.contains('\n'));
        assert!(!error.message.starts_with("error"), "{error:?}");
        assert!(error.message.contains("(column "), "{error:?}");
    }
}

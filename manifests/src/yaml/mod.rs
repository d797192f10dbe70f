//! YAML as Kubernetes reads it (YAML 1.1 scalars: `yes` and `on` are booleans, `0777` is octal,
//! as `sigs.k8s.io/yaml` does), on serde-saphyr; for manifests, with the line each value starts on.
//! Manifests in the plain block style tools write are read by a quicker reader of that subset
//! ([`block`]), which leaves everything else to serde-saphyr.

/// A visitor's scalar and null cases, each made a JSON value and handed to `$wrap` (defined before
/// the submodules, which use it too).
macro_rules! scalars_as {
    ($output:ty, $wrap:expr) => {
        fn visit_unit<E: serde::de::Error>(self) -> Result<$output, E> {
            Ok($wrap(serde_json::Value::Null))
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<$output, E> {
            Ok($wrap(serde_json::Value::Null))
        }

        fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<$output, E> {
            Ok($wrap(serde_json::Value::Bool(value)))
        }

        fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<$output, E> {
            Ok($wrap(serde_json::Value::from(value)))
        }

        fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<$output, E> {
            Ok($wrap(serde_json::Value::from(value)))
        }

        fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<$output, E> {
            Ok($wrap(serde_json::Value::from(value)))
        }

        fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<$output, E> {
            Ok($wrap(serde_json::Value::String(value.to_string())))
        }
    };
}

mod block;
pub mod lines;

use std::fmt;

use serde::de::DeserializeOwned;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_saphyr::Spanned;

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
    let parsed: Spanned<Document> =
        serde_saphyr::from_str_with_options(text, options()).map_err(|error| {
            let location = error.location();
            let message = what_went_wrong(&error.to_string());
            YamlError {
                line: location.as_ref().map_or(0, |at| at.line()),
                message: match location {
                    Some(at) => format!("{message} (column {})", at.column()),
                    None => message,
                },
            }
        })?;
    let line = parsed.referenced.line();
    Ok(match parsed.value {
        Document::Null => None,
        Document::Mapping(value, item_lines) => Some(ParsedDocument {
            line,
            value: Value::Object(value),
            item_lines,
        }),
        Document::Other(value) => Some(ParsedDocument {
            line,
            value,
            item_lines: Vec::new(),
        }),
    })
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

/// A document: a mapping (with the lines of its `items`), nothing, or any other value.
enum Document {
    Null,
    Mapping(Map<String, Value>, Vec<u64>),
    Other(Value),
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DocumentVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let mut fields = Map::new();
        let mut item_lines = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                let items = match map.next_value::<Items>()? {
                    Items::Spanned(items) => {
                        item_lines = items.iter().map(|item| item.referenced.line()).collect();
                        Value::Array(items.into_iter().map(|item| item.value).collect())
                    }
                    Items::Other(value) => value,
                };
                fields.insert(key, items);
            } else {
                let value = map.next_value()?;
                fields.insert(key, value);
            }
        }
        Ok(Document::Mapping(fields, item_lines))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Document, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(Document::Other)
    }

    scalars_as!(Document, |value: Value| if value.is_null() {
        Document::Null
    } else {
        Document::Other(value)
    });
}

/// A mapping's `items`: a list, each with its line, or whatever else it is.
enum Items {
    Spanned(Vec<Spanned<Value>>),
    Other(Value),
}

impl<'de> Deserialize<'de> for Items {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ItemsVisitor)
    }
}

struct ItemsVisitor;

impl<'de> Visitor<'de> for ItemsVisitor {
    type Value = Items;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Value>>()? {
            items.push(item);
        }
        Ok(Items::Spanned(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Items, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(Items::Other)
    }

    scalars_as!(Items, Items::Other);
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

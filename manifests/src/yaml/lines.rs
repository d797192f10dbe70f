//! Where each value of a document is written: the line of every mapping key and sequence item, by
//! its JSON pointer, so that a finding about `/spec/containers/0/securityContext` can be shown at
//! its line in an editor. The document's value comes from the same pass: this is how
//! [`super::parse`] reads what its quick reader leaves to serde-saphyr.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use serde_saphyr::Spanned;

use super::{ParsedDocument, YamlError, options};

/// The 1-based line of each JSON pointer in a document (`""` is the document itself).
pub type FieldLines = BTreeMap<String, u64>;

/// One document read in one pass: what [`super::parse`] gives (`None` for an empty document), and
/// the lines of every key and item.
pub fn parse_with_lines(text: &str) -> Result<(Option<ParsedDocument>, FieldLines), YamlError> {
    let mut lines = FieldLines::new();
    let parsed = read(text, Some(&mut lines))?;
    Ok((parsed, lines))
}

/// A document read by serde-saphyr, recording the line of every key and item in `lines` if given.
pub(super) fn read(
    text: &str,
    lines: Option<&mut FieldLines>,
) -> Result<Option<ParsedDocument>, YamlError> {
    let root: Spanned<Node> =
        serde_saphyr::from_str_with_options(text, options()).map_err(|error| {
            let location = error.location();
            let message = super::what_went_wrong(&error.to_string());
            YamlError {
                line: location.as_ref().map_or(0, |at| at.line()),
                message: match location {
                    Some(at) => format!("{message} (column {})", at.column()),
                    None => message,
                },
            }
        })?;
    let line = root.referenced.line();
    if let Some(lines) = lines {
        lines.insert(String::new(), line);
        record(&root.value, "", lines);
    }
    // A `List`'s items, each at its line.
    let item_lines = match &root.value {
        Node::Mapping(entries) => entries
            .iter()
            .rev()
            .find(|(key, ..)| key == "items")
            .and_then(|(_, _, items)| match items {
                Node::Sequence(items) => {
                    Some(items.iter().map(|item| item.referenced.line()).collect())
                }
                _ => None,
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    Ok(match root.value.into_value() {
        Value::Null => None,
        value => Some(ParsedDocument {
            line,
            value,
            item_lines,
        }),
    })
}

/// The line of `pointer`, or of its nearest ancestor that is written (a default the policy reads
/// but the manifest leaves out is shown where its parent is).
pub fn line_of(lines: &FieldLines, pointer: &str) -> Option<u64> {
    let mut pointer = pointer;
    loop {
        if let Some(line) = lines.get(pointer) {
            return Some(*line);
        }
        pointer = &pointer[..pointer.rfind('/')?];
    }
}

fn record(node: &Node, pointer: &str, lines: &mut FieldLines) {
    match node {
        Node::Leaf(_) => {}
        Node::Mapping(entries) => {
            for (key, line, value) in entries {
                let child = format!("{pointer}/{}", escape(key));
                lines.insert(child.clone(), *line);
                record(value, &child, lines);
            }
        }
        Node::Sequence(items) => {
            for (index, item) in items.iter().enumerate() {
                let child = format!("{pointer}/{index}");
                lines.insert(child.clone(), item.referenced.line());
                record(&item.value, &child, lines);
            }
        }
    }
}

/// A JSON pointer's reference token (RFC 6901).
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

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

/// A document's nodes, with the line of each key and item.
enum Node {
    Leaf(Value),
    /// Each key, the line it is on, and its value.
    Mapping(Vec<(String, u64, Node)>),
    Sequence(Vec<Spanned<Node>>),
}

impl Node {
    /// The node as JSON, as `serde_json::Value` reads it (a repeated key: the last one counts).
    fn into_value(self) -> Value {
        match self {
            Node::Leaf(value) => value,
            Node::Mapping(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(key, _, value)| (key, value.into_value()))
                    .collect::<Map<String, Value>>(),
            ),
            Node::Sequence(items) => Value::Array(
                items
                    .into_iter()
                    .map(|item| item.value.into_value())
                    .collect(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML node")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Key>>()? {
            let value: Node = map.next_value()?;
            entries.push((key.value.0, key.referenced.line(), value));
        }
        Ok(Node::Mapping(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Sequence(items))
    }

    scalars_as!(Node, Node::Leaf);
}

/// A mapping key as JSON names it: scalars become their text (`1: x` is the key `"1"`).
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // As a string, so that a key like `n` or `yes` stays text, as serde_json reads keys.
        deserializer.deserialize_string(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scalar key")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key("null".to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every document of `test_data/manifests/`: charts, kustomize output, lists, CRLF, bad YAML.
    fn test_data_documents() -> Vec<String> {
        let mut documents = Vec::new();
        let mut folders = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../test_data/manifests"
        ))];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                    continue;
                }
                let file = std::fs::File::open(&path).unwrap();
                let mut splitter =
                    crate::documents::DocumentSplitter::new(std::io::BufReader::new(file));
                while let Some(document) = splitter.next_document().unwrap() {
                    documents.push(document.text);
                }
            }
        }
        assert!(documents.len() > 20, "{}", documents.len());
        documents
    }

    fn field_lines(text: &str) -> Result<FieldLines, YamlError> {
        parse_with_lines(text).map(|(_, lines)| lines)
    }

    #[test]
    fn the_value_is_what_parse_reads() {
        for text in [
            POD,
            "apiVersion: v1\nkind: List\nitems:\n- {kind: Pod}\n-\n  kind: Pod\n",
            "a: yes\nb: on\nc: 0777\nd: 'yes'\ne: ~\nf: 1.5\ng: \"0777\"\nh: 1\nh: 2\n1: x\n",
            "base: &base {a: 1}\nmerged:\n  <<: *base\n  b: 2\n",
            "~\n",
            "- 1\n- 2\n",
        ]
        .into_iter()
        .map(str::to_string)
        .chain(test_data_documents())
        {
            let text = text.as_str();
            let one_pass = parse_with_lines(text).map(|(parsed, _)| parsed);
            match (one_pass, super::super::parse(text)) {
                (Ok(one_pass), Ok(parsed)) => assert_eq!(one_pass, parsed, "{text}"),
                (Err(one_pass), Err(parsed)) => assert_eq!(one_pass.line, parsed.line, "{text}"),
                (one_pass, parsed) => panic!("{text}: {one_pass:?} but {parsed:?}"),
            }
        }
    }

    const POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: app
    image: nginx
    securityContext:
      privileged: true
  -
    name: sidecar
  volumes: [{name: host, hostPath: {path: /}}]
";

    #[test]
    fn every_key_and_item_has_its_line() {
        let lines = field_lines(POD).unwrap();
        assert_eq!(lines[""], 1);
        assert_eq!(lines["/metadata/name"], 4);
        assert_eq!(lines["/spec/containers"], 6);
        assert_eq!(lines["/spec/containers/0"], 7);
        assert_eq!(lines["/spec/containers/0/securityContext/privileged"], 10);
        assert_eq!(lines["/spec/containers/1/name"], 12);
        assert_eq!(lines["/spec/volumes/0/hostPath/path"], 13);
    }

    #[test]
    fn an_unwritten_field_is_shown_at_its_nearest_written_parent() {
        // An item is where its mapping starts (after a lone `-`, the next line).
        let lines = field_lines(POD).unwrap();
        assert_eq!(
            line_of(&lines, "/spec/containers/1/securityContext/runAsNonRoot"),
            Some(12)
        );
        assert_eq!(line_of(&lines, "/spec/securityContext"), Some(5));
    }

    #[test]
    fn keys_with_slashes_are_escaped_and_bad_yaml_has_its_line() {
        let lines = field_lines("metadata:\n  annotations:\n    a/b~c: x\n").unwrap();
        assert_eq!(lines["/metadata/annotations/a~1b~0c"], 3);
        let error = field_lines("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(error.line >= 2, "{error:?}");
    }
}

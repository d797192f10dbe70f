//! Where each value of a document is written: the line of every mapping key and sequence item, by
//! its JSON pointer, so that a finding about `/spec/containers/0/securityContext` can be shown at
//! its line in an editor.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::{YamlError, options};

/// The 1-based line of each JSON pointer in a document (`""` is the document itself).
pub type FieldLines = BTreeMap<String, u64>;

/// The lines of every key and item of one document.
pub fn field_lines(text: &str) -> Result<FieldLines, YamlError> {
    let root: Spanned<Node> =
        serde_saphyr::from_str_with_options(text, options()).map_err(|error| YamlError {
            line: error.location().map_or(0, |at| at.line()),
            message: super::what_went_wrong(&error.to_string()),
        })?;
    let mut lines = FieldLines::new();
    lines.insert(String::new(), root.referenced.line());
    record(&root.value, "", &mut lines);
    Ok(lines)
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
        Node::Leaf => {}
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

/// A document's shape: what has lines, not the values.
enum Node {
    Leaf,
    /// Each key, the line it is on, and its value.
    Mapping(Vec<(String, u64, Node)>),
    Sequence(Vec<Spanned<Node>>),
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

    scalars_as!(Node, |_| Node::Leaf);
}

/// A mapping key as JSON names it: scalars become their text (`1: x` is the key `"1"`).
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KeyVisitor)
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

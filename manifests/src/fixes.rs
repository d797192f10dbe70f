//! Fixes for denied objects: the JSON patch the policy's `secureDefaults` would apply, written into
//! the manifest's own text as the YAML lines to add, everything else left as it was (comments, key
//! order, the other documents).

/// A JSON pointer's segments, unescaped (RFC 6901: `~1` is `/`, `~0` is `~`).
fn segments(pointer: &str) -> impl Iterator<Item = String> + '_ {
    pointer
        .split('/')
        .skip(1)
        .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
}

/// `/spec/containers/0/securityContext` as `spec.containers[0].securityContext`.
pub fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for segment in segments(pointer) {
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_read_as_field_paths() {
        assert_eq!(
            dotted("/spec/containers/0/securityContext"),
            "spec.containers[0].securityContext"
        );
        assert_eq!(
            dotted("/metadata/annotations/a~1b"),
            "metadata.annotations.a/b"
        );
    }
}

/// A block of lines to insert after line `after` (0-based, in the document's text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insertion {
    pub after: usize,
    pub text: String,
}

/// A line of the document as the locator reads it: a `- key: v` line is read as `-` and, two
/// columns further in, `key: v`; blank and comment lines are left out.
struct Line<'t> {
    indent: usize,
    text: &'t str,
    dash: bool,
    original: usize,
}

fn lines(document: &str) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    for (original, line) in document.lines().enumerate() {
        let content = line.trim_start_matches(' ');
        if content.is_empty()
            || content.starts_with('#')
            || content == "---"
            || content.starts_with("--- ")
        {
            continue;
        }
        let mut indent = line.len() - content.len();
        let mut rest = content.trim_end();
        while rest == "-" || rest.starts_with("- ") {
            lines.push(Line {
                indent,
                text: "-",
                dash: true,
                original,
            });
            let after = rest[1..].trim_start_matches(' ');
            indent += rest.len() - after.len();
            rest = after;
        }
        if !rest.is_empty() {
            lines.push(Line {
                indent,
                text: rest,
                dash: false,
                original,
            });
        }
    }
    lines
}

/// A block node: its lines `[start, end)` and the column of its keys (a mapping) or dashes (a
/// sequence).
#[derive(Debug, Clone, Copy)]
struct Node {
    start: usize,
    end: usize,
    indent: usize,
    sequence: bool,
}

fn block(lines: &[Line], start: usize, end: usize) -> Option<Node> {
    let first = lines.get(start).filter(|_| start < end)?;
    Some(Node {
        start,
        end,
        indent: first.indent,
        sequence: first.dash,
    })
}

/// The value of `key` in a mapping: the block below it. A value written inline (a scalar, `{}`,
/// `[]`) is not a block and cannot take more keys.
fn value_of(lines: &[Line], mapping: Node, key: &str) -> Option<Node> {
    let at = (mapping.start..mapping.end).find(|&i| {
        let line = &lines[i];
        line.indent == mapping.indent && !line.dash && key_of(line.text) == Some(key)
    })?;
    let rest = lines[at].text.split_once(':')?.1.trim();
    if !rest.is_empty() && !rest.starts_with('#') {
        return None;
    }
    let end = (at + 1..mapping.end)
        .find(|&i| {
            let line = &lines[i];
            line.indent < mapping.indent || (line.indent == mapping.indent && !line.dash)
        })
        .unwrap_or(mapping.end);
    block(lines, at + 1, end)
}

fn key_of(text: &str) -> Option<&str> {
    let (key, _) = text.split_once(':')?;
    let key = key.trim();
    Some(
        key.strip_prefix('"')
            .and_then(|k| k.strip_suffix('"'))
            .or_else(|| key.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')))
            .unwrap_or(key),
    )
}

/// Item `index` of a sequence, when it is a mapping.
fn item_of(lines: &[Line], sequence: Node, index: usize) -> Option<Node> {
    let dashes: Vec<usize> = (sequence.start..sequence.end)
        .filter(|&i| lines[i].dash && lines[i].indent == sequence.indent)
        .collect();
    let start = *dashes.get(index)? + 1;
    let end = dashes.get(index + 1).copied().unwrap_or(sequence.end);
    block(lines, start, end).filter(|node| !node.sequence)
}

/// The insertions that apply `patch` (only `add` operations) to a block-style YAML document, or
/// `None` when one cannot be placed (a flow collection, a JSON document, a path not found).
pub fn insertions(document: &str, patch: &serde_json::Value) -> Option<Vec<Insertion>> {
    let lines = lines(document);
    let root = block(&lines, 0, lines.len()).filter(|node| !node.sequence)?;
    let mut found = Vec::new();
    for operation in patch.as_array()? {
        if operation.get("op")?.as_str()? != "add" {
            return None;
        }
        let path = operation.get("path")?.as_str()?;
        let value = operation.get("value")?;
        let segments: Vec<String> = segments(path).collect();
        let (key, parents) = segments.split_last()?;
        let mut node = root;
        for segment in parents {
            node = if node.sequence {
                item_of(&lines, node, segment.parse().ok()?)?
            } else {
                value_of(&lines, node, segment)?
            };
        }
        if node.sequence || value_of(&lines, node, key).is_some() {
            return None;
        }
        let after = lines[node.end - 1].original;
        found.push(Insertion {
            after,
            text: render(key, value, node.indent)?,
        });
    }
    Some(found)
}

/// `key: value` as block YAML at `indent`.
fn render(key: &str, value: &serde_json::Value, indent: usize) -> Option<String> {
    let pad = " ".repeat(indent);
    let key = crate::yaml::to_string(&serde_json::Value::from(key)).ok()?;
    let key = key.trim_end();
    let yaml = crate::yaml::to_string(value).ok()?;
    let mut out = String::new();
    if value.is_object() || value.is_array() {
        out.push_str(&format!("{pad}{key}:\n"));
        for line in yaml.lines() {
            out.push_str(&format!("{pad}  {line}\n"));
        }
    } else {
        out.push_str(&format!("{pad}{key}: {}\n", yaml.trim_end()));
    }
    Some(out)
}

/// The document with the insertions made, the rest of its text untouched.
pub fn apply(document: &str, insertions: &[Insertion]) -> String {
    let mut out = String::with_capacity(document.len() + 256);
    for (index, line) in document.split_inclusive('\n').enumerate() {
        out.push_str(line);
        let here: Vec<&Insertion> = insertions.iter().filter(|i| i.after == index).collect();
        if !here.is_empty() && !line.ends_with('\n') {
            out.push('\n');
        }
        for insertion in here {
            out.push_str(&insertion.text);
        }
    }
    out
}

#[cfg(test)]
mod insertion_tests {
    use super::*;
    use serde_json::json;

    const CHART: &str = "# Source: web/templates/pod.yaml
apiVersion: v1
kind: Pod
metadata:
  name: web  # the web server
spec:
  containers:
  - name: web
    image: nginx
    ports:
    - containerPort: 80
  - name: sidecar
    image: busybox
    securityContext:
      readOnlyRootFilesystem: true
  restartPolicy: Always
";

    #[test]
    fn additions_land_in_their_mappings_and_nothing_else_moves() {
        let patch = json!([
            {"op": "add", "path": "/spec/containers/0/securityContext", "value": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}},
            {"op": "add", "path": "/spec/containers/1/securityContext/allowPrivilegeEscalation", "value": false},
            {"op": "add", "path": "/spec/securityContext", "value": {"runAsNonRoot": true}}
        ]);
        let fixed = apply(CHART, &insertions(CHART, &patch).unwrap());
        let expected = "# Source: web/templates/pod.yaml
apiVersion: v1
kind: Pod
metadata:
  name: web  # the web server
spec:
  containers:
  - name: web
    image: nginx
    ports:
    - containerPort: 80
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop:
        - ALL
  - name: sidecar
    image: busybox
    securityContext:
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
  restartPolicy: Always
  securityContext:
    runAsNonRoot: true
";
        assert_eq!(fixed, expected);
    }

    #[test]
    fn what_cannot_be_placed_is_refused() {
        let flow = "spec:\n  containers: [{name: a, image: x}]\n";
        let patch =
            json!([{"op": "add", "path": "/spec/containers/0/securityContext", "value": {}}]);
        assert!(insertions(flow, &patch).is_none());
        let json_document = "{\"spec\": {\"containers\": [{\"name\": \"a\"}]}}";
        assert!(insertions(json_document, &patch).is_none());
        let remove = json!([{"op": "remove", "path": "/spec"}]);
        assert!(insertions(CHART, &remove).is_none());
    }
}

/// The insertions for one document, checked: the edited text must read back as `expected`, the
/// object with the patch applied.
pub fn fixed_document(
    document: &str,
    patch: &serde_json::Value,
    expected: &serde_json::Value,
) -> Option<Vec<Insertion>> {
    let insertions = insertions(document, patch)?;
    let edited = crate::yaml::parse(&apply(document, &insertions))
        .ok()??
        .value;
    (&edited == expected).then_some(insertions)
}

//! Where in an object a finding is: the fields its check reads (the check's `fields`, written as
//! `spec.{initContainers,containers}[*].securityContext.privileged`), narrowed to what the
//! finding's message names, so that an editor can mark the lines a violation is about.
//!
//! The message is PSA's, so it names containers (`container "a"`, `containers "a", "b"`), volumes
//! (`volume "v"`) and the field it is about (`securityContext.privileged=true`): a field is marked
//! when its name is in the message and it belongs to a container or volume the message names. A
//! field the check wants set but the manifest leaves out is marked at its nearest written parent.

use serde_json::Value;

use crate::yaml::lines::escape;

/// JSON pointers, relative to `root` (a pod or pod template, or the object itself), of what the
/// finding `message` about a check reading `fields` is about, in field order and without repeats.
/// `annotation_prefixes` are the annotation keys the check reads.
pub fn locate(
    fields: &[&str],
    annotation_prefixes: &[&str],
    message: &str,
    root: &Value,
) -> Vec<String> {
    let names = Names {
        containers: quoted_after(message, &["container", "containers"]),
        volumes: quoted_after(message, &["volume", "volumes"]),
    };
    let mut found = Found::default();
    for field in fields {
        let segments = parse(field);
        // A list's items are named in the singular: `volumes[*]` is mentioned as `volume "v"`.
        let mentioned = segments.last().is_some_and(|last| {
            last.keys
                .iter()
                .any(|key| message.contains(key) || message.contains(key.trim_end_matches('s')))
        });
        if mentioned {
            walk(root, "", &segments, &names, message, None, &mut found);
        }
    }
    let mut pointers = found.exact.clone();
    // A missing field is shown only where nothing the check reads was found: a container that
    // sets the forbidden value of one field is not also marked for lacking another.
    for (item, pointer) in &found.missing {
        let item_has_exact = found.exact.iter().any(|exact| match item {
            Some(item) => exact.starts_with(&format!("{item}/")),
            None => !exact.contains("ainers/"),
        });
        if !item_has_exact {
            pointers.push(pointer.clone());
        }
    }
    if let Some(Value::Object(annotations)) = root.pointer("/metadata/annotations") {
        for key in annotations.keys() {
            let read = annotation_prefixes
                .iter()
                .any(|prefix| key.starts_with(prefix));
            let named = message.contains(key.as_str())
                || key
                    .rsplit_once('/')
                    .is_some_and(|(_, container)| names.containers.contains(&container));
            if read && named {
                pointers.push(format!("/metadata/annotations/{}", escape(key)));
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    pointers.retain(|pointer| seen.insert(pointer.clone()));
    pointers
}

/// One step of a field: one of `keys`, then every item of the list if `each`.
struct Segment<'a> {
    keys: Vec<&'a str>,
    each: bool,
}

fn parse(field: &str) -> Vec<Segment<'_>> {
    let mut segments = Vec::new();
    let mut rest = field;
    while !rest.is_empty() {
        // Alternatives hold no dots, so the segment ends at the first dot after any `}`.
        let end = match rest.find('}') {
            Some(close) if rest.starts_with('{') => {
                close + rest[close..].find('.').unwrap_or(rest.len() - close)
            }
            _ => rest.find('.').unwrap_or(rest.len()),
        };
        let (segment, tail) = rest.split_at(end);
        rest = tail.strip_prefix('.').unwrap_or(tail);
        let (keys, each) = match segment.strip_suffix("[*]") {
            Some(keys) => (keys, true),
            None => (segment, false),
        };
        let keys = keys.trim_start_matches('{').trim_end_matches('}');
        segments.push(Segment {
            keys: keys.split(',').collect(),
            each,
        });
    }
    segments
}

/// The containers and volumes a message names.
struct Names<'a> {
    containers: Vec<&'a str>,
    volumes: Vec<&'a str>,
}

const CONTAINER_LISTS: &[&str] = &["initContainers", "containers", "ephemeralContainers"];

/// What the fields lead to: values that are written, and the nearest written parents of missing
/// ones, by the named container or volume they are in (`None`: the pod's own).
#[derive(Default)]
struct Found {
    exact: Vec<String>,
    missing: Vec<(Option<String>, String)>,
}

/// Follows `segments` from `value` (at `pointer`), recording what it reaches. `item` is the named
/// container or volume the walk is in, where a missing field is recorded at its parent.
fn walk(
    value: &Value,
    pointer: &str,
    segments: &[Segment],
    names: &Names,
    message: &str,
    item: Option<&str>,
    found: &mut Found,
) {
    let Some((segment, rest)) = segments.split_first() else {
        found.exact.push(pointer.to_string());
        return;
    };
    let mut reached = false;
    for key in &segment.keys {
        let Some(child) = value.get(key) else {
            continue;
        };
        reached = true;
        let child_pointer = format!("{pointer}/{}", escape(key));
        if !segment.each {
            walk(child, &child_pointer, rest, names, message, item, found);
            continue;
        }
        let Value::Array(items) = child else {
            continue;
        };
        for (index, element) in items.iter().enumerate() {
            let element_pointer = format!("{child_pointer}/{index}");
            let element_name = element.get("name").and_then(Value::as_str);
            let (wanted, named) = if CONTAINER_LISTS.contains(key) {
                by_name(&names.containers, element_name)
            } else if *key == "volumes" {
                by_name(&names.volumes, element_name)
            } else {
                (mentions(message, element), false)
            };
            let inner = if named {
                Some(element_pointer.as_str())
            } else {
                item
            };
            if wanted {
                walk(
                    element,
                    &element_pointer,
                    rest,
                    names,
                    message,
                    inner,
                    found,
                );
            }
        }
    }
    // What the check wants set is missing: show the named container or volume (or the pod's own
    // field's parent, when the message is about the pod).
    let pod_level = item.is_none() && pointer.starts_with("/spec") && !pointer.contains("ainers/");
    if !reached && (item.is_some() || (pod_level && mentions_pod(message))) {
        found
            .missing
            .push((item.map(str::to_string), pointer.to_string()));
    }
}

/// Whether an item of a container or volume list is wanted, and whether it was named: with no names
/// in the message, every item is wanted.
fn by_name(names: &[&str], item_name: Option<&str>) -> (bool, bool) {
    if names.is_empty() {
        return (true, false);
    }
    let named = item_name.is_some_and(|name| names.contains(&name));
    (named, named)
}

/// Whether the message mentions an item of another list (a port, a sysctl, a mount): any of its
/// values, as the message would write it.
fn mentions(message: &str, item: &Value) -> bool {
    match item {
        Value::String(text) => !text.is_empty() && message.contains(text.as_str()),
        Value::Number(number) => contains_word(message, &number.to_string()),
        Value::Object(fields) => fields.values().any(|value| match value {
            Value::String(_) | Value::Number(_) => mentions(message, value),
            _ => false,
        }),
        _ => false,
    }
}

fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

fn mentions_pod(message: &str) -> bool {
    message.contains("(pod ") || message.contains("pod must") || message.contains("pod or ")
}

/// The names quoted after any of `words` (`containers "a", "b"` gives `a` and `b`).
fn quoted_after<'a>(message: &'a str, words: &[&str]) -> Vec<&'a str> {
    let mut names = Vec::new();
    for word in words {
        let marker = format!("{word} \"");
        let mut rest = message;
        while let Some(at) = rest.find(&marker) {
            let preceded_by_letter = rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric());
            let mut list = &rest[at + marker.len() - 1..];
            rest = &rest[at + marker.len()..];
            if preceded_by_letter {
                continue;
            }
            // `"a", "b"`: names never hold quotes (they are DNS labels).
            while let Some(body) = list.strip_prefix('"') {
                let Some(end) = body.find('"') else { break };
                if !names.contains(&&body[..end]) {
                    names.push(&body[..end]);
                }
                match body[end + 1..].strip_prefix(", ") {
                    Some(next) if next.starts_with('"') => list = next,
                    _ => break,
                }
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CONTAINER: &str = "spec.{initContainers,containers,ephemeralContainers}[*]";

    fn pod() -> Value {
        json!({
            "metadata": {"annotations": {
                "container.apparmor.security.beta.kubernetes.io/app": "unconfined",
                "other": "x"
            }},
            "spec": {
                "hostNetwork": true,
                "hostPID": false,
                "containers": [
                    {"name": "app", "securityContext": {"privileged": true},
                     "ports": [{"containerPort": 80}, {"containerPort": 8080, "hostPort": 8080}]},
                    {"name": "sidecar", "securityContext": {"privileged": false}},
                    {"name": "bare"}
                ],
                "initContainers": [{"name": "init", "securityContext": {"privileged": true}}],
                "volumes": [{"name": "cfg", "configMap": {}}, {"name": "host", "hostPath": {"path": "/"}}]
            }
        })
    }

    fn field(suffix: &str) -> String {
        format!("{CONTAINER}.{suffix}")
    }

    #[test]
    fn the_named_containers_fields_are_marked() {
        let privileged = field("securityContext.privileged");
        let message =
            r#"privileged (containers "init", "app" must not set securityContext.privileged=true)"#;
        assert_eq!(
            locate(&[&privileged], &[], message, &pod()),
            [
                "/spec/initContainers/0/securityContext/privileged",
                "/spec/containers/0/securityContext/privileged"
            ]
        );
    }

    #[test]
    fn a_missing_field_is_marked_at_its_container_and_the_pods_at_its_parent() {
        let fields = [
            "spec.securityContext.runAsNonRoot".to_string(),
            field("securityContext.runAsNonRoot"),
        ];
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        let message = r#"runAsNonRoot != true (pod or containers "sidecar", "bare" must set securityContext.runAsNonRoot=true)"#;
        assert_eq!(
            locate(&fields, &[], message, &pod()),
            [
                "/spec",
                "/spec/containers/1/securityContext",
                "/spec/containers/2"
            ]
        );
    }

    #[test]
    fn list_items_are_marked_by_what_the_message_says_of_them() {
        let host_port = field("ports[*].hostPort");
        assert_eq!(
            locate(
                &[&host_port],
                &[],
                r#"hostPort (container "app" uses hostPort 8080)"#,
                &pod()
            ),
            ["/spec/containers/0/ports/1/hostPort"]
        );
        assert_eq!(
            locate(
                &["spec.volumes[*].hostPath"],
                &[],
                r#"hostPath volumes (volume "host")"#,
                &pod()
            ),
            ["/spec/volumes/1/hostPath"]
        );
        assert_eq!(
            locate(
                &["spec.volumes[*]"],
                &[],
                r#"restricted volume types (volume "host" uses restricted volume type "hostPath")"#,
                &pod()
            ),
            ["/spec/volumes/1"]
        );
        assert_eq!(
            locate(
                &["spec.hostNetwork", "spec.hostPID", "spec.hostIPC"],
                &[],
                "host namespaces (hostNetwork=true)",
                &pod()
            ),
            ["/spec/hostNetwork"]
        );
    }

    #[test]
    fn annotations_the_check_reads_are_marked_when_named() {
        let message = r#"forbidden AppArmor profile (container.apparmor.security.beta.kubernetes.io/app="unconfined")"#;
        assert_eq!(
            locate(
                &[],
                &["container.apparmor.security.beta.kubernetes.io/"],
                message,
                &pod()
            ),
            ["/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1app"]
        );
    }

    #[test]
    fn quoted_names_follow_their_word_only() {
        assert_eq!(
            quoted_after(
                r#"container "a" mounts volume "v", containers "b", "c" x; subcontainer "z""#,
                &["container", "containers"]
            ),
            ["a", "b", "c"]
        );
    }
}

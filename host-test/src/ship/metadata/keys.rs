//! The keys `metadata.yml` may have: the ones kwctl reads. kwctl drops any other without a word;
//! `host-test` refuses it, so a misspelt key is caught instead of silently keeping a default.

use serde_json::Value;

const METADATA: [&str; 9] = [
    "protocolVersion",
    "rules",
    "annotations",
    "mutating",
    "backgroundAudit",
    "contextAwareResources",
    "executionMode",
    "policyType",
    "minimumKubewardenVersion",
];
const RULE: [&str; 4] = ["apiGroups", "apiVersions", "resources", "operations"];
const CONTEXT_AWARE_RESOURCE: [&str; 2] = ["apiVersion", "kind"];

/// The first key in `document` that the metadata does not have, said with where it is. A value of
/// the wrong type is left to the typed reading, which names it.
pub(super) fn unknown(document: &Value) -> Option<String> {
    let items = |key: &str| {
        document
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
    };
    unknown_in(document, &METADATA, String::new())
        .or_else(|| {
            items("rules")
                .find_map(|(index, rule)| unknown_in(rule, &RULE, format!("rules[{index}]: ")))
        })
        .or_else(|| {
            items("contextAwareResources").find_map(|(index, resource)| {
                unknown_in(
                    resource,
                    &CONTEXT_AWARE_RESOURCE,
                    format!("contextAwareResources[{index}]: "),
                )
            })
        })
}

fn unknown_in(value: &Value, known: &[&str], at: String) -> Option<String> {
    let key = value
        .as_object()?
        .keys()
        .find(|key| !known.contains(&key.as_str()))?;
    Some(format!(
        "{at}unknown field `{key}`, expected one of {} (kwctl would drop it)",
        known.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;
    use crate::ship::metadata::Metadata;

    fn keys(value: &Value) -> BTreeSet<&str> {
        value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn the_known_keys_are_the_metadatas_own() {
        let metadata: Metadata = serde_json::from_value(json!({
            "protocolVersion": "v1",
            "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"],
                       "operations": ["CREATE"]}],
            "annotations": {"a": "b"},
            "mutating": false,
            "contextAwareResources": [{"apiVersion": "v1", "kind": "Namespace"}],
            "minimumKubewardenVersion": "1.10.0",
        }))
        .unwrap();
        let written = serde_json::to_value(&metadata).unwrap();
        assert_eq!(keys(&written), BTreeSet::from(METADATA));
        assert_eq!(keys(&written["rules"][0]), BTreeSet::from(RULE));
        assert_eq!(
            keys(&written["contextAwareResources"][0]),
            BTreeSet::from(CONTEXT_AWARE_RESOURCE)
        );
    }

    #[test]
    fn an_unknown_key_is_named_with_where_it_is() {
        let rule = json!({"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"],
                          "operations": ["CREATE"]});
        assert_eq!(unknown(&json!({"rules": [rule], "mutating": false})), None);
        let cases = [
            (json!({"mutate": true}), "unknown field `mutate`"),
            (
                json!({"rules": [rule, {"apiGroup": [""]}]}),
                "rules[1]: unknown field `apiGroup`",
            ),
            (
                json!({"contextAwareResources": [{"apiVersion": "v1", "kinds": "Pod"}]}),
                "contextAwareResources[0]: unknown field `kinds`",
            ),
        ];
        for (document, expected) in cases {
            let found = unknown(&document).unwrap();
            assert!(found.starts_with(expected), "{found}");
        }
        // Wrong types are the typed reading's to name.
        assert_eq!(unknown(&json!({"rules": "pods"})), None);
    }
}

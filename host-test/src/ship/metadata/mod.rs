//! Kubewarden policy metadata: `metadata.yml`, its validation as policy-evaluator (kwctl,
//! policy-server) does it, and the `io.kubewarden.metadata` custom section a module carries it in.

mod keys;
mod rules;
mod section;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context as _, bail, ensure};
use serde::{Deserialize, Serialize};

pub use section::{METADATA_SECTION, read_embedded_metadata, with_metadata_section};

/// The only protocol version a kubewarden-wapc module may speak.
pub const PROTOCOL_VERSION_V1: &str = "v1";

/// A policy's metadata. Keys it does not know are ignored when read, as policy-evaluator ignores
/// them; `metadata.yml` is held to more (see [`Metadata::from_yaml_file`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    pub rules: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    pub mutating: bool,
    #[serde(default = "background_audit_default")]
    pub background_audit: bool,
    #[serde(default)]
    pub context_aware_resources: BTreeSet<ContextAwareResource>,
    #[serde(default)]
    pub execution_mode: ExecutionMode,
    #[serde(default)]
    pub policy_type: PolicyType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_kubewarden_version: Option<semver::Version>,
}

fn background_audit_default() -> bool {
    true
}

/// Which API requests Kubewarden sends the policy, as in a ValidatingWebhookConfiguration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub api_groups: Vec<String>,
    pub api_versions: Vec<String>,
    pub resources: Vec<String>,
    pub operations: Vec<Operation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operation {
    #[serde(rename = "CREATE")]
    Create,
    #[serde(rename = "UPDATE")]
    Update,
    #[serde(rename = "DELETE")]
    Delete,
    #[serde(rename = "CONNECT")]
    Connect,
    #[serde(rename = "*")]
    All,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextAwareResource {
    pub api_version: String,
    pub kind: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExecutionMode {
    #[default]
    KubewardenWapc,
    Opa,
    Gatekeeper,
    Wasi,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyType {
    #[default]
    Kubernetes,
    Raw,
}

impl Metadata {
    /// Reads and validates `metadata.yml` (its `protocolVersion` may still be missing). Beyond what
    /// kwctl checks, a key the metadata does not have is refused: kwctl would drop it without a
    /// word, so a misspelt `backgroundAudit` would silently leave the default.
    pub fn from_yaml_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the metadata {}", path.display()))?;
        Self::from_yaml_text(&text)
            .with_context(|| format!("{} is not valid policy metadata", path.display()))
    }

    /// [`Metadata::from_yaml_file`] on the file's text.
    pub fn from_yaml_text(text: &str) -> anyhow::Result<Self> {
        let document: serde_json::Value = crate::yaml::from_str(text)?;
        if let Some(unknown) = keys::unknown(&document) {
            bail!("{unknown}");
        }
        let metadata: Self = crate::yaml::from_str(text)?;
        metadata.validate()?;
        Ok(metadata)
    }

    /// The annotations, or none.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        static NONE: BTreeMap<String, String> = BTreeMap::new();
        self.annotations.as_ref().unwrap_or(&NONE)
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations().get(key).map(String::as_str)
    }

    /// The checks policy-evaluator applies when kwctl annotates a module (`Metadata::validate`).
    pub fn validate(&self) -> anyhow::Result<()> {
        for (index, rule) in self.rules.iter().enumerate() {
            rule.validate().with_context(|| format!("rules[{index}]"))?;
        }
        for resource in &self.context_aware_resources {
            ensure!(
                !resource.api_version.is_empty() && !resource.kind.is_empty(),
                "contextAwareResources: apiVersion and kind must not be empty"
            );
        }
        if let Some(version) = &self.protocol_version
            && self.execution_mode == ExecutionMode::KubewardenWapc
        {
            ensure!(
                version == PROTOCOL_VERSION_V1,
                "protocolVersion: {version:?} is not a protocol version kubewarden-wapc knows (v1)"
            );
        }
        Ok(())
    }

    /// The metadata as policy-server reads it: JSON, camelCase, every defaulted field written.
    pub fn to_section_json(&self) -> String {
        serde_json::to_string(self).expect("metadata serializes to JSON")
    }

    /// The annotations whose value fits on one line: the ones an OCI manifest carries.
    pub fn single_line_annotations(&self) -> BTreeMap<String, String> {
        self.annotations()
            .iter()
            .filter(|(_, value)| !value.contains('\n'))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod_rule() -> serde_json::Value {
        json!({"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"],
               "operations": ["CREATE"]})
    }

    /// `value` as the text of a `metadata.yml` (JSON is YAML).
    fn parse(value: serde_json::Value) -> anyhow::Result<Metadata> {
        Metadata::from_yaml_text(&value.to_string())
    }

    #[test]
    fn defaults_are_filled_and_written_as_policy_server_reads_them() {
        let mut metadata = parse(json!({"rules": [pod_rule()], "mutating": false})).unwrap();
        metadata.protocol_version = Some("v1".into());
        metadata.annotations = Some(BTreeMap::from([("a".into(), "b".into())]));
        // kwctl's key order, which policy-server does not need but people comparing do.
        assert_eq!(
            metadata.to_section_json(),
            r#"{"protocolVersion":"v1","rules":[{"apiGroups":[""],"apiVersions":["v1"],"#
                .to_owned()
                + r#""resources":["pods"],"operations":["CREATE"]}],"annotations":{"a":"b"},"#
                + r#""mutating":false,"backgroundAudit":true,"contextAwareResources":[],"#
                + r#""executionMode":"kubewarden-wapc","policyType":"kubernetes"}"#
        );
    }

    #[test]
    fn malformed_metadata_is_refused_with_the_field_named() {
        let rule_with = |key: &str, value: serde_json::Value| {
            let mut rule = pod_rule();
            rule[key] = value;
            json!({"rules": [rule], "mutating": false})
        };
        let cases = [
            (json!({"rules": [pod_rule()]}), "mutating"),
            (
                json!({"rules": [pod_rule()], "mutating": "maybe"}),
                "invalid boolean",
            ),
            (rule_with("operations", json!(["PATCH"])), "PATCH"),
            (rule_with("operations", json!([])), "operations"),
            (
                rule_with("operations", json!(["*", "CREATE"])),
                "operations",
            ),
            (rule_with("apiGroups", json!([])), "apiGroups"),
            (rule_with("apiVersions", json!(["*", "v1"])), "apiVersions"),
            (rule_with("resources", json!([""])), "resources"),
            (
                rule_with("resources", json!(["*", "pods"])),
                "resources: if '*' is present, must not specify other resources without subresources",
            ),
            (
                rule_with("apiGroups", json!(["", "*"])),
                "apiGroups: No other elements can be defined when '*' is used",
            ),
            (
                json!({"rules": [pod_rule()], "mutating": false,
                       "contextAwareResources": [{"apiVersion": "v1", "kind": ""}]}),
                "contextAwareResources",
            ),
            (
                json!({"rules": [pod_rule()], "mutating": false, "executionMode": "native"}),
                "native",
            ),
            (
                json!({"rules": [pod_rule()], "mutating": false, "backgroundAudit": 1}),
                "invalid boolean",
            ),
            (
                json!({"rules": [pod_rule()], "mutating": false, "annotations": {"a": ["x"]}}),
                "expected string scalar",
            ),
            (
                json!({"rules": [pod_rule()], "mutating": false, "mutate": true}),
                "unknown field `mutate`",
            ),
            (
                json!({"rules": [pod_rule()], "mutating": false, "protocolVersion": "v2"}),
                "protocolVersion",
            ),
        ];
        for (value, named) in cases {
            let error = match parse(value.clone()) {
                Ok(metadata) => panic!("{value} was accepted: {metadata:?}"),
                Err(error) => format!("{error:#}"),
            };
            assert!(error.contains(named), "{value}: {error}");
        }
    }

    #[test]
    fn what_policy_evaluator_accepts_is_accepted() {
        let rule_with = |key: &str, value: serde_json::Value| {
            let mut rule = pod_rule();
            rule[key] = value;
            json!({"rules": [rule], "mutating": false})
        };
        for accepted in [
            rule_with("resources", json!(["*", "apps/*", "*/scale"])),
            rule_with("resources", json!(["*/*"])),
            rule_with("apiGroups", json!(["*"])),
            rule_with("operations", json!(["*"])),
            json!({"rules": [], "mutating": false}),
        ] {
            let rules = accepted["rules"].clone();
            let metadata = parse(accepted).unwrap_or_else(|error| panic!("{rules}: {error:#}"));
            assert_eq!(serde_json::to_value(&metadata.rules).unwrap(), rules);
        }
    }

    #[test]
    fn every_execution_mode_kubewarden_knows_is_accepted() {
        for mode in ["kubewarden-wapc", "opa", "gatekeeper", "wasi"] {
            let metadata = parse(json!({"rules": [pod_rule()], "mutating": true,
                                        "executionMode": mode}))
            .unwrap();
            assert_eq!(serde_json::to_value(metadata.execution_mode).unwrap(), mode);
        }
    }

    #[test]
    fn only_single_line_annotations_go_to_a_manifest() {
        let mut metadata = parse(json!({"rules": [pod_rule()], "mutating": false})).unwrap();
        metadata.annotations = Some(BTreeMap::from([
            ("one".into(), "line".into()),
            ("two".into(), "lines\nhere".into()),
        ]));
        assert_eq!(
            metadata.single_line_annotations(),
            BTreeMap::from([("one".into(), "line".into())])
        );
    }
}

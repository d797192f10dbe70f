//! Kubewarden policy metadata: `metadata.yml`, its validation as policy-server and kwctl do it, and
//! the `io.kubewarden.metadata` custom section `kwctl annotate` writes into the module.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context as _, bail, ensure};
use serde::{Deserialize, Serialize};
use wasmparser::{Encoding, Parser, Payload};

use crate::WapcModule;

/// The custom section policy-server reads the metadata from.
pub const METADATA_SECTION: &str = "io.kubewarden.metadata";

/// The annotation `annotate --usage` fills with the usage document.
pub const USAGE_ANNOTATION: &str = "io.kubewarden.policy.usage";

/// The only protocol version a kubewarden-wapc module may speak.
pub const PROTOCOL_VERSION_V1: &str = "v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
    /// Reads and validates `metadata.yml` (its `protocolVersion` may still be missing).
    pub fn from_yaml_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the metadata {}", path.display()))?;
        let metadata: Self = crate::yaml::from_str(&text)
            .with_context(|| format!("{} is not valid policy metadata", path.display()))?;
        metadata
            .validate()
            .with_context(|| format!("{} is not valid policy metadata", path.display()))?;
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

    /// The checks policy-server and kwctl apply, plus a non-empty rule list: a policy bound to no
    /// request is a mistake.
    pub fn validate(&self) -> anyhow::Result<()> {
        ensure!(!self.rules.is_empty(), "rules: at least one rule is needed");
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

impl Rule {
    fn validate(&self) -> anyhow::Result<()> {
        for (field, values) in [
            ("apiGroups", &self.api_groups),
            ("apiVersions", &self.api_versions),
            ("resources", &self.resources),
        ] {
            ensure!(!values.is_empty(), "{field}: at least one value is needed");
            ensure!(
                !(values.len() > 1 && values.iter().any(|value| value == "*")),
                "{field}: no other value may be given with \"*\""
            );
        }
        ensure!(
            !self.operations.is_empty(),
            "operations: at least one value is needed"
        );
        ensure!(
            !(self.operations.len() > 1 && self.operations.contains(&Operation::All)),
            "operations: no other value may be given with \"*\""
        );
        for resource in &self.resources {
            ensure!(
                !resource.is_empty() && resource.split('/').all(|part| !part.is_empty()),
                "resources: {resource:?} is not a resource or resource/subresource"
            );
        }
        Ok(())
    }
}

/// The metadata embedded in `wasm`, validated; `None` when the module carries no metadata section.
pub fn read_embedded_metadata(wasm: &[u8]) -> anyhow::Result<Option<Metadata>> {
    let mut found = None;
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.context("the module is not valid WebAssembly")?;
        if let Payload::CustomSection(section) = payload
            && section.name() == METADATA_SECTION
        {
            ensure!(
                found.is_none(),
                "the module has more than one {METADATA_SECTION} section"
            );
            let metadata: Metadata = serde_json::from_slice(section.data())
                .with_context(|| format!("the {METADATA_SECTION} section is malformed"))?;
            metadata
                .validate()
                .with_context(|| format!("the {METADATA_SECTION} section is malformed"))?;
            ensure!(
                metadata.protocol_version.is_some()
                    || metadata.execution_mode != ExecutionMode::KubewardenWapc,
                "the {METADATA_SECTION} section is malformed: protocolVersion is missing"
            );
            found = Some(metadata);
        }
    }
    Ok(found)
}

/// `wasm` with `metadata` as its only `io.kubewarden.metadata` section, the last one; every other
/// section is copied byte for byte.
pub fn with_metadata_section(wasm: &[u8], metadata: &Metadata) -> anyhow::Result<Vec<u8>> {
    let mut module = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.context("the module is not valid WebAssembly")?;
        match &payload {
            Payload::Version { encoding, .. } if *encoding != Encoding::Module => {
                bail!("the module is a WebAssembly component; Kubewarden runs core modules")
            }
            Payload::CustomSection(section) if section.name() == METADATA_SECTION => continue,
            _ => {}
        }
        // Sections come whole; the function bodies inside the code section are not sections.
        if let Some((id, range)) = payload.as_section() {
            module.section(&wasm_encoder::RawSection {
                id,
                data: &wasm[range],
            });
        }
    }
    module.section(&wasm_encoder::CustomSection {
        name: Cow::Borrowed(METADATA_SECTION),
        data: Cow::Owned(metadata.to_section_json().into_bytes()),
    });
    Ok(module.finish())
}

/// What `kwctl annotate` does: asks the module its protocol version, records it and the usage
/// text in `metadata`, validates the result, and embeds it in the module.
pub fn annotate(
    module: &WapcModule,
    wasm: &[u8],
    mut metadata: Metadata,
    usage: Option<String>,
) -> anyhow::Result<Vec<u8>> {
    if metadata.execution_mode == ExecutionMode::KubewardenWapc {
        let answer = module
            .call("protocol_version", b"")
            .map_err(anyhow::Error::from)
            .context("the module's protocol_version failed")?;
        let version: String = serde_json::from_slice(&answer).with_context(|| {
            format!(
                "protocol_version answered {:?}, not a JSON string",
                String::from_utf8_lossy(&answer)
            )
        })?;
        metadata.protocol_version = Some(version);
    }
    if let Some(usage) = usage {
        metadata
            .annotations
            .get_or_insert_default()
            .insert(USAGE_ANNOTATION.to_string(), usage);
    }
    metadata.validate()?;
    with_metadata_section(wasm, &metadata)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod_rule() -> serde_json::Value {
        json!({"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"],
               "operations": ["CREATE"]})
    }

    fn parse(value: serde_json::Value) -> anyhow::Result<Metadata> {
        let metadata: Metadata = serde_json::from_value(value)?;
        metadata.validate()?;
        Ok(metadata)
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
            (json!({"rules": [], "mutating": false}), "at least one rule"),
            (json!({"rules": [pod_rule()]}), "mutating"),
            (
                json!({"rules": [pod_rule()], "mutating": "no"}),
                "invalid type",
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
            (rule_with("resources", json!(["pods/"])), "resources"),
            (
                json!({"rules": [pod_rule()], "mutating": false, "executionMode": "native"}),
                "native",
            ),
            (
                json!({"rules": [pod_rule()], "mutating": false, "backgroundAudit": 1}),
                "invalid type",
            ),
            (
                json!({"rules": [pod_rule()], "mutating": false, "annotations": {"a": 1}}),
                "invalid type",
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
            let error = format!("{:#}", parse(value.clone()).unwrap_err());
            assert!(error.contains(named), "{value}: {error}");
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

    fn empty_module_with_custom_section(name: &str, data: &[u8]) -> Vec<u8> {
        let mut module = wasm_encoder::Module::new();
        module.section(&wasm_encoder::CustomSection {
            name: Cow::Borrowed(name),
            data: Cow::Borrowed(data),
        });
        module.finish()
    }

    #[test]
    fn the_section_is_replaced_and_read_back() {
        let mut metadata = parse(json!({"rules": [pod_rule()], "mutating": false})).unwrap();
        metadata.protocol_version = Some("v1".into());
        let stale = empty_module_with_custom_section(METADATA_SECTION, b"{\"stale\":true}");
        let annotated = with_metadata_section(&stale, &metadata).unwrap();
        let sections: Vec<String> = Parser::new(0)
            .parse_all(&annotated)
            .filter_map(|payload| match payload.unwrap() {
                Payload::CustomSection(section) => Some(section.name().to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(sections, [METADATA_SECTION]);
        assert_eq!(read_embedded_metadata(&annotated).unwrap(), Some(metadata));
        assert_eq!(
            read_embedded_metadata(&wasm_encoder::Module::new().finish()).unwrap(),
            None
        );
    }

    #[test]
    fn a_malformed_section_is_refused() {
        for data in [
            &b"not json"[..],
            br#"{"rules":[],"mutating":false,"protocolVersion":"v1"}"#,
            br#"{"rules":[{"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"],"operations":["CREATE"]}],"mutating":false}"#,
        ] {
            let wasm = empty_module_with_custom_section(METADATA_SECTION, data);
            let error = format!("{:#}", read_embedded_metadata(&wasm).unwrap_err());
            assert!(
                error.contains("io.kubewarden.metadata section is malformed"),
                "{error}"
            );
        }
    }
}

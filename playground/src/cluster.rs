//! The cluster the playground evaluates in: the Namespaces among the manifests, with their labels;
//! any other namespace exists without labels (so the settings' defaults hold there), and no
//! namespace has pods yet. As `host-test check` without `--cluster-state`.

use std::collections::BTreeMap;
use std::time::Duration;

use pod_security_rules::Cluster;
use serde_json::{Value, json};

#[derive(Default)]
pub struct ManifestCluster {
    namespaces: BTreeMap<String, Vec<u8>>,
}

impl ManifestCluster {
    /// Adds a Namespace from the manifests; the first of a name counts, as in `check`.
    pub fn add_namespace(&mut self, namespace: &Value) {
        if let Some(name) = namespace.pointer("/metadata/name").and_then(Value::as_str) {
            self.namespaces
                .entry(name.to_string())
                .or_insert_with(|| namespace.to_string().into_bytes());
        }
    }
}

impl Cluster for ManifestCluster {
    fn namespace(&self, name: &str) -> Result<Vec<u8>, String> {
        Ok(self.namespaces.get(name).cloned().unwrap_or_else(|| {
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
                .to_string()
                .into_bytes()
        }))
    }

    fn pods(&self, _: &str) -> Result<Vec<u8>, String> {
        Ok(br#"{"apiVersion":"v1","kind":"PodList","items":[]}"#.to_vec())
    }

    /// No pods are ever listed, so the time allowed to check them never runs; the browser has no
    /// monotonic clock in `std` either.
    fn clock(&self) -> Duration {
        Duration::ZERO
    }
}

//! A cluster for tests: namespaces and pods as JSON, a clock that advances by a fixed step on each
//! reading, and every call counted.

use super::Cluster;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Default)]
pub(crate) struct FixtureCluster {
    /// Labels by namespace name; a name not here is not found.
    pub(crate) namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// Every name is found, unlabelled unless in `namespaces`.
    pub(crate) any_namespace: bool,
    /// The pods of each namespace, as the host lists them; a namespace not here fails to list.
    pub(crate) pods: BTreeMap<String, Vec<serde_json::Value>>,
    pub(crate) clock_step: Duration,
    pub(crate) now: Cell<Duration>,
    pub(crate) calls: Cell<usize>,
}

impl FixtureCluster {
    /// Every namespace exists, unlabelled: the defaults hold everywhere.
    pub(crate) fn unlabelled() -> Self {
        FixtureCluster {
            any_namespace: true,
            ..FixtureCluster::default()
        }
    }

    /// One namespace with these labels (and any other, unlabelled).
    pub(crate) fn labelled(name: &str, labels: &[(&str, &str)]) -> Self {
        let mut cluster = FixtureCluster::unlabelled();
        cluster.namespaces.insert(
            name.to_string(),
            labels
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
        );
        cluster
    }
}

impl Cluster for FixtureCluster {
    fn namespace(&self, name: &str) -> Result<Vec<u8>, String> {
        self.calls.set(self.calls.get() + 1);
        let labels = match self.namespaces.get(name) {
            Some(labels) => labels.clone(),
            None if self.any_namespace => BTreeMap::new(),
            None => {
                return Err(format!(
                    "Cannot find v1/Namespace named '{name}' inside of namespace 'None'"
                ));
            }
        };
        let namespace = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": labels},
        });
        Ok(serde_json::to_vec(&namespace).unwrap())
    }

    fn pods(&self, namespace: &str) -> Result<Vec<u8>, String> {
        self.calls.set(self.calls.get() + 1);
        let items = self
            .pods
            .get(namespace)
            .ok_or_else(|| format!("cannot list pods in {namespace}"))?;
        let list = serde_json::json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items});
        Ok(serde_json::to_vec(&list).unwrap())
    }

    fn clock(&self) -> Duration {
        let now = self.now.get();
        self.now.set(now + self.clock_step);
        now
    }
}

//! A cluster as a file: the objects `get_resource` and `list_resources_*` answer with, read from
//! YAML or JSON (several documents, or `List`s such as `kubectl get -o yaml` writes).

use std::io::BufReader;
use std::path::Path;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use super::KubernetesRequest;
use crate::check::manifests::{DocumentSplitter, is_list_kind};

/// Kinds that live outside namespaces, of those a policy is likely to read.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "StorageClass",
    "RuntimeClass",
    "PriorityClass",
    "CustomResourceDefinition",
];

#[derive(Debug, Default)]
pub struct ClusterState {
    objects: Vec<StoredObject>,
    /// A Namespace not in the state exists, without labels (`check`: manifests are checked
    /// before their namespaces are known, at the defaults).
    unknown_namespaces_exist: bool,
}

#[derive(Debug)]
struct StoredObject {
    api_version: String,
    kind: String,
    name: String,
    /// `None` for cluster-scoped kinds.
    namespace: Option<String>,
    object: Value,
}

impl ClusterState {
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let file = std::fs::File::open(path)
            .with_context(|| format!("cannot read the cluster state {}", path.display()))?;
        let mut documents = DocumentSplitter::new(BufReader::new(file));
        let mut state = ClusterState::default();
        while let Some(document) = documents
            .next_document()
            .with_context(|| format!("cannot read the cluster state {}", path.display()))?
        {
            let parsed = crate::yaml::parse(&document.text).map_err(|error| {
                anyhow::anyhow!(
                    "{}:{}: {}",
                    path.display(),
                    document.first_line + error.line.saturating_sub(1),
                    error.message
                )
            })?;
            if let Some(parsed) = parsed {
                state
                    .add(parsed.value)
                    .with_context(|| format!("{}:{}", path.display(), document.first_line))?;
            }
        }
        Ok(state)
    }

    /// Namespaces not in the state are answered as existing without labels.
    pub fn assume_unknown_namespaces_exist(mut self) -> Self {
        self.unknown_namespaces_exist = true;
        self
    }

    /// Adds `other`'s objects after this state's own (which are found first).
    pub fn extend(&mut self, other: ClusterState) {
        self.objects.extend(other.objects);
    }

    /// Adds an object, or every item of a list.
    pub fn add(&mut self, object: Value) -> anyhow::Result<()> {
        let kind = object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if is_list_kind(kind) {
            let Some(Value::Array(items)) = object.get("items") else {
                bail!("a {kind} without items");
            };
            // `kubectl get pods -o yaml` lists items with their own apiVersion and kind; the API
            // (and policy-server's answers) may leave them out of a typed list's items.
            let item_kind = kind.strip_suffix("List").filter(|kind| !kind.is_empty());
            for item in items {
                let mut item = item.clone();
                if let (Some(map), Some(item_kind)) = (item.as_object_mut(), item_kind) {
                    map.entry("kind").or_insert_with(|| json!(item_kind));
                    if let Some(api_version) = object.get("apiVersion") {
                        map.entry("apiVersion")
                            .or_insert_with(|| api_version.clone());
                    }
                }
                self.add(item)?;
            }
            return Ok(());
        }
        let text = |field: &str| {
            object
                .pointer(field)
                .and_then(Value::as_str)
                .filter(|value| !value.is_empty())
                .map(str::to_string)
        };
        let (Some(api_version), Some(kind), Some(name)) =
            (text("/apiVersion"), text("/kind"), text("/metadata/name"))
        else {
            bail!("every object needs apiVersion, kind and metadata.name");
        };
        let namespace = if CLUSTER_SCOPED.contains(&kind.as_str()) {
            None
        } else {
            // As kubectl: an object without a namespace is in `default`.
            Some(text("/metadata/namespace").unwrap_or_else(|| "default".to_string()))
        };
        self.objects.push(StoredObject {
            api_version,
            kind,
            name,
            namespace,
            object,
        });
        Ok(())
    }

    /// The answer policy-evaluator gives, or its error (without its `Callback evaluation
    /// failure: ` prefix, which the caller adds).
    pub fn answer(&self, request: &KubernetesRequest) -> Result<Vec<u8>, String> {
        match request {
            KubernetesRequest::KubernetesGetResource {
                api_version,
                kind,
                name,
                namespace,
                ..
            } => {
                let found = self.objects.iter().find(|stored| {
                    stored.api_version == *api_version
                        && stored.kind == *kind
                        && stored.name == *name
                        && stored.namespace == *namespace
                });
                match found {
                    Some(stored) => to_bytes(&stored.object),
                    None if self.unknown_namespaces_exist
                        && (api_version.as_str(), kind.as_str()) == ("v1", "Namespace") =>
                    {
                        to_bytes(
                            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
                        )
                    }
                    None => Err(format!(
                        "Cannot find {api_version}/{kind} named '{name}' inside of namespace '{:?}'",
                        namespace.as_deref()
                    )),
                }
            }
            KubernetesRequest::KubernetesListResourceNamespace {
                api_version,
                kind,
                namespace,
                label_selector,
                field_selector,
            } => {
                if CLUSTER_SCOPED.contains(&kind.as_str()) {
                    return Err(format!(
                        "resource {api_version}/{kind} is cluster wide. Cannot search for it inside of a namespace"
                    ));
                }
                selectors_unsupported(label_selector, field_selector)?;
                self.list(api_version, kind, Some(namespace))
            }
            KubernetesRequest::KubernetesListResourceAll {
                api_version,
                kind,
                label_selector,
                field_selector,
            } => {
                selectors_unsupported(label_selector, field_selector)?;
                self.list(api_version, kind, None)
            }
        }
    }

    /// `{"apiVersion":…,"kind":"<Kind>List","metadata":{},"items":[…]}`, as policy-evaluator lists.
    fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
    ) -> Result<Vec<u8>, String> {
        let items: Vec<&Value> = self
            .objects
            .iter()
            .filter(|stored| {
                stored.api_version == api_version
                    && stored.kind == kind
                    && (namespace.is_none() || stored.namespace.as_deref() == namespace)
            })
            .map(|stored| &stored.object)
            .collect();
        to_bytes(&json!({
            "apiVersion": api_version,
            "kind": format!("{kind}List"),
            "metadata": {},
            "items": items,
        }))
    }
}

fn selectors_unsupported(label: &Option<String>, field: &Option<String>) -> Result<(), String> {
    if label.is_some() || field.is_some() {
        return Err(
            "host-test's cluster state does not filter by label or field selectors".to_string(),
        );
    }
    Ok(())
}

fn to_bytes(value: &Value) -> Result<Vec<u8>, String> {
    serde_json::to_vec(value).map_err(|error| error.to_string())
}

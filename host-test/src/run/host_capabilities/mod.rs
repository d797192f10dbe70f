//! The Kubernetes host capabilities (`kubewarden`/`kubernetes`: `get_resource`,
//! `list_resources_by_namespace`, `list_resources_all`) answered as policy-evaluator answers them
//! in kwctl and policy-server: the same request decoding, the same allow-list of granted kinds and
//! the same error texts, with the objects taken from a cluster state file ([`ClusterState`]) or a
//! kwctl session replayed ([`session`]), and every exchange recorded in kwctl's session format
//! when asked.

mod cluster_state;
pub mod session;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context as _;
use serde::Deserialize;

pub use crate::ship::metadata::ContextAwareResource;
pub use cluster_state::ClusterState;
use session::{Exchange, Replay};

/// A Kubernetes request from the guest, as policy-evaluator's `CallbackRequestType` has it (the
/// variants kwctl records). Fields the guest sends that policy-evaluator 0.30 ignores
/// (`field_masks`) are ignored here too.
// Named as policy-evaluator's variants: kwctl's replay errors print them with `{:?}`.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubernetesRequest {
    KubernetesGetResource {
        api_version: String,
        kind: String,
        name: String,
        namespace: Option<String>,
        disable_cache: bool,
    },
    KubernetesListResourceNamespace {
        api_version: String,
        kind: String,
        namespace: String,
        label_selector: Option<String>,
        field_selector: Option<String>,
    },
    KubernetesListResourceAll {
        api_version: String,
        kind: String,
        label_selector: Option<String>,
        field_selector: Option<String>,
    },
}

#[derive(Deserialize)]
struct GetResourceRequest {
    api_version: String,
    kind: String,
    name: String,
    namespace: Option<String>,
    disable_cache: bool,
}

#[derive(Deserialize)]
struct ListResourcesByNamespaceRequest {
    api_version: String,
    kind: String,
    namespace: String,
    label_selector: Option<String>,
    field_selector: Option<String>,
}

#[derive(Deserialize)]
struct ListAllResourcesRequest {
    api_version: String,
    kind: String,
    label_selector: Option<String>,
    field_selector: Option<String>,
}

impl KubernetesRequest {
    /// Decodes the guest's payload for `operation`, as policy-evaluator's `host_callback` does.
    pub fn decode(operation: &str, payload: &[u8]) -> Result<Self, String> {
        let error = |error: serde_json::Error| error.to_string();
        Ok(match operation {
            "get_resource" => {
                let r: GetResourceRequest = serde_json::from_slice(payload).map_err(error)?;
                KubernetesRequest::KubernetesGetResource {
                    api_version: r.api_version,
                    kind: r.kind,
                    name: r.name,
                    namespace: r.namespace,
                    disable_cache: r.disable_cache,
                }
            }
            "list_resources_by_namespace" => {
                let r: ListResourcesByNamespaceRequest =
                    serde_json::from_slice(payload).map_err(error)?;
                KubernetesRequest::KubernetesListResourceNamespace {
                    api_version: r.api_version,
                    kind: r.kind,
                    namespace: r.namespace,
                    label_selector: r.label_selector,
                    field_selector: r.field_selector,
                }
            }
            "list_resources_all" => {
                let r: ListAllResourcesRequest = serde_json::from_slice(payload).map_err(error)?;
                KubernetesRequest::KubernetesListResourceAll {
                    api_version: r.api_version,
                    kind: r.kind,
                    label_selector: r.label_selector,
                    field_selector: r.field_selector,
                }
            }
            other => return Err(format!("unknown operation: {other}")),
        })
    }

    fn resource(&self) -> (&str, &str) {
        match self {
            KubernetesRequest::KubernetesGetResource {
                api_version, kind, ..
            }
            | KubernetesRequest::KubernetesListResourceNamespace {
                api_version, kind, ..
            }
            | KubernetesRequest::KubernetesListResourceAll {
                api_version, kind, ..
            } => (api_version, kind),
        }
    }
}

/// Where answers come from.
pub enum Source {
    /// Nothing answers: kwctl without a cluster. Only reached for granted kinds.
    None,
    ClusterState(ClusterState),
    Replay(Mutex<Replay>),
}

/// The host's Kubernetes capabilities for one run: which kinds are granted, where answers come
/// from, and the session being recorded, if any.
pub struct HostCapabilities {
    /// `None`: every kind (`check`, which answers from files the user gave it).
    granted: Option<BTreeSet<ContextAwareResource>>,
    source: Source,
    recording: Option<Mutex<Vec<Exchange>>>,
}

impl Default for HostCapabilities {
    /// Nothing granted, as kwctl without `--allow-context-aware` and policy-server for a policy
    /// whose `contextAwareResources` is empty.
    fn default() -> Self {
        HostCapabilities {
            granted: Some(BTreeSet::new()),
            source: Source::None,
            recording: None,
        }
    }
}

impl HostCapabilities {
    pub fn new(granted: BTreeSet<ContextAwareResource>, source: Source) -> Self {
        HostCapabilities {
            granted: Some(granted),
            source,
            recording: None,
        }
    }

    /// Every kind granted: for answers from files the user chose, not from a cluster.
    pub fn granting_all(source: Source) -> Self {
        HostCapabilities {
            granted: None,
            source,
            recording: None,
        }
    }

    /// Keeps every exchange, for [`HostCapabilities::save_session`].
    pub fn recording(mut self) -> Self {
        self.recording = Some(Mutex::new(Vec::new()));
        self
    }

    /// Answers one `kubewarden`/`kubernetes` host call: the bytes for the guest, or the host error
    /// it reads, worded as policy-evaluator words them.
    pub fn kubernetes(&self, operation: &str, payload: &[u8]) -> Result<Vec<u8>, String> {
        let request = KubernetesRequest::decode(operation, payload)?;
        let (api_version, kind) = request.resource();
        let wanted = ContextAwareResource {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
        };
        if self
            .granted
            .as_ref()
            .is_some_and(|granted| !granted.contains(&wanted))
        {
            tracing::warn!(
                "the policy asked for {api_version}/{kind}, which it has not been granted"
            );
            return Err(format!(
                "Policy has not been granted access to Kubernetes {api_version}/{kind} resources. \
                 The violation has been reported."
            ));
        }
        let answer = match &self.source {
            Source::None => Err("kube::Client was not initialized properly".to_string()),
            Source::ClusterState(state) => state.answer(&request),
            Source::Replay(replay) => replay
                .lock()
                .map_err(|_| "the replayed session is unusable".to_string())
                .and_then(|mut replay| replay.answer(&request)),
        };
        if let Some(recording) = &self.recording
            && let Ok(mut exchanges) = recording.lock()
        {
            exchanges.push(Exchange::new(&request, &answer));
        }
        answer.map_err(|error| format!("Callback evaluation failure: {error}"))
    }

    /// Exchanges of a replayed session not used (kwctl warns about them too).
    pub fn unreplayed(&self) -> usize {
        match &self.source {
            Source::Replay(replay) => replay.lock().map_or(0, |replay| replay.remaining()),
            _ => 0,
        }
    }

    /// Writes the exchanges recorded so far to `path`, in kwctl's session format.
    pub fn save_session(&self, path: &PathBuf) -> anyhow::Result<()> {
        let Some(recording) = &self.recording else {
            return Ok(());
        };
        let exchanges = recording
            .lock()
            .map_err(|_| anyhow::anyhow!("the recorded session is unusable"))?;
        std::fs::write(path, session::write(&exchanges))
            .with_context(|| format!("cannot write the session to {}", path.display()))
    }
}

#[cfg(test)]
mod tests;

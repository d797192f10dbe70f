//! The cluster as Kubewarden's host capabilities answer it (binding `kubewarden`, namespace
//! `kubernetes`). The requests are the SDK's wire format (its `GetResourceRequest` and
//! `ListResourcesByNamespaceRequest`, byte for byte); the SDK's typed wrappers are not used because
//! they need its `cluster-context` feature, which builds k8s-openapi into the module to decode
//! objects the rules read through their own narrow view anyway.

use kubewarden_policy_sdk::wapc_guest;
use pod_security_rules::Cluster;
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(Serialize)]
struct GetResourceRequest<'a> {
    api_version: &'a str,
    kind: &'a str,
    name: &'a str,
    namespace: Option<&'a str>,
    disable_cache: bool,
    field_masks: Option<()>,
}

#[derive(Serialize)]
struct ListResourcesByNamespaceRequest<'a> {
    api_version: &'a str,
    kind: &'a str,
    namespace: &'a str,
    label_selector: Option<&'a str>,
    field_selector: Option<&'a str>,
    field_masks: Option<()>,
}

/// The cluster behind the host, for one request.
pub struct HostCluster {
    started: Instant,
}

impl HostCluster {
    pub fn new() -> Self {
        HostCluster {
            started: Instant::now(),
        }
    }
}

fn call(operation: &str, request: &impl Serialize) -> Result<Vec<u8>, String> {
    let payload = serde_json::to_vec(request).map_err(|error| error.to_string())?;
    wapc_guest::host_call("kubewarden", "kubernetes", operation, &payload)
        .map_err(|error| format!("kubernetes.{operation}: {error}"))
}

impl Cluster for HostCluster {
    fn namespace(&self, name: &str) -> Result<Vec<u8>, String> {
        call(
            "get_resource",
            &GetResourceRequest {
                api_version: "v1",
                kind: "Namespace",
                name,
                namespace: None,
                // A namespace's labels change rarely; the host's few seconds of cache are PSA's
                // informer delay.
                disable_cache: false,
                field_masks: None,
            },
        )
    }

    fn pods(&self, namespace: &str) -> Result<Vec<u8>, String> {
        call(
            "list_resources_by_namespace",
            &ListResourcesByNamespaceRequest {
                api_version: "v1",
                kind: "Pod",
                namespace,
                label_selector: None,
                field_selector: None,
                field_masks: None,
            },
        )
    }

    fn clock(&self) -> Duration {
        self.started.elapsed()
    }
}

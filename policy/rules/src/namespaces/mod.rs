//! Namespaces as Pod Security Admission reads them: the `pod-security.kubernetes.io/*` labels that
//! set a namespace's levels over the configured defaults ([`labels`], PSA's `PolicyToEvaluate`),
//! and the validation of a Namespace's own CREATE and UPDATE, with the warnings about existing pods
//! a tighter enforce level would refuse ([`validate`], PSA's `ValidateNamespace`).
//!
//! The cluster is read through [`Cluster`]: Kubewarden's host capabilities in the module, a fixture
//! in tests. The rules never reach the cluster themselves.

mod existing_pods;
pub mod labels;
mod validate;

pub use existing_pods::{MAX_PODS_TO_CHECK, POD_CHECK_TIME};
pub use labels::{LabelError, PodSecurityLabels, Policy, policy_to_evaluate};
pub(crate) use validate::{NamespaceChange, validate_namespace};

use crate::pod::Text;
use crate::strict;
use serde::Deserialize;
use std::time::Duration;

/// What the policy reads from the cluster. Answers are JSON as the API server writes it; an `Err`
/// is the engine's reason for not answering (not granted, not found, unreachable).
pub trait Cluster {
    /// The Namespace object named `name`.
    fn namespace(&self, name: &str) -> Result<Vec<u8>, String>;
    /// The pods of a namespace, as a list (`{"items": [...]}`).
    fn pods(&self, namespace: &str) -> Result<Vec<u8>, String>;
    /// A monotonic clock, for the time allowed to check existing pods.
    fn clock(&self) -> Duration;
}

/// No cluster to read: every call fails, with the reason given.
pub struct Unreachable(pub &'static str);

impl Cluster for Unreachable {
    fn namespace(&self, _: &str) -> Result<Vec<u8>, String> {
        Err(self.0.to_string())
    }

    fn pods(&self, _: &str) -> Result<Vec<u8>, String> {
        Err(self.0.to_string())
    }

    fn clock(&self) -> Duration {
        Duration::ZERO
    }
}

/// Every namespace exists, without labels, and has no pods to list: the defaults hold everywhere.
/// For tools that evaluate without a cluster (the native benchmark, fuzzing).
pub struct Unlabelled;

impl Cluster for Unlabelled {
    fn namespace(&self, name: &str) -> Result<Vec<u8>, String> {
        let name = serde_json::to_string(name).map_err(|error| error.to_string())?;
        Ok(
            format!(r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":{name}}}}}"#)
                .into_bytes(),
        )
    }

    fn pods(&self, namespace: &str) -> Result<Vec<u8>, String> {
        Err(format!(
            "no pods to list in {namespace:?}: there is no cluster"
        ))
    }

    fn clock(&self) -> Duration {
        Duration::ZERO
    }
}

/// The part of a Namespace PSA reads.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Namespace<'a> {
    #[serde(borrow, default)]
    pub(crate) metadata: NamespaceMeta<'a>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct NamespaceMeta<'a> {
    #[serde(borrow, default)]
    pub(crate) name: Option<Text<'a>>,
    #[serde(default)]
    pub(crate) labels: PodSecurityLabels,
}

impl Namespace<'_> {
    pub(crate) fn labels(&self) -> &PodSecurityLabels {
        &self.metadata.labels
    }
}

/// The policy a namespace's labels give over `defaults`, read through `cluster`; the error says
/// what failed and what the operator can do about it.
pub(crate) fn namespace_policy(
    cluster: &dyn Cluster,
    name: &str,
    defaults: &Policy,
) -> Result<(Policy, Vec<LabelError>), String> {
    let fetched = cluster
        .namespace(name)
        .map_err(|error| cannot_read(name, &error))?;
    let namespace: Namespace = strict::from_slice(&fetched)
        .map_err(|error| cannot_read(name, &format!("unreadable answer: {}", error.message())))?;
    Ok(policy_to_evaluate(namespace.labels(), defaults))
}

fn cannot_read(name: &str, error: &str) -> String {
    let error = error.trim_end_matches('.');
    format!(
        "failed to lookup namespace {name:?}: {error}. The policy reads each namespace's \
         pod-security.kubernetes.io labels, as Pod Security Admission does: it needs \
         contextAwareResources [{{apiVersion: v1, kind: Namespace}}, {{apiVersion: v1, kind: Pod}}] \
         granted in its ClusterAdmissionPolicy and the API server reachable, or namespaceLabels: \
         false in its settings to evaluate every namespace at the defaults"
    )
}

#[cfg(test)]
pub(crate) mod fixture;

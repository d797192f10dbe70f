//! Kubernetes manifests as the policy's tools read them, shared by `host-test check` and the
//! browser playground so that both read a manifest the same way. No I/O but what a reader is given.
//!
//! - [`yaml`]: YAML as Kubernetes reads it, with the line each value starts on.
//! - [`documents`]: a stream split into documents, and each document into objects (`List`s too).
//! - [`request`]: an object as the AdmissionRequest the API server would send the policy.
//! - [`findings`]: the policy's messages read back check by check.
//! - [`fixes`]: the secure defaults written into a manifest's own YAML.
//! - [`locate`]: the fields a finding is about, for editors to mark.

pub mod documents;
pub mod findings;
pub mod fixes;
pub mod locate;
pub mod request;
pub mod yaml;

//! The Pod Security Standards, as Kubernetes' Pod Security Admission defines them, and the admission
//! semantics around them. Pure functions only: no wasm, no waPC, no I/O.
//!
//! - [`checks`]: one module per Pod Security check and the registry keyed by level and version.
//! - [`pod`]: the narrow view of a pod the checks read.
//! - [`admission`]: which requests are evaluated and what the verdict says.
//! - [`check_exemptions`]: exemptions of one check, for the containers and values they name.
//! - [`namespaces`]: the levels a namespace's labels set, and Namespace requests themselves.
//! - [`runtime_access`]: the guard on host paths and namespaces that lead to the container runtime.
//! - [`secure_defaults`]: what to fill in on pods and templates so they pass, never overriding.
//! - [`settings`]: the policy's configuration, PSA's `PodSecurityConfiguration` plus the policy's keys.
//! - [`strict`]: the JSON reader: objects only, and errors that name their path.

pub mod admission;
pub mod check_exemptions;
pub mod checks;
pub mod level;
pub mod namespaces;
pub mod pod;
pub mod runtime_access;
pub mod secure_defaults;
pub mod settings;
pub mod strict;
mod verdict;

pub use admission::{
    AdmissionRequest, RequestWithSettings, validate, validate_json, validate_json_with_defaults,
};
pub use level::{Level, LevelVersion, Version};
pub use namespaces::{Cluster, Unlabelled, Unreachable};
pub use settings::{Settings, SettingsError};
pub use verdict::Verdict;

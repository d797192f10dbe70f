//! `host-test` has two jobs, and a module for each:
//!
//! - [`run`]: run Kubewarden policy modules natively, the way Kubewarden's policy-server does (a
//!   waPC host on wasmtime, the compiled-module cache, the policy evaluator); [`check`] and
//!   [`conformance`] are built on it;
//! - [`ship`]: ship them the way kwctl does (metadata, Artifact Hub package, OCI registries).
//!
//! [`cli`] holds the commands of the `host-test` binary, on top of both.

/// The allocator for every binary and test of the harness: `check`'s workers allocate a document's
/// values per object on each core, where glibc's allocator contends (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "bench")]
pub mod bench;
pub mod check;
pub mod cli;
pub mod conformance;
pub mod run;
pub mod ship;
pub use pod_security_manifests::yaml;

pub use run::evaluator::{AdmissionResponse, AdmissionStatus, PolicyEvaluator};
pub use run::wapc_host::{GuestCallError, WapcModule, WapcRuntime, WarmInstance};

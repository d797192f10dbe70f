//! Runs Kubewarden policy modules natively, the way Kubewarden's policy-server does: a waPC host on
//! wasmtime, the policy evaluator on top of it, and the Pod Security Admission conformance run;
//! and distributes them the way kwctl does: metadata, Artifact Hub package, OCI registries.

/// The allocator for every binary and test of the harness: `check`'s workers allocate a document's
/// values per object on each core, where glibc's allocator contends (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod artifacthub;
#[cfg(feature = "bench")]
pub mod bench;
pub mod check;
pub mod conformance;
pub mod evaluator;
pub mod input;
pub mod metadata;
pub mod module_cache;
pub mod registry;
pub mod wapc_host;
pub mod yaml;

pub use evaluator::{AdmissionResponse, AdmissionStatus, PolicyEvaluator};
pub use wapc_host::{GuestCallError, WapcModule, WapcRuntime, WarmInstance};

//! Running policy modules the way Kubewarden's policy-server does: the waPC host on wasmtime, the
//! compiled-module cache, the evaluator that turns a module and its settings into admission
//! responses, and the reading of the requests and settings it is given.

pub mod evaluator;
pub mod input;
pub mod module_cache;
pub mod wapc_host;

//! Running policy modules the way Kubewarden's policy-server does: the waPC host on wasmtime, the
//! compiled-module cache, the evaluator that turns a module and its settings into admission
//! responses, the reading of the requests and settings it is given, and what the real engines
//! refuse before a policy sees a request.

pub mod evaluator;
pub mod host_capabilities;
pub mod input;
pub mod module_cache;
pub mod request;
pub mod wapc_host;

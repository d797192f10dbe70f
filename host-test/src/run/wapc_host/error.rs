//! Why a waPC call produced no response.

use std::fmt;

use wasmtime::Trap;

/// Why a waPC call produced no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestCallError {
    /// The epoch deadline passed before the guest finished.
    DeadlineExceeded,
    /// `__guest_call` returned 0; holds the text the guest passed to `__guest_error`.
    GuestFailure(String),
    /// The guest trapped, exited, or broke the waPC ABI (for instance with an out-of-bounds pointer).
    Aborted(String),
    /// The guest tried to grow its memory past the limit (bytes).
    MemoryLimitExceeded(usize),
}

impl fmt::Display for GuestCallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DeadlineExceeded => f.write_str("guest execution deadline exceeded"),
            Self::GuestFailure(message) => write!(f, "guest call failure: {message}"),
            Self::Aborted(message) => write!(f, "guest aborted: {message}"),
            Self::MemoryLimitExceeded(limit) => {
                write!(f, "guest exceeded the memory limit of {} MiB", limit >> 20)
            }
        }
    }
}

impl std::error::Error for GuestCallError {}

impl GuestCallError {
    /// What stopped a guest that wasmtime reports `error` for, when its instance may grow its
    /// memory to `max_memory` bytes.
    pub(super) fn from_wasmtime(max_memory: Option<usize>, error: wasmtime::Error) -> Self {
        if let Some(limit) = max_memory
            && is_memory_limit(&error)
        {
            return Self::MemoryLimitExceeded(limit);
        }
        if let Some(trap) = error.downcast_ref::<Trap>() {
            if *trap == Trap::Interrupt {
                return Self::DeadlineExceeded;
            }
            tracing::debug!("guest trapped: {error:?}");
            return Self::Aborted(trap.to_string());
        }
        if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
            return Self::Aborted(format!("guest exited with status {}", exit.0));
        }
        tracing::debug!("guest aborted: {error:?}");
        Self::Aborted(error.root_cause().to_string())
    }
}

/// wasmtime reports a refused `memory.grow` (with `trap_on_grow_failure`) as this error.
fn is_memory_limit(error: &wasmtime::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .to_string()
            .contains("forcing trap when growing memory")
    })
}

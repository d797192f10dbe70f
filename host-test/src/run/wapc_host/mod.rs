//! A waPC host on wasmtime that runs a Kubewarden policy module the way policy-server does.
//!
//! policy-server runs modules through the `wapc` and `wasmtime-provider` crates. wasmtime-provider
//! has a compiled-module cache (its `cache` feature, wasmtime's own on-disk cache) and resource
//! limits: epoch deadlines for `wapc_init` and for each call, and whatever a caller-made `Engine`
//! sets (the pooling allocator's memory caps, say). This host speaks the ABI itself all the same:
//!
//! - wasmtime-provider brings its own wasmtime release with features nothing here uses (the
//!   component model, GC, threads, core dumps, WAT, the pooling allocator), so the build would hold
//!   a second wasmtime next to the one `host-test` pins (its build time is in docs/performance.md);
//! - `--max-memory` limits each instance with a `StoreLimits` limiter on its store, and
//!   wasmtime-provider makes its stores itself and takes no limiter;
//! - the compiled-module cache here checks who can write it and what an entry holds before wasmtime
//!   reads one (see `module_cache`).
//!
//! The ABI is a handful of imports (`guest.rs`). As in policy-server (policy-evaluator's
//! `stack_pre.rs` and `stack.rs`), the module is compiled and linked once ([`InstancePre`]), and
//! every evaluation gets an instance of its own: a fresh store, `_start` and `wapc_init` when
//! exported under the deadline, `__guest_call` under a deadline of its own, then the instance is
//! dropped, so no state leaks from one evaluation into the next. [`WarmInstance`] is that same
//! instance kept for more calls, which is what `kwctl bench` measures.

mod error;
mod guest;
mod runtime;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use wasmtime::{ExternType, InstancePre, Linker, Module, Store, StoreLimitsBuilder, TypedFunc};

use crate::run::host_capabilities::HostCapabilities;
use crate::run::module_cache::{CacheOutcome, ModuleCache};
pub use error::GuestCallError;
use guest::GuestState;
pub use guest::UNAVAILABLE_CAPABILITY;
pub use runtime::WapcRuntime;

/// How often the epoch advances. policy-server ticks every second; a finer tick makes a deadline
/// of N seconds end within 100 ms after N seconds instead of anywhere between N-1 and N seconds.
pub const EPOCH_TICK: Duration = Duration::from_millis(100);

/// policy-server's default `--policy-timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// A compiled waPC module, ready to be instantiated once per call.
#[derive(Clone)]
pub struct WapcModule {
    runtime: WapcRuntime,
    instance_pre: InstancePre<GuestState>,
    deadline_ticks: u64,
    /// Bytes of linear memory one instance may grow to; `None` is policy-server's "no limit".
    max_memory: Option<usize>,
    /// What the guest's Kubernetes host calls get; nothing is granted unless set.
    capabilities: Arc<HostCapabilities>,
}

impl WapcModule {
    /// Compiles the module binary `wasm` and links the waPC and WASI imports.
    pub fn new(runtime: &WapcRuntime, wasm: &[u8], timeout: Duration) -> anyhow::Result<Self> {
        Self::load(runtime, wasm, timeout, None).map(|(module, _)| module)
    }

    /// Like [`WapcModule::new`], but takes the compiled module from `cache` when it holds one for
    /// these bytes (and stores it there otherwise); says whether it did.
    pub fn load(
        runtime: &WapcRuntime,
        wasm: &[u8],
        timeout: Duration,
        cache: Option<&ModuleCache>,
    ) -> anyhow::Result<(Self, CacheOutcome)> {
        let (module, outcome) = match cache {
            Some(cache) => cache.load(&runtime.engine, wasm)?,
            None => Module::new(&runtime.engine, wasm)
                .map(|module| (module, CacheOutcome::Bypassed))
                .map_err(anyhow::Error::from)
                .context("cannot compile the WebAssembly module")?,
        };
        Self::from_compiled(runtime, &module, timeout).map(|module| (module, outcome))
    }

    fn from_compiled(
        runtime: &WapcRuntime,
        module: &Module,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        check_wapc_exports(module)?;
        let mut linker = Linker::new(&runtime.engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |state: &mut GuestState| {
            &mut state.wasi
        })
        .map_err(anyhow::Error::from)
        .context("cannot link WASI preview 1")?;
        guest::link_wapc_imports(&mut linker)
            .map_err(anyhow::Error::from)
            .context("cannot link the waPC imports")?;
        let instance_pre = linker
            .instantiate_pre(module)
            .map_err(anyhow::Error::from)
            .context("the module imports something this host does not provide")?;
        Ok(Self {
            runtime: runtime.clone(),
            instance_pre,
            deadline_ticks: deadline_ticks(timeout),
            max_memory: None,
            capabilities: Arc::default(),
        })
    }

    /// Limits each instance's linear memory to `bytes`: a guest that grows past it is stopped with
    /// [`GuestCallError::MemoryLimitExceeded`] instead of taking the host's memory.
    pub fn with_max_memory(mut self, bytes: usize) -> Self {
        self.max_memory = Some(bytes);
        self
    }

    /// Answers the guest's Kubernetes host calls from `capabilities`.
    pub fn with_host_capabilities(mut self, capabilities: Arc<HostCapabilities>) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// Reads and compiles the module at `path`.
    pub fn from_file(
        runtime: &WapcRuntime,
        path: &Path,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let wasm = std::fs::read(path)
            .with_context(|| format!("cannot read the policy module {}", path.display()))?;
        Self::new(runtime, &wasm, timeout)
            .with_context(|| format!("cannot load the policy module {}", path.display()))
    }

    /// Runs `operation` with `payload` in an instance of its own, dropped afterwards: policy-server's
    /// path, and the guest's response.
    pub fn call(&self, operation: &str, payload: &[u8]) -> Result<Vec<u8>, GuestCallError> {
        self.instantiate_warm()?.call(operation, payload)
    }

    /// An instance of the module: a fresh store with this module's memory limit, instantiated, and
    /// `_start` then `wapc_init` run when exported, all under the deadline. Every call through
    /// [`WapcModule::call`] starts here; a [`WarmInstance`] kept for several calls lets state carry
    /// from one to the next, which policy-server never does.
    pub fn instantiate_warm(&self) -> Result<WarmInstance, GuestCallError> {
        let mut state = GuestState::new(self.capabilities.clone());
        if let Some(bytes) = self.max_memory {
            state.limits = StoreLimitsBuilder::new()
                .memory_size(bytes)
                .trap_on_grow_failure(true)
                .build();
        }
        let mut store = Store::new(&self.runtime.engine, state);
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(self.deadline_ticks);
        store.epoch_deadline_trap();
        let started = (|| -> wasmtime::Result<_> {
            let instance = self.instance_pre.instantiate(&mut store)?;
            for initializer in ["_start", "wapc_init"] {
                if let Some(function) = instance.get_func(&mut store, initializer) {
                    function.typed::<(), ()>(&store)?.call(&mut store, ())?;
                }
            }
            instance.get_typed_func::<(i32, i32), i32>(&mut store, "__guest_call")
        })();
        let guest_call =
            started.map_err(|error| GuestCallError::from_wasmtime(self.max_memory, error))?;
        Ok(WarmInstance {
            store,
            guest_call,
            deadline_ticks: self.deadline_ticks,
            max_memory: self.max_memory,
            broken: false,
        })
    }
}

/// An instance of a module (see [`WapcModule::instantiate_warm`]). Each call gets the whole
/// deadline again; after a trap or timeout the instance refuses further calls.
pub struct WarmInstance {
    store: Store<GuestState>,
    guest_call: TypedFunc<(i32, i32), i32>,
    deadline_ticks: u64,
    max_memory: Option<usize>,
    broken: bool,
}

impl WarmInstance {
    /// Whether an earlier call trapped or timed out, so this instance refuses further calls.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Runs `operation` with `payload` in this instance: one `__guest_call`.
    pub fn call(&mut self, operation: &str, payload: &[u8]) -> Result<Vec<u8>, GuestCallError> {
        if self.broken {
            return Err(GuestCallError::Aborted(
                "the warm instance was stopped by an earlier call".to_string(),
            ));
        }
        self.store.data_mut().prepare_call(operation, payload);
        self.store.set_epoch_deadline(self.deadline_ticks);
        let result = (|| -> wasmtime::Result<i32> {
            let operation_len = i32::try_from(operation.len())?;
            let payload_len = i32::try_from(payload.len())?;
            self.guest_call
                .call(&mut self.store, (operation_len, payload_len))
        })();
        let status = result.map_err(|error| {
            self.broken = true;
            GuestCallError::from_wasmtime(self.max_memory, error)
        })?;
        self.store.data_mut().take_answer(status)
    }
}

/// Ticks until the deadline: one more than the timeout needs, because the current tick is already
/// partly over, so the guest always gets the whole timeout and at most one tick more. Capped (at
/// over 13 years) because wasmtime adds the ticks to the current epoch without overflow checks.
fn deadline_ticks(timeout: Duration) -> u64 {
    const MAX_TICKS: u128 = u32::MAX as u128;
    let ticks = timeout.as_nanos().div_ceil(EPOCH_TICK.as_nanos());
    ticks.clamp(1, MAX_TICKS) as u64 + 1
}

fn check_wapc_exports(module: &Module) -> anyhow::Result<()> {
    if !matches!(module.get_export("memory"), Some(ExternType::Memory(_))) {
        bail!("not a waPC module: missing export memory");
    }
    if !matches!(module.get_export("__guest_call"), Some(ExternType::Func(_))) {
        bail!("not a waPC module: missing export __guest_call");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_covers_the_whole_timeout_plus_the_current_tick() {
        assert_eq!(deadline_ticks(Duration::from_secs(2)), 21);
        assert_eq!(deadline_ticks(Duration::from_millis(150)), 3);
        assert_eq!(deadline_ticks(Duration::ZERO), 2);
        assert_eq!(deadline_ticks(Duration::MAX), u64::from(u32::MAX) + 1);
    }
}

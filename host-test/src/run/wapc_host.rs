//! A waPC host on wasmtime that runs a Kubewarden policy module the way policy-server does.
//!
//! Hand-written on purpose instead of using the `wapc` and `wasmtime-provider` crates: those have no
//! memory limiter, no fuel and no compiled-module cache, and they pull in many wasmtime features
//! (about 9 minutes of build here). The waPC ABI is a handful of imports, all of them below.
//!
//! Like policy-server, the module is compiled once, and every call gets a fresh store and instance
//! (instantiate, `_start` and `wapc_init` when exported, then `__guest_call`) that is dropped
//! afterwards, so no state leaks from one evaluation into the next.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context as _, bail};
use wasmtime::{
    Caller, Config, Engine, Extern, ExternType, InstancePre, Linker, Module, Store, StoreLimits,
    StoreLimitsBuilder, Trap, TypedFunc,
};
use wasmtime_wasi::WasiCtxBuilder;

use crate::run::module_cache::{CacheOutcome, ModuleCache};
use wasmtime_wasi::p1::WasiP1Ctx;

/// How often the epoch advances. policy-server ticks every second; a finer tick makes a deadline
/// of N seconds end within 100 ms after N seconds instead of anywhere between N-1 and N seconds.
pub const EPOCH_TICK: Duration = Duration::from_millis(100);

/// policy-server's default `--policy-timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// The host-call answer for every capability policy-server gates behind allow-lists.
pub const UNAVAILABLE_CAPABILITY: &str = "host capability not available in host-test";

/// A wasmtime engine with epoch interruption and the thread that advances its epoch.
///
/// Cheap to clone; the ticker stops when the last clone (and every module compiled with it) is gone.
#[derive(Clone)]
pub struct WapcRuntime {
    engine: Engine,
    _ticker: Arc<EpochTicker>,
}

impl WapcRuntime {
    pub fn new() -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config)
            .map_err(anyhow::Error::from)
            .context("cannot create the wasmtime engine")?;
        let ticker = EpochTicker::start(engine.clone())?;
        Ok(Self {
            engine,
            _ticker: Arc::new(ticker),
        })
    }
}

/// Increments the engine's epoch every [`EPOCH_TICK`] until dropped.
struct EpochTicker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> anyhow::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                // Dropping the sender ends the wait with `Disconnected`, which stops the loop.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EPOCH_TICK) {
                    engine.increment_epoch();
                }
            })
            .context("cannot start the epoch ticker thread")?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

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

/// A compiled waPC module, ready to be instantiated once per call.
#[derive(Clone)]
pub struct WapcModule {
    runtime: WapcRuntime,
    instance_pre: InstancePre<GuestState>,
    deadline_ticks: u64,
    /// Bytes of linear memory one instance may grow to; `None` is policy-server's "no limit".
    max_memory: Option<usize>,
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
            Some(cache) => cache.load(&runtime.engine, wasm),
            None => {
                Module::new(&runtime.engine, wasm).map(|module| (module, CacheOutcome::Bypassed))
            }
        }
        .map_err(anyhow::Error::from)
        .context("cannot compile the WebAssembly module")?;
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
        link_wapc_imports(&mut linker)
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
        })
    }

    /// Limits each instance's linear memory to `bytes`: a guest that grows past it is stopped with
    /// [`GuestCallError::MemoryLimitExceeded`] instead of taking the host's memory.
    pub fn with_max_memory(mut self, bytes: usize) -> Self {
        self.max_memory = Some(bytes);
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

    /// Runs `operation` with `payload` in a fresh instance and returns the guest's response.
    pub fn call(&self, operation: &str, payload: &[u8]) -> Result<Vec<u8>, GuestCallError> {
        // The deadline is set before instantiation: a start function or `wapc_init` runs under it.
        let mut store = self.new_store(operation.as_bytes(), payload);

        let result = self.run_guest_call(&mut store, operation.len(), payload.len());
        let status = result.map_err(|error| call_error(self.max_memory, error))?;
        call_answer(status, store.data_mut())
    }

    /// A store with this module's limits and `operation`/`payload` ready for `__guest_request`.
    fn new_store(&self, operation: &[u8], payload: &[u8]) -> Store<GuestState> {
        let mut state = GuestState::new(operation.to_vec(), payload.to_vec());
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
        store
    }

    /// One instance that stays alive across calls: instantiated, `_start` and `wapc_init` run once,
    /// then every [`WarmInstance::call`] is one `__guest_call`. This is what `kwctl bench` measures;
    /// it is not policy-server's isolation (state may carry from one call to the next), which
    /// [`WapcModule::call`] keeps.
    pub fn instantiate_warm(&self) -> Result<WarmInstance, GuestCallError> {
        let mut store = self.new_store(b"", b"");
        let started = (|| -> wasmtime::Result<_> {
            let instance = self.instance_pre.instantiate(&mut store)?;
            for initializer in ["_start", "wapc_init"] {
                if let Some(function) = instance.get_func(&mut store, initializer) {
                    function.typed::<(), ()>(&store)?.call(&mut store, ())?;
                }
            }
            instance.get_typed_func::<(i32, i32), i32>(&mut store, "__guest_call")
        })();
        let guest_call = started.map_err(|error| call_error(self.max_memory, error))?;
        Ok(WarmInstance {
            store,
            guest_call,
            deadline_ticks: self.deadline_ticks,
            max_memory: self.max_memory,
            broken: false,
        })
    }

    fn run_guest_call(
        &self,
        store: &mut Store<GuestState>,
        operation_len: usize,
        payload_len: usize,
    ) -> wasmtime::Result<i32> {
        let instance = self.instance_pre.instantiate(&mut *store)?;
        for initializer in ["_start", "wapc_init"] {
            if let Some(function) = instance.get_func(&mut *store, initializer) {
                function.typed::<(), ()>(&*store)?.call(&mut *store, ())?;
            }
        }
        let guest_call = instance.get_typed_func::<(i32, i32), i32>(&mut *store, "__guest_call")?;
        let operation_len = i32::try_from(operation_len)?;
        let payload_len = i32::try_from(payload_len)?;
        guest_call.call(&mut *store, (operation_len, payload_len))
    }
}

/// An instance kept across calls (see [`WapcModule::instantiate_warm`]). Each call gets the whole
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
        let state = self.store.data_mut();
        state.operation.clear();
        state.operation.extend_from_slice(operation.as_bytes());
        state.payload.clear();
        state.payload.extend_from_slice(payload);
        state.guest_response = None;
        state.guest_error = None;
        self.store.set_epoch_deadline(self.deadline_ticks);
        let result = (|| -> wasmtime::Result<i32> {
            let operation_len = i32::try_from(operation.len())?;
            let payload_len = i32::try_from(payload.len())?;
            self.guest_call
                .call(&mut self.store, (operation_len, payload_len))
        })();
        let status = result.map_err(|error| {
            self.broken = true;
            call_error(self.max_memory, error)
        })?;
        call_answer(status, self.store.data_mut())
    }
}

fn call_error(max_memory: Option<usize>, error: wasmtime::Error) -> GuestCallError {
    match max_memory {
        Some(limit) if is_memory_limit(&error) => GuestCallError::MemoryLimitExceeded(limit),
        _ => abort_reason(error),
    }
}

/// The response of a finished `__guest_call` that returned `status`.
fn call_answer(status: i32, state: &mut GuestState) -> Result<Vec<u8>, GuestCallError> {
    if status == 0 {
        let message = state.guest_error.take().map_or_else(
            || "no error message set for call failure".to_string(),
            |error| String::from_utf8_lossy(&error).into_owned(),
        );
        return Err(GuestCallError::GuestFailure(message));
    }
    state
        .guest_response
        .take()
        .ok_or_else(|| GuestCallError::GuestFailure("no response set for call success".to_string()))
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

/// wasmtime reports a refused `memory.grow` (with `trap_on_grow_failure`) as this error.
fn is_memory_limit(error: &wasmtime::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .to_string()
            .contains("forcing trap when growing memory")
    })
}

fn abort_reason(error: wasmtime::Error) -> GuestCallError {
    if let Some(trap) = error.downcast_ref::<Trap>() {
        if *trap == Trap::Interrupt {
            return GuestCallError::DeadlineExceeded;
        }
        eprintln!("host-test: guest trapped: {error:?}");
        return GuestCallError::Aborted(trap.to_string());
    }
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return GuestCallError::Aborted(format!("guest exited with status {}", exit.0));
    }
    eprintln!("host-test: guest aborted: {error:?}");
    GuestCallError::Aborted(error.root_cause().to_string())
}

/// What one call's store holds: WASI and the buffers the waPC imports exchange.
struct GuestState {
    wasi: WasiP1Ctx,
    limits: StoreLimits,
    operation: Vec<u8>,
    payload: Vec<u8>,
    guest_response: Option<Vec<u8>>,
    guest_error: Option<Vec<u8>>,
    host_response: Option<Vec<u8>>,
    host_error: Option<Vec<u8>>,
}

impl GuestState {
    fn new(operation: Vec<u8>, payload: Vec<u8>) -> Self {
        // No args, env or preopens; the guest's stdout goes to stderr, which keeps stdout for results.
        let wasi = WasiCtxBuilder::new()
            .stdout(wasmtime_wasi::cli::stderr())
            .stderr(wasmtime_wasi::cli::stderr())
            .build_p1();
        Self {
            wasi,
            limits: StoreLimits::default(),
            operation,
            payload,
            guest_response: None,
            guest_error: None,
            host_response: None,
            host_error: None,
        }
    }

    /// Answers a `__host_call`: only `kubewarden`/`tracing`/`log`, which policy-server always allows.
    fn host_call(&mut self, binding: &[u8], namespace: &[u8], operation: &[u8], payload: &[u8]) {
        self.host_response = None;
        self.host_error = None;
        if (binding, namespace, operation) == (b"kubewarden", b"tracing", b"log") {
            eprintln!("policy log: {}", String::from_utf8_lossy(payload));
            self.host_response = Some(Vec::new());
        } else {
            self.host_error = Some(UNAVAILABLE_CAPABILITY.as_bytes().to_vec());
        }
    }
}

type GuestCaller<'a> = Caller<'a, GuestState>;

fn link_wapc_imports(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "wapc",
        "__guest_request",
        |mut caller: GuestCaller<'_>, operation_ptr: i32, payload_ptr: i32| {
            let memory = guest_memory(&mut caller)?;
            let (data, state) = memory.data_and_store_mut(&mut caller);
            write_bytes(data, operation_ptr, &state.operation)?;
            write_bytes(data, payload_ptr, &state.payload)
        },
    )?;
    linker.func_wrap(
        "wapc",
        "__guest_response",
        |mut caller: GuestCaller<'_>, ptr: i32, len: i32| {
            let response = read_guest_bytes(&mut caller, ptr, len)?;
            caller.data_mut().guest_response = Some(response);
            Ok(())
        },
    )?;
    linker.func_wrap(
        "wapc",
        "__guest_error",
        |mut caller: GuestCaller<'_>, ptr: i32, len: i32| {
            let error = read_guest_bytes(&mut caller, ptr, len)?;
            caller.data_mut().guest_error = Some(error);
            Ok(())
        },
    )?;
    linker.func_wrap(
        "wapc",
        "__host_call",
        |mut caller: GuestCaller<'_>,
         binding_ptr: i32,
         binding_len: i32,
         namespace_ptr: i32,
         namespace_len: i32,
         operation_ptr: i32,
         operation_len: i32,
         payload_ptr: i32,
         payload_len: i32| {
            let binding = read_guest_bytes(&mut caller, binding_ptr, binding_len)?;
            let namespace = read_guest_bytes(&mut caller, namespace_ptr, namespace_len)?;
            let operation = read_guest_bytes(&mut caller, operation_ptr, operation_len)?;
            let payload = read_guest_bytes(&mut caller, payload_ptr, payload_len)?;
            let state = caller.data_mut();
            state.host_call(&binding, &namespace, &operation, &payload);
            Ok(i32::from(state.host_error.is_none()))
        },
    )?;
    linker.func_wrap("wapc", "__host_response_len", |caller: GuestCaller<'_>| {
        buffer_len(caller.data().host_response.as_deref())
    })?;
    linker.func_wrap(
        "wapc",
        "__host_response",
        |mut caller: GuestCaller<'_>, ptr: i32| {
            let memory = guest_memory(&mut caller)?;
            let (data, state) = memory.data_and_store_mut(&mut caller);
            write_bytes(
                data,
                ptr,
                state.host_response.as_deref().unwrap_or_default(),
            )
        },
    )?;
    linker.func_wrap("wapc", "__host_error_len", |caller: GuestCaller<'_>| {
        buffer_len(caller.data().host_error.as_deref())
    })?;
    linker.func_wrap(
        "wapc",
        "__host_error",
        |mut caller: GuestCaller<'_>, ptr: i32| {
            let memory = guest_memory(&mut caller)?;
            let (data, state) = memory.data_and_store_mut(&mut caller);
            write_bytes(data, ptr, state.host_error.as_deref().unwrap_or_default())
        },
    )?;
    linker.func_wrap(
        "wapc",
        "__console_log",
        |mut caller: GuestCaller<'_>, ptr: i32, len: i32| {
            let line = read_guest_bytes(&mut caller, ptr, len)?;
            eprintln!("guest console: {}", String::from_utf8_lossy(&line));
            Ok(())
        },
    )?;
    Ok(())
}

fn guest_memory(caller: &mut GuestCaller<'_>) -> wasmtime::Result<wasmtime::Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Ok(memory),
        _ => wasmtime::bail!("the guest exports no memory"),
    }
}

fn buffer_len(buffer: Option<&[u8]>) -> wasmtime::Result<i32> {
    Ok(i32::try_from(buffer.map_or(0, <[u8]>::len))?)
}

/// The guest range `[ptr, ptr + len)`; waPC passes pointers and lengths as unsigned 32-bit values.
fn guest_range(data_len: usize, ptr: i32, len: usize) -> wasmtime::Result<std::ops::Range<usize>> {
    let start = ptr as u32 as usize;
    match start.checked_add(len) {
        Some(end) if end <= data_len => Ok(start..end),
        _ => wasmtime::bail!(
            "the guest passed an out-of-bounds buffer: {len} bytes at {start:#x}, memory is {data_len} bytes"
        ),
    }
}

fn read_guest_bytes(caller: &mut GuestCaller<'_>, ptr: i32, len: i32) -> wasmtime::Result<Vec<u8>> {
    let memory = guest_memory(caller)?;
    let data = memory.data(&*caller);
    let range = guest_range(data.len(), ptr, len as u32 as usize)?;
    Ok(data[range].to_vec())
}

fn write_bytes(data: &mut [u8], ptr: i32, bytes: &[u8]) -> wasmtime::Result<()> {
    let range = guest_range(data.len(), ptr, bytes.len())?;
    data[range].copy_from_slice(bytes);
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

    #[test]
    fn guest_ranges_are_bounds_checked() {
        assert_eq!(guest_range(100, 10, 90).unwrap(), 10..100);
        assert!(guest_range(100, 10, 91).is_err());
        // A negative i32 is a pointer in the upper half of the 32-bit space, not an index below zero.
        assert!(guest_range(100, -1, 1).is_err());
        assert!(guest_range(usize::MAX, -1, usize::MAX).is_err());
    }

    #[test]
    fn only_the_tracing_log_host_call_is_answered() {
        let mut state = GuestState::new(Vec::new(), Vec::new());
        state.host_call(b"kubewarden", b"tracing", b"log", br#"{"message":"hi"}"#);
        assert_eq!(state.host_response.as_deref(), Some(&b""[..]));
        assert_eq!(state.host_error, None);

        state.host_call(b"kubewarden", b"oci", b"v1/verify", b"{}");
        assert_eq!(state.host_response, None);
        assert_eq!(
            state.host_error.as_deref(),
            Some(UNAVAILABLE_CAPABILITY.as_bytes())
        );
    }
}

//! The guest's side of a store: the buffers the waPC imports exchange with the guest, and the
//! imports themselves (module `wapc`), each checking the guest's pointers against its memory.

use wasmtime::{Caller, Extern, Linker, StoreLimits};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::WasiP1Ctx;

use std::sync::Arc;

use super::GuestCallError;
use crate::run::host_capabilities::HostCapabilities;

/// The host-call answer for every capability policy-server gates behind allow-lists.
pub const UNAVAILABLE_CAPABILITY: &str = "host capability not available in host-test";

/// What one store holds: WASI, the memory limit, and the buffers the waPC imports exchange.
pub(super) struct GuestState {
    pub(super) wasi: WasiP1Ctx,
    pub(super) limits: StoreLimits,
    capabilities: Arc<HostCapabilities>,
    operation: Vec<u8>,
    payload: Vec<u8>,
    guest_response: Option<Vec<u8>>,
    guest_error: Option<Vec<u8>>,
    host_response: Option<Vec<u8>>,
    host_error: Option<Vec<u8>>,
}

impl GuestState {
    pub(super) fn new(capabilities: Arc<HostCapabilities>) -> Self {
        // No args, env or preopens; the guest's stdout goes to stderr, which keeps stdout for results.
        let wasi = WasiCtxBuilder::new()
            .stdout(wasmtime_wasi::cli::stderr())
            .stderr(wasmtime_wasi::cli::stderr())
            .build_p1();
        Self {
            wasi,
            limits: StoreLimits::default(),
            capabilities,
            operation: Vec::new(),
            payload: Vec::new(),
            guest_response: None,
            guest_error: None,
            host_response: None,
            host_error: None,
        }
    }

    /// Gets the buffers ready for one `__guest_call`: what `__guest_request` will write into the
    /// guest, and no answer from an earlier call.
    pub(super) fn prepare_call(&mut self, operation: &str, payload: &[u8]) {
        self.operation.clear();
        self.operation.extend_from_slice(operation.as_bytes());
        self.payload.clear();
        self.payload.extend_from_slice(payload);
        self.guest_response = None;
        self.guest_error = None;
    }

    /// What a finished `__guest_call` that returned `status` answered.
    pub(super) fn take_answer(&mut self, status: i32) -> Result<Vec<u8>, GuestCallError> {
        if status == 0 {
            let message = self.guest_error.take().map_or_else(
                || "no error message set for call failure".to_string(),
                |error| String::from_utf8_lossy(&error).into_owned(),
            );
            return Err(GuestCallError::GuestFailure(message));
        }
        self.guest_response.take().ok_or_else(|| {
            GuestCallError::GuestFailure("no response set for call success".to_string())
        })
    }

    /// Answers a `__host_call`: `kubewarden`/`tracing`/`log`, which policy-server always allows,
    /// and `kubewarden`/`kubernetes`, from the run's host capabilities.
    fn host_call(&mut self, binding: &[u8], namespace: &[u8], operation: &[u8], payload: &[u8]) {
        self.host_response = None;
        self.host_error = None;
        match (binding, namespace) {
            (b"kubewarden", b"tracing") if operation == b"log" => {
                tracing::info!("policy log: {}", String::from_utf8_lossy(payload));
                self.host_response = Some(Vec::new());
            }
            (b"kubewarden", b"kubernetes") => {
                let operation = String::from_utf8_lossy(operation);
                match self.capabilities.kubernetes(&operation, payload) {
                    Ok(answer) => self.host_response = Some(answer),
                    Err(error) => self.host_error = Some(error.into_bytes()),
                }
            }
            _ => self.host_error = Some(UNAVAILABLE_CAPABILITY.as_bytes().to_vec()),
        }
    }
}

type GuestCaller<'a> = Caller<'a, GuestState>;

pub(super) fn link_wapc_imports(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
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
            tracing::info!("guest console: {}", String::from_utf8_lossy(&line));
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
    fn guest_ranges_are_bounds_checked() {
        assert_eq!(guest_range(100, 10, 90).unwrap(), 10..100);
        assert!(guest_range(100, 10, 91).is_err());
        // A negative i32 is a pointer in the upper half of the 32-bit space, not an index below zero.
        assert!(guest_range(100, -1, 1).is_err());
        assert!(guest_range(usize::MAX, -1, usize::MAX).is_err());
    }

    #[test]
    fn tracing_is_answered_kubernetes_gated_and_the_rest_unavailable() {
        let mut state = GuestState::new(Arc::default());
        state.host_call(b"kubewarden", b"tracing", b"log", br#"{"message":"hi"}"#);
        assert_eq!(state.host_response.as_deref(), Some(&b""[..]));
        assert_eq!(state.host_error, None);

        state.host_call(b"kubewarden", b"oci", b"v1/verify", b"{}");
        assert_eq!(state.host_response, None);
        assert_eq!(
            state.host_error.as_deref(),
            Some(UNAVAILABLE_CAPABILITY.as_bytes())
        );

        // Nothing granted by default, as kwctl without --allow-context-aware.
        let get = br#"{"api_version":"v1","kind":"Namespace","name":"a","namespace":null,"disable_cache":false,"field_masks":null}"#;
        state.host_call(b"kubewarden", b"kubernetes", b"get_resource", get);
        assert_eq!(state.host_response, None);
        assert_eq!(
            String::from_utf8_lossy(state.host_error.as_deref().unwrap()),
            "Policy has not been granted access to Kubernetes v1/Namespace resources. The violation has been reported."
        );
    }
}

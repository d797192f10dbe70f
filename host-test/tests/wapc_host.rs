//! The waPC host against small purpose-built guests.

mod common;

use std::time::{Duration, Instant};

use common::{WAPC_GUEST_PRELUDE, compile, wat_string};
use host_test::GuestCallError;
use host_test::run::wapc_host::UNAVAILABLE_CAPABILITY;

const TIMEOUT: Duration = Duration::from_secs(1);

/// Answers any operation with the operation name followed by the payload.
fn echo_guest() -> String {
    format!(
        r#"(module {WAPC_GUEST_PRELUDE}
  (func (export "__guest_call") (param $op_len i32) (param $payload_len i32) (result i32)
    (call $guest_request (i32.const 0) (local.get $op_len))
    (call $guest_response (i32.const 0) (i32.add (local.get $op_len) (local.get $payload_len)))
    (i32.const 1)))"#
    )
}

#[test]
fn the_guest_receives_the_operation_and_payload() {
    let module = compile(&echo_guest(), TIMEOUT).unwrap();
    assert_eq!(module.call("hello", b" world").unwrap(), b"hello world");
    assert_eq!(module.call("validate", b"").unwrap(), b"validate");
}

#[test]
fn every_call_gets_a_fresh_instance_initialised_by_wapc_init() {
    // wapc_init sets the byte at 0 to 1; each call adds 1 and answers with it. A reused
    // instance, or a missing wapc_init, would answer something other than 2.
    let wat = format!(
        r#"(module {WAPC_GUEST_PRELUDE}
  (func (export "wapc_init") (i32.store8 (i32.const 0) (i32.const 1)))
  (func (export "__guest_call") (param i32 i32) (result i32)
    (i32.store8 (i32.const 0) (i32.add (i32.load8_u (i32.const 0)) (i32.const 1)))
    (call $guest_response (i32.const 0) (i32.const 1))
    (i32.const 1)))"#
    );
    let module = compile(&wat, TIMEOUT).unwrap();
    for _ in 0..3 {
        assert_eq!(module.call("count", b"").unwrap(), [2]);
    }
}

#[test]
fn start_runs_before_wapc_init() {
    // _start writes 'S'; wapc_init appends 'I' only when it finds the 'S'.
    let wat = format!(
        r#"(module {WAPC_GUEST_PRELUDE}
  (func (export "_start") (i32.store8 (i32.const 0) (i32.const 83)))
  (func (export "wapc_init")
    (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 83))
      (then (i32.store8 (i32.const 1) (i32.const 73)))))
  (func (export "__guest_call") (param i32 i32) (result i32)
    (call $guest_response (i32.const 0) (i32.const 2))
    (i32.const 1)))"#
    );
    assert_eq!(
        compile(&wat, TIMEOUT).unwrap().call("x", b"").unwrap(),
        b"SI"
    );
}

#[test]
fn a_guest_error_is_a_guest_failure_with_its_text() {
    let wat = format!(
        r#"(module {WAPC_GUEST_PRELUDE}
  (data (i32.const 0) "settings are broken")
  (func (export "__guest_call") (param i32 i32) (result i32)
    (call $guest_error (i32.const 0) (i32.const 19))
    (i32.const 0)))"#
    );
    let error = compile(&wat, TIMEOUT).unwrap().call("x", b"").unwrap_err();
    assert_eq!(
        error,
        GuestCallError::GuestFailure("settings are broken".to_string())
    );
}

#[test]
fn success_without_a_response_is_a_guest_failure() {
    let wat = format!(
        r#"(module {WAPC_GUEST_PRELUDE}
  (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 1)))"#
    );
    let error = compile(&wat, TIMEOUT).unwrap().call("x", b"").unwrap_err();
    assert_eq!(
        error,
        GuestCallError::GuestFailure("no response set for call success".to_string())
    );
}

#[test]
fn an_endless_loop_ends_at_the_deadline() {
    let wat = format!(
        r#"(module {WAPC_GUEST_PRELUDE}
  (func (export "__guest_call") (param i32 i32) (result i32)
    (loop $forever (br $forever))
    (i32.const 1)))"#
    );
    let module = compile(&wat, TIMEOUT).unwrap();
    let started = Instant::now();
    assert_eq!(
        module.call("x", b"").unwrap_err(),
        GuestCallError::DeadlineExceeded
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed >= TIMEOUT && elapsed < TIMEOUT * 2,
        "stopped after {elapsed:?}"
    );
}

#[test]
fn an_endless_wapc_init_ends_at_the_deadline_too() {
    let wat = format!(
        r#"(module {WAPC_GUEST_PRELUDE}
  (func (export "wapc_init") (loop $forever (br $forever)))
  (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 1)))"#
    );
    let module = compile(&wat, Duration::from_millis(200)).unwrap();
    assert_eq!(
        module.call("x", b"").unwrap_err(),
        GuestCallError::DeadlineExceeded
    );
}

#[test]
fn a_trap_is_an_abort_not_a_panic() {
    let wat = format!(
        r#"(module {WAPC_GUEST_PRELUDE}
  (func (export "__guest_call") (param i32 i32) (result i32) (unreachable)))"#
    );
    let error = compile(&wat, TIMEOUT).unwrap().call("x", b"").unwrap_err();
    assert_eq!(
        error,
        GuestCallError::Aborted("wasm trap: wasm `unreachable` instruction executed".to_string())
    );
}

/// Grows its memory by 1 MiB (16 pages) until `memory.grow` fails, then answers "ok".
fn memory_hog() -> String {
    format!(
        r#"(module {WAPC_GUEST_PRELUDE}
  (data (i32.const 0) "ok")
  (func (export "__guest_call") (param i32 i32) (result i32)
    (loop $grow (br_if $grow (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
    (call $guest_response (i32.const 0) (i32.const 2))
    (i32.const 1)))"#
    )
}

#[test]
fn a_memory_hog_is_stopped_at_the_limit() {
    let module = compile(&memory_hog(), TIMEOUT)
        .unwrap()
        .with_max_memory(64 << 20);
    let error = module.call("x", b"").unwrap_err();
    assert_eq!(error, GuestCallError::MemoryLimitExceeded(64 << 20));
    assert_eq!(
        error.to_string(),
        "guest exceeded the memory limit of 64 MiB"
    );
    // Each call gets the whole limit again: the limit is per instance.
    assert_eq!(
        module.call("x", b"").unwrap_err(),
        GuestCallError::MemoryLimitExceeded(64 << 20)
    );
}

#[test]
fn the_real_policy_fits_in_a_small_limit() {
    let module = common::real_policy_module(TIMEOUT).with_max_memory(16 << 20);
    assert_eq!(module.call("protocol_version", b"").unwrap(), br#""v1""#);
}

#[test]
fn out_of_bounds_pointers_are_an_abort_not_a_panic() {
    for call in [
        // A response that runs past the end of memory.
        "(call $guest_response (i32.const 65530) (i32.const 100))",
        // A pointer in the upper half of the 32-bit space.
        "(call $guest_error (i32.const -16) (i32.const 4))",
        // A request buffer the payload does not fit in.
        "(call $guest_request (i32.const 0) (i32.const 65535))",
    ] {
        let wat = format!(
            r#"(module {WAPC_GUEST_PRELUDE}
  (func (export "__guest_call") (param i32 i32) (result i32) {call} (i32.const 1)))"#
        );
        let error = compile(&wat, TIMEOUT)
            .unwrap()
            .call("op", b"payload")
            .unwrap_err();
        let GuestCallError::Aborted(message) = error else {
            panic!("{call}: expected an abort, got {error:?}");
        };
        assert!(
            message.contains("out-of-bounds buffer"),
            "{call}: {message}"
        );
    }
}

#[test]
fn tracing_logs_are_answered_and_other_host_calls_refused() {
    // Calls kubewarden/tracing/log, then kubewarden/oci/v1/verify, and answers with
    // "<log status><oci status>" followed by the host error text of the second call.
    let strings = "kubewardentracinglogocifoo";
    let wat = format!(
        r#"(module
  (import "wapc" "__host_call"
    (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__host_error_len" (func $host_error_len (result i32)))
  (import "wapc" "__host_error" (func $host_error (param i32)))
  (import "wapc" "__host_response_len" (func $host_response_len (result i32)))
  {WAPC_GUEST_PRELUDE}
  (data (i32.const 0) {strings})
  (global $error_len (mut i32) (i32.const 0))
  (func (export "__guest_call") (param i32 i32) (result i32)
    ;; kubewarden(0,10) tracing(10,7) log(17,3), payload "foo"(23,3)
    (i32.store8 (i32.const 100)
      (i32.add (i32.const 48)
        (call $host_call (i32.const 0) (i32.const 10) (i32.const 10) (i32.const 7)
                         (i32.const 17) (i32.const 3) (i32.const 23) (i32.const 3))))
    ;; an empty success response
    (if (call $host_response_len) (then (unreachable)))
    ;; kubewarden(0,10) oci(20,3) foo(23,3)
    (i32.store8 (i32.const 101)
      (i32.add (i32.const 48)
        (call $host_call (i32.const 0) (i32.const 10) (i32.const 20) (i32.const 3)
                         (i32.const 23) (i32.const 3) (i32.const 23) (i32.const 3))))
    (global.set $error_len (call $host_error_len))
    (call $host_error (i32.const 102))
    (call $guest_response (i32.const 100) (i32.add (i32.const 2) (global.get $error_len)))
    (i32.const 1)))"#,
        strings = wat_string(strings.as_bytes()),
    );
    let response = compile(&wat, TIMEOUT).unwrap().call("x", b"").unwrap();
    assert_eq!(
        String::from_utf8(response).unwrap(),
        format!("10{UNAVAILABLE_CAPABILITY}")
    );
}

#[test]
fn a_module_without_guest_call_is_not_a_wapc_module() {
    let error = compile(r#"(module (memory (export "memory") 1))"#, TIMEOUT)
        .err()
        .expect("the module is refused");
    assert_eq!(
        format!("{error:#}"),
        "not a waPC module: missing export __guest_call"
    );
}

#[test]
fn a_module_without_memory_is_not_a_wapc_module() {
    let wat =
        r#"(module (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 1)))"#;
    let error = compile(wat, TIMEOUT).err().expect("the module is refused");
    assert_eq!(
        format!("{error:#}"),
        "not a waPC module: missing export memory"
    );
}

#[test]
fn a_module_importing_an_unknown_capability_is_refused_at_load() {
    let wat = format!(
        r#"(module
  (import "env" "mystery" (func))
  {WAPC_GUEST_PRELUDE}
  (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 1)))"#
    );
    let error = compile(&wat, TIMEOUT).err().expect("the module is refused");
    let message = format!("{error:#}");
    assert!(
        message.contains("imports something this host does not provide")
            && message.contains("mystery"),
        "{message}"
    );
}

#[test]
fn garbage_is_not_a_module() {
    let runtime = host_test::WapcRuntime::new().unwrap();
    let error = host_test::WapcModule::new(&runtime, b"not wasm", TIMEOUT)
        .err()
        .expect("garbage is refused");
    assert!(
        format!("{error:#}").starts_with("cannot compile the WebAssembly module"),
        "{error:#}"
    );
}

/// Counts its calls in a global, so a test sees whether state carries from one call to the next.
fn counting_guest() -> String {
    format!(
        r#"(module {WAPC_GUEST_PRELUDE}
  (global $calls (mut i32) (i32.const 0))
  (func (export "__guest_call") (param $op_len i32) (param $payload_len i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.store8 (i32.const 0) (i32.add (i32.const 48) (global.get $calls)))
    (call $guest_response (i32.const 0) (i32.const 1))
    (i32.const 1)))"#
    )
}

#[test]
fn a_warm_instance_keeps_its_state_and_call_keeps_a_fresh_one() {
    let module = compile(&counting_guest(), TIMEOUT).unwrap();
    let mut warm = module.instantiate_warm().unwrap();
    assert_eq!(warm.call("x", b"").unwrap(), b"1");
    assert_eq!(warm.call("x", b"").unwrap(), b"2");
    assert_eq!(warm.call("x", b"").unwrap(), b"3");
    // The policy-server path is unchanged: every call starts from scratch.
    assert_eq!(module.call("x", b"").unwrap(), b"1");
    assert_eq!(module.call("x", b"").unwrap(), b"1");
}

#[test]
fn a_warm_instance_answers_each_call_with_its_own_payload() {
    let module = compile(&echo_guest(), TIMEOUT).unwrap();
    let mut warm = module.instantiate_warm().unwrap();
    assert_eq!(warm.call("hello", b" world").unwrap(), b"hello world");
    assert_eq!(warm.call("ab", b"").unwrap(), b"ab");
}

#[test]
fn a_warm_instance_gets_the_deadline_on_every_call_and_stops_after_a_timeout() {
    let wat = format!(
        r#"(module {WAPC_GUEST_PRELUDE}
  (func (export "__guest_call") (param $op_len i32) (param i32) (result i32)
    (if (i32.eq (local.get $op_len) (i32.const 4)) (then (loop $forever (br $forever))))
    (call $guest_response (i32.const 0) (i32.const 0))
    (i32.const 1)))"#
    );
    let module = compile(&wat, Duration::from_millis(200)).unwrap();
    let mut warm = module.instantiate_warm().unwrap();
    // Calls that together outlast the deadline each get a deadline of their own.
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(warm.call("ok", b"").unwrap(), b"");
    }
    assert_eq!(
        warm.call("loop", b"").unwrap_err(),
        GuestCallError::DeadlineExceeded
    );
    assert!(matches!(
        warm.call("ok", b"").unwrap_err(),
        GuestCallError::Aborted(_)
    ));
}

#[test]
fn a_warm_real_policy_answers_repeatedly() {
    let module = common::real_policy_module(TIMEOUT);
    let mut warm = module.instantiate_warm().unwrap();
    for _ in 0..3 {
        assert_eq!(warm.call("protocol_version", b"").unwrap(), br#""v1""#);
        let answer = warm.call("validate_settings", b"{}").unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&answer).unwrap()["valid"],
            true
        );
    }
}

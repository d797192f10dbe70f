//! Small purpose-built waPC guests, written in WAT, for the host tests.

#![allow(dead_code)] // Each test binary uses its own part of these helpers.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use host_test::run::module_cache::ModuleCache;
use host_test::{WapcModule, WapcRuntime};
use serde_json::Value;

/// The waPC guest imports and a one-page memory, for splicing into a `(module …)`.
pub const WAPC_GUEST_PRELUDE: &str = r#"
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wapc" "__guest_error" (func $guest_error (param i32 i32)))
  (memory (export "memory") 1)
"#;

/// Where the canned guests have the host write the operation name; the payload follows it.
pub const REQUEST_AREA: u32 = 8192;

pub fn wasm(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).expect("the test WAT is valid")
}

pub fn compile(wat: &str, timeout: Duration) -> anyhow::Result<WapcModule> {
    WapcModule::new(&WapcRuntime::new()?, &wasm(wat), timeout)
}

/// A WAT string literal holding `bytes`, every byte hex-escaped.
pub fn wat_string(bytes: &[u8]) -> String {
    let escaped: String = bytes.iter().map(|byte| format!("\\{byte:02x}")).collect();
    format!("\"{escaped}\"")
}

/// What a canned policy does for `validate`.
pub enum ValidateBehaviour<'a> {
    /// Responds with this ValidationResponse JSON.
    Answer(&'a str),
    /// Calls `__guest_error` with this text and returns 0.
    Fail(&'a str),
    /// Responds with the payload it was given.
    EchoPayload,
    LoopForever,
    Trap,
}

/// What canned policies answer to `pod_security_checks`: the checks the conformance tests' fixtures
/// name, as the real module lists them.
const CANNED_CHECKS: &str =
    r#"[{"id":"hostPorts","level":"baseline"},{"id":"procMount_restricted","level":"restricted"}]"#;

/// A policy that answers `validate_settings` with `settings_answer`, `pod_security_checks` with
/// two checks and `validate` as told.
pub fn canned_policy(settings_answer: &str, validate: ValidateBehaviour<'_>) -> String {
    const SETTINGS_ANSWER_AT: u32 = 0;
    const VALIDATE_TEXT_AT: u32 = 4096;
    const CHECKS_AT: u32 = 6144;
    let (validate_text, validate_body) = match validate {
        ValidateBehaviour::Answer(answer) => (
            answer,
            format!(
                "(call $guest_response (i32.const {VALIDATE_TEXT_AT}) (i32.const {})) (i32.const 1)",
                answer.len()
            ),
        ),
        ValidateBehaviour::Fail(message) => (
            message,
            format!(
                "(call $guest_error (i32.const {VALIDATE_TEXT_AT}) (i32.const {})) (i32.const 0)",
                message.len()
            ),
        ),
        ValidateBehaviour::EchoPayload => (
            "",
            format!(
                "(call $guest_response (i32.add (i32.const {REQUEST_AREA}) (local.get $op_len)) \
                 (local.get $payload_len)) (i32.const 1)"
            ),
        ),
        ValidateBehaviour::LoopForever => {
            ("", "(loop $forever (br $forever)) (unreachable)".into())
        }
        ValidateBehaviour::Trap => ("", "(unreachable)".into()),
    };
    format!(
        r#"(module {WAPC_GUEST_PRELUDE}
  (data (i32.const {SETTINGS_ANSWER_AT}) {settings})
  (data (i32.const {VALIDATE_TEXT_AT}) {validate_text})
  (data (i32.const {CHECKS_AT}) {checks})
  (func (export "__guest_call") (param $op_len i32) (param $payload_len i32) (result i32)
    (call $guest_request (i32.const {REQUEST_AREA})
      (i32.add (i32.const {REQUEST_AREA}) (local.get $op_len)))
    ;; "validate_settings" is the only operation this long.
    (if (i32.eq (local.get $op_len) (i32.const 17))
      (then
        (call $guest_response (i32.const {SETTINGS_ANSWER_AT}) (i32.const {settings_len}))
        (return (i32.const 1))))
    ;; "pod_security_checks" is the only operation this long.
    (if (i32.eq (local.get $op_len) (i32.const 19))
      (then
        (call $guest_response (i32.const {CHECKS_AT}) (i32.const {checks_len}))
        (return (i32.const 1))))
    {validate_body}))"#,
        settings = wat_string(settings_answer.as_bytes()),
        settings_len = settings_answer.len(),
        validate_text = wat_string(validate_text.as_bytes()),
        checks = wat_string(CANNED_CHECKS.as_bytes()),
        checks_len = CANNED_CHECKS.len(),
    )
}

/// The smallest AdmissionRequest kwctl and policy-server accept (they refuse one without `uid`,
/// `kind`, `resource`, `operation` or `userInfo`), as JSON, for canned policies that ignore it.
pub fn admission_request_json(uid: &str) -> String {
    serde_json::json!({
        "uid": uid,
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "operation": "CREATE",
        "userInfo": {"username": "alice"},
        "object": {},
    })
    .to_string()
}

pub const VALID_SETTINGS: &str = r#"{"valid":true,"message":null}"#;

/// Writes a canned policy module into `dir` and returns its path.
pub fn write_policy(dir: &Path, name: &str, wat: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, wasm(wat)).expect("the temporary directory is writable");
    path
}

/// A file `make` builds before the tests. Without it the whole test run stops at once with one
/// line, rather than every test that needs it failing on its own (as after a bare `cargo test`).
fn built_by_make(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name);
    if !path.is_file() {
        eprintln!("{name} is missing: run `make test`, which builds the module before the tests");
        std::process::exit(2);
    }
    path
}

/// The real policy module at the workspace root.
pub fn real_policy_path() -> PathBuf {
    built_by_make("policy.wasm")
}

/// The real policy module, loaded through the compiled-module cache the harness's commands use:
/// the tests' debug Cranelift then compiles it once for the whole run, not once per test.
pub fn real_policy_module(timeout: Duration) -> WapcModule {
    let wasm = std::fs::read(real_policy_path()).expect("policy.wasm is readable");
    let cache = ModuleCache::user_default();
    WapcModule::load(&WapcRuntime::new().unwrap(), &wasm, timeout, cache.as_ref())
        .expect("the real policy loads")
        .0
}

/// The Pod Security Admission fixture corpus shared beside the workspace.
pub fn psa_corpus() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/psa-testdata");
    assert!(
        path.is_dir(),
        "the conformance corpus {} is missing",
        path.display()
    );
    path
}

/// `make policy`'s annotated module at the workspace root.
pub fn real_annotated_policy_path() -> PathBuf {
    built_by_make("annotated-policy.wasm")
}

/// A file of the workspace, such as `metadata.yml`.
pub fn workspace_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

/// Runs the `host-test` binary with `args` and waits for it.
pub fn host_test(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_host-test"))
        .args(args)
        .output()
        .expect("host-test runs")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

pub fn stdout_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// A canned policy that denies every request with `message` and code 403; its path.
pub fn denying_policy(dir: &Path, message: &str) -> String {
    let answer =
        serde_json::json!({"accepted": false, "message": message, "code": 403}).to_string();
    let policy = write_policy(
        dir,
        "deny.wasm",
        &canned_policy(VALID_SETTINGS, ValidateBehaviour::Answer(&answer)),
    );
    path_str(&policy).to_string()
}

/// `host-test check --policy policy.wasm` with `args`.
pub fn check(args: &[&str]) -> Output {
    let policy = real_policy_path();
    let mut all = vec!["check", "--policy", path_str(&policy)];
    all.extend_from_slice(args);
    host_test(&all)
}

/// The JSON report on standard output, or a panic that shows what was there.
pub fn json_report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "not a JSON report ({error}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            stderr(output)
        )
    })
}

/// The report validates against the SARIF 2.1.0 schema.
pub fn assert_valid_sarif(sarif: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_file("../shared/schemas/sarif-schema-2.1.0.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

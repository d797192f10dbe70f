//! `host-test run` on the command line: requests, settings, errors, and what goes to standard
//! output and standard error.

mod common;

use std::path::Path;

use common::{
    VALID_SETTINGS, ValidateBehaviour, canned_policy, denying_policy, host_test, path_str,
    psa_corpus, real_policy_path, stderr, stdout_lines, write_policy,
};
use serde_json::{Value, json};

#[test]
fn run_prints_one_response_per_request_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let policy = denying_policy(dir.path(), "no");
    let request: Value =
        serde_json::from_str(&common::admission_request_json("from-review")).unwrap();
    let review =
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request});
    std::fs::write(dir.path().join("review.json"), review.to_string()).unwrap();
    let requests = dir.path().join("requests");
    std::fs::create_dir(&requests).unwrap();
    // The same request as YAML: JSON is YAML.
    std::fs::write(
        requests.join("b.yaml"),
        common::admission_request_json("second"),
    )
    .unwrap();
    std::fs::write(
        requests.join("a.yml"),
        "uid: first\nkind: {group: '', version: v1, kind: Pod}\n\
         resource: {group: '', version: v1, resource: pods}\noperation: CREATE\nuserInfo: {}\n",
    )
    .unwrap();
    std::fs::write(requests.join("notes.txt"), "not a request").unwrap();

    let output = host_test(&[
        "run",
        "--policy",
        &policy,
        "--request",
        path_str(&dir.path().join("review.json")),
        "--request",
        path_str(&requests),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let uids: Vec<Value> = stdout_lines(&output)
        .iter()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["uid"].clone())
        .collect();
    assert_eq!(
        uids,
        [json!("from-review"), json!("first"), json!("second")]
    );
    assert_eq!(
        serde_json::from_str::<Value>(&stdout_lines(&output)[0]).unwrap(),
        json!({"uid": "from-review", "allowed": false, "status": {"message": "no", "code": 403},
               "auditAnnotations": null, "warnings": null})
    );
}

#[test]
fn run_passes_settings_from_json_or_a_yaml_file() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write_policy(
        dir.path(),
        "echo.wasm",
        &canned_policy(VALID_SETTINGS, ValidateBehaviour::EchoPayload),
    );
    std::fs::write(
        dir.path().join("request.json"),
        common::admission_request_json("u"),
    )
    .unwrap();
    std::fs::write(dir.path().join("settings.yaml"), "level: baseline\n").unwrap();
    let request = dir.path().join("request.json");
    for settings_args in [
        ["--settings-json", r#"{"level":"baseline"}"#],
        [
            "--settings-path",
            path_str(&dir.path().join("settings.yaml")),
        ],
    ] {
        let mut args = vec![
            "run",
            "--policy",
            path_str(&policy),
            "--request",
            path_str(&request),
        ];
        args.extend(settings_args);
        let output = host_test(&args);
        assert!(output.status.success(), "{}", stderr(&output));
        // The echoed payload comes back inside the 500 message.
        assert!(
            stdout_lines(&output)[0].contains(r#"\"settings\":{\"level\":\"baseline\"}"#),
            "{:?}",
            stdout_lines(&output)
        );
    }
}

#[test]
fn run_fails_on_refused_settings() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write_policy(
        dir.path(),
        "picky.wasm",
        &canned_policy(
            r#"{"valid":false,"message":"enforce must be baseline or restricted"}"#,
            ValidateBehaviour::Trap,
        ),
    );
    std::fs::write(
        dir.path().join("request.json"),
        common::admission_request_json("u"),
    )
    .unwrap();
    let output = host_test(&[
        "run",
        "--policy",
        path_str(&policy),
        "--request",
        path_str(&dir.path().join("request.json")),
        "--settings-json",
        r#"{"enforce":"high"}"#,
    ]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(
        stderr(&output)
            .contains("Provided settings are not valid: enforce must be baseline or restricted"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn run_names_a_missing_or_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    let policy = denying_policy(dir.path(), "no");
    std::fs::write(
        dir.path().join("request.json"),
        common::admission_request_json("u"),
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.json"), "{ not: [json").unwrap();
    std::fs::write(dir.path().join("broken.wasm"), "not wasm").unwrap();
    let request = path_str(&dir.path().join("request.json")).to_string();
    let cases = [
        (
            dir.path().join("missing.wasm"),
            request.clone(),
            "missing.wasm",
        ),
        (
            dir.path().join("broken.wasm"),
            request.clone(),
            "broken.wasm",
        ),
        (
            Path::new(&policy).to_path_buf(),
            path_str(&dir.path().join("missing.json")).to_string(),
            "missing.json",
        ),
        (
            Path::new(&policy).to_path_buf(),
            path_str(&dir.path().join("broken.json")).to_string(),
            "broken.json",
        ),
    ];
    for (policy, request, named) in cases {
        let output = host_test(&["run", "--policy", path_str(&policy), "--request", &request]);
        assert!(!output.status.success(), "{named}");
        assert!(output.stdout.is_empty(), "{named}");
        assert!(
            stderr(&output).contains(named),
            "{named}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn run_evaluates_a_review_with_the_real_policy() {
    let dir = tempfile::tempdir().unwrap();
    let pod =
        std::fs::read_to_string(psa_corpus().join("restricted/v1.37/pass/base.yaml")).unwrap();
    let pod: Value = host_test::yaml::from_str(&pod).unwrap();
    let request = host_test::conformance::pod_create_request(pod, "real-1");
    std::fs::write(
        dir.path().join("review.json"),
        json!({"kind": "AdmissionReview", "request": request}).to_string(),
    )
    .unwrap();
    let output = host_test(&[
        "run",
        "--policy",
        path_str(&real_policy_path()),
        "--request",
        path_str(&dir.path().join("review.json")),
        "--settings-json",
        r#"{"defaults":{"enforce":"restricted","enforce-version":"v1.37"},"namespaceLabels":false}"#,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let response: Value = serde_json::from_str(&stdout_lines(&output)[0]).unwrap();
    assert_eq!(response["uid"], "real-1");
    assert_eq!(response["allowed"], true, "{response}");
}

#[test]
fn guest_output_goes_to_stderr_and_stdout_keeps_only_responses() {
    // wapc_init prints through WASI fd_write on stdout; every call then accepts.
    let printed = "printed by the guest\n";
    let accepted = r#"{"accepted":true}"#;
    let wat = format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  {prelude}
  (data (i32.const 16) {printed})
  (data (i32.const 256) {valid})
  (data (i32.const 512) {accepted})
  (func (export "wapc_init")
    ;; one iovec at 0: {{16, len}}; the written count goes to 8
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const {printed_len}))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "__guest_call") (param $op_len i32) (param i32) (result i32)
    (if (i32.eq (local.get $op_len) (i32.const 17))
      (then (call $guest_response (i32.const 256) (i32.const {valid_len})))
      (else (call $guest_response (i32.const 512) (i32.const {accepted_len}))))
    (i32.const 1)))"#,
        prelude = common::WAPC_GUEST_PRELUDE,
        printed = common::wat_string(printed.as_bytes()),
        printed_len = printed.len(),
        valid = common::wat_string(VALID_SETTINGS.as_bytes()),
        valid_len = VALID_SETTINGS.len(),
        accepted = common::wat_string(accepted.as_bytes()),
        accepted_len = accepted.len(),
    );
    let dir = tempfile::tempdir().unwrap();
    let policy = write_policy(dir.path(), "chatty.wasm", &wat);
    std::fs::write(
        dir.path().join("request.json"),
        common::admission_request_json("u"),
    )
    .unwrap();
    let output = host_test(&[
        "run",
        "--policy",
        path_str(&policy),
        "--request",
        path_str(&dir.path().join("request.json")),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout_lines(&output),
        [r#"{"uid":"u","allowed":true,"auditAnnotations":null,"warnings":null}"#]
    );
    // Once for validate_settings, once for validate: each call is a fresh instance.
    assert_eq!(
        stderr(&output).matches(printed).count(),
        2,
        "{}",
        stderr(&output)
    );
}

#[test]
fn diagnostics_go_to_stderr_at_the_level_host_test_log_sets() {
    let dir = tempfile::tempdir().unwrap();
    let policy = denying_policy(dir.path(), "no");
    std::fs::write(
        dir.path().join("request.json"),
        common::admission_request_json("u"),
    )
    .unwrap();
    let run = |level: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_host-test"));
        command.args([
            "run",
            "--no-cache",
            "--policy",
            &policy,
            "--request",
            path_str(&dir.path().join("request.json")),
        ]);
        if let Some(level) = level {
            command.env("HOST_TEST_LOG", level);
        }
        command.output().unwrap()
    };

    let default = run(None);
    assert!(default.status.success(), "{}", stderr(&default));
    assert!(
        stderr(&default)
            .lines()
            .any(|line| line.starts_with("host-test: ") && line.contains(" compiled in ")),
        "{}",
        stderr(&default)
    );
    assert!(stderr(&default).contains("host-test: evaluated request u in "));

    let quiet = run(Some("warn"));
    assert!(quiet.status.success());
    assert_eq!(stderr(&quiet), "", "warn hides the information lines");
    assert_eq!(quiet.stdout, default.stdout, "the results do not change");

    let unreadable = run(Some("loud"));
    assert!(
        stderr(&unreadable)
            .starts_with("host-test: warning: HOST_TEST_LOG=\"loud\" is not a level"),
        "{}",
        stderr(&unreadable)
    );
    assert!(stderr(&unreadable).contains("host-test: evaluated request u in "));
}

//! The `host-test` command line, with canned policies and the real policy module.

mod common;

use std::path::Path;
use std::process::Output;

use common::{
    VALID_SETTINGS, ValidateBehaviour, canned_policy, host_test, path_str, psa_corpus,
    real_policy_path, stderr, write_policy,
};
use serde_json::{Value, json};

fn stdout_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn denying_policy(dir: &Path, message: &str) -> String {
    let answer = json!({"accepted": false, "message": message, "code": 403}).to_string();
    let policy = write_policy(
        dir,
        "deny.wasm",
        &canned_policy(VALID_SETTINGS, ValidateBehaviour::Answer(&answer)),
    );
    path_str(&policy).to_string()
}

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
        r#"{"defaults":{"enforce":"restricted","enforce-version":"v1.37"}}"#,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let response: Value = serde_json::from_str(&stdout_lines(&output)[0]).unwrap();
    assert_eq!(response["uid"], "real-1");
    assert_eq!(response["allowed"], true, "{response}");
}

/// A corpus with one pass and one fail fixture copied from the real one.
fn small_corpus(dir: &Path) -> std::path::PathBuf {
    let corpus = dir.join("corpus");
    for (from, to) in [
        (
            "restricted/v1.37/pass/base.yaml",
            "restricted/v1.37/pass/base.yaml",
        ),
        (
            "restricted/v1.37/fail/procmount_restricted0.yaml",
            "restricted/v1.37/fail/procmount_restricted0.yaml",
        ),
    ] {
        let to = corpus.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(psa_corpus().join(from), to).unwrap();
    }
    corpus
}

#[test]
fn conformance_reports_each_disagreement_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = small_corpus(dir.path());
    // Denies everything with the procMount message: right for the fail fixture only.
    let policy = denying_policy(dir.path(), "forbidden procMount");
    let output = host_test(&[
        "conformance",
        "--policy",
        &policy,
        "--corpus",
        path_str(&corpus),
    ]);
    assert!(!output.status.success());
    assert_eq!(
        stdout_lines(&output),
        [
            r#"FAIL restricted/v1.37/pass/base.yaml: expected allowed, got denied: "forbidden procMount""#,
            "1 passed, 1 failed",
        ]
    );
}

#[test]
fn conformance_exits_zero_when_all_agree() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus/baseline/v1.0/fail");
    std::fs::create_dir_all(&corpus).unwrap();
    std::fs::copy(
        psa_corpus().join("baseline/v1.0/fail/hostports0.yaml"),
        corpus.join("hostports0.yaml"),
    )
    .unwrap();
    let policy = denying_policy(dir.path(), "forbidden hostPort 80");
    let output = host_test(&[
        "conformance",
        "--policy",
        &policy,
        "--corpus",
        path_str(&dir.path().join("corpus")),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout_lines(&output), ["1 passed, 0 failed"]);
}

#[test]
fn conformance_allows_the_minimal_pods_with_the_real_policy() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    for level in ["baseline", "restricted"] {
        let to = corpus.join(level).join("v1.37/pass");
        std::fs::create_dir_all(&to).unwrap();
        std::fs::copy(
            psa_corpus().join(level).join("v1.37/pass/base.yaml"),
            to.join("base.yaml"),
        )
        .unwrap();
    }
    let output = host_test(&[
        "conformance",
        "--policy",
        path_str(&real_policy_path()),
        "--corpus",
        path_str(&corpus),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout_lines(&output), ["2 passed, 0 failed"]);
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

#[test]
fn run_warns_when_policy_server_would_refuse_the_body_and_still_evaluates_as_kwctl_does() {
    let dir = tempfile::tempdir().unwrap();
    let policy = denying_policy(dir.path(), "no");
    let mut request: Value = serde_json::from_str(&common::admission_request_json("big")).unwrap();
    request["object"] = json!({"metadata": {"annotations": {"a": "x".repeat(3 << 20)}}});
    std::fs::write(dir.path().join("big.json"), request.to_string()).unwrap();
    std::fs::write(
        dir.path().join("small.json"),
        common::admission_request_json("small"),
    )
    .unwrap();
    let output = host_test(&[
        "run",
        "--policy",
        &policy,
        "--request",
        path_str(&dir.path().join("big.json")),
        "--request",
        path_str(&dir.path().join("small.json")),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout_lines(&output).len(), 2, "both are evaluated");
    let warnings: Vec<String> = stderr(&output)
        .lines()
        .filter(|line| line.starts_with("host-test: warning: "))
        .map(str::to_string)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("big.json: policy-server would refuse this request with HTTP 413")
            && warnings[0].contains("over the 2097152-byte (2 MiB) body limit"),
        "{warnings:?}"
    );
}

#[test]
fn run_refuses_a_request_without_user_info_as_kwctl_does() {
    let dir = tempfile::tempdir().unwrap();
    let policy = denying_policy(dir.path(), "no");
    let mut request: Value = serde_json::from_str(&common::admission_request_json("u")).unwrap();
    request.as_object_mut().unwrap().remove("userInfo");
    std::fs::write(dir.path().join("no-user.json"), request.to_string()).unwrap();
    let output = host_test(&[
        "run",
        "--policy",
        &policy,
        "--request",
        path_str(&dir.path().join("no-user.json")),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert!(
        stderr(&output).contains(
            "no-user.json: kwctl and policy-server refuse it (policy-server with HTTP 422): \
             cannot build AdmissionRequest object from given input: missing field `userInfo`"
        ),
        "{}",
        stderr(&output)
    );
}

/// `host-test` run from the workspace root with `line` split on spaces, standard input `stdin`.
fn host_test_in_workspace(line: &str, stdin: &[u8]) -> Output {
    use std::io::Write as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_host-test"))
        .current_dir(common::workspace_file(""))
        .args(line.split(' '))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn kwctl_run_command_lines_work_unchanged() {
    real_policy_path();
    let harness = host_test_in_workspace(
        "run --policy policy.wasm --request test_data/requests/check-privileged.json \
         --settings-json {\"defaults\":{\"enforce\":\"baseline\"}}",
        b"",
    );
    assert!(harness.status.success(), "{}", stderr(&harness));
    let expected = stdout_lines(&harness);
    assert!(expected[0].contains(r#""allowed":false"#), "{expected:?}");
    let settings = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(settings.path(), "defaults:\n  enforce: baseline\n").unwrap();
    let settings = path_str(settings.path()).to_string();
    // As kwctl's documentation and policy repositories' e2e.bats write them.
    for line in [
        "run policy.wasm -r test_data/requests/check-privileged.json --settings-json {\"defaults\":{\"enforce\":\"baseline\"}}".to_string(),
        "run --request-path test_data/requests/check-privileged.json --settings-json {\"defaults\":{\"enforce\":\"baseline\"}} file://policy.wasm".to_string(),
        format!("run -e kubewarden --disable-wasmtime-cache -r test_data/requests/check-privileged.json --settings-path {settings} policy.wasm"),
        format!("run policy.wasm -r test_data/requests/check-privileged.json -s {settings}"),
    ] {
        let output = host_test_in_workspace(&line, b"");
        assert!(output.status.success(), "{line}: {}", stderr(&output));
        assert_eq!(stdout_lines(&output), expected, "{line}");
    }
    let review = std::fs::read(common::workspace_file(
        "test_data/requests/check-privileged.json",
    ))
    .unwrap();
    let from_stdin = host_test_in_workspace(
        "run policy.wasm -r - --settings-json {\"defaults\":{\"enforce\":\"baseline\"}}",
        &review,
    );
    assert!(from_stdin.status.success(), "{}", stderr(&from_stdin));
    assert_eq!(stdout_lines(&from_stdin), expected);
}

#[test]
fn kwctl_sources_the_harness_cannot_run_are_refused_clearly() {
    for (line, said) in [
        (
            "run https://example.com/policy.wasm -r test_data/requests/check-privileged.json",
            "download it first",
        ),
        (
            "run -e opa policy.wasm -r test_data/requests/check-privileged.json",
            "--execution-mode opa: host-test runs kubewarden (waPC) modules only",
        ),
    ] {
        let output = host_test_in_workspace(line, b"");
        assert_eq!(output.status.code(), Some(1), "{line}");
        assert!(
            stderr(&output).contains(said),
            "{line}: {}",
            stderr(&output)
        );
    }
}

//! `host-test run` as kwctl and policy-server: a kwctl command line works unchanged, and a request
//! the engines refuse is refused (or, for policy-server's body limit, said to be).

mod common;

use std::process::Output;

use common::{denying_policy, host_test, path_str, real_policy_path, stderr, stdout_lines};
use serde_json::{Value, json};

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

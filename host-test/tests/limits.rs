//! `host-test run --max-memory`: the per-instance memory limit, from the command line.

mod common;

use std::process::Command;

use common::{real_annotated_policy_path, workspace_file};

fn run_with_limit(mib: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_host-test"))
        .args([
            "run",
            "--max-memory",
            mib,
            "--allow-context-aware",
            "--cluster-state",
        ])
        .arg(workspace_file("test_data/cluster-state.yaml"))
        .arg("--policy")
        .arg(real_annotated_policy_path())
        .arg("--request")
        .arg(workspace_file("test_data/requests/check-privileged.json"))
        .output()
        .unwrap()
}

#[test]
fn a_limit_below_what_the_module_needs_is_a_clear_error() {
    let output = run_with_limit("1");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("guest exceeded the memory limit of 1 MiB"),
        "{stderr}"
    );
}

#[test]
fn a_sufficient_limit_changes_nothing() {
    let output = run_with_limit("32");
    assert!(output.status.success());
    let response: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(response["allowed"], false);
    assert_eq!(response["status"]["code"], 403);
}

#[test]
fn the_limit_must_be_a_positive_number_of_mib() {
    for bad in ["0", "-1", "lots", "5000"] {
        assert!(!run_with_limit(bad).status.success(), "{bad}");
    }
}

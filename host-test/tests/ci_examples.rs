//! The CI examples of `examples/ci/` run their own check commands, on the output `helm template` and
//! `kustomize build` give for the fixtures (stand-ins print it: neither tool is needed), with the
//! module built here in place of the registry reference.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{path_str, real_policy_path, stderr, workspace_file};
use serde_json::Value;

/// A folder with `host-test`, and `helm` and `kustomize` stand-ins that print fixture output.
fn tools() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_host-test"),
        dir.path().join("host-test"),
    )
    .unwrap();
    for (tool, fixture) in [
        ("helm", "test_data/manifests/helm/wordpress.yaml"),
        (
            "kustomize",
            "test_data/manifests/kustomize/overlay-prod.yaml",
        ),
    ] {
        let script = dir.path().join(tool);
        let fixture = workspace_file(fixture);
        std::fs::write(
            &script,
            format!("#!/bin/sh\ncat '{}'\n", path_str(&fixture)),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

fn example(name: &str) -> PathBuf {
    workspace_file("examples/ci").join(name)
}

/// Runs `script` with bash in a fresh working folder, the tools first on the PATH.
fn run(script: &str, work: &Path, tools: &Path) -> Output {
    let path = format!(
        "{}:{}",
        path_str(tools),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(work)
        .env("PATH", path)
        .env("POLICY", real_policy_path())
        .output()
        .expect("bash runs")
}

/// The example's one line that runs the check, without its YAML prefix (`- `, `run: `, `entry: `).
fn check_line(example: &Path) -> String {
    let text = std::fs::read_to_string(example).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| line.contains("host-test check") && !line.starts_with('#'))
        .collect();
    assert_eq!(lines.len(), 1, "{}: {lines:?}", example.display());
    let line = lines[0];
    ["- ", "run: ", "entry: "]
        .iter()
        .fold(line, |line, prefix| {
            line.strip_prefix(prefix).unwrap_or(line)
        })
        .to_string()
}

#[test]
fn the_github_workflow_writes_sarif_for_code_scanning() {
    let (tools, work) = (tools(), tempfile::tempdir().unwrap());
    let output = run(
        &check_line(&example("github-actions.yml")),
        work.path(),
        tools.path(),
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "wordpress is denied: {}",
        stderr(&output)
    );
    let sarif: Value = serde_json::from_str(
        &std::fs::read_to_string(work.path().join("pod-security.sarif")).unwrap(),
    )
    .unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(results.iter().all(|result| {
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "chart/rendered.yaml"
    }));
}

#[test]
fn the_gitlab_job_writes_a_junit_report() {
    let (tools, work) = (tools(), tempfile::tempdir().unwrap());
    let output = run(
        &check_line(&example("gitlab-ci.yml")),
        work.path(),
        tools.path(),
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let xml = std::fs::read_to_string(work.path().join("pod-security.xml")).unwrap();
    let document = roxmltree::Document::parse(&xml).unwrap();
    let failures = document
        .descendants()
        .filter(|node| node.has_tag_name("failure"))
        .count();
    assert_eq!(failures, 1, "the Deployment with a hostPath: {xml}");
}

#[test]
fn the_pre_commit_hook_checks_the_files_it_is_given() {
    let (tools, work) = (tools(), tempfile::tempdir().unwrap());
    std::fs::copy(
        real_policy_path(),
        work.path().join(".restricted-pod-policy.wasm"),
    )
    .unwrap();
    let files = [
        workspace_file("test_data/manifests/helm/redis.yaml"),
        workspace_file("test_data/manifests/list.yaml"),
    ];
    let command = format!(
        "{} '{}' '{}'",
        check_line(&example("pre-commit-config.yaml")),
        path_str(&files[0]),
        path_str(&files[1])
    );
    let output = run(&command, work.path(), tools.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("StatefulSet cache/redis-master  allowed"),
        "{text}"
    );
    assert!(text.contains("Pod default/debug-shell  denied"), "{text}");
}

#[test]
fn the_helm_and_kustomize_pipelines_gate_on_the_verdict() {
    let (tools, work) = (tools(), tempfile::tempdir().unwrap());
    let helm = run(
        &std::fs::read_to_string(example("helm-pipeline.sh")).unwrap(),
        work.path(),
        tools.path(),
    );
    assert_eq!(helm.status.code(), Some(1), "{}", stderr(&helm));
    assert!(
        String::from_utf8_lossy(&helm.stdout)
            .contains("chart/rendered.yaml:26  Deployment blog/wordpress  denied")
    );

    std::fs::write(
        work.path().join("pod-security.yaml"),
        "defaults:\n  enforce: privileged\n  warn: restricted\n",
    )
    .unwrap();
    let kustomize = run(
        &std::fs::read_to_string(example("kustomize-pipeline.sh")).unwrap(),
        work.path(),
        tools.path(),
    );
    let text = String::from_utf8_lossy(&kustomize.stdout);
    assert!(
        text.contains("Deployment shop-prod/prod-shop  warned"),
        "{text}"
    );
    assert_eq!(kustomize.status.code(), Some(1), "--fail-on warn: {text}");
}

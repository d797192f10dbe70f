//! `host-test annotate` and how `host-test run` treats the metadata section it writes.

mod common;

use std::path::Path;
use std::process::Output;

use common::{
    VALID_SETTINGS, ValidateBehaviour, canned_policy, host_test, path_str, real_policy_path,
    stderr, workspace_file, write_policy,
};
use host_test::ship::metadata::{Metadata, read_embedded_metadata};
use serde_json::json;

const METADATA: &str = "\
rules:
  - apiGroups: ['']
    apiVersions: [v1]
    resources: [pods]
    operations: [CREATE]
mutating: false
annotations:
  io.kubewarden.policy.title: canned
";

/// A policy whose every operation but validate_settings answers `protocol_version_answer`.
fn policy_answering(dir: &Path, name: &str, protocol_version_answer: &str) -> String {
    let policy = write_policy(
        dir,
        name,
        &canned_policy(
            VALID_SETTINGS,
            ValidateBehaviour::Answer(protocol_version_answer),
        ),
    );
    path_str(&policy).to_string()
}

fn annotate(dir: &Path, policy: &str, metadata: &str) -> Output {
    std::fs::write(dir.join("metadata.yml"), metadata).unwrap();
    std::fs::write(dir.join("usage.md"), "# Usage\n\nApply it.\n").unwrap();
    host_test(&[
        "annotate",
        "--metadata",
        path_str(&dir.join("metadata.yml")),
        "--usage",
        path_str(&dir.join("usage.md")),
        policy,
        "-o",
        path_str(&dir.join("annotated.wasm")),
    ])
}

#[test]
fn annotate_embeds_the_protocol_version_the_usage_and_the_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_answering(dir.path(), "v1.wasm", r#""v1""#);
    let output = annotate(dir.path(), &policy, METADATA);
    assert!(output.status.success(), "{}", stderr(&output));

    let annotated = std::fs::read(dir.path().join("annotated.wasm")).unwrap();
    let metadata = read_embedded_metadata(&annotated).unwrap().unwrap();
    assert_eq!(
        serde_json::to_value(&metadata).unwrap(),
        json!({"protocolVersion": "v1",
               "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"],
                          "operations": ["CREATE"]}],
               "annotations": {"io.kubewarden.policy.title": "canned",
                               "io.kubewarden.policy.usage": "# Usage\n\nApply it.\n"},
               "mutating": false, "backgroundAudit": true, "contextAwareResources": [],
               "executionMode": "kubewarden-wapc", "policyType": "kubernetes"})
    );

    // Annotating the annotated module replaces the section: the result is the same module.
    let again = annotate(
        dir.path(),
        path_str(&dir.path().join("annotated.wasm")),
        METADATA,
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        std::fs::read(dir.path().join("annotated.wasm")).unwrap(),
        annotated
    );
}

#[test]
fn annotate_refuses_bad_metadata_or_protocol_version() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (r#""v1""#, METADATA.replace("[CREATE]", "[PATCH]"), "PATCH"),
        (
            r#""v1""#,
            METADATA.replace("mutating: false\n", ""),
            "mutating",
        ),
        (
            r#""v1""#,
            format!("{METADATA}executionMode: native\n"),
            "native",
        ),
        (
            r#""v1""#,
            format!("{METADATA}contextAware: true\n"),
            "contextAware",
        ),
        (r#""v2""#, METADATA.to_string(), "protocolVersion"),
        ("v1", METADATA.to_string(), "not a JSON string"),
    ];
    for (protocol_version, metadata, named) in cases {
        let policy = policy_answering(dir.path(), "policy.wasm", protocol_version);
        let output = annotate(dir.path(), &policy, &metadata);
        assert!(!output.status.success(), "{named}");
        assert!(
            stderr(&output).contains(named),
            "{named}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn annotate_takes_the_wildcard_resources_kwctl_takes_and_refuses_what_it_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_answering(dir.path(), "v1.wasm", r#""v1""#);
    let wildcards = METADATA.replace("[pods]", "['*', 'apps/*', '*/scale']");
    let output = annotate(dir.path(), &policy, &wildcards);
    assert!(output.status.success(), "{}", stderr(&output));
    let annotated = std::fs::read(dir.path().join("annotated.wasm")).unwrap();
    let metadata = read_embedded_metadata(&annotated).unwrap().unwrap();
    assert_eq!(metadata.rules[0].resources, ["*", "apps/*", "*/scale"]);

    let overlapping = METADATA.replace("[pods]", "['*', pods]");
    let output = annotate(dir.path(), &policy, &overlapping);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains(
            "rules[0]: resources: if '*' is present, must not specify other resources without subresources"
        ),
        "{}",
        stderr(&output)
    );
}

fn run_with_show_metadata(policy: &str, dir: &Path) -> Output {
    std::fs::write(
        dir.join("request.json"),
        common::admission_request_json("u"),
    )
    .unwrap();
    host_test(&[
        "run",
        "--show-metadata",
        "--policy",
        policy,
        "--request",
        path_str(&dir.join("request.json")),
    ])
}

#[test]
fn run_shows_the_embedded_metadata_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_answering(dir.path(), "accepting.wasm", r#"{"accepted":true}"#);
    // This policy answers protocol_version with a ValidationResponse: take the metadata a v1
    // policy gets and put it in the accepting one.
    let v1 = policy_answering(dir.path(), "v1.wasm", r#""v1""#);
    assert!(annotate(dir.path(), &v1, METADATA).status.success());
    let metadata =
        read_embedded_metadata(&std::fs::read(dir.path().join("annotated.wasm")).unwrap())
            .unwrap()
            .unwrap();
    let wasm = std::fs::read(&policy).unwrap();
    let accepting = dir.path().join("accepting-annotated.wasm");
    std::fs::write(
        &accepting,
        host_test::ship::metadata::with_metadata_section(&wasm, &metadata).unwrap(),
    )
    .unwrap();

    let output = run_with_show_metadata(path_str(&accepting), dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let shown = stderr(&output)
        .lines()
        .find_map(|line| line.strip_prefix("host-test: metadata "))
        .map(|json| serde_json::from_str::<Metadata>(json).unwrap());
    assert_eq!(shown, Some(metadata));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        r#"{"uid":"u","allowed":true,"auditAnnotations":null,"warnings":null}"#
    );

    let unannotated = run_with_show_metadata(&policy, dir.path());
    assert!(unannotated.status.success(), "{}", stderr(&unannotated));
    assert!(
        stderr(&unannotated).contains("no metadata: the module is not annotated"),
        "{}",
        stderr(&unannotated)
    );
}

#[test]
fn run_refuses_a_module_with_malformed_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_answering(dir.path(), "accepting.wasm", r#"{"accepted":true}"#);
    let mut wasm = std::fs::read(&policy).unwrap();
    // A custom section (id 0) named io.kubewarden.metadata whose content is not JSON.
    let name = b"io.kubewarden.metadata";
    let content = b"{not json";
    wasm.push(0);
    wasm.push(u8::try_from(1 + name.len() + content.len()).unwrap());
    wasm.push(u8::try_from(name.len()).unwrap());
    wasm.extend_from_slice(name);
    wasm.extend_from_slice(content);
    let malformed = dir.path().join("malformed.wasm");
    std::fs::write(&malformed, wasm).unwrap();

    let output = run_with_show_metadata(path_str(&malformed), dir.path());
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(
        stderr(&output).contains("malformed.wasm")
            && stderr(&output).contains("the io.kubewarden.metadata section is malformed"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_real_policy_annotates_with_the_workspace_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let output = host_test(&[
        "annotate",
        "--metadata",
        path_str(&workspace_file("metadata.yml")),
        "--usage",
        path_str(&workspace_file("README.md")),
        path_str(&real_policy_path()),
        "-o",
        path_str(&dir.path().join("annotated.wasm")),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let metadata =
        read_embedded_metadata(&std::fs::read(dir.path().join("annotated.wasm")).unwrap())
            .unwrap()
            .unwrap();
    assert_eq!(metadata.protocol_version.as_deref(), Some("v1"));
    assert_eq!(
        metadata.annotation("io.kubewarden.policy.usage"),
        Some(
            std::fs::read_to_string(workspace_file("README.md"))
                .unwrap()
                .as_str()
        )
    );
    assert_eq!(
        metadata.rules,
        Metadata::from_yaml_file(&workspace_file("metadata.yml"))
            .unwrap()
            .rules
    );
}

#[test]
fn annotate_compiles_through_the_cache_run_uses_and_no_cache_bypasses_it() {
    let dir = tempfile::tempdir().unwrap();
    let cache_home = dir.path().join("cache-home");
    let cache_dir = cache_home.join("restricted-pod-policy/host-test");
    std::fs::write(dir.path().join("metadata.yml"), METADATA).unwrap();
    let annotate_with = |policy: &str, extra: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_host-test"))
            .env("XDG_CACHE_HOME", &cache_home)
            .args(["annotate", "--metadata"])
            .arg(dir.path().join("metadata.yml"))
            .args([policy, "-o"])
            .arg(dir.path().join("annotated.wasm"))
            .args(extra)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
    };
    let entries = || std::fs::read_dir(&cache_dir).map_or(0, |listing| listing.count());

    annotate_with(
        &policy_answering(dir.path(), "bypassed.wasm", r#""v1""#),
        &["--no-cache"],
    );
    assert_eq!(entries(), 0, "--no-cache stores nothing");

    // `run` finds the module annotate compiled, whether given the input or the annotated module.
    let policy = policy_answering(dir.path(), "cached.wasm", r#""v1""#);
    annotate_with(&policy, &[]);
    assert_eq!(entries(), 2, "the input's entry and the annotated module's");
    std::fs::write(
        dir.path().join("request.json"),
        common::admission_request_json("one"),
    )
    .unwrap();
    for module in [policy.into(), dir.path().join("annotated.wasm")] {
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_host-test"))
            .env("XDG_CACHE_HOME", &cache_home)
            .arg("run")
            .arg("--policy")
            .arg(&module)
            .arg("--request")
            .arg(dir.path().join("request.json"))
            .output()
            .unwrap();
        assert!(
            stderr(&run).contains("loaded from the compiled-module cache"),
            "{}: {}",
            module.display(),
            stderr(&run)
        );
    }
    assert_eq!(entries(), 2);
}

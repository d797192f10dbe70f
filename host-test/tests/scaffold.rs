//! `host-test scaffold artifacthub`: what `make artifacthub` and `make artifacthub-check` run.

mod common;

use std::path::Path;
use std::process::Output;

use common::{host_test, path_str, stderr, workspace_file};

fn scaffold(metadata: &Path, output: &Path, extra: &[&str]) -> Output {
    let questions = workspace_file("questions-ui.yml");
    let mut args = vec![
        "scaffold",
        "artifacthub",
        "--metadata",
        path_str(metadata),
        "--questions",
        path_str(&questions),
        "-o",
        path_str(output),
    ];
    args.extend(extra);
    host_test(&args)
}

#[test]
fn the_package_is_reproducible_and_check_finds_a_stale_one() {
    let dir = tempfile::tempdir().unwrap();
    let metadata = dir.path().join("metadata.yml");
    std::fs::copy(workspace_file("metadata.yml"), &metadata).unwrap();
    let package = dir.path().join("artifacthub-pkg.yml");

    let without_time = scaffold(&metadata, &package, &[]);
    assert!(!without_time.status.success());
    assert!(
        stderr(&without_time).contains("--created-at"),
        "{}",
        stderr(&without_time)
    );

    let created = scaffold(
        &metadata,
        &package,
        &["--created-at", "2026-12-01T00:00:00Z"],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let first = std::fs::read_to_string(&package).unwrap();
    let written: serde_json::Value = host_test::yaml::from_str(&first).unwrap();
    assert_eq!(written["createdAt"], "2026-12-01T00:00:00Z", "{first}");

    // Regenerating keeps the release time, so the same inputs give the same file.
    let again = scaffold(&metadata, &package, &[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(std::fs::read_to_string(&package).unwrap(), first);
    let fresh = scaffold(&metadata, &package, &["--check"]);
    assert!(fresh.status.success(), "{}", stderr(&fresh));

    let text = std::fs::read_to_string(&metadata).unwrap();
    std::fs::write(&metadata, text.replace("mutating: true", "mutating: false")).unwrap();
    let stale = scaffold(&metadata, &package, &["--check"]);
    assert!(!stale.status.success());
    assert!(stderr(&stale).contains("out of date"), "{}", stderr(&stale));
    assert_eq!(
        std::fs::read_to_string(&package).unwrap(),
        first,
        "--check writes nothing"
    );
}

#[test]
fn the_committed_package_is_what_the_metadata_makes() {
    let output = scaffold(
        &workspace_file("metadata.yml"),
        &workspace_file("artifacthub-pkg.yml"),
        &["--check"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
}

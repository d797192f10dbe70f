//! `host-test conformance` on the command line, with canned policies and the real policy module.

mod common;

use std::path::Path;

use common::{
    denying_policy, host_test, path_str, psa_corpus, real_policy_path, stderr, stdout_lines,
};

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

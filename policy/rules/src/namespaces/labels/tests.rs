use super::*;

fn defaults() -> Policy {
    Policy {
        enforce: lv(Level::Baseline, Version::V1(30)),
        audit: lv(Level::Privileged, Version::Latest),
        warn: lv(Level::Privileged, Version::Latest),
    }
}

fn lv(level: Level, version: Version) -> LevelVersion {
    LevelVersion { level, version }
}

fn labelled(labels: &[(&str, &str)]) -> (Policy, Vec<LabelError>) {
    let labels: PodSecurityLabels = labels.iter().copied().collect();
    policy_to_evaluate(&labels, &defaults())
}

#[test]
fn a_namespace_without_labels_gets_the_defaults() {
    assert_eq!(labelled(&[]), (defaults(), vec![]));
    assert_eq!(labelled(&[("team", "a")]), (defaults(), vec![]));
}

#[test]
fn only_pod_security_labels_are_kept_when_read() {
    let labels: PodSecurityLabels = serde_json::from_str(
        r#"{"team": "a", "pod-security.kubernetes.io/enforce": "baseline", "app.kubernetes.io/name": "x"}"#,
    )
    .unwrap();
    assert_eq!(labels.get(ENFORCE_LEVEL), Some("baseline"));
    assert_eq!(labels, [(ENFORCE_LEVEL, "baseline")].into_iter().collect());
    let none: PodSecurityLabels = serde_json::from_str("null").unwrap();
    assert_eq!(none, PodSecurityLabels::default());
    assert!(
        serde_json::from_str::<PodSecurityLabels>(r#"{"pod-security.kubernetes.io/enforce": 1}"#)
            .is_err()
    );
}

#[test]
fn each_label_overrides_its_own_field() {
    let (policy, errors) = labelled(&[
        (ENFORCE_LEVEL, "restricted"),
        (ENFORCE_VERSION, "v1.25"),
        (AUDIT_LEVEL, "baseline"),
        (AUDIT_VERSION, "v1.20"),
        (WARN_LEVEL, "restricted"),
        (WARN_VERSION, "latest"),
    ]);
    assert!(errors.is_empty());
    assert_eq!(policy.enforce, lv(Level::Restricted, Version::V1(25)));
    assert_eq!(policy.audit, lv(Level::Baseline, Version::V1(20)));
    assert_eq!(policy.warn, lv(Level::Restricted, Version::Latest));

    // A version alone keeps the default level.
    let (policy, _) = labelled(&[(ENFORCE_VERSION, "v1.22")]);
    assert_eq!(policy.enforce, lv(Level::Baseline, Version::V1(22)));
}

#[test]
fn invalid_values_fail_closed_for_enforce_and_open_for_audit_and_warn() {
    let (policy, errors) = labelled(&[
        (ENFORCE_LEVEL, "strict"),
        (AUDIT_LEVEL, "loud"),
        (WARN_LEVEL, "Baseline"),
        (WARN_VERSION, "1.25"),
    ]);
    assert_eq!(policy.enforce, lv(Level::Restricted, Version::V1(30)));
    assert_eq!(policy.audit.level, Level::Privileged);
    assert_eq!(policy.warn, lv(Level::Privileged, Version::Latest));
    let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        [
            "metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"strict\": must be one of privileged, baseline, restricted",
            "metadata.labels[pod-security.kubernetes.io/audit]: Invalid value: \"loud\": must be one of privileged, baseline, restricted",
            "metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: \"Baseline\": must be one of privileged, baseline, restricted",
            "metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: \"1.25\": must be \"latest\" or \"v1.x\"",
        ]
    );
    let (policy, errors) = labelled(&[(ENFORCE_VERSION, "v1.025")]);
    assert_eq!(policy.enforce, lv(Level::Baseline, Version::Latest));
    assert_eq!(
        aggregate(&errors),
        "metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: \"v1.025\": must be \"latest\" or \"v1.x\""
    );
}

#[test]
fn several_errors_aggregate_as_kubernetes_writes_them() {
    let (_, errors) = labelled(&[(ENFORCE_LEVEL, "x"), (AUDIT_VERSION, "y")]);
    assert_eq!(
        aggregate(&errors),
        "[metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"x\": must be one of privileged, baseline, restricted, \
         metadata.labels[pod-security.kubernetes.io/audit-version]: Invalid value: \"y\": must be \"latest\" or \"v1.x\"]"
    );
}

#[test]
fn warn_follows_a_stricter_valid_enforce_label() {
    let (policy, _) = labelled(&[(ENFORCE_LEVEL, "restricted"), (ENFORCE_VERSION, "v1.24")]);
    assert_eq!(policy.warn, lv(Level::Restricted, Version::V1(24)));
    // With its own version label, warn keeps it.
    let (policy, _) = labelled(&[(ENFORCE_LEVEL, "restricted"), (WARN_VERSION, "v1.20")]);
    assert_eq!(policy.warn, lv(Level::Restricted, Version::V1(20)));
    // Not when warn has a level label, even a laxer one.
    let (policy, _) = labelled(&[(ENFORCE_LEVEL, "restricted"), (WARN_LEVEL, "privileged")]);
    assert_eq!(policy.warn.level, Level::Privileged);
    // Not from an invalid enforce label (which still enforces restricted).
    let (policy, _) = labelled(&[(ENFORCE_LEVEL, "nope")]);
    assert_eq!(policy.warn.level, Level::Privileged);
    // Not from the default enforce level alone, nor from a laxer enforce label.
    let (policy, _) = labelled(&[(ENFORCE_VERSION, "v1.24")]);
    assert_eq!(policy.warn.level, Level::Privileged);
    let (policy, _) = labelled(&[(ENFORCE_LEVEL, "privileged")]);
    assert_eq!(policy.warn.level, Level::Privileged);
}

#[test]
fn fully_privileged_and_equivalent_as_psa() {
    let (policy, _) = labelled(&[(ENFORCE_LEVEL, "privileged")]);
    assert!(policy.fully_privileged());
    assert!(!defaults().fully_privileged());
    // Versions do not matter at privileged.
    let (policy, _) = labelled(&[(AUDIT_VERSION, "v1.2")]);
    assert!(policy.equivalent(&defaults()));
    let (policy, _) = labelled(&[(ENFORCE_VERSION, "v1.2")]);
    assert!(!policy.equivalent(&defaults()));
}

//! runAsNonRoot (restricted): containers must be required to run as a non-root user.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.0+ | `spec.securityContext.runAsNonRoot`, `spec.{initContainers,containers,ephemeralContainers}[*].securityContext.runAsNonRoot` | `true`; a container may leave it unset when the pod sets `true` |
//! | v1.35+ | the same, except in pods with `spec.hostUsers: false` (a user namespace) | |

use super::format::{containers, setters};
use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{ObjectMeta, PodSpec};

pub static CHECK: Check = Check {
    id: "runAsNonRoot",
    level: Level::Restricted,
    annotations: &[],
    fields: &[
        "spec.securityContext.runAsNonRoot",
        "spec.{initContainers,containers,ephemeralContainers}[*].securityContext.runAsNonRoot",
    ],
    versions: &[
        VersionedCheck {
            minimum_minor: 0,
            check: v1_0,
            overrides: &[],
        },
        VersionedCheck {
            minimum_minor: 35,
            check: v1_35,
            overrides: &[],
        },
    ],
};

const REASON: &str = "runAsNonRoot != true";

fn v1_0(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    let pod_setting = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.run_as_non_root);
    let mut explicitly_bad = Vec::new();
    // Containers that leave it unset and are not covered by a pod-level `true`.
    let mut implicitly_bad = Vec::new();
    for container in spec.all_containers() {
        match container
            .security_context
            .as_ref()
            .and_then(|sc| sc.run_as_non_root)
        {
            Some(false) => explicitly_bad.push(container.name.as_str()),
            Some(true) => {}
            None if pod_setting != Some(true) => implicitly_bad.push(container.name.as_str()),
            None => {}
        }
    }
    let setters = setters(pod_setting == Some(false), &explicitly_bad);
    if !setters.is_empty() {
        return Err(Forbidden::new(
            REASON,
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                setters.join(" and ")
            ),
        ));
    }
    if !implicitly_bad.is_empty() {
        return Err(Forbidden::new(
            REASON,
            format!(
                "pod or {} must set securityContext.runAsNonRoot=true",
                containers(&implicitly_bad)
            ),
        ));
    }
    Ok(())
}

/// In a user namespace, root in the container is not root on the node.
fn v1_35(metadata: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    if spec.uses_user_namespace() {
        return Ok(());
    }
    v1_0(metadata, spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    #[test]
    fn pod_level_true_covers_unset_containers() {
        let pod = json!({"spec": {"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "a"}]}});
        assert_eq!(run(v1_0, pod), Ok(()));
    }

    #[test]
    fn explicit_false_wins_over_missing() {
        let pod = json!({"spec": {"securityContext": {"runAsNonRoot": false}, "containers": [
            {"name": "a", "securityContext": {"runAsNonRoot": false}}, {"name": "b"}]}});
        assert_eq!(
            run(v1_0, pod),
            Err(Forbidden::new(
                REASON,
                "pod and container \"a\" must not set securityContext.runAsNonRoot=false"
            ))
        );
        let pod = json!({"spec": {"securityContext": {"runAsNonRoot": true}, "containers": [
            {"name": "a", "securityContext": {"runAsNonRoot": false}}]}});
        assert_eq!(
            run(v1_0, pod),
            Err(Forbidden::new(
                REASON,
                "container \"a\" must not set securityContext.runAsNonRoot=false"
            ))
        );
    }

    #[test]
    fn unset_everywhere_names_the_containers() {
        let pod = json!({"spec": {"containers": [{"name": "a"}, {"name": "b", "securityContext": {"runAsNonRoot": true}}, {"name": "c"}]}});
        assert_eq!(
            run(v1_0, pod),
            Err(Forbidden::new(
                REASON,
                "pod or containers \"a\", \"c\" must set securityContext.runAsNonRoot=true"
            ))
        );
    }

    #[test]
    fn user_namespaces_relax_from_v1_35() {
        let pod = json!({"spec": {"hostUsers": false, "containers": [{"name": "a"}]}});
        assert!(run(v1_0, pod.clone()).is_err());
        assert_eq!(run(v1_35, pod), Ok(()));
    }
}

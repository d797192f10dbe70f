//! runAsUser (restricted): neither the pod nor a container may run as user 0.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.23+ | `spec.securityContext.runAsUser`, `spec.{initContainers,containers,ephemeralContainers}[*].securityContext.runAsUser` | any but `0`, unset |
//! | v1.35+ | the same, except in pods with `spec.hostUsers: false` (a user namespace) | |

use super::format::setters;
use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{ObjectMeta, PodSpec};

pub static CHECK: Check = Check {
    id: "runAsUser",
    level: Level::Restricted,
    annotations: &[],
    fields: &[
        "spec.securityContext.runAsUser",
        "spec.{initContainers,containers,ephemeralContainers}[*].securityContext.runAsUser",
    ],
    versions: &[
        VersionedCheck {
            minimum_minor: 23,
            check: v1_23,
            overrides: &[],
        },
        VersionedCheck {
            minimum_minor: 35,
            check: v1_35,
            overrides: &[],
        },
    ],
};

fn v1_23(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    // A container's non-zero user does not clear the pod's 0: the pod's value still reaches the others.
    let bad_pod = spec.security_context.as_ref().and_then(|sc| sc.run_as_user) == Some(0);
    let bad_containers: Vec<&str> = spec
        .all_containers()
        .filter(|c| c.security_context.as_ref().and_then(|sc| sc.run_as_user) == Some(0))
        .map(|c| c.name.as_str())
        .collect();
    let setters = setters(bad_pod, &bad_containers);
    if setters.is_empty() {
        return Ok(());
    }
    Err(Forbidden::new(
        "runAsUser=0",
        format!("{} must not set runAsUser=0", setters.join(" and ")),
    ))
}

/// In a user namespace, user 0 in the container is not root on the node.
fn v1_35(metadata: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    if spec.uses_user_namespace() {
        return Ok(());
    }
    v1_23(metadata, spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    #[test]
    fn forbids_user_zero() {
        let pod = json!({"spec": {"securityContext": {"runAsUser": 0}, "containers": [
            {"name": "a", "securityContext": {"runAsUser": 1000}}, {"name": "b", "securityContext": {"runAsUser": 0}}]}});
        assert_eq!(
            run(v1_23, pod),
            Err(Forbidden::new(
                "runAsUser=0",
                "pod and container \"b\" must not set runAsUser=0"
            ))
        );
        assert_eq!(
            run(
                v1_23,
                json!({"spec": {"securityContext": {"runAsUser": 1}}})
            ),
            Ok(())
        );
    }

    #[test]
    fn user_namespaces_relax_from_v1_35() {
        let pod = json!({"spec": {"hostUsers": false, "securityContext": {"runAsUser": 0}}});
        assert!(run(v1_23, pod.clone()).is_err());
        assert_eq!(run(v1_35, pod), Ok(()));
    }
}

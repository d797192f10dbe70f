//! allowPrivilegeEscalation (restricted): a process must not gain more privileges than its parent.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.8+ | `spec.{initContainers,containers,ephemeralContainers}[*].securityContext.allowPrivilegeEscalation` | `false` (unset is refused) |
//! | v1.25+ | the same, except in Windows pods (`spec.os.name: windows`) | |

use super::format::containers;
use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{ObjectMeta, PodSpec};

pub static CHECK: Check = Check {
    id: "allowPrivilegeEscalation",
    level: Level::Restricted,
    annotations: &[],
    fields: &[
        "spec.{initContainers,containers,ephemeralContainers}[*].securityContext.allowPrivilegeEscalation",
    ],
    versions: &[
        VersionedCheck {
            minimum_minor: 8,
            check: v1_8,
            overrides: &[],
        },
        VersionedCheck {
            minimum_minor: 25,
            check: v1_25,
            overrides: &[],
        },
    ],
};

fn v1_8(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    let bad_containers: Vec<&str> = spec
        .all_containers()
        .filter(|c| {
            c.security_context
                .as_ref()
                .and_then(|sc| sc.allow_privilege_escalation)
                != Some(false)
        })
        .map(|c| c.name.as_str())
        .collect();
    if bad_containers.is_empty() {
        return Ok(());
    }
    Err(Forbidden::new(
        "allowPrivilegeEscalation != false",
        format!(
            "{} must set securityContext.allowPrivilegeEscalation=false",
            containers(&bad_containers)
        ),
    ))
}

/// Windows has no such setting; API validation forbids it on Windows pods.
fn v1_25(metadata: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    if spec.is_windows() {
        return Ok(());
    }
    v1_8(metadata, spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    #[test]
    fn requires_explicit_false() {
        let pod = json!({"spec": {"containers": [
            {"name": "a", "securityContext": {"allowPrivilegeEscalation": false}},
            {"name": "b", "securityContext": {"allowPrivilegeEscalation": true}},
            {"name": "c"}]}});
        assert_eq!(
            run(v1_8, pod),
            Err(Forbidden::new(
                "allowPrivilegeEscalation != false",
                "containers \"b\", \"c\" must set securityContext.allowPrivilegeEscalation=false"
            ))
        );
    }

    #[test]
    fn windows_pods_are_skipped_from_v1_25() {
        let pod = json!({"spec": {"os": {"name": "windows"}, "containers": [{"name": "a"}]}});
        assert!(run(v1_8, pod.clone()).is_err());
        assert_eq!(run(v1_25, pod), Ok(()));
    }
}

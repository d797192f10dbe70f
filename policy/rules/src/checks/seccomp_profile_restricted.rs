//! seccompProfile_restricted (restricted): every container must run with the runtime's seccomp
//! profile or a local one. Replaces seccompProfile_baseline at restricted.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.19+ | `spec.securityContext.seccompProfile.type`, `spec.{initContainers,containers,ephemeralContainers}[*].securityContext.seccompProfile.type` | `RuntimeDefault`, `Localhost`; a container may leave it unset when the pod sets one |
//! | v1.25+ | the same, except in Windows pods (`spec.os.name: windows`) | |

use super::format::{containers, setters};
use super::seccomp_profile_baseline::{
    self, allowed_type, container_profile, must_not_set, pod_profile,
};
use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{ObjectMeta, PodSpec};
use std::collections::BTreeSet;

pub static CHECK: Check = Check {
    id: "seccompProfile_restricted",
    level: Level::Restricted,
    annotations: &[],
    fields: &[
        "spec.securityContext.seccompProfile.type",
        "spec.{initContainers,containers,ephemeralContainers}[*].securityContext.seccompProfile.type",
    ],
    versions: &[
        VersionedCheck {
            minimum_minor: 19,
            check: v1_19,
            overrides: &["seccompProfile_baseline"],
        },
        VersionedCheck {
            minimum_minor: 25,
            check: v1_25,
            overrides: &["seccompProfile_baseline"],
        },
    ],
};

fn v1_19(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    let mut bad_types = BTreeSet::new();
    let pod_profile = pod_profile(spec);
    let bad_pod = pod_profile.filter(|p| !allowed_type(p));
    if let Some(profile) = bad_pod {
        bad_types.insert(profile.type_.as_str());
    }
    let pod_covers = pod_profile.is_some() && bad_pod.is_none();
    let mut explicitly_bad = Vec::new();
    let mut implicitly_bad = Vec::new();
    for container in spec.all_containers() {
        match container_profile(container) {
            Some(profile) if !allowed_type(profile) => {
                explicitly_bad.push(container.name.as_str());
                bad_types.insert(profile.type_.as_str());
            }
            Some(_) => {}
            None if !pod_covers => implicitly_bad.push(container.name.as_str()),
            None => {}
        }
    }
    let setters = setters(bad_pod.is_some(), &explicitly_bad);
    if !setters.is_empty() {
        return Err(must_not_set(&setters, bad_types));
    }
    if !implicitly_bad.is_empty() {
        return Err(Forbidden::new(
            "seccompProfile",
            format!(
                "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                containers(&implicitly_bad)
            ),
        ));
    }
    Ok(())
}

/// Windows has no seccomp; API validation forbids the field on Windows pods. As for capabilities,
/// stricter than PSA: Windows pods still get the baseline check this overrides, so restricted never
/// accepts what baseline rejects.
fn v1_25(metadata: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    if spec.is_windows() {
        return seccomp_profile_baseline::v1_19(metadata, spec);
    }
    v1_19(metadata, spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    #[test]
    fn pod_profile_covers_unset_containers() {
        let pod = json!({"spec": {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "a"}]}});
        assert_eq!(run(v1_19, pod), Ok(()));
    }

    #[test]
    fn explicit_bad_types_win() {
        let pod = json!({"spec": {"containers": [
            {"name": "a", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}, {"name": "b"}]}});
        assert_eq!(
            run(v1_19, pod),
            Err(Forbidden::new(
                "seccompProfile",
                "container \"a\" must not set securityContext.seccompProfile.type to \"Unconfined\""
            ))
        );
    }

    #[test]
    fn unset_everywhere_names_the_containers() {
        let pod = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(
            run(v1_19, pod),
            Err(Forbidden::new(
                "seccompProfile",
                "pod or containers \"a\", \"b\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\""
            ))
        );
    }

    #[test]
    fn windows_pods_still_get_the_baseline_check() {
        let pod = json!({"spec": {"os": {"name": "windows"}, "securityContext": {"seccompProfile": {"type": "Unconfined"}}}});
        assert!(run(v1_25, pod).is_err());
    }

    #[test]
    fn windows_pods_are_skipped_from_v1_25() {
        let pod = json!({"spec": {"os": {"name": "windows"}, "containers": [{"name": "a"}]}});
        assert!(run(v1_19, pod.clone()).is_err());
        assert_eq!(run(v1_25, pod), Ok(()));
    }
}

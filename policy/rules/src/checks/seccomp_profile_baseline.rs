//! seccompProfile_baseline (baseline): pods must not run unconfined by seccomp.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.0–v1.18 | annotations `seccomp.security.alpha.kubernetes.io/pod`, `container.seccomp.security.alpha.kubernetes.io/<container>` | `runtime/default`, `docker/default`, `localhost/*`, unset (`""` is refused) |
//! | v1.19+ | `spec.securityContext.seccompProfile.type`, `spec.{initContainers,containers,ephemeralContainers}[*].securityContext.seccompProfile.type` | `RuntimeDefault`, `Localhost`, unset |

use super::format::{join_quote, key_equals_quoted, pluralize, setters};
use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{Container, ObjectMeta, PodSpec, Profile};
use std::collections::BTreeSet;

pub static CHECK: Check = Check {
    id: "seccompProfile_baseline",
    level: Level::Baseline,
    annotations: &[POD_ANNOTATION, CONTAINER_ANNOTATION_PREFIX],
    fields: &[
        "spec.securityContext.seccompProfile.type",
        "spec.{initContainers,containers,ephemeralContainers}[*].securityContext.seccompProfile.type",
    ],
    versions: &[
        VersionedCheck {
            minimum_minor: 0,
            check: v1_0,
            overrides: &[],
        },
        VersionedCheck {
            minimum_minor: 19,
            check: v1_19,
            overrides: &[],
        },
    ],
};

const POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

fn allowed_annotation_value(value: &str) -> bool {
    value == "runtime/default" || value == "docker/default" || value.starts_with("localhost/")
}

/// `RuntimeDefault` and `Localhost` are the allowed types, at baseline and restricted alike.
pub(super) fn allowed_type(profile: &Profile) -> bool {
    matches!(profile.type_.as_str(), "RuntimeDefault" | "Localhost")
}

pub(super) fn container_profile<'a>(container: &'a Container) -> Option<&'a Profile<'a>> {
    container
        .security_context
        .as_ref()
        .and_then(|sc| sc.seccomp_profile.as_ref())
}

pub(super) fn pod_profile<'a>(spec: &'a PodSpec) -> Option<&'a Profile<'a>> {
    spec.security_context
        .as_ref()
        .and_then(|sc| sc.seccomp_profile.as_ref())
}

fn v1_0(metadata: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    let mut forbidden = BTreeSet::new();
    if let Some(value) = metadata.annotations.get(POD_ANNOTATION)
        && !allowed_annotation_value(value)
    {
        forbidden.insert(key_equals_quoted(POD_ANNOTATION, value));
    }
    for container in spec.all_containers() {
        let key = format!("{CONTAINER_ANNOTATION_PREFIX}{}", container.name);
        if let Some(value) = metadata.annotations.get(&key)
            && !allowed_annotation_value(value)
        {
            forbidden.insert(key_equals_quoted(&key, value));
        }
    }
    if forbidden.is_empty() {
        return Ok(());
    }
    let forbidden: Vec<String> = forbidden.into_iter().collect();
    Err(Forbidden::new(
        "seccompProfile",
        format!(
            "forbidden {} {}",
            pluralize("annotation", "annotations", forbidden.len()),
            forbidden.join(", ")
        ),
    ))
}

pub(super) fn v1_19(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    let mut bad_types = BTreeSet::new();
    let bad_pod = pod_profile(spec).filter(|p| !allowed_type(p));
    if let Some(profile) = bad_pod {
        bad_types.insert(profile.type_.as_str());
    }
    let mut bad_containers = Vec::new();
    for container in spec.all_containers() {
        if let Some(profile) = container_profile(container).filter(|p| !allowed_type(p)) {
            bad_containers.push(container.name.as_str());
            bad_types.insert(profile.type_.as_str());
        }
    }
    let setters = setters(bad_pod.is_some(), &bad_containers);
    if setters.is_empty() {
        return Ok(());
    }
    Err(must_not_set(&setters, bad_types))
}

/// `<setters> must not set securityContext.seccompProfile.type to "A", "B"`; shared with restricted.
pub(super) fn must_not_set(setters: &[String], bad_types: BTreeSet<&str>) -> Forbidden {
    let bad_types: Vec<&str> = bad_types.into_iter().collect();
    Forbidden::new(
        "seccompProfile",
        format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            setters.join(" and "),
            join_quote(&bad_types)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    #[test]
    fn annotations_before_v1_19() {
        let pod = json!({
            "metadata": {"annotations": {
                "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
                "container.seccomp.security.alpha.kubernetes.io/a": "",
                "container.seccomp.security.alpha.kubernetes.io/b": "docker/default",
                "container.seccomp.security.alpha.kubernetes.io/gone": "unconfined"}},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(
            run(v1_0, pod.clone()),
            Err(Forbidden::new(
                "seccompProfile",
                "forbidden annotations container.seccomp.security.alpha.kubernetes.io/a=\"\", \
                 seccomp.security.alpha.kubernetes.io/pod=\"unconfined\""
            ))
        );
        assert_eq!(run(v1_19, pod), Ok(()), "v1.19 reads the fields only");
    }

    #[test]
    fn fields_from_v1_19() {
        let pod = json!({"spec": {
            "securityContext": {"seccompProfile": {"type": "Unconfined"}},
            "containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}},
                           {"name": "b", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}]}});
        assert_eq!(
            run(v1_19, pod),
            Err(Forbidden::new(
                "seccompProfile",
                "pod and container \"b\" must not set securityContext.seccompProfile.type to \"Unconfined\""
            ))
        );
        assert_eq!(
            run(v1_19, json!({"spec": {"containers": [{"name": "a"}]}})),
            Ok(())
        );
    }
}

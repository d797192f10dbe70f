//! appArmorProfile (baseline): pods must not override or disable the default AppArmor profile.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.0+ | `spec.securityContext.appArmorProfile.type`, `spec.{initContainers,containers,ephemeralContainers}[*].securityContext.appArmorProfile.type` | `RuntimeDefault`, `Localhost`, unset |
//! | v1.0+ | annotations `container.apparmor.security.beta.kubernetes.io/*` | `""`, `runtime/default`, `localhost/*` |

use super::format::{join_quote, key_equals_quoted, pluralize, setters};
use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{ObjectMeta, PodSpec, Profile};
use std::collections::BTreeSet;

pub static CHECK: Check = Check {
    id: "appArmorProfile",
    level: Level::Baseline,
    annotations: &[ANNOTATION_PREFIX],
    fields: &[
        "spec.securityContext.appArmorProfile.type",
        "spec.{initContainers,containers,ephemeralContainers}[*].securityContext.appArmorProfile.type",
    ],
    versions: &[VersionedCheck {
        minimum_minor: 0,
        check: v1_0,
        overrides: &[],
    }],
};

const ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

fn allowed_annotation_value(value: &str) -> bool {
    value.is_empty() || value == "runtime/default" || value.starts_with("localhost/")
}

fn allowed_type(profile: &Profile) -> bool {
    matches!(profile.type_.as_str(), "RuntimeDefault" | "Localhost")
}

fn v1_0(metadata: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    let mut bad_types = BTreeSet::new();

    let pod_profile = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.app_armor_profile.as_ref());
    let bad_pod = pod_profile.filter(|p| !allowed_type(p));
    if let Some(profile) = bad_pod {
        bad_types.insert(profile.type_.as_str());
    }

    let mut bad_containers = Vec::new();
    for container in spec.all_containers() {
        let profile = container
            .security_context
            .as_ref()
            .and_then(|sc| sc.app_armor_profile.as_ref());
        if let Some(profile) = profile.filter(|p| !allowed_type(p)) {
            bad_containers.push(container.name.as_str());
            bad_types.insert(profile.type_.as_str());
        }
    }
    let mut setters = setters(bad_pod.is_some(), &bad_containers);

    // Annotations are a map: sorted by key already, and each key appears once.
    let bad_annotations: Vec<String> = metadata
        .annotations
        .with_prefix(ANNOTATION_PREFIX)
        .filter(|(_, value)| !allowed_annotation_value(value))
        .map(|(key, value)| key_equals_quoted(key, value))
        .collect();
    if !bad_annotations.is_empty() {
        setters.push(pluralize("annotation", "annotations", bad_annotations.len()).to_string());
    }

    if setters.is_empty() {
        return Ok(());
    }
    let mut values: Vec<String> = bad_types.into_iter().map(str::to_string).collect();
    values.extend(bad_annotations);
    Err(Forbidden::new(
        pluralize(
            "forbidden AppArmor profile",
            "forbidden AppArmor profiles",
            values.len(),
        ),
        format!(
            "{} must not set AppArmor profile type to {}",
            setters.join(" and "),
            join_quote(&values)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    #[test]
    fn allows_defaults_and_allowed_profiles() {
        assert_eq!(
            run(v1_0, json!({"spec": {"containers": [{"name": "a"}]}})),
            Ok(())
        );
        let pod = json!({
            "metadata": {"annotations": {
                "container.apparmor.security.beta.kubernetes.io/a": "runtime/default",
                "container.apparmor.security.beta.kubernetes.io/b": "localhost/foo",
                "container.apparmor.security.beta.kubernetes.io/c": "",
                "other": "unconfined"}},
            "spec": {"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}},
                     "containers": [{"name": "a", "securityContext": {"appArmorProfile": {"type": "Localhost"}}}]}
        });
        assert_eq!(run(v1_0, pod), Ok(()));
    }

    #[test]
    fn names_every_setter_and_value() {
        let pod = json!({
            "metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/a": "unconfined"}},
            "spec": {"securityContext": {"appArmorProfile": {"type": "Unconfined"}},
                     "initContainers": [{"name": "i", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}],
                     "containers": [{"name": "a", "securityContext": {"appArmorProfile": {"type": "Bogus"}}}]}
        });
        let failure = run(v1_0, pod).unwrap_err();
        assert_eq!(failure.reason, "forbidden AppArmor profiles");
        assert_eq!(
            failure.detail,
            "pod and containers \"i\", \"a\" and annotation must not set AppArmor profile type to \
             \"Bogus\", \"Unconfined\", \"container.apparmor.security.beta.kubernetes.io/a=\"unconfined\"\""
        );
    }

    #[test]
    fn one_bad_value_is_singular() {
        let pod = json!({"spec": {"containers": [{"name": "a", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}]}});
        let failure = run(v1_0, pod).unwrap_err();
        assert_eq!(failure.reason, "forbidden AppArmor profile");
        assert_eq!(
            failure.detail,
            "container \"a\" must not set AppArmor profile type to \"Unconfined\""
        );
    }
}

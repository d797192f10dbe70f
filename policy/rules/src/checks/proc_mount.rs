//! procMount (baseline): containers must keep the default (masked) /proc.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.0+ | `spec.{initContainers,containers,ephemeralContainers}[*].securityContext.procMount` | `Default`, unset |
//! | v1.35+ | the same, except in pods with `spec.hostUsers: false` (a user namespace) | |

use super::format::{containers, join_quote};
use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{ObjectMeta, PodSpec};
use std::collections::BTreeSet;

pub static CHECK: Check = Check {
    id: "procMount",
    level: Level::Baseline,
    annotations: &[],
    fields: &["spec.{initContainers,containers,ephemeralContainers}[*].securityContext.procMount"],
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

fn v1_0(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    default_proc_mount_only(spec)
}

/// An unmasked /proc inside a user namespace does not expose the node's.
fn v1_35(metadata: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    if spec.uses_user_namespace() {
        return Ok(());
    }
    v1_0(metadata, spec)
}

/// Every container leaves `procMount` unset or `Default`; shared with procMount_restricted.
pub(super) fn default_proc_mount_only(spec: &PodSpec) -> CheckResult {
    let mut bad_containers = Vec::new();
    let mut bad_types = BTreeSet::new();
    for container in spec.all_containers() {
        let proc_mount = container
            .security_context
            .as_ref()
            .and_then(|sc| sc.proc_mount.as_deref());
        if let Some(proc_mount) = proc_mount.filter(|p| *p != "Default") {
            bad_containers.push(container.name.as_str());
            bad_types.insert(proc_mount);
        }
    }
    if bad_containers.is_empty() {
        return Ok(());
    }
    let bad_types: Vec<&str> = bad_types.into_iter().collect();
    Err(Forbidden::new(
        "procMount",
        format!(
            "{} must not set securityContext.procMount to {}",
            containers(&bad_containers),
            join_quote(&bad_types)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    fn unmasked(host_users: Option<bool>) -> serde_json::Value {
        json!({"spec": {"hostUsers": host_users, "containers": [
            {"name": "a", "securityContext": {"procMount": "Unmasked"}},
            {"name": "b", "securityContext": {"procMount": "Default"}}]}})
    }

    #[test]
    fn forbids_unmasked() {
        let expected = Err(Forbidden::new(
            "procMount",
            "container \"a\" must not set securityContext.procMount to \"Unmasked\"",
        ));
        assert_eq!(run(v1_0, unmasked(None)), expected);
        assert_eq!(run(v1_0, unmasked(Some(false))), expected);
        assert_eq!(run(v1_35, unmasked(Some(true))), expected);
    }

    #[test]
    fn v1_35_relaxes_for_user_namespaces() {
        assert_eq!(run(v1_35, unmasked(Some(false))), Ok(()));
    }
}

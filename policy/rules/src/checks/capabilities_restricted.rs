//! capabilities_restricted (restricted): containers must drop ALL and may add back only
//! NET_BIND_SERVICE. Replaces capabilities_baseline at restricted.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.22+ | `spec.{initContainers,containers,ephemeralContainers}[*].securityContext.capabilities.drop` | must contain `ALL` |
//! | v1.22+ | `spec.{initContainers,containers,ephemeralContainers}[*].securityContext.capabilities.add` | `NET_BIND_SERVICE`, unset |
//! | v1.25+ | the same, except in Windows pods (`spec.os.name: windows`) | |

use super::capabilities_baseline;
use super::format::{containers, join_quote};
use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{ObjectMeta, PodSpec};
use std::collections::BTreeSet;

pub static CHECK: Check = Check {
    id: "capabilities_restricted",
    level: Level::Restricted,
    annotations: &[],
    fields: &[
        "spec.{initContainers,containers,ephemeralContainers}[*].securityContext.capabilities.drop",
        "spec.{initContainers,containers,ephemeralContainers}[*].securityContext.capabilities.add",
    ],
    versions: &[
        VersionedCheck {
            minimum_minor: 22,
            check: v1_22,
            overrides: &["capabilities_baseline"],
        },
        VersionedCheck {
            minimum_minor: 25,
            check: v1_25,
            overrides: &["capabilities_baseline"],
        },
    ],
};

fn v1_22(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    let mut missing_drop_all = Vec::new();
    let mut adding_forbidden = Vec::new();
    let mut forbidden = BTreeSet::new();
    for container in spec.all_containers() {
        let Some(capabilities) = container
            .security_context
            .as_ref()
            .and_then(|sc| sc.capabilities.as_ref())
        else {
            missing_drop_all.push(container.name.as_str());
            continue;
        };
        if !capabilities.drop.iter().any(|c| c == "ALL") {
            missing_drop_all.push(container.name.as_str());
        }
        let mut adds_forbidden = false;
        for capability in capabilities.add.iter().filter(|c| *c != "NET_BIND_SERVICE") {
            adds_forbidden = true;
            forbidden.insert(capability.as_str());
        }
        if adds_forbidden {
            adding_forbidden.push(container.name.as_str());
        }
    }
    let mut details = Vec::new();
    if !missing_drop_all.is_empty() {
        details.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            containers(&missing_drop_all)
        ));
    }
    if !adding_forbidden.is_empty() {
        let forbidden: Vec<&str> = forbidden.into_iter().collect();
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers(&adding_forbidden),
            join_quote(&forbidden)
        ));
    }
    if details.is_empty() {
        return Ok(());
    }
    Err(Forbidden::new(
        "unrestricted capabilities",
        details.join("; "),
    ))
}

/// Windows has no Linux capabilities; API validation forbids them on Windows pods. PSA allows Windows
/// pods here outright, which lets restricted accept what baseline rejects when API validation did not
/// run (a manifest checked in CI): stricter than PSA, they still get the baseline check this overrides.
fn v1_25(metadata: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    if spec.is_windows() {
        return capabilities_baseline::v1_0(metadata, spec);
    }
    v1_22(metadata, spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    #[test]
    fn allows_drop_all_and_net_bind_service() {
        let pod = json!({"spec": {"containers": [{"name": "a", "securityContext": {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}]}});
        assert_eq!(run(v1_22, pod), Ok(()));
    }

    #[test]
    fn reports_missing_drop_and_forbidden_adds() {
        let pod = json!({"spec": {"containers": [
            {"name": "a"},
            {"name": "b", "securityContext": {"capabilities": {"drop": ["all"], "add": ["SYS_ADMIN", "CHOWN"]}}},
            {"name": "c", "securityContext": {"capabilities": {"drop": ["ALL"], "add": ["CHOWN"]}}}]}});
        assert_eq!(
            run(v1_22, pod),
            Err(Forbidden::new(
                "unrestricted capabilities",
                "containers \"a\", \"b\" must set securityContext.capabilities.drop=[\"ALL\"]; \
                 containers \"b\", \"c\" must not include \"CHOWN\", \"SYS_ADMIN\" in securityContext.capabilities.add"
            ))
        );
    }

    #[test]
    fn windows_pods_are_skipped_from_v1_25() {
        let pod = json!({"spec": {"os": {"name": "windows"}, "containers": [{"name": "a"}]}});
        assert!(run(v1_22, pod.clone()).is_err());
        assert_eq!(run(v1_25, pod), Ok(()));
    }

    #[test]
    fn windows_pods_still_get_the_baseline_check() {
        let pod = json!({"spec": {"os": {"name": "windows"}, "containers": [
            {"name": "a", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]}});
        assert_eq!(
            run(v1_25, pod).unwrap_err().reason,
            "non-default capabilities"
        );
    }
}

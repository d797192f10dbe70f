//! capabilities_baseline (baseline): containers may add only the capabilities a container runtime
//! grants by default.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.0+ | `spec.{initContainers,containers,ephemeralContainers}[*].securityContext.capabilities.add` | `AUDIT_WRITE`, `CHOWN`, `DAC_OVERRIDE`, `FOWNER`, `FSETID`, `KILL`, `MKNOD`, `NET_BIND_SERVICE`, `SETFCAP`, `SETGID`, `SETPCAP`, `SETUID`, `SYS_CHROOT` (exact case) |

use super::format::{containers, join_quote};
use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{ObjectMeta, PodSpec};
use std::collections::BTreeSet;

pub static CHECK: Check = Check {
    id: "capabilities_baseline",
    level: Level::Baseline,
    annotations: &[],
    fields: &[
        "spec.{initContainers,containers,ephemeralContainers}[*].securityContext.capabilities.add",
    ],
    versions: &[VersionedCheck {
        minimum_minor: 0,
        check: v1_0,
        overrides: &[],
    }],
};

const ALLOWED_1_0: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

pub(super) fn v1_0(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    let mut bad_containers = Vec::new();
    let mut forbidden = BTreeSet::new();
    for container in spec.all_containers() {
        let Some(capabilities) = container
            .security_context
            .as_ref()
            .and_then(|sc| sc.capabilities.as_ref())
        else {
            continue;
        };
        let mut valid = true;
        for capability in &capabilities.add {
            if !ALLOWED_1_0.contains(&capability.as_str()) {
                valid = false;
                forbidden.insert(capability.as_str());
            }
        }
        if !valid {
            bad_containers.push(container.name.as_str());
        }
    }
    if bad_containers.is_empty() {
        return Ok(());
    }
    let forbidden: Vec<&str> = forbidden.into_iter().collect();
    Err(Forbidden::new(
        "non-default capabilities",
        format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers(&bad_containers),
            join_quote(&forbidden)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    #[test]
    fn allows_default_capabilities() {
        let pod = json!({"spec": {"containers": [{"name": "a", "securityContext": {"capabilities": {"add": ["CHOWN", "NET_BIND_SERVICE"], "drop": ["ALL"]}}}]}});
        assert_eq!(run(v1_0, pod), Ok(()));
    }

    #[test]
    fn names_containers_in_visit_order_and_capabilities_sorted() {
        let pod = json!({"spec": {
            "containers": [{"name": "c", "securityContext": {"capabilities": {"add": ["SYS_ADMIN", "NET_RAW"]}}}],
            "initContainers": [{"name": "i", "securityContext": {"capabilities": {"add": ["NET_RAW", "chown"]}}}]}});
        let failure = run(v1_0, pod).unwrap_err();
        assert_eq!(failure.reason, "non-default capabilities");
        assert_eq!(
            failure.detail,
            "containers \"i\", \"c\" must not include \"NET_RAW\", \"SYS_ADMIN\", \"chown\" in securityContext.capabilities.add"
        );
    }
}

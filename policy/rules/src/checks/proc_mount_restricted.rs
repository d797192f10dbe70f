//! procMount_restricted (restricted): an unmasked /proc is forbidden even in a user namespace.
//! Replaces procMount at restricted.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.35+ | `spec.{initContainers,containers,ephemeralContainers}[*].securityContext.procMount` | `Default`, unset |

use super::proc_mount::default_proc_mount_only;
use super::{Check, CheckResult, VersionedCheck};
use crate::level::Level;
use crate::pod::{ObjectMeta, PodSpec};

pub static CHECK: Check = Check {
    id: "procMount_restricted",
    level: Level::Restricted,
    annotations: &[],
    fields: &["spec.{initContainers,containers,ephemeralContainers}[*].securityContext.procMount"],
    versions: &[VersionedCheck {
        minimum_minor: 35,
        check: v1_35,
        overrides: &["procMount"],
    }],
};

fn v1_35(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    default_proc_mount_only(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    #[test]
    fn no_user_namespace_relaxation() {
        let pod = json!({"spec": {"hostUsers": false, "containers": [{"name": "a", "securityContext": {"procMount": "Unmasked"}}]}});
        assert_eq!(run(v1_35, pod).unwrap_err().reason, "procMount");
    }
}

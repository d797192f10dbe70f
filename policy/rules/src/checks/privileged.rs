//! privileged (baseline): containers must not run privileged.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.0+ | `spec.{initContainers,containers,ephemeralContainers}[*].securityContext.privileged` | `false`, unset |

use super::format::containers;
use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{ObjectMeta, PodSpec};

pub static CHECK: Check = Check {
    id: "privileged",
    level: Level::Baseline,
    annotations: &[],
    fields: &["spec.{initContainers,containers,ephemeralContainers}[*].securityContext.privileged"],
    versions: &[VersionedCheck {
        minimum_minor: 0,
        check: v1_0,
        overrides: &[],
    }],
};

fn v1_0(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    let bad_containers: Vec<&str> = spec
        .all_containers()
        .filter(|c| c.security_context.as_ref().and_then(|sc| sc.privileged) == Some(true))
        .map(|c| c.name.as_str())
        .collect();
    if bad_containers.is_empty() {
        return Ok(());
    }
    Err(Forbidden::new(
        "privileged",
        format!(
            "{} must not set securityContext.privileged=true",
            containers(&bad_containers)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    #[test]
    fn allows_unprivileged() {
        let pod = json!({"spec": {"containers": [{"name": "a", "securityContext": {"privileged": false}}, {"name": "b"}]}});
        assert_eq!(run(v1_0, pod), Ok(()));
    }

    #[test]
    fn names_every_container_list() {
        let pod = json!({"spec": {
            "ephemeralContainers": [{"name": "debug", "securityContext": {"privileged": true}}],
            "containers": [{"name": "app", "securityContext": {"privileged": true}}],
            "initContainers": [{"name": "init", "securityContext": {"privileged": true}}]}});
        assert_eq!(
            run(v1_0, pod),
            Err(Forbidden::new(
                "privileged",
                "containers \"init\", \"app\", \"debug\" must not set securityContext.privileged=true"
            ))
        );
    }
}

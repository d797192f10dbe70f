//! hostPathVolumes (baseline): pods must not mount directories of the node.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.0+ | `spec.volumes[*].hostPath` | unset |

use super::format::{join_quote, pluralize};
use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{ObjectMeta, PodSpec};

pub static CHECK: Check = Check {
    id: "hostPathVolumes",
    level: Level::Baseline,
    annotations: &[],
    fields: &["spec.volumes[*].hostPath"],
    versions: &[VersionedCheck {
        minimum_minor: 0,
        check: v1_0,
        overrides: &[],
    }],
};

fn v1_0(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    let host_volumes: Vec<&str> = spec
        .volumes
        .iter()
        .filter(|volume| volume.host_path.is_some())
        .map(|volume| volume.name.as_str())
        .collect();
    if host_volumes.is_empty() {
        return Ok(());
    }
    Err(Forbidden::new(
        "hostPath volumes",
        format!(
            "{} {}",
            pluralize("volume", "volumes", host_volumes.len()),
            join_quote(&host_volumes)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    #[test]
    fn allows_other_volumes_and_null_host_path() {
        let pod = json!({"spec": {"volumes": [{"name": "a", "emptyDir": {}}, {"name": "b", "hostPath": null, "secret": {}}]}});
        assert_eq!(run(v1_0, pod), Ok(()));
    }

    #[test]
    fn names_host_path_volumes() {
        let pod = json!({"spec": {"volumes": [{"name": "a", "hostPath": {"path": "/"}}, {"name": "b", "hostPath": {}}]}});
        assert_eq!(
            run(v1_0, pod),
            Err(Forbidden::new("hostPath volumes", "volumes \"a\", \"b\""))
        );
    }
}

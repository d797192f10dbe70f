//! hostPorts (baseline): containers must not bind ports of the node.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.0+ | `spec.{initContainers,containers,ephemeralContainers}[*].ports[*].hostPort` | `0`, unset |

use super::format::{containers, pluralize};
use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{ObjectMeta, PodSpec};
use std::collections::BTreeSet;

pub static CHECK: Check = Check {
    id: "hostPorts",
    level: Level::Baseline,
    annotations: &[],
    fields: &["spec.{initContainers,containers,ephemeralContainers}[*].ports[*].hostPort"],
    versions: &[VersionedCheck {
        minimum_minor: 0,
        check: v1_0,
        overrides: &[],
    }],
};

fn v1_0(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    let mut bad_containers = Vec::new();
    // The reference keeps the ports as a set of strings: de-duplicated, sorted as text.
    let mut ports = BTreeSet::new();
    for container in spec.all_containers() {
        let mut valid = true;
        for port in container.ports.iter().filter(|port| port.host_port != 0) {
            valid = false;
            ports.insert(port.host_port.to_string());
        }
        if !valid {
            bad_containers.push(container.name.as_str());
        }
    }
    if bad_containers.is_empty() {
        return Ok(());
    }
    let ports: Vec<String> = ports.into_iter().collect();
    Err(Forbidden::new(
        "hostPort",
        format!(
            "{} {} {} {}",
            containers(&bad_containers),
            pluralize("uses", "use", bad_containers.len()),
            pluralize("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    #[test]
    fn allows_container_ports_only() {
        let pod = json!({"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80}, {"containerPort": 81, "hostPort": 0}]}]}});
        assert_eq!(run(v1_0, pod), Ok(()));
    }

    #[test]
    fn ports_are_deduplicated_and_sorted_as_text() {
        let pod = json!({"spec": {"containers": [
            {"name": "a", "ports": [{"hostPort": 9000}, {"hostPort": 80}]},
            {"name": "b", "ports": [{"hostPort": 80}]}]}});
        assert_eq!(
            run(v1_0, pod),
            Err(Forbidden::new(
                "hostPort",
                "containers \"a\", \"b\" use hostPorts 80, 9000"
            ))
        );
        let pod = json!({"spec": {"containers": [{"name": "a", "ports": [{"hostPort": 10}, {"hostPort": 9}]}]}});
        assert_eq!(
            run(v1_0, pod),
            Err(Forbidden::new(
                "hostPort",
                "container \"a\" uses hostPorts 10, 9"
            ))
        );
    }
}

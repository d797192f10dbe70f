//! hostProbesAndHostLifecycle (baseline): probes and lifecycle hooks must not target another host,
//! which would let the kubelet reach addresses on the pod's behalf.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.34+ | `spec.{initContainers,containers,ephemeralContainers}[*].{livenessProbe,readinessProbe,startupProbe}.{httpGet,tcpSocket}.host` | `""`, unset |
//! | v1.34+ | `spec.{initContainers,containers,ephemeralContainers}[*].lifecycle.{postStart,preStop}.{httpGet,tcpSocket}.host` | `""`, unset |

use super::format::{containers, join_quote, pluralize};
use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{Handler, ObjectMeta, PodSpec};
use std::collections::BTreeSet;

pub static CHECK: Check = Check {
    id: "hostProbesAndHostLifecycle",
    level: Level::Baseline,
    annotations: &[],
    fields: &[
        "spec.{initContainers,containers,ephemeralContainers}[*].{livenessProbe,readinessProbe,startupProbe}.{httpGet,tcpSocket}.host",
        "spec.{initContainers,containers,ephemeralContainers}[*].lifecycle.{postStart,preStop}.{httpGet,tcpSocket}.host",
    ],
    versions: &[VersionedCheck {
        minimum_minor: 34,
        check: v1_34,
        overrides: &[],
    }],
};

fn v1_34(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    // Unlike most checks, the reference sorts these container names.
    let mut bad_containers = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    for container in spec.all_containers() {
        let lifecycle = container.lifecycle.as_ref();
        let handlers = [
            container.liveness_probe.as_ref(),
            container.readiness_probe.as_ref(),
            container.startup_probe.as_ref(),
            lifecycle.and_then(|l| l.post_start.as_ref()),
            lifecycle.and_then(|l| l.pre_stop.as_ref()),
        ];
        for handler in handlers.into_iter().flatten() {
            for host in handler_hosts(handler) {
                bad_containers.insert(container.name.as_str());
                hosts.insert(host);
            }
        }
    }
    if bad_containers.is_empty() {
        return Ok(());
    }
    let bad_containers: Vec<&str> = bad_containers.into_iter().collect();
    let hosts: Vec<&str> = hosts.into_iter().collect();
    Err(Forbidden::new(
        "probe or lifecycle host",
        format!(
            "{} {} {} {}",
            containers(&bad_containers),
            pluralize("uses", "use", bad_containers.len()),
            pluralize(
                "probe or lifecycle host",
                "probe or lifecycle hosts",
                hosts.len()
            ),
            join_quote(&hosts)
        ),
    ))
}

fn handler_hosts<'a>(handler: &'a Handler) -> impl Iterator<Item = &'a str> {
    [handler.http_get.as_ref(), handler.tcp_socket.as_ref()]
        .into_iter()
        .flatten()
        .map(|target| target.host.as_str())
        .filter(|host| !host.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    #[test]
    fn allows_probes_without_host() {
        let pod = json!({"spec": {"containers": [{"name": "a",
            "livenessProbe": {"httpGet": {"port": 80, "host": ""}},
            "lifecycle": {"preStop": {"tcpSocket": {"port": 80}}}}]}});
        assert_eq!(run(v1_34, pod), Ok(()));
    }

    #[test]
    fn names_sorted_containers_and_hosts() {
        let pod = json!({"spec": {"containers": [
            {"name": "z", "readinessProbe": {"tcpSocket": {"host": "10.0.0.1"}}},
            {"name": "a", "startupProbe": {"httpGet": {"host": "example.com"}},
             "lifecycle": {"postStart": {"httpGet": {"host": "10.0.0.1"}}}}]}});
        assert_eq!(
            run(v1_34, pod),
            Err(Forbidden::new(
                "probe or lifecycle host",
                "containers \"a\", \"z\" use probe or lifecycle hosts \"10.0.0.1\", \"example.com\""
            ))
        );
    }
}

//! hostNamespaces (baseline): pods must not share the node's network, PID or IPC namespace.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.0+ | `spec.hostNetwork`, `spec.hostPID`, `spec.hostIPC` | `false`, unset |

use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{ObjectMeta, PodSpec};

pub static CHECK: Check = Check {
    id: "hostNamespaces",
    level: Level::Baseline,
    annotations: &[],
    fields: &["spec.hostNetwork", "spec.hostPID", "spec.hostIPC"],
    versions: &[VersionedCheck {
        minimum_minor: 0,
        check: v1_0,
        overrides: &[],
    }],
};

fn v1_0(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    let shared: Vec<&str> = [
        (spec.host_network, "hostNetwork=true"),
        (spec.host_pid, "hostPID=true"),
        (spec.host_ipc, "hostIPC=true"),
    ]
    .into_iter()
    .filter_map(|(set, text)| set.then_some(text))
    .collect();
    if shared.is_empty() {
        return Ok(());
    }
    Err(Forbidden::new("host namespaces", shared.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    #[test]
    fn allows_unset_and_false() {
        assert_eq!(
            run(
                v1_0,
                json!({"spec": {"hostNetwork": false, "hostPID": null}})
            ),
            Ok(())
        );
    }

    #[test]
    fn lists_namespaces_in_reference_order() {
        let failure = run(
            v1_0,
            json!({"spec": {"hostIPC": true, "hostNetwork": true}}),
        )
        .unwrap_err();
        assert_eq!(
            failure,
            Forbidden::new("host namespaces", "hostNetwork=true, hostIPC=true")
        );
    }
}

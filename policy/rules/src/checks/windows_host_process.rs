//! windowsHostProcess (baseline): Windows pods must not run as host processes.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.0+ | `spec.securityContext.windowsOptions.hostProcess`, `spec.{initContainers,containers,ephemeralContainers}[*].securityContext.windowsOptions.hostProcess` | `false`, unset |

use super::format::setters;
use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{ObjectMeta, PodSpec, WindowsOptions};

pub static CHECK: Check = Check {
    id: "windowsHostProcess",
    level: Level::Baseline,
    annotations: &[],
    fields: &[
        "spec.securityContext.windowsOptions.hostProcess",
        "spec.{initContainers,containers,ephemeralContainers}[*].securityContext.windowsOptions.hostProcess",
    ],
    versions: &[VersionedCheck {
        minimum_minor: 0,
        check: v1_0,
        overrides: &[],
    }],
};

fn host_process(options: Option<&WindowsOptions>) -> bool {
    options.and_then(|o| o.host_process) == Some(true)
}

fn v1_0(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    let bad_pod = host_process(
        spec.security_context
            .as_ref()
            .and_then(|sc| sc.windows_options.as_ref()),
    );
    let bad_containers: Vec<&str> = spec
        .all_containers()
        .filter(|c| {
            host_process(
                c.security_context
                    .as_ref()
                    .and_then(|sc| sc.windows_options.as_ref()),
            )
        })
        .map(|c| c.name.as_str())
        .collect();
    let setters = setters(bad_pod, &bad_containers);
    if setters.is_empty() {
        return Ok(());
    }
    Err(Forbidden::new(
        "hostProcess",
        format!(
            "{} must not set securityContext.windowsOptions.hostProcess=true",
            setters.join(" and ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    #[test]
    fn forbids_host_process_anywhere() {
        assert_eq!(
            run(
                v1_0,
                json!({"spec": {"containers": [{"name": "a", "securityContext": {"windowsOptions": {"hostProcess": false}}}]}})
            ),
            Ok(())
        );
        let pod = json!({"spec": {"securityContext": {"windowsOptions": {"hostProcess": true}},
            "containers": [{"name": "a", "securityContext": {"windowsOptions": {"hostProcess": true}}}]}});
        assert_eq!(
            run(v1_0, pod),
            Err(Forbidden::new(
                "hostProcess",
                "pod and container \"a\" must not set securityContext.windowsOptions.hostProcess=true"
            ))
        );
    }
}

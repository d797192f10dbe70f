//! seLinuxOptions (baseline): pods may pick only the container SELinux types and must not set a
//! user or role.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.0+ | `spec.securityContext.seLinuxOptions.type`, `spec.{initContainers,containers,ephemeralContainers}[*].securityContext.seLinuxOptions.type` | `""`, `container_t`, `container_init_t`, `container_kvm_t`, unset |
//! | v1.31+ | the same | also `container_engine_t` |
//! | v1.0+ | `….seLinuxOptions.user`, `….seLinuxOptions.role` (pod and containers) | `""`, unset |

use super::format::{join_quote, pluralize, setters};
use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{ObjectMeta, PodSpec, SeLinuxOptions};
use std::collections::BTreeSet;

pub static CHECK: Check = Check {
    id: "seLinuxOptions",
    level: Level::Baseline,
    annotations: &[],
    fields: &[
        "spec.securityContext.seLinuxOptions.{type,user,role}",
        "spec.{initContainers,containers,ephemeralContainers}[*].securityContext.seLinuxOptions.{type,user,role}",
    ],
    versions: &[
        VersionedCheck {
            minimum_minor: 0,
            check: v1_0,
            overrides: &[],
        },
        VersionedCheck {
            minimum_minor: 31,
            check: v1_31,
            overrides: &[],
        },
    ],
};

const ALLOWED_TYPES_1_0: &[&str] = &["", "container_t", "container_init_t", "container_kvm_t"];
const ALLOWED_TYPES_1_31: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn v1_0(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    check_types(spec, ALLOWED_TYPES_1_0)
}

fn v1_31(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    check_types(spec, ALLOWED_TYPES_1_31)
}

#[derive(Default)]
struct Findings<'a> {
    bad_types: BTreeSet<&'a str>,
    set_user: bool,
    set_role: bool,
}

impl<'a> Findings<'a> {
    /// Records what is wrong with one set of options; true when they are valid.
    fn inspect(&mut self, options: &'a SeLinuxOptions, allowed_types: &[&str]) -> bool {
        let mut valid = true;
        if !allowed_types.contains(&options.type_.as_str()) {
            valid = false;
            self.bad_types.insert(&options.type_);
        }
        if !options.user.is_empty() {
            valid = false;
            self.set_user = true;
        }
        if !options.role.is_empty() {
            valid = false;
            self.set_role = true;
        }
        valid
    }
}

fn check_types(spec: &PodSpec, allowed_types: &[&str]) -> CheckResult {
    let mut findings = Findings::default();
    let pod_options = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.se_linux_options.as_ref());
    let bad_pod = pod_options.is_some_and(|options| !findings.inspect(options, allowed_types));
    let mut bad_containers = Vec::new();
    for container in spec.all_containers() {
        let options = container
            .security_context
            .as_ref()
            .and_then(|sc| sc.se_linux_options.as_ref());
        if let Some(options) = options
            && !findings.inspect(options, allowed_types)
        {
            bad_containers.push(container.name.as_str());
        }
    }
    let setters = setters(bad_pod, &bad_containers);
    if setters.is_empty() {
        return Ok(());
    }
    let mut parts = Vec::new();
    if !findings.bad_types.is_empty() {
        let bad_types: Vec<&str> = findings.bad_types.into_iter().collect();
        parts.push(format!(
            "{} {}",
            pluralize("type", "types", bad_types.len()),
            join_quote(&bad_types)
        ));
    }
    if findings.set_user {
        parts.push("user may not be set".to_string());
    }
    if findings.set_role {
        parts.push("role may not be set".to_string());
    }
    Err(Forbidden::new(
        "seLinuxOptions",
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            setters.join(" and "),
            parts.join("; ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    #[test]
    fn container_engine_t_is_allowed_from_v1_31() {
        let pod = json!({"spec": {"securityContext": {"seLinuxOptions": {"type": "container_engine_t", "level": "s0"}}}});
        assert_eq!(run(v1_31, pod.clone()), Ok(()));
        assert_eq!(
            run(v1_0, pod),
            Err(Forbidden::new(
                "seLinuxOptions",
                "pod set forbidden securityContext.seLinuxOptions: type \"container_engine_t\""
            ))
        );
    }

    #[test]
    fn reports_types_user_and_role() {
        let pod = json!({"spec": {
            "securityContext": {"seLinuxOptions": {"user": "root"}},
            "containers": [{"name": "a", "securityContext": {"seLinuxOptions": {"type": "spc_t", "role": "r"}}},
                           {"name": "b", "securityContext": {"seLinuxOptions": {"type": "unconfined_t"}}}]}});
        assert_eq!(
            run(v1_31, pod),
            Err(Forbidden::new(
                "seLinuxOptions",
                "pod and containers \"a\", \"b\" set forbidden securityContext.seLinuxOptions: \
                 types \"spc_t\", \"unconfined_t\"; user may not be set; role may not be set"
            ))
        );
    }
}

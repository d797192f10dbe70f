//! sysctls (baseline): pods may set only the namespaced sysctls known to be safe.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.0+ | `spec.securityContext.sysctls[*].name` | `kernel.shm_rmid_forced`, `net.ipv4.ip_local_port_range`, `net.ipv4.ip_unprivileged_port_start`, `net.ipv4.tcp_syncookies`, `net.ipv4.ping_group_range` |
//! | v1.27+ | the same | also `net.ipv4.ip_local_reserved_ports` |
//! | v1.29+ | the same | also `net.ipv4.tcp_keepalive_time`, `net.ipv4.tcp_fin_timeout`, `net.ipv4.tcp_keepalive_intvl`, `net.ipv4.tcp_keepalive_probes` |
//! | v1.32+ | the same | also `net.ipv4.tcp_rmem`, `net.ipv4.tcp_wmem` |
//! | v1.37+ | the same | also `net.ipv4.tcp_slow_start_after_idle`, `net.ipv4.tcp_notsent_lowat` |

use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{ObjectMeta, PodSpec};

pub static CHECK: Check = Check {
    id: "sysctls",
    level: Level::Baseline,
    annotations: &[],
    fields: &["spec.securityContext.sysctls[*]"],
    versions: &[
        VersionedCheck {
            minimum_minor: 0,
            check: v1_0,
            overrides: &[],
        },
        VersionedCheck {
            minimum_minor: 27,
            check: v1_27,
            overrides: &[],
        },
        VersionedCheck {
            minimum_minor: 29,
            check: v1_29,
            overrides: &[],
        },
        VersionedCheck {
            minimum_minor: 32,
            check: v1_32,
            overrides: &[],
        },
        VersionedCheck {
            minimum_minor: 37,
            check: v1_37,
            overrides: &[],
        },
    ],
};

/// Each safe sysctl with the minor version that first allows it.
const SAFE: &[(&str, u32)] = &[
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
    ("net.ipv4.tcp_rmem", 32),
    ("net.ipv4.tcp_wmem", 32),
    ("net.ipv4.tcp_slow_start_after_idle", 37),
    ("net.ipv4.tcp_notsent_lowat", 37),
];

fn v1_0(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    safe_sysctls_only(spec, 0)
}

fn v1_27(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    safe_sysctls_only(spec, 27)
}

fn v1_29(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    safe_sysctls_only(spec, 29)
}

fn v1_32(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    safe_sysctls_only(spec, 32)
}

fn v1_37(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    safe_sysctls_only(spec, 37)
}

fn safe_sysctls_only(spec: &PodSpec, minor: u32) -> CheckResult {
    let is_safe = |name: &str| {
        SAFE.iter()
            .any(|(safe, since)| *safe == name && *since <= minor)
    };
    let sysctls = spec.security_context.iter().flat_map(|sc| &sc.sysctls);
    let forbidden: Vec<&str> = sysctls
        .map(|s| s.name.as_str())
        .filter(|name| !is_safe(name))
        .collect();
    if forbidden.is_empty() {
        return Ok(());
    }
    Err(Forbidden::new("forbidden sysctls", forbidden.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    fn pod(names: &[&str]) -> serde_json::Value {
        let sysctls: Vec<_> = names
            .iter()
            .map(|n| json!({"name": n, "value": "1"}))
            .collect();
        json!({"spec": {"securityContext": {"sysctls": sysctls}}})
    }

    #[test]
    fn the_safe_list_grows_by_version() {
        let checks = [
            (v1_0 as super::super::CheckFn, 0),
            (v1_27, 27),
            (v1_29, 29),
            (v1_32, 32),
            (v1_37, 37),
        ];
        for (name, since) in SAFE {
            for (check, minor) in checks {
                assert_eq!(
                    run(check, pod(&[name])).is_ok(),
                    *since <= minor,
                    "{name} at v1.{minor}"
                );
            }
        }
    }

    #[test]
    fn lists_forbidden_names_in_spec_order() {
        assert_eq!(
            run(v1_37, pod(&["kernel.msgmax", "net.ipv4.tcp_rmem", "a.b"])),
            Err(Forbidden::new("forbidden sysctls", "kernel.msgmax, a.b"))
        );
    }
}

//! The Pod Security checks, one module each, and the registry that picks them for a level and version.
//!
//! Each check is a list of variants; a variant applies from its minimum version until the next one
//! starts. A restricted variant may override baseline checks, which then do not run at restricted.

pub(crate) mod format;

mod allow_privilege_escalation;
mod app_armor_profile;
mod capabilities_baseline;
mod capabilities_restricted;
mod host_namespaces;
mod host_path_volumes;
mod host_ports;
mod host_probes_and_host_lifecycle;
mod privileged;
mod proc_mount;
mod proc_mount_restricted;
mod restricted_volumes;
mod run_as_non_root;
mod run_as_user;
mod se_linux_options;
mod seccomp_profile_baseline;
mod seccomp_profile_restricted;
mod sysctls;
mod windows_host_process;

use crate::level::{Level, Policy};
use crate::pod::{ObjectMeta, PodSpec};

/// Why a check forbids a pod: a short reason and a detail naming what offends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forbidden {
    pub reason: String,
    pub detail: String,
}

impl Forbidden {
    fn new(reason: impl Into<String>, detail: impl Into<String>) -> Self {
        Forbidden {
            reason: reason.into(),
            detail: detail.into(),
        }
    }
}

pub type CheckResult = Result<(), Forbidden>;

/// What a check reads: the pod's metadata and spec, as for a pod template.
pub type CheckFn = fn(&ObjectMeta, &PodSpec) -> CheckResult;

pub struct VersionedCheck {
    pub minimum_minor: u32,
    pub check: CheckFn,
    /// Baseline check IDs this variant replaces at restricted.
    pub overrides: &'static [&'static str],
}

pub struct Check {
    pub id: &'static str,
    pub level: Level,
    /// Variants by ascending minimum version.
    pub versions: &'static [VersionedCheck],
}

impl Check {
    fn variant_at(&self, minor: u32) -> Option<&VersionedCheck> {
        self.versions
            .iter()
            .rev()
            .find(|variant| variant.minimum_minor <= minor)
    }
}

/// Every check, baseline first, each level in byte order of the ID: the order of evaluation and of
/// the denial message.
pub static REGISTRY: &[&Check] = &[
    &app_armor_profile::CHECK,
    &capabilities_baseline::CHECK,
    &host_namespaces::CHECK,
    &host_path_volumes::CHECK,
    &host_ports::CHECK,
    &host_probes_and_host_lifecycle::CHECK,
    &privileged::CHECK,
    &proc_mount::CHECK,
    &se_linux_options::CHECK,
    &seccomp_profile_baseline::CHECK,
    &sysctls::CHECK,
    &windows_host_process::CHECK,
    &allow_privilege_escalation::CHECK,
    &capabilities_restricted::CHECK,
    &proc_mount_restricted::CHECK,
    &restricted_volumes::CHECK,
    &run_as_non_root::CHECK,
    &run_as_user::CHECK,
    &seccomp_profile_restricted::CHECK,
];

/// The checks that apply to a policy, in evaluation order, with the variant for its version.
pub fn checks_for(policy: Policy) -> Vec<(&'static str, CheckFn)> {
    let minor = policy.version.effective_minor();
    let active: Vec<(&Check, &VersionedCheck)> = REGISTRY
        .iter()
        .filter(|check| check.level <= policy.level && policy.level != Level::Privileged)
        .filter_map(|check| Some((*check, check.variant_at(minor)?)))
        .collect();
    let overridden: Vec<&str> = active
        .iter()
        .flat_map(|(_, variant)| variant.overrides.iter().copied())
        .collect();
    active
        .into_iter()
        .filter(|(check, _)| !overridden.contains(&check.id))
        .map(|(check, variant)| (check.id, variant.check))
        .collect()
}

/// Runs every check of the policy; returns the failures in order, empty when the pod is allowed.
pub fn evaluate(policy: Policy, metadata: &ObjectMeta, spec: &PodSpec) -> Vec<Forbidden> {
    checks_for(policy)
        .into_iter()
        .filter_map(|(_, check)| check(metadata, spec).err())
        .collect()
}

/// The reference's aggregate: `reason (detail), reason2, reason3 (detail3)`.
pub fn aggregate(failures: &[Forbidden]) -> String {
    let mut text = String::new();
    for (index, failure) in failures.iter().enumerate() {
        if index > 0 {
            text.push_str(", ");
        }
        text.push_str(&failure.reason);
        if !failure.detail.is_empty() {
            text.push_str(" (");
            text.push_str(&failure.detail);
            text.push(')');
        }
    }
    text
}

/// Test helper: runs one check function on a pod written as JSON.
#[cfg(test)]
pub(crate) fn run(check: CheckFn, pod: serde_json::Value) -> CheckResult {
    let bytes = serde_json::to_vec(&pod).expect("test pod serialises");
    let pod: crate::pod::Pod = serde_json::from_slice(&bytes).expect("test pod parses");
    check(&pod.metadata, &pod.spec.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::Version;

    fn ids(level: Level, version: Version) -> Vec<&'static str> {
        checks_for(Policy { level, version })
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    #[test]
    fn registry_is_in_reference_order() {
        for level in [Level::Baseline, Level::Restricted] {
            let ids: Vec<_> = REGISTRY
                .iter()
                .filter(|c| c.level == level)
                .map(|c| c.id)
                .collect();
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            assert_eq!(ids, sorted, "{level} checks must be in byte order");
        }
        let first_restricted = REGISTRY
            .iter()
            .position(|c| c.level == Level::Restricted)
            .unwrap();
        assert!(
            REGISTRY[first_restricted..]
                .iter()
                .all(|c| c.level == Level::Restricted)
        );
    }

    #[test]
    fn variants_ascend() {
        for check in REGISTRY {
            assert!(
                check
                    .versions
                    .windows(2)
                    .all(|w| w[0].minimum_minor < w[1].minimum_minor),
                "{}",
                check.id
            );
        }
    }

    #[test]
    fn restricted_latest_runs_the_reference_list() {
        assert_eq!(
            ids(Level::Restricted, Version::Latest),
            [
                "appArmorProfile",
                "hostNamespaces",
                "hostPorts",
                "hostProbesAndHostLifecycle",
                "privileged",
                "seLinuxOptions",
                "sysctls",
                "windowsHostProcess",
                "allowPrivilegeEscalation",
                "capabilities_restricted",
                "procMount_restricted",
                "restrictedVolumes",
                "runAsNonRoot",
                "runAsUser",
                "seccompProfile_restricted",
            ]
        );
    }

    #[test]
    fn overrides_start_with_their_variant() {
        let v1_0 = ids(Level::Restricted, Version::V1(0));
        assert!(v1_0.contains(&"capabilities_baseline"));
        assert!(v1_0.contains(&"seccompProfile_baseline"));
        assert!(!v1_0.contains(&"hostPathVolumes"));
        assert!(!v1_0.contains(&"allowPrivilegeEscalation"));
        assert!(!v1_0.contains(&"runAsUser"));
        let v1_22 = ids(Level::Restricted, Version::V1(22));
        assert!(!v1_22.contains(&"capabilities_baseline"));
        assert!(!v1_22.contains(&"seccompProfile_baseline"));
        assert!(v1_22.contains(&"procMount"));
        assert!(!ids(Level::Restricted, Version::V1(35)).contains(&"procMount"));
    }

    #[test]
    fn baseline_has_no_restricted_checks_and_privileged_none() {
        let baseline = ids(Level::Baseline, Version::Latest);
        assert_eq!(baseline.len(), 12);
        assert!(baseline.contains(&"hostPathVolumes"));
        assert!(ids(Level::Baseline, Version::V1(33)).len() == 11);
        assert!(ids(Level::Privileged, Version::Latest).is_empty());
    }

    #[test]
    fn aggregate_omits_empty_details() {
        let failures = [
            Forbidden::new("a", "x"),
            Forbidden::new("b", ""),
            Forbidden::new("c", "y"),
        ];
        assert_eq!(aggregate(&failures), "a (x), b, c (y)");
    }
}

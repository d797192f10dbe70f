//! The Pod Security checks, one module each, and the registry that picks them for a level and version.
//!
//! Each check is a list of variants; a variant applies from its minimum version until the next one
//! starts. A restricted variant may override baseline checks, which then do not run at restricted.
//! The newest version is the highest any variant starts at, as PSA's registry derives it; the
//! registry's tests check what PSA's `validateChecks` checks. `docs/adding-a-check.md` walks
//! through adding a version and a check.

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

use crate::level::{Level, LevelVersion, Version};
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
    /// The annotations the check reads, by key or key prefix: the pod view keeps only those (a test
    /// holds the view's list to what the checks declare).
    pub annotations: &'static [&'static str],
    /// The fields it reads, as its file's table names them (`spec.{a,b}[*].c`: the `a` and `b` lists'
    /// items' `c`), relative to the pod or pod template: where tools point a violation of it.
    pub fields: &'static [&'static str],
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

/// The newest version any check defines: `latest` and newer versions evaluate as this one.
pub fn newest_minor() -> u32 {
    REGISTRY
        .iter()
        .flat_map(|check| check.versions)
        .map(|variant| variant.minimum_minor)
        .max()
        .unwrap_or_default()
}

/// The minor version whose variants apply: `latest`, and anything newer than the newest defined
/// version, mean the newest.
pub fn effective_minor(version: Version) -> u32 {
    match version {
        Version::Latest => newest_minor(),
        Version::V1(minor) => minor.min(newest_minor()),
    }
}

/// The checks that apply at a level and version, in evaluation order, with the variant for the version.
pub fn checks_for(level_version: LevelVersion) -> Vec<(&'static str, CheckFn)> {
    let LevelVersion { level, version } = level_version;
    let minor = effective_minor(version);
    let active: Vec<(&Check, &VersionedCheck)> = REGISTRY
        .iter()
        .filter(|check| check.level <= level && level != Level::Privileged)
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

/// Runs every check of a level and version; returns the failures in order, empty when the pod is
/// allowed.
pub fn failures(
    level_version: LevelVersion,
    metadata: &ObjectMeta,
    spec: &PodSpec,
) -> Vec<Forbidden> {
    checks_for(level_version)
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
mod tests;

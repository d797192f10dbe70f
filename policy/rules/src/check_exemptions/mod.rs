//! `checkExemptions`: exemptions exactly as wide as written. Each entry lifts one Pod Security check,
//! in the namespaces it names, for pods its selector matches, for the containers (by name or image)
//! and values (a capability, a sysctl, a host port, a hostPath prefix, a host namespace, an SELinux
//! type) it lists, and nothing else: a violation is exempted only when what offends is all covered,
//! and is otherwise reported in PSA's words. Exempted violations are recorded in the response.
//!
//! How: each check runs as before; when it fails and entries for it apply, it runs again on a copy
//! of the pod with what the entries cover taken out ([`mask`]). Passing then, the violation is
//! exempted; failing still, the first failure stands.

mod image;
mod mask;
mod selector;

pub use image::{ImagePattern, normalise as normalise_image};
pub use selector::LabelSelector;

use crate::checks::{self, Forbidden};
use crate::level::LevelVersion;
use crate::pod::{Container, ObjectMeta, PodSpec};

/// One entry, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckExemption {
    /// Named in the audit annotation of every violation it exempts.
    pub name: String,
    /// A check ID of the registry.
    pub check: &'static str,
    /// Where it applies; empty only when `images` says what it trusts.
    pub namespaces: Vec<String>,
    pub pod_selector: Option<LabelSelector>,
    /// Container names; empty: any name.
    pub containers: Vec<String>,
    /// Image patterns; empty: any image.
    pub images: Vec<ImagePattern>,
    /// The values exempted, for checks that have values; empty: the whole check for the containers.
    pub values: Vec<String>,
    /// hostPathVolumes: every mount of an exempted volume must be read-only.
    pub read_only: bool,
}

/// What the values of a check are, if it has any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Capability,
    Sysctl,
    HostPort,
    HostPath,
    HostNamespace,
    SeLinuxType,
}

impl ValueKind {
    pub fn of(check: &str) -> Option<ValueKind> {
        Some(match check {
            "capabilities_baseline" | "capabilities_restricted" => ValueKind::Capability,
            "sysctls" => ValueKind::Sysctl,
            "hostPorts" => ValueKind::HostPort,
            "hostPathVolumes" => ValueKind::HostPath,
            "hostNamespaces" => ValueKind::HostNamespace,
            "seLinuxOptions" => ValueKind::SeLinuxType,
            _ => return None,
        })
    }

    /// What a value looks like, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            ValueKind::Capability => "capability names (NET_ADMIN)",
            ValueKind::Sysctl => "sysctl names (net.core.somaxconn)",
            ValueKind::HostPort => "host ports or ranges (8080, \"9000-9100\")",
            ValueKind::HostPath => "absolute hostPath prefixes (/var/log)",
            ValueKind::HostNamespace => "hostNetwork, hostPID or hostIPC",
            ValueKind::SeLinuxType => "SELinux types (spc_t)",
        }
    }
}

impl CheckExemption {
    /// Whether the entry applies to a pod (or template) in `namespace` with this metadata.
    pub fn applies_to(&self, namespace: Option<&str>, metadata: &ObjectMeta) -> bool {
        (self.namespaces.is_empty()
            || namespace.is_some_and(|ns| self.namespaces.iter().any(|name| name == ns)))
            && self
                .pod_selector
                .as_ref()
                .is_none_or(|selector| selector.matches(&metadata.labels))
    }

    /// Whether the entry names no containers or images: it covers the whole pod.
    fn covers_every_container(&self) -> bool {
        self.containers.is_empty() && self.images.is_empty()
    }

    fn covers(&self, container: &Container) -> bool {
        (self.containers.is_empty() || self.containers.iter().any(|name| *name == *container.name))
            && (self.images.is_empty()
                || container
                    .image
                    .as_deref()
                    .is_some_and(|image| self.images.iter().any(|pattern| pattern.matches(image))))
    }

    /// Pod-level fields are covered when the entry covers every container of the pod.
    fn covers_pod(&self, spec: &PodSpec) -> bool {
        self.covers_every_container()
            || all_containers(spec).all(|container| self.covers(container))
    }
}

fn all_containers<'s, 'a>(spec: &'s PodSpec<'a>) -> impl Iterator<Item = &'s Container<'a>> {
    spec.init_containers
        .iter()
        .chain(&spec.containers)
        .chain(&spec.ephemeral_containers)
}

/// A violation an entry lifted: the check's failure as PSA words it, and the entries that lifted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exempted {
    pub failure: Forbidden,
    pub entries: Vec<String>,
}

impl Exempted {
    /// `reason (detail) by "entry"`, for the audit annotation.
    pub fn describe(&self) -> String {
        let names: Vec<String> = self
            .entries
            .iter()
            .map(|name| format!("{name:?}"))
            .collect();
        format!(
            "{} by checkExemptions {}",
            checks::aggregate(std::slice::from_ref(&self.failure)),
            names.join(", ")
        )
    }
}

/// The checks of a level and version on a pod, with the applicable entries: the failures that
/// stand, and the ones entries lifted.
pub fn failures(
    level_version: LevelVersion,
    metadata: &ObjectMeta,
    spec: &PodSpec,
    entries: &[&CheckExemption],
) -> (Vec<Forbidden>, Vec<Exempted>) {
    let mut failures = Vec::new();
    let mut exempted = Vec::new();
    for (id, check) in checks::checks_for(level_version) {
        let Err(failure) = check(metadata, spec) else {
            continue;
        };
        let for_check: Vec<&CheckExemption> = entries
            .iter()
            .copied()
            .filter(|entry| entry.check == id)
            .collect();
        let lifted = !for_check.is_empty() && {
            let (masked_metadata, masked_spec, skipped) = mask::masked(metadata, spec, &for_check);
            skipped || check(&masked_metadata, &masked_spec).is_ok()
        };
        if lifted {
            exempted.push(Exempted {
                failure,
                entries: for_check.iter().map(|entry| entry.name.clone()).collect(),
            });
        } else {
            failures.push(failure);
        }
    }
    (failures, exempted)
}

#[cfg(test)]
mod tests;

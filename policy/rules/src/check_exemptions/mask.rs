//! A copy of a pod with what entries cover taken out, for one check: the covered containers, or
//! only the covered values in them; pod-level fields only when the entry covers every container.

use super::{CheckExemption, ValueKind};
use crate::pod::{Container, ObjectMeta, PodSpec, Text};
use crate::runtime_access;

/// The pod as the check should see it under `entries` (all for the same check), and whether an
/// entry lifts the whole check.
pub(super) fn masked<'a>(
    metadata: &ObjectMeta<'a>,
    spec: &PodSpec<'a>,
    entries: &[&CheckExemption],
) -> (ObjectMeta<'a>, PodSpec<'a>, bool) {
    let mut metadata = metadata.clone();
    let mut masked = spec.clone();
    for entry in entries {
        match ValueKind::of(entry.check) {
            _ if entry.values.is_empty() => {
                // The whole check: for the whole pod, or for the containers it names.
                if entry.covers_pod(spec) {
                    return (metadata, masked, true);
                }
                remove_covered_containers(entry, &mut metadata, &mut masked);
            }
            Some(ValueKind::Capability) => {
                for_covered(entry, &mut masked, |container| {
                    if let Some(capabilities) = container
                        .security_context
                        .as_mut()
                        .and_then(|context| context.capabilities.as_mut())
                    {
                        capabilities.add.retain(|added| !listed(entry, added));
                    }
                });
            }
            Some(ValueKind::HostPort) => {
                for_covered(entry, &mut masked, |container| {
                    for port in &mut container.ports {
                        if entry
                            .values
                            .iter()
                            .any(|range| in_range(range, port.host_port))
                        {
                            port.host_port = 0;
                        }
                    }
                });
            }
            Some(ValueKind::SeLinuxType) => {
                let covers_pod = entry.covers_pod(spec);
                if let Some(options) = masked
                    .security_context
                    .as_mut()
                    .and_then(|context| context.se_linux_options.as_mut())
                    .filter(|options| covers_pod && listed(entry, &options.type_))
                {
                    options.type_ = Text::default();
                }
                for_covered(entry, &mut masked, |container| {
                    if let Some(options) = container
                        .security_context
                        .as_mut()
                        .and_then(|context| context.se_linux_options.as_mut())
                        .filter(|options| listed(entry, &options.type_))
                    {
                        options.type_ = Text::default();
                    }
                });
            }
            Some(ValueKind::Sysctl) if entry.covers_pod(spec) => {
                if let Some(context) = masked.security_context.as_mut() {
                    context
                        .sysctls
                        .retain(|sysctl| !listed(entry, &sysctl.name));
                }
            }
            Some(ValueKind::HostNamespace) if entry.covers_pod(spec) => {
                for value in &entry.values {
                    match value.as_str() {
                        "hostNetwork" => masked.host_network = false,
                        "hostPID" => masked.host_pid = false,
                        "hostIPC" => masked.host_ipc = false,
                        _ => {}
                    }
                }
            }
            Some(ValueKind::HostPath) => {
                for volume in &mut masked.volumes {
                    let Some(host_path) = &volume.host_path else {
                        continue;
                    };
                    let under_a_prefix = runtime_access::normalise_extra_path(&host_path.path)
                        .is_some_and(|path| {
                            entry.values.iter().any(|prefix| is_under(&path, prefix))
                        });
                    if under_a_prefix && mounts_covered(entry, spec, &volume.name) {
                        volume.host_path = None;
                        volume.sources.retain(|source| *source != "hostPath");
                    }
                }
            }
            // Pod-level values of an entry that does not cover every container: nothing lifted.
            Some(ValueKind::Sysctl | ValueKind::HostNamespace) | None => {}
        }
    }
    (metadata, masked, false)
}

fn listed(entry: &CheckExemption, value: &str) -> bool {
    entry.values.iter().any(|listed| listed == value)
}

fn for_covered(entry: &CheckExemption, spec: &mut PodSpec, mut mask: impl FnMut(&mut Container)) {
    for container in spec
        .init_containers
        .iter_mut()
        .chain(spec.containers.iter_mut())
        .chain(spec.ephemeral_containers.iter_mut())
    {
        if entry.covers(container) {
            mask(container);
        }
    }
}

/// The covered containers leave the pod, with the per-container annotations PSA reads for them.
fn remove_covered_containers(
    entry: &CheckExemption,
    metadata: &mut ObjectMeta,
    spec: &mut PodSpec,
) {
    let covered: Vec<String> = super::all_containers(spec)
        .filter(|container| entry.covers(container))
        .map(|container| container.name.to_string())
        .collect();
    for list in [
        &mut spec.init_containers,
        &mut spec.containers,
        &mut spec.ephemeral_containers,
    ] {
        list.retain(|container| !entry.covers(container));
    }
    for name in covered {
        metadata.annotations.remove_for_container(&name);
    }
}

/// `8080` or `9000-9100`, as validated in the settings.
fn in_range(range: &str, port: i32) -> bool {
    let (low, high) = range.split_once('-').unwrap_or((range, range));
    match (low.parse::<i32>(), high.parse::<i32>()) {
        (Ok(low), Ok(high)) => (low..=high).contains(&port),
        _ => false,
    }
}

/// `path` is `prefix` or below it, segment by segment.
fn is_under(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches(['/', '\\']);
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with(['/', '\\']))
        || prefix.is_empty()
}

/// Every container that mounts the volume is covered, and mounts it read-only when required.
fn mounts_covered(entry: &CheckExemption, spec: &PodSpec, volume: &str) -> bool {
    super::all_containers(spec).all(|container| {
        let mounts: Vec<_> = container
            .volume_mounts
            .iter()
            .filter(|mount| *mount.name == *volume)
            .collect();
        mounts.is_empty()
            || (entry.covers(container) && (!entry.read_only || mounts.iter().all(|m| m.read_only)))
    })
}

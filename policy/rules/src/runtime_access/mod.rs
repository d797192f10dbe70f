//! runtimeAccess: the guard on the roads to the node's container runtime that the Pod Security
//! Standards leave open. It runs at every level, `privileged` included, and for requests exempt
//! from the Pod Security checks; only its own namespace exemption lifts it.

mod host_path;
mod protected;

use crate::checks::format::join_quote;
use crate::pod::{Container, PodSpec, Volume};
use host_path::{Flavour, NodeOs};
use protected::{Protected, reaches};
use serde::Deserialize;

/// The guard's settings (`runtimeAccess` in the policy settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeAccessSettings {
    pub enabled: bool,
    /// Normalised when the settings are read, so each request compares them as they are.
    pub extra_paths: Vec<String>,
    pub exempt_namespaces: Vec<String>,
    /// Exact image references, or prefixes ending in `*`.
    pub exempt_images: Vec<String>,
}

impl Default for RuntimeAccessSettings {
    fn default() -> Self {
        RuntimeAccessSettings {
            enabled: true,
            extra_paths: Vec::new(),
            exempt_namespaces: Vec::new(),
            exempt_images: Vec::new(),
        }
    }
}

impl RuntimeAccessSettings {
    /// Whether the guard applies to a request in this namespace.
    pub fn applies_in(&self, namespace: Option<&str>) -> bool {
        self.enabled && !namespace.is_some_and(|ns| self.exempt_namespaces.iter().any(|e| e == ns))
    }

    fn exempts_image(&self, image: Option<&str>) -> bool {
        let Some(image) = image else { return false };
        self.exempt_images
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => image.starts_with(prefix),
                None => image == pattern,
            })
    }
}

/// An operator's `extraPaths` entry, normalised in the flavour it is written in; `None` when it is
/// not absolute (a Linux `/…`, or a Windows `C:\…` or `\\.\pipe\…`).
pub(crate) fn normalise_extra_path(path: &str) -> Option<String> {
    let flavour = Flavour::of_written(path);
    (flavour == Flavour::Windows || path.starts_with('/')).then(|| flavour.normalise(path))
}

/// What a written host path, and a sub-path below it, reach on any node the pod may land on.
fn reach<'a>(
    os: NodeOs,
    written: &str,
    sub_path: Option<&str>,
    extra: &'a [String],
) -> Option<Protected<'a>> {
    os.flavours().iter().find_map(|&flavour| {
        let path = match sub_path {
            None => flavour.normalise(written),
            Some(sub) => flavour.normalise(&format!("{written}{}{sub}", flavour.separator())),
        };
        reaches(flavour, &path, extra)
    })
}

/// Capabilities that, with the node's PID namespace, let a container enter the runtime's namespaces.
const NSENTER_CAPABILITIES: &[&str] = &["SYS_ADMIN", "SYS_PTRACE", "ALL"];

/// The pod fields the guard reads, as the checks' `fields` name them: where tools point its findings.
pub const POD_FIELDS: &[&str] = &[
    "spec.volumes[*].hostPath",
    "spec.{initContainers,containers,ephemeralContainers}[*].volumeMounts[*].{subPath,subPathExpr}",
    "spec.hostPID",
    "spec.{initContainers,containers,ephemeralContainers}[*].securityContext.{privileged,capabilities}",
];

/// The PersistentVolume fields the guard reads.
pub const PERSISTENT_VOLUME_FIELDS: &[&str] = &["spec.hostPath.path", "spec.local.path"];

/// Every way the pod reaches the runtime, one detail each; empty when it does not.
pub fn check_pod(settings: &RuntimeAccessSettings, spec: &PodSpec) -> Vec<String> {
    let extra = &settings.extra_paths;
    let os = NodeOs::of(spec);
    // Each hostPath volume with what its path reaches, worked out once.
    let host_volumes: Vec<(&Volume, &str, Option<Protected>)> = spec
        .volumes
        .iter()
        .filter_map(|volume| {
            let written = volume.host_path.as_ref()?.path.as_str();
            Some((volume, written, reach(os, written, None, extra)))
        })
        .collect();
    let mut violations = Vec::new();
    for (volume, written, reached) in &host_volumes {
        let Some(reached) = reached else { continue };
        let mounted_by: Vec<&Container> = spec
            .all_containers()
            .filter(|c| c.volume_mounts.iter().any(|m| m.name == volume.name))
            .collect();
        // An exempt image exempts only the volumes it alone mounts: an unmounted volume could still be
        // mounted by a `kubectl debug` container later.
        let exempt = !mounted_by.is_empty()
            && mounted_by
                .iter()
                .all(|c| settings.exempts_image(c.image.as_deref()));
        if !exempt {
            violations.push(format!(
                "volume \"{}\" mounts hostPath {written:?}, which reaches {}",
                volume.name,
                describe(reached)
            ));
        }
    }
    for container in spec
        .all_containers()
        .filter(|c| !settings.exempts_image(c.image.as_deref()))
    {
        for mount in &container.volume_mounts {
            let Some((volume, written, None)) =
                host_volumes.iter().find(|(v, ..)| v.name == mount.name)
            else {
                continue; // Not a hostPath, or reported for the volume itself.
            };
            let Some((sub_path, how)) = effective_sub_path(container, mount) else {
                continue;
            };
            if let Some(reached) = reach(os, written, Some(&sub_path), extra) {
                violations.push(format!(
                    "container \"{}\" mounts volume \"{}\" (hostPath {written:?}) with {how}, which reaches {}",
                    container.name,
                    volume.name,
                    describe(&reached)
                ));
            }
        }
    }
    if spec.host_pid {
        let entering: Vec<&str> = spec
            .all_containers()
            .filter(|c| can_enter_namespaces(c))
            .map(|c| c.name.as_str())
            .collect();
        if !entering.is_empty() {
            violations.push(format!(
                "hostPID=true with privileged or SYS_ADMIN/SYS_PTRACE {} {} lets it enter the runtime's namespaces",
                if entering.len() == 1 { "container" } else { "containers" },
                join_quote(&entering)
            ));
        }
    }
    violations
}

fn describe(reached: &Protected<'_>) -> String {
    if reached.by_name {
        format!("{}, by its name {:?}", reached.what, reached.path)
    } else {
        format!("{} ({})", reached.what, reached.path)
    }
}

/// The sub-path a mount adds to its volume's path, and how it was written. A `subPathExpr`
/// variable that cannot be resolved here is cut off at the variable: the kubelet refuses `..` in
/// the expanded result, so the mount lies under what precedes it.
fn effective_sub_path(
    container: &Container,
    mount: &crate::pod::VolumeMount,
) -> Option<(String, String)> {
    if !mount.sub_path.is_empty() {
        return Some((
            mount.sub_path.to_string(),
            format!("subPath {:?}", mount.sub_path),
        ));
    }
    if mount.sub_path_expr.is_empty() {
        return None;
    }
    let mut expanded = String::new();
    let mut rest = mount.sub_path_expr.as_str();
    while let Some(start) = rest.find("$(") {
        expanded.push_str(&rest[..start]);
        let Some(end) = rest[start..].find(')') else {
            rest = "";
            break;
        };
        let name = &rest[start + 2..start + end];
        let value = container
            .env
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| e.value.as_deref());
        match value {
            Some(value) => expanded.push_str(value),
            None => {
                rest = "";
                break;
            }
        }
        rest = &rest[start + end + 1..];
    }
    expanded.push_str(rest);
    Some((expanded, format!("subPathExpr {:?}", mount.sub_path_expr)))
}

fn can_enter_namespaces(container: &Container) -> bool {
    let Some(sc) = &container.security_context else {
        return false;
    };
    if sc.privileged == Some(true) {
        return true;
    }
    // The runtime accepts capabilities with or without `CAP_`, in any case.
    sc.capabilities
        .iter()
        .flat_map(|c| &c.add)
        .any(|capability| {
            let upper = capability.to_ascii_uppercase();
            let name = upper.strip_prefix("CAP_").unwrap_or(&upper);
            NSENTER_CAPABILITIES.contains(&name)
        })
}

/// A PersistentVolume's node-local sources.
#[derive(Debug, Default, Deserialize)]
pub struct PersistentVolume<'a> {
    #[serde(borrow, default)]
    pub metadata: crate::pod::ObjectMeta<'a>,
    #[serde(borrow, default)]
    pub spec: Option<PersistentVolumeSpec<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistentVolumeSpec<'a> {
    #[serde(borrow)]
    pub host_path: Option<crate::pod::HostPathSource<'a>>,
    #[serde(borrow)]
    pub local: Option<crate::pod::HostPathSource<'a>>,
}

/// A PersistentVolume on a protected path gives any claim bound to it the runtime, with no hostPath
/// in the pod. Its node may run either OS, so its path is read both ways.
pub fn check_persistent_volume(
    settings: &RuntimeAccessSettings,
    volume: &PersistentVolume,
) -> Vec<String> {
    let Some(spec) = &volume.spec else {
        return Vec::new();
    };
    [("hostPath", &spec.host_path), ("local", &spec.local)]
        .into_iter()
        .filter_map(|(source, path)| {
            let path = path.as_ref()?;
            let reached = reach(NodeOs::Either, &path.path, None, &settings.extra_paths)?;
            Some(format!(
                "{source} path {:?} reaches {}",
                path.path,
                describe(&reached)
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests;

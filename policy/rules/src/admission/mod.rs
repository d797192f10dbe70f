//! Admission semantics: which requests are evaluated, at which levels, and what the response says.
//! Follows Kubernetes' Pod Security Admission, except that pod controllers are rejected by default
//! and the runtime guard applies on top, where PSA exempts too.
//!
//! A request goes through three stages, one file each:
//! - [`request`]: reading it (the object typed by what it is, in the same pass);
//! - [`targets`]: deciding per target, as PSA's `ValidatePod` and `ValidatePodController`;
//! - [`levels`]: evaluating a pod spec at the enforce, audit and warn levels, then the runtime
//!   guard, into one verdict.

mod levels;
mod request;
mod targets;

pub use request::{AdmissionRequest, RequestWithSettings};

/// Where an object of this resource keeps its pod (or pod template: `metadata` and `spec`), as a
/// JSON pointer (`""` for a Pod); `None` for what has no pods. For tools that point at a field.
pub fn pod_template_pointer(group: &str, resource: &str) -> Option<&'static str> {
    request::Target::named(group, resource)?
        .pod_spec_pointer()?
        .strip_suffix("/spec")
}

use crate::namespaces::Cluster;
use crate::secure_defaults::{self, Scope, SecureDefaults};
use crate::settings::Settings;
use crate::strict;
use crate::verdict::Verdict;
use request::Target;

/// Pod subresources that cannot change what a pod runs or how: PSA allows them unevaluated.
const IGNORED_POD_SUBRESOURCES: &[&str] = &[
    "exec",
    "attach",
    "binding",
    "eviction",
    "log",
    "portforward",
    "proxy",
    "status",
];

/// Validates one AdmissionRequest, given as JSON bytes, under the given settings, reading the
/// namespace's labels (and, for a Namespace update, its pods) through `cluster`.
pub fn validate_json(request: &[u8], settings: &Settings, cluster: &dyn Cluster) -> Verdict {
    match strict::from_slice::<AdmissionRequest>(request) {
        Ok(read) => validate(read, settings, cluster),
        Err(error) => Verdict::bad_request(request::unreadable(request, &error)),
    }
}

/// Like [`validate_json`], and when the settings enable `secureDefaults`, fills what is absent in
/// the pod or template first and judges the result: allowed, the verdict carries the defaulted
/// object; denied, it says what is still wrong (what was written, never what was filled in).
pub fn validate_json_with_defaults(
    request: &[u8],
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Verdict {
    let Some(defaults) = &settings.secure_defaults else {
        return validate_json(request, settings, cluster);
    };
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(request) else {
        return validate_json(request, settings, cluster);
    };
    let Some(defaulted) = default_request(&mut value, defaults) else {
        return validate_json(request, settings, cluster);
    };
    let Ok(bytes) = serde_json::to_vec(&value) else {
        return validate_json(request, settings, cluster);
    };
    let mut verdict = validate_json(&bytes, settings, cluster);
    if verdict.allowed {
        verdict.mutated_object = Some(defaulted);
    }
    verdict
}

/// Applies the secure defaults to the object of a request (JSON) where the request may have them
/// (see [`Scope`]), and returns the defaulted object; `None` when it is not such a request or
/// nothing was missing.
pub(crate) fn default_request(
    request: &mut serde_json::Value,
    defaults: &SecureDefaults,
) -> Option<serde_json::Value> {
    let text = |pointer: &str| {
        request
            .pointer(pointer)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
    };
    let target = match text("/resource/resource") {
        "" => Target::named(text("/kind/group"), text("/kind/kind")),
        resource => Target::named(text("/resource/group"), resource),
    }?;
    let pointer = target.pod_spec_pointer()?;
    let scope = match (target, text("/operation"), text("/subResource")) {
        (Target::Pod, "CREATE", "") => Scope::WholePod,
        (Target::Pod, "UPDATE", "ephemeralcontainers") => Scope::EphemeralContainersOnly,
        (Target::Controller(_), "CREATE" | "UPDATE", "") => Scope::WholePod,
        _ => return None,
    };
    let object = request.get_mut("object")?;
    secure_defaults::default_object(object, pointer, defaults, scope).then(|| object.clone())
}

/// Validates an AdmissionRequest already read (with [`strict::from_slice`], as part of a larger
/// document). A request the policy cannot evaluate is rejected with code 400, never let through.
pub fn validate(request: AdmissionRequest, settings: &Settings, cluster: &dyn Cluster) -> Verdict {
    decide(request, settings, cluster).unwrap_or_else(Verdict::bad_request)
}

/// Which target the request is, and whether its operation and subresource need a decision at all.
fn decide(
    mut request: AdmissionRequest,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Result<Verdict, String> {
    let operation = request.operation.as_deref().unwrap_or_default();
    match operation {
        "CREATE" | "UPDATE" => {}
        // Neither can make a pod run anything new.
        "DELETE" | "CONNECT" => return Ok(Verdict::allow()),
        other => {
            return Err(format!(
                "unsupported operation {other:?}: expected CREATE, UPDATE, DELETE or CONNECT"
            ));
        }
    }
    let update = operation == "UPDATE";
    let target = Target::of(&request)?;
    let sub_resource = request.sub_resource.as_deref().unwrap_or_default();
    match target {
        Target::Pod if IGNORED_POD_SUBRESOURCES.contains(&sub_resource) => {
            return Ok(Verdict::allow());
        }
        // Scale and status of a controller or a volume do not change what runs or what it mounts.
        // Nor do a namespace's status and finalizers, as PSA.
        Target::Controller(_) | Target::PersistentVolume | Target::Namespace
            if !sub_resource.is_empty() =>
        {
            return Ok(Verdict::allow());
        }
        _ => {}
    }
    let object = request
        .object
        .take()
        .ok_or("the admission request has no object to evaluate")?;
    match target {
        Target::PersistentVolume => targets::validate_persistent_volume(&request, object, settings),
        Target::Pod => targets::validate_pod(&mut request, object, update, settings, cluster),
        Target::Controller(controller) => {
            targets::validate_pod_controller(&request, object, controller, settings, cluster)
        }
        Target::Namespace => targets::validate_namespace(&mut request, object, settings, cluster),
    }
}

#[cfg(test)]
mod namespace_tests;
#[cfg(test)]
mod tests;

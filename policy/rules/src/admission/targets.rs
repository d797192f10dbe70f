//! Deciding per target, as PSA's `ValidatePod`, `ValidatePodController` and `ValidateNamespace`: a
//! pod, a pod controller's template, a Namespace's labels, or a PersistentVolume (the runtime
//! guard's only).

use super::levels::{deny_runtime_access, evaluate_with_guard};
use super::request::{AdmissionRequest, Object, PodController};
use crate::namespaces::{self, Cluster, NamespaceChange};
use crate::pod::Pod;
use crate::runtime_access;
use crate::settings::Settings;
use crate::verdict::Verdict;

/// A PersistentVolume: Pod Security has nothing to say about volumes, the runtime guard has.
pub(super) fn validate_persistent_volume(
    request: &AdmissionRequest,
    object: Object,
    settings: &Settings,
) -> Result<Verdict, String> {
    let volume = object.into_typed("the PersistentVolume", |object| match object {
        Object::PersistentVolume(volume) => Some(volume),
        _ => None,
    })?;
    let mut verdict = Verdict::allow();
    if settings.runtime_access.enabled {
        let violations = runtime_access::check_persistent_volume(&settings.runtime_access, &volume);
        let subject = subject(request, volume.metadata.name.as_deref());
        deny_runtime_access(&mut verdict, Some(&subject), &violations);
    }
    Ok(verdict)
}

/// A pod; on UPDATE only when the update changes what runs, as PSA.
pub(super) fn validate_pod(
    request: &mut AdmissionRequest,
    object: Object,
    update: bool,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Result<Verdict, String> {
    let as_pod = |object| match object {
        Object::Pod(pod) => Some(pod),
        _ => None,
    };
    let pod = object.into_typed("the pod", as_pod)?;
    let spec = pod.spec.as_ref().ok_or("the pod has no spec")?;
    if update {
        let old = request
            .old_object
            .take()
            .map(|old| old.into_typed("the old pod", as_pod))
            .transpose()?;
        if old.is_some_and(|old| !is_significant_update(&pod, &old)) {
            return Ok(Verdict::allow());
        }
    }
    Ok(evaluate_with_guard(
        request,
        settings,
        cluster,
        &pod.metadata,
        spec,
        None,
    ))
}

/// A pod controller, by its pod template: rejected like a pod by default, warned about as PSA does
/// in `podControllers: warn` mode.
pub(super) fn validate_pod_controller(
    request: &AdmissionRequest,
    object: Object,
    controller: PodController,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Result<Verdict, String> {
    let what = format!("the {}", request.kind.kind);
    let workload = object.into_typed(&what, |object| match object {
        Object::Workload(workload) => Some(workload),
        _ => None,
    })?;
    let subject = subject(request, workload.metadata.name.as_deref());
    let Some(template) = workload.template(controller) else {
        // Nothing to run yet (a ReplicationController may omit its template), as PSA.
        return Ok(Verdict::allow());
    };
    let spec = template
        .spec
        .as_ref()
        .ok_or_else(|| format!("{subject} has a pod template with no spec"))?;
    Ok(evaluate_with_guard(
        request,
        settings,
        cluster,
        &template.metadata,
        spec,
        Some(&subject),
    ))
}

/// A Namespace's labels, when the policy reads labels at all: with `namespaceLabels: false` they
/// mean nothing to it.
pub(super) fn validate_namespace(
    request: &mut AdmissionRequest,
    object: Object,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Result<Verdict, String> {
    if !settings.namespace_labels {
        return Ok(Verdict::allow());
    }
    let as_namespace = |object| match object {
        Object::Namespace(namespace) => Some(namespace),
        _ => None,
    };
    let new = object.into_typed("the Namespace", as_namespace)?;
    let old = if request.operation.as_deref() == Some("UPDATE") {
        let old = request
            .old_object
            .take()
            .ok_or("the Namespace UPDATE has no oldObject to compare the labels with")?;
        Some(old.into_typed("the old Namespace", as_namespace)?)
    } else {
        None
    };
    let name = request
        .name
        .as_deref()
        .or(new.metadata.name.as_deref())
        .unwrap_or_default();
    let change = NamespaceChange {
        name,
        new: &new,
        old: old.as_deref(),
    };
    Ok(namespaces::validate_namespace(&change, settings, cluster))
}

/// `Deployment "web"`, or the bare kind for an object without a name yet.
fn subject(request: &AdmissionRequest, name: Option<&str>) -> String {
    match name.or(request.name.as_deref()).unwrap_or_default() {
        "" => request.kind.kind.to_string(),
        name => format!("{} {name:?}", request.kind.kind),
    }
}
/// PSA's rule (`isSignificantPodUpdate` in k8s.io/pod-security-admission/admission/admission.go): an
/// update matters when it changes what runs: the number of containers or init containers, an image
/// (by index; ephemeral containers by name, or one added), or a seccomp annotation of the pod or of a
/// container, which were mutable when PSA was written. Metadata-only and most spec-only updates of a
/// running pod are not re-evaluated, so pods that predate the policy keep working.
fn is_significant_update(pod: &Pod, old: &Pod) -> bool {
    let (Some(spec), Some(old_spec)) = (&pod.spec, &old.spec) else {
        return true;
    };
    const POD_SECCOMP: &str = "seccomp.security.alpha.kubernetes.io/pod";
    if pod.metadata.annotations.get(POD_SECCOMP) != old.metadata.annotations.get(POD_SECCOMP) {
        return true;
    }
    if spec.containers.len() != old_spec.containers.len()
        || spec.init_containers.len() != old_spec.init_containers.len()
    {
        return true;
    }
    let changed = |container: &crate::pod::Container, old_container: &crate::pod::Container| {
        let key = format!(
            "container.seccomp.security.alpha.kubernetes.io/{}",
            container.name
        );
        container.image != old_container.image
            || pod.metadata.annotations.get(&key) != old.metadata.annotations.get(&key)
    };
    let by_index = spec
        .containers
        .iter()
        .zip(&old_spec.containers)
        .chain(spec.init_containers.iter().zip(&old_spec.init_containers));
    for (container, old_container) in by_index {
        if changed(container, old_container) {
            return true;
        }
    }
    spec.ephemeral_containers.iter().any(|container| {
        match old_spec
            .ephemeral_containers
            .iter()
            .find(|old| old.name == container.name)
        {
            None => true,
            Some(old_container) => changed(container, old_container),
        }
    })
}

//! Admission semantics: which requests are evaluated, at which levels, and what the response says.
//! Follows Kubernetes' Pod Security Admission, except that pod controllers are rejected by default
//! and the runtime guard applies on top, where PSA exempts too.

use crate::checks::{self, Forbidden};
use crate::level::Policy;
use crate::pod::{ObjectMeta, Pod, PodSpec};
use crate::runtime_access::{self, PersistentVolume};
use crate::settings::{ControllerMode, Settings};
use crate::strict;
use crate::verdict::Verdict;
use serde::Deserialize;
use serde_json::value::RawValue;

pub const ANNOTATION_PREFIX: &str = "pod-security.kubernetes.io/";

/// The fields of an AdmissionRequest this policy reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AdmissionRequest<'a> {
    #[serde(default)]
    kind: GroupVersionKind,
    resource: Option<GroupVersionResource>,
    sub_resource: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    operation: Option<String>,
    user_info: Option<UserInfo>,
    #[serde(borrow)]
    object: Option<&'a RawValue>,
    #[serde(borrow)]
    old_object: Option<&'a RawValue>,
}

#[derive(Debug, Default, Deserialize)]
struct GroupVersionKind {
    #[serde(default)]
    group: String,
    #[serde(default)]
    kind: String,
}

#[derive(Debug, Default, Deserialize)]
struct GroupVersionResource {
    #[serde(default)]
    group: String,
    #[serde(default)]
    resource: String,
}

#[derive(Debug, Default, Deserialize)]
struct UserInfo {
    username: Option<String>,
}

/// What an admitted object is, as far as Pod Security goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Pod,
    Controller(PodController),
    /// Only the runtime guard applies: Pod Security has nothing to say about volumes.
    PersistentVolume,
}

/// The resources that make pods, and where each keeps its pod template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PodController {
    PodTemplate,
    ReplicationController,
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
}

impl Target {
    const ALL: [(&'static str, &'static str, &'static str, Target); 10] = [
        ("", "pods", "Pod", Target::Pod),
        (
            "",
            "persistentvolumes",
            "PersistentVolume",
            Target::PersistentVolume,
        ),
        (
            "",
            "podtemplates",
            "PodTemplate",
            Target::Controller(PodController::PodTemplate),
        ),
        (
            "",
            "replicationcontrollers",
            "ReplicationController",
            Target::Controller(PodController::ReplicationController),
        ),
        (
            "apps",
            "deployments",
            "Deployment",
            Target::Controller(PodController::Deployment),
        ),
        (
            "apps",
            "replicasets",
            "ReplicaSet",
            Target::Controller(PodController::ReplicaSet),
        ),
        (
            "apps",
            "statefulsets",
            "StatefulSet",
            Target::Controller(PodController::StatefulSet),
        ),
        (
            "apps",
            "daemonsets",
            "DaemonSet",
            Target::Controller(PodController::DaemonSet),
        ),
        (
            "batch",
            "jobs",
            "Job",
            Target::Controller(PodController::Job),
        ),
        (
            "batch",
            "cronjobs",
            "CronJob",
            Target::Controller(PodController::CronJob),
        ),
    ];

    /// By resource when the request names one (as PSA dispatches), else by kind.
    fn of(request: &AdmissionRequest) -> Result<Target, String> {
        let found = match &request.resource {
            Some(resource) if !resource.resource.is_empty() => Self::ALL
                .iter()
                .find(|(group, name, _, _)| *group == resource.group && *name == resource.resource),
            _ => Self::ALL.iter().find(|(group, _, kind, _)| {
                *group == request.kind.group && *kind == request.kind.kind
            }),
        };
        found.map(|(_, _, _, target)| *target).ok_or_else(|| {
            let what = match &request.resource {
                Some(r) if !r.resource.is_empty() => format!("resource {:?}", qualified(&r.group, &r.resource)),
                _ => format!("kind {:?}", qualified(&request.kind.group, &request.kind.kind)),
            };
            format!(
                "restricted-pod-policy does not evaluate {what}: it evaluates pods and the resources that make \
                 pods; check the policy's rules"
            )
        })
    }
}

fn qualified(group: &str, name: &str) -> String {
    if group.is_empty() {
        name.to_string()
    } else {
        format!("{name}.{group}")
    }
}

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

/// Reviews one AdmissionRequest (JSON bytes) under the given settings.
pub fn review(request: &[u8], settings: &Settings) -> Verdict {
    let request: AdmissionRequest = match read("the admission request", request) {
        Ok(request) => request,
        Err(message) => return Verdict::bad_request(message),
    };
    match review_request(&request, settings) {
        Ok(verdict) => verdict,
        Err(message) => Verdict::bad_request(message),
    }
}

fn review_request(request: &AdmissionRequest, settings: &Settings) -> Result<Verdict, String> {
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
    let target = Target::of(request)?;
    let sub_resource = request.sub_resource.as_deref().unwrap_or_default();
    match target {
        Target::Pod if IGNORED_POD_SUBRESOURCES.contains(&sub_resource) => {
            return Ok(Verdict::allow());
        }
        // Scale and status of a controller or a volume do not change what runs or what it mounts.
        Target::Controller(_) | Target::PersistentVolume if !sub_resource.is_empty() => {
            return Ok(Verdict::allow());
        }
        _ => {}
    }

    let object = request
        .object
        .ok_or("the admission request has no object to evaluate")?;
    let object = object.get().as_bytes();
    match target {
        Target::PersistentVolume => {
            let volume: PersistentVolume = read("the PersistentVolume", object)?;
            let mut verdict = Verdict::allow();
            if settings.runtime_access.enabled {
                let violations =
                    runtime_access::check_persistent_volume(&settings.runtime_access, &volume);
                let subject = subject(request, volume.metadata.name.as_deref());
                deny_runtime_access(&mut verdict, Some(&subject), &violations);
            }
            Ok(verdict)
        }
        Target::Pod => {
            let pod: Pod = read("the pod", object)?;
            let spec = pod.spec.as_ref().ok_or("the pod has no spec")?;
            // The background audit scanner sends no userInfo: it evaluates every pod like a CREATE.
            if operation == "UPDATE" && request.user_info.is_some() {
                let old = request
                    .old_object
                    .map(|old| read::<Pod>("the old pod", old.get().as_bytes()))
                    .transpose()?;
                if old.is_some_and(|old| !is_significant_update(&pod, &old)) {
                    return Ok(Verdict::allow());
                }
            }
            Ok(evaluate_with_guard(
                request,
                settings,
                &pod.metadata,
                spec,
                None,
            ))
        }
        Target::Controller(controller) => {
            let workload: Workload = read(&format!("the {}", request.kind.kind), object)?;
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
                &template.metadata,
                spec,
                Some(&subject),
            ))
        }
    }
}

/// `Deployment "web"`, or the bare kind for an object without a name yet.
fn subject(request: &AdmissionRequest, name: Option<&str>) -> String {
    match name.or(request.name.as_deref()).unwrap_or_default() {
        "" => request.kind.kind.clone(),
        name => format!("{} {name:?}", request.kind.kind),
    }
}

/// The Pod Security verdict, then the runtime guard, which holds where Pod Security is relaxed:
/// at `privileged`, for exempt users, namespaces and runtime classes, and for controllers in warn mode.
fn evaluate_with_guard(
    request: &AdmissionRequest,
    settings: &Settings,
    metadata: &ObjectMeta,
    spec: &PodSpec,
    subject: Option<&str>,
) -> Verdict {
    let exemptions = &settings.exemptions;
    let username = request.user_info.as_ref().and_then(|u| u.username.as_ref());
    let mut verdict = if request
        .namespace
        .as_ref()
        .is_some_and(|ns| exemptions.namespaces.contains(ns))
    {
        Verdict::exempt("namespace")
    } else if username.is_some_and(|user| exemptions.usernames.contains(user)) {
        Verdict::exempt("user")
    } else {
        evaluate(settings, metadata, spec, subject)
    };
    if settings
        .runtime_access
        .applies_in(request.namespace.as_deref())
    {
        let violations = runtime_access::check_pod(&settings.runtime_access, spec);
        deny_runtime_access(&mut verdict, subject, &violations);
    }
    verdict
}

/// Adds the guard's violations to a verdict: they deny it, after any Pod Security violation.
fn deny_runtime_access(verdict: &mut Verdict, subject: Option<&str>, violations: &[String]) {
    if violations.is_empty() {
        return;
    }
    let violated = format!("violates runtimeAccess: {}", violations.join("; "));
    if !verdict.allowed {
        let message = verdict.message.take().unwrap_or_default();
        verdict.deny_with(format!("{message}; {violated}"));
        return;
    }
    verdict.warnings.clear();
    match subject {
        Some(subject) => verdict.deny_with(format!("{subject}: {violated}")),
        None => verdict.deny_with(violated),
    }
}

/// Parses JSON strictly, naming the path of the first field that cannot be read.
fn read<'de, T: Deserialize<'de>>(what: &str, bytes: &'de [u8]) -> Result<T, String> {
    strict::from_slice(bytes).map_err(|err| format!("cannot read {what}: {err}"))
}

/// PSA's rule: an update matters when it changes what runs; metadata-only and most spec-only updates
/// of a running pod are not re-evaluated, so pods that predate the policy keep working.
fn is_significant_update(pod: &Pod, old: &Pod) -> bool {
    let (Some(spec), Some(old_spec)) = (&pod.spec, &old.spec) else {
        return true;
    };
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

/// A pod-making object: wherever its kind keeps the pod template.
#[derive(Debug, Deserialize)]
struct Workload {
    #[serde(default)]
    metadata: ObjectMeta,
    spec: Option<WorkloadSpec>,
    /// PodTemplate keeps its template at the top level.
    template: Option<Pod>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkloadSpec {
    template: Option<Pod>,
    job_template: Option<JobTemplate>,
}

#[derive(Debug, Deserialize)]
struct JobTemplate {
    spec: Option<JobSpec>,
}

#[derive(Debug, Deserialize)]
struct JobSpec {
    template: Option<Pod>,
}

impl Workload {
    fn template(&self, controller: PodController) -> Option<&Pod> {
        let spec = self.spec.as_ref();
        match controller {
            PodController::PodTemplate => self.template.as_ref(),
            PodController::CronJob => spec?
                .job_template
                .as_ref()?
                .spec
                .as_ref()?
                .template
                .as_ref(),
            _ => spec?.template.as_ref(),
        }
    }
}

/// Evaluates a pod (subject `None`) or a controller's pod template at the enforce, audit and warn policies.
fn evaluate(
    settings: &Settings,
    metadata: &ObjectMeta,
    spec: &PodSpec,
    subject: Option<&str>,
) -> Verdict {
    let runtime_class = spec.runtime_class_name.as_ref();
    if runtime_class.is_some_and(|class| settings.exemptions.runtime_classes.contains(class)) {
        return Verdict::exempt("runtimeClass");
    }
    let mut evaluated: Vec<(Policy, Vec<Forbidden>)> = Vec::new();
    let mut failures_at = |policy: Policy| -> String {
        if let Some((_, failures)) = evaluated.iter().find(|(p, _)| *p == policy) {
            return checks::aggregate(failures);
        }
        let failures = checks::evaluate(policy, metadata, spec);
        let text = checks::aggregate(&failures);
        evaluated.push((policy, failures));
        text
    };

    let mut verdict = Verdict::allow();
    verdict.audit_annotations.insert(
        format!("{ANNOTATION_PREFIX}enforce-policy"),
        settings.enforce.to_string(),
    );
    let enforce = failures_at(settings.enforce);
    if !enforce.is_empty() {
        let violated = format!("PodSecurity \"{}\": {enforce}", settings.enforce);
        match (subject, settings.pod_controllers) {
            (None, _) => verdict.deny_with(format!("violates {violated}")),
            (Some(subject), ControllerMode::Enforce) => {
                verdict.deny_with(format!("{subject}: violates {violated}"))
            }
            (Some(subject), ControllerMode::Warn) => verdict
                .warnings
                .push(format!("{subject}: would violate {violated}")),
        }
    }
    if let Some(audit) = settings.audit {
        let failures = failures_at(audit);
        if !failures.is_empty() {
            verdict.audit_annotations.insert(
                format!("{ANNOTATION_PREFIX}audit-violations"),
                format!("would violate PodSecurity \"{audit}\": {failures}"),
            );
        }
    }
    // As PSA: no warnings on a request that is rejected anyway.
    if let Some(warn) = settings.warn.filter(|_| verdict.allowed) {
        let already_warned = subject.is_some() && warn == settings.enforce && !enforce.is_empty();
        let failures = failures_at(warn);
        if !failures.is_empty() && !already_warned {
            verdict
                .warnings
                .push(format!("would violate PodSecurity \"{warn}\": {failures}"));
        }
    }
    verdict
}

#[cfg(test)]
mod tests;

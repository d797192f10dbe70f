//! Admission semantics: which requests are evaluated, at which levels, and what the response says.
//! Follows Kubernetes' Pod Security Admission, except that pod controllers are rejected by default
//! and the runtime guard applies on top, where PSA exempts too.

use crate::checks::{self, Forbidden};
use crate::level::Policy;
use crate::pod::Text;
use crate::pod::{ObjectMeta, Pod, PodSpec};
use crate::runtime_access::{self, PersistentVolume};
use crate::settings::{ControllerMode, Settings};
use crate::strict;
use crate::verdict::Verdict;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;
use std::marker::PhantomData;

pub const ANNOTATION_PREFIX: &str = "pod-security.kubernetes.io/";

/// The fields of an AdmissionRequest this policy reads, with the object read in the same pass.
///
/// The API server writes `kind` and `resource` before `object`, so the object's type is known when
/// the reader reaches it and it is parsed once, typed. In any other order it is kept raw (one
/// skip-scan) and parsed when the request has been read.
#[derive(Debug, Default)]
pub struct AdmissionRequest<'a> {
    kind: GroupVersionKind<'a>,
    resource: Option<GroupVersionResource<'a>>,
    sub_resource: Option<Text<'a>>,
    name: Option<Text<'a>>,
    namespace: Option<Text<'a>>,
    operation: Option<Text<'a>>,
    user_info: Option<UserInfo<'a>>,
    object: Option<Object<'a>>,
    old_object: Option<Object<'a>>,
}

/// An admitted object as read: typed by the resource, or raw when the resource came after it.
#[derive(Debug)]
enum Object<'a> {
    Pod(Box<Pod<'a>>),
    Workload(Box<Workload<'a>>),
    PersistentVolume(Box<PersistentVolume<'a>>),
    Raw(&'a RawValue),
    /// An old object nothing reads (only a pod's is compared): skipped unparsed.
    Unread,
}

#[derive(Debug, Default, Deserialize)]
struct GroupVersionKind<'a> {
    #[serde(borrow, default)]
    group: Text<'a>,
    #[serde(borrow, default)]
    kind: Text<'a>,
}

#[derive(Debug, Default, Deserialize)]
struct GroupVersionResource<'a> {
    #[serde(borrow, default)]
    group: Text<'a>,
    #[serde(borrow, default)]
    resource: Text<'a>,
}

#[derive(Debug, Default, Deserialize)]
struct UserInfo<'a> {
    #[serde(borrow)]
    username: Option<Text<'a>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for AdmissionRequest<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RequestVisitor(PhantomData))
    }
}

struct RequestVisitor<'a>(PhantomData<AdmissionRequest<'a>>);

impl<'de: 'a, 'a> Visitor<'de> for RequestVisitor<'a> {
    type Value = AdmissionRequest<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an AdmissionRequest object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AdmissionRequest<'a>, A::Error> {
        let mut request = AdmissionRequest::default();
        let (mut seen_kind, mut seen_resource) = (false, false);
        let mut seen = 0u16;
        while let Some(key) = map.next_key::<Text<'a>>()? {
            if let Some(field) = REQUEST_FIELDS.iter().position(|field| key == *field) {
                if seen & (1 << field) != 0 {
                    return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
                }
                seen |= 1 << field;
            }
            match key.as_str() {
                "kind" => {
                    request.kind = map.next_value()?;
                    seen_kind = true;
                }
                "resource" => {
                    request.resource = map.next_value()?;
                    seen_resource = true;
                }
                "subResource" => request.sub_resource = map.next_value()?,
                "name" => request.name = map.next_value()?,
                "namespace" => request.namespace = map.next_value()?,
                "operation" => request.operation = map.next_value()?,
                "userInfo" => request.user_info = map.next_value()?,
                "object" | "oldObject" => {
                    // The object's type, when both fields that decide it have been read.
                    let target = (seen_kind && seen_resource)
                        .then(|| Target::of(&request).ok())
                        .flatten();
                    let old = key == "oldObject";
                    let object = map.next_value_seed(ObjectSeed {
                        target,
                        old,
                        object: PhantomData,
                    })?;
                    if old {
                        request.old_object = object;
                    } else {
                        request.object = object;
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(request)
    }
}

const REQUEST_FIELDS: [&str; 9] = [
    "kind",
    "resource",
    "subResource",
    "name",
    "namespace",
    "operation",
    "userInfo",
    "object",
    "oldObject",
];

/// Reads `object` or `oldObject` as the type its target needs, raw if the target is not known yet.
struct ObjectSeed<'a> {
    target: Option<Target>,
    old: bool,
    object: PhantomData<Object<'a>>,
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for ObjectSeed<'a> {
    type Value = Option<Object<'a>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for ObjectSeed<'a> {
    type Value = Option<Object<'a>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let object = match (self.target, self.old) {
            (None, _) => Object::Raw(Deserialize::deserialize(deserializer)?),
            (Some(Target::Pod), _) => Object::Pod(Deserialize::deserialize(deserializer)?),
            (Some(_), true) => {
                IgnoredAny::deserialize(deserializer)?;
                Object::Unread
            }
            (Some(Target::Controller(_)), false) => {
                Object::Workload(Deserialize::deserialize(deserializer)?)
            }
            (Some(Target::PersistentVolume), false) => {
                Object::PersistentVolume(Deserialize::deserialize(deserializer)?)
            }
        };
        Ok(Some(object))
    }
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
                .find(|(group, name, _, _)| resource.group == *group && resource.resource == *name),
            _ => Self::ALL.iter().find(|(group, _, kind, _)| {
                request.kind.group == *group && request.kind.kind == *kind
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
    match strict::from_slice::<AdmissionRequest>(request) {
        Ok(parsed) => review_request(parsed, settings),
        Err(error) => Verdict::bad_request(unreadable(request, &error)),
    }
}

/// Reviews an AdmissionRequest already read (with [`strict::from_slice`], as part of a larger document).
pub fn review_request(request: AdmissionRequest, settings: &Settings) -> Verdict {
    match review_read(request, settings) {
        Ok(verdict) => verdict,
        Err(message) => Verdict::bad_request(message),
    }
}

/// An AdmissionRequest delivered together with the policy's settings in one JSON document,
/// `{"request": …, "settings": …}` (Kubewarden's `validate` payload), read in one pass.
#[derive(Deserialize)]
pub struct RequestWithSettings<'a> {
    #[serde(borrow)]
    pub request: AdmissionRequest<'a>,
    /// Kept as text, for [`Settings::from_json`].
    #[serde(borrow, default)]
    pub settings: Option<&'a RawValue>,
}

impl<'a> RequestWithSettings<'a> {
    /// Reads the document strictly. Reading it here, not in the caller's crate, keeps one copy of
    /// the pod reader in the module: release builds do not share generic instances across crates.
    pub fn read(bytes: &'a [u8]) -> Result<Self, strict::ReadError> {
        strict::from_slice(bytes)
    }
}

/// Says what part of an unreadable request is wrong: the object, named by its kind, or the request.
fn unreadable(request: &[u8], error: &strict::ReadError) -> String {
    let (field, inner_path) = error
        .path
        .split_once('.')
        .unwrap_or((error.path.as_str(), ""));
    let what = match field {
        "object" | "oldObject" => object_name(request, field == "oldObject"),
        _ => None,
    };
    match what {
        Some(what) if inner_path.is_empty() => format!("cannot read {what}: {}", error.message()),
        Some(what) => format!("cannot read {what}: {inner_path}: {}", error.message()),
        None => format!("cannot read the admission request: {error}"),
    }
}

/// "the pod", "the old pod", "the Deployment": what the request's object is, when that can be read.
fn object_name(request: &[u8], old: bool) -> Option<String> {
    #[derive(Deserialize)]
    struct Header<'a> {
        #[serde(borrow, default)]
        kind: GroupVersionKind<'a>,
        #[serde(borrow)]
        resource: Option<GroupVersionResource<'a>>,
    }
    let header: Header = serde_json::from_slice(request).ok()?;
    let request = AdmissionRequest {
        kind: header.kind,
        resource: header.resource,
        ..AdmissionRequest::default()
    };
    Some(match Target::of(&request).ok()? {
        Target::Pod if old => "the old pod".to_string(),
        Target::Pod => "the pod".to_string(),
        Target::PersistentVolume => "the PersistentVolume".to_string(),
        Target::Controller(_) => format!("the {}", request.kind.kind),
    })
}

impl<'a> Object<'a> {
    /// The object as the type its target reads: as it was read, or parsed now from the raw text.
    fn into_typed<T: Deserialize<'a>>(
        self,
        what: &str,
        typed: fn(Object<'a>) -> Option<T>,
    ) -> Result<T, String> {
        match self {
            Object::Raw(raw) => read(what, raw.get().as_bytes()),
            // The reader types an object by the same target that asks for it here.
            other => typed(other).ok_or_else(|| format!("{what} was read as another kind")),
        }
    }
}

fn review_read(mut request: AdmissionRequest, settings: &Settings) -> Result<Verdict, String> {
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
        Target::Controller(_) | Target::PersistentVolume if !sub_resource.is_empty() => {
            return Ok(Verdict::allow());
        }
        _ => {}
    }

    let object = request
        .object
        .take()
        .ok_or("the admission request has no object to evaluate")?;
    match target {
        Target::PersistentVolume => {
            let volume = object.into_typed("the PersistentVolume", |object| match object {
                Object::PersistentVolume(volume) => Some(volume),
                _ => None,
            })?;
            let mut verdict = Verdict::allow();
            if settings.runtime_access.enabled {
                let violations =
                    runtime_access::check_persistent_volume(&settings.runtime_access, &volume);
                let subject = subject(&request, volume.metadata.name.as_deref());
                deny_runtime_access(&mut verdict, Some(&subject), &violations);
            }
            Ok(verdict)
        }
        Target::Pod => {
            let as_pod = |object| match object {
                Object::Pod(pod) => Some(pod),
                _ => None,
            };
            let pod = object.into_typed("the pod", as_pod)?;
            let spec = pod.spec.as_ref().ok_or("the pod has no spec")?;
            // The background audit scanner sends no userInfo: it evaluates every pod like a CREATE.
            if update && request.user_info.is_some() {
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
                &request,
                settings,
                &pod.metadata,
                spec,
                None,
            ))
        }
        Target::Controller(controller) => {
            let what = format!("the {}", request.kind.kind);
            let workload = object.into_typed(&what, |object| match object {
                Object::Workload(workload) => Some(workload),
                _ => None,
            })?;
            let subject = subject(&request, workload.metadata.name.as_deref());
            let Some(template) = workload.template(controller) else {
                // Nothing to run yet (a ReplicationController may omit its template), as PSA.
                return Ok(Verdict::allow());
            };
            let spec = template
                .spec
                .as_ref()
                .ok_or_else(|| format!("{subject} has a pod template with no spec"))?;
            Ok(evaluate_with_guard(
                &request,
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
        "" => request.kind.kind.to_string(),
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
    let mut verdict = if request.namespace.as_ref().is_some_and(|ns| {
        exemptions
            .namespaces
            .iter()
            .any(|exempt| ns == exempt.as_str())
    }) {
        Verdict::exempt("namespace")
    } else if username.is_some_and(|user| {
        exemptions
            .usernames
            .iter()
            .any(|exempt| user == exempt.as_str())
    }) {
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

/// A pod-making object: wherever its kind keeps the pod template.
#[derive(Debug, Deserialize)]
struct Workload<'a> {
    #[serde(borrow, default)]
    metadata: ObjectMeta<'a>,
    #[serde(borrow)]
    spec: Option<WorkloadSpec<'a>>,
    /// PodTemplate keeps its template at the top level.
    #[serde(borrow)]
    template: Option<Pod<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkloadSpec<'a> {
    #[serde(borrow)]
    template: Option<Pod<'a>>,
    #[serde(borrow)]
    job_template: Option<JobTemplate<'a>>,
}

#[derive(Debug, Deserialize)]
struct JobTemplate<'a> {
    #[serde(borrow)]
    spec: Option<JobSpec<'a>>,
}

#[derive(Debug, Deserialize)]
struct JobSpec<'a> {
    #[serde(borrow)]
    template: Option<Pod<'a>>,
}

impl<'a> Workload<'a> {
    fn template(&self, controller: PodController) -> Option<&Pod<'a>> {
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
    if runtime_class.is_some_and(|class| {
        settings
            .exemptions
            .runtime_classes
            .iter()
            .any(|exempt| class == exempt.as_str())
    }) {
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

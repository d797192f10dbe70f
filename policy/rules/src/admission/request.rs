//! Reading an AdmissionRequest: the fields this policy reads, with the object typed in the same
//! pass by what it is (a pod, a pod controller, a PersistentVolume), and errors that say which part
//! of the request cannot be read.

use crate::namespaces::Namespace;
use crate::pod::{ObjectMeta, Pod, Text};
use crate::runtime_access::PersistentVolume;
use crate::strict;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;
use std::marker::PhantomData;

/// The fields of an AdmissionRequest this policy reads, with the object read in the same pass.
///
/// The API server writes `kind` and `resource` before `object`, so the object's type is known when
/// the reader reaches it and it is parsed once, typed. In any other order it is kept raw (one
/// skip-scan) and parsed when the request has been read.
#[derive(Debug, Default)]
pub struct AdmissionRequest<'a> {
    pub(super) kind: GroupVersionKind<'a>,
    pub(super) resource: Option<GroupVersionResource<'a>>,
    pub(super) sub_resource: Option<Text<'a>>,
    pub(super) name: Option<Text<'a>>,
    pub(super) namespace: Option<Text<'a>>,
    pub(super) operation: Option<Text<'a>>,
    pub(super) user_info: Option<UserInfo<'a>>,
    pub(super) object: Option<Object<'a>>,
    pub(super) old_object: Option<Object<'a>>,
}

/// An admitted object as read: typed by the resource, or raw when the resource came after it.
#[derive(Debug)]
pub(super) enum Object<'a> {
    Pod(Box<Pod<'a>>),
    Workload(Box<Workload<'a>>),
    PersistentVolume(Box<PersistentVolume<'a>>),
    Namespace(Box<Namespace<'a>>),
    Raw(&'a RawValue),
    /// An old object nothing reads (only a pod's is compared): skipped unparsed.
    Unread,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct GroupVersionKind<'a> {
    #[serde(borrow, default)]
    pub(super) group: Text<'a>,
    #[serde(borrow, default)]
    pub(super) kind: Text<'a>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct GroupVersionResource<'a> {
    #[serde(borrow, default)]
    group: Text<'a>,
    #[serde(borrow, default)]
    resource: Text<'a>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct UserInfo<'a> {
    #[serde(borrow)]
    pub(super) username: Option<Text<'a>>,
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
            (Some(Target::Namespace), _) => {
                Object::Namespace(Deserialize::deserialize(deserializer)?)
            }
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
pub(super) enum Target {
    Pod,
    Controller(PodController),
    /// Only the runtime guard applies: Pod Security has nothing to say about volumes.
    PersistentVolume,
    /// Its Pod Security labels are validated, as PSA does.
    Namespace,
}

/// The resources that make pods, and where each keeps its pod template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PodController {
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
    const ALL: [(&'static str, &'static str, &'static str, Target); 11] = [
        ("", "pods", "Pod", Target::Pod),
        ("", "namespaces", "Namespace", Target::Namespace),
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

    /// By resource when the request names one (as PSA dispatches), else by kind. A resource may be
    /// named by its kind too, as Kubewarden's audit scanner names it (`"resource": "Pod"`).
    pub(super) fn of(request: &AdmissionRequest) -> Result<Target, String> {
        let found = match &request.resource {
            Some(resource) if !resource.resource.is_empty() => {
                Self::named(&resource.group, &resource.resource)
            }
            _ => Self::ALL
                .iter()
                .find(|(group, _, kind, _)| {
                    request.kind.group == *group && request.kind.kind == *kind
                })
                .map(|(_, _, _, target)| *target),
        };
        found.ok_or_else(|| {
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

impl Target {
    /// The target a resource of `group` names, by its API name or its kind.
    pub(crate) fn named(group: &str, resource: &str) -> Option<Target> {
        Self::ALL
            .iter()
            .find(|(in_group, name, kind, _)| {
                group == *in_group && (resource == *name || resource == *kind)
            })
            .map(|(_, _, _, target)| *target)
    }

    /// Where the object keeps its pod spec, as a JSON pointer; `None` for what has no pods.
    pub(crate) fn pod_spec_pointer(self) -> Option<&'static str> {
        Some(match self {
            Target::Pod => "/spec",
            Target::Controller(PodController::PodTemplate) => "/template/spec",
            Target::Controller(PodController::CronJob) => "/spec/jobTemplate/spec/template/spec",
            Target::Controller(_) => "/spec/template/spec",
            Target::PersistentVolume | Target::Namespace => return None,
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
pub(super) fn unreadable(request: &[u8], error: &strict::ReadError) -> String {
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
        Target::Namespace if old => "the old Namespace".to_string(),
        Target::Namespace => "the Namespace".to_string(),
        Target::Controller(_) => format!("the {}", request.kind.kind),
    })
}

impl<'a> Object<'a> {
    /// The object as the type its target reads: as it was read, or parsed now from the raw text.
    pub(super) fn into_typed<T: Deserialize<'a>>(
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

/// Parses JSON strictly, naming the path of the first field that cannot be read.
fn read<'de, T: Deserialize<'de>>(what: &str, bytes: &'de [u8]) -> Result<T, String> {
    strict::from_slice(bytes).map_err(|err| format!("cannot read {what}: {err}"))
}

/// A pod-making object: wherever its kind keeps the pod template.
#[derive(Debug, Deserialize)]
pub(super) struct Workload<'a> {
    #[serde(borrow, default)]
    pub(super) metadata: ObjectMeta<'a>,
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
    pub(super) fn template(&self, controller: PodController) -> Option<&Pod<'a>> {
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

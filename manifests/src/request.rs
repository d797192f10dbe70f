//! A manifest object as the AdmissionRequest the API server would send the policy on CREATE.

use serde::Serialize;
use serde_json::{Value, json};

/// A kind the policy evaluates: where the API serves it and whether it lives in a namespace.
struct EvaluatedKind {
    kind: &'static str,
    /// The API group today, and the groups older manifests may name it in.
    group: &'static str,
    legacy_groups: &'static [&'static str],
    version: &'static str,
    resource: &'static str,
    namespaced: bool,
}

/// Pods, every pod controller, PodTemplates, PersistentVolumes and Namespaces: what `metadata.yml`
/// sends the policy. Deployments, ReplicaSets and DaemonSets were once served by `extensions` too.
const EVALUATED_KINDS: &[EvaluatedKind] = &[
    core("Pod", "pods", true),
    core("PodTemplate", "podtemplates", true),
    core("ReplicationController", "replicationcontrollers", true),
    core("PersistentVolume", "persistentvolumes", false),
    core("Namespace", "namespaces", false),
    workload("apps", &["extensions"], "Deployment", "deployments"),
    workload("apps", &["extensions"], "ReplicaSet", "replicasets"),
    workload("apps", &["extensions"], "DaemonSet", "daemonsets"),
    workload("apps", &[], "StatefulSet", "statefulsets"),
    workload("batch", &[], "Job", "jobs"),
    workload("batch", &[], "CronJob", "cronjobs"),
];

const fn core(kind: &'static str, resource: &'static str, namespaced: bool) -> EvaluatedKind {
    EvaluatedKind {
        kind,
        group: "",
        legacy_groups: &[],
        version: "v1",
        resource,
        namespaced,
    }
}

const fn workload(
    group: &'static str,
    legacy_groups: &'static [&'static str],
    kind: &'static str,
    resource: &'static str,
) -> EvaluatedKind {
    EvaluatedKind {
        kind,
        group,
        legacy_groups,
        version: "v1",
        resource,
        namespaced: true,
    }
}

/// Which object this is, as reports name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl ObjectRef {
    /// `Kind/name` or `Kind ns/name`, as people read it.
    pub fn display(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{} {namespace}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// Who sends the requests, so that exemptions by user can be tried.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// For objects that do not name their namespace.
    pub namespace: String,
    pub username: String,
    pub groups: Vec<String>,
}

/// What becomes of an object.
#[derive(Debug)]
pub enum Target {
    /// Evaluated with this AdmissionRequest.
    Evaluated(ObjectRef, Value),
    /// A kind the policy is not sent.
    Skipped(ObjectRef),
}

/// The request for `object` (which has a string `apiVersion` and `kind`), or why there is none.
pub fn target(object: Value, context: &RequestContext, uid: &str) -> Target {
    let api_version = object["apiVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let kind = object["kind"].as_str().unwrap_or_default().to_string();
    let (group, version) = match api_version.split_once('/') {
        Some((group, version)) => (group.to_string(), version.to_string()),
        None => (String::new(), api_version.clone()),
    };
    let evaluated = EVALUATED_KINDS.iter().find(|known| {
        known.kind == kind
            && (known.group == group || known.legacy_groups.contains(&group.as_str()))
    });
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let own_namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .filter(|namespace| !namespace.is_empty());
    // An evaluated namespaced object without one lands in the default; for kinds the policy is not
    // sent, only what the manifest says is known (a Namespace has none).
    let namespace = match evaluated {
        Some(known) if known.namespaced => {
            Some(own_namespace.unwrap_or(&context.namespace).to_string())
        }
        Some(_) => None,
        None => own_namespace.map(str::to_string),
    };
    let object_ref = ObjectRef {
        api_version,
        kind: kind.clone(),
        name: name.clone(),
        namespace: namespace.clone(),
    };
    let Some(known) = evaluated else {
        return Target::Skipped(object_ref);
    };
    // The policy's webhook matches equivalent versions, so the API server converts an old
    // `extensions/v1beta1` Deployment to `apps/v1` before sending it; `requestKind` says what was sent.
    let mut request = json!({
        "uid": uid,
        "kind": {"group": known.group, "version": known.version, "kind": known.kind},
        "resource": {"group": known.group, "version": known.version, "resource": known.resource},
        "requestKind": {"group": group, "version": version, "kind": kind},
        "requestResource": {"group": group, "version": version, "resource": known.resource},
        "name": name,
        "operation": "CREATE",
        "userInfo": {"username": context.username, "groups": context.groups},
        "object": object,
        "dryRun": false,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
    });
    if let Some(namespace) = &namespace {
        request["namespace"] = json!(namespace);
    }
    Target::Evaluated(object_ref, request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> RequestContext {
        RequestContext {
            namespace: "team-a".to_string(),
            username: "ci".to_string(),
            groups: vec!["system:authenticated".to_string()],
        }
    }

    #[test]
    fn a_pod_becomes_a_create_in_its_namespace_or_the_default_one() {
        let Target::Evaluated(object_ref, request) = target(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}),
            &context(),
            "u1",
        ) else {
            panic!()
        };
        assert_eq!(object_ref.display(), "Pod team-a/p");
        assert_eq!(
            request["kind"],
            json!({"group": "", "version": "v1", "kind": "Pod"})
        );
        assert_eq!(request["resource"]["resource"], "pods");
        assert_eq!(request["namespace"], "team-a");
        assert_eq!(request["operation"], "CREATE");
        assert_eq!(request["userInfo"]["username"], "ci");

        let Target::Evaluated(_, request) = target(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "prod"}}),
            &context(),
            "u2",
        ) else {
            panic!()
        };
        assert_eq!(request["namespace"], "prod");
    }

    #[test]
    fn an_old_deployment_is_sent_as_apps_v1() {
        let Target::Evaluated(_, request) = target(
            json!({"apiVersion": "extensions/v1beta1", "kind": "Deployment", "metadata": {"name": "d"}}),
            &context(),
            "u",
        ) else {
            panic!()
        };
        assert_eq!(
            request["kind"],
            json!({"group": "apps", "version": "v1", "kind": "Deployment"})
        );
        assert_eq!(request["requestKind"]["group"], "extensions");
    }

    #[test]
    fn persistent_volumes_have_no_namespace_and_other_kinds_are_skipped() {
        let Target::Evaluated(object_ref, request) = target(
            json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv"}}),
            &context(),
            "u",
        ) else {
            panic!()
        };
        assert_eq!(object_ref.namespace, None);
        assert!(request.get("namespace").is_none());
        assert!(matches!(
            target(
                json!({"apiVersion": "v1", "kind": "ConfigMap"}),
                &context(),
                "u"
            ),
            Target::Skipped(_)
        ));
        assert!(matches!(
            target(
                json!({"apiVersion": "example.com/v1", "kind": "Deployment"}),
                &context(),
                "u"
            ),
            Target::Skipped(_)
        ));
    }
}

use super::*;
use crate::namespaces::fixture::FixtureCluster;
use serde_json::{Value, json};

fn pod(name: &str, privileged: bool) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "nginx", "securityContext": {
            "privileged": privileged, "allowPrivilegeEscalation": false, "runAsNonRoot": true,
            "seccompProfile": {"type": "RuntimeDefault"}, "capabilities": {"drop": ["ALL"]}}}]}
    })
}

fn request(kind: (&str, &str), resource: &str, operation: &str, object: Value) -> Value {
    json!({"uid": "u", "kind": {"group": kind.0, "version": "v1", "kind": kind.1},
           "resource": {"group": kind.0, "version": "v1", "resource": resource},
           "operation": operation, "namespace": "team", "name": "x",
           "userInfo": {"username": "alice"}, "object": object})
}

/// Reviews the request twice: as the API server writes it (`kind` and `resource` before `object`,
/// read in one pass) and with its fields by name (`object` first, read raw and then typed). Both
/// readings must agree, so every test here covers both.
fn review_json(request: &Value, settings: Value) -> Verdict {
    let settings = Settings::from_value(&settings).expect("valid settings");
    let by_name = validate_json(
        &serde_json::to_vec(request).unwrap(),
        &settings,
        &FixtureCluster::unlabelled(),
    );
    let in_api_order = validate_json(
        &api_order(request),
        &settings,
        &FixtureCluster::unlabelled(),
    );
    // Messages name the field, never a position in the payload, so both readings say the same.
    assert_eq!(by_name, in_api_order, "the two field orders disagree");
    in_api_order
}

/// The request's JSON with `kind` and `resource` first, as the API server orders them.
fn api_order(request: &Value) -> Vec<u8> {
    let fields = request.as_object().expect("the request is an object");
    let first = ["kind", "resource"];
    let ordered = first
        .iter()
        .filter_map(|name| fields.get_key_value(*name))
        .chain(
            fields
                .iter()
                .filter(|(name, _)| !first.contains(&name.as_str())),
        );
    let members: Vec<String> = ordered
        .map(|(name, value)| format!("{}:{value}", json!(name)))
        .collect();
    format!("{{{}}}", members.join(",")).into_bytes()
}

#[test]
fn compliant_pod_is_allowed_with_the_enforce_policy_recorded() {
    let verdict = review_json(
        &request(("", "Pod"), "pods", "CREATE", pod("ok", false)),
        json!({}),
    );
    assert!(verdict.allowed, "{verdict:?}");
    assert_eq!(
        verdict.audit_annotations["pod-security.kubernetes.io/enforce-policy"],
        "restricted:latest"
    );
}

#[test]
fn violating_pod_is_denied_with_the_reference_message() {
    let verdict = review_json(
        &request(("", "Pod"), "pods", "CREATE", pod("bad", true)),
        json!({}),
    );
    assert!(!verdict.allowed);
    assert_eq!(verdict.code, Some(403));
    assert_eq!(
        verdict.message.as_deref(),
        Some(
            "violates PodSecurity \"restricted:latest\": privileged (container \"app\" must not set securityContext.privileged=true)"
        )
    );
}

#[test]
fn every_controller_kind_is_evaluated_on_its_template() {
    let template =
        json!({"metadata": {"labels": {"a": "b"}}, "spec": pod("t", true)["spec"].clone()});
    let cases = [
        (
            ("apps", "Deployment"),
            "deployments",
            json!({"spec": {"template": template}}),
        ),
        (
            ("apps", "ReplicaSet"),
            "replicasets",
            json!({"spec": {"template": template}}),
        ),
        (
            ("apps", "StatefulSet"),
            "statefulsets",
            json!({"spec": {"template": template}}),
        ),
        (
            ("apps", "DaemonSet"),
            "daemonsets",
            json!({"spec": {"template": template}}),
        ),
        (
            ("batch", "Job"),
            "jobs",
            json!({"spec": {"template": template}}),
        ),
        (
            ("batch", "CronJob"),
            "cronjobs",
            json!({"spec": {"jobTemplate": {"spec": {"template": template}}}}),
        ),
        (
            ("", "ReplicationController"),
            "replicationcontrollers",
            json!({"spec": {"template": template}}),
        ),
        (
            ("", "PodTemplate"),
            "podtemplates",
            json!({"template": template}),
        ),
    ];
    for (kind, resource, mut object) in cases {
        object["metadata"] = json!({"name": "web"});
        let verdict = review_json(
            &request(kind, resource, "CREATE", object.clone()),
            json!({}),
        );
        let expected = format!(
            "{} \"web\": violates PodSecurity \"restricted:latest\": privileged",
            kind.1
        );
        assert!(!verdict.allowed, "{kind:?}");
        assert!(
            verdict.message.as_deref().unwrap().starts_with(&expected),
            "{verdict:?}"
        );

        let verdict = review_json(
            &request(kind, resource, "CREATE", object),
            json!({"podControllers": "warn"}),
        );
        assert!(verdict.allowed, "{kind:?} in warn mode");
        assert!(
            verdict.warnings[0]
                .starts_with(&format!("{} \"web\": would violate PodSecurity", kind.1))
        );
    }
}

#[test]
fn controller_without_a_template_has_nothing_to_run() {
    let object = json!({"metadata": {"name": "rc"}, "spec": {"replicas": 0}});
    let verdict = review_json(
        &request(
            ("", "ReplicationController"),
            "replicationcontrollers",
            "CREATE",
            object,
        ),
        json!({}),
    );
    assert!(verdict.allowed);
}

#[test]
fn ignored_subresources_and_deletes_are_not_evaluated() {
    for sub_resource in IGNORED_POD_SUBRESOURCES {
        let mut req = request(("", "Pod"), "pods", "UPDATE", pod("bad", true));
        req["subResource"] = json!(sub_resource);
        assert!(review_json(&req, json!({})).allowed, "{sub_resource}");
    }
    let mut req = request(("", "Pod"), "pods", "DELETE", Value::Null);
    req.as_object_mut().unwrap().remove("object");
    assert!(review_json(&req, json!({})).allowed);
}

#[test]
fn kubectl_debug_adding_a_privileged_ephemeral_container_is_denied() {
    let old = pod("p", false);
    let mut new = old.clone();
    new["spec"]["ephemeralContainers"] =
        json!([{"name": "debugger", "image": "busybox", "securityContext": {"privileged": true}}]);
    let mut req = request(("", "Pod"), "pods", "UPDATE", new);
    req["subResource"] = json!("ephemeralcontainers");
    req["oldObject"] = old;
    let verdict = review_json(&req, json!({}));
    assert!(!verdict.allowed);
    assert!(
        verdict
            .message
            .unwrap()
            .contains("container \"debugger\" must not set securityContext.privileged=true"),
        "names the debug container"
    );
}

#[test]
fn only_significant_pod_updates_are_reevaluated() {
    let old = pod("p", true);
    let metadata_only = {
        let mut new = old.clone();
        new["metadata"]["labels"] = json!({"x": "y"});
        new
    };
    let image_changed = {
        let mut new = old.clone();
        new["spec"]["containers"][0]["image"] = json!("nginx:2");
        new
    };
    let container_added = {
        let mut new = old.clone();
        new["spec"]["initContainers"] = json!([{"name": "init", "image": "busybox"}]);
        new
    };
    let security_context_only = {
        let mut new = old.clone();
        new["spec"]["containers"][0]["securityContext"]["runAsUser"] = json!(1000);
        new
    };
    // PSA compares the pod's and each container's seccomp annotations too (isSignificantPodUpdate).
    let annotated = |key: &str| {
        let mut new = old.clone();
        new["metadata"]["annotations"] = json!({ key: "runtime/default" });
        new
    };
    let update = |new: &Value| {
        let mut req = request(("", "Pod"), "pods", "UPDATE", new.clone());
        req["oldObject"] = old.clone();
        review_json(&req, json!({}))
    };
    assert!(
        update(&metadata_only).allowed,
        "a metadata-only update of an old pod must not be blocked"
    );
    assert!(update(&security_context_only).allowed);
    assert!(!update(&image_changed).allowed);
    assert!(!update(&container_added).allowed);
    assert!(!update(&annotated("seccomp.security.alpha.kubernetes.io/pod")).allowed);
    assert!(
        !update(&annotated(
            "container.seccomp.security.alpha.kubernetes.io/app"
        ))
        .allowed
    );
    assert!(
        update(&annotated(
            "container.seccomp.security.alpha.kubernetes.io/other"
        ))
        .allowed,
        "another container's annotation"
    );
}

#[test]
fn exemptions_match_exactly_and_are_recorded() {
    let settings = json!({"exemptions": {"usernames": ["alice"], "namespaces": ["kube-system"], "runtimeClasses": ["kata"]}});
    let by_user = review_json(
        &request(("", "Pod"), "pods", "CREATE", pod("a", true)),
        settings.clone(),
    );
    assert!(by_user.allowed);
    assert_eq!(
        by_user.audit_annotations["pod-security.kubernetes.io/exempt"],
        "user"
    );

    let mut req = request(("", "Pod"), "pods", "CREATE", pod("a", true));
    req["userInfo"]["username"] = json!("alice2");
    req["namespace"] = json!("kube-system");
    assert_eq!(
        review_json(&req, settings.clone()).audit_annotations["pod-security.kubernetes.io/exempt"],
        "namespace"
    );

    req["namespace"] = json!("kube-system-2");
    assert!(
        !review_json(&req, settings.clone()).allowed,
        "no prefix matching"
    );

    req["object"]["spec"]["runtimeClassName"] = json!("kata");
    let by_class = review_json(&req, settings);
    assert_eq!(
        by_class.audit_annotations["pod-security.kubernetes.io/exempt"],
        "runtimeClass"
    );
}

#[test]
fn warn_and_audit_report_without_rejecting() {
    let settings = json!({"defaults": {"enforce": "baseline", "warn": "restricted", "audit": "restricted",
                                       "audit-version": "v1.25"}});
    let mut object = pod("p", false);
    object["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] = json!(false);
    let verdict = review_json(&request(("", "Pod"), "pods", "CREATE", object), settings);
    assert!(verdict.allowed);
    assert_eq!(
        verdict.warnings,
        [
            "would violate PodSecurity \"restricted:latest\": runAsNonRoot != true (container \"app\" must not set securityContext.runAsNonRoot=false)"
        ]
    );
    assert_eq!(
        verdict.audit_annotations["pod-security.kubernetes.io/audit-violations"],
        "would violate PodSecurity \"restricted:v1.25\": runAsNonRoot != true (container \"app\" must not set securityContext.runAsNonRoot=false)"
    );
    assert_eq!(
        verdict.audit_annotations["pod-security.kubernetes.io/enforce-policy"],
        "baseline:latest"
    );
}

#[test]
fn no_warnings_on_a_rejected_request() {
    let settings = json!({"defaults": {"warn": "restricted"}});
    let verdict = review_json(
        &request(("", "Pod"), "pods", "CREATE", pod("p", true)),
        settings,
    );
    assert!(!verdict.allowed);
    assert!(verdict.warnings.is_empty());
}

#[test]
fn privileged_enforce_allows_everything() {
    let settings = json!({"defaults": {"enforce": "privileged"}});
    assert!(
        review_json(
            &request(("", "Pod"), "pods", "CREATE", pod("p", true)),
            settings
        )
        .allowed
    );
}

#[test]
fn unreadable_input_is_rejected_not_allowed() {
    let cases = [
        json!({"spec": {"containers": {"name": "a"}}}),
        json!({"spec": {"containers": [{"name": "a", "securityContext": {"privileged": "yes"}}]}}),
        json!({"spec": {"hostNetwork": 1}}),
        json!({"metadata": {"annotations": {"a": 1}}, "spec": {}}),
        json!({"spec": null}),
        json!("a pod"),
    ];
    for object in cases {
        let verdict = review_json(
            &request(("", "Pod"), "pods", "CREATE", object.clone()),
            json!({}),
        );
        assert!(!verdict.allowed, "{object}");
        assert_eq!(verdict.code, Some(400), "{object}");
    }
    let verdict = review_json(
        &request(
            ("", "Pod"),
            "pods",
            "CREATE",
            json!({"spec": {"containers": [{"name": "a", "ports": [{"hostPort": "80"}]}]}}),
        ),
        json!({}),
    );
    let message = verdict.message.unwrap();
    assert!(
        message.starts_with("cannot read the pod: spec.containers[0].ports[0].hostPort: invalid type: string \"80\", expected i32"),
        "{message}"
    );
}

#[test]
fn unknown_kinds_and_operations_are_rejected() {
    let verdict = review_json(
        &request(("", "Service"), "services", "CREATE", json!({})),
        json!({}),
    );
    assert!(!verdict.allowed);
    assert!(
        verdict
            .message
            .unwrap()
            .contains("does not evaluate resource \"services\"")
    );
    let verdict = review_json(
        &request(("", "Pod"), "pods", "PATCH", pod("p", false)),
        json!({}),
    );
    assert!(!verdict.allowed);
    let mut req = request(("", "Pod"), "pods", "CREATE", Value::Null);
    req.as_object_mut().unwrap().remove("object");
    assert_eq!(review_json(&req, json!({})).code, Some(400));
    assert_eq!(
        validate_json(
            b"{not json",
            &Settings::default(),
            &FixtureCluster::unlabelled()
        )
        .code,
        Some(400)
    );
}

#[test]
fn the_policy_in_messages_is_the_configured_one() {
    let settings = json!({"defaults": {"enforce": "baseline", "enforce-version": "v1.99"}});
    let verdict = review_json(
        &request(("", "Pod"), "pods", "CREATE", pod("p", true)),
        settings,
    );
    assert!(
        verdict
            .message
            .unwrap()
            .starts_with("violates PodSecurity \"baseline:v1.99\": privileged")
    );
}

fn docker_socket_pod() -> Value {
    let mut object = pod("dind", false);
    object["spec"]["volumes"] =
        json!([{"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}]);
    object["spec"]["containers"][0]["volumeMounts"] =
        json!([{"name": "sock", "mountPath": "/var/run/docker.sock"}]);
    object
}

#[test]
fn the_runtime_guard_holds_where_pod_security_is_relaxed() {
    let guard_message = "violates runtimeAccess: volume \"sock\" mounts hostPath \"/var/run/docker.sock\", which reaches the Docker socket (/run/docker.sock)";
    let req = request(("", "Pod"), "pods", "CREATE", docker_socket_pod());
    for settings in [
        json!({"defaults": {"enforce": "privileged"}}),
        json!({"exemptions": {"namespaces": ["team"]}}),
        json!({"exemptions": {"usernames": ["alice"]}}),
    ] {
        let verdict = review_json(&req, settings.clone());
        assert!(!verdict.allowed, "{settings}");
        assert_eq!(
            verdict.message.as_deref(),
            Some(guard_message),
            "{settings}"
        );
    }
    let verdict = review_json(&req, json!({}));
    assert_eq!(
        verdict.message.unwrap(),
        format!(
            "violates PodSecurity \"restricted:latest\": restricted volume types (volume \"sock\" uses restricted volume type \"hostPath\"); {guard_message}"
        )
    );
    let deployment = json!({"metadata": {"name": "ci"}, "spec": {"template": docker_socket_pod()}});
    let verdict = review_json(
        &request(("apps", "Deployment"), "deployments", "CREATE", deployment),
        json!({"podControllers": "warn"}),
    );
    assert_eq!(
        verdict.message.as_deref(),
        Some(format!("Deployment \"ci\": {guard_message}").as_str())
    );
    assert!(verdict.warnings.is_empty());
}

#[test]
fn only_the_guards_own_exemption_or_switch_lifts_it() {
    let req = request(("", "Pod"), "pods", "CREATE", docker_socket_pod());
    let exempt = json!({"defaults": {"enforce": "privileged"}, "runtimeAccess": {"exemptNamespaces": ["team"]}});
    assert!(review_json(&req, exempt).allowed);
    let disabled =
        json!({"defaults": {"enforce": "privileged"}, "runtimeAccess": {"enabled": false}});
    assert!(review_json(&req, disabled).allowed);
}

#[test]
fn persistent_volumes_are_guarded() {
    let pv = |path: &str| json!({"metadata": {"name": "pv1"}, "spec": {"capacity": {"storage": "1Gi"}, "hostPath": {"path": path}}});
    let req = |path: &str| {
        let mut req = request(
            ("", "PersistentVolume"),
            "persistentvolumes",
            "CREATE",
            pv(path),
        );
        req.as_object_mut().unwrap().remove("namespace");
        req
    };
    let verdict = review_json(&req("/run/containerd/containerd.sock"), json!({}));
    assert_eq!(
        verdict.message.as_deref(),
        Some(
            "PersistentVolume \"pv1\": violates runtimeAccess: hostPath path \"/run/containerd/containerd.sock\" reaches containerd's socket directory (/run/containerd)"
        )
    );
    assert!(review_json(&req("/mnt/data"), json!({})).allowed);
    assert!(
        review_json(
            &req("/run/containerd"),
            json!({"runtimeAccess": {"enabled": false}})
        )
        .allowed
    );
}

#[test]
fn unreadable_objects_are_named_with_their_path_in_either_field_order() {
    let mut object = pod("p", false);
    object["spec"]["containers"][0]["ports"] = json!([{"hostPort": "80"}]);
    let request = request(("", "Pod"), "pods", "CREATE", object);
    let settings = Settings::default();
    for bytes in [serde_json::to_vec(&request).unwrap(), api_order(&request)] {
        let verdict = validate_json(&bytes, &settings, &FixtureCluster::unlabelled());
        let message = verdict.message.unwrap_or_default();
        assert_eq!(verdict.code, Some(400));
        assert!(
            message.starts_with(
                "cannot read the pod: spec.containers[0].ports[0].hostPort: invalid type: string \"80\""
            ),
            "{message}"
        );
    }
}

#[test]
fn a_request_field_given_twice_is_refused() {
    let request = api_order(&request(("", "Pod"), "pods", "CREATE", pod("p", false)));
    let twice = format!(
        r#"{{"operation":"DELETE",{}"#,
        &String::from_utf8(request).unwrap()[1..]
    );
    let verdict = validate_json(
        twice.as_bytes(),
        &Settings::default(),
        &FixtureCluster::unlabelled(),
    );
    assert_eq!(verdict.code, Some(400));
    assert!(
        verdict
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("duplicate field `operation`"),
        "{verdict:?}"
    );
}

#[test]
fn annotations_no_check_reads_are_still_type_checked() {
    let mut object = pod("p", false);
    object["metadata"]["annotations"] = json!({
        "kubectl.kubernetes.io/last-applied-configuration": "{\"escaped\": \"json\"}",
        "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
    });
    let verdict = review_json(
        &request(("", "Pod"), "pods", "CREATE", object.clone()),
        json!({"defaults": {"enforce": "baseline", "enforce-version": "v1.18"}}),
    );
    assert!(
        verdict
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("seccompProfile"),
        "the seccomp annotation is read: {verdict:?}"
    );
    object["metadata"]["annotations"]["unrelated"] = json!(3);
    let verdict = review_json(&request(("", "Pod"), "pods", "CREATE", object), json!({}));
    assert_eq!(verdict.code, Some(400), "{verdict:?}");
    assert!(
        verdict
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("metadata.annotations.unrelated"),
        "{verdict:?}"
    );
}

/// Kubewarden's audit scanner names the resource by its kind; any other unknown resource is still
/// refused.
#[test]
fn a_resource_named_by_its_kind_is_read_as_that_kind() {
    let mut req = request(("", "Pod"), "Pod", "CREATE", pod("p", true));
    req["userInfo"] = json!({});
    let verdict = validate_json(
        &serde_json::to_vec(&req).unwrap(),
        &Settings::default(),
        &FixtureCluster::unlabelled(),
    );
    assert_eq!(verdict.code, Some(403), "{verdict:?}");
    let mut req = request(
        ("apps", "Deployment"),
        "Deployment",
        "CREATE",
        json!({
        "metadata": {"name": "d"}, "spec": {"template": pod("p", true)}}),
    );
    req["userInfo"] = json!({});
    let verdict = validate_json(
        &serde_json::to_vec(&req).unwrap(),
        &Settings::default(),
        &FixtureCluster::unlabelled(),
    );
    assert_eq!(verdict.code, Some(403), "{verdict:?}");
    let req = request(("", "Pod"), "Pods", "CREATE", pod("p", true));
    let verdict = validate_json(
        &serde_json::to_vec(&req).unwrap(),
        &Settings::default(),
        &FixtureCluster::unlabelled(),
    );
    assert_eq!(verdict.code, Some(400), "{verdict:?}");
}

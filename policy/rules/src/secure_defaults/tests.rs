use super::*;
use crate::checks;
use crate::level::{Level, LevelVersion, Version};
use crate::pod::Pod;

const RESTRICTED: LevelVersion = LevelVersion {
    level: Level::Restricted,
    version: Version::Latest,
};

fn none() -> SecureDefaults {
    SecureDefaults {
        seccomp_profile: false,
        allow_privilege_escalation: false,
        drop_all_capabilities: false,
        run_as_non_root: false,
        ..SecureDefaults::all_on()
    }
}

fn failures(pod: &Value) -> Vec<String> {
    let bytes = serde_json::to_vec(pod).unwrap();
    let pod: Pod = serde_json::from_slice(&bytes).unwrap();
    checks::failures(RESTRICTED, &pod.metadata, &pod.spec.unwrap_or_default())
        .into_iter()
        .map(|failure| failure.reason)
        .collect()
}

/// `kubectl run nginx --image=nginx`.
fn ordinary() -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nginx"},
           "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}})
}

fn defaulted(mut pod: Value, defaults: &SecureDefaults) -> (Value, bool) {
    let changed = default_pod_spec(pod.get_mut("spec").unwrap(), defaults, Scope::WholePod);
    (pod, changed)
}

#[test]
fn an_ordinary_pod_passes_restricted_once_defaulted() {
    assert_eq!(
        failures(&ordinary()),
        [
            "allowPrivilegeEscalation != false",
            "unrestricted capabilities",
            "runAsNonRoot != true",
            "seccompProfile"
        ]
    );
    let (pod, changed) = defaulted(ordinary(), &SecureDefaults::all_on());
    assert!(changed);
    assert!(failures(&pod).is_empty(), "{pod}");
    assert_eq!(
        pod["spec"],
        json!({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}, "runAsNonRoot": true},
               "containers": [{"name": "nginx", "image": "nginx", "securityContext":
                   {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]})
    );
}

#[test]
fn each_default_alone() {
    type SwitchOn = fn(&mut SecureDefaults);
    let cases: [(SwitchOn, &str); 4] = [
        (|d| d.seccomp_profile = true, "seccompProfile"),
        (
            |d| d.allow_privilege_escalation = true,
            "allowPrivilegeEscalation != false",
        ),
        (
            |d| d.drop_all_capabilities = true,
            "unrestricted capabilities",
        ),
        (|d| d.run_as_non_root = true, "runAsNonRoot != true"),
    ];
    for (switch_on, fixed) in cases {
        let mut defaults = none();
        switch_on(&mut defaults);
        let (pod, changed) = defaulted(ordinary(), &defaults);
        assert!(changed, "{fixed}");
        let left = failures(&pod);
        assert_eq!(left.len(), 3, "{fixed}: {left:?}");
        assert!(!left.contains(&fixed.to_string()), "{fixed}: {left:?}");
    }
    let (_, changed) = defaulted(ordinary(), &none());
    assert!(!changed);
}

#[test]
fn explicit_values_are_kept_and_still_denied() {
    let pod = json!({"metadata": {"name": "p"}, "spec": {
        "securityContext": {"seccompProfile": {"type": "Unconfined"}, "runAsNonRoot": false},
        "containers": [{"name": "c", "image": "x", "securityContext": {
            "allowPrivilegeEscalation": true, "capabilities": {"drop": ["NET_RAW"]}}}]}});
    let (after, changed) = defaulted(pod.clone(), &SecureDefaults::all_on());
    assert!(!changed);
    assert_eq!(after, pod);
    assert_eq!(failures(&after).len(), 4);
    // A privileged container, or one adding SYS_ADMIN, gets no allowPrivilegeEscalation (the API
    // server refuses it beside them) and is still denied.
    let privileged = json!({"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "a", "image": "x", "securityContext": {"privileged": true}},
        {"name": "b", "image": "x", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]}});
    let (after, _) = defaulted(privileged, &SecureDefaults::all_on());
    assert!(
        after
            .pointer("/spec/containers/0/securityContext/allowPrivilegeEscalation")
            .is_none()
    );
    assert!(
        after
            .pointer("/spec/containers/1/securityContext/allowPrivilegeEscalation")
            .is_none()
    );
    assert!(failures(&after).contains(&"privileged".to_string()));
}

#[test]
fn windows_and_host_process_pods_are_left_as_psa_treats_them() {
    let mut windows = ordinary();
    windows["spec"]["os"] = json!({"name": "windows"});
    assert!(!defaulted(windows, &SecureDefaults::all_on()).1);
    let mut host_process = ordinary();
    host_process["spec"]["securityContext"] = json!({"windowsOptions": {"hostProcess": true}});
    assert!(!defaulted(host_process, &SecureDefaults::all_on()).1);
}

#[test]
fn init_and_ephemeral_containers_too_and_ids_from_settings() {
    let mut pod = ordinary();
    pod["spec"]["initContainers"] = json!([{"name": "init", "image": "busybox"}]);
    pod["spec"]["ephemeralContainers"] = json!([{"name": "debug", "image": "busybox"}]);
    let defaults = SecureDefaults {
        run_as_user: Some(1000),
        run_as_group: Some(3000),
        fs_group: Some(2000),
        ..SecureDefaults::all_on()
    };
    let (pod, _) = defaulted(pod, &defaults);
    assert!(failures(&pod).is_empty(), "{pod}");
    assert_eq!(pod["spec"]["securityContext"]["runAsUser"], 1000);
    assert_eq!(pod["spec"]["securityContext"]["fsGroup"], 2000);
    assert_eq!(
        pod["spec"]["ephemeralContainers"][0]["securityContext"]["allowPrivilegeEscalation"],
        false
    );
}

#[test]
fn applying_twice_changes_nothing_the_second_time() {
    let (once, _) = defaulted(ordinary(), &SecureDefaults::all_on());
    let (twice, changed) = defaulted(once.clone(), &SecureDefaults::all_on());
    assert!(!changed);
    assert_eq!(once, twice);
}

fn request(
    resource: (&str, &str, &str),
    operation: &str,
    sub_resource: Option<&str>,
    object: Value,
) -> Value {
    let (group, kind, plural) = resource;
    let mut request = json!({"uid": "u", "kind": {"group": group, "version": "v1", "kind": kind},
        "resource": {"group": group, "version": "v1", "resource": plural},
        "operation": operation, "namespace": "team", "userInfo": {"username": "u"}, "object": object});
    if let Some(sub_resource) = sub_resource {
        request["subResource"] = json!(sub_resource);
    }
    request
}

#[test]
fn every_controller_kind_has_its_template_defaulted() {
    let template =
        json!({"metadata": {"labels": {"app": "web"}}, "spec": ordinary()["spec"].clone()});
    for (group, kind, plural, pointer) in [
        ("apps", "Deployment", "deployments", "/spec/template/spec"),
        ("apps", "ReplicaSet", "replicasets", "/spec/template/spec"),
        ("apps", "StatefulSet", "statefulsets", "/spec/template/spec"),
        ("apps", "DaemonSet", "daemonsets", "/spec/template/spec"),
        ("batch", "Job", "jobs", "/spec/template/spec"),
        (
            "",
            "ReplicationController",
            "replicationcontrollers",
            "/spec/template/spec",
        ),
        (
            "batch",
            "CronJob",
            "cronjobs",
            "/spec/jobTemplate/spec/template/spec",
        ),
        ("", "PodTemplate", "podtemplates", "/template/spec"),
    ] {
        let mut object = json!({"metadata": {"name": "x"}});
        let parent = pointer.strip_suffix("/spec").unwrap();
        let mut slot = &mut object;
        for key in parent.trim_start_matches('/').split('/') {
            slot = slot
                .as_object_mut()
                .unwrap()
                .entry(key)
                .or_insert(json!({}));
        }
        *slot = template.clone();
        for operation in ["CREATE", "UPDATE"] {
            let mut review = request((group, kind, plural), operation, None, object.clone());
            let defaulted =
                crate::admission::default_request(&mut review, &SecureDefaults::all_on())
                    .unwrap_or_else(|| panic!("{kind} {operation}"));
            let spec = defaulted.pointer(pointer).unwrap();
            assert_eq!(spec["securityContext"]["runAsNonRoot"], true, "{kind}");
        }
    }
}

#[test]
fn pods_are_defaulted_on_create_and_kubectl_debug_only_in_its_containers() {
    let mut create = request(("", "Pod", "pods"), "CREATE", None, ordinary());
    assert!(crate::admission::default_request(&mut create, &SecureDefaults::all_on()).is_some());
    let mut update = request(("", "Pod", "pods"), "UPDATE", None, ordinary());
    assert!(
        crate::admission::default_request(&mut update, &SecureDefaults::all_on()).is_none(),
        "a running pod's spec is immutable"
    );
    let mut pod = ordinary();
    pod["spec"]["ephemeralContainers"] = json!([{"name": "debugger", "image": "busybox"}]);
    let mut debug = request(
        ("", "Pod", "pods"),
        "UPDATE",
        Some("ephemeralcontainers"),
        pod,
    );
    let defaulted =
        crate::admission::default_request(&mut debug, &SecureDefaults::all_on()).unwrap();
    assert_eq!(
        defaulted["spec"]["ephemeralContainers"][0]["securityContext"]["allowPrivilegeEscalation"],
        false
    );
    assert!(
        defaulted["spec"].get("securityContext").is_none(),
        "the pod's own fields are left"
    );
    assert!(
        defaulted["spec"]["containers"][0]
            .get("securityContext")
            .is_none()
    );
    let mut status = request(("", "Pod", "pods"), "UPDATE", Some("status"), ordinary());
    assert!(crate::admission::default_request(&mut status, &SecureDefaults::all_on()).is_none());
}

#[test]
fn a_seccomp_annotation_is_left_alone() {
    let mut pod = ordinary();
    pod["metadata"]["annotations"] =
        json!({"seccomp.security.alpha.kubernetes.io/pod": "runtime/default"});
    let mut review = request(("", "Pod", "pods"), "CREATE", None, pod);
    let defaulted =
        crate::admission::default_request(&mut review, &SecureDefaults::all_on()).unwrap();
    assert!(
        defaulted
            .pointer("/spec/securityContext/seccompProfile")
            .is_none()
    );
}

#[test]
fn the_admission_verdict_carries_the_defaulted_object_or_what_is_still_wrong() {
    use crate::settings::Settings;
    let settings = Settings::from_value(&json!({"secureDefaults": {"enabled": true}})).unwrap();
    let review = |pod: Value| {
        let request = request(("", "Pod", "pods"), "CREATE", None, pod);
        crate::admission::validate_json_with_defaults(
            &serde_json::to_vec(&request).unwrap(),
            &settings,
            &crate::namespaces::Unlabelled,
        )
    };
    let verdict = review(ordinary());
    assert!(verdict.allowed, "{verdict:?}");
    assert_eq!(
        verdict.mutated_object.unwrap()["spec"]["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let mut privileged = ordinary();
    privileged["spec"]["containers"][0]["securityContext"] = json!({"privileged": true});
    let verdict = review(privileged);
    assert!(!verdict.allowed);
    assert!(verdict.mutated_object.is_none());
    assert_eq!(
        verdict.message.as_deref(),
        Some(
            "violates PodSecurity \"restricted:latest\": privileged (container \"nginx\" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container \"nginx\" must set securityContext.allowPrivilegeEscalation=false)"
        )
    );
    // Off, nothing is defaulted.
    let off = Settings::from_value(&json!({"secureDefaults": {"enabled": false}})).unwrap();
    let request = request(("", "Pod", "pods"), "CREATE", None, ordinary());
    let verdict = crate::admission::validate_json_with_defaults(
        &serde_json::to_vec(&request).unwrap(),
        &off,
        &crate::namespaces::Unlabelled,
    );
    assert!(!verdict.allowed && verdict.mutated_object.is_none());
}

#[test]
fn the_settings_are_strict() {
    use crate::settings::Settings;
    let error = |settings: Value| Settings::from_value(&settings).unwrap_err().0;
    assert!(
        error(json!({"secureDefaults": {"seccompProfile": true}})).contains("set enabled: true")
    );
    assert!(
        error(json!({"secureDefaults": {"enabled": true, "runAsUser": 0}})).contains("0 is root")
    );
    assert!(
        error(json!({"secureDefaults": {"enabled": true, "dropCapabilities": true}}))
            .contains("unknown key \"dropCapabilities\"; did you mean \"dropAllCapabilities\"?")
    );
    let settings = Settings::from_value(
        &json!({"secureDefaults": {"enabled": true, "runAsNonRoot": false, "fsGroup": 2000}}),
    )
    .unwrap();
    let defaults = settings.secure_defaults.unwrap();
    assert!(!defaults.run_as_non_root && defaults.seccomp_profile);
    assert_eq!(defaults.fs_group, Some(2000));
}

use super::*;
use crate::pod::{Pod, from_test_json};
use serde_json::{Value, json};

fn spec(value: Value) -> PodSpec<'static> {
    from_test_json::<Pod>(json!({"spec": value})).spec.unwrap()
}

fn host_path_pod(path: &str) -> PodSpec<'static> {
    spec(
        json!({"volumes": [{"name": "v", "hostPath": {"path": path}}],
                "containers": [{"name": "app", "image": "app:1", "volumeMounts": [{"name": "v", "mountPath": "/mnt"}]}]}),
    )
}

#[test]
fn names_the_volume_the_written_path_and_what_it_reaches() {
    assert_eq!(
        check_pod(
            &RuntimeAccessSettings::default(),
            &host_path_pod("/var/run//docker.sock")
        ),
        [
            "volume \"v\" mounts hostPath \"/var/run//docker.sock\", which reaches the Docker socket (/run/docker.sock)"
        ]
    );
}

#[test]
fn harmless_paths_are_allowed() {
    for path in ["/var/log", "/tmp", "/data", "/var/run-data"] {
        assert!(
            check_pod(&RuntimeAccessSettings::default(), &host_path_pod(path)).is_empty(),
            "{path}"
        );
    }
}

#[test]
fn a_sub_path_that_reaches_the_runtime_counts() {
    let pod = spec(
        json!({"volumes": [{"name": "v", "hostPath": {"path": "/data"}}],
        "containers": [{"name": "app", "volumeMounts": [{"name": "v", "mountPath": "/m", "subPath": "../var/run/docker.sock"}]}]}),
    );
    let violations = check_pod(&RuntimeAccessSettings::default(), &pod);
    assert_eq!(violations.len(), 1);
    assert!(
        violations[0]
            .starts_with("container \"app\" mounts volume \"v\" (hostPath \"/data\") with subPath"),
        "{violations:?}"
    );
}

#[test]
fn sub_path_expr_variables_resolve_from_literal_env() {
    let pod = |value: Value| {
        spec(
            json!({"volumes": [{"name": "v", "hostPath": {"path": "/data"}}],
            "containers": [{"name": "app", "env": [{"name": "X", "value": value}],
                            "volumeMounts": [{"name": "v", "mountPath": "/m", "subPathExpr": "$(X)/sock"}]}]}),
        )
    };
    assert_eq!(
        check_pod(
            &RuntimeAccessSettings::default(),
            &pod(json!("../run/containerd"))
        )
        .len(),
        1
    );
    assert!(check_pod(&RuntimeAccessSettings::default(), &pod(json!("logs"))).is_empty());
    assert!(
        check_pod(&RuntimeAccessSettings::default(), &pod(Value::Null)).is_empty(),
        "unresolved: stays under /data"
    );
}

#[test]
fn host_pid_with_privilege_is_denied() {
    for security_context in [
        json!({"privileged": true}),
        json!({"capabilities": {"add": ["SYS_ADMIN"]}}),
        json!({"capabilities": {"add": ["cap_sys_ptrace"]}}),
        json!({"capabilities": {"add": ["ALL"]}}),
    ] {
        let pod = spec(
            json!({"hostPID": true, "containers": [{"name": "a", "securityContext": security_context}]}),
        );
        assert_eq!(
            check_pod(&RuntimeAccessSettings::default(), &pod),
            [
                "hostPID=true with privileged or SYS_ADMIN/SYS_PTRACE container \"a\" lets it enter the runtime's namespaces"
            ]
        );
    }
    let pod = spec(
        json!({"hostPID": true, "containers": [{"name": "a", "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}]}),
    );
    assert!(check_pod(&RuntimeAccessSettings::default(), &pod).is_empty());
    let pod = spec(json!({"containers": [{"name": "a", "securityContext": {"privileged": true}}]}));
    assert!(
        check_pod(&RuntimeAccessSettings::default(), &pod).is_empty(),
        "privileged alone is PSA's business"
    );
}

#[test]
fn an_exempt_image_exempts_only_its_own_volumes() {
    let settings = RuntimeAccessSettings {
        exempt_images: vec!["docker.io/library/docker:*".into()],
        ..Default::default()
    };
    let pod = |second_mounts: bool| {
        let other_mounts = if second_mounts {
            json!([{"name": "sock", "mountPath": "/s"}])
        } else {
            json!([])
        };
        spec(
            json!({"volumes": [{"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}],
            "containers": [
                {"name": "dind", "image": "docker.io/library/docker:27", "volumeMounts": [{"name": "sock", "mountPath": "/s"}]},
                {"name": "app", "image": "app:1", "volumeMounts": other_mounts}]}),
        )
    };
    assert!(check_pod(&settings, &pod(false)).is_empty());
    assert_eq!(
        check_pod(&settings, &pod(true)).len(),
        1,
        "another container mounts it too"
    );
    let unmounted = spec(
        json!({"volumes": [{"name": "sock", "hostPath": {"path": "/run/containerd"}}],
        "containers": [{"name": "dind", "image": "docker.io/library/docker:27"}]}),
    );
    assert_eq!(
        check_pod(&settings, &unmounted).len(),
        1,
        "an unmounted volume is nobody's"
    );
}

#[test]
fn exempt_namespaces_and_disabling_lift_the_guard() {
    let settings = RuntimeAccessSettings {
        exempt_namespaces: vec!["ci".into()],
        ..Default::default()
    };
    assert!(!settings.applies_in(Some("ci")));
    assert!(settings.applies_in(Some("ci-2")));
    assert!(settings.applies_in(None));
    assert!(
        !RuntimeAccessSettings {
            enabled: false,
            ..Default::default()
        }
        .applies_in(None)
    );
}

#[test]
fn persistent_volumes_on_protected_paths_are_denied() {
    let pv = |spec: Value| from_test_json::<PersistentVolume>(json!({"spec": spec}));
    let settings = RuntimeAccessSettings::default();
    assert_eq!(
        check_persistent_volume(
            &settings,
            &pv(json!({"hostPath": {"path": "/var/lib/containerd"}}))
        ),
        [
            "hostPath path \"/var/lib/containerd\" reaches containerd's state directory (/var/lib/containerd)"
        ]
    );
    assert_eq!(
        check_persistent_volume(&settings, &pv(json!({"local": {"path": "/var"}}))).len(),
        1
    );
    assert!(
        check_persistent_volume(
            &settings,
            &pv(json!({"local": {"path": "/mnt/disks/ssd1"}}))
        )
        .is_empty()
    );
    assert!(
        check_persistent_volume(&settings, &pv(json!({"nfs": {"server": "x", "path": "/"}})))
            .is_empty()
    );
}

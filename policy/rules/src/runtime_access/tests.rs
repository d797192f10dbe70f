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

fn pod_on(os: Option<&str>, path: &str) -> PodSpec<'static> {
    let mut value = json!({"volumes": [{"name": "v", "hostPath": {"path": path}}],
        "containers": [{"name": "app", "image": "app:1", "volumeMounts": [{"name": "v", "mountPath": "/mnt"}]}]});
    if let Some(os) = os {
        value["os"] = json!({"name": os});
    }
    spec(value)
}

#[test]
fn the_hosts_procfs_is_denied() {
    for path in [
        "/proc",
        "/proc/1/root",
        "/proc/self/root",
        "/proc/1/cwd",
        "proc/1/root",
    ] {
        assert_eq!(
            check_pod(&RuntimeAccessSettings::default(), &host_path_pod(path)),
            [format!(
                "volume \"v\" mounts hostPath {path:?}, which reaches the host's procfs (/proc/<pid>/root is the host's root filesystem) (/proc)"
            )],
        );
    }
    assert!(
        check_pod(
            &RuntimeAccessSettings::default(),
            &host_path_pod("/procfs-data")
        )
        .is_empty()
    );
}

#[test]
fn a_relocated_socket_is_denied_by_its_name() {
    assert_eq!(
        check_pod(
            &RuntimeAccessSettings::default(),
            &host_path_pod("/opt/runtime/containerd.sock")
        ),
        [
            "volume \"v\" mounts hostPath \"/opt/runtime/containerd.sock\", which reaches a containerd socket, by its name \"containerd.sock\""
        ]
    );
    let parent_with_sub_path = spec(
        json!({"volumes": [{"name": "v", "hostPath": {"path": "/opt/runtime"}}],
        "containers": [{"name": "app", "volumeMounts": [{"name": "v", "mountPath": "/s", "subPath": "engine/docker.sock"}]}]}),
    );
    assert_eq!(
        check_pod(&RuntimeAccessSettings::default(), &parent_with_sub_path),
        [
            "container \"app\" mounts volume \"v\" (hostPath \"/opt/runtime\") with subPath \"engine/docker.sock\", which reaches the Docker socket, by its name \"docker.sock\""
        ]
    );
    assert!(
        check_pod(
            &RuntimeAccessSettings::default(),
            &host_path_pod("/data/mydocker.sock.bak")
        )
        .is_empty()
    );
}

#[test]
fn windows_pipes_and_folders_are_denied() {
    let settings = RuntimeAccessSettings::default();
    for path in [
        r"\\.\pipe\docker_engine",
        "//./pipe/docker_engine",
        r"\\.\PIPE\DOCKER_ENGINE",
    ] {
        let violations = check_pod(&settings, &pod_on(Some("windows"), path));
        assert_eq!(
            violations,
            [format!(
                "volume \"v\" mounts hostPath {path:?}, which reaches the Docker engine's named pipe (\\\\.\\pipe\\docker_engine)"
            )]
        );
    }
    for path in [
        r"C:\ProgramData\containerd\root",
        r"c:/programdata/CONTAINERD",
        r"\\.\pipe\containerd-containerd",
    ] {
        assert_eq!(check_pod(&settings, &pod_on(None, path)).len(), 1, "{path}");
    }
    assert!(check_pod(&settings, &pod_on(Some("windows"), r"C:\logs")).is_empty());
}

#[test]
fn a_pod_that_names_its_os_is_read_only_that_way() {
    let settings = RuntimeAccessSettings::default();
    // Linux paths are case-sensitive: on Linux this is not the kubelet's directory; on Windows
    // (C:\VAR\LIB\KUBELET) it is.
    assert!(check_pod(&settings, &pod_on(Some("linux"), "/VAR/LIB/KUBELET")).is_empty());
    assert_eq!(
        check_pod(&settings, &pod_on(None, "/VAR/LIB/KUBELET")),
        [
            "volume \"v\" mounts hostPath \"/VAR/LIB/KUBELET\", which reaches the kubelet's state directory (C:\\var\\lib\\kubelet)"
        ]
    );
    assert!(check_pod(&settings, &pod_on(Some("linux"), "/data/Docker.sock")).is_empty());
    assert_eq!(
        check_pod(&settings, &pod_on(Some("windows"), "/data/Docker.sock")).len(),
        1
    );
    // On Windows the Linux reading does not apply.
    assert!(check_pod(&settings, &pod_on(Some("windows"), "/run/k3s-data")).is_empty());
    assert_eq!(
        check_pod(&settings, &pod_on(Some("linux"), "/run/k3s")).len(),
        1
    );
}

#[test]
fn windows_extra_paths_are_protected() {
    let settings = RuntimeAccessSettings {
        extra_paths: vec![normalise_extra_path(r"D:\docker-root").unwrap()],
        ..Default::default()
    };
    assert_eq!(
        check_pod(&settings, &pod_on(None, "d:/Docker-Root/image")).len(),
        1
    );
    assert!(normalise_extra_path("relative/path").is_none());
}

#[test]
fn persistent_volumes_are_read_on_either_os() {
    let pv = from_test_json::<PersistentVolume>(
        json!({"spec": {"local": {"path": r"C:\ProgramData\docker"}}}),
    );
    assert_eq!(
        check_persistent_volume(&RuntimeAccessSettings::default(), &pv),
        [
            "local path \"C:\\\\ProgramData\\\\docker\" reaches Docker's state and configuration (C:\\ProgramData\\docker)"
        ]
    );
}

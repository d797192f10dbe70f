//! Hostile requests through the built module: each ends in a verdict within the deadline (a
//! rejection with code 400 when the request cannot be read), never a trap, and the harness stays up.

mod common;

use std::time::{Duration, Instant};

use common::real_policy_module;
use host_test::WapcModule;
use host_test::run::host_capabilities::{ClusterState, HostCapabilities, Source};
use serde_json::{Value, json};
use std::sync::Arc;

const DEADLINE: Duration = Duration::from_secs(2);

/// The module with every namespace answered, unlabelled: hostile requests go the whole way,
/// namespace lookup included.
fn module() -> WapcModule {
    let unlabelled = ClusterState::default().assume_unknown_namespaces_exist();
    real_policy_module(DEADLINE).with_host_capabilities(Arc::new(HostCapabilities::granting_all(
        Source::ClusterState(unlabelled),
    )))
}

/// Sends a raw `validate` payload and returns the guest's ValidationResponse.
fn validate_raw(module: &WapcModule, payload: &[u8]) -> Value {
    let started = Instant::now();
    let response = module
        .call("validate", payload)
        .expect("the guest answers, never traps");
    assert!(started.elapsed() < DEADLINE, "took {:?}", started.elapsed());
    serde_json::from_slice(&response).expect("a ValidationResponse")
}

fn pod_request(object: Value) -> Value {
    json!({"uid": "h", "kind": {"group": "", "version": "v1", "kind": "Pod"},
           "resource": {"group": "", "version": "v1", "resource": "pods"},
           "operation": "CREATE", "namespace": "n", "userInfo": {"username": "u"}, "object": object})
}

fn validate(module: &WapcModule, object: Value) -> Value {
    let payload = json!({"request": pod_request(object), "settings": {}});
    validate_raw(module, &serde_json::to_vec(&payload).unwrap())
}

fn assert_bad_request(response: &Value, about: &str) {
    assert_eq!(response["accepted"], false, "{about}: {response}");
    assert_eq!(response["code"], 400, "{about}: {response}");
    assert!(
        response["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{about}: {response}"
    );
}

fn compliant_pod() -> Value {
    json!({"metadata": {"name": "p", "annotations": {"a": "b"}},
           "spec": {"hostNetwork": false, "hostPID": false, "hostIPC": false, "hostUsers": true,
                    "os": {"name": "linux"}, "runtimeClassName": "runc",
                    "securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"},
                                        "seLinuxOptions": {"type": "container_t"}, "appArmorProfile": {"type": "RuntimeDefault"},
                                        "windowsOptions": {"hostProcess": false}, "sysctls": [{"name": "kernel.shm_rmid_forced", "value": "0"}]},
                    "volumes": [{"name": "v", "emptyDir": {}}],
                    "containers": [{"name": "app", "image": "app:1",
                        "ports": [{"containerPort": 80, "hostPort": 0}],
                        "livenessProbe": {"httpGet": {"port": 80, "host": ""}},
                        "lifecycle": {"preStop": {"tcpSocket": {"port": 80, "host": ""}}},
                        "volumeMounts": [{"name": "v", "mountPath": "/v", "subPath": "x"}],
                        "env": [{"name": "E", "value": "1"}],
                        "securityContext": {"allowPrivilegeEscalation": false, "privileged": false, "procMount": "Default",
                            "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}]}})
}

/// Fields of [`compliant_pod`] the policy does not read: any value passes there, as it would any
/// other field Pod Security does not look at.
const UNREAD: &[&str] = &[
    "/spec/containers/0/ports/0/containerPort",
    "/spec/containers/0/livenessProbe/httpGet/port",
    "/spec/containers/0/lifecycle/preStop/tcpSocket/port",
    "/spec/containers/0/volumeMounts/0/mountPath",
    "/spec/securityContext/sysctls/0/value",
];

/// Every leaf and object the policy reads, as JSON pointers into [`compliant_pod`].
fn read_paths(value: &Value, pointer: String, paths: &mut Vec<String>) {
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| read_paths(v, format!("{pointer}/{k}"), paths)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| read_paths(v, format!("{pointer}/{i}"), paths)),
        _ => {}
    }
    if !pointer.is_empty() && !UNREAD.contains(&pointer.as_str()) {
        paths.push(pointer);
    }
}

#[test]
fn the_compliant_pod_is_allowed() {
    assert_eq!(validate(&module(), compliant_pod())["accepted"], true);
}

#[test]
fn a_wrong_type_anywhere_a_field_is_read_is_rejected() {
    let module = module();
    let mut paths = Vec::new();
    read_paths(&compliant_pod(), String::new(), &mut paths);
    let mut checked = 0;
    for path in paths {
        let original = compliant_pod().pointer(&path).unwrap().clone();
        // A value of another JSON type; `null` is "unset" in Kubernetes, so it is not among them.
        for wrong in [
            json!(7),
            json!("text"),
            json!([1]),
            json!({"x": 1}),
            json!(true),
        ] {
            let same_type = std::mem::discriminant(&wrong) == std::mem::discriminant(&original)
                || (original.is_number() && wrong.is_number());
            if same_type {
                continue;
            }
            let mut pod = compliant_pod();
            *pod.pointer_mut(&path).unwrap() = wrong.clone();
            let response = validate(&module, pod);
            assert_bad_request(&response, &format!("{path} = {wrong}"));
            checked += 1;
        }
    }
    assert!(checked > 200, "only {checked} mutations");
}

#[test]
fn missing_object_null_spec_and_non_objects_are_rejected() {
    let module = module();
    let mut request = pod_request(Value::Null);
    request.as_object_mut().unwrap().remove("object");
    let payload = serde_json::to_vec(&json!({"request": request, "settings": {}})).unwrap();
    assert_bad_request(&validate_raw(&module, &payload), "no object");
    assert_bad_request(
        &validate(&module, json!({"metadata": {}, "spec": null})),
        "null spec",
    );
    assert_bad_request(&validate(&module, json!([])), "a list");
    assert_bad_request(
        &validate_raw(&module, b"{\"request\": 5}"),
        "request not an object",
    );
    assert_bad_request(&validate_raw(&module, b""), "empty payload");
}

#[test]
fn ten_thousand_containers_get_a_verdict() {
    let module = module();
    let containers: Vec<Value> = (0..10_000)
        .map(|i| json!({"name": format!("c{i}"), "image": "app:1", "securityContext": {"privileged": i % 2 == 0}}))
        .collect();
    let response = validate(
        &module,
        json!({"metadata": {"name": "big"}, "spec": {"containers": containers}}),
    );
    assert_eq!(response["accepted"], false);
    assert!(response["message"].as_str().unwrap().contains("\"c9998\""));
}

#[test]
fn ten_megabytes_of_annotations_get_a_verdict() {
    let module = module();
    let annotations: serde_json::Map<String, Value> = (0..10)
        .map(|i| (format!("big/{i}"), json!("x".repeat(1 << 20))))
        .collect();
    let mut pod = compliant_pod();
    pod["metadata"]["annotations"] = Value::Object(annotations);
    assert_eq!(validate(&module, pod)["accepted"], true);
}

#[test]
fn deeply_nested_json_gets_a_verdict_without_overflowing() {
    let module = module();
    for depth in [200, 100_000] {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        // In a field the policy reads: not a container, so rejected.
        let read = format!(
            r#"{{"request": {{"uid": "h", "kind": {{"kind": "Pod"}}, "operation": "CREATE", "object": {{"spec": {{"containers": {nested}}}}}}}, "settings": {{}}}}"#
        );
        assert_bad_request(
            &validate_raw(&module, read.as_bytes()),
            &format!("read field, depth {depth}"),
        );
        // In a field it skips without recursing: judged on what it reads, as if the field were absent.
        let skipped = format!(
            r#"{{"request": {{"uid": "h", "kind": {{"kind": "Pod"}}, "operation": "CREATE", "namespace": "n", "object": {{"spec": {{"containers": [{{"name": "a", "securityContext": {{"privileged": true}}}}], "x": {nested}}}}}}}, "settings": {{}}}}"#
        );
        let response = validate_raw(&module, skipped.as_bytes());
        assert_eq!(
            response["code"], 403,
            "skipped field, depth {depth}: {response}"
        );
    }
}

#[test]
fn invalid_utf8_and_duplicate_keys_are_rejected() {
    let module = module();
    let mut payload = br#"{"request": {"uid": "h", "kind": {"kind": "Pod"}, "operation": "CREATE", "object": {"metadata": {"name": ""#.to_vec();
    payload.extend_from_slice(&[0xff, 0xfe]);
    payload.extend_from_slice(br#""}, "spec": {"containers": []}}}, "settings": {}}"#);
    assert_bad_request(&validate_raw(&module, &payload), "invalid UTF-8");

    let duplicate = br#"{"request": {"uid": "h", "kind": {"kind": "Pod"}, "operation": "CREATE", "object": {"spec": {"hostPID": false, "hostPID": true, "containers": []}}}, "settings": {}}"#;
    assert_bad_request(&validate_raw(&module, duplicate), "duplicate key");
}

#[test]
fn one_evaluator_survives_every_hostile_request() {
    let module = module();
    for payload in [
        &b"\xff"[..],
        b"null",
        b"[]",
        b"{\"request\":{}}",
        b"{\"request\":{\"operation\":\"CREATE\"}}",
    ] {
        assert_eq!(
            validate_raw(&module, payload)["accepted"],
            false,
            "{payload:?}"
        );
    }
    assert_eq!(
        validate(&module, compliant_pod())["accepted"],
        true,
        "still answering"
    );
}

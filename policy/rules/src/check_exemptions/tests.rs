use super::*;
use crate::level::{Level, Version};
use crate::pod::Pod;
use crate::settings::Settings;
use serde_json::{Value, json};

const BASELINE: LevelVersion = LevelVersion {
    level: Level::Baseline,
    version: Version::Latest,
};
const RESTRICTED: LevelVersion = LevelVersion {
    level: Level::Restricted,
    version: Version::Latest,
};

fn settings(entries: Value) -> Settings {
    Settings::from_value(&json!({ "checkExemptions": entries })).expect("valid settings")
}

/// The checks at `at` on `pod` in namespace `team`: the failing check IDs' reasons, and the
/// exempted ones.
fn evaluate(settings: &Settings, at: LevelVersion, pod: &Value) -> (Vec<String>, Vec<String>) {
    let bytes = serde_json::to_vec(pod).unwrap();
    let pod: Pod = serde_json::from_slice(&bytes).unwrap();
    let spec = pod.spec.unwrap_or_default();
    let entries: Vec<&CheckExemption> = settings
        .check_exemptions
        .iter()
        .filter(|entry| entry.applies_to(Some("team"), &pod.metadata))
        .collect();
    let (failures, exempted) = failures(at, &pod.metadata, &spec, &entries);
    (
        failures
            .iter()
            .map(|f| checks::aggregate(std::slice::from_ref(f)))
            .collect(),
        exempted.iter().map(Exempted::describe).collect(),
    )
}

fn container(name: &str, image: &str, security: Value) -> Value {
    json!({"name": name, "image": image, "securityContext": security})
}

fn pod(containers: Vec<Value>) -> Value {
    json!({"metadata": {"name": "p", "labels": {"app": "cni"}}, "spec": {"containers": containers}})
}

fn adds(capabilities: &[&str]) -> Value {
    json!({"capabilities": {"add": capabilities}})
}

#[test]
fn exactly_the_value_named_is_exempted() {
    let settings = settings(
        json!([{"name": "cni-agent", "check": "capabilities_baseline",
        "namespaces": ["team"], "containers": ["cni"], "values": ["NET_ADMIN"]}]),
    );
    let (failures, exempted) = evaluate(
        &settings,
        BASELINE,
        &pod(vec![container("cni", "cni", adds(&["NET_ADMIN"]))]),
    );
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(
        exempted,
        [
            "non-default capabilities (container \"cni\" must not include \"NET_ADMIN\" in securityContext.capabilities.add) by checkExemptions \"cni-agent\""
        ]
    );
    // A neighbour value is still denied, in PSA's words for the whole violation.
    let (failures, exempted) = evaluate(
        &settings,
        BASELINE,
        &pod(vec![container(
            "cni",
            "cni",
            adds(&["NET_ADMIN", "SYS_ADMIN"]),
        )]),
    );
    assert_eq!(
        failures,
        [
            "non-default capabilities (container \"cni\" must not include \"NET_ADMIN\", \"SYS_ADMIN\" in securityContext.capabilities.add)"
        ]
    );
    assert!(exempted.is_empty());
    // A second container with the same value is still denied.
    let (failures, _) = evaluate(
        &settings,
        BASELINE,
        &pod(vec![
            container("cni", "cni", adds(&["NET_ADMIN"])),
            container("sidecar", "cni", adds(&["NET_ADMIN"])),
        ]),
    );
    assert_eq!(failures.len(), 1, "{failures:?}");
    // Another namespace: not exempted.
    let bytes =
        serde_json::to_vec(&pod(vec![container("cni", "cni", adds(&["NET_ADMIN"]))])).unwrap();
    let parsed: Pod = serde_json::from_slice(&bytes).unwrap();
    assert!(!settings.check_exemptions[0].applies_to(Some("other"), &parsed.metadata));
}

#[test]
fn images_match_after_normalisation() {
    let entry =
        |image: &str| settings(json!([{"name": "e", "check": "privileged", "images": [image]}]));
    let privileged = |image: &str| pod(vec![container("c", image, json!({"privileged": true}))]);
    for (pattern, image, exempt) in [
        ("nginx", "docker.io/library/nginx", true),
        ("nginx", "docker.io/library/nginx:latest", true),
        ("docker.io/library/nginx", "nginx", true),
        ("nginx", "registry.example.com/nginx", false),
        ("nginx:*", "nginx:1.25", true),
        ("nginx:*", "nginx-evil:1.25", false),
        (
            "registry.example.com/cni/*",
            "registry.example.com/cni/agent:1",
            true,
        ),
        (
            "registry.example.com/cni/*",
            "registry.example.com/cnix/agent:1",
            false,
        ),
        (
            "nginx@sha256:0123",
            "docker.io/library/nginx@sha256:0123",
            true,
        ),
    ] {
        let (failures, _) = evaluate(&entry(pattern), BASELINE, &privileged(image));
        assert_eq!(failures.is_empty(), exempt, "{pattern} vs {image}");
    }
}

#[test]
fn a_label_selector_narrows_the_pods() {
    let entry = |selector: Value| {
        settings(
            json!([{"name": "e", "check": "privileged", "namespaces": ["team"], "podSelector": selector}]),
        )
    };
    let privileged = pod(vec![container("c", "x", json!({"privileged": true}))]);
    for (selector, exempt) in [
        (json!({"matchLabels": {"app": "cni"}}), true),
        (json!({"matchLabels": {"app": "web"}}), false),
        (
            json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["cni", "dns"]}]}),
            true,
        ),
        (
            json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["cni"]}]}),
            false,
        ),
        (
            json!({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}),
            true,
        ),
        (
            json!({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}),
            false,
        ),
    ] {
        let (failures, _) = evaluate(&entry(selector.clone()), BASELINE, &privileged);
        assert_eq!(failures.is_empty(), exempt, "{selector}");
    }
}

#[test]
fn pod_level_fields_need_every_container_covered() {
    let host_network = |containers: Vec<Value>| {
        let mut pod = pod(containers);
        pod["spec"]["hostNetwork"] = json!(true);
        pod["spec"]["hostPID"] = json!(true);
        pod
    };
    let entry = |containers: Value| {
        settings(
            json!([{"name": "net", "check": "hostNamespaces", "namespaces": ["team"],
            "containers": containers, "values": ["hostNetwork", "hostPID"]}]),
        )
    };
    let one = host_network(vec![container("agent", "x", json!({}))]);
    assert!(
        evaluate(&entry(json!(["agent"])), BASELINE, &one)
            .0
            .is_empty()
    );
    let two = host_network(vec![
        container("agent", "x", json!({})),
        container("other", "x", json!({})),
    ]);
    assert_eq!(
        evaluate(&entry(json!(["agent"])), BASELINE, &two).0.len(),
        1
    );
    // hostNetwork but not hostPID.
    let only_network = settings(
        json!([{"name": "net", "check": "hostNamespaces", "namespaces": ["team"],
        "values": ["hostNetwork"]}]),
    );
    assert_eq!(
        evaluate(&only_network, BASELINE, &one).0,
        ["host namespaces (hostNetwork=true, hostPID=true)"]
    );
}

#[test]
fn host_ports_and_ranges() {
    let entry = settings(
        json!([{"name": "dns", "check": "hostPorts", "namespaces": ["team"],
        "values": [53, "9100-9200"]}]),
    );
    let ports = |ports: &[i32]| {
        let list: Vec<Value> = ports
            .iter()
            .map(|p| json!({"containerPort": p, "hostPort": p}))
            .collect();
        pod(vec![json!({"name": "c", "image": "x", "ports": list})])
    };
    assert!(evaluate(&entry, BASELINE, &ports(&[53, 9150])).0.is_empty());
    assert_eq!(
        evaluate(&entry, BASELINE, &ports(&[53, 9201])).0,
        ["hostPort (container \"c\" uses hostPorts 53, 9201)"]
    );
}

#[test]
fn host_path_prefixes_read_only_unless_said() {
    let log_shipper = |read_only: bool, path: &str| {
        json!({"metadata": {"name": "p"}, "spec": {
            "volumes": [{"name": "logs", "hostPath": {"path": path}}],
            "containers": [{"name": "shipper", "image": "fluent-bit",
                "volumeMounts": [{"name": "logs", "mountPath": "/logs", "readOnly": read_only}]}]}})
    };
    let entry = settings(
        json!([{"name": "logs", "check": "hostPathVolumes", "namespaces": ["team"],
        "containers": ["shipper"], "values": ["/var/log"]}]),
    );
    assert!(
        evaluate(&entry, BASELINE, &log_shipper(true, "/var/log/pods"))
            .0
            .is_empty()
    );
    assert!(
        evaluate(&entry, BASELINE, &log_shipper(true, "/var//log/"))
            .0
            .is_empty()
    );
    assert_eq!(
        evaluate(&entry, BASELINE, &log_shipper(false, "/var/log"))
            .0
            .len(),
        1,
        "writable"
    );
    assert_eq!(
        evaluate(&entry, BASELINE, &log_shipper(true, "/var/logs"))
            .0
            .len(),
        1,
        "a neighbour"
    );
    assert_eq!(
        evaluate(&entry, BASELINE, &log_shipper(true, "/var/log/../lib"))
            .0
            .len(),
        1,
        "dot-dot"
    );
    let writable = settings(
        json!([{"name": "logs", "check": "hostPathVolumes", "namespaces": ["team"],
        "values": ["/var/log"], "readOnly": false}]),
    );
    assert!(
        evaluate(&writable, BASELINE, &log_shipper(false, "/var/log"))
            .0
            .is_empty()
    );
}

#[test]
fn a_whole_check_for_the_named_containers_only() {
    let entry = settings(
        json!([{"name": "mesh-init", "check": "runAsNonRoot", "namespaces": ["team"],
        "containers": ["istio-init"]}]),
    );
    let pod = json!({"metadata": {"name": "p"}, "spec": {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "initContainers": [{"name": "istio-init", "image": "istio/proxyv2",
            "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}],
        "containers": [{"name": "app", "image": "app",
            "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true}}]}});
    assert!(evaluate(&entry, RESTRICTED, &pod).0.is_empty());
    let mut app_as_root = pod.clone();
    app_as_root["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] = json!(false);
    assert_eq!(evaluate(&entry, RESTRICTED, &app_as_root).0.len(), 1);
}

#[test]
fn ephemeral_containers_are_containers_too() {
    let entry = settings(
        json!([{"name": "debug", "check": "privileged", "namespaces": ["team"],
        "images": ["registry.example.com/debug/*"]}]),
    );
    let debug = |image: &str| {
        json!({"metadata": {"name": "p"}, "spec": {
        "containers": [{"name": "app", "image": "app"}],
        "ephemeralContainers": [{"name": "debugger", "image": image, "securityContext": {"privileged": true}}]}})
    };
    assert!(
        evaluate(
            &entry,
            BASELINE,
            &debug("registry.example.com/debug/shell:1")
        )
        .0
        .is_empty()
    );
    assert_eq!(evaluate(&entry, BASELINE, &debug("busybox")).0.len(), 1);
}

#[test]
fn sysctls_and_selinux_types() {
    let entry = settings(json!([
        {"name": "tuning", "check": "sysctls", "namespaces": ["team"], "values": ["net.core.somaxconn"]},
        {"name": "spc", "check": "seLinuxOptions", "namespaces": ["team"], "containers": ["agent"], "values": ["spc_t"]}]));
    let pod = json!({"metadata": {"name": "p"}, "spec": {
        "securityContext": {"sysctls": [{"name": "net.core.somaxconn", "value": "1024"}]},
        "containers": [{"name": "agent", "image": "x", "securityContext": {"seLinuxOptions": {"type": "spc_t"}}}]}});
    let (failures, exempted) = evaluate(&entry, BASELINE, &pod);
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(exempted.len(), 2);
    let mut other_sysctl = pod.clone();
    other_sysctl["spec"]["securityContext"]["sysctls"][0]["name"] = json!("kernel.msgmax");
    assert_eq!(evaluate(&entry, BASELINE, &other_sysctl).0.len(), 1);
}

#[test]
fn entries_are_refused_when_they_are_wrong_or_too_wide() {
    let refused = |entry: Value| {
        Settings::from_value(&json!({"checkExemptions": [entry]}))
            .unwrap_err()
            .0
    };
    let message = refused(json!({"name": "e", "check": "capabilities", "namespaces": ["a"]}));
    assert!(
        message.starts_with(
            "checkExemptions[0] (\"e\"): check: unknown check \"capabilities\"; did you mean"
        ),
        "{message}"
    );
    let message = refused(json!({"name": "e", "check": "privileged", "containers": ["c"]}));
    assert!(message.contains("name its namespaces"), "{message}");
    let message = refused(
        json!({"name": "e", "check": "privileged", "podSelector": {"matchLabels": {"a": "b"}}}),
    );
    assert!(message.contains("name its namespaces"), "{message}");
    let message =
        refused(json!({"name": "e", "check": "privileged", "namespaces": ["a"], "values": ["x"]}));
    assert!(message.contains("privileged has no values"), "{message}");
    let message = refused(
        json!({"name": "e", "check": "hostPorts", "namespaces": ["a"], "values": ["80-70"]}),
    );
    assert!(
        message.contains("\"80-70\" is not one of host ports"),
        "{message}"
    );
    let message = refused(
        json!({"name": "e", "check": "hostPathVolumes", "namespaces": ["a"], "values": ["/"]}),
    );
    assert!(message.contains("every path"), "{message}");
    let message = refused(
        json!({"name": "e", "check": "hostNamespaces", "namespaces": ["a"], "values": ["hostNet"]}),
    );
    assert!(
        message.contains("did you mean \"hostNetwork\""),
        "{message}"
    );
    let message = refused(json!({"name": "e", "check": "privileged", "namespaces": []}));
    assert!(message.contains("namespaces: an empty list"), "{message}");
    let message = refused(
        json!({"name": "e", "check": "privileged", "namespaces": ["a"],
        "podSelector": {"matchLabels": {"app": "a"}, "matchExpressions": [{"key": "app", "operator": "In", "values": ["b"]}]}}),
    );
    assert!(message.contains("no pod can match"), "{message}");
    let message = refused(json!({"name": "e", "check": "privileged", "images": ["nginx*"]}));
    assert!(
        message.contains("could match other repositories"),
        "{message}"
    );
    let message =
        refused(json!({"name": "e", "check": "privileged", "namespaces": ["a"], "readOnly": true}));
    assert!(message.contains("only hostPathVolumes"), "{message}");
    let message = refused(json!({"name": "e", "check": "privileged", "namespace": ["a"]}));
    assert!(
        message.contains("unknown key \"namespace\"; did you mean \"namespaces\"?"),
        "{message}"
    );
    let message = Settings::from_value(&json!({"checkExemptions": []}))
        .unwrap_err()
        .0;
    assert!(
        message.contains("an empty list exempts nothing"),
        "{message}"
    );
    let two = json!({"checkExemptions": [{"name": "e", "check": "privileged", "namespaces": ["a"]},
        {"name": "e", "check": "hostPorts", "namespaces": ["a"]}]});
    assert!(
        Settings::from_value(&two)
            .unwrap_err()
            .0
            .contains("another entry has this name")
    );
}

/// For each check with values: the exact value exempted, a neighbour value still denied, and the
/// same value in a second container (not named) still denied.
#[test]
fn every_check_with_values_lifts_exactly_its_values() {
    struct Case {
        check: &'static str,
        value: Value,
        /// The container's part of the pod with the given value, and the pod's own part.
        container: fn(&str) -> Value,
        pod: fn(&str) -> Value,
        neighbour: &'static str,
    }
    let cases = [
        Case {
            check: "capabilities_baseline",
            value: json!("NET_ADMIN"),
            container: |v| json!({"securityContext": {"capabilities": {"add": [v]}}}),
            pod: |_| json!({}),
            neighbour: "SYS_ADMIN",
        },
        Case {
            check: "hostPorts",
            value: json!(8080),
            container: |v| json!({"ports": [{"containerPort": 80, "hostPort": v.parse::<i32>().unwrap()}]}),
            pod: |_| json!({}),
            neighbour: "8081",
        },
        Case {
            check: "seLinuxOptions",
            value: json!("spc_t"),
            container: |v| json!({"securityContext": {"seLinuxOptions": {"type": v}}}),
            pod: |_| json!({}),
            neighbour: "unconfined_t",
        },
        Case {
            check: "sysctls",
            value: json!("net.core.somaxconn"),
            container: |_| json!({}),
            pod: |v| json!({"securityContext": {"sysctls": [{"name": v, "value": "1"}]}}),
            neighbour: "kernel.msgmax",
        },
        Case {
            check: "hostNamespaces",
            value: json!("hostNetwork"),
            container: |_| json!({}),
            pod: |v| json!({v: true}),
            neighbour: "hostIPC",
        },
        Case {
            check: "hostPathVolumes",
            value: json!("/var/log"),
            container: |_| json!({"volumeMounts": [{"name": "host", "mountPath": "/h", "readOnly": true}]}),
            pod: |v| json!({"volumes": [{"name": "host", "hostPath": {"path": v}}]}),
            neighbour: "/var/lib",
        },
    ];
    for case in cases {
        let value = case
            .value
            .as_str()
            .map_or_else(|| case.value.to_string(), str::to_string);
        let build = |value: &str, names: &[&str]| {
            let containers: Vec<Value> = names
                .iter()
                .map(|name| {
                    let mut container = json!({"name": name, "image": "x"});
                    for (key, field) in (case.container)(value).as_object().unwrap() {
                        container[key] = field.clone();
                    }
                    container
                })
                .collect();
            let mut spec = json!({"containers": containers});
            for (key, field) in (case.pod)(value).as_object().unwrap() {
                spec[key] = field.clone();
            }
            json!({"metadata": {"name": "p"}, "spec": spec})
        };
        let entry = settings(
            json!([{"name": "e", "check": case.check, "namespaces": ["team"],
            "containers": ["agent"], "values": [case.value]}]),
        );
        let check = case.check;
        assert!(
            evaluate(&entry, BASELINE, &build(&value, &["agent"]))
                .0
                .is_empty(),
            "{check}: exact"
        );
        assert_eq!(
            evaluate(&entry, BASELINE, &build(case.neighbour, &["agent"]))
                .0
                .len(),
            1,
            "{check}: neighbour"
        );
        assert_eq!(
            evaluate(&entry, BASELINE, &build(&value, &["agent", "other"]))
                .0
                .len(),
            1,
            "{check}: second container"
        );
    }
}

//! Structure-aware: pods built field by field from the fuzzer's bytes, with values that are right,
//! wrong, or of the wrong type, evaluated at every level and version. Checks that no input panics,
//! that a rejection always names something, and that restricted rejects whatever baseline rejects.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pod_security_rules::{Settings, validate_json};
use serde_json::{Map, Value, json};

#[derive(Arbitrary, Debug)]
enum Field {
    Absent,
    Null,
    Bool(bool),
    Int(i64),
    Text(Word),
    List(Vec<Word>),
    Object,
}

/// Strings the checks care about, and one the fuzzer chooses.
#[derive(Arbitrary, Debug)]
enum Word {
    All,
    NetBindService,
    SysAdmin,
    RuntimeDefault,
    Localhost,
    Unconfined,
    Unmasked,
    Default,
    ContainerT,
    Windows,
    DockerSock,
    Other(String),
}

impl Word {
    fn text(&self) -> String {
        match self {
            Word::All => "ALL",
            Word::NetBindService => "NET_BIND_SERVICE",
            Word::SysAdmin => "SYS_ADMIN",
            Word::RuntimeDefault => "RuntimeDefault",
            Word::Localhost => "Localhost",
            Word::Unconfined => "Unconfined",
            Word::Unmasked => "Unmasked",
            Word::Default => "Default",
            Word::ContainerT => "container_t",
            Word::Windows => "windows",
            Word::DockerSock => "/var/run/docker.sock",
            Word::Other(text) => text,
        }
        .to_string()
    }
}

impl Field {
    fn value(&self) -> Option<Value> {
        Some(match self {
            Field::Absent => return None,
            Field::Null => Value::Null,
            Field::Bool(b) => json!(b),
            Field::Int(i) => json!(i),
            Field::Text(word) => json!(word.text()),
            Field::List(words) => json!(words.iter().map(Word::text).collect::<Vec<_>>()),
            Field::Object => json!({}),
        })
    }
}

#[derive(Arbitrary, Debug)]
struct FuzzContainer {
    list: u8,
    privileged: Field,
    allow_privilege_escalation: Field,
    run_as_non_root: Field,
    run_as_user: Field,
    add: Field,
    drop: Field,
    seccomp: Field,
    proc_mount: Field,
    host_port: Field,
    probe_host: Field,
    mount_sub_path: Field,
}

#[derive(Arbitrary, Debug)]
struct FuzzPod {
    containers: Vec<FuzzContainer>,
    host_network: Field,
    host_pid: Field,
    host_users: Field,
    os: Field,
    run_as_non_root: Field,
    seccomp: Field,
    sysctl: Field,
    volume_source: Word,
    host_path: Field,
    annotation: Field,
    minor: u8,
}

fn set(map: &mut Map<String, Value>, key: &str, field: &Field) {
    if let Some(value) = field.value() {
        map.insert(key.into(), value);
    }
}

/// The field's value placed inside the structure `wrap` builds around it.
fn wrapped(field: &Field, wrap: impl Fn(Value) -> Value) -> Option<Value> {
    field.value().map(wrap)
}

fn build(pod: &FuzzPod) -> Value {
    let mut lists = [Vec::new(), Vec::new(), Vec::new()];
    for (index, c) in pod.containers.iter().take(8).enumerate() {
        let mut sc = Map::new();
        set(&mut sc, "privileged", &c.privileged);
        set(
            &mut sc,
            "allowPrivilegeEscalation",
            &c.allow_privilege_escalation,
        );
        set(&mut sc, "runAsNonRoot", &c.run_as_non_root);
        set(&mut sc, "runAsUser", &c.run_as_user);
        set(&mut sc, "procMount", &c.proc_mount);
        let mut capabilities = Map::new();
        set(&mut capabilities, "add", &c.add);
        set(&mut capabilities, "drop", &c.drop);
        sc.insert("capabilities".into(), Value::Object(capabilities));
        if let Some(seccomp) = wrapped(&c.seccomp, |v| json!({"type": v})) {
            sc.insert("seccompProfile".into(), seccomp);
        }
        let mut container =
            json!({"name": format!("c{index}"), "image": "app:1", "securityContext": sc});
        if let Some(port) = wrapped(
            &c.host_port,
            |v| json!([{"containerPort": 80, "hostPort": v}]),
        ) {
            container["ports"] = port;
        }
        if let Some(probe) = wrapped(
            &c.probe_host,
            |v| json!({"httpGet": {"port": 80, "host": v}}),
        ) {
            container["readinessProbe"] = probe;
        }
        if let Some(mount) = wrapped(
            &c.mount_sub_path,
            |v| json!([{"name": "v0", "mountPath": "/m", "subPath": v}]),
        ) {
            container["volumeMounts"] = mount;
        }
        lists[usize::from(c.list % 3)].push(container);
    }
    let mut pod_sc = Map::new();
    set(&mut pod_sc, "runAsNonRoot", &pod.run_as_non_root);
    if let Some(seccomp) = wrapped(&pod.seccomp, |v| json!({"type": v})) {
        pod_sc.insert("seccompProfile".into(), seccomp);
    }
    if let Some(sysctls) = wrapped(&pod.sysctl, |v| json!([{"name": v, "value": "1"}])) {
        pod_sc.insert("sysctls".into(), sysctls);
    }
    let mut spec = json!({"initContainers": lists[0], "containers": lists[1], "ephemeralContainers": lists[2],
                          "securityContext": pod_sc});
    let spec_map = spec.as_object_mut().unwrap();
    set(spec_map, "hostNetwork", &pod.host_network);
    set(spec_map, "hostPID", &pod.host_pid);
    set(spec_map, "hostUsers", &pod.host_users);
    if let Some(os) = wrapped(&pod.os, |v| json!({"name": v})) {
        spec_map.insert("os".into(), os);
    }
    let mut volume = json!({"name": "v0"});
    match pod.host_path.value() {
        Some(path) => volume["hostPath"] = json!({"path": path}),
        None => volume[pod.volume_source.text()] = json!({}),
    }
    spec_map.insert("volumes".into(), json!([volume]));
    let mut annotations = Map::new();
    set(
        &mut annotations,
        "container.apparmor.security.beta.kubernetes.io/c0",
        &pod.annotation,
    );
    json!({"metadata": {"name": "p", "annotations": annotations}, "spec": spec})
}

fn verdict_at(level: &str, version: &str, pod: &Value) -> pod_security_rules::Verdict {
    let settings = Settings::from_value(
        &json!({"defaults": {"enforce": level, "enforce-version": version},
                                                "runtimeAccess": {"enabled": false}}),
    )
    .unwrap();
    let request = json!({"uid": "f", "kind": {"kind": "Pod"}, "operation": "CREATE", "namespace": "n",
                         "userInfo": {"username": "u"}, "object": pod});
    validate_json(&serde_json::to_vec(&request).unwrap(), &settings)
}

fuzz_target!(|fuzzed: FuzzPod| {
    let pod = build(&fuzzed);
    let version = if fuzzed.minor > 37 {
        "latest".to_string()
    } else {
        format!("v1.{}", fuzzed.minor)
    };
    let baseline = verdict_at("baseline", &version, &pod);
    let restricted = verdict_at("restricted", &version, &pod);
    for verdict in [&baseline, &restricted] {
        if !verdict.allowed {
            assert!(
                verdict.message.as_deref().is_some_and(|m| !m.is_empty()),
                "{pod}"
            );
        }
    }
    // A request the policy cannot read is refused at every level alike.
    if baseline.code == Some(400) || restricted.code == Some(400) {
        assert_eq!(baseline.code, restricted.code, "{pod}");
    }
    assert!(
        baseline.allowed || !restricted.allowed,
        "restricted accepts what baseline rejects: {pod}"
    );
});

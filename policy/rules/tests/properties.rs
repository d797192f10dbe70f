//! Properties of the rule engine over generated pods: how levels, versions, violations, container
//! order and unrelated fields may and may not change a verdict.

use pod_security_rules::checks::{self, Forbidden};
use pod_security_rules::pod::Pod;
use pod_security_rules::{Level, LevelVersion, Settings, Unreachable, Version, validate_json};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

fn maybe<T: Clone + std::fmt::Debug + 'static>(values: Vec<T>) -> impl Strategy<Value = Option<T>> {
    prop_oneof![Just(None), select(values).prop_map(Some)]
}

fn insert(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(key.to_string(), value);
    }
}

/// A container's security-relevant fields, each unset or drawn from allowed and forbidden values.
fn security_context() -> impl Strategy<Value = Value> {
    (
        (
            maybe(vec![true, false]),
            maybe(vec![true, false]),
            maybe(vec![true, false]),
            maybe(vec![0i64, 1000]),
        ),
        (
            proptest::sample::subsequence(
                vec!["NET_BIND_SERVICE", "CHOWN", "NET_RAW", "SYS_ADMIN"],
                0..=2,
            ),
            maybe(vec!["ALL", "NET_RAW"]),
            maybe(vec!["RuntimeDefault", "Localhost", "Unconfined"]),
            maybe(vec!["Default", "Unmasked"]),
        ),
        (
            maybe(vec!["container_t", "spc_t", "container_engine_t"]),
            maybe(vec!["RuntimeDefault", "Unconfined"]),
        ),
    )
        .prop_map(
            |(
                (privileged, escalation, non_root, user),
                (add, drop, seccomp, proc_mount),
                (selinux, apparmor),
            )| {
                let mut sc = Map::new();
                insert(&mut sc, "privileged", privileged.map(Value::from));
                insert(
                    &mut sc,
                    "allowPrivilegeEscalation",
                    escalation.map(Value::from),
                );
                insert(&mut sc, "runAsNonRoot", non_root.map(Value::from));
                insert(&mut sc, "runAsUser", user.map(Value::from));
                if !add.is_empty() || drop.is_some() {
                    sc.insert(
                        "capabilities".into(),
                        json!({"add": add, "drop": drop.into_iter().collect::<Vec<_>>()}),
                    );
                }
                insert(
                    &mut sc,
                    "seccompProfile",
                    seccomp.map(|t| json!({"type": t})),
                );
                insert(&mut sc, "procMount", proc_mount.map(Value::from));
                insert(
                    &mut sc,
                    "seLinuxOptions",
                    selinux.map(|t| json!({"type": t})),
                );
                insert(
                    &mut sc,
                    "appArmorProfile",
                    apparmor.map(|t| json!({"type": t})),
                );
                Value::Object(sc)
            },
        )
}

fn container() -> impl Strategy<Value = Value> {
    (
        security_context(),
        maybe(vec![0i64, 8080]),
        maybe(vec!["", "10.0.0.1"]),
    )
        .prop_map(|(sc, host_port, probe_host)| {
            let mut c =
                json!({"name": "", "image": "registry.example.com/app:1", "securityContext": sc});
            if let Some(port) = host_port {
                c["ports"] = json!([{"containerPort": 80, "hostPort": port}]);
            }
            if let Some(host) = probe_host {
                c["livenessProbe"] = json!({"httpGet": {"port": 80, "host": host}});
            }
            c
        })
}

/// A pod with one to four containers spread over the three lists, pod-level settings, volumes and annotations.
fn pod() -> impl Strategy<Value = Value> {
    (
        proptest::collection::vec((container(), 0..3usize), 1..=4),
        (any::<bool>(), any::<bool>(), any::<bool>(), maybe(vec![true, false]), maybe(vec!["linux", "windows"])),
        (security_context(), proptest::sample::subsequence(vec!["kernel.shm_rmid_forced", "net.ipv4.tcp_rmem", "kernel.msgmax"], 0..=2)),
        proptest::sample::subsequence(vec!["emptyDir", "secret", "hostPath", "nfs"], 0..=2),
        proptest::sample::subsequence(
            vec![
                ("container.apparmor.security.beta.kubernetes.io/c0", "unconfined"),
                ("container.apparmor.security.beta.kubernetes.io/c1", "runtime/default"),
                ("seccomp.security.alpha.kubernetes.io/pod", "unconfined"),
                ("seccomp.security.alpha.kubernetes.io/pod", "runtime/default"),
            ],
            0..=2,
        ),
    )
        .prop_map(|(containers, (net, pid, ipc, host_users, os), (pod_sc, sysctls), volumes, annotations)| {
            let mut lists = [Vec::new(), Vec::new(), Vec::new()];
            for (index, (mut container, list)) in containers.into_iter().enumerate() {
                container["name"] = json!(format!("c{index}"));
                lists[list].push(container);
            }
            if lists[1].is_empty() {
                let moved = lists[0].pop().or_else(|| lists[2].pop()).unwrap();
                lists[1].push(moved);
            }
            let mut pod_sc = pod_sc;
            let pod_sc_map = pod_sc.as_object_mut().unwrap();
            for key in ["privileged", "allowPrivilegeEscalation", "capabilities", "procMount"] {
                pod_sc_map.remove(key); // container-only fields
            }
            if !sysctls.is_empty() {
                let sysctls: Vec<Value> = sysctls.iter().map(|n| json!({"name": n, "value": "1"})).collect();
                pod_sc_map.insert("sysctls".into(), Value::from(sysctls));
            }
            let volumes: Vec<Value> = volumes
                .iter()
                .enumerate()
                .map(|(i, kind)| match *kind {
                    "hostPath" => json!({"name": format!("v{i}"), "hostPath": {"path": "/data"}}),
                    "nfs" => json!({"name": format!("v{i}"), "nfs": {"server": "s", "path": "/"}}),
                    other => json!({"name": format!("v{i}"), other: {}}),
                })
                .collect();
            let annotations: Map<String, Value> = annotations.into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
            let mut spec = json!({"initContainers": lists[0], "containers": lists[1], "ephemeralContainers": lists[2],
                                  "hostNetwork": net, "hostPID": pid, "hostIPC": ipc, "securityContext": pod_sc, "volumes": volumes});
            if let Some(host_users) = host_users {
                spec["hostUsers"] = json!(host_users);
            }
            if let Some(os) = os {
                spec["os"] = json!({"name": os});
            }
            json!({"metadata": {"name": "p", "annotations": annotations}, "spec": spec})
        })
}

fn policy() -> impl Strategy<Value = (u32, LevelVersion)> {
    (0..=38u32, select(vec![Level::Baseline, Level::Restricted])).prop_map(|(minor, level)| {
        let version = if minor == 38 {
            Version::Latest
        } else {
            Version::V1(minor)
        };
        (
            pod_security_rules::checks::effective_minor(version),
            LevelVersion { level, version },
        )
    })
}

fn failures(policy: LevelVersion, pod: &Value) -> Vec<Forbidden> {
    let bytes = serde_json::to_vec(pod).expect("generated pods serialise");
    let pod: Pod = serde_json::from_slice(&bytes).expect("generated pods parse");
    checks::failures(policy, &pod.metadata, pod.spec.as_ref().unwrap())
}

/// The IDs of the checks that fail, for comparisons across versions.
fn failing_ids(policy: LevelVersion, pod: &Value) -> Vec<&'static str> {
    let bytes = serde_json::to_vec(pod).unwrap();
    let pod: Pod = serde_json::from_slice(&bytes).unwrap();
    let spec = pod.spec.as_ref().unwrap();
    checks::checks_for(policy)
        .into_iter()
        .filter(|(_, check)| check(&pod.metadata, spec).is_err())
        .map(|(id, _)| id)
        .collect()
}

/// Checks whose later variants only add restrictions at a level: an older version never rejects more.
/// (At restricted, capabilities_baseline gives way to capabilities_restricted, which skips Windows pods
/// from v1.25: a loosening.)
fn tighten_only(level: Level) -> &'static [&'static str] {
    const ALWAYS: [&str; 6] = [
        "appArmorProfile",
        "hostNamespaces",
        "hostPorts",
        "hostProbesAndHostLifecycle",
        "privileged",
        "windowsHostProcess",
    ];
    match level {
        Level::Restricted => &[
            ALWAYS[0],
            ALWAYS[1],
            ALWAYS[2],
            ALWAYS[3],
            ALWAYS[4],
            ALWAYS[5],
            "restrictedVolumes",
        ],
        _ => &[
            ALWAYS[0],
            ALWAYS[1],
            ALWAYS[2],
            ALWAYS[3],
            ALWAYS[4],
            ALWAYS[5],
            "capabilities_baseline",
            "hostPathVolumes",
        ],
    }
}

/// Makes a generated pod meet restricted:latest (and so every level and version), keeping its shape.
fn harden(mut pod: Value) -> Value {
    let compliant = json!({"allowPrivilegeEscalation": false, "runAsNonRoot": true,
        "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}, "seccompProfile": {"type": "RuntimeDefault"}});
    let spec = &mut pod["spec"];
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for container in spec[list].as_array_mut().unwrap() {
            container["securityContext"] = compliant.clone();
            container.as_object_mut().unwrap().remove("ports");
            container.as_object_mut().unwrap().remove("livenessProbe");
        }
    }
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        spec[key] = json!(false);
    }
    spec["securityContext"] = json!({"runAsUser": 1000});
    spec["volumes"] = json!([{"name": "scratch", "emptyDir": {}}]);
    pod["metadata"]["annotations"] = json!({});
    pod
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, max_global_rejects: 20_000, ..ProptestConfig::default() })]

    #[test]
    fn restricted_rejects_whatever_baseline_rejects(pod in pod(), (_, policy) in policy()) {
        let baseline = LevelVersion { level: Level::Baseline, ..policy };
        let restricted = LevelVersion { level: Level::Restricted, ..policy };
        if !failures(baseline, &pod).is_empty() {
            prop_assert!(!failures(restricted, &pod).is_empty());
        }
    }

    #[test]
    fn adding_a_violation_never_keeps_a_pod_accepted(
        pod in prop_oneof![1 => pod(), 3 => pod().prop_map(harden)],
        (_, policy) in policy(),
        violation in 0..4usize,
        target in 0..3usize,
    ) {
        prop_assume!(failures(policy, &pod).is_empty());
        let mut bad = pod.clone();
        match violation {
            0 => bad["spec"]["hostNetwork"] = json!(true),
            1 => bad["spec"]["volumes"].as_array_mut().unwrap().push(json!({"name": "h", "hostPath": {"path": "/etc"}})),
            2 | 3 => {
                let places: Vec<(&str, usize)> = ["initContainers", "containers", "ephemeralContainers"]
                    .into_iter()
                    .flat_map(|list| (0..bad["spec"][list].as_array().unwrap().len()).map(move |i| (list, i)))
                    .collect();
                let (list, index) = places[target % places.len()];
                let container = &mut bad["spec"][list][index];
                if violation == 2 {
                    container["securityContext"]["privileged"] = json!(true);
                } else {
                    container["ports"] = json!([{"containerPort": 1, "hostPort": 9999}]);
                }
            }
            _ => unreachable!(),
        }
        prop_assert!(!failures(policy, &bad).is_empty(), "{bad}");
    }

    #[test]
    fn container_order_and_unrelated_fields_do_not_change_the_verdict(pod in pod(), (_, policy) in policy()) {
        let allowed = failures(policy, &pod).is_empty();
        let mut reordered = pod.clone();
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            reordered["spec"][list].as_array_mut().unwrap().reverse();
        }
        prop_assert_eq!(failures(policy, &reordered).is_empty(), allowed);
        let mut decorated = pod.clone();
        decorated["metadata"]["labels"] = json!({"app": "x"});
        decorated["spec"]["nodeSelector"] = json!({"disk": "ssd"});
        decorated["spec"]["containers"][0]["resources"] = json!({"limits": {"cpu": "1"}});
        decorated["spec"]["containers"][0]["env"] = json!([{"name": "A", "value": "privileged"}]);
        prop_assert_eq!(failures(policy, &decorated).is_empty(), allowed);
    }

    #[test]
    fn every_rejection_names_a_check_and_an_offender(pod in pod(), (_, policy) in policy()) {
        for failure in failures(policy, &pod) {
            prop_assert!(!failure.reason.is_empty());
            let names_offender = ["\"", "pod", "hostNetwork=true", "hostPID=true", "hostIPC=true", "annotation", "."]
                .iter()
                .any(|marker| failure.detail.contains(marker));
            prop_assert!(names_offender, "{:?}", failure);
        }
    }

    #[test]
    fn older_versions_never_reject_more_for_checks_that_only_tighten(
        pod in pod(),
        level in select(vec![Level::Baseline, Level::Restricted]),
        old in 0..=37u32,
        newer in 0..=37u32,
    ) {
        let (old, newer) = (old.min(newer), old.max(newer));
        let at = |minor| failing_ids(LevelVersion { level, version: Version::V1(minor) }, &pod);
        let newer_ids = at(newer);
        for id in at(old).into_iter().filter(|id| tighten_only(level).contains(id)) {
            prop_assert!(newer_ids.contains(&id), "{} fails at v1.{} but not at v1.{}", id, old, newer);
        }
    }

    #[test]
    fn the_admission_verdict_matches_the_checks(pod in pod(), (_, policy) in policy()) {
        let settings = Settings::from_value(&json!({"defaults": {"enforce": policy.level.as_str(),
            "enforce-version": policy.version.to_string()}, "namespaceLabels": false})).unwrap();
        let request = json!({"uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"}, "operation": "CREATE",
            "namespace": "n", "userInfo": {"username": "u"}, "object": pod});
        let verdict = validate_json(&serde_json::to_vec(&request).unwrap(), &settings,
            &Unreachable("the defaults alone are read"));
        let failures = failures(policy, &pod);
        prop_assert_eq!(verdict.allowed, failures.is_empty());
        if !verdict.allowed {
            let expected = format!("violates PodSecurity \"{policy}\": {}", checks::aggregate(&failures));
            prop_assert!(verdict.message.unwrap().starts_with(&expected));
        }
    }
}

/// Every settings object with one unknown or misspelled key is refused: a typo never weakens enforcement.
mod settings_typos {
    use super::*;

    /// Each section and its keys, from the settings' own types.
    fn known() -> [(&'static str, &'static [&'static str]); 7] {
        pod_security_rules::settings::known_keys()
    }

    fn misspelling() -> impl Strategy<Value = (usize, String)> {
        (
            0..known().len(),
            any::<prop::sample::Index>(),
            0..4usize,
            any::<char>(),
            any::<prop::sample::Index>(),
        )
            .prop_map(|(section, key, edit, letter, at)| {
                let key = *key.get(known()[section].1);
                let mut chars: Vec<char> = key.chars().collect();
                let at = at.index(chars.len());
                match edit {
                    0 => {
                        chars.remove(at);
                    }
                    1 => chars.insert(at, letter),
                    2 => chars[at] = letter,
                    _ => chars = chars.iter().map(|c| c.to_ascii_uppercase()).collect(),
                }
                (section, chars.into_iter().collect())
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn any_unknown_key_is_refused((section, key) in misspelling()) {
            let (name, known) = known()[section];
            prop_assume!(!known.contains(&key.as_str()));
            // `checkExemptions` is a list of entries; `a.b` is the section `b` inside `a`'s entry.
            let settings = match name {
                "" => json!({key.clone(): {}}),
                "checkExemptions" => json!({name: [{key.clone(): null}]}),
                "checkExemptions.podSelector" => {
                    json!({"checkExemptions": [{"podSelector": {key.clone(): null}}]})
                }
                _ => json!({name: {key.clone(): null}}),
            };
            let err = Settings::from_value(&settings).expect_err("an unknown key must be refused");
            prop_assert!(err.0.contains(&format!("unknown key {key:?}")), "{}", err);
        }
    }
}

/// `checkExemptions` only ever lift what they name.
mod check_exemptions {
    use super::*;

    /// An entry over the generated pods' containers (`c0`…) and values.
    fn entry() -> impl Strategy<Value = Value> {
        (
            select(vec![
                (
                    "capabilities_baseline",
                    Some(vec!["NET_RAW", "SYS_ADMIN", "CHOWN"]),
                ),
                ("capabilities_restricted", Some(vec!["NET_RAW", "CHOWN"])),
                ("hostPorts", Some(vec!["8080", "8000-8100", "9000"])),
                (
                    "hostNamespaces",
                    Some(vec!["hostNetwork", "hostPID", "hostIPC"]),
                ),
                ("hostPathVolumes", Some(vec!["/data", "/var/log"])),
                ("privileged", None),
                ("runAsNonRoot", None),
                ("allowPrivilegeEscalation", None),
                ("restrictedVolumes", None),
                ("seccompProfile_restricted", None),
            ]),
            maybe(vec!["c0", "c1", "c2"]),
            any::<prop::sample::Index>(),
            any::<bool>(),
        )
            .prop_map(|((check, values), container, pick, read_only)| {
                let mut entry = json!({"check": check, "namespaces": ["n"]});
                if let Some(container) = container {
                    entry["containers"] = json!([container]);
                }
                if let Some(values) = values {
                    entry["values"] = json!([values[pick.index(values.len())]]);
                }
                if check == "hostPathVolumes" {
                    entry["readOnly"] = json!(read_only);
                }
                entry
            })
    }

    fn entries() -> impl Strategy<Value = Vec<Value>> {
        prop::collection::vec(entry(), 1..5).prop_map(|entries| {
            entries
                .into_iter()
                .enumerate()
                .map(|(index, mut entry)| {
                    entry["name"] = json!(format!("e{index}"));
                    entry
                })
                .collect()
        })
    }

    /// The verdict on `pod` in namespace `namespace`, at `policy`, under these entries.
    fn allowed(pod: &Value, namespace: &str, policy: LevelVersion, entries: &[Value]) -> bool {
        let mut settings = json!({"defaults": {"enforce": policy.level.as_str(),
            "enforce-version": policy.version.to_string()}, "namespaceLabels": false,
            "runtimeAccess": {"enabled": false}});
        if !entries.is_empty() {
            settings["checkExemptions"] = json!(entries);
        }
        let settings = Settings::from_value(&settings).expect("generated entries are valid");
        let request = json!({"uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"}, "operation": "CREATE",
            "namespace": namespace, "userInfo": {"username": "u"}, "object": pod});
        validate_json(
            &serde_json::to_vec(&request).unwrap(),
            &settings,
            &Unreachable("no lookups"),
        )
        .allowed
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1500))]

        #[test]
        fn removing_an_entry_never_turns_a_deny_into_an_allow(
            pod in pod(), (_, policy) in policy(), entries in entries(), drop in any::<prop::sample::Index>()
        ) {
            let mut fewer = entries.clone();
            fewer.remove(drop.index(entries.len()));
            if !allowed(&pod, "n", policy, &entries) {
                prop_assert!(!allowed(&pod, "n", policy, &fewer));
            }
            // And with none at all, nothing is allowed that the entries did not allow.
            if allowed(&pod, "n", policy, &[]) {
                prop_assert!(allowed(&pod, "n", policy, &entries));
            }
        }

        #[test]
        fn entries_never_change_the_verdict_of_pods_they_do_not_match(
            pod in pod(), (_, policy) in policy(), entries in entries()
        ) {
            prop_assert_eq!(
                allowed(&pod, "elsewhere", policy, &entries),
                allowed(&pod, "elsewhere", policy, &[])
            );
        }
    }
}

/// `secureDefaults` only add: idempotent, never a new violation, and an ordinary pod (nothing
/// written that restricted forbids) always passes once defaulted.
mod secure_defaults {
    use super::*;
    use pod_security_rules::secure_defaults::{Scope, SecureDefaults, default_pod_spec};

    fn restricted() -> LevelVersion {
        LevelVersion {
            level: Level::Restricted,
            version: Version::Latest,
        }
    }

    fn defaulted(pod: &Value) -> (Value, bool) {
        let mut pod = pod.clone();
        let changed = default_pod_spec(
            pod.get_mut("spec").unwrap(),
            &SecureDefaults::all_on(),
            Scope::WholePod,
        );
        (pod, changed)
    }

    /// Pods that write nothing restricted forbids: containers in every list, security contexts
    /// absent, empty or holding allowed values, allowed volume types.
    fn ordinary_container() -> impl Strategy<Value = Value> {
        (
            "[a-z]{1,8}",
            maybe(vec![
                json!({}),
                json!({"runAsNonRoot": true}),
                json!({"allowPrivilegeEscalation": false}),
                json!({"capabilities": {"add": ["NET_BIND_SERVICE"]}}),
                json!({"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}),
                json!({"capabilities": {}}),
                json!({"readOnlyRootFilesystem": true}),
            ]),
        )
            .prop_map(|(name, context)| {
                let mut container = json!({"name": name, "image": "registry.example.com/app:1"});
                if let Some(context) = context {
                    container["securityContext"] = context;
                }
                container
            })
    }

    fn ordinary_pod() -> impl Strategy<Value = Value> {
        (
            prop::collection::vec(ordinary_container(), 1..4),
            prop::collection::vec(ordinary_container(), 0..2),
            prop::collection::vec(ordinary_container(), 0..2),
            maybe(vec![
                json!({}),
                json!({"runAsUser": 1000}),
                json!({"fsGroup": 2000}),
            ]),
            prop::collection::vec(
                select(vec!["configMap", "emptyDir", "secret", "projected"]),
                0..3,
            ),
        )
            .prop_map(|(containers, init, ephemeral, pod_context, volumes)| {
                let volumes: Vec<Value> = volumes
                    .iter()
                    .enumerate()
                    .map(|(i, kind)| json!({"name": format!("v{i}"), *kind: {}}))
                    .collect();
                let mut spec = json!({"containers": containers, "volumes": volumes});
                if !init.is_empty() {
                    spec["initContainers"] = json!(init);
                }
                if !ephemeral.is_empty() {
                    spec["ephemeralContainers"] = json!(ephemeral);
                }
                if let Some(context) = pod_context {
                    spec["securityContext"] = context;
                }
                json!({"metadata": {"name": "p"}, "spec": spec})
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn defaulting_twice_changes_nothing_more(pod in pod()) {
            let (once, _) = defaulted(&pod);
            let (twice, changed) = defaulted(&once);
            prop_assert!(!changed);
            prop_assert_eq!(once, twice);
        }

        #[test]
        fn defaults_never_add_a_violation(pod in pod(), (_, policy) in policy()) {
            let (after, _) = defaulted(&pod);
            let reasons = |pod: &Value| -> Vec<String> {
                failures(policy, pod).into_iter().map(|failure: Forbidden| failure.reason).collect()
            };
            let before = reasons(&pod);
            for reason in reasons(&after) {
                prop_assert!(before.contains(&reason), "{} appeared", reason);
            }
        }

        #[test]
        fn an_ordinary_pod_passes_restricted_once_defaulted(pod in ordinary_pod()) {
            let (after, _) = defaulted(&pod);
            let left = failures(restricted(), &after);
            prop_assert!(left.is_empty(), "{:?} on {}", left, after);
        }
    }
}

use super::*;
use crate::level::{Level, Version};
use crate::namespaces::fixture::FixtureCluster;
use serde_json::{Value, json};

const RESTRICTED: LevelVersion = LevelVersion {
    level: Level::Restricted,
    version: Version::Latest,
};

/// A pod that fails restricted only by running as root (`runAsNonRoot` unset), or also by being
/// privileged.
fn pod(name: &str, privileged: bool, controller: Option<&str>) -> Value {
    let mut pod = json!({
        "metadata": {"name": name, "namespace": "team"},
        "spec": {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                 "containers": [{"name": "app", "image": "nginx", "securityContext": {
                     "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
                     "privileged": privileged}}]}
    });
    if let Some(uid) = controller {
        pod["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": uid, "controller": true}]);
    }
    pod
}

fn compliant(name: &str) -> Value {
    let mut pod = pod(name, false, None);
    pod["spec"]["securityContext"]["runAsNonRoot"] = json!(true);
    pod
}

fn cluster(pods: Vec<Value>) -> FixtureCluster {
    let mut cluster = FixtureCluster::unlabelled();
    cluster.pods.insert("team".to_string(), pods);
    cluster
}

const AS_ROOT: &str =
    "runAsNonRoot != true (pod or container \"app\" must set securityContext.runAsNonRoot=true)";

fn warnings(cluster: &FixtureCluster) -> Vec<String> {
    existing_pod_warnings(cluster, "team", RESTRICTED, &Settings::default())
}

#[test]
fn compliant_pods_give_no_warning() {
    assert!(warnings(&cluster(vec![compliant("a"), compliant("b")])).is_empty());
    assert!(warnings(&cluster(vec![])).is_empty());
}

#[test]
fn one_pod() {
    assert_eq!(
        warnings(&cluster(vec![compliant("ok"), pod("web-1", false, None)])),
        [
            "existing pods in namespace \"team\" violate the new PodSecurity enforce level \"restricted:latest\"".to_string(),
            format!("web-1: {AS_ROOT}"),
        ]
    );
}

#[test]
fn two_pods_name_the_lexically_first() {
    assert_eq!(
        warnings(&cluster(vec![
            pod("web-2", false, None),
            pod("web-1", false, None)
        ]))[1],
        format!("web-1 (and 1 other pod): {AS_ROOT}")
    );
}

#[test]
fn five_pods_with_two_violations_sorted() {
    let pods = vec![
        pod("db-0", true, None),
        pod("web-3", false, None),
        pod("web-1", false, None),
        pod("web-2", false, None),
        pod("web-4", false, None),
    ];
    let privileged = "privileged (container \"app\" must not set securityContext.privileged=true), \
                      runAsNonRoot != true (pod or container \"app\" must set securityContext.runAsNonRoot=true)";
    assert_eq!(
        warnings(&cluster(pods)),
        [
            "existing pods in namespace \"team\" violate the new PodSecurity enforce level \"restricted:latest\"".to_string(),
            format!("db-0: {privileged}"),
            format!("web-1 (and 3 other pods): {AS_ROOT}"),
        ]
    );
}

#[test]
fn at_most_3000_pods_are_checked() {
    let pods: Vec<Value> = (0..3001)
        .map(|i| pod(&format!("p-{i:04}"), false, None))
        .collect();
    let found = warnings(&cluster(pods));
    assert_eq!(
        found,
        [
            "new PodSecurity enforce level only checked against the first 3000 of 3001 existing pods".to_string(),
            "existing pods in namespace \"team\" violate the new PodSecurity enforce level \"restricted:latest\"".to_string(),
            format!("p-0000 (and 2999 other pods): {AS_ROOT}"),
        ]
    );
}

#[test]
fn the_check_stops_after_its_time() {
    // Each clock reading advances 300 ms: started at 0, 300 after the first pod, … 1200 after the
    // fourth, which is past the second allowed.
    let mut cluster = cluster(
        (0..10)
            .map(|i| pod(&format!("p{i}"), false, None))
            .collect(),
    );
    cluster.clock_step = Duration::from_millis(300);
    let found = warnings(&cluster);
    assert_eq!(
        found[0],
        "new PodSecurity enforce level only checked against the first 4 of 10 existing pods"
    );
    assert_eq!(found[2], format!("p0 (and 3 other pods): {AS_ROOT}"));
}

#[test]
fn one_pod_per_controller_comes_first() {
    // 3,000 replicas of one ReplicaSet listed before a privileged pod of another: the cut-short
    // check still sees the other workload.
    let mut pods: Vec<Value> = (0..3000)
        .map(|i| pod(&format!("rs-{i:04}"), false, Some("uid-1")))
        .collect();
    pods.push(pod("other", true, Some("uid-2")));
    let found = warnings(&cluster(pods));
    assert_eq!(
        found[0],
        "new PodSecurity enforce level only checked against the first 3000 of 3001 existing pods"
    );
    assert!(
        found.iter().any(|w| w.starts_with("other: privileged")),
        "{found:?}"
    );
}

#[test]
fn pods_of_exempt_runtime_classes_are_left_out() {
    let mut gvisor = pod("sandboxed", true, None);
    gvisor["spec"]["runtimeClassName"] = json!("gvisor");
    let settings =
        Settings::from_value(&json!({"exemptions": {"runtimeClasses": ["gvisor"]}})).unwrap();
    let found = existing_pod_warnings(&cluster(vec![gvisor]), "team", RESTRICTED, &settings);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn check_exemptions_apply_to_existing_pods_too() {
    let settings = Settings::from_value(&json!({"checkExemptions": [{"name": "root-ok",
        "check": "runAsNonRoot", "namespaces": ["team"]}]}))
    .unwrap();
    let pods = cluster(vec![pod("web-1", false, None)]);
    let found = existing_pod_warnings(&pods, "team", RESTRICTED, &settings);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_failed_list_says_so() {
    let cluster = FixtureCluster::unlabelled();
    assert_eq!(
        existing_pod_warnings(&cluster, "elsewhere", RESTRICTED, &Settings::default()),
        ["failed to list pods while checking new PodSecurity enforce level"]
    );
}

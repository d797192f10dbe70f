use super::*;
use serde_json::{Value, json};

fn state() -> ClusterState {
    let mut state = ClusterState::default();
    state
        .add(json!({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": "team-a", "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}}))
        .unwrap();
    state
        .add(json!({"apiVersion": "v1", "kind": "PodList", "items": [
            {"metadata": {"name": "p1", "namespace": "team-a"}, "spec": {"containers": []}},
            {"metadata": {"name": "p2", "namespace": "other"}, "spec": {"containers": []}}]}))
        .unwrap();
    state
}

fn granted() -> BTreeSet<ContextAwareResource> {
    ["Namespace", "Pod"]
        .into_iter()
        .map(|kind| ContextAwareResource {
            api_version: "v1".to_string(),
            kind: kind.to_string(),
        })
        .collect()
}

const GET_TEAM_A: &[u8] = br#"{"api_version":"v1","kind":"Namespace","name":"team-a","namespace":null,"disable_cache":false,"field_masks":null}"#;
const GET_GHOST: &[u8] = br#"{"api_version":"v1","kind":"Namespace","name":"ghost","namespace":null,"disable_cache":false,"field_masks":null}"#;
const LIST_TEAM_A: &[u8] = br#"{"api_version":"v1","kind":"Pod","namespace":"team-a","label_selector":null,"field_selector":null,"field_masks":null}"#;

fn value(bytes: Vec<u8>) -> Value {
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn objects_are_answered_as_policy_evaluator_answers_them() {
    let host = HostCapabilities::new(granted(), Source::ClusterState(state()));
    let namespace = value(host.kubernetes("get_resource", GET_TEAM_A).unwrap());
    assert_eq!(
        namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "baseline"
    );
    let list = value(
        host.kubernetes("list_resources_by_namespace", LIST_TEAM_A)
            .unwrap(),
    );
    assert_eq!(list["kind"], "PodList");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["metadata"]["name"], "p1");
    // Items of a typed list get their kind back.
    assert_eq!(list["items"][0]["kind"], "Pod");
    assert_eq!(
        host.kubernetes("get_resource", GET_GHOST).unwrap_err(),
        "Callback evaluation failure: Cannot find v1/Namespace named 'ghost' inside of namespace 'None'"
    );
}

#[test]
fn kinds_not_granted_are_refused_with_policy_evaluators_words() {
    let host = HostCapabilities::new(BTreeSet::new(), Source::ClusterState(state()));
    assert_eq!(
        host.kubernetes("list_resources_by_namespace", LIST_TEAM_A)
            .unwrap_err(),
        "Policy has not been granted access to Kubernetes v1/Pod resources. The violation has been reported."
    );
    let host = HostCapabilities::granting_all(Source::ClusterState(state()));
    assert!(host.kubernetes("get_resource", GET_TEAM_A).is_ok());
}

#[test]
fn malformed_requests_and_unknown_operations_are_errors() {
    let host = HostCapabilities::granting_all(Source::ClusterState(state()));
    let error = host
        .kubernetes("get_resource", br#"{"api_version":"v1"}"#)
        .unwrap_err();
    assert!(error.starts_with("missing field `kind`"), "{error}");
    assert_eq!(
        host.kubernetes("watch", GET_TEAM_A).unwrap_err(),
        "unknown operation: watch"
    );
}

#[test]
fn check_may_assume_unknown_namespaces_exist_unlabelled() {
    let host = HostCapabilities::granting_all(Source::ClusterState(
        state().assume_unknown_namespaces_exist(),
    ));
    let ghost = value(host.kubernetes("get_resource", GET_GHOST).unwrap());
    assert_eq!(ghost["metadata"], json!({"name": "ghost"}));
}

#[test]
fn a_recorded_session_replays_to_the_same_answers() {
    let host = HostCapabilities::new(granted(), Source::ClusterState(state())).recording();
    let calls = [
        ("get_resource", GET_TEAM_A),
        ("get_resource", GET_GHOST),
        ("list_resources_by_namespace", LIST_TEAM_A),
    ];
    let answers: Vec<_> = calls
        .iter()
        .map(|(op, payload)| host.kubernetes(op, payload))
        .collect();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("session.yml");
    host.save_session(&path).unwrap();

    let replay = Replay::from_file(&path).unwrap();
    let replayed = HostCapabilities::new(granted(), Source::Replay(Mutex::new(replay)));
    for ((op, payload), answer) in calls.iter().zip(&answers) {
        assert_eq!(&replayed.kubernetes(op, payload), answer);
    }
    assert_eq!(replayed.unreplayed(), 0);
    assert_eq!(
        replayed.kubernetes("get_resource", GET_TEAM_A).unwrap_err(),
        "Callback evaluation failure: the list of recorded responses is empty"
    );
    let partly = HostCapabilities::new(
        granted(),
        Source::Replay(Mutex::new(Replay::from_file(&path).unwrap())),
    );
    partly.kubernetes("get_resource", GET_TEAM_A).unwrap();
    assert_eq!(partly.unreplayed(), 2);
}

use super::*;

/// A session as kwctl 1.31 writes it (the shape of kwctl's own fixtures in
/// `tests/data/host-capabilities-sessions/`).
const KWCTL_SESSION: &str = r#"- type: Exchange
  request: |
    !KubernetesGetResource
    api_version: v1
    kind: Namespace
    name: team-a
    namespace: null
    disable_cache: false
  response:
    type: Success
    payload: '{"apiVersion":"v1","kind":"Namespace","metadata":{"labels":{"pod-security.kubernetes.io/enforce":"restricted"},"name":"team-a"}}'
- type: Exchange
  request: |
    !KubernetesGetResource
    api_version: v1
    kind: Namespace
    name: missing-ns
    namespace: null
    disable_cache: false
  response:
    type: Error
    message: Cannot find v1/Namespace named 'missing-ns' inside of namespace 'None'
"#;

fn get(name: &str) -> KubernetesRequest {
    KubernetesRequest::KubernetesGetResource {
        api_version: "v1".to_string(),
        kind: "Namespace".to_string(),
        name: name.to_string(),
        namespace: None,
        disable_cache: false,
    }
}

#[test]
fn kwctl_sessions_are_read() {
    let exchanges = read(KWCTL_SESSION).unwrap();
    assert_eq!(exchanges.len(), 2);
    assert_eq!(exchanges[0].request, get("team-a"));
    assert!(
        exchanges[0]
            .response
            .as_ref()
            .unwrap()
            .contains("\"restricted\"")
    );
    assert_eq!(
        exchanges[1].response,
        Err("Cannot find v1/Namespace named 'missing-ns' inside of namespace 'None'".to_string())
    );
}

#[test]
fn sessions_are_written_as_kwctl_writes_them() {
    let exchanges = read(KWCTL_SESSION).unwrap();
    let written = write(&exchanges);
    // The same exchanges, and the same text but for the quoting of the error message.
    assert_eq!(read(&written).unwrap(), exchanges);
    assert_eq!(
        written,
        KWCTL_SESSION.replace(
            "message: Cannot find v1/Namespace named 'missing-ns' inside of namespace 'None'",
            "message: 'Cannot find v1/Namespace named ''missing-ns'' inside of namespace ''None'''"
        )
    );
    let odd = vec![Exchange {
        request: KubernetesRequest::KubernetesListResourceNamespace {
            api_version: "v1".to_string(),
            kind: "Pod".to_string(),
            namespace: "true".to_string(),
            label_selector: Some("app in (a, b)".to_string()),
            field_selector: None,
        },
        response: Err("line one\nline 'two'".to_string()),
    }];
    assert_eq!(read(&write(&odd)).unwrap(), odd);
}

#[test]
fn replay_is_strictly_in_order() {
    let mut replay = Replay {
        exchanges: read(KWCTL_SESSION).unwrap().into(),
    };
    let error = replay.answer(&get("missing-ns")).unwrap_err();
    assert!(
        error.starts_with("Replay error: unexpected request. Was expecting KubernetesGetResource { api_version: \"v1\", kind: \"Namespace\", name: \"team-a\""),
        "{error}"
    );
    // The mismatched exchange is used up, as in kwctl.
    assert_eq!(
        replay.answer(&get("missing-ns")),
        Err("Cannot find v1/Namespace named 'missing-ns' inside of namespace 'None'".to_string())
    );
    assert_eq!(replay.remaining(), 0);
    assert_eq!(
        replay.answer(&get("x")),
        Err("the list of recorded responses is empty".to_string())
    );
}

#[test]
fn broken_sessions_are_refused_with_the_exchange_named() {
    let broken = KWCTL_SESSION.replace("type: Error", "type: Failure");
    let error = format!("{:#}", read(&broken).unwrap_err());
    assert!(
        error.contains("exchange 2") && error.contains("Failure"),
        "{error}"
    );
    let untagged = KWCTL_SESSION.replacen("!KubernetesGetResource", "", 1);
    assert!(read(&untagged).is_err());
}

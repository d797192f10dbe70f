//! The policy evaluator against canned policies: settings validation and response conversion.

mod common;

use std::time::{Duration, Instant};

use common::{VALID_SETTINGS, ValidateBehaviour, canned_policy, compile};
use host_test::PolicyEvaluator;
use host_test::run::evaluator::TIMEOUT_MESSAGE;
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(1);

fn evaluator(validate: ValidateBehaviour<'_>) -> PolicyEvaluator {
    let module = compile(&canned_policy(VALID_SETTINGS, validate), TIMEOUT).unwrap();
    PolicyEvaluator::new(module, json!({"level": "restricted"})).unwrap()
}

fn pod_request() -> Value {
    json!({
        "uid": "request-7",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "operation": "CREATE",
        "object": {"metadata": {"name": "pod"}, "spec": {}},
    })
}

fn response_json(evaluator: &PolicyEvaluator) -> Value {
    serde_json::to_value(evaluator.validate(&pod_request())).unwrap()
}

#[test]
fn refused_settings_fail_with_the_module_message() {
    let policy = canned_policy(
        r#"{"valid":false,"message":"unknown level high"}"#,
        ValidateBehaviour::Trap,
    );
    let error = PolicyEvaluator::new(compile(&policy, TIMEOUT).unwrap(), json!({}))
        .err()
        .expect("the settings are refused");
    assert_eq!(
        format!("{error:#}"),
        "Provided settings are not valid: unknown level high"
    );
}

#[test]
fn the_guest_gets_the_request_and_the_settings() {
    // The echoed payload is no ValidationResponse, so it comes back inside the 500 message.
    let message = evaluator(ValidateBehaviour::EchoPayload)
        .validate(&pod_request())
        .message()
        .unwrap()
        .to_string();
    // The request's fields come in the API's order (uid, kind, …, operation, object), as policy-server writes them.
    let expected = concat!(
        r#"{"request":{"uid":"request-7","kind":{"group":"","kind":"Pod","version":"v1"},"#,
        r#""operation":"CREATE","object":{"metadata":{"name":"pod"},"spec":{}}},"#,
        r#""settings":{"level":"restricted"}}"#
    );
    assert!(message.contains(expected), "{message}");
}

#[test]
fn a_rejection_keeps_uid_message_and_code() {
    let evaluator = evaluator(ValidateBehaviour::Answer(
        r#"{"accepted":false,"message":"privileged is forbidden","code":403,"mutated_object":null,"audit_annotations":null,"warnings":null}"#,
    ));
    assert_eq!(
        response_json(&evaluator),
        json!({
            "uid": "request-7",
            "allowed": false,
            "status": {"message": "privileged is forbidden", "code": 403},
            "auditAnnotations": null,
            "warnings": null,
        })
    );
}

#[test]
fn an_acceptance_with_warnings_has_no_status() {
    let evaluator = evaluator(ValidateBehaviour::Answer(
        r#"{"accepted":true,"message":null,"code":null,"mutated_object":null,"audit_annotations":null,"warnings":["deprecated field"]}"#,
    ));
    assert_eq!(
        response_json(&evaluator),
        json!({
            "uid": "request-7",
            "allowed": true,
            "auditAnnotations": null,
            "warnings": ["deprecated field"],
        })
    );
}

#[test]
fn a_mutation_carries_a_json_patch() {
    let evaluator = evaluator(ValidateBehaviour::Answer(
        r#"{"accepted":true,"mutated_object":{"metadata":{"name":"pod"},"spec":{"hostUsers":false}}}"#,
    ));
    let response = evaluator.validate(&pod_request());
    assert_eq!(response.patch_type.as_deref(), Some("JSONPatch"));
    use base64::Engine as _;
    let patch = base64::engine::general_purpose::STANDARD
        .decode(response.patch.unwrap())
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&patch).unwrap(),
        json!([{"op": "add", "path": "/spec/hostUsers", "value": false}])
    );
}

#[test]
fn a_guest_error_is_an_internal_server_error() {
    let evaluator = evaluator(ValidateBehaviour::Fail("cannot parse the pod"));
    assert_eq!(
        response_json(&evaluator),
        json!({
            "uid": "request-7",
            "allowed": false,
            "status": {
                "message": "internal server error: Guest call failure: cannot parse the pod",
                "code": 500,
            },
            "auditAnnotations": null,
            "warnings": null,
        })
    );
}

#[test]
fn a_trap_is_an_internal_server_error() {
    let response = evaluator(ValidateBehaviour::Trap).validate(&pod_request());
    assert!(!response.allowed);
    assert_eq!(response.status.as_ref().unwrap().code, Some(500));
    assert_eq!(
        response.message(),
        Some(
            "internal server error: Guest call failure: \
             wasm trap: wasm `unreachable` instruction executed"
        )
    );
}

#[test]
fn a_policy_that_runs_too_long_is_rejected_at_the_deadline() {
    let evaluator = evaluator(ValidateBehaviour::LoopForever);
    let started = Instant::now();
    let response = evaluator.validate(&pod_request());
    let elapsed = started.elapsed();
    assert!(!response.allowed);
    assert_eq!(response.uid, "request-7");
    assert_eq!(response.status.as_ref().unwrap().code, Some(500));
    assert_eq!(response.message(), Some(TIMEOUT_MESSAGE));
    assert!(elapsed < TIMEOUT * 2, "{elapsed:?}");
}

#[test]
fn an_unparsable_answer_is_an_internal_server_error() {
    let response = evaluator(ValidateBehaviour::Answer("yes")).validate(&pod_request());
    assert_eq!(response.status.as_ref().unwrap().code, Some(500));
    let message = response.message().unwrap();
    assert!(
        message.starts_with(
            "internal server error: cannot parse the policy's validation response yes"
        ),
        "{message}"
    );
}

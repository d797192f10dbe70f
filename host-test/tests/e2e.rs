//! The end-to-end fixtures in `test_data/`: each AdmissionReview in `requests/` goes through the
//! built module (`policy.wasm`), its Kubernetes host calls answered from
//! `test_data/cluster-state.yaml`, and must get the outcome `test_data/cases.yaml` gives it.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{real_annotated_policy_path, real_policy_module};
use host_test::PolicyEvaluator;
use host_test::run::host_capabilities::{
    ClusterState, ContextAwareResource, HostCapabilities, Source,
};
use host_test::run::input::read_admission_request;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Case {
    request: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default = "empty_settings")]
    settings: Value,
    /// The verdict; absent for cases whose settings must be refused.
    allowed: Option<bool>,
    code: Option<u16>,
    #[serde(default)]
    message: Vec<String>,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    audit_annotations: BTreeMap<String, String>,
    /// The JSONPatch the response carries, decoded; absent: no patch.
    patch: Option<Value>,
    /// Substring of the error `host-test run` must exit with because the settings are refused.
    settings_error: Option<String>,
    /// Substring of the error `host-test run` must exit with because kwctl and policy-server refuse
    /// the request itself.
    refused: Option<String>,
}

fn empty_settings() -> Value {
    Value::Object(Default::default())
}

fn test_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../test_data")
}

fn requests() -> PathBuf {
    test_data().join("requests")
}

fn cases() -> Vec<Case> {
    let text =
        std::fs::read_to_string(test_data().join("cases.yaml")).expect("test_data/cases.yaml");
    host_test::yaml::from_str(&text).expect("cases.yaml parses")
}

/// Everything wrong with one response, empty when it matches the case.
fn mismatches(case: &Case, response: &host_test::AdmissionResponse) -> Vec<String> {
    let mut problems = Vec::new();
    if case.allowed != Some(response.allowed) {
        problems.push(format!(
            "allowed is {}, expected {:?}",
            response.allowed, case.allowed
        ));
    }
    let code = response.status.as_ref().and_then(|s| s.code);
    if case.code.is_some() && case.code != code {
        problems.push(format!("code is {code:?}, expected {:?}", case.code));
    }
    let message = response.message().unwrap_or_default();
    for expected in &case.message {
        if !message.contains(expected.as_str()) {
            problems.push(format!("message {message:?} lacks {expected:?}"));
        }
    }
    let warnings = response.warnings.clone().unwrap_or_default();
    if case.warnings.is_empty() && !warnings.is_empty() {
        problems.push(format!("unexpected warnings {warnings:?}"));
    }
    for expected in &case.warnings {
        if !warnings.iter().any(|w| w.contains(expected.as_str())) {
            problems.push(format!("warnings {warnings:?} lack {expected:?}"));
        }
    }
    let patch = response.patch.as_ref().map(|patch| {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(patch)
            .expect("base64");
        serde_json::from_slice::<Value>(&bytes).expect("a JSON patch")
    });
    if patch != case.patch {
        problems.push(format!("patch is {patch:?}, expected {:?}", case.patch));
    }
    let annotations = response.audit_annotations.clone().unwrap_or_default();
    for (key, expected) in &case.audit_annotations {
        match annotations.get(key) {
            Some(value) if value.contains(expected.as_str()) => {}
            other => problems.push(format!(
                "audit annotation {key} is {other:?}, expected {expected:?}"
            )),
        }
    }
    problems
}

fn cluster_state() -> PathBuf {
    test_data().join("cluster-state.yaml")
}

/// What the annotated module is granted in a ClusterAdmissionPolicy (`metadata.yml`).
fn granted() -> BTreeSet<ContextAwareResource> {
    ["Namespace", "Pod"]
        .into_iter()
        .map(|kind| ContextAwareResource {
            api_version: "v1".to_string(),
            kind: kind.to_string(),
        })
        .collect()
}

#[test]
fn every_case_gets_its_expected_outcome() {
    let state = ClusterState::from_file(&cluster_state()).unwrap();
    let capabilities = HostCapabilities::new(granted(), Source::ClusterState(state));
    let module =
        real_policy_module(Duration::from_secs(2)).with_host_capabilities(Arc::new(capabilities));
    let cases = cases();
    let mut failures = Vec::new();
    let mut evaluated = 0;
    let evaluated_cases = cases
        .iter()
        .filter(|case| case.settings_error.is_none() && case.refused.is_none());
    for case in evaluated_cases {
        let request = read_admission_request(&requests().join(&case.request)).unwrap();
        let evaluator = PolicyEvaluator::new(module.clone(), case.settings.clone())
            .unwrap_or_else(|e| panic!("{}: settings refused: {e:#}", case.request));
        let response = evaluator.validate(&request);
        let problems = mismatches(case, &response);
        if !problems.is_empty() {
            let about = case.description.as_deref().unwrap_or_default();
            failures.push(format!(
                "{} ({about}): {}",
                case.request,
                problems.join("; ")
            ));
        }
        evaluated += 1;
    }
    assert!(evaluated >= 30, "only {evaluated} cases");
    assert!(
        failures.is_empty(),
        "{} of {evaluated} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `host-test run` on the case's request, in the cases' cluster, with these settings if any.
fn run_through_the_cli(case: &Case, settings_json: Option<&str>) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_host-test"));
    command
        .arg("run")
        .arg("--policy")
        .arg(real_annotated_policy_path())
        .arg("--allow-context-aware")
        .arg("--cluster-state")
        .arg(cluster_state())
        .arg("--request")
        .arg(requests().join(&case.request));
    if let Some(settings) = settings_json {
        command.arg("--settings-json").arg(settings);
    }
    command.output().unwrap()
}

#[test]
fn refused_settings_make_the_harness_exit_non_zero() {
    let mut checked = 0;
    for case in cases() {
        let Some(expected) = &case.settings_error else {
            continue;
        };
        let output = run_through_the_cli(&case, Some(&case.settings.to_string()));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "{}: settings {} were accepted",
            case.request,
            case.settings
        );
        assert!(
            output.stdout.is_empty(),
            "{}: nothing is evaluated",
            case.request
        );
        assert!(
            stderr.contains("Provided settings are not valid: ")
                && stderr.contains(expected.as_str()),
            "{}: stderr {stderr:?} lacks {expected:?}",
            case.request
        );
        checked += 1;
    }
    assert!(checked > 0, "cases.yaml has no refused-settings case");
}

#[test]
fn requests_the_engines_refuse_make_the_harness_exit_1() {
    let mut checked = 0;
    for case in cases() {
        let Some(expected) = &case.refused else {
            continue;
        };
        let output = run_through_the_cli(&case, None);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{}: {stderr}", case.request);
        assert!(
            output.stdout.is_empty(),
            "{}: nothing is evaluated",
            case.request
        );
        assert!(
            stderr.contains(expected.as_str()) && stderr.contains(&case.request),
            "{}: stderr {stderr:?} lacks {expected:?}",
            case.request
        );
        checked += 1;
    }
    assert!(checked > 0, "cases.yaml has no refused-request case");
}

#[test]
fn every_request_file_has_a_case() {
    let listed: Vec<String> = cases().into_iter().map(|case| case.request).collect();
    for entry in std::fs::read_dir(requests()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".json") {
            assert!(
                listed.contains(&name),
                "test_data/requests/{name} is not in cases.yaml"
            );
        }
    }
}

/// `host-test run` on one request with the given host-capability arguments; its stdout.
fn run_with_host(request: &str, host_arguments: &[&std::ffi::OsStr]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_host-test"))
        .arg("run")
        .arg(real_annotated_policy_path())
        .arg("--allow-context-aware")
        .args(host_arguments)
        .arg("-r")
        .arg(requests().join(request))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The session format is kwctl's: a session written as kwctl writes it (`test_data/sessions/`)
/// replays in host-test, and one host-test records replays to the same responses.
#[test]
fn kwctl_sessions_replay_and_recorded_sessions_replay_alike() {
    let request = "ns-labels-baseline-namespace.json";
    let kwctl_session = test_data().join("sessions/ns-labels-baseline-namespace.yml");
    let replayed = run_with_host(
        request,
        &[
            "--replay-host-capabilities-interactions".as_ref(),
            kwctl_session.as_os_str(),
        ],
    );
    let response: Value = serde_json::from_str(&replayed).unwrap();
    assert_eq!(response["allowed"], true, "{response}");
    assert!(
        response["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("would violate PodSecurity \"restricted:latest\""),
        "{response}"
    );

    let folder = tempfile::tempdir().unwrap();
    let recorded = folder.path().join("session.yml");
    let state = cluster_state();
    let live = run_with_host(
        request,
        &[
            "--cluster-state".as_ref(),
            state.as_os_str(),
            "--record-host-capabilities-interactions".as_ref(),
            recorded.as_os_str(),
        ],
    );
    assert_eq!(live, replayed);
    let session = std::fs::read_to_string(&recorded).unwrap();
    assert!(
        session.starts_with("- type: Exchange\n  request: |\n    !KubernetesGetResource\n"),
        "{session}"
    );
    let again = run_with_host(
        request,
        &[
            "--replay-host-capabilities-interactions".as_ref(),
            recorded.as_os_str(),
        ],
    );
    assert_eq!(again, live);
}

/// Without `--allow-context-aware`, as kwctl, nothing is granted: the policy fails closed.
#[test]
fn without_the_grant_the_namespace_cannot_be_read() {
    let output = Command::new(env!("CARGO_BIN_EXE_host-test"))
        .arg("run")
        .arg(real_annotated_policy_path())
        .arg("--cluster-state")
        .arg(cluster_state())
        .arg("-r")
        .arg(requests().join("ns-labels-baseline-namespace.json"))
        .output()
        .unwrap();
    let response: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(response["allowed"], false);
    assert_eq!(response["status"]["code"], 500);
    assert!(
        response["status"]["message"]
            .as_str()
            .unwrap()
            .contains("Policy has not been granted access to Kubernetes v1/Namespace resources"),
        "{response}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--allow-context-aware"), "{stderr}");
}

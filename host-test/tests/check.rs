//! `host-test check` with the real module: the fixtures of `test_data/manifests/` get the reports
//! `test_data/check-expected.yaml` gives them, exit codes, standard input, large inputs, and the
//! same verdict and message as `run` for every request of `test_data/requests/`.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{
    assert_valid_sarif, check, host_test, json_report, path_str, real_annotated_policy_path,
    real_policy_path, stderr, workspace_file,
};
use serde::Deserialize;
use serde_json::{Value, json};

fn check_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let policy = real_policy_path();
    let mut child = Command::new(env!("CARGO_BIN_EXE_host-test"))
        .args(["check", "--policy", path_str(&policy)])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("host-test runs");
    // Written beside the reading: check answers document by document, so a large input with a large
    // report would fill both pipes if the input were written first.
    let mut input = child.stdin.take().unwrap();
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || input.write_all(stdin));
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        output
    })
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Expected {
    file: String,
    line: u64,
    #[serde(default)]
    object: Option<String>,
    verdict: String,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    kind: Option<String>,
}

/// One result of the JSON report in the shape of `check-expected.yaml`.
fn as_expected(result: &Value) -> Expected {
    let object = result.get("object").map(|object| {
        let name = match object["namespace"].as_str() {
            Some(namespace) => format!("{namespace}/{}", object["name"].as_str().unwrap()),
            None => object["name"].as_str().unwrap().to_string(),
        };
        format!("{} {name}", object["kind"].as_str().unwrap())
    });
    let status = result["status"].as_str().unwrap();
    Expected {
        file: result["location"]["file"]
            .as_str()
            .unwrap()
            .split("test_data/manifests/")
            .last()
            .unwrap()
            .to_string(),
        line: result["location"]["line"].as_u64().unwrap(),
        object,
        verdict: match status {
            "checked" => result["verdict"].as_str().unwrap().to_string(),
            other => other.to_string(),
        },
        rules: result["findings"]
            .as_array()
            .map(|findings| {
                findings
                    .iter()
                    .map(|finding| finding["rule"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default(),
        kind: result["kind"].as_str().map(str::to_string),
    }
}

#[test]
fn the_fixtures_get_the_expected_reports() {
    let output = check(&[
        path_str(&workspace_file("test_data/manifests")),
        "--format",
        "json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "a bad document: {}",
        stderr(&output)
    );
    let report = json_report(&output);
    let got: Vec<Expected> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(as_expected)
        .collect();
    let expected: Vec<Expected> = host_test::yaml::from_str(
        &std::fs::read_to_string(workspace_file("test_data/check-expected.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(got, expected);
    assert_eq!(
        report["summary"],
        json!({"checked": 14, "allowed": 3, "denied": 11, "warned": 0, "skipped": 8, "errors": 2})
    );
}

#[test]
fn exit_codes_say_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let compliant = workspace_file("test_data/manifests/helm/redis.yaml");
    let denied = workspace_file("test_data/manifests/helm/wordpress.yaml");
    assert_eq!(check(&[path_str(&compliant)]).status.code(), Some(0));
    let output = check(&[path_str(&denied)]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("wordpress.yaml:26  Deployment blog/wordpress  denied"),
        "{text}"
    );
    assert!(
        text.contains("      - hostPort (container \"wordpress\" uses hostPort 8080)"),
        "{text}"
    );

    // Warnings fail the gate only when asked to.
    let warn = r#"{"defaults":{"enforce":"privileged","warn":"restricted"}}"#;
    let output = check(&[
        path_str(&denied),
        "--settings-json",
        warn,
        "--format",
        "json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "the runtime guard still denies the backup job"
    );
    let warned_only = workspace_file("test_data/manifests/crlf.yaml");
    assert_eq!(
        check(&[path_str(&warned_only), "--settings-json", warn])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        check(&[
            path_str(&warned_only),
            "--settings-json",
            warn,
            "--fail-on",
            "warn"
        ])
        .status
        .code(),
        Some(1)
    );

    // Usage errors, unreadable inputs and refused settings: 2.
    assert_eq!(
        check(&[path_str(&dir.path().join("missing.yaml"))])
            .status
            .code(),
        Some(2)
    );
    let output = check(&[
        path_str(&compliant),
        "--settings-json",
        r#"{"defaults":{"enforce":"strict"}}"#,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("Provided settings are not valid"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        check(&[path_str(&compliant), "--format", "xml"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(host_test(&["check"]).status.code(), Some(2), "no path");
}

#[test]
fn standard_input_is_read_like_a_file() {
    let manifest = std::fs::read(workspace_file(
        "test_data/manifests/helm/ingress-nginx.yaml",
    ))
    .unwrap();
    let output = check_with_stdin(
        &[
            "-",
            "--stdin-name",
            "rendered/ingress.yaml",
            "--format",
            "sarif",
        ],
        &manifest,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let sarif = json_report(&output);
    let location = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "rendered/ingress.yaml");
    assert_eq!(location["region"]["startLine"], 48);
}

#[test]
fn every_format_writes_to_an_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = workspace_file("test_data/manifests/list.yaml");
    for format in ["text", "json", "sarif", "junit", "policyreport"] {
        let file = dir.path().join(format!("report.{format}"));
        let output = check(&[
            path_str(&input),
            "--format",
            format,
            "--output",
            path_str(&file),
        ]);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{format}: {}",
            stderr(&output)
        );
        assert!(
            output.stdout.is_empty(),
            "{format}: the report goes to the file"
        );
        let written = std::fs::read_to_string(&file).unwrap();
        assert!(written.contains("debug-shell"), "{format}: {written}");
        match format {
            "junit" => {
                roxmltree::Document::parse(&written).expect("JUnit is XML");
            }
            "sarif" => assert_valid_sarif(&serde_json::from_str(&written).unwrap()),
            "text" => {}
            _ => {
                serde_json::from_str::<Value>(&written).expect("JSON");
            }
        }
    }
}

#[test]
fn a_ten_megabyte_stream_is_checked_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-NAME\n  annotations:\n    note: PADDING\nspec:\n  containers:\n  - name: app\n    image: nginx\n";
    let padding = "x".repeat(1200);
    let mut text = String::new();
    let mut count = 0;
    while text.len() < 10 << 20 {
        text.push_str("---\n");
        text.push_str(
            &pod.replace("NAME", &count.to_string())
                .replace("PADDING", &padding),
        );
        count += 1;
    }
    std::fs::write(&path, &text).unwrap();
    let output = check(&[
        path_str(&path),
        "--format",
        "json",
        "--settings-json",
        r#"{"defaults":{"enforce":"baseline"}}"#,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json_report(&output);
    assert_eq!(report["summary"]["checked"], count);
    assert_eq!(report["summary"]["allowed"], count);
    let last = report["results"].as_array().unwrap().last().unwrap();
    assert_eq!(last["object"]["name"], format!("pod-{}", count - 1));
    assert_eq!(
        last["location"]["line"],
        (count - 1) * 11 + 2,
        "each document is 11 lines"
    );
}

#[derive(Deserialize)]
struct Case {
    request: String,
}

/// For every CREATE of an evaluated kind in `test_data/requests/`, `check` on its object gives the
/// verdict and message `run` gives the request (settings `{}`, same namespace and user).
#[test]
fn check_and_run_agree_on_every_request_object() {
    let dir = tempfile::tempdir().unwrap();
    let requests_dir = workspace_file("test_data/requests");
    let cases: Vec<Case> = host_test::yaml::from_str(
        &std::fs::read_to_string(workspace_file("test_data/cases.yaml")).unwrap(),
    )
    .unwrap();
    let mut compared = 0;
    let mut files: Vec<String> = cases.into_iter().map(|case| case.request).collect();
    files.sort();
    files.dedup();
    for file in files {
        let review: Value =
            serde_json::from_str(&std::fs::read_to_string(requests_dir.join(&file)).unwrap())
                .unwrap();
        let request = &review["request"];
        let evaluated = [
            "Pod",
            "Deployment",
            "DaemonSet",
            "StatefulSet",
            "ReplicaSet",
            "Job",
            "CronJob",
            "ReplicationController",
            "PodTemplate",
            "PersistentVolume",
        ];
        if request["operation"] != "CREATE"
            || request.get("subResource").is_some()
            || !evaluated.contains(&request["kind"]["kind"].as_str().unwrap_or_default())
            || request["object"]["kind"].as_str().is_none()
        {
            continue;
        }
        let Some(user) = request["userInfo"]["username"].as_str() else {
            continue;
        };
        // `check` checks a namespace it does not know at the defaults, where `run` (as
        // policy-server) refuses to guess.
        if request["namespace"] == "ghost" {
            continue;
        }
        let manifest = dir.path().join(&file);
        std::fs::write(
            &manifest,
            serde_json::to_string(&request["object"]).unwrap(),
        )
        .unwrap();
        let cluster_state = workspace_file("test_data/cluster-state.yaml");
        let run = host_test(&[
            "run",
            "--policy",
            path_str(&real_annotated_policy_path()),
            "--allow-context-aware",
            "--cluster-state",
            path_str(&cluster_state),
            "--request",
            path_str(&requests_dir.join(&file)),
        ]);
        let run: Value = serde_json::from_slice(&run.stdout).unwrap();
        let mut args = vec![
            path_str(&manifest),
            "--format",
            "json",
            "--user",
            user,
            "--cluster-state",
            path_str(&cluster_state),
        ];
        if let Some(namespace) = request["namespace"].as_str() {
            args.extend(["--namespace", namespace]);
        }
        let checked = json_report(&check(&args));
        let result = &checked["results"][0];
        assert_eq!(
            result["verdict"] != "allowed" && result["verdict"] != "warned",
            run["allowed"] == false,
            "{file}: {result} against {run}"
        );
        assert_eq!(
            result.get("message").unwrap_or(&Value::Null),
            run.pointer("/status/message").unwrap_or(&Value::Null),
            "{file}"
        );
        compared += 1;
    }
    assert!(compared >= 60, "only {compared} requests compared");
}

#[test]
fn symlink_loops_and_unreadable_files_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::copy(
        workspace_file("test_data/manifests/helm/redis.yaml"),
        root.join("redis.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink(root, root.join("loop")).unwrap();
    std::os::unix::fs::symlink(root.join("gone.yaml"), root.join("dangling.yaml")).unwrap();
    let output = check(&[path_str(root), "--format", "json"]);
    assert_eq!(output.status.code(), Some(2));
    let report = json_report(&output);
    assert_eq!(report["summary"]["checked"], 1, "redis is still checked");
    let errors: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|result| result["status"] == "error")
        .map(|result| result["message"].as_str().unwrap())
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|message| message.starts_with("symlink loop")),
        "{errors:?}"
    );
    assert!(Path::new(root).join("loop").exists());
}

/// Namespaces among the manifests (from a file or standard input) set the levels of the objects in
/// them, as their labels do in a cluster; `--cluster-state` too; other namespaces get the defaults.
#[test]
fn namespaces_in_the_manifests_set_the_levels_of_their_objects() {
    let manifests = r#"apiVersion: v1
kind: Namespace
metadata:
  name: ops
  labels:
    pod-security.kubernetes.io/enforce: privileged
---
apiVersion: v1
kind: Pod
metadata:
  name: debugger
  namespace: ops
spec:
  containers:
    - name: shell
      image: busybox
      securityContext:
        privileged: true
---
apiVersion: v1
kind: Pod
metadata:
  name: debugger
  namespace: elsewhere
spec:
  containers:
    - name: shell
      image: busybox
      securityContext:
        privileged: true
"#;
    let verdicts = |report: &Value| -> Vec<String> {
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|result| result["verdict"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chart.yaml");
    std::fs::write(&file, manifests).unwrap();
    let report = json_report(&check(&[path_str(&file), "--format", "json"]));
    // The Namespace itself is checked too: its labels are valid.
    assert_eq!(
        verdicts(&report),
        ["allowed", "allowed", "denied"],
        "{report}"
    );
    let report = json_report(&check_with_stdin(
        &["-", "--format", "json"],
        manifests.as_bytes(),
    ));
    assert_eq!(
        verdicts(&report),
        ["allowed", "allowed", "denied"],
        "{report}"
    );
    let typo = manifests.replace("enforce: privileged", "enforce: priviledged");
    let report = json_report(&check_with_stdin(
        &["-", "--format", "json"],
        typo.as_bytes(),
    ));
    assert_eq!(
        verdicts(&report),
        ["denied", "denied", "denied"],
        "{report}"
    );
    assert!(
        report["results"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with(
                "Namespace \"ops\" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]"
            ),
        "{report}"
    );

    // The cluster's namespaces count too: `dev` is baseline there, so a root pod passes.
    let pod = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "dev"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}}"#;
    let pod_file = dir.path().join("pod.json");
    std::fs::write(&pod_file, pod).unwrap();
    let state = workspace_file("test_data/cluster-state.yaml");
    let with_state = json_report(&check(&[
        path_str(&pod_file),
        "--format",
        "json",
        "--cluster-state",
        path_str(&state),
    ]));
    assert_eq!(verdicts(&with_state), ["warned"], "{with_state}");
    let without = json_report(&check(&[path_str(&pod_file), "--format", "json"]));
    assert_eq!(verdicts(&without), ["denied"], "{without}");
}

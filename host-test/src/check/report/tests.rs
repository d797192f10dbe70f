use std::path::PathBuf;

use serde_json::{Value, json};

use super::*;
use crate::check::Verdict;
use crate::check::findings::Severity;
use crate::check::findings::parse_message;
use crate::check::manifests::{Location, ProblemKind};
use crate::check::request::ObjectRef;

fn context() -> ReportContext {
    ReportContext {
        policy_name: "restricted-pod-policy".to_string(),
        policy_version: Some("0.1.0".to_string()),
        policy_url: Some("https://example.com/policy".to_string()),
        severity: Some("high".to_string()),
        category: Some("PSP".to_string()),
        now: 1_700_000_000,
        color: false,
        fixes: Vec::new(),
    }
}

fn at(file: &str, line: u64) -> Location {
    Location {
        file: file.to_string(),
        line,
    }
}

fn object(kind: &str, name: &str, namespace: Option<&str>) -> ObjectRef {
    ObjectRef {
        api_version: "v1".to_string(),
        kind: kind.to_string(),
        name: name.to_string(),
        namespace: namespace.map(str::to_string),
    }
}

/// One outcome of every shape.
pub(crate) fn sample_outcomes() -> Vec<Outcome> {
    let denial = r#"violates PodSecurity "restricted:latest": privileged (container "app" must not set securityContext.privileged=true), runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true); violates runtimeAccess: volume "sock" mounts hostPath "/var/run/docker.sock", which reaches the Docker socket (/run/docker.sock)"#;
    let warning = r#"would violate PodSecurity "restricted:latest": runAsUser=0 (pod must not set runAsUser=0)"#;
    vec![
        Outcome::Checked {
            location: at("charts/web.yaml", 3),
            object: object("Pod", "web", Some("team-a")),
            helm_source: Some("web/templates/pod.yaml".to_string()),
            verdict: Verdict::Denied,
            message: Some(denial.to_string()),
            warnings: Vec::new(),
            findings: parse_message(denial, Severity::Deny),
            fix: None,
        },
        Outcome::Checked {
            location: at("charts/web.yaml", 30),
            object: object("Pod", "ok", Some("team-a")),
            helm_source: None,
            verdict: Verdict::Warned,
            message: None,
            warnings: vec![warning.to_string()],
            findings: parse_message(warning, Severity::Warn),
            fix: None,
        },
        Outcome::Checked {
            location: at("charts/web.yaml", 50),
            object: object("Pod", "fine", Some("team-a")),
            helm_source: None,
            verdict: Verdict::Allowed,
            message: None,
            warnings: Vec::new(),
            findings: Vec::new(),
            fix: None,
        },
        Outcome::Checked {
            location: at("pv with space.yaml", 1),
            object: object("PersistentVolume", "data", None),
            helm_source: None,
            verdict: Verdict::Denied,
            message: Some(r#"PersistentVolume "data": violates runtimeAccess: local path "/var" reaches Docker's state directory (/var/lib/docker)"#.to_string()),
            warnings: Vec::new(),
            findings: parse_message(r#"PersistentVolume "data": violates runtimeAccess: local path "/var" reaches Docker's state directory (/var/lib/docker)"#, Severity::Deny),
            fix: None,
        },
        Outcome::Skipped {
            location: at("charts/web.yaml", 70),
            object: object("Service", "web", Some("team-a")),
        },
        Outcome::Error {
            location: at("broken.yaml", 4),
            kind: ProblemKind::Unreadable,
            message: "not valid YAML: did not find expected ',' or ']'".to_string(),
        },
    ]
}

fn shared_schema(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/schemas")
        .join(name)
}

fn assert_valid(schema: &Value, instance: &Value) {
    let validator = jsonschema::validator_for(schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(shared_schema("sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let sarif: Value =
        serde_json::from_str(&render(Format::Sarif, &sample_outcomes(), &context())).unwrap();
    assert_valid(&schema, &sarif);

    let run = &sarif["runs"][0];
    let results = run["results"].as_array().unwrap();
    let rule_ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(
        rule_ids,
        [
            "privileged",
            "runAsNonRoot",
            "runtimeAccess.hostPath",
            "runAsUser",
            "runtimeAccess.persistentVolume",
            "input"
        ]
    );
    let first = &results[0];
    assert_eq!(first["level"], "error");
    assert_eq!(
        first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "charts/web.yaml"
    );
    assert_eq!(
        first["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    assert_eq!(results[3]["level"], "warning");
    assert_eq!(
        results[4]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "pv%20with%20space.yaml"
    );
    // ruleIndex points at the rule of the same id.
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            run["tool"]["driver"]["rules"][index]["id"],
            result["ruleId"]
        );
    }
}

/// The CRD's schema, made strict: the API server prunes fields a structural schema does not
/// name, so a field the report writes and the schema lacks would be lost in a cluster.
fn strict(schema: &mut Value) {
    if let Value::Object(fields) = schema {
        if fields.contains_key("properties") && !fields.contains_key("additionalProperties") {
            fields.insert("additionalProperties".to_string(), Value::Bool(false));
        }
        for value in fields.values_mut() {
            strict(value);
        }
    } else if let Value::Array(items) = schema {
        items.iter_mut().for_each(strict);
    }
}

fn crd_schema(file: &str) -> Value {
    let crd: Value =
        crate::yaml::from_str(&std::fs::read_to_string(shared_schema(file)).unwrap()).unwrap();
    let version = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|version| version["name"] == "v1alpha2")
        .unwrap();
    let mut schema = version["schema"]["openAPIV3Schema"].clone();
    // `metadata` is the API's ObjectMeta, which the CRD leaves open.
    strict(&mut schema);
    schema["properties"]["metadata"] = json!({"type": "object"});
    schema
}

#[test]
fn policy_reports_are_valid_against_their_crds() {
    let list: Value = serde_json::from_str(&render(
        Format::PolicyReport,
        &sample_outcomes(),
        &context(),
    ))
    .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "one report per checked object");
    let namespaced = crd_schema("wgpolicyk8s.io_policyreports-v1alpha2.yaml");
    let cluster = crd_schema("wgpolicyk8s.io_clusterpolicyreports-v1alpha2.yaml");
    for report in items {
        match report["kind"].as_str().unwrap() {
            "PolicyReport" => assert_valid(&namespaced, report),
            "ClusterPolicyReport" => assert_valid(&cluster, report),
            other => panic!("{other}"),
        }
    }
    let denied = &items[0];
    assert_eq!(
        denied["scope"],
        json!({"apiVersion": "v1", "kind": "Pod", "name": "web", "namespace": "team-a"})
    );
    assert_eq!(denied["summary"]["fail"], 3);
    assert_eq!(denied["results"][0]["source"], "kubewarden");
    assert_eq!(
        denied["results"][0]["policy"],
        "clusterwide-restricted-pod-policy"
    );
    assert_eq!(denied["results"][0]["rule"], "privileged");
    assert_eq!(denied["results"][0]["result"], "fail");
    assert_eq!(items[1]["results"][0]["result"], "warn");
    assert_eq!(items[2]["results"][0]["result"], "pass");
    assert_eq!(items[3]["kind"], "ClusterPolicyReport");
}

#[test]
fn junit_is_xml_with_a_case_per_object() {
    let xml = render(Format::Junit, &sample_outcomes(), &context());
    let document = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let suites: Vec<_> = document
        .descendants()
        .filter(|node| node.has_tag_name("testsuite"))
        .collect();
    assert_eq!(
        suites
            .iter()
            .map(|s| s.attribute("name").unwrap())
            .collect::<Vec<_>>(),
        ["charts/web.yaml", "pv with space.yaml", "broken.yaml"]
    );
    let cases: Vec<_> = document
        .descendants()
        .filter(|node| node.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 6);
    // Cases by suite: web.yaml's four (denied, warned, allowed, skipped), the PV, the error.
    let failure = cases[0]
        .children()
        .find(|node| node.has_tag_name("failure"))
        .expect("the denied pod fails");
    assert!(
        failure
            .text()
            .unwrap()
            .contains("privileged (container \"app\""),
        "the text carries the denial: {:?}",
        failure.text()
    );
    assert_eq!(cases[0].attribute("classname"), Some("charts/web.yaml"));
    assert!(
        cases[1]
            .children()
            .all(|node| !node.has_tag_name("failure"))
    );
    assert!(cases[3].children().any(|node| node.has_tag_name("skipped")));
    assert!(cases[5].children().any(|node| node.has_tag_name("error")));
    let names: Vec<_> = cases.iter().map(|c| c.attribute("name").unwrap()).collect();
    let mut unique = names.clone();
    unique.dedup();
    assert_eq!(names, unique, "GitLab drops duplicate names");
}

#[test]
fn json_has_its_schema_version_summary_and_results() {
    let report: Value =
        serde_json::from_str(&render(Format::Json, &sample_outcomes(), &context())).unwrap();
    assert_eq!(report["schemaVersion"], 1);
    assert_eq!(
        report["summary"],
        json!({"checked": 4, "allowed": 1, "denied": 2, "warned": 1, "skipped": 1, "errors": 1})
    );
    assert_eq!(report["results"][0]["status"], "checked");
    assert_eq!(report["results"][0]["verdict"], "denied");
    assert_eq!(report["results"][0]["findings"][0]["rule"], "privileged");
    assert_eq!(report["results"][4]["status"], "skipped");
    assert_eq!(report["results"][5]["status"], "error");
    assert_eq!(report["results"][5]["kind"], "unreadable");
}

#[test]
fn text_groups_by_file_and_names_each_violation() {
    let text = render(Format::Text, &sample_outcomes(), &context());
    assert!(
        text.starts_with("charts/web.yaml\n  charts/web.yaml:3  Pod team-a/web  denied"),
        "{text}"
    );
    assert!(text.contains("    violates PodSecurity \"restricted:latest\":\n      - privileged (container \"app\" must not set securityContext.privileged=true)\n"), "{text}");
    assert!(
        text.contains("    violates runtimeAccess:\n      - volume \"sock\""),
        "{text}"
    );
    assert!(
        text.contains("  broken.yaml:4  error: not valid YAML"),
        "{text}"
    );
    assert!(
        text.ends_with("4 objects checked: 1 allowed, 2 denied, 1 warned; 1 skipped; 1 errors\n"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "no colour unless asked");
    let coloured = render(
        Format::Text,
        &sample_outcomes(),
        &ReportContext {
            color: true,
            ..context()
        },
    );
    assert!(coloured.contains('\u{1b}'));
}

#[test]
fn file_names_become_relative_uris() {
    assert_eq!(uri_of("./a b/c.yaml"), "a%20b/c.yaml");
    assert_eq!(uri_of("dir\\x.yaml"), "dir/x.yaml");
    assert_eq!(uri_of("ünï.yaml"), "%C3%BCn%C3%AF.yaml");
}

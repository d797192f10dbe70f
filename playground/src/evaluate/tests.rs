use super::*;

const PRIVILEGED_POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: app
    image: nginx
    securityContext:
      privileged: true
";

fn only_object(evaluation: &Evaluation) -> &ObjectResult {
    assert_eq!(evaluation.objects.len(), 1, "{evaluation:#?}");
    &evaluation.objects[0]
}

#[test]
fn a_privileged_pod_is_denied_in_psa_s_words_at_its_line() {
    let evaluation = evaluate(PRIVILEGED_POD, "", r#"{"level": "baseline"}"#);
    let object = only_object(&evaluation);
    assert_eq!(object.object, "Pod default/p");
    assert!(!object.allowed);
    assert_eq!(
        object.message.as_deref(),
        Some(
            "violates PodSecurity \"baseline:latest\": privileged (container \"app\" must not set securityContext.privileged=true)"
        )
    );
    assert_eq!(object.findings.len(), 1);
    assert_eq!(object.findings[0].finding.rule, "privileged");
    assert_eq!(object.findings[0].lines, [10]);
}

#[test]
fn restricted_findings_point_at_the_fields_or_the_containers_that_lack_them() {
    let evaluation = evaluate(PRIVILEGED_POD, "", r#"{"level": "restricted"}"#);
    let object = only_object(&evaluation);
    let lines: BTreeMap<&str, &[u64]> = object
        .findings
        .iter()
        .map(|finding| (finding.finding.rule.as_str(), finding.lines.as_slice()))
        .collect();
    assert_eq!(lines["privileged"], [10]);
    // Unset in the container: its securityContext; unset in the pod too: `spec`.
    assert_eq!(lines["runAsNonRoot"], [5, 9]);
    assert_eq!(lines["allowPrivilegeEscalation"], [9]);
}

#[test]
fn controllers_and_lists_point_into_their_templates_and_items() {
    let manifest = "\
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: d}
  spec:
    template:
      spec:
        hostNetwork: true
        containers: [{name: c, image: x}]
";
    let evaluation = evaluate(manifest, "", r#"{"level": "baseline"}"#);
    let object = only_object(&evaluation);
    assert_eq!(object.line, 4);
    assert_eq!(object.object, "Deployment default/d");
    assert!(!object.allowed, "{object:#?}");
    assert_eq!(object.findings[0].finding.rule, "hostNamespaces");
    assert_eq!(object.findings[0].lines, [10]);
}

#[test]
fn namespaces_in_the_manifest_set_the_levels_of_its_pods() {
    let manifest = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: dev\n  labels:\n    pod-security.kubernetes.io/enforce: privileged\n---\n{}",
        PRIVILEGED_POD.replace("name: p\n", "name: p\n  namespace: dev\n")
    );
    let evaluation = evaluate(&manifest, "", r#"{"level": "restricted"}"#);
    assert_eq!(evaluation.objects.len(), 2, "{evaluation:#?}");
    let namespace = &evaluation.objects[0];
    assert_eq!(
        namespace.levels.as_ref().unwrap()["enforce"],
        "privileged:latest"
    );
    let pod = &evaluation.objects[1];
    assert_eq!(pod.line, 8);
    assert!(pod.allowed, "{pod:#?}");
}

#[test]
fn settings_errors_stop_the_evaluation_with_their_line() {
    let evaluation = evaluate(PRIVILEGED_POD, "defaults:\n  enforce: [strict\n", "");
    let error = evaluation.settings_error.unwrap();
    assert!(error.line >= 2, "{error:?}");
    assert!(evaluation.objects.is_empty());

    let evaluation = evaluate(PRIVILEGED_POD, "defualts: {}\n", "");
    let message = evaluation.settings_error.unwrap().message;
    assert!(message.starts_with("invalid settings: "), "{message}");
    assert!(message.contains("defaults"), "{message}");

    let validation = validate_settings("exemptions:\n  usernames: [ci]\n");
    assert!(validation.valid, "{validation:?}");
}

#[test]
fn unreadable_documents_are_reported_at_their_line_and_the_rest_evaluated() {
    let manifest = format!("a: [1\n---\n{PRIVILEGED_POD}---\nkind: Pod\n");
    let evaluation = evaluate(&manifest, "", r#"{"level": "baseline"}"#);
    assert_eq!(only_object(&evaluation).line, 3);
    let lines: Vec<u64> = evaluation.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [1, 14], "{:?}", evaluation.problems);
    assert!(evaluation.problems[0].message.starts_with("not valid YAML"));
}

#[test]
fn secure_defaults_say_what_they_add_and_where() {
    let pod = PRIVILEGED_POD.replace("    securityContext:\n      privileged: true\n", "");
    let evaluation = evaluate(
        &pod,
        "secureDefaults:\n  enabled: true\n",
        r#"{"level": "restricted"}"#,
    );
    let object = only_object(&evaluation);
    assert!(object.allowed, "{object:#?}");
    let pointers: Vec<&str> = object
        .defaulted
        .iter()
        .map(|field| field.pointer.as_str())
        .collect();
    assert!(pointers.contains(&"/spec/securityContext"), "{pointers:?}");
    assert!(
        pointers.contains(&"/spec/containers/0/securityContext"),
        "{pointers:?}"
    );
    assert!(object.defaulted.iter().all(|field| field.line >= 5));
    assert_eq!(object.defaulted_by, Some(DefaultedBy::Policy));
}

#[test]
fn an_admission_review_is_evaluated_as_it_is_and_objects_give_theirs() {
    let evaluation = evaluate(PRIVILEGED_POD, "", r#"{"level": "baseline"}"#);
    let review = only_object(&evaluation).request.to_string();
    let again = evaluate(&review, "", r#"{"level": "baseline"}"#);
    let object = only_object(&again);
    assert_eq!(object.message, only_object(&evaluation).message);
    assert_eq!(object.findings[0].lines, [1]);
}

#[test]
fn other_kinds_are_listed_but_not_evaluated_and_versions_end_with_latest() {
    let evaluation = evaluate(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        "",
        "",
    );
    let object = only_object(&evaluation);
    assert!(!object.evaluated);
    let versions = versions();
    assert_eq!(versions.first().map(String::as_str), Some("v1.0"));
    assert_eq!(versions.last().map(String::as_str), Some("latest"));
    assert!(
        evaluate("", "", r#"{"level": "strict"}"#)
            .settings_error
            .is_some()
    );
    assert!(
        evaluate("", "", r#"{"levle": "baseline"}"#)
            .settings_error
            .is_some()
    );
}

#[test]
fn a_policy_resource_gives_its_settings() {
    let policy = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/cluster-admission-policy.yaml"
    ))
    .unwrap();
    let validation = validate_settings(&policy);
    assert!(validation.valid, "{validation:?}");
    // Its exemptions hold: kube-system pods are not evaluated against restricted.
    let pod = PRIVILEGED_POD.replace("name: p\n", "name: p\n  namespace: kube-system\n");
    assert!(only_object(&evaluate(&pod, &policy, "")).allowed);
    assert!(!only_object(&evaluate(PRIVILEGED_POD, &policy, "")).allowed);
}

/// Every check fixture of `test_data/requests/`, at restricted and at baseline: each finding of a
/// check points inside the object, not at its first line.
#[test]
fn every_check_fixtures_findings_point_inside_the_object() {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/../test_data/requests");
    let mut located = 0;
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.starts_with("check-") || name.starts_with("runtime-")) {
            continue;
        }
        let review = std::fs::read_to_string(&path).unwrap();
        for level in ["baseline", "restricted"] {
            let evaluation = evaluate(&review, "", &format!(r#"{{"level": "{level}"}}"#));
            for object in &evaluation.objects {
                for finding in &object.findings {
                    assert!(
                        !finding.lines.is_empty() && finding.lines != [object.line],
                        "{name} at {level}: {} is not located: {:?}",
                        finding.finding.message,
                        finding.lines
                    );
                    located += 1;
                }
            }
        }
    }
    assert!(located > 40, "only {located} findings");
}

#[test]
fn the_fix_is_what_check_writes() {
    let read = |name: &str| {
        std::fs::read_to_string(format!(
            "{}/../test_data/fix/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    let fixed = fix(&read("chart.yaml"), "", "");
    assert_eq!(fixed.manifest, read("chart.fixed.yaml"));
    assert!(
        !fixed.fixed.is_empty() && fixed.not_placed.is_empty(),
        "{fixed:?}"
    );
    // The fixed chart passes, but for the privileged container no default can fix.
    let again = evaluate(&fixed.manifest, "", "");
    for object in again.objects.iter().filter(|object| !object.allowed) {
        assert!(
            object
                .findings
                .iter()
                .any(|f| f.finding.rule == "privileged"),
            "{object:#?}"
        );
    }
}

#[test]
fn a_denied_pod_is_offered_the_fix_and_json_is_not_rewritten() {
    let pod = PRIVILEGED_POD.replace("    securityContext:\n      privileged: true\n", "");
    let evaluation = evaluate(&pod, "", r#"{"level": "restricted"}"#);
    let object = only_object(&evaluation);
    assert!(!object.allowed);
    assert_eq!(object.defaulted_by, Some(DefaultedBy::Fix));
    let fixed = fix(&pod, "", r#"{"level": "restricted"}"#);
    assert_eq!(fixed.fixed, [1]);
    assert!(only_object(&evaluate(&fixed.manifest, "", r#"{"level": "restricted"}"#)).allowed);

    let review = object.request.to_string();
    let fixed = fix(&review, "", r#"{"level": "restricted"}"#);
    assert_eq!(fixed.manifest, review);
    assert_eq!(fixed.not_placed, [1]);
}

#[test]
fn hostile_input_is_refused_not_crashed_on() {
    // Nesting past the parser's depth, and aliases past its node budget: one problem each.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let evaluation = evaluate(&deep, "", "");
    assert!(evaluation.objects.is_empty());
    assert_eq!(evaluation.problems.len(), 1, "{:?}", evaluation.problems);
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
    let evaluation = evaluate(bomb, bomb, "");
    assert!(evaluation.settings_error.is_some());
    let evaluation = evaluate(bomb, "", "");
    assert!(evaluation.objects.is_empty());
    assert_eq!(evaluation.problems.len(), 1, "{:?}", evaluation.problems);
}

#[test]
fn a_list_item_after_one_that_is_no_object_points_into_its_own_item() {
    let manifest = "\
apiVersion: v1
kind: List
items:
- just text
- apiVersion: v1
  kind: Pod
  metadata: {name: p}
  spec:
    hostNetwork: true
    containers: [{name: c, image: x}]
";
    let evaluation = evaluate(manifest, "", r#"{"level": "baseline"}"#);
    let object = only_object(&evaluation);
    assert_eq!(object.line, 5);
    assert_eq!(object.findings[0].lines, [9]);
}

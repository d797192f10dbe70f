//! The namespace's labels through the whole admission path: pods and controllers at the levels
//! their namespace sets, and Namespace requests themselves.

use super::*;
use crate::namespaces::fixture::FixtureCluster;
use serde_json::{Value, json};

const ENFORCE: &str = "pod-security.kubernetes.io/enforce";

/// Fails baseline (privileged) or only restricted (runs as root).
fn pod(privileged: bool) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "app", "image": "nginx",
                    "securityContext": {"privileged": privileged}}]}})
}

fn pod_request(namespace: &str, object: Value) -> Value {
    json!({"uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"},
           "resource": {"group": "", "version": "v1", "resource": "pods"},
           "operation": "CREATE", "namespace": namespace, "name": "p",
           "userInfo": {"username": "alice"}, "object": object})
}

fn review(request: &Value, settings: Value, cluster: &FixtureCluster) -> Verdict {
    let settings = Settings::from_value(&settings).expect("valid settings");
    validate_json(&serde_json::to_vec(request).unwrap(), &settings, cluster)
}

fn labels(pairs: &[(&str, &str)]) -> Value {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn namespace(name: &str, pairs: &[(&str, &str)]) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels(pairs)}})
}

fn namespace_request(operation: &str, new: Value, old: Option<Value>) -> Value {
    let name = new["metadata"]["name"].clone();
    let mut request = json!({"uid": "u", "kind": {"group": "", "version": "v1", "kind": "Namespace"},
           "resource": {"group": "", "version": "v1", "resource": "namespaces"},
           "operation": operation, "namespace": name, "name": name,
           "userInfo": {"username": "alice"}, "object": new});
    if let Some(old) = old {
        request["oldObject"] = old;
    }
    request
}

#[test]
fn the_enforce_label_sets_the_level() {
    let cluster = FixtureCluster::labelled("dev", &[(ENFORCE, "baseline")]);
    // Restricted by default, baseline in `dev`: a root pod passes there only.
    assert!(!review(&pod_request("prod", pod(false)), json!({}), &cluster).allowed);
    let verdict = review(&pod_request("dev", pod(false)), json!({}), &cluster);
    assert!(verdict.allowed, "{verdict:?}");
    assert_eq!(
        verdict.audit_annotations["pod-security.kubernetes.io/enforce-policy"],
        "baseline:latest"
    );
    let verdict = review(&pod_request("dev", pod(true)), json!({}), &cluster);
    assert_eq!(
        verdict.message.as_deref(),
        Some(
            "violates PodSecurity \"baseline:latest\": privileged (container \"app\" must not set securityContext.privileged=true)"
        )
    );
}

#[test]
fn labels_can_tighten_the_defaults_and_warn_follows_enforce() {
    let cluster = FixtureCluster::labelled("prod", &[(ENFORCE, "restricted")]);
    let settings = json!({"defaults": {"enforce": "privileged"}});
    assert!(review(&pod_request("other", pod(true)), settings.clone(), &cluster).allowed);
    assert!(!review(&pod_request("prod", pod(false)), settings, &cluster).allowed);

    // Audit and warn labels report without refusing.
    let cluster = FixtureCluster::labelled(
        "dev",
        &[
            (ENFORCE, "privileged"),
            ("pod-security.kubernetes.io/audit", "baseline"),
            ("pod-security.kubernetes.io/warn", "restricted"),
            ("pod-security.kubernetes.io/warn-version", "v1.30"),
        ],
    );
    let verdict = review(&pod_request("dev", pod(true)), json!({}), &cluster);
    assert!(verdict.allowed);
    assert!(
        verdict.audit_annotations["pod-security.kubernetes.io/audit-violations"]
            .starts_with("would violate PodSecurity \"baseline:latest\": privileged")
    );
    assert!(
        verdict.warnings[0]
            .starts_with("would violate PodSecurity \"restricted:v1.30\": privileged")
    );
}

#[test]
fn an_invalid_label_enforces_restricted_and_says_why() {
    let cluster = FixtureCluster::labelled("dev", &[(ENFORCE, "strict")]);
    let verdict = review(
        &pod_request("dev", pod(false)),
        json!({"defaults": {"enforce": "privileged"}}),
        &cluster,
    );
    assert!(!verdict.allowed);
    assert!(
        verdict
            .message
            .unwrap()
            .starts_with("violates PodSecurity \"restricted:latest\"")
    );
    assert_eq!(
        verdict.audit_annotations["pod-security.kubernetes.io/error"],
        "Failed to parse policy: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"strict\": must be one of privileged, baseline, restricted"
    );
}

#[test]
fn a_privileged_namespace_is_allowed_at_once_but_not_past_the_runtime_guard() {
    let cluster = FixtureCluster::labelled("ops", &[(ENFORCE, "privileged")]);
    let verdict = review(&pod_request("ops", pod(true)), json!({}), &cluster);
    assert_eq!(verdict, Verdict::allow());
    let mut socket = pod(false);
    socket["spec"]["volumes"] =
        json!([{"name": "sock", "hostPath": {"path": "/run/containerd/containerd.sock"}}]);
    let verdict = review(&pod_request("ops", socket), json!({}), &cluster);
    assert!(!verdict.allowed);
    assert!(verdict.message.unwrap().contains("violates runtimeAccess"));
}

#[test]
fn exemptions_come_before_labels_and_need_no_lookup() {
    let cluster = FixtureCluster::default(); // no namespace exists
    let settings = json!({"exemptions": {"namespaces": ["kube-system"], "usernames": ["alice"]}});
    let verdict = review(
        &pod_request("kube-system", pod(true)),
        settings.clone(),
        &cluster,
    );
    assert_eq!(
        verdict.audit_annotations["pod-security.kubernetes.io/exempt"],
        "namespace"
    );
    let verdict = review(&pod_request("team", pod(true)), settings, &cluster);
    assert_eq!(
        verdict.audit_annotations["pod-security.kubernetes.io/exempt"],
        "user"
    );
    assert_eq!(cluster.calls.get(), 0);
}

#[test]
fn a_namespace_that_cannot_be_read_fails_closed() {
    let cluster = FixtureCluster::default();
    let verdict = review(
        &pod_request("ghost", pod(false)),
        json!({"defaults": {"enforce": "privileged"}}),
        &cluster,
    );
    assert!(!verdict.allowed);
    assert_eq!(verdict.code, Some(500));
    let message = verdict.message.unwrap();
    assert!(
        message.starts_with(
            "failed to lookup namespace \"ghost\": Cannot find v1/Namespace named 'ghost'"
        ),
        "{message}"
    );
    assert!(message.contains("contextAwareResources"), "{message}");
    assert!(message.contains("namespaceLabels: false"), "{message}");

    // A controller too.
    let mut deployment = pod_request(
        "ghost",
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d"}, "spec": {"template": pod(false)}}),
    );
    deployment["kind"] = json!({"group": "apps", "version": "v1", "kind": "Deployment"});
    deployment["resource"] = json!({"group": "apps", "version": "v1", "resource": "deployments"});
    assert_eq!(review(&deployment, json!({}), &cluster).code, Some(500));
}

#[test]
fn with_labels_off_the_defaults_hold_and_nothing_is_read() {
    let cluster = FixtureCluster::labelled("ops", &[(ENFORCE, "privileged")]);
    let verdict = review(
        &pod_request("ops", pod(true)),
        json!({"namespaceLabels": false}),
        &cluster,
    );
    assert!(!verdict.allowed);
    assert_eq!(cluster.calls.get(), 0);
    // And Namespace requests are not this policy's business then.
    let request = namespace_request("CREATE", namespace("ops", &[(ENFORCE, "bad")]), None);
    assert!(review(&request, json!({"namespaceLabels": false}), &cluster).allowed);
}

#[test]
fn a_namespace_created_with_invalid_labels_is_refused() {
    let cluster = FixtureCluster::unlabelled();
    let request = namespace_request(
        "CREATE",
        namespace(
            "team",
            &[
                (ENFORCE, "strict"),
                ("pod-security.kubernetes.io/warn-version", "1.25"),
            ],
        ),
        None,
    );
    let verdict = review(&request, json!({}), &cluster);
    assert!(!verdict.allowed);
    assert_eq!(verdict.code, Some(422));
    assert_eq!(
        verdict.message.as_deref(),
        Some(
            "Namespace \"team\" is invalid: [metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"strict\": must be one of privileged, baseline, restricted, metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: \"1.25\": must be \"latest\" or \"v1.x\"]"
        )
    );
    let valid = namespace_request("CREATE", namespace("team", &[(ENFORCE, "baseline")]), None);
    assert_eq!(review(&valid, json!({}), &cluster), Verdict::allow());
    // Subresources are not evaluated.
    let mut status = request.clone();
    status["subResource"] = json!("status");
    assert!(review(&status, json!({}), &cluster).allowed);
}

#[test]
fn an_update_is_refused_for_invalid_labels_only_when_they_changed() {
    let cluster = FixtureCluster::unlabelled();
    let bad = namespace("team", &[(ENFORCE, "strict")]);
    let mut edited = bad.clone();
    edited["metadata"]["annotations"] = json!({"owner": "a"});
    assert!(
        review(
            &namespace_request("UPDATE", edited, Some(bad.clone())),
            json!({}),
            &cluster
        )
        .allowed
    );
    let worse = namespace("team", &[(ENFORCE, "stricter")]);
    let verdict = review(
        &namespace_request("UPDATE", worse, Some(bad)),
        json!({}),
        &cluster,
    );
    assert_eq!(verdict.code, Some(422));
    let good = namespace("team", &[]);
    let verdict = review(
        &namespace_request("UPDATE", namespace("team", &[(ENFORCE, "x")]), Some(good)),
        json!({}),
        &cluster,
    );
    assert_eq!(verdict.code, Some(422));
}

#[test]
fn tightening_enforce_warns_about_existing_pods() {
    let mut cluster = FixtureCluster::unlabelled();
    let mut running = pod(true);
    running["metadata"]["name"] = json!("web-1");
    cluster.pods.insert("team".to_string(), vec![running]);
    let old = namespace("team", &[(ENFORCE, "privileged")]);
    let new = namespace("team", &[(ENFORCE, "baseline")]);
    let verdict = review(
        &namespace_request("UPDATE", new, Some(old.clone())),
        json!({}),
        &cluster,
    );
    assert!(verdict.allowed);
    assert_eq!(
        verdict.warnings,
        [
            "existing pods in namespace \"team\" violate the new PodSecurity enforce level \"baseline:latest\"",
            "web-1: privileged (container \"app\" must not set securityContext.privileged=true)",
        ]
    );
    // Unchanged, relaxed or privileged: no pods listed.
    let calls = cluster.calls.get();
    for (from, to) in [
        ("privileged", "privileged"),
        ("baseline", "privileged"),
        ("restricted", "baseline"),
    ] {
        let request = namespace_request(
            "UPDATE",
            namespace("team", &[(ENFORCE, to)]),
            Some(namespace("team", &[(ENFORCE, from)])),
        );
        assert_eq!(
            review(&request, json!({}), &cluster),
            Verdict::allow(),
            "{from} -> {to}"
        );
    }
    assert_eq!(cluster.calls.get(), calls);
    // A version change at the same level is checked.
    let request = namespace_request(
        "UPDATE",
        namespace(
            "team",
            &[
                (ENFORCE, "privileged"),
                ("pod-security.kubernetes.io/enforce-version", "v1.20"),
            ],
        ),
        Some(old),
    );
    assert!(review(&request, json!({}), &cluster).warnings.is_empty());
}

#[test]
fn an_exempt_namespace_is_told_its_labels_are_ignored() {
    let cluster = FixtureCluster::unlabelled();
    let settings =
        json!({"defaults": {"enforce": "baseline"}, "exemptions": {"namespaces": ["kube-system"]}});
    let request = namespace_request(
        "CREATE",
        namespace(
            "kube-system",
            &[
                (ENFORCE, "restricted"),
                ("pod-security.kubernetes.io/audit", "baseline"),
            ],
        ),
        None,
    );
    assert_eq!(
        review(&request, settings.clone(), &cluster).warnings,
        [
            "namespace \"kube-system\" is exempt from Pod Security, and the policy (enforce=restricted:latest, audit=baseline:latest) will be ignored"
        ]
    );
    // Labels that come to the defaults say nothing new (an enforce label alone would not: warn
    // follows it).
    let request = namespace_request(
        "CREATE",
        namespace(
            "kube-system",
            &[("pod-security.kubernetes.io/audit", "privileged")],
        ),
        None,
    );
    assert!(review(&request, settings, &cluster).warnings.is_empty());
}

/// `checkExemptions` selectors read a controller's pod template labels, and the lifted violation is
/// recorded in the response.
#[test]
fn check_exemptions_match_controller_templates() {
    let cluster = FixtureCluster::unlabelled();
    let settings = json!({"defaults": {"enforce": "baseline"}, "checkExemptions": [{"name": "agent",
        "check": "privileged", "namespaces": ["team"], "podSelector": {"matchLabels": {"app": "agent"}}}]});
    let deployment = |labels: Value| {
        let mut template = pod(true);
        template["metadata"] = json!({"labels": labels});
        let mut request = pod_request(
            "team",
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "agent"}, "spec": {"template": template}}),
        );
        request["kind"] = json!({"group": "apps", "version": "v1", "kind": "DaemonSet"});
        request["resource"] = json!({"group": "apps", "version": "v1", "resource": "daemonsets"});
        request
    };
    let verdict = review(
        &deployment(json!({"app": "agent"})),
        settings.clone(),
        &cluster,
    );
    assert!(verdict.allowed, "{verdict:?}");
    assert_eq!(
        verdict.audit_annotations["pod-security.kubernetes.io/exempted-violations"],
        "privileged (container \"app\" must not set securityContext.privileged=true) by checkExemptions \"agent\""
    );
    let verdict = review(&deployment(json!({"app": "other"})), settings, &cluster);
    assert_eq!(
        verdict.message.as_deref(),
        Some(
            "DaemonSet \"agent\": violates PodSecurity \"baseline:latest\": privileged (container \"app\" must not set securityContext.privileged=true)"
        )
    );
}

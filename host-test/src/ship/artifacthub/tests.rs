use super::*;

const QUESTIONS: &str = "questions:\n- variable: level\n  type: enum\n  label: Level\n";

fn metadata(annotations: &[(&str, &str)]) -> Metadata {
    let mut metadata: Metadata = crate::yaml::from_str(
        "rules: [{apiGroups: [''], apiVersions: [v1], resources: [pods], operations: [CREATE]}]\n\
         mutating: false\n",
    )
    .unwrap();
    let mut all = BTreeMap::from([
        (TITLE, "some-policy"),
        (VERSION, "1.2.3"),
        (DESCRIPTION, "Checks things"),
        (DISPLAY_NAME, "Some Policy"),
        (OCI_URL, "ghcr.io/org/policies/some-policy"),
    ]);
    all.extend(annotations.iter().copied());
    metadata.annotations = Some(
        all.into_iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect(),
    );
    metadata
}

#[test]
fn the_package_has_what_kwctl_writes() {
    let package = ArtifactHubPkg::from_metadata(
        &metadata(&[
            (SOURCE, "https://github.com/org/some-policy"),
            (URL, "https://github.com/org/some-policy"),
            (LICENSE, "Apache-2.0"),
            (KEYWORDS, "pod, psa ,security"),
            (AUTHOR, "Ann Author <ann@example.com>, Bo <bo@example.org>"),
            (RESOURCES, "Pod"),
            (HIDDEN_UI, "false"),
        ]),
        "2026-12-01T00:00:00Z",
        Some(QUESTIONS),
    )
    .unwrap();
    let yaml: serde_json::Value =
        crate::yaml::from_str(&package.to_file_text()).expect("the file is YAML");
    assert_eq!(yaml["version"], "1.2.3");
    assert_eq!(yaml["name"], "some-policy");
    assert_eq!(yaml["displayName"], "Some Policy");
    assert_eq!(yaml["createdAt"], "2026-12-01T00:00:00Z");
    assert_eq!(yaml["homeURL"], "https://github.com/org/some-policy");
    assert_eq!(
        yaml["containersImages"],
        serde_json::json!([{"name": "policy", "image": "ghcr.io/org/policies/some-policy:v1.2.3"}])
    );
    assert_eq!(
        yaml["keywords"],
        serde_json::json!(["pod", "psa", "security"])
    );
    assert_eq!(
        yaml["links"],
        serde_json::json!([
            {"name": "policy", "url": "https://github.com/org/some-policy/releases/download/v1.2.3/policy.wasm"},
            {"name": "source", "url": "https://github.com/org/some-policy"}])
    );
    assert_eq!(
        yaml["maintainers"],
        serde_json::json!([{"name": "Ann Author", "email": "ann@example.com"},
                           {"name": "Bo", "email": "bo@example.org"}])
    );
    assert!(
        yaml["install"]
            .as_str()
            .unwrap()
            .contains("kwctl pull ghcr.io/org/policies/some-policy:v1.2.3")
    );
    assert_eq!(yaml["provider"]["name"], "kubewarden");
    assert_eq!(yaml["recommendations"][0]["url"], CONTROLLER_PACKAGE);
    let annotations = &yaml["annotations"];
    assert_eq!(annotations["kubewarden/mutation"], "false");
    assert_eq!(annotations["kubewarden/resources"], "Pod");
    assert_eq!(annotations["kubewarden/hidden-ui"], "false");
    assert_eq!(annotations["kubewarden/questions-ui"], QUESTIONS);
    let rules: serde_json::Value =
        crate::yaml::from_str(annotations["kubewarden/rules"].as_str().unwrap()).unwrap();
    assert_eq!(rules[0]["resources"], serde_json::json!(["pods"]));
    assert!(
        annotations
            .get("kubewarden/contextAwareResources")
            .is_none()
    );
}

#[test]
fn the_created_at_of_a_written_file_is_read_back() {
    let package =
        ArtifactHubPkg::from_metadata(&metadata(&[]), "2026-01-02T03:04:05+01:00", None).unwrap();
    assert_eq!(
        ArtifactHubPkg::created_at_of(&package.to_file_text()).unwrap(),
        "2026-01-02T03:04:05+01:00"
    );
}

#[test]
fn bad_inputs_are_refused_with_the_cause_named() {
    let created = "2026-12-01T00:00:00Z";
    let cases: [(Metadata, &str, Option<&str>, &str); 8] = [
        (metadata(&[(VERSION, "v1")]), created, None, VERSION),
        (metadata(&[(DISPLAY_NAME, "")]), created, None, DISPLAY_NAME),
        (metadata(&[]), "yesterday", None, "RFC 3339"),
        (metadata(&[(KEYWORDS, "a,,b")]), created, None, KEYWORDS),
        (
            metadata(&[(AUTHOR, "Ann ann@x.org")]),
            created,
            None,
            AUTHOR,
        ),
        (metadata(&[(SOURCE, "github/x")]), created, None, SOURCE),
        (
            metadata(&[(OCI_URL, "registry://ghcr.io/x")]),
            created,
            None,
            OCI_URL,
        ),
        (
            metadata(&[]),
            created,
            Some("questions: [{variable: a}]"),
            "questions",
        ),
    ];
    for (metadata, created_at, questions, named) in cases {
        let error = format!(
            "{:#}",
            ArtifactHubPkg::from_metadata(&metadata, created_at, questions).unwrap_err()
        );
        assert!(error.contains(named), "{named}: {error}");
    }
}

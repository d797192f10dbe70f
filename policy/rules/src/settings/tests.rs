use super::*;
use serde_json::{Value, json};

fn parse(value: Value) -> Result<Settings, String> {
    Settings::from_value(&value).map_err(|e| e.0)
}

#[test]
fn empty_means_restricted_latest() {
    assert_eq!(parse(json!({})), Ok(Settings::default()));
    assert_eq!(parse(Value::Null), Ok(Settings::default()));
    assert_eq!(Settings::default().enforce.to_string(), "restricted:latest");
}

#[test]
fn reads_a_full_pod_security_configuration() {
    let settings = parse(json!({
        "apiVersion": API_VERSION, "kind": KIND,
        "defaults": {"enforce": "baseline", "enforce-version": "v1.25", "audit": "restricted",
                     "warn": "restricted", "warn-version": "v1.30"},
        "exemptions": {"usernames": ["admin"], "namespaces": ["kube-system"], "runtimeClasses": ["kata"]},
        "podControllers": "warn"
    }))
    .unwrap();
    assert_eq!(settings.enforce.to_string(), "baseline:v1.25");
    assert_eq!(settings.audit.unwrap().to_string(), "restricted:latest");
    assert_eq!(settings.warn.unwrap().to_string(), "restricted:v1.30");
    assert_eq!(settings.exemptions.namespaces, ["kube-system"]);
    assert_eq!(settings.pod_controllers, ControllerMode::Warn);
}

#[test]
fn enforce_version_alone_keeps_restricted() {
    let settings = parse(json!({"defaults": {"enforce-version": "v1.20"}})).unwrap();
    assert_eq!(settings.enforce.to_string(), "restricted:v1.20");
}

#[test]
fn privileged_audit_and_warn_are_off() {
    let settings =
        parse(json!({"defaults": {"audit": "privileged", "warn-version": "v1.2"}})).unwrap();
    assert_eq!((settings.audit, settings.warn), (None, None));
}

#[test]
fn refuses_unknown_keys_with_a_suggestion() {
    let err = parse(json!({"exemption": {}})).unwrap_err();
    assert!(
        err.contains("unknown key \"exemption\"") && err.contains("did you mean \"exemptions\"?"),
        "{err}"
    );
    let err = parse(json!({"defaults": {"enforce_version": "v1.2"}})).unwrap_err();
    assert!(
        err.contains(
            "defaults: unknown key \"enforce_version\"; did you mean \"enforce-version\"?"
        ),
        "{err}"
    );
    let err = parse(json!({"exemptions": {"runtimeclasses": []}})).unwrap_err();
    assert!(err.contains("did you mean \"runtimeClasses\"?"), "{err}");
}

#[test]
fn refuses_bad_levels_and_versions() {
    let err = parse(json!({"defaults": {"enforce": "strict"}})).unwrap_err();
    assert!(
        err.starts_with("defaults.enforce: invalid value \"strict\""),
        "{err}"
    );
    let err = parse(json!({"defaults": {"enforce": "restrictd"}})).unwrap_err();
    assert!(err.contains("did you mean \"restricted\"?"), "{err}");
    let err = parse(json!({"defaults": {"audit-version": "1.25"}})).unwrap_err();
    assert!(
        err.contains("defaults.audit-version: invalid version \"1.25\"")
            && err.contains("did you mean \"v1.25\"?"),
        "{err}"
    );
    let err = parse(json!({"defaults": {"warn-version": "v1.01"}})).unwrap_err();
    assert!(err.contains("did you mean \"v1.1\"?"), "{err}");
    assert!(
        parse(json!({"defaults": {"enforce": 3}}))
            .unwrap_err()
            .contains("defaults.enforce: expected a string, found integer `3`")
    );
}

#[test]
fn refuses_empty_and_mistyped_exemptions() {
    let err = parse(json!({"exemptions": {"namespaces": ["a", ""]}})).unwrap_err();
    assert!(
        err.starts_with("exemptions.namespaces[1]: empty string"),
        "{err}"
    );
    let err = parse(json!({"exemptions": {"usernames": "admin"}})).unwrap_err();
    assert!(
        err.contains("exemptions.usernames: expected a list of strings"),
        "{err}"
    );
}

#[test]
fn reads_and_checks_runtime_access() {
    let settings = parse(
        json!({"runtimeAccess": {"enabled": false, "extraPaths": ["/opt/cni"],
        "exemptNamespaces": ["ci"], "exemptImages": ["docker:*"]}}),
    )
    .unwrap();
    assert!(!settings.runtime_access.enabled);
    assert_eq!(settings.runtime_access.exempt_images, ["docker:*"]);
    let settings = parse(
        json!({"runtimeAccess": {"extraPaths": ["/opt//cni/bin/", "/var/run/x", "d:/Docker/"]}}),
    )
    .unwrap();
    assert_eq!(
        settings.runtime_access.extra_paths,
        ["/opt/cni/bin", "/run/x", r"D:\Docker"],
        "normalised once"
    );
    assert!(
        parse(json!({})).unwrap().runtime_access.enabled,
        "on by default"
    );
    let err = parse(json!({"runtimeAccess": {"enable": false}})).unwrap_err();
    assert!(
        err.contains("runtimeAccess: unknown key \"enable\"; did you mean \"enabled\"?"),
        "{err}"
    );
    let err = parse(json!({"runtimeAccess": {"enabled": "no"}})).unwrap_err();
    assert!(
        err.contains("runtimeAccess.enabled: expected a boolean"),
        "{err}"
    );
    let err = parse(json!({"runtimeAccess": {"extraPaths": ["var/run"]}})).unwrap_err();
    assert!(err.contains("not an absolute path"), "{err}");
    let err = parse(json!({"runtimeAccess": {"exemptImages": [""]}})).unwrap_err();
    assert!(
        err.starts_with("runtimeAccess.exemptImages[0]: empty string"),
        "{err}"
    );
}

#[test]
fn checks_api_version_kind_and_controller_mode() {
    assert!(
        parse(json!({"apiVersion": "v1"}))
            .unwrap_err()
            .starts_with("apiVersion: unsupported value")
    );
    assert!(
        parse(json!({"kind": "AdmissionConfiguration"}))
            .unwrap_err()
            .starts_with("kind: unsupported value")
    );
    let err = parse(json!({"podControllers": "warning"})).unwrap_err();
    assert!(err.contains("did you mean \"warn\"?"), "{err}");
    assert!(parse(json!([])).is_err());
}

fn error_of(text: &str) -> String {
    Settings::from_json(text.as_bytes()).unwrap_err().0
}

#[test]
fn errors_name_the_section_and_the_keys_it_knows() {
    assert_eq!(
        error_of(r#"{"exemption": {}}"#),
        "settings: unknown key \"exemption\"; did you mean \"exemptions\"?; known keys: apiVersion, \
         kind, defaults, exemptions, podControllers, runtimeAccess, namespaceLabels, checkExemptions, secureDefaults"
    );
    assert_eq!(
        error_of("[]"),
        "settings: expected an object, found sequence"
    );
    assert_eq!(
        error_of("3"),
        "settings: expected an object, found integer `3`"
    );
    assert!(error_of("{not json").starts_with("settings are not valid JSON: "));
    assert_eq!(
        error_of(r#"{"exemptions": {"usernames": [1]}}"#),
        "exemptions.usernames[0]: expected a string, found integer `1`"
    );
    assert_eq!(
        error_of(r#"{"kind": "X", "kind": "Y"}"#),
        "settings: duplicate field `kind`"
    );
}

#[test]
fn nulls_are_unset_and_escaped_strings_read() {
    let settings = Settings::from_json(
        br#"{"defaults": {"enforce": "basel\u0069ne", "audit": null}, "exemptions": {"usernames": null}}"#,
    )
    .unwrap();
    assert_eq!(settings.enforce.to_string(), "baseline:latest");
    assert_eq!(settings.audit, None);
    assert!(settings.exemptions.usernames.is_empty());
}

#[test]
fn known_keys_come_from_the_typed_sections() {
    let keys = known_keys();
    assert_eq!(keys[0].0, "");
    assert!(keys[0].1.contains(&"runtimeAccess"));
    assert_eq!(
        keys[1].1,
        [
            "enforce",
            "enforce-version",
            "audit",
            "audit-version",
            "warn",
            "warn-version"
        ]
    );
    assert_eq!(keys[2].1, ["usernames", "namespaces", "runtimeClasses"]);
    assert_eq!(
        keys[3].1,
        ["enabled", "extraPaths", "exemptNamespaces", "exemptImages"]
    );
    assert_eq!(keys[4].0, "checkExemptions");
    assert!(keys[4].1.contains(&"podSelector"));
    assert_eq!(keys[5].1, ["matchLabels", "matchExpressions"]);
}

//! The policy's settings: the body of Pod Security Admission's `PodSecurityConfiguration`
//! (`pod-security.admission.config.k8s.io/v1`), so operators can paste what they already have, plus
//! the policy's own keys. Anything unknown, misspelled or invalid is refused: a typo must never
//! weaken enforcement silently.

use crate::level::{Level, Policy, Version};
use crate::runtime_access::{self, RuntimeAccessSettings};
use serde_json::{Map, Value};
use std::fmt;

pub const API_VERSION: &str = "pod-security.admission.config.k8s.io/v1";
pub const KIND: &str = "PodSecurityConfiguration";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub enforce: Policy,
    /// `None` when off (unset, or level `privileged`).
    pub audit: Option<Policy>,
    pub warn: Option<Policy>,
    pub exemptions: Exemptions,
    pub pod_controllers: ControllerMode,
    pub runtime_access: RuntimeAccessSettings,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exemptions {
    pub usernames: Vec<String>,
    pub namespaces: Vec<String>,
    pub runtime_classes: Vec<String>,
}

/// What happens to a pod controller (Deployment, Job, …) whose template violates the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControllerMode {
    /// Rejected, like a pod: the default, stricter than PSA.
    Enforce,
    /// Accepted with a warning, as PSA does.
    Warn,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enforce: Policy {
                level: Level::Restricted,
                version: Version::Latest,
            },
            audit: None,
            warn: None,
            exemptions: Exemptions::default(),
            pod_controllers: ControllerMode::Enforce,
            runtime_access: RuntimeAccessSettings::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError(pub String);

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SettingsError {}

const TOP_LEVEL_KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "defaults",
    "exemptions",
    "podControllers",
    "runtimeAccess",
];
const DEFAULTS_KEYS: &[&str] = &[
    "enforce",
    "enforce-version",
    "audit",
    "audit-version",
    "warn",
    "warn-version",
];
const EXEMPTIONS_KEYS: &[&str] = &["usernames", "namespaces", "runtimeClasses"];
const RUNTIME_ACCESS_KEYS: &[&str] = &["enabled", "extraPaths", "exemptNamespaces", "exemptImages"];
const CONTROLLER_MODES: &[&str] = &["enforce", "warn"];
const VERSION_FORMS: &[&str] = &["latest"];

impl Settings {
    pub fn from_json(bytes: &[u8]) -> Result<Self, SettingsError> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|err| SettingsError(format!("settings are not valid JSON: {err}")))?;
        Settings::from_value(&value)
    }

    pub fn from_value(value: &Value) -> Result<Self, SettingsError> {
        let root = match value {
            Value::Null => return Ok(Settings::default()),
            Value::Object(map) => map,
            other => return Err(wrong_type("settings", "an object", other)),
        };
        check_keys("settings", root, TOP_LEVEL_KEYS)?;
        if let Some(api_version) = optional_str(root, "apiVersion", "apiVersion")?
            && api_version != API_VERSION
        {
            return Err(SettingsError(format!(
                "apiVersion: unsupported value {api_version:?}, expected {API_VERSION:?}"
            )));
        }
        if let Some(kind) = optional_str(root, "kind", "kind")?
            && kind != KIND
        {
            return Err(SettingsError(format!(
                "kind: unsupported value {kind:?}, expected {KIND:?}"
            )));
        }

        let mut settings = Settings::default();
        if let Some(defaults) = optional_object(root, "defaults", "defaults")? {
            check_keys("defaults", defaults, DEFAULTS_KEYS)?;
            settings.enforce = policy(defaults, "enforce")?.unwrap_or(settings.enforce);
            settings.audit = policy(defaults, "audit")?.filter(|p| p.level != Level::Privileged);
            settings.warn = policy(defaults, "warn")?.filter(|p| p.level != Level::Privileged);
        }
        if let Some(exemptions) = optional_object(root, "exemptions", "exemptions")? {
            check_keys("exemptions", exemptions, EXEMPTIONS_KEYS)?;
            settings.exemptions = Exemptions {
                usernames: string_list(exemptions, "exemptions", "usernames")?,
                namespaces: string_list(exemptions, "exemptions", "namespaces")?,
                runtime_classes: string_list(exemptions, "exemptions", "runtimeClasses")?,
            };
        }
        if let Some(runtime_access) = optional_object(root, "runtimeAccess", "runtimeAccess")? {
            settings.runtime_access = runtime_access_settings(runtime_access)?;
        }
        if let Some(mode) = optional_str(root, "podControllers", "podControllers")? {
            settings.pod_controllers = match mode {
                "enforce" => ControllerMode::Enforce,
                "warn" => ControllerMode::Warn,
                other => return Err(bad_value("podControllers", other, CONTROLLER_MODES)),
            };
        }
        Ok(settings)
    }
}

/// Reads `MODE` and `MODE-version` from `defaults`: unset level means the default, unset version `latest`.
fn policy(defaults: &Map<String, Value>, mode: &str) -> Result<Option<Policy>, SettingsError> {
    let version_key = format!("{mode}-version");
    let level_path = format!("defaults.{mode}");
    let version_path = format!("defaults.{version_key}");
    let level = optional_str(defaults, mode, &level_path)?
        .map(|text| Level::parse(text).ok_or_else(|| bad_value(&level_path, text, &Level::NAMES)))
        .transpose()?;
    let version = optional_str(defaults, &version_key, &version_path)?
        .map(|text| {
            Version::parse(text).ok_or_else(|| {
                SettingsError(format!(
                    "{version_path}: invalid version {text:?}, expected \"latest\" or \"v1.N\" (as in \"v1.25\"){}",
                    suggestion(text, VERSION_FORMS).or_else(|| canonical_version(text)).unwrap_or_default()
                ))
            })
        })
        .transpose()?;
    Ok(match (level, version) {
        (None, None) => None,
        (level, version) => Some(Policy {
            level: level.unwrap_or(if mode == "enforce" {
                Level::Restricted
            } else {
                Level::Privileged
            }),
            version: version.unwrap_or(Version::Latest),
        }),
    })
}

/// `1.25`, `v1.025`, `v1.25.0` and the like: suggests the `v1.N` the operator most likely meant.
fn canonical_version(text: &str) -> Option<String> {
    let digits = text.trim_start_matches('v').strip_prefix("1.")?;
    let minor: u32 = digits.split('.').next()?.parse().ok()?;
    Some(format!("; did you mean \"v1.{minor}\"?"))
}

fn check_keys(path: &str, map: &Map<String, Value>, known: &[&str]) -> Result<(), SettingsError> {
    for key in map.keys() {
        if !known.contains(&key.as_str()) {
            return Err(SettingsError(format!(
                "{path}: unknown key {key:?}{}; known keys: {}",
                suggestion(key, known).unwrap_or_default(),
                known.join(", ")
            )));
        }
    }
    Ok(())
}

fn optional_str<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, SettingsError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(wrong_type(path, "a string", other)),
    }
}

fn optional_object<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, SettingsError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(object)) => Ok(Some(object)),
        Some(other) => Err(wrong_type(path, "an object", other)),
    }
}

fn runtime_access_settings(
    map: &Map<String, Value>,
) -> Result<RuntimeAccessSettings, SettingsError> {
    check_keys("runtimeAccess", map, RUNTIME_ACCESS_KEYS)?;
    let enabled = match map.get("enabled") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(enabled)) => *enabled,
        Some(other) => return Err(wrong_type("runtimeAccess.enabled", "a boolean", other)),
    };
    let extra_paths = string_list(map, "runtimeAccess", "extraPaths")?
        .iter()
        .enumerate()
        .map(|(index, path)| {
            runtime_access::normalise_extra_path(path).ok_or_else(|| {
                SettingsError(format!(
                    "runtimeAccess.extraPaths[{index}]: {path:?} is not an absolute path (/… on Linux, C:\\… or \\\\.\\pipe\\… on Windows)"
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(RuntimeAccessSettings {
        enabled,
        extra_paths,
        exempt_namespaces: string_list(map, "runtimeAccess", "exemptNamespaces")?,
        exempt_images: string_list(map, "runtimeAccess", "exemptImages")?,
    })
}

/// A list of names: strings only, none empty (an empty entry matches nothing and hides a mistake).
fn string_list(
    map: &Map<String, Value>,
    parent: &str,
    key: &str,
) -> Result<Vec<String>, SettingsError> {
    let path = format!("{parent}.{key}");
    let items = match map.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(wrong_type(&path, "a list of strings", other)),
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::String(text) if text.is_empty() => Err(SettingsError(format!(
                "{path}[{index}]: empty string; an empty entry matches nothing"
            ))),
            Value::String(text) => Ok(text.clone()),
            other => Err(wrong_type(&format!("{path}[{index}]"), "a string", other)),
        })
        .collect()
}

fn wrong_type(path: &str, expected: &str, found: &Value) -> SettingsError {
    let found = match found {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    SettingsError(format!("{path}: expected {expected}, found {found}"))
}

fn bad_value(path: &str, value: &str, allowed: &[&str]) -> SettingsError {
    SettingsError(format!(
        "{path}: invalid value {value:?}{}; allowed values: {}",
        suggestion(value, allowed).unwrap_or_default(),
        allowed.join(", ")
    ))
}

/// `; did you mean "x"?` when one known word is close to what was written.
fn suggestion(written: &str, known: &[&str]) -> Option<String> {
    let lowered = written.to_ascii_lowercase();
    known
        .iter()
        .map(|candidate| {
            let candidate_lowered = candidate.to_ascii_lowercase();
            let mut distance = strsim::damerau_levenshtein(&lowered, &candidate_lowered);
            // A truncated or extended word (`warning` for `warn`) is close whatever its length.
            if lowered.starts_with(&candidate_lowered) || candidate_lowered.starts_with(&lowered) {
                distance = distance.min(2);
            }
            (distance, candidate)
        })
        .filter(|(distance, candidate)| *distance <= 2.max(candidate.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| format!("; did you mean {candidate:?}?"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
            err.contains("unknown key \"exemption\"")
                && err.contains("did you mean \"exemptions\"?"),
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
                .contains("expected a string, found a number")
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
        let settings =
            parse(json!({"runtimeAccess": {"extraPaths": ["/opt//cni/bin/", "/var/run/x", "d:/Docker/"]}}))
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
}

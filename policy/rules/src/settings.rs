//! The policy's settings: the body of Pod Security Admission's `PodSecurityConfiguration`
//! (`pod-security.admission.config.k8s.io/v1`), so operators can paste what they already have, plus
//! the policy's own keys. Anything unknown, misspelled or invalid is refused: a typo must never
//! weaken enforcement silently.

mod check_exemptions;
mod introspect;

use crate::check_exemptions::{CheckExemption, LabelSelector};
use crate::level::{Level, LevelVersion, Version};
use crate::namespaces::Policy;
use crate::pod::Text;
use crate::runtime_access::{self, RuntimeAccessSettings};
use crate::secure_defaults::SecureDefaults;
use crate::secure_defaults::settings::SecureDefaultsDocument;
use crate::strict;
use check_exemptions::{CheckExemptionDocument, check_exemptions};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

pub const API_VERSION: &str = "pod-security.admission.config.k8s.io/v1";
pub const KIND: &str = "PodSecurityConfiguration";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub enforce: LevelVersion,
    /// `None` when off (unset, or level `privileged`).
    pub audit: Option<LevelVersion>,
    pub warn: Option<LevelVersion>,
    pub exemptions: Exemptions,
    pub pod_controllers: ControllerMode,
    pub runtime_access: RuntimeAccessSettings,
    /// Whether each namespace's `pod-security.kubernetes.io/*` labels set its levels over the
    /// defaults, as in PSA (the default), or the defaults hold everywhere.
    pub namespace_labels: bool,
    /// Exemptions of one check each, as narrow as written.
    pub check_exemptions: Vec<CheckExemption>,
    /// What to fill in on pods and templates when absent; `None`: the policy only validates.
    pub secure_defaults: Option<SecureDefaults>,
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
            enforce: LevelVersion {
                level: Level::Restricted,
                version: Version::Latest,
            },
            audit: None,
            warn: None,
            exemptions: Exemptions::default(),
            pod_controllers: ControllerMode::Enforce,
            runtime_access: RuntimeAccessSettings::default(),
            namespace_labels: true,
            check_exemptions: Vec::new(),
            secure_defaults: None,
        }
    }
}

impl Settings {
    /// The defaults as PSA's policy: audit and warn at `privileged:latest` when off.
    pub fn defaults(&self) -> Policy {
        let off = LevelVersion {
            level: Level::Privileged,
            version: Version::Latest,
        };
        Policy {
            enforce: self.enforce,
            audit: self.audit.unwrap_or(off),
            warn: self.warn.unwrap_or(off),
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

/// The settings as written: every key optional, unknown keys refused (with a suggestion).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Document {
    api_version: Option<String>,
    kind: Option<String>,
    defaults: Option<Defaults>,
    exemptions: Option<ExemptionsDocument>,
    pod_controllers: Option<ControllerMode>,
    runtime_access: Option<RuntimeAccessDocument>,
    namespace_labels: Option<bool>,
    check_exemptions: Option<Vec<CheckExemptionDocument>>,
    secure_defaults: Option<SecureDefaultsDocument>,
}

/// PSA's `defaults`: a level and a version per mode.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Defaults {
    enforce: Option<Level>,
    enforce_version: Option<Version>,
    audit: Option<Level>,
    audit_version: Option<Version>,
    warn: Option<Level>,
    warn_version: Option<Version>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ExemptionsDocument {
    usernames: Option<Names>,
    namespaces: Option<Names>,
    runtime_classes: Option<Names>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RuntimeAccessDocument {
    enabled: Option<bool>,
    extra_paths: Option<Vec<ExtraPath>>,
    exempt_namespaces: Option<Names>,
    exempt_images: Option<Names>,
}

/// The keys each section of the settings accepts (`""` is the top level), read from the typed
/// structs themselves.
pub fn known_keys() -> [(&'static str, &'static [&'static str]); 7] {
    [
        ("", introspect::fields_of::<Document>()),
        ("defaults", introspect::fields_of::<Defaults>()),
        ("exemptions", introspect::fields_of::<ExemptionsDocument>()),
        (
            "runtimeAccess",
            introspect::fields_of::<RuntimeAccessDocument>(),
        ),
        (
            "checkExemptions",
            introspect::fields_of::<CheckExemptionDocument>(),
        ),
        (
            "checkExemptions.podSelector",
            introspect::fields_of::<LabelSelector>(),
        ),
        (
            "secureDefaults",
            introspect::fields_of::<SecureDefaultsDocument>(),
        ),
    ]
}

impl Settings {
    pub fn from_json(bytes: &[u8]) -> Result<Self, SettingsError> {
        let document: Option<Document> = strict::from_slice(bytes).map_err(read_error)?;
        document.map_or_else(|| Ok(Settings::default()), Settings::from_document)
    }

    pub fn from_value(value: &serde_json::Value) -> Result<Self, SettingsError> {
        let bytes = serde_json::to_vec(value).map_err(|err| SettingsError(err.to_string()))?;
        Settings::from_json(&bytes)
    }

    fn from_document(document: Document) -> Result<Self, SettingsError> {
        if let Some(api_version) = document.api_version.filter(|v| v != API_VERSION) {
            return Err(SettingsError(format!(
                "apiVersion: unsupported value {api_version:?}, expected {API_VERSION:?}"
            )));
        }
        if let Some(kind) = document.kind.filter(|kind| kind != KIND) {
            return Err(SettingsError(format!(
                "kind: unsupported value {kind:?}, expected {KIND:?}"
            )));
        }
        let mut settings = Settings::default();
        if let Some(defaults) = document.defaults {
            let mode = |level: Option<Level>, version: Option<Version>, unset: Level| {
                (level.is_some() || version.is_some()).then(|| LevelVersion {
                    level: level.unwrap_or(unset),
                    version: version.unwrap_or(Version::Latest),
                })
            };
            let enforce = mode(
                defaults.enforce,
                defaults.enforce_version,
                Level::Restricted,
            );
            settings.enforce = enforce.unwrap_or(settings.enforce);
            // Audit and warn are off unless set, and off at `privileged`.
            let on = |mode: &LevelVersion| mode.level != Level::Privileged;
            settings.audit =
                mode(defaults.audit, defaults.audit_version, Level::Privileged).filter(on);
            settings.warn =
                mode(defaults.warn, defaults.warn_version, Level::Privileged).filter(on);
        }
        if let Some(exemptions) = document.exemptions {
            settings.exemptions = Exemptions {
                usernames: Names::list(exemptions.usernames),
                namespaces: Names::list(exemptions.namespaces),
                runtime_classes: Names::list(exemptions.runtime_classes),
            };
        }
        if let Some(runtime_access) = document.runtime_access {
            settings.runtime_access = RuntimeAccessSettings {
                enabled: runtime_access.enabled.unwrap_or(true),
                extra_paths: runtime_access
                    .extra_paths
                    .unwrap_or_default()
                    .into_iter()
                    .map(|path| path.0)
                    .collect(),
                exempt_namespaces: Names::list(runtime_access.exempt_namespaces),
                exempt_images: Names::list(runtime_access.exempt_images),
            };
        }
        if let Some(mode) = document.pod_controllers {
            settings.pod_controllers = mode;
        }
        if let Some(read) = document.namespace_labels {
            settings.namespace_labels = read;
        }
        if let Some(entries) = document.check_exemptions {
            settings.check_exemptions = check_exemptions(entries)?;
        }
        if let Some(defaults) = document.secure_defaults {
            settings.secure_defaults = defaults.read().map_err(SettingsError)?;
        }
        Ok(settings)
    }
}

/// Says where the settings are wrong: `path: what`, unknown keys with a suggestion and the keys
/// the section knows.
fn read_error(error: strict::ReadError) -> SettingsError {
    if error.error.is_syntax() || error.error.is_eof() {
        return SettingsError(format!("settings are not valid JSON: {}", error.message()));
    }
    let message = error.message();
    let section = if error.path.is_empty() {
        "settings"
    } else {
        error.path.as_str()
    };
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.rsplit_once("`, expected "))
        .map(|(key, _)| key);
    match unknown {
        Some(key) => {
            // `checkExemptions[2].podSelector` is the section `checkExemptions.podSelector`.
            let section_name: String = {
                let mut name = String::new();
                let mut in_index = false;
                for c in error.path.chars() {
                    match c {
                        '[' => in_index = true,
                        ']' => in_index = false,
                        c if !in_index => name.push(c),
                        _ => {}
                    }
                }
                name
            };
            let known = known_keys()
                .into_iter()
                .find(|(name, _)| *name == section_name)
                .map(|(_, keys)| keys)
                .unwrap_or_default();
            SettingsError(format!(
                "{section}: unknown key {key:?}{}; known keys: {}",
                suggestion(key, known).unwrap_or_default(),
                known.join(", ")
            ))
        }
        None => SettingsError(format!("{section}: {}", expected_first(&message))),
    }
}

/// serde's `invalid type: string "no", expected a boolean` as `expected a boolean, found string
/// "no"`: what the key needs first, as the other settings errors say it.
fn expected_first(message: &str) -> String {
    message
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.rsplit_once(", expected "))
        .map_or_else(
            || message.to_string(),
            |(found, expected)| {
                // A section is read as a struct; the user wrote an object, or should have.
                let expected = if expected.starts_with("struct ") {
                    "an object"
                } else {
                    expected
                };
                format!("expected {expected}, found {found}")
            },
        )
}

// Levels, versions and modes are read as `Text`, borrowed from the payload unless escaped:
// policy-server sends the settings with every request.
impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Text::deserialize(deserializer)?;
        Level::parse(&text).ok_or_else(|| de::Error::custom(bad_value(&text, &Level::NAMES)))
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Text::deserialize(deserializer)?;
        Version::parse(&text).ok_or_else(|| {
            de::Error::custom(format!(
                "invalid version {text:?}, expected \"latest\" or \"v1.N\" (as in \"v1.25\"){}",
                suggestion(&text, &["latest"])
                    .or_else(|| canonical_version(&text))
                    .unwrap_or_default()
            ))
        })
    }
}

impl<'de> Deserialize<'de> for ControllerMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Text::deserialize(deserializer)?;
        match &*text {
            "enforce" => Ok(ControllerMode::Enforce),
            "warn" => Ok(ControllerMode::Warn),
            other => Err(de::Error::custom(bad_value(other, &["enforce", "warn"]))),
        }
    }
}

/// A list of names: strings only, none empty (an empty entry matches nothing and hides a mistake).
struct Names(Vec<String>);

impl Names {
    fn list(names: Option<Names>) -> Vec<String> {
        names.map(|names| names.0).unwrap_or_default()
    }
}

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NamesVisitor;

        impl<'de> Visitor<'de> for NamesVisitor {
            type Value = Names;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of strings")
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Names, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<Name>()? {
                    names.push(name.0);
                }
                Ok(Names(names))
            }
        }

        deserializer.deserialize_seq(NamesVisitor)
    }
}

struct Name(String);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        if name.is_empty() {
            return Err(de::Error::custom(
                "empty string; an empty entry matches nothing",
            ));
        }
        Ok(Name(name))
    }
}

/// A protected path an operator adds, normalised once here.
struct ExtraPath(String);

impl<'de> Deserialize<'de> for ExtraPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let path = String::deserialize(deserializer)?;
        runtime_access::normalise_extra_path(&path)
            .map(ExtraPath)
            .ok_or_else(|| {
                de::Error::custom(format!(
                    "{path:?} is not an absolute path (/… on Linux, C:\\… or \\\\.\\pipe\\… on Windows)"
                ))
            })
    }
}

/// `1.25`, `v1.025`, `v1.25.0` and the like: suggests the `v1.N` the operator most likely meant.
fn canonical_version(text: &str) -> Option<String> {
    let digits = text.trim_start_matches('v').strip_prefix("1.")?;
    let minor: u32 = digits.split('.').next()?.parse().ok()?;
    Some(format!("; did you mean \"v1.{minor}\"?"))
}

fn bad_value(value: &str, allowed: &[&str]) -> String {
    format!(
        "invalid value {value:?}{}; allowed values: {}",
        suggestion(value, allowed).unwrap_or_default(),
        allowed.join(", ")
    )
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
mod tests;

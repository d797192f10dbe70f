//! A namespace's policy from its `pod-security.kubernetes.io/*` labels over the configured defaults,
//! as PSA's `PolicyToEvaluate` (k8s.io/pod-security-admission/api/helpers.go).

use crate::level::{Level, LevelVersion, Version};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::fmt;

pub const ENFORCE_LEVEL: &str = "pod-security.kubernetes.io/enforce";
pub const ENFORCE_VERSION: &str = "pod-security.kubernetes.io/enforce-version";
pub const AUDIT_LEVEL: &str = "pod-security.kubernetes.io/audit";
pub const AUDIT_VERSION: &str = "pod-security.kubernetes.io/audit-version";
pub const WARN_LEVEL: &str = "pod-security.kubernetes.io/warn";
pub const WARN_VERSION: &str = "pod-security.kubernetes.io/warn-version";

const PREFIX: &str = "pod-security.kubernetes.io/";

/// A namespace's `pod-security.kubernetes.io/*` labels; its other labels are skipped when read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodSecurityLabels(Vec<(String, String)>);

impl PodSecurityLabels {
    pub fn get(&self, label: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == label)
            .map(|(_, value)| value.as_str())
    }

    pub fn contains(&self, label: &str) -> bool {
        self.get(label).is_some()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for PodSecurityLabels {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(labels: I) -> Self {
        PodSecurityLabels(
            labels
                .into_iter()
                .map(|(key, value)| (key.into(), value.into()))
                .filter(|(key, _): &(String, String)| key.starts_with(PREFIX))
                .collect(),
        )
    }
}

impl<'de> Deserialize<'de> for PodSecurityLabels {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LabelsVisitor;

        impl<'de> Visitor<'de> for LabelsVisitor {
            type Value = PodSecurityLabels;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of labels")
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(PodSecurityLabels::default())
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut labels = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key.starts_with(PREFIX) {
                        labels.push((key, map.next_value::<String>()?));
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(PodSecurityLabels(labels))
            }
        }

        deserializer.deserialize_any(LabelsVisitor)
    }
}

/// The level:version of each mode, PSA's `api.Policy`. A mode at `privileged` never finds anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub enforce: LevelVersion,
    pub audit: LevelVersion,
    pub warn: LevelVersion,
}

impl Policy {
    /// Every mode privileged: nothing to evaluate (PSA's `FullyPrivileged`).
    pub fn fully_privileged(&self) -> bool {
        [self.enforce, self.audit, self.warn]
            .iter()
            .all(|mode| mode.level == Level::Privileged)
    }

    /// The same decisions: equal levels, and equal versions unless privileged (PSA's `Equivalent`).
    pub fn equivalent(&self, other: &Policy) -> bool {
        let same = |a: LevelVersion, b: LevelVersion| {
            a.level == b.level && (a.level == Level::Privileged || a.version == b.version)
        };
        same(self.enforce, other.enforce)
            && same(self.audit, other.audit)
            && same(self.warn, other.warn)
    }
}

/// One invalid label, in PSA's words (a `field.Invalid` error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelError {
    pub label: &'static str,
    pub value: String,
    pub detail: &'static str,
}

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "metadata.labels[{}]: Invalid value: {:?}: {}",
            self.label, self.value, self.detail
        )
    }
}

/// Several errors as Kubernetes aggregates them: one alone, more as `[a, b]`.
pub fn aggregate(errors: &[LabelError]) -> String {
    match errors {
        [one] => one.to_string(),
        many => {
            let texts: Vec<String> = many.iter().map(ToString::to_string).collect();
            format!("[{}]", texts.join(", "))
        }
    }
}

const LEVEL_DETAIL: &str = "must be one of privileged, baseline, restricted";
const VERSION_DETAIL: &str = "must be \"latest\" or \"v1.x\"";

/// The namespace's policy and the errors of its labels. Invalid values still give a policy, PSA's
/// fail-safe one: an invalid enforce level is `restricted`, an invalid audit or warn level is
/// `privileged` (those modes only report), an invalid version is `latest`.
pub fn policy_to_evaluate(
    labels: &PodSecurityLabels,
    defaults: &Policy,
) -> (Policy, Vec<LabelError>) {
    let mut policy = *defaults;
    let mut errors = Vec::new();
    let level = |label: &'static str, invalid: Level, errors: &mut Vec<LabelError>| {
        labels.get(label).map(|value| {
            Level::parse(value).unwrap_or_else(|| {
                errors.push(LabelError {
                    label,
                    value: value.to_string(),
                    detail: LEVEL_DETAIL,
                });
                invalid
            })
        })
    };
    let enforce_level = level(ENFORCE_LEVEL, Level::Restricted, &mut errors);
    let enforce_level_valid = labels
        .get(ENFORCE_LEVEL)
        .is_some_and(|value| Level::parse(value).is_some());
    let enforce_version = version(labels, ENFORCE_VERSION, &mut errors);
    let audit_level = level(AUDIT_LEVEL, Level::Privileged, &mut errors);
    let audit_version = version(labels, AUDIT_VERSION, &mut errors);
    let warn_level = level(WARN_LEVEL, Level::Privileged, &mut errors);
    let warn_version = version(labels, WARN_VERSION, &mut errors);

    policy.enforce.level = enforce_level.unwrap_or(policy.enforce.level);
    policy.enforce.version = enforce_version.unwrap_or(policy.enforce.version);
    policy.audit.level = audit_level.unwrap_or(policy.audit.level);
    policy.audit.version = audit_version.unwrap_or(policy.audit.version);
    policy.warn.level = warn_level.unwrap_or(policy.warn.level);
    policy.warn.version = warn_version.unwrap_or(policy.warn.version);

    // Warn follows an explicitly stricter enforce level, so a namespace labelled only `enforce`
    // tells users before it refuses them on controllers.
    if warn_level.is_none() && enforce_level_valid && policy.enforce.level > policy.warn.level {
        policy.warn.level = policy.enforce.level;
        if warn_version.is_none() {
            policy.warn.version = policy.enforce.version;
        }
    }
    (policy, errors)
}

fn version(
    labels: &PodSecurityLabels,
    label: &'static str,
    errors: &mut Vec<LabelError>,
) -> Option<Version> {
    labels.get(label).map(|value| {
        Version::parse(value).unwrap_or_else(|| {
            errors.push(LabelError {
                label,
                value: value.to_string(),
                detail: VERSION_DETAIL,
            });
            Version::Latest
        })
    })
}

#[cfg(test)]
mod tests;

//! `checkExemptions` as written, and the checks that make each entry exactly as wide as it says.

use super::{Name, Names, SettingsError, suggestion};
use crate::check_exemptions::{CheckExemption, ImagePattern, LabelSelector, ValueKind};
use crate::runtime_access;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// One `checkExemptions` entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct CheckExemptionDocument {
    name: Name,
    check: Name,
    namespaces: Option<Names>,
    pod_selector: Option<LabelSelector>,
    containers: Option<Names>,
    images: Option<Names>,
    values: Option<Vec<ExemptionValue>>,
    read_only: Option<bool>,
}

/// A value as written: a string, or a number (a host port).
struct ExemptionValue(String);

impl<'de> Deserialize<'de> for ExemptionValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;

        impl Visitor<'_> for ValueVisitor {
            type Value = ExemptionValue;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a port number")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<ExemptionValue, E> {
                Ok(ExemptionValue(text.to_string()))
            }

            fn visit_u64<E: de::Error>(self, number: u64) -> Result<ExemptionValue, E> {
                Ok(ExemptionValue(number.to_string()))
            }
        }

        deserializer.deserialize_any(ValueVisitor)
    }
}

/// The entries, each checked: a known check, no empty list, a selector that can match, values only
/// for checks that have them, and namespaces unless the entry trusts images alone.
pub(super) fn check_exemptions(
    entries: Vec<CheckExemptionDocument>,
) -> Result<Vec<CheckExemption>, SettingsError> {
    if entries.is_empty() {
        return Err(SettingsError(
            "checkExemptions: an empty list exempts nothing; leave the key out".to_string(),
        ));
    }
    let mut exemptions: Vec<CheckExemption> = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let name = entry.name.0;
        let at =
            |what: String| SettingsError(format!("checkExemptions[{index}] ({name:?}): {what}"));
        if exemptions.iter().any(|earlier| earlier.name == name) {
            return Err(at(
                "another entry has this name; names say which entry exempted what".to_string(),
            ));
        }
        let ids: Vec<&'static str> = crate::checks::REGISTRY
            .iter()
            .map(|check| check.id)
            .collect();
        let check = ids
            .iter()
            .copied()
            .find(|id| *id == entry.check.0)
            .ok_or_else(|| {
                at(format!(
                    "check: unknown check {:?}{}; known checks: {}",
                    entry.check.0,
                    suggestion(&entry.check.0, &ids).unwrap_or_default(),
                    ids.join(", ")
                ))
            })?;
        let list = |key: &str, names: Option<Names>| -> Result<Vec<String>, SettingsError> {
            match names {
                Some(names) if names.0.is_empty() => Err(at(format!(
                    "{key}: an empty list matches nothing; leave the key out"
                ))),
                names => Ok(Names::list(names)),
            }
        };
        let namespaces = list("namespaces", entry.namespaces)?;
        let containers = list("containers", entry.containers)?;
        let images = list("images", entry.images)?
            .iter()
            .map(|image| ImagePattern::parse(image).map_err(|why| at(format!("images: {why}"))))
            .collect::<Result<Vec<_>, _>>()?;
        if namespaces.is_empty() && images.is_empty() {
            return Err(at(
                "name its namespaces: labels and container names are chosen by whoever creates the \
                 pod, so only an entry that names images may apply in every namespace"
                    .to_string(),
            ));
        }
        if let Some(problem) = entry.pod_selector.as_ref().and_then(LabelSelector::problem) {
            return Err(at(format!("podSelector: {problem}")));
        }
        let kind = ValueKind::of(check);
        let values = match (entry.values, kind) {
            (None, _) => Vec::new(),
            (Some(_), None) => {
                return Err(at(format!(
                    "values: {check} has no values to exempt; leave values out to exempt the check \
                     for the containers the entry names"
                )));
            }
            (Some(values), _) if values.is_empty() => {
                return Err(at(
                    "values: an empty list exempts nothing; leave the key out".to_string(),
                ));
            }
            (Some(values), Some(kind)) => values
                .into_iter()
                .map(|value| {
                    exemption_value(kind, value.0).map_err(|why| at(format!("values: {why}")))
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        if entry.read_only.is_some() && check != "hostPathVolumes" {
            return Err(at(
                "readOnly: only hostPathVolumes entries take readOnly".to_string()
            ));
        }
        exemptions.push(CheckExemption {
            name,
            check,
            namespaces,
            pod_selector: entry.pod_selector,
            containers,
            images,
            values,
            // Read-only unless the operator says writable.
            read_only: entry.read_only.unwrap_or(true),
        });
    }
    Ok(exemptions)
}

/// One value, checked and normalised for its kind.
fn exemption_value(kind: ValueKind, value: String) -> Result<String, String> {
    let bad = || format!("{value:?} is not one of {}", kind.describe());
    match kind {
        ValueKind::HostPort => {
            let (low, high) = value.split_once('-').unwrap_or((&value, &value));
            match (low.trim().parse::<u16>(), high.trim().parse::<u16>()) {
                (Ok(low), Ok(high)) if low >= 1 && low <= high => Ok(if low == high {
                    low.to_string()
                } else {
                    format!("{low}-{high}")
                }),
                _ => Err(bad()),
            }
        }
        ValueKind::HostPath => match runtime_access::normalise_extra_path(&value) {
            Some(path) if path != "/" => Ok(path),
            Some(_) => Err(format!(
                "{value:?} is every path: name the directory to exempt"
            )),
            None => Err(bad()),
        },
        ValueKind::HostNamespace => match value.as_str() {
            "hostNetwork" | "hostPID" | "hostIPC" => Ok(value),
            _ => Err(format!(
                "{value:?} is not one of {}{}",
                kind.describe(),
                suggestion(&value, &["hostNetwork", "hostPID", "hostIPC"]).unwrap_or_default()
            )),
        },
        ValueKind::Capability | ValueKind::Sysctl | ValueKind::SeLinuxType => {
            if value.is_empty() || value.chars().any(char::is_whitespace) {
                Err(bad())
            } else {
                Ok(value)
            }
        }
    }
}

//! The settings the page evaluates with: the module's, read from YAML or JSON (or a Kubewarden
//! policy resource's `spec.settings`), with the page's level and version over their defaults.

use pod_security_manifests::yaml;
use pod_security_rules::{Level, Settings, Version};
use serde_json::{Map, Value};

use super::{LineMessage, Options};

/// The settings as the module reads them, and the same with `secureDefaults` enabled (the user's
/// own `secureDefaults` keys kept), which finds the fix for a denied object as `check` does.
pub(super) struct PageSettings {
    pub settings: Settings,
    pub fixing: Option<Settings>,
}

pub(super) fn read_page_settings(
    text: &str,
    options: &Options,
) -> Result<PageSettings, LineMessage> {
    let (settings, mut value) = read_settings(text, options)?;
    let fixing = (settings.secure_defaults.is_none())
        .then(|| {
            let fields = value.as_object_mut()?;
            let defaults = fields
                .entry("secureDefaults")
                .or_insert_with(|| Value::Object(Map::new()));
            defaults
                .as_object_mut()?
                .insert("enabled".to_string(), Value::Bool(true));
            Settings::from_value(&value).ok()
        })
        .flatten();
    Ok(PageSettings { settings, fixing })
}

/// The settings as the module reads them, from YAML or JSON, with the page's level and version.
pub(super) fn read_settings(
    text: &str,
    options: &Options,
) -> Result<(Settings, Value), LineMessage> {
    let mut value = match yaml::parse(text) {
        Ok(Some(parsed)) => parsed.value,
        Ok(None) => Value::Object(Map::new()),
        Err(error) => {
            return Err(LineMessage {
                line: error.line,
                message: format!("the settings are not valid YAML: {}", error.message),
            });
        }
    };
    // A Kubewarden policy resource: its `spec.settings`, as policy-server hands them to the module.
    if matches!(
        value.get("kind").and_then(Value::as_str),
        Some("ClusterAdmissionPolicy" | "AdmissionPolicy")
    ) {
        value = value
            .pointer("/spec/settings")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()));
    }
    let Value::Object(fields) = &mut value else {
        return Err(LineMessage {
            line: 1,
            message: "invalid settings: they must be a mapping".to_string(),
        });
    };
    let mut set_default = |key: &str, text: &str| {
        let defaults = fields
            .entry("defaults")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(defaults) = defaults {
            defaults.insert(key.to_string(), Value::String(text.to_string()));
        }
    };
    if let Some(level) = &options.level {
        Level::parse(level).ok_or_else(|| LineMessage {
            line: 0,
            message: format!("unknown level {level:?}"),
        })?;
        set_default("enforce", level);
    }
    if let Some(version) = &options.version {
        Version::parse(version).ok_or_else(|| LineMessage {
            line: 0,
            message: format!("unknown version {version:?}"),
        })?;
        set_default("enforce-version", version);
    }
    match Settings::from_value(&value) {
        Ok(settings) => Ok((settings, value)),
        Err(error) => Err(LineMessage {
            line: 0,
            message: format!("invalid settings: {error}"),
        }),
    }
}

//! What the page shows for a manifest: each object's verdict as the module gives it, its findings
//! check by check with the editor lines they are about, what the secure defaults would add, and the
//! levels each Namespace's labels set. Native code, tested natively; `lib.rs` only binds it.

use std::collections::BTreeMap;

use pod_security_manifests::findings::Finding;
use pod_security_manifests::request::RequestContext;
use pod_security_rules::checks;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::cluster::ManifestCluster;

mod document;
mod fix;
mod object;
mod settings;

use document::{Document, read_manifest};
pub use fix::{Fixed, fix};
use object::evaluate_object;
use settings::{read_page_settings, read_settings};

/// What the page asks besides the manifest and the settings.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
struct Options {
    /// Overrides the settings' `defaults.enforce`.
    level: Option<String>,
    /// Overrides the settings' `defaults.enforce-version`.
    version: Option<String>,
    /// For objects that name none.
    namespace: Option<String>,
    user: Option<String>,
    groups: Option<Vec<String>>,
}

/// A message about a line of the input (0: no line).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct LineMessage {
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    /// Why nothing was evaluated: the settings (or the options) cannot be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings_error: Option<LineMessage>,
    /// The enforce level and version the settings give, where no label says otherwise.
    pub enforce: String,
    pub objects: Vec<ObjectResult>,
    /// Documents that are not Kubernetes objects, or not YAML.
    pub problems: Vec<LineMessage>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectResult {
    /// The line the object starts on.
    pub line: u64,
    /// `Kind namespace/name`.
    pub object: String,
    /// Whether the policy is sent this kind at all.
    pub evaluated: bool,
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub warnings: Vec<String>,
    pub audit_annotations: BTreeMap<String, String>,
    pub findings: Vec<LocatedFinding>,
    /// For a Namespace: the levels its labels set over the settings' defaults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub levels: Option<BTreeMap<&'static str, String>>,
    /// What the secure defaults fill in, when they are on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub defaulted: Vec<DefaultedField>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defaulted_by: Option<DefaultedBy>,
    /// The AdmissionReview the API server would send, for `kwctl run` or `host-test run`.
    #[serde(skip_serializing_if = "Value::is_null")]
    pub request: Value,
    /// Where the object is: its document, and its pointer in it (`""`, or a `List`'s `/items/N`).
    #[serde(skip)]
    document: usize,
    #[serde(skip)]
    pointer: String,
    /// The object as the secure defaults leave it, when they change it.
    #[serde(skip)]
    mutated: Option<Value>,
}

#[derive(Debug, Serialize)]
pub struct LocatedFinding {
    #[serde(flatten)]
    pub finding: Finding,
    /// The editor lines it is about, in field order.
    pub lines: Vec<u64>,
}

/// Who fills in the defaulted fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DefaultedBy {
    /// The policy, on admission: the settings enable `secureDefaults`.
    Policy,
    /// Nobody yet: what `secureDefaults` would add to the denied object, to write into the manifest.
    Fix,
}

#[derive(Debug, Serialize)]
pub struct DefaultedField {
    /// A JSON pointer within the object.
    pub pointer: String,
    /// Where it would go: the line of its nearest written parent.
    pub line: u64,
    pub value: Value,
}

/// Whether settings are valid, as the module's `validate_settings` answers.
#[derive(Debug, Serialize)]
pub struct SettingsValidation {
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

pub fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|error| {
        json!({"settingsError": {"line": 0, "message": format!("cannot write the answer: {error}")}})
            .to_string()
    })
}

/// `v1.0` … the newest version any check defines, then `latest`.
pub fn versions() -> Vec<String> {
    (0..=checks::newest_minor())
        .map(|minor| format!("v1.{minor}"))
        .chain(std::iter::once("latest".to_string()))
        .collect()
}

pub fn validate_settings(text: &str) -> SettingsValidation {
    match read_settings(text, &Options::default()) {
        Ok(_) => SettingsValidation {
            valid: true,
            message: None,
            line: None,
        },
        Err(error) => SettingsValidation {
            valid: false,
            message: Some(error.message),
            line: Some(error.line).filter(|line| *line > 0),
        },
    }
}

pub fn evaluate(manifest: &str, settings: &str, options: &str) -> Evaluation {
    evaluate_documents(manifest, settings, options).0
}

/// The evaluation, and the documents it read.
fn evaluate_documents(
    manifest: &str,
    settings: &str,
    options: &str,
) -> (Evaluation, Vec<Document>) {
    let failed = |error: LineMessage| {
        (
            Evaluation {
                settings_error: Some(error),
                enforce: String::new(),
                objects: Vec::new(),
                problems: Vec::new(),
            },
            Vec::new(),
        )
    };
    let options: Options = match serde_json::from_str(if options.trim().is_empty() {
        "{}"
    } else {
        options
    }) {
        Ok(options) => options,
        Err(error) => {
            return failed(LineMessage {
                line: 0,
                message: format!("invalid options: {error}"),
            });
        }
    };
    let settings = match read_page_settings(settings, &options) {
        Ok(settings) => settings,
        Err(error) => return failed(error),
    };
    let context = RequestContext {
        namespace: options.namespace.unwrap_or_else(|| "default".to_string()),
        username: options
            .user
            .unwrap_or_else(|| "kubernetes-admin".to_string()),
        groups: options
            .groups
            .unwrap_or_else(|| vec!["system:authenticated".to_string()]),
    };

    let (documents, mut problems) = read_manifest(manifest);
    let mut cluster = ManifestCluster::default();
    for document in &documents {
        for object in &document.objects {
            if object.object["kind"] == "Namespace" {
                cluster.add_namespace(&object.object);
            }
        }
    }
    let mut objects = Vec::new();
    for (document_index, document) in documents.iter().enumerate() {
        for object in &document.objects {
            let uid = format!("playground-{}", objects.len() + 1);
            let mut result = evaluate_object(object, document, &settings, &cluster, &context, &uid);
            result.document = document_index;
            objects.push(result);
        }
        problems.extend(document.problems.iter().map(|(line, message)| LineMessage {
            line: *line,
            message: message.clone(),
        }));
    }
    objects.sort_by_key(|object| object.line);
    problems.sort_by_key(|problem| problem.line);
    let evaluation = Evaluation {
        settings_error: None,
        enforce: settings.settings.enforce.to_string(),
        objects,
        problems,
    };
    (evaluation, documents)
}

#[cfg(test)]
mod tests;

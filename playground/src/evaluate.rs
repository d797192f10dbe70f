//! What the page shows for a manifest: each object's verdict as the module gives it, its findings
//! check by check with the editor lines they are about, what the secure defaults would add, and the
//! levels each Namespace's labels set. Native code, tested natively; `lib.rs` only binds it.

use std::collections::BTreeMap;

use pod_security_manifests::documents::{
    Item, ManifestObject, RawDocument, read_document, split_stream,
};
use pod_security_manifests::findings::{AUDIT_VIOLATIONS, Finding, of_response};
use pod_security_manifests::locate::locate;
use pod_security_manifests::request::{RequestContext, Target, target};
use pod_security_manifests::yaml::{self, lines::FieldLines, lines::escape, lines::line_of};
use pod_security_rules::namespaces::labels::{PodSecurityLabels, policy_to_evaluate};
use pod_security_rules::{Level, Settings, Verdict, Version, checks, runtime_access};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::cluster::ManifestCluster;

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
        for (index, object) in document.objects.iter().enumerate() {
            let uid = format!("playground-{}", objects.len() + 1);
            let prefix = document.object_pointer(index, object);
            let mut result = evaluate_object(
                object, document, &prefix, &settings, &cluster, &context, &uid,
            );
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

/// The settings as the module reads them, from YAML or JSON, with the page's level and version.
/// The settings as the module reads them, and the same with `secureDefaults` enabled (the user's
/// own `secureDefaults` keys kept), which finds the fix for a denied object as `check` does.
struct PageSettings {
    settings: Settings,
    fixing: Option<Settings>,
}

fn read_page_settings(text: &str, options: &Options) -> Result<PageSettings, LineMessage> {
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

fn read_settings(text: &str, options: &Options) -> Result<(Settings, Value), LineMessage> {
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

/// One document of the manifest: its objects, what is wrong in it, and the line of each field.
struct Document {
    first_line: u64,
    text: String,
    objects: Vec<ManifestObject>,
    problems: Vec<(u64, String)>,
    lines: FieldLines,
}

impl Document {
    /// The object's pointer within its document: the document itself, or a `List`'s item.
    fn object_pointer(&self, index: usize, object: &ManifestObject) -> String {
        let item = format!("/items/{index}");
        let item_line = self.lines.get(&item).map(|line| line + self.first_line - 1);
        if item_line == Some(object.location.line) {
            item
        } else {
            String::new()
        }
    }

    /// The input line of a pointer within the document.
    fn line(&self, pointer: &str) -> Option<u64> {
        line_of(&self.lines, pointer).map(|line| line.max(1) + self.first_line - 1)
    }
}

fn read_manifest(text: &str) -> (Vec<Document>, Vec<LineMessage>) {
    let mut raw: Vec<RawDocument> = Vec::new();
    let mut problems = Vec::new();
    split_stream(
        "manifest",
        text.as_bytes(),
        &mut |document| match document {
            Ok(document) => raw.push(document),
            Err(problem) => problems.push(LineMessage {
                line: problem.location.line,
                message: problem.message,
            }),
        },
    );
    let documents = raw
        .iter()
        .map(|document| {
            let mut objects = Vec::new();
            let mut document_problems = Vec::new();
            read_document("manifest", document, &mut |item| match item {
                Item::Object(object) => objects.push(object),
                Item::Problem(problem) => {
                    document_problems.push((problem.location.line, problem.message))
                }
            });
            Document {
                first_line: document.first_line,
                text: document.text.clone(),
                objects,
                problems: document_problems,
                lines: yaml::lines::field_lines(&document.text).unwrap_or_default(),
            }
        })
        .collect();
    (documents, problems)
}

fn evaluate_object(
    manifest_object: &ManifestObject,
    document: &Document,
    prefix: &str,
    page_settings: &PageSettings,
    cluster: &ManifestCluster,
    context: &RequestContext,
    uid: &str,
) -> ObjectResult {
    let object = &manifest_object.object;
    let line = manifest_object.location.line;
    // An AdmissionReview is evaluated as it is; an object as the API server would send it.
    let (display, request, object_prefix) = if object["kind"] == "AdmissionReview" {
        let request = object.get("request").cloned().unwrap_or(Value::Null);
        let display = format!(
            "AdmissionReview of {} {}",
            request
                .pointer("/kind/kind")
                .and_then(Value::as_str)
                .unwrap_or("?"),
            request
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
        );
        (display, request, format!("{prefix}/request/object"))
    } else {
        match target(object.clone(), context, uid) {
            Target::Evaluated(object_ref, request) => {
                (object_ref.display(), request, prefix.to_string())
            }
            Target::Skipped(object_ref) => {
                return ObjectResult {
                    line,
                    object: object_ref.display(),
                    evaluated: false,
                    allowed: true,
                    code: None,
                    message: Some("not sent to the policy: it evaluates pods, their controllers, PersistentVolumes and Namespaces".to_string()),
                    warnings: Vec::new(),
                    audit_annotations: BTreeMap::new(),
                    findings: Vec::new(),
                    levels: None,
                    defaulted: Vec::new(),
                    defaulted_by: None,
                    request: Value::Null,
                    document: 0,
                    pointer: String::new(),
                    mutated: None,
                };
            }
        }
    };
    let settings = &page_settings.settings;
    let bytes = request.to_string().into_bytes();
    let verdict: Verdict = if settings.secure_defaults.is_some() {
        pod_security_rules::validate_json_with_defaults(&bytes, settings, cluster)
    } else {
        pod_security_rules::validate_json(&bytes, settings, cluster)
    };
    // What the policy changes on admission, or, for a denied object, what the secure defaults would
    // add (`check --fix`'s fix).
    let (mutated, defaulted_by) = match (&verdict.mutated_object, &page_settings.fixing) {
        (Some(mutated), _) => (Some(mutated.clone()), Some(DefaultedBy::Policy)),
        (None, Some(fixing)) if !verdict.allowed => {
            let fixed = pod_security_rules::validate_json_with_defaults(&bytes, fixing, cluster);
            (fixed.mutated_object, Some(DefaultedBy::Fix))
        }
        _ => (None, None),
    };
    let findings = of_response(
        verdict.allowed,
        verdict.message.as_deref(),
        &verdict.warnings,
        verdict
            .audit_annotations
            .get(AUDIT_VIOLATIONS)
            .map(String::as_str),
    );
    let located = findings
        .into_iter()
        .map(|finding| {
            let lines = finding_lines(&finding, &request, document, &object_prefix)
                .unwrap_or_else(|| vec![line]);
            LocatedFinding { finding, lines }
        })
        .collect();
    let defaulted = mutated.as_ref().map_or_else(Vec::new, |mutated| {
        let mut added = Vec::new();
        added_fields(
            request.get("object").unwrap_or(&Value::Null),
            mutated,
            "",
            &mut added,
        );
        added
            .into_iter()
            .map(|(pointer, value)| DefaultedField {
                line: document
                    .line(&format!("{object_prefix}{pointer}"))
                    .unwrap_or(line),
                pointer,
                value,
            })
            .collect()
    });
    let levels = (object["kind"] == "Namespace").then(|| namespace_levels(object, settings));
    ObjectResult {
        line,
        object: display,
        evaluated: true,
        allowed: verdict.allowed,
        code: verdict.code,
        message: verdict.message,
        warnings: verdict.warnings,
        audit_annotations: verdict.audit_annotations,
        findings: located,
        levels,
        defaulted,
        request: json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": request,
        }),
        defaulted_by: defaulted_by.filter(|_| mutated.is_some()),
        document: 0,
        pointer: object_prefix,
        mutated,
    }
}

/// The lines a finding is about; `None` when it names no check whose fields are known.
fn finding_lines(
    finding: &Finding,
    request: &Value,
    document: &Document,
    object_prefix: &str,
) -> Option<Vec<u64>> {
    let object = request.get("object")?;
    let resource = |field: &str| {
        request
            .pointer(&format!("/resource/{field}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let persistent_volume = resource("resource") == "persistentvolumes";
    let (fields, annotations): (&[&str], &[&str]) = if finding.rule.starts_with("runtimeAccess") {
        if persistent_volume {
            (runtime_access::PERSISTENT_VOLUME_FIELDS, &[])
        } else {
            (runtime_access::POD_FIELDS, &[])
        }
    } else {
        let check = checks::REGISTRY
            .iter()
            .find(|check| check.id == finding.rule)?;
        (check.fields, check.annotations)
    };
    let template = if persistent_volume {
        ""
    } else {
        pod_security_rules::admission::pod_template_pointer(
            resource("group"),
            resource("resource"),
        )?
    };
    let root = object.pointer(template)?;
    let mut lines: Vec<u64> = locate(fields, annotations, &finding.message, root)
        .iter()
        .filter_map(|pointer| document.line(&format!("{object_prefix}{template}{pointer}")))
        .collect();
    lines.dedup();
    (!lines.is_empty()).then_some(lines)
}

/// The fields `after` has that `before` lacks (the secure defaults only ever add), as pointers.
fn added_fields(before: &Value, after: &Value, pointer: &str, added: &mut Vec<(String, Value)>) {
    match (before, after) {
        (Value::Object(before), Value::Object(after)) => {
            for (key, value) in after {
                let child = format!("{pointer}/{}", escape(key));
                match before.get(key) {
                    Some(old) if !old.is_null() => added_fields(old, value, &child, added),
                    _ => added.push((child, value.clone())),
                }
            }
        }
        (Value::Array(before), Value::Array(after)) if before.len() == after.len() => {
            for (index, (old, new)) in before.iter().zip(after).enumerate() {
                added_fields(old, new, &format!("{pointer}/{index}"), added);
            }
        }
        _ if before != after => added.push((pointer.to_string(), after.clone())),
        _ => {}
    }
}

/// The levels a Namespace's labels set over the settings' defaults, as PSA reads them.
fn namespace_levels(namespace: &Value, settings: &Settings) -> BTreeMap<&'static str, String> {
    let labels: PodSecurityLabels = namespace
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let (policy, errors) = policy_to_evaluate(&labels, &settings.defaults());
    let mut levels = BTreeMap::from([
        ("enforce", policy.enforce.to_string()),
        ("audit", policy.audit.to_string()),
        ("warn", policy.warn.to_string()),
    ]);
    if !errors.is_empty() {
        levels.insert(
            "errors",
            pod_security_rules::namespaces::labels::aggregate(&errors),
        );
    }
    levels
}

/// The manifest with what the secure defaults fill in written into its own YAML text, as
/// `host-test check --fix` writes it: the lines to add, nothing else changed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fixed {
    pub manifest: String,
    /// The lines of the objects fixed.
    pub fixed: Vec<u64>,
    /// The lines of objects with defaults that cannot be written into their text (flow style,
    /// JSON, an AdmissionReview): their fields are listed on the page instead.
    pub not_placed: Vec<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings_error: Option<LineMessage>,
}

pub fn fix(manifest: &str, settings: &str, options: &str) -> Fixed {
    let (evaluation, documents) = evaluate_documents(manifest, settings, options);
    let mut lines: Vec<String> = manifest.split_inclusive('\n').map(str::to_string).collect();
    let (mut fixed, mut not_placed) = (Vec::new(), Vec::new());
    // From the last document up, so that the earlier ones keep their line numbers.
    for (index, document) in documents.iter().enumerate().rev() {
        let objects: Vec<&ObjectResult> = evaluation
            .objects
            .iter()
            .filter(|object| object.document == index && object.mutated.is_some())
            .collect();
        if objects.is_empty() {
            continue;
        }
        let object_lines = objects.iter().map(|object| object.line);
        match fixed_text(document, &objects, &lines) {
            Some(text) => {
                let start = document.first_line as usize - 1;
                let end = start + document.text.lines().count();
                lines.splice(start..end, text.split_inclusive('\n').map(str::to_string));
                fixed.extend(object_lines);
            }
            None => not_placed.extend(object_lines),
        }
    }
    fixed.sort_unstable();
    not_placed.sort_unstable();
    Fixed {
        manifest: lines.concat(),
        fixed,
        not_placed,
        settings_error: evaluation.settings_error,
    }
}

/// The document's text with its objects' defaults written in, or `None` when they cannot be placed
/// (or its text is not the input's lines as they are: CRLF, a `--- {…}` marker line).
fn fixed_text(document: &Document, objects: &[&ObjectResult], lines: &[String]) -> Option<String> {
    let start = document.first_line as usize - 1;
    let original = lines.get(start..start + document.text.lines().count())?;
    if original.concat().trim_end_matches('\n') != document.text.trim_end_matches('\n') {
        return None;
    }
    let mut expected = yaml::parse(&document.text).ok()??.value;
    let mut patch = Vec::new();
    for object in objects {
        for field in &object.defaulted {
            patch.push(json!({"op": "add", "path": format!("{}{}", object.pointer, field.pointer), "value": field.value}));
        }
        *expected.pointer_mut(&object.pointer)? = object.mutated.clone()?;
    }
    let insertions = pod_security_manifests::fixes::fixed_document(
        &document.text,
        &Value::Array(patch),
        &expected,
    )?;
    let mut text = pod_security_manifests::fixes::apply(&document.text, &insertions);
    if !original.last()?.ends_with('\n') {
        text.truncate(text.trim_end_matches('\n').len());
    }
    Some(text)
}

#[cfg(test)]
mod tests;

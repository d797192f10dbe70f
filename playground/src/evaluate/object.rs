//! One object: its verdict from the rules, as the module gives it, its findings with the lines
//! they are about, what the secure defaults add, and a Namespace's levels.

use std::collections::BTreeMap;

use pod_security_manifests::documents::ManifestObject;
use pod_security_manifests::findings::{AUDIT_VIOLATIONS, Finding, of_response};
use pod_security_manifests::locate::locate;
use pod_security_manifests::request::{RequestContext, Target, target};
use pod_security_manifests::yaml::lines::escape;
use pod_security_rules::namespaces::labels::{PodSecurityLabels, policy_to_evaluate};
use pod_security_rules::{Settings, Verdict, checks, runtime_access};
use serde_json::{Value, json};

use super::document::Document;
use super::settings::PageSettings;
use super::{DefaultedBy, DefaultedField, LocatedFinding, ObjectResult};
use crate::cluster::ManifestCluster;

pub(super) fn evaluate_object(
    manifest_object: &ManifestObject,
    document: &Document,
    page_settings: &PageSettings,
    cluster: &ManifestCluster,
    context: &RequestContext,
    uid: &str,
) -> ObjectResult {
    let object = &manifest_object.object;
    let line = manifest_object.location.line;
    let prefix = &manifest_object.pointer;
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

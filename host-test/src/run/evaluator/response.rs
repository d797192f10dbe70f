//! The guest's answers, and the AdmissionResponse kwctl prints and policy-server returns.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The AdmissionResponse that kwctl prints and policy-server returns (camelCase, like the API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionResponse {
    pub uid: String,
    pub allowed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<String>,
    /// A base64 JSON patch from the request's object to the policy's mutated object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AdmissionStatus>,
    pub audit_annotations: Option<BTreeMap<String, String>>,
    pub warnings: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdmissionStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
}

impl AdmissionResponse {
    /// A denial carrying `message` and `code`, as policy-server answers for a failed evaluation.
    pub fn rejection(uid: &str, message: String, code: u16) -> Self {
        Self {
            uid: uid.to_string(),
            allowed: false,
            patch_type: None,
            patch: None,
            status: Some(AdmissionStatus {
                message: Some(message),
                code: Some(code),
            }),
            audit_annotations: None,
            warnings: None,
        }
    }

    /// The denial message, if any.
    pub fn message(&self) -> Option<&str> {
        self.status.as_ref()?.message.as_deref()
    }

    /// The JSON patch of a mutation, decoded; `None` without one.
    pub fn decoded_patch(&self) -> Option<Value> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.patch.as_ref()?)
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// What the guest's `validate` answers (the SDK's `ValidationResponse`, snake_case).
#[derive(Debug, Deserialize)]
pub(super) struct ValidationResponse {
    accepted: bool,
    message: Option<String>,
    code: Option<u16>,
    mutated_object: Option<Value>,
    audit_annotations: Option<BTreeMap<String, String>>,
    warnings: Option<Vec<String>>,
}

/// What the guest's `validate_settings` answers.
#[derive(Debug, Deserialize)]
pub(super) struct SettingsValidationResponse {
    pub(super) valid: bool,
    pub(super) message: Option<String>,
}

/// The AdmissionResponse for `response`, the guest's answer to the request for `object`.
pub(super) fn admission_response(
    uid: &str,
    object: Option<&Value>,
    response: ValidationResponse,
) -> AdmissionResponse {
    let status =
        (response.message.is_some() || response.code.is_some()).then_some(AdmissionStatus {
            message: response.message,
            code: response.code,
        });
    let patch = response.mutated_object.map(|mutated| {
        let patch = json_patch::diff(object.unwrap_or(&Value::Null), &mutated);
        let patch = serde_json::to_vec(&patch).expect("a JSON patch always serializes");
        base64::engine::general_purpose::STANDARD.encode(patch)
    });
    AdmissionResponse {
        uid: uid.to_string(),
        allowed: response.accepted,
        patch_type: patch.as_ref().map(|_| "JSONPatch".to_string()),
        patch,
        status,
        audit_annotations: response.audit_annotations,
        warnings: response.warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn validation_response(value: Value) -> ValidationResponse {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn an_acceptance_without_message_has_no_status() {
        let response = admission_response(
            "uid-1",
            None,
            validation_response(json!({"accepted": true})),
        );
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            json!({"uid": "uid-1", "allowed": true, "auditAnnotations": null, "warnings": null})
        );
    }

    #[test]
    fn a_rejection_carries_message_code_annotations_and_warnings() {
        let response = admission_response(
            "uid-2",
            None,
            validation_response(json!({
                "accepted": false,
                "message": "no privileged containers",
                "code": 403,
                "audit_annotations": {"a": "b"},
                "warnings": ["careful"],
            })),
        );
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            json!({
                "uid": "uid-2",
                "allowed": false,
                "status": {"message": "no privileged containers", "code": 403},
                "auditAnnotations": {"a": "b"},
                "warnings": ["careful"],
            })
        );
    }

    #[test]
    fn a_mutation_becomes_a_base64_json_patch() {
        let object = json!({"metadata": {"name": "pod"}});
        let response = admission_response(
            "uid-3",
            Some(&object),
            validation_response(json!({
                "accepted": true,
                "mutated_object": {"metadata": {"name": "pod", "labels": {"x": "y"}}},
            })),
        );
        assert_eq!(response.patch_type.as_deref(), Some("JSONPatch"));
        let patch = base64::engine::general_purpose::STANDARD
            .decode(response.patch.unwrap())
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&patch).unwrap(),
            json!([{"op": "add", "path": "/metadata/labels", "value": {"x": "y"}}])
        );
    }
}

//! A Kubewarden policy with validated settings, answering admission requests like policy-server.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::run::wapc_host::{GuestCallError, WapcModule, WarmInstance};

/// policy-server's message when the epoch deadline ends an evaluation.
pub const TIMEOUT_MESSAGE: &str =
    "Policy execution interrupted because it exceeded the allowed execution time";

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
}

/// What the guest's `validate` answers (the SDK's `ValidationResponse`, snake_case).
#[derive(Debug, Deserialize)]
struct ValidationResponse {
    accepted: bool,
    message: Option<String>,
    code: Option<u16>,
    mutated_object: Option<Value>,
    audit_annotations: Option<BTreeMap<String, String>>,
    warnings: Option<Vec<String>>,
}

/// What the guest's `validate_settings` answers.
#[derive(Debug, Deserialize)]
struct SettingsValidationResponse {
    valid: bool,
    message: Option<String>,
}

/// What `validate` receives, encoded as policy-server encodes it.
#[derive(Serialize)]
pub struct ValidationRequest<'a> {
    pub request: InApiOrder<'a>,
    pub settings: &'a Value,
}

impl<'a> ValidationRequest<'a> {
    pub fn new(request: &'a Value, settings: &'a Value) -> Self {
        ValidationRequest {
            request: InApiOrder(request),
            settings,
        }
    }
}

/// An AdmissionRequest with its fields in the order of the API's type, as the API server and
/// policy-server write them (`kind` and `resource` before `object`), whatever order the file had;
/// fields the type does not know follow, by name.
pub struct InApiOrder<'a>(pub &'a Value);

/// The fields of `admission.k8s.io/v1` AdmissionRequest, in declaration order.
const ADMISSION_REQUEST_FIELDS: [&str; 15] = [
    "uid",
    "kind",
    "resource",
    "subResource",
    "requestKind",
    "requestResource",
    "requestSubResource",
    "name",
    "namespace",
    "operation",
    "userInfo",
    "object",
    "oldObject",
    "dryRun",
    "options",
];

impl Serialize for InApiOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let Value::Object(fields) = self.0 else {
            return self.0.serialize(serializer);
        };
        let mut map = serializer.serialize_map(Some(fields.len()))?;
        for name in ADMISSION_REQUEST_FIELDS {
            if let Some(value) = fields.get(name) {
                map.serialize_entry(name, value)?;
            }
        }
        for (name, value) in fields {
            if !ADMISSION_REQUEST_FIELDS.contains(&name.as_str()) {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

/// A policy module together with settings that the module accepted.
#[derive(Clone)]
pub struct PolicyEvaluator {
    module: WapcModule,
    settings: Value,
}

impl PolicyEvaluator {
    /// Runs the module's `validate_settings` on `settings` (use `{}` for none), as policy-server does
    /// once at start, and fails with `Provided settings are not valid: …` when the module refuses them.
    pub fn new(module: WapcModule, settings: Value) -> anyhow::Result<Self> {
        let payload = serde_json::to_vec(&settings)?;
        let answer = module
            .call("validate_settings", &payload)
            .context("cannot validate the settings")?;
        let verdict: SettingsValidationResponse =
            serde_json::from_slice(&answer).with_context(|| {
                format!(
                    "cannot parse the module's settings validation response {}",
                    String::from_utf8_lossy(&answer)
                )
            })?;
        if !verdict.valid {
            bail!(
                "Provided settings are not valid: {}",
                verdict.message.unwrap_or_default()
            );
        }
        Ok(Self { module, settings })
    }

    pub fn settings(&self) -> &Value {
        &self.settings
    }

    /// Evaluates one AdmissionRequest (the `request` of an AdmissionReview) in a fresh instance.
    /// A guest failure, trap or timeout is a rejection with code 500, as in policy-server.
    pub fn validate(&self, admission_request: &Value) -> AdmissionResponse {
        self.validate_with(admission_request, |payload| {
            self.module.call("validate", payload)
        })
    }

    /// The same evaluation in `instance`, an instance kept across calls (as `check` does, one per
    /// worker): the same payload, guest and answer, without the instance's set-up each time.
    pub fn validate_in(
        &self,
        instance: &mut WarmInstance,
        admission_request: &Value,
    ) -> AdmissionResponse {
        self.validate_with(admission_request, |payload| {
            instance.call("validate", payload)
        })
    }

    pub fn module(&self) -> &WapcModule {
        &self.module
    }

    fn validate_with(
        &self,
        admission_request: &Value,
        call: impl FnOnce(&[u8]) -> Result<Vec<u8>, GuestCallError>,
    ) -> AdmissionResponse {
        let uid = admission_request
            .get("uid")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let payload = ValidationRequest::new(admission_request, &self.settings);
        let payload = match serde_json::to_vec(&payload) {
            Ok(payload) => payload,
            Err(error) => {
                return internal_error(uid, format!("cannot encode the request: {error}"));
            }
        };
        let answer = match call(&payload) {
            Ok(answer) => answer,
            Err(GuestCallError::DeadlineExceeded) => {
                return AdmissionResponse::rejection(uid, TIMEOUT_MESSAGE.to_string(), 500);
            }
            Err(GuestCallError::GuestFailure(message) | GuestCallError::Aborted(message)) => {
                return internal_error(uid, format!("Guest call failure: {message}"));
            }
            Err(error @ GuestCallError::MemoryLimitExceeded(_)) => {
                return internal_error(uid, format!("Guest call failure: {error}"));
            }
        };
        match serde_json::from_slice::<ValidationResponse>(&answer) {
            Ok(response) => admission_response(uid, admission_request.get("object"), response),
            Err(error) => internal_error(
                uid,
                format!(
                    "cannot parse the policy's validation response {}: {error}",
                    String::from_utf8_lossy(&answer)
                ),
            ),
        }
    }
}

fn internal_error(uid: &str, message: String) -> AdmissionResponse {
    AdmissionResponse::rejection(uid, format!("internal server error: {message}"), 500)
}

fn admission_response(
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
    #[test]
    fn requests_are_sent_in_the_api_field_order() {
        let request =
            json!({"zeta": 1, "object": {"kind": "Pod"}, "uid": "u", "resource": {}, "kind": {}});
        let settings = json!({});
        let payload = serde_json::to_string(&ValidationRequest::new(&request, &settings)).unwrap();
        assert_eq!(
            payload,
            r#"{"request":{"uid":"u","kind":{},"resource":{},"object":{"kind":"Pod"},"zeta":1},"settings":{}}"#
        );
    }

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

//! The Kubewarden entry points: waPC functions that translate Kubewarden's wire format to and from
//! the rules crate. Everything that decides lives in `pod-security-rules`.

use kubewarden_policy_sdk::response::ValidationResponse;
use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::wapc_guest::{self as guest, CallResult};
use pod_security_rules::{Settings, Verdict};
use serde::Deserialize;
use serde_json::value::RawValue;

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    guest::register_function("validate", validate);
    guest::register_function("validate_settings", validate_settings);
    guest::register_function(
        "protocol_version",
        kubewarden_policy_sdk::protocol_version_guest,
    );
}

/// What policy-server sends to `validate`: the AdmissionRequest and the policy's settings.
#[derive(Deserialize)]
struct ValidatePayload<'a> {
    #[serde(borrow)]
    request: &'a RawValue,
    #[serde(borrow, default)]
    settings: Option<&'a RawValue>,
}

fn validate(payload: &[u8]) -> CallResult {
    Ok(serde_json::to_vec(&validation_response(evaluate(payload)))?)
}

/// Evaluates a `validate` payload; every failure becomes a rejection, never a guest error.
pub fn evaluate(payload: &[u8]) -> Verdict {
    let payload: ValidatePayload = match serde_json::from_slice(payload) {
        Ok(payload) => payload,
        Err(err) => {
            return Verdict::bad_request(format!("cannot read the validation request: {err}"));
        }
    };
    let settings = match payload
        .settings
        .map(|raw| Settings::from_json(raw.get().as_bytes()))
    {
        None => Settings::default(),
        Some(Ok(settings)) => settings,
        Some(Err(err)) => return Verdict::bad_request(format!("invalid settings: {err}")),
    };
    pod_security_rules::review(payload.request.get().as_bytes(), &settings)
}

fn validation_response(verdict: Verdict) -> ValidationResponse {
    ValidationResponse {
        accepted: verdict.allowed,
        message: verdict.message,
        code: verdict.code,
        mutated_object: None,
        audit_annotations: (!verdict.audit_annotations.is_empty())
            .then(|| verdict.audit_annotations.into_iter().collect()),
        warnings: (!verdict.warnings.is_empty()).then_some(verdict.warnings),
    }
}

fn validate_settings(payload: &[u8]) -> CallResult {
    let response = match Settings::from_json(payload) {
        Ok(_) => SettingsValidationResponse {
            valid: true,
            message: None,
        },
        Err(err) => SettingsValidationResponse {
            valid: false,
            message: Some(err.to_string()),
        },
    };
    Ok(serde_json::to_vec(&response)?)
}

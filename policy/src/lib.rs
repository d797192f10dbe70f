//! The Kubewarden entry points: waPC functions that translate Kubewarden's wire format to and from
//! the rules crate. Everything that decides lives in `pod-security-rules`.

use kubewarden_policy_sdk::response::ValidationResponse;
use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::wapc_guest::{self as guest, CallResult};
use pod_security_rules::{RequestWithSettings, Settings, Verdict, review, review_request, strict};
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

/// The same payload in parts, read only to say which part of an unreadable payload is wrong.
#[derive(Deserialize)]
struct RawPayload<'a> {
    #[serde(borrow)]
    request: &'a RawValue,
    #[serde(borrow, default)]
    settings: Option<&'a RawValue>,
}

/// The `validate` operation: a payload in, a `ValidationResponse` out, as the module answers it.
pub fn validate(payload: &[u8]) -> CallResult {
    Ok(serde_json::to_vec(&validation_response(evaluate(payload)))?)
}

/// Evaluates a `validate` payload; every failure becomes a rejection, never a guest error.
pub fn evaluate(payload: &[u8]) -> Verdict {
    // What policy-server sends: the AdmissionRequest and the policy's settings, read in one pass.
    match RequestWithSettings::read(payload) {
        Ok(read) => match read_settings(read.settings) {
            Ok(settings) => review_request(read.request, &settings),
            Err(rejection) => rejection,
        },
        Err(_) => explain_unreadable(payload),
    }
}

fn read_settings(raw: Option<&RawValue>) -> Result<Settings, Verdict> {
    match raw.map(|raw| Settings::from_json(raw.get().as_bytes())) {
        None => Ok(Settings::default()),
        Some(Ok(settings)) => Ok(settings),
        Some(Err(err)) => Err(Verdict::bad_request(format!("invalid settings: {err}"))),
    }
}

/// Reads an unreadable payload again in parts, so the rejection says which part is wrong and where.
fn explain_unreadable(payload: &[u8]) -> Verdict {
    let payload: RawPayload = match strict::from_slice(payload) {
        Ok(payload) => payload,
        Err(err) => {
            return Verdict::bad_request(format!("cannot read the validation request: {err}"));
        }
    };
    match read_settings(payload.settings) {
        Ok(settings) => review(payload.request.get().as_bytes(), &settings),
        Err(rejection) => rejection,
    }
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

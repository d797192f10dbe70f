//! A Kubewarden policy with validated settings, answering admission requests like policy-server.

mod payload;
mod response;

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::run::wapc_host::{GuestCallError, WapcModule, WarmInstance};
pub use payload::{InApiOrder, ValidationRequest};
pub use response::{AdmissionResponse, AdmissionStatus};
use response::{SettingsValidationResponse, ValidationResponse, admission_response};

/// policy-server's message when the epoch deadline ends an evaluation.
pub const TIMEOUT_MESSAGE: &str =
    "Policy execution interrupted because it exceeded the allowed execution time";

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

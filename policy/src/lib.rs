//! The Kubewarden entry points: waPC functions that translate Kubewarden's wire format to and from
//! the rules crate. Everything that decides lives in `pod-security-rules`.

use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::wapc_guest::{self as guest, CallResult};
pub use pod_security_rules::{Cluster, Unlabelled};
use pod_security_rules::{
    RequestWithSettings, Settings, Verdict, strict, validate_json, validate_json_with_defaults,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

#[cfg(target_arch = "wasm32")]
mod host_cluster;

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    #[cfg(target_arch = "wasm32")]
    guest::register_function("validate", |payload| {
        validate(payload, &host_cluster::HostCluster::new())
    });
    guest::register_function("validate_settings", validate_settings);
    guest::register_function(
        "protocol_version",
        kubewarden_policy_sdk::protocol_version_guest,
    );
    guest::register_function("pod_security_checks", pod_security_checks);
}

/// One check of the registry, as `pod_security_checks` lists it.
#[derive(Serialize)]
struct CheckEntry {
    id: &'static str,
    level: &'static str,
    /// The minor versions its variants start at.
    versions: Vec<u32>,
    /// Baseline checks it replaces at restricted, by the variant that starts at `versions[i]`.
    overrides: Vec<&'static [&'static str]>,
}

/// Not part of Kubewarden's protocol (policy-server never calls it): the check registry as data,
/// so tools that run the module learn the checks from the module itself, as the harness's
/// conformance run learns the fixture prefixes.
fn pod_security_checks(_: &[u8]) -> CallResult {
    let entries: Vec<CheckEntry> = pod_security_rules::checks::REGISTRY
        .iter()
        .map(|check| CheckEntry {
            id: check.id,
            level: check.level.as_str(),
            versions: check.versions.iter().map(|v| v.minimum_minor).collect(),
            overrides: check.versions.iter().map(|v| v.overrides).collect(),
        })
        .collect();
    Ok(serde_json::to_vec(&entries)?)
}

/// The same payload in parts, read only to say which part of an unreadable payload is wrong.
#[derive(Deserialize)]
struct RawPayload<'a> {
    #[serde(borrow)]
    request: &'a RawValue,
    #[serde(borrow, default)]
    settings: Option<&'a RawValue>,
}

/// The `validate` operation: a payload in, a `ValidationResponse` out, as the module answers it,
/// with the cluster read through `cluster` (the host's, in the module).
pub fn validate(payload: &[u8], cluster: &dyn Cluster) -> CallResult {
    Ok(serde_json::to_vec(&validation_response(&verdict_for(
        payload, cluster,
    )))?)
}

/// The verdict on a `validate` payload; every failure becomes a rejection, never a guest error.
pub fn verdict_for(payload: &[u8], cluster: &dyn Cluster) -> Verdict {
    // What policy-server sends: the AdmissionRequest and the policy's settings, read in one pass.
    match RequestWithSettings::read(payload) {
        Ok(read) => match read_settings(read.settings) {
            // Defaulting needs the whole object, not the checks' view of it: read it again.
            Ok(settings) if settings.secure_defaults.is_some() => match strict::from_slice::<
                RawPayload,
            >(payload)
            {
                Ok(raw) => {
                    validate_json_with_defaults(raw.request.get().as_bytes(), &settings, cluster)
                }
                Err(_) => explain_unreadable(payload, cluster),
            },
            Ok(settings) => pod_security_rules::validate(read.request, &settings, cluster),
            Err(rejection) => rejection,
        },
        Err(_) => explain_unreadable(payload, cluster),
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
fn explain_unreadable(payload: &[u8], cluster: &dyn Cluster) -> Verdict {
    let payload: RawPayload = match strict::from_slice(payload) {
        Ok(payload) => payload,
        Err(err) => {
            return Verdict::bad_request(format!("cannot read the validation request: {err}"));
        }
    };
    match read_settings(payload.settings) {
        Ok(settings) => validate_json(payload.request.get().as_bytes(), &settings, cluster),
        Err(rejection) => rejection,
    }
}

/// Kubewarden's `ValidationResponse`, written from the verdict as it stands rather than through the
/// SDK's type, which would build and hash a `HashMap` per response (docs/performance.md); the JSON
/// is the same (a test reads it back as the SDK's type).
#[derive(Serialize)]
struct ValidationResponse<'a> {
    accepted: bool,
    message: Option<&'a str>,
    code: Option<u16>,
    mutated_object: Option<&'a serde_json::Value>,
    audit_annotations: Option<&'a BTreeMap<String, String>>,
    warnings: Option<&'a [String]>,
}

fn validation_response(verdict: &Verdict) -> ValidationResponse<'_> {
    ValidationResponse {
        accepted: verdict.allowed,
        message: verdict.message.as_deref(),
        code: verdict.code,
        mutated_object: verdict.mutated_object.as_ref(),
        audit_annotations: Some(&verdict.audit_annotations).filter(|a| !a.is_empty()),
        warnings: Some(verdict.warnings.as_slice()).filter(|w| !w.is_empty()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_listed_as_data() {
        let listed: serde_json::Value =
            serde_json::from_slice(&pod_security_checks(b"").unwrap()).unwrap();
        let listed = listed.as_array().unwrap();
        assert_eq!(listed.len(), pod_security_rules::checks::REGISTRY.len());
        let sysctls = listed
            .iter()
            .find(|check| check["id"] == "sysctls")
            .unwrap();
        assert_eq!(sysctls["level"], "baseline");
        assert_eq!(sysctls["versions"], serde_json::json!([0, 27, 29, 32, 37]));
        let volumes = listed
            .iter()
            .find(|check| check["id"] == "restrictedVolumes")
            .unwrap();
        assert_eq!(
            volumes["overrides"],
            serde_json::json!([["hostPathVolumes"]])
        );
    }

    /// The response reads back as the SDK's `ValidationResponse`, field for field.
    #[test]
    fn responses_are_the_sdks_wire_format() {
        let mut verdict = Verdict::allow();
        verdict
            .audit_annotations
            .insert("a".to_string(), "b".to_string());
        verdict.warnings.push("careful".to_string());
        verdict.deny_with("no".to_string());
        for verdict in [
            verdict,
            Verdict::allow(),
            Verdict::bad_request("x".to_string()),
        ] {
            let json = serde_json::to_value(validation_response(&verdict)).unwrap();
            let sdk: kubewarden_policy_sdk::response::ValidationResponse =
                serde_json::from_value(json.clone()).unwrap();
            assert_eq!(sdk.accepted, verdict.allowed);
            assert_eq!(sdk.message, verdict.message);
            assert_eq!(sdk.code, verdict.code);
            assert!(sdk.mutated_object.is_none());
            let annotations = sdk.audit_annotations.map(|a| a.into_iter().collect());
            assert_eq!(
                annotations,
                Some(verdict.audit_annotations.clone()).filter(|a: &BTreeMap<_, _>| !a.is_empty())
            );
            assert_eq!(
                sdk.warnings,
                Some(verdict.warnings.clone()).filter(|w| !w.is_empty())
            );
            let keys: Vec<&str> = json
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                [
                    "accepted",
                    "audit_annotations",
                    "code",
                    "message",
                    "mutated_object",
                    "warnings"
                ]
            );
        }
    }
}

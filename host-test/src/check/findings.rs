//! What a response says, check by check (`pod_security_manifests::findings` reads the messages).

pub use pod_security_manifests::findings::*;

use crate::run::evaluator::AdmissionResponse;

/// Every finding in a response: its denial, its warnings and its audit annotation.
pub fn findings(response: &AdmissionResponse) -> Vec<Finding> {
    let mut findings = Vec::new();
    if !response.allowed
        && let Some(message) = response.message()
    {
        findings.extend(parse_message(message, Severity::Deny));
    }
    for warning in response.warnings.iter().flatten() {
        findings.extend(parse_message(warning, Severity::Warn));
    }
    if let Some(audit) = response
        .audit_annotations
        .as_ref()
        .and_then(|annotations| annotations.get(AUDIT_VIOLATIONS))
    {
        findings.extend(parse_message(audit, Severity::Audit));
    }
    findings
}

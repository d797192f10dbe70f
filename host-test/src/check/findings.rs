//! What a response says, check by check (`pod_security_manifests::findings` reads the messages).

pub use pod_security_manifests::findings::*;

use crate::run::evaluator::AdmissionResponse;

/// Every finding in a response: its denial, its warnings and its audit annotation.
pub fn findings(response: &AdmissionResponse) -> Vec<Finding> {
    of_response(
        response.allowed,
        response.message(),
        response.warnings.as_deref().unwrap_or_default(),
        response
            .audit_annotations
            .as_ref()
            .and_then(|annotations| annotations.get(AUDIT_VIOLATIONS))
            .map(String::as_str),
    )
}

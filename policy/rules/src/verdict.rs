//! The outcome of a request in admission terms, which the entry points turn into Kubewarden's
//! `ValidationResponse`.

use std::collections::BTreeMap;

/// The prefix of PSA's audit annotation keys (`pod-security.kubernetes.io/enforce-policy`, …).
pub const ANNOTATION_PREFIX: &str = "pod-security.kubernetes.io/";

/// The outcome of reviewing one request, in admission terms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    pub allowed: bool,
    pub message: Option<String>,
    pub code: Option<u16>,
    pub warnings: Vec<String>,
    pub audit_annotations: BTreeMap<String, String>,
    /// The object with the secure defaults filled in, when the policy mutates it.
    pub mutated_object: Option<serde_json::Value>,
}

impl Verdict {
    pub fn allow() -> Self {
        Verdict {
            allowed: true,
            ..Verdict::default()
        }
    }

    /// A request the policy cannot read: rejected, never let through.
    pub fn bad_request(message: String) -> Self {
        Verdict {
            allowed: false,
            message: Some(message),
            code: Some(400),
            ..Verdict::default()
        }
    }
}

impl Verdict {
    /// An object the API server would call invalid (422), as PSA refuses a Namespace's bad labels.
    pub fn invalid(message: String) -> Self {
        Verdict {
            code: Some(422),
            ..Verdict::bad_request(message)
        }
    }

    /// Refused because something the decision needs could not be read (500), never let through.
    pub fn internal_error(message: String) -> Self {
        Verdict {
            code: Some(500),
            ..Verdict::bad_request(message)
        }
    }

    /// Allowed without evaluation because of an exemption, recorded as PSA records it.
    pub fn exempt(reason: &str) -> Self {
        let mut verdict = Verdict::allow();
        verdict
            .audit_annotations
            .insert(format!("{ANNOTATION_PREFIX}exempt"), reason.to_string());
        verdict
    }

    /// Turns an allowed verdict into a denial, keeping its audit annotations.
    pub fn deny_with(&mut self, message: String) {
        self.allowed = false;
        self.message = Some(message);
        self.code = Some(403);
    }
}

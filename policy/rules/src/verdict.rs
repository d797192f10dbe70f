use std::collections::BTreeMap;

/// The outcome of reviewing one request, in admission terms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    pub allowed: bool,
    pub message: Option<String>,
    pub code: Option<u16>,
    pub warnings: Vec<String>,
    pub audit_annotations: BTreeMap<String, String>,
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
    /// Allowed without evaluation because of an exemption, recorded as PSA records it.
    pub fn exempt(reason: &str) -> Self {
        let mut verdict = Verdict::allow();
        verdict.audit_annotations.insert(
            format!("{}exempt", crate::admission::ANNOTATION_PREFIX),
            reason.to_string(),
        );
        verdict
    }

    /// Turns an allowed verdict into a denial, keeping its audit annotations.
    pub fn deny_with(&mut self, message: String) {
        self.allowed = false;
        self.message = Some(message);
        self.code = Some(403);
    }
}

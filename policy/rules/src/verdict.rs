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

    pub fn deny(message: String) -> Self {
        Verdict {
            allowed: false,
            message: Some(message),
            code: Some(403),
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

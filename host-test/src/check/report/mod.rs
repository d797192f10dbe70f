//! The check's outcomes in the formats CI systems read: text for people, a documented JSON schema,
//! SARIF 2.1.0 for code scanning, JUnit for GitLab and Jenkins, and the PolicyReport that
//! Kubewarden's audit scanner writes.

mod json;
mod junit;
mod policy_report;
mod sarif;
mod text;

use super::Outcome;
use crate::ship::metadata::Metadata;

/// The output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Junit,
    #[value(name = "policyreport")]
    PolicyReport,
}

/// What reports say about the tool and the policy, from the module's metadata where it has one.
#[derive(Debug, Clone)]
pub struct ReportContext {
    /// The policy's title (`io.kubewarden.policy.title`), else the module's file name.
    pub policy_name: String,
    pub policy_version: Option<String>,
    /// `io.kubewarden.policy.url`.
    pub policy_url: Option<String>,
    /// `io.kubewarden.policy.severity` and `io.kubewarden.policy.category`.
    pub severity: Option<String>,
    pub category: Option<String>,
    /// Seconds since the epoch, for timestamps.
    pub now: u64,
    /// Whether text output may use colour (a terminal, and `NO_COLOR` unset).
    pub color: bool,
    /// The fixes placed in the manifests' text, for SARIF's `fixes`.
    pub fixes: Vec<TextFix>,
}

/// A fix as edits of a manifest's text: at each 1-based line and column, text to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFix {
    pub file: String,
    /// The object's line, as its outcome's location gives it.
    pub object_line: u64,
    pub inserts: Vec<(u64, u64, String)>,
}

impl TextFix {
    /// From insertions after 0-based lines of `text`: before the next line, or at the end of the
    /// last one.
    pub fn new(
        file: String,
        object_line: u64,
        text: &str,
        insertions: &[crate::check::fixes::Insertion],
    ) -> Self {
        let lines: Vec<&str> = text.lines().collect();
        let inserts = insertions
            .iter()
            .map(|insertion| match lines.get(insertion.after + 1) {
                Some(_) => (insertion.after as u64 + 2, 1, insertion.text.clone()),
                None => {
                    let last = lines
                        .get(insertion.after)
                        .map_or(0, |line| line.chars().count());
                    let body = insertion.text.trim_end_matches('\n');
                    (
                        insertion.after as u64 + 1,
                        last as u64 + 1,
                        format!("\n{body}"),
                    )
                }
            })
            .collect();
        TextFix {
            file,
            object_line,
            inserts,
        }
    }
}

impl ReportContext {
    /// From the module's metadata (its title names the policy, else `module_name` does), now.
    pub fn new(metadata: Option<&Metadata>, module_name: String, color: bool) -> Self {
        let annotation = |key: &str| Some(metadata?.annotation(key)?.to_string());
        ReportContext {
            policy_name: annotation("io.kubewarden.policy.title").unwrap_or(module_name),
            policy_version: annotation("io.kubewarden.policy.version"),
            policy_url: annotation("io.kubewarden.policy.url"),
            severity: annotation("io.kubewarden.policy.severity"),
            category: annotation("io.kubewarden.policy.category"),
            now: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs()),
            color,
            fixes: Vec::new(),
        }
    }
}

/// Renders `outcomes` in `format`.
pub fn render(format: Format, outcomes: &[Outcome], context: &ReportContext) -> String {
    match format {
        Format::Text => text::render(outcomes, context),
        Format::Json => json::render(outcomes, context),
        Format::Sarif => sarif::render(outcomes, context),
        Format::Junit => junit::render(outcomes, context),
        Format::PolicyReport => policy_report::render(outcomes, context),
    }
}

/// A file name as a relative URI reference: `/` separators, everything but unreserved characters
/// and `/` percent-encoded.
pub(crate) fn uri_of(file: &str) -> String {
    let mut uri = String::with_capacity(file.len());
    for byte in file.trim_start_matches("./").bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(byte as char)
            }
            b'\\' => uri.push('/'),
            _ => uri.push_str(&format!("%{byte:02X}")),
        }
    }
    uri
}

/// A short, stable hash of `parts` (32 hex digits), for identities that must survive runs.
pub(crate) fn short_hash(parts: &[&str]) -> String {
    use sha2::{Digest as _, Sha256};
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.finalize()[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests;

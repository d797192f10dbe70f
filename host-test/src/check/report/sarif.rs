//! SARIF 2.1.0, as GitHub code scanning reads it: one rule per Pod Security check and runtime
//! guard road, one result per finding at the file and line where its object starts.

use serde_json::{Value, json};

use super::{ReportContext, short_hash, uri_of};
use crate::check::Outcome;
use crate::check::catalogue::{self, RULES};
use crate::check::findings::Severity;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// GitHub ranks alerts by `security-severity` (0–10) on rules tagged `security`.
fn security_severity(severity: Option<&str>) -> &'static str {
    match severity {
        Some("critical") => "9.5",
        Some("medium") => "5.5",
        Some("low") => "3.0",
        _ => "8.0",
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Deny => "error",
        Severity::Warn => "warning",
        Severity::Audit => "note",
    }
}

/// The rule for documents that could not be read.
const INPUT_RULE: &str = "input";

pub fn render(outcomes: &[Outcome], context: &ReportContext) -> String {
    let mut rules: Vec<Value> = RULES
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": format!("{}. {}", rule.summary, rule.help)},
                "help": {
                    "text": rule.help,
                    "markdown": format!("**{}** ({}).\n\n{}", rule.summary, rule.family, rule.help),
                },
                "helpUri": catalogue::help_uri(rule, context.policy_url.as_deref()),
                "defaultConfiguration": {"level": "error"},
                "properties": {
                    "tags": ["security", "kubernetes", rule.family],
                    "security-severity": security_severity(context.severity.as_deref()),
                    "precision": "very-high",
                },
            })
        })
        .collect();
    rules.push(json!({
        "id": INPUT_RULE,
        "name": "UnreadableManifest",
        "shortDescription": {"text": "A manifest that could not be read"},
        "fullDescription": {"text": "A manifest that is not valid YAML or JSON, or not a Kubernetes object, cannot be checked."},
        "help": {"text": "Fix the document so that kubectl could apply it."},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["kubernetes"]},
    }));
    let rule_index = |id: &str| {
        RULES
            .iter()
            .position(|rule| rule.id == id)
            .unwrap_or(RULES.len())
    };

    let mut results = Vec::new();
    for outcome in outcomes {
        let location = outcome.location();
        let physical = json!({
            "physicalLocation": {
                "artifactLocation": {"uri": uri_of(&location.file), "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": location.line.max(1)},
            }
        });
        match outcome {
            Outcome::Checked {
                object, findings, ..
            } => {
                for finding in findings {
                    let rule = catalogue::find(&finding.rule);
                    let text = match &finding.level {
                        Some(level) => format!(
                            "{}: violates PodSecurity \"{level}\": {}",
                            object.display(),
                            finding.message
                        ),
                        None => format!("{}: {}", object.display(), finding.message),
                    };
                    let fingerprint =
                        short_hash(&[rule.id, &location.file, &object.display(), &finding.message]);
                    let mut result = json!({
                        "ruleId": rule.id,
                        "ruleIndex": rule_index(rule.id),
                        "level": level(finding.severity),
                        "message": {"text": text},
                        "locations": [physical],
                        "partialFingerprints": {"objectFinding/v1": fingerprint},
                    });
                    let fix = context
                        .fixes
                        .iter()
                        .find(|fix| fix.file == location.file && fix.object_line == location.line);
                    if let Some(fix) = fix.filter(|_| finding.severity == Severity::Deny) {
                        result["fixes"] = sarif_fix(fix);
                    }
                    results.push(result);
                }
            }
            Outcome::Error { message, .. } => results.push(json!({
                "ruleId": INPUT_RULE,
                "ruleIndex": RULES.len(),
                "level": "error",
                "message": {"text": message},
                "locations": [physical],
            })),
            Outcome::Skipped { .. } => {}
        }
    }
    let driver = json!({
        "name": context.policy_name,
        "version": context.policy_version.clone().unwrap_or_else(|| "0.0.0".to_string()),
        "informationUri": context.policy_url.clone().unwrap_or_else(|| catalogue::PSS_URI.to_string()),
        "rules": rules,
    });
    let report = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "automationDetails": {"id": format!("{}/", context.policy_name)},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&report).expect("a report always serializes");
    text.push('\n');
    text
}

/// The fix as SARIF's `fixes`: the lines `secureDefaults` would add, inserted where they go.
fn sarif_fix(fix: &super::TextFix) -> serde_json::Value {
    let replacements: Vec<serde_json::Value> = fix
        .inserts
        .iter()
        .map(|(line, column, text)| {
            json!({
                "deletedRegion": {"startLine": line, "startColumn": column, "endLine": line, "endColumn": column},
                "insertedContent": {"text": text},
            })
        })
        .collect();
    json!([{
        "description": {"text": "Add what the policy's secureDefaults would add (host-test check --fix writes it)"},
        "artifactChanges": [{
            "artifactLocation": {"uri": uri_of(&fix.file), "uriBaseId": "%SRCROOT%"},
            "replacements": replacements,
        }],
    }])
}

//! For people: grouped by file, one line per object (`file:line`, kind, namespace/name, verdict),
//! each violation on a line of its own in PSA's words, then a summary.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::ReportContext;
use crate::check::findings::Severity;
use crate::check::{Outcome, Summary, Verdict};

struct Styles {
    file: Style,
    denied: Style,
    warned: Style,
    allowed: Style,
    dim: Style,
}

impl Styles {
    fn new(color: bool) -> Self {
        let style = |style: Style| if color { style } else { Style::new() };
        Styles {
            file: style(Style::new().bold()),
            denied: style(AnsiColor::Red.on_default().bold()),
            warned: style(AnsiColor::Yellow.on_default().bold()),
            allowed: style(AnsiColor::Green.on_default()),
            dim: style(Style::new().dimmed()),
        }
    }
}

pub fn render(outcomes: &[Outcome], context: &ReportContext) -> String {
    let styles = Styles::new(context.color);
    let mut out = String::new();
    let mut current_file: Option<&str> = None;
    for outcome in outcomes {
        let location = outcome.location();
        if current_file != Some(location.file.as_str()) {
            current_file = Some(&location.file);
            let _ = writeln!(out, "{}{}{:#}", styles.file, location.file, styles.file);
        }
        let at = if location.line > 0 {
            format!("{}:{}", location.file, location.line)
        } else {
            location.file.clone()
        };
        match outcome {
            Outcome::Checked {
                object,
                verdict,
                findings,
                message,
                helm_source,
                fix,
                ..
            } => {
                let (style, word) = match verdict {
                    Verdict::Allowed => (styles.allowed, "allowed"),
                    Verdict::Warned => (styles.warned, "warned"),
                    Verdict::Denied => (styles.denied, "denied"),
                    Verdict::Failed => (styles.denied, "failed"),
                };
                let _ = write!(out, "  {at}  {}  {style}{word}{style:#}", object.display());
                if let Some(source) = helm_source {
                    let _ = write!(out, "  {}({source}){:#}", styles.dim, styles.dim);
                }
                out.push('\n');
                let mut last_heading = None;
                for finding in findings {
                    let heading = match (finding.severity, &finding.level) {
                        (Severity::Deny, Some(level)) => {
                            format!("violates PodSecurity \"{level}\":")
                        }
                        (Severity::Warn, Some(level)) => {
                            format!("warning: would violate PodSecurity \"{level}\":")
                        }
                        (Severity::Audit, Some(level)) => {
                            format!("audit: would violate PodSecurity \"{level}\":")
                        }
                        (Severity::Deny, None) if finding.rule == "policy" => {
                            "refused:".to_string()
                        }
                        (_, None) => "violates runtimeAccess:".to_string(),
                    };
                    if last_heading.as_ref() != Some(&heading) {
                        let _ = writeln!(out, "    {heading}");
                        last_heading = Some(heading);
                    }
                    let _ = writeln!(out, "      - {}", finding.message);
                }
                if findings.is_empty()
                    && let Some(message) = message
                {
                    let _ = writeln!(out, "    {message}");
                }
                if let Some(fix) = fix {
                    write_fix(&mut out, fix);
                }
            }
            Outcome::Skipped { object, .. } => {
                let _ = writeln!(
                    out,
                    "  {at}  {}  {}skipped (not a kind the policy checks){:#}",
                    object.display(),
                    styles.dim,
                    styles.dim
                );
            }
            Outcome::Error { message, .. } => {
                let _ = writeln!(
                    out,
                    "  {at}  {}error{:#}: {message}",
                    styles.denied, styles.denied
                );
            }
        }
    }
    let summary = Summary::of(outcomes);
    let _ = writeln!(
        out,
        "\n{} objects checked: {} allowed, {} denied, {} warned; {} skipped; {} errors",
        summary.checked,
        summary.allowed,
        summary.denied,
        summary.warned,
        summary.skipped,
        summary.errors
    );
    out
}

/// The fix as the YAML to add, each under the field it goes in.
fn write_fix(out: &mut String, patch: &serde_json::Value) {
    let _ = writeln!(out, "    fix: secureDefaults would add");
    for operation in patch.as_array().into_iter().flatten() {
        let (Some(path), Some(value)) = (
            operation.get("path").and_then(serde_json::Value::as_str),
            operation.get("value"),
        ) else {
            continue;
        };
        let _ = writeln!(out, "      {}:", crate::check::fixes::dotted(path));
        let yaml = crate::yaml::to_string(value).unwrap_or_else(|_| value.to_string());
        for line in yaml.lines() {
            let _ = writeln!(out, "        {line}");
        }
    }
}

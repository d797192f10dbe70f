//! What the policy's messages say, check by check: the module answers in Pod Security Admission's words
//! (`violates PodSecurity "restricted:latest": privileged (…), hostPort (…)`, then
//! `; violates runtimeAccess: …`), and reports want one finding per check.

use serde::Serialize;

/// PSA's audit annotation: violations of the audit level.
pub const AUDIT_VIOLATIONS: &str = "pod-security.kubernetes.io/audit-violations";

/// How bad a finding is for the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    /// Recorded by the audit level only.
    Audit,
    /// Allowed, with a warning.
    Warn,
    /// Rejected.
    Deny,
}

/// One check an object fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// The rule: a Pod Security check's id (`privileged`), `runtimeAccess.<road>`, or `policy` for
    /// an answer that names no check.
    pub rule: String,
    pub severity: Severity,
    /// `restricted:latest`, for Pod Security findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// The check's part of the message, in PSA's words: `privileged (container "app" must not …)`.
    pub message: String,
}

/// Every finding of a response: its denial, its warnings and its audit annotation's violations.
pub fn of_response(
    allowed: bool,
    message: Option<&str>,
    warnings: &[String],
    audit_violations: Option<&str>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if !allowed && let Some(message) = message {
        findings.extend(parse_message(message, Severity::Deny));
    }
    for warning in warnings {
        findings.extend(parse_message(warning, Severity::Warn));
    }
    if let Some(audit) = audit_violations {
        findings.extend(parse_message(audit, Severity::Audit));
    }
    findings
}

/// The findings of one message: a Pod Security part, a runtime guard part, or neither (then the
/// message is one finding of rule `policy`).
pub fn parse_message(message: &str, severity: Severity) -> Vec<Finding> {
    let mut findings = Vec::new();
    let (pod_security, runtime) = match message.find("violates runtimeAccess: ") {
        Some(at) => (
            &message[..at],
            Some(&message[at + "violates runtimeAccess: ".len()..]),
        ),
        None => (message, None),
    };
    if let Some((level, aggregate)) = pod_security_part(pod_security) {
        for reason in split_outside_quotes(aggregate, ", ") {
            findings.push(Finding {
                rule: check_id(reason, level).to_string(),
                severity,
                level: Some(level.to_string()),
                message: reason.to_string(),
            });
        }
    }
    if let Some(runtime) = runtime {
        for road in split_outside_quotes(runtime, "; ") {
            findings.push(Finding {
                rule: runtime_road(road).to_string(),
                severity,
                level: None,
                message: road.to_string(),
            });
        }
    }
    if findings.is_empty() {
        findings.push(Finding {
            rule: "policy".to_string(),
            severity,
            level: None,
            message: message.to_string(),
        });
    }
    findings
}

/// `LEVEL:VERSION` and the aggregate of `…violate(s) PodSecurity "LEVEL:VERSION": aggregate[; ]`.
fn pod_security_part(text: &str) -> Option<(&str, &str)> {
    // Both `violates PodSecurity "…"` (a denial) and `would violate PodSecurity "…"` (a warning).
    const MARK: &str = " PodSecurity \"";
    let start = text.find(MARK)? + MARK.len();
    let (level, aggregate) = text[start..].split_once("\": ")?;
    Some((level, aggregate.trim_end().trim_end_matches(';')))
}

/// Splits at `separator` where it stands outside double quotes and parentheses (details quote
/// names and paths, which may hold the separator).
fn split_outside_quotes<'a>(text: &'a str, separator: &str) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut escaped, mut start) = (0i32, false, false, 0);
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if quoted {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => quoted = false,
                _ => {}
            }
        } else {
            match byte {
                b'"' => quoted = true,
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ if depth == 0 && text[i..].starts_with(separator) => {
                    parts.push(&text[start..i]);
                    i += separator.len();
                    start = i;
                    continue;
                }
                _ => {}
            }
        }
        i += 1;
    }
    parts.push(&text[start..]);
    parts.retain(|part| !part.trim().is_empty());
    parts
}

/// The Pod Security check a reason comes from. Three reasons are shared by a baseline check and
/// the restricted check that overrides it; the level and version tell which was active.
fn check_id(reason: &str, level: &str) -> &'static str {
    let name = reason.split(" (").next().unwrap_or(reason);
    let (level_name, version) = level.split_once(':').unwrap_or((level, "latest"));
    let restricted_from = |minor: u32| {
        level_name == "restricted"
            && (version == "latest"
                || version
                    .strip_prefix("v1.")
                    .and_then(|minor| minor.parse::<u32>().ok())
                    .is_some_and(|got| got >= minor))
    };
    match name {
        "forbidden AppArmor profile" | "forbidden AppArmor profiles" => "appArmorProfile",
        "non-default capabilities" => "capabilities_baseline",
        "host namespaces" => "hostNamespaces",
        "hostPath volumes" => "hostPathVolumes",
        "hostPort" => "hostPorts",
        "probe or lifecycle host" => "hostProbesAndHostLifecycle",
        "privileged" => "privileged",
        "procMount" if restricted_from(35) => "procMount_restricted",
        "procMount" => "procMount",
        "seLinuxOptions" => "seLinuxOptions",
        "seccompProfile" if restricted_from(19) => "seccompProfile_restricted",
        "seccompProfile" => "seccompProfile_baseline",
        "forbidden sysctls" => "sysctls",
        "hostProcess" => "windowsHostProcess",
        "allowPrivilegeEscalation != false" => "allowPrivilegeEscalation",
        "unrestricted capabilities" => "capabilities_restricted",
        "restricted volume types" => "restrictedVolumes",
        "runAsNonRoot != true" => "runAsNonRoot",
        "runAsUser=0" => "runAsUser",
        _ => "podSecurity",
    }
}

/// The runtime guard's road a finding names.
fn runtime_road(text: &str) -> &'static str {
    if text.starts_with("volume \"") {
        "runtimeAccess.hostPath"
    } else if text.starts_with("container \"") {
        "runtimeAccess.subPath"
    } else if text.starts_with("hostPID=true") {
        "runtimeAccess.hostPID"
    } else if text.starts_with("hostPath path ") || text.starts_with("local path ") {
        "runtimeAccess.persistentVolume"
    } else {
        "runtimeAccess"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(message: &str) -> Vec<(String, String)> {
        parse_message(message, Severity::Deny)
            .into_iter()
            .map(|finding| (finding.rule, finding.message))
            .collect()
    }

    #[test]
    fn each_reason_is_a_finding_of_its_check() {
        assert_eq!(
            rules(
                r#"Deployment "web": violates PodSecurity "restricted:latest": privileged (containers "a", "b" must not set securityContext.privileged=true), seccompProfile (pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"), hostPort (container "a" uses hostPorts 80, 443)"#
            ),
            [
                (
                    "privileged".to_string(),
                    r#"privileged (containers "a", "b" must not set securityContext.privileged=true)"#.to_string()
                ),
                (
                    "seccompProfile_restricted".to_string(),
                    r#"seccompProfile (pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#.to_string()
                ),
                (
                    "hostPorts".to_string(),
                    r#"hostPort (container "a" uses hostPorts 80, 443)"#.to_string()
                ),
            ]
        );
    }

    #[test]
    fn shared_reasons_follow_the_level_and_version() {
        let rule = |message: &str| rules(message)[0].0.clone();
        assert_eq!(
            rule(r#"violates PodSecurity "baseline:latest": seccompProfile (x)"#),
            "seccompProfile_baseline"
        );
        assert_eq!(
            rule(r#"violates PodSecurity "restricted:v1.18": seccompProfile (x)"#),
            "seccompProfile_baseline"
        );
        assert_eq!(
            rule(r#"violates PodSecurity "restricted:v1.35": procMount (x)"#),
            "procMount_restricted"
        );
        assert_eq!(
            rule(r#"violates PodSecurity "restricted:v1.34": procMount (x)"#),
            "procMount"
        );
    }

    #[test]
    fn runtime_roads_follow_the_pod_security_part() {
        assert_eq!(
            rules(
                r#"violates PodSecurity "restricted:latest": restricted volume types (volume "v" uses restricted volume type "hostPath"); violates runtimeAccess: volume "v" mounts hostPath "/a; b/docker.sock", which reaches the Docker socket, by its name "docker.sock"; hostPID=true with privileged or SYS_ADMIN/SYS_PTRACE container "c" lets it enter the runtime's namespaces"#
            )
            .into_iter()
            .map(|(rule, _)| rule)
            .collect::<Vec<_>>(),
            [
                "restrictedVolumes",
                "runtimeAccess.hostPath",
                "runtimeAccess.hostPID"
            ]
        );
        assert_eq!(
            rules(r#"PersistentVolume "pv": violates runtimeAccess: local path "/var" reaches x"#)
                [0]
            .0,
            "runtimeAccess.persistentVolume"
        );
    }

    #[test]
    fn warnings_and_other_messages() {
        let findings = parse_message(
            r#"would violate PodSecurity "restricted:latest": runAsUser=0 (pod must not set runAsUser=0)"#,
            Severity::Warn,
        );
        assert_eq!(findings[0].rule, "runAsUser");
        assert_eq!(findings[0].level.as_deref(), Some("restricted:latest"));
        assert_eq!(
            rules("cannot read the pod: spec.containers: invalid type")[0].0,
            "policy"
        );
    }
}

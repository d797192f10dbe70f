//! The `PolicyReport` (wgpolicyk8s.io/v1alpha2) that Kubewarden's audit scanner writes: one report
//! per object, scoped to it (a `ClusterPolicyReport` for cluster-scoped objects), its results with
//! `source: kubewarden` and the policy as the audit scanner names a ClusterAdmissionPolicy, so the
//! dashboards that read cluster results read CI results too. The reports come as a `v1` `List`.

use serde_json::{Value, json};

use super::{ReportContext, short_hash};
use crate::check::findings::Severity;
use crate::check::{Outcome, Verdict};

pub fn render(outcomes: &[Outcome], context: &ReportContext) -> String {
    let reports: Vec<Value> = outcomes
        .iter()
        .filter_map(|outcome| report(outcome, context))
        .collect();
    let list = json!({"apiVersion": "v1", "kind": "List", "items": reports});
    let mut text = serde_json::to_string_pretty(&list).expect("a report always serializes");
    text.push('\n');
    text
}

fn report(outcome: &Outcome, context: &ReportContext) -> Option<Value> {
    let Outcome::Checked {
        location,
        object,
        verdict,
        findings,
        message,
        ..
    } = outcome
    else {
        return None;
    };
    let policy = format!("clusterwide-{}", context.policy_name);
    let result = |rule: &str, result: &str, message: &str| {
        let mut entry = json!({
            "source": "kubewarden",
            "policy": policy,
            "rule": rule,
            "result": result,
            "message": message,
            "timestamp": {"seconds": context.now, "nanos": 0},
            "scored": true,
            "properties": {
                "validating": "true",
                "file": location.file,
                "line": location.line.to_string(),
            },
        });
        if let Some(severity) = &context.severity {
            entry["severity"] = json!(severity);
        }
        if let Some(category) = &context.category {
            entry["category"] = json!(category);
        }
        entry
    };
    let results: Vec<Value> = if findings.is_empty() {
        let outcome = match verdict {
            Verdict::Failed => "error",
            _ => "pass",
        };
        vec![result("", outcome, message.as_deref().unwrap_or_default())]
    } else {
        findings
            .iter()
            .map(|finding| {
                let outcome = match (verdict, finding.severity) {
                    (Verdict::Failed, _) => "error",
                    (_, Severity::Deny) => "fail",
                    (_, Severity::Warn | Severity::Audit) => "warn",
                };
                let text = match &finding.level {
                    Some(level) => format!("violates PodSecurity \"{level}\": {}", finding.message),
                    None => format!("violates runtimeAccess: {}", finding.message),
                };
                result(&finding.rule, outcome, &text)
            })
            .collect()
    };
    let count = |wanted: &str| results.iter().filter(|r| r["result"] == wanted).count();
    let summary = json!({
        "pass": count("pass"),
        "fail": count("fail"),
        "warn": count("warn"),
        "error": count("error"),
        "skip": 0,
    });
    let name = format!(
        "check-{}",
        &short_hash(&[&object.api_version, &object.display()])[..16]
    );
    let mut metadata = json!({
        "name": name,
        "labels": {"app.kubernetes.io/managed-by": "restricted-pod-policy-check"},
    });
    let mut scope =
        json!({"apiVersion": object.api_version, "kind": object.kind, "name": object.name});
    let kind = match &object.namespace {
        Some(namespace) => {
            metadata["namespace"] = json!(namespace);
            scope["namespace"] = json!(namespace);
            "PolicyReport"
        }
        None => "ClusterPolicyReport",
    };
    Some(json!({
        "apiVersion": "wgpolicyk8s.io/v1alpha2",
        "kind": kind,
        "metadata": metadata,
        "scope": scope,
        "summary": summary,
        "results": results,
    }))
}

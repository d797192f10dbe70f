//! Evaluating a pod spec: the Pod Security levels (enforce, audit, warn) with PSA's exemptions,
//! then the runtime guard on top, assembled into one verdict.

use super::request::AdmissionRequest;
use crate::checks::{self, Forbidden};
use crate::level::LevelVersion;
use crate::pod::{ObjectMeta, PodSpec};
use crate::runtime_access;
use crate::settings::{ControllerMode, Settings};
use crate::verdict::{ANNOTATION_PREFIX, Verdict};

/// The Pod Security verdict, then the runtime guard, which holds where Pod Security is relaxed:
/// at `privileged`, for exempt users, namespaces and runtime classes, and for controllers in warn mode.
pub(super) fn evaluate_with_guard(
    request: &AdmissionRequest,
    settings: &Settings,
    metadata: &ObjectMeta,
    spec: &PodSpec,
    subject: Option<&str>,
) -> Verdict {
    let exemptions = &settings.exemptions;
    let username = request.user_info.as_ref().and_then(|u| u.username.as_ref());
    let mut verdict = if request.namespace.as_ref().is_some_and(|ns| {
        exemptions
            .namespaces
            .iter()
            .any(|exempt| ns == exempt.as_str())
    }) {
        Verdict::exempt("namespace")
    } else if username.is_some_and(|user| {
        exemptions
            .usernames
            .iter()
            .any(|exempt| user == exempt.as_str())
    }) {
        Verdict::exempt("user")
    } else {
        evaluate_pod(settings, metadata, spec, subject)
    };
    if settings
        .runtime_access
        .applies_in(request.namespace.as_deref())
    {
        let violations = runtime_access::check_pod(&settings.runtime_access, spec);
        deny_runtime_access(&mut verdict, subject, &violations);
    }
    verdict
}

/// Adds the guard's violations to a verdict: they deny it, after any Pod Security violation.
pub(super) fn deny_runtime_access(
    verdict: &mut Verdict,
    subject: Option<&str>,
    violations: &[String],
) {
    if violations.is_empty() {
        return;
    }
    let violated = format!("violates runtimeAccess: {}", violations.join("; "));
    if !verdict.allowed {
        let message = verdict.message.take().unwrap_or_default();
        verdict.deny_with(format!("{message}; {violated}"));
        return;
    }
    verdict.warnings.clear();
    match subject {
        Some(subject) => verdict.deny_with(format!("{subject}: {violated}")),
        None => verdict.deny_with(violated),
    }
}
/// Evaluates a pod (subject `None`) or a controller's pod template at the enforce, audit and warn
/// levels, as PSA's `EvaluatePod`.
fn evaluate_pod(
    settings: &Settings,
    metadata: &ObjectMeta,
    spec: &PodSpec,
    subject: Option<&str>,
) -> Verdict {
    let runtime_class = spec.runtime_class_name.as_ref();
    if runtime_class.is_some_and(|class| {
        settings
            .exemptions
            .runtime_classes
            .iter()
            .any(|exempt| class == exempt.as_str())
    }) {
        return Verdict::exempt("runtimeClass");
    }
    let mut evaluated: Vec<(LevelVersion, Vec<Forbidden>)> = Vec::new();
    let mut failures_at = |level_version: LevelVersion| -> String {
        if let Some((_, failures)) = evaluated.iter().find(|(at, _)| *at == level_version) {
            return checks::aggregate(failures);
        }
        let failures = checks::failures(level_version, metadata, spec);
        let text = checks::aggregate(&failures);
        evaluated.push((level_version, failures));
        text
    };

    let mut verdict = Verdict::allow();
    verdict.audit_annotations.insert(
        format!("{ANNOTATION_PREFIX}enforce-policy"),
        settings.enforce.to_string(),
    );
    let enforce = failures_at(settings.enforce);
    if !enforce.is_empty() {
        let violated = format!("PodSecurity \"{}\": {enforce}", settings.enforce);
        match (subject, settings.pod_controllers) {
            (None, _) => verdict.deny_with(format!("violates {violated}")),
            (Some(subject), ControllerMode::Enforce) => {
                verdict.deny_with(format!("{subject}: violates {violated}"))
            }
            (Some(subject), ControllerMode::Warn) => verdict
                .warnings
                .push(format!("{subject}: would violate {violated}")),
        }
    }
    if let Some(audit) = settings.audit {
        let failures = failures_at(audit);
        if !failures.is_empty() {
            verdict.audit_annotations.insert(
                format!("{ANNOTATION_PREFIX}audit-violations"),
                format!("would violate PodSecurity \"{audit}\": {failures}"),
            );
        }
    }
    // As PSA: no warnings on a request that is rejected anyway.
    if let Some(warn) = settings.warn.filter(|_| verdict.allowed) {
        let already_warned = subject.is_some() && warn == settings.enforce && !enforce.is_empty();
        let failures = failures_at(warn);
        if !failures.is_empty() && !already_warned {
            verdict
                .warnings
                .push(format!("would violate PodSecurity \"{warn}\": {failures}"));
        }
    }
    verdict
}

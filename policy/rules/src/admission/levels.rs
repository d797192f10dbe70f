//! Evaluating a pod spec: the Pod Security levels (enforce, audit, warn) with PSA's exemptions, at
//! the levels the namespace's labels set, then the runtime guard on top, assembled into one verdict.

use super::request::AdmissionRequest;
use crate::check_exemptions::{self, CheckExemption, Exempted};
use crate::checks::{self, Forbidden};
use crate::level::{Level, LevelVersion};
use crate::namespaces::{self, Cluster, LabelError, Policy, labels};
use crate::pod::{ObjectMeta, PodSpec};
use crate::runtime_access;
use crate::settings::{ControllerMode, Settings};
use crate::verdict::{ANNOTATION_PREFIX, Verdict};

/// The Pod Security verdict, then the runtime guard, which holds where Pod Security is relaxed:
/// at `privileged`, for exempt users, namespaces and runtime classes, and for controllers in warn mode.
pub(super) fn evaluate_with_guard(
    request: &AdmissionRequest,
    settings: &Settings,
    cluster: &dyn Cluster,
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
        match namespace_policy(request, settings, cluster) {
            Err(message) => Verdict::internal_error(message),
            // Nothing to evaluate, as PSA: allowed at once.
            Ok((policy, errors)) if errors.is_empty() && policy.fully_privileged() => {
                Verdict::allow()
            }
            Ok((policy, errors)) => {
                let exemptions: Vec<&CheckExemption> = settings
                    .check_exemptions
                    .iter()
                    .filter(|entry| entry.applies_to(request.namespace.as_deref(), metadata))
                    .collect();
                let pod = PodUnderPolicy {
                    metadata,
                    spec,
                    subject,
                    exemptions: &exemptions,
                };
                evaluate_pod(settings, &policy, &errors, &pod)
            }
        }
    };
    // A request refused because its namespace could not be read says only that.
    let refused_unread = verdict.code == Some(500);
    if !refused_unread
        && settings
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
/// A pod or pod template as the levels evaluate it, with the `checkExemptions` entries that apply.
#[derive(Clone, Copy)]
struct PodUnderPolicy<'p, 'a> {
    metadata: &'p ObjectMeta<'a>,
    spec: &'p PodSpec<'a>,
    subject: Option<&'p str>,
    exemptions: &'p [&'p CheckExemption],
}

/// The levels for the request's namespace: its labels over the defaults, or the defaults alone
/// when the policy does not read labels.
fn namespace_policy(
    request: &AdmissionRequest,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Result<(Policy, Vec<LabelError>), String> {
    if !settings.namespace_labels {
        return Ok((settings.defaults(), Vec::new()));
    }
    let name = request.namespace.as_deref().unwrap_or_default();
    if name.is_empty() {
        return Err("failed to lookup namespace \"\": the request names no namespace".to_string());
    }
    namespaces::namespace_policy(cluster, name, &settings.defaults())
}

/// Evaluates a pod (subject `None`) or a controller's pod template at the namespace's enforce,
/// audit and warn levels, as PSA's `EvaluatePod`.
fn evaluate_pod(
    settings: &Settings,
    policy: &Policy,
    label_errors: &[LabelError],
    pod: &PodUnderPolicy,
) -> Verdict {
    let PodUnderPolicy {
        metadata,
        spec,
        subject,
        exemptions,
    } = *pod;
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
    let mut lifted: Vec<Exempted> = Vec::new();
    let mut failures_at = |level_version: LevelVersion| -> String {
        if let Some((_, failures)) = evaluated.iter().find(|(at, _)| *at == level_version) {
            return checks::aggregate(failures);
        }
        let (failures, exempted) =
            check_exemptions::failures(level_version, metadata, spec, exemptions);
        for exempted in exempted {
            if !lifted.contains(&exempted) {
                lifted.push(exempted);
            }
        }
        let text = checks::aggregate(&failures);
        evaluated.push((level_version, failures));
        text
    };

    let mut verdict = Verdict::allow();
    if !label_errors.is_empty() {
        verdict.audit_annotations.insert(
            format!("{ANNOTATION_PREFIX}error"),
            format!(
                "Failed to parse policy: {}",
                labels::aggregate(label_errors)
            ),
        );
    }
    verdict.audit_annotations.insert(
        format!("{ANNOTATION_PREFIX}enforce-policy"),
        policy.enforce.to_string(),
    );
    let enforce = failures_at(policy.enforce);
    if !enforce.is_empty() {
        let violated = format!("PodSecurity \"{}\": {enforce}", policy.enforce);
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
    let on = |mode: &LevelVersion| mode.level != Level::Privileged;
    if let Some(audit) = Some(policy.audit).filter(on) {
        let failures = failures_at(audit);
        if !failures.is_empty() {
            verdict.audit_annotations.insert(
                format!("{ANNOTATION_PREFIX}audit-violations"),
                format!("would violate PodSecurity \"{audit}\": {failures}"),
            );
        }
    }
    // As PSA: no warnings on a request that is rejected anyway.
    if let Some(warn) = Some(policy.warn).filter(|warn| on(warn) && verdict.allowed) {
        let already_warned = subject.is_some() && warn == policy.enforce && !enforce.is_empty();
        let failures = failures_at(warn);
        if !failures.is_empty() && !already_warned {
            verdict
                .warnings
                .push(format!("would violate PodSecurity \"{warn}\": {failures}"));
        }
    }
    // Exempted violations are never silent.
    if !lifted.is_empty() {
        let described: Vec<String> = lifted.iter().map(Exempted::describe).collect();
        verdict.audit_annotations.insert(
            format!("{ANNOTATION_PREFIX}exempted-violations"),
            described.join("; "),
        );
    }
    verdict
}

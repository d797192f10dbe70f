//! A Namespace's own CREATE and UPDATE, as PSA's `ValidateNamespace`: invalid labels refused (on
//! UPDATE only when they changed, so an old namespace with a bad label can still be edited), a
//! warning when an exempt namespace sets a policy that will be ignored, and, when an UPDATE
//! tightens `enforce`, warnings about the existing pods the new level would refuse.

use super::existing_pods::existing_pod_warnings;
use super::labels::{self, LabelError, Policy};
use super::{Cluster, Namespace};
use crate::level::Level;
use crate::settings::Settings;
use crate::verdict::Verdict;

/// The two states of a namespace an admission request carries.
pub(crate) struct NamespaceChange<'r, 'a> {
    /// The request's `name`, else the object's.
    pub(crate) name: &'r str,
    pub(crate) new: &'r Namespace<'a>,
    /// On UPDATE.
    pub(crate) old: Option<&'r Namespace<'a>>,
}

pub(crate) fn validate_namespace(
    change: &NamespaceChange,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Verdict {
    let defaults = settings.defaults();
    let (new_policy, new_errors) = labels::policy_to_evaluate(change.new.labels(), &defaults);
    let exempt = settings
        .exemptions
        .namespaces
        .iter()
        .any(|exempt| exempt == change.name);
    let Some(old) = change.old else {
        if !new_errors.is_empty() {
            return invalid(change.name, &new_errors);
        }
        return exempt_warning(exempt, change, &new_policy, &defaults);
    };
    let (old_policy, old_errors) = labels::policy_to_evaluate(old.labels(), &defaults);
    if !new_errors.is_empty() && (old_errors.is_empty() || new_errors != old_errors) {
        return invalid(change.name, &new_errors);
    }
    let (new_enforce, old_enforce) = (new_policy.enforce, old_policy.enforce);
    let unchanged_or_relaxed = new_enforce == old_enforce
        || new_enforce.level == Level::Privileged
        || (new_enforce.version == old_enforce.version && new_enforce.level <= old_enforce.level);
    if unchanged_or_relaxed {
        return Verdict::allow();
    }
    if exempt {
        return exempt_warning(exempt, change, &new_policy, &defaults);
    }
    let mut verdict = Verdict::allow();
    verdict.warnings = existing_pod_warnings(cluster, change.name, new_enforce, settings);
    verdict
}

/// Refused as the API server refuses an invalid object (422), with every invalid label.
fn invalid(name: &str, errors: &[LabelError]) -> Verdict {
    Verdict::invalid(format!(
        "Namespace {name:?} is invalid: {}",
        labels::aggregate(errors)
    ))
}

/// PSA's `exemptNamespaceWarning`: an exempt namespace whose labels set a non-privileged mode that
/// differs from the defaults is told its policy will be ignored, naming the modes its labels set.
fn exempt_warning(
    exempt: bool,
    change: &NamespaceChange,
    policy: &Policy,
    defaults: &Policy,
) -> Verdict {
    let mut verdict = Verdict::allow();
    if !exempt || policy.fully_privileged() || policy.equivalent(defaults) {
        return verdict;
    }
    let labelled = change.new.labels();
    let modes = [
        (
            "enforce",
            policy.enforce,
            labels::ENFORCE_LEVEL,
            labels::ENFORCE_VERSION,
        ),
        (
            "audit",
            policy.audit,
            labels::AUDIT_LEVEL,
            labels::AUDIT_VERSION,
        ),
        (
            "warn",
            policy.warn,
            labels::WARN_LEVEL,
            labels::WARN_VERSION,
        ),
    ];
    let set: Vec<String> = modes
        .iter()
        .filter(|(_, mode, level_label, version_label)| {
            mode.level != Level::Privileged
                && (labelled.contains(level_label) || labelled.contains(version_label))
        })
        .map(|(name, mode, _, _)| format!("{name}={mode}"))
        .collect();
    if !set.is_empty() {
        verdict.warnings.push(format!(
            "namespace {:?} is exempt from Pod Security, and the policy ({}) will be ignored",
            change.name,
            set.join(", ")
        ));
    }
    verdict
}

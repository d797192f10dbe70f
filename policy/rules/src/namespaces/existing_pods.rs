//! PSA's `EvaluatePodsInNamespace`: when an UPDATE tightens a namespace's enforce level, the pods
//! already running there are checked against it and the ones it would refuse are named in
//! warnings. The update itself is never refused: pods keep running until they are replaced.

use super::Cluster;
use crate::check_exemptions::{self, CheckExemption};
use crate::checks;
use crate::level::LevelVersion;
use crate::pod::{Pod, null_as_default};
use crate::settings::Settings;
use crate::strict;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::time::Duration;

/// At most this many pods are checked, as PSA.
pub const MAX_PODS_TO_CHECK: usize = 3000;
/// For at most this long, listing included: PSA's limit, and half of policy-server's default
/// policy timeout (2 s), which is what PSA's "half the remaining time" comes to there.
pub const POD_CHECK_TIME: Duration = Duration::from_secs(1);

#[derive(Deserialize)]
struct PodList<'a> {
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    items: Vec<Pod<'a>>,
}

struct Violation {
    text: String,
    first_pod: String,
    pods: usize,
}

/// The warnings for the pods of `namespace` that `enforce` would refuse, in PSA's words and order.
/// Pods of the runtime classes PSA exempts are left out, and `checkExemptions` apply as they do when
/// a pod is admitted.
pub(super) fn existing_pod_warnings(
    cluster: &dyn Cluster,
    namespace: &str,
    enforce: LevelVersion,
    settings: &Settings,
) -> Vec<String> {
    let started = cluster.clock();
    const LIST_FAILED: &str = "failed to list pods while checking new PodSecurity enforce level";
    let Ok(listed) = cluster.pods(namespace) else {
        return vec![LIST_FAILED.to_string()];
    };
    let Ok(list) = strict::from_slice::<PodList>(&listed) else {
        return vec![LIST_FAILED.to_string()];
    };
    let pods = prioritized(list.items, &settings.exemptions.runtime_classes);
    let total = pods.len();

    // Each distinct violation once, with the lexically first pod showing it and how many do (few
    // distinct violations: a list is smaller in the module than a map, and as quick).
    let mut violations: Vec<Violation> = Vec::new();
    let mut checked = 0;
    for pod in pods.into_iter().take(MAX_PODS_TO_CHECK) {
        checked += 1;
        let name = pod.metadata.name.as_deref().unwrap_or_default().to_string();
        if let Some(spec) = &pod.spec {
            let entries: Vec<&CheckExemption> = settings
                .check_exemptions
                .iter()
                .filter(|entry| entry.applies_to(Some(namespace), &pod.metadata))
                .collect();
            let (failures, _) = check_exemptions::failures(enforce, &pod.metadata, spec, &entries);
            if !failures.is_empty() {
                let text = checks::aggregate(&failures);
                match violations.iter_mut().find(|seen| seen.text == text) {
                    Some(seen) => {
                        if name < seen.first_pod {
                            seen.first_pod = name;
                        }
                        seen.pods += 1;
                    }
                    None => violations.push(Violation {
                        text,
                        first_pod: name,
                        pods: 1,
                    }),
                }
            }
        }
        if cluster.clock().saturating_sub(started) >= POD_CHECK_TIME {
            break;
        }
    }

    let mut warnings = Vec::new();
    if checked < total {
        warnings.push(format!(
            "new PodSecurity enforce level only checked against the first {checked} of {total} existing pods"
        ));
    }
    if !violations.is_empty() {
        warnings.push(format!(
            "existing pods in namespace {namespace:?} violate the new PodSecurity enforce level \"{enforce}\""
        ));
    }
    let mut named: Vec<String> = violations
        .into_iter()
        .map(
            |Violation {
                 text,
                 first_pod,
                 pods,
             }| match pods {
                1 => format!("{first_pod}: {text}"),
                2 => format!("{first_pod} (and 1 other pod): {text}"),
                _ => format!("{first_pod} (and {} other pods): {text}", pods - 1),
            },
        )
        .collect();
    named.sort_unstable();
    warnings.extend(named);
    warnings
}

/// PSA's `prioritizePods`: pods of exempt runtime classes left out, then one pod per controlling
/// owner first and the other pods of the same owners after all of them, so a cut-short check sees
/// as many workloads as it can.
fn prioritized<'a>(pods: Vec<Pod<'a>>, exempt_runtime_classes: &[String]) -> Vec<Pod<'a>> {
    let mut first = Vec::with_capacity(pods.len());
    let mut replicas = Vec::new();
    let mut seen_controllers: BTreeSet<String> = BTreeSet::new();
    for pod in pods {
        let runtime_class = pod
            .spec
            .as_ref()
            .and_then(|spec| spec.runtime_class_name.as_deref());
        if runtime_class
            .is_some_and(|class| exempt_runtime_classes.iter().any(|exempt| exempt == class))
        {
            continue;
        }
        let replica = pod
            .metadata
            .controller
            .0
            .as_deref()
            .is_some_and(|uid| !seen_controllers.insert(uid.to_string()));
        if replica {
            replicas.push(pod);
        } else {
            first.push(pod);
        }
    }
    first.extend(replicas);
    first
}

#[cfg(test)]
mod tests;

//! Which requests a policy's `rules` may name, checked as policy-evaluator checks them (its
//! `policy_metadata.rs`), so `host-test annotate` accepts and refuses what `kwctl annotate` does.

use std::collections::BTreeSet;

use anyhow::ensure;

use super::{Operation, Rule};

/// policy-evaluator's message for a list holding `*` and something else.
const ASTERISK_NOT_ALONE: &str = "No other elements can be defined when '*' is used";

impl Rule {
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        for (field, values) in [
            ("apiGroups", &self.api_groups),
            ("apiVersions", &self.api_versions),
        ] {
            ensure!(!values.is_empty(), "{field}: at least one value is needed");
            ensure!(
                !(values.len() > 1 && values.iter().any(|value| value == "*")),
                "{field}: {ASTERISK_NOT_ALONE}"
            );
        }
        ensure!(
            !self.resources.is_empty(),
            "resources: at least one value is needed"
        );
        validate_resources(&self.resources)
            .map_err(|message| anyhow::anyhow!("resources: {message}"))?;
        ensure!(
            !self.operations.is_empty(),
            "operations: at least one value is needed"
        );
        ensure!(
            !(self.operations.len() > 1 && self.operations.contains(&Operation::All)),
            "operations: {ASTERISK_NOT_ALONE}"
        );
        Ok(())
    }
}

/// policy-evaluator's `validate_resources`, which transposes Kubernetes' `validateResources` for
/// webhook rules: `*` (every resource), `x/*` (every subresource of x), `*/y` (subresource y of
/// every resource) and `*/*` are all accepted, each refused only where it overlaps another entry.
///
/// Like both, it remembers only the last entry without a subresource (so `["*", "pods"]` is refused
/// and `["pods", "*"]` is not), checks an entry against the wildcards before it only, and leaves
/// the parts of `x/y` unchecked. The messages are policy-evaluator's, except that for an entry under
/// an earlier `x/*` it swaps the two names; Kubernetes' wording is used there.
fn validate_resources(resources: &[String]) -> Result<(), String> {
    // x, for each `x/*` seen
    let mut every_subresource_of = BTreeSet::new();
    // y, for each `*/y` seen
    let mut subresource_of_every_resource = BTreeSet::new();
    let mut has_double_wildcard = false;
    let mut has_single_wildcard = false;
    let mut has_resource_without_subresource = false;
    for resource in resources {
        if resource.is_empty() {
            return Err("empty resource is not allowed".to_string());
        }
        match resource.as_str() {
            "*/*" => has_double_wildcard = true,
            "*" => has_single_wildcard = true,
            _ => {}
        }
        let Some((name, subresource)) = resource.split_once('/') else {
            has_resource_without_subresource = resource != "*";
            continue;
        };
        if every_subresource_of.contains(name) {
            return Err(format!(
                "if '{name}/*' is present, must not specify {resource}"
            ));
        }
        if subresource_of_every_resource.contains(subresource) {
            return Err(format!(
                "if '*/{subresource}' is present, must not specify {resource}"
            ));
        }
        if subresource == "*" {
            every_subresource_of.insert(name);
        }
        if name == "*" {
            subresource_of_every_resource.insert(subresource);
        }
    }
    if resources.len() > 1 && has_double_wildcard {
        return Err("if '*/*' is present, must not specify other resources".to_string());
    }
    if has_single_wildcard && has_resource_without_subresource {
        return Err(
            "if '*' is present, must not specify other resources without subresources".to_string(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources(list: &[&str]) -> Vec<String> {
        list.iter().map(|resource| resource.to_string()).collect()
    }

    #[test]
    fn the_wildcard_forms_policy_evaluator_accepts_are_accepted() {
        for accepted in [
            &["*"][..],
            &["*", "apps/*", "*/scale"],
            &["*/*"],
            &["*/scale"],
            &["deployments/*"],
            &["pods", "pods/ephemeralcontainers", "deployments/scale"],
            &["*", "pods/status"],
            // Only the last entry without a subresource is remembered.
            &["pods", "*"],
            // An entry is only compared with the wildcards before it.
            &["pods/status", "pods/*"],
            &["pods/scale", "*/scale"],
            // The parts of `x/y` are not checked.
            &["pods/"],
            &["/scale"],
        ] {
            assert_eq!(
                validate_resources(&resources(accepted)),
                Ok(()),
                "{accepted:?}"
            );
        }
    }

    #[test]
    fn overlapping_wildcards_are_refused_with_policy_evaluators_messages() {
        for (refused, message) in [
            (&[""][..], "empty resource is not allowed"),
            (&["pods", ""], "empty resource is not allowed"),
            (
                &["*", "pods"],
                "if '*' is present, must not specify other resources without subresources",
            ),
            (
                &["*/*", "pods/status"],
                "if '*/*' is present, must not specify other resources",
            ),
            (
                &["pods", "*/*"],
                "if '*/*' is present, must not specify other resources",
            ),
            (
                &["pods/*", "pods/status"],
                "if 'pods/*' is present, must not specify pods/status",
            ),
            (
                &["*/scale", "deployments/scale"],
                "if '*/scale' is present, must not specify deployments/scale",
            ),
        ] {
            assert_eq!(
                validate_resources(&resources(refused)),
                Err(message.to_string()),
                "{refused:?}"
            );
        }
    }
}

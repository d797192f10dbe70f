//! Which requests a policy's `rules` may name, checked as policy-evaluator checks them.

use anyhow::ensure;

use super::{Operation, Rule};

impl Rule {
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        for (field, values) in [
            ("apiGroups", &self.api_groups),
            ("apiVersions", &self.api_versions),
            ("resources", &self.resources),
        ] {
            ensure!(!values.is_empty(), "{field}: at least one value is needed");
            ensure!(
                !(values.len() > 1 && values.iter().any(|value| value == "*")),
                "{field}: no other value may be given with \"*\""
            );
        }
        ensure!(
            !self.operations.is_empty(),
            "operations: at least one value is needed"
        );
        ensure!(
            !(self.operations.len() > 1 && self.operations.contains(&Operation::All)),
            "operations: no other value may be given with \"*\""
        );
        for resource in &self.resources {
            ensure!(
                !resource.is_empty() && resource.split('/').all(|part| !part.is_empty()),
                "resources: {resource:?} is not a resource or resource/subresource"
            );
        }
        Ok(())
    }
}

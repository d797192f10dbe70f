//! The Namespaces among the manifests: read before anything is evaluated, so the objects in them
//! are checked at the levels their `pod-security.kubernetes.io` labels set, as in the cluster.

use std::sync::Arc;

use anyhow::Context as _;
use serde_json::Value;

use super::manifests::{Input, split_input};
use crate::run::host_capabilities::ClusterState;

/// Reads standard input into memory when it is among the inputs, so it can be read twice.
pub fn buffer_standard_input(inputs: Vec<Input>) -> anyhow::Result<Vec<Input>> {
    inputs
        .into_iter()
        .map(|input| match input {
            Input::Stdin(name) => {
                let text = std::io::read_to_string(std::io::stdin())
                    .context("cannot read standard input")?;
                Ok(Input::Text(name, Arc::from(text)))
            }
            other => Ok(other),
        })
        .collect()
}

/// Adds every Namespace of `inputs` (alone or in a `List`) to `state`. Documents that cannot be
/// read are left to the check itself, which reports them.
pub fn add_input_namespaces(inputs: &[Input], state: &mut ClusterState) {
    for input in inputs {
        split_input(input, &mut |document| {
            let Ok(document) = document else { return };
            // Only documents that can hold one are parsed twice.
            if !document.text.contains("Namespace") {
                return;
            }
            let Ok(Some(parsed)) = crate::yaml::parse(&document.text) else {
                return;
            };
            for namespace in namespaces(parsed.value) {
                let _ = state.add(namespace);
            }
        });
    }
}

fn namespaces(value: Value) -> Vec<Value> {
    match value.get("kind").and_then(Value::as_str) {
        Some("Namespace") if value.get("apiVersion").and_then(Value::as_str) == Some("v1") => {
            vec![value]
        }
        Some(kind) if kind.ends_with("List") => match value {
            Value::Object(mut fields) => match fields.remove("items") {
                Some(Value::Array(items)) => items.into_iter().flat_map(namespaces).collect(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

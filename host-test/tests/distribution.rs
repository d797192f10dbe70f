//! The files users install the policy from agree with the module's metadata and the workspace.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{real_policy_module, workspace_file};
use host_test::PolicyEvaluator;
use host_test::ship::metadata::Metadata;
use serde_json::Value;

fn workspace_metadata() -> Metadata {
    Metadata::from_yaml_file(&workspace_file("metadata.yml")).unwrap()
}

/// Every Kubewarden policy manifest in examples/ (not the admission reviews below it).
fn example_manifests() -> Vec<(PathBuf, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(workspace_file("examples"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yaml")
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let manifest: Value = host_test::yaml::from_str(&text)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            (path, manifest)
        })
        .collect()
}

#[test]
fn the_metadata_version_is_the_workspace_version() {
    assert_eq!(
        workspace_metadata().annotation("io.kubewarden.policy.version"),
        Some(env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn the_examples_install_the_released_module_with_its_rules() {
    let metadata = workspace_metadata();
    let rules = serde_json::to_value(&metadata.rules).unwrap();
    let module = format!(
        "registry://{}:v{}",
        metadata.annotation("io.kubewarden.policy.ociUrl").unwrap(),
        env!("CARGO_PKG_VERSION")
    );
    let manifests = example_manifests();
    let mut kinds_and_modes: Vec<(String, String)> = Vec::new();
    for (path, manifest) in &manifests {
        let name = path.display();
        assert_eq!(
            manifest["apiVersion"], "policies.kubewarden.io/v1",
            "{name}"
        );
        let spec = &manifest["spec"];
        assert_eq!(
            spec["rules"], rules,
            "{name}: rules differ from metadata.yml"
        );
        assert_eq!(spec["mutating"], metadata.mutating, "{name}: mutating");
        // What the module reads from the cluster is granted where Kubewarden can grant it.
        if manifest["kind"] == "ClusterAdmissionPolicy" {
            assert_eq!(
                spec["contextAwareResources"],
                serde_json::to_value(&metadata.context_aware_resources).unwrap(),
                "{name}: contextAwareResources differ from metadata.yml"
            );
        }
        assert_eq!(spec["module"], module.as_str(), "{name}: module");
        kinds_and_modes.push((
            manifest["kind"].as_str().unwrap().to_string(),
            spec["mode"].as_str().unwrap_or("protect").to_string(),
        ));
    }
    for wanted in [
        ("ClusterAdmissionPolicy", "protect"),
        ("AdmissionPolicy", "protect"),
        ("ClusterAdmissionPolicy", "monitor"),
    ] {
        assert!(
            kinds_and_modes
                .iter()
                .any(|(kind, mode)| (kind.as_str(), mode.as_str()) == wanted),
            "no {wanted:?} among {kinds_and_modes:?}"
        );
    }
}

#[test]
fn the_example_settings_are_valid_for_the_real_policy() {
    let module = real_policy_module(Duration::from_secs(2));
    for (path, manifest) in example_manifests() {
        let settings = manifest["spec"]["settings"].clone();
        if let Err(error) = PolicyEvaluator::new(module.clone(), settings) {
            panic!("{}: {error:#}", path.display());
        }
    }
}

#[test]
fn the_cluster_wide_examples_exempt_the_system_namespaces() {
    for (path, manifest) in example_manifests() {
        if manifest["kind"] != "ClusterAdmissionPolicy" {
            continue;
        }
        let exempt = &manifest["spec"]["settings"]["exemptions"]["namespaces"];
        for namespace in [
            "kube-system",
            "kube-public",
            "kube-node-lease",
            "kubewarden",
        ] {
            assert!(
                exempt
                    .as_array()
                    .is_some_and(|list| list.iter().any(|item| item == namespace)),
                "{}: {namespace} is not exempt",
                path.display()
            );
        }
    }
}

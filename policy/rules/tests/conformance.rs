//! The Pod Security Admission conformance corpus, evaluated natively on the rules (the harness runs
//! the same corpus through the built module). Every fixture must agree.

use pod_security_rules::{Settings, review};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/psa-testdata")
}

/// The substring the corpus README expects in the denial, by file-name prefix.
fn expected_substring(prefix: &str) -> &str {
    match prefix {
        "allowprivilegeescalation" => "allowPrivilegeEscalation",
        "apparmorprofile" => "forbidden AppArmor profile",
        "capabilities_baseline" => "capabilities",
        "capabilities_restricted" => "unrestricted capabilities",
        "hostnamespaces" => "host namespaces",
        "hostpathvolumes" => "hostPath",
        "hostports" => "hostPort",
        "hostprobesandhostlifecycle" => "probe or lifecycle host",
        "privileged" => "privileged",
        "procmount" | "procmount_restricted" => "procMount",
        "restrictedvolumes" => "restricted volume types",
        "runasnonroot" => "runAsNonRoot",
        "runasuser" => "runAsUser",
        "selinuxoptions" => "seLinuxOptions",
        "seccompprofile_baseline" | "seccompprofile_restricted" => "seccompProfile",
        "sysctls" => "forbidden sysctl",
        "windowshostprocess" => "hostProcess",
        other => panic!("no expected substring for fixture prefix {other:?}"),
    }
}

/// The API server defaults a volume with no source to emptyDir before admission.
fn apply_defaults(pod: &mut Value) {
    if let Some(volumes) = pod
        .pointer_mut("/spec/volumes")
        .and_then(Value::as_array_mut)
    {
        for volume in volumes.iter_mut().filter_map(Value::as_object_mut) {
            if volume.keys().all(|key| key == "name") {
                volume.insert("emptyDir".into(), json!({}));
            }
        }
    }
}

#[test]
fn every_fixture_agrees() {
    let mut checked = 0;
    let mut disagreements = Vec::new();
    for level in ["baseline", "restricted"] {
        for minor in 0..=37 {
            let version = format!("v1.{minor}");
            let settings = Settings::from_value(
                &json!({"defaults": {"enforce": level, "enforce-version": version}}),
            )
            .expect("settings");
            for verdict_dir in ["pass", "fail"] {
                let dir = corpus().join(level).join(&version).join(verdict_dir);
                let mut files: Vec<_> = std::fs::read_dir(&dir)
                    .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                    .map(|entry| entry.unwrap().path())
                    .collect();
                files.sort();
                for file in files {
                    let mut pod: Value =
                        serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
                    apply_defaults(&mut pod);
                    let request = json!({"uid": "1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
                        "resource": {"group": "", "version": "v1", "resource": "pods"}, "operation": "CREATE",
                        "namespace": "default", "userInfo": {"username": "conformance"}, "object": pod});
                    let verdict = review(&serde_json::to_vec(&request).unwrap(), &settings);
                    checked += 1;
                    let message = verdict.message.clone().unwrap_or_default();
                    let name = file.file_stem().unwrap().to_str().unwrap();
                    let ok = if verdict_dir == "pass" {
                        verdict.allowed
                    } else {
                        let prefix = name.trim_end_matches(|c: char| c.is_ascii_digit());
                        !verdict.allowed
                            && message.contains(expected_substring(prefix))
                            && message.starts_with(&format!(
                                "violates PodSecurity \"{level}:{version}\": "
                            ))
                    };
                    if !ok {
                        disagreements.push(format!(
                            "{}: allowed={} {message}",
                            file.display(),
                            verdict.allowed
                        ));
                    }
                }
            }
        }
    }
    assert_eq!(checked, 4537, "the corpus has 4,537 fixtures");
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

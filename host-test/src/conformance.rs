//! The Pod Security Admission conformance run over the upstream fixture corpus.
//!
//! The corpus layout is `<level>/v1.<minor>/<pass|fail>/<check><index>.yaml`, each file a Pod (see
//! the corpus README). Upstream's `test/run.go` requires a pass fixture to be allowed and a fail
//! fixture to be denied with a message containing the check's substring, and never
//! "unknown forbidden reason".

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::run::evaluator::{AdmissionResponse, PolicyEvaluator};
use crate::run::input::read_document;
use crate::run::wapc_host::WapcModule;

/// Upstream's catch-all message, which a denial must never carry.
pub const UNKNOWN_REASON: &str = "unknown forbidden reason";

/// The substrings upstream's `test/run.go` expects in a denial, by check ID (the corpus README's
/// table); a check it gives none is expected by its ID, as upstream does.
const UPSTREAM_SUBSTRINGS: &[(&str, &str)] = &[
    ("appArmorProfile", "forbidden AppArmor profile"),
    ("capabilities_baseline", "capabilities"),
    ("capabilities_restricted", "unrestricted capabilities"),
    ("hostNamespaces", "host namespaces"),
    ("hostPathVolumes", "hostPath"),
    ("hostPorts", "hostPort"),
    ("hostProbesAndHostLifecycle", "probe or lifecycle host"),
    ("procMount", "procMount"),
    ("procMount_restricted", "procMount"),
    ("restrictedVolumes", "restricted volume types"),
    ("seccompProfile_baseline", "seccompProfile"),
    ("seccompProfile_restricted", "seccompProfile"),
    ("sysctls", "forbidden sysctl"),
    ("windowsHostProcess", "hostProcess"),
];

/// The substring a denial of a fixture for `check_id` must contain.
pub fn expected_denial_substring(check_id: &str) -> &str {
    UPSTREAM_SUBSTRINGS
        .iter()
        .find(|(id, _)| *id == check_id)
        .map_or(check_id, |(_, substring)| substring)
}

/// The checks the module's registry holds, as the module lists them (its `pod_security_checks`
/// function): a fixture's file name names its check by the lowercased ID, so a new check's
/// fixtures are understood as soon as the module has the check.
pub struct ModuleChecks(Vec<(String, String)>);

impl ModuleChecks {
    pub fn of(module: &WapcModule) -> anyhow::Result<Self> {
        #[derive(serde::Deserialize)]
        struct Listed {
            id: String,
        }
        let listed = module
            .call("pod_security_checks", b"")
            .map_err(|error| anyhow::anyhow!("{error}"))
            .context(
                "the module does not list its Pod Security checks (waPC pod_security_checks)",
            )?;
        let listed: Vec<Listed> = serde_json::from_slice(&listed)
            .context("the module's list of Pod Security checks cannot be read")?;
        Ok(ModuleChecks::new(listed.into_iter().map(|check| check.id)))
    }

    /// The checks with the fixture prefix of each: the ID, lowercased.
    fn new(ids: impl IntoIterator<Item = String>) -> Self {
        ModuleChecks(
            ids.into_iter()
                .map(|id| (id.to_ascii_lowercase(), id))
                .collect(),
        )
    }

    /// The check a fixture prefix names.
    pub fn by_prefix(&self, prefix: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(lowercased, _)| lowercased == prefix)
            .map(|(_, id)| id.as_str())
    }
}

/// The check prefix of a fixture file name: the name without `.yaml` and the trailing index.
pub fn check_prefix(file_name: &str) -> &str {
    let stem = file_name.strip_suffix(".yaml").unwrap_or(file_name);
    stem.trim_end_matches(|c: char| c.is_ascii_digit())
}

/// The API server's volume defaulting that upstream's fixtures go through: a volume with no
/// source (no key besides `name`) becomes an `emptyDir`.
pub fn apply_api_server_defaults(pod: &mut Value) {
    let Some(volumes) = pod
        .pointer_mut("/spec/volumes")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for volume in volumes.iter_mut().filter_map(Value::as_object_mut) {
        if volume.keys().all(|key| key == "name") {
            volume.insert("emptyDir".to_string(), json!({}));
        }
    }
}

/// A Pod CREATE AdmissionRequest for `pod`, as the API server would send it.
pub fn pod_create_request(pod: Value, uid: &str) -> Value {
    let name = pod
        .pointer("/metadata/name")
        .cloned()
        .unwrap_or(Value::Null);
    json!({
        "uid": uid,
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "namespace": "default",
        "name": name,
        "operation": "CREATE",
        "userInfo": {"username": "conformance"},
        "object": pod,
    })
}

/// The settings that enforce `level` at `version` (e.g. `restricted`, `v1.29`) in every namespace:
/// the corpus tests the checks, so no namespace's labels are read.
pub fn enforce_settings(level: &str, version: &str) -> Value {
    json!({"defaults": {"enforce": level, "enforce-version": version}, "namespaceLabels": false})
}

/// What a fixture must get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    Allowed,
    /// Denied, with a message containing the substring and never [`UNKNOWN_REASON`].
    Denied(String),
}

impl Expectation {
    /// Checks `response` and describes what it got when that is not what was expected.
    pub fn judge(&self, response: &AdmissionResponse) -> Result<(), String> {
        let message = response.message().unwrap_or_default();
        let agrees = match self {
            Self::Allowed => response.allowed,
            Self::Denied(substring) => {
                !response.allowed
                    && message.contains(substring)
                    && !message.contains(UNKNOWN_REASON)
            }
        };
        if agrees {
            Ok(())
        } else if response.allowed {
            Err("allowed".to_string())
        } else {
            Err(format!("denied: {message:?}"))
        }
    }

    pub fn describe(self) -> String {
        match self {
            Self::Allowed => "allowed".to_string(),
            Self::Denied(substring) => format!("denied with a message containing {substring:?}"),
        }
    }
}

/// One fixture whose verdict was not the expected one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// The fixture path relative to the corpus, or a whole version folder whose settings failed.
    pub fixture: PathBuf,
    pub expected: String,
    pub got: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConformanceSummary {
    pub passed: usize,
    pub failed: usize,
}

/// One `<level>/v1.<minor>` folder of the corpus.
struct VersionFolder {
    level: String,
    version: String,
    path: PathBuf,
}

/// Evaluates every fixture of `corpus` with `module`, one evaluator (settings validated once) per
/// level and version, and reports each disagreement to `report` as it is found.
pub fn run_conformance(
    module: &WapcModule,
    corpus: &Path,
    mut report: impl FnMut(&Disagreement),
) -> anyhow::Result<ConformanceSummary> {
    let mut summary = ConformanceSummary::default();
    let checks = ModuleChecks::of(module)?;
    for folder in version_folders(corpus)? {
        let fixtures = read_fixtures(&folder.path, &checks)?;
        let relative_folder = folder.path.strip_prefix(corpus).unwrap_or(&folder.path);
        let settings = enforce_settings(&folder.level, &folder.version);
        let evaluator = match PolicyEvaluator::new(module.clone(), settings) {
            Ok(evaluator) => evaluator,
            Err(error) => {
                // Every fixture of the folder fails, but one line says why.
                summary.failed += fixtures.len();
                report(&Disagreement {
                    fixture: relative_folder.to_path_buf(),
                    expected: "settings accepted".to_string(),
                    got: format!("{error:#}"),
                });
                continue;
            }
        };
        for (index, fixture) in fixtures.into_iter().enumerate() {
            let uid = format!("conformance-{}-{}-{index}", folder.level, folder.version);
            let response = evaluator.validate(&pod_create_request(fixture.pod, &uid));
            match fixture.expectation.judge(&response) {
                Ok(()) => summary.passed += 1,
                Err(got) => {
                    summary.failed += 1;
                    report(&Disagreement {
                        fixture: relative_folder.join(&fixture.relative_path),
                        expected: fixture.expectation.describe(),
                        got,
                    });
                }
            }
        }
    }
    Ok(summary)
}

/// The `<level>/v1.<minor>` folders, by level name and then by minor version.
fn version_folders(corpus: &Path) -> anyhow::Result<Vec<VersionFolder>> {
    let mut folders = Vec::new();
    for level_dir in subdirectories(corpus)? {
        let level = file_name(&level_dir)?;
        for version_dir in subdirectories(&level_dir)? {
            let version = file_name(&version_dir)?;
            let minor: u32 = version
                .strip_prefix("v1.")
                .and_then(|minor| minor.parse().ok())
                .with_context(|| format!("{} is not a v1.<minor> folder", version_dir.display()))?;
            folders.push((level.clone(), minor, version, version_dir));
        }
    }
    if folders.is_empty() {
        bail!(
            "{} holds no <level>/v1.<minor> folders: not a conformance corpus",
            corpus.display()
        );
    }
    folders.sort();
    Ok(folders
        .into_iter()
        .map(|(level, _, version, path)| VersionFolder {
            level,
            version,
            path,
        })
        .collect())
}

struct Fixture {
    /// `pass/<name>.yaml` or `fail/<name>.yaml`.
    relative_path: PathBuf,
    expectation: Expectation,
    pod: Value,
}

/// The fixtures under `pass/` and `fail/` of a version folder, sorted by name, defaulted.
fn read_fixtures(version_dir: &Path, checks: &ModuleChecks) -> anyhow::Result<Vec<Fixture>> {
    let mut fixtures = Vec::new();
    for verdict in ["pass", "fail"] {
        let verdict_dir = version_dir.join(verdict);
        if !verdict_dir.is_dir() {
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&verdict_dir)
            .with_context(|| format!("cannot list {}", verdict_dir.display()))?
            .map(|entry| entry.map(|entry| entry.path()))
            .collect::<Result<_, _>>()
            .with_context(|| format!("cannot list {}", verdict_dir.display()))?;
        files.retain(|file| {
            file.extension()
                .is_some_and(|extension| extension == "yaml")
        });
        files.sort();
        for file in files {
            let name = file_name(&file)?;
            let expectation = if verdict == "pass" {
                Expectation::Allowed
            } else {
                let prefix = check_prefix(&name);
                let check = checks.by_prefix(prefix).with_context(|| {
                    format!(
                        "{}: a fixture for check {prefix:?}, which the module's registry does not have",
                        file.display()
                    )
                })?;
                Expectation::Denied(expected_denial_substring(check).to_string())
            };
            let mut pod = read_document(&file)?;
            apply_api_server_defaults(&mut pod);
            fixtures.push(Fixture {
                relative_path: Path::new(verdict).join(&name),
                expectation,
                pod,
            });
        }
    }
    Ok(fixtures)
}

fn subdirectories(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut directories = Vec::new();
    for entry in
        std::fs::read_dir(path).with_context(|| format!("cannot list {}", path.display()))?
    {
        let entry = entry.with_context(|| format!("cannot list {}", path.display()))?;
        if entry.path().is_dir() {
            directories.push(entry.path());
        }
    }
    Ok(directories)
}

fn file_name(path: &Path) -> anyhow::Result<String> {
    path.file_name()
        .and_then(|name| name.to_str())
        .map(str::to_string)
        .with_context(|| format!("{} has no UTF-8 file name", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_prefix_drops_the_index_and_extension() {
        assert_eq!(check_prefix("runasnonroot12.yaml"), "runasnonroot");
        assert_eq!(
            check_prefix("seccompprofile_restricted0.yaml"),
            "seccompprofile_restricted"
        );
        assert_eq!(check_prefix("base.yaml"), "base");
        assert_eq!(check_prefix("base_linux.yaml"), "base_linux");
    }

    #[test]
    fn upstream_substrings_else_the_check_id() {
        assert_eq!(
            expected_denial_substring("procMount_restricted"),
            "procMount"
        );
        assert_eq!(
            expected_denial_substring("capabilities_restricted"),
            "unrestricted capabilities"
        );
        assert_eq!(expected_denial_substring("runAsNonRoot"), "runAsNonRoot");
        assert_eq!(expected_denial_substring("aNewCheck"), "aNewCheck");
    }

    #[test]
    fn a_fixture_prefix_names_a_check_of_the_module() {
        let checks = ModuleChecks::new(["procMount".into(), "procMount_restricted".into()]);
        assert_eq!(
            checks.by_prefix("procmount_restricted"),
            Some("procMount_restricted")
        );
        assert_eq!(checks.by_prefix("procmount"), Some("procMount"));
        assert_eq!(checks.by_prefix("sysctls"), None);
    }

    #[test]
    fn a_volume_without_source_becomes_an_empty_dir() {
        let mut pod = json!({"spec": {"volumes": [
            {"name": "volume0"},
            {"name": "volume1", "hostPath": {"path": "/"}},
        ]}});
        apply_api_server_defaults(&mut pod);
        assert_eq!(
            pod,
            json!({"spec": {"volumes": [
                {"name": "volume0", "emptyDir": {}},
                {"name": "volume1", "hostPath": {"path": "/"}},
            ]}})
        );
        let mut without_volumes = json!({"spec": {}});
        apply_api_server_defaults(&mut without_volumes);
        assert_eq!(without_volumes, json!({"spec": {}}));
    }

    #[test]
    fn the_request_wraps_the_pod_as_a_create() {
        let pod = json!({"metadata": {"name": "base"}, "spec": {}});
        let request = pod_create_request(pod.clone(), "u");
        assert_eq!(request["operation"], "CREATE");
        assert_eq!(request["name"], "base");
        assert_eq!(request["resource"]["resource"], "pods");
        assert_eq!(request["object"], pod);
    }

    fn response(allowed: bool, message: Option<&str>) -> AdmissionResponse {
        let mut response = AdmissionResponse::rejection("u", String::new(), 403);
        response.allowed = allowed;
        response.status.as_mut().unwrap().message = message.map(str::to_string);
        response
    }

    #[test]
    fn a_denial_must_name_the_check_and_not_be_unknown() {
        let expectation = Expectation::Denied("procMount".to_string());
        assert_eq!(
            expectation.judge(&response(false, Some("forbidden procMount"))),
            Ok(())
        );
        assert_eq!(
            expectation.judge(&response(true, None)),
            Err("allowed".to_string())
        );
        assert_eq!(
            expectation.judge(&response(false, Some("hostPath"))),
            Err(r#"denied: "hostPath""#.to_string())
        );
        assert!(
            expectation
                .judge(&response(
                    false,
                    Some("procMount, unknown forbidden reason")
                ))
                .is_err()
        );
        assert_eq!(Expectation::Allowed.judge(&response(true, None)), Ok(()));
        assert!(Expectation::Allowed.judge(&response(false, None)).is_err());
    }
}

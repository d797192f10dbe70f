//! A narrow, read-only view of a Pod: only the fields the checks read, so parsing skips the rest.
//! Field names follow the Kubernetes API (camelCase); absent and `null` both read as unset.

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pod {
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Option<PodSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    pub name: Option<String>,
    pub namespace: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(default, deserialize_with = "null_as_default")]
    pub init_containers: Vec<Container>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub containers: Vec<Container>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ephemeral_containers: Vec<Container>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub volumes: Vec<Volume>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub host_network: bool,
    #[serde(default, rename = "hostPID", deserialize_with = "null_as_default")]
    pub host_pid: bool,
    #[serde(default, rename = "hostIPC", deserialize_with = "null_as_default")]
    pub host_ipc: bool,
    pub host_users: Option<bool>,
    pub os: Option<PodOs>,
    pub runtime_class_name: Option<String>,
    pub security_context: Option<PodSecurityContext>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PodOs {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurityContext {
    pub run_as_non_root: Option<bool>,
    pub run_as_user: Option<i64>,
    pub se_linux_options: Option<SeLinuxOptions>,
    pub seccomp_profile: Option<Profile>,
    pub app_armor_profile: Option<Profile>,
    pub windows_options: Option<WindowsOptions>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub sysctls: Vec<Sysctl>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Sysctl {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    pub image: Option<String>,
    pub security_context: Option<SecurityContext>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ports: Vec<ContainerPort>,
    pub liveness_probe: Option<Handler>,
    pub readiness_probe: Option<Handler>,
    pub startup_probe: Option<Handler>,
    pub lifecycle: Option<Lifecycle>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub volume_mounts: Vec<VolumeMount>,
    /// Read to resolve `subPathExpr` variables.
    #[serde(default, deserialize_with = "null_as_default")]
    pub env: Vec<EnvVar>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub sub_path: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub sub_path_expr: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct EnvVar {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    pub value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityContext {
    pub privileged: Option<bool>,
    pub allow_privilege_escalation: Option<bool>,
    pub capabilities: Option<Capabilities>,
    pub proc_mount: Option<String>,
    pub run_as_non_root: Option<bool>,
    pub run_as_user: Option<i64>,
    pub se_linux_options: Option<SeLinuxOptions>,
    pub seccomp_profile: Option<Profile>,
    pub app_armor_profile: Option<Profile>,
    pub windows_options: Option<WindowsOptions>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Capabilities {
    #[serde(default, deserialize_with = "null_as_default")]
    pub add: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub drop: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SeLinuxOptions {
    #[serde(default, deserialize_with = "null_as_default")]
    pub user: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub role: String,
    #[serde(default, rename = "type", deserialize_with = "null_as_default")]
    pub type_: String,
}

/// A seccomp or AppArmor profile: only its type is checked.
#[derive(Debug, Default, Deserialize)]
pub struct Profile {
    #[serde(default, rename = "type", deserialize_with = "null_as_default")]
    pub type_: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowsOptions {
    pub host_process: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    #[serde(default, deserialize_with = "null_as_default")]
    pub host_port: i32,
}

/// A probe or a lifecycle handler: both carry `httpGet` and `tcpSocket`, whose `host` is checked.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handler {
    pub http_get: Option<HostField>,
    pub tcp_socket: Option<HostField>,
}

#[derive(Debug, Default, Deserialize)]
pub struct HostField {
    #[serde(default, deserialize_with = "null_as_default")]
    pub host: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lifecycle {
    pub post_start: Option<Handler>,
    pub pre_stop: Option<Handler>,
}

/// A volume: its name, its hostPath (read in full), and the names of every other source it sets.
#[derive(Debug, Default)]
pub struct Volume {
    pub name: String,
    pub host_path: Option<HostPathSource>,
    /// Keys other than `name` whose value is not `null`, in document order (`hostPath` included).
    pub sources: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct HostPathSource {
    #[serde(default, deserialize_with = "null_as_default")]
    pub path: String,
}

impl<'de> Deserialize<'de> for Volume {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct VolumeVisitor;

        impl<'de> Visitor<'de> for VolumeVisitor {
            type Value = Volume;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a volume object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Volume, A::Error> {
                let mut volume = Volume::default();
                let mut seen_name = false;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "name" {
                        if seen_name {
                            return Err(de::Error::duplicate_field("name"));
                        }
                        seen_name = true;
                        volume.name = map.next_value::<Option<String>>()?.unwrap_or_default();
                        continue;
                    }
                    if volume.sources.contains(&key) {
                        return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
                    }
                    let present = if key == "hostPath" {
                        volume.host_path = map.next_value()?;
                        volume.host_path.is_some()
                    } else {
                        map.next_value::<Option<SourceObject>>()?.is_some()
                    };
                    if present {
                        volume.sources.push(key);
                    }
                }
                Ok(volume)
            }
        }

        deserializer.deserialize_map(VolumeVisitor)
    }
}

/// A volume source other than hostPath: any object (its content is not read), never a scalar or list.
struct SourceObject;

impl<'de> Deserialize<'de> for SourceObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SourceVisitor;

        impl<'de> Visitor<'de> for SourceVisitor {
            type Value = SourceObject;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a volume source object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SourceObject, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(SourceObject)
            }
        }

        deserializer.deserialize_map(SourceVisitor)
    }
}

/// Kubernetes treats `null` like an absent field; serde's `default` only covers absence.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl PodSpec {
    /// Every container the pod runs, in the order the reference visits them:
    /// initContainers, then containers, then ephemeralContainers.
    pub fn all_containers(&self) -> impl Iterator<Item = &Container> {
        self.init_containers
            .iter()
            .chain(&self.containers)
            .chain(&self.ephemeral_containers)
    }

    /// `spec.os.name == "windows"`: the restricted checks that cannot apply to Windows skip these from v1.25.
    pub fn is_windows(&self) -> bool {
        self.os.as_ref().is_some_and(|os| os.name == "windows")
    }

    /// The pod runs in a user namespace (`hostUsers: false`), which relaxes some checks from v1.35.
    pub fn uses_user_namespace(&self) -> bool {
        self.host_users == Some(false)
    }
}

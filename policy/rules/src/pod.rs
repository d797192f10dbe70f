//! A narrow, read-only view of a Pod: only the fields the checks read, so parsing skips the rest.
//! Field names follow the Kubernetes API (camelCase); absent and `null` both read as unset.

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::borrow::{Borrow, Cow};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pod<'a> {
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub metadata: ObjectMeta<'a>,
    #[serde(borrow, default)]
    pub spec: Option<PodSpec<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta<'a> {
    #[serde(borrow)]
    pub name: Option<Text<'a>>,
    #[serde(borrow)]
    pub namespace: Option<Text<'a>>,
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub annotations: Annotations<'a>,
    /// Read for the label selectors of `checkExemptions`.
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub labels: Labels<'a>,
    /// The UID of the owner that controls the object (`metav1.GetControllerOf`): PSA checks one pod
    /// per controller first when a namespace's level is tightened.
    #[serde(borrow, default, rename = "ownerReferences")]
    pub controller: ControllerUid<'a>,
}

/// An object's labels, as written (a list: few, read once, and smaller in the module than a map).
#[derive(Debug, Clone, Default)]
pub struct Labels<'a>(Vec<(Text<'a>, Text<'a>)>);

impl Labels<'_> {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| &**value)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Labels<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LabelsVisitor<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for LabelsVisitor<'a> {
            type Value = Labels<'a>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of labels")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Labels<'a>, A::Error> {
                let mut labels = Vec::new();
                while let Some(entry) = map.next_entry::<Text<'a>, Text<'a>>()? {
                    labels.push(entry);
                }
                Ok(Labels(labels))
            }
        }

        deserializer.deserialize_map(LabelsVisitor(PhantomData))
    }
}

/// Read from `ownerReferences`: the `uid` of the entry with `controller: true`, the rest skipped.
#[derive(Debug, Clone, Default)]
pub struct ControllerUid<'a>(pub Option<Text<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for ControllerUid<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct OwnerReference<'a> {
            #[serde(borrow, default)]
            uid: Option<Text<'a>>,
            #[serde(default)]
            controller: Option<bool>,
        }

        struct OwnersVisitor<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for OwnersVisitor<'a> {
            type Value = ControllerUid<'a>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of owner references")
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ControllerUid(None))
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut controller = None;
                while let Some(owner) = seq.next_element::<OwnerReference<'a>>()? {
                    if owner.controller == Some(true) && controller.is_none() {
                        controller = owner.uid;
                    }
                }
                Ok(ControllerUid(controller))
            }
        }

        deserializer.deserialize_any(OwnersVisitor(PhantomData))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec<'a> {
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub init_containers: Vec<Container<'a>>,
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub containers: Vec<Container<'a>>,
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub ephemeral_containers: Vec<Container<'a>>,
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub volumes: Vec<Volume<'a>>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub host_network: bool,
    #[serde(default, rename = "hostPID", deserialize_with = "null_as_default")]
    pub host_pid: bool,
    #[serde(default, rename = "hostIPC", deserialize_with = "null_as_default")]
    pub host_ipc: bool,
    pub host_users: Option<bool>,
    #[serde(borrow)]
    pub os: Option<PodOs<'a>>,
    #[serde(borrow)]
    pub runtime_class_name: Option<Text<'a>>,
    #[serde(borrow)]
    pub security_context: Option<PodSecurityContext<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PodOs<'a> {
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub name: Text<'a>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurityContext<'a> {
    pub run_as_non_root: Option<bool>,
    pub run_as_user: Option<i64>,
    #[serde(borrow)]
    pub se_linux_options: Option<SeLinuxOptions<'a>>,
    #[serde(borrow)]
    pub seccomp_profile: Option<Profile<'a>>,
    #[serde(borrow)]
    pub app_armor_profile: Option<Profile<'a>>,
    pub windows_options: Option<WindowsOptions>,
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub sysctls: Vec<Sysctl<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Sysctl<'a> {
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub name: Text<'a>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container<'a> {
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub name: Text<'a>,
    #[serde(borrow)]
    pub image: Option<Text<'a>>,
    #[serde(borrow)]
    pub security_context: Option<SecurityContext<'a>>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ports: Vec<ContainerPort>,
    #[serde(borrow)]
    pub liveness_probe: Option<Handler<'a>>,
    #[serde(borrow)]
    pub readiness_probe: Option<Handler<'a>>,
    #[serde(borrow)]
    pub startup_probe: Option<Handler<'a>>,
    #[serde(borrow)]
    pub lifecycle: Option<Lifecycle<'a>>,
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub volume_mounts: Vec<VolumeMount<'a>>,
    /// Read to resolve `subPathExpr` variables.
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub env: Vec<EnvVar<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount<'a> {
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub name: Text<'a>,
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub sub_path: Text<'a>,
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub sub_path_expr: Text<'a>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub read_only: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EnvVar<'a> {
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub name: Text<'a>,
    #[serde(borrow)]
    pub value: Option<Text<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityContext<'a> {
    pub privileged: Option<bool>,
    pub allow_privilege_escalation: Option<bool>,
    #[serde(borrow)]
    pub capabilities: Option<Capabilities<'a>>,
    #[serde(borrow)]
    pub proc_mount: Option<Text<'a>>,
    pub run_as_non_root: Option<bool>,
    pub run_as_user: Option<i64>,
    #[serde(borrow)]
    pub se_linux_options: Option<SeLinuxOptions<'a>>,
    #[serde(borrow)]
    pub seccomp_profile: Option<Profile<'a>>,
    #[serde(borrow)]
    pub app_armor_profile: Option<Profile<'a>>,
    pub windows_options: Option<WindowsOptions>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Capabilities<'a> {
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub add: Vec<Text<'a>>,
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub drop: Vec<Text<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SeLinuxOptions<'a> {
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub user: Text<'a>,
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub role: Text<'a>,
    #[serde(borrow, default, rename = "type", deserialize_with = "null_as_default")]
    pub type_: Text<'a>,
}

/// A seccomp or AppArmor profile: only its type is checked.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Profile<'a> {
    #[serde(borrow, default, rename = "type", deserialize_with = "null_as_default")]
    pub type_: Text<'a>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowsOptions {
    pub host_process: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    #[serde(default, deserialize_with = "null_as_default")]
    pub host_port: i32,
}

/// A probe or a lifecycle handler: both carry `httpGet` and `tcpSocket`, whose `host` is checked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handler<'a> {
    #[serde(borrow)]
    pub http_get: Option<HostField<'a>>,
    #[serde(borrow)]
    pub tcp_socket: Option<HostField<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HostField<'a> {
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub host: Text<'a>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lifecycle<'a> {
    #[serde(borrow)]
    pub post_start: Option<Handler<'a>>,
    #[serde(borrow)]
    pub pre_stop: Option<Handler<'a>>,
}

/// A volume: its name, its hostPath (read in full), and the names of every other source it sets.
#[derive(Debug, Clone, Default)]
pub struct Volume<'a> {
    pub name: Text<'a>,
    pub host_path: Option<HostPathSource<'a>>,
    /// Keys other than `name` whose value is not `null`, in document order (`hostPath` included).
    pub sources: Vec<Text<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HostPathSource<'a> {
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub path: Text<'a>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Volume<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct VolumeVisitor<'a>(PhantomData<Volume<'a>>);

        impl<'de: 'a, 'a> Visitor<'de> for VolumeVisitor<'a> {
            type Value = Volume<'a>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a volume object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Volume<'a>, A::Error> {
                let mut volume = Volume::default();
                let mut seen_name = false;
                while let Some(key) = map.next_key::<Text<'a>>()? {
                    if key == "name" {
                        if seen_name {
                            return Err(de::Error::duplicate_field("name"));
                        }
                        seen_name = true;
                        volume.name = map.next_value::<Option<Text<'a>>>()?.unwrap_or_default();
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

        deserializer.deserialize_map(VolumeVisitor(PhantomData))
    }
}

/// Kubernetes treats `null` like an absent field; serde's `default` only covers absence.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl<'a> PodSpec<'a> {
    /// Every container the pod runs, in the order the reference visits them:
    /// initContainers, then containers, then ephemeralContainers.
    pub fn all_containers(&self) -> impl Iterator<Item = &Container<'a>> {
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

/// Parses test JSON into a borrowing view; the text is leaked, which a test process can afford.
#[cfg(test)]
pub(crate) fn from_test_json<T: Deserialize<'static>>(value: serde_json::Value) -> T {
    let text: &'static str = Box::leak(value.to_string().into_boxed_str());
    serde_json::from_str(text).expect("test JSON parses")
}

/// A string of the pod, borrowed from the request unless JSON escapes had to be decoded: the checks
/// only read, so most strings cost no allocation.
#[derive(Default, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<'a>(pub Cow<'a, str>);

/// Quoted like a `String`, since messages quote values with `{:?}`.
impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Text<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Text<'_> {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(PhantomData<Text<'a>>);

        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }

        deserializer.deserialize_str(TextVisitor(PhantomData))
    }
}

/// The annotations the checks read (seccomp and AppArmor); the values of all others are checked to be
/// strings and dropped, so a large `last-applied-configuration` is neither decoded nor copied.
#[derive(Debug, Clone, Default)]
pub struct Annotations<'a>(BTreeMap<Text<'a>, Text<'a>>);

/// The annotations (keys or key prefixes) the checks declare they read; the registry's tests keep
/// this list equal to their declarations.
pub(crate) const READ_ANNOTATIONS: [&str; 3] = [
    "seccomp.security.alpha.kubernetes.io/pod",
    "container.seccomp.security.alpha.kubernetes.io/",
    "container.apparmor.security.beta.kubernetes.io/",
];

fn is_read(key: &str) -> bool {
    READ_ANNOTATIONS.iter().any(|read| key.starts_with(read))
}

impl<'a> Annotations<'a> {
    /// The value of an annotation a check declares; asking for another is a bug the tests catch.
    pub fn get(&self, key: &str) -> Option<&str> {
        debug_assert!(
            is_read(key),
            "{key}: declare it in the check's `annotations`"
        );
        self.0.get(key).map(|value| &**value)
    }

    /// Drops the per-container annotations the checks read for container `name` (a narrow exemption
    /// takes the container out of the pod a check sees).
    pub(crate) fn remove_for_container(&mut self, name: &str) {
        self.0.retain(|key, _| {
            !READ_ANNOTATIONS
                .iter()
                .filter(|read| read.ends_with('/'))
                .any(|prefix| key.strip_prefix(prefix) == Some(name))
        });
    }

    /// The annotations whose key starts with `prefix`, which a check declares.
    pub fn with_prefix<'s>(&'s self, prefix: &'s str) -> impl Iterator<Item = (&'s str, &'s str)> {
        debug_assert!(
            is_read(prefix),
            "{prefix}: declare it in the check's `annotations`"
        );
        self.0
            .iter()
            .map(|(key, value)| (&**key, &**value))
            .filter(move |(key, _)| key.starts_with(prefix))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Annotations<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AnnotationsVisitor<'a>(PhantomData<Annotations<'a>>);

        impl<'de: 'a, 'a> Visitor<'de> for AnnotationsVisitor<'a> {
            type Value = Annotations<'a>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of strings")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Annotations<'a>, A::Error> {
                let mut read = BTreeMap::new();
                while let Some(key) = map.next_key::<Text<'a>>()? {
                    if is_read(&key) {
                        let value = map.next_value()?;
                        read.insert(key, value);
                    } else {
                        map.next_value::<AnyString>()?;
                    }
                }
                Ok(Annotations(read))
            }
        }

        deserializer.deserialize_map(AnnotationsVisitor(PhantomData))
    }
}

/// A value read only for its JSON type, its content dropped unallocated: `Discarded<true>` is an
/// object (a volume source other than hostPath), `Discarded<false>` a string (an annotation no
/// check reads, decoded in serde_json's scratch buffer).
struct Discarded<const OBJECT: bool>;

/// A volume source other than hostPath: any object, never a scalar or list.
type SourceObject = Discarded<true>;
type AnyString = Discarded<false>;

impl<'de, const OBJECT: bool> Deserialize<'de> for Discarded<OBJECT> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if OBJECT {
            deserializer.deserialize_map(Discarded)
        } else {
            deserializer.deserialize_str(Discarded)
        }
    }
}

impl<'de, const OBJECT: bool> Visitor<'de> for Discarded<OBJECT> {
    type Value = Self;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(if OBJECT {
            "a volume source object"
        } else {
            "a string"
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        if !OBJECT {
            return Err(de::Error::invalid_type(de::Unexpected::Map, &self));
        }
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Discarded)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self, E> {
        if OBJECT {
            return Err(de::Error::invalid_type(de::Unexpected::Str(text), &self));
        }
        Ok(Discarded)
    }
}

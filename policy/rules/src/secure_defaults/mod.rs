//! Secure defaults: what PodSecurityPolicy's defaulting did and Pod Security Admission dropped. For
//! a pod or a pod template, fill only what is absent so that the result passes `restricted` where
//! that needs no choice from the user: the pod's `seccompProfile: RuntimeDefault`, each container's
//! `allowPrivilegeEscalation: false` and `capabilities.drop: ["ALL"]`, the pod's
//! `runAsNonRoot: true`, and `runAsUser`, `runAsGroup`, `fsGroup` when the settings give them (PSP's
//! `MustRunAs`). Nothing written is ever changed, so a container that sets `privileged: true` or adds
//! `SYS_ADMIN` is still denied in PSA's words; applying the defaults twice changes nothing more.

pub(crate) mod settings;

pub use settings::SecureDefaults;

use serde_json::{Map, Value, json};

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";

/// What a request may have defaulted: a pod on CREATE; only its ephemeral containers on `kubectl
/// debug` (a running pod's other fields are immutable); a pod template on CREATE and UPDATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    WholePod,
    EphemeralContainersOnly,
}

/// Applies the defaults to an admitted object whose pod spec is at `pointer`; whether anything was
/// missing. A pod still using the seccomp annotation keeps it alone: the API server requires the
/// field beside it to agree, and the annotation is the user's choice.
pub fn default_object(
    object: &mut Value,
    pointer: &str,
    defaults: &SecureDefaults,
    scope: Scope,
) -> bool {
    let metadata = format!(
        "{}/metadata",
        pointer.strip_suffix("/spec").unwrap_or_default()
    );
    let annotated = object
        .pointer(&format!("{metadata}/annotations"))
        .and_then(Value::as_object)
        .is_some_and(|annotations| annotations.contains_key(SECCOMP_POD_ANNOTATION));
    let defaults = SecureDefaults {
        seccomp_profile: defaults.seccomp_profile && !annotated,
        ..defaults.clone()
    };
    object
        .pointer_mut(pointer)
        .is_some_and(|spec| default_pod_spec(spec, &defaults, scope))
}

/// Fills what is absent in a pod spec; whether anything was.
pub fn default_pod_spec(spec: &mut Value, defaults: &SecureDefaults, scope: Scope) -> bool {
    let Some(spec) = spec.as_object_mut() else {
        return false;
    };
    // PSA's restricted checks skip Windows pods for seccomp, privilege escalation and
    // capabilities, and a hostProcess pod is denied at baseline whatever is added: leave both.
    let windows = spec
        .get("os")
        .and_then(|os| os.get("name"))
        .and_then(Value::as_str)
        == Some("windows");
    if windows || host_process(spec) {
        return false;
    }
    let mut changed = false;
    if scope == Scope::WholePod {
        if defaults.seccomp_profile {
            changed |= set_absent(
                spec,
                &["securityContext", "seccompProfile"],
                json!({"type": "RuntimeDefault"}),
            );
        }
        if defaults.run_as_non_root {
            changed |= set_absent(spec, &["securityContext", "runAsNonRoot"], json!(true));
        }
        for (key, value) in [
            ("runAsUser", defaults.run_as_user),
            ("runAsGroup", defaults.run_as_group),
            ("fsGroup", defaults.fs_group),
        ] {
            if let Some(value) = value {
                changed |= set_absent(spec, &["securityContext", key], json!(value));
            }
        }
    }
    let lists: &[&str] = match scope {
        Scope::WholePod => &["initContainers", "containers", "ephemeralContainers"],
        Scope::EphemeralContainersOnly => &["ephemeralContainers"],
    };
    for list in lists {
        let Some(containers) = spec.get_mut(*list).and_then(Value::as_array_mut) else {
            continue;
        };
        for container in containers.iter_mut().filter_map(Value::as_object_mut) {
            changed |= default_container(container, defaults);
        }
    }
    changed
}

fn default_container(container: &mut Map<String, Value>, defaults: &SecureDefaults) -> bool {
    let context = container.get("securityContext");
    let privileged = context.and_then(|c| c.get("privileged")) == Some(&Value::Bool(true));
    let adds_sys_admin = context
        .and_then(|c| c.pointer("/capabilities/add"))
        .and_then(Value::as_array)
        .is_some_and(|added| {
            added.iter().any(|capability| {
                matches!(capability.as_str(), Some("SYS_ADMIN" | "CAP_SYS_ADMIN"))
            })
        });
    let mut changed = false;
    // The API server refuses allowPrivilegeEscalation: false beside privileged or SYS_ADMIN: such a
    // container is left to be denied as it is written.
    if defaults.allow_privilege_escalation && !privileged && !adds_sys_admin {
        changed |= set_absent(
            container,
            &["securityContext", "allowPrivilegeEscalation"],
            json!(false),
        );
    }
    if defaults.drop_all_capabilities
        && is_absent(container, &["securityContext", "capabilities", "drop"])
    {
        changed |= set_absent(
            container,
            &["securityContext", "capabilities", "drop"],
            json!(["ALL"]),
        );
    }
    changed
}

fn host_process(spec: &Map<String, Value>) -> bool {
    let is_host_process = |context: Option<&Value>| {
        context.and_then(|context| context.pointer("/windowsOptions/hostProcess"))
            == Some(&Value::Bool(true))
    };
    is_host_process(spec.get("securityContext"))
        || ["initContainers", "containers", "ephemeralContainers"]
            .iter()
            .filter_map(|list| spec.get(*list).and_then(Value::as_array))
            .flatten()
            .any(|container| is_host_process(container.get("securityContext")))
}

/// Sets the field at `path` when it is absent or `null`, making the objects on the way; whether it
/// did. A field on the way that holds something other than an object is left as written (the
/// checks then refuse the pod as it is).
fn set_absent(map: &mut Map<String, Value>, path: &[&str], value: Value) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut current = map;
    for key in parents {
        let slot = current.entry(*key).or_insert(Value::Null);
        if slot.is_null() {
            *slot = Value::Object(Map::new());
        }
        match slot {
            Value::Object(object) => current = object,
            _ => return false,
        }
    }
    match current.get(*last) {
        Some(existing) if !existing.is_null() => false,
        _ => {
            current.insert((*last).to_string(), value);
            true
        }
    }
}

/// Whether setting `path` would change anything: absent or `null`, and reachable through objects.
fn is_absent(map: &Map<String, Value>, path: &[&str]) -> bool {
    let mut current = map;
    for (index, key) in path.iter().enumerate() {
        match current.get(*key) {
            None | Some(Value::Null) => return true,
            Some(Value::Object(object)) if index + 1 < path.len() => current = object,
            Some(_) => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests;

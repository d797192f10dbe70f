//! The rules findings refer to, described for reports that list them (SARIF's `rules`): every Pod
//! Security check, every road of the runtime guard, and `policy` for an answer that names none.

/// The Pod Security Standards page, which describes every check.
pub const PSS_URI: &str = "https://kubernetes.io/docs/concepts/security/pod-security-standards/";

pub struct Rule {
    pub id: &'static str,
    /// A short name, as SARIF's `name` (PascalCase).
    pub name: &'static str,
    pub summary: &'static str,
    /// What the rule forbids and how to comply.
    pub help: &'static str,
    /// Baseline, restricted, or the runtime guard.
    pub family: &'static str,
}

const fn rule(
    id: &'static str,
    name: &'static str,
    family: &'static str,
    summary: &'static str,
    help: &'static str,
) -> Rule {
    Rule {
        id,
        name,
        summary,
        help,
        family,
    }
}

pub const RULES: &[Rule] = &[
    rule(
        "appArmorProfile",
        "AppArmorProfile",
        "baseline",
        "AppArmor must not be disabled",
        "Leave the AppArmor profile unset, or set it to RuntimeDefault or Localhost (annotation runtime/default or localhost/*).",
    ),
    rule(
        "capabilities_baseline",
        "CapabilitiesBaseline",
        "baseline",
        "Only the default capabilities may be added",
        "Remove capabilities beyond AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID and SYS_CHROOT from securityContext.capabilities.add.",
    ),
    rule(
        "hostNamespaces",
        "HostNamespaces",
        "baseline",
        "Host namespaces must not be shared",
        "Remove hostNetwork, hostPID and hostIPC, or set them to false.",
    ),
    rule(
        "hostPathVolumes",
        "HostPathVolumes",
        "baseline",
        "hostPath volumes are forbidden",
        "Replace hostPath volumes with persistentVolumeClaim, configMap, secret, emptyDir or another volume type.",
    ),
    rule(
        "hostPorts",
        "HostPorts",
        "baseline",
        "Host ports are forbidden",
        "Remove hostPort from the containers' ports (or set it to 0); expose the pod through a Service.",
    ),
    rule(
        "hostProbesAndHostLifecycle",
        "HostProbesAndHostLifecycle",
        "baseline",
        "Probes and lifecycle handlers must not target other hosts",
        "Remove the host field of httpGet and tcpSocket probes and lifecycle handlers.",
    ),
    rule(
        "privileged",
        "Privileged",
        "baseline",
        "Privileged containers are forbidden",
        "Remove securityContext.privileged or set it to false.",
    ),
    rule(
        "procMount",
        "ProcMount",
        "baseline",
        "The default /proc mask must be kept",
        "Remove securityContext.procMount or set it to Default.",
    ),
    rule(
        "procMount_restricted",
        "ProcMountRestricted",
        "restricted",
        "The default /proc mask must be kept, in user namespaces too",
        "Remove securityContext.procMount or set it to Default.",
    ),
    rule(
        "seLinuxOptions",
        "SELinuxOptions",
        "baseline",
        "Custom SELinux users, roles and types are forbidden",
        "Leave seLinuxOptions.user and role unset, and the type unset or container_t, container_init_t, container_kvm_t or container_engine_t.",
    ),
    rule(
        "seccompProfile_baseline",
        "SeccompProfileBaseline",
        "baseline",
        "Seccomp must not be disabled",
        "Do not set the seccomp profile type to Unconfined.",
    ),
    rule(
        "seccompProfile_restricted",
        "SeccompProfileRestricted",
        "restricted",
        "A seccomp profile must be set",
        "Set securityContext.seccompProfile.type to RuntimeDefault or Localhost on the pod or on every container.",
    ),
    rule(
        "sysctls",
        "Sysctls",
        "baseline",
        "Only safe sysctls may be set",
        "Remove sysctls outside the safe set (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.tcp_syncookies, net.ipv4.ping_group_range, net.ipv4.ip_unprivileged_port_start and the others of your version).",
    ),
    rule(
        "windowsHostProcess",
        "WindowsHostProcess",
        "baseline",
        "Windows HostProcess containers are forbidden",
        "Remove securityContext.windowsOptions.hostProcess or set it to false.",
    ),
    rule(
        "allowPrivilegeEscalation",
        "AllowPrivilegeEscalation",
        "restricted",
        "Privilege escalation must be disallowed",
        "Set securityContext.allowPrivilegeEscalation: false on every container.",
    ),
    rule(
        "capabilities_restricted",
        "CapabilitiesRestricted",
        "restricted",
        "Containers must drop all capabilities",
        "Set securityContext.capabilities.drop: [\"ALL\"] on every container and add nothing but NET_BIND_SERVICE.",
    ),
    rule(
        "restrictedVolumes",
        "RestrictedVolumes",
        "restricted",
        "Only ordinary volume types may be used",
        "Use only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret volumes.",
    ),
    rule(
        "runAsNonRoot",
        "RunAsNonRoot",
        "restricted",
        "Containers must run as non-root",
        "Set securityContext.runAsNonRoot: true on the pod or on every container, and false nowhere.",
    ),
    rule(
        "runAsUser",
        "RunAsUser",
        "restricted",
        "Containers must not run as UID 0",
        "Do not set runAsUser: 0 on the pod or on any container.",
    ),
    rule(
        "podSecurity",
        "PodSecurity",
        "baseline",
        "A Pod Security violation",
        "The object violates the Pod Security Standards.",
    ),
    rule(
        "runtimeAccess.hostPath",
        "RuntimeHostPath",
        "runtimeAccess",
        "hostPath volumes must not reach the container runtime",
        "A hostPath on a runtime socket, its state or the host's procfs gives the pod the node's runtime, whatever the Pod Security level. Remove the volume, or exempt the namespace or image in runtimeAccess.",
    ),
    rule(
        "runtimeAccess.subPath",
        "RuntimeSubPath",
        "runtimeAccess",
        "Volume sub-paths must not reach the container runtime",
        "A subPath or subPathExpr below a hostPath reaches a runtime socket or its state. Mount a path that does not.",
    ),
    rule(
        "runtimeAccess.hostPID",
        "RuntimeHostPID",
        "runtimeAccess",
        "hostPID with privilege enters the runtime's namespaces",
        "Drop hostPID, or drop privileged and the SYS_ADMIN, SYS_PTRACE and ALL capabilities.",
    ),
    rule(
        "runtimeAccess.persistentVolume",
        "RuntimePersistentVolume",
        "runtimeAccess",
        "PersistentVolumes must not expose the container runtime",
        "A hostPath or local PersistentVolume on a runtime path gives every claim bound to it the runtime.",
    ),
    rule(
        "runtimeAccess",
        "RuntimeAccess",
        "runtimeAccess",
        "The container runtime must not be reachable",
        "The object reaches the node's container runtime.",
    ),
    rule(
        "policy",
        "Policy",
        "policy",
        "The policy refused the object",
        "The policy could not evaluate the object as it is written (a field of the wrong type, say); the message names what to fix.",
    ),
];

pub fn find(id: &str) -> &'static Rule {
    RULES
        .iter()
        .find(|rule| rule.id == id)
        .unwrap_or_else(|| find("policy"))
}

/// Where a rule is documented.
pub fn help_uri(rule: &Rule, policy_url: Option<&str>) -> String {
    match (rule.family, policy_url) {
        ("runtimeAccess" | "policy", Some(url)) => format!("{url}#the-runtime-guard-runtimeaccess"),
        _ => PSS_URI.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_known_ids_are_found() {
        for (index, rule) in RULES.iter().enumerate() {
            assert!(
                RULES[index + 1..].iter().all(|other| other.id != rule.id),
                "{}",
                rule.id
            );
            assert_eq!(find(rule.id).id, rule.id);
        }
        assert_eq!(find("nonsense").id, "policy");
    }
}

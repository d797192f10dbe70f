//! What the guard protects: the host paths that lead to the node's container runtime, where each
//! runtime and distribution keeps them (with the source that shows it), and the names its sockets
//! and named pipes go by wherever an operator moved them.
//!
//! Patterns are written normalised (a test holds them to it): `*` is any one segment and a
//! trailing `*` a prefix of one.

use super::host_path::Flavour;

/// A protected path, or a socket name, and what it is, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protected<'a> {
    pub path: &'a str,
    pub what: &'static str,
    /// Reached by the path's last segment, wherever it lies.
    pub by_name: bool,
}

/// Linux paths, upstream defaults first, then each distribution that moves them. A parent of several
/// (`/`, `/run`) is reported with the first, so the runtimes come before the host's procfs.
const LINUX: &[(&str, &str)] = &[
    // Docker: dockerd --host, --data-root, --exec-root and daemon.json defaults (docs.docker.com,
    // "dockerd" reference); dockershim (Kubernetes <= 1.23) and cri-dockerd's default endpoints
    // (Mirantis/cri-dockerd, config/options.go).
    ("/run/docker.sock", "the Docker socket"),
    ("/run/docker", "Docker's runtime directory"),
    ("/var/lib/docker", "Docker's state directory"),
    ("/etc/docker", "Docker's configuration"),
    ("/run/dockershim.sock", "the dockershim socket"),
    ("/run/cri-dockerd.sock", "the cri-dockerd socket"),
    ("/var/lib/cri-dockerd", "cri-dockerd's state directory"),
    // containerd: defaults.DefaultAddress, DefaultRootDir, DefaultStateDir and the config path
    // (containerd/containerd, defaults/defaults_unix.go); nerdctl's data root (containerd/nerdctl,
    // docs/dir.md).
    ("/run/containerd", "containerd's socket directory"),
    ("/var/lib/containerd", "containerd's state directory"),
    ("/etc/containerd", "containerd's configuration"),
    ("/var/lib/nerdctl", "nerdctl's state directory"),
    // CRI-O and Podman: crio.conf's listen, root and runroot; containers-storage.conf(5);
    // podman-system-service(1) (/run/podman/podman.sock).
    ("/run/crio", "CRI-O's socket directory"),
    ("/var/lib/crio", "CRI-O's state directory"),
    ("/etc/crio", "CRI-O's configuration"),
    (
        "/run/containers",
        "the containers/storage runtime directory (CRI-O, Podman)",
    ),
    (
        "/var/lib/containers",
        "the containers/storage state directory (CRI-O, Podman)",
    ),
    (
        "/etc/containers",
        "the containers configuration (CRI-O, Podman)",
    ),
    ("/run/podman", "the Podman socket directory"),
    // Low-level runtimes' state: runc --root, crun --root, Kata Containers' sandboxes
    // (kata-containers, src/runtime/virtcontainers/persist/fs), BuildKit's socket and state
    // (moby/buildkit, docs/rootless.md and cmd/buildkitd).
    // gVisor's runsc --root and Kata's runtime-rs state (google/gvisor runsc/config; kata-containers
    // src/runtime-rs).
    ("/run/runc", "runc's state directory"),
    ("/run/runsc", "gVisor's state directory"),
    ("/run/kata", "Kata Containers' (runtime-rs) state directory"),
    ("/run/crun", "crun's state directory"),
    ("/run/kata-containers", "Kata Containers' state directory"),
    ("/run/vc", "Kata Containers' sandbox directory"),
    ("/run/buildkit", "the BuildKit socket directory"),
    ("/var/lib/buildkit", "BuildKit's state directory"),
    // Rootless runtimes: $XDG_RUNTIME_DIR is /run/user/<uid>; data under ~/.local/share
    // (docs.docker.com "Rootless mode", containers-storage.conf(5), containerd docs/rootless.md).
    ("/run/user/*/podman", "a rootless Podman socket directory"),
    (
        "/run/user/*/containers",
        "a rootless containers/storage runtime directory",
    ),
    ("/run/user/*/docker.sock", "a rootless Docker socket"),
    ("/run/user/*/docker", "a rootless Docker runtime directory"),
    (
        "/run/user/*/containerd",
        "a rootless containerd socket directory",
    ),
    (
        "/run/user/*/containerd-rootless",
        "a rootless containerd directory",
    ),
    (
        "/run/user/*/dockerd-rootless",
        "a rootless Docker (RootlessKit) directory",
    ),
    (
        "/run/user/*/buildkit",
        "a rootless BuildKit socket directory",
    ),
    (
        "/home/*/.local/share/docker",
        "a rootless Docker state directory",
    ),
    (
        "/home/*/.local/share/containers",
        "a rootless containers/storage state directory",
    ),
    (
        "/home/*/.local/share/containerd",
        "a rootless containerd state directory",
    ),
    // Docker Desktop and other desktop VMs' sockets in the user's home: ~/.docker/desktop/docker.sock,
    // ~/.docker/run/docker.sock (docs.docker.com, Docker Desktop "docker.sock"), Rancher Desktop
    // ~/.rd/docker.sock (docs.rancherdesktop.io), Colima and Lima ~/.colima, ~/.lima
    // (abiosoft/colima, lima-vm/lima); ~/.docker also holds registry credentials.
    (
        "/home/*/.docker",
        "a user's Docker directory (Docker Desktop's socket, credentials)",
    ),
    ("/home/*/.rd", "Rancher Desktop's socket directory"),
    ("/home/*/.colima", "Colima's socket directory"),
    ("/home/*/.lima", "Lima's socket directory"),
    ("/home/*/.orbstack", "OrbStack's socket directory"),
    (
        "/root/.docker",
        "root's Docker directory (sockets, credentials)",
    ),
    // snap packages: MicroK8s keeps containerd, its arguments and the cluster's certificates under
    // $SNAP_DATA and $SNAP_COMMON (microk8s.io/docs/configuring-services:
    // /var/snap/microk8s/common/run/containerd.sock, /var/snap/microk8s/current/args); the docker
    // snap keeps its data root there too (snapcrafters/docker, snap/snapcraft.yaml).
    (
        "/var/snap/microk8s",
        "MicroK8s's containerd, state and credentials",
    ),
    (
        "/var/snap/docker",
        "the Docker snap's state and configuration",
    ),
    ("/run/snap.docker", "the Docker snap's runtime directory"),
    ("/var/snap/lxd", "the LXD snap's socket and state"),
    ("/var/lib/lxd", "LXD's socket and state"),
    ("/var/lib/incus", "Incus's socket and state"),
    // k3s, RKE2 and k3d (k3s in Docker): docs.k3s.io "Advanced options"
    // (/run/k3s/containerd/containerd.sock, /var/lib/rancher/k3s, /etc/rancher).
    ("/run/k3s", "k3s's containerd socket directory"),
    ("/var/lib/rancher", "the k3s and RKE2 state directory"),
    ("/etc/rancher", "the k3s and RKE2 configuration"),
    // k0s: containerd --root=/var/lib/k0s/containerd --state=/run/k0s/containerd
    // --address=/run/k0s/containerd.sock --config=/etc/k0s/containerd.toml (k0sproject/k0s,
    // docs/runtime.md; docs/directories.md).
    ("/run/k0s", "k0s's containerd socket directory"),
    (
        "/var/lib/k0s",
        "k0s's state directory (containerd, kubelet, certificates)",
    ),
    ("/etc/k0s", "k0s's configuration"),
    // Bottlerocket: host containers run on a second containerd (packages/host-ctr,
    // host-containerd-config.toml: address /run/host-containerd/containerd.sock, root
    // /var/lib/host-containerd; SECURITY_GUIDANCE.md also names host-containerd.sock there); the API
    // socket /run/api.sock gives "full control over system configuration" (SECURITY_GUIDANCE.md);
    // host-container definitions in /etc/host-containers, the API datastore in
    // /var/lib/bottlerocket; /var and /opt live under /local (bottlerocket-os/bottlerocket).
    (
        "/run/host-containerd",
        "Bottlerocket's host containerd socket directory",
    ),
    (
        "/var/lib/host-containerd",
        "Bottlerocket's host containerd state directory",
    ),
    (
        "/etc/host-containerd",
        "Bottlerocket's host containerd configuration",
    ),
    (
        "/etc/host-containers",
        "Bottlerocket's host-container definitions",
    ),
    ("/run/api.sock", "Bottlerocket's API socket"),
    ("/var/lib/bottlerocket", "Bottlerocket's API datastore"),
    (
        "/local",
        "Bottlerocket's persistent storage (/var and /opt live under it)",
    ),
    // Talos: the system containerd (SystemContainerdAddress /system/run/containerd/containerd.sock),
    // machined's and apid's sockets (/system/run/machined/machine.sock, /system/run/apid), the
    // machine configuration (/system/state) and secrets (/system/secrets) all live under /system;
    // the CRI containerd's configuration under /etc/cri (siderolabs/talos,
    // pkg/machinery/constants/constants.go).
    (
        "/system",
        "Talos's system containerd, API sockets, configuration and secrets",
    ),
    ("/etc/cri", "Talos's CRI containerd configuration"),
    // Minikube: its VM image keeps /var/lib/docker, /var/lib/containerd and /var/lib/minikube on the
    // persistent disk /mnt/vda1 behind symlinks, and the Docker TLS certificates in
    // /var/lib/boot2docker (kubernetes/minikube, deploy/iso/minikube-iso automount).
    (
        "/var/lib/minikube",
        "minikube's binaries, certificates and state",
    ),
    (
        "/mnt/vda1",
        "minikube's persistent disk (Docker and containerd state)",
    ),
    ("/var/lib/boot2docker", "minikube's Docker TLS certificates"),
    // Flatcar: torcx unpacks Docker and containerd to /run/torcx; older releases ran containerd at
    // /run/docker/libcontainerd (flatcar docs, "Switching from Docker to containerd").
    ("/run/torcx", "Flatcar's unpacked Docker and containerd"),
    // EKS and Amazon Linux: the bootstrap's containerd configuration and image credential provider
    // (awslabs/amazon-eks-ami, templates/shared/runtime).
    (
        "/etc/eks",
        "the EKS node's containerd and credential-provider configuration",
    ),
    // GKE on Container-Optimized OS: the kubelet, its credentials and containerd's helpers
    // (kubernetes/kubernetes, cluster/gce/gci/configure.sh: KUBE_HOME=/home/kubernetes,
    // /etc/srv/kubernetes).
    ("/home/kubernetes", "GKE's node binaries and configuration"),
    ("/home/containerd", "GKE's containerd installation"),
    ("/etc/srv/kubernetes", "GKE's node credentials"),
    // The kubelet (pod-resources and device-plugin sockets, credentials), the control plane's
    // configuration and credentials (kubeadm; AKS's azure.json), etcd's data (every Secret).
    (
        "/var/lib/kubelet",
        "the kubelet's state directory (pod-resources socket, credentials)",
    ),
    (
        "/etc/kubernetes",
        "the kubelet's and control plane's configuration and credentials",
    ),
    ("/var/lib/etcd", "etcd's data (every Secret of the cluster)"),
    // Host service managers that start any process, a container included, as root: systemd's
    // private socket and the system D-Bus (systemd(1), dbus-daemon(1)).
    ("/run/systemd/private", "systemd's private socket"),
    (
        "/run/dbus/system_bus_socket",
        "the system D-Bus socket (systemd's API)",
    ),
    // The host's procfs: /proc/<pid>/root and /proc/<pid>/cwd are the host's whole filesystem, every
    // socket below included; /proc/sys writes the kernel's settings (core_pattern runs a host program).
    // proc(5).
    (
        "/proc",
        "the host's procfs (/proc/<pid>/root is the host's root filesystem)",
    ),
];

/// Windows paths: the named pipes Kubernetes mounts as hostPath and the runtimes' folders.
const WINDOWS: &[(&str, &str)] = &[
    // Device paths reach raw disks and every volume without a drive letter.
    (r"\\?\*", "a Windows device or volume path"),
    // Docker Engine (docs.docker.com "Configure the daemon on Windows": npipe:////./pipe/docker_engine,
    // data root C:\ProgramData\docker); Docker Desktop's engines (docker/for-win).
    (r"\\.\pipe\docker_engine", "the Docker engine's named pipe"),
    (
        r"\\.\pipe\docker_engine_linux",
        "Docker Desktop's Linux engine pipe",
    ),
    (
        r"\\.\pipe\docker_engine_windows",
        "Docker Desktop's Windows engine pipe",
    ),
    (
        r"\\.\pipe\dockerDesktopLinuxEngine",
        "Docker Desktop's Linux engine pipe",
    ),
    (
        r"\\.\pipe\dockerDesktopWindowsEngine",
        "Docker Desktop's Windows engine pipe",
    ),
    (r"C:\ProgramData\docker", "Docker's state and configuration"),
    (r"C:\ProgramData\DockerDesktop", "Docker Desktop's state"),
    (r"C:\Program Files\Docker", "Docker's binaries"),
    // containerd: defaults_windows.go (npipe:////./pipe/containerd-containerd, root
    // C:\ProgramData\containerd\root, state C:\ProgramData\containerd\state, config
    // C:\Program Files\containerd\config.toml); cri-dockerd's Windows endpoint.
    (r"\\.\pipe\containerd-containerd", "containerd's named pipe"),
    (
        r"\\.\pipe\containerd-containerd.ttrpc",
        "containerd's ttrpc pipe",
    ),
    (r"\\.\pipe\containerd-debug", "containerd's debug pipe"),
    (r"\\.\pipe\cri-dockerd", "the cri-dockerd named pipe"),
    (r"\\.\pipe\dockershim", "the dockershim named pipe"),
    (r"C:\ProgramData\containerd", "containerd's state"),
    (
        r"C:\Program Files\containerd",
        "containerd's configuration and binaries",
    ),
    // The kubelet on Windows (--root-dir C:\var\lib\kubelet; kubeadm's C:\etc\kubernetes), AKS's
    // and aks-engine's C:\k, k0s's and RKE2's data directories, users' Docker directories.
    (r"C:\var\lib\kubelet", "the kubelet's state directory"),
    (
        r"C:\etc\kubernetes",
        "the kubelet's configuration and credentials",
    ),
    (
        r"C:\k",
        "the AKS node's kubelet configuration and credentials",
    ),
    (r"C:\var\lib\k0s", "k0s's state directory"),
    (r"C:\var\lib\rancher", "the RKE2 state directory"),
    (r"C:\etc\rancher", "the RKE2 configuration"),
    (r"C:\Users\*\.docker", "a user's Docker directory"),
];

/// Socket file names (Linux) and pipe names (Windows) that are a runtime's wherever they lie.
const NAMES: &[(&str, &str)] = &[
    ("docker.sock", "the Docker socket"),
    ("docker.sock.raw", "Docker Desktop's raw Docker socket"),
    ("docker.raw.sock", "Docker Desktop's raw Docker socket"),
    ("dockershim.sock", "the dockershim socket"),
    ("cri-dockerd.sock", "the cri-dockerd socket"),
    ("containerd.sock", "a containerd socket"),
    ("containerd.sock.ttrpc", "a containerd ttrpc socket"),
    ("docker-containerd.sock", "Docker's containerd socket"),
    ("cri-containerd.sock", "the cri-containerd socket"),
    ("crio.sock", "the CRI-O socket"),
    ("podman.sock", "the Podman socket"),
    ("buildkitd.sock", "the BuildKit socket"),
    ("isulad.sock", "the iSulad socket"),
    ("pouchd.sock", "the PouchContainer socket"),
    ("frakti.sock", "the frakti socket"),
    (
        "firecracker-containerd.sock",
        "the firecracker-containerd socket",
    ),
    (
        "kubelet.sock",
        "the kubelet's device-plugin registration socket",
    ),
];

/// Pipe names, read on Windows only.
const PIPE_NAMES: &[(&str, &str)] = &[
    ("docker_engine", "the Docker engine's named pipe"),
    ("docker_engine_linux", "Docker Desktop's Linux engine pipe"),
    (
        "docker_engine_windows",
        "Docker Desktop's Windows engine pipe",
    ),
    (
        "dockerDesktopLinuxEngine",
        "Docker Desktop's Linux engine pipe",
    ),
    (
        "dockerDesktopWindowsEngine",
        "Docker Desktop's Windows engine pipe",
    ),
    ("containerd-containerd", "containerd's named pipe"),
    ("containerd-containerd.ttrpc", "containerd's ttrpc pipe"),
    ("cri-dockerd", "the cri-dockerd named pipe"),
];

fn table(flavour: Flavour) -> &'static [(&'static str, &'static str)] {
    match flavour {
        Flavour::Linux => LINUX,
        Flavour::Windows => WINDOWS,
    }
}

/// Whether a path is, lies in or contains `pattern`: their segments agree as far as both go. A walk
/// over the bytes, since most patterns part from the path within a few of them; a `*` (always at
/// the end of a pattern's segment) takes the rest of the path's segment.
fn overlaps(flavour: Flavour, path: &str, pattern: &str) -> bool {
    let separator = flavour.separator() as u8;
    // A root keeps its separator (`/`, `C:\`); without it, it is a prefix of everything below.
    let path = path
        .strip_suffix(separator as char)
        .unwrap_or(path)
        .as_bytes();
    let pattern = pattern.as_bytes();
    let (mut i, mut j) = (0, 0);
    loop {
        match (pattern.get(i), path.get(j)) {
            (None, None) => return true,
            (Some(b'*'), _) => {
                i += 1;
                while path.get(j).is_some_and(|&byte| byte != separator) {
                    j += 1;
                }
            }
            // One ends where the other reaches a separator: an ancestor, or a path below.
            (None, Some(&byte)) | (Some(&byte), None) => return byte == separator,
            (Some(&wanted), Some(&got)) => {
                let same = match flavour {
                    Flavour::Linux => wanted == got,
                    Flavour::Windows => wanted.eq_ignore_ascii_case(&got),
                };
                if !same {
                    return false;
                }
                i += 1;
                j += 1;
            }
        }
    }
}

/// The same by segments, for a Windows path with 8.3 short names (`PROGRA~3`), whose segments can
/// stand for longer ones.
fn overlaps_by_segment(flavour: Flavour, path: &str, pattern: &str) -> bool {
    flavour
        .segments(pattern)
        .zip(flavour.segments(path))
        .all(|(wanted, got)| flavour.segment_matches(wanted, got))
}

/// What a normalised host path reaches: the first protected path it is, lies in or contains, then
/// a runtime socket or pipe by its name.
pub fn reaches<'a>(
    flavour: Flavour,
    normalised: &str,
    extra: &'a [String],
) -> Option<Protected<'a>> {
    let built_in = table(flavour).iter().map(|&(path, what)| Protected {
        path,
        what,
        by_name: false,
    });
    let extra = extra
        .iter()
        .filter(|path| Flavour::of_normalised(path) == flavour)
        .map(|path| Protected {
            path,
            what: "a path the operator protects",
            by_name: false,
        });
    let short_names = flavour == Flavour::Windows && normalised.contains('~');
    let by_path = built_in.chain(extra).find(|p| match short_names {
        true => overlaps_by_segment(flavour, normalised, p.path),
        false => overlaps(flavour, normalised, p.path),
    });
    by_path.or_else(|| by_name(flavour, normalised.rsplit(flavour.separator()).next()?))
}

fn by_name(flavour: Flavour, last: &str) -> Option<Protected<'static>> {
    let pipes = match flavour {
        Flavour::Linux => &[][..],
        Flavour::Windows => PIPE_NAMES,
    };
    NAMES
        .iter()
        .chain(pipes)
        .find(|(name, _)| flavour.segment_matches(name, last))
        .map(|&(path, what)| Protected {
            path,
            what,
            by_name: true,
        })
}

#[cfg(test)]
mod tests;

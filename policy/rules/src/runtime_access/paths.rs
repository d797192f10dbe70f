//! Host paths that lead to the node's container runtime, and how a written path is normalised
//! before it is compared with them.

/// A protected host path (normalised) and what it is, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protected<'a> {
    pub path: &'a str,
    pub what: &'static str,
}

/// The runtime sockets, state and configuration directories, and the kubelet's, as they appear on
/// nodes. `*` stands for one path segment (a user id under `/run/user`).
const BUILT_IN: &[(&str, &str)] = &[
    ("/run/docker.sock", "the Docker socket"),
    ("/run/docker", "Docker's runtime directory"),
    ("/var/lib/docker", "Docker's state directory"),
    ("/etc/docker", "Docker's configuration"),
    ("/run/dockershim.sock", "the dockershim socket"),
    ("/run/cri-dockerd.sock", "the cri-dockerd socket"),
    ("/var/lib/cri-dockerd", "cri-dockerd's state directory"),
    ("/run/containerd", "containerd's socket directory"),
    ("/var/lib/containerd", "containerd's state directory"),
    ("/etc/containerd", "containerd's configuration"),
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
    ("/run/user/*/podman", "a rootless Podman socket directory"),
    ("/run/user/*/docker.sock", "a rootless Docker socket"),
    ("/run/user/*/docker", "a rootless Docker runtime directory"),
    (
        "/run/user/*/containerd-rootless",
        "a rootless containerd directory",
    ),
    ("/run/buildkit", "the BuildKit socket directory"),
    ("/run/runc", "runc's state directory"),
    ("/run/k3s", "k3s's containerd socket directory"),
    ("/var/lib/rancher", "the k3s and RKE2 state directory"),
    ("/etc/rancher", "the k3s and RKE2 configuration"),
    (
        "/var/lib/kubelet",
        "the kubelet's state directory (pod-resources socket, credentials)",
    ),
    (
        "/etc/kubernetes",
        "the kubelet's and control plane's configuration and credentials",
    ),
];

/// The built-in protected paths, then the operator's own (normalised when the settings were read).
fn protected_paths(extra: &[String]) -> impl Iterator<Item = Protected<'_>> {
    let built_in = BUILT_IN
        .iter()
        .map(|&(path, what)| Protected { path, what });
    let extra = extra.iter().map(|path| Protected {
        path,
        what: "a path the operator protects",
    });
    built_in.chain(extra)
}

/// Collapses repeated slashes, `.` and `..` segments and a trailing slash, and reads `/var/run` as
/// `/run` (a symlink to it on current distributions). `..` above the root stays at the root, as the
/// kernel resolves it. A relative path is read from the root: the kubelet has no other base.
pub fn normalise(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
        if segments == ["var", "run"] {
            segments = vec!["run"];
        }
    }
    format!("/{}", segments.join("/"))
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// True when `pattern`'s first segments match `path`'s (`*` matches any one segment).
fn starts_with(path: &str, pattern: &str) -> bool {
    let mut path = segments(path);
    segments(pattern).all(|wanted| {
        path.next()
            .is_some_and(|got| wanted == "*" || wanted == got)
    })
}

/// True when `path` is `pattern`'s ancestor (`*` in the pattern matches any one segment).
fn is_ancestor(path: &str, pattern: &str) -> bool {
    let mut pattern = segments(pattern);
    segments(path).all(|got| {
        pattern
            .next()
            .is_some_and(|wanted| wanted == "*" || wanted == got)
    })
}

/// What a normalised host path reaches: the first protected path it is, lies in, or contains.
pub fn reaches<'a>(normalised: &str, extra: &'a [String]) -> Option<Protected<'a>> {
    protected_paths(extra)
        .find(|p| starts_with(normalised, p.path) || is_ancestor(normalised, p.path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_path_tricks() {
        assert_eq!(normalise("/var/run/docker.sock"), "/run/docker.sock");
        assert_eq!(normalise("//var//run/./docker.sock/"), "/run/docker.sock");
        assert_eq!(normalise("/var/lib/../run/containerd/"), "/run/containerd");
        assert_eq!(normalise("/../../var/run"), "/run");
        assert_eq!(normalise("/"), "/");
        assert_eq!(normalise(""), "/");
        assert_eq!(normalise("/var/run-data"), "/var/run-data");
        assert_eq!(normalise("/var/./run/../run/crio"), "/run/crio");
    }

    #[test]
    fn sockets_directories_and_their_parents_are_reached() {
        let reached = |path: &str| reaches(&normalise(path), &[]).map(|p| p.path);
        for (path, expected) in [
            ("/var/run/docker.sock", "/run/docker.sock"),
            ("/run/containerd/containerd.sock", "/run/containerd"),
            ("/var/lib/docker/overlay2", "/var/lib/docker"),
            ("/run/user/1000/podman/podman.sock", "/run/user/*/podman"),
            ("/run/user/1000", "/run/user/*/podman"),
            ("/", "/run/docker.sock"),
            ("/var", "/var/lib/docker"),
            ("/var/lib", "/var/lib/docker"),
            ("/run", "/run/docker.sock"),
            ("/var/run", "/run/docker.sock"),
            ("/etc", "/etc/docker"),
            (
                "/var/lib/kubelet/pod-resources/kubelet.sock",
                "/var/lib/kubelet",
            ),
            ("/run/k3s/containerd/containerd.sock", "/run/k3s"),
            ("/var/lib/rancher/rke2", "/var/lib/rancher"),
        ] {
            assert_eq!(reached(path), Some(expected), "{path}");
        }
        for harmless in [
            "/var/log",
            "/tmp",
            "/data",
            "/var/run-data",
            "/run/user/1000/app.sock",
            "/etc-data",
            "/var/lib/mysql",
        ] {
            assert_eq!(reached(harmless), None, "{harmless}");
        }
    }

    #[test]
    fn extra_paths_are_protected_like_the_built_in_ones() {
        let extra = [normalise("/opt//cni/bin/")];
        assert_eq!(extra[0], "/opt/cni/bin");
        assert!(reaches(&normalise("/opt/cni/bin/bridge"), &extra).is_some());
        assert!(reaches(&normalise("/opt"), &extra).is_some());
        assert!(reaches(&normalise("/opt/other"), &extra).is_none());
    }
}

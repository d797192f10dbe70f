use super::*;

#[test]
fn patterns_are_written_normalised() {
    for flavour in [Flavour::Linux, Flavour::Windows] {
        for (pattern, _) in table(flavour) {
            assert_eq!(&flavour.normalise(pattern), pattern, "{flavour:?}");
            assert_eq!(Flavour::of_normalised(pattern), flavour, "{pattern}");
        }
    }
    for (name, _) in NAMES.iter().chain(PIPE_NAMES) {
        assert!(!name.contains(['/', '\\', '*']), "{name}");
    }
}

fn reached(path: &str) -> Option<&'static str> {
    let flavour = Flavour::of_written(path);
    reaches(flavour, &flavour.normalise(path), &[]).map(|p| p.path)
}

#[test]
fn sockets_directories_and_their_parents_are_reached() {
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
        ("/home", "/home/*/.local/share/docker"),
        (
            "/var/lib/kubelet/pod-resources/kubelet.sock",
            "/var/lib/kubelet",
        ),
        ("/run/k3s/containerd/containerd.sock", "/run/k3s"),
        ("/var/lib/rancher/rke2", "/var/lib/rancher"),
    ] {
        assert_eq!(reached(path), Some(expected), "{path}");
    }
}

#[test]
fn the_hosts_procfs_is_reached_in_every_spelling() {
    for path in [
        "/proc",
        "/proc/",
        "/proc/1",
        "/proc/1/root",
        "/proc/self/root",
        "/proc/4242/root/run/containerd/containerd.sock",
        "/proc/1/cwd",
        "/proc/thread-self/root",
        "//proc/./1/../1/root",
        "proc/1/root",
    ] {
        assert_eq!(reached(path), Some("/proc"), "{path}");
    }
}

#[test]
fn each_distribution_is_covered() {
    for (path, expected) in [
        (
            "/var/snap/microk8s/common/run/containerd.sock",
            "/var/snap/microk8s",
        ),
        ("/var/snap/microk8s/current/args", "/var/snap/microk8s"),
        ("/run/k0s/containerd.sock", "/run/k0s"),
        ("/var/lib/k0s/containerd", "/var/lib/k0s"),
        (
            "/run/host-containerd/containerd.sock",
            "/run/host-containerd",
        ),
        ("/run/api.sock", "/run/api.sock"),
        ("/system/run/containerd/containerd.sock", "/system"),
        ("/system/state/config.yaml", "/system"),
        ("/local/var/lib/containerd", "/local"),
        (
            "/run/user/1000/containerd/containerd.sock",
            "/run/user/*/containerd",
        ),
        ("/var/snap/docker/common/var-lib-docker", "/var/snap/docker"),
        ("/home/dev/.docker/desktop/docker.sock", "/home/*/.docker"),
        ("/home/dev/.rd/docker.sock", "/home/*/.rd"),
        ("/mnt/vda1/var/lib/docker", "/mnt/vda1"),
        ("/etc/eks/image-credential-provider", "/etc/eks"),
        ("/home/kubernetes/bin", "/home/kubernetes"),
        ("/run/crio/crio.sock", "/run/crio"),
        ("/run/vc/sbs", "/run/vc"),
        (r"\\.\pipe\docker_engine", r"\\.\pipe\docker_engine"),
        (
            "//./pipe/containerd-containerd",
            r"\\.\pipe\containerd-containerd",
        ),
        (r"\\.\PIPE\Docker_Engine", r"\\.\pipe\docker_engine"),
        (r"C:\ProgramData\docker\config", r"C:\ProgramData\docker"),
        (r"c:\programdata\CONTAINERD", r"C:\ProgramData\containerd"),
        (r"C:\PROGRA~3\containerd", r"C:\ProgramData\containerd"),
        (r"C:\", r"C:\ProgramData\docker"),
        (r"C:\ProgramData", r"C:\ProgramData\docker"),
        (
            r"\\?\GLOBALROOT\Device\HarddiskVolume1\ProgramData",
            r"\\?\*",
        ),
        (
            r"\\localhost\C$\ProgramData\docker",
            r"C:\ProgramData\docker",
        ),
    ] {
        assert_eq!(reached(path), Some(expected), "{path}");
    }
}

#[test]
fn sockets_and_pipes_are_reached_by_name_wherever_they_lie() {
    for (path, name) in [
        ("/srv/runtime/docker.sock", "docker.sock"),
        ("/opt/containerd/containerd.sock", "containerd.sock"),
        ("/data/crio.sock", "crio.sock"),
        ("/mnt/custom/podman.sock", "podman.sock"),
        ("/opt/buildkit/buildkitd.sock", "buildkitd.sock"),
        (r"D:\runtime\docker.sock", "docker.sock"),
    ] {
        assert_eq!(reached(path), Some(name), "{path}");
    }
}

#[test]
fn look_alikes_are_not_reached() {
    for harmless in [
        "/var/log",
        "/tmp",
        "/data",
        "/procfs-data",
        "/run-data",
        "/var/run-data",
        "/run/user/1000/app.sock",
        "/etc-data",
        "/var/lib/mysql",
        "/data/mydocker.sock.bak",
        "/data/docker.sock.d",
        "/data/Docker.sock",
        "/var/snap/other",
        "/home-data",
        r"D:\data",
        r"C:\ProgramData\MyApp",
        r"\\.\pipe\my_app",
        r"\\fileserver\share\logs",
    ] {
        assert_eq!(reached(harmless), None, "{harmless}");
    }
}

#[test]
fn extra_paths_are_protected_in_their_own_flavour() {
    let extra = [
        Flavour::Linux.normalise("/opt//cni/bin/"),
        Flavour::Windows.normalise(r"d:\docker-data"),
    ];
    assert_eq!(
        extra,
        ["/opt/cni/bin".to_string(), r"D:\docker-data".to_string()]
    );
    let linux = |p: &str| reaches(Flavour::Linux, &Flavour::Linux.normalise(p), &extra);
    let windows = |p: &str| reaches(Flavour::Windows, &Flavour::Windows.normalise(p), &extra);
    assert!(linux("/opt/cni/bin/bridge").is_some());
    assert!(linux("/opt").is_some());
    assert!(linux("/opt/other").is_none());
    assert!(windows(r"D:\Docker-Data\image").is_some());
    assert!(windows(r"D:\other").is_none());
}

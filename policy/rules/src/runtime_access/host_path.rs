//! How the node reads a written hostPath. A Linux node reads `/`-separated, case-sensitive paths; a
//! Windows node reads `\` or `/`, ignores case, and has drive letters, named pipes, device paths, UNC
//! shares, 8.3 short names and stream suffixes. A pod that does not say which OS it runs on
//! (`spec.os.name`) may land on either, so its paths are read both ways.

use crate::pod::PodSpec;

/// The way a node reads a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Linux,
    Windows,
}

/// Which readings of a pod's paths can happen: the kubelet refuses a pod whose `spec.os.name` is
/// not its node's OS, so a pod that names one is read only that way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeOs {
    Linux,
    Windows,
    Either,
}

impl NodeOs {
    pub fn of(spec: &PodSpec) -> NodeOs {
        match spec.os.as_ref().map(|os| &*os.name) {
            Some("linux") => NodeOs::Linux,
            Some("windows") => NodeOs::Windows,
            _ => NodeOs::Either,
        }
    }

    pub fn flavours(self) -> &'static [Flavour] {
        match self {
            NodeOs::Linux => &[Flavour::Linux],
            NodeOs::Windows => &[Flavour::Windows],
            NodeOs::Either => &[Flavour::Linux, Flavour::Windows],
        }
    }
}

impl Flavour {
    /// The flavour of a path already normalised: Linux paths start at `/`, Windows paths at a root.
    pub fn of_normalised(path: &str) -> Flavour {
        if path.starts_with('/') {
            Flavour::Linux
        } else {
            Flavour::Windows
        }
    }

    /// The flavour an operator's path is written in: a drive letter or a `\\` prefix is Windows.
    pub fn of_written(path: &str) -> Flavour {
        let device = ["//./", "//?/"].iter().any(|p| path.starts_with(p));
        if drive_letter(path).is_some() || path.starts_with(r"\\") || device {
            Flavour::Windows
        } else {
            Flavour::Linux
        }
    }

    pub fn separator(self) -> char {
        match self {
            Flavour::Linux => '/',
            Flavour::Windows => '\\',
        }
    }

    pub fn normalise(self, path: &str) -> String {
        match self {
            Flavour::Linux => normalise_linux(path),
            Flavour::Windows => normalise_windows(path),
        }
    }

    /// The segments of a normalised path; a Windows path's root (`C:`, `\\.\pipe`,
    /// `\\server\share`) is its first segment.
    pub fn segments(self, normalised: &str) -> impl Iterator<Item = &str> {
        let (root, rest) = match self {
            Flavour::Linux => (None, normalised),
            Flavour::Windows => {
                let end = windows_root_len(normalised);
                (Some(&normalised[..end]), &normalised[end..])
            }
        };
        let separator = self.separator();
        root.into_iter()
            .chain(rest.split(separator).filter(|s| !s.is_empty()))
    }

    /// Whether a written segment is the one a pattern names: `*` is any segment, a trailing `*` a
    /// prefix. Windows ignores ASCII case and also knows a segment by its 8.3 short name.
    pub fn segment_matches(self, pattern: &str, segment: &str) -> bool {
        if let Some(prefix) = pattern.strip_suffix('*') {
            return match self {
                Flavour::Linux => segment.starts_with(prefix),
                Flavour::Windows => segment
                    .get(..prefix.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(prefix)),
            };
        }
        match self {
            Flavour::Linux => pattern == segment,
            Flavour::Windows => {
                pattern.eq_ignore_ascii_case(segment) || is_short_name_of(segment, pattern)
            }
        }
    }
}

/// Collapses repeated slashes, `.` and `..` segments and a trailing slash, and reads `/var/run` as
/// `/run` (a symlink to it on current distributions). `..` above the root stays at the root, as the
/// kernel resolves it. A relative path is read from the root: the kubelet has no other base.
pub fn normalise_linux(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        push_segment(&mut segments, segment);
        if segments == ["var", "run"] {
            segments = vec!["run"];
        }
    }
    format!("/{}", segments.join("/"))
}

/// A Windows path as `ROOT\segment\…`, with `\` separators and the case as written. The root is a
/// drive (`C:`), the named-pipe namespace (`\\.\pipe`), a device (`\\?\GLOBALROOT`) or a UNC share
/// (`\\server\share`). Win32 drops trailing dots and spaces from a segment, and `name:stream` names
/// a stream of `name` (`docker::$INDEX_ALLOCATION` is the folder), so both are cut. A path with no
/// drive is read on the system drive `C:`, where the kubelet runs.
pub fn normalise_windows(path: &str) -> String {
    let path = path.replace('/', "\\");
    let (root, rest) = windows_root(&path);
    let mut segments: Vec<&str> = Vec::new();
    for segment in rest.split('\\') {
        let segment = match segment.split(':').next().unwrap_or_default() {
            dots @ ("." | "..") => dots,
            other => other.trim_end_matches(['.', ' ']),
        };
        push_segment(&mut segments, segment);
    }
    let mut normalised = root;
    // A drive's root is written `C:\`; a share or device root has no trailing separator.
    if segments.is_empty() && !normalised.starts_with(r"\\") {
        normalised.push('\\');
    }
    for segment in segments {
        normalised.push('\\');
        normalised.push_str(segment);
    }
    normalised
}

fn push_segment<'a>(segments: &mut Vec<&'a str>, segment: &'a str) {
    match segment {
        "" | "." => {}
        ".." => {
            segments.pop();
        }
        other => segments.push(other),
    }
}

/// `X:` at the start of a path, upper-cased.
fn drive_letter(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    (bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':')
        .then(|| format!("{}:", (bytes[0] as char).to_ascii_uppercase()))
}

/// Splits a `\`-separated Windows path into its normalised root and the rest.
fn windows_root(path: &str) -> (String, &str) {
    let device = [r"\\.\", r"\\?\", r"\??\"]
        .iter()
        .find_map(|prefix| path.strip_prefix(prefix));
    if let Some(device) = device {
        if let Some(drive) = drive_letter(device) {
            return (drive, &device[2..]);
        }
        let (first, rest) = device.split_once('\\').unwrap_or((device, ""));
        if first.eq_ignore_ascii_case("pipe") {
            return (r"\\.\pipe".to_string(), rest);
        }
        if first.eq_ignore_ascii_case("unc") {
            return unc_root(rest);
        }
        return (format!(r"\\?\{first}"), rest);
    }
    if let Some(unc) = path.strip_prefix(r"\\") {
        return unc_root(unc);
    }
    match drive_letter(path) {
        Some(drive) => (drive, &path[2..]),
        None => ("C:".to_string(), path),
    }
}

/// `server\share\rest`. Any host's `pipe` share is its named pipes and an admin share (`C$`) its
/// whole drive; the host may be this node under any of its names, so both read as local.
fn unc_root(unc: &str) -> (String, &str) {
    let mut parts = unc.splitn(3, '\\');
    let server = parts.next().unwrap_or_default();
    let share = parts.next().unwrap_or_default();
    let rest = parts.next().unwrap_or_default();
    if share.eq_ignore_ascii_case("pipe") {
        return (r"\\.\pipe".to_string(), rest);
    }
    let bytes = share.as_bytes();
    if bytes.len() == 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b'$' {
        return (
            format!("{}:", (bytes[0] as char).to_ascii_uppercase()),
            rest,
        );
    }
    (format!(r"\\{server}\{share}"), rest)
}

/// The length of a normalised Windows path's root: `C:`, or `\\a\b`.
fn windows_root_len(normalised: &str) -> usize {
    match normalised.strip_prefix(r"\\") {
        Some(unc) => {
            let mut separators = unc.match_indices('\\').map(|(i, _)| i + 2);
            separators
                .nth(1)
                .unwrap_or(normalised.len())
                .min(normalised.len())
        }
        None => normalised.find('\\').unwrap_or(normalised.len()),
    }
}

/// Whether `segment` is an 8.3 short name (`PROGRA~3`, `DOCKER~1.SOC`) that can stand for the long
/// name `name`: up to six of its first characters, spaces left out, then `~` and a number. Which
/// number belongs to which name depends on the folder, so any number counts.
fn is_short_name_of(segment: &str, name: &str) -> bool {
    let Some(tilde) = segment.bytes().position(|byte| byte == b'~') else {
        return false;
    };
    let (head, tail) = (&segment[..tilde], &segment[tilde + 1..]);
    let number = tail.split('.').next().unwrap_or_default();
    if head.is_empty() || head.len() > 6 || number.is_empty() {
        return false;
    }
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let long: String = name.chars().filter(|c| *c != ' ' && *c != '.').collect();
    long.get(..head.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_paths_resolve_dots_slashes_and_var_run() {
        for (written, normalised) in [
            ("/var/run/docker.sock", "/run/docker.sock"),
            ("//var//run/./docker.sock/", "/run/docker.sock"),
            ("/var/lib/../run/containerd/", "/run/containerd"),
            ("/../../var/run", "/run"),
            ("/", "/"),
            ("", "/"),
            ("/var/run-data", "/var/run-data"),
            ("/var/./run/../run/crio", "/run/crio"),
            ("var/run/docker.sock", "/run/docker.sock"),
            (r"\var\run\docker.sock", r"/\var\run\docker.sock"),
        ] {
            assert_eq!(normalise_linux(written), normalised, "{written}");
        }
    }

    #[test]
    fn windows_paths_have_one_form_whatever_the_spelling() {
        for (written, normalised) in [
            (r"\\.\pipe\docker_engine", r"\\.\pipe\docker_engine"),
            ("//./pipe/docker_engine", r"\\.\pipe\docker_engine"),
            (r"\\?\pipe\docker_engine", r"\\.\pipe\docker_engine"),
            (r"\\localhost\pipe\docker_engine", r"\\.\pipe\docker_engine"),
            (r"C:\ProgramData\docker", r"C:\ProgramData\docker"),
            ("c:/ProgramData/docker/", r"C:\ProgramData\docker"),
            (r"c:ProgramData\docker", r"C:\ProgramData\docker"),
            (r"\ProgramData\docker", r"C:\ProgramData\docker"),
            (r"ProgramData\docker", r"C:\ProgramData\docker"),
            (r"\\?\C:\ProgramData\docker", r"C:\ProgramData\docker"),
            (
                r"\\localhost\c$\ProgramData\docker",
                r"C:\ProgramData\docker",
            ),
            (r"\\?\UNC\node-1\C$\ProgramData", r"C:\ProgramData"),
            (r"C:\ProgramData\docker. . ", r"C:\ProgramData\docker"),
            (
                r"C:\ProgramData\docker::$INDEX_ALLOCATION",
                r"C:\ProgramData\docker",
            ),
            (r"C:\ProgramData\x\..\docker\.", r"C:\ProgramData\docker"),
            (r"C:\", r"C:\"),
            (r"C:", r"C:\"),
            (
                r"\\?\GLOBALROOT\Device\HarddiskVolume1",
                r"\\?\GLOBALROOT\Device\HarddiskVolume1",
            ),
            (r"\\fileserver\share\data", r"\\fileserver\share\data"),
        ] {
            assert_eq!(normalise_windows(written), normalised, "{written}");
        }
    }

    #[test]
    fn windows_segments_start_with_the_root() {
        fn segments(p: &str) -> Vec<&str> {
            Flavour::Windows.segments(p).collect()
        }
        assert_eq!(
            segments(r"\\.\pipe\docker_engine"),
            [r"\\.\pipe", "docker_engine"]
        );
        assert_eq!(
            segments(r"C:\ProgramData\docker"),
            ["C:", "ProgramData", "docker"]
        );
        assert_eq!(segments(r"C:\"), ["C:"]);
        assert_eq!(segments(r"\\server\share"), [r"\\server\share"]);
        assert_eq!(Flavour::Linux.segments("/").count(), 0);
    }

    #[test]
    fn windows_segments_match_ignoring_case_and_by_short_name() {
        let matches = |pattern, segment| Flavour::Windows.segment_matches(pattern, segment);
        assert!(matches("ProgramData", "PROGRAMDATA"));
        assert!(matches("ProgramData", "PROGRA~3"));
        assert!(matches("Program Files", "progra~1"));
        assert!(matches("containerd", "CONTAI~1.D"));
        assert!(!matches("ProgramData", "PROGRAM~X"));
        assert!(!matches("ProgramData", "DATA~1"));
        assert!(!matches("docker", "dockers"));
        assert!(matches(r"\\?\*", r"\\?\GLOBALROOT"));
        assert!(!Flavour::Linux.segment_matches("docker", "Docker"));
    }

    #[test]
    fn operators_paths_are_read_in_the_flavour_they_are_written_in() {
        assert_eq!(Flavour::of_written("/opt/cni"), Flavour::Linux);
        assert_eq!(Flavour::of_written(r"D:\docker"), Flavour::Windows);
        assert_eq!(Flavour::of_written(r"\\.\pipe\my_engine"), Flavour::Windows);
        assert_eq!(Flavour::of_written("//./pipe/my_engine"), Flavour::Windows);
        assert_eq!(Flavour::of_normalised(r"D:\docker"), Flavour::Windows);
        assert_eq!(Flavour::of_normalised("/opt/cni"), Flavour::Linux);
    }
}

//! Who may have written what the cache holds. The SHA-256 stored with an entry proves the entry is
//! intact, not who wrote it: anyone able to write the folder could write native code with a
//! matching digest. So the folder, and each entry, must be writable by the current user only (and
//! root, who can do anything anyway).

use std::path::Path;

use anyhow::bail;

/// Refuses `folder` unless the current user owns it and neither its group nor others may write it.
/// A folder that does not exist yet is fine: the cache creates it private.
pub(super) fn check_folder(folder: &Path) -> anyhow::Result<()> {
    let metadata = match std::fs::metadata(folder) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => bail!(
            "cannot check the compiled-module cache folder {}: {error}",
            folder.display()
        ),
    };
    if !metadata.is_dir() {
        bail!(
            "the compiled-module cache folder {} is not a folder",
            folder.display()
        );
    }
    if let Some(problem) = problem(&metadata) {
        bail!(
            "refusing the compiled-module cache folder {}: it is {problem}, so someone else could \
             put native code there that host-test would run; make it yours and private \
             (chown \"$USER\" and chmod 700 it), or pass --no-cache",
            folder.display()
        );
    }
    Ok(())
}

/// What is wrong with trusting a file or folder with `metadata`; `None` when nothing is.
#[cfg(unix)]
pub(super) fn problem(metadata: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let user = unsafe { libc::geteuid() };
    problem_with(metadata.uid(), metadata.mode(), user)
}

/// Without Unix owners and modes, nothing here can say who may write a folder.
#[cfg(not(unix))]
pub(super) fn problem(_metadata: &std::fs::Metadata) -> Option<String> {
    Some("on a system where host-test cannot tell who may write it".to_string())
}

/// [`problem`] for a file owned by `owner` with permission bits `mode`, read by `user`.
fn problem_with(owner: u32, mode: u32, user: u32) -> Option<String> {
    if owner != user {
        return Some(format!(
            "owned by user {owner}, not by the current user {user}"
        ));
    }
    let writable_by = match (mode & 0o020 != 0, mode & 0o002 != 0) {
        (false, false) => return None,
        (true, false) => "its group",
        (false, true) => "others",
        (true, true) => "its group and others",
    };
    Some(format!(
        "writable by {writable_by} (mode {:o})",
        mode & 0o7777
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_folder_of_ones_own_that_no_one_else_writes_is_trusted() {
        for mode in [0o700, 0o755, 0o500, 0o40700] {
            assert_eq!(problem_with(1000, mode, 1000), None, "{mode:o}");
        }
        assert_eq!(
            problem_with(1000, 0o770, 1000).as_deref(),
            Some("writable by its group (mode 770)")
        );
        assert_eq!(
            problem_with(1000, 0o40703, 1000).as_deref(),
            Some("writable by others (mode 703)")
        );
        assert_eq!(
            problem_with(1000, 0o1777, 1000).as_deref(),
            Some("writable by its group and others (mode 1777)")
        );
        assert_eq!(
            problem_with(0, 0o700, 1000).as_deref(),
            Some("owned by user 0, not by the current user 1000")
        );
    }
}

//! The compiled-module cache: a second load hits, a corrupt entry is compiled again, and
//! `--no-cache` neither reads nor writes it.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{VALID_SETTINGS, ValidateBehaviour, canned_policy, wasm, write_policy};
use host_test::run::module_cache::{CacheOutcome, ModuleCache};
use host_test::{WapcModule, WapcRuntime};

const TIMEOUT: Duration = Duration::from_secs(2);

fn policy_wasm() -> Vec<u8> {
    wasm(&canned_policy(
        VALID_SETTINGS,
        ValidateBehaviour::Answer(r#"{"accepted":true}"#),
    ))
}

fn entries(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(listing) => listing.map(|entry| entry.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn a_second_load_hits_the_cache_and_the_module_works() {
    let dir = tempfile::tempdir().unwrap();
    let cache = ModuleCache::new(dir.path().join("cache"));
    let runtime = WapcRuntime::new().unwrap();
    let wasm = policy_wasm();

    let (_, first) = WapcModule::load(&runtime, &wasm, TIMEOUT, Some(&cache)).unwrap();
    assert_eq!(first, CacheOutcome::Miss);
    assert_eq!(
        entries(cache.dir()).len(),
        1,
        "one entry, no temporary left"
    );

    let (module, second) = WapcModule::load(&runtime, &wasm, TIMEOUT, Some(&cache)).unwrap();
    assert!(second.is_hit());
    assert_eq!(
        module.call("validate", b"{}").unwrap(),
        br#"{"accepted":true}"#
    );

    // Another module does not find this one's entry.
    let mut other = wasm.clone();
    other.extend_from_slice(&[0, 4, 3, b'x', b'y', b'z']); // a custom section "xyz"
    let (_, outcome) = WapcModule::load(&runtime, &other, TIMEOUT, Some(&cache)).unwrap();
    assert_eq!(outcome, CacheOutcome::Miss);
}

#[test]
fn a_corrupt_entry_is_compiled_again_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let cache = ModuleCache::new(dir.path());
    let runtime = WapcRuntime::new().unwrap();
    let wasm = policy_wasm();
    WapcModule::load(&runtime, &wasm, TIMEOUT, Some(&cache)).unwrap();
    let entry = single_entry(cache.dir());

    for corruption in [&b""[..], b"garbage", &std::fs::read(&entry).unwrap()[..100]] {
        std::fs::write(&entry, corruption).unwrap();
        let (module, outcome) = WapcModule::load(&runtime, &wasm, TIMEOUT, Some(&cache)).unwrap();
        assert_eq!(outcome, CacheOutcome::Recompiled);
        assert_eq!(
            module.call("validate", b"{}").unwrap(),
            br#"{"accepted":true}"#
        );
        let (_, outcome) = WapcModule::load(&runtime, &wasm, TIMEOUT, Some(&cache)).unwrap();
        assert!(outcome.is_hit(), "the entry was rewritten");
    }

    // One flipped byte in the compiled code is caught by the digest.
    let mut entry_bytes = std::fs::read(&entry).unwrap();
    let last = entry_bytes.len() - 1;
    entry_bytes[last] ^= 0xff;
    std::fs::write(&entry, &entry_bytes).unwrap();
    let (_, outcome) = WapcModule::load(&runtime, &wasm, TIMEOUT, Some(&cache)).unwrap();
    assert_eq!(outcome, CacheOutcome::Recompiled);
}

/// The one entry in `dir`.
fn single_entry(dir: &std::path::Path) -> std::path::PathBuf {
    let found = entries(dir);
    assert_eq!(found.len(), 1, "{found:?}");
    found.into_iter().next().unwrap()
}

fn host_test(cache_home: &std::path::Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_host-test"))
        .env("XDG_CACHE_HOME", cache_home)
        .args(args)
        .output()
        .expect("host-test runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn run_uses_the_cache_and_no_cache_bypasses_it() {
    let dir = tempfile::tempdir().unwrap();
    let cache_home = dir.path().join("cache-home");
    let cache_dir = cache_home.join("restricted-pod-policy/host-test");
    let policy = write_policy(
        dir.path(),
        "allow.wasm",
        &canned_policy(
            VALID_SETTINGS,
            ValidateBehaviour::Answer(r#"{"accepted":true}"#),
        ),
    );
    let request = dir.path().join("request.json");
    std::fs::write(&request, common::admission_request_json("one")).unwrap();
    let policy = policy.to_str().unwrap();
    let request = request.to_str().unwrap();
    let run = ["run", "--policy", policy, "--request", request];
    let run_no_cache = [&run[..], &["--no-cache"]].concat();

    let stderr = host_test(&cache_home, &run_no_cache);
    assert!(stderr.contains(" compiled in "), "{stderr}");
    assert!(entries(&cache_dir).is_empty(), "--no-cache writes nothing");

    let stderr = host_test(&cache_home, &run);
    assert!(stderr.contains("compiled (and cached)"), "{stderr}");
    assert_eq!(entries(&cache_dir).len(), 1);

    let stderr = host_test(&cache_home, &run);
    assert!(
        stderr.contains("loaded from the compiled-module cache"),
        "{stderr}"
    );

    let stderr = host_test(&cache_home, &run_no_cache);
    assert!(
        stderr.contains(" compiled in "),
        "--no-cache reads nothing: {stderr}"
    );
}

#[test]
fn the_cache_is_made_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let cache = ModuleCache::new(dir.path().join("made/by/host-test"));
    let runtime = WapcRuntime::new().unwrap();
    WapcModule::load(&runtime, &policy_wasm(), TIMEOUT, Some(&cache)).unwrap();
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(cache.dir()), 0o700);
    assert_eq!(mode(&dir.path().join("made")), 0o700);
    assert_eq!(mode(&single_entry(cache.dir())), 0o600);
}

#[test]
fn a_folder_others_can_write_is_refused_and_nothing_is_read_or_written() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let cache = ModuleCache::new(dir.path().join("cache"));
    let runtime = WapcRuntime::new().unwrap();
    let wasm = policy_wasm();
    WapcModule::load(&runtime, &wasm, TIMEOUT, Some(&cache)).unwrap();
    let entry = single_entry(cache.dir());
    let written = std::fs::read(&entry).unwrap();

    for mode in [0o770, 0o707, 0o777] {
        std::fs::set_permissions(cache.dir(), std::fs::Permissions::from_mode(mode)).unwrap();
        let error = WapcModule::load(&runtime, &wasm, TIMEOUT, Some(&cache))
            .err()
            .expect("the folder is refused");
        let message = format!("{error:#}");
        assert!(
            message.contains("refusing the compiled-module cache folder")
                && message.contains(&format!("(mode {mode:o})"))
                && message.contains("--no-cache"),
            "{message}"
        );
    }
    assert_eq!(
        std::fs::read(&entry).unwrap(),
        written,
        "the entry is untouched"
    );

    // Made private again, it is used again.
    std::fs::set_permissions(cache.dir(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let (_, outcome) = WapcModule::load(&runtime, &wasm, TIMEOUT, Some(&cache)).unwrap();
    assert!(outcome.is_hit());

    // An entry that others may write is not loaded: it is compiled again and replaced.
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (_, outcome) = WapcModule::load(&runtime, &wasm, TIMEOUT, Some(&cache)).unwrap();
    assert_eq!(outcome, CacheOutcome::Recompiled);
    let (_, outcome) = WapcModule::load(&runtime, &wasm, TIMEOUT, Some(&cache)).unwrap();
    assert!(outcome.is_hit(), "the rewritten entry is private");
}

/// Whether this process runs as root, who may give files away (as CI does).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|line| line.starts_with("Uid:") && line.split_whitespace().nth(2) == Some("0"))
}

#[test]
fn a_folder_another_user_owns_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("cache");
    std::fs::create_dir(&folder).unwrap();
    let status = Command::new("chown")
        .arg("65534")
        .arg(&folder)
        .status()
        .unwrap();
    if !is_root() {
        // Only root can give a folder away; the ownership rule itself is tested in trust.rs.
        assert!(!status.success(), "chown worked without root");
        return;
    }
    assert!(status.success());
    let cache = ModuleCache::new(&folder);
    let error = WapcModule::load(
        &WapcRuntime::new().unwrap(),
        &policy_wasm(),
        TIMEOUT,
        Some(&cache),
    )
    .err()
    .expect("the folder is refused");
    assert!(
        format!("{error:#}").contains("it is owned by user 65534, not by the current user 0"),
        "{error:#}"
    );
    assert!(entries(&folder).is_empty());
}

#[test]
fn run_says_why_it_refuses_the_cache_and_no_cache_still_runs() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let cache_home = dir.path().join("cache-home");
    let cache_dir = cache_home.join("restricted-pod-policy/host-test");
    std::fs::create_dir_all(&cache_dir).unwrap();
    std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let policy = write_policy(
        dir.path(),
        "allow.wasm",
        &canned_policy(
            VALID_SETTINGS,
            ValidateBehaviour::Answer(r#"{"accepted":true}"#),
        ),
    );
    let request = dir.path().join("request.json");
    std::fs::write(&request, common::admission_request_json("one")).unwrap();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_host-test"))
            .env("XDG_CACHE_HOME", &cache_home)
            .args(["run", "--policy"])
            .arg(&policy)
            .arg("--request")
            .arg(&request)
            .args(extra)
            .output()
            .unwrap()
    };
    let refused = run(&[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(refused.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("refusing the compiled-module cache folder")
            && stderr.contains("writable by its group and others (mode 777)"),
        "{stderr}"
    );
    let bypassed = run(&["--no-cache"]);
    assert!(bypassed.status.success(), "{bypassed:?}");
    assert!(entries(&cache_dir).is_empty());
}

//! The harness's compiled-module cache: what Cranelift made of a module, kept on disk so a repeated
//! `host-test run` loads it instead of compiling again.
//!
//! An entry is named after the SHA-256 of the module bytes, the wasmtime version, the target and
//! the engine's compatibility hash (its configuration), and lives under the user's cache folder
//! (`$XDG_CACHE_HOME/restricted-pod-policy/host-test/`, else `~/.cache/restricted-pod-policy/host-test/`).
//!
//! Loading an entry runs the native code in it, so the cache trusts only what the current user (or
//! root) can have written: a folder another user owns, or that its group or others may write, is
//! refused with an error, and an entry that is not the user's own and private is compiled again
//! ([`trust`]). An entry starts with a magic line and the SHA-256 of the serialized bytes, both
//! checked before the bytes reach wasmtime, so a truncated, corrupt or foreign file, an unreadable
//! one or one wasmtime refuses is compiled again and rewritten. The folder is created private
//! (0700), entries are written private (0600) to a temporary file in the same folder and renamed
//! into place, so a reader never sees half an entry.

mod trust;

use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

/// The wasmtime the harness is built with (pinned in host-test/Cargo.toml); part of every key.
pub const WASMTIME_VERSION: &str = "48.0.8";

const MAGIC: &[u8] = b"restricted-pod-policy host-test compiled module v1\n";
const DIGEST_LEN: usize = 32;

/// How a module was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a cache entry; nothing was compiled.
    Hit,
    /// No entry: compiled, and stored when the folder was writable.
    Miss,
    /// An entry existed but could not be used (corrupt, unreadable, incompatible): compiled again.
    Recompiled,
    /// No cache in use (`--no-cache`, or no cache folder): compiled.
    Bypassed,
}

impl CacheOutcome {
    pub fn is_hit(self) -> bool {
        self == Self::Hit
    }
}

/// A folder of compiled modules.
#[derive(Debug, Clone)]
pub struct ModuleCache {
    dir: PathBuf,
}

impl ModuleCache {
    /// A cache in `dir` (created when the first entry is written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The user's cache: `$XDG_CACHE_HOME/restricted-pod-policy/host-test`, else
    /// `$HOME/.cache/restricted-pod-policy/host-test`; `None` when neither variable is set, or
    /// where who may write a folder cannot be checked (not Unix).
    pub fn user_default() -> Option<Self> {
        if cfg!(not(unix)) {
            return None;
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|value| !value.is_empty())
                    .map(|home| PathBuf::from(home).join(".cache"))
            })?;
        Some(Self::new(
            base.join("restricted-pod-policy").join("host-test"),
        ))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry file for `wasm` compiled by `engine`.
    pub fn entry_path(&self, engine: &Engine, wasm: &[u8]) -> PathBuf {
        self.dir.join(entry_name(engine, wasm))
    }

    /// The compiled `wasm`: from its entry when that is valid, else compiled (and stored). Fails
    /// when the folder is not the current user's own and private, or when `wasm` does not compile.
    pub fn load(&self, engine: &Engine, wasm: &[u8]) -> anyhow::Result<(Module, CacheOutcome)> {
        trust::check_folder(&self.dir)?;
        let path = self.entry_path(engine, wasm);
        let outcome = match read_entry(&path) {
            Ok(entry) => match deserialize_entry(engine, &entry) {
                Ok(module) => return Ok((module, CacheOutcome::Hit)),
                Err(error) => {
                    tracing::warn!("ignoring the cache entry {}: {error:#}", path.display());
                    CacheOutcome::Recompiled
                }
            },
            Err(error)
                if error
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|error| error.kind() == std::io::ErrorKind::NotFound) =>
            {
                CacheOutcome::Miss
            }
            Err(error) => {
                tracing::warn!("ignoring the cache entry {}: {error:#}", path.display());
                CacheOutcome::Recompiled
            }
        };
        let module = Module::new(engine, wasm)
            .map_err(anyhow::Error::from)
            .context("cannot compile the WebAssembly module")?;
        if let Err(error) = self.store(&path, &module) {
            tracing::warn!("cannot write the cache entry {}: {error:#}", path.display());
        }
        Ok((module, outcome))
    }

    /// Makes the entry of `wasm` serve `extended` too, when `extended` is `wasm` with custom sections
    /// named `appended_section` added after it and the cache holds `wasm`. The caller vouches that
    /// wasmtime's compilation ignores that section; as it comes after the code, it moves no offset the
    /// compiled module records, so both bytes compile to the same module. `annotate` uses this, so
    /// `run` of the module it wrote loads what it compiled. Says whether it shared the entry.
    pub fn share_entry(
        &self,
        engine: &Engine,
        wasm: &[u8],
        extended: &[u8],
        appended_section: &str,
    ) -> anyhow::Result<bool> {
        if !only_sections_appended(wasm, extended, appended_section)? {
            return Ok(false);
        }
        trust::check_folder(&self.dir)?;
        let entry = match read_entry(&self.entry_path(engine, wasm)) {
            Ok(entry) => entry,
            Err(error)
                if error
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|error| error.kind() == std::io::ErrorKind::NotFound) =>
            {
                return Ok(false);
            }
            Err(error) => return Err(error),
        };
        let serialized = checked_serialized(&entry)?;
        self.write_entry(&self.entry_path(engine, extended), serialized)?;
        Ok(true)
    }

    fn store(&self, path: &Path, module: &Module) -> anyhow::Result<()> {
        let serialized = module
            .serialize()
            .map_err(anyhow::Error::from)
            .context("cannot serialize the module")?;
        self.write_entry(path, &serialized)
    }

    fn write_entry(&self, path: &Path, serialized: &[u8]) -> anyhow::Result<()> {
        create_private_folder(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        // A folder that existed was checked by `load`; one made just now is checked as well, in
        // case another process made it first.
        trust::check_folder(&self.dir)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let temporary = self
            .dir
            .join(format!(".tmp-{}-{nanos}", std::process::id()));
        let written = (|| {
            let mut file = create_private_file(&temporary)?;
            file.write_all(MAGIC)?;
            file.write_all(&Sha256::digest(serialized))?;
            file.write_all(serialized)?;
            file.sync_all()?;
            std::fs::rename(&temporary, path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        written.context("cannot write the entry")
    }
}

/// The entry at `path`, when it is the current user's own file that no one else may write.
fn read_entry(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    // The open file's own metadata: the checked file is the one read, whatever happens to the path.
    let metadata = file.metadata()?;
    anyhow::ensure!(metadata.is_file(), "not a file");
    if let Some(problem) = trust::problem(&metadata) {
        anyhow::bail!("it is {problem}");
    }
    let mut entry = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut entry)?;
    Ok(entry)
}

/// Creates `folder` and the folders above it that are missing, readable by the current user only.
fn create_private_folder(folder: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder)
}

/// Creates the file `path`, which must not exist (so no link planted there is followed), readable
/// by the current user only.
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// `SHA256(module)-wasmtime48.0.8-x86_64-linux-ENGINEHASH`: a different module, wasmtime, target or
/// engine configuration never finds another's entry.
fn entry_name(engine: &Engine, wasm: &[u8]) -> String {
    let mut engine_hash = Sha256Hasher(Sha256::new());
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let engine_hash = engine_hash.0.finalize();
    format!(
        "{}-wasmtime{WASMTIME_VERSION}-{}-{}-{}.cwasm",
        hex(&Sha256::digest(wasm)),
        std::env::consts::ARCH,
        std::env::consts::OS,
        &hex(&engine_hash)[..16],
    )
}

/// Whether `extended` is `wasm` followed by custom sections named `section` only.
fn only_sections_appended(wasm: &[u8], extended: &[u8], section: &str) -> anyhow::Result<bool> {
    if extended.len() <= wasm.len() || !extended.starts_with(wasm) {
        return Ok(false);
    }
    for payload in wasmparser::Parser::new(0).parse_all(extended) {
        let payload = payload.context("the extended module is not valid WebAssembly")?;
        let Some((_, range)) = payload.as_section() else {
            continue;
        };
        let appended = range.start >= wasm.len();
        let named = matches!(&payload, wasmparser::Payload::CustomSection(custom) if custom.name() == section);
        if appended && !named {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The serialized module in an entry, once its magic and digest are checked.
fn checked_serialized(entry: &[u8]) -> anyhow::Result<&[u8]> {
    let rest = entry
        .strip_prefix(MAGIC)
        .context("not a host-test cache entry")?;
    anyhow::ensure!(rest.len() >= DIGEST_LEN, "truncated entry");
    let (digest, serialized) = rest.split_at(DIGEST_LEN);
    anyhow::ensure!(
        Sha256::digest(serialized).as_slice() == digest,
        "the entry's digest does not match its content"
    );
    Ok(serialized)
}

/// Checks the magic and the digest, then hands the bytes to wasmtime.
fn deserialize_entry(engine: &Engine, entry: &[u8]) -> anyhow::Result<Module> {
    let serialized = checked_serialized(entry)?;
    // SAFETY: `Module::deserialize` runs the native code in its input, so the input must be what
    // `Module::serialize` wrote for this engine. What is trusted for that: the current user and
    // root, the only ones who can have written this entry (`load` refuses a cache folder anyone else
    // owns or may write, and `read_entry` an entry file that is not the user's own and private);
    // the entry's name, which carries the wasmtime version, target and engine configuration; and
    // wasmtime, which checks its own header for the same again. The SHA-256 checked above proves the
    // bytes are the ones written, whole and unchanged; it does not prove who wrote them.
    unsafe { Module::deserialize(engine, serialized) }
        .map_err(anyhow::Error::from)
        .context("wasmtime refused the entry")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Feeds `Hash` into SHA-256, so the engine's compatibility hash is stable across runs and builds.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(
            digest[..8]
                .try_into()
                .expect("a SHA-256 digest has 32 bytes"),
        )
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_checked_before_deserializing() {
        let engine = Engine::default();
        assert!(deserialize_entry(&engine, b"garbage").is_err());
        let mut entry = MAGIC.to_vec();
        entry.extend_from_slice(&[0; 10]);
        assert!(deserialize_entry(&engine, &entry).is_err());
        let mut entry = MAGIC.to_vec();
        entry.extend_from_slice(&[0; DIGEST_LEN]);
        entry.extend_from_slice(b"serialized bytes whose digest is not all zeros");
        assert!(deserialize_entry(&engine, &entry).is_err());
    }

    #[test]
    fn the_key_names_the_module_and_the_wasmtime_version() {
        let engine = Engine::default();
        let a = entry_name(&engine, b"a");
        assert_ne!(a, entry_name(&engine, b"b"));
        assert_eq!(a, entry_name(&engine, b"a"));
        assert!(a.contains("wasmtime48.0.8"), "{a}");
        assert!(a.starts_with(&hex(&Sha256::digest(b"a"))), "{a}");
    }

    fn with_custom_section(wasm: &[u8], name: &str) -> Vec<u8> {
        use wasm_encoder::Section as _;
        let mut extended = wasm.to_vec();
        wasm_encoder::CustomSection {
            name: name.into(),
            data: b"data".into(),
        }
        .append_to(&mut extended);
        extended
    }

    #[test]
    fn an_entry_is_shared_only_with_its_module_plus_the_named_section() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ModuleCache::new(dir.path().join("cache"));
        let engine = Engine::default();
        let wasm =
            wat::parse_str("(module (func (export \"f\") (result i32) i32.const 1))").unwrap();
        let annotated = with_custom_section(&wasm, "io.kubewarden.metadata");

        // Nothing cached yet: nothing to share.
        assert!(
            !cache
                .share_entry(&engine, &wasm, &annotated, "io.kubewarden.metadata")
                .unwrap()
        );
        assert_eq!(cache.load(&engine, &wasm).unwrap().1, CacheOutcome::Miss);

        // Another section appended, a section in front, or other code: not shared.
        let named_otherwise = with_custom_section(&wasm, "name");
        let other =
            wat::parse_str("(module (func (export \"f\") (result i32) i32.const 2))").unwrap();
        let mut in_front = with_custom_section(
            &wat::parse_str("(module)").unwrap(),
            "io.kubewarden.metadata",
        );
        in_front.extend_from_slice(&wasm[8..]);
        for not_alike in [
            &named_otherwise,
            &with_custom_section(&other, "io.kubewarden.metadata"),
            &in_front,
            &wasm,
        ] {
            assert!(
                !cache
                    .share_entry(&engine, &wasm, not_alike, "io.kubewarden.metadata")
                    .unwrap()
            );
        }
        assert!(!cache.entry_path(&engine, &named_otherwise).exists());

        assert!(
            cache
                .share_entry(&engine, &wasm, &annotated, "io.kubewarden.metadata")
                .unwrap()
        );
        let (module, outcome) = cache.load(&engine, &annotated).unwrap();
        assert_eq!(outcome, CacheOutcome::Hit);
        assert!(module.get_export("f").is_some());
    }
}

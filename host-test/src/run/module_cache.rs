//! The harness's compiled-module cache: what Cranelift made of a module, kept on disk so a repeated
//! `host-test run` loads it instead of compiling again.
//!
//! An entry is named after the SHA-256 of the module bytes, the wasmtime version, the target and
//! the engine's compatibility hash (its configuration), and lives under the user's cache folder
//! (`$XDG_CACHE_HOME/restricted-pod-policy/host-test/`, else `~/.cache/restricted-pod-policy/host-test/`).
//!
//! `Module::deserialize` is unsafe: it trusts its input to be what `Module::serialize` wrote. So an
//! entry starts with a magic line and the SHA-256 of the serialized bytes, both checked before the
//! bytes reach wasmtime; anything else (a truncated, corrupt or foreign file, an unreadable one, one
//! wasmtime refuses) is compiled again and rewritten. Entries are written to a temporary file in the
//! same folder and renamed into place, so a reader never sees half an entry.

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
    /// `$HOME/.cache/restricted-pod-policy/host-test`; `None` when neither variable is set.
    pub fn user_default() -> Option<Self> {
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

    /// The compiled `wasm`: from its entry when that is valid, else compiled (and stored).
    pub fn load(&self, engine: &Engine, wasm: &[u8]) -> wasmtime::Result<(Module, CacheOutcome)> {
        let path = self.entry_path(engine, wasm);
        let outcome = match std::fs::read(&path) {
            Ok(entry) => match deserialize_entry(engine, &entry) {
                Ok(module) => return Ok((module, CacheOutcome::Hit)),
                Err(error) => {
                    tracing::warn!("ignoring the cache entry {}: {error:#}", path.display());
                    CacheOutcome::Recompiled
                }
            },
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => CacheOutcome::Miss,
            Err(error) => {
                tracing::warn!("cannot read the cache entry {}: {error}", path.display());
                CacheOutcome::Recompiled
            }
        };
        let module = Module::new(engine, wasm)?;
        if let Err(error) = self.store(&path, &module) {
            tracing::warn!("cannot write the cache entry {}: {error:#}", path.display());
        }
        Ok((module, outcome))
    }

    fn store(&self, path: &Path, module: &Module) -> anyhow::Result<()> {
        let serialized = module
            .serialize()
            .map_err(anyhow::Error::from)
            .context("cannot serialize the module")?;
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let temporary = self
            .dir
            .join(format!(".tmp-{}-{nanos}", std::process::id()));
        let written = (|| {
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(MAGIC)?;
            file.write_all(&Sha256::digest(&serialized))?;
            file.write_all(&serialized)?;
            file.sync_all()?;
            std::fs::rename(&temporary, path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        written.context("cannot write the entry")
    }
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

/// Checks the magic and the digest, then hands the bytes to wasmtime.
fn deserialize_entry(engine: &Engine, entry: &[u8]) -> anyhow::Result<Module> {
    let rest = entry
        .strip_prefix(MAGIC)
        .context("not a host-test cache entry")?;
    anyhow::ensure!(rest.len() >= DIGEST_LEN, "truncated entry");
    let (digest, serialized) = rest.split_at(DIGEST_LEN);
    anyhow::ensure!(
        Sha256::digest(serialized).as_slice() == digest,
        "the entry's digest does not match its content"
    );
    // SAFETY: the bytes are exactly what `Module::serialize` produced in `store` (their SHA-256,
    // written with them, matches), for this wasmtime version, target and engine configuration (the
    // entry's name says so, and wasmtime checks its own header again).
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
}

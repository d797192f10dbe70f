//! What every command that runs a module shares: where the module comes from, how it runs (deadline,
//! memory, cache), the registry options, the settings, and what answers its host calls.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use clap::Args;
use serde_json::Value;

use crate::run::host_capabilities::session::Replay;
use crate::run::host_capabilities::{ClusterState, HostCapabilities, Source};
use crate::run::input::read_document;
use crate::run::module_cache::{CacheOutcome, ModuleCache};
use crate::run::wapc_host::DEFAULT_TIMEOUT;
use crate::ship::metadata::{ExecutionMode, Metadata, read_embedded_metadata};
use crate::ship::registry::{
    PASSWORD_VARIABLE, RegistryClient, is_registry_location, registry_auth,
};
use crate::{WapcModule, WapcRuntime};

#[derive(Args)]
pub struct RegistryArgs {
    /// Talk plain HTTP to the registry instead of HTTPS.
    #[arg(long)]
    pub insecure: bool,
    /// Log in with this user; the password is read from the environment variable REGISTRY_PASSWORD.
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,
}

impl RegistryArgs {
    pub fn client(&self) -> anyhow::Result<RegistryClient> {
        let password = std::env::var(PASSWORD_VARIABLE).ok();
        RegistryClient::new(
            self.insecure,
            registry_auth(self.username.as_deref(), password)?,
        )
    }
}

/// How a module runs: what policy-server's flags set, and the harness's own limits.
#[derive(Args)]
pub struct ModuleArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Evaluation deadline in seconds (policy-server's --policy-timeout).
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout,
          default_value_t = DEFAULT_TIMEOUT.as_secs_f64())]
    pub timeout: f64,
    /// Memory one instance of the module may use, in MiB; unlimited when unset, as in policy-server.
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_memory: Option<u32>,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// Whether a command that compiles a module goes through the compiled-module cache.
#[derive(Args)]
pub struct CacheArgs {
    /// Compile the module even when the compiled-module cache holds it, and store nothing.
    #[arg(long, visible_alias = "disable-wasmtime-cache")]
    pub no_cache: bool,
}

impl CacheArgs {
    /// The user's cache, unless `--no-cache` (or no cache folder) leaves the module to be compiled.
    pub fn cache(&self) -> Option<ModuleCache> {
        if self.no_cache {
            None
        } else {
            ModuleCache::user_default()
        }
    }
}

#[derive(Args)]
pub struct SettingsArgs {
    /// The policy settings as JSON.
    #[arg(long, value_name = "JSON", conflicts_with = "settings_path")]
    pub settings_json: Option<String>,
    /// A file with the policy settings, JSON or YAML (PSA's PodSecurityConfiguration and the
    /// policy's own keys).
    #[arg(short = 's', long, value_name = "FILE")]
    pub settings_path: Option<PathBuf>,
}

impl SettingsArgs {
    pub fn read(&self) -> anyhow::Result<Value> {
        Ok(match (&self.settings_json, &self.settings_path) {
            (Some(json), _) => serde_json::from_str(json).context("--settings-json is not JSON")?,
            (None, Some(path)) => read_document(path).context("cannot read the settings")?,
            (None, None) => Value::Object(Default::default()),
        })
    }
}

pub fn parse_timeout(text: &str) -> Result<f64, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    match Duration::try_from_secs_f64(seconds) {
        Ok(timeout) if !timeout.is_zero() => Ok(seconds),
        _ => Err("the timeout must be a positive number of seconds".to_string()),
    }
}

/// The module location in `given`, which may be written as kwctl takes it: `file://PATH` is the
/// file PATH; `registry://…` is kept; kwctl's other sources (`https://`, a SHA prefix of its store)
/// are refused as such, not taken for files.
pub fn policy_location(given: &str) -> anyhow::Result<&str> {
    if let Some(path) = given.strip_prefix("file://") {
        return Ok(path);
    }
    if given.starts_with("http://") || given.starts_with("https://") {
        bail!("{given}: host-test loads a module from a file or registry://; download it first");
    }
    Ok(given)
}

/// Answers to the policy's Kubernetes host calls, as `kwctl run` takes them.
#[derive(Args, Default)]
pub struct HostCapabilityArgs {
    /// Grant the module the Kubernetes resources its metadata lists in `contextAwareResources`, as
    /// `kwctl run --allow-context-aware`; without it every Kubernetes host call is refused, as
    /// policy-server refuses kinds its policy was not granted.
    #[arg(long)]
    pub allow_context_aware: bool,
    /// Answer the Kubernetes host calls from these objects (Namespaces, Pods, …; YAML or JSON,
    /// several documents or `List`s, as `kubectl get -o yaml` writes them). An object not in it
    /// is answered as policy-server answers a missing one.
    #[arg(long, value_name = "FILE")]
    pub cluster_state: Option<PathBuf>,
    /// Write every Kubernetes host call and its answer to FILE, in kwctl's session format.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "replay_host_capabilities_interactions"
    )]
    pub record_host_capabilities_interactions: Option<PathBuf>,
    /// Answer the Kubernetes host calls from a session kwctl or host-test recorded, in order.
    #[arg(long, value_name = "FILE", conflicts_with = "cluster_state")]
    pub replay_host_capabilities_interactions: Option<PathBuf>,
}

impl HostCapabilityArgs {
    /// The host capabilities these arguments give a module with `metadata`, as kwctl grants them.
    pub fn build(
        &self,
        metadata: Option<&Metadata>,
        state: Option<ClusterState>,
    ) -> anyhow::Result<HostCapabilities> {
        let declared = metadata.map(|metadata| metadata.context_aware_resources.clone());
        let granted = match (&declared, self.allow_context_aware) {
            (Some(declared), true) => declared.clone(),
            (None, true) => {
                tracing::info!(
                    "Policy is not annotated, access to Kubernetes resources is not allowed"
                );
                BTreeSet::new()
            }
            (Some(declared), false) if !declared.is_empty() => {
                tracing::warn!(
                    "Policy requires access to Kubernetes resources at evaluation time. During this \
                     execution the access to Kubernetes resources is denied. This can cause the policy \
                     to not behave properly"
                );
                tracing::warn!(
                    "Carefully review which types of Kubernetes resources the policy needs via the \
                     `inspect` command, then run the policy using the `--allow-context-aware` flag."
                );
                BTreeSet::new()
            }
            _ => BTreeSet::new(),
        };
        let source = match (&self.replay_host_capabilities_interactions, state) {
            (Some(session), _) => Source::Replay(Mutex::new(Replay::from_file(session)?)),
            (None, Some(state)) => Source::ClusterState(state),
            (None, None) => Source::None,
        };
        let capabilities = HostCapabilities::new(granted, source);
        Ok(match self.record_host_capabilities_interactions {
            Some(_) => capabilities.recording(),
            None => capabilities,
        })
    }

    /// The cluster state file's objects, if one was given.
    pub fn cluster_state(&self) -> anyhow::Result<Option<ClusterState>> {
        self.cluster_state
            .as_deref()
            .map(ClusterState::from_file)
            .transpose()
    }

    /// Writes the recorded session, when asked to record one, and says when a replayed one was not
    /// used up.
    pub fn finish(&self, capabilities: &HostCapabilities) -> anyhow::Result<()> {
        let unreplayed = capabilities.unreplayed();
        if unreplayed > 0 {
            tracing::warn!("{unreplayed} of the recorded exchanges have not been replayed");
        }
        if let Some(path) = &self.record_host_capabilities_interactions {
            capabilities.save_session(path)?;
            tracing::info!("host capabilities session saved to {}", path.display());
        }
        Ok(())
    }
}

/// A loaded policy: the compiled module and the metadata embedded in it, if any.
pub struct LoadedPolicy {
    pub module: WapcModule,
    pub metadata: Option<Metadata>,
}

/// Reads the module at `location` (a file or `registry://…`), refuses malformed or non-waPC
/// metadata, and compiles it (or takes it from the compiled-module cache).
pub fn load_policy(location: &str, args: &ModuleArgs) -> anyhow::Result<LoadedPolicy> {
    let wasm = if is_registry_location(location) {
        let (wasm, stored) = args.registry.client()?.pull(location)?;
        tracing::info!("pulled {location} ({})", stored.manifest_digest);
        wasm
    } else {
        std::fs::read(location)
            .with_context(|| format!("cannot read the policy module {location}"))?
    };
    let context = || format!("cannot load the policy module {location}");
    let metadata = read_embedded_metadata(&wasm).with_context(context)?;
    if let Some(metadata) = &metadata {
        ensure!(
            metadata.execution_mode == ExecutionMode::KubewardenWapc,
            "{location}: its metadata says executionMode {}, host-test runs kubewarden-wapc modules only",
            serde_json::to_string(&metadata.execution_mode)?
        );
    }
    let runtime = WapcRuntime::new()?;
    let started = Instant::now();
    let timeout = Duration::from_secs_f64(args.timeout);
    let (mut module, outcome) =
        WapcModule::load(&runtime, &wasm, timeout, args.cache.cache().as_ref())
            .with_context(context)?;
    if let Some(mib) = args.max_memory {
        module = module.with_max_memory(usize::try_from(mib)? << 20);
    }
    let how = match outcome {
        CacheOutcome::Hit => "loaded from the compiled-module cache",
        CacheOutcome::Miss | CacheOutcome::Recompiled => "compiled (and cached)",
        CacheOutcome::Bypassed => "compiled",
    };
    tracing::info!("{location} {how} in {} ms", started.elapsed().as_millis());
    Ok(LoadedPolicy { module, metadata })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_may_be_written_as_kwctl_takes_it() {
        assert_eq!(policy_location("policy.wasm").unwrap(), "policy.wasm");
        assert_eq!(
            policy_location("file:///tmp/p.wasm").unwrap(),
            "/tmp/p.wasm"
        );
        assert_eq!(policy_location("file://p.wasm").unwrap(), "p.wasm");
        assert_eq!(
            policy_location("registry://ghcr.io/o/p:v1").unwrap(),
            "registry://ghcr.io/o/p:v1"
        );
        let error = policy_location("https://example.com/p.wasm").unwrap_err();
        assert!(error.to_string().contains("download it first"), "{error}");
    }

    #[test]
    fn the_timeout_is_a_positive_number_of_seconds() {
        assert_eq!(parse_timeout("0.5"), Ok(0.5));
        assert_eq!(parse_timeout("3"), Ok(3.0));
        for refused in ["0", "-1", "NaN", "inf", "soon"] {
            assert!(parse_timeout(refused).is_err(), "{refused}");
        }
    }
}

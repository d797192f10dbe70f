//! The commands that ship a module, as kwctl's do: `annotate`, `scaffold artifacthub`, `push` and
//! `pull`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};

use super::policy::{CacheArgs, RegistryArgs};
use crate::run::wapc_host::DEFAULT_TIMEOUT;
use crate::ship::annotate::annotate;
use crate::ship::artifacthub::ArtifactHubPkg;
use crate::ship::metadata::{METADATA_SECTION, Metadata};
use crate::ship::registry::StoredPolicy;
use crate::{WapcModule, WapcRuntime};

#[derive(Args)]
pub struct AnnotateArgs {
    /// The policy metadata, YAML.
    #[arg(long, value_name = "metadata.yml")]
    pub metadata: PathBuf,
    /// A file whose text becomes the annotation io.kubewarden.policy.usage.
    #[arg(long, value_name = "FILE")]
    pub usage: Option<PathBuf>,
    /// Where to write the annotated module.
    #[arg(short, long, value_name = "FILE.wasm")]
    pub output: PathBuf,
    /// The module to annotate.
    #[arg(value_name = "MODULE.wasm")]
    pub module: PathBuf,
    #[command(flatten)]
    pub cache: CacheArgs,
}

#[derive(Subcommand)]
pub enum ScaffoldCommand {
    /// Write artifacthub-pkg.yml, like `kwctl scaffold artifacthub`.
    Artifacthub(ArtifacthubArgs),
}

#[derive(Args)]
pub struct ArtifacthubArgs {
    /// The policy metadata, YAML.
    #[arg(long, value_name = "metadata.yml")]
    pub metadata: PathBuf,
    /// Rancher's settings form for the policy.
    #[arg(long, value_name = "questions-ui.yml")]
    pub questions: Option<PathBuf>,
    /// Where to write the package; standard output when absent.
    #[arg(short, long, value_name = "artifacthub-pkg.yml")]
    pub output: Option<PathBuf>,
    /// The release time (RFC 3339); default: the createdAt of the existing output file.
    #[arg(long, value_name = "TIME")]
    pub created_at: Option<String>,
    /// Write nothing; fail when the output file differs from what would be written.
    #[arg(long, requires = "output")]
    pub check: bool,
}

#[derive(Args)]
pub struct PushArgs {
    /// The annotated module.
    #[arg(value_name = "MODULE.wasm")]
    pub module: PathBuf,
    /// Where to push it.
    #[arg(value_name = "registry://HOST/REPOSITORY:TAG")]
    pub location: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Args)]
pub struct PullArgs {
    /// What to pull.
    #[arg(value_name = "registry://HOST/REPOSITORY:TAG")]
    pub location: String,
    /// Where to write the module.
    #[arg(short, long, value_name = "FILE.wasm")]
    pub output: PathBuf,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

pub fn annotate_module(args: &AnnotateArgs) -> anyhow::Result<ExitCode> {
    let metadata = Metadata::from_yaml_file(&args.metadata)?;
    let usage = args
        .usage
        .as_ref()
        .map(|path| {
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the usage file {}", path.display()))
        })
        .transpose()?;
    let wasm = std::fs::read(&args.module)
        .with_context(|| format!("cannot read the policy module {}", args.module.display()))?;
    // Compiled to be asked its protocol version, through the cache `run` and `conformance` use.
    let runtime = WapcRuntime::new()?;
    let cache = args.cache.cache();
    let (module, _) = WapcModule::load(&runtime, &wasm, DEFAULT_TIMEOUT, cache.as_ref())
        .with_context(|| format!("cannot load the policy module {}", args.module.display()))?;
    let annotated = annotate(&module, &wasm, metadata, usage)
        .with_context(|| format!("cannot annotate {}", args.module.display()))?;
    std::fs::write(&args.output, &annotated)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    // The annotated module compiles to what its input did (the metadata section is appended and
    // wasmtime does not read it), so running either one after annotating compiles nothing.
    if let Some(cache) = &cache
        && let Err(error) = cache.share_entry(runtime.engine(), &wasm, &annotated, METADATA_SECTION)
    {
        tracing::warn!("cannot cache the annotated module: {error:#}");
    }
    tracing::info!(
        "wrote {} ({} bytes)",
        args.output.display(),
        annotated.len()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn scaffold(command: &ScaffoldCommand) -> anyhow::Result<ExitCode> {
    match command {
        ScaffoldCommand::Artifacthub(args) => scaffold_artifacthub(args),
    }
}

fn scaffold_artifacthub(args: &ArtifacthubArgs) -> anyhow::Result<ExitCode> {
    let metadata = Metadata::from_yaml_file(&args.metadata)?;
    let questions = args
        .questions
        .as_ref()
        .map(|path| {
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the questions file {}", path.display()))
        })
        .transpose()?;
    let existing = match &args.output {
        Some(path) if path.exists() => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        ),
        _ => None,
    };
    // The release time is data, not the time of the run, so regenerating is reproducible.
    let created_at = match (&args.created_at, &existing, &args.output) {
        (Some(created_at), _, _) => created_at.clone(),
        (None, Some(existing), Some(path)) => ArtifactHubPkg::created_at_of(existing)
            .with_context(|| format!("cannot read createdAt from {}", path.display()))?,
        _ => bail!("no release time: pass --created-at (RFC 3339, as in 2026-12-01T00:00:00Z)"),
    };
    let package = ArtifactHubPkg::from_metadata(&metadata, &created_at, questions.as_deref())
        .with_context(|| {
            format!(
                "cannot make the Artifact Hub package from {}",
                args.metadata.display()
            )
        })?;
    let text = package.to_file_text();
    match &args.output {
        Some(path) if args.check => {
            if existing.as_deref() != Some(text.as_str()) {
                tracing::error!(
                    "{} is out of date: regenerate it with `make artifacthub`",
                    path.display()
                );
                return Ok(ExitCode::FAILURE);
            }
            tracing::info!("{} is up to date", path.display());
        }
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn push(args: &PushArgs) -> anyhow::Result<ExitCode> {
    let wasm = std::fs::read(&args.module)
        .with_context(|| format!("cannot read the policy module {}", args.module.display()))?;
    let stored = args
        .registry
        .client()?
        .push(&wasm, &args.location)
        .with_context(|| format!("cannot push {}", args.module.display()))?;
    print_stored(&args.location, &stored, &args.module);
    Ok(ExitCode::SUCCESS)
}

pub fn pull(args: &PullArgs) -> anyhow::Result<ExitCode> {
    let (wasm, stored) = args.registry.client()?.pull(&args.location)?;
    std::fs::write(&args.output, &wasm)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    print_stored(&args.location, &stored, &args.output);
    Ok(ExitCode::SUCCESS)
}

/// One JSON line naming what the registry holds, for people and scripts alike.
fn print_stored(location: &str, stored: &StoredPolicy, file: &Path) {
    println!(
        "{}",
        serde_json::json!({
            "location": location,
            "manifestDigest": stored.manifest_digest,
            "layerDigest": stored.layer_digest,
            "file": file,
        })
    );
}

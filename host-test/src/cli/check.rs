//! `host-test check`: manifests through the module before they reach a cluster (the work is in
//! [`crate::check`]; this is its command line).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;

use super::policy::{ModuleArgs, SettingsArgs, load_policy};
use crate::PolicyEvaluator;
use crate::check;
use crate::run::host_capabilities::{ClusterState, HostCapabilities, Source};

#[derive(Args)]
pub struct CheckArgs {
    /// Manifests: files, folders (every *.yaml, *.yml and *.json below them) and `-` for standard
    /// input; multi-document YAML, JSON and `List` kinds.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// The policy module: a .wasm file or registry://HOST/REPOSITORY:TAG.
    #[arg(long, value_name = "FILE.wasm|registry://…")]
    pub policy: String,
    #[command(flatten)]
    pub module: ModuleArgs,
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = check::report::Format::Text)]
    pub format: check::report::Format,
    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The namespace of objects that name none.
    #[arg(long, default_value = "default")]
    pub namespace: String,
    /// The user the requests come from (`userInfo.username`), to try exemptions by user.
    #[arg(long, default_value = "ci")]
    pub user: String,
    /// A group of that user; repeatable.
    #[arg(long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,
    /// What fails the check (exit code 1).
    #[arg(long, value_enum, default_value_t = check::FailOn::Deny)]
    pub fail_on: check::FailOn,
    /// Workers, each with its own instance of the module; default: one per core.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
    /// The file name reports give standard input.
    #[arg(long, value_name = "NAME", default_value = "-")]
    pub stdin_name: String,
    /// The cluster the manifests go to: its Namespaces (with their pod-security.kubernetes.io
    /// labels) and Pods, YAML or JSON, as `kubectl get ns,pods -A -o yaml` writes them. Namespaces
    /// among the manifests count too (and come first); a namespace in neither is checked at the
    /// settings' defaults.
    #[arg(long, value_name = "FILE")]
    pub cluster_state: Option<PathBuf>,
    /// Write the manifests with each denied object's fix (what the policy's secureDefaults add)
    /// to DIR, at the inputs' paths; comments, key order and the other documents are kept.
    #[arg(long, value_name = "DIR", conflicts_with = "in_place")]
    pub fix: Option<PathBuf>,
    /// Write the fixes into the input files themselves.
    #[arg(long)]
    pub in_place: bool,
}

/// The check's exit code: 0 nothing denied, 1 something failed the check, 2 an unreadable input.
/// An error means the check could not run at all (no module, refused settings): a usage error,
/// which the binary also ends with 2.
pub fn check_manifests(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let settings = args.settings.read()?;
    let policy = load_policy(&args.policy, &args.module)?;
    let (inputs, listing_problems) = check::manifests::inputs(&args.paths, &args.stdin_name);
    let inputs = check::namespaces::buffer_standard_input(inputs)?;
    let mut state = ClusterState::default().assume_unknown_namespaces_exist();
    check::namespaces::add_input_namespaces(&inputs, &mut state);
    if let Some(path) = &args.cluster_state {
        state.extend(ClusterState::from_file(path)?);
    }
    let capabilities = HostCapabilities::granting_all(Source::ClusterState(state));
    let module = policy.module.with_host_capabilities(Arc::new(capabilities));
    // The same policy with secureDefaults enabled finds the fix for a denied object, when the module
    // takes that setting (the user's own secureDefaults keys are kept).
    let mut fixing = settings.clone();
    if let Some(fields) = fixing.as_object_mut() {
        let defaults = fields
            .entry("secureDefaults")
            .or_insert_with(|| serde_json::json!({}));
        if let Some(defaults) = defaults.as_object_mut() {
            defaults.insert("enabled".to_string(), serde_json::Value::Bool(true));
        }
    }
    let fixer = PolicyEvaluator::new(module.clone(), fixing)
        .inspect_err(|error| tracing::info!("no fixes offered: {error:#}"))
        .ok();
    let evaluator = PolicyEvaluator::new(module, settings)?;
    let jobs = match args.jobs {
        Some(jobs) => usize::from(jobs),
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let options = check::CheckOptions {
        context: check::request::RequestContext {
            namespace: args.namespace.clone(),
            username: args.user.clone(),
            groups: args.groups.clone(),
        },
        fixer,
        jobs,
    };
    let started = Instant::now();
    let outcomes = check::check(&evaluator, &inputs, listing_problems, &options);
    let target = match (&args.fix, args.in_place) {
        (Some(folder), _) => Some(check::fixes::FixTarget::Folder(folder)),
        (None, true) => Some(check::fixes::FixTarget::InPlace),
        (None, false) => None,
    };
    let (placed, not_placed) = check::fixes::place_fixes(&outcomes, &inputs)?;
    if let Some(target) = target {
        let written = check::fixes::write_fixes(&placed, not_placed, &inputs, target)?;
        tracing::info!(
            "fixed {} objects in {} files",
            written.objects_fixed,
            written.files_written
        );
        for place in &written.not_placed {
            tracing::warn!(
                "{place}: its fix could not be written into the text (see the report's patch)"
            );
        }
    }
    tracing::info!(
        "checked {} documents in {:.3} s with {jobs} workers{}",
        outcomes.len(),
        started.elapsed().as_secs_f64(),
        peak_memory().map_or_else(String::new, |kib| format!(
            ", peak memory {} MiB",
            kib / 1024
        ))
    );
    let color = args.output.is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let module_name = Path::new(&args.policy).file_stem().map_or_else(
        || "policy".to_string(),
        |stem| stem.to_string_lossy().into_owned(),
    );
    let mut context =
        check::report::ReportContext::new(policy.metadata.as_ref(), module_name, color);
    context.fixes = placed
        .iter()
        .flat_map(|file| {
            let name = inputs[file.input].name();
            file.objects.iter().map(move |(line, insertions)| {
                check::report::TextFix::new(name.clone(), *line, &file.text, insertions)
            })
        })
        .collect();
    let report = check::report::render(args.format, &outcomes, &context);
    match &args.output {
        Some(path) => std::fs::write(path, report)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(report.as_bytes())?,
    }
    Ok(ExitCode::from(check::exit_code(&outcomes, args.fail_on)))
}

/// The process's peak resident memory in KiB (Linux's `VmHWM`), for the check's summary line.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

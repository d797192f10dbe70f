//! `host-test run`: evaluates admission requests and prints one AdmissionResponse line each, as
//! `kwctl run` does.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

use super::policy::{ModuleArgs, SettingsArgs, load_policy};
use crate::run::input::{read_admission_request, request_files};
use crate::run::request::body_too_large;
use crate::{AdmissionResponse, PolicyEvaluator};

#[derive(Args)]
pub struct RunArgs {
    /// The policy module: a .wasm file or registry://HOST/REPOSITORY:TAG.
    #[arg(long, value_name = "FILE.wasm|registry://…")]
    pub policy: String,
    #[command(flatten)]
    pub module: ModuleArgs,
    /// An AdmissionReview or AdmissionRequest, JSON or YAML; a directory means all its
    /// *.json, *.yaml and *.yml files, sorted by name. Repeatable.
    #[arg(long, value_name = "FILE", required = true)]
    pub request: Vec<PathBuf>,
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// `json`: one AdmissionResponse line per request, as kwctl prints; `summary`: one line per
    /// file with its name, verdict and message, for people.
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    pub format: OutputFormat,
    /// Print the module's embedded metadata (JSON, one line) on standard error before evaluating.
    #[arg(long)]
    pub show_metadata: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum OutputFormat {
    Json,
    Summary,
}

pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let settings = args.settings.read()?;
    // Read every request before evaluating any, so a broken file fails the run before any output.
    let mut requests = Vec::new();
    for path in &args.request {
        for file in request_files(path)? {
            let request = read_admission_request(&file)?;
            if let Some(refusal) = body_too_large(&request) {
                tracing::warn!("{}: {refusal}", file.display());
            }
            requests.push((file, request));
        }
    }
    let policy = load_policy(&args.policy, &args.module)?;
    if args.show_metadata {
        match &policy.metadata {
            Some(metadata) => tracing::info!("metadata {}", metadata.to_section_json()),
            None => tracing::info!("no metadata: the module is not annotated"),
        }
    }
    let evaluator = PolicyEvaluator::new(policy.module, settings)?;
    let mut stdout = std::io::stdout().lock();
    for (file, request) in &requests {
        let started = Instant::now();
        let response = evaluator.validate(request);
        tracing::info!(
            "evaluated request {} in {:.2} ms",
            response.uid,
            started.elapsed().as_secs_f64() * 1000.0
        );
        match args.format {
            OutputFormat::Json => serde_json::to_writer(&mut stdout, &response)?,
            OutputFormat::Summary => write_summary(&mut stdout, file, &response)?,
        }
        writeln!(stdout)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `name  DENIED (403)  message`, then any warnings, on one line.
fn write_summary(
    out: &mut impl std::io::Write,
    file: &Path,
    response: &AdmissionResponse,
) -> std::io::Result<()> {
    let name = file
        .file_name()
        .unwrap_or(file.as_os_str())
        .to_string_lossy();
    let verdict = match (
        response.allowed,
        response.status.as_ref().and_then(|s| s.code),
    ) {
        (true, _) => "ALLOWED".to_string(),
        (false, Some(code)) => format!("DENIED ({code})"),
        (false, None) => "DENIED".to_string(),
    };
    write!(out, "{name}  {verdict}")?;
    if let Some(message) = response.message() {
        write!(out, "  {message}")?;
    }
    for warning in response.warnings.iter().flatten() {
        write!(out, "  [warning: {warning}]")?;
    }
    Ok(())
}

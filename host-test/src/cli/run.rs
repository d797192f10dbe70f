//! `host-test run`: evaluates admission requests and prints one AdmissionResponse line each, as
//! `kwctl run` does.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::Args;

use super::policy::{HostCapabilityArgs, ModuleArgs, SettingsArgs, load_policy, policy_location};
use crate::run::input::{read_admission_request, request_files};
use crate::run::request::body_too_large;
use crate::{AdmissionResponse, PolicyEvaluator};

/// `host-test run`'s arguments: a `kwctl run` command line works unchanged (the policy as the
/// positional argument, `-r`/`--request-path`, `-s`/`--settings-path`, `--settings-json`,
/// `-e kubewarden`, `--disable-wasmtime-cache`), and so does the harness's own (`--policy`,
/// `--request`, repeatable).
#[derive(Args)]
pub struct RunArgs {
    /// The policy module: a .wasm file (also as `file://…`) or registry://HOST/REPOSITORY:TAG.
    #[arg(long, value_name = "FILE.wasm|registry://…", conflicts_with = "uri")]
    pub policy: Option<String>,
    /// The policy module, given as kwctl takes it: what --policy takes.
    #[arg(
        value_name = "POLICY",
        required_unless_present = "policy",
        conflicts_with = "policy"
    )]
    pub uri: Option<String>,
    #[command(flatten)]
    pub module: ModuleArgs,
    /// An AdmissionReview or AdmissionRequest, JSON or YAML; `-` is standard input; a directory
    /// means all its *.json, *.yaml and *.yml files, sorted by name. Repeatable.
    #[arg(
        short = 'r',
        long,
        visible_alias = "request-path",
        value_name = "FILE",
        required = true
    )]
    pub request: Vec<PathBuf>,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub host: HostCapabilityArgs,
    /// kwctl's choice of runtime; host-test runs kubewarden (waPC) modules only.
    #[arg(short = 'e', long, value_name = "MODE", value_parser = ["kubewarden", "opa", "gatekeeper", "wasi"])]
    pub execution_mode: Option<String>,
    /// `json`: one AdmissionResponse line per request, as kwctl prints; `summary`: one line per
    /// file with its name, verdict and message, for people.
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    pub format: OutputFormat,
    /// Print the module's embedded metadata (JSON, one line) on standard error before evaluating.
    #[arg(long)]
    pub show_metadata: bool,
}

impl RunArgs {
    /// Where the module is, from `--policy` or the positional argument.
    pub fn location(&self) -> anyhow::Result<&str> {
        let given = self
            .policy
            .as_deref()
            .or(self.uri.as_deref())
            .context("no policy module given")?;
        policy_location(given)
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum OutputFormat {
    Json,
    Summary,
}

pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let location = args.location()?;
    if let Some(mode) = args
        .execution_mode
        .as_deref()
        .filter(|mode| *mode != "kubewarden")
    {
        bail!("--execution-mode {mode}: host-test runs kubewarden (waPC) modules only");
    }
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
    let policy = load_policy(location, &args.module)?;
    if args.show_metadata {
        match &policy.metadata {
            Some(metadata) => tracing::info!("metadata {}", metadata.to_section_json()),
            None => tracing::info!("no metadata: the module is not annotated"),
        }
    }
    let capabilities = Arc::new(
        args.host
            .build(policy.metadata.as_ref(), args.host.cluster_state()?)?,
    );
    let module = policy.module.with_host_capabilities(capabilities.clone());
    let evaluator = PolicyEvaluator::new(module, settings)?;
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
    args.host.finish(&capabilities)?;
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        run: RunArgs,
    }

    fn parse(line: &str) -> Result<RunArgs, clap::Error> {
        let words = std::iter::once("run").chain(line.split_whitespace());
        Command::try_parse_from(words).map(|command| command.run)
    }

    #[test]
    fn kwctl_run_command_lines_are_taken_unchanged() {
        let args = parse("annotated-policy.wasm -r test_data/x.json").unwrap();
        assert_eq!(args.location().unwrap(), "annotated-policy.wasm");
        assert_eq!(args.request, [PathBuf::from("test_data/x.json")]);

        let args = parse(
            r#"--request-path x.json --settings-json {"defaults":{}} registry://ghcr.io/o/p:v1"#,
        )
        .unwrap();
        assert_eq!(args.location().unwrap(), "registry://ghcr.io/o/p:v1");
        assert_eq!(
            args.settings.settings_json.as_deref(),
            Some(r#"{"defaults":{}}"#)
        );

        let args =
            parse("-r - -s settings.yaml -e kubewarden --disable-wasmtime-cache file:///p.wasm")
                .unwrap();
        assert_eq!(args.location().unwrap(), "/p.wasm");
        assert_eq!(args.request, [PathBuf::from("-")]);
        assert_eq!(
            args.settings.settings_path,
            Some(PathBuf::from("settings.yaml"))
        );
        assert!(args.module.cache.no_cache);
    }

    #[test]
    fn the_harness_own_command_lines_still_work() {
        let args =
            parse("--policy p.wasm --request a.json --request dir --settings-path s.yaml").unwrap();
        assert_eq!(args.location().unwrap(), "p.wasm");
        assert_eq!(
            args.request,
            [PathBuf::from("a.json"), PathBuf::from("dir")]
        );
    }

    #[test]
    fn the_policy_is_given_once() {
        for refused in [
            "--request a.json",
            "--policy p.wasm --request a.json q.wasm",
            "p.wasm",
            "p.wasm -r a.json -e lua",
        ] {
            assert!(parse(refused).is_err(), "{refused}");
        }
    }
}

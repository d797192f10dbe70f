//! `host-test`: evaluates admission requests with a Kubewarden policy module, like `kwctl run`,
//! runs the Pod Security Admission conformance corpus, and does what `kwctl annotate`,
//! `kwctl scaffold artifacthub`, `kwctl push` and `kwctl pull` do.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use clap::{Args, Parser, Subcommand};
use serde_json::Value;

mod logging;

use host_test::check;
use host_test::conformance::run_conformance;
use host_test::run::input::{read_admission_request, read_document, request_files};
use host_test::run::module_cache::{CacheOutcome, ModuleCache};
use host_test::run::wapc_host::DEFAULT_TIMEOUT;
use host_test::ship::artifacthub::ArtifactHubPkg;
use host_test::ship::metadata::{ExecutionMode, Metadata, annotate, read_embedded_metadata};
use host_test::ship::registry::{
    PASSWORD_VARIABLE, RegistryClient, StoredPolicy, is_registry_location, registry_auth,
};
use host_test::{PolicyEvaluator, WapcModule, WapcRuntime};

#[derive(Parser)]
#[command(
    name = "host-test",
    version,
    about = "Runs Kubewarden policy modules the way policy-server does"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate admission requests and print one AdmissionResponse JSON line each.
    Run(RunArgs),
    /// Check manifests (files, folders, `-` for standard input) before they reach a cluster:
    /// every Pod, pod controller, PodTemplate and PersistentVolume goes through the module as the
    /// API server would send it on CREATE.
    ///
    /// Exit codes: 0 nothing denied; 1 an object denied at the enforce level (or, with
    /// `--fail-on warn`, warned about or audited); 2 a usage error, an unreadable input, or a
    /// document that is not valid YAML/JSON or not a Kubernetes object (the rest is still checked
    /// and reported).
    Check(CheckArgs),
    /// Evaluate the Pod Security Admission fixture corpus and report disagreements.
    Conformance(ConformanceArgs),
    /// Embed the policy metadata in the module, like `kwctl annotate`.
    Annotate(AnnotateArgs),
    /// Generate distribution files from the metadata.
    #[command(subcommand)]
    Scaffold(ScaffoldCommand),
    /// Push an annotated module to an OCI registry, like `kwctl push`.
    Push(PushArgs),
    /// Pull a module from an OCI registry into a file, like `kwctl pull`.
    Pull(PullArgs),
    /// Measure parse, native rules, warm and fresh instances and compile time; write BENCHMARKS.md.
    #[cfg(feature = "bench")]
    Bench(BenchArgs),
    /// Write the generated corpus `make bench` times `check` and `run` on.
    #[cfg(feature = "bench")]
    BenchCorpus(BenchCorpusArgs),
}

#[cfg(feature = "bench")]
#[derive(Args)]
struct BenchCorpusArgs {
    /// How many objects (documents) to write.
    #[arg(long, default_value_t = 10_000)]
    objects: usize,
    /// The folder to write manifests.yaml and reviews/ into.
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
}

#[cfg(feature = "bench")]
#[derive(Args)]
struct BenchArgs {
    /// The policy module.
    #[arg(long, value_name = "FILE.wasm")]
    policy: PathBuf,
    /// A folder of AdmissionReviews (one must have "typical" in its name: the scaling template).
    #[arg(long, value_name = "DIR")]
    requests: PathBuf,
    /// Timed iterations per request and measure.
    #[arg(long, default_value_t = 2000)]
    iterations: usize,
    /// Timed compilations of the module.
    #[arg(long, default_value_t = 5)]
    compilations: usize,
    /// Where to write the Markdown report.
    #[arg(short, long, value_name = "FILE.md", default_value = "BENCHMARKS.md")]
    output: PathBuf,
}

#[derive(Subcommand)]
enum ScaffoldCommand {
    /// Write artifacthub-pkg.yml, like `kwctl scaffold artifacthub`.
    Artifacthub(ArtifacthubArgs),
}

#[derive(Args)]
struct AnnotateArgs {
    /// The policy metadata, YAML.
    #[arg(long, value_name = "metadata.yml")]
    metadata: PathBuf,
    /// A file whose text becomes the annotation io.kubewarden.policy.usage.
    #[arg(long, value_name = "FILE")]
    usage: Option<PathBuf>,
    /// Where to write the annotated module.
    #[arg(short, long, value_name = "FILE.wasm")]
    output: PathBuf,
    /// The module to annotate.
    #[arg(value_name = "MODULE.wasm")]
    module: PathBuf,
}

#[derive(Args)]
struct ArtifacthubArgs {
    /// The policy metadata, YAML.
    #[arg(long, value_name = "metadata.yml")]
    metadata: PathBuf,
    /// Rancher's settings form for the policy.
    #[arg(long, value_name = "questions-ui.yml")]
    questions: Option<PathBuf>,
    /// Where to write the package; standard output when absent.
    #[arg(short, long, value_name = "artifacthub-pkg.yml")]
    output: Option<PathBuf>,
    /// The release time (RFC 3339); default: the createdAt of the existing output file.
    #[arg(long, value_name = "TIME")]
    created_at: Option<String>,
    /// Write nothing; fail when the output file differs from what would be written.
    #[arg(long, requires = "output")]
    check: bool,
}

#[derive(Args)]
struct RegistryArgs {
    /// Talk plain HTTP to the registry instead of HTTPS.
    #[arg(long)]
    insecure: bool,
    /// Log in with this user; the password is read from the environment variable REGISTRY_PASSWORD.
    #[arg(long, value_name = "NAME")]
    username: Option<String>,
}

impl RegistryArgs {
    fn client(&self) -> anyhow::Result<RegistryClient> {
        let password = std::env::var(PASSWORD_VARIABLE).ok();
        RegistryClient::new(
            self.insecure,
            registry_auth(self.username.as_deref(), password)?,
        )
    }
}

#[derive(Args)]
struct PushArgs {
    /// The annotated module.
    #[arg(value_name = "MODULE.wasm")]
    module: PathBuf,
    /// Where to push it.
    #[arg(value_name = "registry://HOST/REPOSITORY:TAG")]
    location: String,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Args)]
struct PullArgs {
    /// What to pull.
    #[arg(value_name = "registry://HOST/REPOSITORY:TAG")]
    location: String,
    /// Where to write the module.
    #[arg(short, long, value_name = "FILE.wasm")]
    output: PathBuf,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Args)]
struct PolicyArgs {
    /// The policy module: a .wasm file or registry://HOST/REPOSITORY:TAG.
    #[arg(long, value_name = "FILE.wasm|registry://…")]
    policy: String,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Evaluation deadline in seconds (policy-server's --policy-timeout).
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout,
          default_value_t = DEFAULT_TIMEOUT.as_secs_f64())]
    timeout: f64,
    /// Memory one instance of the module may use, in MiB; unlimited when unset, as in policy-server.
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u32).range(1..=4096))]
    max_memory: Option<u32>,
    /// Compile the module even when the compiled-module cache holds it, and store nothing.
    #[arg(long)]
    no_cache: bool,
}

#[derive(Args)]
struct SettingsArgs {
    /// The policy settings as JSON.
    #[arg(long, value_name = "JSON", conflicts_with = "settings_path")]
    settings_json: Option<String>,
    /// A file with the policy settings, JSON or YAML (PSA's PodSecurityConfiguration and the
    /// policy's own keys).
    #[arg(long, value_name = "FILE")]
    settings_path: Option<PathBuf>,
}

impl SettingsArgs {
    fn read(&self) -> anyhow::Result<Value> {
        Ok(match (&self.settings_json, &self.settings_path) {
            (Some(json), _) => serde_json::from_str(json).context("--settings-json is not JSON")?,
            (None, Some(path)) => read_document(path).context("cannot read the settings")?,
            (None, None) => Value::Object(Default::default()),
        })
    }
}

#[derive(Args)]
struct CheckArgs {
    /// Manifests: files, folders (every *.yaml, *.yml and *.json below them) and `-` for standard
    /// input; multi-document YAML, JSON and `List` kinds.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    policy: PolicyArgs,
    #[command(flatten)]
    settings: SettingsArgs,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = check::report::Format::Text)]
    format: check::report::Format,
    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The namespace of objects that name none.
    #[arg(long, default_value = "default")]
    namespace: String,
    /// The user the requests come from (`userInfo.username`), to try exemptions by user.
    #[arg(long, default_value = "ci")]
    user: String,
    /// A group of that user; repeatable.
    #[arg(long = "group", value_name = "GROUP")]
    groups: Vec<String>,
    /// What fails the check (exit code 1).
    #[arg(long, value_enum, default_value_t = check::FailOn::Deny)]
    fail_on: check::FailOn,
    /// Workers, each with its own instance of the module; default: one per core.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: Option<u16>,
    /// The file name reports give standard input.
    #[arg(long, value_name = "NAME", default_value = "-")]
    stdin_name: String,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    policy: PolicyArgs,
    /// An AdmissionReview or AdmissionRequest, JSON or YAML; a directory means all its
    /// *.json, *.yaml and *.yml files, sorted by name. Repeatable.
    #[arg(long, value_name = "FILE", required = true)]
    request: Vec<PathBuf>,
    #[command(flatten)]
    settings: SettingsArgs,
    /// `json`: one AdmissionResponse line per request, as kwctl prints; `summary`: one line per
    /// file with its name, verdict and message, for people.
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    format: OutputFormat,
    /// Print the module's embedded metadata (JSON, one line) on standard error before evaluating.
    #[arg(long)]
    show_metadata: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum OutputFormat {
    Json,
    Summary,
}

#[derive(Args)]
struct ConformanceArgs {
    #[command(flatten)]
    policy: PolicyArgs,
    /// The fixture corpus: <level>/v1.<minor>/<pass|fail>/<name>.yaml.
    #[arg(long, value_name = "DIR")]
    corpus: PathBuf,
}

fn parse_timeout(text: &str) -> Result<f64, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    match Duration::try_from_secs_f64(seconds) {
        Ok(timeout) if !timeout.is_zero() => Ok(seconds),
        _ => Err("the timeout must be a positive number of seconds".to_string()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init();
    let outcome = match cli.command {
        Command::Run(args) => run(&args),
        // A check that cannot run at all (no module, refused settings) is a usage error: 2.
        Command::Check(args) => check_manifests(&args).or_else(|error| {
            eprintln!("host-test: {error:#}");
            Ok(ExitCode::from(2))
        }),
        Command::Conformance(args) => conformance(&args),
        Command::Annotate(args) => annotate_module(&args),
        Command::Scaffold(ScaffoldCommand::Artifacthub(args)) => scaffold_artifacthub(&args),
        Command::Push(args) => push(&args),
        Command::Pull(args) => pull(&args),
        #[cfg(feature = "bench")]
        Command::Bench(args) => bench(&args),
        #[cfg(feature = "bench")]
        Command::BenchCorpus(args) => {
            host_test::bench::write_check_corpus(&args.output, args.objects).and_then(|evaluated| {
                println!("{} objects, {evaluated} evaluated", args.objects);
                let reading = host_test::bench::yaml_reading(&args.output.join("manifests.yaml"))?;
                println!(
                    "reading YAML: {:.1} µs per document ({} of {} by the quick reader), serde-saphyr alone {:.1} µs",
                    reading.quick_us, reading.quick_documents, reading.documents, reading.saphyr_us
                );
                Ok(ExitCode::SUCCESS)
            })
        }
    };
    match outcome {
        Ok(exit_code) => exit_code,
        Err(error) => {
            eprintln!("host-test: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// A loaded policy: the compiled module and the metadata embedded in it, if any.
struct LoadedPolicy {
    module: WapcModule,
    metadata: Option<Metadata>,
}

/// Reads the module from its file or registry, refuses malformed or non-waPC metadata, compiles it.
fn load_policy(args: &PolicyArgs) -> anyhow::Result<LoadedPolicy> {
    let wasm = if is_registry_location(&args.policy) {
        let (wasm, stored) = args.registry.client()?.pull(&args.policy)?;
        tracing::info!("pulled {} ({})", args.policy, stored.manifest_digest);
        wasm
    } else {
        std::fs::read(&args.policy)
            .with_context(|| format!("cannot read the policy module {}", args.policy))?
    };
    let context = || format!("cannot load the policy module {}", args.policy);
    let metadata = read_embedded_metadata(&wasm).with_context(context)?;
    if let Some(metadata) = &metadata {
        ensure!(
            metadata.execution_mode == ExecutionMode::KubewardenWapc,
            "{}: its metadata says executionMode {}, host-test runs kubewarden-wapc modules only",
            args.policy,
            serde_json::to_string(&metadata.execution_mode)?
        );
    }
    let runtime = WapcRuntime::new()?;
    let started = Instant::now();
    let timeout = Duration::from_secs_f64(args.timeout);
    let cache = if args.no_cache {
        None
    } else {
        ModuleCache::user_default()
    };
    let (mut module, outcome) =
        WapcModule::load(&runtime, &wasm, timeout, cache.as_ref()).with_context(context)?;
    if let Some(mib) = args.max_memory {
        module = module.with_max_memory(usize::try_from(mib)? << 20);
    }
    let how = match outcome {
        CacheOutcome::Hit => "loaded from the compiled-module cache",
        CacheOutcome::Miss | CacheOutcome::Recompiled => "compiled (and cached)",
        CacheOutcome::Bypassed => "compiled",
    };
    tracing::info!(
        "{} {how} in {} ms",
        args.policy,
        started.elapsed().as_millis()
    );
    Ok(LoadedPolicy { module, metadata })
}

fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let settings = args.settings.read()?;
    // Read every request before evaluating any, so a broken file fails the run before any output.
    let mut requests = Vec::new();
    for path in &args.request {
        for file in request_files(path)? {
            let request = read_admission_request(&file)?;
            requests.push((file, request));
        }
    }
    let policy = load_policy(&args.policy)?;
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

fn check_manifests(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let settings = args.settings.read()?;
    let policy = load_policy(&args.policy)?;
    let evaluator = PolicyEvaluator::new(policy.module, settings)?;
    let (inputs, listing_problems) = check::manifests::inputs(&args.paths, &args.stdin_name);
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
        jobs,
    };
    let started = Instant::now();
    let outcomes = check::check(&evaluator, &inputs, listing_problems, &options);
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
    let module_name = Path::new(&args.policy.policy).file_stem().map_or_else(
        || "policy".to_string(),
        |stem| stem.to_string_lossy().into_owned(),
    );
    let context = check::report::ReportContext::new(policy.metadata.as_ref(), module_name, color);
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

/// `name  DENIED (403)  message`, then any warnings, on one line.
fn write_summary(
    out: &mut impl std::io::Write,
    file: &std::path::Path,
    response: &host_test::AdmissionResponse,
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

fn conformance(args: &ConformanceArgs) -> anyhow::Result<ExitCode> {
    let module = load_policy(&args.policy)?.module;
    let started = Instant::now();
    let summary = run_conformance(&module, &args.corpus, |disagreement| {
        println!(
            "FAIL {}: expected {}, got {}",
            disagreement.fixture.display(),
            disagreement.expected,
            disagreement.got
        );
    })
    .with_context(|| format!("cannot run the corpus {}", args.corpus.display()))?;
    tracing::info!(
        "evaluated {} fixtures in {:.1} s",
        summary.passed + summary.failed,
        started.elapsed().as_secs_f64()
    );
    println!("{} passed, {} failed", summary.passed, summary.failed);
    Ok(if summary.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn annotate_module(args: &AnnotateArgs) -> anyhow::Result<ExitCode> {
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
    let module = WapcModule::new(&WapcRuntime::new()?, &wasm, DEFAULT_TIMEOUT)
        .with_context(|| format!("cannot load the policy module {}", args.module.display()))?;
    let annotated = annotate(&module, &wasm, metadata, usage)
        .with_context(|| format!("cannot annotate {}", args.module.display()))?;
    std::fs::write(&args.output, &annotated)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    tracing::info!(
        "wrote {} ({} bytes)",
        args.output.display(),
        annotated.len()
    );
    Ok(ExitCode::SUCCESS)
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

fn push(args: &PushArgs) -> anyhow::Result<ExitCode> {
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

#[cfg(feature = "bench")]
fn bench(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let options = host_test::bench::BenchOptions {
        policy: args.policy.clone(),
        requests: args.requests.clone(),
        iterations: args.iterations,
        compilations: args.compilations,
        command: format!(
            "host-test bench --policy {} --requests {} --iterations {} --compilations {}",
            args.policy.display(),
            args.requests.display(),
            args.iterations,
            args.compilations
        ),
    };
    let markdown = host_test::bench::bench(&options)?;
    std::fs::write(&args.output, &markdown)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    print!("{markdown}");
    Ok(ExitCode::SUCCESS)
}

fn pull(args: &PullArgs) -> anyhow::Result<ExitCode> {
    let (wasm, stored) = args.registry.client()?.pull(&args.location)?;
    std::fs::write(&args.output, &wasm)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    print_stored(&args.location, &stored, &args.output);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeout_is_a_positive_number_of_seconds() {
        assert_eq!(parse_timeout("0.5"), Ok(0.5));
        assert_eq!(parse_timeout("3"), Ok(3.0));
        for refused in ["0", "-1", "NaN", "inf", "soon"] {
            assert!(parse_timeout(refused).is_err(), "{refused}");
        }
    }
}

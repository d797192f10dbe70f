//! `host-test`: evaluates admission requests with a Kubewarden policy module, like `kwctl run`,
//! runs the Pod Security Admission conformance corpus, and does what `kwctl annotate`,
//! `kwctl scaffold artifacthub`, `kwctl push` and `kwctl pull` do.
//!
//! This file parses the command line and dispatches; the commands are in the library's `cli`.

mod logging;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use host_test::cli;

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
    Run(cli::run::RunArgs),
    /// Check manifests (files, folders, `-` for standard input) before they reach a cluster:
    /// every Pod, pod controller, PodTemplate and PersistentVolume goes through the module as the
    /// API server would send it on CREATE.
    ///
    /// Exit codes: 0 nothing denied; 1 an object denied at the enforce level (or, with
    /// `--fail-on warn`, warned about or audited); 2 a usage error, an unreadable input, or a
    /// document that is not valid YAML/JSON or not a Kubernetes object (the rest is still checked
    /// and reported).
    Check(cli::check::CheckArgs),
    /// Evaluate the Pod Security Admission fixture corpus and report disagreements.
    Conformance(cli::conformance::ConformanceArgs),
    /// Embed the policy metadata in the module, like `kwctl annotate`.
    Annotate(cli::ship::AnnotateArgs),
    /// Generate distribution files from the metadata.
    #[command(subcommand)]
    Scaffold(cli::ship::ScaffoldCommand),
    /// Push an annotated module to an OCI registry, like `kwctl push`.
    Push(cli::ship::PushArgs),
    /// Pull a module from an OCI registry into a file, like `kwctl pull`.
    Pull(cli::ship::PullArgs),
    /// Measure parse, native rules, warm and fresh instances and compile time; write BENCHMARKS.md.
    #[cfg(feature = "bench")]
    Bench(cli::bench::BenchArgs),
    /// Write the generated corpus `make bench` times `check` and `run` on.
    #[cfg(feature = "bench")]
    BenchCorpus(cli::bench::BenchCorpusArgs),
}

fn main() -> ExitCode {
    let command = Cli::parse().command;
    logging::init();
    let outcome = match command {
        Command::Run(args) => cli::run::run(&args),
        // A check that cannot run at all (no module, refused settings) is a usage error: 2.
        Command::Check(args) => cli::check::check_manifests(&args).or_else(|error| {
            eprintln!("host-test: {error:#}");
            Ok(ExitCode::from(2))
        }),
        Command::Conformance(args) => cli::conformance::conformance(&args),
        Command::Annotate(args) => cli::ship::annotate_module(&args),
        Command::Scaffold(command) => cli::ship::scaffold(&command),
        Command::Push(args) => cli::ship::push(&args),
        Command::Pull(args) => cli::ship::pull(&args),
        #[cfg(feature = "bench")]
        Command::Bench(args) => cli::bench::bench(&args),
        #[cfg(feature = "bench")]
        Command::BenchCorpus(args) => cli::bench::bench_corpus(&args),
    };
    match outcome {
        Ok(exit_code) => exit_code,
        Err(error) => {
            eprintln!("host-test: {error:#}");
            ExitCode::FAILURE
        }
    }
}

//! `host-test conformance`: the Pod Security Admission fixture corpus through the module.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;

use super::policy::{ModuleArgs, load_policy};
use crate::conformance::run_conformance;

#[derive(Args)]
pub struct ConformanceArgs {
    /// The policy module: a .wasm file or registry://HOST/REPOSITORY:TAG.
    #[arg(long, value_name = "FILE.wasm|registry://…")]
    pub policy: String,
    #[command(flatten)]
    pub module: ModuleArgs,
    /// The fixture corpus: <level>/v1.<minor>/<pass|fail>/<name>.yaml.
    #[arg(long, value_name = "DIR")]
    pub corpus: PathBuf,
}

/// Prints each disagreement and a summary; fails when any fixture disagrees.
pub fn conformance(args: &ConformanceArgs) -> anyhow::Result<ExitCode> {
    let module = load_policy(&args.policy, &args.module)?.module;
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

//! `host-test bench` and `host-test bench-corpus` (cargo feature `bench`): the command lines of
//! [`crate::bench`].

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

#[derive(Args)]
pub struct BenchArgs {
    /// The policy module.
    #[arg(long, value_name = "FILE.wasm")]
    pub policy: PathBuf,
    /// A folder of AdmissionReviews (one must have "typical" in its name: the scaling template).
    #[arg(long, value_name = "DIR")]
    pub requests: PathBuf,
    /// Timed iterations per request and measure.
    #[arg(long, default_value_t = 2000)]
    pub iterations: usize,
    /// Timed compilations of the module.
    #[arg(long, default_value_t = 5)]
    pub compilations: usize,
    /// Where to write the Markdown report.
    #[arg(short, long, value_name = "FILE.md", default_value = "BENCHMARKS.md")]
    pub output: PathBuf,
}

#[derive(Args)]
pub struct BenchCorpusArgs {
    /// How many objects (documents) to write.
    #[arg(long, default_value_t = 10_000)]
    pub objects: usize,
    /// The folder to write manifests.yaml and reviews/ into.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
}

/// Writes the Markdown report to `--output` and prints it.
pub fn bench(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let options = crate::bench::BenchOptions {
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
    let markdown = crate::bench::bench(&options)?;
    std::fs::write(&args.output, &markdown)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    print!("{markdown}");
    Ok(ExitCode::SUCCESS)
}

/// Writes the generated corpus and prints what it holds and how fast its YAML reads.
pub fn bench_corpus(args: &BenchCorpusArgs) -> anyhow::Result<ExitCode> {
    let evaluated = crate::bench::write_check_corpus(&args.output, args.objects)?;
    println!("{} objects, {evaluated} evaluated", args.objects);
    let reading = crate::bench::yaml_reading(&args.output.join("manifests.yaml"))?;
    println!(
        "reading YAML: {:.1} µs per document ({} of {} by the quick reader), serde-saphyr alone {:.1} µs",
        reading.quick_us, reading.quick_documents, reading.documents, reading.saphyr_us
    );
    Ok(ExitCode::SUCCESS)
}

//! The Criterion suite behind `make bench`: for each request in `benches/`, the four per-request
//! measures of `host-test bench` (parse floor, native `validate`, warm and fresh module calls) with
//! Criterion's statistics: confidence intervals, outliers, and the change since the previous run.
//! It reads `policy.wasm` at the workspace root, which `make policy` builds.

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use host_test::WapcModule;
use host_test::run::evaluator::ValidationRequest;
use host_test::run::host_capabilities::{ClusterState, HostCapabilities, Source};
use host_test::run::input::{read_admission_request, request_files};
use host_test::run::wapc_host::DEFAULT_TIMEOUT;
use serde_json::json;
use std::hint::black_box;
use std::sync::Arc;

fn per_request(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host-test lies in the workspace");
    let policy = root.join("policy.wasm");
    let wasm = std::fs::read(&policy)
        .unwrap_or_else(|error| panic!("{}: {error}; run `make policy` first", policy.display()));
    let runtime = host_test::WapcRuntime::new().expect("a wasmtime engine");
    // Every namespace exists unlabelled, as the native side's `Unlabelled` answers.
    let unlabelled = ClusterState::default().assume_unknown_namespaces_exist();
    let module = WapcModule::new(&runtime, &wasm, DEFAULT_TIMEOUT)
        .expect("the module compiles")
        .with_host_capabilities(Arc::new(HostCapabilities::granting_all(
            Source::ClusterState(unlabelled),
        )));
    let settings = json!({});

    for file in request_files(&root.join("benches")).expect("the benches folder lists") {
        let request = read_admission_request(&file).expect("a bench request");
        let payload = serde_json::to_vec(&ValidationRequest::new(&request, &settings))
            .expect("the payload encodes");
        let name = file.file_stem().expect("a file name").to_string_lossy();
        let mut group = c.benchmark_group(name.as_ref());
        group.throughput(Throughput::Bytes(payload.len() as u64));
        group.bench_function("1 parse floor", |b| {
            b.iter(|| {
                serde_json::from_slice::<serde::de::IgnoredAny>(black_box(&payload))
                    .expect("valid JSON")
            })
        });
        group.bench_function("2 native validate", |b| {
            b.iter(|| {
                restricted_pod_policy::validate(
                    black_box(&payload),
                    &restricted_pod_policy::Unlabelled,
                )
                .expect("validates")
            })
        });
        let mut warm = module.instantiate_warm().expect("an instance");
        group.bench_function("3 warm wasm", |b| {
            b.iter(|| {
                warm.call("validate", black_box(&payload))
                    .expect("validates")
            })
        });
        group.bench_function("4 fresh wasm", |b| {
            b.iter(|| {
                module
                    .call("validate", black_box(&payload))
                    .expect("validates")
            })
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    // Short runs: the suite is part of `make bench`, and ratios matter more than the last digit.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    targets = per_request
}
criterion_main!(benches);

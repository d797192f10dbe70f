//! `host-test bench` (cargo feature `bench`): what one admission request costs, measured five ways in
//! one run, so the ratios compare like with like on the same machine at the same moment.
//!
//! 1. the native floor: `serde_json` parsing the `validate` payload bytes into `IgnoredAny`;
//! 2. the policy evaluated natively: `restricted_pod_policy::validate` on the same bytes (the
//!    module's own code built for the host: parse, rules and the encoded response);
//! 3. `validate` on a warm instance: one `__guest_call` (what `kwctl bench` measures);
//! 4. the policy-server path: fresh instance + `_start` + `wapc_init` + `validate`, epoch deadline on;
//! 5. compiling the module (Cranelift) and loading it from the compiled-module cache.
//!
//! The payload is encoded as policy-server encodes it: the request's fields in the API's order.
//! Only this benchmark links the policy natively; the harness itself only ever runs the module.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, ensure};
use serde_json::{Value, json};

use crate::run::evaluator::ValidationRequest;
use crate::run::host_capabilities::{ClusterState, HostCapabilities, Source};
use crate::run::input::{read_admission_request, request_files};
use crate::run::module_cache::ModuleCache;
use crate::run::wapc_host::DEFAULT_TIMEOUT;
use crate::{WapcModule, WapcRuntime};

/// What to measure.
pub struct BenchOptions {
    pub policy: PathBuf,
    pub requests: PathBuf,
    pub iterations: usize,
    /// Compilations to time (each takes about a second).
    pub compilations: usize,
    /// The command line, as written into the report.
    pub command: String,
}

/// Median times of one request, in nanoseconds.
pub struct RequestFigures {
    pub name: String,
    pub bytes: usize,
    pub allowed: bool,
    pub parse: f64,
    pub native: f64,
    pub warm: f64,
    pub fresh: f64,
}

pub struct BenchReport {
    pub requests: Vec<RequestFigures>,
    pub compile: f64,
    pub cache_load: f64,
    pub module_bytes: usize,
    /// A fresh-instance call of [`EMPTY_WAPC_MODULE`]: what policy-server's path costs any module.
    pub empty_fresh: f64,
    /// A Namespace UPDATE that tightens enforce with [`NAMESPACE_PODS`] pods listed, fresh path.
    pub namespace_update: f64,
    pub namespace_update_warnings: usize,
}

/// Pods in the namespace whose UPDATE the benchmark times: PSA's limit on pods checked.
const NAMESPACE_PODS: usize = 3000;

/// The smallest waPC module with our module's memory (17 pages, a data segment) that answers a call:
/// its fresh-instance call is the floor of the policy-server path, whatever the policy does.
const EMPTY_WAPC_MODULE: &str = r#"
(module
  (import "wapc" "__guest_response" (func $response (param i32 i32)))
  (memory (export "memory") 17)
  (data (i32.const 1048576) "{}")
  (func (export "wapc_init"))
  (func (export "__guest_call") (param i32 i32) (result i32)
    (call $response (i32.const 1048576) (i32.const 2))
    (i32.const 1)))
"#;

/// Median of `iterations` timed runs of `run`, after a few untimed ones.
fn median_ns(iterations: usize, mut run: impl FnMut()) -> f64 {
    for _ in 0..iterations.clamp(1, 10) {
        run();
    }
    let mut samples: Vec<f64> = (0..iterations.max(1))
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed().as_nanos() as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The kind of volume each container of a scaled pod mounts.
#[derive(Debug, Clone, Copy)]
pub enum ScaledVolume {
    ConfigMap,
    /// A harmless hostPath under `/var/log`, mounted with a sub-path: the runtime guard's whole path
    /// (both OS readings, the sub-path, the names) without a denial.
    HostPath,
}

/// The typical pod of `base` with `containers` containers, each mounting a volume of its own.
pub fn scaled_request(
    base: &Value,
    containers: usize,
    volume: ScaledVolume,
) -> anyhow::Result<Value> {
    let mut request = base.clone();
    let spec = request
        .pointer_mut("/object/spec")
        .context("the scaling template has no object.spec")?;
    let template = spec["containers"][0].clone();
    let scaled: Vec<Value> = (0..containers)
        .map(|index| {
            let mut container = template.clone();
            container["name"] = json!(format!("c{index}"));
            let mut mount =
                json!({"name": format!("vol-{index}"), "mountPath": format!("/mnt/{index}")});
            if let ScaledVolume::HostPath = volume {
                mount["subPath"] = json!("current");
            }
            container["volumeMounts"] = json!([mount]);
            container
        })
        .collect();
    let volumes: Vec<Value> = (0..containers)
        .map(|index| match volume {
            ScaledVolume::ConfigMap => {
                json!({"name": format!("vol-{index}"), "configMap": {"name": format!("cm-{index}")}})
            }
            ScaledVolume::HostPath => {
                json!({"name": format!("vol-{index}"), "hostPath": {"path": format!("/var/log/app-{index}")}})
            }
        })
        .collect();
    spec["containers"] = Value::Array(scaled);
    spec["volumes"] = Value::Array(volumes);
    Ok(request)
}

fn measure_request(
    module: &WapcModule,
    name: String,
    request: &Value,
    settings: &Value,
    iterations: usize,
) -> anyhow::Result<RequestFigures> {
    // The bytes policy-server would send: the request in the API's field order, and the settings.
    let payload = serde_json::to_vec(&ValidationRequest::new(request, settings))?;

    // The module and the native build of the same crate must answer alike, or the comparison is meaningless.
    let native_answer =
        restricted_pod_policy::validate(&payload, &restricted_pod_policy::Unlabelled)
            .map_err(|error| anyhow::anyhow!("{name}: native validate failed: {error}"))?;
    let answer = module
        .call("validate", &payload)
        .map_err(|error| anyhow::anyhow!("{name}: validate failed: {error}"))?;
    ensure!(
        answer == native_answer,
        "{name}: the module answers {} but the native build {}",
        String::from_utf8_lossy(&answer),
        String::from_utf8_lossy(&native_answer)
    );
    let allowed = serde_json::from_slice::<Value>(&answer)?["accepted"] == json!(true);

    let parse = median_ns(iterations, || {
        let parsed: serde::de::IgnoredAny =
            serde_json::from_slice(std::hint::black_box(&payload)).expect("valid JSON");
        std::hint::black_box(parsed);
    });
    let native = median_ns(iterations, || {
        std::hint::black_box(
            restricted_pod_policy::validate(
                std::hint::black_box(&payload),
                &restricted_pod_policy::Unlabelled,
            )
            .expect("validates"),
        );
    });
    let mut warm_instance = module
        .instantiate_warm()
        .map_err(|error| anyhow::anyhow!("cannot instantiate the module: {error}"))?;
    let warm = median_ns(iterations, || {
        std::hint::black_box(warm_instance.call("validate", &payload).expect("validates"));
    });
    let fresh = median_ns(iterations, || {
        std::hint::black_box(module.call("validate", &payload).expect("validates"));
    });
    Ok(RequestFigures {
        name,
        bytes: payload.len(),
        allowed,
        parse,
        native,
        warm,
        fresh,
    })
}

pub fn run_bench(options: &BenchOptions) -> anyhow::Result<BenchReport> {
    let wasm = std::fs::read(&options.policy)
        .with_context(|| format!("cannot read {}", options.policy.display()))?;
    let runtime = WapcRuntime::new()?;

    let compilations = options.compilations.max(1);
    let compile = median_ns(compilations, || {
        std::hint::black_box(WapcModule::new(&runtime, &wasm, DEFAULT_TIMEOUT).expect("compiles"));
    });
    let cache_dir = std::env::temp_dir().join(format!("host-test-bench-{}", std::process::id()));
    let cache = ModuleCache::new(&cache_dir);
    WapcModule::load(&runtime, &wasm, DEFAULT_TIMEOUT, Some(&cache))?;
    let cache_load = median_ns(options.iterations.clamp(1, 50), || {
        let (module, outcome) =
            WapcModule::load(&runtime, &wasm, DEFAULT_TIMEOUT, Some(&cache)).expect("loads");
        assert!(outcome.is_hit(), "the cache entry was just written");
        std::hint::black_box(module);
    });
    let _ = std::fs::remove_dir_all(&cache_dir);

    let empty = WapcModule::new(
        &runtime,
        &wat::parse_str(EMPTY_WAPC_MODULE)?,
        DEFAULT_TIMEOUT,
    )?;
    let empty_fresh = median_ns(options.iterations, || {
        std::hint::black_box(empty.call("validate", b"{}").expect("answers"));
    });

    // Every namespace exists unlabelled, as the native build's `Unlabelled` answers: the fresh path
    // includes the namespace's `get_resource`, answered by the harness.
    let unlabelled = ClusterState::default().assume_unknown_namespaces_exist();
    let module =
        WapcModule::new(&runtime, &wasm, DEFAULT_TIMEOUT)?.with_host_capabilities(Arc::new(
            HostCapabilities::granting_all(Source::ClusterState(unlabelled)),
        ));
    let settings = json!({});
    let mut figures = Vec::new();
    let mut typical = None;
    for file in request_files(&options.requests)? {
        let request = read_admission_request(&file)?;
        let name = file
            .file_stem()
            .unwrap_or(file.as_os_str())
            .to_string_lossy()
            .into_owned();
        if typical.is_none() && name.contains("typical") {
            typical = Some(request.clone());
        }
        figures.push(measure_request(
            &module,
            name,
            &request,
            &settings,
            options.iterations,
        )?);
    }
    let typical = typical.context("the requests need a *typical* pod to scale")?;
    figures.push(measure_request(
        &module,
        "typical pod, namespaceLabels: false (no host call)".to_string(),
        &typical,
        &json!({"namespaceLabels": false}),
        options.iterations,
    )?);
    for (volume, what) in [
        (ScaledVolume::ConfigMap, "volumes"),
        (ScaledVolume::HostPath, "hostPath volumes"),
    ] {
        for containers in [1, 10, 50, 500] {
            let request = scaled_request(&typical, containers, volume)?;
            // 500 containers take a hundred times longer: fewer iterations keep the run short.
            let iterations = (options.iterations * 10 / containers).clamp(20, options.iterations);
            figures.push(measure_request(
                &module,
                format!("scale: {containers} containers + {containers} {what}"),
                &request,
                &settings,
                iterations,
            )?);
        }
    }
    let (namespace_update, namespace_update_warnings) =
        measure_namespace_update(&runtime, &wasm, &typical, options.iterations)?;
    Ok(BenchReport {
        requests: figures,
        compile,
        cache_load,
        module_bytes: wasm.len(),
        empty_fresh,
        namespace_update,
        namespace_update_warnings,
    })
}

/// A Namespace UPDATE from `privileged` to `restricted` with [`NAMESPACE_PODS`] pods in it (the
/// typical pod run as root, one ReplicaSet per ten pods), on the fresh path: the pod list is
/// answered by the harness and every pod is checked. Returns the median and the warnings given.
fn measure_namespace_update(
    runtime: &WapcRuntime,
    wasm: &[u8],
    typical: &Value,
    iterations: usize,
) -> anyhow::Result<(f64, usize)> {
    let template = typical
        .get("object")
        .context("the typical request has no object")?;
    let mut state = ClusterState::default();
    for index in 0..NAMESPACE_PODS {
        let mut pod = template.clone();
        pod["metadata"] = json!({"name": format!("web-{index:04}"), "namespace": "shop",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                                 "uid": format!("rs-{}", index / 10), "controller": true}]});
        if let Some(security) = pod.pointer_mut("/spec/securityContext") {
            security["runAsNonRoot"] = json!(false);
        }
        state.add(pod)?;
    }
    let module = WapcModule::new(runtime, wasm, DEFAULT_TIMEOUT)?.with_host_capabilities(Arc::new(
        HostCapabilities::granting_all(Source::ClusterState(state)),
    ));
    let namespace = |level: &str| {
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop",
               "labels": {"pod-security.kubernetes.io/enforce": level}}})
    };
    let request = json!({"uid": "bench-ns", "kind": {"group": "", "version": "v1", "kind": "Namespace"},
        "resource": {"group": "", "version": "v1", "resource": "namespaces"}, "name": "shop",
        "namespace": "shop", "operation": "UPDATE", "userInfo": {"username": "admin"},
        "object": namespace("restricted"), "oldObject": namespace("privileged")});
    let payload = serde_json::to_vec(&ValidationRequest::new(&request, &json!({})))?;
    let answer: Value = serde_json::from_slice(
        &module
            .call("validate", &payload)
            .map_err(|error| anyhow::anyhow!("namespace update: {error}"))?,
    )?;
    let warnings = answer["warnings"].as_array().map_or(0, Vec::len);
    ensure!(
        warnings > 1,
        "the namespace update found no violating pods: {answer}"
    );
    let fresh = median_ns((iterations / 100).clamp(5, 20), || {
        std::hint::black_box(module.call("validate", &payload).expect("validates"));
    });
    Ok((fresh, warnings))
}

fn micros(ns: f64) -> String {
    let us = ns / 1000.0;
    if us < 10.0 {
        format!("{us:.2}")
    } else if us < 100.0 {
        format!("{us:.1}")
    } else {
        format!("{us:.0}")
    }
}

/// `model name` of the first processor in /proc/cpuinfo.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// The report as Markdown: machine, command, date, one row per request, the module's times.
pub fn render_markdown(report: &BenchReport, options: &BenchOptions, policy: &Path) -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "Generated by `{}`; do not edit by hand, run `make bench` again.\n",
        options.command
    );
    let _ = writeln!(
        out,
        "- date: {}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    let _ = writeln!(out, "- machine: {} cores (nproc), {}", cores, cpu_model());
    let _ = writeln!(
        out,
        "- module: `{}`, {} bytes; wasmtime {}, Cranelift",
        policy.display(),
        report.module_bytes,
        crate::run::module_cache::WASMTIME_VERSION
    );
    let _ = writeln!(
        out,
        "- median of {} iterations per request (fewer for the largest scaling points), settings `{{}}`\n",
        options.iterations
    );
    let _ = writeln!(
        out,
        "Times in µs, all for the same `validate` payload (bytes): (1) serde_json parse of the \
         payload into `IgnoredAny`; (2) `restricted_pod_policy::validate` natively, parse and \
         encoded response included; (3) `validate` on a warm instance (one `__guest_call`); (4) \
         policy-server's path: fresh instance, `wapc_init`, `validate`, epoch deadline on.\n"
    );
    let _ = writeln!(
        out,
        "| request | bytes | verdict | (1) parse | (2) native | (3) warm wasm | (4) fresh wasm | 2/1 | 3/2 | 4/2 |"
    );
    let _ = writeln!(out, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for figures in &report.requests {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.2} |",
            figures.name,
            figures.bytes,
            if figures.allowed { "allow" } else { "deny" },
            micros(figures.parse),
            micros(figures.native),
            micros(figures.warm),
            micros(figures.fresh),
            figures.native / figures.parse,
            figures.warm / figures.native,
            figures.fresh / figures.native,
        );
    }
    let _ = writeln!(
        out,
        "\n| module | ms |\n|---|---:|\n| (5) compile (Cranelift, `Module::new`, median of {}) | {:.1} |\n| (5) load from the compiled-module cache | {:.2} |",
        options.compilations.max(1),
        report.compile / 1e6,
        report.cache_load / 1e6
    );
    let _ = writeln!(
        out,
        "\nThe floor of (4): a fresh-instance call of an empty waPC module with the same memory (17 \
         pages and a data segment) takes {} µs on this run. That part of (4) is wasmtime's \
         on-demand instance (memory mapped, then unmapped) and the store, whatever the policy does.",
        micros(report.empty_fresh)
    );
    let _ = writeln!(
        out,
        "\nNamespace labels: (4) includes the `get_resource` of the pod's namespace, answered by the \
         harness (compare the typical pod with `namespaceLabels: false`). A Namespace UPDATE that \
         tightens enforce from privileged to restricted with {NAMESPACE_PODS} pods in the namespace \
         (listed by the harness, every pod checked, {} warnings) takes {:.1} ms on the fresh path.",
        report.namespace_update_warnings,
        report.namespace_update / 1e6
    );
    out
}

/// Runs the benchmark and returns the Markdown.
pub fn bench(options: &BenchOptions) -> anyhow::Result<String> {
    let report = run_bench(options)?;
    Ok(render_markdown(&report, options, &options.policy))
}

/// Writes the corpus `make bench` times `check` on: `manifests.yaml`, `objects` documents of the
/// kinds a chart renders (compliant and violating Pods, Deployments, a StatefulSet, a Job, and the
/// Services and ConfigMaps `check` skips), and `reviews/`, an AdmissionReview for every evaluated
/// object, as `check` would send it, for `run` to take the same objects. Returns how many objects
/// are evaluated.
pub fn write_check_corpus(dir: &Path, objects: usize) -> anyhow::Result<usize> {
    use crate::check::request::{RequestContext, Target, target};
    use std::io::Write as _;

    let reviews = dir.join("reviews");
    std::fs::create_dir_all(&reviews)?;
    let context = RequestContext {
        namespace: "default".to_string(),
        username: "ci".to_string(),
        groups: Vec::new(),
    };
    let mut manifests = std::io::BufWriter::new(std::fs::File::create(dir.join("manifests.yaml"))?);
    let mut evaluated = 0;
    for index in 0..objects {
        let object = corpus_object(index);
        writeln!(
            manifests,
            "---\n# Source: bench/templates/object-{index}.yaml"
        )?;
        manifests.write_all(crate::yaml::to_string(&object)?.as_bytes())?;
        if let Target::Evaluated(_, request) = target(object, &context, &format!("check-{index}")) {
            let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request});
            std::fs::write(
                reviews.join(format!("{index:05}.json")),
                serde_json::to_vec(&review)?,
            )?;
            evaluated += 1;
        }
    }
    manifests.flush()?;
    Ok(evaluated)
}

/// How long reading the corpus's documents takes, per document, with the quick block-style reader
/// (falling back to serde-saphyr as `check` does) and with serde-saphyr alone, in one run.
pub struct YamlReading {
    pub documents: usize,
    /// Documents the quick reader read itself.
    pub quick_documents: usize,
    pub quick_us: f64,
    pub saphyr_us: f64,
}

pub fn yaml_reading(manifests: &Path) -> anyhow::Result<YamlReading> {
    let file = std::fs::File::open(manifests)?;
    let mut splitter =
        crate::check::manifests::DocumentSplitter::new(std::io::BufReader::new(file));
    let mut documents = Vec::new();
    while let Some(document) = splitter.next_document()? {
        documents.push(document.text);
    }
    let quick_documents = documents
        .iter()
        .filter(|text| crate::yaml::parse_quick(text).is_some())
        .count();
    let time_us = |read: &dyn Fn(&str)| {
        let start = Instant::now();
        for text in &documents {
            read(text);
        }
        start.elapsed().as_secs_f64() * 1e6 / documents.len().max(1) as f64
    };
    let quick_us = time_us(&|text| {
        std::hint::black_box(crate::yaml::parse(text).ok());
    });
    let saphyr_us = time_us(&|text| {
        std::hint::black_box(crate::yaml::parse_with_saphyr(text).ok());
    });
    Ok(YamlReading {
        documents: documents.len(),
        quick_documents,
        quick_us,
        saphyr_us,
    })
}

/// The `index`th object of the corpus: of every ten, three compliant Pods, a violating one, two
/// Deployments (one violating), a StatefulSet, a Job, a Service and a ConfigMap.
fn corpus_object(index: usize) -> Value {
    let name = format!("app-{index}");
    let container = |compliant: bool| {
        let mut security = json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}});
        if !compliant {
            security = json!({"privileged": true});
        }
        json!({"name": "app", "image": format!("registry.example.com/team/app:{index}"),
            "ports": [{"containerPort": 8080, "name": "http"}],
            "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
            "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
            "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}],
            "securityContext": security})
    };
    let pod_spec = |compliant: bool| {
        json!({"containers": [container(compliant)], "serviceAccountName": "app",
            "volumes": [{"name": "config", "configMap": {"name": "app-config"}}]})
    };
    let metadata = json!({"name": name, "namespace": "bench", "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "bench"}});
    let template = |compliant: bool| json!({"metadata": {"labels": {"app.kubernetes.io/name": name}}, "spec": pod_spec(compliant)});
    match index % 10 {
        0..=2 => {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec(true)})
        }
        3 => {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec(false)})
        }
        4 | 5 => json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app.kubernetes.io/name": name}}, "template": template(index % 10 == 4)}}),
        6 => json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": metadata,
            "spec": {"serviceName": name, "selector": {"matchLabels": {"app.kubernetes.io/name": name}}, "template": template(true)}}),
        7 => json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata,
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [container(true)],
                "volumes": [{"name": "config", "configMap": {"name": "app-config"}}]}}}}),
        8 => json!({"apiVersion": "v1", "kind": "Service", "metadata": metadata,
            "spec": {"selector": {"app.kubernetes.io/name": name}, "ports": [{"port": 80, "targetPort": "http"}]}}),
        _ => json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata,
            "data": {"LOG_LEVEL": "info", "config.yaml": "server:\n  port: 8080\n"}}),
    }
}

//! `push`, `pull` and `run --policy registry://…` against a real registry: Debian's
//! `docker-registry` (the CNCF distribution registry), started on loopback for the test.

mod common;

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{path_str, real_annotated_policy_path, stderr, workspace_file};
use oci_client::client::ImageLayer;
use oci_client::manifest::{OCI_IMAGE_MEDIA_TYPE, WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE};
use oci_client::secrets::RegistryAuth;
use serde_json::Value;

/// How long one host-test command may take before the test kills it and fails.
const COMMAND_DEADLINE: Duration = Duration::from_secs(120);
/// How long the registry may take to listen.
const STARTUP_DEADLINE: Duration = Duration::from_secs(20);

/// A registry serving from a temporary directory; killed when dropped.
struct LocalRegistry {
    process: Child,
    address: SocketAddr,
    _storage: tempfile::TempDir,
}

impl LocalRegistry {
    fn start() -> Self {
        let storage = tempfile::tempdir().unwrap();
        // Ask the kernel for a free port, then hand it to the registry.
        let address = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap();
        let config = storage.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
                 http:\n  addr: {address}\n",
                storage.path().join("blobs").display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(storage.path().join("registry.log")).unwrap();
        let process = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect(
                "docker-registry must be installed (`make registry-server` or \
                 `apt-get install docker-registry`)",
            );
        let mut registry = Self {
            process,
            address,
            _storage: storage,
        };
        registry.wait_until_listening();
        registry
    }

    fn wait_until_listening(&mut self) {
        let started = Instant::now();
        while started.elapsed() < STARTUP_DEADLINE {
            if let Some(status) = self.process.try_wait().unwrap() {
                panic!("docker-registry exited with {status}: {}", self.log());
            }
            if TcpStream::connect_timeout(&self.address, Duration::from_millis(200)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "docker-registry did not listen on {} within {STARTUP_DEADLINE:?}: {}",
            self.address,
            self.log()
        );
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._storage.path().join("registry.log")).unwrap_or_default()
    }

    fn location(&self, repository_and_tag: &str) -> String {
        format!("registry://{}/{repository_and_tag}", self.address)
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Runs host-test, killing it if it outlives [`COMMAND_DEADLINE`]. Its output is read while it runs:
/// a child blocked on a full pipe would otherwise never exit, and `--show-metadata` writes the
/// README, embedded in the module, as one line of some 60 KB, near the 64 KiB a pipe holds.
fn host_test(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_host-test"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("host-test runs");
    let stdout = read_to_end_in_background(child.stdout.take().unwrap());
    let stderr = read_to_end_in_background(child.stderr.take().unwrap());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > COMMAND_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "host-test {args:?} took longer than {COMMAND_DEADLINE:?}: {}",
                String::from_utf8_lossy(&stderr.join().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

fn read_to_end_in_background(
    mut pipe: impl Read + Send + 'static,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        pipe.read_to_end(&mut bytes).expect("the pipe reads");
        bytes
    })
}

fn json_line(output: &Output) -> Value {
    assert!(output.status.success(), "{}", stderr(output));
    serde_json::from_slice(&output.stdout).expect("one JSON line on stdout")
}

fn sha256_digest(bytes: &[u8]) -> String {
    ImageLayer::new(bytes.to_vec(), WASM_LAYER_MEDIA_TYPE.to_string(), None).sha256_digest()
}

/// The manifest as the registry stores it, fetched with the OCI client directly.
fn raw_manifest(location: &str) -> Value {
    let reference = host_test::ship::registry::parse_reference(location).unwrap();
    host_test::ship::registry::install_tls_provider();
    let client = oci_client::Client::new(oci_client::client::ClientConfig {
        protocol: oci_client::client::ClientProtocol::Http,
        ..Default::default()
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (manifest, _digest) = runtime
        .block_on(client.pull_manifest_raw(
            &reference,
            &RegistryAuth::Anonymous,
            &[OCI_IMAGE_MEDIA_TYPE],
        ))
        .unwrap();
    serde_json::from_slice(&manifest).unwrap()
}

#[test]
fn a_pushed_policy_comes_back_identical_and_runs_from_the_registry() {
    let registry = LocalRegistry::start();
    let module = real_annotated_policy_path();
    let wasm = std::fs::read(&module).unwrap();
    let location = registry.location("restricted-pod-policy/policies/restricted-pod-policy:v0.1.0");

    let pushed = json_line(&host_test(&[
        "push",
        path_str(&module),
        &location,
        "--insecure",
    ]));
    assert_eq!(pushed["layerDigest"], sha256_digest(&wasm));

    let dir = tempfile::tempdir().unwrap();
    let pulled_path: PathBuf = dir.path().join("pulled.wasm");
    let pulled = json_line(&host_test(&[
        "pull",
        &location,
        "-o",
        path_str(&pulled_path),
        "--insecure",
    ]));
    let pulled_wasm = std::fs::read(&pulled_path).unwrap();
    assert_eq!(sha256_digest(&pulled_wasm), sha256_digest(&wasm));
    assert_eq!(pulled_wasm, wasm);
    assert_eq!(pulled["layerDigest"], pushed["layerDigest"]);
    assert_eq!(pulled["manifestDigest"], pushed["manifestDigest"]);

    // kwctl's layout: an empty wasm config, one wasm layer, the metadata's one-line annotations.
    let manifest = raw_manifest(&location);
    assert_eq!(manifest["config"]["mediaType"], WASM_CONFIG_MEDIA_TYPE);
    assert_eq!(manifest["config"]["digest"], sha256_digest(b"{}"));
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 1);
    assert_eq!(manifest["layers"][0]["mediaType"], WASM_LAYER_MEDIA_TYPE);
    assert_eq!(manifest["layers"][0]["digest"], pushed["layerDigest"]);
    let annotations = &manifest["annotations"];
    let source = "https://github.com/restricted-pod-policy/restricted-pod-policy";
    assert_eq!(annotations["io.kubewarden.policy.source"], source);
    assert_eq!(annotations["org.opencontainers.image.source"], source);
    assert_eq!(
        annotations["io.kubewarden.policy.title"],
        "restricted-pod-policy"
    );
    // The usage (README) spans lines, so only the module carries it.
    assert!(annotations.get("io.kubewarden.policy.usage").is_none());

    let request = workspace_file("examples/admission-reviews/02-privileged-pod.json");
    let run = host_test(&[
        "run",
        "--policy",
        &location,
        "--insecure",
        "--show-metadata",
        "--request",
        path_str(&request),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let response: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(response["allowed"], false, "{response}");
    assert!(
        stderr(&run).contains(r#"host-test: metadata {"protocolVersion":"v1""#),
        "{}",
        stderr(&run)
    );
}

#[test]
fn registry_failures_are_reported_not_hidden() {
    let registry = LocalRegistry::start();
    let dir = tempfile::tempdir().unwrap();
    let missing = host_test(&[
        "pull",
        &registry.location("nothing/here:v1"),
        "-o",
        path_str(&dir.path().join("x.wasm")),
        "--insecure",
    ]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("cannot pull"),
        "{}",
        stderr(&missing)
    );
    assert!(!dir.path().join("x.wasm").exists());

    // A module without metadata is refused before anything is sent.
    let unannotated = host_test(&[
        "push",
        path_str(&common::real_policy_path()),
        &registry.location("unannotated/policy:v1"),
        "--insecure",
    ]);
    assert!(!unannotated.status.success());
    assert!(
        stderr(&unannotated).contains("annotate it first"),
        "{}",
        stderr(&unannotated)
    );
}

//! The playground in a real browser: headless Chromium (Debian's `chromium`) driven through
//! `chromedriver` (WebDriver), on the page `make playground` built, served by the command the README
//! gives. Its verdicts are compared with what `host-test run` prints for the same AdmissionReview.
//! A screenshot and the evaluation times are left in `target/playground/` as artefacts.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{host_test, path_str, real_annotated_policy_path, workspace_file};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const PRIVILEGED_POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: privileged-pod
spec:
  containers:
  - name: app
    image: nginx
    securityContext:
      privileged: true
";

/// Line 10 of `PRIVILEGED_POD`: `privileged: true`.
const PRIVILEGED_LINE: usize = 10;

/// A child process killed when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn spawn(program: &str, args: &[&str]) -> Running {
    Running(
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start {program} ({error}): `make test` installs it (apt-get install chromium chromium-driver python3)")
            }),
    )
}

/// `make playground`'s page; the test fails at once, saying so, when it was not built.
fn playground_dist() -> PathBuf {
    let dist = workspace_file("playground/dist");
    if !dist.join("index.html").is_file() {
        eprintln!("playground/dist is missing: run `make test`, which builds the playground first");
        std::process::exit(2);
    }
    dist
}

/// The README's command: `python3 -m http.server --directory playground/dist`.
fn serve(dist: &Path, port: u16) -> Running {
    let server = spawn(
        "python3",
        &[
            "-m",
            "http.server",
            "--directory",
            path_str(dist),
            "--bind",
            "127.0.0.1",
            &port.to_string(),
        ],
    );
    wait_for_port(port, "the page's server");
    server
}

async fn browser(driver_port: u16, profile: &Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    // The flags the machine's notes give: no sandbox as root, and no background connections, which
    // this machine's closed network refuses.
    capabilities.insert(
        "goog:chromeOptions".to_string(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1440,1000",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("chromedriver starts a headless chromium")
}

async fn script(client: &Client, code: &str) -> Value {
    client
        .execute(code, Vec::new())
        .await
        .unwrap_or_else(|error| panic!("the page runs {code:?}: {error}"))
}

/// Polls `code` until it returns something other than `null` or `false`.
async fn until(client: &Client, what: &str, code: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let value = script(client, code).await;
        if !value.is_null() && value != json!(false) {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn open(client: &Client, url: &str) {
    client.goto(url).await.expect("the page loads");
    until(
        client,
        "the rules to load",
        "return document.body.dataset.ready === 'true';",
    )
    .await;
}

/// Sets an editor's text as a paste would, and waits for the evaluation it triggers.
async fn paste(client: &Client, id: &str, text: &str) {
    let code = format!(
        "const area = document.getElementById({id:?}); area.value = {text}; \
         area.dispatchEvent(new Event('input')); return true;",
        text = serde_json::to_string(text).unwrap()
    );
    script(client, &code).await;
    settle(client).await;
}

/// Waits for the evaluation scheduled by the last edit (one animation frame) to be shown.
async fn settle(client: &Client) {
    let code = "const done = arguments[0]; \
                requestAnimationFrame(() => requestAnimationFrame(() => done(true)));";
    client
        .execute_async(code, Vec::new())
        .await
        .expect("the page paints");
}

/// Picks `value` in the select `id` through WebDriver (a click on its option), and waits for
/// the evaluation.
async fn select(client: &Client, id: &str, value: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
    settle(client).await;
}

async fn text(client: &Client, selector: &str) -> String {
    let code = format!(
        "const node = document.querySelector({selector:?}); return node ? node.textContent : null;"
    );
    match script(client, &code).await {
        Value::String(text) => text,
        other => panic!("no {selector} on the page ({other})"),
    }
}

/// What `host-test run` answers for `review` with `settings`, in a cluster with an unlabelled
/// `default` namespace (as the page assumes for namespaces the manifest does not define).
fn host_test_answer(work: &Path, review: &str, settings: &Value) -> Value {
    let request = work.join("review.json");
    std::fs::write(&request, review).unwrap();
    let cluster = work.join("cluster.json");
    std::fs::write(
        &cluster,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
            .to_string(),
    )
    .unwrap();
    let output = host_test(&[
        "run",
        "--policy",
        path_str(&real_annotated_policy_path()),
        "--allow-context-aware",
        "--cluster-state",
        path_str(&cluster),
        "--settings-json",
        &settings.to_string(),
        "--request",
        path_str(&request),
    ]);
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).expect("host-test run prints one AdmissionResponse")
}

fn fifty_container_pod() -> String {
    let mut pod =
        String::from("apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\nspec:\n  containers:\n");
    for index in 0..50 {
        pod.push_str(&format!(
            "  - name: c{index}\n    image: registry.example/app:{index}\n    securityContext:\n      runAsUser: 0\n      capabilities:\n        add: [NET_ADMIN]\n"
        ));
    }
    pod
}

#[test]
fn the_playground_in_a_real_browser() {
    let dist = playground_dist();
    let artefacts = workspace_file("target/playground");
    std::fs::create_dir_all(&artefacts).unwrap();
    let work = tempfile::tempdir().unwrap();
    let page_port = free_port();
    let mut server = Some(serve(&dist, page_port));
    let driver_port = free_port();
    let _driver = spawn("chromedriver", &[&format!("--port={driver_port}")]);
    wait_for_port(driver_port, "chromedriver");
    let page = format!("http://127.0.0.1:{page_port}/");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = browser(driver_port, &work.path().join("profile")).await;
        open(&client, &page).await;

        // Typed, key by key, at baseline.
        select(&client, "level", "baseline").await;
        let editor = client.find(Locator::Id("manifest")).await.unwrap();
        editor.clear().await.unwrap();
        editor.send_keys(PRIVILEGED_POD).await.unwrap();
        settle(&client).await;
        assert_eq!(
            script(&client, "return document.getElementById('manifest').value;").await,
            json!(PRIVILEGED_POD)
        );
        let shown = text(&client, ".object.denied .message").await;

        // The same AdmissionReview through the module, as host-test runs it.
        let review = text(&client, ".object.denied .admission-review").await;
        let settings = json!({"defaults": {"enforce": "baseline", "enforce-version": "latest"}});
        let answer = host_test_answer(work.path(), &review, &settings);
        assert_eq!(answer["allowed"], json!(false));
        assert_eq!(
            json!(shown),
            answer["status"]["message"],
            "the page and host-test run differ"
        );
        assert!(shown.contains("privileged (container \"app\""), "{shown}");
        let kubectl = text(&client, ".object.denied .kubectl").await;
        assert!(
            kubectl.starts_with("Error from server: admission webhook \"clusterwide-restricted-pod-policy.kubewarden.admission\" denied the request: "),
            "{kubectl}"
        );

        // The violation's line is marked, and its button selects it.
        let gutter = text(&client, "#manifest-editor .gutter").await;
        let marked: Vec<usize> = gutter
            .lines()
            .enumerate()
            .filter(|(_, line)| line.ends_with('●'))
            .map(|(index, _)| index + 1)
            .collect();
        assert_eq!(marked, [PRIVILEGED_LINE], "{gutter}");
        client
            .find(Locator::Css(&format!(
                ".object.denied .findings .line-link[data-line='{PRIVILEGED_LINE}']"
            )))
            .await
            .expect("the finding names its line")
            .click()
            .await
            .unwrap();
        let selected = script(
            &client,
            "const a = document.getElementById('manifest'); \
             return a.value.slice(a.selectionStart, a.selectionEnd);",
        )
        .await;
        assert_eq!(selected, json!("      privileged: true"));

        // Unreadable YAML: a clear error at its line, nothing evaluated from it.
        paste(&client, "manifest", "apiVersion: v1\nkind: [Pod\n").await;
        let problem = text(&client, ".problem").await;
        assert!(problem.contains("not valid YAML"), "{problem}");
        assert!(problem.starts_with("Line 1: ") || problem.starts_with("Line 2: "), "{problem}");

        // A denied pod's fix, written into the manifest's own YAML, makes it pass at restricted.
        select(&client, "level", "restricted").await;
        paste(&client, "manifest", &PRIVILEGED_POD.replace("    securityContext:\n      privileged: true\n", "")).await;
        text(&client, ".object.denied .defaulted-by").await;
        client.find(Locator::Id("write-fixes")).await.unwrap().click().await.unwrap();
        settle(&client).await;
        let fixed = script(&client, "return document.getElementById('manifest').value;").await;
        let fixed = fixed.as_str().unwrap();
        assert!(fixed.starts_with(PRIVILEGED_POD.split("    securityContext").next().unwrap()), "{fixed}");
        assert!(fixed.contains("      allowPrivilegeEscalation: false\n"), "{fixed}");
        text(&client, ".object.allowed").await;
        select(&client, "level", "baseline").await;

        // Every control has a label (textareas and selects) or a text (buttons).
        let unnamed = script(
            &client,
            "return [...document.querySelectorAll('textarea, select, button')]\
               .filter((c) => c.tagName === 'BUTTON' ? !c.textContent.trim() : c.labels.length === 0)\
               .map((c) => c.id || c.outerHTML);",
        )
        .await;
        assert_eq!(unnamed, json!([]));

        // A 50-container pod: the times the page shows over ten edits are kept as an artefact, not
        // asserted (timings belong to benchmarks).
        paste(&client, "manifest", &fifty_container_pod()).await;
        let objects = script(&client, "return document.querySelectorAll('.object').length;").await;
        assert_eq!(objects, json!(1));
        let mut timings = Vec::new();
        for _ in 0..10 {
            script(
                &client,
                "document.getElementById('manifest').dispatchEvent(new Event('input')); return true;",
            )
            .await;
            settle(&client).await;
            let timing = text(&client, "#timing").await;
            let milliseconds: f64 = timing
                .trim_start_matches("evaluated in ")
                .trim_end_matches(" ms")
                .parse()
                .unwrap_or_else(|_| panic!("the page shows its evaluation time: {timing:?}"));
            timings.push(milliseconds);
        }
        timings.sort_by(f64::total_cmp);
        let report = format!(
            "50-container pod (300 lines), evaluated on each of 10 edits: fastest {:.1} ms, median {:.1} ms, slowest {:.1} ms\n",
            timings[0], timings[5], timings[9]
        );
        std::fs::write(artefacts.join("timings.txt"), &report).unwrap();
        eprint!("playground: {report}");

        // A share link restores everything: editors, level, version and so the verdicts.
        let shared_settings = "defaults:\n  enforce: restricted\nexemptions:\n  usernames: [ci-bot]\n";
        paste(&client, "manifest", PRIVILEGED_POD).await;
        paste(&client, "settings", shared_settings).await;
        select(&client, "version", "v1.30").await;
        let before = text(&client, ".object.denied .message").await;
        assert!(before.contains("\"baseline:v1.30\""), "{before}");
        client.find(Locator::Id("share")).await.unwrap().click().await.unwrap();
        let link = until(
            &client,
            "the share link",
            "return document.getElementById('share-status').textContent.startsWith('Link copied') \
             && location.href;",
        )
        .await;
        let link = link.as_str().unwrap().to_string();
        assert!(link.starts_with(&format!("{page}#state=")), "{link}");
        client.goto("about:blank").await.unwrap();
        open(&client, &link).await;
        let restored = script(
            &client,
            "return ['manifest', 'settings', 'level', 'version']\
               .map((id) => document.getElementById(id).value);",
        )
        .await;
        assert_eq!(
            restored,
            json!([PRIVILEGED_POD, shared_settings, "baseline", "v1.30"])
        );
        assert_eq!(text(&client, ".object.denied .message").await, before);
        let screenshot = client.screenshot().await.unwrap();
        std::fs::write(artefacts.join("playground.png"), &screenshot).unwrap();

        // Offline once loaded: the service worker serves the page with the server gone.
        until(
            &client,
            "the service worker",
            "return navigator.serviceWorker.controller !== null || \
             (navigator.serviceWorker.ready.then(() => location.reload()), false);",
        )
        .await;
        drop(server.take());
        open(&client, &page).await;
        let offline = text(&client, ".object.denied .message").await;
        assert!(offline.contains("privileged"), "{offline}");

        client.close().await.unwrap();
    });
}

//! Helm apps through `fleetctl render`: for an in-repo chart with the layout
//! of public charts (`_helpers.tpl`, hooks, `crds/`, a subchart in
//! `charts/`) and values that differ per environment (a values file named
//! `values-${environment.name}.yaml`, `${replicas}`) and per cluster
//! (`${cluster.name}`), fleet renders exactly the objects the Helm engine
//! renders for the same values, release name and namespace — only fleet's
//! labels and the default namespace differ — with the environment's
//! overlay applied on top.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use support::{copy_tree, fleetctl};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helm")
}

/// The objects the Helm engine renders for the chart with these values.
fn engine_objects(values_file: &str, inline: &Value) -> Vec<Value> {
    let chart = fixture().join("fleet/apps/podinfo/chart");
    let values = fixture().join("fleet/apps/podinfo").join(values_file);
    let output = Command::new(fleet_tests::tools::venv_python())
        .arg(fixture().join("engine.py"))
        .arg(&chart)
        .arg(&values)
        .arg(inline.to_string())
        .args(["web", "podinfo"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the Helm engine failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// fleet's render of the app on `cluster`, as JSON objects.
fn fleet_objects(repository: &Path, cluster: &str) -> Vec<Value> {
    let run = fleetctl(&[
        "render",
        "--repo",
        repository.to_str().unwrap(),
        "--cluster",
        cluster,
        "--app",
        "podinfo",
        "--output",
        "json",
    ])
    .success();
    let list: Value = serde_json::from_str(&run.stdout).unwrap();
    list["items"].as_array().unwrap().clone()
}

/// Removes what fleet adds: its two labels (and the label map if they were
/// all of it) and the app's namespace where the chart set none.
fn without_fleet_defaults(mut object: Value, engine: &[Value]) -> Value {
    let key = identity(&object);
    let metadata = object["metadata"].as_object_mut().unwrap();
    let labels = metadata["labels"].as_object_mut().unwrap();
    assert_eq!(labels.remove("fleet/app"), Some(json!("podinfo")));
    assert!(labels.remove("fleet/cluster").is_some());
    if labels.is_empty() {
        metadata.remove("labels");
    }
    let original = engine.iter().find(|candidate| identity(candidate) == key);
    let chart_set_namespace =
        original.is_some_and(|original| original["metadata"].get("namespace").is_some());
    if !chart_set_namespace && metadata.get("namespace") == Some(&json!("podinfo")) {
        metadata.remove("namespace");
    }
    object
}

fn identity(object: &Value) -> (String, String) {
    (
        object["kind"].as_str().unwrap().to_owned(),
        object["metadata"]["name"].as_str().unwrap().to_owned(),
    )
}

fn sorted(mut objects: Vec<Value>) -> Vec<Value> {
    objects.sort_by_key(identity);
    objects
}

#[test]
fn fleetctl_render_gives_what_the_helm_engine_gives_per_environment_and_cluster() {
    let directory = tempfile::tempdir().unwrap();
    copy_tree(&fixture().join("fleet"), directory.path());
    for (cluster, environment, replicas) in [
        ("dev-1", "dev", 1),
        ("prod-eu-1", "prod", 3),
        ("prod-us-1", "prod", 3),
    ] {
        let engine = engine_objects(
            &format!("values-{environment}.yaml"),
            &json!({"replicaCount": replicas, "cluster": cluster}),
        );
        let mut ours: Vec<Value> = fleet_objects(directory.path(), cluster)
            .into_iter()
            .map(|object| without_fleet_defaults(object, &engine))
            .collect();
        if environment == "prod" {
            // The prod overlay is applied on top of Helm's output.
            let deployment = ours
                .iter_mut()
                .find(|object| object["kind"] == "Deployment")
                .unwrap();
            let annotations = deployment["metadata"]["annotations"]
                .as_object_mut()
                .unwrap();
            assert_eq!(
                annotations.remove("fleet.example/overlay"),
                Some(json!("prod"))
            );
            deployment["metadata"]
                .as_object_mut()
                .unwrap()
                .remove("annotations");
        }
        let kinds: Vec<(String, String)> = sorted(ours.clone()).iter().map(identity).collect();
        assert_eq!(
            sorted(ours),
            sorted(engine.clone()),
            "{cluster}: fleet's objects differ from the Helm engine's"
        );
        // The public chart layout really was exercised: CRD from crds/, the
        // hook Job, the subchart (enabled in prod only), no test hook.
        assert!(kinds.contains(&(
            "CustomResourceDefinition".into(),
            "widgets.example.com".into()
        )));
        assert!(kinds.contains(&("Job".into(), "web-podinfo-migrate".into())));
        assert_eq!(
            kinds.contains(&("StatefulSet".into(), "web-cache".into())),
            environment == "prod"
        );
        assert!(!kinds.iter().any(|(kind, _)| kind == "Pod"), "{kinds:?}");
        let config = engine
            .iter()
            .find(|object| object["kind"] == "ConfigMap")
            .unwrap();
        assert_eq!(
            config["data"]["PODINFO_UI_MESSAGE"],
            json!(format!("hello from {cluster}"))
        );
    }
}

#[test]
fn a_helm_app_without_a_helm_binary_names_the_app_and_how_to_configure_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_fleetctl"))
        .args(["validate", "--repo"])
        .arg(fixture().join("fleet"))
        .env_remove(fleet_core::render::HELM_ENV)
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: apps/podinfo/app.yaml:7: no helm binary found on PATH"),
        "{stderr}"
    );
    assert!(stderr.contains("app podinfo"), "{stderr}");
    assert!(stderr.contains("render.helm in hub.yaml"), "{stderr}");
}

// ---- Remote charts: a loopback HTTP chart repository and OCI registry ----

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

/// A chart packaged (and optionally pushed) with the Helm engine.
struct Published {
    archive: PathBuf,
    digest: String,
}

fn publish(chart: &Path, destination: &Path, oci: Option<&str>) -> Published {
    let mut command = Command::new(fleet_tests::tools::venv_python());
    command
        .arg(fixture().join("publish.py"))
        .arg(chart)
        .arg(destination);
    if let Some(reference) = oci {
        command.arg(reference);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "packaging failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    Published {
        archive: PathBuf::from(result["archive"].as_str().unwrap()),
        digest: result["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:")
            .to_owned(),
    }
}

/// A Helm chart repository on loopback: serves whatever `files` holds.
struct ChartRepository {
    url: String,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl ChartRepository {
    fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/charts", listener.local_addr().unwrap());
        let files: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let served = files.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(count) => request.extend_from_slice(&buffer[..count]),
                    }
                }
                let request = String::from_utf8_lossy(&request);
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let body = served.lock().unwrap().get(&path).cloned();
                let answer = match body {
                    Some(body) => {
                        let mut answer = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        answer.extend_from_slice(&body);
                        answer
                    }
                    None => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = stream.write_all(&answer);
            }
        });
        Self { url, files }
    }

    /// Serves `published` as podinfo `version`, announcing `digest`.
    fn serve(&self, published: &Published, version: &str, digest: &str) {
        let index = format!(
            "apiVersion: v1\nentries:\n  podinfo:\n    - name: podinfo\n      version: {version}\n      \
             digest: \"{digest}\"\n      urls:\n        - podinfo-{version}.tgz\n  other:\n    - name: other\n      version: 1.0.0\n      urls: [other-1.0.0.tgz]\n"
        );
        let mut files = self.files.lock().unwrap();
        files.insert("/charts/index.yaml".into(), index.into_bytes());
        files.insert(
            format!("/charts/podinfo-{version}.tgz"),
            std::fs::read(&published.archive).unwrap(),
        );
    }
}

/// The fixture fleet with the podinfo app taken from `repository` (the
/// in-repo chart removed, so only the fetched one can render).
fn fleet_with_remote_chart(repository: &str, version: &str) -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    copy_tree(&fixture().join("fleet"), directory.path());
    std::fs::remove_dir_all(directory.path().join("apps/podinfo/chart")).unwrap();
    let app = std::fs::read_to_string(directory.path().join("apps/podinfo/app.yaml")).unwrap();
    let app = app.replace(
        "    chart: chart\n",
        &format!("    chart: podinfo\n    repository: {repository}\n    version: {version}\n"),
    );
    std::fs::write(directory.path().join("apps/podinfo/app.yaml"), app).unwrap();
    directory
}

/// Asserts that `run` exited 1 and its stderr contains `expected`.
fn assert_refused(run: &support::Run, expected: &str) {
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains(expected), "{}", run.stderr);
}

fn render_remote(fleet: &Path, cache: &Path, cluster: &str) -> support::Run {
    fleetctl(&[
        "render",
        "--repo",
        fleet.to_str().unwrap(),
        "--cluster",
        cluster,
        "--app",
        "podinfo",
        "--output",
        "json",
        "--chart-cache-dir",
        cache.to_str().unwrap(),
        "--chart-fetch-timeout",
        "20s",
    ])
}

fn assert_same_as_engine(run: support::Run, cluster: &str, replicas: u64, environment: &str) {
    let run = run.success();
    let engine = engine_objects(
        &format!("values-{environment}.yaml"),
        &json!({"replicaCount": replicas, "cluster": cluster}),
    );
    let list: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut ours: Vec<Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .cloned()
        .map(|object| without_fleet_defaults(object, &engine))
        .collect();
    if environment == "prod" {
        // The prod overlay is applied on top of the fetched chart's output too.
        let deployment = ours
            .iter_mut()
            .find(|object| object["kind"] == "Deployment")
            .unwrap();
        let metadata = deployment["metadata"].as_object_mut().unwrap();
        assert_eq!(
            metadata.remove("annotations"),
            Some(json!({"fleet.example/overlay": "prod"}))
        );
    }
    assert_eq!(sorted(ours), sorted(engine), "{cluster}");
}

#[test]
fn a_chart_from_an_http_repository_renders_like_the_engine_and_is_checked() {
    let packages = tempfile::tempdir().unwrap();
    let published = publish(
        &fixture().join("fleet/apps/podinfo/chart"),
        packages.path(),
        None,
    );
    let repository = ChartRepository::start();
    repository.serve(&published, "6.14.1", &published.digest);
    let cache = tempfile::tempdir().unwrap();
    let fleet = fleet_with_remote_chart(&repository.url, "6.14.1");
    assert_same_as_engine(
        render_remote(fleet.path(), cache.path(), "dev-1"),
        "dev-1",
        1,
        "dev",
    );

    // A version the repository does not have.
    let missing = fleet_with_remote_chart(&repository.url, "9.9.9");
    let run = render_remote(missing.path(), cache.path(), "dev-1");
    assert_refused(
        &run,
        "error: apps/podinfo/app.yaml:9: chart podinfo version 9.9.9 is not in",
    );
    assert!(
        run.stderr.contains("versions there: 6.14.1"),
        "{}",
        run.stderr
    );

    // The index announces another digest than the archive has.
    repository.serve(&published, "6.14.2", &"0".repeat(64));
    let mismatch = fleet_with_remote_chart(&repository.url, "6.14.2");
    let run = render_remote(mismatch.path(), cache.path(), "dev-1");
    assert_refused(&run, "chart podinfo 6.14.2: digest mismatch");

    // The same version republished with other bytes.
    let changed_chart = tempfile::tempdir().unwrap();
    copy_tree(
        &fixture().join("fleet/apps/podinfo/chart"),
        changed_chart.path(),
    );
    std::fs::write(
        changed_chart.path().join("templates/extra.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n",
    )
    .unwrap();
    let republished_into = tempfile::tempdir().unwrap();
    let republished = publish(changed_chart.path(), republished_into.path(), None);
    repository.serve(&republished, "6.14.1", &republished.digest);
    let run = render_remote(fleet.path(), cache.path(), "dev-1");
    assert_refused(&run, "chart podinfo 6.14.1 changed upstream");
}

#[test]
fn an_unreachable_chart_repository_is_an_error_at_the_app() {
    let closed = fleet_tests::net::free_port();
    let fleet = fleet_with_remote_chart(&format!("http://127.0.0.1:{closed}/charts"), "6.14.1");
    let cache = tempfile::tempdir().unwrap();
    let run = render_remote(fleet.path(), cache.path(), "dev-1");
    assert_refused(
        &run,
        "error: apps/podinfo/app.yaml:9: fetching chart podinfo 6.14.1",
    );
    assert!(run.stdout.is_empty());
}

/// The CNCF distribution registry (Debian's docker-registry) on loopback.
struct Registry {
    child: std::process::Child,
    port: u16,
    _storage: tempfile::TempDir,
}

impl Registry {
    fn start() -> Self {
        let storage = tempfile::tempdir().unwrap();
        let port = fleet_tests::net::free_port();
        let config = storage.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                storage.path().join("data").display()
            ),
        )
        .unwrap();
        let child = Command::new(fleet_tests::tools::tool("docker-registry"))
            .arg("serve")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "the registry did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Self {
            child,
            port,
            _storage: storage,
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_chart_from_an_oci_registry_renders_like_the_engine() {
    let registry = Registry::start();
    let reference = format!("oci://127.0.0.1:{}/charts", registry.port);
    let packages = tempfile::tempdir().unwrap();
    publish(
        &fixture().join("fleet/apps/podinfo/chart"),
        packages.path(),
        Some(&reference),
    );
    let cache = tempfile::tempdir().unwrap();
    let fleet = fleet_with_remote_chart(&reference, "6.14.1");
    assert_same_as_engine(
        render_remote(fleet.path(), cache.path(), "prod-eu-1"),
        "prod-eu-1",
        3,
        "prod",
    );
    let missing = fleet_with_remote_chart(&reference, "6.0.0");
    let run = render_remote(missing.path(), cache.path(), "dev-1");
    assert_refused(&run, "chart podinfo version 6.0.0 is not in");
}

#[test]
fn one_render_reads_a_repository_index_once_for_every_environment() {
    let packages = tempfile::tempdir().unwrap();
    let published = publish(
        &fixture().join("fleet/apps/podinfo/chart"),
        packages.path(),
        None,
    );
    let repository = fleet_tests::chart_repository::ChartRepository::start();
    repository.serve(
        "podinfo",
        "6.14.1",
        &std::fs::read(&published.archive).unwrap(),
    );
    // dev and prod (three clusters) both take podinfo from the repository.
    let fleet = fleet_with_remote_chart(&repository.url, "6.14.1");
    let cache = tempfile::tempdir().unwrap();
    let run = fleetctl(&[
        "validate",
        "--repo",
        fleet.path().to_str().unwrap(),
        "--chart-cache-dir",
        cache.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(repository.requests("/charts/index.yaml"), 1);
    assert_eq!(repository.requests("/charts/podinfo-6.14.1.tgz"), 1);
}

#[test]
fn an_https_chart_repository_is_trusted_through_the_chart_ca_setting_only() {
    let packages = tempfile::tempdir().unwrap();
    let published = publish(
        &fixture().join("fleet/apps/podinfo/chart"),
        packages.path(),
        None,
    );
    let ca = fleet_tests::chart_repository::TestCa::generate("charts test CA");
    let repository = fleet_tests::chart_repository::ChartRepository::start_tls(&ca);
    assert!(repository.url.starts_with("https://127.0.0.1:"));
    repository.serve(
        "podinfo",
        "6.14.1",
        &std::fs::read(&published.archive).unwrap(),
    );
    let fleet = fleet_with_remote_chart(&repository.url, "6.14.1");
    let cache = tempfile::tempdir().unwrap();

    // A CA the system does not know is refused, saying where to add it.
    let run = render_remote(fleet.path(), cache.path(), "dev-1");
    assert_refused(
        &run,
        "error: apps/podinfo/app.yaml:9: fetching chart podinfo 6.14.1: https://127.0.0.1:",
    );
    assert!(
        run.stderr.contains("invalid peer certificate"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("render.chartCaFile in hub.yaml / fleetctl --chart-ca-file"),
        "{}",
        run.stderr
    );

    // Trusted through --chart-ca-file: renders what the engine renders.
    let ca_file = packages.path().join("charts-ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem).unwrap();
    let run = fleetctl(&[
        "render",
        "--repo",
        fleet.path().to_str().unwrap(),
        "--cluster",
        "prod-eu-1",
        "--app",
        "podinfo",
        "--output",
        "json",
        "--chart-cache-dir",
        cache.path().to_str().unwrap(),
        "--chart-ca-file",
        ca_file.to_str().unwrap(),
    ]);
    assert_same_as_engine(run, "prod-eu-1", 3, "prod");
    assert_eq!(repository.requests("/charts/podinfo-6.14.1.tgz"), 1);
}

#[test]
fn a_relative_helm_path_keeps_naming_the_same_file_when_helm_runs() {
    let output = Command::new(env!("CARGO_BIN_EXE_fleetctl"))
        .current_dir(support::workspace())
        .args(["validate", "--repo"])
        .arg(fixture().join("fleet"))
        .args(["--helm", "tools/helm-template/helm"])
        .env_remove(fleet_core::render::HELM_ENV)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

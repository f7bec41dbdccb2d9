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

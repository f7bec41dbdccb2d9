//! A simulator with a data directory keeps its objects (and custom types)
//! across a restart; a plain-HTTP simulator serves kubectl and kube too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use kube::api::{Api, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::discovery::{ApiResource, Discovery};
use serde_json::json;

use common::{fast_config, start};

#[tokio::test]
async fn objects_and_crds_survive_a_restart_with_a_data_dir() {
    let data = tempfile::tempdir().unwrap();
    let mut config = fast_config();
    config.data_dir = Some(data.path().to_path_buf());

    let cluster = start(config.clone()).await;
    let client = cluster.client().await;
    let crd_api: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource::from_gvk(&GroupVersionKind::gvk(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
        )),
    );
    let crd: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "gadgets", "kind": "Gadget"},
                 "versions": [{"name": "v1", "served": true, "storage": true}]}
    }))
    .unwrap();
    crd_api
        .patch(
            "gadgets.example.com",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap();
    let gvk = GroupVersionKind::gvk("example.com", "v1", "Gadget");
    let gadgets: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "default", &ApiResource::from_gvk(&gvk));
    let gadget: DynamicObject =
        serde_json::from_value(json!({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g1"}, "spec": {"size": 3}})).unwrap();
    gadgets
        .patch(
            "g1",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&gadget),
        )
        .await
        .unwrap();
    let config_maps: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), "default");
    let config_map: k8s_openapi::api::core::v1::ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "kept"}, "data": {"k": "v"}})).unwrap();
    let before = config_maps
        .patch(
            "kept",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&config_map),
        )
        .await
        .unwrap();
    let deleted: k8s_openapi::api::core::v1::ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "deleted"}})).unwrap();
    config_maps
        .patch(
            "deleted",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&deleted),
        )
        .await
        .unwrap();
    config_maps
        .delete("deleted", &Default::default())
        .await
        .unwrap();
    cluster.simulator.shutdown().await;

    let restarted = start(config).await;
    let client = restarted.client().await;
    let config_maps: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), "default");
    let after = config_maps.get("kept").await.unwrap();
    assert_eq!(after.metadata.uid, before.metadata.uid);
    assert_eq!(after.data.unwrap()["k"], "v");
    assert!(after.metadata.managed_fields.is_some());
    assert!(config_maps.get("deleted").await.is_err());

    let discovery = Discovery::new(client.clone()).run().await.unwrap();
    assert!(
        discovery.resolve_gvk(&gvk).is_some(),
        "the custom type is served again"
    );
    let gadgets: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "default", &ApiResource::from_gvk(&gvk));
    assert_eq!(
        gadgets.get("g1").await.unwrap().data["spec"]["size"],
        json!(3)
    );

    // resourceVersions keep increasing after the restart.
    let changed = config_maps
        .patch(
            "kept",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"k": "w"}})),
        )
        .await
        .unwrap();
    let old: u64 = before.metadata.resource_version.unwrap().parse().unwrap();
    let new: u64 = changed.metadata.resource_version.unwrap().parse().unwrap();
    assert!(new > old, "{new} > {old}");

    let listed = restarted.kubectl_ok(&["get", "namespaces"]).await;
    assert_eq!(listed.matches("default ").count(), 1, "{listed}");
}

#[tokio::test]
async fn plain_http_serves_kubectl_and_kube() {
    let mut config = fast_config();
    config.tls = false;
    let cluster = start(config).await;
    assert!(cluster.simulator.url().starts_with("http://127.0.0.1:"));
    assert!(
        !cluster
            .simulator
            .kubeconfig()
            .contains("certificate-authority-data")
    );
    let namespaces = cluster
        .kubectl_ok(&["get", "namespaces", "-o", "name"])
        .await;
    assert!(namespaces.contains("namespace/kube-system"), "{namespaces}");
    let client = cluster.client().await;
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client);
    assert_eq!(api.list(&Default::default()).await.unwrap().items.len(), 4);
}

#[tokio::test]
async fn several_simulators_run_side_by_side_in_one_process() {
    let first = start(fast_config()).await;
    let second = start(fast_config()).await;
    assert_ne!(first.simulator.address(), second.simulator.address());
    let manifest = first.path("namespace.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: only-in-first\n",
    )
    .unwrap();
    let created = first
        .kubectl_ok(&["create", "-f", manifest.to_str().unwrap()])
        .await;
    assert_eq!(created.trim(), "namespace/only-in-first created");
    let in_second = second
        .kubectl_ok(&["get", "namespaces", "-o", "name"])
        .await;
    assert!(!in_second.contains("only-in-first"), "{in_second}");
    let in_first = first.kubectl_ok(&["get", "namespaces", "-o", "name"]).await;
    assert!(in_first.contains("namespace/only-in-first"), "{in_first}");
}

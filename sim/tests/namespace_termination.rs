//! `--namespace-finalize-delay`: a deleted namespace stays `Terminating`
//! with a `deletionTimestamp` while its content is deleted, creates in it are
//! refused with the real API server's 403, and it is removed after the delay.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

use common::{fast_config, start};

fn config_map(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"a": "1"}})).unwrap()
}

fn namespace(name: &str) -> Namespace {
    serde_json::from_value(json!({"metadata": {"name": name}})).unwrap()
}

fn assert_terminating_refusal(error: kube::Error, name: &str) {
    let kube::Error::Api(status) = error else {
        panic!("expected a Status, got {error:?}")
    };
    assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        status.message,
        format!(
            "configmaps \"{name}\" is forbidden: unable to create new content in namespace web because it is being terminated"
        )
    );
    let details = status.details.expect("details");
    assert_eq!(
        (details.name.as_str(), details.kind.as_str()),
        (name, "configmaps")
    );
    assert_eq!(details.causes.len(), 1, "{:?}", details.causes);
    assert_eq!(details.causes[0].reason, "NamespaceTerminating");
    assert_eq!(details.causes[0].field, "metadata.namespace");
}

#[tokio::test]
async fn a_deleted_namespace_terminates_for_the_delay_and_refuses_new_content() {
    let delay = Duration::from_millis(1500);
    let cluster = start(fleet_sim::SimConfig {
        namespace_finalize_delay: delay,
        ..fast_config()
    })
    .await;
    let client = cluster.client().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), "web");
    namespaces
        .create(&PostParams::default(), &namespace("web"))
        .await
        .unwrap();
    config_maps
        .create(&PostParams::default(), &config_map("settings"))
        .await
        .unwrap();

    namespaces
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    let terminating = namespaces
        .get("web")
        .await
        .expect("still there while terminating");
    assert!(terminating.metadata.deletion_timestamp.is_some());
    assert_eq!(
        terminating
            .status
            .and_then(|status| status.phase)
            .as_deref(),
        Some("Terminating")
    );
    assert!(
        config_maps
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "the content is deleted while the namespace terminates"
    );

    let refused = config_maps
        .create(&PostParams::default(), &config_map("again"))
        .await
        .unwrap_err();
    assert_terminating_refusal(refused, "again");
    let refused = config_maps
        .patch(
            "applied",
            &PatchParams::apply("test"),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "applied"}, "data": {"a": "1"}})),
        )
        .await
        .unwrap_err();
    assert_terminating_refusal(refused, "applied");

    // Gone after the delay (polled generously: the machine may be loaded).
    let mut removed = false;
    for _ in 0..200 {
        if namespaces.get_opt("web").await.unwrap().is_none() {
            removed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(removed, "the namespace is removed after the finalize delay");

    namespaces
        .create(&PostParams::default(), &namespace("web"))
        .await
        .unwrap();
    config_maps
        .create(&PostParams::default(), &config_map("settings"))
        .await
        .expect("a recreated namespace accepts content");
}

#[tokio::test]
async fn without_a_delay_a_deleted_namespace_is_removed_at_once() {
    let cluster = start(fast_config()).await;
    let client = cluster.client().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(&PostParams::default(), &namespace("web"))
        .await
        .unwrap();
    namespaces
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    assert!(namespaces.get_opt("web").await.unwrap().is_none());
}

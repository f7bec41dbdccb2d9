//! Simulated controllers, observed through the `kube` crate: workloads
//! become available after the rollout delay, `fail` images never do and say
//! why, Jobs complete, LoadBalancer Services get an address.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use kube::api::{Api, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::discovery::ApiResource;
use serde_json::{Value, json};

use common::{eventually, fast_config, start};

fn api(client: &kube::Client, group: &str, kind: &str) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, "v1", kind));
    Api::namespaced_with(client.clone(), "default", &resource)
}

fn deployment(name: &str, image: &str, replicas: i64) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "main", "image": image}]}}
        }
    }))
    .unwrap()
}

fn condition(object: &DynamicObject, condition_type: &str) -> Option<Value> {
    object.data["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|condition| condition["type"] == condition_type)
        .cloned()
}

#[tokio::test]
async fn a_good_image_becomes_available_after_the_rollout_delay() {
    let cluster = start(fast_config()).await;
    let deployments = api(&cluster.client().await, "apps", "Deployment");
    deployments
        .patch(
            "web",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&deployment("web", "nginx:1.27", 3)),
        )
        .await
        .unwrap();
    let available = eventually("web available", || {
        let deployments = deployments.clone();
        async move {
            let object = deployments.get("web").await.ok()?;
            (condition(&object, "Available")?["status"] == "True").then_some(object)
        }
    })
    .await;
    let status = &available.data["status"];
    assert_eq!(status["observedGeneration"], json!(1));
    assert_eq!(status["replicas"], json!(3));
    assert_eq!(status["updatedReplicas"], json!(3));
    assert_eq!(status["readyReplicas"], json!(3));
    assert_eq!(status["availableReplicas"], json!(3));
    assert_eq!(
        condition(&available, "Available").unwrap()["reason"],
        json!("MinimumReplicasAvailable")
    );
    let progressing = condition(&available, "Progressing").unwrap();
    assert_eq!(progressing["reason"], json!("NewReplicaSetAvailable"));
    assert!(
        progressing["message"]
            .as_str()
            .unwrap()
            .contains("has successfully progressed")
    );
}

#[tokio::test]
async fn before_the_rollout_delay_a_deployment_is_progressing_but_unavailable() {
    let mut config = fast_config();
    config.rollout_delay = Duration::from_secs(3600);
    let cluster = start(config).await;
    let deployments = api(&cluster.client().await, "apps", "Deployment");
    deployments
        .patch(
            "slow",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&deployment("slow", "nginx:1.27", 2)),
        )
        .await
        .unwrap();
    let observed = eventually("status observed", || {
        let deployments = deployments.clone();
        async move {
            let object = deployments.get("slow").await.ok()?;
            (object.data["status"]["observedGeneration"] == json!(1)).then_some(object)
        }
    })
    .await;
    assert_eq!(
        condition(&observed, "Available").unwrap()["status"],
        json!("False")
    );
    assert_eq!(
        condition(&observed, "Progressing").unwrap()["reason"],
        json!("ReplicaSetUpdated")
    );
    assert_eq!(observed.data["status"]["unavailableReplicas"], json!(2));
    assert!(observed.data["status"].get("availableReplicas").is_none());
}

#[tokio::test]
async fn a_fail_image_never_becomes_available_and_says_why_then_recovers() {
    let cluster = start(fast_config()).await;
    let deployments = api(&cluster.client().await, "apps", "Deployment");
    deployments
        .patch(
            "broken",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&deployment("broken", "nginx:1.27-fail", 2)),
        )
        .await
        .unwrap();
    let failed = eventually("progress deadline exceeded", || {
        let deployments = deployments.clone();
        async move {
            let object = deployments.get("broken").await.ok()?;
            (condition(&object, "Progressing")?["reason"] == "ProgressDeadlineExceeded")
                .then_some(object)
        }
    })
    .await;
    let progressing = condition(&failed, "Progressing").unwrap();
    assert_eq!(progressing["status"], json!("False"));
    let message = progressing["message"].as_str().unwrap();
    assert!(
        message.contains("container \"main\"") && message.contains("nginx:1.27-fail"),
        "{message}"
    );
    let available = condition(&failed, "Available").unwrap();
    assert_eq!(available["status"], json!("False"));
    assert_eq!(available["reason"], json!("MinimumReplicasUnavailable"));
    assert!(failed.data["status"].get("availableReplicas").is_none());

    // Fixing the image recovers.
    deployments
        .patch(
            "broken",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&deployment("broken", "nginx:1.27", 2)),
        )
        .await
        .unwrap();
    let recovered = eventually("recovered", || {
        let deployments = deployments.clone();
        async move {
            let object = deployments.get("broken").await.ok()?;
            (condition(&object, "Available")?["status"] == "True").then_some(object)
        }
    })
    .await;
    assert_eq!(recovered.data["status"]["observedGeneration"], json!(2));
    assert_eq!(
        condition(&recovered, "Progressing").unwrap()["status"],
        json!("True")
    );
}

#[tokio::test]
async fn statefulsets_and_daemonsets_become_ready() {
    let cluster = start(fast_config()).await;
    let client = cluster.client().await;
    let stateful_sets = api(&client, "apps", "StatefulSet");
    let mut object = deployment("db", "postgres:17", 3);
    object.types = Some(kube::api::TypeMeta {
        api_version: "apps/v1".into(),
        kind: "StatefulSet".into(),
    });
    object.data["spec"]["serviceName"] = json!("db");
    stateful_sets
        .patch(
            "db",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&object),
        )
        .await
        .unwrap();
    eventually("statefulset ready", || {
        let stateful_sets = stateful_sets.clone();
        async move {
            let object = stateful_sets.get("db").await.ok()?;
            (object.data["status"]["readyReplicas"] == json!(3)).then_some(())
        }
    })
    .await;
    let daemon_sets = api(&client, "apps", "DaemonSet");
    let mut object = deployment("agent", "fluent-bit:3", 1);
    object.types = Some(kube::api::TypeMeta {
        api_version: "apps/v1".into(),
        kind: "DaemonSet".into(),
    });
    object.data["spec"]
        .as_object_mut()
        .unwrap()
        .remove("replicas");
    daemon_sets
        .patch(
            "agent",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&object),
        )
        .await
        .unwrap();
    eventually("daemonset ready", || {
        let daemon_sets = daemon_sets.clone();
        async move {
            let object = daemon_sets.get("agent").await.ok()?;
            (object.data["status"]["numberReady"] == json!(1)).then_some(())
        }
    })
    .await;
}

#[tokio::test]
async fn jobs_complete_and_load_balancers_get_an_address() {
    let cluster = start(fast_config()).await;
    let client = cluster.client().await;
    let jobs = api(&client, "batch", "Job");
    let job: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
                 "containers": [{"name": "migrate", "image": "migrator:2"}]}}}
    }))
    .unwrap();
    jobs.patch(
        "migrate",
        &PatchParams::apply("fleet-agent"),
        &Patch::Apply(&job),
    )
    .await
    .unwrap();
    let done = eventually("job complete", || {
        let jobs = jobs.clone();
        async move {
            let object = jobs.get("migrate").await.ok()?;
            (condition(&object, "Complete")?["status"] == "True").then_some(object)
        }
    })
    .await;
    assert_eq!(done.data["status"]["succeeded"], json!(1));
    assert!(done.data["status"]["completionTime"].is_string());

    let services = api(&client, "", "Service");
    let service: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "edge"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "edge"}, "ports": [{"port": 443}]}
    }))
    .unwrap();
    let created = services
        .patch(
            "edge",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&service),
        )
        .await
        .unwrap();
    assert!(
        created.data["spec"]["clusterIP"]
            .as_str()
            .unwrap()
            .starts_with("10.96.")
    );
    let address = eventually("load balancer address", || {
        let services = services.clone();
        async move {
            let object = services.get("edge").await.ok()?;
            object.data["status"]["loadBalancer"]["ingress"][0]["ip"]
                .as_str()
                .map(str::to_string)
        }
    })
    .await;
    assert!(address.starts_with("198.51.100."), "{address}");
}

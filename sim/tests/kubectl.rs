//! The real `kubectl` (v1.32 on PATH) against a simulator: server-side apply
//! of a realistic manifest set, get, patch, scale, delete, api-resources,
//! wait and get --watch — checking what kubectl prints.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::time::Duration;

use common::{fast_config, fixture, start};

#[tokio::test]
async fn server_side_apply_of_a_manifest_set_then_get_all_namespaces() {
    let cluster = start(fast_config()).await;
    let manifests = fixture("shop.yaml");
    let manifests = manifests.to_str().unwrap();

    // Like against a real API server, the custom resource cannot be mapped
    // before its CRD exists; everything else is applied.
    let first = cluster
        .kubectl(&["apply", "--server-side", "-f", manifests])
        .await;
    assert!(!first.success);
    assert!(
        first.stderr.contains("ensure CRDs are installed first"),
        "{}",
        first.stderr
    );
    for line in [
        "namespace/shop serverside-applied",
        "serviceaccount/checkout serverside-applied",
        "role.rbac.authorization.k8s.io/checkout-reader serverside-applied",
        "rolebinding.rbac.authorization.k8s.io/checkout-reader serverside-applied",
        "configmap/checkout-config serverside-applied",
        "secret/checkout-credentials serverside-applied",
        "service/checkout serverside-applied",
        "deployment.apps/checkout serverside-applied",
        "customresourcedefinition.apiextensions.k8s.io/paymentproviders.shop.example.com serverside-applied",
    ] {
        assert!(
            first.stdout.contains(line),
            "missing {line:?} in:\n{}",
            first.stdout
        );
    }

    cluster
        .kubectl_ok(&[
            "wait",
            "--for=condition=Established",
            "crd/paymentproviders.shop.example.com",
            "--timeout=30s",
        ])
        .await;
    let second = cluster
        .kubectl_ok(&["apply", "--server-side", "-f", manifests])
        .await;
    assert!(
        second.contains("paymentprovider.shop.example.com/stripe serverside-applied"),
        "{second}"
    );

    let all = cluster
        .kubectl_ok(&["get", "configmaps,secrets,services,deployments", "-A"])
        .await;
    let header = all.lines().next().unwrap();
    assert!(header.starts_with("NAMESPACE"), "{all}");
    assert!(all.contains("checkout-config"), "{all}");
    assert!(all.contains("secret/checkout-credentials"), "{all}");
    assert!(all.contains("LoadBalancer"), "{all}");
    assert!(all.contains("deployment.apps/checkout"), "{all}");

    let custom = cluster.kubectl_ok(&["get", "pp", "-n", "shop"]).await;
    assert!(
        custom.lines().next().unwrap().contains("PROVIDER"),
        "{custom}"
    );
    assert!(custom.contains("stripe"), "{custom}");

    // The Secret's stringData became base64 data.
    let password = cluster
        .kubectl_ok(&[
            "get",
            "secret",
            "checkout-credentials",
            "-n",
            "shop",
            "-o",
            "jsonpath={.data.password}",
        ])
        .await;
    assert_eq!(password, "czNjcjN0");
}

#[tokio::test]
async fn get_output_yaml_shows_server_filled_metadata_and_managed_fields() {
    let cluster = start(fast_config()).await;
    let manifests = fixture("shop.yaml");
    let _ = cluster
        .kubectl(&["apply", "--server-side", "-f", manifests.to_str().unwrap()])
        .await;
    let yaml = cluster
        .kubectl_ok(&[
            "get",
            "deployment",
            "checkout",
            "-n",
            "shop",
            "-o",
            "yaml",
            "--show-managed-fields",
        ])
        .await;
    for expected in [
        "apiVersion: apps/v1",
        "kind: Deployment",
        "generation: 1",
        "creationTimestamp:",
        "uid:",
        "resourceVersion:",
        "manager: kubectl",
        "operation: Apply",
        "fieldsType: FieldsV1",
        "k:{\"name\":\"checkout\"}:",
        "image: registry.example/checkout:1.4.2",
    ] {
        assert!(yaml.contains(expected), "missing {expected:?} in:\n{yaml}");
    }
}

#[tokio::test]
async fn patch_merge_and_scale_update_the_deployment() {
    let cluster = start(fast_config()).await;
    let manifests = fixture("shop.yaml");
    let _ = cluster
        .kubectl(&["apply", "--server-side", "-f", manifests.to_str().unwrap()])
        .await;

    let patched = cluster
        .kubectl_ok(&[
            "patch",
            "deployment",
            "checkout",
            "-n",
            "shop",
            "--type",
            "merge",
            "-p",
            r#"{"metadata":{"labels":{"tier":"web"}}}"#,
        ])
        .await;
    assert_eq!(patched.trim(), "deployment.apps/checkout patched");
    let scaled = cluster
        .kubectl_ok(&[
            "scale",
            "deployment",
            "checkout",
            "-n",
            "shop",
            "--replicas=4",
        ])
        .await;
    assert_eq!(scaled.trim(), "deployment.apps/checkout scaled");

    let labels = cluster
        .kubectl_ok(&[
            "get",
            "deployment",
            "checkout",
            "-n",
            "shop",
            "--show-labels",
        ])
        .await;
    assert!(labels.contains("tier=web"), "{labels}");
    let replicas = cluster
        .kubectl_ok(&[
            "get",
            "deployment",
            "checkout",
            "-n",
            "shop",
            "-o",
            "jsonpath={.spec.replicas} {.metadata.generation}",
        ])
        .await;
    assert_eq!(
        replicas, "4 2",
        "scale bumps the generation once; a label patch does not"
    );

    cluster
        .kubectl_ok(&[
            "wait",
            "--for=jsonpath={.status.readyReplicas}=4",
            "deployment/checkout",
            "-n",
            "shop",
            "--timeout=30s",
        ])
        .await;
    let table = cluster
        .kubectl_ok(&["get", "deployment", "checkout", "-n", "shop"])
        .await;
    assert!(table.contains("4/4"), "{table}");
}

#[tokio::test]
async fn delete_of_a_namespace_removes_its_objects() {
    let cluster = start(fast_config()).await;
    let manifests = fixture("shop.yaml");
    let _ = cluster
        .kubectl(&["apply", "--server-side", "-f", manifests.to_str().unwrap()])
        .await;

    let deleted = cluster
        .kubectl_ok(&["delete", "configmap", "checkout-config", "-n", "shop"])
        .await;
    assert_eq!(deleted.trim(), "configmap \"checkout-config\" deleted");
    let missing = cluster
        .kubectl(&["get", "configmap", "checkout-config", "-n", "shop"])
        .await;
    assert!(!missing.success);
    assert!(
        missing
            .stderr
            .contains("configmaps \"checkout-config\" not found"),
        "{}",
        missing.stderr
    );

    let deleted = cluster.kubectl_ok(&["delete", "namespace", "shop"]).await;
    assert_eq!(deleted.trim(), "namespace \"shop\" deleted");
    let left = cluster
        .kubectl(&["get", "deployments,services,secrets", "-n", "shop"])
        .await;
    assert!(
        left.stdout.trim().is_empty() && left.stderr.contains("No resources found"),
        "{}{}",
        left.stdout,
        left.stderr
    );
}

#[tokio::test]
async fn api_resources_lists_builtins_and_runtime_crds() {
    let cluster = start(fast_config()).await;
    let before = cluster.kubectl_ok(&["api-resources"]).await;
    let header = before.lines().next().unwrap();
    assert!(
        header.contains("SHORTNAMES") && header.contains("NAMESPACED"),
        "{before}"
    );
    let deployments = before
        .lines()
        .find(|line| line.starts_with("deployments "))
        .unwrap();
    let columns: Vec<&str> = deployments.split_whitespace().collect();
    assert_eq!(
        columns,
        vec!["deployments", "deploy", "apps/v1", "true", "Deployment"]
    );
    let namespaces = before
        .lines()
        .find(|line| line.starts_with("namespaces "))
        .unwrap();
    assert!(namespaces.contains("false"), "{namespaces}");
    assert!(!before.contains("paymentproviders"));

    let manifests = fixture("shop.yaml");
    let _ = cluster
        .kubectl(&["apply", "--server-side", "-f", manifests.to_str().unwrap()])
        .await;
    let after = cluster
        .kubectl_ok(&["api-resources", "--api-group=shop.example.com"])
        .await;
    assert!(after.contains("paymentproviders"), "{after}");
    assert!(after.contains("PaymentProvider"), "{after}");

    cluster
        .kubectl_ok(&["delete", "crd", "paymentproviders.shop.example.com"])
        .await;
    let gone = cluster.kubectl_ok(&["api-resources"]).await;
    assert!(!gone.contains("paymentproviders"), "{gone}");
}

#[tokio::test]
async fn wait_for_available_returns_once_the_rollout_completes() {
    let cluster = start(fast_config()).await;
    let manifests = fixture("shop.yaml");
    let _ = cluster
        .kubectl(&["apply", "--server-side", "-f", manifests.to_str().unwrap()])
        .await;
    let waited = cluster
        .kubectl_ok(&[
            "wait",
            "--for=condition=Available",
            "deployment/checkout",
            "-n",
            "shop",
            "--timeout=30s",
        ])
        .await;
    assert_eq!(waited.trim(), "deployment.apps/checkout condition met");
    let table = cluster
        .kubectl_ok(&["get", "deployment", "checkout", "-n", "shop"])
        .await;
    let row: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(&row[..4], &["checkout", "2/2", "2", "2"], "{table}");
}

#[tokio::test]
async fn get_watch_prints_an_update_as_it_happens() {
    let cluster = start(fast_config()).await;
    let manifests = fixture("shop.yaml");
    let _ = cluster
        .kubectl(&["apply", "--server-side", "-f", manifests.to_str().unwrap()])
        .await;

    let mut child = cluster
        .kubectl_command(&[
            "get",
            "configmap",
            "checkout-config",
            "-n",
            "shop",
            "--watch",
            "-o",
            "jsonpath={.data.LOG_LEVEL}{\"\\n\"}",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_sender, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_sender.send(line).is_err() {
                break;
            }
        }
    });
    let first = tokio::time::timeout(Duration::from_secs(30), lines.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first, "info");

    cluster
        .kubectl_ok(&[
            "patch",
            "configmap",
            "checkout-config",
            "-n",
            "shop",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"LOG_LEVEL":"debug"}}"#,
        ])
        .await;
    let second = tokio::time::timeout(Duration::from_secs(30), lines.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second, "debug");
    child.kill().unwrap();
    let _ = child.wait();
}

#[tokio::test]
async fn get_watch_with_table_output_prints_rows() {
    let cluster = start(fast_config()).await;
    let manifests = fixture("shop.yaml");
    let _ = cluster
        .kubectl(&["apply", "--server-side", "-f", manifests.to_str().unwrap()])
        .await;
    let mut child = cluster
        .kubectl_command(&["get", "deployments", "-n", "shop", "--watch"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_sender, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_sender.send(line).is_err() {
                break;
            }
        }
    });
    let header = tokio::time::timeout(Duration::from_secs(30), lines.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        header.starts_with("NAME") && header.contains("READY"),
        "{header}"
    );
    cluster
        .kubectl_ok(&[
            "scale",
            "deployment",
            "checkout",
            "-n",
            "shop",
            "--replicas=5",
        ])
        .await;
    let mut saw_five = false;
    while let Ok(Some(line)) = tokio::time::timeout(Duration::from_secs(30), lines.recv()).await {
        if line.starts_with("checkout") && line.contains("/5") {
            saw_five = true;
            break;
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        saw_five,
        "kubectl get --watch never printed the scaled deployment"
    );
}

#[tokio::test]
async fn imperative_create_commands_work_although_kubectl_sends_protobuf() {
    let cluster = start(fast_config()).await;
    let created = cluster.kubectl_ok(&["create", "namespace", "team-a"]).await;
    assert_eq!(created.trim(), "namespace/team-a created");
    cluster
        .kubectl_ok(&[
            "create",
            "configmap",
            "settings",
            "-n",
            "team-a",
            "--from-literal=a=1",
            "--from-literal=b=two",
        ])
        .await;
    cluster
        .kubectl_ok(&[
            "create",
            "secret",
            "generic",
            "credentials",
            "-n",
            "team-a",
            "--from-literal=password=hunter2",
        ])
        .await;
    cluster
        .kubectl_ok(&["create", "serviceaccount", "builder", "-n", "team-a"])
        .await;
    let deployment = cluster
        .kubectl_ok(&[
            "create",
            "deployment",
            "web",
            "-n",
            "team-a",
            "--image=nginx:1.27",
            "--replicas=2",
            "--port=80",
        ])
        .await;
    assert_eq!(deployment.trim(), "deployment.apps/web created");

    let data = cluster
        .kubectl_ok(&[
            "get",
            "configmap",
            "settings",
            "-n",
            "team-a",
            "-o",
            "jsonpath={.data.a} {.data.b}",
        ])
        .await;
    assert_eq!(data, "1 two");
    let password = cluster
        .kubectl_ok(&[
            "get",
            "secret",
            "credentials",
            "-n",
            "team-a",
            "-o",
            "jsonpath={.data.password}",
        ])
        .await;
    assert_eq!(password, "aHVudGVyMg==");
    let image = cluster
        .kubectl_ok(&["get", "deployment", "web", "-n", "team-a", "-o", "jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort} {.spec.strategy.type}"])
        .await;
    assert_eq!(image, "nginx:1.27 80 RollingUpdate");
    cluster
        .kubectl_ok(&[
            "wait",
            "--for=condition=Available",
            "deployment/web",
            "-n",
            "team-a",
            "--timeout=30s",
        ])
        .await;
}

#[tokio::test]
async fn workloads_get_replica_sets_and_pods_that_follow_rollouts_and_deletion() {
    let cluster = start(fast_config()).await;
    let manifests = fixture("shop.yaml");
    let _ = cluster
        .kubectl(&["apply", "--server-side", "-f", manifests.to_str().unwrap()])
        .await;
    cluster
        .kubectl_ok(&[
            "wait",
            "--for=condition=Ready",
            "pod",
            "-l",
            "app=checkout",
            "-n",
            "shop",
            "--timeout=30s",
        ])
        .await;
    let pods = cluster
        .kubectl_ok(&["get", "pods", "-n", "shop", "-l", "app=checkout"])
        .await;
    let running: Vec<&str> = pods
        .lines()
        .skip(1)
        .filter(|line| line.contains("1/1") && line.contains("Running"))
        .collect();
    assert_eq!(running.len(), 2, "{pods}");
    assert!(
        running.iter().all(|line| line.starts_with("checkout-")),
        "{pods}"
    );

    cluster
        .kubectl_ok(&[
            "set",
            "image",
            "deployment/checkout",
            "-n",
            "shop",
            "checkout=registry.example/checkout:2.0-fail",
        ])
        .await;
    common::eventually("pods of the failing template", || async {
        let pods = cluster
            .kubectl_ok(&["get", "pods", "-n", "shop", "-l", "app=checkout"])
            .await;
        (pods.lines().skip(1).count() == 2 && pods.matches("ImagePullBackOff").count() == 2)
            .then_some(())
    })
    .await;
    let replica_sets = cluster
        .kubectl_ok(&["get", "replicasets", "-n", "shop"])
        .await;
    assert_eq!(
        replica_sets.lines().count(),
        3,
        "two ReplicaSets, the old one at zero:\n{replica_sets}"
    );

    cluster
        .kubectl_ok(&["delete", "deployment", "checkout", "-n", "shop"])
        .await;
    let left = cluster
        .kubectl(&["get", "pods,replicasets", "-n", "shop"])
        .await;
    assert!(
        left.stderr.contains("No resources found"),
        "{}{}",
        left.stdout,
        left.stderr
    );
}

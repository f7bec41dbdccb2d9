//! Custom resources of CRDs installed in the cluster by something else (not
//! in the fleet repository): the hub cannot know their scope, so it renders
//! them without a namespace, and the agent asks discovery — a cluster-scoped
//! `ClusterIssuer` is applied without a namespace, a namespaced `Gadget`
//! lands in the app's namespace — and then manages them like any other
//! object: a manual edit is reverted and removing one from Git prunes it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use fleet_tests::agent_process::AgentProcess;
use fleet_tests::agent_support::{eventually, synced_and_healthy, token};
use fleet_tests::git_fixture::FleetRemote;
use fleet_tests::hub_process::HubProcess;
use fleet_tests::sim_cluster::SimCluster;
use fleet_tests::tiny_fleet::{app_yaml, fleet, write};

const WAIT: Duration = Duration::from_secs(60);

/// A CRD as a Helm chart would install it, straight into the cluster.
fn crd(plural: &str, kind: &str, scope: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.example.com
spec:
  group: example.com
  scope: {scope}
  names:
    plural: {plural}
    singular: {singular}
    kind: {kind}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
",
        singular = kind.to_lowercase()
    )
}

const ISSUER: &str = "apiVersion: example.com/v1
kind: ClusterIssuer
metadata:
  name: letsencrypt
spec:
  server: https://acme.example.com
";

const GADGET: &str = "apiVersion: example.com/v1
kind: Gadget
metadata:
  name: gizmo
spec:
  size: 3
";

#[test]
fn custom_resources_of_in_cluster_crds_get_their_scope_from_discovery() {
    let content = tempfile::tempdir().unwrap();
    let root = content.path();
    fleet(root, &["edge-1"]);
    write(
        root,
        "apps/certs/app.yaml",
        &app_yaml("certs", "certs", true, true, ""),
    );
    write(root, "apps/certs/base/issuer.yaml", ISSUER);
    write(root, "apps/certs/base/gadget.yaml", GADGET);
    let remote = FleetRemote::with_content(root);
    let revision = remote.head();

    // fleetctl renders them without a namespace: it does not guess.
    let rendered = fleet_tests::hub_process::fleetctl_with_config(
        &root.join("no-fleetconfig"),
        &[
            "render",
            "--cluster",
            "edge-1",
            "--output",
            "json",
            "--repo",
            root.to_str().unwrap(),
        ],
    );
    assert_eq!(rendered.code, 0, "{}", rendered.stderr);
    let list: serde_json::Value = serde_json::from_str(&rendered.stdout).unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    for item in items {
        assert!(
            item["metadata"].get("namespace").is_none(),
            "a kind of unknown scope gets no namespace by guess: {item}"
        );
    }

    let cluster = SimCluster::start("edge-1");
    for (plural, kind, scope) in [
        ("clusterissuers", "ClusterIssuer", "Cluster"),
        ("gadgets", "Gadget", "Namespaced"),
    ] {
        let run =
            cluster.kubectl_with_input(&["apply", "-f", "-"], Some(&crd(plural, kind, scope)));
        assert_eq!(run.code, 0, "{}", run.stderr);
    }

    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let agent = AgentProcess::start(&hub, &cluster, &token(&hub, "edge-1"));
    eventually(
        "edge-1 synced and healthy",
        WAIT,
        || synced_and_healthy(&hub, "edge-1", &revision).then_some(()),
        || agent.log(),
    );

    let issuer = cluster
        .get("clusterissuers.example.com", "", "letsencrypt")
        .expect("the ClusterIssuer exists");
    assert!(
        issuer["metadata"].get("namespace").is_none(),
        "a cluster-scoped object has no namespace: {issuer}"
    );
    let gadget = cluster
        .get("gadgets.example.com", "certs", "gizmo")
        .expect("the Gadget is in the app's namespace");
    assert_eq!(gadget["spec"]["size"], 3);
    assert!(
        cluster
            .get("gadgets.example.com", "default", "gizmo")
            .is_none(),
        "not in the default namespace"
    );

    // Drift on the object whose namespace the agent filled in is reverted:
    // the watch and the desired state agree on its key.
    let run = cluster.kubectl(&[
        "patch",
        "gadgets.example.com",
        "gizmo",
        "--namespace",
        "certs",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"size":9}}"#,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    eventually(
        "the drift reverted",
        WAIT,
        || {
            cluster
                .get("gadgets.example.com", "certs", "gizmo")
                .filter(|gadget| gadget["spec"]["size"] == 3)
        },
        || agent.log(),
    );

    // Removed from Git: both are pruned under the keys the agent resolved.
    let work = remote.work();
    std::fs::remove_file(work.join("apps/certs/base/gadget.yaml")).unwrap();
    std::fs::remove_file(work.join("apps/certs/base/issuer.yaml")).unwrap();
    remote.write(
        "apps/certs/base/config.yaml",
        &fleet_tests::tiny_fleet::config_map("certs-config", "K", "1"),
    );
    let next = remote.commit_and_push("drop the custom resources");
    assert_eq!(hub.webhook(&hub.webhook_secret()), 202);
    eventually(
        "both pruned",
        WAIT,
        || {
            (synced_and_healthy(&hub, "edge-1", &next)
                && cluster
                    .get("gadgets.example.com", "certs", "gizmo")
                    .is_none()
                && cluster
                    .get("clusterissuers.example.com", "", "letsencrypt")
                    .is_none())
            .then_some(())
        },
        || agent.log(),
    );
}

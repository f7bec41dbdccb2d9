//! Applying what Git holds, whatever it is: a CRD and a custom resource of it
//! in the same commit apply in one pass (discovery is refreshed in between),
//! and an object the API server rejects is reported with the API server's
//! message while the rest of the app still applies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use fleet_tests::agent_process::AgentProcess;
use fleet_tests::agent_support::{cluster_status, eventually, token};
use fleet_tests::git_fixture::FleetRemote;
use fleet_tests::hub_process::HubProcess;
use fleet_tests::sim_cluster::SimCluster;
use fleet_tests::tiny_fleet::{app_yaml, config_map, fleet, write};

const WAIT: Duration = Duration::from_secs(60);

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
";

const WIDGET: &str = "apiVersion: example.com/v1
kind: Widget
metadata:
  name: gizmo
spec:
  size: 3
";

#[test]
fn agent_applies_a_crd_with_its_resource_in_one_pass_and_reports_a_rejected_object() {
    let content = tempfile::tempdir().unwrap();
    let root = content.path();
    fleet(root, &["edge-1"]);
    write(
        root,
        "apps/widgets/app.yaml",
        &app_yaml("widgets", "widgets", true, true, ""),
    );
    write(root, "apps/widgets/base/crd.yaml", CRD);
    write(root, "apps/widgets/base/widget.yaml", WIDGET);
    write(
        root,
        "apps/mixed/app.yaml",
        &app_yaml("mixed", "mixed", true, true, ""),
    );
    write(
        root,
        "apps/mixed/base/a.yaml",
        &config_map("a-first", "K", "1"),
    );
    // Not a valid object name: the API server refuses it.
    write(
        root,
        "apps/mixed/base/b.yaml",
        &config_map("B_invalid", "K", "2"),
    );
    write(
        root,
        "apps/mixed/base/c.yaml",
        &config_map("c-last", "K", "3"),
    );
    let remote = FleetRemote::with_content(root);
    let revision = remote.head();
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let cluster = SimCluster::start("edge-1");
    let agent = AgentProcess::start(&hub, &cluster, &token(&hub, "edge-1"));

    let status = eventually(
        "the rejected object reported",
        WAIT,
        || {
            let status = cluster_status(&hub, "edge-1");
            status["message"]
                .as_str()
                .unwrap_or("")
                .contains("mixed: apply failed: ConfigMap mixed/B_invalid: ")
                .then_some(status)
        },
        || format!("{}\n{}", cluster_status(&hub, "edge-1"), agent.log()),
    );
    eprintln!("status: {status}");
    let message = status["message"].as_str().unwrap();
    // The API server's own words follow the object's name.
    let rejection = cluster.kubectl_with_input(
        &["apply", "--server-side", "-f", "-"],
        Some("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: B_invalid\n  namespace: mixed\n"),
    );
    assert_ne!(rejection.code, 0);
    let reported = message
        .split("ConfigMap mixed/B_invalid: ")
        .nth(1)
        .unwrap()
        .split(" | ")
        .next()
        .unwrap();
    assert!(
        reported.starts_with("ConfigMap \"B_invalid\" is invalid: metadata.name: Invalid value")
            && rejection.stderr.contains(reported),
        "reported: {reported}\nkubectl: {}",
        rejection.stderr
    );
    assert_eq!(status["health"], "Degraded");
    assert_eq!(
        status["synced"], false,
        "a partly applied state is not the target"
    );

    // The rest of the app, and the other app, applied.
    assert!(cluster.get("configmap", "mixed", "a-first").is_some());
    assert!(cluster.get("configmap", "mixed", "c-last").is_some());
    // The CRD and its custom resource, from one commit, in one pass.
    assert!(cluster.get("crd", "", "widgets.example.com").is_some());
    let widget = eventually(
        "the widget exists",
        WAIT,
        || cluster.get("widgets.example.com", "widgets", "gizmo"),
        || agent.log(),
    );
    assert_eq!(widget["spec"]["size"], 3);
    assert!(!message.contains("widgets:"), "{message}");
    assert_eq!(status["targetRevision"], revision.as_str());
}

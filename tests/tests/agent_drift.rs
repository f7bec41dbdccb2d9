//! Drift on a real cluster API (fleet-sim) caught by the real agent's
//! watches: a `kubectl patch` of a managed field is reverted and reported to
//! the hub; with `selfHeal: false` it is only reported; an
//! `ignoreDifferences` field is left alone; a managed object deleted by hand
//! comes back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use fleet_tests::agent_process::AgentProcess;
use fleet_tests::agent_support::EdgeFleet;
use fleet_tests::agent_support::{cluster_status, eventually};
use fleet_tests::hub_process::HubProcess;
use fleet_tests::sim_cluster::SimCluster;
use fleet_tests::tiny_fleet::{app_yaml, config_map, deployment, fleet, write};

const WAIT: Duration = Duration::from_secs(60);

const IGNORE_REPLICAS: &str = "  ignoreDifferences:\n    - group: apps\n      kind: Deployment\n      name: web\n      jsonPointers:\n        - /spec/replicas\n";

fn greeting(cluster: &SimCluster) -> String {
    cluster.get("configmap", "web", "web-config").unwrap()["data"]["GREETING"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn patch_greeting(cluster: &SimCluster, value: &str) {
    let patch = format!(r#"{{"data":{{"GREETING":"{value}"}}}}"#);
    cluster
        .kubectl(&[
            "patch",
            "configmap",
            "web-config",
            "--namespace",
            "web",
            "--type",
            "merge",
            "-p",
            &patch,
        ])
        .success();
}

/// Patches a managed field and waits until the agent has put it back: proof
/// that the agent has processed every watch event up to this point.
fn revert_round_trip(cluster: &SimCluster, agent: &AgentProcess) {
    patch_greeting(cluster, "patched");
    eventually(
        "web-config reverted",
        WAIT,
        || (greeting(cluster) == "hello").then_some(()),
        || agent.log(),
    );
}

fn message(hub: &HubProcess) -> String {
    cluster_status(hub, "edge-1")["message"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

#[test]
fn agent_reverts_and_reports_drift_honours_self_heal_and_ignore_differences() {
    let content = tempfile::tempdir().unwrap();
    let root = content.path();
    fleet(root, &["edge-1"]);
    write(
        root,
        "apps/web/app.yaml",
        &app_yaml("web", "web", true, true, IGNORE_REPLICAS),
    );
    write(
        root,
        "apps/web/base/config.yaml",
        &config_map("web-config", "GREETING", "hello"),
    );
    write(
        root,
        "apps/web/base/deployment.yaml",
        &deployment("web", "example.com/web:1.0", 1),
    );
    write(
        root,
        "apps/notes/app.yaml",
        &app_yaml("notes", "notes", true, false, ""),
    );
    write(
        root,
        "apps/notes/base/config.yaml",
        &config_map("notes-config", "NOTE", "original"),
    );
    let EdgeFleet {
        remote: _remote,
        revision: _revision,
        hub,
        cluster,
        agent,
    } = EdgeFleet::start(root, WAIT);
    assert_eq!(cluster_status(&hub, "edge-1")["driftCount"], 0);

    // A managed field patched by hand is reverted, and the hub shows the drift.
    revert_round_trip(&cluster, &agent);
    eventually(
        "the hub shows the reverted drift",
        WAIT,
        || {
            let status = cluster_status(&hub, "edge-1");
            (status["driftCount"].as_u64().unwrap_or(0) >= 1
                && message(&hub).contains(
                    "web: drift reverted: ConfigMap web/web-config: /data/GREETING: \"hello\" → \"patched\"",
                ))
            .then_some(())
        },
        || format!("{}\n{}", cluster_status(&hub, "edge-1"), agent.log()),
    );

    // selfHeal: false — drift is reported and left in place.
    cluster
        .kubectl(&[
            "patch",
            "configmap",
            "notes-config",
            "--namespace",
            "notes",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"NOTE":"edited"}}"#,
        ])
        .success();
    eventually(
        "the hub shows the unreverted drift",
        WAIT,
        || {
            message(&hub)
                .contains("notes: drifted (selfHeal is off): ConfigMap notes/notes-config: /data/NOTE: \"original\" → \"edited\"")
                .then_some(())
        },
        || format!("{}\n{}", cluster_status(&hub, "edge-1"), agent.log()),
    );

    // ignoreDifferences — /spec/replicas of web is neither reverted nor reported.
    cluster
        .kubectl(&[
            "patch",
            "deployment",
            "web",
            "--namespace",
            "web",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"replicas":3}}"#,
        ])
        .success();
    // A later revert shows the agent has seen both patches.
    revert_round_trip(&cluster, &agent);
    let web = cluster.get("deployment", "web", "web").unwrap();
    assert_eq!(web["spec"]["replicas"], 3, "an ignored field is left alone");
    let notes = cluster.get("configmap", "notes", "notes-config").unwrap();
    assert_eq!(
        notes["data"]["NOTE"], "edited",
        "selfHeal: false does not revert"
    );
    assert!(
        !message(&hub).contains("/spec/replicas"),
        "{}",
        message(&hub)
    );

    // A managed object deleted by hand is recreated.
    cluster
        .kubectl(&["delete", "configmap", "web-config", "--namespace", "web"])
        .success();
    eventually(
        "web-config recreated",
        WAIT,
        || cluster.get("configmap", "web", "web-config").map(|_| ()),
        || agent.log(),
    );
    assert_eq!(greeting(&cluster), "hello");
    eventually(
        "the hub shows the recreation",
        WAIT,
        || {
            message(&hub)
                .contains("ConfigMap web/web-config: deleted by hand, recreated")
                .then_some(())
        },
        || format!("{}\n{}", cluster_status(&hub, "edge-1"), agent.log()),
    );
}

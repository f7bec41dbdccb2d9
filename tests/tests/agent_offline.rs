//! The agent without its hub: a manual edit is still reverted, an agent
//! restarted while the hub is down works from its cache, and when the hub
//! returns its status view catches up without restarting the agent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use fleet_tests::agent_support::EdgeFleet;
use fleet_tests::agent_support::{cluster_status, eventually};
use fleet_tests::sim_cluster::SimCluster;
use fleet_tests::tiny_fleet::web_fleet;

const WAIT: Duration = Duration::from_secs(60);

fn greeting(cluster: &SimCluster) -> Option<String> {
    cluster
        .get("configmap", "web", "web-config")
        .map(|config| config["data"]["GREETING"].as_str().unwrap().to_owned())
}

#[test]
fn agent_self_heals_while_the_hub_is_down_and_the_hub_catches_up() {
    let content = tempfile::tempdir().unwrap();
    let root = content.path();
    web_fleet(root, &["edge-1"]);
    let EdgeFleet {
        remote: _remote,
        revision: _revision,
        mut hub,
        cluster,
        mut agent,
    } = EdgeFleet::start(root, WAIT);

    hub.kill();
    // A manual edit is reverted with no hub.
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
            r#"{"data":{"GREETING":"offline edit"}}"#,
        ])
        .success();
    eventually(
        "reverted without the hub",
        WAIT,
        || (greeting(&cluster).as_deref() == Some("hello")).then_some(()),
        || agent.log(),
    );

    // An agent restarted while the hub is down works from its cache.
    agent.kill();
    cluster
        .kubectl(&["delete", "configmap", "web-config", "--namespace", "web"])
        .success();
    agent.restart();
    eventually(
        "recreated from the cache",
        WAIT,
        || (greeting(&cluster).as_deref() == Some("hello")).then_some(()),
        || agent.log(),
    );
    assert!(agent.running());

    // The hub comes back; its view catches up without restarting the agent.
    hub.start();
    eventually(
        "the hub's view caught up",
        WAIT,
        || {
            let status = cluster_status(&hub, "edge-1");
            (status["connected"] == true
                && status["synced"] == true
                && status["health"] == "Healthy"
                && status["driftCount"].as_u64().unwrap_or(0) >= 1
                && status["message"].as_str().unwrap_or("").contains(
                    "web: drift reverted: ConfigMap web/web-config: deleted by hand, recreated",
                ))
            .then_some(())
        },
        || format!("{}\n{}", cluster_status(&hub, "edge-1"), agent.log()),
    );
    assert!(agent.running());
}

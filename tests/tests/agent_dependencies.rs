//! `dependsOn` on a real cluster: an app waits until its dependency is
//! applied and healthy, says which dependency it waits for, and applies as
//! soon as the dependency becomes healthy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use fleet_tests::agent_process::AgentProcess;
use fleet_tests::agent_support::{cluster_status, eventually, synced_and_healthy, token};
use fleet_tests::git_fixture::FleetRemote;
use fleet_tests::hub_process::HubProcess;
use fleet_tests::sim_cluster::SimCluster;
use fleet_tests::tiny_fleet::{app_yaml, config_map, deployment, fleet, write};

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn agent_holds_an_app_until_its_dependency_is_healthy() {
    let content = tempfile::tempdir().unwrap();
    let root = content.path();
    fleet(root, &["edge-1"]);
    write(
        root,
        "apps/db/app.yaml",
        &app_yaml("db", "db", true, true, ""),
    );
    // An image whose tag contains `fail` never becomes available.
    write(
        root,
        "apps/db/base/deployment.yaml",
        &deployment("db", "example.com/db:fail", 1),
    );
    write(
        root,
        "apps/api/app.yaml",
        &app_yaml("api", "api", true, true, "  dependsOn:\n    - db\n"),
    );
    write(
        root,
        "apps/api/base/config.yaml",
        &config_map("api-config", "DB", "db.db"),
    );
    let remote = FleetRemote::with_content(root);
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let cluster = SimCluster::start("edge-1");
    let agent = AgentProcess::start(&hub, &cluster, &token(&hub, "edge-1"));

    eventually(
        "api waits for db",
        WAIT,
        || {
            cluster_status(&hub, "edge-1")["message"]
                .as_str()
                .unwrap_or("")
                .contains("api: waiting for dependency db")
                .then_some(())
        },
        || format!("{}\n{}", cluster_status(&hub, "edge-1"), agent.log()),
    );
    assert!(cluster.get("deployment", "db", "db").is_some());
    assert!(cluster.get("configmap", "api", "api-config").is_none());

    // Fixing the dependency releases the app.
    remote.edit("apps/db/base/deployment.yaml", "db:fail", "db:1.0");
    let fixed = remote.commit_and_push("db: a working image");
    hub.fleetctl(&["refresh"]).success();
    eventually(
        "api applied once db is healthy",
        WAIT,
        || synced_and_healthy(&hub, "edge-1", &fixed).then_some(()),
        || format!("{}\n{}", cluster_status(&hub, "edge-1"), agent.log()),
    );
    assert!(cluster.get("configmap", "api", "api-config").is_some());
}

//! The real agent end to end: install manifests that a simulated cluster
//! accepts, an agent process that converges the cluster to the rendered
//! state of the current commit, then prunes what a later commit removes —
//! or keeps and reports it when the app says `prune: false`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use fleet_tests::agent_process::AgentProcess;
use fleet_tests::agent_support::{
    cluster_status, eventually, install_manifests, synced_and_healthy, token,
};
use fleet_tests::git_fixture::FleetRemote;
use fleet_tests::hub_process::HubProcess;
use fleet_tests::sim_cluster::SimCluster;
use fleet_tests::tiny_fleet::{app_yaml, config_map, deployment, web_fleet, write};

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn agent_converges_a_cluster_prunes_removed_objects_and_reports_orphans() {
    let content = tempfile::tempdir().unwrap();
    let root = content.path();
    web_fleet(root, &["edge-1"]);
    write(
        root,
        "apps/web/base/extra.yaml",
        &config_map("web-extra", "A", "1"),
    );
    write(
        root,
        "apps/web/base/deployment.yaml",
        &deployment("web", "${registry}/web:1.0", 2),
    );
    write(
        root,
        "apps/keep/app.yaml",
        &app_yaml("keep", "keep", false, true, ""),
    );
    write(
        root,
        "apps/keep/base/config.yaml",
        &config_map("keep-config", "B", "2"),
    );
    write(
        root,
        "apps/keep/base/old.yaml",
        &config_map("keep-old", "C", "3"),
    );
    let remote = FleetRemote::with_content(root);
    let first = remote.head();
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let cluster = SimCluster::start("edge-1");
    let token = token(&hub, "edge-1");

    // The install manifests are accepted by the API server as they are.
    let manifests = install_manifests(&hub, "edge-1", &token);
    cluster
        .kubectl_with_input(&["apply", "--server-side", "-f", "-"], Some(&manifests))
        .success();
    let secret = cluster
        .get("secret", "fleet-system", "fleet-agent-bootstrap")
        .unwrap();
    assert!(secret["data"]["token"].is_string() && secret["data"]["ca.crt"].is_string());
    assert!(
        cluster
            .get("deployment", "fleet-system", "fleet-agent")
            .is_some()
    );
    assert!(
        cluster
            .get("clusterrolebinding", "", "fleet-agent")
            .is_some()
    );

    // An agent with that token converges the cluster.
    let agent = AgentProcess::start(&hub, &cluster, &token);
    eventually(
        "edge-1 synced and healthy",
        WAIT,
        || synced_and_healthy(&hub, "edge-1", &first).then_some(()),
        || {
            format!(
                "{}\nagent log:\n{}",
                cluster_status(&hub, "edge-1"),
                agent.log()
            )
        },
    );
    let config = cluster.get("configmap", "web", "web-config").unwrap();
    assert_eq!(config["data"]["GREETING"], "hello");
    assert_eq!(config["metadata"]["labels"]["fleet/app"], "web");
    assert_eq!(config["metadata"]["labels"]["fleet/cluster"], "edge-1");
    let web = cluster.get("deployment", "web", "web").unwrap();
    assert_eq!(
        web["spec"]["template"]["spec"]["containers"][0]["image"],
        "example.com/web:1.0"
    );
    assert_eq!(web["status"]["availableReplicas"], 2);
    assert!(cluster.get("configmap", "keep", "keep-old").is_some());
    let table = hub.fleetctl(&["status"]).success().stdout;
    let line = table.lines().find(|line| line.contains("edge-1")).unwrap();
    assert!(
        line.contains("Synced") && line.contains("Healthy"),
        "{table}"
    );
    let inventory = cluster
        .get("configmap", "fleet-system", "fleet-agent-inventory")
        .unwrap();
    assert!(
        inventory["data"]["web"]
            .as_str()
            .unwrap()
            .contains("web-extra")
    );

    // Something the agent did not create, next to what it manages.
    cluster
        .kubectl(&[
            "create",
            "configmap",
            "bystander",
            "--namespace",
            "web",
            "--from-literal=x=y",
        ])
        .success();

    // A commit removes one object from each app.
    std::fs::remove_file(remote.work().join("apps/web/base/extra.yaml")).unwrap();
    std::fs::remove_file(remote.work().join("apps/keep/base/old.yaml")).unwrap();
    let second = remote.commit_and_push("remove web-extra and keep-old");
    hub.fleetctl(&["refresh"]).success();
    eventually(
        "web-extra pruned and keep-old reported as orphaned",
        WAIT,
        || {
            let status = cluster_status(&hub, "edge-1");
            (status["appliedRevision"] == second.as_str()
                && status["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("keep: orphaned (prune is off): ConfigMap keep/keep-old")
                && cluster.get("configmap", "web", "web-extra").is_none())
            .then_some(())
        },
        || {
            format!(
                "{}\nagent log:\n{}",
                cluster_status(&hub, "edge-1"),
                agent.log()
            )
        },
    );
    assert!(
        cluster.get("configmap", "keep", "keep-old").is_some(),
        "prune: false keeps it"
    );
    assert!(
        cluster.get("configmap", "web", "bystander").is_some(),
        "never touched"
    );
    assert!(cluster.get("configmap", "web", "web-config").is_some());
    assert!(synced_and_healthy(&hub, "edge-1", &second));

    // A pod's state directory is often an emptyDir: a new agent with an
    // empty state directory and a used token gets its identity back from
    // the Secret in its namespace, and reconnects.
    let mut agent = agent;
    agent.kill();
    std::fs::remove_dir_all(agent.state_dir()).unwrap();
    eventually(
        "the hub sees the agent gone",
        WAIT,
        || (cluster_status(&hub, "edge-1")["connected"] == false).then_some(()),
        || cluster_status(&hub, "edge-1").to_string(),
    );
    agent.restart();
    eventually(
        "the agent reconnects with its restored identity",
        WAIT,
        || (cluster_status(&hub, "edge-1")["connected"] == true).then_some(()),
        || agent.log(),
    );
    assert!(
        agent
            .log()
            .contains("identity restored from the Secret fleet-agent-identity")
    );
    assert!(cluster.get("configmap", "keep", "keep-old").is_some());
    assert!(synced_and_healthy(&hub, "edge-1", &second));
}

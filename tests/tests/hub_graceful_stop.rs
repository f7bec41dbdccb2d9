//! SIGTERM with agents connected: the hub node sends its agents to another
//! node (they reconnect at once, without backoff), hands leadership over,
//! flushes status reports and exits 0 within its 5 s shutdown grace; the
//! agent, on SIGTERM, finishes its apply in flight and exits 0 within 5 s.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use fleet_tests::agent_process::AgentProcess;
use fleet_tests::agent_support::{cluster_status, eventually, synced_and_healthy, token};
use fleet_tests::git_fixture::FleetRemote;
use fleet_tests::hub_cluster::HubCluster;
use fleet_tests::hub_process::HubProcess;
use fleet_tests::sim_cluster::SimCluster;
use fleet_tests::tiny_fleet::web_fleet;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);
/// The shutdown grace (the default of `node.shutdownGrace` and of the
/// agent's `--shutdown-grace`): the bound on the exit.
const GRACE: Duration = Duration::from_secs(5);
const CLUSTERS: [&str; 2] = ["edge-1", "edge-2"];

/// Whether node `node_id` reports `cluster` connected to it.
fn connected_on(hub: &HubCluster, node_id: u64, cluster: &str) -> bool {
    let run = hub.fleetctl_on(node_id, &["status", "-o", "json"]);
    if run.code != 0 {
        return false;
    }
    serde_json::from_str::<Value>(&run.stdout)
        .ok()
        .and_then(|statuses| {
            statuses.as_array().and_then(|statuses| {
                statuses
                    .iter()
                    .find(|status| status["name"] == cluster)
                    .map(|status| status["connected"] == true)
            })
        })
        .unwrap_or(false)
}

#[test]
fn sigterm_sends_agents_to_another_node_and_exits_0_within_the_grace() {
    let content = tempfile::tempdir().unwrap();
    web_fleet(content.path(), &CLUSTERS);
    let remote = FleetRemote::with_content(content.path());
    let mut hub = HubCluster::start(remote.bare().to_str().unwrap(), 3);
    let leader = hub.await_leader();
    let first = hub.nodes[0].endpoint();
    let clusters: Vec<SimCluster> = CLUSTERS
        .iter()
        .map(|name| SimCluster::start(name))
        .collect();
    let mut agents: Vec<AgentProcess> = clusters
        .iter()
        .map(|cluster| {
            let token = hub
                .fleetctl_on(1, &["token", "create", "--cluster", &cluster.name])
                .success()
                .stdout
                .trim()
                .to_owned();
            AgentProcess::start_at(&first, &hub.ca_file(), cluster, &token)
        })
        .collect();
    let logs = |agents: &[AgentProcess], hub: &HubCluster| {
        let agent_logs: Vec<String> = agents.iter().map(AgentProcess::log).collect();
        format!("{}\n{}", hub.logs(), agent_logs.join("\n"))
    };
    eventually(
        "both agents connected to node 1",
        WAIT,
        || {
            CLUSTERS
                .iter()
                .all(|cluster| connected_on(&hub, 1, cluster))
                .then_some(())
        },
        || logs(&agents, &hub),
    );
    eprintln!("node {leader} leads when node 1 is stopped");

    let (status, took) = hub.node(1).terminate();
    let exited = Instant::now();
    let status = status.unwrap_or_else(|| panic!("node 1 did not exit\n{}", hub.nodes[0].log()));
    assert!(
        status.success(),
        "node 1 exited with {status}\n{}",
        hub.nodes[0].log()
    );
    assert!(
        took <= GRACE,
        "node 1 took {took:?} to exit on SIGTERM (grace {GRACE:?})\n{}",
        hub.nodes[0].log()
    );
    assert!(
        hub.nodes[0]
            .log()
            .contains("sending agents to other hub nodes"),
        "{}",
        hub.nodes[0].log()
    );

    let moved = eventually(
        "both agents connected to another node",
        WAIT,
        || {
            CLUSTERS
                .iter()
                .all(|cluster| connected_on(&hub, 2, cluster) || connected_on(&hub, 3, cluster))
                .then(|| exited.elapsed())
        },
        || logs(&agents, &hub),
    );
    // Seen through fleetctl polls (each a process start and a TLS
    // handshake), so this is an upper bound of the agents' own move.
    eprintln!("node 1 exited in {took:?}; agents seen on another node {moved:?} after its exit");
    for agent in &agents {
        assert!(
            agent
                .log()
                .contains("the hub node is stopping: reconnecting to the next endpoint now"),
            "the agent reconnects at once, not after a failure and backoff\n{}",
            agent.log()
        );
    }

    // The agent: SIGTERM → exit 0 within its grace.
    let (status, took) = agents[0].terminate();
    let status = status.expect("the agent exits");
    assert!(
        status.success(),
        "the agent exited with {status}\n{}",
        agents[0].log()
    );
    assert!(took <= GRACE, "the agent took {took:?} to exit on SIGTERM");
}

#[test]
fn a_single_hub_with_a_connected_agent_exits_0_within_the_grace_on_sigterm() {
    let content = tempfile::tempdir().unwrap();
    web_fleet(content.path(), &["edge-1"]);
    let remote = FleetRemote::with_content(content.path());
    let revision = remote.head();
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let cluster = SimCluster::start("edge-1");
    let agent = AgentProcess::start(&hub, &cluster, &token(&hub, "edge-1"));
    eventually(
        "edge-1 synced, healthy and connected",
        WAIT,
        || {
            (synced_and_healthy(&hub, "edge-1", &revision)
                && cluster_status(&hub, "edge-1")["connected"] == true)
                .then_some(())
        },
        || format!("{}\n{}", cluster_status(&hub, "edge-1"), agent.log()),
    );
    let (status, took) = hub.terminate();
    let status = status.unwrap_or_else(|| panic!("the hub did not exit\n{}", hub.log()));
    assert!(
        status.success(),
        "the hub exited with {status}\n{}",
        hub.log()
    );
    assert!(
        took <= GRACE,
        "the hub took {took:?} to exit on SIGTERM (grace {GRACE:?})\n{}",
        hub.log()
    );
}

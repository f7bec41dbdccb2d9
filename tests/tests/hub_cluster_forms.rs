//! A 3-node hub of real processes: it forms (node 1 by `init`, nodes 2 and
//! 3 by `init --join` with join tokens), elects one leader, and every node
//! serves agents and fleetctl — writes made on followers are forwarded to
//! the leader and visible everywhere; `fleetctl hub step-down` hands
//! leadership to another node.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use fleet_tests::agent_client::enroll;
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_cluster::HubCluster;
use fleet_tests::roaming_agent::spawn_roaming_responder;
use serde_json::Value;

const CLUSTERS: [&str; 6] = [
    "dev-eu-1",
    "dev-us-1",
    "staging-eu-1",
    "staging-us-1",
    "prod-eu-1",
    "prod-us-1",
];

async fn eventually(what: &str, cluster: &HubCluster, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for: {what}\n{}",
            cluster.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_form_elect_one_leader_and_each_serves_agents() {
    let remote = FleetRemote::with_content(&examples());
    let hub = HubCluster::start(remote.bare().to_str().unwrap(), 3);
    let leader = hub.await_leader();

    let members = hub.members_on(2).unwrap();
    let roles: BTreeSet<(String, String)> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|member| {
            (
                member["name"].as_str().unwrap().to_owned(),
                member["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(roles.len(), 3, "{members}");
    assert_eq!(
        roles.iter().filter(|(_, role)| role == "leader").count(),
        1,
        "{members}"
    );
    assert!(
        roles
            .iter()
            .all(|(_, role)| role == "leader" || role == "voter")
    );

    // Tokens minted on followers (forwarded writes), agents enrolled and
    // connected on every node in turn.
    let follower = (1..=3).find(|node| *node != leader).unwrap();
    let mut agents = Vec::new();
    for (index, cluster) in CLUSTERS.iter().enumerate() {
        let node_id = (index % 3) as u64 + 1;
        let token_node = if index % 2 == 0 { follower } else { node_id };
        let token = hub
            .fleetctl_on(token_node, &["token", "create", "--cluster", cluster])
            .success()
            .stdout
            .trim()
            .to_owned();
        let endpoint = hub.nodes[node_id as usize - 1].endpoint();
        let agent = enroll(&endpoint, &hub.ca_pem(), cluster, &token)
            .await
            .unwrap();
        assert_eq!(agent.hub_endpoints.len(), 3, "{:?}", agent.hub_endpoints);
        assert_eq!(agent.hub_endpoints[0], endpoint, "its own node first");
        agents.push(spawn_roaming_responder(agent));
    }
    eventually("every agent has a session", &hub, || {
        agents.iter().all(|agent| agent.endpoint().is_some())
    })
    .await;
    let nodes_used: BTreeSet<String> = agents.iter().filter_map(|agent| agent.endpoint()).collect();
    assert_eq!(nodes_used.len(), 3, "agents spread over the three nodes");

    // Every node reports every agent's status (written through the leader).
    for node_id in 1..=3 {
        eventually(
            &format!("node {node_id} sees every cluster synced"),
            &hub,
            || {
                let run = hub.fleetctl_on(node_id, &["status", "-o", "json"]);
                run.code == 0
                    && serde_json::from_str::<Value>(&run.stdout)
                        .unwrap()
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|cluster| CLUSTERS.contains(&cluster["name"].as_str().unwrap()))
                        .all(|cluster| cluster["synced"] == true)
            },
        )
        .await;
    }
    // The audit log is the same on every node.
    let audit = |node_id| {
        hub.fleetctl_on(node_id, &["audit", "-o", "json"])
            .success()
            .stdout
    };
    let on_leader = audit(leader);
    assert!(
        on_leader.contains("joined with a join token"),
        "{on_leader}"
    );
    for node_id in 1..=3 {
        eventually("audit logs agree", &hub, || audit(node_id) == on_leader).await;
    }

    // Leader transfer for maintenance, asked of a follower.
    let stepped = hub
        .fleetctl_on(follower, &["hub", "step-down"])
        .success()
        .stdout;
    let new_leader = hub.await_leader();
    assert_ne!(new_leader, leader, "{stepped}\n{}", hub.logs());
    assert!(
        stepped.contains(&format!("node {new_leader} leads now")),
        "{stepped}\n{}",
        hub.logs()
    );
    hub.fleetctl_on(leader, &["token", "create", "--cluster", "dev-eu-1"])
        .success();
}

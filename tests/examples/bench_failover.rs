//! Failover benchmark: a 3-node hub of real processes on loopback with
//! protocol-level agents spread over its nodes; the leader is killed (-9)
//! several times and two figures are measured each time:
//!
//! - kill → writes accepted again (a write sent to a surviving node,
//!   retried until one is acknowledged);
//! - kill → every agent has a session again (those on the dead node moved).
//!
//! Run: `cargo run -p fleet-tests --example bench_failover [-- ROUNDS AGENTS]`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use fleet_proto::CreateTokenRequest;
use fleet_tests::agent_client::enroll;
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_cluster::HubCluster;
use fleet_tests::roaming_agent::spawn_roaming_responder;

const CLUSTERS: [&str; 8] = [
    "dev-eu-1",
    "dev-us-1",
    "prod-eu-1",
    "prod-eu-2",
    "prod-us-1",
    "prod-us-2",
    "staging-eu-1",
    "staging-us-1",
];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut arguments = std::env::args().skip(1);
    let rounds: usize = arguments
        .next()
        .and_then(|text| text.parse().ok())
        .unwrap_or(5);
    let agent_count: usize = arguments
        .next()
        .and_then(|text| text.parse().ok())
        .unwrap_or(24);

    let remote = FleetRemote::with_content(&examples());
    let mut hub = HubCluster::start(remote.bare().to_str().unwrap(), 3);
    hub.await_leader();
    // Several agents per declared cluster (each with its own certificate)
    // stand in for a bigger fleet.
    let mut agents = Vec::new();
    for index in 0..agent_count {
        let cluster = CLUSTERS[index % CLUSTERS.len()];
        let node = &hub.nodes[index % 3];
        let token = hub
            .fleetctl_on(node.node_id, &["token", "create", "--cluster", cluster])
            .success()
            .stdout
            .trim()
            .to_owned();
        let agent = enroll(&node.endpoint(), &hub.ca_pem(), cluster, &token)
            .await
            .unwrap_or_else(|status| {
                panic!("enrolling {cluster} on hub-{}: {status}", node.node_id)
            });
        agents.push(spawn_roaming_responder(agent));
    }
    while agents.iter().any(|agent| agent.endpoint().is_none()) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut writes_ms = Vec::new();
    let mut agents_ms = Vec::new();
    for round in 1..=rounds {
        let leader = hub.await_leader();
        let survivor = (1..=3).find(|node| *node != leader).unwrap();
        let mut admin = hub.admin(survivor).await.unwrap();
        let dead = hub.node(leader).endpoint();
        let on_dead = agents
            .iter()
            .filter(|agent| agent.endpoint().as_deref() == Some(dead.as_str()))
            .count();

        hub.node(leader).kill();
        let killed = Instant::now();
        let watched = agents.clone();
        let dead_endpoint = dead.clone();
        let agents_watch = tokio::spawn(async move {
            loop {
                if watched.iter().all(|agent| {
                    agent
                        .endpoint()
                        .is_some_and(|endpoint| endpoint != dead_endpoint)
                }) {
                    return killed.elapsed();
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let writes_back = loop {
            let call = admin.create_token(CreateTokenRequest {
                cluster: "dev-eu-1".to_owned(),
                ttl_seconds: 60,
            });
            if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(10), call).await {
                break killed.elapsed();
            }
            assert!(killed.elapsed() < Duration::from_secs(60), "no recovery");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let agents_back = tokio::time::timeout(Duration::from_secs(60), agents_watch)
            .await
            .expect("agents reconnect")
            .unwrap();
        let (writes, moved) = (writes_back, agents_back);
        println!(
            "round {round}: killed leader hub-{leader} ({on_dead} of {agent_count} agents on it): writes accepted after {} ms, all agents connected after {} ms",
            writes.as_millis(),
            moved.as_millis()
        );
        writes_ms.push(writes.as_millis() as u64);
        agents_ms.push(moved.as_millis() as u64);
        hub.node(leader).start();
    }
    // FLEET_BENCH_LOGS=DIR keeps the nodes' logs (with FLEET_TEST_HUB_LOG=
    // info,openraft=info they show each election).
    if let Some(directory) = std::env::var_os("FLEET_BENCH_LOGS") {
        std::fs::create_dir_all(&directory).unwrap();
        for node in 1..=3 {
            let log = hub.node(node).log();
            std::fs::write(
                std::path::Path::new(&directory).join(format!("hub-{node}.log")),
                log,
            )
            .unwrap();
        }
    }
    let summary = |mut values: Vec<u64>| {
        values.sort_unstable();
        (values[values.len() / 2], values[values.len() - 1])
    };
    let (writes_median, writes_max) = summary(writes_ms);
    let (agents_median, agents_max) = summary(agents_ms);
    println!(
        "leader kill -> writes accepted: median {writes_median} ms, max {writes_max} ms (goal <= 2000 ms)"
    );
    println!(
        "leader kill -> all agents reconnected: median {agents_median} ms, max {agents_max} ms (goal <= 5000 ms)"
    );
}

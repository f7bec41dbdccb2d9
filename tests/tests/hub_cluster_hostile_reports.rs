//! An agent's status report cannot disturb Raft: a 3-node hub keeps its
//! leader (same node, same term) when an agent sends a status report just
//! under the gRPC message limit, full of control characters (which grow
//! sixfold in JSON), and every node still answers `fleetctl status`. A
//! message over the limit ends the session with RESOURCE_EXHAUSTED.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use fleet_proto::{AppStatus, Health, StatusReport};
use fleet_tests::agent_client::enroll;
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_cluster::HubCluster;
use serde_json::Value;
use tonic::Code;

/// The leader and the term as node `node_id` sees them.
fn leader_and_term(hub: &HubCluster, node_id: u64) -> (u64, u64) {
    let members = hub.members_on(node_id).unwrap();
    (
        members["leaderId"].as_u64().unwrap(),
        members["term"].as_u64().unwrap(),
    )
}

fn status_of(hub: &HubCluster, node_id: u64, cluster: &str) -> Option<Value> {
    let run = hub.fleetctl_on(node_id, &["status", "-o", "json"]);
    if run.code != 0 {
        return None;
    }
    serde_json::from_str::<Value>(&run.stdout)
        .ok()?
        .as_array()?
        .iter()
        .find(|row| row["name"] == cluster)
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_just_under_the_message_limit_does_not_cost_the_leader() {
    let remote = FleetRemote::with_content(&examples());
    let hub = HubCluster::start(remote.bare().to_str().unwrap(), 3);
    hub.await_voters(3);
    let leader = hub.await_leader();
    let before = leader_and_term(&hub, leader);

    // The agent talks to a follower: its status is forwarded to the leader.
    let follower = (1..=3).find(|node| *node != leader).unwrap();
    let token = hub
        .fleetctl_on(follower, &["token", "create", "--cluster", "prod-eu-1"])
        .success()
        .stdout
        .trim()
        .to_owned();
    let endpoint = hub.nodes[follower as usize - 1].endpoint();
    let agent = enroll(&endpoint, &hub.ca_pem(), "prod-eu-1", &token)
        .await
        .unwrap();
    let mut session = agent.session().await.unwrap();
    let desired = session.next_desired(Duration::from_secs(60)).await.unwrap();

    // About 16 MiB - 350 KiB of control characters: 8 MiB in the message,
    // the rest in 460 apps.
    let control = |bytes: usize| "\u{1}".repeat(bytes);
    let report = StatusReport {
        applied_revision: desired.revision.clone(),
        applied_digest: desired.digest.clone(),
        health: Health::Degraded as i32,
        message: control(8 * 1024 * 1024),
        apps: (0..460)
            .map(|index| AppStatus {
                app: format!("app-{index}"),
                digest: control(1024),
                health: Health::Degraded as i32,
                message: control(16 * 1024),
                drift_count: u32::MAX,
            })
            .collect(),
    };
    // Protobuf adds a few bytes per field: under 16 bytes per app.
    let texts: usize = report.message.len()
        + report
            .apps
            .iter()
            .map(|app| app.app.len() + app.digest.len() + app.message.len() + 16)
            .sum::<usize>();
    let encoded = texts + report.applied_revision.len() + report.applied_digest.len() + 16;
    assert!(
        encoded < fleet_proto::MAX_MESSAGE_BYTES && encoded > 15 * 1024 * 1024,
        "{encoded} bytes"
    );
    session.report(report).await;

    // The hub records it, capped, on every node.
    let started = Instant::now();
    for node_id in 1..=3 {
        loop {
            let row = status_of(&hub, node_id, "prod-eu-1");
            if row
                .as_ref()
                .is_some_and(|row| row["message"].as_str().unwrap_or("").contains("bytes cut"))
            {
                let message = row.unwrap()["message"].as_str().unwrap().to_owned();
                assert!(message.len() < 8 * 1024, "{} bytes", message.len());
                assert!(!message.contains('\u{1}'));
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "node {node_id} never showed the capped status: {row:?}\n{}",
                hub.logs()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    // Longer than several election timeouts: the leader held throughout.
    tokio::time::sleep(Duration::from_secs(5)).await;
    for node_id in 1..=3 {
        assert_eq!(
            leader_and_term(&hub, node_id),
            before,
            "node {node_id}: the leader or the term changed\n{}",
            hub.logs()
        );
        hub.fleetctl_on(node_id, &["status"]).success();
    }

    // Over the message limit: the session ends with RESOURCE_EXHAUSTED.
    session
        .report(StatusReport {
            message: control(17 * 1024 * 1024),
            ..StatusReport::default()
        })
        .await;
    let ended = session
        .next_desired(Duration::from_secs(60))
        .await
        .err()
        .unwrap();
    assert_eq!(ended.code(), Code::ResourceExhausted, "{ended:?}");
}

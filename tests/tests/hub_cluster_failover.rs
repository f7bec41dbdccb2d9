//! kill -9 of the hub leader: a new leader takes over within seconds, the
//! rollout goes on from where it was, agents on the dead node move to the
//! others, and nothing acknowledged is lost — also when it happens again and
//! again at random moments while writes keep coming.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fleet_proto::CreateTokenRequest;
use fleet_tests::agent_client::enroll;
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_cluster::HubCluster;
use fleet_tests::test_random::TestRandom;
use serde_json::Value;

use fleet_tests::git_fixture::EXAMPLE_CLUSTERS as CLUSTERS;

async fn eventually(what: &str, hub: &HubCluster, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for: {what}\n{}",
            hub.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn json(hub: &HubCluster, node_id: u64, arguments: &[&str]) -> Option<Value> {
    let run = hub.fleetctl_on(node_id, arguments);
    (run.code == 0)
        .then(|| serde_json::from_str(&run.stdout).ok())
        .flatten()
}

fn wave_state(view: &Value, name: &str) -> String {
    view["waves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|wave| wave["name"] == name)
        .map(|wave| wave["state"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn all_synced(hub: &HubCluster, node_id: u64) -> bool {
    json(hub, node_id, &["status", "-o", "json"]).is_some_and(|status| {
        status
            .as_array()
            .unwrap()
            .iter()
            .all(|cluster| cluster["synced"] == true)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_killed_mid_rollout_a_new_leader_finishes_it_and_agents_move() {
    let remote = FleetRemote::with_content(&examples());
    remote.edit("fleet.yaml", "bake: 2m", "bake: 1s");
    remote.edit("fleet.yaml", "bake: 2m", "bake: 1s");
    remote.commit_and_push("short bakes for the test");
    let mut hub = HubCluster::start(remote.bare().to_str().unwrap(), 3);
    let leader = hub.await_leader();
    let agents = hub.enroll_roaming(&CLUSTERS).await;
    eventually("the first revision converges everywhere", &hub, || {
        all_synced(&hub, leader)
    })
    .await;

    remote.edit("apps/web/base/deployment.yaml", "web:1.4.2", "web:1.5.0");
    let second = remote.commit_and_push("web 1.5.0");
    hub.fleetctl_on(leader, &["refresh"]).success();
    eventually("the rollout of the new revision is under way", &hub, || {
        json(&hub, leader, &["rollout", "status", "-o", "json"])
            .is_some_and(|view| view["revision"] == second.as_str())
    })
    .await;
    let follower = (1..=3).find(|node| *node != leader).unwrap();
    let audit_before = hub.audit_on(follower).unwrap();
    let dead_endpoint = hub.node(leader).endpoint();

    hub.node(leader).kill();
    let killed = Instant::now();
    let new_leader = hub.await_leader();
    eprintln!(
        "new leader {new_leader} after {} ms",
        killed.elapsed().as_millis()
    );
    assert_ne!(new_leader, leader);

    eventually(
        "production waits for approval on the new leader",
        &hub,
        || {
            json(&hub, new_leader, &["rollout", "status", "-o", "json"])
                .is_some_and(|view| wave_state(&view, "production") == "WaitingApproval")
        },
    )
    .await;
    let view = json(&hub, new_leader, &["rollout", "status", "-o", "json"]).unwrap();
    assert_eq!(view["revision"], second.as_str());
    for name in ["canary", "dev", "staging"] {
        assert_eq!(wave_state(&view, name), "Succeeded", "{view}");
    }
    hub.fleetctl_on(follower, &["rollout", "promote"]).success();
    eventually("the rollout succeeds", &hub, || {
        json(&hub, new_leader, &["rollout", "status", "-o", "json"])
            .is_some_and(|view| view["state"] == "Succeeded")
    })
    .await;
    eventually("every cluster runs the new revision", &hub, || {
        all_synced(&hub, follower)
    })
    .await;

    // Agents that were on the dead node found another.
    for agent in &agents {
        let endpoint = agent.endpoint();
        assert!(
            endpoint.is_some() && endpoint.as_deref() != Some(dead_endpoint.as_str()),
            "{} is on {endpoint:?}",
            agent.cluster
        );
    }
    // Nothing acknowledged before the kill is gone; the rollout ran once.
    let audit_after = hub.audit_on(new_leader).unwrap();
    assert_eq!(audit_after[..audit_before.len()], audit_before[..]);
    let history = json(&hub, new_leader, &["rollout", "history", "-o", "json"]).unwrap();
    let runs = history["rollouts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|rollout| rollout["revision"] == second.as_str())
        .count();
    assert_eq!(runs, 1, "{history}");
    let promotions = audit_after
        .iter()
        .filter(|entry| entry.contains("promoted wave(s) production"))
        .count();
    assert_eq!(promotions, 1, "{audit_after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_leader_kills_at_random_moments_lose_no_acknowledged_write() {
    let remote = FleetRemote::with_content(&examples());
    let mut hub = HubCluster::start(remote.bare().to_str().unwrap(), 3);
    hub.await_leader();
    let mut random = TestRandom::from_clock();

    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for node in &hub.nodes {
        clients.push(hub.admin(node.node_id).await.unwrap());
    }
    let writer = {
        let acknowledged = acknowledged.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut turn = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                turn += 1;
                let client = &mut clients[turn % 3];
                let call = client.create_token(CreateTokenRequest {
                    cluster: "dev-eu-1".to_owned(),
                    ttl_seconds: 3600,
                });
                if let Ok(Ok(response)) = tokio::time::timeout(Duration::from_secs(8), call).await {
                    acknowledged
                        .lock()
                        .unwrap()
                        .push(response.into_inner().token);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    for round in 1..=3 {
        tokio::time::sleep(Duration::from_millis(300 + random.below(1500))).await;
        let leader = hub.await_leader();
        let survivor = (1..=3).find(|node| *node != leader).unwrap();
        let audit_before = hub.audit_on(survivor).unwrap();
        let acknowledged_before = acknowledged.lock().unwrap().len();
        hub.node(leader).kill();
        let killed = Instant::now();
        let new_leader = hub.await_leader();
        eprintln!(
            "round {round}: killed leader {leader}, node {new_leader} leads after {} ms ({acknowledged_before} writes acknowledged so far)",
            killed.elapsed().as_millis()
        );
        let audit_after = hub.audit_on(new_leader).unwrap();
        assert!(
            audit_after.len() >= audit_before.len()
                && audit_after[..audit_before.len()] == audit_before[..],
            "round {round}: the audit log lost entries"
        );
        hub.node(leader).start();
        tokio::time::sleep(Duration::from_millis(random.below(1000))).await;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    writer.await.unwrap();
    hub.await_leader();

    // Every acknowledged token is in the replicated state of every node:
    // each node counts at least as many token creations, and each token
    // still enrolls (the proof it was committed).
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 10,
        "too few writes: {}",
        acknowledged.len()
    );
    for node_id in 1..=3 {
        eventually("every node has every acknowledged write", &hub, || {
            hub.audit_on(node_id).is_some_and(|audit| {
                audit
                    .iter()
                    .filter(|entry| {
                        entry.contains("created a bootstrap token for cluster dev-eu-1")
                    })
                    .count()
                    >= acknowledged.len()
            })
        })
        .await;
    }
    for (index, token) in acknowledged.iter().enumerate() {
        let node = &hub.nodes[index % 3];
        enroll(&node.endpoint(), &hub.ca_pem(), "dev-eu-1", token)
            .await
            .unwrap_or_else(|status| panic!("acknowledged token {index} was lost: {status}"));
    }
    eprintln!("{} acknowledged writes, none lost", acknowledged.len());
}

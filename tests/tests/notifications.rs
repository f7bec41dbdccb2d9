//! Signed notifications of rollout events, delivered by the hub leader from
//! the replicated outbox to a real local HTTP receiver: approval needed then
//! rollout succeeded with valid signatures; a receiver that fails twice still
//! gets every event (by id) once acknowledged; a leader killed while a
//! delivery is in flight loses no event; a cluster whose agent's hub node
//! dies is reported disconnected once by the leader, and reconnected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use fleet_tests::agent_client::{TestAgent, enroll, enroll_responders, spawn_responder};
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_cluster::HubCluster;
use fleet_tests::hub_process::HubProcess;
use fleet_tests::webhook_receiver::{Received, WebhookReceiver};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use fleet_tests::git_fixture::EXAMPLE_CLUSTERS as CLUSTERS;

const SECRET: &str = "a-receiver-secret";

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn json(hub: &HubProcess, arguments: &[&str]) -> Value {
    serde_json::from_str(&hub.fleetctl(arguments).success().stdout).unwrap()
}

fn synced(hub: &HubProcess) -> bool {
    json(hub, &["status", "-o", "json"])
        .as_array()
        .unwrap()
        .iter()
        .all(|cluster| cluster["synced"] == true)
}

/// Whether `request` carries the HMAC-SHA256 of its body under [`SECRET`].
fn signed(request: &Received) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&request.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    request.headers.get("x-fleet-signature-256") == Some(&expected)
}

/// Events acknowledged with a 2xx, by id.
fn acknowledged(receiver: &WebhookReceiver) -> BTreeMap<String, Vec<Received>> {
    let mut by_id: BTreeMap<String, Vec<Received>> = BTreeMap::new();
    for request in receiver.received() {
        if (200..300).contains(&request.answered) {
            by_id.entry(request.event_id()).or_default().push(request);
        }
    }
    by_id
}

fn kinds(receiver: &WebhookReceiver, revision: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for request in receiver.received() {
        let body = request.json();
        if (200..300).contains(&request.answered) && body["revision"] == revision {
            seen.push(body["event"].as_str().unwrap().to_owned());
        }
    }
    seen
}

/// A hub over fleet-examples with short bakes, and a responder per cluster.
async fn fleet() -> (FleetRemote, HubProcess) {
    let remote = FleetRemote::with_content(&examples());
    remote.edit("fleet.yaml", "bake: 2m", "bake: 1s");
    remote.edit("fleet.yaml", "bake: 2m", "bake: 1s");
    remote.commit_and_push("short bakes for the test");
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    enroll_responders(&hub, &CLUSTERS).await;
    (remote, hub)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_wave_sends_approval_needed_then_rollout_succeeded_signed() {
    let receiver = WebhookReceiver::start(0).await;
    let (remote, hub) = fleet().await;
    eventually("the first revision converges everywhere", || synced(&hub)).await;
    let url = receiver.url();
    hub.fleetctl(&[
        "notifications",
        "add",
        "ops-hook",
        "--url",
        &url,
        "--secret",
        SECRET,
        "--events",
        "rollout,approval",
    ])
    .success();
    // Listed redacted: the URL's path and the secret never show.
    let listed = hub
        .fleetctl(&["notifications", "list", "-o", "json"])
        .success()
        .stdout;
    assert!(
        !listed.contains("/hook") && !listed.contains(SECRET),
        "{listed}"
    );
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["url"], format!("http://{}/…", receiver.address));
    assert_eq!(listed[0]["signed"], true);
    assert!(
        !hub.log().contains(SECRET) && !hub.log().contains("/hook"),
        "the URL and secret must not be logged"
    );

    remote.edit("apps/web/base/deployment.yaml", "web:1.4.2", "web:1.5.0");
    let second = remote.commit_and_push("web 1.5.0");
    hub.fleetctl(&["refresh"]).success();
    eventually(
        "the receiver hears that production waits for approval",
        || kinds(&receiver, &second).contains(&"wave.approval_needed".to_owned()),
    )
    .await;
    let waiting = receiver
        .received()
        .into_iter()
        .find(|request| request.json()["event"] == "wave.approval_needed")
        .unwrap();
    assert_eq!(waiting.json()["wave"], "production");
    assert_eq!(waiting.json()["fleet"], "fleet");
    assert!(
        waiting.json()["message"]
            .as_str()
            .unwrap()
            .contains("promote")
    );
    assert!(
        !kinds(&receiver, &second).contains(&"rollout.succeeded".to_owned()),
        "nothing succeeded before the promote"
    );

    hub.fleetctl(&["rollout", "promote"]).success();
    eventually("the receiver hears that the rollout succeeded", || {
        kinds(&receiver, &second).contains(&"rollout.succeeded".to_owned())
    })
    .await;
    let order = kinds(&receiver, &second);
    let position = |kind: &str| order.iter().position(|seen| seen == kind).unwrap();
    assert!(position("rollout.started") < position("wave.approval_needed"));
    assert!(position("wave.approval_needed") < position("rollout.succeeded"));
    for request in receiver.received() {
        assert!(signed(&request), "bad signature on {request:?}");
        assert!(request.event_id().starts_with("event-"), "{request:?}");
        let body = request.json();
        for field in [
            "event", "fleet", "rollout", "revision", "wave", "clusters", "message", "at",
        ] {
            assert!(body.get(field).is_some(), "{field} missing from {body}");
        }
    }
    for (id, deliveries) in acknowledged(&receiver) {
        assert_eq!(
            deliveries.len(),
            1,
            "event {id} was acknowledged and sent again"
        );
    }
    let listed = json(&hub, &["notifications", "list", "-o", "json"]);
    assert_eq!(listed[0]["pending"], 0, "{listed}");
    assert_eq!(
        listed[0]["delivered"].as_u64().unwrap() as usize,
        acknowledged(&receiver).len()
    );
    hub.fleetctl(&["notifications", "remove", "ops-hook"])
        .success();
    assert_eq!(
        json(&hub, &["notifications", "list", "-o", "json"]),
        serde_json::json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_fails_twice_gets_every_event_acknowledged_once() {
    let receiver = WebhookReceiver::start(2).await;
    let (remote, hub) = fleet().await;
    eventually("the first revision converges everywhere", || synced(&hub)).await;
    let url = receiver.url();
    hub.fleetctl(&[
        "notifications",
        "add",
        "flaky",
        "--url",
        &url,
        "--secret",
        SECRET,
        "--events",
        "rollout,approval",
    ])
    .success();
    remote.edit("apps/web/base/deployment.yaml", "web:1.4.2", "web:1.5.0");
    let second = remote.commit_and_push("web 1.5.0");
    hub.fleetctl(&["refresh"]).success();
    eventually(
        "production waits for approval, and the receiver heard it",
        || kinds(&receiver, &second).contains(&"wave.approval_needed".to_owned()),
    )
    .await;
    hub.fleetctl(&["rollout", "promote"]).success();
    eventually("the receiver hears that the rollout succeeded", || {
        kinds(&receiver, &second).contains(&"rollout.succeeded".to_owned())
    })
    .await;

    let all = receiver.received();
    let failed: Vec<&Received> = all
        .iter()
        .filter(|request| request.answered == 500)
        .collect();
    assert_eq!(
        failed.len(),
        2,
        "the receiver failed its first two requests"
    );
    let ids: BTreeSet<String> = all.iter().map(Received::event_id).collect();
    let acknowledged = acknowledged(&receiver);
    for id in &ids {
        assert_eq!(
            acknowledged.get(id).map(Vec::len),
            Some(1),
            "event {id} must be acknowledged exactly once"
        );
    }
    // The failed requests were retried with the same id and body.
    for failure in failed {
        let retried = &acknowledged[&failure.event_id()][0];
        assert_eq!(retried.body, failure.body);
        assert!(signed(retried));
    }
    let listed = json(&hub, &["notifications", "list", "-o", "json"]);
    assert_eq!(listed[0]["failedAttempts"], 2, "{listed}");
    assert_eq!(listed[0]["pending"], 0, "{listed}");
    assert!(
        listed[0]["lastError"]
            .as_str()
            .unwrap()
            .contains("HTTP 500"),
        "{listed}"
    );
    let (_, metrics) = fleet_tests::net::http(hub.http, "GET", "/metrics", &[], b"").unwrap();
    assert!(
        metrics.contains("fleet_hub_notification_failures_total 2"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_killed_while_delivering_loses_no_event() {
    let receiver = WebhookReceiver::start(0).await;
    let remote = FleetRemote::with_content(&examples());
    let mut hub = HubCluster::start(remote.bare().to_str().unwrap(), 3);
    let leader = hub.await_leader();
    add_signed_target(&hub, leader, &receiver, "rollout");
    // Every request is held unanswered: deliveries stay in flight.
    receiver.hold(true);
    remote.edit("apps/web/base/deployment.yaml", "web:1.4.2", "web:1.5.0");
    let second = remote.commit_and_push("web 1.5.0");
    hub.fleetctl_on(leader, &["refresh"]).success();
    eventually("the leader is delivering the rollout's start", || {
        receiver
            .received()
            .iter()
            .any(|request| request.json()["revision"] == second.as_str())
    })
    .await;
    let in_flight: BTreeSet<String> = receiver.received().iter().map(Received::event_id).collect();

    hub.node(leader).kill();
    let new_leader = hub.await_leader();
    assert_ne!(new_leader, leader);
    receiver.hold(false);
    eventually("the new leader delivers every event in flight", || {
        let acknowledged = acknowledged(&receiver);
        in_flight.iter().all(|id| acknowledged.contains_key(id))
    })
    .await;
    // More events after the failover are delivered too.
    remote.edit("apps/web/base/deployment.yaml", "web:1.5.0", "web:1.6.0");
    let third = remote.commit_and_push("web 1.6.0");
    hub.fleetctl_on(new_leader, &["refresh"]).success();
    eventually("the next rollout's start arrives", || {
        acknowledged(&receiver)
            .values()
            .any(|requests| requests[0].json()["revision"] == third.as_str())
    })
    .await;
    let ids: BTreeSet<String> = receiver.received().iter().map(Received::event_id).collect();
    let acknowledged = acknowledged(&receiver);
    for id in ids {
        assert!(acknowledged.contains_key(&id), "event {id} was lost");
    }
}

/// Adds target `ops` for `events`, signed with [`SECRET`], through `node`.
fn add_signed_target(hub: &HubCluster, node: u64, receiver: &WebhookReceiver, events: &str) {
    let url = receiver.url();
    let arguments = [
        "notifications",
        "add",
        "ops",
        "--url",
        &url,
        "--secret",
        SECRET,
        "--events",
        events,
    ];
    hub.fleetctl_on(node, &arguments).success();
}

/// The clusters of the acknowledged events of `kind`, one list per event id.
fn cluster_events(receiver: &WebhookReceiver, kind: &str) -> Vec<Vec<String>> {
    acknowledged(receiver)
        .values()
        .map(|requests| requests[0].json())
        .filter(|body| body["event"] == kind)
        .map(|body| {
            body["clusters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|cluster| cluster.as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

fn connected_on(hub: &HubCluster, node: u64, cluster: &str) -> bool {
    let status: Value = serde_json::from_str(
        &hub.fleetctl_on(node, &["status", "-o", "json"])
            .success()
            .stdout,
    )
    .unwrap();
    status
        .as_array()
        .unwrap()
        .iter()
        .any(|entry| entry["name"] == cluster && entry["connected"] == true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_whose_hub_node_dies_is_reported_disconnected_once_then_reconnected() {
    let receiver = WebhookReceiver::start(0).await;
    let remote = FleetRemote::with_content(&examples());
    let mut hub = HubCluster::start_with(
        remote.bare().to_str().unwrap(),
        3,
        &[
            ("nodeHeartbeat", "500ms"),
            ("nodeStaleAfter", "3s"),
            ("clusterDisconnectedAfter", "2s"),
        ],
    );
    let leader = hub.await_leader();
    let follower = hub
        .nodes
        .iter()
        .map(|node| node.node_id)
        .find(|node| *node != leader)
        .unwrap();
    add_signed_target(&hub, leader, &receiver, "cluster");
    // The agent speaks only to the follower; the leader hears of its session
    // through the log alone.
    let cluster = "dev-eu-1";
    let token = hub
        .fleetctl_on(follower, &["token", "create", "--cluster", cluster])
        .success()
        .stdout
        .trim()
        .to_owned();
    let endpoint = hub.node(follower).endpoint();
    let agent = enroll(&endpoint, &hub.ca_pem(), cluster, &token)
        .await
        .unwrap();
    let session = spawn_responder(agent.clone());
    eventually(
        "the leader shows the cluster connected to the follower",
        || connected_on(&hub, leader, cluster),
    )
    .await;

    hub.node(follower).kill();
    eventually("the leader reports the cluster disconnected", || {
        !cluster_events(&receiver, "cluster.disconnected").is_empty()
    })
    .await;
    session.abort();
    assert!(!connected_on(&hub, leader, cluster));
    let disconnected = receiver
        .received()
        .into_iter()
        .find(|request| request.json()["event"] == "cluster.disconnected")
        .unwrap();
    assert!(signed(&disconnected), "{:?}", disconnected.headers);
    let message = disconnected.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains(cluster) && message.contains("longer than 2s"),
        "{message}"
    );

    // The agent comes back through the leader: one reconnected event, and
    // still one disconnected event (several seconds later).
    let back = TestAgent {
        endpoint: hub.node(leader).endpoint(),
        ..agent
    };
    let _session = spawn_responder(back);
    eventually("the leader reports the cluster connected again", || {
        !cluster_events(&receiver, "cluster.reconnected").is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        cluster_events(&receiver, "cluster.disconnected"),
        [vec![cluster.to_owned()]]
    );
    assert_eq!(
        cluster_events(&receiver, "cluster.reconnected"),
        [vec![cluster.to_owned()]]
    );
    assert!(connected_on(&hub, leader, cluster));
}

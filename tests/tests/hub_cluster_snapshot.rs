//! A hub node removed, wiped and joined again catches up from a snapshot:
//! the leader compacted its log long ago (`raft.snapshotEvery` is small in
//! the tests), so the node cannot replay from the start.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use fleet_proto::CreateTokenRequest;
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_cluster::{HubCluster, TEST_SNAPSHOT_EVERY};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wiped_node_rejoins_and_catches_up_from_a_snapshot() {
    let remote = FleetRemote::with_content(&examples());
    let mut hub = HubCluster::start(remote.bare().to_str().unwrap(), 3);
    let leader = hub.await_leader();
    let mut admin = hub.admin(leader).await.unwrap();
    for _ in 0..(3 * TEST_SNAPSHOT_EVERY) {
        admin
            .create_token(CreateTokenRequest {
                cluster: "dev-eu-1".to_owned(),
                ttl_seconds: 3600,
            })
            .await
            .unwrap();
    }
    let wiped = (1..=3).find(|node| *node != leader).unwrap();
    let name = format!("hub-{wiped}");

    hub.fleetctl_on(leader, &["hub", "remove", &name]).success();
    eventually("the node left the Raft group", &hub, || {
        hub.members_on(leader).is_some_and(|members| {
            members["members"]
                .as_array()
                .unwrap()
                .iter()
                .any(|member| member["name"] == name.as_str() && member["role"] == "removed")
        })
    })
    .await;
    hub.node(wiped).kill();

    // Same name and id, empty disk: a join token and `init --join` again.
    hub.join(wiped);
    hub.await_voters(3);
    let expected = hub.audit_on(leader).unwrap();
    eventually("the rejoined node has the whole state", &hub, || {
        hub.audit_on(wiped).is_some_and(|audit| audit == expected)
    })
    .await;
    let log = hub.node(wiped).log();
    assert!(log.contains("installed a snapshot"), "{log}");
    let audit = hub.audit_on(leader).unwrap();
    assert!(
        audit
            .iter()
            .any(|entry| entry.contains(&format!("removed hub node {name}"))),
        "{audit:?}"
    );
}

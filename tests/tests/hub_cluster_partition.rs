//! The leader cut off from the other two nodes (by the link proxies): it
//! stops accepting writes with a clear "no quorum" error, the majority
//! elects a new leader and carries on, and when the links return the old
//! leader follows the new one and has every write made meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_cluster::HubCluster;

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

fn token_creations(audit: &[String]) -> usize {
    audit
        .iter()
        .filter(|entry| entry.contains("created a bootstrap token"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_isolated_leader_refuses_writes_the_majority_carries_on_and_it_follows_after() {
    let remote = FleetRemote::with_content(&examples());
    let hub = HubCluster::start(remote.bare().to_str().unwrap(), 3);
    let old_leader = hub.await_leader();
    let majority: Vec<u64> = (1..=3).filter(|node| *node != old_leader).collect();
    hub.fleetctl_on(old_leader, &["token", "create", "--cluster", "dev-eu-1"])
        .success();

    hub.isolate(old_leader);
    eventually("the majority elects a new leader", &hub, || {
        let seen: Vec<Option<u64>> = majority
            .iter()
            .map(|node| hub.leader_seen_by(*node))
            .collect();
        seen[0].is_some_and(|leader| leader != old_leader) && seen[0] == seen[1]
    })
    .await;
    let new_leader = hub.leader_seen_by(majority[0]).unwrap();

    // The cut-off node refuses writes, saying why, instead of hanging.
    let refused = hub.fleetctl_on(old_leader, &["token", "create", "--cluster", "dev-eu-1"]);
    assert_ne!(refused.code, 0, "{refused:?}");
    assert!(refused.stderr.contains("no quorum"), "{}", refused.stderr);

    // The majority carries on: writes through either of its nodes.
    for node in &majority {
        hub.fleetctl_on(*node, &["token", "create", "--cluster", "dev-us-1"])
            .success();
    }
    let majority_audit = hub.audit_on(new_leader).unwrap();
    assert_eq!(token_creations(&majority_audit), 3);

    hub.heal();
    eventually("the old leader follows the new one", &hub, || {
        hub.leader_seen_by(old_leader) == Some(new_leader)
    })
    .await;
    eventually(
        "the old leader has the majority's writes, not its own refused one",
        &hub,
        || {
            hub.audit_on(old_leader)
                .is_some_and(|audit| audit[..] == hub.audit_on(new_leader).unwrap()[..])
        },
    )
    .await;
    assert_eq!(token_creations(&hub.audit_on(old_leader).unwrap()), 3);
    // And it serves writes again (forwarded to the new leader).
    hub.fleetctl_on(old_leader, &["token", "create", "--cluster", "dev-eu-1"])
        .success();
}

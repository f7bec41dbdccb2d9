//! A hub node an operator removed (`fleetctl hub remove`) loses its
//! certificate with its membership: the other nodes refuse its Raft calls
//! and forwarded writes from then on, checked on every call (issue #15).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use fleet_proto::RaftPayload;
use fleet_proto::raft_service_client::RaftServiceClient;
use fleet_tests::agent_client::channel;
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_cluster::HubCluster;
use tonic::Code;

/// A malformed Vote from hub node `from` to node `to`: a node that accepts
/// the caller answers INVALID_ARGUMENT (it read the payload); a node that
/// refuses the caller answers before reading it.
async fn vote_as(hub: &HubCluster, from: u64, to: u64) -> tonic::Status {
    let folder = hub.root.path().join(format!("hub-{from}"));
    let certificate = std::fs::read_to_string(folder.join("hub.crt")).unwrap();
    let key = std::fs::read_to_string(folder.join("hub.key")).unwrap();
    let endpoint = hub
        .nodes
        .iter()
        .find(|node| node.node_id == to)
        .unwrap()
        .endpoint();
    let channel = channel(&endpoint, &hub.ca_pem(), Some((&certificate, &key)))
        .await
        .unwrap();
    let mut client = RaftServiceClient::new(channel);
    let vote = client
        .vote(RaftPayload {
            json: b"not json".to_vec(),
        })
        .await
        .unwrap_err();
    let forwarded = client
        .forward_write(RaftPayload {
            json: b"not json".to_vec(),
        })
        .await
        .unwrap_err();
    assert_eq!(vote.code(), forwarded.code(), "{vote:?} / {forwarded:?}");
    vote
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_hub_nodes_certificate_is_refused_by_the_others() {
    let remote = FleetRemote::with_content(&examples());
    let mut hub = HubCluster::start(remote.bare().to_str().unwrap(), 3);
    let leader = hub.await_leader();
    let removed = (1..=3).rev().find(|node| *node != leader).unwrap();
    let other = (1..=3)
        .find(|node| *node != leader && *node != removed)
        .unwrap();

    // While it is a member its certificate is accepted (the payload is read).
    for to in [leader, other] {
        let accepted = vote_as(&hub, removed, to).await;
        assert_eq!(accepted.code(), Code::InvalidArgument, "{accepted:?}");
    }

    hub.fleetctl_on(leader, &["hub", "remove", &format!("hub-{removed}")])
        .success();
    for to in [leader, other] {
        let started = Instant::now();
        let refused = loop {
            let answer = vote_as(&hub, removed, to).await;
            if answer.code() == Code::PermissionDenied
                || started.elapsed() > Duration::from_secs(60)
            {
                break answer;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(
            refused.code(),
            Code::PermissionDenied,
            "node {to}: {refused:?}"
        );
        assert!(
            refused
                .message()
                .contains(&format!("hub node 'hub-{removed}' has been removed")),
            "{refused:?}"
        );
    }
    // The remaining nodes still serve, and a remaining node's certificate is
    // accepted as before.
    let still = vote_as(&hub, other, leader).await;
    assert_eq!(still.code(), Code::InvalidArgument, "{still:?}");
    hub.node(removed).kill();
    hub.fleetctl_on(other, &["status"]).success();
}

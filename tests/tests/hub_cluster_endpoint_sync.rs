//! fleetctl learns the hub's nodes: `fleet-hub init --join --fleetconfig`
//! adds the new node's endpoint to the context it joined through, and when
//! a context's first endpoint fails fleetctl refreshes the list from the
//! hub's members and writes it back — so killing the first node does not
//! break fleetctl, and a node the context never listed is learned.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use fleet_tests::agent_support::eventually;
use fleet_tests::git_fixture::FleetRemote;
use fleet_tests::hub_cluster::HubCluster;
use fleet_tests::hub_process::fleetctl_with_config;
use fleet_tests::tiny_fleet::web_fleet;

const WAIT: Duration = Duration::from_secs(60);

/// The endpoints listed in a fleetctl configuration file with one context.
fn endpoints(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- "))
        .map(|item| item.trim_matches(|character| character == '"' || character == '\''))
        .filter(|item| item.starts_with("https://"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn fleetctl_keeps_working_when_the_first_node_dies_and_learns_the_others() {
    let content = tempfile::tempdir().unwrap();
    web_fleet(content.path(), &["edge-1"]);
    let remote = FleetRemote::with_content(content.path());
    let mut hub = HubCluster::start(remote.bare().to_str().unwrap(), 1);
    // The operator's file: one context, node 1 only (as `fleet-hub init` wrote it).
    let operator = hub.root.path().join("operator.fleetconfig.yaml");
    std::fs::copy(hub.root.path().join("node-1.fleetconfig.yaml"), &operator).unwrap();
    let node_1 = hub.nodes[0].endpoint();

    hub.join_recorded_in(2, Some(&operator));
    let node_2 = hub.nodes[1].endpoint();
    assert_eq!(
        endpoints(&operator),
        vec![node_1.clone(), node_2.clone()],
        "init --join adds its endpoint to the context it joined through"
    );
    // Joined without this file: the context does not know node 3.
    hub.join(3);
    hub.await_voters(3);
    let node_3 = hub.nodes[2].endpoint();
    assert!(!endpoints(&operator).contains(&node_3));

    hub.node(1).kill();
    let run = eventually(
        "fleetctl status works with node 1 dead",
        WAIT,
        || {
            let run = fleetctl_with_config(&operator, &["status", "-o", "json"]);
            (run.code == 0).then_some(run)
        },
        || hub.logs(),
    );
    assert!(
        run.stderr.contains("endpoints refreshed from its members"),
        "{}",
        run.stderr
    );
    let learned = endpoints(&operator);
    assert_eq!(learned.first(), Some(&node_2), "{learned:?}");
    assert!(learned.contains(&node_3), "node 3 is learned: {learned:?}");
    assert!(
        learned.contains(&node_1),
        "node 1 is still a member: {learned:?}"
    );

    // The learned endpoint is used: with node 2 gone too, node 3 answers.
    hub.node(2).kill();
    let run = fleetctl_with_config(&operator, &["hub", "members", "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

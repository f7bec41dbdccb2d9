//! A cluster removed from Git: the hub stops managing it and the agent
//! keeps what it applied (no prune). `fleetctl status` says "removed from
//! Git" for the enrolled cluster and hides the never-enrolled one unless
//! `--all`; JSON keeps both with `declared: false`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use fleet_tests::agent_support::EdgeFleet;
use fleet_tests::agent_support::{cluster_status, eventually};
use fleet_tests::tiny_fleet::web_fleet;

const WAIT: Duration = Duration::from_secs(60);

fn line_of<'a>(table: &'a str, cluster: &str) -> Option<&'a str> {
    table
        .lines()
        .find(|line| line.split_whitespace().next() == Some(cluster))
}

#[test]
fn a_cluster_removed_from_git_keeps_its_objects_and_shows_as_removed() {
    let content = tempfile::tempdir().unwrap();
    web_fleet(content.path(), &["edge-1", "ghost-1", "keep-1"]);
    let EdgeFleet {
        remote,
        revision: first,
        hub,
        cluster,
        agent,
    } = EdgeFleet::start(content.path(), WAIT);

    // edge-1 (enrolled) and ghost-1 (never enrolled) leave Git.
    std::fs::remove_file(remote.work().join("clusters/edge-1.yaml")).unwrap();
    std::fs::remove_file(remote.work().join("clusters/ghost-1.yaml")).unwrap();
    remote.write(
        "apps/web/base/config.yaml",
        &fleet_tests::tiny_fleet::config_map("web-config", "GREETING", "changed"),
    );
    let second = remote.commit_and_push("edge-1 and ghost-1 leave the fleet");
    assert_eq!(hub.webhook(&hub.webhook_secret()), 202);
    eventually(
        "the hub sees edge-1 undeclared",
        WAIT,
        || (cluster_status(&hub, "edge-1")["declared"] == false).then_some(()),
        || hub.log(),
    );

    // JSON keeps every cluster, with `declared`.
    let ghost = cluster_status(&hub, "ghost-1");
    assert_eq!(ghost["declared"], false, "{ghost}");
    assert_eq!(ghost["enrolled"], false, "{ghost}");
    let edge = cluster_status(&hub, "edge-1");
    assert_eq!(edge["enrolled"], true, "{edge}");
    assert_eq!(
        edge["targetRevision"],
        first.as_str(),
        "the hub sends a removed cluster nothing new: {edge}"
    );
    assert_eq!(
        cluster_status(&hub, "keep-1")["targetRevision"],
        second.as_str()
    );

    // The table: the enrolled one says so, the never-enrolled one is hidden.
    let table = hub.fleetctl(&["status"]).success().stdout;
    let edge_line = line_of(&table, "edge-1").unwrap_or_else(|| panic!("{table}"));
    assert!(edge_line.contains("removed from Git"), "{table}");
    assert!(line_of(&table, "ghost-1").is_none(), "{table}");
    assert!(line_of(&table, "keep-1").is_some(), "{table}");
    let everything = hub.fleetctl(&["status", "--all"]).success().stdout;
    let ghost_line = line_of(&everything, "ghost-1").unwrap_or_else(|| panic!("{everything}"));
    assert!(ghost_line.contains("not in Git"), "{everything}");

    // The agent keeps its objects, as last applied: no prune, no new state.
    // Sessions get new state the moment a target moves; give a wrong push a
    // moment to arrive before looking.
    std::thread::sleep(Duration::from_secs(3));
    let config = cluster
        .get("configmap", "web", "web-config")
        .expect("the agent keeps the objects of a cluster removed from Git");
    assert_eq!(config["data"]["GREETING"], "hello");
    assert!(
        !agent.log().contains("pruned"),
        "nothing is pruned: {}",
        agent.log()
    );
}

//! `fleet.yaml spec.git.branch` is checked against the branch the hub
//! tracks (`hub.yaml git.branch`, which decides): a commit naming another
//! branch is recorded invalid with fleet.yaml's file:line, and no target
//! moves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_process::HubProcess;
use serde_json::Value;

#[test]
fn a_fleet_yaml_naming_another_branch_is_an_invalid_revision() {
    let remote = FleetRemote::with_content(&examples());
    let first = remote.head();
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    remote.edit("fleet.yaml", "branch: main", "branch: release");
    let other = remote.commit_and_push("fleet: say release");
    hub.fleetctl(&["refresh"]).success();

    let run = hub.fleetctl(&["revisions", "-o", "json"]).success();
    let listed: Value = serde_json::from_str(&run.stdout).unwrap();
    let record = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|revision| revision["revision"] == other.as_str())
        .unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(record["valid"], false, "{record}");
    let errors = record["errors"].to_string();
    assert!(
        errors.contains(
            "fleet.yaml:7: spec.git.branch is 'release' but the hub tracks branch 'main'"
        ),
        "{errors}"
    );
    let status = hub.fleetctl(&["status", "-o", "json"]).success();
    let clusters: Value = serde_json::from_str(&status.stdout).unwrap();
    for cluster in clusters.as_array().unwrap() {
        assert_eq!(cluster["targetRevision"], first.as_str(), "{cluster}");
    }
}

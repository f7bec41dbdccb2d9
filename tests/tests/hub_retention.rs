//! The replicated state is bounded (issue #14 item 3): the leader trims
//! revisions, rollouts and audit entries past hub.yaml's `retention:`
//! limits, so the state, the snapshot and the redb file stop growing; what
//! is kept still answers `fleetctl audit --since`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use fleet_tests::agent_support::token;
use fleet_tests::binaries::binary;
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_process::HubProcess;
use serde_json::Value;

/// `fleetctl bench retention` small: 20 clusters, 150 commits through the
/// webhook, retention at 50 revisions and 50 rollouts. Past the limits the
/// revision count, the state, the snapshot and the redb file stay flat;
/// without trimming each would grow by half between commit 100 and 150.
#[test]
fn the_state_stops_growing_once_the_retention_limits_are_reached() {
    let output = Command::new(binary("fleetctl"))
        .args([
            "bench",
            "retention",
            "--clusters",
            "20",
            "--commits",
            "150",
            "--checkpoints",
            "50,100,150",
            "--retain-revisions",
            "50",
            "--retain-rollouts",
            "50",
            "--snapshot-every",
            "10",
            "-o",
            "json",
        ])
        .arg("--hub-binary")
        .arg(binary("fleet-hub"))
        .output()
        .expect("fleetctl runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bench retention failed: {stderr}");
    let figures: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("bench output is not JSON ({error}); stderr: {stderr}"));
    let checkpoints = figures["checkpoints"].as_array().unwrap();
    let at = |commits: u64, field: &str| -> u64 {
        checkpoints
            .iter()
            .find(|checkpoint| checkpoint["commits"] == commits)
            .unwrap_or_else(|| panic!("no checkpoint at {commits}: {figures}"))[field]
            .as_u64()
            .unwrap()
    };
    // 50 newest, plus the one the oldest kept rollout would roll back to.
    assert_eq!(at(100, "revisions"), 51, "{figures}");
    assert_eq!(at(150, "revisions"), 51, "{figures}");
    // The state and its snapshot stay within 5% (numbers in them get
    // longer); redb grows its file in steps, so it gets 25%.
    for (field, percent) in [
        ("stateBytes", 105),
        ("snapshotBytes", 105),
        ("redbBytes", 125),
    ] {
        let (middle, last) = (at(100, field), at(150, field));
        assert!(middle > 0, "{field} at 100 commits: {figures}");
        assert!(
            last * 100 <= middle * percent,
            "{field} grew from {middle} to {last} between commits 100 and 150: {figures}"
        );
    }
}

/// Audit entries past `retention.auditEntries` go at the next sync; the
/// kept ones are listed by `fleetctl audit --since`, numbered as before.
#[test]
fn audit_entries_past_the_limit_go_and_the_kept_ones_are_listed_since() {
    let remote = FleetRemote::with_content(&examples());
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    let config = hub.hub_dir().join("hub.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("auditEntries: 100000"), "{text}");
    std::fs::write(
        &config,
        text.replace("auditEntries: 100000", "auditEntries: 3"),
    )
    .unwrap();
    hub.start();

    for cluster in [
        "prod-eu-1",
        "dev-eu-1",
        "prod-eu-1",
        "dev-eu-1",
        "prod-eu-1",
    ] {
        token(&hub, cluster);
    }
    let audit = |arguments: &[&str]| -> Vec<Value> {
        let mut all = vec!["audit", "-o", "json"];
        all.extend_from_slice(arguments);
        serde_json::from_str::<Value>(&hub.fleetctl(&all).success().stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    let before = audit(&[]);
    assert!(before.len() >= 5, "{before:?}");
    let last = before.last().unwrap()["sequence"].as_u64().unwrap();

    // `refresh` syncs (the leader trims to the newest 3), then audits itself.
    hub.fleetctl(&["refresh"]).success();
    let kept = audit(&["--since", "1h"]);
    let sequences: Vec<u64> = kept
        .iter()
        .map(|entry| entry["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(sequences, [last - 2, last - 1, last, last + 1], "{kept:?}");
    assert_eq!(kept[..3], before[before.len() - 3..]);
    assert!(
        kept[3]["action"].as_str().unwrap().contains("refresh"),
        "{kept:?}"
    );
}

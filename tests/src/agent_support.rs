//! What the agent tests share: waiting for an outcome, the hub's view of a
//! cluster and of its revisions, bootstrap tokens, the
//! `fleet-agent install-manifests` output, and a running one-cluster fleet.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::binaries::binary;
use crate::hub_process::HubProcess;

/// Polls `check` until it returns `Some`, for up to `within`; panics with
/// `what` and the last observation (from `describe`) otherwise.
pub fn eventually<T>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> Option<T>,
    describe: impl Fn() -> String,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        if started.elapsed() > within {
            panic!("timed out waiting for: {what}\n{}", describe());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A bootstrap token for `cluster`.
pub fn token(hub: &HubProcess, cluster: &str) -> String {
    hub.fleetctl(&["token", "create", "--cluster", cluster])
        .success()
        .stdout
        .trim()
        .to_owned()
}

/// The hub's view of `cluster` (`fleetctl status -o json`).
pub fn cluster_status(hub: &HubProcess, cluster: &str) -> Value {
    let run = hub.fleetctl(&["status", "-o", "json"]).success();
    serde_json::from_str::<Value>(&run.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .find(|status| status["name"] == cluster)
        .cloned()
        .unwrap_or(Value::Null)
}

/// Every revision the hub recorded (`fleetctl revisions -o json`).
pub fn revisions(hub: &HubProcess) -> Vec<Value> {
    let run = hub.fleetctl(&["revisions", "-o", "json"]).success();
    serde_json::from_str::<Value>(&run.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The hub's record of `revision`, once it has one.
pub fn revision_record(hub: &HubProcess, revision: &str) -> Option<Value> {
    revisions(hub)
        .into_iter()
        .find(|row| row["revision"] == revision)
}

/// Waits up to `within` for the hub's record of `revision` (after
/// `fleetctl refresh`, when `refresh`); panics with the hub's log.
pub fn await_revision(hub: &HubProcess, revision: &str, refresh: bool, within: Duration) -> Value {
    if refresh {
        hub.fleetctl(&["refresh"]).success();
    }
    eventually(
        &format!("revision {revision} recorded"),
        within,
        || revision_record(hub, revision),
        || hub.log(),
    )
}

/// Whether the hub shows `cluster` synced to `revision` and healthy.
pub fn synced_and_healthy(hub: &HubProcess, cluster: &str, revision: &str) -> bool {
    let status = cluster_status(hub, cluster);
    status["synced"] == true
        && status["health"] == "Healthy"
        && status["appliedRevision"] == revision
}

/// What `fleet-agent install-manifests` prints for `cluster`.
pub fn install_manifests(hub: &HubProcess, cluster: &str, token: &str) -> String {
    let output = Command::new(binary("fleet-agent"))
        .args([
            "install-manifests",
            "--cluster",
            cluster,
            "--hub",
            &hub.endpoint(),
            "--bootstrap-token",
            token,
            "--ca-file",
            hub.hub_dir().join("ca.crt").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "install-manifests: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A one-cluster fleet running for real: a hub following a new remote of
/// a fleet folder, fleet-sim cluster `edge-1` and a real agent in it,
/// synced and healthy at the remote's first commit. Keep every field bound
/// for as long as the test needs its process.
pub struct EdgeFleet {
    /// The fleet repository.
    pub remote: crate::git_fixture::FleetRemote,
    /// Its first commit, which the agent runs.
    pub revision: String,
    /// The hub.
    pub hub: HubProcess,
    /// The cluster.
    pub cluster: crate::sim_cluster::SimCluster,
    /// The agent in it.
    pub agent: crate::agent_process::AgentProcess,
}

impl EdgeFleet {
    /// The cluster's name.
    pub const CLUSTER: &'static str = "edge-1";

    /// Starts it all over the fleet folder `root` (which declares `edge-1`)
    /// and waits up to `within` for the agent to sync it healthy.
    pub fn start(root: &std::path::Path, within: Duration) -> Self {
        let remote = crate::git_fixture::FleetRemote::with_content(root);
        let revision = remote.head();
        let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
        hub.start();
        let cluster = crate::sim_cluster::SimCluster::start(Self::CLUSTER);
        let agent =
            crate::agent_process::AgentProcess::start(&hub, &cluster, &token(&hub, Self::CLUSTER));
        eventually(
            "edge-1 synced and healthy",
            within,
            || synced_and_healthy(&hub, Self::CLUSTER, &revision).then_some(()),
            || format!("{}\n{}", cluster_status(&hub, Self::CLUSTER), agent.log()),
        );
        Self {
            remote,
            revision,
            hub,
            cluster,
            agent,
        }
    }
}

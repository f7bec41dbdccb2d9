//! A namespace deleted by hand on an API server that keeps it `Terminating`
//! for a while (fleet-sim `--namespace-finalize-delay 3s`, as a real
//! kube-apiserver does while its namespace controller empties it): the
//! agent treats "being terminated" as a wait, not a failed app, and puts the
//! app's objects back within 3 s after the namespace is gone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use fleet_tests::agent_process::AgentProcess;
use fleet_tests::agent_support::{cluster_status, eventually, synced_and_healthy, token};
use fleet_tests::git_fixture::FleetRemote;
use fleet_tests::hub_process::HubProcess;
use fleet_tests::sim_cluster::SimCluster;
use fleet_tests::tiny_fleet::{app_yaml, config_map, deployment, fleet, write};

const WAIT: Duration = Duration::from_secs(60);
const FINALIZE_DELAY: Duration = Duration::from_secs(3);
/// The bound the issue sets: objects back within this long after the
/// namespace is gone.
const BACK_WITHIN: Duration = Duration::from_secs(3);

#[test]
fn objects_of_a_deleted_namespace_are_back_within_3s_after_it_is_gone() {
    let content = tempfile::tempdir().unwrap();
    let root = content.path();
    fleet(root, &["edge-1"]);
    write(
        root,
        "apps/web/app.yaml",
        &app_yaml("web", "web", true, true, ""),
    );
    write(
        root,
        "apps/web/base/config.yaml",
        &config_map("web-config", "GREETING", "hello"),
    );
    write(
        root,
        "apps/web/base/deployment.yaml",
        &deployment("web", "example.com/web:1.0", 1),
    );
    let remote = FleetRemote::with_content(root);
    let revision = remote.head();
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let cluster = SimCluster::start_with_namespace_finalize_delay("edge-1", FINALIZE_DELAY);
    let agent = AgentProcess::start(&hub, &cluster, &token(&hub, "edge-1"));
    eventually(
        "edge-1 synced and healthy",
        WAIT,
        || synced_and_healthy(&hub, "edge-1", &revision).then_some(()),
        || format!("{}\n{}", cluster_status(&hub, "edge-1"), agent.log()),
    );
    let original_uid = cluster.get("namespace", "", "web").unwrap()["metadata"]["uid"].clone();

    // Taken before the delete is sent: the namespace cannot be gone before
    // this plus the finalize delay, so this deadline is no later than
    // "gone + 3 s".
    let delete_sent = Instant::now();
    cluster
        .kubectl(&["delete", "namespace", "web", "--wait=false"])
        .success();
    let terminating = cluster
        .get("namespace", "", "web")
        .expect("the namespace stays while it terminates");
    assert!(
        terminating["metadata"]["deletionTimestamp"].is_string(),
        "{terminating}"
    );
    assert_eq!(terminating["status"]["phase"], "Terminating");

    let deadline = delete_sent + FINALIZE_DELAY + BACK_WITHIN;
    let back = loop {
        let namespace = cluster.get("namespace", "", "web");
        let recreated = namespace.as_ref().is_some_and(|namespace| {
            namespace["metadata"]["uid"] != original_uid
                && namespace["metadata"]["deletionTimestamp"].is_null()
        });
        if recreated
            && cluster.get("configmap", "web", "web-config").is_some()
            && cluster.get("deployment", "web", "web").is_some()
        {
            break Instant::now();
        }
        assert!(
            Instant::now() < deadline + Duration::from_secs(30),
            "the app's objects never came back\n{}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        back <= deadline,
        "the app's objects came back {:?} after the namespace could first have been gone (bound {BACK_WITHIN:?})\n{}",
        back - (delete_sent + FINALIZE_DELAY),
        agent.log()
    );

    // The wait was not a failed app: it settles healthy, no apply failure.
    eventually(
        "edge-1 synced and healthy again",
        WAIT,
        || synced_and_healthy(&hub, "edge-1", &revision).then_some(()),
        || format!("{}\n{}", cluster_status(&hub, "edge-1"), agent.log()),
    );
    assert!(
        !agent.log().contains("apply failed"),
        "being terminated is a wait, not a failure\n{}",
        agent.log()
    );
}

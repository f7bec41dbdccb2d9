//! The replicated verdict records the digest of every remote chart a valid
//! revision used, and every node renders only those bytes: when the chart
//! repository republishes the same version with other bytes, a hub node
//! that has no copy of the old archive (a restarted node with a rebuilt data
//! directory, or any other member that never fetched it) refuses it — both
//! when an agent asks for the recorded revision and when a new commit is
//! rendered — and nothing rolls out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use fleet_tests::agent_process::AgentProcess;
use fleet_tests::agent_support::{await_revision, eventually, token};
use fleet_tests::chart_repository::{ChartRepository, package};
use fleet_tests::git_fixture::FleetRemote;
use fleet_tests::hub_process::HubProcess;
use fleet_tests::sim_cluster::SimCluster;
use fleet_tests::tiny_fleet::{fleet, write};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(120);

/// The chart `web` 1.0.0 whose ConfigMap says `greeting`.
fn chart(root: &Path, greeting: &str) -> Vec<u8> {
    write(
        root,
        "web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    );
    write(
        root,
        "web/templates/configmap.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  GREETING: {greeting}\n"
        ),
    );
    package(&root.join("web"))
}

#[test]
fn a_chart_republished_with_other_bytes_is_refused_by_a_node_without_it_in_its_cache() {
    let repository = ChartRepository::start();
    let packages = tempfile::tempdir().unwrap();
    let recorded = repository.serve("web", "1.0.0", &chart(packages.path(), "hello"));

    let content = tempfile::tempdir().unwrap();
    let root = content.path();
    fleet(root, &["edge-1"]);
    write(
        root,
        "apps/web/app.yaml",
        &format!(
            "apiVersion: fleet/v1alpha1\nkind: App\nmetadata:\n  name: web\nspec:\n  namespace: web\n  \
             helm:\n    chart: web\n    repository: {}\n    version: 1.0.0\n",
            repository.url
        ),
    );
    let remote = FleetRemote::with_content(root);
    let first = remote.head();
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();

    // The verdict records the chart version and the digest of its archive.
    let row = await_revision(&hub, &first, false, WAIT);
    assert_eq!(row["valid"], true, "{row}");
    assert_eq!(
        row["charts"],
        json!([{
            "repository": repository.url,
            "chart": "web",
            "version": "1.0.0",
            "digest": recorded,
        }]),
        "{row}"
    );
    let table = hub.fleetctl(&["revisions"]).success().stdout;
    assert!(
        table.contains(&format!("web 1.0.0 from {}: {recorded}", repository.url)),
        "{table}"
    );

    // Upstream republishes 1.0.0 with other bytes; the node comes back
    // without its chart cache, so only the replicated record can tell.
    hub.terminate();
    let republished = repository.serve("web", "1.0.0", &chart(packages.path(), "changed"));
    assert_ne!(republished, recorded);
    std::fs::remove_dir_all(hub.hub_dir().join("data/charts")).unwrap();
    hub.start();
    let refusal =
        format!("chart web 1.0.0 changed upstream: recorded {recorded}, got {republished}");

    // An agent asking this node for the recorded revision gets no desired state.
    let cluster = SimCluster::start("edge-1");
    let agent = AgentProcess::start(&hub, &cluster, &token(&hub, "edge-1"));
    eventually(
        "the agent told that the chart changed upstream",
        WAIT,
        || agent.log().contains(&refusal).then_some(()),
        || format!("agent log:\n{}\nhub log:\n{}", agent.log(), hub.log()),
    );
    assert_eq!(cluster.get("configmap", "web", "web-config"), None);
    assert!(!hub.log().contains("desired state sent"), "{}", hub.log());

    // A new commit is rendered with the recorded digest too: invalid.
    remote.write(
        "environments/dev.yaml",
        "apiVersion: fleet/v1alpha1\nkind: Environment\nmetadata:\n  name: dev\nspec:\n  vars:\n    replicas: 2\n",
    );
    let second = remote.commit_and_push("dev: two replicas");
    let row = await_revision(&hub, &second, true, WAIT);
    assert_eq!(row["valid"], false, "{row}");
    let errors = row["errors"].to_string();
    assert!(errors.contains("apps/web/app.yaml"), "{errors}");
    assert!(errors.contains(&refusal), "{errors}");
    assert_eq!(cluster.get("configmap", "web", "web-config"), None);
}

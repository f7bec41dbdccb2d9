//! A Helm app end to end: the hub renders an in-repo chart with
//! `helm template` (the front end over the Helm engine from PyPI, named by
//! `render.helm` in hub.yaml), real agents apply it to fleet-sim clusters,
//! and a values change rolls out wave by wave: canary first, then the rest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use fleet_tests::agent_process::AgentProcess;
use fleet_tests::agent_support::{cluster_status, eventually, synced_and_healthy, token};
use fleet_tests::git_fixture::FleetRemote;
use fleet_tests::hub_process::HubProcess;
use fleet_tests::sim_cluster::SimCluster;
use fleet_tests::tiny_fleet::{fleet, write};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(120);

const WAVES: &str = "apiVersion: fleet/v1alpha1\nkind: Fleet\nmetadata:\n  name: tiny\nspec:\n  \
    rollout:\n    waves:\n      - name: canary\n        selector:\n          matchLabels:\n            \
    tier: canary\n        bake: 1s\n      - name: rest\n        selector:\n          matchLabels:\n            \
    env: dev\n";

fn helm_chart(root: &std::path::Path) {
    write(
        root,
        "apps/web/app.yaml",
        "apiVersion: fleet/v1alpha1\nkind: App\nmetadata:\n  name: web\nspec:\n  namespace: web\n  \
         helm:\n    chart: chart\n    values:\n      greeting: hello\n      cluster: ${cluster.name}\n",
    );
    write(
        root,
        "apps/web/chart/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    );
    write(
        root,
        "apps/web/chart/values.yaml",
        "greeting: unset\ncluster: unset\n",
    );
    write(
        root,
        "apps/web/chart/templates/_helpers.tpl",
        "{{- define \"web.name\" -}}{{ .Release.Name }}-config{{- end }}\n",
    );
    write(
        root,
        "apps/web/chart/templates/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"web.name\" . }}\ndata:\n  \
         GREETING: {{ printf \"%s from %s\" .Values.greeting .Values.cluster | quote }}\n",
    );
}

fn greeting(cluster: &SimCluster) -> Option<String> {
    cluster
        .get("configmap", "web", "web-config")
        .and_then(|config| config["data"]["GREETING"].as_str().map(str::to_owned))
}

fn rollout_state(hub: &HubProcess) -> Value {
    serde_json::from_str(
        &hub.fleetctl(&["rollout", "status", "-o", "json"])
            .success()
            .stdout,
    )
    .unwrap()
}

#[test]
fn a_helm_app_rolls_out_through_the_waves_to_agents_on_fleet_sim() {
    let content = tempfile::tempdir().unwrap();
    let root = content.path();
    fleet(root, &["edge-1", "edge-2"]);
    write(root, "fleet.yaml", WAVES);
    write(
        root,
        "clusters/edge-1.yaml",
        "apiVersion: fleet/v1alpha1\nkind: Cluster\nmetadata:\n  name: edge-1\n  labels:\n    env: dev\n    \
         tier: canary\nspec:\n  environment: dev\n",
    );
    helm_chart(root);
    let remote = FleetRemote::with_content(root);
    let first = remote.head();
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let clusters: Vec<(SimCluster, AgentProcess)> = ["edge-1", "edge-2"]
        .iter()
        .map(|name| {
            let cluster = SimCluster::start(name);
            let token = token(&hub, name);
            let agent = AgentProcess::start(&hub, &cluster, &token);
            (cluster, agent)
        })
        .collect();
    for ((cluster, agent), name) in clusters.iter().zip(["edge-1", "edge-2"]) {
        eventually(
            &format!("{name} synced and healthy"),
            WAIT,
            || synced_and_healthy(&hub, name, &first).then_some(()),
            || {
                format!(
                    "{}\nagent log:\n{}\nhub log:\n{}",
                    cluster_status(&hub, name),
                    agent.log(),
                    hub.log()
                )
            },
        );
        assert_eq!(
            greeting(cluster).as_deref(),
            Some(format!("hello from {name}").as_str())
        );
        let config = cluster.get("configmap", "web", "web-config").unwrap();
        assert_eq!(config["metadata"]["labels"]["fleet/app"], "web");
    }

    // A values change rolls out canary first, then the rest.
    remote.edit("apps/web/app.yaml", "greeting: hello", "greeting: welcome");
    let second = remote.commit_and_push("web: a new greeting");
    hub.fleetctl(&["refresh"]).success();
    for ((cluster, agent), name) in clusters.iter().zip(["edge-1", "edge-2"]) {
        eventually(
            &format!("{name} on the second revision"),
            WAIT,
            || synced_and_healthy(&hub, name, &second).then_some(()),
            || {
                format!(
                    "{}\nagent log:\n{}\nrollout: {}",
                    cluster_status(&hub, name),
                    agent.log(),
                    rollout_state(&hub)
                )
            },
        );
        assert_eq!(
            greeting(cluster).as_deref(),
            Some(format!("welcome from {name}").as_str())
        );
    }
    let view = rollout_state(&hub);
    assert_eq!(view["revision"], second.as_str(), "{view}");
    let waves: Vec<(&str, &str)> = view["waves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|wave| {
            (
                wave["name"].as_str().unwrap(),
                wave["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        waves,
        [("canary", "Succeeded"), ("rest", "Succeeded")],
        "{view}"
    );
}

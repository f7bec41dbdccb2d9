//! Wave rollouts driven by the real hub's controller, with protocol-level
//! stand-ins for agents (the real agent against fleet-sim is exercised in
//! the agent and demo tests): canary first, manual promotion, automatic
//! rollback, and every operator action audited with its identity.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fleet_proto::RolloutActionRequest;
use fleet_proto::admin_service_client::AdminServiceClient;
use fleet_tests::agent_client::{enroll, enroll_responders};
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_process::HubProcess;
use serde_json::Value;
use tonic::Code;

use fleet_tests::git_fixture::EXAMPLE_CLUSTERS as CLUSTERS;

fn json(hub: &HubProcess, arguments: &[&str]) -> Value {
    serde_json::from_str(&hub.fleetctl(arguments).success().stdout).unwrap()
}

fn targets(hub: &HubProcess) -> BTreeMap<String, String> {
    json(hub, &["status", "-o", "json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|cluster| {
            (
                cluster["name"].as_str().unwrap().to_owned(),
                cluster["targetRevision"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn rollout(hub: &HubProcess) -> Value {
    json(hub, &["rollout", "status", "-o", "json"])
}

fn wave<'a>(view: &'a Value, name: &str) -> &'a Value {
    view["waves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|wave| wave["name"] == name)
        .unwrap()
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A hub over fleet-examples with short bakes, and a responder per cluster.
async fn fleet() -> (FleetRemote, HubProcess) {
    let remote = FleetRemote::with_content(&examples());
    remote.edit("fleet.yaml", "bake: 2m", "bake: 1s");
    remote.edit("fleet.yaml", "bake: 2m", "bake: 1s");
    remote.commit_and_push("short bakes for the test");
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    enroll_responders(&hub, &CLUSTERS).await;
    (remote, hub)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_commit_goes_canary_first_waits_for_promote_and_succeeds() {
    let (remote, hub) = fleet().await;
    let first = remote.head();
    eventually("the first revision converges everywhere", || {
        json(&hub, &["status", "-o", "json"])
            .as_array()
            .unwrap()
            .iter()
            .all(|cluster| cluster["synced"] == true)
    })
    .await;

    remote.edit("apps/web/base/deployment.yaml", "web:1.4.2", "web:1.5.0");
    let second = remote.commit_and_push("web 1.5.0");
    hub.fleetctl(&["refresh"]).success();

    // Production waits for promote while everything before it converges.
    eventually("production waits for approval", || {
        wave(&rollout(&hub), "production")["state"] == "WaitingApproval"
    })
    .await;
    let view = rollout(&hub);
    assert_eq!(view["revision"], second.as_str());
    for name in ["canary", "dev", "staging"] {
        assert_eq!(wave(&view, name)["state"], "Succeeded", "{view}");
    }
    let now = targets(&hub);
    for cluster in ["prod-eu-2", "prod-us-1", "prod-us-2"] {
        assert_eq!(
            now[cluster], first,
            "{cluster} must keep the previous revision until promoted"
        );
    }
    for cluster in ["prod-eu-1", "staging-eu-1", "dev-eu-1", "staging-us-1"] {
        assert_eq!(now[cluster], second);
    }
    let human = hub.fleetctl(&["rollout", "status"]).success().stdout;
    assert!(
        human.contains("WaitingApproval (fleetctl rollout promote --wave production)"),
        "{human}"
    );

    hub.fleetctl(&["rollout", "pause"]).success();
    assert_eq!(rollout(&hub)["state"], "Paused");
    hub.fleetctl(&["rollout", "resume"]).success();
    hub.fleetctl(&["rollout", "promote"]).success();
    eventually("the rollout succeeds", || {
        rollout(&hub)["state"] == "Succeeded"
    })
    .await;
    assert!(targets(&hub).values().all(|target| *target == second));

    // An operator can still roll a finished rollout back.
    hub.fleetctl(&["rollout", "rollback"]).success();
    eventually("every cluster is back on the first revision", || {
        targets(&hub).values().all(|target| *target == first)
    })
    .await;

    let history = json(&hub, &["rollout", "history", "-o", "json"]);
    let audit: Vec<String> = history["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            format!(
                "{} {}",
                entry["actor"].as_str().unwrap(),
                entry["action"].as_str().unwrap()
            )
        })
        .collect();
    for action in [
        "paused rollout",
        "resumed rollout",
        "promoted wave(s) production",
        "rolled back rollout",
    ] {
        assert!(
            audit
                .iter()
                .any(|entry| entry.starts_with(&format!("spiffe://fleet/admin/ops {action}"))),
            "{action} missing from {audit:?}"
        );
    }
    assert_eq!(history["rollouts"][0]["state"], "RolledBack");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_image_stops_at_the_canary_and_is_rolled_back() {
    let (remote, hub) = fleet().await;
    let first = remote.head();
    eventually("the first revision converges everywhere", || {
        json(&hub, &["status", "-o", "json"])
            .as_array()
            .unwrap()
            .iter()
            .all(|cluster| cluster["synced"] == true)
    })
    .await;

    remote.edit(
        "apps/web/base/deployment.yaml",
        "web:1.4.2",
        "web:1.5.0-fail",
    );
    let bad = remote.commit_and_push("web 1.5.0-fail");
    hub.fleetctl(&["refresh"]).success();
    eventually("the rollout is rolled back", || {
        rollout(&hub)["state"] == "RolledBack"
    })
    .await;
    let view = rollout(&hub);
    assert_eq!(view["revision"], bad.as_str());
    assert!(
        view["reason"]
            .as_str()
            .unwrap()
            .contains("wave canary failed"),
        "{view}"
    );
    let failures = wave(&view, "canary")["failures"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!failures.is_empty(), "{view}");
    assert!(failures.iter().all(|failure| {
        failure
            .as_str()
            .unwrap()
            .contains("ProgressDeadlineExceeded")
    }));
    for name in ["dev", "staging", "production"] {
        let released = wave(&view, name)["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|cluster| cluster["released"] == true);
        assert!(
            !released,
            "no {name} cluster may ever see the bad revision: {view}"
        );
    }
    eventually("every cluster is back on the previous revision", || {
        targets(&hub).values().all(|target| *target == first)
    })
    .await;

    // An agent certificate cannot steer rollouts; an admin can, and is audited.
    let agent_cluster = "prod-eu-1";
    let agent_token = hub
        .fleetctl(&["token", "create", "--cluster", agent_cluster])
        .success()
        .stdout
        .trim()
        .to_owned();
    let agent = enroll(&hub.endpoint(), &hub.ca_pem(), agent_cluster, &agent_token)
        .await
        .unwrap();
    let refused = AdminServiceClient::new(agent.channel().await)
        .rollout_action(RolloutActionRequest {
            action: "pause".into(),
            wave: String::new(),
            all: false,
            ignore_windows: false,
        })
        .await
        .err()
        .unwrap();
    assert_eq!(refused.code(), Code::PermissionDenied);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waves_with_nothing_to_release_succeed_at_once_and_say_why() {
    let (remote, hub) = fleet().await;
    eventually("the first revision converges everywhere", || {
        json(&hub, &["status", "-o", "json"])
            .as_array()
            .unwrap()
            .iter()
            .all(|cluster| cluster["synced"] == true)
    })
    .await;

    // A first wave whose selector matches no cluster, with a long bake; the
    // commit changes no rendered state, so every wave has nothing to release.
    remote.edit(
        "fleet.yaml",
        "    waves:\n",
        "    waves:\n      - name: nowhere\n        selector:\n          matchLabels:\n            tier: none\n        bake: 10m\n",
    );
    let settings = remote.commit_and_push("an empty first wave");
    hub.fleetctl(&["refresh"]).success();
    eventually("the settings-only rollout succeeds without promote", || {
        let view = rollout(&hub);
        view["revision"] == settings.as_str() && view["state"] == "Succeeded"
    })
    .await;
    let view = rollout(&hub);
    assert_eq!(wave(&view, "nowhere")["note"], "no clusters", "{view}");
    assert_eq!(wave(&view, "production")["note"], "no changes", "{view}");
    assert_eq!(wave(&view, "production")["approved"], false, "{view}");

    // A real change: the empty wave does not bake its ten minutes.
    remote.edit("apps/web/base/deployment.yaml", "web:1.4.2", "web:1.5.0");
    let change = remote.commit_and_push("web 1.5.0");
    hub.fleetctl(&["refresh"]).success();
    eventually("production waits for approval", || {
        let view = rollout(&hub);
        view["revision"] == change.as_str()
            && wave(&view, "production")["state"] == "WaitingApproval"
    })
    .await;
    let view = rollout(&hub);
    assert_eq!(wave(&view, "nowhere")["state"], "Succeeded", "{view}");
    assert_eq!(wave(&view, "canary")["note"], Value::Null, "{view}");
    let table = hub.fleetctl(&["rollout", "status"]).success().stdout;
    assert!(
        table
            .lines()
            .any(|line| line.contains("nowhere") && line.contains("Succeeded (no clusters)")),
        "{table}"
    );
}

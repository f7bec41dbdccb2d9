//! The hub's detail reads for the dashboard, against a real hub, the real
//! agent and fleet-sim: `GetCluster` lists a cluster's apps with the objects
//! of its target revision and keeps its drift history (a `kubectl patch`
//! reverted by the agent shows up as a reverted entry, names only), and the
//! dashboard's cluster page, open in headless Chromium, shows them and the
//! new drift entry without a reload; a notification target for drift events
//! hears `drift.reverted` with counts only.
//!
//! With `FLEET_DASHBOARD_SCREENSHOTS=<dir>` it writes
//! `dashboard-cluster.png` there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use fleet_proto::GetClusterRequest;
use fleet_proto::admin_service_client::AdminServiceClient;
use fleet_tests::agent_client::channel;
use fleet_tests::agent_support::EdgeFleet;
use fleet_tests::agent_support::{cluster_status, eventually};
use fleet_tests::dashboard_process::Dashboard;
use fleet_tests::hub_process::HubProcess;
use fleet_tests::sim_cluster::SimCluster;
use fleet_tests::tiny_fleet::{app_yaml, config_map, fleet, write};
use fleet_tests::webdriver::Browser;
use fleet_tests::webhook_receiver::WebhookReceiver;
use tonic::transport::Channel;

const WAIT: Duration = Duration::from_secs(90);

fn admin(runtime: &tokio::runtime::Runtime, hub: &HubProcess) -> AdminServiceClient<Channel> {
    let identity = (hub.read("admin.crt"), hub.read("admin.key"));
    runtime.block_on(async {
        AdminServiceClient::new(
            channel(
                &hub.endpoint(),
                &hub.ca_pem(),
                Some((&identity.0, &identity.1)),
            )
            .await
            .unwrap(),
        )
    })
}

fn greeting(cluster: &SimCluster) -> String {
    cluster.get("configmap", "web", "web-config").unwrap()["data"]["GREETING"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn get_cluster_shows_apps_objects_and_reverted_drift_and_the_cluster_page_too() {
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
        "apps/notes/app.yaml",
        &app_yaml("notes", "notes", true, true, ""),
    );
    write(
        root,
        "apps/notes/base/config.yaml",
        &config_map("notes-config", "NOTE", "original"),
    );
    let EdgeFleet {
        remote: _remote,
        revision,
        hub,
        cluster,
        agent,
    } = EdgeFleet::start(root, WAIT);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut client = admin(&runtime, &hub);
    let get = |client: &mut AdminServiceClient<Channel>| {
        runtime
            .block_on(client.get_cluster(GetClusterRequest {
                name: "edge-1".into(),
            }))
            .unwrap()
            .into_inner()
    };

    // Before any drift: both apps, reported and with their objects; no history.
    let detail = get(&mut client);
    let summary = detail.cluster.clone().unwrap();
    assert_eq!(summary.target_revision, revision);
    assert_eq!(summary.environment, "dev");
    let apps: Vec<&str> = detail.apps.iter().map(|app| app.app.as_str()).collect();
    assert_eq!(apps, ["notes", "web"], "{detail:?}");
    let web = detail.apps.iter().find(|app| app.app == "web").unwrap();
    assert!(web.reported, "{web:?}");
    assert!(
        web.objects.iter().any(|object| object.kind == "ConfigMap"
            && object.namespace == "web"
            && object.name == "web-config"),
        "{web:?}"
    );
    assert!(detail.drift_history.is_empty(), "{detail:?}");

    // The cluster page in a browser, before any drift.
    let dashboard = Dashboard::start(&hub.fleetconfig());
    let browser = Browser::start();
    browser.goto(&dashboard.url("/cluster/edge-1"));
    browser.script("window.notReloaded = true; return null;");
    assert!(browser.text("#apps").contains("ConfigMap web/web-config"));
    assert!(
        browser.text("#main").contains("No drift reported."),
        "{}",
        browser.text("#main")
    );

    // A receiver of drift notifications.
    let receiver = runtime.block_on(WebhookReceiver::start(0));
    hub.fleetctl(&[
        "notifications",
        "add",
        "drift-hook",
        "--url",
        &receiver.url(),
        "--events",
        "drift",
    ])
    .success();

    // Drift made by hand, reverted by the agent: one reverted entry.
    cluster
        .kubectl(&[
            "patch",
            "configmap",
            "web-config",
            "--namespace",
            "web",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"GREETING":"patched"}}"#,
        ])
        .success();
    eventually(
        "web-config reverted",
        WAIT,
        || (greeting(&cluster) == "hello").then_some(()),
        || agent.log(),
    );
    let detail = eventually(
        "the drift history holds the reverted drift",
        WAIT,
        || {
            let detail = get(&mut client);
            detail
                .drift_history
                .iter()
                .any(|entry| {
                    entry.reverted
                        && entry.app == "web"
                        && entry.object.as_ref().is_some_and(|object| {
                            object.kind == "ConfigMap" && object.name == "web-config"
                        })
                })
                .then_some(detail)
        },
        || format!("{}\n{}", cluster_status(&hub, "edge-1"), agent.log()),
    );
    let encoded = format!("{:?}", detail.drift_history);
    assert!(
        !encoded.contains("patched"),
        "the history keeps names, never values: {encoded}"
    );

    // The receiver hears of it: counts, names of the cluster, no values.
    let reverted = eventually(
        "a drift.reverted notification arrives",
        WAIT,
        || {
            receiver
                .received()
                .into_iter()
                .map(|request| request.json())
                .find(|body| body["event"] == "drift.reverted")
        },
        || format!("{:?}", receiver.received().len()),
    );
    assert_eq!(reverted["clusters"], serde_json::json!(["edge-1"]));
    let message = reverted["message"].as_str().unwrap();
    assert!(
        message.contains("drift in 1 object(s) of 1 app(s) reverted")
            && !message.contains("patched"),
        "{message}"
    );

    // Unknown clusters are NOT_FOUND.
    let unknown = runtime
        .block_on(client.get_cluster(GetClusterRequest {
            name: "nowhere".into(),
        }))
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound, "{unknown:?}");

    // The page shows it without a reload (the hub's change stream), and a
    // fresh load shows the same.
    eventually(
        "the cluster page shows the drift entry",
        WAIT,
        || {
            let drift = browser.text("#drift");
            (drift.contains("ConfigMap web/web-config") && drift.contains("reverted")).then_some(())
        },
        || browser.text("#main"),
    );
    assert_eq!(browser.script("return window.notReloaded === true;"), true);
    for app in ["notes", "web"] {
        assert!(
            browser
                .text(&format!("tr[data-app='{app}']"))
                .contains("Healthy"),
            "{}",
            browser.text("#apps")
        );
    }
    browser.script("document.querySelector('main h2').scrollIntoView(); return null;");
    browser.screenshot_if_asked("dashboard-cluster.png");
    let (code, page) = dashboard.get("/cluster/edge-1");
    assert_eq!(code, 200, "{page}");
    for expected in [
        "data-app=\"web\"",
        "data-app=\"notes\"",
        "ConfigMap web/web-config",
        "ConfigMap notes/notes-config",
        "<table id=\"drift\">",
        "reverted",
    ] {
        assert!(page.contains(expected), "{expected} missing from {page}");
    }
}

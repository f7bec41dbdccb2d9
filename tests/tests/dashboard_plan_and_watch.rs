//! The revision plan and the change stream the dashboard reads, against a
//! real hub process over mTLS: `GetRevisionPlan` gives, per wave of a
//! revision, the clusters and the objects that change for each (compared
//! with the valid revision before it), an invalid revision's file:line
//! errors instead, and the dashboard's `/revisions/REV` page shows the
//! plan (in headless Chromium; `dashboard-plan.png` with
//! `FLEET_DASHBOARD_SCREENSHOTS=<dir>`); `WatchFleet` sends a message after a write, and a node refuses
//! streams past `dashboard.maxWatchStreams`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use fleet_proto::admin_service_client::AdminServiceClient;
use fleet_proto::{GetRevisionPlanRequest, GetRevisionPlanResponse, WatchFleetRequest};
use fleet_tests::agent_client::channel;
use fleet_tests::dashboard_process::Dashboard;
use fleet_tests::git_fixture::FleetRemote;
use fleet_tests::hub_process::HubProcess;
use fleet_tests::tiny_fleet::{app_yaml, config_map, fleet, write};
use fleet_tests::webdriver::Browser;
use tonic::Code;
use tonic::transport::Channel;

const WAVES: &str = "apiVersion: fleet/v1alpha1\nkind: Fleet\nmetadata:\n  name: tiny\nspec:\n  rollout:\n    waves:\n      - name: canary\n        selector:\n          matchLabels:\n            tier: canary\n";

async fn admin(hub: &HubProcess) -> AdminServiceClient<Channel> {
    let (certificate, key) = (hub.read("admin.crt"), hub.read("admin.key"));
    AdminServiceClient::new(
        channel(&hub.endpoint(), &hub.ca_pem(), Some((&certificate, &key)))
            .await
            .unwrap(),
    )
}

async fn plan(client: &mut AdminServiceClient<Channel>, revision: &str) -> GetRevisionPlanResponse {
    client
        .get_revision_plan(GetRevisionPlanRequest {
            revision: revision.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Waits until the hub has recorded `revision`.
async fn recorded(hub: &HubProcess, revision: &str) {
    for _ in 0..300 {
        let listed = hub.fleetctl(&["revisions", "-o", "json"]).success().stdout;
        if listed.contains(revision) {
            return;
        }
        hub.fleetctl(&["refresh"]);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!("revision {revision} was not recorded:\n{}", hub.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_of_a_revision_lists_waves_clusters_and_object_changes_and_watches_report_writes()
{
    let content = tempfile::tempdir().unwrap();
    let root = content.path();
    fleet(root, &["edge-1", "edge-2"]);
    write(root, "fleet.yaml", WAVES);
    write(
        root,
        "clusters/edge-1.yaml",
        "apiVersion: fleet/v1alpha1\nkind: Cluster\nmetadata:\n  name: edge-1\n  labels:\n    tier: canary\nspec:\n  environment: dev\n",
    );
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
    let remote = FleetRemote::with_content(root);
    let first = remote.head();
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.set_setting("maxWatchStreams", "1");
    hub.start();
    recorded(&hub, &first).await;

    // A second commit adds an app for the canary only.
    remote.write(
        "apps/extra/app.yaml",
        &app_yaml(
            "extra",
            "extra",
            true,
            true,
            "  targets:\n    matchLabels:\n      tier: canary\n",
        ),
    );
    remote.write(
        "apps/extra/base/config.yaml",
        &config_map("extra-config", "KEY", "value"),
    );
    let second = remote.commit_and_push("an app for the canary");
    recorded(&hub, &second).await;
    let mut client = admin(&hub).await;

    let answer = plan(&mut client, &second[..10]).await;
    assert!(answer.valid, "{answer:?}");
    assert_eq!(answer.revision, second);
    assert_eq!(answer.compared_with, first);
    let waves: Vec<&str> = answer.waves.iter().map(|wave| wave.name.as_str()).collect();
    assert_eq!(waves, ["canary", "remaining"], "{answer:?}");
    let canary = &answer.waves[0];
    assert_eq!(canary.changed.len(), 1, "{answer:?}");
    assert_eq!(canary.changed[0].cluster, "edge-1");
    let change = &canary.changed[0].objects;
    assert_eq!(change.len(), 1, "{answer:?}");
    assert_eq!(change[0].change, "added");
    assert_eq!(change[0].app, "extra");
    let object = change[0].object.clone().unwrap();
    assert_eq!(
        (
            object.kind.as_str(),
            object.namespace.as_str(),
            object.name.as_str()
        ),
        ("ConfigMap", "extra", "extra-config")
    );
    assert!(answer.waves[1].changed.is_empty(), "{answer:?}");
    assert_eq!(answer.waves[1].unchanged, ["edge-2"]);

    // The first revision has nothing before it: everything is added.
    let answer = plan(&mut client, &first).await;
    assert_eq!(answer.compared_with, "");
    let changed: Vec<&str> = answer
        .waves
        .iter()
        .flat_map(|wave| wave.changed.iter().map(|cluster| cluster.cluster.as_str()))
        .collect();
    assert_eq!(changed, ["edge-1", "edge-2"], "{answer:?}");

    // An unknown revision is NOT_FOUND.
    let unknown = client
        .get_revision_plan(GetRevisionPlanRequest {
            revision: "0000000000".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");

    // An invalid revision has no plan: its errors, with file and line.
    remote.write(
        "apps/web/base/config.yaml",
        &config_map("web-config", "GREETING", "${nowhere}"),
    );
    let broken = remote.commit_and_push("an unknown variable");
    recorded(&hub, &broken).await;
    let answer = plan(&mut client, &broken).await;
    assert!(!answer.valid, "{answer:?}");
    assert!(answer.waves.is_empty());
    assert!(
        answer
            .errors
            .iter()
            .any(|error| error.contains("apps/web/base/config.yaml:") && error.contains("nowhere")),
        "{answer:?}"
    );

    // The dashboard shows the plan of a revision.
    let dashboard = Dashboard::start(&hub.fleetconfig());
    let (code, page) = dashboard.get(&format!("/revisions/{second}"));
    assert_eq!(code, 200, "{page}");
    for expected in [
        "data-plan-wave=\"canary\"",
        "data-plan-cluster=\"edge-1\"",
        "added <code>ConfigMap extra/extra-config</code> (app extra)",
        "Unchanged: edge-2",
    ] {
        assert!(page.contains(expected), "{expected} missing from {page}");
    }
    let browser = Browser::start();
    browser.goto(&dashboard.url(&format!("/revisions/{second}")));
    assert!(
        browser
            .text("li[data-plan-cluster='edge-1']")
            .contains("added ConfigMap extra/extra-config"),
        "{}",
        browser.text("#main")
    );
    browser.screenshot_if_asked("dashboard-plan.png");
    drop(browser);
    let (_, list) = dashboard.get("/revisions");
    assert!(
        list.contains(&format!("href=\"/revisions/{second}\"")),
        "{list}"
    );
    drop(dashboard);

    // WatchFleet: a message at once, another after a write; a second
    // stream past the node's limit of one is refused until the first ends.
    let mut watch = client
        .watch_fleet(WatchFleetRequest {})
        .await
        .unwrap()
        .into_inner();
    let opened = tokio::time::timeout(Duration::from_secs(30), watch.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
        .applied_index;
    let refused = admin(&hub)
        .await
        .watch_fleet(WatchFleetRequest {})
        .await
        .err()
        .unwrap();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused.message().contains("dashboard.maxWatchStreams"),
        "{refused:?}"
    );
    hub.fleetctl(&["refresh"]).success();
    let changed = tokio::time::timeout(Duration::from_secs(30), watch.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
        .applied_index;
    assert!(changed > opened, "{changed} after {opened}");
    drop(watch);
    let mut reopened = None;
    for _ in 0..100 {
        match admin(&hub).await.watch_fleet(WatchFleetRequest {}).await {
            Ok(stream) => {
                reopened = Some(stream);
                break;
            }
            Err(status) => {
                assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    let mut reopened = reopened
        .expect("the limit frees its place when a stream ends")
        .into_inner();
    tokio::time::timeout(Duration::from_secs(30), reopened.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();

    // A stopping node ends its streams with UNAVAILABLE and is not held open.
    let (exit, _) = hub.terminate();
    assert!(
        exit.is_some_and(|status| status.success()),
        "the hub did not stop cleanly: {exit:?}\n{}",
        hub.log()
    );
    let ended = tokio::time::timeout(Duration::from_secs(30), reopened.message())
        .await
        .unwrap();
    match ended {
        Err(status) => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
        Ok(None) => panic!("the stream ended without saying why"),
        Ok(Some(change)) => panic!("a change after the stop: {change:?}"),
    }
}

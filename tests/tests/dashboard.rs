//! `fleetctl dashboard` in headless Chromium over WebDriver, against a real
//! hub with protocol-level agents: the fleet page lists every cluster with
//! its health; the rollout page follows a rollout without reloading; a click
//! on promote (confirmed) proceeds the manual wave; forged promote requests
//! (no CSRF token, or from another origin) are refused and change nothing;
//! a viewer's dashboard shows no action buttons, and a promote it sends
//! anyway is refused by the hub naming the role.
//!
//! With `FLEET_DASHBOARD_SCREENSHOTS=<dir>` the test also writes
//! `dashboard-fleet.png` and `dashboard-rollout.png` there (docs/ holds the
//! committed ones).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use fleet_tests::agent_client::enroll_responders;
use fleet_tests::dashboard_process::Dashboard;
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_process::HubProcess;
use fleet_tests::net::http;
use fleet_tests::webdriver::Browser;
use serde_json::Value;

use fleet_tests::git_fixture::EXAMPLE_CLUSTERS as CLUSTERS;

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn json(hub: &HubProcess, arguments: &[&str]) -> Value {
    serde_json::from_str(&hub.fleetctl(arguments).success().stdout).unwrap()
}

fn wave_state(hub: &HubProcess, name: &str) -> String {
    json(hub, &["rollout", "status", "-o", "json"])["waves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|wave| wave["name"] == name)
        .map(|wave| wave["state"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_the_fleet_follows_a_rollout_and_promotes_on_click() {
    let remote = FleetRemote::with_content(&examples());
    remote.edit("fleet.yaml", "bake: 2m", "bake: 1s");
    remote.edit("fleet.yaml", "bake: 2m", "bake: 1s");
    remote.commit_and_push("short bakes for the test");
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    enroll_responders(&hub, &CLUSTERS).await;
    eventually("the first revision converges everywhere", || {
        json(&hub, &["status", "-o", "json"])
            .as_array()
            .unwrap()
            .iter()
            .all(|cluster| cluster["synced"] == true && cluster["health"] == "Healthy")
    })
    .await;
    let dashboard = Dashboard::start(&hub.fleetconfig());
    let browser = Browser::start();

    // The fleet page: every cluster, with its health.
    browser.goto(&dashboard.url("/"));
    let rows = browser.script(
        "return Array.from(document.querySelectorAll('#clusters tbody tr')).map(function (row) { return row.innerText; });",
    );
    let rows: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(rows.len(), CLUSTERS.len(), "{rows:?}");
    for cluster in CLUSTERS {
        let row = rows.iter().find(|row| row.starts_with(cluster)).unwrap();
        assert!(row.contains("Healthy"), "{row}");
    }
    let shown = browser.script(
        "var f = document.getElementById('filter'); f.value = 'staging'; f.dispatchEvent(new Event('input'));\
         return Array.from(document.querySelectorAll('#clusters tbody tr')).filter(function (r) { return !r.hidden; }).map(function (r) { return r.innerText; });",
    );
    let shown = shown.as_array().unwrap();
    assert!(
        !shown.is_empty() && shown.len() < CLUSTERS.len(),
        "{shown:?}"
    );
    assert!(
        shown
            .iter()
            .all(|row| row.as_str().unwrap().contains("staging"))
    );
    browser.script("var f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('input')); return null;");
    browser.screenshot_if_asked("dashboard-fleet.png");

    // A rollout stops before production.
    remote.edit("apps/web/base/deployment.yaml", "web:1.4.2", "web:1.5.0");
    remote.commit_and_push("web 1.5.0");
    hub.fleetctl(&["refresh"]).success();
    eventually("production waits for approval", || {
        wave_state(&hub, "production") == "WaitingApproval"
    })
    .await;

    browser.goto(&dashboard.url("/rollout"));
    browser.script("window.notReloaded = true; return null;");
    let production = "li.wave[data-wave='production']";
    eventually("the rollout page shows production waiting", || {
        browser.text(production).contains("WaitingApproval")
    })
    .await;

    // Forged promotes: no token, or another site's page. Both refused.
    let (_, page) = http(dashboard.address, "GET", "/rollout", &[], b"").unwrap();
    let token = page
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let origin = format!("http://{}", dashboard.address);
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let (code, answer) = http(
        dashboard.address,
        "POST",
        "/actions/rollout",
        &[form[0], ("Origin", &origin)],
        b"action=promote&wave=production",
    )
    .unwrap();
    assert_eq!(code, 403, "{answer}");
    let forged = format!("csrf={token}&action=promote&wave=production");
    let (code, answer) = http(
        dashboard.address,
        "POST",
        "/actions/rollout",
        &[form[0], ("Origin", "http://attacker.example")],
        forged.as_bytes(),
    )
    .unwrap();
    assert_eq!(code, 403, "{answer}");
    let (code, _) = http(
        dashboard.address,
        "POST",
        "/actions/rollout",
        &[form[0]],
        forged.as_bytes(),
    )
    .unwrap();
    assert_eq!(code, 403, "a POST without Origin is refused");
    assert_eq!(wave_state(&hub, "production"), "WaitingApproval");

    // A viewer's dashboard shows the same wave without any button, and a
    // promote it sends anyway (valid token and origin) is refused by the hub.
    let folder = tempfile::tempdir().unwrap();
    let vera = folder.path().join("vera.yaml");
    hub.fleetctl(&[
        "user",
        "create",
        "vera",
        "--role",
        "viewer",
        "--out",
        vera.to_str().unwrap(),
    ])
    .success();
    let viewer = Dashboard::start(&vera);
    let (code, viewer_page) = http(viewer.address, "GET", "/rollout", &[], b"").unwrap();
    assert_eq!(code, 200, "{viewer_page}");
    assert!(
        viewer_page.contains("data-wave=\"production\" data-state=\"WaitingApproval\""),
        "{viewer_page}"
    );
    assert!(!viewer_page.contains("data-action="), "{viewer_page}");
    assert!(viewer_page.contains("Read only"), "{viewer_page}");
    assert!(
        page.contains("data-action=\"promote\""),
        "the admin's page has the button: {page}"
    );
    let viewer_token = viewer_page
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let viewer_origin = format!("http://{}", viewer.address);
    let (code, answer) = http(
        viewer.address,
        "POST",
        "/actions/rollout",
        &[form[0], ("Origin", &viewer_origin)],
        format!("csrf={viewer_token}&action=promote&wave=production").as_bytes(),
    )
    .unwrap();
    assert_eq!(code, 403, "{answer}");
    assert!(
        answer.contains("role viewer may not promote rollouts"),
        "{answer}"
    );
    assert_eq!(wave_state(&hub, "production"), "WaitingApproval");
    drop(viewer);

    // Live: a pause and a resume from fleetctl show up without a reload.
    hub.fleetctl(&["rollout", "pause"]).success();
    eventually("the page shows the pause", || {
        browser.text("#rollout-state").contains("Paused")
    })
    .await;
    hub.fleetctl(&["rollout", "resume"]).success();
    eventually("the page shows the resume", || {
        browser.text("#rollout-state").contains("Progressing")
    })
    .await;
    assert_eq!(browser.script("return window.notReloaded === true;"), true);
    browser.screenshot_if_asked("dashboard-rollout.png");

    // Promote by click, confirmed: the wave proceeds.
    browser.click("button[data-action='promote']");
    browser.accept_dialog();
    eventually("the dashboard reports the promote sent", || {
        let status = browser.text("#live");
        assert!(
            !status.starts_with("refused") && !status.starts_with("failed"),
            "{status}"
        );
        status == "done" || status.starts_with("live")
    })
    .await;
    eventually("the rollout succeeds after the promote", || {
        json(&hub, &["rollout", "status", "-o", "json"])["state"] == "Succeeded"
    })
    .await;
    eventually("the page shows it", || {
        browser.text("#rollout-state").contains("Succeeded")
            && browser.text(production).contains("Succeeded")
    })
    .await;
    assert_eq!(browser.script("return window.notReloaded === true;"), true);
    let audit = hub.fleetctl(&["audit"]).success().stdout;
    assert!(
        audit.contains("promoted wave(s) production"),
        "the click is audited with the user's identity: {audit}"
    );
}

//! kill -9 the hub and start it again: tokens, enrollments, revisions and
//! statuses are all still there, and agents carry on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use fleet_proto::{Health, StatusReport};
use fleet_tests::agent_client::enroll;
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_process::HubProcess;
use serde_json::Value;
use tonic::Code;

fn json(hub: &HubProcess, arguments: &[&str]) -> Value {
    serde_json::from_str(&hub.fleetctl(arguments).success().stdout).unwrap()
}

fn prod_eu_1(hub: &HubProcess) -> Value {
    json(hub, &["status", "-o", "json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|cluster| cluster["name"] == "prod-eu-1")
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_hub_comes_back_with_everything() {
    let remote = FleetRemote::with_content(&examples());
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let endpoint = hub.endpoint();
    let ca = hub.ca_pem();

    let used = hub
        .fleetctl(&["token", "create", "--cluster", "prod-eu-1"])
        .success()
        .stdout
        .trim()
        .to_owned();
    let unused = hub
        .fleetctl(&["token", "create", "--cluster", "dev-eu-1"])
        .success()
        .stdout
        .trim()
        .to_owned();
    let agent = enroll(&endpoint, &ca, "prod-eu-1", &used).await.unwrap();
    let mut session = agent.session().await.unwrap();
    let desired = session.next_desired(Duration::from_secs(20)).await.unwrap();
    session
        .report(StatusReport {
            applied_revision: desired.revision.clone(),
            applied_digest: desired.digest.clone(),
            health: Health::Degraded as i32,
            apps: Vec::new(),
            message: "Deployment web/web: ProgressDeadlineExceeded".to_owned(),
        })
        .await;
    let started = Instant::now();
    while prod_eu_1(&hub)["health"] != "Degraded" {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "status never recorded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let revisions_before = json(&hub, &["revisions", "-o", "json"]);
    let audit_before = json(&hub, &["audit", "-o", "json"]);
    drop(session);

    hub.kill();
    hub.start();

    assert_eq!(json(&hub, &["revisions", "-o", "json"]), revisions_before);
    assert_eq!(json(&hub, &["audit", "-o", "json"]), audit_before);
    let status = prod_eu_1(&hub);
    assert_eq!(status["health"], "Degraded");
    assert_eq!(status["synced"], true);
    assert_eq!(status["enrolled"], true);
    assert_eq!(
        status["message"],
        "Deployment web/web: ProgressDeadlineExceeded"
    );

    // The used token stays used; the unused one still works.
    let reused = enroll(&endpoint, &ca, "prod-eu-1", &used)
        .await
        .err()
        .unwrap();
    assert_eq!(reused.code(), Code::PermissionDenied);
    enroll(&endpoint, &ca, "dev-eu-1", &unused).await.unwrap();

    // The enrolled agent reconnects with its certificate; having applied the
    // target already, it is not sent the same state again until it changes.
    let mut session = agent
        .session_as("prod-eu-1", &desired.digest)
        .await
        .unwrap();
    let nothing = session.next_desired(Duration::from_secs(2)).await;
    assert_eq!(nothing.err().unwrap().code(), Code::DeadlineExceeded);
    let mut fresh = agent.session().await.unwrap();
    assert_eq!(
        fresh
            .next_desired(Duration::from_secs(20))
            .await
            .unwrap()
            .digest,
        desired.digest
    );
}

//! The hub end to end: real `fleet-hub` and `fleetctl` processes, a real Git
//! remote served by `git daemon`, real mTLS with certificates the hub issues,
//! and a test client speaking the agent's side of the protocol.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use fleet_proto::{Health, StatusReport};
use fleet_tests::agent_client::enroll;
use fleet_tests::agent_support::revisions;
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_process::HubProcess;
use serde_json::Value;

/// Long enough that only the webhook (or refresh) triggers a fetch.
const NO_POLLING: &str = "1h";

fn token(hub: &HubProcess, cluster: &str) -> String {
    hub.fleetctl(&["token", "create", "--cluster", cluster])
        .success()
        .stdout
        .trim()
        .to_owned()
}

/// `fleetctl refresh` records `revision` as a new revision; its record.
fn refreshed_record(hub: &HubProcess, revision: &str) -> Value {
    let refreshed = hub.fleetctl(&["refresh"]).success();
    assert!(
        refreshed.stdout.contains("new revision"),
        "{}",
        refreshed.stdout
    );
    revisions(hub)
        .into_iter()
        .find(|record| record["revision"] == revision)
        .unwrap()
}

fn clusters(hub: &HubProcess) -> Vec<Value> {
    let run = hub.fleetctl(&["status", "-o", "json"]).success();
    serde_json::from_str::<Value>(&run.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn cluster(hub: &HubProcess, name: &str) -> Value {
    clusters(hub)
        .into_iter()
        .find(|cluster| cluster["name"] == name)
        .unwrap()
}

/// The digest `fleetctl render` prints for `cluster` at `revision` of `repository`.
fn rendered_digest(
    hub: &HubProcess,
    repository: &std::path::Path,
    revision: &str,
    cluster: &str,
) -> String {
    let run = hub
        .fleetctl(&[
            "render",
            "--repo",
            repository.to_str().unwrap(),
            "--rev",
            revision,
            "--cluster",
            cluster,
        ])
        .success();
    run.stderr.split_whitespace().nth(1).unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_enrolls_connects_and_follows_commits_pushed_to_a_git_daemon() {
    let mut remote = FleetRemote::with_content(&examples());
    let url = remote.serve();
    let first = remote.head();
    let mut hub = HubProcess::init(&url, NO_POLLING);
    hub.start();

    let agent = enroll(
        &hub.endpoint(),
        &hub.ca_pem(),
        "prod-eu-1",
        &token(&hub, "prod-eu-1"),
    )
    .await
    .unwrap();
    assert_eq!(agent.hub_endpoints, vec![hub.endpoint()]);
    let mut session = agent.session().await.unwrap();
    let desired = session.next_desired(Duration::from_secs(20)).await.unwrap();
    assert_eq!(desired.revision, first);
    assert_eq!(desired.cluster, "prod-eu-1");
    // The hub serves exactly what `fleetctl render` computes for that commit.
    assert_eq!(
        desired.digest,
        rendered_digest(&hub, &remote.bare(), &first, "prod-eu-1")
    );
    let apps: Vec<&str> = desired.apps.iter().map(|app| app.app.as_str()).collect();
    assert_eq!(apps, ["database", "api", "monitoring", "podinfo", "web"]);

    // A new commit on the remote reaches the connected agent after the webhook.
    remote.edit(
        "apps/monitoring/base/deployment.yaml",
        "metrics-collector:0.9.1",
        "metrics-collector:0.9.2",
    );
    let second = remote.commit_and_push("monitoring: collector 0.9.2");
    let called = Instant::now();
    assert_eq!(hub.webhook(&hub.webhook_secret()), 202);
    let desired = session.next_desired(Duration::from_secs(20)).await.unwrap();
    let elapsed = called.elapsed();
    eprintln!("webhook -> desired state at the agent: {elapsed:?}");
    assert_eq!(desired.revision, second);
    let monitoring = desired
        .apps
        .iter()
        .find(|app| app.app == "monitoring")
        .unwrap();
    assert!(
        monitoring
            .objects
            .iter()
            .any(|object| object.json.contains("metrics-collector:0.9.2"))
    );

    // A wrongly signed webhook is refused and fetches nothing.
    remote.edit(
        "apps/monitoring/base/deployment.yaml",
        "metrics-collector:0.9.2",
        "metrics-collector:0.9.3",
    );
    let third = remote.commit_and_push("monitoring: collector 0.9.3");
    assert_eq!(hub.webhook(b"not the secret"), 401);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !revisions(&hub)
            .iter()
            .any(|revision| revision["revision"] == third.as_str())
    );
    assert_eq!(hub.webhook(&hub.webhook_secret()), 202);
    assert_eq!(
        session
            .next_desired(Duration::from_secs(20))
            .await
            .unwrap()
            .revision,
        third
    );

    // Status reports reach `fleetctl status`.
    session
        .report(StatusReport {
            applied_revision: third.clone(),
            applied_digest: cluster(&hub, "prod-eu-1")["targetDigest"]
                .as_str()
                .unwrap()
                .to_owned(),
            health: Health::Healthy as i32,
            apps: Vec::new(),
            message: String::new(),
        })
        .await;
    let started = Instant::now();
    loop {
        let status = cluster(&hub, "prod-eu-1");
        if status["synced"] == true {
            assert_eq!(status["health"], "Healthy");
            assert_eq!(status["connected"], true);
            assert_eq!(status["appliedRevision"], third.as_str());
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "status never arrived: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Health and Prometheus metrics on the HTTP port.
    assert_eq!(
        fleet_tests::net::http(hub.http, "GET", "/healthz", &[], b"")
            .unwrap()
            .0,
        200
    );
    let (code, metrics) = fleet_tests::net::http(hub.http, "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(code, 200);
    for line in [
        "fleet_hub_agent_sessions 1",
        "fleet_hub_revisions_rendered_total 3",
        "fleet_hub_raft_leader 1",
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
    assert!(
        metrics.contains("fleet_hub_render_seconds_count 3"),
        "{metrics}"
    );
    let table = hub.fleetctl(&["status"]).success().stdout;
    let line = table
        .lines()
        .find(|line| line.contains("prod-eu-1"))
        .unwrap();
    assert!(
        line.contains("yes") && line.contains("Synced") && line.contains("Healthy"),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_that_fails_to_render_is_recorded_with_its_errors_and_no_target_moves() {
    let remote = FleetRemote::with_content(&examples());
    let first = remote.head();
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), NO_POLLING);
    hub.start();
    remote.edit(
        "apps/web/base/configmap.yaml",
        "\ndata:\n",
        "\ndata:\n  BROKEN: ${no.such.var}\n",
    );
    let broken = remote.commit_and_push("web: typo");
    let record = refreshed_record(&hub, &broken);
    assert_eq!(record["valid"], false);
    let errors: Vec<&str> = record["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    // Once, listing the clusters, however many clusters the app reaches.
    let reported: Vec<&&str> = errors
        .iter()
        .filter(|error| {
            error.starts_with("apps/web/base/configmap.yaml:9: unknown variable '${no.such.var}'")
        })
        .collect();
    assert_eq!(reported.len(), 1, "{errors:?}");
    assert!(
        reported[0].contains("(clusters dev-eu-1, dev-us-1, prod-eu-1"),
        "{errors:?}"
    );
    let table = hub.fleetctl(&["revisions"]).success().stdout;
    assert!(
        table.contains("INVALID") && table.contains("apps/web/base/configmap.yaml:9"),
        "{table}"
    );
    for cluster in clusters(&hub) {
        assert_eq!(cluster["targetRevision"], first.as_str(), "{cluster}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_tree_entry_that_climbs_out_makes_the_revision_invalid_naming_it() {
    let remote = FleetRemote::with_content(&examples());
    let first = remote.head();
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), NO_POLLING);
    hub.start();
    let crafted = remote.push_literal_entry("../../escaped.yaml", b"boom\n");
    let record = refreshed_record(&hub, &crafted);
    assert_eq!(record["valid"], false, "{record}");
    let errors = record["errors"].to_string();
    assert!(
        errors.contains("../../escaped.yaml:1: tree entry name contains a path separator"),
        "{errors}"
    );
    for cluster in clusters(&hub) {
        assert_eq!(cluster["targetRevision"], first.as_str(), "{cluster}");
    }
}

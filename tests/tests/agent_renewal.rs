//! Certificate renewal end to end. A hub signing 30-second agent
//! certificates and a real agent: the agent renews before expiry (the hub
//! records the new serial, the state directory holds a certificate that
//! expires later), its live session moves to the new certificate, and it
//! keeps working past the original certificate's expiry — through a hub
//! restart and its own restart. A revoked cluster cannot renew. And at the
//! protocol level: `Renew` needs a current agent certificate, and whatever
//! the CSR asks for, the new certificate names the caller's cluster.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fleet_proto::admin_service_client::AdminServiceClient;
use fleet_proto::agent_service_client::AgentServiceClient;
use fleet_proto::{RenewRequest, RevokeClusterRequest};
use fleet_tests::agent_client::{TestAgent, channel, enroll, key_and_request};
use fleet_tests::agent_process::AgentProcess;
use fleet_tests::agent_support::{cluster_status, eventually, synced_and_healthy, token};
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_process::HubProcess;
use fleet_tests::sim_cluster::SimCluster;
use fleet_tests::tiny_fleet::{config_map, web_fleet, write};
use serde_json::Value;
use tonic::Code;

const WAIT: Duration = Duration::from_secs(60);
/// The agent certificate lifetime of the first test's hub.
const VALIDITY: &str = "30s";

/// A certificate's serial (lowercase hex, as the hub records it) and notAfter.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CertificateFacts {
    serial: String,
    not_after_ms: u64,
}

fn facts(certificate_pem: &str) -> CertificateFacts {
    let (_, pem) = x509_parser::pem::parse_x509_pem(certificate_pem.as_bytes()).unwrap();
    let certificate = pem.parse_x509().unwrap();
    CertificateFacts {
        serial: certificate
            .raw_serial()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect(),
        not_after_ms: u64::try_from(certificate.validity().not_after.timestamp()).unwrap() * 1000,
    }
}

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// The agent's stored identity, as a protocol-level client.
fn stored_identity(hub: &HubProcess, agent: &AgentProcess) -> TestAgent {
    let read = |name: &str| std::fs::read_to_string(agent.state_dir().join(name)).unwrap();
    TestAgent {
        cluster: "edge-1".to_owned(),
        certificate_pem: read("agent.crt"),
        key_pem: read("agent.key"),
        ca_pem: read("ca.crt"),
        endpoint: hub.endpoint(),
        hub_endpoints: vec![hub.endpoint()],
    }
}

/// The hub's audit log as (at_ms, action).
fn audit(hub: &HubProcess) -> Vec<(u64, String)> {
    let run = hub.fleetctl(&["audit", "-o", "json"]).success();
    serde_json::from_str::<Value>(&run.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["atMs"].as_u64().unwrap(),
                entry["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Renewals the hub recorded for `cluster`: (at_ms, new serial, previous serial).
fn renewals(hub: &HubProcess, cluster: &str) -> Vec<(u64, String, String)> {
    let prefix = format!("renewed the certificate of cluster {cluster} (certificate ");
    audit(hub)
        .into_iter()
        .filter_map(|(at_ms, action)| {
            let rest = action.strip_prefix(&prefix)?.strip_suffix(')')?;
            let (serial, previous) = rest.split_once(" replaces ")?;
            Some((at_ms, serial.to_owned(), previous.to_owned()))
        })
        .collect()
}

fn greeting(cluster: &SimCluster) -> Option<String> {
    cluster
        .get("configmap", "web", "web-config")
        .map(|config| config["data"]["GREETING"].as_str().unwrap().to_owned())
}

async fn admin(hub: &HubProcess) -> AdminServiceClient<tonic::transport::Channel> {
    let identity = (hub.read("admin.crt"), hub.read("admin.key"));
    AdminServiceClient::new(
        channel(
            &hub.endpoint(),
            &hub.ca_pem(),
            Some((&identity.0, &identity.1)),
        )
        .await
        .unwrap(),
    )
}

#[test]
fn agent_renews_before_expiry_and_keeps_working_past_the_original_expiry() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let content = tempfile::tempdir().unwrap();
    let root = content.path();
    web_fleet(root, &["edge-1"]);
    let remote = FleetRemote::with_content(root);
    let first = remote.head();
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.set_agent_certificate_validity(VALIDITY);
    hub.start();
    let cluster = SimCluster::start("edge-1");
    let mut agent = AgentProcess::start(&hub, &cluster, &token(&hub, "edge-1"));
    let describe = |hub: &HubProcess, agent: &AgentProcess| {
        format!(
            "{}\nagent log:\n{}",
            cluster_status(hub, "edge-1"),
            agent.log()
        )
    };
    eventually(
        "edge-1 synced and healthy",
        WAIT,
        || synced_and_healthy(&hub, "edge-1", &first).then_some(()),
        || describe(&hub, &agent),
    );

    // The enrollment certificate lives as long as the hub is configured to sign.
    let original = facts(&stored_identity(&hub, &agent).certificate_pem);
    let left_ms = original.not_after_ms.saturating_sub(now_ms());
    assert!(
        left_ms <= 31_000,
        "a {VALIDITY} certificate, {left_ms} ms left"
    );
    assert!(
        audit(&hub).iter().any(|(_, action)| action
            == &format!("enrolled cluster edge-1 (certificate {})", original.serial)),
        "{:?}",
        audit(&hub)
    );

    // Before it expires, the agent renews it: the hub records a new serial.
    let (renewed_at_ms, renewed_serial) = eventually(
        "the hub records a renewal of the enrollment certificate",
        WAIT,
        || {
            renewals(&hub, "edge-1")
                .into_iter()
                .find(|(_, _, previous)| *previous == original.serial)
                .map(|(at_ms, serial, _)| (at_ms, serial))
        },
        || describe(&hub, &agent),
    );
    assert!(
        renewed_at_ms < original.not_after_ms,
        "renewed at {renewed_at_ms}, after the expiry at {}",
        original.not_after_ms
    );
    assert_ne!(renewed_serial, original.serial);

    // The state directory holds a renewed certificate that expires later.
    let stored = eventually(
        "the agent stores a renewed certificate",
        WAIT,
        || {
            let stored = facts(&stored_identity(&hub, &agent).certificate_pem);
            let recorded = renewals(&hub, "edge-1")
                .iter()
                .any(|(_, serial, _)| *serial == stored.serial);
            (stored.serial != original.serial && recorded).then_some(stored)
        },
        || describe(&hub, &agent),
    );
    assert!(
        stored.not_after_ms > original.not_after_ms,
        "{stored:?} vs {original:?}"
    );

    // The live session moved to the renewed certificate.
    eventually(
        "a session opened with the renewed certificate",
        WAIT,
        || {
            hub.log()
                .lines()
                .any(|line| {
                    line.contains(&format!("serial={renewed_serial}"))
                        && line.contains("session open")
                })
                .then_some(())
        },
        || format!("hub log:\n{}\nagent log:\n{}", hub.log(), agent.log()),
    );
    assert!(
        agent
            .log()
            .contains("reconnecting with the renewed certificate"),
        "{}",
        agent.log()
    );

    // Past the original expiry, the hub restarts: the agent must open a new
    // session (the original certificate would be refused now), and a commit
    // made after that point reaches the cluster.
    let wait_ms = (original.not_after_ms + 2_000).saturating_sub(now_ms());
    std::thread::sleep(Duration::from_millis(wait_ms));
    hub.kill();
    hub.start();
    write(
        &remote.work(),
        "apps/web/base/config.yaml",
        &config_map("web-config", "GREETING", "after expiry"),
    );
    let second = remote.commit_and_push("greet after the original certificate expired");
    hub.fleetctl(&["refresh"]).success();
    eventually(
        "the commit made after the original expiry reaches the cluster",
        WAIT,
        || {
            (synced_and_healthy(&hub, "edge-1", &second)
                && cluster_status(&hub, "edge-1")["connected"] == true
                && greeting(&cluster).as_deref() == Some("after expiry"))
            .then_some(())
        },
        || describe(&hub, &agent),
    );

    // A restarted agent uses the renewed identity from its state directory.
    agent.kill();
    eventually(
        "the hub sees the agent gone",
        WAIT,
        || (cluster_status(&hub, "edge-1")["connected"] == false).then_some(()),
        || cluster_status(&hub, "edge-1").to_string(),
    );
    agent.restart();
    eventually(
        "the restarted agent reconnects with its stored, renewed certificate",
        WAIT,
        || {
            (cluster_status(&hub, "edge-1")["connected"] == true
                && synced_and_healthy(&hub, "edge-1", &second))
            .then_some(())
        },
        || describe(&hub, &agent),
    );
    assert!(now_ms() > original.not_after_ms);

    // A revoked cluster cannot renew: not with its current certificate, and
    // the agent's own attempts are refused with the reason.
    runtime.block_on(async {
        admin(&hub)
            .await
            .revoke_cluster(RevokeClusterRequest {
                cluster: "edge-1".to_owned(),
            })
            .await
            .unwrap();
    });
    let refused = runtime
        .block_on(stored_identity(&hub, &agent).renew())
        .err()
        .unwrap();
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert_eq!(refused.message(), "cluster 'edge-1' has been revoked");
    eventually(
        "the agent's renewal is refused because the cluster was revoked",
        WAIT,
        || {
            agent
                .log()
                .lines()
                .any(|line| {
                    line.contains("refused the renewal")
                        && line.contains("cluster 'edge-1' has been revoked")
                })
                .then_some(())
        },
        || agent.log(),
    );
    let status = cluster_status(&hub, "edge-1");
    assert_eq!(status["connected"], false, "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renew_needs_a_current_agent_certificate_and_keeps_the_clusters_identity() {
    let remote = FleetRemote::with_content(&examples());
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    // This test renews fresh certificates on purpose.
    hub.set_renew_after_fraction("0");
    hub.start();
    let endpoint = hub.endpoint();
    let ca = hub.ca_pem();
    let agent = enroll(&endpoint, &ca, "prod-eu-1", &token(&hub, "prod-eu-1"))
        .await
        .unwrap();
    let renew = |channel: tonic::transport::Channel, csr_pem: String| async move {
        AgentServiceClient::new(channel)
            .renew(RenewRequest { csr_pem })
            .await
    };

    // No client certificate.
    let (_, csr) = key_and_request();
    let anonymous = renew(channel(&endpoint, &ca, None).await.unwrap(), csr.clone())
        .await
        .err()
        .unwrap();
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    // An admin certificate is not an agent's.
    let operator = renew(
        channel(
            &endpoint,
            &ca,
            Some((&hub.read("admin.crt"), &hub.read("admin.key"))),
        )
        .await
        .unwrap(),
        csr.clone(),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(operator.code(), Code::PermissionDenied);
    assert_eq!(
        operator.message(),
        "spiffe://fleet/admin/ops is not an agent identity"
    );

    // An oversized CSR, and something that is not a CSR.
    let oversized = renew(agent.channel().await, "x".repeat(65 * 1024))
        .await
        .err()
        .unwrap();
    assert_eq!(oversized.code(), Code::InvalidArgument);
    assert!(
        oversized.message().contains("at most 65536"),
        "{}",
        oversized.message()
    );
    let garbage = renew(agent.channel().await, "not a CSR".to_owned())
        .await
        .err()
        .unwrap();
    assert_eq!(garbage.code(), Code::InvalidArgument);

    // A CSR asking for another cluster and CA rights gets neither.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut wanted = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    wanted.subject_alt_names.push(rcgen::SanType::URI(
        "spiffe://fleet/cluster/prod-eu-2".try_into().unwrap(),
    ));
    wanted.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let greedy = wanted.serialize_request(&key).unwrap().pem().unwrap();
    let response = renew(agent.channel().await, greedy)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.identity, "spiffe://fleet/cluster/prod-eu-1");
    assert!(response.issued_at_ms > 0 && response.expires_at_ms > response.issued_at_ms);
    let (_, pem) = x509_parser::pem::parse_x509_pem(response.certificate_pem.as_bytes()).unwrap();
    let issued = pem.parse_x509().unwrap();
    assert!(!issued.is_ca());
    let names = &issued
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names;
    assert_eq!(
        format!("{names:?}"),
        r#"[URI("spiffe://fleet/cluster/prod-eu-1")]"#,
        "only the caller's own identity"
    );

    // The renewed certificate works, and so does the previous one.
    let renewed = agent.renew().await.unwrap();
    assert_ne!(renewed.certificate_pem, agent.certificate_pem);
    let again = renewed.renew().await.unwrap();
    for identity in [&renewed, &again] {
        let mut session = identity.session().await.unwrap();
        let desired = session.next_desired(Duration::from_secs(30)).await.unwrap();
        assert_eq!(desired.cluster, "prod-eu-1");
    }
    // Only the newest two certificates of a cluster are kept: the first
    // one (renewed twice over since) is refused.
    let dropped = agent.session().await.err().unwrap();
    assert_eq!(dropped.code(), Code::PermissionDenied);
    assert!(
        dropped.message().contains("is not a current enrollment"),
        "{}",
        dropped.message()
    );

    // Revoking the cluster refuses renewal with every one of its certificates.
    admin(&hub)
        .await
        .revoke_cluster(RevokeClusterRequest {
            cluster: "prod-eu-1".to_owned(),
        })
        .await
        .unwrap();
    for identity in [&agent, &renewed, &again] {
        let refused = identity.renew().await.err().unwrap();
        assert_eq!(refused.code(), Code::PermissionDenied);
        assert_eq!(refused.message(), "cluster 'prod-eu-1' has been revoked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_with_more_than_half_its_lifetime_left_is_not_renewed() {
    let remote = FleetRemote::with_content(&examples());
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let agent = enroll(
        &hub.endpoint(),
        &hub.ca_pem(),
        "prod-eu-1",
        &token(&hub, "prod-eu-1"),
    )
    .await
    .unwrap();
    let audit_before = audit(&hub);
    for _ in 0..5 {
        let refused = agent.renew().await.err().unwrap();
        assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
        assert!(
            refused.message().contains("enrollment.renewAfterFraction"),
            "{}",
            refused.message()
        );
    }
    assert_eq!(
        audit(&hub),
        audit_before,
        "a refused renewal records nothing"
    );
    // The certificate is still the cluster's.
    let mut session = agent.session().await.unwrap();
    let desired = session.next_desired(Duration::from_secs(30)).await.unwrap();
    assert_eq!(desired.cluster, "prod-eu-1");
}

//! Bad input to the hub gets a clear refusal and changes nothing: reused,
//! expired and foreign tokens, undeclared clusters, certificates from another
//! CA, an agent reaching for another cluster or for admin calls, oversized
//! messages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use fleet_proto::admin_service_client::AdminServiceClient;
use fleet_proto::agent_service_client::AgentServiceClient;
use fleet_proto::{EnrollRequest, ListClustersRequest};
use fleet_tests::agent_client::{TestAgent, channel, enroll, key_and_request};
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_process::HubProcess;
use serde_json::Value;
use tonic::Code;

/// The one answer to an unknown token, a token for another cluster and an
/// undeclared cluster.
const UNUSABLE_TOKEN: &str = "the bootstrap token is unknown or does not enroll this cluster";

fn token(hub: &HubProcess, arguments: &[&str]) -> String {
    let mut all = vec!["token", "create"];
    all.extend_from_slice(arguments);
    hub.fleetctl(&all).success().stdout.trim().to_owned()
}

fn audit(hub: &HubProcess) -> Vec<String> {
    let run = hub.fleetctl(&["audit", "-o", "json"]).success();
    serde_json::from_str::<Value>(&run.stdout)
        .unwrap()
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
        .collect()
}

fn enrolled(hub: &HubProcess) -> Vec<String> {
    let run = hub.fleetctl(&["clusters", "-o", "json"]).success();
    serde_json::from_str::<Value>(&run.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter(|cluster| cluster["enrolled"] == true)
        .map(|cluster| cluster["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_request_is_refused_clearly_and_changes_nothing() {
    let remote = FleetRemote::with_content(&examples());
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let endpoint = hub.endpoint();
    let ca = hub.ca_pem();

    // A good enrollment, to have an agent certificate to misuse.
    let good = token(&hub, &["--cluster", "prod-eu-1"]);
    let agent = enroll(&endpoint, &ca, "prod-eu-1", &good).await.unwrap();

    // Token reuse.
    let reused = enroll(&endpoint, &ca, "prod-eu-1", &good)
        .await
        .err()
        .unwrap();
    assert_eq!(reused.code(), Code::PermissionDenied);
    assert_eq!(reused.message(), "bootstrap token was already used");

    // Expired token.
    let short = token(&hub, &["--cluster", "prod-eu-2", "--ttl", "1s"]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let expired = enroll(&endpoint, &ca, "prod-eu-2", &short)
        .await
        .err()
        .unwrap();
    assert_eq!(expired.code(), Code::PermissionDenied);
    assert_eq!(expired.message(), "bootstrap token has expired");

    // A token for one cluster used for another: the answer does not name
    // the token's cluster.
    let for_us = token(&hub, &["--cluster", "prod-us-1"]);
    let wrong = enroll(&endpoint, &ca, "prod-us-2", &for_us)
        .await
        .err()
        .unwrap();
    assert_eq!(wrong.code(), Code::PermissionDenied);
    assert_eq!(wrong.message(), UNUSABLE_TOKEN);

    // Undeclared clusters: no token, no enrollment.
    let run = hub.fleetctl(&["token", "create", "--cluster", "ghost"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("cluster 'ghost' is not declared"),
        "{}",
        run.stderr
    );
    let ghost = enroll(&endpoint, &ca, "ghost", &for_us)
        .await
        .err()
        .unwrap();
    assert_eq!(ghost.code(), Code::PermissionDenied);
    assert_eq!(ghost.message(), UNUSABLE_TOKEN);

    // An unknown token.
    let unknown = enroll(&endpoint, &ca, "prod-us-1", "fleet-bootstrap-00")
        .await
        .err()
        .unwrap();
    assert_eq!(unknown.code(), Code::PermissionDenied);
    assert_eq!(unknown.message(), UNUSABLE_TOKEN);

    // An oversized message is refused before it is decoded.
    let (_, csr) = key_and_request();
    let oversized = AgentServiceClient::new(channel(&endpoint, &ca, None).await.unwrap())
        .enroll(EnrollRequest {
            token: "x".repeat(17 * 1024 * 1024),
            cluster: "prod-us-1".to_owned(),
            csr_pem: csr,
        })
        .await
        .err()
        .unwrap();
    assert!(
        matches!(oversized.code(), Code::OutOfRange | Code::ResourceExhausted),
        "{oversized:?}"
    );

    // Cluster A asking for cluster B's state.
    let foreign = agent.session_as("prod-eu-2", "").await;
    let error = match foreign {
        Err(status) => status,
        Ok(mut session) => session
            .next_desired(Duration::from_secs(10))
            .await
            .err()
            .unwrap(),
    };
    assert_eq!(error.code(), Code::PermissionDenied);
    assert!(
        error
            .message()
            .contains("speaks for cluster 'prod-eu-1', not 'prod-eu-2'"),
        "{}",
        error.message()
    );

    // An agent certificate calling an admin method.
    let denied = AdminServiceClient::new(agent.channel().await)
        .list_clusters(ListClustersRequest {})
        .await
        .err()
        .unwrap();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(
        denied
            .message()
            .contains("spiffe://fleet/cluster/prod-eu-1 may not call admin methods")
    );

    // No client certificate at all.
    let anonymous = AdminServiceClient::new(channel(&endpoint, &ca, None).await.unwrap())
        .list_clusters(ListClustersRequest {})
        .await
        .err()
        .unwrap();
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    // Certificates from another CA: the TLS handshake refuses them.
    let other = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    let foreign_admin = channel(
        &endpoint,
        &ca,
        Some((&other.read("admin.crt"), &other.read("admin.key"))),
    )
    .await;
    let refused = match foreign_admin {
        Err(_) => true,
        Ok(channel) => AdminServiceClient::new(channel)
            .list_clusters(ListClustersRequest {})
            .await
            .is_err(),
    };
    assert!(
        refused,
        "an admin certificate from another CA must be refused"
    );
    let impostor = TestAgent {
        certificate_pem: other.read("admin.crt"),
        key_pem: other.read("admin.key"),
        ..agent.clone()
    };
    let impostor_channel = channel(
        &endpoint,
        &ca,
        Some((&impostor.certificate_pem, &impostor.key_pem)),
    )
    .await;
    if let Ok(channel) = impostor_channel {
        let result = AgentServiceClient::new(channel)
            .session(tokio_stream::iter(Vec::new()))
            .await;
        assert!(
            result.is_err(),
            "a session with a foreign certificate must be refused"
        );
    }

    // Nothing changed: one enrollment, and the audit log has only the
    // operator's token creations and that enrollment.
    assert_eq!(enrolled(&hub), ["prod-eu-1"]);
    assert_eq!(
        audit(&hub),
        [
            "spiffe://fleet/admin/ops created a bootstrap token for cluster prod-eu-1",
            &format!(
                "spiffe://fleet/cluster/prod-eu-1 enrolled cluster prod-eu-1 (certificate {})",
                {
                    // The serial is whatever the hub issued; read it back from the log itself.
                    audit(&hub)[1]
                        .rsplit("certificate ")
                        .next()
                        .unwrap()
                        .trim_end_matches(')')
                        .to_owned()
                }
            ),
            "spiffe://fleet/admin/ops created a bootstrap token for cluster prod-eu-2",
            "spiffe://fleet/admin/ops created a bootstrap token for cluster prod-us-1",
        ]
    );
}

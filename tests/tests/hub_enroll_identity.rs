//! Enrollment reveals nothing to a caller without a token, and the CA signs
//! the key a CSR carries, whatever hash signed the CSR: certificate signing
//! requests made by `openssl req`, against a real hub process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use fleet_proto::EnrollRequest;
use fleet_proto::agent_service_client::AgentServiceClient;
use fleet_tests::agent_client::{channel, enroll};
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_process::HubProcess;
use tonic::{Code, Status};
use x509_parser::oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY};

fn token(hub: &HubProcess, cluster: &str) -> String {
    hub.fleetctl(&["token", "create", "--cluster", cluster])
        .success()
        .stdout
        .trim()
        .to_owned()
}

/// A CSR made by `openssl req` for a new EC key on `curve`, signed with
/// `digest` (e.g. `-sha384`).
fn openssl_request(directory: &Path, curve: &str, digest: &str) -> String {
    let key = directory.join(format!("{curve}{digest}.key"));
    let request = directory.join(format!("{curve}{digest}.csr"));
    let generated = Command::new("openssl")
        .args(["ecparam", "-genkey", "-noout", "-name", curve, "-out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(generated.status.success(), "{generated:?}");
    let made = Command::new("openssl")
        .args(["req", "-new", digest, "-subj", "/CN=agent", "-key"])
        .arg(&key)
        .arg("-out")
        .arg(&request)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    std::fs::read_to_string(request).unwrap()
}

async fn enroll_with(
    hub: &HubProcess,
    cluster: &str,
    token: &str,
    csr_pem: String,
) -> Result<String, Status> {
    let channel = channel(&hub.endpoint(), &hub.ca_pem(), None).await.unwrap();
    Ok(AgentServiceClient::new(channel)
        .enroll(EnrollRequest {
            token: token.to_owned(),
            cluster: cluster.to_owned(),
            csr_pem,
        })
        .await?
        .into_inner()
        .certificate_pem)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_without_a_token_cannot_tell_which_clusters_exist() {
    let remote = FleetRemote::with_content(&examples());
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let (endpoint, ca) = (hub.endpoint(), hub.ca_pem());
    token(&hub, "prod-eu-1");

    let declared = enroll(&endpoint, &ca, "prod-eu-1", "fleet-bootstrap-guess")
        .await
        .err()
        .unwrap();
    let undeclared = enroll(&endpoint, &ca, "no-such-cluster", "fleet-bootstrap-guess")
        .await
        .err()
        .unwrap();
    assert_eq!(declared.code(), Code::PermissionDenied, "{declared:?}");
    assert_eq!(undeclared.code(), declared.code(), "{undeclared:?}");
    assert_eq!(undeclared.message(), declared.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_certificate_key_is_the_csr_key_and_unsupported_keys_keep_the_token() {
    let remote = FleetRemote::with_content(&examples());
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let scratch = tempfile::tempdir().unwrap();

    // A P-256 key that signed its CSR with SHA-384 gets a P-256 certificate.
    let p256_token = token(&hub, "prod-eu-1");
    let certificate_pem = enroll_with(
        &hub,
        "prod-eu-1",
        &p256_token,
        openssl_request(scratch.path(), "prime256v1", "-sha384"),
    )
    .await
    .unwrap();
    let (_, pem) = x509_parser::pem::parse_x509_pem(certificate_pem.as_bytes()).unwrap();
    let certificate = pem.parse_x509().unwrap();
    let key_algorithm = &certificate.public_key().algorithm;
    assert_eq!(key_algorithm.algorithm, OID_KEY_TYPE_EC_PUBLIC_KEY);
    let curve = key_algorithm.parameters.as_ref().unwrap().as_oid().unwrap();
    assert_eq!(curve, OID_EC_P256, "the certificate's key must be P-256");
    // openssl agrees the certificate and the key belong together.
    let certificate_file = scratch.path().join("p256.crt");
    std::fs::write(&certificate_file, &certificate_pem).unwrap();
    let text = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&certificate_file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("prime256v1"), "{text}");

    // A P-521 key is refused by name, and the token still works.
    let p521_token = token(&hub, "prod-eu-2");
    let refused = enroll_with(
        &hub,
        "prod-eu-2",
        &p521_token,
        openssl_request(scratch.path(), "secp521r1", "-sha512"),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains("P-521"), "{}", refused.message());
    enroll_with(
        &hub,
        "prod-eu-2",
        &p521_token,
        openssl_request(scratch.path(), "prime256v1", "-sha256"),
    )
    .await
    .unwrap();
}

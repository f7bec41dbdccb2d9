//! Enrollment: the key pair is generated here, only a CSR leaves the cluster,
//! and the certificate the hub signs is kept next to the key in the state
//! directory (files readable by the agent's user only) and in the Secret
//! `fleet-agent-identity` in the agent's namespace — so a pod whose state
//! directory is an `emptyDir` gets its identity back after a restart, without
//! a new token. Later starts reuse it, and [`crate::renewal`] replaces it
//! before it expires through the same [`keep`].
//!
//! The files are replaced as a set: each is first written as `NAME.new`
//! (the certificate last), then renamed into place (the certificate last).
//! A process killed half-way leaves either no `agent.crt.new` (the old set
//! is intact; the strays are removed at the next load) or one (every `.new`
//! file is complete; the renames are finished at the next load) — never a
//! key that does not match its certificate.

use std::path::{Path, PathBuf};

use fleet_proto::{EnrollRequest, EnrollResponse};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use tonic::transport::{Certificate, ClientTlsConfig};
use tracing::{info, warn};

use crate::config::Config;
use crate::hub_call::{HubCallError, first_answer};

mod state_files;

use state_files::{
    CA_FILE, CERTIFICATE_FILE, ENROLLMENT_FILE, EnrollmentRecord, KEY_FILE, load, read, store,
    write_private,
};

/// The Secret that keeps the identity in the cluster.
pub const IDENTITY_SECRET: &str = "fleet-agent-identity";

/// Why enrollment or loading the identity failed.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    /// Not enrolled yet and no token to enroll with.
    #[error(
        "not enrolled yet ({0} holds no certificate) and no bootstrap token given (--token or FLEET_AGENT_TOKEN)"
    )]
    NoToken(PathBuf),
    /// Not enrolled yet and no CA to trust the hub with.
    #[error("not enrolled yet and no hub CA given (--ca or FLEET_AGENT_CA)")]
    NoCa,
    /// The key or CSR could not be generated.
    #[error("cannot generate the agent key or CSR: {0}")]
    Key(#[source] rcgen::Error),
    /// No hub endpoint accepted the enrollment.
    #[error("enrollment failed at every hub endpoint; last: {0}")]
    Hub(String),
    /// The hub refused the token or the request.
    #[error("the hub refused the enrollment: {0}")]
    Refused(String),
    /// A state file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The enrollment record is malformed.
    #[error("{path}: {source}")]
    Record {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// Result of this module.
pub type Result<T, E = EnrollError> = std::result::Result<T, E>;

/// The agent's mTLS identity and what the hub said at enrollment.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The certificate the hub signed (PEM).
    pub certificate_pem: String,
    /// The private key (PEM), generated here.
    pub key_pem: String,
    /// The hub CA (PEM).
    pub ca_pem: String,
    /// Endpoints to dial: the configured ones first, then those the hub named.
    pub hub_endpoints: Vec<String>,
    /// When the certificate expires (ms since the epoch; 0 if unknown).
    pub expires_at_ms: u64,
    /// When the hub signed the certificate (ms since the epoch; 0 if
    /// unknown, e.g. enrolled by an older version).
    pub issued_at_ms: u64,
}

/// Loads the stored identity (from the state directory, else from the
/// identity Secret), or enrolls with the bootstrap token.
pub async fn load_or_enroll(config: &Config, secrets: Option<Api<Secret>>) -> Result<Credentials> {
    let directory = &config.state_dir;
    if load(directory, &config.hub_endpoints)?.is_none()
        && let Some(secrets) = &secrets
    {
        restore(directory, secrets).await?;
    }
    let credentials = match load(directory, &config.hub_endpoints)? {
        Some(credentials) => {
            info!(cluster = %config.cluster, "using the stored certificate");
            credentials
        }
        None => enroll(config).await?,
    };
    if let Some(secrets) = &secrets {
        keep_in_cluster(directory, secrets).await;
    }
    Ok(credentials)
}

/// Keeps new credentials (an enrollment's or a renewal's) where the agent
/// finds them at its next start: the state directory, then (best effort)
/// the identity Secret.
pub async fn keep(
    directory: &Path,
    enrolled: &Enrolled,
    secrets: Option<&Api<Secret>>,
) -> Result<()> {
    store(
        directory,
        &enrolled.credentials,
        &EnrollmentRecord {
            identity: enrolled.identity.clone(),
            hub_endpoints: enrolled.announced_endpoints.clone(),
            expires_at_ms: enrolled.credentials.expires_at_ms,
            issued_at_ms: enrolled.credentials.issued_at_ms,
        },
    )?;
    if let Some(secrets) = secrets {
        keep_in_cluster(directory, secrets).await;
    }
    Ok(())
}

/// State files mirrored in the identity Secret (the certificate last).
const MIRRORED: [&str; 4] = [KEY_FILE, CA_FILE, ENROLLMENT_FILE, CERTIFICATE_FILE];

/// Writes the identity Secret's files into the state directory, if it exists.
async fn restore(directory: &Path, secrets: &Api<Secret>) -> Result<()> {
    let secret = match secrets.get_opt(IDENTITY_SECRET).await {
        Ok(secret) => secret,
        Err(error) => {
            warn!(%error, "cannot read the identity Secret");
            return Ok(());
        }
    };
    let Some(data) = secret.and_then(|secret| secret.data) else {
        return Ok(());
    };
    if !MIRRORED.iter().all(|name| data.contains_key(*name)) {
        return Ok(());
    }
    for name in MIRRORED {
        if let Some(bytes) = data.get(name) {
            write_private(&directory.join(name), &String::from_utf8_lossy(&bytes.0))?;
        }
    }
    info!("identity restored from the Secret {IDENTITY_SECRET}");
    Ok(())
}

/// Mirrors the state files in the identity Secret (best effort: the files
/// are the source of truth while the pod lives).
async fn keep_in_cluster(directory: &Path, secrets: &Api<Secret>) {
    let mut data = serde_json::Map::new();
    for name in MIRRORED {
        match read(&directory.join(name)) {
            Ok(Some(text)) => {
                data.insert(name.to_owned(), json!(text));
            }
            _ => return,
        }
    }
    let manifest = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": IDENTITY_SECRET,
                     "labels": {"app.kubernetes.io/managed-by": crate::apply::FIELD_MANAGER}},
        "type": "Opaque",
        "stringData": data,
    });
    let params = PatchParams::apply(crate::apply::FIELD_MANAGER).force();
    if let Err(error) = secrets
        .patch(IDENTITY_SECRET, &params, &Patch::Apply(&manifest))
        .await
    {
        warn!(%error, "cannot keep the identity in the Secret {IDENTITY_SECRET}");
    }
}

fn merge_endpoints(configured: &[String], announced: &[String]) -> Vec<String> {
    let mut endpoints = configured.to_vec();
    for endpoint in announced {
        if !endpoints.contains(endpoint) {
            endpoints.push(endpoint.clone());
        }
    }
    endpoints
}

async fn enroll(config: &Config) -> Result<Credentials> {
    let token = config
        .token
        .clone()
        .ok_or_else(|| EnrollError::NoToken(config.state_dir.clone()))?;
    let ca_pem = config.ca_pem.clone().ok_or(EnrollError::NoCa)?;
    let enrolled =
        request_certificate(&config.hub_endpoints, &ca_pem, &config.cluster, &token).await?;
    // The Secret is written by the caller once the identity is in use.
    keep(&config.state_dir, &enrolled, None).await?;
    info!(cluster = %config.cluster, identity = %enrolled.identity, "enrolled");
    Ok(enrolled.credentials)
}

/// What the hub answered to an enrollment.
#[derive(Debug, Clone)]
pub struct Enrolled {
    /// The new identity (key generated here, certificate signed by the hub).
    pub credentials: Credentials,
    /// The identity the certificate carries (`spiffe://fleet/cluster/NAME`).
    pub identity: String,
    /// The endpoints the hub announced.
    pub announced_endpoints: Vec<String>,
}

/// Enrolls `cluster` with a bootstrap token at the first of `endpoints` that
/// answers: generates the key, sends only the CSR, and returns the signed
/// identity without storing it anywhere (the caller decides where it lives).
pub async fn request_certificate(
    endpoints: &[String],
    ca_pem: &str,
    cluster: &str,
    token: &str,
) -> Result<Enrolled> {
    let (key, csr_pem) = key_and_request()?;
    let request = EnrollRequest {
        token: token.to_owned(),
        cluster: cluster.to_owned(),
        csr_pem,
    };
    let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca_pem));
    let response = first_answer(endpoints, &tls, "enroll", |mut client| {
        let request = request.clone();
        async move { client.enroll(request).await }
    })
    .await
    .map_err(|error| match error {
        HubCallError::Unreachable(last) => EnrollError::Hub(last),
        HubCallError::Refused { status, .. } => EnrollError::Refused(status.message().to_owned()),
    })?;
    Ok(enrolled_from(response, &key, endpoints, ca_pem))
}

/// A new key pair and a CSR for it (PEM). Only the CSR leaves the agent.
pub(crate) fn key_and_request() -> Result<(rcgen::KeyPair, String)> {
    let key = rcgen::KeyPair::generate().map_err(EnrollError::Key)?;
    let params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(EnrollError::Key)?;
    let csr_pem = params
        .serialize_request(&key)
        .and_then(|request| request.pem())
        .map_err(EnrollError::Key)?;
    Ok((key, csr_pem))
}

/// The identity made of the hub's answer and the key generated for it;
/// `endpoints` are the ones to dial first, `ca_pem` the CA trusted so far.
pub(crate) fn enrolled_from(
    response: EnrollResponse,
    key: &rcgen::KeyPair,
    endpoints: &[String],
    ca_pem: &str,
) -> Enrolled {
    let credentials = Credentials {
        certificate_pem: response.certificate_pem,
        key_pem: key.serialize_pem(),
        ca_pem: if response.ca_pem.is_empty() {
            ca_pem.to_owned()
        } else {
            response.ca_pem
        },
        hub_endpoints: merge_endpoints(endpoints, &response.hub_endpoints),
        expires_at_ms: response.expires_at_ms,
        issued_at_ms: response.issued_at_ms,
    };
    Enrolled {
        credentials,
        identity: response.identity,
        announced_endpoints: response.hub_endpoints,
    }
}

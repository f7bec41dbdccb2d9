//! Enrollment: the key pair is generated here, only a CSR leaves the cluster,
//! and the certificate the hub signs is kept next to the key in the state
//! directory (files readable by the agent's user only) and in the Secret
//! `fleet-agent-identity` in the agent's namespace — so a pod whose state
//! directory is an `emptyDir` gets its identity back after a restart, without
//! a new token. Later starts reuse it.
//!
//! **Renewal is not implemented.** The hub has no renewal call yet, and a
//! bootstrap token is single use, so an agent cannot re-enroll by itself.
//! The agent logs a warning from seven days before expiry; an operator
//! re-installs with a fresh token (`fleetctl agent install`). A `Renew` RPC
//! authenticated by the current certificate is the intended fix.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fleet_proto::EnrollRequest;
use fleet_proto::agent_service_client::AgentServiceClient;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};
use tracing::{info, warn};

use crate::config::Config;

/// File names in the state directory.
const CERTIFICATE_FILE: &str = "agent.crt";
const KEY_FILE: &str = "agent.key";
const CA_FILE: &str = "ca.crt";
const ENROLLMENT_FILE: &str = "enrollment.json";

/// The Secret that keeps the identity in the cluster.
pub const IDENTITY_SECRET: &str = "fleet-agent-identity";

/// Warn this long before the certificate expires.
const RENEWAL_WARNING: Duration = Duration::from_secs(7 * 24 * 3600);

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
}

/// What is kept besides the PEM files.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnrollmentRecord {
    identity: String,
    hub_endpoints: Vec<String>,
    expires_at_ms: u64,
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
    warn_if_expiring(&credentials);
    Ok(credentials)
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

fn read(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(EnrollError::File {
            path: path.to_owned(),
            source,
        }),
    }
}

fn load(directory: &Path, configured: &[String]) -> Result<Option<Credentials>> {
    let (Some(certificate_pem), Some(key_pem), Some(ca_pem)) = (
        read(&directory.join(CERTIFICATE_FILE))?,
        read(&directory.join(KEY_FILE))?,
        read(&directory.join(CA_FILE))?,
    ) else {
        return Ok(None);
    };
    let record_path = directory.join(ENROLLMENT_FILE);
    let record: EnrollmentRecord = match read(&record_path)? {
        Some(text) => serde_json::from_str(&text).map_err(|source| EnrollError::Record {
            path: record_path,
            source,
        })?,
        None => EnrollmentRecord::default(),
    };
    Ok(Some(Credentials {
        certificate_pem,
        key_pem,
        ca_pem,
        hub_endpoints: merge_endpoints(configured, &record.hub_endpoints),
        expires_at_ms: record.expires_at_ms,
    }))
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
    let key = rcgen::KeyPair::generate().map_err(EnrollError::Key)?;
    let params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(EnrollError::Key)?;
    let csr_pem = params
        .serialize_request(&key)
        .and_then(|request| request.pem())
        .map_err(EnrollError::Key)?;
    let request = EnrollRequest {
        token,
        cluster: config.cluster.clone(),
        csr_pem,
    };
    let mut last_error = String::from("no endpoint");
    for endpoint in &config.hub_endpoints {
        let channel = match Endpoint::from_shared(endpoint.clone())
            .and_then(|endpoint| {
                endpoint.tls_config(
                    ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&ca_pem)),
                )
            })
            .map(|endpoint| endpoint.connect_timeout(Duration::from_secs(10)))
        {
            Ok(endpoint) => match endpoint.connect().await {
                Ok(channel) => channel,
                Err(error) => {
                    last_error = format!("{}: {error}", endpoint.uri());
                    warn!(endpoint = %endpoint.uri(), %error, "cannot reach the hub to enroll");
                    continue;
                }
            },
            Err(error) => {
                last_error = format!("{endpoint}: {error}");
                continue;
            }
        };
        match AgentServiceClient::new(channel)
            .enroll(request.clone())
            .await
        {
            Ok(response) => {
                let response = response.into_inner();
                let credentials = Credentials {
                    certificate_pem: response.certificate_pem,
                    key_pem: key.serialize_pem(),
                    ca_pem: if response.ca_pem.is_empty() {
                        ca_pem.clone()
                    } else {
                        response.ca_pem
                    },
                    hub_endpoints: merge_endpoints(&config.hub_endpoints, &response.hub_endpoints),
                    expires_at_ms: response.expires_at_ms,
                };
                store(
                    &config.state_dir,
                    &credentials,
                    &EnrollmentRecord {
                        identity: response.identity.clone(),
                        hub_endpoints: response.hub_endpoints,
                        expires_at_ms: response.expires_at_ms,
                    },
                )?;
                info!(cluster = %config.cluster, identity = %response.identity, "enrolled");
                return Ok(credentials);
            }
            Err(status) if status.code() == tonic::Code::Unavailable => {
                last_error = format!("{endpoint}: {}", status.message());
            }
            Err(status) => return Err(EnrollError::Refused(status.message().to_owned())),
        }
    }
    Err(EnrollError::Hub(last_error))
}

/// Writes `text` to `path`, readable by the owner only.
fn write_private(path: &Path, text: &str) -> Result<()> {
    let error = |source| EnrollError::File {
        path: path.to_owned(),
        source,
    };
    let temporary = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temporary).map_err(error)?;
        file.write_all(text.as_bytes()).map_err(error)?;
        file.sync_all().map_err(error)?;
    }
    std::fs::rename(&temporary, path).map_err(error)
}

fn store(directory: &Path, credentials: &Credentials, record: &EnrollmentRecord) -> Result<()> {
    write_private(&directory.join(KEY_FILE), &credentials.key_pem)?;
    write_private(&directory.join(CA_FILE), &credentials.ca_pem)?;
    let record_path = directory.join(ENROLLMENT_FILE);
    let record_text =
        serde_json::to_string_pretty(record).map_err(|source| EnrollError::Record {
            path: record_path.clone(),
            source,
        })?;
    write_private(&record_path, &record_text)?;
    // The certificate last: its presence means "enrolled".
    write_private(
        &directory.join(CERTIFICATE_FILE),
        &credentials.certificate_pem,
    )
}

fn warn_if_expiring(credentials: &Credentials) {
    if credentials.expires_at_ms == 0 {
        return;
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let left_ms = credentials.expires_at_ms.saturating_sub(now_ms);
    if u128::from(left_ms) < RENEWAL_WARNING.as_millis() {
        warn!(
            hours_left = left_ms / 3_600_000,
            "the agent certificate expires soon and renewal is not implemented: reinstall the agent with a fresh token"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_files_are_private_and_load_back() {
        let directory = tempfile::tempdir().unwrap();
        let credentials = Credentials {
            certificate_pem: "CERT".into(),
            key_pem: "KEY".into(),
            ca_pem: "CA".into(),
            hub_endpoints: vec!["https://a:1".into()],
            expires_at_ms: 5,
        };
        let record = EnrollmentRecord {
            identity: "spiffe://fleet/cluster/x".into(),
            hub_endpoints: vec!["https://b:2".into()],
            expires_at_ms: 5,
        };
        store(directory.path(), &credentials, &record).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(directory.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let loaded = load(directory.path(), &["https://a:1".into()])
            .unwrap()
            .unwrap();
        assert_eq!(loaded.key_pem, "KEY");
        assert_eq!(loaded.hub_endpoints, ["https://a:1", "https://b:2"]);
    }
}

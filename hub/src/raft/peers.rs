//! Dialing other hub nodes: mTLS gRPC channels with this node's own
//! certificate as the client identity, and a server check that accepts only
//! hub identities (`spiffe://fleet/hub/<node>`) signed by the hub CA.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tonic::transport::{Channel, ClientTlsConfig, Endpoint, Identity};

use crate::pki::{Identity as FleetIdentity, PeerCertificate};

/// How long dialing a peer may take before it counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
/// HTTP/2 pings on idle peer connections, so a dead peer is noticed.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(1);
/// How long a ping may go unanswered.
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(2);

/// The PEM material a hub node dials its peers with.
#[derive(Clone, PartialEq, Eq)]
pub struct PeerTls {
    /// The hub CA certificate (the only trust anchor).
    pub ca_pem: String,
    /// This node's certificate (a hub identity; carries ClientAuth).
    pub certificate_pem: String,
    /// This node's key.
    pub key_pem: String,
}

impl std::fmt::Debug for PeerTls {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("PeerTls").finish_non_exhaustive()
    }
}

/// Why a peer could not be dialed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// This node has no TLS material for peers (a single-node hub in tests).
    #[error("hub-to-hub networking is not configured on this node (cannot reach {address})")]
    NotConfigured {
        /// The peer's address.
        address: String,
    },
    /// The hub CA certificate could not be read.
    #[error("the hub CA certificate is unusable for peer verification: {reason}")]
    TrustAnchor {
        /// What went wrong.
        reason: String,
    },
    /// The address or TLS settings were refused.
    #[error("cannot prepare a connection to hub node at {address}")]
    Endpoint {
        /// The peer's address.
        address: String,
        /// Why.
        #[source]
        source: tonic::transport::Error,
    },
    /// Connecting (TCP or TLS) failed or timed out.
    #[error("cannot connect to hub node at {address}")]
    Connect {
        /// The peer's address.
        address: String,
        /// Why.
        #[source]
        source: tonic::transport::Error,
    },
}

/// Dials peers and keeps one channel per address. Cloning is cheap.
#[derive(Clone)]
pub struct PeerConnector {
    tls: Option<PeerTls>,
    source_address: Option<std::net::IpAddr>,
    verifier: Option<Arc<HubServerVerifier>>,
    channels: Arc<Mutex<HashMap<String, Channel>>>,
}

impl std::fmt::Debug for PeerConnector {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PeerConnector")
            .field("configured", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl PeerConnector {
    /// A connector dialing with `tls` (`None`: every dial fails as not
    /// configured), from `source_address` if given.
    pub fn new(
        tls: Option<PeerTls>,
        source_address: Option<std::net::IpAddr>,
    ) -> Result<Self, PeerError> {
        let verifier = match &tls {
            Some(tls) => Some(Arc::new(HubServerVerifier::new(&tls.ca_pem)?)),
            None => None,
        };
        Ok(Self {
            tls,
            source_address,
            verifier,
            channels: Arc::default(),
        })
    }

    /// A connected channel to `address` (`host:port`), reusing an open one.
    pub async fn channel(&self, address: &str) -> Result<Channel, PeerError> {
        if let Some(channel) = self.lock().get(address) {
            return Ok(channel.clone());
        }
        let (Some(tls), Some(verifier)) = (&self.tls, &self.verifier) else {
            return Err(PeerError::NotConfigured {
                address: address.to_owned(),
            });
        };
        let endpoint_error = |source| PeerError::Endpoint {
            address: address.to_owned(),
            source,
        };
        let client_tls =
            ClientTlsConfig::new().identity(Identity::from_pem(&tls.certificate_pem, &tls.key_pem));
        let channel = Endpoint::from_shared(format!("https://{address}"))
            .map_err(endpoint_error)?
            .tls_config_with_verifier(client_tls, verifier.clone())
            .map_err(endpoint_error)?
            .connect_timeout(CONNECT_TIMEOUT)
            .local_address(self.source_address)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(KEEP_ALIVE_INTERVAL)
            .keep_alive_timeout(KEEP_ALIVE_TIMEOUT)
            .connect()
            .await
            .map_err(|source| PeerError::Connect {
                address: address.to_owned(),
                source,
            })?;
        self.lock().insert(address.to_owned(), channel.clone());
        Ok(channel)
    }

    /// Drops the channel to `address` (after a failed call), so the next
    /// call dials again and a failure to connect is told apart from a
    /// failure after sending.
    pub fn forget(&self, address: &str) {
        self.lock().remove(address);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Channel>> {
        self.channels.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Verifies a peer's server certificate against the hub CA (chain, validity,
/// host name, ServerAuth) and then requires a hub identity in its URI SAN:
/// an agent or admin certificate can never pass for a hub.
#[derive(Debug)]
pub struct HubServerVerifier {
    inner: Arc<WebPkiServerVerifier>,
}

impl HubServerVerifier {
    /// A verifier trusting only the CA in `ca_pem`.
    pub fn new(ca_pem: &str) -> Result<Self, PeerError> {
        let mut roots = RootCertStore::empty();
        let mut reader = std::io::BufReader::new(ca_pem.as_bytes());
        for certificate in rustls_pemfile::certs(&mut reader) {
            let certificate = certificate.map_err(|error| PeerError::TrustAnchor {
                reason: error.to_string(),
            })?;
            roots
                .add(certificate)
                .map_err(|error| PeerError::TrustAnchor {
                    reason: error.to_string(),
                })?;
        }
        let inner = WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .map_err(|error| PeerError::TrustAnchor {
            reason: error.to_string(),
        })?;
        Ok(Self { inner })
    }
}

impl ServerCertVerifier for HubServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        match PeerCertificate::from_der(end_entity.as_ref()).map(|peer| peer.identity) {
            Some(FleetIdentity::Hub(_)) => Ok(verified),
            Some(other) => Err(rustls::Error::General(format!(
                "the peer presents {other}, not a hub identity"
            ))),
            None => Err(rustls::Error::General(
                "the peer's certificate carries no fleet identity".to_owned(),
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner
            .verify_tls12_signature(message, certificate, signature)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner
            .verify_tls13_signature(message, certificate, signature)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The RPCs of `RaftService` (proto/fleet/v1/raft.proto).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaftRpc {
    /// Replicate log entries (and heartbeats).
    AppendEntries,
    /// Ask for a vote.
    Vote,
    /// One chunk of a snapshot.
    InstallSnapshot,
    /// A follower's write for the leader.
    ForwardWrite,
    /// Start an election now (leader transfer).
    TimeoutNow,
}

/// Why a call to a peer failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerCallError {
    /// The peer could not be reached: nothing was sent.
    #[error(transparent)]
    Unreachable(#[from] PeerError),
    /// The call was sent and failed; its outcome on the peer is unknown.
    #[error("{rpc:?} to hub node at {address} failed: {status}")]
    Failed {
        /// Which call.
        rpc: RaftRpc,
        /// The peer's address.
        address: String,
        /// What gRPC said.
        status: tonic::Status,
    },
    /// The call was sent and no answer came in time.
    #[error("{rpc:?} to hub node at {address} got no answer within {waited_ms} ms")]
    Timeout {
        /// Which call.
        rpc: RaftRpc,
        /// The peer's address.
        address: String,
        /// How long we waited.
        waited_ms: u64,
    },
}

impl PeerConnector {
    /// Sends one `RaftService` call with a JSON payload and returns the JSON
    /// answer, giving up after `within`.
    pub async fn call(
        &self,
        address: &str,
        rpc: RaftRpc,
        json: Vec<u8>,
        within: Duration,
    ) -> Result<Vec<u8>, PeerCallError> {
        use fleet_proto::RaftPayload;
        use fleet_proto::raft_service_client::RaftServiceClient;

        let channel =
            match tokio::time::timeout(within.max(CONNECT_TIMEOUT), self.channel(address)).await {
                Ok(channel) => channel?,
                Err(_) => {
                    return Err(PeerCallError::Timeout {
                        rpc,
                        address: address.to_owned(),
                        waited_ms: millis(within.max(CONNECT_TIMEOUT)),
                    });
                }
            };
        let mut client = RaftServiceClient::new(channel)
            .max_decoding_message_size(fleet_proto::MAX_MESSAGE_BYTES)
            .max_encoding_message_size(fleet_proto::MAX_MESSAGE_BYTES);
        let request = RaftPayload { json };
        let call = async {
            match rpc {
                RaftRpc::AppendEntries => client.append_entries(request).await,
                RaftRpc::Vote => client.vote(request).await,
                RaftRpc::InstallSnapshot => client.install_snapshot(request).await,
                RaftRpc::ForwardWrite => client.forward_write(request).await,
                RaftRpc::TimeoutNow => client.timeout_now(request).await,
            }
        };
        match tokio::time::timeout(within, call).await {
            Ok(Ok(response)) => Ok(response.into_inner().json),
            Ok(Err(status)) => {
                self.forget(address);
                Err(PeerCallError::Failed {
                    rpc,
                    address: address.to_owned(),
                    status,
                })
            }
            Err(_) => Err(PeerCallError::Timeout {
                rpc,
                address: address.to_owned(),
                waited_ms: millis(within),
            }),
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

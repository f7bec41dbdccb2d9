//! A test client that speaks the agent side of the protocol over real mTLS:
//! generate a key, enroll with a CSR, open a session. (It does not apply
//! anything: the real agent does that.)

use std::time::Duration;

use fleet_proto::agent_service_client::AgentServiceClient;
use fleet_proto::{
    AgentMessage, DesiredState, EnrollRequest, Hello, HubMessage, RenewRequest, StatusReport,
    agent_message, hub_message,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Status, Streaming};

/// A key pair and a CSR for it (the key stays here).
pub fn key_and_request() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    let request = params.serialize_request(&key).unwrap().pem().unwrap();
    (key.serialize_pem(), request)
}

/// An mTLS channel to `endpoint` trusting `ca_pem`, with an optional client identity.
pub async fn channel(
    endpoint: &str,
    ca_pem: &str,
    identity: Option<(&str, &str)>,
) -> Result<Channel, tonic::transport::Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca_pem));
    if let Some((certificate, key)) = identity {
        tls = tls.identity(Identity::from_pem(certificate, key));
    }
    Endpoint::from_shared(endpoint.to_owned())?
        .tls_config(tls)?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
}

/// An enrolled test agent.
#[derive(Clone)]
pub struct TestAgent {
    pub cluster: String,
    pub certificate_pem: String,
    pub key_pem: String,
    pub ca_pem: String,
    pub endpoint: String,
    pub hub_endpoints: Vec<String>,
}

/// Enrolls `cluster` with `token`.
pub async fn enroll(
    endpoint: &str,
    ca_pem: &str,
    cluster: &str,
    token: &str,
) -> Result<TestAgent, Status> {
    let (key_pem, csr_pem) = key_and_request();
    let channel = channel(endpoint, ca_pem, None)
        .await
        .map_err(|error| Status::unavailable(error.to_string()))?;
    let response = AgentServiceClient::new(channel)
        .enroll(EnrollRequest {
            token: token.to_owned(),
            cluster: cluster.to_owned(),
            csr_pem,
        })
        .await?
        .into_inner();
    Ok(TestAgent {
        cluster: cluster.to_owned(),
        certificate_pem: response.certificate_pem,
        key_pem,
        ca_pem: response.ca_pem,
        endpoint: endpoint.to_owned(),
        hub_endpoints: response.hub_endpoints,
    })
}

/// An open session.
pub struct Session {
    pub sender: mpsc::Sender<AgentMessage>,
    pub inbound: Streaming<HubMessage>,
}

impl TestAgent {
    /// An mTLS channel with this agent's certificate.
    pub async fn channel(&self) -> Channel {
        channel(
            &self.endpoint,
            &self.ca_pem,
            Some((&self.certificate_pem, &self.key_pem)),
        )
        .await
        .unwrap()
    }

    /// Renews this agent's certificate (a new key, authenticated by the
    /// current certificate); the renewed agent has the new key and certificate.
    pub async fn renew(&self) -> Result<TestAgent, Status> {
        let (key_pem, csr_pem) = key_and_request();
        let channel = channel(
            &self.endpoint,
            &self.ca_pem,
            Some((&self.certificate_pem, &self.key_pem)),
        )
        .await
        .map_err(|error| Status::unavailable(error.to_string()))?;
        let response = AgentServiceClient::new(channel)
            .renew(RenewRequest { csr_pem })
            .await?
            .into_inner();
        Ok(TestAgent {
            certificate_pem: response.certificate_pem,
            key_pem,
            ca_pem: response.ca_pem,
            hub_endpoints: response.hub_endpoints,
            ..self.clone()
        })
    }

    /// Opens a session whose hello claims `hello_cluster` and `applied_digest`.
    pub async fn session_as(
        &self,
        hello_cluster: &str,
        applied_digest: &str,
    ) -> Result<Session, Status> {
        let (sender, receiver) = mpsc::channel(16);
        sender
            .send(AgentMessage {
                kind: Some(agent_message::Kind::Hello(Hello {
                    cluster: hello_cluster.to_owned(),
                    applied_revision: String::new(),
                    applied_digest: applied_digest.to_owned(),
                    agent_version: "test".to_owned(),
                })),
            })
            .await
            .unwrap();
        let inbound = AgentServiceClient::new(self.channel().await)
            .session(ReceiverStream::new(receiver))
            .await?
            .into_inner();
        Ok(Session { sender, inbound })
    }

    /// Opens a session for its own cluster.
    pub async fn session(&self) -> Result<Session, Status> {
        self.session_as(&self.cluster, "").await
    }
}

impl Session {
    /// The next message from the hub: desired state, or an error.
    pub async fn next_desired(&mut self, within: Duration) -> Result<DesiredState, Status> {
        let message = tokio::time::timeout(within, self.inbound.message())
            .await
            .map_err(|_| Status::deadline_exceeded("no desired state in time"))??;
        match message.and_then(|message| message.kind) {
            Some(hub_message::Kind::Desired(desired)) => Ok(desired),
            Some(hub_message::Kind::Goodbye(reason)) => Err(Status::permission_denied(reason)),
            Some(hub_message::Kind::ReconnectElsewhere(reason)) => Err(Status::unavailable(reason)),
            None => Err(Status::cancelled("the hub closed the session")),
        }
    }

    /// Sends a status report.
    pub async fn report(&self, report: StatusReport) {
        self.sender
            .send(AgentMessage {
                kind: Some(agent_message::Kind::Status(report)),
            })
            .await
            .unwrap();
    }
}

/// Runs a protocol-level stand-in for an agent until the session ends: it
/// acknowledges every desired state by reporting its digest applied —
/// Degraded when an object's image tag contains `fail` (as fleet-sim's
/// controllers would make it), Healthy otherwise.
pub fn spawn_responder(agent: TestAgent) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Ok(mut session) = agent.session().await else {
            return;
        };
        while let Ok(desired) = session.next_desired(Duration::from_secs(3600)).await {
            let failing = desired
                .apps
                .iter()
                .flat_map(|app| &app.objects)
                .any(|object| {
                    object.json.contains("\"image\":")
                        && object.json.split("\"image\":\"").skip(1).any(|rest| {
                            rest.split('"').next().is_some_and(|image| {
                                image
                                    .rsplit(':')
                                    .next()
                                    .is_some_and(|tag| tag.contains("fail"))
                            })
                        })
                });
            session
                .report(StatusReport {
                    applied_revision: desired.revision.clone(),
                    applied_digest: desired.digest.clone(),
                    health: if failing {
                        fleet_proto::Health::Degraded
                    } else {
                        fleet_proto::Health::Healthy
                    } as i32,
                    apps: Vec::new(),
                    message: if failing {
                        "Deployment web/web: ProgressDeadlineExceeded".to_owned()
                    } else {
                        String::new()
                    },
                })
                .await;
        }
    })
}

/// Enrolls each of `clusters` at `hub` with a token its admin mints and
/// answers for each with [`spawn_responder`] (the responders run until the
/// test's runtime ends).
pub async fn enroll_responders(hub: &crate::hub_process::HubProcess, clusters: &[&str]) {
    for cluster in clusters {
        let token = hub
            .fleetctl(&["token", "create", "--cluster", cluster])
            .success()
            .stdout
            .trim()
            .to_owned();
        let agent = enroll(&hub.endpoint(), &hub.ca_pem(), cluster, &token)
            .await
            .unwrap_or_else(|error| panic!("enrolling {cluster}: {error}"));
        spawn_responder(agent);
    }
}

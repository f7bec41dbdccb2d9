//! `AgentService`: enrollment, certificate renewal (in [`super::renewal`])
//! and the agents' long-lived sessions.

use std::pin::Pin;
use std::time::Duration;

use fleet_proto::agent_service_server::AgentService;
use fleet_proto::{AgentMessage, EnrollRequest, EnrollResponse, HubMessage, RenewRequest};
use futures::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use tracing::{info, instrument};

use super::auth::require_cluster;
use super::context::ApiContext;
use super::renewal::{self, check_csr_size};
use super::session::run_session;
use crate::clock::now_ms;
use crate::pki::{Identity, hash_token};
use crate::state::{Command, CommandResult, FleetState, RevisionVerdict};

/// Messages buffered towards one agent before the session waits (backpressure).
const OUTBOUND_BUFFER: usize = 8;

/// The agent-facing gRPC service.
pub struct AgentApi {
    context: ApiContext,
}

impl AgentApi {
    /// The service over `context`.
    pub fn new(context: ApiContext) -> Self {
        Self { context }
    }
}

#[tonic::async_trait]
impl AgentService for AgentApi {
    #[instrument(skip_all, fields(cluster = %request.get_ref().cluster))]
    async fn enroll(
        &self,
        request: Request<EnrollRequest>,
    ) -> Result<Response<EnrollResponse>, Status> {
        let request = request.into_inner();
        let cluster = request.cluster.trim().to_owned();
        if cluster.is_empty()
            || request.token.trim().is_empty()
            || request.csr_pem.trim().is_empty()
        {
            return Err(Status::invalid_argument(
                "enroll needs a cluster, a bootstrap token and a CSR",
            ));
        }
        check_csr_size(&request.csr_pem)?;
        let store = &self.context.store;
        let token_hash = hash_token(&request.token);
        // The token is checked first and an undeclared cluster is answered
        // like a bad token, so that a caller without a token for a cluster
        // cannot learn whether that cluster exists.
        let now = now_ms();
        let refusal = store
            .read_caught_up(
                |state| enroll_refusal(state, &token_hash, &cluster, now),
                |refusal| {
                    matches!(
                        refusal,
                        Some(TokenRefusal::Unknown | TokenRefusal::Undeclared)
                    )
                },
            )
            .await;
        if let Some(reason) = refusal {
            info!(%reason, "refused an enrollment");
            return Err(Status::permission_denied(reason.answer()));
        }
        // Checked before the Raft write below consumes the token: a CSR the
        // CA cannot sign leaves the token usable.
        let public_key = self
            .context
            .authority
            .check_request(&request.csr_pem)
            .map_err(|error| Status::invalid_argument(error.to_string()))?;
        let validity = self.context.config.enrollment.certificate_validity.0;
        let identity = Identity::Cluster(cluster.clone());
        let issued = self
            .context
            .authority
            .sign_public_key(&public_key, &identity, validity)
            .map_err(|error| Status::internal(error.to_string()))?;
        let result = store
            .write(Command::Enroll {
                token_hash,
                cluster: cluster.clone(),
                serial: issued.serial.clone(),
                at_ms: now,
                expires_at_ms: issued.not_after_ms,
            })
            .await
            .map_err(|error| {
                Status::unavailable(format!("the hub could not record the enrollment: {error}"))
            })?;
        if let CommandResult::Rejected(reason) = result {
            return Err(Status::permission_denied(reason));
        }
        info!(serial = %issued.serial, "enrolled an agent");
        Ok(Response::new(EnrollResponse {
            certificate_pem: issued.certificate_pem,
            ca_pem: self.context.authority.certificate_pem().to_owned(),
            hub_endpoints: self.context.hub_endpoints(),
            identity: identity.uri(),
            expires_at_ms: issued.not_after_ms,
            issued_at_ms: now,
        }))
    }

    async fn renew(
        &self,
        request: Request<RenewRequest>,
    ) -> Result<Response<EnrollResponse>, Status> {
        renewal::renew(&self.context, request).await
    }

    type SessionStream = Pin<Box<dyn Stream<Item = Result<HubMessage, Status>> + Send + 'static>>;

    async fn session(
        &self,
        request: Request<Streaming<AgentMessage>>,
    ) -> Result<Response<Self::SessionStream>, Status> {
        let (cluster, serial) = require_cluster(&request, &self.context.store)?;
        let inbound = request.into_inner();
        let (sender, receiver) = mpsc::channel(OUTBOUND_BUFFER);
        let context = self.context.clone();
        tokio::spawn(run_session(
            context,
            cluster,
            serial,
            inbound,
            sender,
            Duration::from_secs(30),
        ));
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }
}

/// Why a bootstrap token cannot enroll `cluster`, as this node's state
/// knows it.
#[derive(Debug, PartialEq, Eq)]
enum TokenRefusal {
    Unknown,
    Used,
    Expired,
    OtherCluster {
        token_for: String,
        asked: String,
    },
    /// The token is for this cluster, but the latest valid revision does not
    /// declare it (it was removed after the token was created).
    Undeclared,
}

impl TokenRefusal {
    /// What the caller is told. An unknown token, a token for another
    /// cluster and an undeclared cluster get the same answer, so that the
    /// answer never says whether a cluster exists; a used or expired token
    /// says so (that only describes the token the caller already holds).
    fn answer(&self) -> String {
        match self {
            Self::Used | Self::Expired => self.to_string(),
            Self::Unknown | Self::OtherCluster { .. } | Self::Undeclared => {
                UNUSABLE_TOKEN.to_owned()
            }
        }
    }
}

/// The one answer for an unknown token, a token for another cluster and an
/// undeclared cluster. It names nothing the caller did not send.
const UNUSABLE_TOKEN: &str = "the bootstrap token is unknown or does not enroll this cluster";

impl std::fmt::Display for TokenRefusal {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unknown => write!(formatter, "unknown bootstrap token"),
            Self::Used => write!(formatter, "bootstrap token was already used"),
            Self::Expired => write!(formatter, "bootstrap token has expired"),
            Self::OtherCluster { token_for, asked } => write!(
                formatter,
                "bootstrap token is for cluster '{token_for}', not '{asked}'"
            ),
            Self::Undeclared => write!(
                formatter,
                "the cluster is not declared at the latest valid revision"
            ),
        }
    }
}

fn enroll_refusal(
    state: &FleetState,
    token_hash: &str,
    cluster: &str,
    now_ms: u64,
) -> Option<TokenRefusal> {
    if let Some(refusal) = token_refusal(state, token_hash, cluster, now_ms) {
        return Some(refusal);
    }
    let declared = state
        .latest_valid_revision()
        .is_some_and(|record| match &record.verdict {
            RevisionVerdict::Valid { digests } => digests.contains_key(cluster),
            RevisionVerdict::Invalid { .. } => false,
        });
    (!declared).then_some(TokenRefusal::Undeclared)
}

fn token_refusal(
    state: &FleetState,
    token_hash: &str,
    cluster: &str,
    now_ms: u64,
) -> Option<TokenRefusal> {
    match state.tokens.get(token_hash) {
        None => Some(TokenRefusal::Unknown),
        Some(token) if token.used_at_ms.is_some() => Some(TokenRefusal::Used),
        Some(token) if now_ms >= token.expires_at_ms => Some(TokenRefusal::Expired),
        Some(token) if token.cluster != cluster => Some(TokenRefusal::OtherCluster {
            token_for: token.cluster.clone(),
            asked: cluster.to_owned(),
        }),
        Some(_) => None,
    }
}

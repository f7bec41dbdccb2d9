//! `MembershipService`: joining new hub nodes (token-authenticated, no
//! client certificate yet), listing them (viewers and up) and, for admins,
//! join tokens, removing, re-adding nodes and handing leadership over (roles
//! checked in `authorization.rs`). Changes are records in the replicated
//! state; the leader's `MembershipReconciler` applies them to Raft.

use std::net::IpAddr;
use std::time::Duration;

use fleet_proto::membership_service_server::MembershipService;
use fleet_proto::{
    AddNodeRequest, AddNodeResponse, CreateJoinTokenRequest, CreateJoinTokenResponse, HubMember,
    JoinRequest, JoinResponse, MembersRequest, MembersResponse, RemoveNodeRequest,
    RemoveNodeResponse, StepDownRequest, StepDownResponse,
};
use tonic::{Request, Response, Status};
use tracing::info;

use super::authorization::{Action, require};
use super::context::ApiContext;
use super::token_lifetime::token_lifetime;
use crate::clock::now_ms;
use crate::pki::{Identity, SecretToken, hash_token};
use crate::state::{Command, CommandResult, FleetState};

/// Validity of a joining node's certificate (as `fleet-hub init` issues).
const NODE_CERTIFICATE_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);
/// The refusal of a join token this node does not know.
const UNKNOWN_JOIN_TOKEN: &str = "unknown join token";
/// Default lifetime of a join token.
const DEFAULT_JOIN_TOKEN_TTL: Duration = Duration::from_secs(3600);
/// Longest join token lifetime an operator may ask for.
const MAX_JOIN_TOKEN_TTL_SECONDS: u64 = 7 * 24 * 3600;

/// The hub-membership gRPC service.
pub struct MembershipApi {
    context: ApiContext,
}

impl MembershipApi {
    /// The service over `context`.
    pub fn new(context: ApiContext) -> Self {
        Self { context }
    }

    async fn set_removed(&self, actor: String, name: &str, removed: bool) -> Result<(), Status> {
        let result = self
            .context
            .store
            .write(Command::SetHubNodeRemoved {
                name: name.trim().to_owned(),
                removed,
                actor,
                at_ms: now_ms(),
            })
            .await
            .map_err(unavailable)?;
        match result {
            CommandResult::Rejected(reason) => Err(Status::failed_precondition(reason)),
            _ => Ok(()),
        }
    }
}

fn unavailable(error: impl std::fmt::Display) -> Status {
    Status::unavailable(format!("the hub could not record the change: {error}"))
}

fn read(path: &std::path::Path) -> Result<String, Status> {
    std::fs::read_to_string(path).map_err(|error| {
        Status::internal(format!(
            "this hub node cannot read {}: {error}",
            path.display()
        ))
    })
}

#[tonic::async_trait]
impl MembershipService for MembershipApi {
    async fn join(&self, request: Request<JoinRequest>) -> Result<Response<JoinResponse>, Status> {
        let request = request.into_inner();
        let name = request.name.trim().to_owned();
        let address = request.address.trim().to_owned();
        if name.is_empty()
            || name.contains('/')
            || address.is_empty()
            || request.node_id == 0
            || request.token.trim().is_empty()
        {
            return Err(Status::invalid_argument(
                "join needs a join token, a node name (no '/'), a node id above 0 and an address",
            ));
        }
        let token_hash = hash_token(&request.token);
        let now = now_ms();
        let store = &self.context.store;
        let refusal = |state: &FleetState| match state.join_tokens.get(&token_hash) {
            None => Some(UNKNOWN_JOIN_TOKEN.to_owned()),
            Some(token) if token.used_at_ms.is_some() => {
                Some("join token was already used".to_owned())
            }
            Some(token) if now >= token.expires_at_ms => Some("join token has expired".to_owned()),
            Some(_) => state.hub_node_conflict(request.node_id, &name),
        };
        let refused = store
            .read_caught_up(refusal, |refused| {
                refused.as_deref() == Some(UNKNOWN_JOIN_TOKEN)
            })
            .await;
        if let Some(reason) = refused {
            return Err(Status::permission_denied(reason));
        }
        let mut dns_names = vec!["localhost".to_owned()];
        let mut addresses: Vec<IpAddr> = Vec::new();
        let host = address
            .rsplit_once(':')
            .map_or(address.as_str(), |(host, _)| host)
            .trim_start_matches('[')
            .trim_end_matches(']');
        for name in
            std::iter::once(host).chain(request.subject_alt_names.iter().map(String::as_str))
        {
            match name.parse::<IpAddr>() {
                Ok(ip) if !addresses.contains(&ip) => addresses.push(ip),
                Ok(_) => {}
                Err(_) if !dns_names.iter().any(|known| known == name) => {
                    dns_names.push(name.to_owned());
                }
                Err(_) => {}
            }
        }
        let issued = self
            .context
            .authority
            .issue_with_key(
                &Identity::Hub(name.clone()),
                &dns_names,
                &addresses,
                NODE_CERTIFICATE_VALIDITY,
            )
            .map_err(|error| Status::internal(error.to_string()))?;
        let result = self
            .context
            .store
            .write(Command::JoinHub {
                token_hash,
                node_id: request.node_id,
                name: name.clone(),
                address: address.clone(),
                at_ms: now,
            })
            .await
            .map_err(unavailable)?;
        if let CommandResult::Rejected(reason) = result {
            return Err(Status::permission_denied(reason));
        }
        info!(node = %name, node_id = request.node_id, %address, "hub node joined");
        let config = &self.context.config;
        Ok(Response::new(JoinResponse {
            certificate_pem: issued.certificate_pem,
            key_pem: issued.key_pem.unwrap_or_default(),
            ca_pem: self.context.authority.certificate_pem().to_owned(),
            ca_key_pem: read(&config.tls.ca_key)?,
            git_url: config.git.url.clone(),
            git_branch: config.git.branch.clone(),
            poll_interval: config.git.poll_interval.to_string(),
            webhook_secret: read(&config.git.webhook_secret_file)?.trim().to_owned(),
            hub_endpoints: self.context.hub_endpoints(),
        }))
    }

    async fn create_join_token(
        &self,
        request: Request<CreateJoinTokenRequest>,
    ) -> Result<Response<CreateJoinTokenResponse>, Status> {
        let actor = require(&self.context, &request, Action::ManageMembership)
            .await?
            .actor;
        let ttl = token_lifetime(
            request.into_inner().ttl_seconds,
            DEFAULT_JOIN_TOKEN_TTL.as_secs(),
            MAX_JOIN_TOKEN_TTL_SECONDS,
            "a join token",
        )?;
        let token =
            SecretToken::join().map_err(|_| Status::internal("the system random source failed"))?;
        let now = now_ms();
        let expires_at_ms = now + ttl * 1000;
        let result = self
            .context
            .store
            .write(Command::CreateJoinToken {
                token_hash: token.hash,
                at_ms: now,
                expires_at_ms,
                actor,
            })
            .await
            .map_err(unavailable)?;
        if let CommandResult::Rejected(reason) = result {
            return Err(Status::aborted(reason));
        }
        Ok(Response::new(CreateJoinTokenResponse {
            token: token.secret,
            expires_at_ms,
        }))
    }

    async fn members(
        &self,
        request: Request<MembersRequest>,
    ) -> Result<Response<MembersResponse>, Status> {
        require(&self.context, &request, Action::Read).await?;
        let metrics = self.context.store.raft().raft().metrics().borrow().clone();
        let membership = metrics.membership_config.membership().clone();
        let matched = metrics.replication.clone().unwrap_or_default();
        let records = self.context.store.read(|state| state.hub_nodes.clone());
        let mut ids: Vec<u64> = membership.nodes().map(|(id, _)| *id).collect();
        ids.extend(records.keys().copied());
        ids.sort_unstable();
        ids.dedup();
        let voters: Vec<u64> = membership.voter_ids().collect();
        let members = ids
            .into_iter()
            .map(|id| {
                let record = records.get(&id);
                let role = if record.is_some_and(|record| record.removed) {
                    if membership.get_node(&id).is_some() {
                        "leaving"
                    } else {
                        "removed"
                    }
                } else if metrics.current_leader == Some(id) {
                    "leader"
                } else if voters.contains(&id) {
                    "voter"
                } else if membership.get_node(&id).is_some() {
                    "learner"
                } else {
                    "joining"
                };
                HubMember {
                    node_id: id,
                    name: record.map(|record| record.name.clone()).unwrap_or_default(),
                    address: membership
                        .get_node(&id)
                        .map(|node| node.addr.clone())
                        .or_else(|| record.map(|record| record.address.clone()))
                        .unwrap_or_default(),
                    role: role.to_owned(),
                    matched_index: matched
                        .get(&id)
                        .cloned()
                        .flatten()
                        .map_or(0, |log_id| log_id.index),
                }
            })
            .collect();
        Ok(Response::new(MembersResponse {
            members,
            leader_id: metrics.current_leader.unwrap_or(0),
            term: metrics.current_term,
            answered_by: self.context.config.node.name.clone(),
        }))
    }

    async fn add_node(
        &self,
        request: Request<AddNodeRequest>,
    ) -> Result<Response<AddNodeResponse>, Status> {
        let actor = require(&self.context, &request, Action::ManageMembership)
            .await?
            .actor;
        self.set_removed(actor, &request.into_inner().name, false)
            .await?;
        Ok(Response::new(AddNodeResponse {}))
    }

    async fn remove_node(
        &self,
        request: Request<RemoveNodeRequest>,
    ) -> Result<Response<RemoveNodeResponse>, Status> {
        let actor = require(&self.context, &request, Action::ManageMembership)
            .await?
            .actor;
        self.set_removed(actor, &request.into_inner().name, true)
            .await?;
        Ok(Response::new(RemoveNodeResponse {}))
    }

    async fn step_down(
        &self,
        request: Request<StepDownRequest>,
    ) -> Result<Response<StepDownResponse>, Status> {
        let actor = require(&self.context, &request, Action::ManageMembership)
            .await?
            .actor;
        let new_leader = self
            .context
            .store
            .raft()
            .step_down()
            .await
            .map_err(|error| Status::unavailable(error.to_string()))?;
        self.context
            .store
            .write(Command::Audit {
                actor,
                action: format!("asked the hub leader to step down; node {new_leader} leads now"),
                at_ms: now_ms(),
            })
            .await
            .map_err(unavailable)?;
        Ok(Response::new(StepDownResponse {
            new_leader_id: new_leader,
        }))
    }
}

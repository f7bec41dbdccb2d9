//! How a hub node reaches the other hub nodes for Raft: openraft's
//! [`RaftNetwork`] over the hub's own mTLS gRPC port
//! (`proto/fleet/v1/raft.proto`), payloads as openraft's types in JSON.
//!
//! Failures are told apart as openraft wants them: a peer that cannot be
//! dialed is [`Unreachable`] (openraft backs off before retrying), a call
//! that was sent and failed is a [`NetworkError`], and the peer's own Raft
//! refusing is a [`RemoteError`]. Snapshots go through openraft's chunked
//! `install_snapshot` (chunks of [`super::RaftSettings::snapshot_chunk_bytes`]).

use std::time::Duration;

use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{Backoff, RPCOption};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::{BasicNode, RaftNetwork, RaftNetworkFactory};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::peers::{PeerCallError, PeerConnector, RaftRpc};
use super::{NodeId, TypeConfig};

/// How long openraft waits before dialing an unreachable peer again.
const UNREACHABLE_BACKOFF: Duration = Duration::from_millis(200);

/// Creates a [`PeerClient`] for each other hub node openraft replicates to.
#[derive(Debug, Clone)]
pub struct PeerNetwork {
    connector: PeerConnector,
}

impl PeerNetwork {
    /// A network dialing peers through `connector`.
    pub fn new(connector: PeerConnector) -> Self {
        Self { connector }
    }
}

impl RaftNetworkFactory<TypeConfig> for PeerNetwork {
    type Network = PeerClient;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> Self::Network {
        PeerClient {
            target,
            node: node.clone(),
            connector: self.connector.clone(),
        }
    }
}

/// Sends Raft RPCs to one other hub node.
#[derive(Debug, Clone)]
pub struct PeerClient {
    target: NodeId,
    node: BasicNode,
    connector: PeerConnector,
}

/// A payload could not be encoded or an answer decoded.
#[derive(Debug, thiserror::Error)]
#[error("cannot {what} a {rpc:?} payload")]
pub struct PayloadError {
    /// "encode" or "decode".
    what: &'static str,
    /// Which call.
    rpc: RaftRpc,
    /// Why.
    #[source]
    source: serde_json::Error,
}

impl PeerClient {
    /// Sends `request` and decodes the peer's `Result<Response, E>`.
    async fn send<Request, Response, E>(
        &self,
        rpc: RaftRpc,
        request: &Request,
        option: &RPCOption,
    ) -> Result<Response, RPCError<NodeId, BasicNode, E>>
    where
        Request: Serialize,
        Response: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let json = serde_json::to_vec(request).map_err(|source| {
            RPCError::Network(NetworkError::new(&PayloadError {
                what: "encode",
                rpc,
                source,
            }))
        })?;
        let answer = self
            .connector
            .call(&self.node.addr, rpc, json, option.hard_ttl())
            .await
            .map_err(|error| {
                tracing::debug!(target_node = self.target, address = %self.node.addr, ?rpc, %error, "peer call failed");
                match error {
                    PeerCallError::Unreachable(_) => RPCError::Unreachable(Unreachable::new(&error)),
                    PeerCallError::Failed { .. } | PeerCallError::Timeout { .. } => {
                        RPCError::Network(NetworkError::new(&error))
                    }
                }
            })?;
        let decoded: Result<Response, E> = serde_json::from_slice(&answer).map_err(|source| {
            RPCError::Network(NetworkError::new(&PayloadError {
                what: "decode",
                rpc,
                source,
            }))
        })?;
        decoded.map_err(|remote| {
            RPCError::RemoteError(RemoteError::new_with_node(
                self.target,
                self.node.clone(),
                remote,
            ))
        })
    }
}

impl RaftNetwork<TypeConfig> for PeerClient {
    async fn append_entries(
        &mut self,
        request: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        self.send(RaftRpc::AppendEntries, &request, &option).await
    }

    async fn install_snapshot(
        &mut self,
        request: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, BasicNode, RaftError<NodeId, InstallSnapshotError>>,
    > {
        self.send(RaftRpc::InstallSnapshot, &request, &option).await
    }

    async fn vote(
        &mut self,
        request: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        self.send(RaftRpc::Vote, &request, &option).await
    }

    fn backoff(&self) -> Backoff {
        Backoff::new(std::iter::repeat(UNREACHABLE_BACKOFF))
    }
}

#[cfg(test)]
mod tests {
    use openraft::Vote;

    use super::*;

    #[tokio::test]
    async fn a_node_without_peer_tls_reports_peers_unreachable() {
        let connector = PeerConnector::new(None, None).unwrap();
        let mut client = PeerNetwork::new(connector)
            .new_client(2, &BasicNode::new("10.0.0.2:7400"))
            .await;
        let option = RPCOption::new(Duration::from_secs(1));
        let error = client
            .vote(VoteRequest::new(Vote::new(1, 1), None), option)
            .await
            .expect_err("no peer TLS");
        let RPCError::Unreachable(unreachable) = error else {
            panic!("expected Unreachable, got {error:?}");
        };
        let message = unreachable.to_string();
        assert!(message.contains("not configured"), "{message}");
        assert!(message.contains("10.0.0.2:7400"), "{message}");
    }
}

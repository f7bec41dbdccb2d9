//! How a hub node reaches the other hub nodes for Raft.
//!
//! Not implemented yet: replication between hub nodes goes over the hub's
//! gRPC port (`proto/fleet/v1/raft.proto`) in a later issue. Until then every
//! RPC fails as [`Unreachable`], which openraft retries with backoff and
//! never treats as fatal; a single-node hub sends none.

use openraft::error::{InstallSnapshotError, RPCError, RaftError, Unreachable};
use openraft::network::RPCOption;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::{BasicNode, RaftNetwork, RaftNetworkFactory};

use super::{NodeId, TypeConfig};

/// Creates a [`PeerClient`] for each other hub node openraft replicates to.
#[derive(Debug, Clone, Default)]
pub struct PeerNetwork;

impl RaftNetworkFactory<TypeConfig> for PeerNetwork {
    type Network = PeerClient;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> Self::Network {
        PeerClient {
            target,
            address: node.addr.clone(),
        }
    }
}

/// Sends Raft RPCs to one other hub node.
#[derive(Debug, Clone)]
pub struct PeerClient {
    target: NodeId,
    address: String,
}

/// Why a [`PeerClient`] cannot reach its node.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "hub-to-hub networking is not implemented yet: single-node hub (cannot reach hub node {target} at {address})"
)]
pub struct PeerNetworkUnavailable {
    /// The node's id.
    pub target: NodeId,
    /// The node's address.
    pub address: String,
}

impl PeerClient {
    fn unreachable<E: std::error::Error>(
        &self,
        rpc: &'static str,
    ) -> RPCError<NodeId, BasicNode, E> {
        let error = PeerNetworkUnavailable {
            target: self.target,
            address: self.address.clone(),
        };
        tracing::debug!(target_node = self.target, address = %self.address, rpc, "{error}");
        RPCError::Unreachable(Unreachable::new(&error))
    }
}

impl RaftNetwork<TypeConfig> for PeerClient {
    async fn append_entries(
        &mut self,
        _request: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        Err(self.unreachable("append_entries"))
    }

    async fn install_snapshot(
        &mut self,
        _request: InstallSnapshotRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, BasicNode, RaftError<NodeId, InstallSnapshotError>>,
    > {
        Err(self.unreachable("install_snapshot"))
    }

    async fn vote(
        &mut self,
        _request: VoteRequest<NodeId>,
        _option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        Err(self.unreachable("vote"))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use openraft::Vote;

    use super::*;

    #[tokio::test]
    async fn every_rpc_says_networking_is_not_there_yet() {
        let mut client = PeerNetwork
            .new_client(2, &BasicNode::new("10.0.0.2:7400"))
            .await;
        let option = RPCOption::new(Duration::from_secs(1));
        let error = client
            .vote(VoteRequest::new(Vote::new(1, 1), None), option)
            .await
            .expect_err("no networking yet");
        let RPCError::Unreachable(unreachable) = error else {
            panic!("expected Unreachable, got {error:?}");
        };
        let message = unreachable.to_string();
        assert!(
            message.contains("hub-to-hub networking is not implemented yet: single-node hub"),
            "{message}"
        );
        assert!(message.contains("10.0.0.2:7400"), "{message}");
    }
}

//! `RaftService`: what hub nodes ask of each other — openraft's append
//! entries, vote and snapshot chunks, writes forwarded to the leader, and
//! the messages of a leader transfer. Hub identities (`spiffe://fleet/hub/<node>`)
//! only, and not of a removed node (checked on every call); payloads are
//! JSON of openraft's own types.

use fleet_proto::RaftPayload;
use fleet_proto::raft_service_server::RaftService;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, VoteRequest,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tonic::{Request, Response, Status};

use super::auth::require_hub;
use crate::raft::{ForwardedRequest, Handover, NodeId, RaftHandle, TypeConfig};

/// The peer-facing gRPC service of one hub node.
pub struct RaftApi {
    handle: RaftHandle,
}

impl RaftApi {
    /// The service over this node's Raft.
    pub fn new(handle: RaftHandle) -> Self {
        Self { handle }
    }
}

fn decode<T: DeserializeOwned>(
    handle: &RaftHandle,
    request: Request<RaftPayload>,
    what: &str,
) -> Result<T, Status> {
    require_hub(&request, handle.state())?;
    serde_json::from_slice(&request.into_inner().json)
        .map_err(|error| Status::invalid_argument(format!("malformed {what} payload: {error}")))
}

fn encode<T: Serialize>(answer: &T) -> Result<Response<RaftPayload>, Status> {
    serde_json::to_vec(answer)
        .map(|json| Response::new(RaftPayload { json }))
        .map_err(|error| Status::internal(format!("cannot encode the answer: {error}")))
}

#[tonic::async_trait]
impl RaftService for RaftApi {
    async fn append_entries(
        &self,
        request: Request<RaftPayload>,
    ) -> Result<Response<RaftPayload>, Status> {
        let request: AppendEntriesRequest<TypeConfig> =
            decode(&self.handle, request, "append-entries")?;
        let answer = self.handle.raft().append_entries(request).await;
        // Any answer but "your vote is stale" means a current leader spoke.
        if answer
            .as_ref()
            .is_ok_and(|response| !matches!(response, AppendEntriesResponse::HigherVote(_)))
        {
            self.handle.heard_from_leader();
        }
        encode(&answer)
    }

    async fn vote(&self, request: Request<RaftPayload>) -> Result<Response<RaftPayload>, Status> {
        let request: VoteRequest<NodeId> = decode(&self.handle, request, "vote")?;
        let answer = self.handle.raft().vote(request.clone()).await;
        if let Ok(response) = &answer {
            self.handle.after_vote(&request, response);
        }
        encode(&answer)
    }

    async fn install_snapshot(
        &self,
        request: Request<RaftPayload>,
    ) -> Result<Response<RaftPayload>, Status> {
        let request: InstallSnapshotRequest<TypeConfig> =
            decode(&self.handle, request, "install-snapshot")?;
        let answer = self.handle.raft().install_snapshot(request).await;
        if answer.is_ok() {
            self.handle.heard_from_leader();
        }
        encode(&answer)
    }

    async fn forward_write(
        &self,
        request: Request<RaftPayload>,
    ) -> Result<Response<RaftPayload>, Status> {
        let request: ForwardedRequest = decode(&self.handle, request, "forwarded request")?;
        encode(&self.handle.serve_forwarded(request).await)
    }

    async fn timeout_now(
        &self,
        request: Request<RaftPayload>,
    ) -> Result<Response<RaftPayload>, Status> {
        let handover: Handover = decode(&self.handle, request, "handover")?;
        self.handle
            .take_handover(handover)
            .await
            .map_err(|error| Status::unavailable(error.to_string()))?;
        encode(&())
    }
}

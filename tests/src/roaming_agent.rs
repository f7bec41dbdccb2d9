//! A protocol-level agent stand-in that follows the hub's endpoints: it
//! holds a session on one node, acknowledges every desired state as applied
//! and Healthy, and when its node dies (or the session fails) moves to the
//! next endpoint of the list enrollment gave it — as the real agent does.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fleet_proto::agent_service_client::AgentServiceClient;
use fleet_proto::{AgentMessage, Hello, StatusReport, agent_message, hub_message};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::agent_client::{TestAgent, channel};

/// A running roaming agent.
#[derive(Clone)]
pub struct RoamingAgent {
    pub cluster: String,
    /// The endpoint it has a session with (None while reconnecting).
    pub connected_to: Arc<Mutex<Option<String>>>,
    /// Sessions opened so far.
    pub sessions: Arc<AtomicUsize>,
}

impl RoamingAgent {
    /// The endpoint of its current session.
    pub fn endpoint(&self) -> Option<String> {
        self.connected_to.lock().unwrap().clone()
    }
}

/// Starts `agent` on its enrollment endpoint; it roams over
/// `agent.hub_endpoints` when sessions end.
pub fn spawn_roaming_responder(agent: TestAgent) -> RoamingAgent {
    let roaming = RoamingAgent {
        cluster: agent.cluster.clone(),
        connected_to: Arc::default(),
        sessions: Arc::default(),
    };
    let state = roaming.clone();
    tokio::spawn(async move {
        let mut endpoints = agent.hub_endpoints.clone();
        if endpoints.is_empty() {
            endpoints.push(agent.endpoint.clone());
        }
        let mut index = endpoints
            .iter()
            .position(|endpoint| *endpoint == agent.endpoint)
            .unwrap_or(0);
        let mut applied = (String::new(), String::new());
        loop {
            let endpoint = endpoints[index % endpoints.len()].clone();
            index += 1;
            let _ = run_session(&agent, &endpoint, &state, &mut applied).await;
            *state.connected_to.lock().unwrap() = None;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    roaming
}

async fn run_session(
    agent: &TestAgent,
    endpoint: &str,
    state: &RoamingAgent,
    applied: &mut (String, String),
) -> Result<(), tonic::Status> {
    let unavailable =
        |error: tonic::transport::Error| tonic::Status::unavailable(error.to_string());
    let channel = tokio::time::timeout(
        Duration::from_secs(3),
        channel(
            endpoint,
            &agent.ca_pem,
            Some((&agent.certificate_pem, &agent.key_pem)),
        ),
    )
    .await
    .map_err(|_| tonic::Status::deadline_exceeded("connect"))?
    .map_err(unavailable)?;
    let (sender, receiver) = mpsc::channel(16);
    sender
        .send(AgentMessage {
            kind: Some(agent_message::Kind::Hello(Hello {
                cluster: agent.cluster.clone(),
                applied_revision: applied.0.clone(),
                applied_digest: applied.1.clone(),
                agent_version: "roaming-test".to_owned(),
            })),
        })
        .await
        .map_err(|_| tonic::Status::internal("send"))?;
    if !applied.1.is_empty() {
        // A report may have been lost with the old node: say it again.
        sender
            .send(AgentMessage {
                kind: Some(agent_message::Kind::Status(healthy(&applied.0, &applied.1))),
            })
            .await
            .map_err(|_| tonic::Status::internal("send"))?;
    }
    let mut inbound = AgentServiceClient::new(channel)
        .session(ReceiverStream::new(receiver))
        .await?
        .into_inner();
    *state.connected_to.lock().unwrap() = Some(endpoint.to_owned());
    state.sessions.fetch_add(1, Ordering::SeqCst);
    while let Some(message) = inbound.message().await? {
        let Some(hub_message::Kind::Desired(desired)) = message.kind else {
            return Ok(());
        };
        *applied = (desired.revision.clone(), desired.digest.clone());
        let report = healthy(&desired.revision, &desired.digest);
        if sender
            .send(AgentMessage {
                kind: Some(agent_message::Kind::Status(report)),
            })
            .await
            .is_err()
        {
            return Ok(());
        }
    }
    Ok(())
}

fn healthy(revision: &str, digest: &str) -> StatusReport {
    StatusReport {
        applied_revision: revision.to_owned(),
        applied_digest: digest.to_owned(),
        health: fleet_proto::Health::Healthy as i32,
        apps: Vec::new(),
        message: String::new(),
    }
}

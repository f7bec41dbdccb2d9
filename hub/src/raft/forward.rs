//! Writes from any node, and leader transfer.
//!
//! A follower forwards a write to the leader (`RaftService.ForwardWrite`)
//! and returns what the leader's state machine answered, so callers never
//! see who leads. Without a reachable leader (no quorum) a write waits at
//! most [`super::RaftSettings::write_timeout`] and then fails with a clear
//! error. A retry happens only when nothing was sent (the leader could not
//! be dialed, or answered "not the leader"), so no write is applied twice
//! through forwarding.
//!
//! A step-down asked of a follower is forwarded the same way (see
//! [`super::step_down`]).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::node::RaftHandle;
use super::peers::{PeerCallError, RaftRpc};
use super::{NodeId, RaftError};
use crate::state::{Command, CommandResult};

/// How often a waiting write looks for a leader again.
const RETRY_PAUSE: Duration = Duration::from_millis(50);
/// Extra time a forwarded call gets beyond the leader's own write timeout.
pub(super) const FORWARD_MARGIN: Duration = Duration::from_secs(1);

/// What a follower asks of the leader (`ForwardWrite` payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ForwardedRequest {
    /// Append a command and answer what applying it produced.
    Write(Command),
    /// Hand leadership to another voter.
    StepDown,
    /// Answer the index up to which the leader has applied the log.
    AppliedIndex,
}

/// The leader's answer to a [`ForwardedRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ForwardOutcome {
    /// The command was committed and applied at this log index.
    Written(CommandResult, u64),
    /// Leadership moved to this node.
    SteppedDown {
        /// The new leader.
        new_leader: NodeId,
    },
    /// The leader had applied the log up to this index.
    Applied(u64),
    /// The node asked is not (or no longer) the leader: nothing was done.
    NotLeader,
    /// The leader tried and failed.
    Failed(String),
}

impl RaftHandle {
    /// The leader as this node knows it: its id and address.
    pub fn leader(&self) -> Option<(NodeId, String)> {
        let metrics = self.raft.metrics().borrow().clone();
        let leader = metrics.current_leader?;
        let address = metrics
            .membership_config
            .membership()
            .get_node(&leader)
            .map(|node| node.addr.clone())?;
        Some((leader, address))
    }

    pub(super) fn leads(&self) -> bool {
        self.raft.metrics().borrow().current_leader == Some(self.node_id)
    }

    /// Appends `command` through the leader — this node or, forwarded, the
    /// one it knows — and waits until it is committed; returns what applying
    /// it produced. Fails after the write timeout when there is no quorum.
    #[tracing::instrument(level = "debug", skip_all, fields(node_id = self.node_id))]
    pub async fn write(&self, command: Command) -> Result<CommandResult, RaftError> {
        let started = Instant::now();
        let deadline = started + self.write_timeout;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(RaftError::NoLeader {
                    waited_ms: millis(started.elapsed()),
                });
            }
            if self.stepping_down.load(Ordering::SeqCst) {
                tokio::time::sleep(RETRY_PAUSE).await;
                continue;
            }
            if self.leads() {
                match self.write_here(command.clone(), remaining).await {
                    Err(RaftError::Write { source }) if source.forward_to_leader().is_some() => {
                        tokio::time::sleep(RETRY_PAUSE).await;
                    }
                    other => return other.map(|(result, _)| result),
                }
                continue;
            }
            let Some((leader, address)) = self.leader() else {
                tokio::time::sleep(RETRY_PAUSE).await;
                continue;
            };
            let request = ForwardedRequest::Write(command.clone());
            match self
                .forward(leader, &address, &request, remaining + FORWARD_MARGIN)
                .await?
            {
                Some(ForwardOutcome::Written(result, index)) => {
                    // Read your writes: callers read this node's state next.
                    self.await_applied(index, deadline).await;
                    return Ok(result);
                }
                Some(ForwardOutcome::Failed(message)) => {
                    return Err(RaftError::Leader { leader, message });
                }
                Some(
                    ForwardOutcome::NotLeader
                    | ForwardOutcome::SteppedDown { .. }
                    | ForwardOutcome::Applied(_),
                )
                | None => {
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
            }
        }
    }

    /// Waits until this node has applied everything the leader had applied
    /// when asked, so a read here sees every write acknowledged before the
    /// call (a follower may lag the leader by a heartbeat). On the leader,
    /// or when no leader answers within the write timeout, returns at once
    /// or with the error.
    pub async fn catch_up_with_leader(&self) -> Result<(), RaftError> {
        let started = Instant::now();
        let deadline = started + self.write_timeout;
        loop {
            if self.leads() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(RaftError::NoLeader {
                    waited_ms: millis(started.elapsed()),
                });
            }
            let Some((leader, address)) = self.leader() else {
                tokio::time::sleep(RETRY_PAUSE).await;
                continue;
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            match self
                .forward(leader, &address, &ForwardedRequest::AppliedIndex, remaining)
                .await?
            {
                Some(ForwardOutcome::Applied(index)) => {
                    self.await_applied(index, deadline).await;
                    return Ok(());
                }
                _ => tokio::time::sleep(RETRY_PAUSE).await,
            }
        }
    }

    fn applied_index(&self) -> u64 {
        self.raft
            .metrics()
            .borrow()
            .last_applied
            .map_or(0, |log_id| log_id.index)
    }

    /// Waits (until `deadline` at most) for this node to apply the log up
    /// to `index`.
    async fn await_applied(&self, index: u64, deadline: Instant) {
        let mut applied = self.state().subscribe();
        let reached = async {
            while *applied.borrow_and_update() < index {
                if applied.changed().await.is_err() {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout_at(deadline.into(), reached).await;
    }

    /// Appends `command` on this node, which must lead; never forwards.
    /// Returns what applying it produced and its log index.
    pub async fn write_here(
        &self,
        command: Command,
        within: Duration,
    ) -> Result<(CommandResult, u64), RaftError> {
        match tokio::time::timeout(within, self.raft.client_write(command)).await {
            Ok(Ok(response)) => Ok((response.data, response.log_id.index)),
            Ok(Err(source)) => Err(RaftError::Write {
                source: Box::new(source),
            }),
            Err(_) => Err(RaftError::NotCommitted {
                waited_ms: millis(within),
            }),
        }
    }

    /// Sends `request` to the leader. `Ok(None)`: the leader could not be
    /// dialed (nothing was sent; try again).
    pub(super) async fn forward(
        &self,
        leader: NodeId,
        address: &str,
        request: &ForwardedRequest,
        within: Duration,
    ) -> Result<Option<ForwardOutcome>, RaftError> {
        let json = serde_json::to_vec(request).map_err(|error| RaftError::Leader {
            leader,
            message: format!("cannot encode the forwarded request: {error}"),
        })?;
        match self
            .connector
            .call(address, RaftRpc::ForwardWrite, json, within)
            .await
        {
            Ok(answer) => {
                serde_json::from_slice(&answer)
                    .map(Some)
                    .map_err(|error| RaftError::Leader {
                        leader,
                        message: format!("cannot decode its answer: {error}"),
                    })
            }
            Err(PeerCallError::Unreachable(error)) => {
                tracing::debug!(leader, %address, %error, "leader unreachable; waiting for another");
                Ok(None)
            }
            Err(source) => Err(RaftError::Forward {
                leader,
                source: Box::new(source),
            }),
        }
    }

    /// Serves a request another node forwarded (`ForwardWrite`): done here
    /// if this node leads, else [`ForwardOutcome::NotLeader`].
    pub async fn serve_forwarded(&self, request: ForwardedRequest) -> ForwardOutcome {
        if !self.leads() || self.stepping_down.load(Ordering::SeqCst) {
            return ForwardOutcome::NotLeader;
        }
        match request {
            ForwardedRequest::Write(command) => {
                match self.write_here(command, self.write_timeout).await {
                    Ok((result, index)) => ForwardOutcome::Written(result, index),
                    Err(RaftError::Write { source }) if source.forward_to_leader().is_some() => {
                        ForwardOutcome::NotLeader
                    }
                    Err(error) => ForwardOutcome::Failed(error_chain(&error)),
                }
            }
            ForwardedRequest::AppliedIndex => ForwardOutcome::Applied(self.applied_index()),
            ForwardedRequest::StepDown => match self.step_down_here().await {
                Ok(new_leader) => ForwardOutcome::SteppedDown { new_leader },
                Err(error) => ForwardOutcome::Failed(error_chain(&error)),
            },
        }
    }
}

/// An error and its causes on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

pub(super) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

//! Leader transfer for maintenance (`fleetctl hub step-down`).
//!
//! openraft 0.9 has no `transfer_leader`, so stepping down is built from
//! what it has. The leader picks the most up-to-date other voter as the
//! target and then:
//!
//! 1. tells every other voter to hold its elections ([`Handover::Hold`]):
//!    they still grant votes, but their own timers do not make them stand
//!    until a new leader is known (or the hold runs out);
//! 2. pauses writes and heartbeats for one leader lease, so the voters'
//!    leases lapse and they will grant the target's vote;
//! 3. tells the target to stand at once ([`Handover::Stand`]) and waits
//!    until it leads.
//!
//! Without step 1 a follower whose timer fires during the pause races the
//! target: openraft does not protect a vote granted to a candidate that has
//! not yet won, so the follower could take leadership right after the
//! target won it, and the step-down would name a leader that had already
//! lost. Both messages travel as `RaftService.TimeoutNow`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::forward::{FORWARD_MARGIN, ForwardOutcome, ForwardedRequest, millis};
use super::node::RaftHandle;
use super::peers::RaftRpc;
use super::{NodeId, RaftError};

/// How long a step-down waits for the target to take over.
const TAKEOVER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long each handover message may take.
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the leader lets the leases lapse beyond the longest one.
const LEASE_MARGIN: Duration = Duration::from_millis(200);

/// What a leader stepping down tells another voter (`TimeoutNow` payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Handover {
    /// You take over: stand for election now.
    Stand,
    /// Another voter takes over from `from`: do not stand by your own timer
    /// until a leader other than `from` is known, for `ms` at most.
    Hold {
        /// The leader stepping down.
        from: NodeId,
        /// The longest the hold lasts.
        ms: u64,
    },
}

/// Whether this node's own election timer is held, and which hold is the
/// latest (an older hold running out must not lift a newer one).
#[derive(Debug, Default)]
pub struct ElectionHold {
    held: AtomicBool,
    generation: AtomicU64,
}

impl ElectionHold {
    /// Whether elections are held now.
    pub fn is_held(&self) -> bool {
        self.held.load(Ordering::SeqCst)
    }
}

impl RaftHandle {
    /// Hands leadership to the most up-to-date other voter; returns the new
    /// leader. Asked of a follower, it asks the leader.
    pub async fn step_down(&self) -> Result<NodeId, RaftError> {
        if self.leads() {
            return self.step_down_here().await;
        }
        let Some((leader, address)) = self.leader() else {
            return Err(RaftError::NoLeader { waited_ms: 0 });
        };
        let within = self.election_timeout_max
            + LEASE_MARGIN
            + MESSAGE_TIMEOUT * 2
            + TAKEOVER_TIMEOUT
            + FORWARD_MARGIN;
        match self
            .forward(leader, &address, &ForwardedRequest::StepDown, within)
            .await?
        {
            Some(ForwardOutcome::SteppedDown { new_leader }) => Ok(new_leader),
            Some(ForwardOutcome::Failed(message)) => Err(RaftError::Leader { leader, message }),
            Some(_) | None => Err(RaftError::StepDown {
                reason: format!("the leader (node {leader}) did not answer; try again"),
            }),
        }
    }

    /// Hands leadership away if this node leads (a node that stops); returns
    /// the new leader, or `None` when this node did not lead.
    pub async fn step_down_if_leader(&self) -> Result<Option<NodeId>, RaftError> {
        if !self.leads() {
            return Ok(None);
        }
        self.step_down_here().await.map(Some)
    }

    /// Steps down on this node, which leads.
    pub(super) async fn step_down_here(&self) -> Result<NodeId, RaftError> {
        let metrics = self.raft.metrics().borrow().clone();
        let membership = metrics.membership_config.membership().clone();
        let matched = metrics.replication.clone().unwrap_or_default();
        let voter_address = |voter: NodeId| {
            membership
                .get_node(&voter)
                .map(|node| (voter, node.addr.clone()))
        };
        let others: Vec<NodeId> = membership
            .voter_ids()
            .filter(|voter| *voter != self.node_id)
            .collect();
        let Some((target, address)) = others
            .iter()
            .copied()
            .max_by_key(|voter| matched.get(voter).cloned().flatten())
            .and_then(voter_address)
        else {
            return Err(RaftError::StepDown {
                reason: "there is no other voter to take over".to_owned(),
            });
        };
        let bystanders: Vec<(NodeId, String)> = others
            .into_iter()
            .filter(|voter| *voter != target)
            .filter_map(voter_address)
            .collect();
        if self.stepping_down.swap(true, Ordering::SeqCst) {
            return Err(RaftError::StepDown {
                reason: "a step-down is already under way".to_owned(),
            });
        }
        let outcome = self.hand_over(target, &address, &bystanders).await;
        self.raft.runtime_config().heartbeat(true);
        self.stepping_down.store(false, Ordering::SeqCst);
        outcome
    }

    async fn hand_over(
        &self,
        target: NodeId,
        address: &str,
        bystanders: &[(NodeId, String)],
    ) -> Result<NodeId, RaftError> {
        let pause = self.election_timeout_max + LEASE_MARGIN;
        let hold = Handover::Hold {
            from: self.node_id,
            ms: millis(pause + MESSAGE_TIMEOUT + TAKEOVER_TIMEOUT),
        };
        let holds = bystanders.iter().map(|(voter, address)| async move {
            if let Err(error) = self.send_handover(address, hold).await {
                // An unreachable voter cannot win an election either.
                tracing::warn!(voter, %error, "could not ask a voter to hold its elections");
            }
        });
        futures::future::join_all(holds).await;
        tracing::info!(target_node = target, %address, "stepping down: pausing heartbeats for one leader lease");
        self.raft.runtime_config().heartbeat(false);
        // Let the voters' leader lease lapse, so they grant the vote.
        tokio::time::sleep(pause).await;
        self.send_handover(address, Handover::Stand)
            .await
            .map_err(|error| RaftError::StepDown {
                reason: format!("node {target} could not be told to take over: {error}"),
            })?;
        let mut metrics = self.raft.metrics();
        let waited = tokio::time::timeout(TAKEOVER_TIMEOUT, async {
            loop {
                let leader = metrics.borrow().current_leader;
                if let Some(leader) = leader
                    && leader != self.node_id
                {
                    return Some(leader);
                }
                if metrics.changed().await.is_err() {
                    return None;
                }
            }
        })
        .await;
        match waited {
            Ok(Some(leader)) => {
                tracing::info!(new_leader = leader, "stepped down");
                Ok(leader)
            }
            _ => Err(RaftError::StepDown {
                reason: format!(
                    "no other node took over within {} ms; this node still leads",
                    millis(TAKEOVER_TIMEOUT)
                ),
            }),
        }
    }

    async fn send_handover(&self, address: &str, handover: Handover) -> Result<(), String> {
        let json = serde_json::to_vec(&handover).map_err(|error| error.to_string())?;
        self.connector
            .call(address, RaftRpc::TimeoutNow, json, MESSAGE_TIMEOUT)
            .await
            .map(drop)
            .map_err(|error| error.to_string())
    }

    /// Does what a leader stepping down asked of this node (`TimeoutNow`).
    pub async fn take_handover(&self, handover: Handover) -> Result<(), RaftError> {
        match handover {
            Handover::Stand => {
                tracing::info!("asked to take over leadership: starting an election");
                self.election_hold.held.store(false, Ordering::SeqCst);
                self.raft.runtime_config().elect(true);
                self.raft
                    .trigger()
                    .elect()
                    .await
                    .map_err(|error| RaftError::StepDown {
                        reason: format!("Raft stopped: {error}"),
                    })
            }
            Handover::Hold { from, ms } => {
                tracing::info!(
                    from,
                    ms,
                    "another voter takes over from the leader: holding elections"
                );
                self.hold_elections(from, Duration::from_millis(ms));
                Ok(())
            }
        }
    }

    /// Keeps this node's timer from starting elections until a leader other
    /// than `from` is known, for `longest` at most.
    fn hold_elections(&self, from: NodeId, longest: Duration) {
        let hold = self.election_hold.clone();
        let generation = hold.generation.fetch_add(1, Ordering::SeqCst) + 1;
        hold.held.store(true, Ordering::SeqCst);
        self.raft.runtime_config().elect(false);
        let mut metrics = self.raft.metrics();
        let raft = self.raft.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(longest, async {
                loop {
                    {
                        let now = metrics.borrow_and_update();
                        if now.vote.is_committed()
                            && now.current_leader.is_some_and(|leader| leader != from)
                        {
                            return;
                        }
                    }
                    if metrics.changed().await.is_err() {
                        return;
                    }
                }
            })
            .await;
            if hold.generation.load(Ordering::SeqCst) == generation {
                hold.held.store(false, Ordering::SeqCst);
                raft.runtime_config().elect(true);
                tracing::info!("elections no longer held");
            }
        });
    }
}

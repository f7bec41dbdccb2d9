//! A node's sessions written to the log in batches, with its heartbeat.
//!
//! Sessions hand their opening and closing here without waiting; one task
//! writes whatever queued while the previous write was in flight as one
//! [`Command::RecordPresence`] ("group commit", like the status batcher), so
//! 10,000 agents connecting at once cost a few entries. With nothing queued
//! it still writes every `presence.nodeHeartbeat`: that is the node's
//! heartbeat. A failed write (no leader yet) keeps its changes for the next
//! one, a heartbeat later, up to [`MAX_KEPT`]; beyond that the oldest are
//! dropped with a warning (the next open of those clusters corrects the
//! record). The queue is drained meanwhile, so a session never waits for a
//! leader to record its opening.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::warn;

use crate::clock::now_ms;
use crate::state::{Command, SessionChange};
use crate::store::FleetStore;

/// Changes waiting for the writer, across all sessions of a node.
const QUEUE: usize = 4096;
/// Most changes in one Raft entry (each is well under 200 bytes encoded).
const MAX_BATCH: usize = 1024;
/// Most changes kept across failed writes.
const MAX_KEPT: usize = 100_000;

/// The sessions' handle on the presence writer. Cheap to clone.
#[derive(Clone)]
pub struct PresenceRecorder {
    queue: mpsc::Sender<SessionChange>,
    next_session: Arc<AtomicU64>,
}

impl PresenceRecorder {
    /// The recorder of node `node` and its writer task, for the caller to
    /// spawn and supervise. The incarnation is the time of this call.
    pub fn new(
        store: FleetStore,
        node: u64,
        heartbeat: Duration,
    ) -> (Self, impl std::future::Future<Output = ()> + Send) {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let writer = Writer {
            store,
            node,
            incarnation: now_ms(),
            heartbeat,
        };
        (
            Self {
                queue,
                next_session: Arc::new(AtomicU64::new(1)),
            },
            writer.run(receiver),
        )
    }

    /// Records a session of `cluster` opening; returns its number, for
    /// [`Self::closed`].
    pub async fn opened(&self, cluster: &str) -> u64 {
        let session = self.next_session.fetch_add(1, Ordering::Relaxed);
        self.send(cluster, session, true).await;
        session
    }

    /// Records session `session` of `cluster` closing.
    pub async fn closed(&self, cluster: &str, session: u64) {
        self.send(cluster, session, false).await;
    }

    async fn send(&self, cluster: &str, session: u64, open: bool) {
        let change = SessionChange {
            cluster: cluster.to_owned(),
            session,
            open,
            at_ms: now_ms(),
        };
        // Only fails once the writer has ended (the node is stopping).
        let _ = self.queue.send(change).await;
    }
}

struct Writer {
    store: FleetStore,
    node: u64,
    incarnation: u64,
    heartbeat: Duration,
}

impl Writer {
    async fn run(self, mut receiver: mpsc::Receiver<SessionChange>) {
        let mut pending: VecDeque<SessionChange> = VecDeque::new();
        let mut received = Vec::with_capacity(MAX_BATCH);
        loop {
            // Write now (heartbeat due, or changes waiting); then keep
            // taking changes until the next heartbeat — or, after a
            // successful write, until the first change arrives. The queue
            // is always drained, so sessions never wait long to record.
            let written = self.write(&mut pending).await;
            let next_heartbeat = tokio::time::Instant::now() + self.heartbeat;
            loop {
                tokio::select! {
                    count = receiver.recv_many(&mut received, MAX_BATCH) => {
                        if count == 0 {
                            // Every recorder is gone: the node is stopping.
                            self.write(&mut pending).await;
                            return;
                        }
                        pending.extend(received.drain(..));
                        self.drop_oldest_past_limit(&mut pending);
                        if written {
                            break;
                        }
                    }
                    () = tokio::time::sleep_until(next_heartbeat) => break,
                }
            }
        }
    }

    fn drop_oldest_past_limit(&self, pending: &mut VecDeque<SessionChange>) {
        while pending.len() > MAX_KEPT {
            if let Some(dropped) = pending.pop_front() {
                warn!(cluster = %dropped.cluster, "presence: a session change was dropped (the log was unreachable too long)");
            }
        }
    }

    /// Writes the pending changes (at least one heartbeat entry); on
    /// failure they stay pending. Whether everything was written.
    async fn write(&self, pending: &mut VecDeque<SessionChange>) -> bool {
        loop {
            let take = pending.len().min(MAX_BATCH);
            let changes: Vec<SessionChange> = pending.iter().take(take).cloned().collect();
            let command = Command::RecordPresence {
                node: self.node,
                incarnation: self.incarnation,
                changes,
                at_ms: now_ms(),
            };
            if let Err(error) = self.store.write(command).await {
                warn!(%error, pending = pending.len(), "presence: sessions and heartbeat could not be written");
                return false;
            }
            pending.drain(..take);
            if pending.is_empty() {
                return true;
            }
        }
    }
}

//! Agent status reports written to Raft in batches ("group commit").
//!
//! Every session hands its changed status here and waits for the write. One
//! task writes whatever has queued up while the previous write was in flight
//! as a single `ReportStatuses` entry, so 10,000 agents turning Healthy
//! within a second cost a few dozen Raft entries rather than 10,000 — with
//! no timer adding latency when the hub is quiet. The queue is bounded:
//! when Raft falls behind, sessions wait (backpressure) instead of the
//! queue growing without limit. A batch is split so that no entry's
//! encoding exceeds [`MAX_ENTRY_BYTES`] (each status is already capped by
//! [`super::status::cluster_status`]), since an oversized AppendEntries
//! would stall replication and force elections.
//!
//! Drift events take the same path: a session hands a report's events (names
//! only, capped) here, and they join the next entry; applying it appends
//! them to the cluster's history and trims it to the `dashboard.driftHistory`
//! this node carries in the entry.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot};
use tracing::warn;

use super::report_limits::MAX_ENTRY_BYTES;
use crate::clock::now_ms;
use crate::state::{ClusterStatus, Command, DriftRecord, DriftUpdate, StatusUpdate};
use crate::store::FleetStore;

/// Reports waiting for a write, across all sessions of a node.
const QUEUE: usize = 4096;
/// Most reports in one Raft entry.
const MAX_BATCH: usize = 1024;

struct Pending {
    cluster: String,
    report: Report,
    written: oneshot::Sender<Result<(), String>>,
}

/// What a session hands over: a changed status, or drift events.
enum Report {
    Status(ClusterStatus),
    Drift(Vec<DriftRecord>),
}

/// One part of an entry, measured for the size split.
#[derive(serde::Serialize)]
enum Part {
    Status(StatusUpdate),
    Drift(DriftUpdate),
}

/// What waits in the queue: a report, or a flush that resolves once every
/// report queued before it has been written (or has failed).
enum Queued {
    Report(Pending),
    Flush(oneshot::Sender<()>),
}

/// The sessions' handle on the batch writer. Cheap to clone.
#[derive(Clone)]
pub struct StatusBatcher {
    queue: mpsc::Sender<Queued>,
}

impl StatusBatcher {
    /// The batcher and its writer task, for the caller to spawn (and
    /// supervise: the batcher is dead once the writer ends). Entries keep
    /// `drift_kept` drift events per cluster.
    pub fn new(
        store: FleetStore,
        drift_kept: u32,
    ) -> (Self, impl std::future::Future<Output = ()> + Send) {
        let (queue, receiver) = mpsc::channel(QUEUE);
        (Self { queue }, write_batches(store, receiver, drift_kept))
    }

    /// Records `cluster`'s new status; resolves once it is committed, with
    /// the reason when the hub could not write it.
    pub async fn submit(&self, cluster: &str, status: ClusterStatus) -> Result<(), String> {
        self.queue_report(cluster, Report::Status(status)).await
    }

    /// Adds drift events to `cluster`'s history; resolves once committed.
    pub async fn submit_drift(
        &self,
        cluster: &str,
        events: Vec<DriftRecord>,
    ) -> Result<(), String> {
        if events.is_empty() {
            return Ok(());
        }
        self.queue_report(cluster, Report::Drift(events)).await
    }

    async fn queue_report(&self, cluster: &str, report: Report) -> Result<(), String> {
        let (written, outcome) = oneshot::channel();
        self.queue
            .send(Queued::Report(Pending {
                cluster: cluster.to_owned(),
                report,
                written,
            }))
            .await
            .map_err(|_| "the hub is shutting down".to_owned())?;
        outcome
            .await
            .map_err(|_| "the hub is shutting down".to_owned())?
    }
}

impl StatusBatcher {
    /// Resolves once every report submitted before this call is written (or
    /// failed): the last step before a stopping node hands over.
    pub async fn flush(&self) {
        let (flushed, done) = oneshot::channel();
        if self.queue.send(Queued::Flush(flushed)).await.is_ok() {
            let _ = done.await;
        }
    }
}

async fn write_batches(store: FleetStore, mut receiver: mpsc::Receiver<Queued>, drift_kept: u32) {
    let mut queued = Vec::with_capacity(MAX_BATCH);
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut flushes = Vec::new();
    while receiver.recv_many(&mut queued, MAX_BATCH).await > 0 {
        for item in queued.drain(..) {
            match item {
                Queued::Report(pending) => batch.push(pending),
                Queued::Flush(flushed) => flushes.push(flushed),
            }
        }
        if batch.is_empty() {
            for flushed in flushes.drain(..) {
                let _ = flushed.send(());
            }
            continue;
        }
        // The latest status of a cluster wins within a batch; its drift
        // events are all kept, in order.
        let mut position: HashMap<&str, usize> = HashMap::new();
        let mut drift_position: HashMap<&str, usize> = HashMap::new();
        let mut updates: Vec<StatusUpdate> = Vec::with_capacity(batch.len());
        let mut drift: Vec<DriftUpdate> = Vec::new();
        for pending in &batch {
            match &pending.report {
                Report::Status(status) => {
                    let update = StatusUpdate {
                        cluster: pending.cluster.clone(),
                        status: status.clone(),
                    };
                    match position.get(pending.cluster.as_str()) {
                        Some(&index) => updates[index] = update,
                        None => {
                            position.insert(&pending.cluster, updates.len());
                            updates.push(update);
                        }
                    }
                }
                Report::Drift(events) => match drift_position.get(pending.cluster.as_str()) {
                    Some(&index) => drift[index].events.extend(events.iter().cloned()),
                    None => {
                        drift_position.insert(&pending.cluster, drift.len());
                        drift.push(DriftUpdate {
                            cluster: pending.cluster.clone(),
                            events: events.clone(),
                        });
                    }
                },
            }
        }
        let parts = updates
            .into_iter()
            .map(Part::Status)
            .chain(drift.into_iter().map(Part::Drift))
            .collect();
        let mut outcome = Ok(());
        for entry in split_by_size(parts, MAX_ENTRY_BYTES) {
            let (updates, drift) = entry.into_iter().fold(
                (Vec::new(), Vec::new()),
                |(mut updates, mut drift), part| {
                    match part {
                        Part::Status(update) => updates.push(update),
                        Part::Drift(update) => drift.push(update),
                    }
                    (updates, drift)
                },
            );
            let written = store
                .write(Command::ReportStatuses {
                    updates,
                    at_ms: now_ms(),
                    drift,
                    drift_kept,
                })
                .await
                .map(|_| ())
                .map_err(|error| error.to_string());
            if outcome.is_ok() {
                outcome = written;
            }
        }
        if let Err(error) = &outcome {
            warn!(%error, reports = batch.len(), "status reports could not be written");
        }
        for pending in batch.drain(..) {
            let _ = pending.written.send(outcome.clone());
        }
        for flushed in flushes.drain(..) {
            let _ = flushed.send(());
        }
    }
}

/// Splits `updates` into runs whose JSON encodings add up to at most
/// `limit` bytes (a single update over the limit goes alone).
fn split_by_size<T: serde::Serialize>(updates: Vec<T>, limit: usize) -> Vec<Vec<T>> {
    let mut entries: Vec<Vec<T>> = Vec::new();
    let mut current: Vec<T> = Vec::new();
    let mut current_bytes = 0;
    for update in updates {
        // An encoding failure cannot happen for these plain records; count
        // it as the limit so the update goes alone.
        let bytes = serde_json::to_vec(&update).map_or(limit, |json| json.len() + 1);
        if !current.is_empty() && current_bytes + bytes > limit {
            entries.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current_bytes += bytes;
        current.push(update);
    }
    if !current.is_empty() {
        entries.push(current);
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ClusterStatus;

    #[test]
    fn batches_are_split_so_no_entry_exceeds_the_limit() {
        let updates: Vec<StatusUpdate> = (0..100)
            .map(|index| StatusUpdate {
                cluster: format!("cluster-{index}"),
                status: ClusterStatus {
                    message: "m".repeat(60 * 1024),
                    ..ClusterStatus::default()
                },
            })
            .collect();
        let entries = split_by_size(updates, MAX_ENTRY_BYTES);
        assert!(entries.len() >= 6, "{} entries", entries.len());
        assert_eq!(entries.iter().map(Vec::len).sum::<usize>(), 100);
        for entry in &entries {
            let command = Command::ReportStatuses {
                updates: entry.clone(),
                at_ms: 1,
                drift: Vec::new(),
                drift_kept: 50,
            };
            let bytes = serde_json::to_vec(&command).unwrap().len();
            assert!(bytes <= MAX_ENTRY_BYTES + 64, "an entry of {bytes} bytes");
        }
    }
}

//! `WatchFleet`: a server stream that tells a dashboard when this node's
//! replicated state changed, so it re-reads instead of polling.
//!
//! Fed by the state machine's applied-index watch (`FleetStore::subscribe`),
//! like the `TargetBoard`. Coalesced: after a message the stream waits
//! `dashboard.watchInterval`, and every change in between becomes the next
//! single message, carrying the applied log index only. At most
//! `dashboard.maxWatchStreams` streams per node; the next is refused with
//! RESOURCE_EXHAUSTED. When the node stops, each stream ends with
//! UNAVAILABLE (so the gRPC server's graceful stop is not held open).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use fleet_proto::FleetChange;
use futures::Stream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tonic::Status;

use super::context::ApiContext;

/// The stream `WatchFleet` answers with.
pub type FleetChanges = Pin<Box<dyn Stream<Item = Result<FleetChange, Status>> + Send + 'static>>;

/// The node's bound on open watch streams.
#[derive(Clone)]
pub struct FleetWatch {
    permits: Arc<Semaphore>,
    limit: u32,
}

/// Where one stream is.
struct Watching {
    changes: watch::Receiver<u64>,
    closing: Pin<Box<dyn Future<Output = ()> + Send>>,
    interval: Duration,
    sent_any: bool,
    ended: bool,
    /// Held while the stream lives; frees its place when dropped.
    _permit: OwnedSemaphorePermit,
}

impl FleetWatch {
    /// At most `limit` streams at once.
    pub fn new(limit: u32) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(usize::try_from(limit).unwrap_or(usize::MAX))),
            limit,
        }
    }

    /// A new stream over `context`'s state, or RESOURCE_EXHAUSTED when
    /// the node serves its limit already.
    pub fn open(&self, context: &ApiContext) -> Result<FleetChanges, Status> {
        let permit = self.permits.clone().try_acquire_owned().map_err(|_| {
            Status::resource_exhausted(format!(
                "this hub node already serves {} WatchFleet streams (dashboard.maxWatchStreams); close a dashboard page or ask another node",
                self.limit
            ))
        })?;
        let watching = Watching {
            changes: context.store.subscribe(),
            closing: Box::pin(context.sessions.closing()),
            interval: context.config.dashboard.watch_interval.0,
            sent_any: false,
            ended: false,
            _permit: permit,
        };
        Ok(Box::pin(futures::stream::unfold(watching, next_change)))
    }
}

fn stopping() -> Status {
    Status::unavailable("this hub node is stopping; watch another node")
}

/// The next message: at once for the first, then the next change at least
/// `interval` after the previous message; the stream's end when the node
/// stops.
async fn next_change(mut watching: Watching) -> Option<(Result<FleetChange, Status>, Watching)> {
    if watching.ended {
        return None;
    }
    if watching.sent_any {
        tokio::select! {
            () = &mut watching.closing => return end(watching),
            () = tokio::time::sleep(watching.interval) => {}
        }
        tokio::select! {
            () = &mut watching.closing => return end(watching),
            changed = watching.changes.changed() => {
                if changed.is_err() {
                    return end(watching);
                }
            }
        }
    }
    watching.sent_any = true;
    let applied_index = *watching.changes.borrow_and_update();
    Some((Ok(FleetChange { applied_index }), watching))
}

fn end(mut watching: Watching) -> Option<(Result<FleetChange, Status>, Watching)> {
    watching.ended = true;
    Some((Err(stopping()), watching))
}

//! Watch: a stream of newline-delimited JSON events
//! (`{"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":...}`) over a
//! chunked HTTP response, starting from a resourceVersion (or with the
//! current objects as ADDED events), with optional bookmarks, and an ERROR
//! event carrying a 410 `Expired` Status when the requested history is gone.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use crate::api::{ListOptions, Target, present};
use crate::status::{ApiError, ApiResult};
use crate::store::{EventType, Store, StoreEvent, encode_watch_line};
use crate::table::{IncludeObject, to_table};

/// How events are rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchFormat {
    /// Plain objects.
    Objects,
    /// One-row `Table` objects (kubectl get --watch).
    Table(IncludeObject),
    /// `PartialObjectMetadata` objects (metadata-only watches).
    Metadata,
}

/// A parsed watch request.
#[derive(Debug, Clone)]
pub struct WatchRequest {
    /// What to watch.
    pub target: Target,
    /// Selectors.
    pub options: ListOptions,
    /// `?resourceVersion=`; `None` or `0` start with the current objects.
    pub resource_version: Option<u64>,
    /// `?sendInitialEvents=true`: current objects first, then a bookmark.
    pub send_initial_events: bool,
    /// `?allowWatchBookmarks=true`.
    pub allow_bookmarks: bool,
    /// `?timeoutSeconds=`.
    pub timeout: Option<Duration>,
    /// Rendering.
    pub format: WatchFormat,
    /// How often to send bookmarks.
    pub bookmark_interval: Duration,
}

struct Watcher {
    request: WatchRequest,
    sender: mpsc::Sender<Bytes>,
    last_resource_version: u64,
}

impl Watcher {
    fn render(&self, event_type: &str, object: &Value) -> Bytes {
        let object = present(object, &self.request.target);
        match self.request.format {
            WatchFormat::Objects => encode_watch_line(event_type, &object),
            WatchFormat::Table(include) => {
                let table = to_table(&self.request.target.resource_type, &[object], None, include);
                encode_watch_line(event_type, &table)
            }
            WatchFormat::Metadata => encode_watch_line(
                event_type,
                &json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
                }),
            ),
        }
    }

    fn in_scope(&self, event: &StoreEvent) -> bool {
        event.resource == self.request.target.resource_type.group_resource()
            && self
                .request
                .target
                .namespace
                .as_deref()
                .is_none_or(|namespace| namespace == event.namespace)
    }

    /// The line to send for an event, if the watcher should see it: objects
    /// moving into or out of the selectors appear as ADDED or DELETED.
    fn line_for(&self, event: &StoreEvent) -> Option<Bytes> {
        if !self.in_scope(event) {
            return None;
        }
        let matches_now = self.request.options.matches(&event.object);
        let matched_before = event
            .previous
            .as_ref()
            .is_some_and(|previous| self.request.options.matches(previous));
        let event_type = match event.event_type {
            EventType::Added if matches_now => EventType::Added,
            EventType::Modified if matches_now && matched_before => EventType::Modified,
            EventType::Modified if matches_now => EventType::Added,
            EventType::Modified if matched_before => EventType::Deleted,
            EventType::Deleted if matched_before || matches_now => EventType::Deleted,
            _ => return None,
        };
        let plain = self.request.format == WatchFormat::Objects;
        let same_version = !self.request.target.resource_type.custom
            || event.object.get("apiVersion").and_then(Value::as_str)
                == Some(&self.request.target.api_version());
        if event_type == event.event_type && plain && same_version {
            Some(event.encoded_line())
        } else {
            Some(self.render(event_type.as_str(), &event.object))
        }
    }

    fn bookmark(&self, initial_events_end: bool) -> Bytes {
        let resource_type = &self.request.target.resource_type;
        let mut metadata = json!({"resourceVersion": self.last_resource_version.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        encode_watch_line(
            "BOOKMARK",
            &json!({"kind": resource_type.kind, "apiVersion": self.request.target.api_version(), "metadata": metadata}),
        )
    }

    async fn send(&self, line: Bytes) -> bool {
        self.sender.send(line).await.is_ok()
    }

    async fn run(
        mut self,
        initial: Vec<Arc<Value>>,
        backlog: Vec<Arc<StoreEvent>>,
        mut receiver: broadcast::Receiver<Arc<StoreEvent>>,
    ) {
        for object in initial {
            if self.request.options.matches(&object) {
                let line = self.render("ADDED", &object);
                if !self.send(line).await {
                    return;
                }
            }
        }
        if self.request.send_initial_events && self.request.allow_bookmarks {
            let line = self.bookmark(true);
            if !self.send(line).await {
                return;
            }
        }
        for event in backlog {
            self.last_resource_version = self.last_resource_version.max(event.resource_version);
            if let Some(line) = self.line_for(&event)
                && !self.send(line).await
            {
                return;
            }
        }
        let deadline = self
            .request
            .timeout
            .map(|timeout| tokio::time::Instant::now() + timeout);
        let mut bookmarks = tokio::time::interval(
            self.request
                .bookmark_interval
                .max(Duration::from_millis(10)),
        );
        bookmarks.tick().await;
        loop {
            let timeout = async {
                match deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                received = receiver.recv() => match received {
                    Ok(event) => {
                        if event.resource_version <= self.last_resource_version {
                            continue;
                        }
                        self.last_resource_version = event.resource_version;
                        if let Some(line) = self.line_for(&event)
                            && !self.send(line).await {
                                return;
                            }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // This watcher fell behind the event window: tell the
                        // client to re-list, as the real server does.
                        let error = ApiError::Expired { requested: self.last_resource_version, oldest: self.last_resource_version + 1 };
                        let _ = self.send(encode_watch_line("ERROR", &error.to_status())).await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = bookmarks.tick(), if self.request.allow_bookmarks => {
                    let line = self.bookmark(false);
                    if !self.send(line).await {
                        return;
                    }
                }
                _ = self.sender.closed() => return,
                _ = timeout => return,
            }
        }
    }
}

/// Starts a watch and returns the channel its lines arrive on. An expired
/// resourceVersion yields a single ERROR event, like the real server.
pub fn start(store: &Arc<Store>, request: WatchRequest) -> ApiResult<mpsc::Receiver<Bytes>> {
    let (sender, lines) = mpsc::channel(256);
    let state = store.lock()?;
    let current = state.resource_version();
    let from_now =
        matches!(request.resource_version, None | Some(0)) || request.send_initial_events;
    let start_version = if from_now {
        current
    } else {
        request.resource_version.unwrap_or(current)
    };
    let (backlog, receiver) = match state.watch_from(start_version) {
        Ok(start) => (start.backlog, start.receiver),
        Err(error) => {
            let line = encode_watch_line("ERROR", &error.to_status());
            let _ = sender.try_send(line);
            return Ok(lines);
        }
    };
    let initial = if from_now {
        state.list(
            &request.target.resource_type.group_resource(),
            request.target.namespace.as_deref(),
        )
    } else {
        Vec::new()
    };
    drop(state);
    let watcher = Watcher {
        request,
        sender,
        last_resource_version: start_version,
    };
    tokio::spawn(watcher.run(initial, backlog, receiver));
    Ok(lines)
}

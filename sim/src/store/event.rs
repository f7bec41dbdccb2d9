//! Change events: every write to the store produces one, kept in a bounded
//! window for watches that resume from a resourceVersion and broadcast to
//! live watchers and the simulated controllers.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde_json::Value;

use crate::catalog::GroupResource;

/// The watch event types the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// An object was created (or started matching a selector).
    Added,
    /// An object was changed.
    Modified,
    /// An object was deleted (or stopped matching a selector).
    Deleted,
}

impl EventType {
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change to one object.
#[derive(Debug)]
pub struct StoreEvent {
    /// What happened.
    pub event_type: EventType,
    /// The resource of the object.
    pub resource: GroupResource,
    /// The object's namespace, empty when cluster-scoped.
    pub namespace: String,
    /// The object's name.
    pub name: String,
    /// The resourceVersion of this change.
    pub resource_version: u64,
    /// The object after the change (for deletions: as last stored).
    pub object: Arc<Value>,
    /// The object before the change, for modifications and deletions.
    pub previous: Option<Arc<Value>>,
    /// The JSON watch line for `event_type`, encoded once and shared by all
    /// watchers that receive the event unchanged.
    encoded: OnceLock<Bytes>,
}

impl StoreEvent {
    /// Builds an event.
    pub fn new(
        event_type: EventType,
        resource: GroupResource,
        object: Arc<Value>,
        previous: Option<Arc<Value>>,
        resource_version: u64,
    ) -> Self {
        let metadata = object.get("metadata");
        let text = |field: &str| {
            metadata
                .and_then(|metadata| metadata.get(field))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        Self {
            event_type,
            resource,
            namespace: text("namespace"),
            name: text("name"),
            resource_version,
            object,
            previous,
            encoded: OnceLock::new(),
        }
    }

    /// The newline-terminated watch line `{"type":..,"object":..}` for this
    /// event's own type, encoded once.
    pub fn encoded_line(&self) -> Bytes {
        self.encoded
            .get_or_init(|| encode_watch_line(self.event_type.as_str(), &self.object))
            .clone()
    }
}

/// Encodes one watch line.
pub fn encode_watch_line(event_type: &str, object: &Value) -> Bytes {
    let mut line = Vec::with_capacity(256);
    line.extend_from_slice(b"{\"type\":\"");
    line.extend_from_slice(event_type.as_bytes());
    line.extend_from_slice(b"\",\"object\":");
    if serde_json::to_writer(&mut line, object).is_err() {
        line.extend_from_slice(b"null");
    }
    line.extend_from_slice(b"}\n");
    Bytes::from(line)
}

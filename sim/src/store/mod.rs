//! The object store: every object by resource, namespace and name, one global
//! resourceVersion counter, and the change-event window that watches read.
//!
//! All state sits behind one mutex. Writes are short (a clone and a map
//! insert), so one lock keeps resourceVersions, events and the catalog of
//! custom types consistent without any lock ordering to get wrong.

mod event;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

pub use event::{EventType, StoreEvent, encode_watch_line};

use crate::catalog::{Catalog, GroupResource};
use crate::persistence::PersistOperation;
use crate::status::{ApiError, ApiResult};

/// Namespace and name of an object (namespace empty when cluster-scoped).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// Namespace, or empty.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectKey {
    /// Builds a key.
    pub fn new(namespace: &str, name: &str) -> Self {
        Self {
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }
}

/// Where a new watch starts: the retained events it missed, then live ones.
#[derive(Debug)]
pub struct WatchStart {
    /// Retained events after the requested resourceVersion, oldest first.
    pub backlog: Vec<Arc<StoreEvent>>,
    /// Live events from now on.
    pub receiver: broadcast::Receiver<Arc<StoreEvent>>,
}

/// The mutable state behind the store's lock.
#[derive(Debug)]
pub struct StoreState {
    resource_version: u64,
    catalog: Catalog,
    objects: HashMap<GroupResource, BTreeMap<ObjectKey, Arc<Value>>>,
    /// Owner uid → the objects whose ownerReferences name it.
    dependents: HashMap<String, BTreeSet<(GroupResource, ObjectKey)>>,
    window: VecDeque<Arc<StoreEvent>>,
    window_capacity: usize,
    /// Watching from this resourceVersion (or later) is still possible.
    window_start: u64,
    events: broadcast::Sender<Arc<StoreEvent>>,
    persistence: Option<mpsc::UnboundedSender<PersistOperation>>,
    next_address: u32,
    /// How long a deleted namespace stays `Terminating` (zero: removed at once).
    namespace_finalize_delay: Duration,
}

/// The shared store.
#[derive(Debug)]
pub struct Store {
    state: Mutex<StoreState>,
    events: broadcast::Sender<Arc<StoreEvent>>,
}

impl Store {
    /// An empty store retaining `window_capacity` events for watch resumption.
    pub fn new(
        window_capacity: usize,
        persistence: Option<mpsc::UnboundedSender<PersistOperation>>,
    ) -> Self {
        let (events, _) = broadcast::channel(window_capacity.max(1024));
        Self {
            state: Mutex::new(StoreState {
                resource_version: 0,
                catalog: Catalog::with_builtins(),
                objects: HashMap::new(),
                dependents: HashMap::new(),
                window: VecDeque::new(),
                window_capacity: window_capacity.max(1),
                window_start: 0,
                events: events.clone(),
                persistence,
                next_address: 1,
                namespace_finalize_delay: Duration::ZERO,
            }),
            events,
        }
    }

    /// Locks the state.
    pub fn lock(&self) -> ApiResult<MutexGuard<'_, StoreState>> {
        self.state
            .lock()
            .map_err(|_| ApiError::Internal("the object store lock was poisoned".to_string()))
    }

    /// A receiver of all future change events.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StoreEvent>> {
        self.events.subscribe()
    }
}

impl StoreState {
    /// The latest resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// The catalog of served types.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The catalog, for CRD registration.
    pub fn catalog_mut(&mut self) -> &mut Catalog {
        &mut self.catalog
    }

    /// One object.
    pub fn get(&self, resource: &GroupResource, namespace: &str, name: &str) -> Option<Arc<Value>> {
        self.objects
            .get(resource)?
            .get(&ObjectKey::new(namespace, name))
            .cloned()
    }

    /// All objects of a resource, optionally in one namespace, by namespace then name.
    pub fn list(&self, resource: &GroupResource, namespace: Option<&str>) -> Vec<Arc<Value>> {
        let Some(objects) = self.objects.get(resource) else {
            return Vec::new();
        };
        match namespace {
            Some(namespace) => objects
                .range(ObjectKey::new(namespace, "")..)
                .take_while(|(key, _)| key.namespace == namespace)
                .map(|(_, object)| object.clone())
                .collect(),
            None => objects.values().cloned().collect(),
        }
    }

    /// Number of objects of a resource.
    pub fn count(&self, resource: &GroupResource) -> usize {
        self.objects.get(resource).map_or(0, BTreeMap::len)
    }

    /// Resources that hold at least one object.
    pub fn resources_in_use(&self) -> Vec<GroupResource> {
        self.objects
            .iter()
            .filter(|(_, objects)| !objects.is_empty())
            .map(|(resource, _)| resource.clone())
            .collect()
    }

    /// How long a deleted namespace stays `Terminating` before it is removed.
    pub fn namespace_finalize_delay(&self) -> Duration {
        self.namespace_finalize_delay
    }

    /// Sets how long a deleted namespace stays `Terminating` (zero removes
    /// it together with its content at once).
    pub fn set_namespace_finalize_delay(&mut self, delay: Duration) {
        self.namespace_finalize_delay = delay;
    }

    /// Stores `object` (created or changed), stamping a new resourceVersion,
    /// and emits the event. Returns the stored object.
    pub fn put(&mut self, resource: &GroupResource, mut object: Value) -> Arc<Value> {
        self.resource_version += 1;
        let resource_version = self.resource_version;
        if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.insert(
                "resourceVersion".into(),
                json!(resource_version.to_string()),
            );
        }
        let object = Arc::new(object);
        let key = object_key(&object);
        let previous = self
            .objects
            .entry(resource.clone())
            .or_default()
            .insert(key.clone(), object.clone());
        if let Some(previous) = &previous {
            self.unindex_owners(resource, &key, previous);
        }
        self.index_owners(resource, &key, &object);
        let event_type = if previous.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.record(StoreEvent::new(
            event_type,
            resource.clone(),
            object.clone(),
            previous,
            resource_version,
        ));
        object
    }

    /// Deletes an object and emits the event. Returns what was stored.
    pub fn delete(
        &mut self,
        resource: &GroupResource,
        namespace: &str,
        name: &str,
    ) -> Option<Arc<Value>> {
        let key = ObjectKey::new(namespace, name);
        let removed = self.objects.get_mut(resource)?.remove(&key)?;
        self.unindex_owners(resource, &key, &removed);
        self.resource_version += 1;
        let resource_version = self.resource_version;
        // Like the real server, the DELETED event carries the object at the
        // resourceVersion of the deletion.
        let mut last_state = (*removed).clone();
        if let Some(metadata) = last_state
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
        {
            metadata.insert(
                "resourceVersion".into(),
                json!(resource_version.to_string()),
            );
        }
        self.record(StoreEvent::new(
            EventType::Deleted,
            resource.clone(),
            Arc::new(last_state),
            Some(removed.clone()),
            resource_version,
        ));
        Some(removed)
    }

    /// Loads an object at start-up (from the data directory): no event.
    pub fn load(&mut self, resource: &GroupResource, object: Value) {
        let resource_version = object
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .and_then(|text| text.parse::<u64>().ok())
            .unwrap_or(0);
        self.resource_version = self.resource_version.max(resource_version);
        self.window_start = self.resource_version;
        let object = Arc::new(object);
        let key = object_key(&object);
        self.index_owners(resource, &key, &object);
        self.objects
            .entry(resource.clone())
            .or_default()
            .insert(key, object);
    }

    /// The objects whose ownerReferences name `owner_uid`.
    pub fn dependents(&self, owner_uid: &str) -> Vec<(GroupResource, Arc<Value>)> {
        let Some(keys) = self.dependents.get(owner_uid) else {
            return Vec::new();
        };
        keys.iter()
            .filter_map(|(resource, key)| {
                let object = self.objects.get(resource)?.get(key)?;
                Some((resource.clone(), object.clone()))
            })
            .collect()
    }

    fn index_owners(&mut self, resource: &GroupResource, key: &ObjectKey, object: &Value) {
        for uid in owner_uids(object) {
            self.dependents
                .entry(uid)
                .or_default()
                .insert((resource.clone(), key.clone()));
        }
    }

    fn unindex_owners(&mut self, resource: &GroupResource, key: &ObjectKey, object: &Value) {
        for uid in owner_uids(object) {
            if let Some(keys) = self.dependents.get_mut(&uid) {
                keys.remove(&(resource.clone(), key.clone()));
                if keys.is_empty() {
                    self.dependents.remove(&uid);
                }
            }
        }
    }

    fn record(&mut self, event: StoreEvent) {
        let event = Arc::new(event);
        if let Some(persistence) = &self.persistence {
            let operation = match event.event_type {
                EventType::Deleted => PersistOperation::Delete {
                    resource: event.resource.clone(),
                    namespace: event.namespace.clone(),
                    name: event.name.clone(),
                },
                _ => PersistOperation::Put {
                    resource: event.resource.clone(),
                    object: event.object.clone(),
                },
            };
            // A closed channel means shutdown is under way; nothing to do.
            let _ = persistence.send(operation);
        }
        if self.window.len() >= self.window_capacity
            && let Some(evicted) = self.window.pop_front()
        {
            self.window_start = evicted.resource_version;
        }
        self.window.push_back(event.clone());
        // No receivers is fine: nobody is watching.
        let _ = self.events.send(event);
    }

    /// Subscribes to live events and returns the retained events after
    /// `resource_version`, atomically (no gap, no duplicate), or `Expired`
    /// when that history is gone.
    pub fn watch_from(&self, resource_version: u64) -> ApiResult<WatchStart> {
        if resource_version < self.window_start {
            return Err(ApiError::Expired {
                requested: resource_version,
                oldest: self.window_start,
            });
        }
        let receiver = self.events.subscribe();
        let backlog = self
            .window
            .iter()
            .filter(|event| event.resource_version > resource_version)
            .cloned()
            .collect();
        Ok(WatchStart { backlog, receiver })
    }

    /// A new simulated address for Service clusterIP (`10.96.x.y`).
    pub fn allocate_cluster_ip(&mut self) -> String {
        self.next_address += 1;
        let number = self.next_address;
        format!("10.96.{}.{}", (number >> 8) & 0xff, number & 0xff)
    }
}

fn owner_uids(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|references| {
            references
                .iter()
                .filter_map(|reference| reference.get("uid").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn object_key(object: &Value) -> ObjectKey {
    let text = |field: &str| {
        object
            .pointer(&format!("/metadata/{field}"))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    ObjectKey::new(text("namespace"), text("name"))
}

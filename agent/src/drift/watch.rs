//! One `kube::runtime::watcher` per managed kind and namespace: the agent
//! learns of every change to the objects it manages from the API server's
//! watch stream — no periodic polling — and feeds the reconciler with the
//! live objects (for drift and health alike).

use std::collections::{HashMap, HashSet};

use futures::StreamExt;
use kube::api::DynamicObject;
use kube::discovery::ApiResource;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use crate::apply::object::ObjectKey;

/// What a watcher reports.
#[derive(Debug)]
pub enum LiveEvent {
    /// An object was created or changed (or listed).
    Applied {
        /// Which.
        key: ObjectKey,
        /// As the API server has it.
        object: Value,
    },
    /// An object was deleted.
    Deleted {
        /// Which.
        key: ObjectKey,
        /// Its last state.
        object: Value,
    },
    /// A watch finished listing: objects of its kind and namespace not in
    /// `present` do not exist.
    Listed {
        /// The watch ([`WatchTarget::id`]).
        watch: String,
        /// What exists.
        present: HashSet<ObjectKey>,
    },
}

/// A kind in a namespace (or cluster-wide) to watch.
#[derive(Debug, Clone)]
pub struct WatchTarget {
    /// The resource.
    pub resource: ApiResource,
    /// The namespace (`None`: cluster-scoped kind).
    pub namespace: Option<String>,
}

impl WatchTarget {
    /// A stable name of the watch.
    pub fn id(&self) -> String {
        format!(
            "{}/{}@{}",
            self.resource.api_version,
            self.resource.plural,
            self.namespace.as_deref().unwrap_or("")
        )
    }

    /// The watch that covers `key` of `resource`.
    pub fn covers(&self, key: &ObjectKey) -> bool {
        self.resource.group == key.group
            && self.resource.kind == key.kind
            && self.namespace.as_deref().unwrap_or("") == key.namespace
    }
}

/// The running watchers.
pub struct Watchers {
    client: Client,
    events: mpsc::Sender<LiveEvent>,
    running: HashMap<String, JoinHandle<()>>,
}

impl Watchers {
    /// No watchers yet; events go to `events`.
    pub fn new(client: Client, events: mpsc::Sender<LiveEvent>) -> Self {
        Self {
            client,
            events,
            running: HashMap::new(),
        }
    }

    /// Runs exactly the watches in `targets`; returns the ids of the ones
    /// started now (they have not listed yet).
    pub fn ensure(&mut self, targets: &HashMap<String, WatchTarget>) -> Vec<String> {
        self.running.retain(|id, handle| {
            let keep = targets.contains_key(id);
            if !keep {
                debug!(watch = %id, "watch stopped");
                handle.abort();
            }
            keep
        });
        let mut started = Vec::new();
        for (id, target) in targets {
            if self.running.contains_key(id) {
                continue;
            }
            let handle = tokio::spawn(watch(
                self.client.clone(),
                target.clone(),
                id.clone(),
                self.events.clone(),
            ));
            debug!(watch = %id, "watch started");
            self.running.insert(id.clone(), handle);
            started.push(id.clone());
        }
        started
    }

    /// Number of running watches.
    pub fn len(&self) -> usize {
        self.running.len()
    }

    /// Whether none runs.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }
}

impl Drop for Watchers {
    fn drop(&mut self) {
        for handle in self.running.values() {
            handle.abort();
        }
    }
}

fn key_of(target: &WatchTarget, object: &DynamicObject) -> ObjectKey {
    ObjectKey {
        group: target.resource.group.clone(),
        kind: target.resource.kind.clone(),
        namespace: object.metadata.namespace.clone().unwrap_or_default(),
        name: object.metadata.name.clone().unwrap_or_default(),
    }
}

async fn watch(client: Client, target: WatchTarget, id: String, events: mpsc::Sender<LiveEvent>) {
    let api: Api<DynamicObject> = match &target.namespace {
        Some(namespace) => Api::namespaced_with(client, namespace, &target.resource),
        None => Api::all_with(client, &target.resource),
    };
    let mut stream = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut listing: HashSet<ObjectKey> = HashSet::new();
    while let Some(event) = stream.next().await {
        let live = match event {
            Ok(Event::Init) => {
                listing.clear();
                continue;
            }
            Ok(Event::InitApply(object)) => {
                let key = key_of(&target, &object);
                listing.insert(key.clone());
                applied(key, object)
            }
            Ok(Event::InitDone) => Some(LiveEvent::Listed {
                watch: id.clone(),
                present: std::mem::take(&mut listing),
            }),
            Ok(Event::Apply(object)) => applied(key_of(&target, &object), object),
            Ok(Event::Delete(object)) => {
                let key = key_of(&target, &object);
                Some(LiveEvent::Deleted {
                    key,
                    object: serde_json::to_value(object).unwrap_or(Value::Null),
                })
            }
            Err(error) => {
                warn!(watch = %id, %error, "watch interrupted; retrying");
                continue;
            }
        };
        if let Some(live) = live
            && events.send(live).await.is_err()
        {
            return;
        }
    }
}

fn applied(key: ObjectKey, object: DynamicObject) -> Option<LiveEvent> {
    match serde_json::to_value(object) {
        Ok(object) => Some(LiveEvent::Applied { key, object }),
        Err(error) => {
            warn!(object = %key, %error, "cannot read a watched object");
            None
        }
    }
}

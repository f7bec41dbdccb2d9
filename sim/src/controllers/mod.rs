//! Simulated controllers: one background task that reacts to store events
//! and timers and writes the status a real controller would — workloads
//! become available after a delay (or never, for a `fail` image), Jobs
//! complete, LoadBalancer Services get an address, CRDs get established, and
//! namespaces deleted with a finalize delay are removed once it has passed.

mod conditions;
mod crd;
mod job;
mod namespace;
mod pods;
mod progress;
mod service;
mod storage;
mod workload;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use progress::{Progress, failing_container};

use crate::api::write_status;
use crate::catalog::{GroupResource, ResourceType};
use crate::store::Store;

/// The field manager the controllers write status as.
pub const CONTROLLER_MANAGER: &str = "kube-controller-manager";

/// Timing of the simulated controllers.
#[derive(Debug, Clone, Copy)]
pub struct ControllerSettings {
    /// Time from a new generation to availability.
    pub rollout_delay: Duration,
    /// Time from a new generation to `ProgressDeadlineExceeded` for a failing image.
    pub progress_deadline: Duration,
    /// Create ReplicaSets and Pods for workloads.
    pub simulate_pods: bool,
}

/// What a controller decided for one object.
pub struct Decision {
    /// The status to write (`None`: leave it).
    pub status: Option<Value>,
    /// Look again after this long.
    pub recheck_after: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct ObjectRef {
    resource: GroupResource,
    namespace: String,
    name: String,
}

struct Controllers {
    store: Arc<Store>,
    settings: ControllerSettings,
    /// When each object's current generation was first seen.
    progress: HashMap<ObjectRef, (i64, Instant)>,
    timers: BTreeMap<Instant, Vec<ObjectRef>>,
}

fn is_controlled(resource: &GroupResource) -> bool {
    matches!(
        (resource.group.as_str(), resource.resource.as_str()),
        (
            "apps",
            "deployments" | "statefulsets" | "daemonsets" | "replicasets"
        ) | ("batch", "jobs")
            | (
                "",
                "pods" | "services" | "persistentvolumeclaims" | "persistentvolumes"
            )
            | ("apiextensions.k8s.io", "customresourcedefinitions")
    )
}

impl Controllers {
    fn reconcile_all(&mut self) {
        let Ok(state) = self.store.lock() else {
            return;
        };
        let delay = state.namespace_finalize_delay();
        let terminating: Vec<ObjectRef> = state
            .list(&namespace::namespaces(), None)
            .iter()
            .filter(|object| namespace::is_terminating(object))
            .map(|object| object_ref(&namespace::namespaces(), object))
            .collect();
        let mut references = Vec::new();
        for resource in state.resources_in_use().into_iter().filter(is_controlled) {
            for object in state.list(&resource, None) {
                references.push(object_ref(&resource, &object));
            }
        }
        drop(state);
        for reference in terminating {
            self.schedule_finalize(reference, delay);
        }
        for reference in references {
            self.reconcile(&reference);
        }
    }

    fn schedule_finalize(&mut self, reference: ObjectRef, delay: Duration) {
        self.timers
            .entry(Instant::now() + delay)
            .or_default()
            .push(reference);
    }

    /// A namespace just marked terminating: remove it after the delay.
    fn namespace_event(&mut self, event: &crate::store::StoreEvent) {
        let newly_terminating = event.event_type != crate::store::EventType::Deleted
            && namespace::is_terminating(&event.object)
            && !event
                .previous
                .as_ref()
                .is_some_and(|previous| namespace::is_terminating(previous));
        if !newly_terminating {
            return;
        }
        let Ok(state) = self.store.lock() else {
            return;
        };
        let delay = state.namespace_finalize_delay();
        drop(state);
        self.schedule_finalize(object_ref(&event.resource, &event.object), delay);
    }

    fn reconcile(&mut self, reference: &ObjectRef) {
        let Ok(mut state) = self.store.lock() else {
            return;
        };
        if reference.resource == namespace::namespaces() {
            namespace::finalize(&mut state, &reference.name);
            return;
        }
        let Some(object) = state.get(&reference.resource, &reference.namespace, &reference.name)
        else {
            self.progress.remove(reference);
            return;
        };
        let Some(resource_type) = state.catalog().get(&reference.resource) else {
            return;
        };
        let generation = object
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let now = Instant::now();
        let started = match self.progress.get(reference) {
            Some((seen, started)) if *seen == generation => *started,
            _ => {
                self.progress.insert(reference.clone(), (generation, now));
                now
            }
        };
        let progress = Progress {
            elapsed: now.saturating_duration_since(started),
            settings: self.settings,
        };
        if self.settings.simulate_pods {
            pods::materialize(&mut state, &reference.resource, &object);
        }
        let decision = decide(&resource_type, &object, &progress, &mut state);
        if let Some(status) = decision.status
            && object.get("status") != Some(&status)
            && let Err(error) = write_status(
                &mut state,
                &resource_type,
                &reference.namespace,
                &reference.name,
                status,
                CONTROLLER_MANAGER,
            )
        {
            tracing::warn!(%error, object = %reference.name, "simulated controller could not write status");
        }
        if let Some(after) = decision.recheck_after {
            self.timers
                .entry(now + after)
                .or_default()
                .push(reference.clone());
        }
    }

    async fn run(
        mut self,
        mut events: broadcast::Receiver<Arc<crate::store::StoreEvent>>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        self.reconcile_all();
        loop {
            let next_timer = self.timers.keys().next().copied();
            tokio::select! {
                received = events.recv() => match received {
                    Ok(event) => {
                        if event.resource == namespace::namespaces() {
                            self.namespace_event(&event);
                        }
                        if is_controlled(&event.resource) && !self_written(&event) {
                            let reference = ObjectRef {
                                resource: event.resource.clone(),
                                namespace: event.namespace.clone(),
                                name: event.name.clone(),
                            };
                            self.reconcile(&reference);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => self.reconcile_all(),
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = sleep_until_option(next_timer) => {
                    let now = Instant::now();
                    let due: Vec<Instant> = self.timers.range(..=now).map(|(instant, _)| *instant).collect();
                    for instant in due {
                        for reference in self.timers.remove(&instant).unwrap_or_default() {
                            self.reconcile(&reference);
                        }
                    }
                }
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// Whether the event is a status write of our own (nothing new to react to).
fn self_written(event: &crate::store::StoreEvent) -> bool {
    let Some(previous) = &event.previous else {
        return false;
    };
    let generation = |object: &Value| object.pointer("/metadata/generation").cloned();
    let spec = |object: &Value| object.get("spec").cloned();
    generation(previous) == generation(&event.object)
        && spec(previous) == spec(&event.object)
        && previous.get("status") != event.object.get("status")
}

async fn sleep_until_option(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

fn object_ref(resource: &GroupResource, object: &Value) -> ObjectRef {
    let text = |field: &str| {
        object
            .pointer(&format!("/metadata/{field}"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    ObjectRef {
        resource: resource.clone(),
        namespace: text("namespace"),
        name: text("name"),
    }
}

fn decide(
    resource_type: &ResourceType,
    object: &Value,
    progress: &Progress,
    state: &mut crate::store::StoreState,
) -> Decision {
    match (resource_type.group.as_str(), resource_type.plural.as_str()) {
        ("apps", "deployments") => workload::deployment(object, progress),
        ("apps", "statefulsets") => workload::stateful_set(object, progress),
        ("apps", "daemonsets") => workload::daemon_set(object, progress),
        ("apps", "replicasets") => workload::replica_set(object, progress),
        ("batch", "jobs") => job::job(object, progress),
        ("", "pods") => job::pod(object, progress),
        ("", "services") => service::service(object, state),
        ("", "persistentvolumeclaims") => storage::persistent_volume_claim(object),
        ("", "persistentvolumes") => storage::persistent_volume(object),
        ("apiextensions.k8s.io", "customresourcedefinitions") => crd::crd(object),
        _ => Decision {
            status: None,
            recheck_after: None,
        },
    }
}

/// Starts the controllers.
pub fn spawn(
    store: Arc<Store>,
    settings: ControllerSettings,
    shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let events = store.subscribe();
    let controllers = Controllers {
        store,
        settings,
        progress: HashMap::new(),
        timers: BTreeMap::new(),
    };
    tokio::spawn(controllers.run(events, shutdown))
}

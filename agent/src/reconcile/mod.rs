//! The reconciler: one task that owns the cluster-side state of the agent.
//! It wakes when the desired state changes, when a watch reports a change to
//! a managed object, or on a slow tick (retries, health timeouts — nothing
//! is read from the API server on a tick), and then runs a *pass*: apps in
//! dependency order, objects in apply order, apply what changed, repair
//! drift, prune, assess health, and publish the status (the outbound side
//! sends it only if it changed).

mod app;
mod scope;
mod sealed;
pub mod state;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fleet_proto::{DesiredState, StatusReport};
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tracing::{Instrument, info_span, warn};

use crate::apply::Applier;
use crate::apply::object::{DesiredObject, ObjectKey};
use crate::drift::watch::{LiveEvent, WatchTarget, Watchers};
use crate::health::Health;
use crate::inventory::{Inventory, InventoryStore};
use crate::metrics::Metrics;
use crate::outbound::Outbound;

use self::state::AppState;

/// How often the reconciler wakes without an event (to retry failed
/// objects and to notice health timeouts).
const TICK: Duration = Duration::from_secs(5);
/// A failed object is retried this long after its failure (or at once when
/// its desired digest changes).
const RETRY_AFTER: Duration = Duration::from_secs(30);
/// An object refused because its namespace is being terminated is tried
/// again this soon (the namespace controller removes the namespace within
/// seconds; the object must be back within a second of that).
pub const NAMESPACE_TERMINATING_RETRY: Duration = Duration::from_millis(250);
/// Namespace of an app's namespaced objects when the hub names none.
const DEFAULT_NAMESPACE: &str = "default";
/// Events buffered between the watches and the reconciler.
pub const LIVE_EVENT_BUFFER: usize = 4096;

/// An app of the desired state, parsed.
#[derive(Clone)]
struct ParsedApp {
    name: String,
    /// Where its objects of a namespaced kind that name no namespace go.
    namespace: String,
    /// Objects (indices into `objects`) whose scope discovery has not
    /// confirmed yet (see `scope.rs`).
    scope_pending: Vec<usize>,
    digest: String,
    prune: bool,
    self_heal: bool,
    depends_on: Vec<String>,
    ignore: Vec<fleet_proto::IgnoreDifference>,
    health_timeout: Option<Duration>,
    objects: Vec<DesiredObject>,
    /// Manifests the hub sent that are not objects at all.
    malformed: Vec<String>,
    /// SOPS-encrypted objects (indices into `objects`) not decrypted yet,
    /// with the reason (see `sealed.rs`).
    sealed: Vec<(usize, String)>,
}

impl ParsedApp {
    /// Why the object at `index` is still encrypted, if it is.
    fn sealed_message(&self, index: usize) -> Option<&str> {
        self.sealed
            .iter()
            .find(|(sealed, _)| *sealed == index)
            .map(|(_, message)| message.as_str())
    }
}

fn parse(desired: &DesiredState) -> Vec<ParsedApp> {
    desired
        .apps
        .iter()
        .map(|app| {
            let mut objects = Vec::new();
            let mut malformed = Vec::new();
            for manifest in &app.objects {
                match DesiredObject::parse(&manifest.json, &manifest.digest) {
                    Ok(object) => objects.push(object),
                    Err(error) => malformed.push(error.to_string()),
                }
            }
            let sync = app.sync.unwrap_or_default();
            let sealed = objects
                .iter()
                .enumerate()
                .filter(|(_, object)| object.sops_file.is_some())
                .map(|(index, _)| (index, "not decrypted yet".to_owned()))
                .collect();
            ParsedApp {
                name: app.app.clone(),
                // A hub that predates the field sent every namespace itself.
                namespace: if app.namespace.is_empty() {
                    DEFAULT_NAMESPACE.to_owned()
                } else {
                    app.namespace.clone()
                },
                scope_pending: (0..objects.len()).collect(),
                digest: app.digest.clone(),
                prune: sync.prune,
                self_heal: sync.self_heal,
                depends_on: app.depends_on.clone(),
                ignore: app.ignore_differences.clone(),
                health_timeout: (app.health_timeout_seconds > 0)
                    .then(|| Duration::from_secs(app.health_timeout_seconds)),
                objects,
                malformed,
                sealed,
            }
        })
        .collect()
}

fn resource_version(object: &Value) -> Option<u64> {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|text| text.parse().ok())
}

async fn sleep_until_option(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The reconciler and everything it owns.
pub struct Reconciler {
    cluster: String,
    applier: Applier,
    inventory_store: InventoryStore,
    inventory: Inventory,
    watchers: Watchers,
    live_events: mpsc::Receiver<LiveEvent>,
    desired: watch::Receiver<Option<Arc<DesiredState>>>,
    outbound: Outbound,
    metrics: Metrics,
    sops_keys: crate::sops_keys::SopsKeys,
    /// Live managed objects, as the watches (or apply answers) last showed them.
    live: HashMap<ObjectKey, Value>,
    /// When drift was first seen on an object (revert latency).
    drift_seen: HashMap<ObjectKey, Instant>,
    /// Watches that have listed their objects.
    listed: HashSet<String>,
    watch_targets: HashMap<String, WatchTarget>,
    /// Every object the agent cares about (desired or inventoried).
    managed: HashSet<ObjectKey>,
    apps: HashMap<String, AppState>,
    /// Prune policy of each app in the last desired state (for apps that leave it).
    prune_policy: HashMap<String, bool>,
    /// The revision and digest last applied completely.
    applied: (String, String),
    /// The desired state last parsed, and its apps.
    parsed: Option<(Arc<DesiredState>, Arc<Vec<ParsedApp>>)>,
    /// Objects a watch reported since the last pass.
    dirty: HashSet<ObjectKey>,
    /// Whether the next pass looks at every object (not only the dirty ones).
    full: bool,
    /// Run another full pass at once (a namespace was recreated: its content
    /// waiting for it can be applied now).
    again: bool,
}

/// What the reconciler needs to start.
pub struct ReconcilerParts {
    /// The cluster.
    pub cluster: String,
    /// Applies to the cluster.
    pub applier: Applier,
    /// The inventory ConfigMap.
    pub inventory_store: InventoryStore,
    /// The inventory as loaded.
    pub inventory: Inventory,
    /// The desired state to follow.
    pub desired: watch::Receiver<Option<Arc<DesiredState>>>,
    /// Where status and drift go.
    pub outbound: Outbound,
    /// Metrics.
    pub metrics: Metrics,
    /// Where the age identities for SOPS-encrypted objects are read from.
    pub sops_keys: crate::sops_keys::SopsKeys,
}

impl Reconciler {
    /// A reconciler with no watches yet.
    pub fn new(parts: ReconcilerParts) -> Self {
        let (sender, receiver) = mpsc::channel(LIVE_EVENT_BUFFER);
        let watchers = Watchers::new(parts.applier.client().clone(), sender);
        Self {
            cluster: parts.cluster,
            applier: parts.applier,
            inventory_store: parts.inventory_store,
            inventory: parts.inventory,
            watchers,
            live_events: receiver,
            desired: parts.desired,
            outbound: parts.outbound,
            metrics: parts.metrics,
            sops_keys: parts.sops_keys,
            live: HashMap::new(),
            drift_seen: HashMap::new(),
            listed: HashSet::new(),
            watch_targets: HashMap::new(),
            managed: HashSet::new(),
            apps: HashMap::new(),
            prune_policy: HashMap::new(),
            applied: (String::new(), String::new()),
            parsed: None,
            dirty: HashSet::new(),
            full: true,
            again: false,
        }
    }

    /// Runs until the desired-state sender goes away.
    pub async fn run(self) {
        let (_never, stop) = watch::channel(false);
        self.run_until(stop).await;
    }

    /// Runs until the desired-state sender goes away or `stop` turns true;
    /// a pass in flight (the apply in flight) is finished first.
    pub async fn run_until(mut self, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if *stop.borrow() {
                return;
            }
            self.pass().await;
            if *stop.borrow() {
                return;
            }
            if std::mem::take(&mut self.again) {
                self.full = true;
                continue;
            }
            loop {
                let next_retry = self.next_namespace_retry();
                tokio::select! {
                    _ = stop.changed() => return,
                    changed = self.desired.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        break;
                    }
                    event = self.live_events.recv() => {
                        let Some(event) = event else { return };
                        let mut relevant = self.absorb(event);
                        while let Ok(event) = self.live_events.try_recv() {
                            relevant |= self.absorb(event);
                        }
                        if relevant {
                            break;
                        }
                    }
                    _ = sleep_until_option(next_retry) => {
                        self.full = true;
                        break;
                    }
                    _ = tick.tick() => {
                        if self.timer_due() {
                            self.full = true;
                            break;
                        }
                    }
                }
            }
        }
    }

    /// Takes in a watch event; true if it concerns a managed object.
    fn absorb(&mut self, event: LiveEvent) -> bool {
        match event {
            LiveEvent::Applied { key, object } => {
                if !self.managed.contains(&key) {
                    return false;
                }
                if let (Some(current), Some(incoming)) = (
                    self.live.get(&key).and_then(resource_version),
                    resource_version(&object),
                ) && incoming < current
                {
                    // Older than what an apply already returned.
                    return false;
                }
                self.drift_seen.insert(key.clone(), Instant::now());
                self.dirty.insert(key.clone());
                self.live.insert(key, object);
                true
            }
            LiveEvent::Deleted { key, object } => {
                if !self.managed.contains(&key) {
                    return false;
                }
                if let (Some(current), Some(deleted)) = (
                    self.live.get(&key).and_then(resource_version),
                    resource_version(&object),
                ) && deleted < current
                {
                    // Already recreated.
                    return false;
                }
                self.drift_seen.insert(key.clone(), Instant::now());
                self.dirty.insert(key.clone());
                self.live.remove(&key);
                true
            }
            LiveEvent::Listed { watch, present } => {
                if let Some(target) = self.watch_targets.get(&watch) {
                    let gone: Vec<ObjectKey> = self
                        .live
                        .keys()
                        .filter(|key| target.covers(key) && !present.contains(*key))
                        .cloned()
                        .collect();
                    for key in gone {
                        self.live.remove(&key);
                    }
                }
                self.listed.insert(watch);
                self.full = true;
                true
            }
        }
    }

    /// Whether the watch covering `key` has listed (so absence means absent).
    fn is_known(&self, key: &ObjectKey) -> bool {
        self.watch_targets
            .iter()
            .any(|(id, target)| target.covers(key) && self.listed.contains(id))
    }

    /// When the first object waiting for a terminating namespace is due.
    fn next_namespace_retry(&self) -> Option<tokio::time::Instant> {
        self.apps
            .values()
            .flat_map(|app| app.failures.values())
            .filter(|failure| failure.namespace_terminating)
            .map(|failure| tokio::time::Instant::from_std(failure.at + failure.retry_after()))
            .min()
    }

    fn timer_due(&self) -> bool {
        self.apps.values().any(|app| {
            app.failures.values().any(|failure| failure.due())
                || (app.progressing_since.is_some() && !app.timed_out)
        })
    }

    /// One pass over the whole desired state.
    async fn pass(&mut self) {
        let desired = self.desired.borrow().clone();
        let Some(desired) = desired else {
            return;
        };
        let apps = match &self.parsed {
            Some((parsed, apps))
                if Arc::ptr_eq(parsed, &desired)
                    && !(self.full
                        && apps.iter().any(|app| {
                            !app.scope_pending.is_empty() || !app.sealed.is_empty()
                        })) =>
            {
                Arc::clone(apps)
            }
            parsed => {
                let mut apps = match parsed {
                    // Only scopes left to resolve (a kind not served before).
                    Some((parsed, apps)) if Arc::ptr_eq(parsed, &desired) => apps.as_ref().clone(),
                    _ => parse(&desired),
                };
                self.open_sealed(&mut apps);
                self.resolve_scopes(&mut apps).await;
                let apps = Arc::new(apps);
                self.parsed = Some((Arc::clone(&desired), Arc::clone(&apps)));
                self.full = true;
                apps
            }
        };
        let span = info_span!("reconcile", cluster = %self.cluster, revision = %desired.revision, full = self.full);
        self.pass_over(&desired, &apps).instrument(span).await;
        self.dirty.clear();
        self.full = false;
    }

    /// Whether this pass compares `key` with its live object.
    fn should_check(&self, key: &ObjectKey) -> bool {
        self.full || self.dirty.contains(key)
    }

    async fn pass_over(&mut self, desired: &DesiredState, apps: &[ParsedApp]) {
        if !self.full {
            // Only drift to look at: the desired state and the watches are as before.
            let mut verdicts: HashMap<String, (bool, Health)> = HashMap::new();
            for app in apps {
                let span = info_span!("app", app = %app.name);
                self.reconcile_app(app, &verdicts).instrument(span).await;
                if let Some(state) = self.apps.get(&app.name) {
                    verdicts.insert(app.name.clone(), (state.fully_applied, state.health));
                }
            }
            self.publish(desired, apps);
            return;
        }
        self.managed = apps
            .iter()
            .flat_map(|app| app.objects.iter().map(|object| object.key.clone()))
            .chain(
                self.inventory
                    .apps
                    .values()
                    .flatten()
                    .map(|entry| entry.key.clone()),
            )
            .collect();
        self.live.retain(|key, _| self.managed.contains(key));
        self.prune_policy = apps
            .iter()
            .map(|app| (app.name.clone(), app.prune))
            .collect::<HashMap<_, _>>()
            .into_iter()
            .chain(
                self.prune_policy
                    .iter()
                    .filter(|(name, _)| !apps.iter().any(|app| &app.name == *name))
                    .map(|(name, prune)| (name.clone(), *prune)),
            )
            .collect();

        let mut verdicts: HashMap<String, (bool, Health)> = HashMap::new();
        for app in apps {
            let span = info_span!("app", app = %app.name);
            self.reconcile_app(app, &verdicts).instrument(span).await;
            if let Some(state) = self.apps.get(&app.name) {
                verdicts.insert(app.name.clone(), (state.fully_applied, state.health));
            }
        }
        let removed: Vec<String> = self
            .inventory
            .apps
            .keys()
            .filter(|name| !apps.iter().any(|app| &app.name == *name))
            .cloned()
            .collect();
        for name in removed {
            let prune = self.prune_policy.get(&name).copied().unwrap_or(true);
            let span = info_span!("app", app = %name);
            self.remove_app(&name, prune).instrument(span).await;
        }
        self.apps
            .retain(|name, _| apps.iter().any(|app| &app.name == name));
        self.refresh_watches(apps).await;
        self.metrics
            .managed_objects
            .set(i64::try_from(self.inventory.len()).unwrap_or(i64::MAX));
        self.publish(desired, apps);
    }

    async fn save_inventory(&mut self, inventory: Inventory) {
        if inventory == self.inventory {
            return;
        }
        match self.inventory_store.save(&inventory).await {
            Ok(()) => self.inventory = inventory,
            Err(error) => warn!(%error, "cannot save the inventory"),
        }
    }

    /// Watches every kind and namespace the agent manages.
    async fn refresh_watches(&mut self, apps: &[ParsedApp]) {
        let mut wanted: Vec<(ObjectKey, String)> = apps
            .iter()
            .flat_map(|app| {
                app.objects
                    .iter()
                    .map(|object| (object.key.clone(), object.api_version.clone()))
            })
            .collect();
        wanted.extend(
            self.inventory
                .apps
                .values()
                .flatten()
                .map(|entry| (entry.key.clone(), entry.api_version.clone())),
        );
        let mut targets = HashMap::new();
        let mut seen = HashSet::new();
        for (key, api_version) in wanted {
            if !seen.insert((key.group.clone(), key.kind.clone(), key.namespace.clone())) {
                continue;
            }
            let Ok(resolved) = self.applier.resolve(&key, &api_version).await else {
                continue;
            };
            let target = WatchTarget {
                namespace: resolved.namespaced.then(|| key.namespace.clone()),
                resource: resolved.resource,
            };
            targets.insert(target.id(), target);
        }
        self.watchers.ensure(&targets);
        self.listed.retain(|id| targets.contains_key(id));
        self.watch_targets = targets;
        self.metrics
            .watches
            .set(i64::try_from(self.watchers.len()).unwrap_or(i64::MAX));
    }

    /// Builds the status report and hands it to the outbound side.
    fn publish(&mut self, desired: &DesiredState, apps: &[ParsedApp]) {
        let states: Vec<(&str, &AppState)> = apps
            .iter()
            .filter_map(|app| {
                self.apps
                    .get(&app.name)
                    .map(|state| (app.name.as_str(), state))
            })
            .collect();
        if states.len() == apps.len() && states.iter().all(|(_, state)| state.fully_applied) {
            self.applied = (desired.revision.clone(), desired.digest.clone());
        }
        let health = Health::worst(states.iter().map(|(_, state)| state.health));
        let reports: Vec<fleet_proto::AppStatus> = states
            .iter()
            .map(|(name, state)| state.report(name))
            .collect();
        let message = reports
            .iter()
            .filter(|report| !report.message.is_empty())
            .map(|report| format!("{}: {}", report.app, report.message))
            .collect::<Vec<_>>()
            .join(" | ");
        self.outbound.report_status(StatusReport {
            applied_revision: self.applied.0.clone(),
            applied_digest: self.applied.1.clone(),
            health: health.to_wire() as i32,
            apps: reports,
            message,
        });
    }
}

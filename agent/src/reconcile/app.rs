//! One app in one pass: dependencies, apply, drift, prune, health.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use fleet_proto::{DriftEvent, ObjectRef};
use tracing::{Instrument, info, info_span, warn};

use super::state::ObjectFailure;
use super::{ParsedApp, Reconciler};
use crate::apply::object::ObjectKey;
use crate::drift::compare::{differences, redacted, summary};
use crate::drift::ignore;
use crate::health::{Health, object_health};
use crate::inventory::InventoryEntry;

/// Why an object is applied in this pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    /// Its desired digest differs from the one last applied.
    Changed,
    /// It drifted and selfHeal is on.
    Revert,
    /// It was deleted by hand and selfHeal is on.
    Recreate,
}

impl Reconciler {
    fn drift_event(&self, app: &str, key: &ObjectKey, diff: &str, reverted: bool) {
        warn!(object = %key, diff, reverted, "drift");
        self.metrics.drift_events.inc();
        self.outbound.report_drift(DriftEvent {
            app: app.to_owned(),
            object: Some(ObjectRef {
                group: key.group.clone(),
                kind: key.kind.clone(),
                namespace: key.namespace.clone(),
                name: key.name.clone(),
            }),
            diff: diff.to_owned(),
            reverted,
        });
    }

    /// Brings one app to its desired state (or says what it waits for).
    pub(super) async fn reconcile_app(
        &mut self,
        app: &ParsedApp,
        verdicts: &HashMap<String, (bool, Health)>,
    ) {
        let mut state = self.apps.remove(&app.name).unwrap_or_default();
        state.follow(&app.digest);
        state.waiting_for = app
            .depends_on
            .iter()
            .find(|dependency| {
                // A dependency this cluster does not run cannot be waited for.
                verdicts
                    .get(*dependency)
                    .is_some_and(|(applied, health)| !(*applied && *health == Health::Healthy))
            })
            .cloned();
        if let Some(dependency) = &state.waiting_for {
            info!(dependency = %dependency, "waiting for a dependency");
            state.fully_applied = false;
            state.health = Health::Progressing;
            self.apps.insert(app.name.clone(), state);
            return;
        }
        let desired_digests: HashMap<&ObjectKey, &str> = app
            .objects
            .iter()
            .map(|object| (&object.key, object.digest.as_str()))
            .collect();
        state
            .failures
            .retain(|key, failure| desired_digests.get(key) == Some(&failure.digest.as_str()));
        for (index, message) in app.malformed.iter().enumerate() {
            state.failures.insert(
                ObjectKey {
                    group: String::new(),
                    kind: "(manifest)".into(),
                    namespace: String::new(),
                    name: index.to_string(),
                },
                ObjectFailure {
                    digest: String::new(),
                    message: message.clone(),
                    at: Instant::now(),
                    namespace_terminating: false,
                },
            );
        }

        // List every object before applying it, so a crash mid-apply still
        // leaves a complete inventory.
        let old = self
            .inventory
            .apps
            .get(&app.name)
            .cloned()
            .unwrap_or_default();
        let old_digests: HashMap<&ObjectKey, &str> = old
            .iter()
            .map(|entry| (&entry.key, entry.digest.as_str()))
            .collect();
        let desired_keys: HashSet<&ObjectKey> =
            app.objects.iter().map(|object| &object.key).collect();
        let mut entries: Vec<InventoryEntry> = app
            .objects
            .iter()
            .map(|object| InventoryEntry {
                key: object.key.clone(),
                api_version: object.api_version.clone(),
                digest: old_digests
                    .get(&object.key)
                    .map(|digest| (*digest).to_owned())
                    .unwrap_or_default(),
            })
            .collect();
        let stale: Vec<InventoryEntry> = old
            .iter()
            .filter(|entry| !desired_keys.contains(&entry.key))
            .cloned()
            .collect();
        let listed: Vec<InventoryEntry> = entries.iter().chain(stale.iter()).cloned().collect();
        if listed != old {
            let mut inventory = self.inventory.clone();
            inventory.apps.insert(app.name.clone(), listed.clone());
            self.save_inventory(inventory).await;
            if self.inventory.apps.get(&app.name) != Some(&listed) {
                // Not recorded: applying now could leave objects nobody prunes.
                state.fully_applied = false;
                state.health = Health::Unknown;
                self.apps.insert(app.name.clone(), state);
                return;
            }
        }

        for (index, object) in app.objects.iter().enumerate() {
            let key = &object.key;
            if let Some(message) = app.sealed_message(index) {
                // Not decrypted: nothing of it is applied, compared or pruned.
                let known = state.failures.get(key).is_some_and(|failure| {
                    failure.digest == object.digest && failure.message == message && !failure.due()
                });
                if !known {
                    warn!(object = %key, error = %message, "cannot decrypt");
                    state.failures.insert(
                        key.clone(),
                        ObjectFailure {
                            digest: object.digest.clone(),
                            message: message.to_owned(),
                            at: Instant::now(),
                            namespace_terminating: false,
                        },
                    );
                }
                continue;
            }
            let live = self.live.get(key);
            let pointers = ignore::pointers_for(&app.ignore, key);
            let recent_failure = state
                .failures
                .get(key)
                .is_some_and(|failure| failure.digest == object.digest && !failure.due());
            // Already reported while it waits for its namespace to go.
            let waiting = state
                .failures
                .get(key)
                .is_some_and(|failure| failure.namespace_terminating);
            let check = self.should_check(key);
            let reason = if entries[index].digest != object.digest {
                (!recent_failure).then_some(Reason::Changed)
            } else if !check {
                None
            } else if live.is_none() && self.is_known(key) {
                let diff = "deleted by hand";
                if app.self_heal {
                    if recent_failure {
                        None
                    } else if waiting {
                        Some(Reason::Recreate)
                    } else {
                        state.drift_count += 1;
                        state.last_reverted = Some(format!("{key}: {diff}, recreated"));
                        self.drift_event(&app.name, key, diff, true);
                        Some(Reason::Recreate)
                    }
                } else {
                    if state.drifted.get(key).map(String::as_str) != Some(diff) {
                        state.drift_count += 1;
                        self.drift_event(&app.name, key, diff, false);
                    }
                    state.drifted.insert(key.clone(), diff.to_owned());
                    None
                }
            } else if let Some(live) = live {
                let found = redacted(
                    key,
                    object.sops_file.is_some(),
                    differences(key, &object.manifest, live, &pointers),
                );
                if found.is_empty() {
                    state.drifted.remove(key);
                    None
                } else {
                    let diff = summary(&found);
                    if app.self_heal {
                        if recent_failure {
                            None
                        } else {
                            state.drift_count += 1;
                            state.last_reverted = Some(format!("{key}: {diff}"));
                            self.drift_event(&app.name, key, &diff, true);
                            Some(Reason::Revert)
                        }
                    } else {
                        if state.drifted.get(key) != Some(&diff) {
                            state.drift_count += 1;
                            self.drift_event(&app.name, key, &diff, false);
                        }
                        state.drifted.insert(key.clone(), diff);
                        None
                    }
                }
            } else {
                None
            };
            let Some(reason) = reason else {
                continue;
            };
            let manifest =
                ignore::with_live_values(&object.manifest, self.live.get(key), &pointers);
            let span = info_span!("object", object = %key, reason = ?reason);
            match self
                .applier
                .apply(key, &object.api_version, &manifest)
                .instrument(span)
                .await
            {
                Ok(stored) => {
                    self.metrics.applies.inc();
                    if reason != Reason::Changed {
                        self.metrics.reverts.inc();
                        if let Some(seen) = self.drift_seen.remove(key) {
                            self.metrics
                                .revert_seconds
                                .observe(seen.elapsed().as_secs_f64());
                        }
                    }
                    info!(object = %key, reason = ?reason, "applied");
                    if key.group.is_empty() && key.kind == "Namespace" {
                        self.namespace_available(&key.name, &mut state);
                    }
                    self.live.insert(key.clone(), stored);
                    entries[index].digest = object.digest.clone();
                    state.failures.remove(key);
                    state.drifted.remove(key);
                }
                Err(error) if error.is_namespace_terminating() => {
                    info!(object = %key, "namespace is being terminated; applying again when it is gone");
                    state.failures.insert(
                        key.clone(),
                        ObjectFailure {
                            digest: object.digest.clone(),
                            message: error.to_string(),
                            at: Instant::now(),
                            namespace_terminating: true,
                        },
                    );
                }
                Err(error) => {
                    warn!(object = %key, %error, "apply failed");
                    self.metrics.apply_errors.inc();
                    state.failures.insert(
                        key.clone(),
                        ObjectFailure {
                            digest: object.digest.clone(),
                            message: error.to_string(),
                            at: Instant::now(),
                            namespace_terminating: false,
                        },
                    );
                }
            }
        }

        // Prune what left Git, in reverse apply order.
        state.orphans.clear();
        let mut remaining = Vec::new();
        if app.prune {
            for entry in stale.iter().rev() {
                match self.applier.delete(&entry.key, &entry.api_version).await {
                    Ok(()) => {
                        info!(object = %entry.key, "pruned");
                        self.metrics.prunes.inc();
                        self.live.remove(&entry.key);
                    }
                    Err(error) => {
                        warn!(object = %entry.key, %error, "prune failed");
                        self.metrics.apply_errors.inc();
                        state.failures.insert(
                            entry.key.clone(),
                            ObjectFailure {
                                digest: String::new(),
                                message: error.to_string(),
                                at: Instant::now(),
                                namespace_terminating: false,
                            },
                        );
                        remaining.push(entry.clone());
                    }
                }
            }
            remaining.reverse();
        } else {
            state.orphans = stale.iter().map(|entry| entry.key.clone()).collect();
            remaining = stale;
        }
        let recorded: Vec<InventoryEntry> = entries.iter().cloned().chain(remaining).collect();
        if self.inventory.apps.get(&app.name) != Some(&recorded) {
            let mut inventory = self.inventory.clone();
            inventory.apps.insert(app.name.clone(), recorded);
            self.save_inventory(inventory).await;
        }

        // Health.
        let health = Health::worst(app.objects.iter().zip(&entries).map(|(object, entry)| {
            if let Some(failure) = state.failures.get(&object.key) {
                if failure.namespace_terminating {
                    Health::Progressing
                } else {
                    Health::Degraded
                }
            } else if entry.digest != object.digest {
                Health::Progressing
            } else {
                match self.live.get(&object.key) {
                    None if !self.is_known(&object.key) => Health::Unknown,
                    live => object_health(&object.key.group, &object.key.kind, live),
                }
            }
        }));
        state.degraded = app
            .objects
            .iter()
            .filter(|object| !state.failures.contains_key(&object.key))
            .filter_map(|object| {
                let live = self.live.get(&object.key)?;
                (object_health(&object.key.group, &object.key.kind, Some(live)) == Health::Degraded)
                    .then(|| {
                        format!(
                            "{} {}/{}: {}",
                            object.key.kind,
                            object.key.namespace,
                            object.key.name,
                            degraded_reason(live)
                        )
                    })
            })
            .collect();
        let health = if app.malformed.is_empty() {
            health
        } else {
            Health::Degraded
        };
        if health == Health::Progressing {
            let since = *state.progressing_since.get_or_insert_with(Instant::now);
            state.timed_out = app
                .health_timeout
                .is_some_and(|timeout| since.elapsed() >= timeout);
        } else {
            state.progressing_since = None;
            state.timed_out = false;
        }
        state.health = if state.timed_out {
            Health::Degraded
        } else {
            health
        };
        state.fully_applied = state.failures.is_empty()
            && app
                .objects
                .iter()
                .zip(&entries)
                .all(|(object, entry)| entry.digest == object.digest);
        if state.fully_applied {
            state.applied_digest = app.digest.clone();
        }
        self.apps.insert(app.name.clone(), state);
    }

    /// A managed namespace was just (re)created: objects that waited for
    /// its terminating predecessor are applied at once, in a pass right
    /// after this one (`state` is the app being reconciled, taken out of
    /// `self.apps`).
    fn namespace_available(&mut self, namespace: &str, state: &mut super::state::AppState) {
        let mut released = false;
        for failures in std::iter::once(&mut state.failures)
            .chain(self.apps.values_mut().map(|app| &mut app.failures))
        {
            for (key, failure) in failures.iter_mut() {
                if failure.namespace_terminating && key.namespace == namespace {
                    // Due now; kept, so the retry is not reported as new drift.
                    failure.at = Instant::now()
                        .checked_sub(failure.retry_after())
                        .unwrap_or(failure.at);
                    released = true;
                }
            }
        }
        if released {
            info!(namespace, "namespace recreated; applying its content now");
            self.again = true;
        }
    }

    /// Prunes every object of an app that left the desired state (if its
    /// last policy allowed prune).
    pub(super) async fn remove_app(&mut self, name: &str, prune: bool) {
        if !prune {
            return;
        }
        let entries = self.inventory.apps.get(name).cloned().unwrap_or_default();
        let mut remaining = Vec::new();
        for entry in entries.iter().rev() {
            match self.applier.delete(&entry.key, &entry.api_version).await {
                Ok(()) => {
                    info!(object = %entry.key, "pruned (app removed)");
                    self.metrics.prunes.inc();
                    self.live.remove(&entry.key);
                }
                Err(error) => {
                    warn!(object = %entry.key, %error, "prune failed");
                    remaining.push(entry.clone());
                }
            }
        }
        remaining.reverse();
        let mut inventory = self.inventory.clone();
        if remaining.is_empty() {
            inventory.apps.remove(name);
        } else {
            inventory.apps.insert(name.to_owned(), remaining);
        }
        self.save_inventory(inventory).await;
    }
}

/// Why a live object is Degraded: the reason of its first failing condition.
fn degraded_reason(live: &serde_json::Value) -> String {
    live.pointer("/status/conditions")
        .and_then(serde_json::Value::as_array)
        .and_then(|conditions| {
            conditions.iter().find(|condition| {
                condition.get("status").and_then(serde_json::Value::as_str) == Some("False")
                    && condition.get("reason").is_some()
            })
        })
        .and_then(|condition| condition.get("reason").and_then(serde_json::Value::as_str))
        .unwrap_or("Degraded")
        .to_owned()
}

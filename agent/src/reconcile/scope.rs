//! Scope from discovery. The hub renders objects of a kind it cannot scope
//! (its CRD is not in the fleet repository) without a namespace rather than
//! guess; here the agent asks the API server: a namespaced kind goes to the
//! app's namespace, a cluster-scoped kind loses any namespace. Keys are
//! fixed before anything is inventoried, applied or watched, so inventory,
//! drift and prune all see the object under the name the API server uses.

use serde_json::Value;
use tracing::debug;

use super::{ParsedApp, Reconciler};

impl Reconciler {
    /// Resolves the scope of every object of `apps` still waiting for it.
    /// An object whose kind the cluster does not serve (yet) stays waiting;
    /// its apply reports the unknown kind, and a later full pass asks again.
    pub(super) async fn resolve_scopes(&mut self, apps: &mut [ParsedApp]) {
        for app in apps {
            let mut still_pending = Vec::new();
            for index in std::mem::take(&mut app.scope_pending) {
                let Some(object) = app.objects.get_mut(index) else {
                    continue;
                };
                let Ok(resolved) = self.applier.resolve(&object.key, &object.api_version).await
                else {
                    still_pending.push(index);
                    continue;
                };
                let metadata = object
                    .manifest
                    .as_object_mut()
                    .and_then(|map| map.get_mut("metadata"))
                    .and_then(Value::as_object_mut);
                if resolved.namespaced && object.key.namespace.is_empty() {
                    object.key.namespace = app.namespace.clone();
                    if let Some(metadata) = metadata {
                        metadata
                            .insert("namespace".to_owned(), Value::String(app.namespace.clone()));
                    }
                    debug!(object = %object.key, "namespaced kind: the app's namespace");
                } else if !resolved.namespaced && !object.key.namespace.is_empty() {
                    object.key.namespace.clear();
                    if let Some(metadata) = metadata {
                        metadata.remove("namespace");
                    }
                    debug!(object = %object.key, "cluster-scoped kind: no namespace");
                }
            }
            app.scope_pending = still_pending;
        }
    }
}

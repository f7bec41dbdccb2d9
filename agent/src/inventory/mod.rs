//! The inventory: per app, the objects this agent applied, kept in a
//! ConfigMap in the agent's namespace (one data key per app, a JSON list in
//! apply order). Prune deletes only what is listed here, so objects the agent
//! did not create are never touched, and a restarted agent — even one that
//! stopped mid-apply — still knows what it owns: objects are listed *before*
//! they are applied and removed from the list only *after* they are deleted.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::apply::FIELD_MANAGER;
use crate::apply::object::ObjectKey;

/// Name of the inventory ConfigMap.
pub const INVENTORY_NAME: &str = "fleet-agent-inventory";

/// Why the inventory could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The API server refused.
    #[error("inventory ConfigMap {namespace}/{INVENTORY_NAME}: {source}")]
    Api {
        /// The agent's namespace.
        namespace: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
    /// An app's entry is not a list of objects.
    #[error("inventory ConfigMap {namespace}/{INVENTORY_NAME}, key {app}: {source}")]
    Malformed {
        /// The agent's namespace.
        namespace: String,
        /// The app.
        app: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// Result of this module.
pub type Result<T, E = InventoryError> = std::result::Result<T, E>;

/// One applied object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryEntry {
    /// The object.
    #[serde(flatten)]
    pub key: ObjectKey,
    /// `apiVersion` it was applied at (needed to delete it).
    pub api_version: String,
    /// Digest of the desired object last applied; empty while an apply is
    /// under way (the object may or may not exist).
    pub digest: String,
}

/// Everything the agent owns, per app.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// App → objects in apply order.
    pub apps: BTreeMap<String, Vec<InventoryEntry>>,
}

impl Inventory {
    /// The digest applied for `key` in `app`, if listed.
    pub fn digest(&self, app: &str, key: &ObjectKey) -> Option<&str> {
        self.apps
            .get(app)?
            .iter()
            .find(|entry| &entry.key == key)
            .map(|entry| entry.digest.as_str())
    }

    /// Number of objects listed.
    pub fn len(&self) -> usize {
        self.apps.values().map(Vec::len).sum()
    }

    /// Whether nothing is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads and writes the inventory ConfigMap.
#[derive(Clone)]
pub struct InventoryStore {
    api: Api<ConfigMap>,
    namespace: String,
}

impl InventoryStore {
    /// The inventory in `namespace`.
    pub fn new(client: Client, namespace: &str) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            namespace: namespace.to_owned(),
        }
    }

    /// The stored inventory (empty if there is none yet).
    pub async fn load(&self) -> Result<Inventory> {
        let config_map =
            self.api
                .get_opt(INVENTORY_NAME)
                .await
                .map_err(|source| InventoryError::Api {
                    namespace: self.namespace.clone(),
                    source,
                })?;
        let mut inventory = Inventory::default();
        for (app, text) in config_map.and_then(|map| map.data).unwrap_or_default() {
            let entries: Vec<InventoryEntry> =
                serde_json::from_str(&text).map_err(|source| InventoryError::Malformed {
                    namespace: self.namespace.clone(),
                    app: app.clone(),
                    source,
                })?;
            if !entries.is_empty() {
                inventory.apps.insert(app, entries);
            }
        }
        Ok(inventory)
    }

    /// Stores `inventory` (server-side apply: apps no longer listed disappear).
    pub async fn save(&self, inventory: &Inventory) -> Result<()> {
        let mut data = BTreeMap::new();
        for (app, entries) in &inventory.apps {
            if entries.is_empty() {
                continue;
            }
            let text =
                serde_json::to_string(entries).map_err(|source| InventoryError::Malformed {
                    namespace: self.namespace.clone(),
                    app: app.clone(),
                    source,
                })?;
            data.insert(app.clone(), text);
        }
        let manifest = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": INVENTORY_NAME,
                "namespace": self.namespace,
                "labels": {"app.kubernetes.io/managed-by": FIELD_MANAGER},
            },
            "data": data,
        });
        self.api
            .patch(
                INVENTORY_NAME,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&manifest),
            )
            .await
            .map_err(|source| InventoryError::Api {
                namespace: self.namespace.clone(),
                source,
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_serialize_flat() {
        let entry = InventoryEntry {
            key: ObjectKey {
                group: "apps".into(),
                kind: "Deployment".into(),
                namespace: "web".into(),
                name: "web".into(),
            },
            api_version: "apps/v1".into(),
            digest: "sha256:1".into(),
        };
        let text = serde_json::to_string(&entry).unwrap();
        assert_eq!(
            text,
            r#"{"group":"apps","kind":"Deployment","namespace":"web","name":"web","apiVersion":"apps/v1","digest":"sha256:1"}"#
        );
        assert_eq!(
            serde_json::from_str::<InventoryEntry>(&text).unwrap(),
            entry
        );
    }
}

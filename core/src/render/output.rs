//! What rendering produces: per-object, per-app and per-cluster desired state.

use serde::Serialize;
use serde_json::Value;

use super::canonical::{digest, to_yaml};
use super::object::ObjectKey;
use crate::model::{FleetDuration, IgnoreDifference, SyncPolicy};

/// One object of a cluster's desired state.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedObject {
    /// The object's identity.
    pub key: ObjectKey,
    /// sha256 of the object's canonical bytes.
    pub digest: String,
    /// The object's canonical bytes (compact JSON, keys sorted) — what the
    /// hub sends and what the digest is taken over. The object itself is
    /// [`Self::value`], parsed from these on demand.
    pub canonical_json: String,
    /// `file:line` of the document that defined it.
    pub source: String,
}

impl RenderedObject {
    /// The object, canonical (keys sorted).
    pub fn value(&self) -> Value {
        // The bytes were serialized from a `Value`; they always parse.
        serde_json::from_str(&self.canonical_json).unwrap_or(Value::Null)
    }
}

impl Serialize for RenderedObject {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut object = serializer.serialize_struct("RenderedObject", 4)?;
        object.serialize_field("key", &self.key)?;
        object.serialize_field("value", &self.value())?;
        object.serialize_field("digest", &self.digest)?;
        object.serialize_field("source", &self.source)?;
        object.end()
    }
}

/// One app's desired state on one cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRender {
    /// The app's name.
    pub app: String,
    /// The namespace of its namespaced objects that name none (the App's
    /// `spec.namespace`, else `default`). Objects whose scope the hub cannot
    /// know are rendered without a namespace; the agent puts them here when
    /// discovery says their kind is namespaced.
    pub namespace: String,
    /// Prune / self-heal policy.
    pub sync: SyncPolicy,
    /// Apps to apply and see healthy first.
    pub depends_on: Vec<String>,
    /// Fields drift detection ignores.
    pub ignore_differences: Vec<IgnoreDifference>,
    /// How long the app may take to become healthy.
    pub health_timeout: Option<FleetDuration>,
    /// Objects in apply order.
    pub objects: Vec<RenderedObject>,
    /// sha256 over the canonical bytes of `objects` (when an object's scope
    /// is left to the agent, that digest and `namespace` hashed again).
    pub digest: String,
}

impl AppRender {
    /// sha256 over the canonical JSON array of `objects` — the bytes
    /// joined, never serialized again.
    pub(crate) fn digest_of(objects: &[RenderedObject]) -> String {
        let length = objects
            .iter()
            .map(|object| object.canonical_json.len() + 1)
            .sum::<usize>();
        let mut array = Vec::with_capacity(length + 2);
        array.push(b'[');
        for (index, object) in objects.iter().enumerate() {
            if index > 0 {
                array.push(b',');
            }
            array.extend_from_slice(object.canonical_json.as_bytes());
        }
        array.push(b']');
        digest(&array)
    }
}

/// One cluster's complete desired state at one revision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterRender {
    /// The cluster's name.
    pub cluster: String,
    /// Its environment.
    pub environment: String,
    /// The commit rendered (for Git sources).
    pub revision: Option<String>,
    /// Its apps, dependencies first.
    pub apps: Vec<AppRender>,
    /// sha256 over the apps' names and digests.
    pub digest: String,
}

impl ClusterRender {
    pub(crate) fn digest_of(apps: &[AppRender]) -> String {
        let mut bytes = Vec::new();
        for app in apps {
            bytes.extend_from_slice(app.app.as_bytes());
            bytes.push(0);
            bytes.extend_from_slice(app.digest.as_bytes());
            bytes.push(b'\n');
        }
        digest(&bytes)
    }

    /// Every object of the cluster, apps in dependency order.
    pub fn objects(&self) -> impl Iterator<Item = (&AppRender, &RenderedObject)> {
        self.apps
            .iter()
            .flat_map(|app| app.objects.iter().map(move |object| (app, object)))
    }

    /// The desired state as a YAML stream (`---` between documents).
    pub fn to_yaml_stream(&self) -> String {
        let mut stream = String::new();
        for (_, object) in self.objects() {
            stream.push_str("---\n");
            stream.push_str(&to_yaml(&object.value()));
        }
        stream
    }
}

//! The catalog of served resource types: the built-in kinds plus one entry per
//! CustomResourceDefinition, which discovery, routing and the store all consult.

mod builtin;
mod custom;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

pub use custom::resource_type_from_crd;

/// A resource named by its API group and plural name, like `deployments.apps`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupResource {
    /// The API group; empty for the core group.
    pub group: String,
    /// The plural resource name, for example `deployments`.
    pub resource: String,
}

impl GroupResource {
    /// Builds a group/resource pair.
    pub fn new(group: &str, resource: &str) -> Self {
        Self {
            group: group.to_string(),
            resource: resource.to_string(),
        }
    }
}

impl fmt::Display for GroupResource {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            write!(formatter, "{}", self.resource)
        } else {
            write!(formatter, "{}.{}", self.resource, self.group)
        }
    }
}

/// Where the replica counts of a scalable resource live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleSpec {
    /// JSON path of the desired replicas, for example `.spec.replicas`.
    pub spec_replicas_path: String,
    /// JSON path of the observed replicas, for example `.status.replicas`.
    pub status_replicas_path: String,
    /// JSON path of the label selector string, if any.
    pub label_selector_path: Option<String>,
}

/// An extra table column of a custom resource (`additionalPrinterColumns`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterColumn {
    /// Column header.
    pub name: String,
    /// OpenAPI type of the value, for example `string`.
    pub column_type: String,
    /// Simple JSON path, for example `.spec.replicas`.
    pub json_path: String,
}

/// Everything the simulator knows about one served resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// API group, empty for core.
    pub group: String,
    /// Served versions; the first is the preferred one.
    pub versions: Vec<String>,
    /// Kind, for example `Deployment`.
    pub kind: String,
    /// List kind, for example `DeploymentList`.
    pub list_kind: String,
    /// Plural resource name.
    pub plural: String,
    /// Singular resource name.
    pub singular: String,
    /// kubectl short names, for example `deploy`.
    pub short_names: Vec<String>,
    /// Categories, for example `all`.
    pub categories: Vec<String>,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Whether a `/status` subresource exists.
    pub status_subresource: bool,
    /// The `/scale` subresource, if any.
    pub scale: Option<ScaleSpec>,
    /// Whether `metadata.generation` is maintained.
    pub tracks_generation: bool,
    /// Whether the type comes from a CustomResourceDefinition.
    pub custom: bool,
    /// Extra table columns (custom resources only).
    pub printer_columns: Vec<PrinterColumn>,
}

/// The verbs every served resource supports.
pub const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

impl ResourceType {
    /// The group/resource key.
    pub fn group_resource(&self) -> GroupResource {
        GroupResource::new(&self.group, &self.plural)
    }

    /// `apiVersion` for a version: `v1` or `apps/v1`.
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{}", self.group, version)
        }
    }

    /// The preferred `apiVersion`.
    pub fn preferred_api_version(&self) -> String {
        self.api_version(self.versions.first().map(String::as_str).unwrap_or("v1"))
    }

    /// `Deployment.apps`, as used in `Invalid` messages.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// Whether this type is served at `version`.
    pub fn serves_version(&self, version: &str) -> bool {
        self.versions.iter().any(|served| served == version)
    }
}

/// All resource types currently served.
#[derive(Debug, Clone)]
pub struct Catalog {
    types: BTreeMap<GroupResource, Arc<ResourceType>>,
}

impl Default for Catalog {
    fn default() -> Self {
        Self::with_builtins()
    }
}

impl Catalog {
    /// A catalog holding only the built-in kinds.
    pub fn with_builtins() -> Self {
        let types = builtin::resource_types()
            .into_iter()
            .map(|resource_type| (resource_type.group_resource(), Arc::new(resource_type)))
            .collect();
        Self { types }
    }

    /// Looks a type up by group, version and plural name.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceType>> {
        self.types
            .get(&GroupResource::new(group, plural))
            .filter(|resource_type| resource_type.serves_version(version))
            .cloned()
    }

    /// Looks a type up by group and plural, any version.
    pub fn get(&self, group_resource: &GroupResource) -> Option<Arc<ResourceType>> {
        self.types.get(group_resource).cloned()
    }

    /// Looks a type up by `apiVersion` and kind.
    pub fn find_kind(&self, api_version: &str, kind: &str) -> Option<Arc<ResourceType>> {
        let (group, version) = split_api_version(api_version);
        self.types
            .values()
            .find(|resource_type| {
                resource_type.group == group
                    && resource_type.kind == kind
                    && resource_type.serves_version(version)
            })
            .cloned()
    }

    /// Every served type, in key order.
    pub fn all(&self) -> impl Iterator<Item = &Arc<ResourceType>> {
        self.types.values()
    }

    /// Adds or replaces a custom type.
    pub fn insert(&mut self, resource_type: ResourceType) {
        self.types
            .insert(resource_type.group_resource(), Arc::new(resource_type));
    }

    /// Removes a custom type; built-ins are never removed.
    pub fn remove_custom(&mut self, group_resource: &GroupResource) {
        if self
            .types
            .get(group_resource)
            .is_some_and(|resource_type| resource_type.custom)
        {
            self.types.remove(group_resource);
        }
    }

    /// Served API groups with their versions: core first, then the built-in
    /// groups in the real server's order, then custom groups by name.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        let order = |group: &str| {
            builtin::GROUP_ORDER
                .iter()
                .position(|known| *known == group)
                .unwrap_or(usize::MAX)
        };
        for resource_type in self.types.values() {
            match groups
                .iter_mut()
                .find(|(name, _)| *name == resource_type.group)
            {
                Some((_, versions)) => {
                    for version in &resource_type.versions {
                        if !versions.contains(version) {
                            versions.push(version.clone());
                        }
                    }
                }
                None => groups.push((resource_type.group.clone(), resource_type.versions.clone())),
            }
        }
        groups.sort_by(|(left, _), (right, _)| {
            order(left).cmp(&order(right)).then_with(|| left.cmp(right))
        });
        groups
    }
}

/// Splits `apps/v1` into (`apps`, `v1`) and `v1` into (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}

//! Discovery documents, shaped like a v1.32 server's: `/version`, `/api`,
//! `/api/v1`, `/apis`, `/apis/{group}`, `/apis/{group}/{version}`. Custom
//! types appear and disappear with their CRDs.

use serde_json::{Value, json};

use crate::catalog::{Catalog, ResourceType, VERBS};

/// The Kubernetes version the simulator claims to be.
pub const KUBERNETES_VERSION: (&str, &str) = ("1", "32");

/// `/version`.
pub fn version() -> Value {
    json!({
        "major": KUBERNETES_VERSION.0,
        "minor": KUBERNETES_VERSION.1,
        "gitVersion": "v1.32.0-fleet-sim",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `/api`.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_document(name: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|version| json!({"groupVersion": format!("{name}/{version}"), "version": version}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({"name": name, "versions": versions, "preferredVersion": preferred})
}

/// `/apis`.
pub fn group_list(catalog: &Catalog) -> Value {
    let groups: Vec<Value> = catalog
        .groups()
        .into_iter()
        .filter(|(name, _)| !name.is_empty())
        .map(|(name, versions)| group_document(&name, &versions))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`, if served.
pub fn group(catalog: &Catalog, group: &str) -> Option<Value> {
    catalog
        .groups()
        .into_iter()
        .find(|(name, _)| name == group && !name.is_empty())
        .map(|(name, versions)| {
            let mut document = group_document(&name, &versions);
            document["kind"] = json!("APIGroup");
            document["apiVersion"] = json!("v1");
            document
        })
}

fn resource_entries(resource_type: &ResourceType) -> Vec<Value> {
    let mut main = json!({
        "name": resource_type.plural,
        "singularName": resource_type.singular,
        "namespaced": resource_type.namespaced,
        "kind": resource_type.kind,
        "verbs": VERBS,
    });
    if !resource_type.short_names.is_empty() {
        main["shortNames"] = json!(resource_type.short_names);
    }
    if !resource_type.categories.is_empty() {
        main["categories"] = json!(resource_type.categories);
    }
    let mut entries = vec![main];
    if resource_type.status_subresource {
        entries.push(json!({
            "name": format!("{}/status", resource_type.plural),
            "singularName": "",
            "namespaced": resource_type.namespaced,
            "kind": resource_type.kind,
            "verbs": ["get", "patch", "update"],
        }));
    }
    if resource_type.scale.is_some() {
        entries.push(json!({
            "name": format!("{}/scale", resource_type.plural),
            "singularName": "",
            "namespaced": resource_type.namespaced,
            "group": "autoscaling",
            "version": "v1",
            "kind": "Scale",
            "verbs": ["get", "patch", "update"],
        }));
    }
    entries
}

/// `/api/v1` or `/apis/{group}/{version}`, if served.
pub fn resource_list(catalog: &Catalog, group: &str, version: &str) -> Option<Value> {
    let types: Vec<_> = catalog
        .all()
        .filter(|resource_type| {
            resource_type.group == group && resource_type.serves_version(version)
        })
        .collect();
    if types.is_empty() {
        return None;
    }
    let resources: Vec<Value> = types
        .iter()
        .flat_map(|resource_type| resource_entries(resource_type))
        .collect();
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }))
}

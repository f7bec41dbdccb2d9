//! Just enough OpenAPI v3 for kubectl: `kubectl apply`/`create` ask whether
//! the server supports the `fieldValidation` query parameter by reading the
//! PATCH operations in `/openapi/v3/<group-version>`. Schemas are not
//! served, so `kubectl explain` does not work.

use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::{Map, Value, json};

use crate::catalog::Catalog;

fn document_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3/<path>` for one group-version, if served.
pub fn group_version_document(catalog: &Catalog, path: &str) -> Option<Value> {
    let mut paths = Map::new();
    for resource_type in catalog.all() {
        for version in &resource_type.versions {
            if document_path(&resource_type.group, version) != path {
                continue;
            }
            let prefix = if resource_type.namespaced {
                format!("/{path}/namespaces/{{namespace}}/{}", resource_type.plural)
            } else {
                format!("/{path}/{}", resource_type.plural)
            };
            let gvk = json!({"group": resource_type.group, "version": version, "kind": resource_type.kind});
            let query = |name: &str| json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}});
            let operation = |action: &str| {
                json!({
                    "operationId": format!("{action}{}", resource_type.kind),
                    "parameters": [query("dryRun"), query("fieldManager"), query("fieldValidation")],
                    "responses": {"200": {"description": "OK"}},
                    "x-kubernetes-action": action,
                    "x-kubernetes-group-version-kind": gvk,
                })
            };
            paths.insert(
                format!("{prefix}/{{name}}"),
                json!({"patch": operation("patch"), "put": operation("put")}),
            );
            paths.insert(prefix, json!({"post": operation("post")}));
        }
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (fleet-sim)", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}

/// `/openapi/v3`: the index of group-version documents, each with a content hash.
pub fn root(catalog: &Catalog) -> Value {
    let mut paths = Map::new();
    for (group, versions) in catalog.groups() {
        for version in versions {
            let path = document_path(&group, &version);
            let Some(document) = group_version_document(catalog, &path) else {
                continue;
            };
            let mut hasher = DefaultHasher::new();
            document.to_string().hash(&mut hasher);
            let url = format!("/openapi/v3/{path}?hash={:016X}", hasher.finish());
            paths.insert(path, json!({"serverRelativeURL": url}));
        }
    }
    json!({"paths": paths})
}

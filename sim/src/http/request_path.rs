//! Parsing request paths into what they address: discovery documents,
//! OpenAPI documents, health endpoints, or a resource (collection, object,
//! subresource) under `/api/v1/...` or `/apis/{group}/{version}/...`.

/// What a path addresses, before the catalog is consulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/version`.
    Version,
    /// `/healthz`, `/livez`, `/readyz`.
    Health,
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    GroupList,
    /// `/apis/{group}`.
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`.
    ResourceList {
        /// Group (empty for core).
        group: String,
        /// Version.
        version: String,
    },
    /// `/openapi/v3`.
    OpenApiRoot,
    /// `/openapi/v3/{path}`.
    OpenApiDocument(String),
    /// `/openapi/v2`.
    OpenApiV2,
    /// Anything else under `/openapi`.
    OpenApiUnsupported,
    /// A resource path.
    Resource(ResourcePath),
    /// Anything else.
    Unknown,
}

/// The parts of a resource path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePath {
    /// Group (empty for core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Namespace segment, if any.
    pub namespace: Option<String>,
    /// Plural resource name.
    pub resource: String,
    /// Object name, if any.
    pub name: Option<String>,
    /// Subresource, if any.
    pub subresource: Option<String>,
}

/// Parses a request path.
pub fn parse(path: &str) -> Route {
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|segment| !segment.is_empty())
        .collect();
    match segments.as_slice() {
        ["version"] => Route::Version,
        ["healthz"] | ["livez"] | ["readyz"] => Route::Health,
        ["api"] => Route::CoreVersions,
        ["apis"] => Route::GroupList,
        ["apis", group] => Route::Group((*group).to_string()),
        ["openapi", "v3"] => Route::OpenApiRoot,
        ["openapi", "v3", rest @ ..] => Route::OpenApiDocument(rest.join("/")),
        ["openapi", "v2"] => Route::OpenApiV2,
        ["openapi", ..] => Route::OpenApiUnsupported,
        ["api", version, rest @ ..] => resource_route("", version, rest),
        ["apis", group, version, rest @ ..] => resource_route(group, version, rest),
        _ => Route::Unknown,
    }
}

fn resource_route(group: &str, version: &str, rest: &[&str]) -> Route {
    let path =
        |namespace: Option<&str>, resource: &str, name: Option<&str>, subresource: Option<&str>| {
            Route::Resource(ResourcePath {
                group: group.to_string(),
                version: version.to_string(),
                namespace: namespace.map(str::to_string),
                resource: resource.to_string(),
                name: name.map(str::to_string),
                subresource: subresource.map(str::to_string),
            })
        };
    let is_core_namespaces = |resource: &str| group.is_empty() && resource == "namespaces";
    match rest {
        [] => Route::ResourceList {
            group: group.to_string(),
            version: version.to_string(),
        },
        [resource] => path(None, resource, None, None),
        [resource, name] => path(None, resource, Some(name), None),
        [resource, name, subresource]
            if is_core_namespaces(resource) && matches!(*subresource, "status" | "finalize") =>
        {
            path(None, resource, Some(name), Some(subresource))
        }
        ["namespaces", namespace, resource] => path(Some(namespace), resource, None, None),
        [resource, name, subresource] => path(None, resource, Some(name), Some(subresource)),
        ["namespaces", namespace, resource, name] => {
            path(Some(namespace), resource, Some(name), None)
        }
        ["namespaces", namespace, resource, name, subresource] => {
            path(Some(namespace), resource, Some(name), Some(subresource))
        }
        _ => Route::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_namespaced_and_cluster_paths() {
        let Route::Resource(path) = parse("/apis/apps/v1/namespaces/web/deployments/api/scale")
        else {
            panic!("not a resource path");
        };
        assert_eq!(path.namespace.as_deref(), Some("web"));
        assert_eq!(path.subresource.as_deref(), Some("scale"));
        let Route::Resource(path) = parse("/api/v1/namespaces/web/status") else {
            panic!("not a resource path");
        };
        assert_eq!(
            (
                path.resource.as_str(),
                path.name.as_deref(),
                path.subresource.as_deref()
            ),
            ("namespaces", Some("web"), Some("status"))
        );
        let Route::Resource(path) = parse("/api/v1/namespaces/web/configmaps") else {
            panic!("not a resource path");
        };
        assert_eq!(
            (path.namespace.as_deref(), path.resource.as_str()),
            (Some("web"), "configmaps")
        );
        assert_eq!(
            parse("/apis/apps/v1"),
            Route::ResourceList {
                group: "apps".into(),
                version: "v1".into()
            }
        );
    }
}

//! Dynamic discovery: `apiVersion` + `kind` → the REST resource and its
//! scope. Answers are cached; a miss asks the API server for that one
//! group-version (so a kind whose CRD was applied a moment ago is found on
//! its first use), and the entries of a group are forgotten when a CRD of
//! that group is applied.

use std::collections::HashMap;

use kube::Client;
use kube::core::GroupVersionKind;
use kube::discovery::{ApiResource, Scope, pinned_kind};

/// A kind the agent can talk to.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The REST resource.
    pub resource: ApiResource,
    /// Whether objects of it live in namespaces.
    pub namespaced: bool,
}

/// The discovery cache.
#[derive(Clone)]
pub struct Resolver {
    client: Client,
    cache: HashMap<(String, String), Resolved>,
}

impl Resolver {
    /// An empty cache.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            cache: HashMap::new(),
        }
    }

    /// The resource serving `kind` at `api_version`.
    pub async fn resolve(
        &mut self,
        api_version: &str,
        kind: &str,
    ) -> Result<Resolved, kube::Error> {
        let cache_key = (api_version.to_owned(), kind.to_owned());
        if let Some(resolved) = self.cache.get(&cache_key) {
            return Ok(resolved.clone());
        }
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (resource, capabilities) = pinned_kind(&self.client, &gvk).await?;
        let resolved = Resolved {
            resource,
            namespaced: capabilities.scope == Scope::Namespaced,
        };
        self.cache.insert(cache_key, resolved.clone());
        Ok(resolved)
    }

    /// Forgets every kind of `group` (a CRD of it was applied or deleted).
    pub fn forget_group(&mut self, group: &str) {
        self.cache
            .retain(|(api_version, _), _| super::object::group_of(api_version) != group);
    }
}

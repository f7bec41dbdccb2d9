//! The fleet's environments as the latest valid revision declares them:
//! each cluster's environment (to hold scoped operators to their scope) and
//! the set of known environment names (to refuse a scope that names none).

use std::collections::{BTreeMap, BTreeSet};

use tonic::Status;

use super::context::ApiContext;

/// What the latest valid revision says about environments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredEnvironments {
    /// Each cluster's environment.
    pub of_cluster: BTreeMap<String, String>,
    /// Every environment named by `environments/*.yaml` or by a cluster.
    pub known: BTreeSet<String>,
}

/// Reads them from the latest valid revision (empty before the first one).
pub async fn declared_environments(context: &ApiContext) -> Result<DeclaredEnvironments, Status> {
    let latest = context.store.read(|state| {
        state
            .latest_valid_revision()
            .map(|record| record.revision.clone())
    });
    let Some(revision) = latest else {
        return Ok(DeclaredEnvironments::default());
    };
    let cache = context.desired.clone();
    let renderer = tokio::task::spawn_blocking(move || cache.renderer(&revision))
        .await
        .map_err(|error| Status::internal(error.to_string()))?
        .map_err(|error| {
            Status::unavailable(format!(
                "cannot read the fleet's environments at the latest valid revision: {error:#}"
            ))
        })?;
    let repository = renderer.repository();
    let of_cluster: BTreeMap<String, String> = repository
        .clusters
        .iter()
        .map(|(name, cluster)| (name.clone(), cluster.spec.environment.clone()))
        .collect();
    let known = repository
        .environments
        .keys()
        .cloned()
        .chain(of_cluster.values().cloned())
        .filter(|name| !name.is_empty())
        .collect();
    Ok(DeclaredEnvironments { of_cluster, known })
}

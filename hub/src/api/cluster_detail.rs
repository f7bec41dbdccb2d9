//! `ListClusters`' summaries and `GetCluster`: one cluster in detail — its
//! record, each app's reported status next to the objects the hub renders
//! for it at the cluster's target revision, and its recent drift.

use std::collections::BTreeSet;
use std::sync::Arc;

use fleet_core::Renderer;
use fleet_proto::{
    ClusterApp, ClusterSummary, DriftEntry, GetClusterRequest, GetClusterResponse, Health,
    ObjectRef,
};
use tonic::{Request, Response, Status};

use super::authorization::{Action, require};
use super::context::ApiContext;
use crate::clock::now_ms;
use crate::state::{ClusterHold, Connection, FleetState, HealthState, RevisionVerdict};

/// The clusters of the latest valid revision.
pub fn declared_clusters(state: &FleetState) -> BTreeSet<String> {
    match state.latest_valid_revision().map(|record| &record.verdict) {
        Some(RevisionVerdict::Valid { digests }) => digests.keys().cloned().collect(),
        _ => BTreeSet::new(),
    }
}

/// The renderer of the latest valid revision (for environments and
/// labels), if it loads.
pub async fn latest_renderer(context: &ApiContext) -> Result<Option<Arc<Renderer>>, Status> {
    let latest = context.store.read(|state| {
        state
            .latest_valid_revision()
            .map(|record| record.revision.clone())
    });
    let Some(revision) = latest else {
        return Ok(None);
    };
    let cache = context.desired.clone();
    Ok(
        tokio::task::spawn_blocking(move || cache.renderer(&revision))
            .await
            .map_err(|error| Status::internal(error.to_string()))?
            .ok(),
    )
}

/// One cluster as `ListClusters` and `GetCluster` show it.
pub fn cluster_summary(
    state: &FleetState,
    name: &str,
    declared: &BTreeSet<String>,
    repository: Option<&Renderer>,
    context: &ApiContext,
) -> ClusterSummary {
    let record = state.clusters.get(name).cloned().unwrap_or_default();
    let status = record.status.clone().unwrap_or_default();
    let declared_cluster = repository.and_then(|renderer| renderer.repository().clusters.get(name));
    ClusterSummary {
        name: name.to_owned(),
        environment: declared_cluster
            .map(|cluster| cluster.spec.environment.clone())
            .unwrap_or_default(),
        labels: declared_cluster
            .map(|cluster| cluster.labels.clone().into_iter().collect())
            .unwrap_or_default(),
        declared: declared.contains(name),
        enrolled: !record.agents.is_empty(),
        revoked: record.revoked,
        connected: is_connected(context, state, name),
        target_revision: record.target_revision.clone(),
        target_digest: record.target_digest.clone(),
        applied_revision: status.applied_revision.clone(),
        applied_digest: status.applied_digest.clone(),
        health: wire_health(record.status.as_ref().map(|status| status.health)) as i32,
        drift_count: status.drift_count,
        last_seen_ms: record.last_report_ms.unwrap_or(0),
        message: status.message.clone(),
        hold: state.hold_of(name).map(ClusterHold::describe),
    }
}

/// Whether `name`'s agent has a session: on this node, or on any node as
/// the replicated session records say (`state/presence.rs`).
fn is_connected(context: &ApiContext, state: &FleetState, name: &str) -> bool {
    context.sessions.is_connected(name)
        || matches!(
            state.connection(name, now_ms(), context.config.presence.stale_after_ms()),
            Connection::Connected { .. }
        )
}

/// A cluster's last reported health on the wire; unknown before its first
/// report.
pub fn wire_health(health: Option<HealthState>) -> Health {
    match health {
        None | Some(HealthState::Unknown) => Health::Unknown,
        Some(HealthState::Healthy) => Health::Healthy,
        Some(HealthState::Progressing) => Health::Progressing,
        Some(HealthState::Degraded) => Health::Degraded,
        Some(HealthState::Missing) => Health::Missing,
    }
}

/// Each desired app's objects at the target revision: (app, objects), in
/// render order; or why they could not be rendered.
type DesiredObjects = Result<Vec<(String, Vec<ObjectRef>)>, String>;

/// `GetCluster`. Viewers and up, like `ListClusters` (which scoped
/// operators read whole as well).
pub async fn get_cluster(
    context: &ApiContext,
    request: Request<GetClusterRequest>,
) -> Result<Response<GetClusterResponse>, Status> {
    require(context, &request, Action::Read).await?;
    let name = request.into_inner().name.trim().to_owned();
    let repository = latest_renderer(context).await?;
    let declared = context.store.read(declared_clusters);
    let found = context.store.read(|state| {
        let record = state.clusters.get(&name)?;
        Some((record.target_revision.clone(), record.clone()))
    });
    let (target_revision, record) = match found {
        Some(found) => found,
        None if declared.contains(&name) => (String::new(), Default::default()),
        None => {
            return Err(Status::not_found(format!(
                "the hub knows no cluster '{name}' (not in clusters/ at the latest valid revision, never enrolled)"
            )));
        }
    };
    let desired = desired_objects(context, &name, &target_revision).await?;
    let summary = context
        .store
        .read(|state| cluster_summary(state, &name, &declared, repository.as_deref(), context));
    let reported = record
        .status
        .as_ref()
        .map(|status| status.apps.clone())
        .unwrap_or_default();
    let (desired_apps, objects_error) = match desired {
        Ok(apps) => (apps, String::new()),
        Err(error) => (Vec::new(), error),
    };
    let mut apps: Vec<ClusterApp> = desired_apps
        .into_iter()
        .map(|(app, objects)| ClusterApp {
            app,
            objects,
            ..ClusterApp::default()
        })
        .collect();
    for status in reported {
        let position = apps.iter().position(|app| app.app == status.app);
        let app = match position {
            Some(index) => &mut apps[index],
            None => {
                apps.push(ClusterApp {
                    app: status.app.clone(),
                    ..ClusterApp::default()
                });
                let last = apps.len() - 1;
                &mut apps[last]
            }
        };
        app.reported = true;
        app.applied_digest = status.digest;
        app.health = wire_health(Some(status.health)) as i32;
        app.message = status.message;
        app.drift_count = status.drift_count;
    }
    let drift_history = record
        .drift_history
        .iter()
        .rev()
        .map(|event| DriftEntry {
            at_ms: event.at_ms,
            app: event.app.clone(),
            object: Some(ObjectRef {
                group: event.group.clone(),
                kind: event.kind.clone(),
                namespace: event.namespace.clone(),
                name: event.name.clone(),
            }),
            reverted: event.reverted,
        })
        .collect();
    Ok(Response::new(GetClusterResponse {
        cluster: Some(summary),
        apps,
        drift_history,
        objects_error,
    }))
}

/// The objects `cluster` should run at `revision`, per app (rendered off
/// the async threads, one per core at a time, like a session's render).
async fn desired_objects(
    context: &ApiContext,
    cluster: &str,
    revision: &str,
) -> Result<DesiredObjects, Status> {
    if revision.is_empty() {
        return Ok(Ok(Vec::new()));
    }
    let (cluster, revision) = (cluster.to_owned(), revision.to_owned());
    context
        .render_blocking("rendering", move |cache| {
            let renderer = cache
                .renderer(&revision)
                .map_err(|error| format!("{error:#}"))?;
            let render = renderer.render_cluster(&cluster).map_err(|problems| {
                format!("cluster {cluster} does not render at {revision}: {problems}")
            })?;
            Ok(render
                .apps
                .iter()
                .map(|app| {
                    let objects = app
                        .objects
                        .iter()
                        .map(|object| ObjectRef {
                            group: object.key.group.clone(),
                            kind: object.key.kind.clone(),
                            namespace: object.key.namespace.clone().unwrap_or_default(),
                            name: object.key.name.clone(),
                        })
                        .collect();
                    (app.app.clone(), objects)
                })
                .collect())
        })
        .await
}

//! When a released cluster counts as converged, and when as failed.

use crate::state::{FleetState, HealthState, Rollout, RolloutCluster};

/// Converged: the agent reports the desired digest applied and Healthy.
pub fn cluster_converged(state: &FleetState, cluster: &RolloutCluster) -> bool {
    if !cluster.changes {
        return true;
    }
    state
        .clusters
        .get(&cluster.name)
        .and_then(|record| record.status.as_ref())
        .is_some_and(|status| {
            status.applied_digest == cluster.digest && status.health == HealthState::Healthy
        })
}

/// Why a released cluster failed, if it did: Degraded at the new digest for
/// longer than the grace, or no progress towards convergence within the
/// progress deadline.
/// Offline clusters report nothing, so only the deadline can catch them.
pub fn cluster_failure(
    state: &FleetState,
    rollout: &Rollout,
    cluster: &RolloutCluster,
    now_ms: u64,
    degraded_grace_ms: u64,
) -> Option<String> {
    let released_at = cluster.released_at_ms?;
    if !cluster.changes || cluster.failure.is_some() || cluster_converged(state, cluster) {
        return None;
    }
    let record = state.clusters.get(&cluster.name);
    let status = record.and_then(|record| record.status.as_ref());
    if let (Some(record), Some(status)) = (record, status)
        && status.applied_digest == cluster.digest
        && status.health == HealthState::Degraded
        && now_ms.saturating_sub(record.last_report_ms.unwrap_or(now_ms).max(released_at))
            >= degraded_grace_ms
    {
        let why = if status.message.is_empty() {
            status
                .apps
                .iter()
                .find(|app| app.health == HealthState::Degraded)
                .map_or_else(
                    || "Degraded".to_owned(),
                    |app| format!("app {}: {}", app.app, app.message),
                )
        } else {
            status.message.clone()
        };
        return Some(format!("{}: {why}", cluster.name));
    }
    // Like a Deployment's progressDeadlineSeconds: the clock restarts when
    // the agent reports a change at the new digest (it is making progress).
    let last_progress = match (record, status) {
        (Some(record), Some(status)) if status.applied_digest == cluster.digest => record
            .last_report_ms
            .unwrap_or(released_at)
            .max(released_at),
        _ => released_at,
    };
    if now_ms.saturating_sub(last_progress) >= rollout.progress_deadline_ms {
        let seen = status.map_or_else(
            || "no status reported".to_owned(),
            |status| {
                format!(
                    "health {:?}, applied {}",
                    status.health,
                    short(&status.applied_revision)
                )
            },
        );
        return Some(format!(
            "{}: did not converge within the progress deadline of {}s ({seen})",
            cluster.name,
            rollout.progress_deadline_ms / 1000
        ));
    }
    None
}

fn short(revision: &str) -> &str {
    if revision.is_empty() {
        "nothing"
    } else {
        revision.get(..12).unwrap_or(revision)
    }
}

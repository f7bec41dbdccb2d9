//! Agent status reports (wire) → the state's `ClusterStatus`.

use fleet_proto::{Health, StatusReport};

use crate::state::{AppStatusRecord, ClusterStatus, HealthState};

/// The state's health for a wire health value.
pub fn health(value: i32) -> HealthState {
    match Health::try_from(value).unwrap_or(Health::Unspecified) {
        Health::Healthy => HealthState::Healthy,
        Health::Progressing => HealthState::Progressing,
        Health::Degraded => HealthState::Degraded,
        Health::Missing => HealthState::Missing,
        Health::Unknown | Health::Unspecified => HealthState::Unknown,
    }
}

/// The status an agent reported.
pub fn cluster_status(report: &StatusReport) -> ClusterStatus {
    let apps: Vec<AppStatusRecord> = report
        .apps
        .iter()
        .map(|app| AppStatusRecord {
            app: app.app.clone(),
            digest: app.digest.clone(),
            health: health(app.health),
            message: app.message.clone(),
            drift_count: app.drift_count,
        })
        .collect();
    ClusterStatus {
        applied_revision: report.applied_revision.clone(),
        applied_digest: report.applied_digest.clone(),
        health: health(report.health),
        drift_count: apps.iter().map(|app| app.drift_count).sum(),
        apps,
        message: report.message.clone(),
    }
}

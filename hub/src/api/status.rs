//! Agent status reports (wire) → the state's `ClusterStatus`, within the
//! caps of [`super::report_limits`].

use fleet_proto::{Health, StatusReport};

use super::report_limits::{APP_OVERHEAD_BYTES, MAX_STATUS_BYTES, MAX_TEXT_BYTES, capped_text};

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

/// The status an agent reported, cleaned and capped: each text to
/// [`MAX_TEXT_BYTES`], the whole to about [`MAX_STATUS_BYTES`] (apps past
/// the budget are left out and the message says how many); drift counts
/// saturate instead of wrapping.
pub fn cluster_status(report: &StatusReport) -> ClusterStatus {
    let text = |value: &str| capped_text(value, MAX_TEXT_BYTES);
    let mut message = text(&report.message);
    let applied_revision = text(&report.applied_revision);
    let applied_digest = text(&report.applied_digest);
    let mut budget = MAX_STATUS_BYTES
        .saturating_sub(message.len() + applied_revision.len() + applied_digest.len());
    let mut apps: Vec<AppStatusRecord> = Vec::new();
    for app in &report.apps {
        let record = AppStatusRecord {
            app: text(&app.app),
            digest: text(&app.digest),
            health: health(app.health),
            message: text(&app.message),
            drift_count: app.drift_count,
        };
        let cost =
            record.app.len() + record.digest.len() + record.message.len() + APP_OVERHEAD_BYTES;
        if cost > budget {
            break;
        }
        budget -= cost;
        apps.push(record);
    }
    let left_out = report.apps.len() - apps.len();
    if left_out > 0 {
        message = format!(
            "{message} [the hub kept {} of {} apps: the report is over {MAX_STATUS_BYTES} bytes]",
            apps.len(),
            report.apps.len()
        );
    }
    ClusterStatus {
        applied_revision,
        applied_digest,
        health: health(report.health),
        drift_count: apps
            .iter()
            .fold(0_u32, |total, app| total.saturating_add(app.drift_count)),
        apps,
        message,
    }
}

#[cfg(test)]
mod tests {
    use fleet_proto::AppStatus;

    use super::*;

    #[test]
    fn a_hostile_report_is_cleaned_capped_and_its_drift_counts_saturate() {
        let report = StatusReport {
            applied_revision: "r".repeat(100_000),
            applied_digest: "d".to_owned(),
            health: Health::Healthy as i32,
            message: "\u{1}".repeat(1_000_000),
            apps: (0..10_000)
                .map(|index| AppStatus {
                    app: format!("app-{index}"),
                    digest: "\u{0}".repeat(5_000),
                    health: Health::Degraded as i32,
                    message: "x".repeat(5_000),
                    drift_count: u32::MAX,
                })
                .collect(),
        };
        let status = cluster_status(&report);
        let json = serde_json::to_vec(&status).unwrap();
        assert!(
            json.len() < MAX_STATUS_BYTES + 4 * 1024,
            "{} bytes of JSON",
            json.len()
        );
        assert!(status.applied_revision.len() <= MAX_TEXT_BYTES);
        assert!(!status.message.contains('\u{1}'));
        assert!(
            status.message.contains("apps: the report is over"),
            "{}",
            &status.message[status.message.len() - 200..]
        );
        assert!(!status.apps.is_empty() && status.apps.len() < 10_000);
        assert_eq!(status.drift_count, u32::MAX);
    }
}

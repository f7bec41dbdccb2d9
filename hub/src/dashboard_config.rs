//! What the hub keeps and serves for dashboards (`dashboard:` in hub.yaml):
//! the drift history per cluster, the plan size limit, and the watch
//! streams (`WatchFleet`).

use std::time::Duration;

use fleet_core::model::FleetDuration;
use serde::{Deserialize, Serialize};

/// `dashboard:` in hub.yaml (issue #18).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DashboardConfig {
    /// Drift events kept per cluster in the replicated state (default 50);
    /// older ones are dropped when new ones are written.
    #[serde(default = "default_drift_history")]
    pub drift_history: u32,
    /// Object changes one `GetRevisionPlan` answer lists (default 20,000);
    /// past it each cluster only says how many were left out.
    #[serde(default = "default_plan_object_changes")]
    pub plan_object_changes: u32,
    /// `WatchFleet` streams one node serves at once (default 256); more are
    /// refused with RESOURCE_EXHAUSTED.
    #[serde(default = "default_max_watch_streams")]
    pub max_watch_streams: u32,
    /// Least time between two messages of one `WatchFleet` stream (default
    /// 200ms): changes in between are sent as one.
    #[serde(default = "default_watch_interval")]
    pub watch_interval: FleetDuration,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        Self {
            drift_history: default_drift_history(),
            plan_object_changes: default_plan_object_changes(),
            max_watch_streams: default_max_watch_streams(),
            watch_interval: default_watch_interval(),
        }
    }
}

fn default_drift_history() -> u32 {
    50
}

fn default_plan_object_changes() -> u32 {
    20_000
}

fn default_max_watch_streams() -> u32 {
    256
}

fn default_watch_interval() -> FleetDuration {
    FleetDuration(Duration::from_millis(200))
}

//! Operator settings (`users:` in hub.yaml): how long the certificates the
//! hub mints for operators last, and how many refused calls a node audits.

use std::time::Duration;

use fleet_core::model::FleetDuration;
use serde::{Deserialize, Serialize};

/// `users:` in hub.yaml (issue #15).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UsersConfig {
    /// Validity of a user certificate when `fleetctl user create` or
    /// `user renew` asks for none (default 2160h, 90 days).
    #[serde(default = "default_user_certificate_validity")]
    pub user_certificate_validity: FleetDuration,
    /// Longest validity an operator may ask for (default 8760h, 365 days);
    /// longer requests are refused.
    #[serde(default = "default_max_user_certificate_validity")]
    pub max_user_certificate_validity: FleetDuration,
    /// Refused calls one hub node writes to the audit log per minute
    /// (default 60); past it refusals are only counted, and the next entry
    /// written says how many were left out. Retention trims the log as for
    /// every other entry (`retention.auditEntries`).
    #[serde(default = "default_refusal_audits_per_minute")]
    pub refusal_audits_per_minute: u32,
}

impl Default for UsersConfig {
    fn default() -> Self {
        Self {
            user_certificate_validity: default_user_certificate_validity(),
            max_user_certificate_validity: default_max_user_certificate_validity(),
            refusal_audits_per_minute: default_refusal_audits_per_minute(),
        }
    }
}

fn default_user_certificate_validity() -> FleetDuration {
    FleetDuration(Duration::from_secs(90 * 24 * 3600))
}

fn default_max_user_certificate_validity() -> FleetDuration {
    FleetDuration(Duration::from_secs(365 * 24 * 3600))
}

fn default_refusal_audits_per_minute() -> u32 {
    60
}

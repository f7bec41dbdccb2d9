//! `spec.rollout.windows` in `fleet.yaml`: when waves may be released.

use serde::{Deserialize, Serialize};

use super::duration::FleetDuration;

/// Whether a window forbids or permits releases while it is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowKind {
    /// No wave it names is released while it is open.
    Deny,
    /// The waves it names are released only while it (or another allow
    /// window naming them) is open.
    Allow,
}

/// One sync window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WindowSpec {
    /// deny or allow.
    pub kind: WindowKind,
    /// When it opens: a 5-field cron schedule (minute hour day month weekday).
    pub schedule: String,
    /// How long it stays open after each start.
    pub duration: FleetDuration,
    /// The IANA time zone the schedule is read in.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// The waves it applies to; none means every wave.
    #[serde(default)]
    pub waves: Vec<String>,
}

/// The time zone of a window that names none.
pub const DEFAULT_TIMEZONE: &str = "UTC";

fn default_timezone() -> String {
    DEFAULT_TIMEZONE.to_owned()
}

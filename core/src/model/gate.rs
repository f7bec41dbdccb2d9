//! `gates:` of a wave in `fleet.yaml`: metric checks against Prometheus that
//! must pass, from convergence through the bake, before a wave succeeds.

use serde::{Deserialize, Serialize};

use super::duration::FleetDuration;

/// One metric gate of a wave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GateSpec {
    /// Unique name within the wave (named in failure reasons).
    pub name: String,
    /// The Prometheus query and its bounds.
    pub prometheus: PrometheusGate,
    /// How often it is evaluated (default 30s).
    #[serde(default = "default_interval")]
    pub interval: FleetDuration,
    /// Failed evaluations tolerated; one more fails the wave.
    #[serde(default)]
    pub failure_limit: u32,
}

/// A PromQL query whose single value must stay within bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrometheusGate {
    /// An instant query; `${wave.clusters}` is replaced by a regex matching
    /// exactly the wave's cluster names.
    pub query: String,
    /// The value must be at most this.
    #[serde(default)]
    pub max: Option<Threshold>,
    /// The value must be at least this.
    #[serde(default)]
    pub min: Option<Threshold>,
}

/// A gate bound (a finite number).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Threshold(pub f64);

// Bounds are finite numbers (checked when the repository is read), for
// which `==` is an equivalence.
impl Eq for Threshold {}

fn default_interval() -> FleetDuration {
    FleetDuration(std::time::Duration::from_secs(30))
}

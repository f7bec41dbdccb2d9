//! `kind: Fleet` — `fleet.yaml`: fleet-wide variables, Git settings, rollout waves.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::duration::FleetDuration;
use super::gate::GateSpec;
use super::selector::LabelSelector;
use super::variables::Vars;
use super::window::WindowSpec;

/// The spec of `fleet.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FleetSpec {
    /// Fleet variables (lowest precedence before built-ins).
    #[serde(default)]
    pub vars: Vars,
    /// Git defaults.
    #[serde(default)]
    pub git: GitSpec,
    /// How new revisions roll out.
    #[serde(default)]
    pub rollout: RolloutSpec,
}

/// Git defaults of the fleet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GitSpec {
    /// The tracked branch (the hub's configuration may override it).
    #[serde(default)]
    pub branch: Option<String>,
}

/// Rollout settings (DESIGN §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolloutSpec {
    /// Waves in release order; none means one wave with every cluster.
    #[serde(default)]
    pub waves: Vec<WaveSpec>,
    /// Failed clusters tolerated per wave.
    #[serde(default)]
    pub max_failures: u32,
    /// How long a released cluster may take to converge.
    #[serde(default = "default_progress_deadline")]
    pub progress_deadline: FleetDuration,
    /// What a failed wave does.
    #[serde(default)]
    pub on_failure: OnFailure,
    /// Sync windows: when waves may be released (issue #19).
    #[serde(default)]
    pub windows: Vec<WindowSpec>,
}

fn default_progress_deadline() -> FleetDuration {
    FleetDuration(std::time::Duration::from_secs(600))
}

impl Default for RolloutSpec {
    fn default() -> Self {
        Self {
            waves: Vec::new(),
            max_failures: 0,
            progress_deadline: default_progress_deadline(),
            on_failure: OnFailure::default(),
            windows: Vec::new(),
        }
    }
}

/// One wave of a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WaveSpec {
    /// Unique wave name.
    pub name: String,
    /// Clusters in the wave (the first wave whose selector matches wins).
    #[serde(default)]
    pub selector: Option<LabelSelector>,
    /// How long the wave must stay converged and healthy.
    #[serde(default)]
    pub bake: Option<FleetDuration>,
    /// Whether the wave waits for `fleetctl rollout promote`.
    #[serde(default)]
    pub approval: Approval,
    /// Clusters released at once inside the wave.
    #[serde(default)]
    pub max_parallel: Option<MaxParallel>,
    /// Metric gates that must pass from convergence through the bake.
    #[serde(default)]
    pub gates: Vec<GateSpec>,
}

/// Whether a wave starts by itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Approval {
    /// Starts when the previous wave has baked.
    #[default]
    Auto,
    /// Waits for an operator's promote.
    Manual,
}

/// What happens when a wave fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Every released cluster goes back to its previous revision.
    #[default]
    Rollback,
    /// Everything holds until an operator acts.
    Pause,
}

/// How many clusters of a wave are released at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxParallel {
    /// A fixed number of clusters (at least 1).
    Count(u32),
    /// A percentage of the wave (1–100, rounded up, at least one cluster).
    Percent(u8),
}

impl MaxParallel {
    /// How many of `wave_size` clusters may be in flight at once.
    pub fn limit(self, wave_size: usize) -> usize {
        match self {
            MaxParallel::Count(count) => count as usize,
            MaxParallel::Percent(percent) => wave_size
                .saturating_mul(usize::from(percent))
                .div_ceil(100)
                .max(1),
        }
    }

    fn parse(text: &str) -> Result<Self, String> {
        let invalid = || {
            format!("invalid maxParallel '{text}' (expected a count ≥ 1 or a percentage 1%–100%)")
        };
        if let Some(percent) = text.strip_suffix('%') {
            let percent: u8 = percent.trim().parse().map_err(|_| invalid())?;
            if (1..=100).contains(&percent) {
                return Ok(MaxParallel::Percent(percent));
            }
            return Err(invalid());
        }
        match text.trim().parse::<u32>() {
            Ok(count) if count >= 1 => Ok(MaxParallel::Count(count)),
            _ => Err(invalid()),
        }
    }
}

impl fmt::Display for MaxParallel {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaxParallel::Count(count) => write!(formatter, "{count}"),
            MaxParallel::Percent(percent) => write!(formatter, "{percent}%"),
        }
    }
}

impl Serialize for MaxParallel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            MaxParallel::Count(count) => serializer.serialize_u32(*count),
            MaxParallel::Percent(_) => serializer.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for MaxParallel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MaxParallelVisitor;
        impl Visitor<'_> for MaxParallelVisitor {
            type Value = MaxParallel;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a count such as 2 or a percentage such as \"25%\"")
            }
            fn visit_u64<E: de::Error>(self, count: u64) -> Result<MaxParallel, E> {
                MaxParallel::parse(&count.to_string()).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, count: i64) -> Result<MaxParallel, E> {
                MaxParallel::parse(&count.to_string()).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<MaxParallel, E> {
                MaxParallel::parse(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(MaxParallelVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_parallel_limits() {
        assert_eq!(MaxParallel::parse("25%").unwrap().limit(10), 3);
        assert_eq!(MaxParallel::parse("1%").unwrap().limit(3), 1);
        assert_eq!(MaxParallel::parse("2").unwrap().limit(10), 2);
        assert!(MaxParallel::parse("150%").is_err());
        assert!(MaxParallel::parse("0").is_err());
    }

    #[test]
    fn rollout_defaults() {
        let spec: RolloutSpec = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(spec.progress_deadline.to_string(), "10m");
        assert_eq!(spec.on_failure, OnFailure::Rollback);
        let bad =
            serde_json::from_value::<RolloutSpec>(serde_json::json!({"onFailure": "explode"}));
        assert!(bad.is_err());
    }
}

//! Assigning clusters to rollout waves (DESIGN §4).
//!
//! Each cluster belongs to the first wave whose selector matches it (a wave
//! without a selector matches every cluster). Clusters no wave matches form an
//! implicit last wave named [`REMAINING_WAVE`]; with no waves configured every
//! cluster is in one wave named [`ALL_WAVE`].

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Cluster, FleetSpec, WaveSpec};

/// Name of the implicit last wave of clusters no configured wave matches.
pub const REMAINING_WAVE: &str = "remaining";
/// Name of the single wave used when `fleet.yaml` configures none.
pub const ALL_WAVE: &str = "all";

/// One wave and its clusters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedWave {
    /// Wave name.
    pub name: String,
    /// The configured wave (`None` for the implicit ones).
    #[serde(skip)]
    pub spec: Option<WaveSpec>,
    /// Cluster names, sorted.
    pub clusters: Vec<String>,
}

/// Clusters grouped into waves, in release order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WavePlan {
    /// Waves in release order; empty waves are kept so operators see them.
    pub waves: Vec<PlannedWave>,
}

impl WavePlan {
    /// Plans `clusters` into the waves of `fleet`.
    pub fn assign(fleet: &FleetSpec, clusters: &BTreeMap<String, Cluster>) -> Self {
        let configured = &fleet.rollout.waves;
        if configured.is_empty() {
            return Self {
                waves: vec![PlannedWave {
                    name: ALL_WAVE.to_owned(),
                    spec: None,
                    clusters: clusters.keys().cloned().collect(),
                }],
            };
        }
        let mut waves: Vec<PlannedWave> = configured
            .iter()
            .map(|spec| PlannedWave {
                name: spec.name.clone(),
                spec: Some(spec.clone()),
                clusters: Vec::new(),
            })
            .collect();
        let mut remaining = Vec::new();
        for cluster in clusters.values() {
            let wave = configured.iter().position(|spec| {
                spec.selector
                    .as_ref()
                    .is_none_or(|selector| selector.matches(&cluster.labels))
            });
            match wave {
                Some(index) => waves[index].clusters.push(cluster.name.clone()),
                None => remaining.push(cluster.name.clone()),
            }
        }
        if !remaining.is_empty() {
            waves.push(PlannedWave {
                name: REMAINING_WAVE.to_owned(),
                spec: None,
                clusters: remaining,
            });
        }
        Self { waves }
    }

    /// The wave of `cluster`, if it is planned.
    pub fn wave_of(&self, cluster: &str) -> Option<&PlannedWave> {
        self.waves
            .iter()
            .find(|wave| wave.clusters.iter().any(|name| name == cluster))
    }
}

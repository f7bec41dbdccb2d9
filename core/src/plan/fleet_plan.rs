//! `fleetctl plan`: what a new revision changes, cluster by cluster, grouped
//! by the waves of the new revision.

use serde::Serialize;

use super::diff::{ObjectChange, diff_objects};
use crate::diagnostic::Diagnostics;
use crate::render::Renderer;
use crate::rollout::WavePlan;

/// The changes of one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterChange {
    /// Cluster name.
    pub cluster: String,
    /// Digest at the old revision (`None`: the cluster is new, or did not render).
    pub from_digest: Option<String>,
    /// Digest at the new revision (`None`: the cluster was removed).
    pub to_digest: Option<String>,
    /// Objects that differ.
    pub objects: Vec<ObjectChange>,
}

/// The clusters of one wave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaveChanges {
    /// Wave name.
    pub wave: String,
    /// Clusters whose desired state changes.
    pub changed: Vec<ClusterChange>,
    /// How many clusters of the wave do not change.
    pub unchanged: usize,
    /// Those clusters, by name.
    #[serde(rename = "unchangedClusters")]
    pub unchanged_clusters: Vec<String>,
}

/// The fleet-wide preview between two revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetPlan {
    /// The old revision (commit id when known).
    pub from: String,
    /// The new revision.
    pub to: String,
    /// Waves of the new revision, in release order.
    pub waves: Vec<WaveChanges>,
    /// Clusters that the new revision no longer declares.
    pub removed_clusters: Vec<ClusterChange>,
}

impl FleetPlan {
    /// Compares every cluster of `new` with its state in `old`. Fails with
    /// the new revision's render errors: such a revision is never rolled out.
    pub fn compute(old: &Renderer, new: &Renderer) -> Result<Self, Diagnostics> {
        Self::compute_from(Some(old), new)
    }

    /// Like [`Self::compute`]; with no `old` revision every cluster of
    /// `new` is new (every object is added).
    pub fn compute_from(old: Option<&Renderer>, new: &Renderer) -> Result<Self, Diagnostics> {
        let new_renders = new.render_all();
        let problems = Diagnostics(
            new_renders
                .values()
                .filter_map(|result| result.as_ref().err())
                .flat_map(|found| found.0.iter().cloned())
                .collect(),
        );
        if !problems.is_empty() {
            return Err(problems.sorted());
        }
        let old_renders = old.map(Renderer::render_all).unwrap_or_default();
        let new_repository = new.repository();
        let plan = WavePlan::assign(&new_repository.fleet.spec, &new_repository.clusters);
        let mut waves = Vec::new();
        for wave in &plan.waves {
            let mut changed = Vec::new();
            let mut unchanged_clusters = Vec::new();
            for cluster in &wave.clusters {
                let Some(Ok(new_render)) = new_renders.get(cluster) else {
                    continue;
                };
                let old_render = old_renders
                    .get(cluster)
                    .and_then(|result| result.as_ref().ok());
                if old_render.is_some_and(|old_render| old_render.digest == new_render.digest) {
                    unchanged_clusters.push(cluster.clone());
                    continue;
                }
                changed.push(ClusterChange {
                    cluster: cluster.clone(),
                    from_digest: old_render.map(|render| render.digest.clone()),
                    to_digest: Some(new_render.digest.clone()),
                    objects: diff_objects(old_render, new_render),
                });
            }
            waves.push(WaveChanges {
                wave: wave.name.clone(),
                changed,
                unchanged: unchanged_clusters.len(),
                unchanged_clusters,
            });
        }
        let removed_clusters = old_renders
            .iter()
            .filter(|(cluster, _)| !new_renders.contains_key(*cluster))
            .map(|(cluster, result)| ClusterChange {
                cluster: cluster.clone(),
                from_digest: result.as_ref().ok().map(|render| render.digest.clone()),
                to_digest: None,
                objects: Vec::new(),
            })
            .collect();
        let revision = |renderer: &Renderer| {
            let snapshot = &renderer.repository().snapshot;
            snapshot
                .revision()
                .map_or_else(|| snapshot.description().to_owned(), str::to_owned)
        };
        Ok(Self {
            from: old.map(revision).unwrap_or_default(),
            to: revision(new),
            waves,
            removed_clusters,
        })
    }

    /// Number of clusters whose desired state changes.
    pub fn changed_clusters(&self) -> usize {
        self.waves.iter().map(|wave| wave.changed.len()).sum()
    }
}

//! A loaded, cross-checked fleet repository at one revision.
//!
//! [`FleetRepository::load`] reads `fleet.yaml`, `clusters/`,
//! `environments/` and `apps/*/app.yaml` from a [`Snapshot`], checks each
//! file's envelope and spec, then the references between files (environments
//! named by clusters, `dependsOn`, wave names). Every problem found is
//! returned, each with its file and line.

mod checks;
mod loader;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::diagnostic::Diagnostics;
use crate::model::{App, Cluster, Environment, Fleet};
use crate::source::Snapshot;

/// The fleet repository at one revision, parsed and checked.
#[derive(Debug, Clone)]
pub struct FleetRepository {
    /// The files it was loaded from (apps' manifests are read from here at render time).
    pub snapshot: Arc<Snapshot>,
    /// `fleet.yaml`.
    pub fleet: Fleet,
    /// `clusters/*.yaml` by name.
    pub clusters: BTreeMap<String, Cluster>,
    /// `environments/*.yaml` by name.
    pub environments: BTreeMap<String, Environment>,
    /// `apps/*/app.yaml` by name.
    pub apps: BTreeMap<String, App>,
}

impl FleetRepository {
    /// Checks `fleet.yaml`'s `spec.git.branch` against the branch a reader
    /// actually tracks (the hub's `hub.yaml git.branch`). **Decision:** the
    /// tracker's setting decides which branch is read — the repository
    /// cannot choose the branch it is read from — so `spec.git.branch` is an
    /// assertion: absent, or equal to the tracked branch, else an error at
    /// its line.
    pub fn check_tracked_branch(&self, tracked: &str) -> Result<(), crate::diagnostic::Diagnostic> {
        match &self.fleet.spec.git.branch {
            Some(branch) if branch != tracked => Err(self.fleet.diagnostic(
                "/spec/git/branch",
                format!(
                    "spec.git.branch is '{branch}' but the hub tracks branch '{tracked}' \
                     (hub.yaml git.branch decides); make them agree or remove spec.git.branch"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Loads and checks the repository in `snapshot`.
    pub fn load(snapshot: Arc<Snapshot>) -> Result<Self, Diagnostics> {
        Self::load_after(snapshot, None)
    }

    /// Loads and checks the repository in `snapshot`, taking each cluster
    /// and environment file whose bytes are the same as in `previous` (an
    /// earlier revision, which loaded) from it instead of parsing it again.
    /// The result is the same as [`Self::load`]'s; a commit that touches a
    /// few files of a 10,000-cluster fleet parses only those.
    pub fn load_after(
        snapshot: Arc<Snapshot>,
        previous: Option<&FleetRepository>,
    ) -> Result<Self, Diagnostics> {
        let mut loaded = loader::load(&snapshot, previous);
        let mut problems = std::mem::take(&mut loaded.problems);
        problems.0.extend(checks::check(&loaded).0);
        match loaded.fleet {
            Some(fleet) if problems.is_empty() => Ok(Self {
                snapshot,
                fleet,
                clusters: loaded.clusters,
                environments: loaded.environments,
                apps: loaded.apps,
            }),
            _ => Err(problems.sorted()),
        }
    }

    /// Whether `app` is deployed to `cluster`.
    pub fn targets(&self, app: &App, cluster: &Cluster) -> bool {
        app.spec
            .targets
            .as_ref()
            .is_none_or(|targets| targets.matches(&cluster.labels, &cluster.spec.environment))
    }

    /// The apps deployed to `cluster`, dependencies before dependents (then by name).
    pub fn apps_for(&self, cluster: &Cluster) -> Vec<&App> {
        let mut ordered = Vec::new();
        let mut visited = std::collections::BTreeSet::new();
        for app in self.apps.values() {
            self.visit_in_dependency_order(app, &mut visited, &mut ordered);
        }
        ordered
            .into_iter()
            .filter(|app| self.targets(app, cluster))
            .collect()
    }

    fn visit_in_dependency_order<'a>(
        &'a self,
        app: &'a App,
        visited: &mut std::collections::BTreeSet<&'a str>,
        ordered: &mut Vec<&'a App>,
    ) {
        if !visited.insert(app.name.as_str()) {
            return;
        }
        for dependency in &app.spec.depends_on {
            if let Some(dependency) = self.apps.get(dependency) {
                self.visit_in_dependency_order(dependency, visited, ordered);
            }
        }
        ordered.push(app);
    }
}

#[cfg(test)]
mod input_tests;
#[cfg(test)]
mod reuse_tests;

//! Desired state rendered on demand from the node's own Git mirror and
//! cached by content — never stored in Raft (DESIGN §3).
//!
//! Rendering is deterministic, so every node serves identical bytes. One
//! renderer per recent revision keeps the work shared across clusters. Each
//! app's manifests are kept once per (app, app digest): every object carries
//! its cluster's `fleet/cluster` label, so app digests are per cluster, and
//! what is shared is an app a commit did not touch — one copy for the old
//! and the new revision of a cluster (a rollout keeps both). The wire
//! message is assembled when it is sent.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};

use anyhow::Context as _;
use fleet_core::{ClusterRender, FleetRepository, Renderer};
use fleet_proto::{AppDesiredState, DesiredState, Manifest};

use crate::git::GitMirror;
use crate::state::FleetState;
use crate::store::FleetStore;

mod convert;

use convert::{desired_state_without_objects, manifests};

/// Revisions whose renderers are kept (a rollout needs the old and the new).
const RECENT_REVISIONS: usize = 4;

/// One app of a cluster's desired state: its settings, and its manifests
/// shared with every other cluster where the app renders the same.
struct AppRecipe {
    settings: AppDesiredState,
    objects: Arc<Vec<Manifest>>,
}

/// What is kept of one cluster's desired state at one revision.
struct ClusterRecipe {
    revision: String,
    digest: String,
    apps: Vec<AppRecipe>,
}

/// Renders and caches desired state per (revision, cluster).
pub struct DesiredStateCache {
    mirror: Arc<GitMirror>,
    /// The replicated state: the chart digests revisions recorded.
    store: FleetStore,
    renderers: Mutex<VecDeque<(String, Arc<Renderer>)>>,
    rendered: Mutex<HashMap<String, Arc<ClusterRecipe>>>,
    manifests: Mutex<HashMap<String, Weak<Vec<Manifest>>>>,
}

impl DesiredStateCache {
    /// A cache reading from `mirror`, rendering remote charts only with
    /// the digests recorded in `store`'s replicated state.
    pub fn new(mirror: Arc<GitMirror>, store: FleetStore) -> Self {
        Self {
            mirror,
            store,
            renderers: Mutex::default(),
            rendered: Mutex::default(),
            manifests: Mutex::default(),
        }
    }

    /// The renderer of `revision` (loaded on first use). Blocking.
    pub fn renderer(&self, revision: &str) -> anyhow::Result<Arc<Renderer>> {
        let renderers = lock(&self.renderers);
        if let Some((_, renderer)) = renderers.iter().find(|(known, _)| known == revision) {
            return Ok(renderer.clone());
        }
        if !self.mirror.has_revision(revision) {
            // A revision the leader recorded before this node's mirror saw
            // it (a follower, or a node that just joined): fetch it first.
            self.mirror
                .fetch()
                .with_context(|| format!("fetching revision {revision} into the mirror"))?;
        }
        let snapshot = self
            .mirror
            .snapshot(revision)
            .with_context(|| format!("reading revision {revision} from the mirror"))?;
        // Loaded under the lock, so sessions missing the same revision at
        // once wait for one load instead of each doing it.
        let previous = renderers.back().map(|(_, renderer)| renderer.repository());
        let repository = FleetRepository::load_after(Arc::new(snapshot), previous)
            .map_err(|problems| anyhow::anyhow!("revision {revision} does not load: {problems}"))?;
        let renderer = Arc::new(Renderer::with_settings(
            Arc::new(repository),
            self.mirror
                .render_settings_with(self.store.read(FleetState::recorded_charts)),
        ));
        drop(renderers);
        self.insert(revision, renderer.clone());
        Ok(renderer)
    }

    fn insert(&self, revision: &str, renderer: Arc<Renderer>) {
        let mut renderers = lock(&self.renderers);
        if renderers.iter().any(|(known, _)| known == revision) {
            return;
        }
        renderers.push_back((revision.to_owned(), renderer));
        if renderers.len() > RECENT_REVISIONS
            && let Some((evicted, _)) = renderers.pop_front()
        {
            lock(&self.rendered).retain(|key, _| !key.starts_with(&evicted));
            lock(&self.manifests).retain(|_, objects| objects.strong_count() > 0);
        }
    }

    /// The loaded repository at `revision`. Blocking.
    pub fn repository(&self, revision: &str) -> anyhow::Result<Arc<Renderer>> {
        self.renderer(revision)
    }

    /// `cluster`'s desired state at `revision`, if it is cached (never blocks
    /// on rendering).
    pub fn cached(&self, cluster: &str, revision: &str) -> Option<DesiredState> {
        let recipe = lock(&self.rendered).get(&key(cluster, revision)).cloned()?;
        Some(recipe.assemble(cluster))
    }

    /// `cluster`'s desired state at `revision`. Blocking (renders on a miss).
    pub fn desired_state(&self, cluster: &str, revision: &str) -> anyhow::Result<DesiredState> {
        if let Some(found) = self.cached(cluster, revision) {
            return Ok(found);
        }
        let renderer = self.renderer(revision)?;
        let render = renderer.render_cluster(cluster).map_err(|problems| {
            anyhow::anyhow!("cluster {cluster} does not render at {revision}: {problems}")
        })?;
        let recipe = Arc::new(self.recipe_of(&render));
        let assembled = recipe.assemble(cluster);
        lock(&self.rendered).insert(key(cluster, revision), recipe);
        Ok(assembled)
    }

    /// What is kept of `render`: names and digests, manifests shared.
    fn recipe_of(&self, render: &ClusterRender) -> ClusterRecipe {
        let message = desired_state_without_objects(render);
        let apps = message
            .apps
            .into_iter()
            .zip(&render.apps)
            .map(|(settings, app)| AppRecipe {
                objects: self.shared_manifests(&app.app, &app.digest, || manifests(app)),
                settings,
            })
            .collect();
        ClusterRecipe {
            revision: message.revision,
            digest: message.digest,
            apps,
        }
    }

    /// The manifests of `app` at `digest`, converted once and shared.
    fn shared_manifests(
        &self,
        app: &str,
        digest: &str,
        convert: impl FnOnce() -> Vec<Manifest>,
    ) -> Arc<Vec<Manifest>> {
        let key = format!("{app}@{digest}");
        if let Some(shared) = lock(&self.manifests).get(&key).and_then(Weak::upgrade) {
            return shared;
        }
        let converted = Arc::new(convert());
        lock(&self.manifests).insert(key, Arc::downgrade(&converted));
        converted
    }
}

impl ClusterRecipe {
    fn assemble(&self, cluster: &str) -> DesiredState {
        DesiredState {
            cluster: cluster.to_owned(),
            revision: self.revision.clone(),
            digest: self.digest.clone(),
            apps: self
                .apps
                .iter()
                .map(|app| AppDesiredState {
                    objects: app.objects.as_ref().clone(),
                    ..app.settings.clone()
                })
                .collect(),
        }
    }
}

fn key(cluster: &str, revision: &str) -> String {
    format!("{revision}/{cluster}")
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl crate::git::RenderedRevisions for DesiredStateCache {
    fn remember(&self, revision: &str, renderer: Arc<Renderer>) {
        self.insert(revision, renderer);
    }

    fn remember_render(&self, revision: &str, render: &ClusterRender) {
        let recipe = Arc::new(self.recipe_of(render));
        lock(&self.rendered).insert(key(&render.cluster, revision), recipe);
    }

    fn latest(&self) -> Option<Arc<Renderer>> {
        lock(&self.renderers)
            .back()
            .map(|(_, renderer)| renderer.clone())
    }

    fn forget(&self, revision: &str) {
        let prefix = format!("{revision}/");
        lock(&self.rendered).retain(|key, _| !key.starts_with(&prefix));
        lock(&self.manifests).retain(|_, objects| objects.strong_count() > 0);
    }
}

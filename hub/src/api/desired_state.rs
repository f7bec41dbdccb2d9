//! Desired state rendered on demand from the node's own Git mirror and
//! cached by content — never stored in Raft (DESIGN §3).
//!
//! Rendering is deterministic, so every node serves identical bytes. One
//! renderer per recent revision keeps the work shared across clusters; each
//! cluster's wire message is cached by its digest.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use fleet_core::{FleetRepository, Renderer};
use fleet_proto::DesiredState;
use fleet_proto::convert::desired_state;

use crate::git::GitMirror;

/// Revisions whose renderers are kept (a rollout needs the old and the new).
const RECENT_REVISIONS: usize = 4;

/// Renders and caches desired state per (revision, cluster).
pub struct DesiredStateCache {
    mirror: Arc<GitMirror>,
    renderers: Mutex<VecDeque<(String, Arc<Renderer>)>>,
    rendered: Mutex<HashMap<String, Arc<DesiredState>>>,
}

impl DesiredStateCache {
    /// A cache reading from `mirror`.
    pub fn new(mirror: Arc<GitMirror>) -> Self {
        Self {
            mirror,
            renderers: Mutex::default(),
            rendered: Mutex::default(),
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
        let repository = FleetRepository::load(Arc::new(snapshot))
            .map_err(|problems| anyhow::anyhow!("revision {revision} does not load: {problems}"))?;
        let renderer = Arc::new(Renderer::new(Arc::new(repository)));
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
        }
    }

    /// The loaded repository at `revision`. Blocking.
    pub fn repository(&self, revision: &str) -> anyhow::Result<Arc<Renderer>> {
        self.renderer(revision)
    }

    /// `cluster`'s desired state at `revision`. Blocking.
    pub fn desired_state(
        &self,
        cluster: &str,
        revision: &str,
    ) -> anyhow::Result<Arc<DesiredState>> {
        let key = format!("{revision}/{cluster}");
        if let Some(found) = lock(&self.rendered).get(&key) {
            return Ok(found.clone());
        }
        let renderer = self.renderer(revision)?;
        let render = renderer.render_cluster(cluster).map_err(|problems| {
            anyhow::anyhow!("cluster {cluster} does not render at {revision}: {problems}")
        })?;
        let message = Arc::new(desired_state(&render));
        lock(&self.rendered).insert(key, message.clone());
        Ok(message)
    }
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
}

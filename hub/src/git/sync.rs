//! The leader's Git sync loop: fetch on an interval and when the webhook
//! fires; render each new tip for every cluster; record the verdict.
//! Followers only fetch (each node keeps its own mirror).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fleet_core::model::{Approval, OnFailure};
use fleet_core::rollout::WavePlan;
use fleet_core::{ClusterRender, FleetRepository, Renderer};
use tokio::sync::Notify;
use tracing::{info, instrument, warn};

use super::mirror::{FetchedRevision, GitMirror};
use super::verdict::{ClusterDigests, render_every_cluster};
use crate::clock::now_ms;
use crate::config::RetentionConfig;
use crate::http::metrics::HubMetrics;
use crate::state::{
    Command, FailurePolicy, FleetState, PlannedWave, RetentionLimits, RevisionVerdict, RolloutPlan,
};
use crate::store::FleetStore;

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// This node is not the leader; nothing was fetched.
    NotLeader,
    /// The tip is a revision the hub already knows.
    Unchanged(String),
    /// A new revision was rendered and recorded.
    Recorded {
        /// Commit id.
        revision: String,
        /// Whether it rendered for every cluster.
        valid: bool,
    },
}

/// Follows the fleet repository on the leader.
pub struct GitSync {
    mirror: Arc<GitMirror>,
    store: FleetStore,
    trigger: Notify,
    read_once: AtomicBool,
    /// Whether a sync ran as leader (the tip is recorded or known): a
    /// leader is not ready before, or `token create` right after start
    /// could find no revision (a first sync that ran as a follower only
    /// fetched).
    synced_as_leader: AtomicBool,
    poll_interval: Duration,
    metrics: Arc<HubMetrics>,
    /// Serializes syncs (the loop and `fleetctl refresh` may race).
    running: tokio::sync::Mutex<()>,
    /// Who keeps the renderers the sync builds (the sessions' cache).
    rendered: Arc<dyn RenderedRevisions>,
    /// What the replicated state keeps; the leader trims the rest after
    /// each sync.
    retention: RetentionLimits,
}

/// Keeps renderers the sync built, so serving a new revision to agents does
/// not load and render it (Kustomize builds included) a second time.
pub trait RenderedRevisions: Send + Sync {
    /// `renderer` rendered `revision` for every cluster.
    fn remember(&self, revision: &str, renderer: Arc<Renderer>);
    /// One cluster's render at `revision`, made while checking it (so the
    /// sessions that push it need not render it again).
    fn remember_render(&self, revision: &str, render: &ClusterRender);
    /// `revision` turned out invalid: drop what was remembered of it.
    fn forget(&self, revision: &str);
    /// The renderer remembered last, if any: loading a new revision takes
    /// its unchanged cluster and environment files from it.
    fn latest(&self) -> Option<Arc<Renderer>>;
}

impl GitSync {
    /// A sync over `mirror` writing to `store`.
    pub fn new(
        mirror: Arc<GitMirror>,
        store: FleetStore,
        poll_interval: Duration,
        metrics: Arc<HubMetrics>,
        rendered: Arc<dyn RenderedRevisions>,
    ) -> Self {
        Self {
            rendered,
            mirror,
            store,
            trigger: Notify::new(),
            read_once: AtomicBool::new(false),
            synced_as_leader: AtomicBool::new(false),
            poll_interval,
            metrics,
            running: tokio::sync::Mutex::new(()),
            retention: RetentionConfig::default().limits(),
        }
    }

    /// The same sync, trimming the state to `retention` (hub.yaml
    /// `retention:`) instead of the defaults.
    pub fn with_retention(mut self, retention: RetentionLimits) -> Self {
        self.retention = retention;
        self
    }

    /// Asks the loop to fetch now (the webhook).
    pub fn trigger(&self) {
        self.trigger.notify_one();
    }

    /// Whether Git has been read successfully at least once — and, on the
    /// leader, whether the tip has been recorded since it took the lead.
    pub fn has_read_once(&self) -> bool {
        self.read_once.load(Ordering::Relaxed)
            && (!self.store.is_leader() || self.synced_as_leader.load(Ordering::Relaxed))
    }

    /// Runs forever: sync, then wait for the interval, a trigger, or — on a
    /// follower — this node taking the lead (its first sync as leader must
    /// not wait a whole poll interval).
    pub async fn run(self: Arc<Self>) {
        let node_id = self.store.raft().node_id();
        let mut metrics = self.store.raft().raft().metrics();
        loop {
            let was_leader = self.store.is_leader();
            if !was_leader {
                self.synced_as_leader.store(false, Ordering::Relaxed);
            }
            if let Err(error) = self.sync_once().await {
                warn!(error = %format!("{error:#}"), "git sync failed");
            }
            let leads =
                |metrics: &openraft::RaftMetrics<_, _>| metrics.current_leader == Some(node_id);
            tokio::select! {
                () = tokio::time::sleep(self.poll_interval) => {}
                () = self.trigger.notified() => {}
                _ = metrics.wait_for(leads), if !was_leader => {}
            }
        }
    }

    /// Fetches and, for a new tip, renders and records it.
    #[instrument(skip(self), fields(branch = self.mirror.branch()))]
    pub async fn sync_once(&self) -> anyhow::Result<SyncOutcome> {
        let _running = self.running.lock().await;
        if !self.store.is_leader() {
            // Followers keep their own mirror current too, so the revisions
            // the leader records are there when agents ask this node.
            let mirror = self.mirror.clone();
            tokio::task::spawn_blocking(move || mirror.fetch()).await??;
            self.read_once.store(true, Ordering::Relaxed);
            return Ok(SyncOutcome::NotLeader);
        }
        let mirror = self.mirror.clone();
        let fetched = tokio::task::spawn_blocking(move || mirror.fetch()).await??;
        let known = self
            .store
            .read(|state| state.revisions.contains_key(&fetched.revision));
        if known {
            self.read_once.store(true, Ordering::Relaxed);
            self.synced_as_leader.store(true, Ordering::Relaxed);
            self.trim().await;
            return Ok(SyncOutcome::Unchanged(fetched.revision));
        }
        let started = Instant::now();
        let mirror = self.mirror.clone();
        let revision = fetched.revision.clone();
        let recorded = self.store.read(FleetState::recorded_charts);
        let (verdict, plan, renderer) = {
            let rendered = self.rendered.clone();
            tokio::task::spawn_blocking(move || {
                render_verdict(&mirror, &revision, &*rendered, recorded)
            })
            .await?
        };
        let charts = renderer
            .as_ref()
            .map(|renderer| renderer.fetched_charts())
            .unwrap_or_default();
        if let Some(renderer) = renderer {
            self.rendered.remember(&fetched.revision, renderer);
        }
        self.metrics.observe_render(
            started.elapsed(),
            matches!(verdict, RevisionVerdict::Valid { .. }),
        );
        let valid = matches!(verdict, RevisionVerdict::Valid { .. });
        let FetchedRevision { revision, summary } = fetched;
        match &verdict {
            RevisionVerdict::Valid { digests } => {
                info!(revision = %revision, clusters = digests.len(), "new revision renders for every cluster");
            }
            RevisionVerdict::Invalid { errors } => {
                warn!(revision = %revision, errors = errors.len(), "new revision fails to render; no cluster moves");
            }
        }
        self.store
            .write(Command::RecordRevision {
                revision: revision.clone(),
                summary,
                at_ms: now_ms(),
                verdict,
                plan,
                charts,
            })
            .await?;
        self.read_once.store(true, Ordering::Relaxed);
        self.synced_as_leader.store(true, Ordering::Relaxed);
        self.trim().await;
        Ok(SyncOutcome::Recorded { revision, valid })
    }

    /// Proposes a [`Command::Trim`] when the state holds more than the
    /// retention limits allow. A failure is logged: the next sync retries.
    async fn trim(&self) {
        let now = now_ms();
        let Some(command) = self
            .store
            .read(|state| state.trim_command(&self.retention, now))
        else {
            return;
        };
        if let Command::Trim {
            revisions,
            rollouts,
            audit_through_sequence,
            users,
            ..
        } = &command
        {
            info!(
                revisions = revisions.len(),
                rollouts = rollouts.len(),
                audit_through_sequence,
                users = users.len(),
                "trimming history past the retention limits"
            );
        }
        if let Err(error) = self.store.write(command).await {
            warn!(%error, "could not trim the replicated state; the next sync retries");
        }
    }
}

/// Renders `revision` for every cluster: the digests and the rollout plan,
/// or every error. Remote charts must have the digests `recorded` in the
/// replicated state. Clusters are rendered on every core; each render is
/// handed to `rendered` and dropped, so only digests stay in memory here.
fn render_verdict(
    mirror: &GitMirror,
    revision: &str,
    rendered: &dyn RenderedRevisions,
    recorded: Vec<fleet_core::render::ChartDigest>,
) -> (RevisionVerdict, Option<RolloutPlan>, Option<Arc<Renderer>>) {
    let started = Instant::now();
    let snapshot = match mirror.snapshot(revision) {
        Ok(snapshot) => snapshot,
        Err(error) => {
            let errors = vec![format!("{error:#}")];
            return (RevisionVerdict::Invalid { errors }, None, None);
        }
    };
    let previous = rendered.latest();
    let previous = previous.as_ref().map(|renderer| renderer.repository());
    let repository = match FleetRepository::load_after(Arc::new(snapshot), previous) {
        Ok(repository) => Arc::new(repository),
        Err(problems) => {
            let errors = problems.grouped().iter().map(ToString::to_string).collect();
            return (RevisionVerdict::Invalid { errors }, None, None);
        }
    };
    if let Err(problem) = repository.check_tracked_branch(mirror.branch()) {
        return (
            RevisionVerdict::Invalid {
                errors: vec![problem.to_string()],
            },
            None,
            None,
        );
    }
    let plan = rollout_plan(&repository);
    let names: Vec<&String> = repository.clusters.keys().collect();
    let renderer = Arc::new(Renderer::with_settings(
        repository.clone(),
        mirror.render_settings_with(recorded),
    ));
    let loaded_ms = started.elapsed().as_millis();
    let ClusterDigests { digests, errors } =
        render_every_cluster(&renderer, &names, revision, rendered);
    info!(
        revision,
        clusters = names.len(),
        errors = errors.len(),
        loaded_ms,
        rendered_ms = started.elapsed().as_millis() - loaded_ms,
        "revision rendered for every cluster"
    );
    if errors.is_empty() {
        (
            RevisionVerdict::Valid { digests },
            Some(plan),
            Some(renderer),
        )
    } else {
        rendered.forget(revision);
        (RevisionVerdict::Invalid { errors }, None, None)
    }
}

/// The waves of `repository` (DESIGN §4) as the state records them.
fn rollout_plan(repository: &FleetRepository) -> RolloutPlan {
    let rollout = &repository.fleet.spec.rollout;
    let planned = WavePlan::assign(&repository.fleet.spec, &repository.clusters);
    RolloutPlan {
        waves: planned
            .waves
            .into_iter()
            .map(|wave| {
                let spec = wave.spec.as_ref();
                PlannedWave {
                    manual: spec.is_some_and(|spec| spec.approval == Approval::Manual),
                    bake_ms: spec
                        .and_then(|spec| spec.bake)
                        .map_or(0, |bake| millis(bake.0)),
                    max_parallel: spec
                        .and_then(|spec| spec.max_parallel)
                        .map(|limit| limit.limit(wave.clusters.len())),
                    gates: spec.map(|spec| wave_gates(&spec.gates)).unwrap_or_default(),
                    name: wave.name,
                    clusters: wave.clusters,
                }
            })
            .collect(),
        max_failures: rollout.max_failures as usize,
        progress_deadline_ms: millis(rollout.progress_deadline.0),
        on_failure: match rollout.on_failure {
            OnFailure::Rollback => FailurePolicy::Rollback,
            OnFailure::Pause => FailurePolicy::Pause,
        },
        // Checked when the repository was read; a window that somehow fails
        // here is left out rather than failing the whole revision.
        windows: rollout
            .windows
            .iter()
            .filter_map(|window| fleet_core::rollout::SyncWindow::from_spec(window).ok())
            .collect(),
    }
}

/// The metric gates of a wave as the state records them.
fn wave_gates(gates: &[fleet_core::model::GateSpec]) -> Vec<crate::state::WaveGate> {
    gates
        .iter()
        .map(|gate| crate::state::WaveGate {
            name: gate.name.clone(),
            query: gate.prometheus.query.clone(),
            max: gate.prometheus.max,
            min: gate.prometheus.min,
            interval_ms: millis(gate.interval.0),
            failure_limit: gate.failure_limit,
            record: crate::state::GateRecord::default(),
        })
        .collect()
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

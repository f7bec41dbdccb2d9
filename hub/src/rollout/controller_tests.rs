//! The controller's decisions, scripted over time without Raft or clocks.

use super::*;
use crate::state::{
    ClusterStatus, CommandResult, FailurePolicy, HealthState, OperatorAction, PlannedWave,
    RevisionVerdict, RolloutPlan,
};

const SETTINGS: ControllerSettings = ControllerSettings {
    degraded_grace_ms: 5_000,
};

struct Fleet {
    state: FleetState,
    now: u64,
}

impl Fleet {
    /// canary: c1; production (manual, one at a time): p1, p2 — all on r1.
    fn new(on_failure: FailurePolicy, bake_ms: u64) -> Self {
        let mut fleet = Self {
            state: FleetState::default(),
            now: 1_000,
        };
        fleet.record("r1", "d1", on_failure, bake_ms);
        for cluster in ["c1", "p1", "p2"] {
            fleet.report(cluster, "d1", HealthState::Healthy, "");
        }
        fleet.settle();
        fleet
    }

    fn record(&mut self, revision: &str, digest: &str, on_failure: FailurePolicy, bake_ms: u64) {
        let digests = ["c1", "p1", "p2"]
            .map(|name| (name.to_owned(), digest.to_owned()))
            .into();
        let plan = RolloutPlan {
            waves: vec![
                PlannedWave {
                    name: "canary".into(),
                    clusters: vec!["c1".into()],
                    manual: false,
                    bake_ms,
                    max_parallel: None,
                    gates: Vec::new(),
                },
                PlannedWave {
                    name: "production".into(),
                    clusters: vec!["p1".into(), "p2".into()],
                    manual: true,
                    bake_ms: 0,
                    max_parallel: Some(1),
                    gates: Vec::new(),
                },
            ],
            max_failures: 0,
            progress_deadline_ms: 60_000,
            on_failure,
            windows: Vec::new(),
        };
        let result = self.state.apply(&Command::RecordRevision {
            charts: Vec::new(),
            revision: revision.into(),
            summary: format!("commit {revision}"),
            at_ms: self.now,
            verdict: RevisionVerdict::Valid { digests },
            plan: Some(plan),
        });
        assert_eq!(result, CommandResult::Applied);
    }

    fn report(&mut self, cluster: &str, digest: &str, health: HealthState, message: &str) {
        self.state.apply(&Command::ReportStatus {
            cluster: cluster.into(),
            status: ClusterStatus {
                applied_digest: digest.into(),
                health,
                message: message.into(),
                ..ClusterStatus::default()
            },
            at_ms: self.now,
        });
    }

    /// Applies decisions until there is none.
    fn settle(&mut self) {
        for _ in 0..100 {
            let Some(command) = decide(&self.state, self.now, SETTINGS) else {
                return;
            };
            assert_eq!(
                self.state.apply(&command),
                CommandResult::Applied,
                "{command:?}"
            );
        }
        panic!("the controller does not settle");
    }

    fn target(&self, cluster: &str) -> &str {
        &self.state.clusters[cluster].target_revision
    }

    fn rollout(&self) -> &crate::state::Rollout {
        self.state.rollouts.last().unwrap()
    }

    fn advance(&mut self, milliseconds: u64) {
        self.now += milliseconds;
    }
}

#[test]
fn canary_first_then_a_manual_wave_one_cluster_at_a_time() {
    let mut fleet = Fleet::new(FailurePolicy::Rollback, 0);
    assert_eq!(
        fleet.rollout().state,
        RolloutState::Succeeded,
        "the first revision deploys at once"
    );
    fleet.record("r2", "d2", FailurePolicy::Rollback, 0);
    fleet.settle();
    assert_eq!(
        (fleet.target("c1"), fleet.target("p1"), fleet.target("p2")),
        ("r2", "r1", "r1")
    );

    fleet.report("c1", "d2", HealthState::Healthy, "");
    fleet.settle();
    assert_eq!(fleet.rollout().waves[0].state, WaveState::Succeeded);
    assert_eq!(fleet.rollout().waves[1].state, WaveState::WaitingApproval);
    assert_eq!(fleet.target("p1"), "r1", "a manual wave waits for promote");

    let promote = Command::Operate {
        action: OperatorAction::Promote {
            wave: Some("production".into()),
            all: false,
            ignore_windows: false,
        },
        actor: "spiffe://fleet/admin/ops".into(),
        at_ms: fleet.now,
    };
    assert_eq!(fleet.state.apply(&promote), CommandResult::Applied);
    fleet.settle();
    assert_eq!(
        (fleet.target("p1"), fleet.target("p2")),
        ("r2", "r1"),
        "maxParallel 1"
    );
    fleet.report("p1", "d2", HealthState::Healthy, "");
    fleet.settle();
    assert_eq!(fleet.target("p2"), "r2");
    fleet.report("p2", "d2", HealthState::Healthy, "");
    fleet.settle();
    assert_eq!(fleet.rollout().state, RolloutState::Succeeded);
    assert!(
        fleet
            .state
            .audit
            .iter()
            .any(|entry| entry.action.contains("promoted wave(s) production"))
    );
}

#[test]
fn a_degraded_canary_rolls_back_and_production_never_moves() {
    let mut fleet = Fleet::new(FailurePolicy::Rollback, 0);
    fleet.record("r2", "d2", FailurePolicy::Rollback, 0);
    fleet.settle();
    fleet.report(
        "c1",
        "d2",
        HealthState::Degraded,
        "Deployment web/web: ProgressDeadlineExceeded",
    );
    fleet.settle();
    assert_eq!(fleet.target("c1"), "r2", "a short grace before failing");
    fleet.advance(5_000);
    fleet.settle();
    let rollout = fleet.rollout();
    assert_eq!(rollout.state, RolloutState::RolledBack);
    assert!(
        rollout
            .reason
            .contains("c1: Deployment web/web: ProgressDeadlineExceeded"),
        "{}",
        rollout.reason
    );
    assert_eq!(
        (fleet.target("c1"), fleet.target("p1"), fleet.target("p2")),
        ("r1", "r1", "r1")
    );
    assert!(
        rollout.waves[1]
            .clusters
            .iter()
            .all(|cluster| cluster.released_at_ms.is_none())
    );
}

#[test]
fn with_on_failure_pause_the_rollout_holds_until_resumed() {
    let mut fleet = Fleet::new(FailurePolicy::Pause, 0);
    fleet.record("r2", "d2", FailurePolicy::Pause, 0);
    fleet.settle();
    fleet.report("c1", "d2", HealthState::Degraded, "image pull failed");
    fleet.advance(5_000);
    fleet.settle();
    assert_eq!(fleet.rollout().state, RolloutState::Paused);
    assert_eq!(
        fleet.target("c1"),
        "r2",
        "pause holds everything where it is"
    );
    fleet.advance(60_000);
    fleet.settle();
    assert_eq!(fleet.rollout().state, RolloutState::Paused);
    // The operator fixes the cluster and resumes: the wave is tried again.
    fleet.report("c1", "d2", HealthState::Healthy, "");
    let resume = Command::Operate {
        action: OperatorAction::Resume,
        actor: "ops".into(),
        at_ms: fleet.now,
    };
    assert_eq!(fleet.state.apply(&resume), CommandResult::Applied);
    fleet.settle();
    assert_eq!(fleet.rollout().waves[0].state, WaveState::Succeeded);
}

#[test]
fn a_wave_bakes_before_the_next_starts_and_lost_convergence_resets_the_bake() {
    let mut fleet = Fleet::new(FailurePolicy::Rollback, 0);
    fleet.record("r2", "d2", FailurePolicy::Rollback, 120_000);
    fleet.settle();
    fleet.report("c1", "d2", HealthState::Healthy, "");
    fleet.settle();
    assert_eq!(fleet.rollout().waves[0].state, WaveState::Baking);
    fleet.advance(60_000);
    fleet.report("c1", "d2", HealthState::Progressing, "");
    fleet.settle();
    assert_eq!(fleet.rollout().waves[0].state, WaveState::Progressing);
    fleet.report("c1", "d2", HealthState::Healthy, "");
    fleet.settle();
    fleet.advance(119_000);
    fleet.settle();
    assert_eq!(fleet.rollout().waves[0].state, WaveState::Baking);
    fleet.advance(1_000);
    fleet.settle();
    assert_eq!(fleet.rollout().waves[0].state, WaveState::Succeeded);
}

#[test]
fn a_silent_cluster_fails_at_the_progress_deadline() {
    let mut fleet = Fleet::new(FailurePolicy::Rollback, 0);
    fleet.record("r2", "d2", FailurePolicy::Rollback, 0);
    fleet.settle();
    fleet.advance(59_999);
    fleet.settle();
    assert_eq!(fleet.rollout().state, RolloutState::Progressing);
    fleet.advance(1);
    fleet.settle();
    assert_eq!(fleet.rollout().state, RolloutState::RolledBack);
    assert!(
        fleet
            .rollout()
            .reason
            .contains("did not converge within the progress deadline of 60s")
    );
}

#[test]
fn a_newer_revision_supersedes_and_starts_from_the_first_wave() {
    let mut fleet = Fleet::new(FailurePolicy::Rollback, 0);
    fleet.record("r2", "d2", FailurePolicy::Rollback, 0);
    fleet.settle();
    fleet.report("c1", "d2", HealthState::Healthy, "");
    fleet.settle();
    fleet.record("r3", "d3", FailurePolicy::Rollback, 0);
    fleet.settle();
    assert_eq!(fleet.state.rollouts[1].state, RolloutState::Superseded);
    assert_eq!((fleet.target("c1"), fleet.target("p1")), ("r3", "r1"));
    let canary = &fleet.rollout().waves[0].clusters[0];
    assert_eq!(
        canary.previous_revision, "r2",
        "rollback goes to what the cluster ran"
    );
}

#[test]
fn clusters_whose_state_does_not_change_converge_at_once() {
    let mut fleet = Fleet::new(FailurePolicy::Rollback, 0);
    // Same digests: nothing to roll out; the rollout completes without promote.
    fleet.record("r2", "d1", FailurePolicy::Rollback, 0);
    fleet.settle();
    let rollout = fleet.rollout();
    assert_eq!(rollout.waves[0].state, WaveState::Succeeded);
    assert_eq!((fleet.target("c1"), fleet.target("p1")), ("r2", "r2"));
}

/// A wave of `clusters` (none: its selector matched no cluster).
fn planned(name: &str, clusters: &[&str], manual: bool, bake_ms: u64) -> PlannedWave {
    PlannedWave {
        name: name.into(),
        clusters: clusters
            .iter()
            .map(|cluster| (*cluster).to_owned())
            .collect(),
        manual,
        bake_ms,
        max_parallel: None,
        gates: Vec::new(),
    }
}

#[test]
fn waves_with_nothing_to_release_succeed_at_once_without_bake_or_approval() {
    let plan = |digests: [(&str, &str); 2]| Command::RecordRevision {
        charts: Vec::new(),
        revision: if digests[0].1 == "d1" { "r1" } else { "r2" }.into(),
        summary: "commit".into(),
        at_ms: 1_000,
        verdict: RevisionVerdict::Valid {
            digests: digests
                .map(|(cluster, digest)| (cluster.to_owned(), digest.to_owned()))
                .into(),
        },
        plan: Some(RolloutPlan {
            waves: vec![
                // The canary selector matches no cluster: an empty wave.
                planned("canary", &[], false, 120_000),
                planned("staging", &["s1"], false, 0),
                // Production's one cluster does not change in r2.
                planned("production", &["p1"], true, 120_000),
            ],
            max_failures: 0,
            progress_deadline_ms: 600_000,
            on_failure: FailurePolicy::Rollback,
            windows: Vec::new(),
        }),
    };
    let mut fleet = Fleet {
        state: FleetState::default(),
        now: 1_000,
    };
    fleet.state.apply(&plan([("s1", "d1"), ("p1", "d1")]));
    fleet.report("s1", "d1", HealthState::Healthy, "");
    fleet.report("p1", "d1", HealthState::Healthy, "");
    fleet.settle();
    assert_eq!(fleet.rollout().state, RolloutState::Succeeded);

    assert_eq!(
        fleet.state.apply(&plan([("s1", "d2"), ("p1", "d1")])),
        CommandResult::Applied
    );
    fleet.settle();
    // No time has passed: the empty canary did not bake its two minutes.
    let rollout = fleet.rollout();
    assert_eq!(rollout.waves[0].state, WaveState::Succeeded);
    assert_eq!(rollout.waves[1].state, WaveState::Progressing);
    assert_eq!(fleet.target("s1"), "r2");

    fleet.report("s1", "d2", HealthState::Healthy, "");
    fleet.settle();
    // Production has nothing to release: no promote, no bake.
    let rollout = fleet.rollout();
    assert_eq!(rollout.waves[2].state, WaveState::Succeeded);
    assert_eq!(rollout.state, RolloutState::Succeeded);

    let view = crate::rollout::RolloutView::of(&fleet.state, fleet.rollout(), fleet.now);
    let notes: Vec<Option<&str>> = view.waves.iter().map(|wave| wave.note.as_deref()).collect();
    assert_eq!(
        notes,
        [
            Some(crate::rollout::NO_CLUSTERS),
            None,
            Some(crate::rollout::NO_CHANGES)
        ]
    );
}

#[test]
fn a_baking_wave_with_clusters_still_bakes() {
    // The shortcut is only for waves with nothing to release.
    let mut fleet = Fleet::new(FailurePolicy::Rollback, 0);
    fleet.record("r2", "d2", FailurePolicy::Rollback, 60_000);
    fleet.settle();
    fleet.report("c1", "d2", HealthState::Healthy, "");
    fleet.settle();
    assert_eq!(fleet.rollout().waves[0].state, WaveState::Baking);
}

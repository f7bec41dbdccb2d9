//! Rollout policy (issue #19) scripted over time without Raft or clocks:
//! cluster holds and sync windows.

use fleet_core::model::WindowKind;
use fleet_core::rollout::SyncWindow;

use super::*;
use crate::state::{
    ClusterStatus, CommandResult, FailurePolicy, HealthState, OperatorAction, PlannedWave,
    RevisionVerdict, RolloutPlan,
};

const SETTINGS: ControllerSettings = ControllerSettings {
    degraded_grace_ms: 5_000,
};
const OPS: &str = "spiffe://fleet/admin/ops";

/// 2026-12-04 (a Friday) 12:00 UTC.
const FRIDAY_NOON_MS: u64 = 1_796_385_600_000;
const HOUR_MS: u64 = 3_600_000;

/// canary: c1; production: p1, p2 — all on r1, Healthy.
pub(super) struct Fleet {
    pub(super) state: FleetState,
    pub(super) now: u64,
    windows: Vec<SyncWindow>,
    /// Production's maxParallel (`None`: every cluster at once).
    production_parallel: Option<usize>,
    /// Canary's metric gates.
    pub(super) canary_gates: Vec<crate::state::WaveGate>,
}

impl Fleet {
    pub(super) fn new(windows: Vec<SyncWindow>) -> Self {
        let mut fleet = Self {
            state: FleetState::default(),
            now: FRIDAY_NOON_MS,
            windows,
            production_parallel: None,
            canary_gates: Vec::new(),
        };
        fleet.record("r1", "d1");
        for cluster in ["c1", "p1", "p2"] {
            fleet.report(cluster, "d1");
        }
        fleet.settle();
        fleet
    }

    pub(super) fn record(&mut self, revision: &str, digest: &str) {
        let digests = ["c1", "p1", "p2"]
            .map(|name| (name.to_owned(), digest.to_owned()))
            .into();
        let wave = |name: &str, clusters: &[&str]| PlannedWave {
            name: name.into(),
            clusters: clusters
                .iter()
                .map(|cluster| (*cluster).to_owned())
                .collect(),
            manual: false,
            bake_ms: 0,
            max_parallel: (name == "production")
                .then_some(self.production_parallel)
                .flatten(),
            gates: if name == "canary" {
                self.canary_gates.clone()
            } else {
                Vec::new()
            },
        };
        let result = self.state.apply(&Command::RecordRevision {
            charts: Vec::new(),
            revision: revision.into(),
            summary: format!("commit {revision}"),
            at_ms: self.now,
            verdict: RevisionVerdict::Valid { digests },
            plan: Some(RolloutPlan {
                waves: vec![wave("canary", &["c1"]), wave("production", &["p1", "p2"])],
                max_failures: 0,
                progress_deadline_ms: 600_000,
                on_failure: FailurePolicy::Rollback,
                windows: self.windows.clone(),
            }),
        });
        assert_eq!(result, CommandResult::Applied);
    }

    pub(super) fn report(&mut self, cluster: &str, digest: &str) {
        self.state.apply(&Command::ReportStatus {
            cluster: cluster.into(),
            status: ClusterStatus {
                applied_digest: digest.into(),
                health: HealthState::Healthy,
                ..ClusterStatus::default()
            },
            at_ms: self.now,
        });
    }

    pub(super) fn settle(&mut self) {
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

    pub(super) fn apply(&mut self, command: Command) -> CommandResult {
        self.state.apply(&command)
    }

    fn hold(&mut self, cluster: &str) -> CommandResult {
        self.apply(Command::HoldCluster {
            cluster: cluster.into(),
            reason: "database migration".into(),
            actor: OPS.into(),
            at_ms: self.now,
        })
    }

    fn release(&mut self, cluster: &str) -> CommandResult {
        self.apply(Command::ReleaseClusterHold {
            cluster: cluster.into(),
            actor: OPS.into(),
            at_ms: self.now,
        })
    }

    pub(super) fn target(&self, cluster: &str) -> &str {
        &self.state.clusters[cluster].target_revision
    }

    pub(super) fn rollout(&self) -> &crate::state::Rollout {
        self.state.rollouts.last().unwrap()
    }

    pub(super) fn view(&self) -> super::super::RolloutView {
        super::super::RolloutView::of(&self.state, self.rollout(), self.now)
    }
}

#[test]
fn a_held_cluster_keeps_its_target_is_skipped_and_catches_up_on_release() {
    let mut fleet = Fleet::new(Vec::new());
    assert_eq!(fleet.hold("p2"), CommandResult::Applied);
    assert!(matches!(fleet.hold("p2"), CommandResult::Rejected(_)));
    assert!(matches!(fleet.hold("nope"), CommandResult::Rejected(_)));

    fleet.record("r2", "d2");
    fleet.settle();
    fleet.report("c1", "d2");
    fleet.settle();
    assert_eq!((fleet.target("p1"), fleet.target("p2")), ("r2", "r1"));
    let view = fleet.view();
    assert_eq!(
        view.waves[1].held,
        ["p2: database migration (held by spiffe://fleet/admin/ops)"]
    );
    // Neither converged nor failed: the wave completes without it, even
    // long past the progress deadline.
    fleet.report("p1", "d2");
    fleet.now += 3_600_000;
    fleet.settle();
    assert_eq!(fleet.rollout().state, RolloutState::Succeeded);
    assert_eq!(fleet.target("p2"), "r1", "held through the whole rollout");
    let p2 = &fleet.rollout().waves[1].clusters[1];
    assert_eq!((p2.released_at_ms, &p2.failure), (None, &None));

    // Released: it moves to the last finished rollout's revision.
    assert_eq!(fleet.release("p2"), CommandResult::Applied);
    assert!(matches!(fleet.release("p2"), CommandResult::Rejected(_)));
    fleet.settle();
    assert_eq!(fleet.target("p2"), "r2");
    let audit: Vec<&str> = fleet
        .state
        .audit
        .iter()
        .map(|entry| entry.action.as_str())
        .collect();
    assert!(
        audit.contains(&"held cluster p2: database migration"),
        "{audit:?}"
    );
    assert!(
        audit.contains(&"released the hold on cluster p2"),
        "{audit:?}"
    );
}

#[test]
fn a_hold_released_during_the_rollout_joins_its_wave_or_catches_up() {
    let mut fleet = Fleet::new(Vec::new());
    fleet.hold("c1");
    fleet.hold("p1");
    fleet.record("r2", "d2");
    fleet.settle();
    // The canary's only cluster is held: the wave passes, production goes.
    assert_eq!(fleet.rollout().waves[0].state, WaveState::Succeeded);
    assert_eq!(
        (fleet.target("c1"), fleet.target("p1"), fleet.target("p2")),
        ("r1", "r1", "r2")
    );
    // p1's hold ends while production is still in progress: it is released there.
    fleet.release("p1");
    fleet.settle();
    assert_eq!(fleet.target("p1"), "r2");
    // c1's wave is done: it catches up while the rollout still runs.
    fleet.release("c1");
    fleet.settle();
    assert_eq!(fleet.target("c1"), "r2");
    fleet.report("p1", "d2");
    fleet.report("p2", "d2");
    fleet.settle();
    assert_eq!(fleet.rollout().state, RolloutState::Succeeded);
}

#[test]
fn a_cluster_held_after_the_decision_is_not_released() {
    let mut fleet = Fleet::new(Vec::new());
    fleet.record("r2", "d2");
    let decision = decide(&fleet.state, fleet.now, SETTINGS).unwrap();
    let decision = match decision {
        Command::SetWaveState { .. } => {
            fleet.apply(decision);
            decide(&fleet.state, fleet.now, SETTINGS).unwrap()
        }
        other => other,
    };
    assert!(
        matches!(decision, Command::ReleaseClusters { .. }),
        "{decision:?}"
    );
    fleet.hold("c1");
    assert_eq!(fleet.apply(decision), CommandResult::Applied);
    assert_eq!(fleet.target("c1"), "r1", "the hold written first wins");
}

fn friday_freeze() -> SyncWindow {
    // Friday 18:00 Berlin (17:00 UTC in December) for 64 h, production only.
    SyncWindow {
        kind: WindowKind::Deny,
        schedule: "0 18 * * 5".into(),
        duration_ms: 64 * HOUR_MS,
        timezone: "Europe/Berlin".into(),
        waves: vec!["production".into()],
    }
}

#[test]
fn a_deny_window_holds_the_wave_until_it_closes() {
    let mut fleet = Fleet::new(vec![friday_freeze()]);
    fleet.now = FRIDAY_NOON_MS + 6 * HOUR_MS; // 18:00 UTC: frozen
    fleet.record("r2", "d2");
    fleet.settle();
    fleet.report("c1", "d2");
    fleet.settle();
    assert_eq!(
        fleet.rollout().waves[0].state,
        WaveState::Succeeded,
        "canary is not frozen"
    );
    assert_eq!(fleet.rollout().waves[1].state, WaveState::Pending);
    assert_eq!(fleet.target("p1"), "r1");
    let monday_ten_berlin = FRIDAY_NOON_MS + 5 * HOUR_MS + 64 * HOUR_MS;
    let wave = &fleet.view().waves[1];
    assert!(wave.waiting_for_window);
    assert_eq!(wave.window_opens_at_ms, Some(monday_ten_berlin));

    fleet.now = monday_ten_berlin - 1;
    fleet.settle();
    assert_eq!(fleet.target("p1"), "r1");
    fleet.now = monday_ten_berlin;
    fleet.settle();
    assert_eq!((fleet.target("p1"), fleet.target("p2")), ("r2", "r2"));
    assert!(!fleet.view().waves[1].waiting_for_window);
}

#[test]
fn a_wave_in_progress_finishes_its_released_clusters_but_releases_no_new_ones() {
    let mut fleet = Fleet::new(vec![friday_freeze()]);
    fleet.now = FRIDAY_NOON_MS + 4 * HOUR_MS; // 16:00 UTC: open for one more hour
    fleet.production_parallel = Some(1);
    fleet.record("r2", "d2");
    fleet.settle();
    fleet.report("c1", "d2");
    fleet.settle();
    assert_eq!((fleet.target("p1"), fleet.target("p2")), ("r2", "r1"));
    fleet.now = FRIDAY_NOON_MS + 5 * HOUR_MS; // the freeze starts
    fleet.report("p1", "d2");
    fleet.settle();
    assert_eq!(fleet.target("p2"), "r1", "no new release while frozen");
    assert_eq!(fleet.rollout().waves[1].clusters[0].failure, None);
    assert!(fleet.view().waves[1].waiting_for_window);

    // An admin overrides the window.
    let promote = Command::Operate {
        action: OperatorAction::Promote {
            wave: Some("production".into()),
            all: false,
            ignore_windows: true,
        },
        actor: OPS.into(),
        at_ms: fleet.now,
    };
    assert_eq!(fleet.apply(promote), CommandResult::Applied);
    fleet.settle();
    assert_eq!(fleet.target("p2"), "r2");
    assert!(
        fleet
            .state
            .audit
            .iter()
            .any(|entry| entry.action.contains("ignoring sync windows"))
    );
}

#[test]
fn an_allow_window_across_the_spring_change_releases_in_berlin_morning_hours() {
    // Production only between 09:00 and 11:00 Berlin time. On 2026-03-29
    // clocks jump from 02:00 CET to 03:00 CEST: 09:00 is 07:00 UTC that day,
    // 08:00 UTC the day before.
    let allow = SyncWindow {
        kind: WindowKind::Allow,
        schedule: "0 9 * * *".into(),
        duration_ms: 2 * HOUR_MS,
        timezone: "Europe/Berlin".into(),
        waves: vec!["production".into()],
    };
    let mut fleet = Fleet::new(vec![allow]);
    let change_day_midnight_utc = 1_774_742_400_000; // 2026-03-29T00:00:00Z
    fleet.now = change_day_midnight_utc;
    fleet.record("r2", "d2");
    fleet.settle();
    fleet.report("c1", "d2");
    fleet.settle();
    let wave = &fleet.view().waves[1];
    assert_eq!(
        wave.window_opens_at_ms,
        Some(change_day_midnight_utc + 7 * HOUR_MS)
    );
    fleet.now = change_day_midnight_utc + 7 * HOUR_MS - 1;
    fleet.settle();
    assert_eq!(fleet.target("p1"), "r1", "08:59:59 CEST");
    fleet.now += 1;
    fleet.settle();
    assert_eq!(fleet.target("p1"), "r2", "09:00 CEST");
}

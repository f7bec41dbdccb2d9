//! Metric gates scripted over time: pass, fail beyond the limit,
//! inconclusive (waits, then the progress deadline).

use fleet_core::model::Threshold;

use super::policy_tests::Fleet;
use super::*;
use crate::state::{CommandResult, GateOutcome, GateRecord, WaveGate};

fn error_ratio(failure_limit: u32) -> WaveGate {
    WaveGate {
        name: "error-ratio".into(),
        query: "max(rate(errors{cluster=~\"${wave.clusters}\"}[2m]))".into(),
        max: Some(Threshold(0.01)),
        min: None,
        interval_ms: 30_000,
        failure_limit,
        record: GateRecord::default(),
    }
}

fn fleet_with_gate(failure_limit: u32) -> Fleet {
    let mut fleet = Fleet::new(Vec::new());
    fleet.canary_gates = vec![error_ratio(failure_limit)];
    fleet.record("r2", "d2");
    fleet.settle();
    fleet.report("c1", "d2");
    fleet.settle();
    fleet
}

/// What the leader's analysis would record for a measured `value`.
fn measure(fleet: &mut Fleet, value: Option<f64>) {
    let rollout = fleet.rollout();
    let gate = &rollout.waves[0].gates[0];
    let outcome = match value {
        Some(value) => gate.judge(value),
        None => GateOutcome::Inconclusive("Prometheus unreachable: connection refused".into()),
    };
    let command = Command::RecordGateEvaluation {
        rollout: rollout.id,
        wave: 0,
        gate: gate.name.clone(),
        outcome,
        at_ms: fleet.now,
    };
    assert_eq!(fleet.apply(command), CommandResult::Applied);
    fleet.settle();
}

#[test]
fn a_passing_gate_lets_the_wave_succeed() {
    let mut fleet = fleet_with_gate(0);
    assert_eq!(
        fleet.rollout().waves[0].state,
        WaveState::Baking,
        "converged; waiting for the gate"
    );
    assert_eq!(
        fleet.view().waves[0].gates,
        ["error-ratio: not evaluated yet"]
    );
    measure(&mut fleet, Some(0.001));
    assert_eq!(fleet.rollout().waves[0].state, WaveState::Succeeded);
    assert_eq!(fleet.target("p1"), "r2");
    assert_eq!(
        fleet.view().waves[0].gates,
        ["error-ratio: passed (value 0.001)"]
    );
}

#[test]
fn a_gate_failing_beyond_its_limit_fails_the_wave_and_rolls_back() {
    let mut fleet = fleet_with_gate(1);
    measure(&mut fleet, Some(0.2));
    assert_eq!(
        fleet.rollout().waves[0].state,
        WaveState::Baking,
        "one failure is tolerated"
    );
    fleet.now += 30_000;
    measure(&mut fleet, Some(0.3));
    let rollout = fleet.rollout();
    assert_eq!(rollout.state, RolloutState::RolledBack);
    assert!(
        rollout
            .reason
            .contains("gate error-ratio failed: value 0.3 above max 0.01"),
        "{}",
        rollout.reason
    );
    assert_eq!((fleet.target("c1"), fleet.target("p1")), ("r1", "r1"));
}

#[test]
fn an_inconclusive_gate_waits_until_the_progress_deadline() {
    let mut fleet = fleet_with_gate(0);
    measure(&mut fleet, None);
    assert_eq!(fleet.rollout().waves[0].state, WaveState::Baking);
    assert_eq!(
        fleet.view().waves[0].gates,
        ["error-ratio: inconclusive, waiting (Prometheus unreachable: connection refused)"]
    );
    fleet.now += 599_999;
    fleet.settle();
    assert_eq!(fleet.rollout().state, RolloutState::Progressing, "it waits");
    fleet.now += 1;
    fleet.settle();
    let rollout = fleet.rollout();
    assert_eq!(rollout.state, RolloutState::RolledBack);
    assert!(
        rollout
            .reason
            .contains("gate error-ratio inconclusive past the progress deadline"),
        "{}",
        rollout.reason
    );
}

#[test]
fn a_pass_from_before_the_bake_restarted_does_not_count() {
    let fleet = fleet_with_gate(0);
    let gate = &fleet.rollout().waves[0].gates[0];
    assert!(gate.due(fleet.now, fleet.now));
    assert!(!gate.passed_since(fleet.now));
    let mut passed = gate.clone();
    passed.record.last = Some(GateOutcome::Passed("value 0".into()));
    passed.record.last_at_ms = Some(fleet.now);
    assert!(passed.passed_since(fleet.now));
    assert!(!passed.passed_since(fleet.now + 1));
    assert!(!passed.due(fleet.now, fleet.now + 29_999));
    assert!(passed.due(fleet.now, fleet.now + 30_000));
    assert_eq!(
        passed.judge(0.5),
        GateOutcome::Failed("value 0.5 above max 0.01".into())
    );
    assert!(matches!(
        passed.judge(f64::NAN),
        GateOutcome::Inconclusive(_)
    ));
}

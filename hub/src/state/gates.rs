//! Metric gates of a rollout's waves in the replicated state (issue #19).
//! Only the leader queries Prometheus; each result is a
//! [`super::Command::RecordGateEvaluation`], so the rollout controller
//! decides from replicated data alone.

use fleet_core::model::Threshold;
use serde::{Deserialize, Serialize};

use super::command::CommandResult;
use super::fleet_state::FleetState;

/// A gate of a wave, copied from `fleet.yaml` at the rollout's revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaveGate {
    /// Gate name.
    pub name: String,
    /// PromQL instant query (with `${wave.clusters}` still in it).
    pub query: String,
    /// The value must be at most this.
    pub max: Option<Threshold>,
    /// The value must be at least this.
    pub min: Option<Threshold>,
    /// Evaluated every this long (milliseconds).
    pub interval_ms: u64,
    /// Failed evaluations tolerated.
    pub failure_limit: u32,
    /// What its evaluations found.
    #[serde(default)]
    pub record: GateRecord,
}

/// The evaluations of one gate in one wave.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateRecord {
    /// Failed evaluations so far.
    pub failures: u32,
    /// The latest evaluation.
    pub last: Option<GateOutcome>,
    /// When it was made (Unix milliseconds).
    pub last_at_ms: Option<u64>,
    /// The failure that counted last, in words (for the wave's reason).
    pub last_failure: Option<String>,
}

/// What one evaluation found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GateOutcome {
    /// Within bounds; the value as text.
    Passed(String),
    /// Out of bounds: the value and the bound it crossed, in words.
    Failed(String),
    /// No verdict (Prometheus unreachable, an empty result…): the wave waits.
    Inconclusive(String),
}

impl WaveGate {
    /// The verdict on `value` (a number Prometheus returned).
    pub fn judge(&self, value: f64) -> GateOutcome {
        if !value.is_finite() {
            return GateOutcome::Inconclusive(format!("the query returned {value}"));
        }
        if let Some(max) = self.max
            && value > max.0
        {
            return GateOutcome::Failed(format!("value {value} above max {}", max.0));
        }
        if let Some(min) = self.min
            && value < min.0
        {
            return GateOutcome::Failed(format!("value {value} below min {}", min.0));
        }
        GateOutcome::Passed(format!("value {value}"))
    }

    /// Whether it failed more often than tolerated.
    pub fn exceeded(&self) -> bool {
        self.record.failures > self.failure_limit
    }

    /// Whether its latest evaluation, made at or after `since_ms`, passed.
    pub fn passed_since(&self, since_ms: u64) -> bool {
        matches!(self.record.last, Some(GateOutcome::Passed(_)))
            && self.record.last_at_ms.is_some_and(|at| at >= since_ms)
    }

    /// Whether an evaluation is due at `now_ms` for a wave baking since `since_ms`.
    pub fn due(&self, since_ms: u64, now_ms: u64) -> bool {
        match self.record.last_at_ms {
            Some(at) if at >= since_ms => now_ms.saturating_sub(at) >= self.interval_ms,
            _ => true,
        }
    }
}

impl FleetState {
    pub(super) fn record_gate_evaluation(
        &mut self,
        rollout: u64,
        wave: usize,
        gate: &str,
        outcome: &GateOutcome,
        at_ms: u64,
    ) -> CommandResult {
        let Some(found) = self
            .rollouts
            .iter_mut()
            .find(|candidate| candidate.id == rollout && candidate.state.is_active())
            .and_then(|rollout| rollout.waves.get_mut(wave))
            .and_then(|wave| {
                wave.gates
                    .iter_mut()
                    .find(|candidate| candidate.name == gate)
            })
        else {
            return CommandResult::Rejected(format!(
                "rollout {rollout} has no active wave {wave} with gate '{gate}'"
            ));
        };
        let record = &mut found.record;
        if let GateOutcome::Failed(why) = outcome {
            record.failures += 1;
            record.last_failure = Some(why.clone());
        }
        record.last = Some(outcome.clone());
        record.last_at_ms = Some(at_ms);
        CommandResult::Applied
    }
}

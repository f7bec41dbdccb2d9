//! The leader's gate evaluations: for the wave a rollout works on, once all
//! its clusters converged (baking), each gate is queried every interval and
//! the result written as a replicated command. Followers never query.

use std::time::Duration;

use tracing::{info, warn};

use super::prometheus::PrometheusClient;
use crate::clock::now_ms;
use crate::state::{Command, FleetState, GateOutcome, WaveGate, WaveState};
use crate::store::FleetStore;

/// How often the leader looks for due evaluations.
const TICK: Duration = Duration::from_secs(1);

/// What `${wave.clusters}` in a gate's query is replaced with.
pub const WAVE_CLUSTERS: &str = "${wave.clusters}";

/// One evaluation to make.
#[derive(Debug, Clone, PartialEq)]
pub struct DueEvaluation {
    /// Rollout id.
    pub rollout: u64,
    /// Wave index.
    pub wave: usize,
    /// The gate (its thresholds judge the value).
    pub gate: WaveGate,
    /// The query with `${wave.clusters}` filled in.
    pub query: String,
}

/// The evaluations due at `now_ms`: the gates of the active rollout's
/// current wave while it bakes, each at most once per interval.
pub fn due_evaluations(state: &FleetState, now_ms: u64) -> Vec<DueEvaluation> {
    let Some(rollout) = state.active_rollout() else {
        return Vec::new();
    };
    if rollout.state != crate::state::RolloutState::Progressing {
        return Vec::new();
    }
    let Some(index) = rollout.current_wave() else {
        return Vec::new();
    };
    let wave = &rollout.waves[index];
    let (WaveState::Baking, Some(since)) = (wave.state, wave.baking_since_ms) else {
        return Vec::new();
    };
    let names: Vec<&str> = wave
        .clusters
        .iter()
        .map(|cluster| cluster.name.as_str())
        .collect();
    let clusters = cluster_regex(&names);
    wave.gates
        .iter()
        .filter(|gate| gate.due(since, now_ms))
        .map(|gate| DueEvaluation {
            rollout: rollout.id,
            wave: index,
            gate: gate.clone(),
            query: gate.query.replace(WAVE_CLUSTERS, &clusters),
        })
        .collect()
}

/// A regular expression (RE2, as Prometheus anchors it) matching exactly
/// `names`: `a|b|c`, with characters other than letters, digits, `-` and
/// `_` in brackets.
pub fn cluster_regex(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| {
            name.chars()
                .map(|character| {
                    if character.is_ascii_alphanumeric() || matches!(character, '-' | '_') {
                        character.to_string()
                    } else {
                        format!("[{character}]")
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// Evaluates gates while this node leads.
pub struct AnalysisRunner {
    store: FleetStore,
    client: Option<PrometheusClient>,
}

impl AnalysisRunner {
    /// A runner over `store`; `client` is `None` when no Prometheus is
    /// configured (every evaluation is then inconclusive and says so).
    pub fn new(store: FleetStore, client: Option<PrometheusClient>) -> Self {
        Self { store, client }
    }

    /// Runs forever.
    pub async fn run(self) {
        loop {
            if self.store.is_leader() {
                self.step().await;
            }
            tokio::time::sleep(TICK).await;
        }
    }

    async fn step(&self) {
        let due = self.store.read(|state| due_evaluations(state, now_ms()));
        for evaluation in due {
            let outcome = match &self.client {
                None => GateOutcome::Inconclusive(
                    "no Prometheus configured (hub.yaml analysis.prometheus)".to_owned(),
                ),
                Some(client) => match client.query(&evaluation.query).await {
                    Ok(value) => evaluation.gate.judge(value),
                    Err(error) => GateOutcome::Inconclusive(error.to_string()),
                },
            };
            info!(
                rollout = evaluation.rollout,
                wave = evaluation.wave,
                gate = %evaluation.gate.name,
                outcome = ?outcome,
                "gate evaluated"
            );
            let command = Command::RecordGateEvaluation {
                rollout: evaluation.rollout,
                wave: evaluation.wave,
                gate: evaluation.gate.name.clone(),
                outcome,
                at_ms: now_ms(),
            };
            if let Err(error) = self.store.write(command).await {
                warn!(error = %error, "gate evaluation could not be written");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wave_clusters_placeholder_becomes_an_exact_alternation() {
        assert_eq!(
            cluster_regex(&["canary-1", "eu.west"]),
            "canary-1|eu[.]west"
        );
    }
}

//! Runs the controller on the leader: after every state change and on a
//! short tick (bake times and deadlines pass without any write).

use std::time::Duration;

use tracing::{info, warn};

use super::controller::{ControllerSettings, decide};
use crate::clock::now_ms;
use crate::state::{Command, CommandResult};
use crate::store::FleetStore;

/// How often the controller looks even when nothing changed.
const TICK: Duration = Duration::from_millis(250);
/// Decisions written in one go before yielding.
const MAX_STEPS: usize = 64;

/// Drives rollouts while this node leads.
pub struct RolloutDriver {
    store: FleetStore,
    settings: ControllerSettings,
}

impl RolloutDriver {
    /// A driver over `store`.
    pub fn new(store: FleetStore, settings: ControllerSettings) -> Self {
        Self { store, settings }
    }

    /// Runs forever.
    pub async fn run(self) {
        let mut changes = self.store.subscribe();
        loop {
            if self.store.is_leader() {
                self.step().await;
            }
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                () = tokio::time::sleep(TICK) => {}
            }
        }
    }

    async fn step(&self) {
        for _ in 0..MAX_STEPS {
            let Some(command) = self
                .store
                .read(|state| decide(state, now_ms(), self.settings))
            else {
                return;
            };
            log_decision(&command);
            match self.store.write(command).await {
                Ok(CommandResult::Applied) => {}
                Ok(other) => {
                    warn!(result = ?other, "rollout decision was not applied");
                    return;
                }
                Err(error) => {
                    warn!(error = %error, "rollout decision could not be written");
                    return;
                }
            }
        }
    }
}

fn log_decision(command: &Command) {
    match command {
        Command::ReleaseClusters {
            rollout, clusters, ..
        } => {
            info!(rollout, clusters = ?clusters, "releasing clusters");
        }
        Command::SetWaveState {
            rollout,
            wave,
            state,
            ..
        } => info!(rollout, wave, state = ?state, "wave"),
        Command::FailCluster {
            rollout,
            cluster,
            reason,
            ..
        } => {
            warn!(rollout, cluster = %cluster, reason = %reason, "cluster failed");
        }
        Command::SetRolloutState {
            rollout,
            state,
            reason,
            ..
        } => {
            info!(rollout, state = ?state, reason = %reason, "rollout");
        }
        Command::RollbackRollout {
            rollout, reason, ..
        } => warn!(rollout, reason = %reason, "rolling back"),
        _ => {}
    }
}

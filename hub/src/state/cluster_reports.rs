//! Agents' status reports and drift history, as the status batcher writes
//! them (`ReportStatuses`).

use super::command::{CommandResult, DriftUpdate, StatusUpdate};
use super::fleet_state::FleetState;
use super::records::ClusterStatus;

impl FleetState {
    pub(super) fn report_statuses(
        &mut self,
        updates: &[StatusUpdate],
        drift: &[DriftUpdate],
        drift_kept: u32,
        at_ms: u64,
    ) -> CommandResult {
        let mut result = CommandResult::Unchanged;
        for update in updates {
            if self.report_status(&update.cluster, &update.status, at_ms) == CommandResult::Applied
            {
                result = CommandResult::Applied;
            }
        }
        for update in drift {
            self.record_drift(update, drift_kept);
            result = CommandResult::Applied;
        }
        result
    }

    /// Records an agent's report (its time even when nothing changed).
    pub(super) fn report_status(
        &mut self,
        cluster: &str,
        status: &ClusterStatus,
        at_ms: u64,
    ) -> CommandResult {
        let record = self.clusters.entry(cluster.to_owned()).or_default();
        record.last_report_ms = Some(at_ms);
        if record.status.as_ref() == Some(status) {
            return CommandResult::Unchanged;
        }
        record.status = Some(status.clone());
        CommandResult::Applied
    }

    /// Adds a cluster's drift events to its history and keeps the newest
    /// `kept`.
    fn record_drift(&mut self, update: &DriftUpdate, kept: u32) {
        let record = self.clusters.entry(update.cluster.clone()).or_default();
        record.drift_history.extend(update.events.iter().cloned());
        let kept = usize::try_from(kept).unwrap_or(usize::MAX);
        let excess = record.drift_history.len().saturating_sub(kept);
        record.drift_history.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use crate::state::{Command, CommandResult, FleetState};

    #[test]
    fn drift_history_keeps_the_newest_events_the_entry_names() {
        let mut state = FleetState::default();
        let event = |name: &str| super::super::records::DriftRecord {
            at_ms: 1,
            app: "web".into(),
            kind: "ConfigMap".into(),
            name: name.into(),
            reverted: true,
            ..Default::default()
        };
        let report = |names: &[&str], kept: u32| Command::ReportStatuses {
            updates: Vec::new(),
            at_ms: 1,
            drift: vec![super::super::command::DriftUpdate {
                cluster: "a".into(),
                events: names.iter().map(|name| event(name)).collect(),
            }],
            drift_kept: kept,
        };
        assert_eq!(
            state.apply(&report(&["one", "two"], 3)),
            CommandResult::Applied
        );
        state.apply(&report(&["three", "four"], 3));
        let names: Vec<&str> = state.clusters["a"]
            .drift_history
            .iter()
            .map(|event| event.name.as_str())
            .collect();
        assert_eq!(names, ["two", "three", "four"], "oldest dropped first");
        state.apply(&report(&["five"], 1));
        assert_eq!(state.clusters["a"].drift_history, [event("five")]);
    }
}

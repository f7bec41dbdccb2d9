//! The replicated fleet state: what the hub's Raft log decides.
//!
//! Pure data and a deterministic `apply`: every change is a [`Command`]
//! carrying everything it needs (timestamps included — the leader reads the
//! clock, followers never do), so every node that applies the same log ends in
//! the same [`FleetState`]. The Raft storage (`raft/`) persists the log and
//! snapshots of this state; nothing here knows about Raft, gRPC or Git.

mod cluster_reports;
mod command;
mod enrollment;
mod fleet_state;
mod gates;
mod holds;
mod hub_nodes;
pub mod notification_events;
mod notifications;
pub mod presence;
mod records;
mod renewal;
mod retention;
mod rollout;
pub mod rollout_transitions;
mod users;

pub use command::{Command, CommandResult, DriftUpdate, Refusal, StatusUpdate};
pub use fleet_state::FleetState;
pub use gates::{GateOutcome, GateRecord, WaveGate};
pub use holds::ClusterHold;
pub use hub_nodes::{HubNodeRecord, JoinTokenRecord};
pub use notifications::{
    DeliveryOutcome, DeliveryResult, EventCategory, NotificationEvent, NotificationFormat,
    NotificationState, NotificationTarget, OutboxEntry, PendingDelivery, SecretText,
};
pub use presence::{
    ClusterPresence, Connection, DisconnectedCluster, NodeHeartbeat, PresenceState, SessionChange,
};
pub use records::{
    AgentRecord, AppStatusRecord, AuditEntry, ClusterRecord, ClusterStatus, DriftRecord,
    HealthState, RevisionRecord, RevisionVerdict, TokenRecord,
};
pub use retention::RetentionLimits;
pub use rollout::{
    FailurePolicy, OperatorAction, PlannedWave, Rollout, RolloutCluster, RolloutPlan, RolloutState,
    RolloutWave, WaveState,
};
pub use users::{CERTIFICATES_KEPT_PER_USER, Role, UserCertificate, UserRecord};

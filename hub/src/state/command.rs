//! Changes to the fleet state: the entries of the Raft log.

use fleet_core::render::ChartDigest;
use serde::{Deserialize, Serialize};

use super::gates::GateOutcome;
use super::notifications::{DeliveryOutcome, NotificationEvent, NotificationTarget};
use super::presence::{DisconnectedCluster, SessionChange};
use super::records::{ClusterStatus, DriftRecord, RevisionVerdict};
use super::rollout::{OperatorAction, RolloutPlan, RolloutState, WaveState};

/// One change to the fleet state. Carries its own timestamps so that applying
/// it is deterministic on every node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// A revision was observed on the tracked branch and rendered.
    RecordRevision {
        /// Commit id.
        revision: String,
        /// Commit summary line.
        summary: String,
        /// When (Unix milliseconds).
        at_ms: u64,
        /// The render verdict.
        verdict: RevisionVerdict,
        /// The rollout of a valid revision (`None` for invalid ones). Clusters
        /// with no target yet, and clusters whose digest does not change, get
        /// the revision at once; the rest wait for their wave.
        plan: Option<RolloutPlan>,
        /// The remote Helm charts the render used and their digests (none
        /// for invalid revisions or fleets without remote charts).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        charts: Vec<ChartDigest>,
    },
    /// The controller releases clusters of a wave (their targets move).
    ReleaseClusters {
        /// Rollout id.
        rollout: u64,
        /// Cluster names.
        clusters: Vec<String>,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// The controller moves a wave to a new state.
    SetWaveState {
        /// Rollout id.
        rollout: u64,
        /// Wave index.
        wave: usize,
        /// New state.
        state: WaveState,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// The controller marks a released cluster failed.
    FailCluster {
        /// Rollout id.
        rollout: u64,
        /// Cluster name.
        cluster: String,
        /// Why, in words.
        reason: String,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// The rollout ends or pauses (not a rollback).
    SetRolloutState {
        /// Rollout id.
        rollout: u64,
        /// New state.
        state: RolloutState,
        /// Why, in words.
        reason: String,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// Every released cluster goes back to its previous target.
    RollbackRollout {
        /// Rollout id.
        rollout: u64,
        /// Why, in words.
        reason: String,
        /// Who (certificate identity, or the controller).
        actor: String,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// An operator promotes, pauses or resumes the active rollout.
    Operate {
        /// The action.
        action: OperatorAction,
        /// Who (certificate identity).
        actor: String,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// A bootstrap token was created (only its hash is stored).
    CreateToken {
        /// sha256 of the token, hex.
        token_hash: String,
        /// The cluster it enrolls.
        cluster: String,
        /// When (Unix milliseconds).
        at_ms: u64,
        /// When it expires (Unix milliseconds).
        expires_at_ms: u64,
        /// Who asked (certificate identity).
        actor: String,
    },
    /// A token is used to enroll an agent; fails if unknown, used or expired.
    Enroll {
        /// sha256 of the presented token, hex.
        token_hash: String,
        /// The cluster the agent claims.
        cluster: String,
        /// Serial of the certificate about to be issued.
        serial: String,
        /// When (Unix milliseconds).
        at_ms: u64,
        /// When the certificate expires (Unix milliseconds).
        expires_at_ms: u64,
    },
    /// An agent's status changed. Hubs now write [`Command::ReportStatuses`]
    /// batches; this stays so that logs and snapshots written before still
    /// apply.
    ReportStatus {
        /// Cluster name.
        cluster: String,
        /// The new status.
        status: ClusterStatus,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// Several agents' statuses changed (written in batches by the sessions),
    /// and drift they reported.
    ReportStatuses {
        /// One update per cluster.
        updates: Vec<StatusUpdate>,
        /// When (Unix milliseconds).
        at_ms: u64,
        /// Drift events to add to the clusters' histories.
        #[serde(default)]
        drift: Vec<DriftUpdate>,
        /// Drift events kept per cluster after adding these (the writing
        /// node's `dashboard.driftHistory`; carried so applying reads no
        /// setting).
        #[serde(default)]
        drift_kept: u32,
    },
    /// An operator revoked a cluster's certificates.
    RevokeCluster {
        /// Cluster name.
        cluster: String,
        /// When (Unix milliseconds).
        at_ms: u64,
        /// Who (certificate identity).
        actor: String,
    },
    /// An operator created a join token for a new hub node (only its hash is stored).
    CreateJoinToken {
        /// sha256 of the token, hex.
        token_hash: String,
        /// When (Unix milliseconds).
        at_ms: u64,
        /// When it expires (Unix milliseconds).
        expires_at_ms: u64,
        /// Who asked (certificate identity).
        actor: String,
    },
    /// A new hub node joins with a join token; fails if the token is unknown,
    /// used or expired, or the id or name belongs to a current node.
    JoinHub {
        /// sha256 of the presented token, hex.
        token_hash: String,
        /// Its Raft node id.
        node_id: u64,
        /// Its name.
        name: String,
        /// `host:port` of its gRPC port.
        address: String,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// The leader records a node that is a member without having joined
    /// (the node that bootstrapped the cluster).
    RegisterHubNode {
        /// Its Raft node id.
        node_id: u64,
        /// Its name.
        name: String,
        /// `host:port` of its gRPC port.
        address: String,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// An operator removes a hub node from the Raft group, or re-admits it.
    SetHubNodeRemoved {
        /// The node's name.
        name: String,
        /// Removed (`true`) or re-admitted (`false`).
        removed: bool,
        /// Who (certificate identity).
        actor: String,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// An operator action that changes nothing else (e.g. a refresh), audited.
    Audit {
        /// Who (certificate identity).
        actor: String,
        /// What, in words.
        action: String,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// An agent renewed its certificate with its current one; fails if the
    /// cluster is revoked or `previous_serial` is not one of its certificates.
    /// The previous certificate stays valid until it expires.
    RenewCertificate {
        /// Cluster name.
        cluster: String,
        /// Serial of the certificate the agent authenticated with.
        previous_serial: String,
        /// Serial of the certificate about to be issued.
        serial: String,
        /// When (Unix milliseconds).
        at_ms: u64,
        /// When the new certificate expires (Unix milliseconds).
        expires_at_ms: u64,
    },
    /// The leader trims history past the retention limits (see
    /// `state/retention.rs`). Applying drops only what is not referenced
    /// when it applies.
    Trim {
        /// Revisions to drop (commit ids).
        revisions: Vec<String>,
        /// Finished rollouts to drop (ids).
        rollouts: Vec<u64>,
        /// Audit entries up to this sequence number go (0: none).
        audit_through_sequence: u64,
        /// Revoked users whose certificates have all expired (names); they
        /// go when still so at `at_ms`.
        #[serde(default)]
        users: Vec<String>,
        /// When the leader decided (Unix milliseconds).
        at_ms: u64,
    },
    /// An admin created an operator ("user") with a certificate the hub
    /// minted from fleetctl's CSR; fails while a user of that name exists
    /// and is not revoked.
    CreateUser {
        /// The user's name.
        name: String,
        /// Its role.
        role: super::users::Role,
        /// Environments it is limited to (empty: all).
        environments: Vec<String>,
        /// Serial of the certificate about to be issued.
        serial: String,
        /// When that certificate expires (Unix milliseconds).
        expires_at_ms: u64,
        /// Who (certificate identity).
        actor: String,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// An admin revoked a user: every certificate of it is refused from now on.
    RevokeUser {
        /// The user's name.
        name: String,
        /// Who (certificate identity).
        actor: String,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// A user renewed its own certificate with its current one; fails if the
    /// user is revoked or `previous_serial` is not one of its certificates.
    RenewUser {
        /// The user's name.
        name: String,
        /// Serial of the certificate it authenticated with.
        previous_serial: String,
        /// Serial of the certificate about to be issued.
        serial: String,
        /// When the new certificate expires (Unix milliseconds).
        expires_at_ms: u64,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// Calls the hub refused, audited (a node writes them in batches, at most
    /// `users.refusalAuditsPerMinute` a minute; see `api/refusal_audit.rs`).
    AuditRefusals {
        /// The refused calls.
        refusals: Vec<Refusal>,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// The admin certificate `fleet-hub init` made is recorded as the user
    /// of its name on its first call (not audited; a no-op when a record of
    /// that name exists).
    RecordInitAdmin {
        /// The name in `spiffe://fleet/admin/<name>`.
        name: String,
        /// Its certificate's serial.
        serial: String,
        /// When it expires (Unix milliseconds).
        expires_at_ms: u64,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// An operator adds (or replaces) a notification target.
    SetNotificationTarget {
        /// The target (URL and secret redacted in `Debug`; boxed, as it is
        /// much larger than the other commands).
        target: Box<NotificationTarget>,
        /// Who (certificate identity).
        actor: String,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// An operator removes a notification target (its pending events go).
    RemoveNotificationTarget {
        /// Its name.
        name: String,
        /// Who (certificate identity).
        actor: String,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// The leader records delivery attempts of outbox events.
    RecordNotificationDeliveries {
        /// One per attempt.
        outcomes: Vec<DeliveryOutcome>,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// The leader drops outbox events past retention or the outbox bound.
    TrimNotifications {
        /// Events up to this sequence number go.
        through_sequence: u64,
        /// When the leader decided (Unix milliseconds).
        at_ms: u64,
    },
    /// A hub node raises an event that no rollout change shows (drift
    /// reverted in a cluster); its sequence number is given when it applies.
    RaiseNotification {
        /// The event.
        event: NotificationEvent,
    },
    /// An operator holds a cluster: it keeps its current target and
    /// rollouts skip it until the hold is released.
    HoldCluster {
        /// Cluster name.
        cluster: String,
        /// Why, in words.
        reason: String,
        /// Who (certificate identity).
        actor: String,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// An operator releases a cluster's hold; it catches up through the
    /// normal release path.
    ReleaseClusterHold {
        /// Cluster name.
        cluster: String,
        /// Who (certificate identity).
        actor: String,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// The leader evaluated a wave's metric gate against Prometheus.
    RecordGateEvaluation {
        /// Rollout id.
        rollout: u64,
        /// Wave index.
        wave: usize,
        /// Gate name.
        gate: String,
        /// What it found.
        outcome: GateOutcome,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// A hub node's sessions opened and closed since its last write; also
    /// its heartbeat (written every `presence.nodeHeartbeat`, with no
    /// change if none).
    RecordPresence {
        /// The writing node's Raft id.
        node: u64,
        /// Its incarnation (process start, Unix milliseconds).
        incarnation: u64,
        /// Sessions opened and closed, in order.
        changes: Vec<SessionChange>,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
    /// The leader found clusters disconnected longer than
    /// `notifications.clusterDisconnectedAfter`: one `cluster.disconnected`
    /// event for them.
    ReportDisconnected {
        /// The clusters and since when.
        clusters: Vec<DisconnectedCluster>,
        /// The setting, for the event's message (milliseconds).
        after_ms: u64,
        /// `presence.nodeStaleAfter` (milliseconds): the apply checks
        /// again that each cluster is still disconnected at `at_ms`.
        stale_after_ms: u64,
        /// When (Unix milliseconds).
        at_ms: u64,
    },
}

/// One refused call inside [`Command::AuditRefusals`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// Who called (certificate identity).
    pub actor: String,
    /// Its role as the hub saw it (`viewer`, `operator`, `admin`; empty when
    /// it has none, e.g. a revoked or unknown user).
    pub role: String,
    /// What it tried, in words.
    pub action: String,
    /// Why it was refused.
    pub reason: String,
}

/// One cluster's new status inside [`Command::ReportStatuses`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusUpdate {
    /// Cluster name.
    pub cluster: String,
    /// The new status.
    pub status: ClusterStatus,
}

/// One cluster's new drift events inside [`Command::ReportStatuses`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftUpdate {
    /// Cluster name.
    pub cluster: String,
    /// Its events, oldest first.
    pub events: Vec<DriftRecord>,
}

/// What applying a command produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandResult {
    /// Applied.
    Applied,
    /// Applied; nothing changed (e.g. a revision seen before).
    Unchanged,
    /// Refused, with the reason; the state is unchanged.
    Rejected(String),
}

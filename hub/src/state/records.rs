//! The records the fleet state keeps.

use std::collections::BTreeMap;

use fleet_core::render::ChartDigest;
use serde::{Deserialize, Serialize};

/// A Git revision the hub observed on the tracked branch, and its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionRecord {
    /// Commit id.
    pub revision: String,
    /// Commit summary line.
    pub summary: String,
    /// When the hub first saw it (Unix milliseconds).
    pub observed_at_ms: u64,
    /// Whether it rendered for every cluster.
    pub verdict: RevisionVerdict,
    /// Every remote Helm chart a valid revision's render used, with the
    /// archive's digest: every node must render the same bytes, so a chart
    /// version whose digest differs later is refused ("changed upstream").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charts: Vec<ChartDigest>,
}

/// Whether a revision can be rolled out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RevisionVerdict {
    /// Rendered for every cluster; the digest of each cluster's desired state.
    Valid {
        /// Cluster name → digest.
        digests: BTreeMap<String, String>,
    },
    /// Failed to render; the errors as `file:line: message (cluster, app)`.
    Invalid {
        /// Every error, one line each.
        errors: Vec<String>,
    },
}

/// Health as the agent assesses it (DESIGN §5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HealthState {
    /// Not reported yet.
    #[default]
    Unknown,
    /// Everything is ready.
    Healthy,
    /// Converging.
    Progressing,
    /// Failing.
    Degraded,
    /// A desired object does not exist.
    Missing,
}

/// The health of one app as last reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppStatusRecord {
    /// App name.
    pub app: String,
    /// Digest of the app's applied desired state.
    pub digest: String,
    /// Aggregated health.
    pub health: HealthState,
    /// Why, when not healthy.
    pub message: String,
    /// Objects currently drifted.
    pub drift_count: u32,
}

/// What an agent last reported about its cluster (written only when it changes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// The revision the agent has applied.
    pub applied_revision: String,
    /// Digest of the applied desired state.
    pub applied_digest: String,
    /// Aggregated cluster health.
    pub health: HealthState,
    /// Per-app status.
    pub apps: Vec<AppStatusRecord>,
    /// Objects currently drifted, over all apps.
    pub drift_count: u32,
    /// Free-form message (e.g. the first error).
    pub message: String,
}

/// A single-use bootstrap token (only its hash is kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The cluster it enrolls.
    pub cluster: String,
    /// When it stops working (Unix milliseconds).
    pub expires_at_ms: u64,
    /// Who created it (certificate identity).
    pub created_by: String,
    /// When it was used, if it was.
    pub used_at_ms: Option<u64>,
}

/// A certificate issued to an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRecord {
    /// Certificate serial (hex).
    pub serial: String,
    /// When it was issued (Unix milliseconds).
    pub issued_at_ms: u64,
    /// When it expires (Unix milliseconds).
    pub expires_at_ms: u64,
}

/// Everything the hub knows about one cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterRecord {
    /// The revision the cluster should run (empty before the first valid one).
    pub target_revision: String,
    /// Digest of the cluster's desired state at `target_revision`.
    pub target_digest: String,
    /// The revision it ran before (for rollback).
    pub previous_revision: String,
    /// Certificates issued to its agent.
    pub agents: Vec<AgentRecord>,
    /// Whether the cluster was revoked (its certificates are refused).
    pub revoked: bool,
    /// The agent's last report.
    pub status: Option<ClusterStatus>,
    /// When the agent last reported (Unix milliseconds).
    pub last_report_ms: Option<u64>,
    /// Its latest drift events, oldest first (at most the
    /// `dashboard.driftHistory` the writing node had set).
    #[serde(default)]
    pub drift_history: Vec<DriftRecord>,
}

/// One drift event an agent reported: which object, and whether it was put
/// back. Names only — no diff and no values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftRecord {
    /// When the hub received it (Unix milliseconds).
    pub at_ms: u64,
    /// The app the object belongs to.
    pub app: String,
    /// API group of the object (empty for the core group).
    pub group: String,
    /// Kind of the object.
    pub kind: String,
    /// Namespace of the object (empty for cluster-scoped ones).
    pub namespace: String,
    /// Name of the object.
    pub name: String,
    /// The agent reverted it (selfHeal).
    pub reverted: bool,
}

/// One operator action, kept within the audit retention limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the audit log.
    pub sequence: u64,
    /// When (Unix milliseconds).
    pub at_ms: u64,
    /// Who (certificate identity).
    pub actor: String,
    /// What, in words.
    pub action: String,
    /// The actor's role when it acted (`viewer`, `operator`, `admin`; empty
    /// for agents, hub nodes and the rollout controller).
    #[serde(default)]
    pub role: String,
    /// Why the call was refused (`None`: it was allowed).
    #[serde(default)]
    pub refused: Option<String>,
}

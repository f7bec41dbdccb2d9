//! `kind: Cluster` — one managed Kubernetes cluster.

use serde::{Deserialize, Serialize};

use super::variables::Vars;

/// The spec of a cluster file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSpec {
    /// The environment the cluster belongs to (a file in `environments/`).
    #[serde(default)]
    pub environment: String,
    /// Cluster variables (highest precedence).
    #[serde(default)]
    pub vars: Vars,
}

//! `kind: Environment` — variables shared by a group of clusters.

use serde::{Deserialize, Serialize};

use super::variables::Vars;

/// The spec of an environment file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvironmentSpec {
    /// Environment variables (below cluster variables, above fleet variables).
    #[serde(default)]
    pub vars: Vars,
}

//! `kind: App` — what to deploy and where.

use serde::{Deserialize, Serialize};

use super::duration::FleetDuration;
use super::helm::HelmSource;
use super::selector::{LabelSelector, Requirement};
use std::collections::BTreeMap;

/// The spec of `apps/<name>/app.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppSpec {
    /// Namespace given to namespaced objects that name none.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Which clusters get the app; omitted means every cluster.
    #[serde(default)]
    pub targets: Option<Targets>,
    /// Prune and self-heal behaviour of the agent.
    #[serde(default)]
    pub sync: SyncPolicy,
    /// Apps that must be applied and healthy first.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Fields the agent neither reports nor reverts when they drift.
    #[serde(default)]
    pub ignore_differences: Vec<IgnoreDifference>,
    /// How long the app may take to become healthy.
    #[serde(default)]
    pub health_timeout: Option<FleetDuration>,
    /// Render a Helm chart instead of the manifests in `base/`.
    #[serde(default)]
    pub helm: Option<HelmSource>,
}

/// Which clusters an app reaches: every given part must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Targets {
    /// Labels the cluster must carry.
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    /// Label requirements the cluster must meet.
    #[serde(default)]
    pub match_expressions: Vec<Requirement>,
    /// Environments the cluster must be in (any of them).
    #[serde(default)]
    pub environments: Option<Vec<String>>,
}

impl Targets {
    /// The label part of the targets, as a selector.
    pub fn selector(&self) -> LabelSelector {
        LabelSelector {
            match_labels: self.match_labels.clone(),
            match_expressions: self.match_expressions.clone(),
        }
    }

    /// Whether a cluster with these labels in this environment is targeted.
    pub fn matches(&self, labels: &BTreeMap<String, String>, environment: &str) -> bool {
        self.selector().matches(labels)
            && self
                .environments
                .as_ref()
                .is_none_or(|environments| environments.iter().any(|name| name == environment))
    }
}

/// What the agent may do on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncPolicy {
    /// Delete objects that left Git.
    #[serde(default = "enabled")]
    pub prune: bool,
    /// Revert manual changes at once.
    #[serde(default = "enabled")]
    pub self_heal: bool,
}

fn enabled() -> bool {
    true
}

impl Default for SyncPolicy {
    fn default() -> Self {
        Self {
            prune: true,
            self_heal: true,
        }
    }
}

/// Fields of matching objects that drift detection ignores.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IgnoreDifference {
    /// API group (`""` or omitted for the core group).
    #[serde(default)]
    pub group: String,
    /// Object kind.
    pub kind: String,
    /// Object name; omitted matches every object of the kind.
    #[serde(default)]
    pub name: Option<String>,
    /// Object namespace; omitted matches every namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// RFC 6901 pointers of the ignored fields.
    #[serde(default)]
    pub json_pointers: Vec<String>,
}

//! `spec.helm` of an App: render a Helm chart instead of plain manifests.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where an app's chart comes from and the values it is rendered with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HelmSource {
    /// A chart directory inside `apps/<app>/`, or with `repository` the
    /// chart's name in that repository.
    pub chart: String,
    /// An HTTP Helm repository (`https://…`, with an `index.yaml`) or an OCI
    /// registry (`oci://host/path`); omitted for an in-repo chart.
    #[serde(default)]
    pub repository: Option<String>,
    /// The exact chart version; required with `repository` (no ranges).
    #[serde(default)]
    pub version: Option<String>,
    /// The Helm release name (default: the app's name).
    #[serde(default)]
    pub release_name: Option<String>,
    /// Values files relative to `apps/<app>/`, applied in order; `${…}` is
    /// allowed in their names.
    #[serde(default)]
    pub values_files: Vec<String>,
    /// Inline values, applied last; `${var}` is substituted like in manifests.
    #[serde(default)]
    pub values: Option<Value>,
    /// Whether the chart's `crds/` are rendered too (default true).
    #[serde(default = "enabled", rename = "includeCRDs")]
    pub include_crds: bool,
}

fn enabled() -> bool {
    true
}

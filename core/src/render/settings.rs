//! The limits a render runs under (hub.yaml `render.*`, fleetctl flags).

use std::path::PathBuf;
use std::time::Duration;

use crate::source::ReadLimits;

/// Default wall-clock limit of one Kustomize build: 60 s.
pub const DEFAULT_KUSTOMIZE_TIMEOUT: Duration = Duration::from_secs(60);

/// Default wall-clock limit of one `helm template` run: 60 s.
pub const DEFAULT_HELM_TIMEOUT: Duration = Duration::from_secs(60);

/// Settings of one [`super::Renderer`] and of reading its revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderSettings {
    /// Wall-clock limit of one Kustomize build; its process group is killed
    /// when it passes and the app fails to render.
    pub kustomize_timeout: Duration,
    /// Size limits for reading the revision; the per-revision limit also
    /// caps what one Kustomize build or Helm run may print.
    pub limits: ReadLimits,
    /// The Helm binary (hub.yaml `render.helm`, `fleetctl --helm`); `None`
    /// means `FLEET_HELM`, else `helm` on PATH.
    pub helm: Option<PathBuf>,
    /// Wall-clock limit of one `helm template` run; its process group is
    /// killed when it passes and the app fails to render.
    pub helm_timeout: Duration,
    /// `--kube-version` passed to `helm template` (the `.Capabilities`
    /// charts see); `None` leaves Helm's default.
    pub kube_version: Option<String>,
    /// Fetching remote charts: cache directory, limits, credentials.
    pub chart_fetch: super::helm::ChartFetchSettings,
}

impl Default for RenderSettings {
    fn default() -> Self {
        Self {
            kustomize_timeout: DEFAULT_KUSTOMIZE_TIMEOUT,
            limits: ReadLimits::default(),
            helm: None,
            helm_timeout: DEFAULT_HELM_TIMEOUT,
            kube_version: None,
            chart_fetch: super::helm::ChartFetchSettings::default(),
        }
    }
}

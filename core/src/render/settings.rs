//! The limits a render runs under (hub.yaml `render.*`, fleetctl flags).

use std::time::Duration;

use crate::source::ReadLimits;

/// Default wall-clock limit of one Kustomize build: 60 s.
pub const DEFAULT_KUSTOMIZE_TIMEOUT: Duration = Duration::from_secs(60);

/// Settings of one [`super::Renderer`] and of reading its revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderSettings {
    /// Wall-clock limit of one Kustomize build; its process group is killed
    /// when it passes and the app fails to render.
    pub kustomize_timeout: Duration,
    /// Size limits for reading the revision; the per-revision limit also
    /// caps what one Kustomize build may print.
    pub limits: ReadLimits,
}

impl Default for RenderSettings {
    fn default() -> Self {
        Self {
            kustomize_timeout: DEFAULT_KUSTOMIZE_TIMEOUT,
            limits: ReadLimits::default(),
        }
    }
}

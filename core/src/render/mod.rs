//! Rendering: one app for one cluster, as a deterministic function of the Git
//! tree at a commit and the cluster's name (DESIGN §2).
//!
//! base manifests, Kustomize or Helm → overlays → variables → defaults (namespace,
//! `fleet/app` and `fleet/cluster` labels) → apply order → canonical bytes and
//! sha256 digests. [`Renderer`] owns the pipeline and its caches; each step
//! lives in its own module.

mod app_source;
pub mod canonical;
pub mod external_command;
mod helm;
mod kinds;
mod kustomize;
mod object;
mod output;
pub mod overlay;
mod renderer;
mod settings;
pub mod sops_envelope;
mod template;
pub mod variables;

pub use helm::fetch::{
    DEFAULT_CHART_FETCH_TIMEOUT, DEFAULT_MAX_CHART_BYTES, DEFAULT_MAX_INDEX_BYTES,
};
pub use helm::{ChartDigest, ChartFetchSettings, HELM_ENV, RepositoryCredential};
pub use kinds::{
    ApplyBucket, apply_bucket, builtin_scope, is_cluster_scoped_builtin, is_namespaced_builtin,
};
pub use kustomize::KUSTOMIZE_ENV;
pub use object::{ObjectKey, Origin, SourceObject, group_of};
pub use output::{AppRender, ClusterRender, RenderedObject};
pub use renderer::{APP_LABEL, CLUSTER_LABEL, FALLBACK_NAMESPACE, RenderStats, Renderer};
pub use settings::{DEFAULT_HELM_TIMEOUT, DEFAULT_KUSTOMIZE_TIMEOUT, RenderSettings};

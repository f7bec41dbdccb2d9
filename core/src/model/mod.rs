//! The fleet model: what users write in the fleet repository (DESIGN §2).
//!
//! One file per kind (`Fleet`, `Cluster`, `Environment`, `App`), plus the
//! building blocks they share: label selectors, durations, variables.

mod app;
mod cluster;
mod duration;
mod environment;
mod fleet;
mod gate;
mod helm;
mod resource;
mod selector;
mod variables;
mod window;

pub use app::{AppSpec, IgnoreDifference, SyncPolicy, Targets};
pub use cluster::ClusterSpec;
pub use duration::FleetDuration;
pub use environment::EnvironmentSpec;
pub use fleet::{Approval, FleetSpec, GitSpec, MaxParallel, OnFailure, RolloutSpec, WaveSpec};
pub use gate::{GateSpec, PrometheusGate, Threshold};
pub use helm::HelmSource;
pub use resource::{API_VERSION, Kind, Resource, parse_resource};
pub use selector::{LabelSelector, Operator, Requirement};
pub use variables::Vars;
pub use window::{DEFAULT_TIMEZONE, WindowKind, WindowSpec};

/// A cluster as declared in `clusters/<name>.yaml`.
pub type Cluster = Resource<ClusterSpec>;
/// An environment as declared in `environments/<name>.yaml`.
pub type Environment = Resource<EnvironmentSpec>;
/// An app as declared in `apps/<name>/app.yaml`.
pub type App = Resource<AppSpec>;
/// The fleet's settings from `fleet.yaml`.
pub type Fleet = Resource<FleetSpec>;

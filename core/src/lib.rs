//! # fleet-core
//!
//! The fleet model and everything that can be computed from a Git tree alone:
//! reading the fleet repository at any revision ([`source`]), parsing and
//! checking it ([`model`], [`repository`]), rendering each cluster's desired
//! state with digests ([`render`]), assigning clusters to rollout waves
//! ([`rollout`]) and previewing the changes between revisions ([`plan`]).
//!
//! Pure logic: no async runtime, no gRPC, no Raft, no Kubernetes client. The
//! hub, the agent and `fleetctl` all build on it, so every part of the fleet
//! renders the same bytes for the same commit.

pub mod diagnostic;
pub mod model;
pub mod plan;
pub mod render;
pub mod repository;
pub mod rollout;
pub mod source;
pub mod yaml;

#[cfg(test)]
mod test_support;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use render::{ClusterRender, Renderer};
pub use repository::FleetRepository;
pub use source::Snapshot;

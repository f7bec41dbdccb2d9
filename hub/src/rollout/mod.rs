//! The leader's rollout controller (DESIGN §4) and the rollout views
//! fleetctl shows. The controller is a pure decision function over the
//! replicated state ([`decide`]) driven by a loop on the leader
//! ([`RolloutDriver`]): every decision is a Raft write, so a new leader
//! carries on from exactly where the old one was.

mod controller;
mod convergence;
mod driver;
mod view;

pub use controller::{ControllerSettings, decide, nothing_to_release, window_open};
pub use convergence::{cluster_converged, cluster_failure};
pub use driver::RolloutDriver;
pub use view::{ClusterView, NO_CHANGES, NO_CLUSTERS, RolloutView, WaveView};

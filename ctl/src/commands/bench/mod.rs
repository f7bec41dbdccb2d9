//! `fleetctl bench`: generated fleets and timed runs whose figures go in the README.
//!
//! `gen-fleet` and `render` work offline; `agents` and `rollout` load a hub
//! with simulated agents ([`simulated_agent`], many of them in a [`swarm`])
//! that speak the real agent protocol.

pub mod agents;
pub mod bench_hub;
pub mod gen_fleet;
pub mod proc_stats;
pub mod receipts;
pub mod render;
pub mod retention;
pub mod rollout;
pub mod rollout_figures;
pub mod simulated_agent;
pub mod swarm;

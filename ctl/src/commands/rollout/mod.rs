//! `fleetctl rollout ...`: watch and steer rollouts.

pub mod action;
pub mod history;
pub mod show;
pub mod status;

//! `fleetctl agent ...`.

pub mod install;

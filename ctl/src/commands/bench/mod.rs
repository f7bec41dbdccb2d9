//! `fleetctl bench`: generated fleets and timed runs whose figures go in the README.

pub mod gen_fleet;
pub mod render;

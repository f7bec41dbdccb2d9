//! Conversions between wire types and `fleet-core` types, one file per type.

mod desired_state;

pub use desired_state::{desired_state, desired_state_without_objects, manifests};

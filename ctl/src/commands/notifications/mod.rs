//! `fleetctl notifications add|list|remove`: where the hub sends signed
//! notifications of rollout events (stored in the hub's replicated state).

pub mod add;
pub mod args;
pub mod list;
pub mod remove;

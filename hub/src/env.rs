//! Environment variables the hub reads, all with one prefix.

/// Path of the hub's configuration file (`fleet-hub serve --config`).
pub const CONFIG: &str = "FLEET_HUB_CONFIG";
/// Log filter (tracing's `EnvFilter` syntax, e.g. `info,fleet_hub=debug`).
pub const LOG: &str = "FLEET_HUB_LOG";
/// Log format: `text` (default) or `json`.
pub const LOG_FORMAT: &str = "FLEET_HUB_LOG_FORMAT";
/// Path of fleetctl's configuration file that `fleet-hub init` writes into
/// (the same variable fleetctl reads).
pub const FLEETCONFIG: &str = fleet_client::FLEETCONFIG;

//! The clap types of `fleetctl dashboard`.

use std::net::SocketAddr;

use clap::Args;
use fleet_core::model::FleetDuration;

use crate::cli::HubArgs;

/// `fleetctl dashboard`.
#[derive(Debug, Args)]
pub struct DashboardArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// Where to serve the dashboard. Keep it on loopback: whoever reaches it
    /// acts with your certificate.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Do not open a browser.
    #[arg(long)]
    pub no_open: bool,
    /// How long an open page waits before following the hub's changes
    /// again when its change stream ended (the hub node stopped, the
    /// network failed). Pages are re-read on each change, never on a timer.
    #[arg(long, default_value = "2s", value_parser = FleetDuration::parse)]
    pub reconnect: FleetDuration,
}

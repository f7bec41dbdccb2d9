//! The clap types of `fleetctl notifications`.

use clap::{Args, Subcommand};

use crate::cli::{HubArgs, HubReadArgs};

/// `fleetctl notifications ...`.
#[derive(Debug, Subcommand)]
pub enum NotificationsCommand {
    /// Add (or replace) a target that receives events by HTTP POST.
    Add(NotificationsAddArgs),
    /// Every target (URL and secret redacted) with delivery counts and the last failure.
    List(HubReadArgs),
    /// Remove a target and its undelivered events.
    Remove(NotificationsRemoveArgs),
}

/// `fleetctl notifications add`.
#[derive(Debug, Args)]
pub struct NotificationsAddArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// The target's name.
    pub name: String,
    /// Where events are POSTed (http:// or https://).
    #[arg(long)]
    pub url: String,
    /// HMAC-SHA256 key: requests carry `X-Fleet-Signature-256: sha256=<hex>`
    /// (prefer the environment variable: arguments show in process lists).
    #[arg(long, env = "FLEET_NOTIFICATION_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Body format: `json` (`{event, fleet, rollout, revision, wave, clusters,
    /// message, at}`) or `slack` (an incoming-webhook payload).
    #[arg(long, default_value = "json")]
    pub format: String,
    /// Event categories, comma-separated: rollout, approval, drift, cluster.
    #[arg(long, value_delimiter = ',', required = true)]
    pub events: Vec<String>,
}

/// `fleetctl notifications remove`.
#[derive(Debug, Args)]
pub struct NotificationsRemoveArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// The target's name.
    pub name: String,
}

//! Command-line types (clap derive) of `fleetctl user ...` and
//! `fleetctl cluster ...`; the commands live in `commands/user.rs` and
//! `commands/cluster.rs`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use crate::cli::{HubArgs, HubReadArgs};

/// `fleetctl user ...`: operators, their roles and certificates.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an operator and write a self-contained fleetctl configuration for it.
    Create(UserCreateArgs),
    /// Every user the hub knows: role, scope, certificates, revoked or not.
    List(HubReadArgs),
    /// Revoke a user: each of its certificates is refused from the next call on.
    Revoke(UserNameArgs),
    /// Renew your own certificate (new key, same name, role and scope) in
    /// the configuration you call with.
    Renew(UserRenewArgs),
}

/// A role as typed on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Reads everything.
    Viewer,
    /// Also refresh, promote, pause, resume, rollback.
    Operator,
    /// Also tokens, users, cluster revocation, hub membership.
    Admin,
}

/// `fleetctl user create NAME`.
#[derive(Debug, Args)]
pub struct UserCreateArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// The user's name (A-Z a-z 0-9 . _ -).
    pub name: String,
    /// What the user may do.
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// Limit an operator to this environment (repeatable; default: all).
    #[arg(long = "environment")]
    pub environments: Vec<String>,
    /// Certificate validity, e.g. 90d, 720h (default: the hub's users.userCertificateValidity, 90d).
    #[arg(long, value_parser = parse_ttl)]
    pub ttl: Option<Duration>,
    /// Where to write the new configuration (mode 0600; CA, certificate and key embedded).
    #[arg(long)]
    pub out: PathBuf,
}

/// `fleetctl user revoke NAME`.
#[derive(Debug, Args)]
pub struct UserNameArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// The user's name.
    pub name: String,
}

/// `fleetctl user renew`.
#[derive(Debug, Args)]
pub struct UserRenewArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// Validity of the new certificate (default: the hub's).
    #[arg(long, value_parser = parse_ttl)]
    pub ttl: Option<Duration>,
}

/// `fleetctl cluster ...`.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Revoke a cluster: its agent's certificates are refused and its open session is cut.
    Revoke(ClusterNameArgs),
    /// Keep a cluster on its current target; rollouts skip it until released.
    Hold(crate::cli::ClusterHoldArgs),
    /// End a hold: the cluster catches up with the last finished rollout.
    Release(crate::cli::ClusterReleaseArgs),
}

/// `fleetctl cluster revoke NAME`.
#[derive(Debug, Args)]
pub struct ClusterNameArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// The cluster's name.
    pub name: String,
}

/// `90d`, or any duration fleet reads (`720h`, `30m`).
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    if let Some(days) = text.trim().strip_suffix('d')
        && !days.is_empty()
        && days.bytes().all(|byte| byte.is_ascii_digit())
    {
        return days
            .parse::<u64>()
            .ok()
            .and_then(|days| days.checked_mul(24 * 3600))
            .map(Duration::from_secs)
            .ok_or_else(|| format!("invalid duration '{text}': too long"));
    }
    fleet_core::model::FleetDuration::parse(text).map(|duration| duration.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_take_days() {
        assert_eq!(parse_ttl("90d"), Ok(Duration::from_secs(90 * 24 * 3600)));
        assert_eq!(parse_ttl("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_ttl("d").is_err());
        assert!(parse_ttl("99999999999999999999d").is_err());
    }
}

//! `fleetctl rollout promote | pause | resume | rollback`.

use fleet_proto::RolloutActionRequest;

use super::show::human;
use crate::cli::HubArgs;
use crate::error::CliError;
use crate::hub_client::{admin_client, status_error};

/// Sends one action and prints the rollout afterwards.
pub async fn run(
    hub: &HubArgs,
    action: &str,
    wave: Option<&str>,
    all: bool,
    ignore_windows: bool,
) -> Result<(), CliError> {
    let mut client = admin_client(hub).await?;
    let response = client
        .rollout_action(RolloutActionRequest {
            action: action.to_owned(),
            wave: wave.unwrap_or_default().to_owned(),
            all,
            ignore_windows,
        })
        .await
        .map_err(status_error)?
        .into_inner();
    println!("{action}: done");
    if let Some(view) = response.rollout {
        print!("{}", human(&view, crate::clock::now_ms()));
    }
    Ok(())
}

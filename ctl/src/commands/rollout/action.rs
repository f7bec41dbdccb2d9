//! `fleetctl rollout promote | pause | resume | rollback`.

use fleet_hub::rollout::RolloutView;
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
) -> Result<(), CliError> {
    let mut client = admin_client(hub).await?;
    let response = client
        .rollout_action(RolloutActionRequest {
            action: action.to_owned(),
            wave: wave.unwrap_or_default().to_owned(),
            all,
        })
        .await
        .map_err(status_error)?
        .into_inner();
    println!("{action}: done");
    if !response.view_json.is_empty() {
        let view: RolloutView =
            serde_json::from_str(&response.view_json).map_err(anyhow::Error::from)?;
        print!("{}", human(&view, fleet_hub::clock::now_ms()));
    }
    Ok(())
}

//! `fleetctl refresh`: fetch the fleet repository now.

use fleet_proto::RefreshRequest;

use crate::cli::HubArgs;
use crate::error::CliError;
use crate::hub_client::{admin_client, status_error};

pub async fn run(args: &HubArgs) -> Result<(), CliError> {
    let mut client = admin_client(args).await?;
    let response = client
        .refresh(RefreshRequest {})
        .await
        .map_err(status_error)?
        .into_inner();
    let revision: String = response.revision.chars().take(12).collect();
    if response.new_revision {
        println!("new revision {revision} recorded");
    } else {
        println!("up to date at {revision}");
    }
    Ok(())
}

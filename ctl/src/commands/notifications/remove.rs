//! `fleetctl notifications remove`.

use fleet_proto::RemoveNotificationTargetRequest;

use super::args::NotificationsRemoveArgs;
use crate::error::CliError;
use crate::hub_client::{admin_client, status_error};

pub async fn run(args: &NotificationsRemoveArgs) -> Result<(), CliError> {
    let mut client = admin_client(&args.hub).await?;
    client
        .remove_notification_target(RemoveNotificationTargetRequest {
            name: args.name.clone(),
        })
        .await
        .map_err(status_error)?;
    eprintln!("notification target {} removed", args.name);
    Ok(())
}

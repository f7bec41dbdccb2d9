//! `fleetctl notifications add`.

use fleet_proto::SetNotificationTargetRequest;

use super::args::NotificationsAddArgs;
use crate::error::CliError;
use crate::hub_client::{admin_client, status_error};

pub async fn run(args: &NotificationsAddArgs) -> Result<(), CliError> {
    let mut client = admin_client(&args.hub).await?;
    client
        .set_notification_target(SetNotificationTargetRequest {
            name: args.name.clone(),
            url: args.url.clone(),
            secret: args.secret.clone().unwrap_or_default(),
            format: args.format.clone(),
            events: args.events.clone(),
        })
        .await
        .map_err(status_error)?;
    eprintln!("notification target {} saved", args.name);
    Ok(())
}

//! `fleetctl notifications list`: targets, redacted, with delivery counts.

use comfy_table::Table;
use fleet_proto::ListNotificationTargetsRequest;
use serde::Serialize;

use crate::cli::HubReadArgs;
use crate::error::CliError;
use crate::hub_client::{admin_client, status_error};
use crate::output::{OutputFormat, print_structured};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TargetRow {
    name: String,
    url: String,
    signed: bool,
    format: String,
    events: Vec<String>,
    delivered: u64,
    failed_attempts: u64,
    dropped: u64,
    pending: u64,
    last_error: String,
    last_error_at_ms: Option<u64>,
    last_delivered_at_ms: Option<u64>,
}

pub async fn run(args: &HubReadArgs) -> Result<(), CliError> {
    let mut client = admin_client(&args.hub).await?;
    let targets = client
        .list_notification_targets(ListNotificationTargetsRequest {})
        .await
        .map_err(status_error)?
        .into_inner()
        .targets;
    let rows: Vec<TargetRow> = targets
        .into_iter()
        .map(|target| TargetRow {
            name: target.name,
            url: target.url_redacted,
            signed: target.signed,
            format: target.format,
            events: target.events,
            delivered: target.delivered,
            failed_attempts: target.failed_attempts,
            dropped: target.dropped,
            pending: target.pending,
            last_error: target.last_error,
            last_error_at_ms: target.last_error_at_ms,
            last_delivered_at_ms: target.last_delivered_at_ms,
        })
        .collect();
    if args.output != OutputFormat::Table {
        print_structured(&rows, args.output)?;
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header([
        "NAME",
        "URL",
        "SIGNED",
        "FORMAT",
        "EVENTS",
        "DELIVERED",
        "FAILED",
        "DROPPED",
        "PENDING",
        "LAST ERROR",
    ]);
    for row in rows {
        table.add_row([
            row.name,
            row.url,
            if row.signed { "yes" } else { "no" }.to_owned(),
            row.format,
            row.events.join(","),
            row.delivered.to_string(),
            row.failed_attempts.to_string(),
            row.dropped.to_string(),
            row.pending.to_string(),
            row.last_error,
        ]);
    }
    println!("{table}");
    Ok(())
}

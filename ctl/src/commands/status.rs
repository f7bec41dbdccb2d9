//! `fleetctl status` and `fleetctl clusters`: the hub's view of every cluster.

use comfy_table::Table;
use fleet_proto::{ClusterSummary, Health, ListClustersRequest};
use serde::Serialize;

use crate::cli::{HubReadArgs, StatusArgs};
use crate::error::CliError;
use crate::hub_client::{admin_client, status_error};
use crate::output::{OutputFormat, print_structured};

/// One cluster as fleetctl shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterRow {
    name: String,
    environment: String,
    labels: std::collections::BTreeMap<String, String>,
    declared: bool,
    enrolled: bool,
    revoked: bool,
    connected: bool,
    target_revision: String,
    target_digest: String,
    applied_revision: String,
    applied_digest: String,
    synced: bool,
    health: String,
    drift_count: u32,
    last_seen_ms: u64,
    message: String,
    /// Held out of rollouts: "REASON (held by WHO)".
    #[serde(skip_serializing_if = "Option::is_none")]
    hold: Option<String>,
}

impl From<ClusterSummary> for ClusterRow {
    fn from(cluster: ClusterSummary) -> Self {
        Self {
            synced: !cluster.target_digest.is_empty()
                && cluster.target_digest == cluster.applied_digest,
            name: cluster.name,
            environment: cluster.environment,
            labels: cluster.labels.into_iter().collect(),
            declared: cluster.declared,
            enrolled: cluster.enrolled,
            revoked: cluster.revoked,
            connected: cluster.connected,
            target_revision: cluster.target_revision,
            target_digest: cluster.target_digest,
            applied_revision: cluster.applied_revision,
            applied_digest: cluster.applied_digest,
            health: health_name(cluster.health).to_owned(),
            drift_count: cluster.drift_count,
            last_seen_ms: cluster.last_seen_ms,
            message: cluster.message,
            hold: cluster.hold,
        }
    }
}

async fn rows(args: &HubReadArgs) -> Result<Vec<ClusterRow>, CliError> {
    tracing::debug!("listing the hub's clusters");
    let mut client = admin_client(&args.hub).await?;
    let response = client
        .list_clusters(ListClustersRequest {})
        .await
        .map_err(status_error)?
        .into_inner();
    Ok(response
        .clusters
        .into_iter()
        .map(ClusterRow::from)
        .collect())
}

/// The health as fleetctl has always printed it ("Healthy", …): the
/// `Health` enum's name without its prefix, in CamelCase.
fn health_name(health: i32) -> &'static str {
    match Health::try_from(health).unwrap_or(Health::Unknown) {
        Health::Healthy => "Healthy",
        Health::Progressing => "Progressing",
        Health::Degraded => "Degraded",
        Health::Missing => "Missing",
        Health::Unknown | Health::Unspecified => "Unknown",
    }
}

fn short(revision: &str) -> String {
    if revision.is_empty() {
        "-".to_owned()
    } else {
        revision.chars().take(12).collect()
    }
}

fn ago(last_seen_ms: u64) -> String {
    if last_seen_ms == 0 {
        return "never".to_owned();
    }
    let seconds = crate::clock::now_ms().saturating_sub(last_seen_ms) / 1000;
    format!("{seconds}s ago")
}

/// What the SYNC column says of a cluster Git no longer declares but whose
/// agent enrolled: the hub sends it nothing new (it stays on its last
/// target) and its agent keeps what it applied.
pub const REMOVED_FROM_GIT: &str = "removed from Git";
/// What the SYNC column says, with `--all`, of a cluster that is neither
/// declared nor enrolled.
pub const NOT_IN_GIT: &str = "not in Git";

/// Whether the table shows `row`: clusters declared in Git, and clusters
/// whose agent enrolled; `--all` adds the rest (undeclared, never enrolled —
/// e.g. declared once and removed before any agent came).
fn shown(row: &ClusterRow, all: bool) -> bool {
    all || row.declared || row.enrolled
}

fn sync_text(row: &ClusterRow) -> &'static str {
    match (row.declared, row.enrolled, row.synced) {
        (false, true, _) => REMOVED_FROM_GIT,
        (false, false, _) => NOT_IN_GIT,
        (true, _, true) => "Synced",
        (true, _, false) => "OutOfSync",
    }
}

/// `fleetctl status`.
pub async fn status(args: &StatusArgs) -> Result<(), CliError> {
    let rows = rows(&args.read).await?;
    if args.read.output != OutputFormat::Table {
        print_structured(&rows, args.read.output)?;
        return Ok(());
    }
    println!("{}", status_table(&rows, args.all));
    Ok(())
}

fn status_table(rows: &[ClusterRow], all: bool) -> Table {
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header([
        "CLUSTER",
        "CONNECTED",
        "TARGET",
        "APPLIED",
        "SYNC",
        "HEALTH",
        "DRIFT",
        "LAST REPORT",
        "HOLD",
    ]);
    for row in rows.iter().filter(|row| shown(row, all)) {
        table.add_row([
            row.name.clone(),
            if row.connected { "yes" } else { "no" }.to_owned(),
            short(&row.target_revision),
            short(&row.applied_revision),
            sync_text(row).to_owned(),
            row.health.clone(),
            row.drift_count.to_string(),
            ago(row.last_seen_ms),
            row.hold.clone().unwrap_or_default(),
        ]);
    }
    table
}

/// `fleetctl clusters`.
pub async fn clusters(args: &HubReadArgs) -> Result<(), CliError> {
    let rows = rows(args).await?;
    if args.output != OutputFormat::Table {
        print_structured(&rows, args.output)?;
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header([
        "CLUSTER",
        "ENVIRONMENT",
        "LABELS",
        "DECLARED",
        "ENROLLED",
        "REVOKED",
    ]);
    for row in &rows {
        let labels: Vec<String> = row
            .labels
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        table.add_row([
            row.name.clone(),
            row.environment.clone(),
            labels.join(","),
            row.declared.to_string(),
            row.enrolled.to_string(),
            row.revoked.to_string(),
        ]);
    }
    println!("{table}");
    Ok(())
}

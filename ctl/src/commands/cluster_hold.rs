//! `fleetctl cluster hold NAME --reason TEXT` and `fleetctl cluster release
//! NAME`: freeze one cluster (a migration, an incident). A held cluster keeps
//! its current target and rollouts skip it; released, it catches up with the
//! last finished rollout.

use fleet_proto::{HoldClusterRequest, ReleaseClusterHoldRequest};

use crate::cli::{ClusterHoldArgs, ClusterReleaseArgs};
use crate::error::CliError;
use crate::hub_client::{admin_client, status_error};

/// `fleetctl cluster hold`.
pub async fn hold(args: &ClusterHoldArgs) -> Result<(), CliError> {
    let mut client = admin_client(&args.hub).await?;
    client
        .hold_cluster(HoldClusterRequest {
            cluster: args.cluster.clone(),
            reason: args.reason.clone(),
        })
        .await
        .map_err(status_error)?;
    println!(
        "cluster {} held: it keeps its current target until `fleetctl cluster release {}`",
        args.cluster, args.cluster
    );
    Ok(())
}

/// `fleetctl cluster release`.
pub async fn release(args: &ClusterReleaseArgs) -> Result<(), CliError> {
    let mut client = admin_client(&args.hub).await?;
    client
        .release_cluster_hold(ReleaseClusterHoldRequest {
            cluster: args.cluster.clone(),
        })
        .await
        .map_err(status_error)?;
    println!(
        "cluster {} released: it catches up with the last finished rollout",
        args.cluster
    );
    Ok(())
}
